"""Joining and splitting tensors: ``T.concatenate``, ``T.stack``, ``T.split``, ``T.roll``.

>>> from workbench import tensor as T
>>> x = T.dmatrix('x')
>>> T.concatenate([x, T.zeros((2, 3))]).type
TensorType(float64, (?, 3))
"""
from __future__ import annotations


from typing import Any, Sequence

import numpy as np

from ..compiler.graph import Variable
from ..compiler.ops.axes import normalize_axis
from ..compiler.ops.join import Join, MakeVector, Roll, Split, _result_dtype, make_vector
from .basic import as_tensor_variable, constant
from .variable import TensorVariable
from .shape import expand_dims, shape_padleft


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


__all__ = [
    "concatenate", "join", "stack", "stacklists", "split", "horizontal_stack", "vertical_stack",
    "roll", "Join", "MakeVector", "Split", "Roll",
]
