"""Shapes and dimensions: ``T.shape``, ``T.reshape``, ``T.flatten``, ``T.dimshuffle``-like ops.

Names, signatures and defaults are Theano's; results (values, dtypes, shapes) are NumPy's.
Static shapes are filled wherever the sizes are known when the graph is built. Joining is
in :mod:`workbench.tensor.join`, allocation in :mod:`workbench.tensor.alloc`.

>>> from workbench import tensor as T
>>> x = T.dmatrix('x')
>>> T.flatten(x).eval({x: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
[1.0, 2.0, 3.0, 4.0]
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..compiler.graph import Variable
from ..compiler.ops.elemwise import DimShuffle
from ..compiler.ops.axes import normalize_axis
from ..compiler.ops.join import MakeVector
from ..compiler.ops.shape import Rebroadcast, Reshape, Shape, Shape_i, ShapeError, \
    SpecifyShape, as_int_scalar, static_int, vector_items
from .basic import as_tensor_variable, cast, constant
from .variable import TensorVariable

ShapeLike = Any  # an int, a sequence of ints / symbolic int scalars, or a symbolic int vector


# ---------------------------------------------------------------------------------------
# Reading shapes


def shape(x: Any) -> TensorVariable:
    """The shape of ``x`` as a symbolic int64 vector of length ``x.ndim``.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> T.shape(x).eval({x: [[1.0, 2.0, 3.0]]}).tolist()
    [1, 3]
    """
    return Shape()(as_tensor_variable(x))


def shape_i(x: Any, i: int) -> TensorVariable:
    """Dimension ``i`` of ``x``'s shape as a symbolic int64 scalar.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> int(T.shape_i(x, 1).eval({x: [[1.0, 2.0, 3.0]]}))
    3
    """
    x = as_tensor_variable(x)
    return Shape_i(normalize_axis(i, x.ndim, "shape_i"))(x)


def _dim(x: Variable, i: int) -> Any:
    """Dimension ``i`` of ``x``: a python int when the static shape has it."""
    s = x.type.shape[i]
    return s if s is not None else Shape_i(i)(x)


def _dims(x: Variable) -> list[Any]:
    return [_dim(x, i) for i in range(x.ndim)]


def get_vector_length(v: Any) -> int:
    """The length of a symbolic vector when it is known before run time.

    >>> from workbench import tensor as T
    >>> T.get_vector_length(T.shape(T.dtensor3()))
    3
    """
    v = as_tensor_variable(v)
    if v.ndim != 1:
        raise TypeError(f"get_vector_length: expected a vector, got {v.type}")
    if v.type.shape[0] is None:
        raise ValueError(f"the length of {v} ({v.type}) is not known before run time")
    return v.type.shape[0]


def _shape_items(shape_arg: ShapeLike, what: str) -> list[Any]:
    """A shape argument as a list of python ints and symbolic int64 scalars."""
    if isinstance(shape_arg, Variable):
        v = as_tensor_variable(shape_arg)
        if v.ndim == 0:
            return [as_int_scalar(v, what)]
        if v.ndim != 1 or v.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"{what}: the shape must be an integer vector, got {v.type}")
        if v.type.shape[0] is None:
            raise ValueError(f"{what}: the length of the shape vector {v} is not known before "
                             f"run time")
        return [s if isinstance(s, int) else as_int_scalar(s, what) for s in vector_items(v)]
    if isinstance(shape_arg, (int, np.integer)) and not isinstance(shape_arg, bool):
        return [int(shape_arg)]
    if isinstance(shape_arg, np.ndarray):
        shape_arg = shape_arg.tolist()
        if isinstance(shape_arg, int):
            return [shape_arg]
    if not isinstance(shape_arg, (list, tuple)):
        raise TypeError(f"{what}: the shape must be an int, a tuple or list of ints and "
                        f"symbolic scalars, or a symbolic vector; got {shape_arg!r}")
    items = []
    for i, s in enumerate(shape_arg):
        if isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)):
            items.append(int(s))
        else:
            items.append(as_int_scalar(s, f"{what}: shape entry {i}"))
    return items


def _as_shape_vector(items: Sequence[Any]) -> TensorVariable:
    if all(isinstance(s, int) for s in items):
        return constant(np.asarray(items, dtype="int64").reshape(len(items)))
    return MakeVector("int64")(*items)


def broadcast_shape_symbolic(input_shapes: Sequence[Sequence[Any]],
                             static_shape: Sequence[int | None]) -> tuple[Any, ...]:
    """The broadcast of several shapes of equal length, as symbolic int64 scalars or ints.

    A dimension known in ``static_shape`` is that int; otherwise it is the one input size
    that is not statically 1, or, between several, the first one that is not 1 at run time
    (which, unlike their maximum, is right when one of them is 0).

    >>> from workbench import tensor as T
    >>> n = T.lscalar('n')
    >>> T.broadcast_shape_symbolic([(1, n), (4, 1)], (4, None))
    (4, n)
    """
    out: list[Any] = []
    for axis, dims in enumerate(zip(*input_shapes)):
        if static_shape[axis] is not None:
            out.append(static_shape[axis])
            continue
        candidates: list[Any] = []
        for d in dims:
            known = static_int(d)
            if known == 1 or any(c is d or (known is not None and static_int(c) == known)
                                 for c in candidates):
                continue
            candidates.append(d)
        if not candidates:
            out.append(1)
            continue
        fixed = [c for c in candidates if static_int(c) is not None]
        if fixed:
            out.append(static_int(fixed[0]))
            continue
        result = candidates[0]
        for d in candidates[1:]:
            from .math import eq, switch

            result = switch(eq(result, 1), d, result)
        out.append(result)
    return tuple(out)


# ---------------------------------------------------------------------------------------
# Reshaping and rearranging dimensions


def reshape(x: Any, newshape: ShapeLike, ndim: int | None = None) -> TensorVariable:
    """``x`` with the shape ``newshape`` (one entry may be -1, as in NumPy).

    ``newshape`` is an int, a tuple/list of ints and symbolic scalars, or a symbolic int
    vector (give ``ndim`` when its length is not known).

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.reshape(x, (2, -1)).eval({x: [1.0, 2.0, 3.0, 4.0]}).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    x = as_tensor_variable(x)
    if isinstance(newshape, Variable) and as_tensor_variable(newshape).ndim == 1:
        vec = as_tensor_variable(newshape)
        if vec.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"reshape: the new shape must be an integer vector, got {vec.type}")
        length = vec.type.shape[0]
        if ndim is None:
            if length is None:
                raise ValueError(f"reshape: the length of the new shape {vec} is not known; "
                                 f"give ndim")
            ndim = length
        elif length is not None and length != ndim:
            raise ValueError(f"reshape: ndim={ndim} but the new shape has {length} entries")
        return Reshape(ndim)(x, cast(vec, "int64"))
    items = _shape_items(newshape, "reshape")
    if ndim is not None and ndim != len(items):
        raise ValueError(f"reshape: ndim={ndim} but the new shape has {len(items)} entries")
    return Reshape(len(items))(x, _as_shape_vector(items))


