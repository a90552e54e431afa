"""Making tensors: ``T.zeros``, ``T.ones``, ``T.alloc``, ``T.arange``, ``T.eye``, ``T.tile``...

>>> from workbench import tensor as T
>>> T.arange(3).eval().tolist()
[0, 1, 2]
"""
from __future__ import annotations


from typing import Any, Sequence

import numpy as np

from ..compiler.graph import Variable
from ..compiler.ops.alloc import AllocDiag, Alloc, ARange, Eye, ExtractDiag, Repeat, \
    sum_last_axis
from ..compiler.ops.elemwise import DimShuffle, broadcast_static_shapes, pad_left
from ..compiler.ops.axes import normalize_axis
from ..compiler.ops.join import _result_dtype
from .basic import _resolve_dtype, as_tensor_variable, cast, constant
from .variable import TensorVariable

from .shape import (ShapeLike, _dim, _dims, _normalize_axes, _shape_items,
                    broadcast_shape_symbolic, reshape)


# ---------------------------------------------------------------------------------------
# Repeating and allocating


def repeat(x: Any, repeats: Any, axis: int | None = None) -> TensorVariable:
    """Each element of ``x`` repeated ``repeats`` times (``numpy.repeat``).

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.repeat(x, 2).eval({x: [1.0, 2.0]}).tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    x = as_tensor_variable(x)
    if axis is not None:
        axis = normalize_axis(axis, x.ndim, "repeat")
    if isinstance(repeats, (list, tuple)) and all(
            isinstance(r, (int, np.integer)) and not isinstance(r, bool) for r in repeats):
        repeats = constant(np.asarray(repeats, dtype="int64").reshape(len(repeats)))
    return Repeat(axis)(x, repeats)


def tile(x: Any, reps: ShapeLike, ndim: int | None = None) -> TensorVariable:
    """``x`` repeated ``reps[i]`` times along each dimension ``i`` (``numpy.tile``).

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.tile(x, (2, 2)).eval({x: [1.0, 2.0]}).tolist()
    [[1.0, 2.0, 1.0, 2.0], [1.0, 2.0, 1.0, 2.0]]
    """
    from .math import mul

    x = as_tensor_variable(x)
    reps_ = _shape_items(reps, "tile")
    out_ndim = max(x.ndim, len(reps_))
    if ndim is not None:
        if ndim < out_ndim:
            raise ValueError(f"tile: ndim={ndim} is less than the {out_ndim} dimensions the "
                             f"result needs")
        out_ndim = ndim
    reps_ = [1] * (out_ndim - len(reps_)) + reps_
    xp = pad_left(x, out_ndim)
    # x laid out as (1, s0, 1, s1, ...), broadcast to (r0, s0, r1, s1, ...), then merged
    order: list[Any] = []
    alloc_shape: list[Any] = []
    final: list[Any] = []
    for d, r in enumerate(reps_):
        s = _dim(xp, d)
        if r == 1 and isinstance(r, int):
            order.append(d)
            alloc_shape.append(s)
            final.append(s)
            continue
        order += ["x", d]
        alloc_shape += [r, s]
        if isinstance(r, int) and isinstance(s, int):
            final.append(r * s)
        else:
            final.append(mul(r, s))
    if all(isinstance(r, int) and r == 1 for r in reps_):
        return xp
    spread = alloc(DimShuffle(xp.broadcastable, order)(xp), *alloc_shape)
    return reshape(spread, final)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> TensorVariable:
    """Evenly spaced values in ``[start, stop)`` (``numpy.arange``); the bounds may be
    symbolic. The dtype is NumPy's (at least int64, or float64 for floats); Python float
    bounds alone give ``config.floatX``.

    >>> from workbench import tensor as T
    >>> n = T.lscalar('n')
    >>> T.arange(n).eval({n: 3}).tolist(), T.arange(1.0, 2.0, 0.5).type
    ([0, 1, 2], TensorType(float64, (2,)))
    """
    if stop is None:
        start, stop = 0, start
    args = [as_tensor_variable(a) for a in (start, stop, step)]
    dtype = _arange_dtype(args) if dtype is None else _resolve_dtype(dtype)
    return ARange(dtype)(*args)


class _NdGrid:
    """``T.mgrid[0:5, 0:3]`` / ``T.ogrid[...]``: Theano's mesh grids, a list with one tensor
    per slice (dense, or open with only one dimension longer than 1)."""

    def __init__(self, sparse: bool):
        self.sparse = sparse

    def __repr__(self) -> str:
        return "ogrid" if self.sparse else "mgrid"

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            # numpy.mgrid[a:b] is the 1-d range itself
            return self[(key,)][0]
        slices = tuple(key)
        for sl in slices:
            if not isinstance(sl, slice) or sl.stop is None:
                raise TypeError(f"{self}: index it with slices start:stop[:step], got {sl!r}")
            if isinstance(sl.step, complex):
                raise NotImplementedError(f"{self}: slices with a complex step (a number of "
                                          f"points) are not implemented")
        ndim = len(slices)
        ranges = [arange(0 if sl.start is None else sl.start, sl.stop,
                         1 if sl.step is None else sl.step) for sl in slices]
        ranges = [r.dimshuffle(*["x"] * j, 0, *["x"] * (ndim - 1 - j))
                  for j, r in enumerate(ranges)]
        if self.sparse:
            return ranges
        from .math import mul

        return [mul(r, *[ones_like(o) for o in ranges if o is not r]) for r in ranges]


mgrid = _NdGrid(sparse=False)
ogrid = _NdGrid(sparse=True)


def _arange_dtype(args: Sequence[Variable]) -> str:
    """NumPy's ``arange`` dtype: at least int64 (float64 for floats); Python literals count
    by their kind only, a float one giving ``config.floatX`` (as Theano)."""
    from ..config import config
    from .variable import TensorConstant

    weak = [isinstance(a, TensorConstant) and a.weak for a in args]
    strong = [a.dtype for a, w in zip(args, weak) if not w]
    dtype = np.result_type(*strong, "int64")
    weak_float = any(w and a.dtype.startswith("float") for a, w in zip(args, weak))
    if weak_float and dtype.kind in "iu":
        return config.floatX
    return dtype.name


def alloc(value: Any, *shape: Any) -> TensorVariable:
    """A new tensor of the given shape filled with ``value`` (broadcast as NumPy does).

    >>> from workbench import tensor as T
    >>> n = T.lscalar('n')
    >>> T.alloc(1.5, n, 2).eval({n: 1}).tolist()
    [[1.5, 1.5]]
    """
    if len(shape) == 1 and not (isinstance(shape[0], Variable) and shape[0].ndim == 0) \
            and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(_shape_items(shape[0], "alloc"))
    return Alloc()(value, *shape)


def _filled(shape: ShapeLike, value: Any, dtype: Any, what: str) -> TensorVariable:
    return alloc(constant(value, dtype=_resolve_dtype(dtype)), *_shape_items(shape, what))


def zeros(shape: ShapeLike, dtype: Any = None) -> TensorVariable:
    """A tensor of zeros of the given shape; dtype ``config.floatX`` unless given.

    >>> from workbench import tensor as T
    >>> T.zeros((2, 3)).type, T.zeros(2, 'int32').eval().tolist()
    (TensorType(float64, (2, 3)), [0, 0])
    """
    return _filled(shape, 0, dtype, "zeros")


def ones(shape: ShapeLike, dtype: Any = None) -> TensorVariable:
    """A tensor of ones of the given shape; dtype ``config.floatX`` unless given.

    >>> from workbench import tensor as T
    >>> T.ones([1, 2]).eval().tolist()
    [[1.0, 1.0]]
    """
    return _filled(shape, 1, dtype, "ones")


def zeros_like(x: Any, dtype: Any = None) -> TensorVariable:
    """Zeros of the shape of ``x``, of ``x``'s dtype unless ``dtype`` is given.

    >>> from workbench import tensor as T
    >>> T.zeros_like(T.imatrix()).type
    TensorType(int32, matrix)
    """
    x = as_tensor_variable(x)
    return alloc(constant(0, dtype=dtype or x.dtype), *_dims(x))


def ones_like(x: Any, dtype: Any = None) -> TensorVariable:
    """Ones of the shape of ``x``, of ``x``'s dtype unless ``dtype`` is given.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.ones_like(x, 'int8').eval({x: [5.0, 6.0]}).tolist()
    [1, 1]
    """
    x = as_tensor_variable(x)
    return alloc(constant(1, dtype=dtype or x.dtype), *_dims(x))


def fill(model: Any, value: Any) -> TensorVariable:
    """``value`` broadcast to the shape of ``model`` (broadcast with ``value``), with
    ``value``'s dtype; a Python number takes the dtype NumPy 2 gives it next to ``model``.

    >>> from workbench import tensor as T
    >>> x = T.fvector('x')
    >>> y = T.fill(x, 2.0)
    >>> y.dtype, y.eval({x: [0.0, 0.0]}).tolist()
    ('float32', [2.0, 2.0])
    """
    model, value = _result_dtype([as_tensor_variable(model), as_tensor_variable(value)])[0]
    ndim = max(model.ndim, value.ndim)
    padded = [pad_left(model, ndim), pad_left(value, ndim)]
    static = broadcast_static_shapes([p.type.shape for p in padded], where="fill: ")
    out_shape = broadcast_shape_symbolic([_dims(p) for p in padded], static)
    return alloc(value, *out_shape)


def second(a: Any, b: Any) -> TensorVariable:
    """``b`` broadcast to the shape of ``a`` (Theano's name for :func:`fill`).

    >>> from workbench import tensor as T
    >>> T.second(T.dmatrix(), T.iscalar()).type
    TensorType(int32, matrix)
    """
    return fill(a, b)


def full(shape: ShapeLike, fill_value: Any, dtype: Any = None) -> TensorVariable:
    """A tensor of the given shape filled with ``fill_value`` (``numpy.full``: the dtype is
    the value's unless given).

    >>> from workbench import tensor as T
    >>> T.full((2,), 7).eval().tolist()
    [7, 7]
    """
    value = as_tensor_variable(fill_value)
    if dtype is not None:
        value = cast(value, dtype)
    return alloc(value, *_shape_items(shape, "full"))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> TensorVariable:
    """A tensor of the shape of ``x`` filled with ``fill_value``, of ``x``'s dtype unless
    given (``numpy.full_like``).

    >>> from workbench import tensor as T
    >>> x = T.ivector('x')
    >>> T.full_like(x, 2.7).eval({x: [0, 0]}).tolist()
    [2, 2]
    """
    x = as_tensor_variable(x)
    value = cast(as_tensor_variable(fill_value), dtype or x.dtype)
    return alloc(value, *_dims(x))


def eye(n: Any, m: Any = None, k: Any = 0, dtype: Any = None) -> TensorVariable:
    """An ``n`` by ``m`` matrix with ones on diagonal ``k``; dtype ``config.floatX`` unless
    given.

    >>> from workbench import tensor as T
    >>> T.eye(2, dtype='int8').eval().tolist()
    [[1, 0], [0, 1]]
    """
    return Eye(_resolve_dtype(dtype))(n, n if m is None else m, k)


def identity_like(x: Any) -> TensorVariable:
    """The identity matrix of the shape and dtype of the matrix ``x``.

    >>> from workbench import tensor as T
    >>> x = T.lmatrix('x')
    >>> T.identity_like(x).eval({x: [[5, 5, 5], [5, 5, 5]]}).tolist()
    [[1, 0, 0], [0, 1, 0]]
    """
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise ValueError(f"identity_like: needs a matrix, got {x.type}")
    return Eye(x.dtype)(_dim(x, 0), _dim(x, 1), 0)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> TensorVariable:
    """The diagonal ``offset`` of ``a`` over ``axis1`` and ``axis2`` (``numpy.diagonal``).

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> T.diagonal(x).eval({x: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [1.0, 4.0]
    """
    a = as_tensor_variable(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got {a.type}")
    axis1, axis2 = _normalize_axes([axis1, axis2], a.ndim, "diagonal")
    return ExtractDiag(offset, axis1, axis2)(a)


def diag(v: Any, k: int = 0) -> TensorVariable:
    """A matrix with the vector ``v`` on diagonal ``k``, or the diagonal ``k`` of the matrix
    ``v`` (``numpy.diag``).

    >>> from workbench import tensor as T
    >>> v = T.lvector('v')
    >>> T.diag(v).eval({v: [1, 2]}).tolist()
    [[1, 0], [0, 2]]
    """
    v = as_tensor_variable(v)
    if v.ndim == 1:
        return AllocDiag(k)(v)
    if v.ndim == 2:
        return ExtractDiag(k, 0, 1)(v)
    raise ValueError(f"diag: needs a vector or a matrix, got {v.type}")


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> TensorVariable:
    """The sum of the diagonal of ``a`` (``numpy.trace``: small ints add up in int64).

    >>> from workbench import tensor as T
    >>> x = T.bmatrix('x')
    >>> t = T.trace(x)
    >>> t.dtype, int(t.eval({x: [[1, 2], [3, 4]]}))
    ('int64', 5)
    """
    return sum_last_axis(diagonal(a, offset, axis1, axis2))


def broadcast_to(x: Any, shape: ShapeLike) -> TensorVariable:
    """``x`` broadcast to ``shape`` (``numpy.broadcast_to``; the result is a new array).

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.broadcast_to(x, (2, 2)).eval({x: [1.0, 2.0]}).tolist()
    [[1.0, 2.0], [1.0, 2.0]]
    """
    return alloc(x, *_shape_items(shape, "broadcast_to"))


def broadcast_arrays(*args: Any) -> list[TensorVariable]:
    """The inputs broadcast against each other (``numpy.broadcast_arrays``).

    >>> from workbench import tensor as T
    >>> a, b = T.broadcast_arrays(T.dcol(), T.irow())
    >>> a.type, b.type
    (TensorType(float64, matrix), TensorType(int32, matrix))
    """
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    tensors = [as_tensor_variable(a) for a in args]
    if not tensors:
        return []
    ndim = max(t.ndim for t in tensors)
    padded = [pad_left(t, ndim) for t in tensors]
    static = broadcast_static_shapes([p.type.shape for p in padded], where="broadcast_arrays: ")
    out_shape = broadcast_shape_symbolic([_dims(p) for p in padded], static)
    return [alloc(p, *out_shape) for p in padded]


__all__ = [
    "broadcast_to", "broadcast_arrays",
    "repeat", "tile", "arange", "mgrid", "ogrid", "alloc", "zeros", "ones", "zeros_like", "ones_like", "fill",
    "second", "full", "full_like", "eye", "identity_like", "diagonal", "diag", "trace", "Alloc",
    "ARange", "Eye", "ExtractDiag", "AllocDiag", "Repeat",
]
