"""Indexing symbolic tensors as NumPy does, and writing into the indexed parts.

``x[idx]`` builds a :class:`Subtensor` (basic indexing: a view) or an
:class:`AdvancedSubtensor`/:class:`AdvancedSubtensor1` (integer arrays, boolean masks: a
copy). ``set_subtensor(x[idx], y)`` and ``inc_subtensor(x[idx], y)`` give a new ``x`` with
the indexed part replaced or incremented.

>>> from workbench import tensor as T
>>> import numpy as np
>>> x = T.dmatrix('x')
>>> y = T.set_subtensor(x[:, 0], 0.0)
>>> y.eval({x: np.ones((2, 2))}).tolist()
[[0.0, 1.0], [0.0, 1.0]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compiler.graph import Variable
from ..compiler.ops.subtensor import (INPUT, AdvancedIncSubtensor, AdvancedIncSubtensor1,
                                      AdvancedSubtensor, AdvancedSubtensor1, IncSubtensor,
                                      Nonzero, Subtensor, Take)
from ..compiler.types import INT_DTYPES, UINT_DTYPES
from .basic import as_tensor_variable
from .variable import TensorVariable

_INTEGER_DTYPES = INT_DTYPES + UINT_DTYPES

advanced_subtensor1 = AdvancedSubtensor1()
advanced_inc_subtensor1 = AdvancedIncSubtensor1()
advanced_set_subtensor1 = AdvancedIncSubtensor1(set_instead_of_inc=True)


def _slice_part(part: Any, which: str) -> Any:
    """A slice's start, stop or step as None, an int or a symbolic integer scalar."""
    if part is None:
        return None
    if isinstance(part, (bool, np.bool_)):
        raise TypeError(f"slice {which} must be an integer or None, got the boolean {part!r}")
    if isinstance(part, (int, np.integer)):
        return int(part)
    if isinstance(part, Variable) or hasattr(part, "variable"):
        var = as_tensor_variable(part)
        if var.ndim != 0 or var.dtype not in _INTEGER_DTYPES:
            raise TypeError(f"slice {which} must be an integer scalar or None, got {var} of "
                            f"type {var.type}")
        data = getattr(var, "data", None)
        return int(data) if data is not None else var
    raise TypeError(f"slice {which} must be an integer or None, got {type(part).__name__} "
                    f"{part!r}")


def _index_variable(entry: Any) -> Any:
    """An index entry that is not a slice, None or Ellipsis: an int, or a tensor variable
    (integer scalar, integer array or boolean mask)."""
    if isinstance(entry, (int, np.integer)) and not isinstance(entry, (bool, np.bool_)):
        return int(entry)
    if isinstance(entry, (float, complex, np.floating, np.complexfloating, str, bytes)):
        raise TypeError(f"only integers, slices, None, Ellipsis, integer arrays and boolean "
                        f"arrays are valid indices; got {type(entry).__name__} {entry!r}")
    if isinstance(entry, list) and len(entry) == 0:
        entry = np.zeros(0, dtype="int64")  # NumPy reads an empty list as an integer array
    try:
        var = as_tensor_variable(entry)
    except TypeError:
        raise TypeError(f"only integers, slices, None, Ellipsis, integer arrays and boolean "
                        f"arrays are valid indices; got {type(entry).__name__} "
                        f"{entry!r}") from None
    if var.dtype not in _INTEGER_DTYPES + ("bool",):
        raise TypeError(f"arrays used as indices must be of integer or boolean dtype; "
                        f"{var} has type {var.type}")
    data = getattr(var, "data", None)
    if var.ndim == 0 and var.dtype != "bool" and data is not None:
        return int(data)
    return var


def _is_advanced(item: Any) -> bool:
    return isinstance(item, Variable) and (item.ndim > 0 or item.dtype == "bool")