def flatten(x: Any, ndim: int = 1, outdim: int | None = None) -> TensorVariable:
    """``x`` with its first ``ndim - 1`` dimensions kept and the rest collapsed into one.

    >>> from workbench import tensor as T
    >>> T.flatten(T.tensor('float64', shape=(None, 2, 3)), 2).type
    TensorType(float64, (?, 6))
    """
    if outdim is not None:
        ndim = outdim
    x = as_tensor_variable(x)
    if not 1 <= ndim <= max(x.ndim, 1):
        raise ValueError(f"flatten: ndim must be between 1 and {max(x.ndim, 1)} for {x.type}, "
                         f"got {ndim}")
    kept = _dims(x)[:ndim - 1]
    rest = _dims(x)[ndim - 1:]
    if all(isinstance(d, int) for d in rest):
        collapsed: Any = int(np.prod(rest, dtype=np.int64))
    else:
        from .math import mul

        # an explicit product, not -1: NumPy cannot infer -1 when a kept dimension is 0
        collapsed = mul(*[d if isinstance(d, Variable) else constant(d, dtype="int64")
                          for d in rest])
    return reshape(x, kept + [collapsed])


def _normalize_axes(axes: Sequence[Any], ndim: int, what: str) -> list[int]:
    return [normalize_axis(a, ndim, what) for a in axes]


