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


def _bilinear_tangent(op: Op, inputs: list, eval_points: list) -> Variable | None:
    """The tangent of a product bilinear in its two operands: ``op(da, b) + op(a, db)``,
    leaving out the terms whose operand has no tangent."""
    a, b = inputs
    da, db = eval_points
    terms = ([op(da, b)] if da is not None else []) + ([op(a, db)] if db is not None else [])
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else terms[0] + terms[1]


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

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """For ``out = a·b``: ``ga = g·bᵀ`` and ``gb = aᵀ·g``, with a vector operand or
        output standing in for a row or column (so two vectors give ``g*b`` and ``g*a``)."""
        a, b = inputs
        (g,) = output_grads
        if a.ndim == 1 and b.ndim == 1:
            return [g * b, g * a]
        if a.ndim == 2 and b.ndim == 1:
            return [_dot(g.dimshuffle(0, "x"), b.dimshuffle("x", 0)), _dot(g, a)]
        if a.ndim == 1 and b.ndim == 2:
            return [_dot(b, g), _dot(a.dimshuffle(0, "x"), g.dimshuffle("x", 0))]
        return [_dot(g, b.T), _dot(a.T, g)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Bilinear: ``d(a·b) = da·b + a·db``."""
        return [_bilinear_tangent(self, inputs, eval_points)]


_dot = Dot()


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

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """Each operand's gradient contracts ``g`` with the other operand over that
        operand's free axes; a transpose then puts the axes back in the operand's order."""
        from ...tensor.shape import transpose

        a, b = inputs
        (g,) = output_grads
        axes_a, axes_b = self.axes
        free_a, free_b = self._free(a.ndim, b.ndim)
        n_free_a = len(free_a)
        # g · b over b's free axes: a's free axes, then a's contracted ones in the order of
        # the b axes they pair with (tensordot keeps the remaining axes in order)
        ga = TensorDot((tuple(range(n_free_a, g.ndim)), tuple(free_b)))(g, b)
        order_b = sorted(axes_b)
        pos_a = [free_a.index(k) if k in free_a
                 else n_free_a + order_b.index(axes_b[axes_a.index(k)]) for k in range(a.ndim)]
        # a · g over a's free axes: b's contracted axes (in the order of the a axes they pair
        # with), then b's free axes
        gb = TensorDot((tuple(free_a), tuple(range(n_free_a))))(a, g)
        order_a = sorted(axes_a)
        pos_b = [len(axes_a) + free_b.index(k) if k in free_b
                 else order_a.index(axes_a[axes_b.index(k)]) for k in range(b.ndim)]
        return [transpose(ga, pos_a), transpose(gb, pos_b)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Bilinear: ``tensordot(da, b) + tensordot(a, db)``."""
        return [_bilinear_tangent(self, inputs, eval_points)]


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

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """Batch by batch, the gradients of ``dot``: ``ga[i] = g[i]·b[i]ᵀ`` and
        ``gb[i] = a[i]ᵀ·g[i]``, generalised to N-d batches with ``batched_tensordot``."""
        from ...tensor.products import batched_tensordot

        a, b = inputs
        (g,) = output_grads
        if a.ndim == 2 and b.ndim == 2:
            # out[i] = a[i]·b[i], a scalar per batch
            g_col = g.dimshuffle(0, "x")
            return [g_col * b, g_col * a]
        if a.ndim == 3 and b.ndim == 3:
            return [self(g, b.dimshuffle(0, 2, 1)), self(a.dimshuffle(0, 2, 1), g)]
        b_axis = self._contracted_b_axis(b.ndim)
        b_rest = [k for k in range(1, b.ndim) if k != b_axis]
        n_a = a.ndim - 2  # a's free axes, 1 .. a.ndim - 2, come first in out[i]
        ga = batched_tensordot(g, b, [[1 + n_a + i for i in range(len(b_rest))], b_rest])
        a_free = list(range(1, 1 + n_a))
        gb = batched_tensordot(a, g, [a_free, a_free])  # (batch, contracted, b_rest...)
        perm = [0] * b.ndim
        perm[b_axis] = 1
        for i, k in enumerate(b_rest):
            perm[k] = 2 + i
        return [ga, gb.dimshuffle(*perm)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Bilinear: ``batched_dot(da, b) + batched_dot(a, db)``."""
        return [_bilinear_tangent(self, inputs, eval_points)]


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

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """``ga = g @ bᵀ`` and ``gb = aᵀ @ g`` on operands promoted as ``numpy.matmul``
        does (a vector ``a`` is a row, a vector ``b`` a column), each summed back over
        the batch axes its operand was broadcast along."""
        from ...tensor.products import matmul
        from ...tensor.shape import expand_dims, squeeze, swapaxes

        a, b = inputs
        (g,) = output_grads
        a2 = a.dimshuffle("x", 0) if a.ndim == 1 else a
        b2 = b.dimshuffle(0, "x") if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:  # put back the row axis matmul dropped
            g2 = expand_dims(g2, g2.ndim - 1 if b.ndim >= 2 else g2.ndim)
        if b.ndim == 1:  # and the column axis
            g2 = expand_dims(g2, g2.ndim)
        ga = _sum_to_batch_shape(matmul(g2, swapaxes(b2, -1, -2)), a2)
        gb = _sum_to_batch_shape(matmul(swapaxes(a2, -1, -2), g2), b2)
        return [squeeze(ga, 0) if a.ndim == 1 else ga,
                squeeze(gb, -1) if b.ndim == 1 else gb]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Bilinear: ``matmul(da, b) + matmul(a, db)``."""
        return [_bilinear_tangent(self, inputs, eval_points)]


def _sum_to_batch_shape(full: Variable, target: Variable) -> Variable:
    """``full`` (a stack of matrices over the broadcast batch axes) summed back to the
    batch axes of ``target``: the leading axes ``target`` lacks are summed away, and each
    batch axis where ``target`` has size 1 is summed keeping the axis.

    A batch axis whose size is not known before run time may be 1 (broadcast) or the full
    size; reshaping it to ``(t, f // t)`` and summing the second part covers both cases.
    """
    from ...tensor.math import int_div, maximum
    from ...tensor.reduce import sum as tsum
    from ...tensor.shape import reshape, shape_i

    lead = full.ndim - target.ndim
    if lead:
        full = tsum(full, axis=tuple(range(lead)))
    batch = range(target.ndim - 2)
    static_ones = [d for d in batch if target.type.shape[d] == 1 and full.type.shape[d] != 1]
    if static_ones:
        full = tsum(full, axis=tuple(static_ones), keepdims=True)
    unknown = [d for d in batch if target.type.shape[d] is None and full.type.shape[d] != 1]
    if not unknown:
        return full
    sizes: list = []
    summed: list[int] = []
    for d in range(full.ndim):
        f = shape_i(full, d)
        if d in unknown:
            t = shape_i(target, d)
            sizes += [t, int_div(f, maximum(t, 1))]
            summed.append(len(sizes) - 1)
        else:
            sizes.append(f)
    return tsum(reshape(full, sizes), axis=tuple(summed))


__all__ = ["Dot", "TensorDot", "BatchedDot", "MatMul", "product_dtype",
           "normalize_tensordot_axes"]
