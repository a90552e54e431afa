"""Products: :class:`Dot` (1-d and 2-d operands, what the BLAS rewrites GEMM/GEMV/GER match),
:class:`TensorDot` (any axes of any ndim), :class:`BatchedDot` and :class:`MatMul`.

Output dtypes are the ones NumPy's ``dot``/``matmul`` give: the operands' common dtype, with
no widening (int8 · int8 is int8, bool · bool is bool).

>>> from workbench import tensor as T
>>> a, b = T.bmatrix('a'), T.bvector('b')
>>> Dot()(a, b).type
TensorType(int8, vector)
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from ..graph import Apply, Op, Variable
from ..types import TensorType


@lru_cache(maxsize=1024)
def product_dtype(a_dtype: str, b_dtype: str) -> str:
    """The dtype ``numpy.dot`` (and ``matmul``, ``tensordot``) gives for these operands.

    >>> product_dtype('int8', 'int8'), product_dtype('int32', 'float32')
    ('int8', 'float64')
    """
    return np.dot(np.ones((1, 1), dtype=a_dtype), np.ones((1, 1), dtype=b_dtype)).dtype.name


def _as_tensors(a: object, b: object) -> tuple[Variable, Variable]:
    from ...tensor.basic import as_tensor_variable

    return as_tensor_variable(a), as_tensor_variable(b)


def _check_aligned(where: str, a: Variable, a_axis: int, b: Variable, b_axis: int) -> None:
    """Raise at build time when the contracted sizes are both known and differ."""
    sa, sb = a.type.shape[a_axis], b.type.shape[b_axis]
    if sa is not None and sb is not None and sa != sb:
        raise ValueError(f"{where}: {a.type} and {b.type} are not aligned: axis {a_axis} of "
                         f"the first has size {sa}, axis {b_axis} of the second has size {sb}")


def _store(output_storage: list, value: object, dtype: str) -> None:
    # np.dot of two vectors gives a NumPy scalar; outputs are always ndarrays
    output_storage[0][0] = np.asarray(value, dtype=dtype)


class Dot(Op):
    """``numpy.dot`` of 1-d or 2-d operands: vector·vector (a scalar), matrix·vector,
    vector·matrix, matrix·matrix.

    >>> from workbench import tensor as T
    >>> a, b = T.dmatrix('a'), T.dvector('b')
    >>> Dot()(a, b).eval({a: [[1, 2], [3, 4]], b: [1, 1]}).tolist()
    [3.0, 7.0]
    """

    __props__ = ()

    def make_node(self, a: object, b: object) -> Apply:
        a, b = _as_tensors(a, b)
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise TypeError(f"Dot takes 1-d or 2-d operands, got {a.type} and {b.type} (use "
                            f"T.dot, which handles every ndim)")
        _check_aligned("dot", a, a.ndim - 1, b, 0)
        shape = a.type.shape[:-1] + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(product_dtype(a.dtype, b.dtype), shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        a, b = inputs
        _store(output_storage, np.dot(a, b), node.outputs[0].dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        sa, sb = input_shapes
        return [tuple(sa[:-1]) + tuple(sb[1:])]


def normalize_tensordot_axes(axes: object, a_ndim: int, b_ndim: int
                             ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``numpy.tensordot``'s ``axes`` (an int n, or a pair of ints / lists of ints) as two
    tuples of non-negative axes of equal length, or a ValueError saying what is wrong.

    >>> normalize_tensordot_axes(1, 2, 3), normalize_tensordot_axes([[-1], [0]], 2, 2)
    (((1,), (0,)), ((1,), (0,)))
    """
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, (bool, np.bool_)):
        n = int(axes)
        if n < 0 or n > a_ndim or n > b_ndim:
            raise ValueError(f"tensordot: axes={n} needs 0 <= axes <= the ndim of both "
                             f"operands, which have ndim {a_ndim} and {b_ndim}")
        return tuple(range(a_ndim - n, a_ndim)), tuple(range(n))
    try:
        axes_a, axes_b = axes
    except (TypeError, ValueError):
        raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, got "
                         f"{axes!r}") from None
    pair = []
    for which, given, ndim in (("first", axes_a, a_ndim), ("second", axes_b, b_ndim)):
        items = list(given) if isinstance(given, (list, tuple, np.ndarray)) else [given]
        norm = []
        for ax in items:
            if isinstance(ax, (bool, np.bool_)) or not isinstance(ax, (int, np.integer)):
                raise ValueError(f"tensordot: axes {axes!r} holds {ax!r}, not an int")
            if not -ndim <= ax < ndim:
                raise ValueError(f"tensordot: axis {int(ax)} is out of range for the {which} "
                                 f"operand, of ndim {ndim}")
            norm.append(int(ax) % ndim)
        if len(set(norm)) != len(norm):
            raise ValueError(f"tensordot: axes {axes!r} repeat an axis of the {which} operand")
        pair.append(tuple(norm))
    if len(pair[0]) != len(pair[1]):
        raise ValueError(f"tensordot: axes {axes!r} name {len(pair[0])} axes of the first "
                         f"operand but {len(pair[1])} of the second")
    return pair[0], pair[1]