def transpose(x: Any, axes: Sequence[int] | None = None) -> TensorVariable:
    """``x`` with its dimensions permuted by ``axes`` (reversed when None), a view.

    >>> from workbench import tensor as T
    >>> T.transpose(T.tensor('float64', shape=(2, 3, None)), (2, 0, 1)).type
    TensorType(float64, (?, 2, 3))
    """
    x = as_tensor_variable(x)
    if axes is None:
        axes = list(range(x.ndim))[::-1]
    perm = _normalize_axes(list(axes), x.ndim, "transpose") if x.ndim else list(axes)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of the "
                         f"{x.ndim} dimensions of {x.type}")
    if perm == list(range(x.ndim)):
        return x
    return DimShuffle(x.broadcastable, perm)(x)


def swapaxes(x: Any, axis1: int, axis2: int) -> TensorVariable:
    """``x`` with dimensions ``axis1`` and ``axis2`` exchanged.

    >>> from workbench import tensor as T
    >>> T.swapaxes(T.tensor('float64', shape=(2, 3, 4)), 0, -1).type
    TensorType(float64, (4, 3, 2))
    """
    x = as_tensor_variable(x)
    a, b = _normalize_axes([axis1, axis2], x.ndim, "swapaxes")
    perm = list(range(x.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, perm)


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> TensorVariable:
    """``x`` without the given size-1 dimensions; with ``axis=None``, without every dimension
    that is statically broadcastable (as Theano). A named axis that is not statically 1 is
    checked at run time.

    >>> from workbench import tensor as T
    >>> T.squeeze(T.tensor('float64', shape=(1, None, 1))).type
    TensorType(float64, vector)
    """
    x = as_tensor_variable(x)
    if axis is None:
        axes = [d for d, s in enumerate(x.type.shape) if s == 1]
    else:
        axes = _normalize_axes([axis] if np.ndim(axis) == 0 else list(axis), x.ndim, "squeeze")
        for a in axes:
            if x.type.shape[a] not in (None, 1):
                raise ValueError(f"squeeze: axis {a} of {x.type} has size {x.type.shape[a]}, "
                                 f"not 1")
        x = addbroadcast(x, *axes)
    if not axes:
        return x
    return DimShuffle(x.broadcastable, [d for d in range(x.ndim) if d not in axes])(x)


def expand_dims(x: Any, axis: int | Sequence[int]) -> TensorVariable:
    """``x`` with new size-1 dimensions at the positions ``axis`` of the result (NumPy's).

    >>> from workbench import tensor as T
    >>> T.expand_dims(T.dvector(), (0, -1)).type
    TensorType(float64, (1, ?, 1))
    """
    x = as_tensor_variable(x)
    axes = [axis] if np.ndim(axis) == 0 else list(axis)
    out_ndim = x.ndim + len(axes)
    axes = _normalize_axes(axes, out_ndim, "expand_dims")
    if len(set(axes)) != len(axes):
        raise ValueError(f"expand_dims: repeated axis in {axis}")
    rest = iter(range(x.ndim))
    order = ["x" if d in axes else next(rest) for d in range(out_ndim)]
    return DimShuffle(x.broadcastable, order)(x)


def shape_padleft(t: Any, n_ones: int = 1) -> TensorVariable:
    """``t`` with ``n_ones`` broadcastable dimensions added on the left.

    >>> from workbench import tensor as T
    >>> T.shape_padleft(T.dvector(), 2).type
    TensorType(float64, (1, 1, ?))
    """
    t = as_tensor_variable(t)
    return DimShuffle(t.broadcastable, ["x"] * n_ones + list(range(t.ndim)))(t)


def shape_padright(t: Any, n_ones: int = 1) -> TensorVariable:
    """``t`` with ``n_ones`` broadcastable dimensions added on the right.

    >>> from workbench import tensor as T
    >>> T.shape_padright(T.dvector()).type
    TensorType(float64, col)
    """
    t = as_tensor_variable(t)
    return DimShuffle(t.broadcastable, list(range(t.ndim)) + ["x"] * n_ones)(t)


def shape_padaxis(t: Any, axis: int) -> TensorVariable:
    """``t`` with a broadcastable dimension inserted at ``axis`` (of the result).

    >>> from workbench import tensor as T
    >>> T.shape_padaxis(T.dmatrix(), 1).type
    TensorType(float64, (?, 1, ?))
    """
    return expand_dims(t, axis)


# ---------------------------------------------------------------------------------------
# Broadcast patterns and shape assertions


def addbroadcast(x: Any, *axes: int) -> TensorVariable:
    """``x`` with ``axes`` marked broadcastable (size 1); checked at run time.

    >>> from workbench import tensor as T
    >>> T.addbroadcast(T.dmatrix(), 0).type
    TensorType(float64, row)
    """
    x = as_tensor_variable(x)
    axes_ = [a for a in _normalize_axes(axes, x.ndim, "addbroadcast") if x.type.shape[a] != 1]
    if not axes_:
        return x
    return Rebroadcast([(a, True) for a in axes_])(x)


def unbroadcast(x: Any, *axes: int) -> TensorVariable:
    """``x`` with ``axes`` no longer marked broadcastable.

    >>> from workbench import tensor as T
    >>> T.unbroadcast(T.drow(), 0).type
    TensorType(float64, matrix)
    """
    x = as_tensor_variable(x)
    axes_ = [a for a in _normalize_axes(axes, x.ndim, "unbroadcast") if x.type.shape[a] == 1]
    if not axes_:
        return x
    return Rebroadcast([(a, False) for a in axes_])(x)


def patternbroadcast(x: Any, broadcastable: Sequence[bool]) -> TensorVariable:
    """``x`` with the broadcastable pattern ``broadcastable``; a dimension marked
    broadcastable is checked at run time to have size 1.

    >>> from workbench import tensor as T
    >>> T.patternbroadcast(T.dmatrix(), (False, True)).type
    TensorType(float64, col)
    """
    x = as_tensor_variable(x)
    pattern = tuple(bool(b) for b in broadcastable)
    if len(pattern) != x.ndim:
        raise ValueError(f"patternbroadcast: the pattern {pattern} has {len(pattern)} entries "
                         f"but {x.type} has {x.ndim} dimensions")
    changes = [(d, b) for d, b in enumerate(pattern) if b != (x.type.shape[d] == 1)]
    if not changes:
        return x
    return Rebroadcast(changes)(x)


def specify_shape(x: Any, shape: ShapeLike) -> TensorVariable:
    """``x`` unchanged, checked at run time to have ``shape`` (an entry of None is not
    checked); the known sizes go into the static shape.

    >>> from workbench import tensor as T
    >>> T.specify_shape(T.dmatrix(), (None, 3)).type
    TensorType(float64, (?, 3))
    """
    x = as_tensor_variable(x)
    if isinstance(shape, (list, tuple)):
        entries = list(shape)
        checked = [(d, s) for d, s in enumerate(entries) if s is not None]
        checked = [(d, s if isinstance(s, Variable) else int(s)) for d, s in checked]
    else:
        entries = _shape_items(shape, "specify_shape")
        checked = list(enumerate(entries))
    if len(entries) != x.ndim:
        raise ValueError(f"specify_shape: the shape {tuple(entries)} has {len(entries)} entries "
                         f"but {x.type} has {x.ndim} dimensions")
    if not checked:
        return x
    return SpecifyShape([d for d, _ in checked])(x, *[s for _, s in checked])


__all__ = [
    "shape", "shape_i", "get_vector_length", "broadcast_shape_symbolic", "reshape", "flatten",
    "transpose", "swapaxes", "squeeze", "expand_dims", "shape_padleft", "shape_padright",
    "shape_padaxis", "addbroadcast", "unbroadcast", "patternbroadcast", "specify_shape",
    "Shape", "Shape_i", "Reshape", "SpecifyShape",
    "Rebroadcast", "ShapeError",
]