def getitem(x: Any, index: Any) -> TensorVariable:
    """``x[index]`` with NumPy's semantics; what ``TensorVariable.__getitem__`` calls.

    >>> from workbench import tensor as T
    >>> x, i = T.dmatrix('x'), T.lscalar('i')
    >>> getitem(x, (i, slice(None, None, -1))).type
    TensorType(float64, vector)
    >>> getitem(x, (None, Ellipsis, [0, 1])).owner.op
    AdvancedSubtensor{newaxis, ..., $}
    """
    x = as_tensor_variable(x)
    entries = index if isinstance(index, tuple) else (index,)
    items: list[Any] = []
    for entry in entries:
        if entry is None or entry is Ellipsis:
            items.append(entry)
        elif isinstance(entry, slice):
            step = _slice_part(entry.step, "step")
            if isinstance(step, int) and step == 0:
                raise ValueError("slice step cannot be zero")
            items.append(slice(_slice_part(entry.start, "start"), _slice_part(entry.stop, "stop"),
                               None if isinstance(step, int) and step == 1 else step))
        else:
            items.append(_index_variable(entry))
    if sum(i is Ellipsis for i in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if any(_is_advanced(i) for i in items):
        return _advanced_getitem(x, items)
    return _basic_getitem(x, items)


def _to_idx_list(items: list[Any]) -> tuple[list[Any], list[Variable]]:
    """Split items into an idx_list (symbolic parts as INPUT) and the inputs."""
    idx_list: list[Any] = []
    inputs: list[Variable] = []

    def part(p: Any) -> Any:
        if isinstance(p, Variable):
            inputs.append(p)
            return INPUT
        return p

    for item in items:
        if isinstance(item, slice):
            idx_list.append((part(item.start), part(item.stop), part(item.step)))
        else:
            idx_list.append(part(item))
    return idx_list, inputs


def _basic_getitem(x: TensorVariable, items: list[Any]) -> TensorVariable:
    consumed = sum(i is not None and i is not Ellipsis for i in items)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items = items[:at] + [slice(None)] * max(x.ndim - consumed, 0) + items[at + 1:]
    # x[0], x[0, :] and x[0, ...] are one op, so that they merge
    while items and isinstance(items[-1], slice) and items[-1] == slice(None):
        items.pop()
    idx_list, inputs = _to_idx_list(items)
    return Subtensor(idx_list)(x, *inputs)


def _advanced_getitem(x: TensorVariable, items: list[Any]) -> TensorVariable:
    rest = list(items[1:])
    # x[iv, :] and x[iv, ...] are x[iv]
    while rest and (rest[-1] is Ellipsis or isinstance(rest[-1], slice) and
                    rest[-1] == slice(None)):
        rest.pop()
    first = items[0]
    if not rest and isinstance(first, Variable) and first.ndim == 1 and \
            first.dtype in _INTEGER_DTYPES and x.ndim >= 1:
        return advanced_subtensor1(x, first)
    idx_list, inputs = _to_idx_list(items)
    return AdvancedSubtensor(idx_list)(x, *inputs)


def _indexing_node(x: Any, fname: str):
    owner = getattr(x, "owner", None)
    if owner is None or not isinstance(owner.op, (Subtensor, AdvancedSubtensor,
                                                  AdvancedSubtensor1)):
        made_by = "an input or a constant" if owner is None else f"{owner.op}"
        raise TypeError(f"{fname}: the first argument must be the result of indexing a tensor "
                        f"(like x[1:] or x[idx]), so that the tensor and the index can be "
                        f"recovered; got {x}, made by {made_by}")
    return owner


def _write(x: Any, y: Any, inplace: bool, set_instead_of_inc: bool, fname: str
           ) -> TensorVariable:
    node = _indexing_node(x, fname)
    op, base, index = node.op, node.inputs[0], node.inputs[1:]
    if isinstance(op, Subtensor):
        new_op = IncSubtensor(op.idx_list, inplace, set_instead_of_inc)
    elif isinstance(op, AdvancedSubtensor):
        new_op = AdvancedIncSubtensor(op.idx_list, inplace, set_instead_of_inc)
    else:
        new_op = AdvancedIncSubtensor1(inplace, set_instead_of_inc)
    return new_op(base, y, *index)


def set_subtensor(x: Any, y: Any, inplace: bool = False,
                  tolerate_inplace_aliasing: bool = False) -> TensorVariable:
    """The tensor that ``x`` indexes, with the part ``x`` stands for set to ``y``.

    ``x`` must be an indexing result such as ``a[1:, i]``; ``y`` broadcasts to its shape.
    With advanced indices that repeat, the last value wins, as in NumPy.
    ``tolerate_inplace_aliasing`` is accepted for Theano compatibility and ignored.

    >>> from workbench import tensor as T
    >>> a = T.dvector('a')
    >>> T.set_subtensor(a[[0, 2]], [7.0, 9.0]).eval({a: [1.0, 2.0, 3.0]}).tolist()
    [7.0, 2.0, 9.0]
    """
    return _write(x, y, inplace, True, "set_subtensor")


def inc_subtensor(x: Any, y: Any, inplace: bool = False, set_instead_of_inc: bool = False,
                  tolerate_inplace_aliasing: bool = False) -> TensorVariable:
    """The tensor that ``x`` indexes, with ``y`` added to the part ``x`` stands for.

    With advanced indices that repeat, every repetition adds (``numpy.add.at``).
    ``tolerate_inplace_aliasing`` is accepted for Theano compatibility and ignored.

    >>> from workbench import tensor as T
    >>> a = T.dvector('a')
    >>> T.inc_subtensor(a[[0, 0, 2]], 1.0).eval({a: [0.0, 0.0, 0.0]}).tolist()
    [2.0, 0.0, 1.0]
    """
    return _write(x, y, inplace, set_instead_of_inc, "inc_subtensor")


def take(a: Any, indices: Any, axis: int | None = None, mode: str = "raise"
         ) -> TensorVariable:
    """``numpy.take``: the elements of ``a`` at ``indices`` along ``axis`` (of ``a``
    flattened when None); ``mode`` 'raise', 'wrap' or 'clip' treats indices out of range.

    >>> from workbench import tensor as T
    >>> a, i = T.dmatrix('a'), T.lvector('i')
    >>> T.take(a, i, axis=1).eval({a: [[1.0, 2.0], [3.0, 4.0]], i: [1, 1]}).tolist()
    [[2.0, 2.0], [4.0, 4.0]]
    """
    a = as_tensor_variable(a)
    indices = as_tensor_variable(indices)
    if axis is not None:
        if not -a.ndim <= axis < a.ndim:
            raise np.exceptions.AxisError(axis, a.ndim, "take")
        axis = int(axis) % a.ndim
    if mode == "raise" and axis is not None and indices.dtype in _INTEGER_DTYPES:
        # plain indexing: the same op as a[:, indices], so rewrites and gradients apply
        return getitem(a, (slice(None),) * axis + (indices,))
    return Take(axis, mode)(a, indices)


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> TensorVariable:
    """``numpy.choose``: each element taken from ``choices[a]``; ``choices`` is a list of
    tensors or one tensor whose first axis enumerates them, broadcast together with ``a``.
    ``mode`` is 'raise', 'wrap' or 'clip', as in NumPy.

    >>> from workbench import tensor as T
    >>> a = T.lvector('a')
    >>> T.choose(a, [[1, 2, 3], [10, 20, 30]], mode='wrap').eval({a: [0, 3, 2]}).tolist()
    [1, 20, 3]
    """
    from ..compiler.ops.choose import Choose

    if out is not None:
        raise TypeError("choose: out= is not supported (symbolic results are never written "
                        "into a given array)")
    if isinstance(choices, Variable) or (
            isinstance(choices, np.ndarray)) or not isinstance(choices, (list, tuple)):
        return Choose(mode, stacked=True)(a, choices)
    return Choose(mode)(a, *choices)


def nonzero(a: Any, return_matrix: bool = False) -> Any:
    """The indices of the nonzero elements of ``a``: a tuple of int64 vectors, one per
    axis (``numpy.nonzero``), or with ``return_matrix``, one matrix with a row per axis.

    >>> from workbench import tensor as T
    >>> a = T.dmatrix('a')
    >>> rows, cols = T.nonzero(a)
    >>> cols.eval({a: [[0.0, 1.0], [2.0, 0.0]]}).tolist()
    [1, 0]
    """
    matrix = Nonzero()(as_tensor_variable(a))
    if return_matrix:
        return matrix
    return tuple(matrix[i] for i in range(matrix.type.shape[0]))


def flatnonzero(a: Any) -> TensorVariable:
    """The indices of the nonzero elements of ``a`` flattened (``numpy.flatnonzero``).

    >>> from workbench import tensor as T
    >>> a = T.dmatrix('a')
    >>> T.flatnonzero(a).eval({a: [[0.0, 1.0], [2.0, 0.0]]}).tolist()
    [1, 2]
    """
    return Nonzero(flat=True)(as_tensor_variable(a))


def nonzero_values(a: Any) -> TensorVariable:
    """The nonzero elements of ``a`` in C order, as a vector.

    >>> from workbench import tensor as T
    >>> a = T.dmatrix('a')
    >>> T.nonzero_values(a).eval({a: [[0.0, 1.0], [2.0, 0.0]]}).tolist()
    [1.0, 2.0]
    """
    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError(f"nonzero_values of a scalar ({a.type}) is not defined")
    from .math import neq

    return getitem(a, neq(a, 0))


__all__ = ["Subtensor", "IncSubtensor", "AdvancedSubtensor", "AdvancedSubtensor1",
           "AdvancedIncSubtensor", "AdvancedIncSubtensor1", "Nonzero", "Take",
           "advanced_subtensor1", "advanced_inc_subtensor1", "advanced_set_subtensor1",
           "set_subtensor", "inc_subtensor", "take", "choose", "nonzero", "flatnonzero",
           "nonzero_values"]
