"""FusedReduce: an elementwise expression and the reduction of its result, as one op.

The fusion pass makes it from ``CAReduce(Elemwise(f)(x, y, ...))`` when nothing else reads
the elementwise result: ``sum(exp(x))`` becomes ``FusedReduce{Sum, exp}(x)``. The NumPy
reference (``perform``) still builds the elementwise result and reduces it; a compiled backend
can do both in one pass over memory, never storing the intermediate array.

>>> import numpy as np
>>> from workbench import tensor as T
>>> from workbench.compiler.ops import scalar
>>> from workbench.compiler.ops.reduce import Sum
>>> x = T.dvector('x')
>>> y = FusedReduce(scalar.exp, Sum())(x)
>>> y.type, float(y.eval({x: [0.0, 0.0]}))
(TensorType(float64, scalar), 2.0)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Apply, Op, Variable
from .elemwise import Elemwise
from .reduce import _LOGICAL_OPS, CAReduce
from .scalar import Composite, ScalarOp


def as_composite(scalar_op: ScalarOp) -> Composite:
    """``scalar_op`` as a :class:`Composite` (itself when it is one already).

    >>> from workbench.compiler.ops import scalar
    >>> str(as_composite(scalar.exp))
    'Composite{exp(i0)}'
    """
    if isinstance(scalar_op, Composite):
        return scalar_op
    return Composite(((scalar_op, tuple(range(scalar_op.nin))),), scalar_op.nin)


class FusedReduce(Op):
    """``reduce_op`` (a :class:`~workbench.compiler.ops.reduce.CAReduce`: Sum, Prod, Max,
    Min, All, Any, ...) applied to ``Elemwise(scalar_op)`` of the inputs.

    The inputs broadcast as the elementwise op's do; the output is what ``reduce_op`` gives
    for the elementwise result (same dtype, accumulator and axes).
    """

    __props__ = ("scalar_op", "reduce_op")

    def __init__(self, scalar_op: ScalarOp, reduce_op: CAReduce):
        if not isinstance(reduce_op, CAReduce):
            raise TypeError(f"FusedReduce needs a CAReduce, got {reduce_op!r}")
        self.scalar_op = as_composite(scalar_op)
        self.reduce_op = reduce_op

    def __str__(self) -> str:
        return f"FusedReduce{{{self.reduce_op}, {self.scalar_op}}}"

    __repr__ = __str__

    @property
    def nin(self) -> int:
        return self.scalar_op.nin

    def make_node(self, *inputs: Any) -> Apply:
        elem = Elemwise(self.scalar_op).make_node(*inputs)
        inner = self.reduce_op.make_node(elem.outputs[0])
        if inner.inputs[0] is not elem.outputs[0]:
            # All/Any compare a non-bool input with zero first: not a plain fold of it
            raise TypeError(f"{self.reduce_op} cannot fold the {elem.outputs[0].dtype} "
                            f"result of {self.scalar_op} directly")
        if inner.op != self.reduce_op:
            # the reduce op resolved its dtypes for this input: keep the concrete one, so
            # that equal work merges (as CAReduce itself does)
            return FusedReduce(self.scalar_op, inner.op).make_node(*inputs)
        node = Apply(self, elem.inputs, [inner.outputs[0].type()])
        node.tag.fused_reduce_inner = inner
        return node

    def _inner(self, node: Apply) -> Apply:
        """The reduction's own node over a stand-in for the elementwise result (its
        ``perform`` reads the dtypes from it); built once per node."""
        inner = node.tag.get("fused_reduce_inner")
        if inner is None:
            elem = Elemwise(self.scalar_op).make_node(*node.inputs)
            inner = self.reduce_op.make_node(elem.outputs[0].type())
            node.tag.fused_reduce_inner = inner
        return inner

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        inner = self._inner(node)
        dtype = inner.inputs[0].type.numpy_dtype
        value = self.scalar_op.impl(*inputs)
        # as Elemwise.perform: ufuncs give NumPy scalars for 0-d inputs, and the declared
        # dtype of the elementwise result is what the reduction sees
        if type(value) is not np.ndarray or value.dtype != dtype:
            value = np.asarray(value, dtype=dtype)
        self.reduce_op.perform(inner, [value], output_storage)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor.shape import broadcast_shape_symbolic

        inner = self._inner(node)
        elem_shape = broadcast_shape_symbolic(input_shapes, inner.inputs[0].type.shape)
        return self.reduce_op.infer_shape(inner, [elem_shape])

    # -- differentiation: through the unfused graph ---------------------------------------
    def unfused(self, inputs: list[Variable]) -> Variable:
        """The same value as an Elemwise followed by the reduction (what the fusion pass
        replaced), built on ``inputs``.

        >>> from workbench import tensor as T
        >>> from workbench.compiler.ops import scalar
        >>> from workbench.compiler.ops.reduce import Max
        >>> x = T.dvector('x')
        >>> str(FusedReduce(scalar.neg, Max()).unfused([x]).owner.op)
        'Max'
        """
        return self.reduce_op(Elemwise(self.scalar_op)(*inputs))

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        connected = self.reduce_op.scalar_op not in _LOGICAL_OPS
        return [[connected] for _ in node.inputs]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """The gradient of the unfused graph (the elementwise op's, then the reduction's)."""
        from ..grad import Lop
        from ..gradtypes import disconnected_type

        if self.reduce_op.scalar_op in _LOGICAL_OPS:
            return [disconnected_type() for _ in inputs]
        return Lop(self.unfused(list(inputs)), list(inputs), output_grads[0],
                   disconnected_inputs="ignore")

    def R_op(self, inputs: list, eval_points: list) -> list:
        """The tangent of the unfused graph."""
        from ..grad import Rop

        pairs = [(x, t) for x, t in zip(inputs, eval_points) if t is not None]
        if not pairs:
            return [None]
        out = Rop(self.unfused(list(inputs)), [x for x, _ in pairs], [t for _, t in pairs])
        return [out[0] if isinstance(out, list) else out]


__all__ = ["FusedReduce", "as_composite"]