class TensorDot(Op):
    """``numpy.tensordot(a, b, axes)``: contract ``axes[0]`` of ``a`` with ``axes[1]`` of
    ``b``; the output has ``a``'s free axes, then ``b``'s, in order.

    >>> from workbench import tensor as T
    >>> a, b = T.dtensor3('a'), T.dmatrix('b')
    >>> TensorDot(((2,), (0,)))(a, b).type
    TensorType(float64, tensor3)
    """

    __props__ = ("axes",)

    def __init__(self, axes: tuple[Sequence[int], Sequence[int]]):
        axes_a, axes_b = axes
        self.axes = (tuple(int(i) for i in axes_a), tuple(int(i) for i in axes_b))
        if len(self.axes[0]) != len(self.axes[1]):
            raise ValueError(f"TensorDot: axes {axes!r} differ in length")

    def __str__(self) -> str:
        return f"TensorDot{{axes={self.axes}}}"

    __repr__ = __str__

    def _free(self, a_ndim: int, b_ndim: int) -> tuple[list[int], list[int]]:
        return ([i for i in range(a_ndim) if i not in self.axes[0]],
                [i for i in range(b_ndim) if i not in self.axes[1]])

    def make_node(self, a: object, b: object) -> Apply:
        a, b = _as_tensors(a, b)
        for which, var, axes in (("first", a, self.axes[0]), ("second", b, self.axes[1])):
            if any(not 0 <= ax < var.ndim for ax in axes) or len(set(axes)) != len(axes):
                raise ValueError(f"{self}: axes {axes} are not distinct axes of the {which} "
                                 f"operand {var.type}")
        for ax_a, ax_b in zip(*self.axes):
            _check_aligned("tensordot", a, ax_a, b, ax_b)
        free_a, free_b = self._free(a.ndim, b.ndim)
        shape = tuple(a.type.shape[i] for i in free_a) + tuple(b.type.shape[i] for i in free_b)
        return Apply(self, [a, b], [TensorType(product_dtype(a.dtype, b.dtype), shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        a, b = inputs
        result = np.tensordot(a, b, axes=(list(self.axes[0]), list(self.axes[1])))
        _store(output_storage, result, node.outputs[0].dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        sa, sb = input_shapes
        free_a, free_b = self._free(len(sa), len(sb))
        return [tuple(sa[i] for i in free_a) + tuple(sb[i] for i in free_b)]


class BatchedDot(Op):
    """Theano's batched dot of operands of ndim >= 2: ``out[i] = numpy.dot(a[i], b[i])``
    for each ``i`` along the first (batch) axis.

    >>> from workbench import tensor as T
    >>> a, b = T.dtensor3('a'), T.dtensor3('b')
    >>> BatchedDot()(a, b).type
    TensorType(float64, tensor3)
    """

    __props__ = ()

    @staticmethod
    def _contracted_b_axis(b_ndim: int) -> int:
        # b[i] is contracted as numpy.dot does: its only axis, else its second-to-last
        return 1 if b_ndim == 2 else b_ndim - 2

    def make_node(self, a: object, b: object) -> Apply:
        a, b = _as_tensors(a, b)
        if a.ndim < 2 or b.ndim < 2:
            raise TypeError(f"BatchedDot takes operands of ndim >= 2, got {a.type} and "
                            f"{b.type} (use T.batched_dot, which handles vectors)")
        sa, sb = a.type.shape[0], b.type.shape[0]
        if sa is not None and sb is not None and sa != sb:
            raise ValueError(f"batched_dot: {a.type} and {b.type} have different batch sizes "
                             f"{sa} and {sb}")
        b_axis = self._contracted_b_axis(b.ndim)
        _check_aligned("batched_dot", a, a.ndim - 1, b, b_axis)
        batch = sa if sa is not None else sb
        shape = (batch,) + a.type.shape[1:-1] + tuple(
            s for i, s in enumerate(b.type.shape) if i not in (0, b_axis))
        return Apply(self, [a, b], [TensorType(product_dtype(a.dtype, b.dtype), shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        a, b = inputs
        out_type = node.outputs[0].type
        if a.shape[0] != b.shape[0]:
            raise ValueError(f"batched_dot: batch sizes differ: {a.shape} and {b.shape}")
        b_axis = self._contracted_b_axis(b.ndim)
        if a.shape[-1] != b.shape[b_axis]:
            raise ValueError(f"batched_dot: shapes {a.shape} and {b.shape} are not aligned "
                             f"(axis {a.ndim - 1} against axis {b_axis})")
        if a.ndim == 3 and b.ndim == 3:
            result = np.matmul(a, b)
        else:
            shape = (a.shape[0],) + a.shape[1:-1] + tuple(
                s for i, s in enumerate(b.shape) if i not in (0, b_axis))
            result = np.empty(shape, dtype=out_type.dtype)
            for i in range(a.shape[0]):
                result[i] = np.dot(a[i], b[i])
        _store(output_storage, result, out_type.dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        sa, sb = input_shapes
        b_axis = self._contracted_b_axis(len(sb))
        return [(sa[0],) + tuple(sa[1:-1]) + tuple(
            s for i, s in enumerate(sb) if i not in (0, b_axis))]


def _broadcast_dim(a: int | None, b: int | None) -> int | None:
    if a == 1:
        return b
    if b == 1 or a == b:
        return a
    if a is not None and b is not None:
        raise ValueError(f"sizes {a} and {b} cannot be broadcast together")
    return a if a is not None else b


class MatMul(Op):
    """``numpy.matmul`` (the ``@`` of NumPy) for operands of ndim >= 1: a stack of matrix
    products over the leading axes, which broadcast.

    >>> from workbench import tensor as T
    >>> a, b = T.dtensor3('a'), T.dmatrix('b')
    >>> MatMul()(a, b).type
    TensorType(float64, tensor3)
    """

    __props__ = ()

    def make_node(self, a: object, b: object) -> Apply:
        a, b = _as_tensors(a, b)
        if a.ndim < 1 or b.ndim < 1:
            raise ValueError(f"matmul: operands must have at least 1 dimension, got {a.type} "
                             f"and {b.type}")
        _check_aligned("matmul", a, a.ndim - 1, b, 0 if b.ndim == 1 else b.ndim - 2)
        batch_a, batch_b = a.type.shape[:-2], b.type.shape[:-2]
        n = max(len(batch_a), len(batch_b))
        batch_a = (1,) * (n - len(batch_a)) + batch_a
        batch_b = (1,) * (n - len(batch_b)) + batch_b
        try:
            batch = tuple(_broadcast_dim(x, y) for x, y in zip(batch_a, batch_b))
        except ValueError as exc:
            raise ValueError(f"matmul: the batch axes of {a.type} and {b.type} do not "
                             f"broadcast: {exc}") from None
        rows = a.type.shape[-2:-1] if a.ndim >= 2 else ()
        cols = b.type.shape[-1:] if b.ndim >= 2 else ()
        shape = batch + rows + cols
        return Apply(self, [a, b], [TensorType(product_dtype(a.dtype, b.dtype), shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        a, b = inputs
        _store(output_storage, np.matmul(a, b), node.outputs[0].dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor.math import eq, switch

        sa, sb = input_shapes
        a_static = node.inputs[0].type.shape
        b_static = node.inputs[1].type.shape
        nb_a, nb_b = max(len(sa) - 2, 0), max(len(sb) - 2, 0)
        n = max(nb_a, nb_b)
        batch = []
        for k in range(n):
            # the k-th batch axis of the result; an operand with fewer batch axes lacks it
            ia, ib = k - (n - nb_a), k - (n - nb_b)
            if ia < 0 or (ib >= 0 and a_static[ia] == 1):
                batch.append(sb[ib])
            elif ib < 0 or b_static[ib] == 1 or (
                    b_static[ib] is not None and a_static[ia] == b_static[ib]):
                batch.append(sa[ia])
            else:
                batch.append(switch(eq(sa[ia], 1), sb[ib], sa[ia]))
        rows = (sa[-2],) if len(sa) >= 2 else ()
        cols = (sb[-1],) if len(sb) >= 2 else ()
        return [tuple(batch) + rows + cols]


__all__ = ["Dot", "TensorDot", "BatchedDot", "MatMul", "product_dtype",
           "normalize_tensordot_axes"]
