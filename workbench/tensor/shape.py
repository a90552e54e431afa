"""Shapes, reshaping, joining and allocation: ``T.reshape``, ``T.concatenate``, ``T.zeros``...

Names, signatures and defaults are Theano's; results (values, dtypes, shapes) are NumPy's.
Static shapes are filled wherever the sizes are known when the graph is built.

>>> from workbench import tensor as T
>>> x = T.dmatrix('x')
>>> T.concatenate([x, T.zeros((2, 3))]).type
TensorType(float64, (?, 3))
>>> T.flatten(x).eval({x: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
[1.0, 2.0, 3.0, 4.0]
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..compiler.graph import Variable
from ..compiler.ops.alloc import AllocDiag, Alloc, ARange, Eye, ExtractDiag, Repeat, \
    sum_last_axis
from ..compiler.ops.elemwise import DimShuffle, broadcast_static_shapes, pad_left
from ..compiler.ops.join import Join, MakeVector, Roll, Split, _result_dtype, make_vector, \
    normalize_axis
from ..compiler.ops.shape import Rebroadcast, Reshape, Shape, Shape_i, ShapeError, \
    SpecifyShape, as_int_scalar, static_int, vector_items
from .basic import _resolve_dtype, as_tensor_variable, cast, constant
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


# ---------------------------------------------------------------------------------------
# Joining and splitting


def concatenate(tensor_list: Sequence[Any], axis: int = 0) -> TensorVariable:
    """The tensors joined along ``axis`` (``numpy.concatenate``).

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.concatenate([x, x + 1]).eval({x: [1.0]}).tolist()
    [1.0, 2.0]
    """
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError("concatenate: the tensors must be given as a list or a tuple (did you "
                        f"forget [] around them?), got {type(tensor_list).__name__}")
    if not tensor_list:
        raise ValueError("concatenate: needs at least one tensor to join")
    tensors = [as_tensor_variable(t) for t in tensor_list]
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated; use "
                         "stack")
    axis = normalize_axis(axis, ndim, "concatenate")
    if len(tensors) == 1:
        return tensors[0]
    return Join(axis)(*tensors)


def join(axis: int, *tensors_list: Any) -> TensorVariable:
    """The tensors joined along ``axis`` (Theano's argument order).

    >>> from workbench import tensor as T
    >>> T.join(1, T.dmatrix(), T.dcol()).type
    TensorType(float64, matrix)
    """
    return concatenate(list(tensors_list), axis)


def stack(tensors: Any, *more: Any, axis: int = 0) -> TensorVariable:
    """The tensors (of equal shapes) stacked along a new dimension ``axis``.

    Takes a list, ``stack([a, b], axis=1)``, or Theano's old form ``stack(a, b, c)``.

    >>> from workbench import tensor as T
    >>> a, b = T.dscalars('a', 'b')
    >>> T.stack([a, b]).eval({a: 1.0, b: 2.0}).tolist()
    [1.0, 2.0]
    """
    if isinstance(tensors, (list, tuple)):
        if len(more) == 1 and axis == 0:
            axis = more[0]
        elif more:
            raise TypeError("stack: give the tensors as one list, then the axis")
        items = list(tensors)
    else:
        items = [tensors, *more]
    if not items:
        raise ValueError("stack: needs at least one tensor")
    items = [as_tensor_variable(t) for t in items]
    ndim = items[0].ndim
    for i, t in enumerate(items):
        if t.ndim != ndim:
            raise ValueError(f"stack: all inputs must have the same number of dimensions, "
                             f"input 0 is {items[0].type} and input {i} is {t.type}")
    axis = normalize_axis(axis, ndim + 1, "stack")
    if ndim == 0:
        return make_vector(*items)
    items, dtype = _result_dtype(items)
    return Join(axis)(*[expand_dims(t, axis) for t in items]) if len(items) > 1 else \
        expand_dims(items[0], axis)


def stacklists(arg: Any) -> TensorVariable:
    """Nested lists of tensors stacked into one tensor.

    >>> from workbench import tensor as T
    >>> a, b, c, d = T.dscalars('a', 'b', 'c', 'd')
    >>> T.stacklists([[a, b], [c, d]]).type
    TensorType(float64, (2, 2))
    """
    if isinstance(arg, (list, tuple)):
        return stack([stacklists(a) for a in arg])
    return as_tensor_variable(arg)


def split(x: Any, splits_size: Any, n_splits: int, axis: int = 0) -> list[TensorVariable]:
    """``x`` cut along ``axis`` into ``n_splits`` pieces of the sizes ``splits_size``.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> a, b = T.split(x, [1, 2], 2)
    >>> b.eval({x: [1.0, 2.0, 3.0]}).tolist()
    [2.0, 3.0]
    """
    x = as_tensor_variable(x)
    if x.ndim == 0:
        raise ValueError("split: cannot split a scalar")
    axis = normalize_axis(axis, x.ndim, "split")
    if isinstance(splits_size, (list, tuple)) and all(
            isinstance(s, (int, np.integer)) for s in splits_size):
        splits = constant(np.asarray(splits_size, dtype="int64").reshape(len(splits_size)))
    else:
        splits = as_tensor_variable(splits_size)
    return Split(n_splits, axis).make_node(x, splits).outputs


def _atleast(x: Variable, ndim: int) -> Variable:
    if x.ndim >= ndim:
        return x
    if ndim == 2 and x.ndim == 1:
        return shape_padleft(x)
    return shape_padleft(x, ndim - x.ndim)


def horizontal_stack(*args: Any) -> TensorVariable:
    """The tensors joined column-wise (``numpy.hstack``: along axis 1, or 0 for vectors).

    >>> from workbench import tensor as T
    >>> T.horizontal_stack(T.dmatrix(), T.dmatrix()).owner.op
    Join{axis=1}
    """
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    tensors = [_atleast(as_tensor_variable(a), 1) for a in args]
    if not tensors:
        raise ValueError("horizontal_stack: needs at least one tensor")
    return concatenate(tensors, axis=0 if tensors[0].ndim == 1 else 1)


def vertical_stack(*args: Any) -> TensorVariable:
    """The tensors joined row-wise (``numpy.vstack``: vectors become rows).

    >>> from workbench import tensor as T
    >>> T.vertical_stack(T.dvector(), T.dvector()).type
    TensorType(float64, (2, ?))
    """
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    tensors = [_atleast(as_tensor_variable(a), 2) for a in args]
    if not tensors:
        raise ValueError("vertical_stack: needs at least one tensor")
    return concatenate(tensors, axis=0)


def roll(x: Any, shift: Any, axis: int | None = None) -> TensorVariable:
    """``x`` with its elements shifted by ``shift`` along ``axis`` (``numpy.roll``; the
    flattened array when ``axis`` is None).

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.roll(x, 1).eval({x: [1.0, 2.0, 3.0]}).tolist()
    [3.0, 1.0, 2.0]
    """
    x = as_tensor_variable(x)
    if axis is not None:
        axis = normalize_axis(axis, x.ndim, "roll")
    return Roll(axis)(x, shift)


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
    "shape", "shape_i", "get_vector_length", "broadcast_shape_symbolic",
    "reshape", "flatten", "transpose", "swapaxes", "squeeze", "expand_dims", "shape_padleft",
    "shape_padright", "shape_padaxis", "addbroadcast", "unbroadcast", "patternbroadcast",
    "specify_shape",
    "concatenate", "join", "stack", "stacklists", "split", "horizontal_stack",
    "vertical_stack", "roll",
    "repeat", "tile", "arange", "alloc", "zeros", "ones", "zeros_like", "ones_like", "fill",
    "second", "full", "full_like", "eye", "identity_like", "diagonal", "diag", "trace",
    "broadcast_to", "broadcast_arrays",
    "Shape", "Shape_i", "Reshape", "SpecifyShape", "Rebroadcast", "Join", "MakeVector",
    "Split", "Roll", "Alloc", "ARange", "Eye", "ExtractDiag", "AllocDiag", "Repeat",
    "ShapeError",
]
