"""Ops that pass their input through unchanged but change the gradient that flows back.

They compute the identity (a view of the input); the rewriting passes drop them from compiled
graphs. Only ``grad`` sees them.

>>> from workbench import tensor as T
>>> from workbench.gradient import grad
>>> x = T.dscalar('x')
>>> float(grad(x * zero_grad(x), x).eval({x: 3.0}))
3.0
"""
from __future__ import annotations

from typing import Any

from ..graph import Apply, Op, Variable
from ..gradtypes import disconnected_type


class GradientFlowOp(Op):
    """Identity in the forward direction; subclasses set the gradient."""

    view_map = {0: [0]}

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = inputs[0]

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [input_shapes[0]]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [eval_points[0]]


class ConsiderConstant(GradientFlowOp):
    """No gradient flows back: the input is treated as a constant (gradient zero)."""

    def L_op(self, inputs, outputs, output_grads):
        from ...tensor.alloc import zeros_like

        return [zeros_like(inputs[0])]


class ZeroGrad(ConsiderConstant):
    """Theano's ``zero_grad``: the gradient through it is zero (also for Rop)."""

    def R_op(self, inputs: list, eval_points: list) -> list:
        from ...tensor.alloc import zeros_like

        return [zeros_like(inputs[0])]


class DisconnectedGrad(GradientFlowOp):
    """The output counts as not depending on the input: ``grad`` reports it disconnected."""

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]

    def L_op(self, inputs, outputs, output_grads):
        return [disconnected_type()]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None]


class GradClip(GradientFlowOp):
    """The gradient through it is clipped elementwise to ``[lower, upper]``."""

    __props__ = ("lower", "upper")

    def __init__(self, lower: float, upper: float):
        if not lower <= upper:
            raise ValueError(f"grad_clip: lower bound {lower} is above upper bound {upper}")
        self.lower = float(lower)
        self.upper = float(upper)

    def L_op(self, inputs, outputs, output_grads):
        from ...tensor.math import clip

        return [clip(output_grads[0], self.lower, self.upper)]


class GradScale(GradientFlowOp):
    """The gradient through it is multiplied by ``multiplier``."""

    __props__ = ("multiplier",)

    def __init__(self, multiplier: float):
        self.multiplier = float(multiplier)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * self.multiplier]


_consider_constant = ConsiderConstant()
_zero_grad = ZeroGrad()
_disconnected_grad = DisconnectedGrad()


def consider_constant(x: Any) -> Variable:
    """``x``, with no gradient flowing back through it (Theano's ``consider_constant``)."""
    return _consider_constant(x)


def zero_grad(x: Any) -> Variable:
    """``x``, with a zero gradient with respect to everything it depends on.

    >>> from workbench import tensor as T
    >>> x = T.dscalar('x')
    >>> from workbench.gradient import grad
    >>> float(grad(zero_grad(x) ** 2 + x, x).eval({x: 5.0}))
    1.0
    """
    return _zero_grad(x)


def disconnected_grad(x: Any) -> Variable:
    """``x``, seen by ``grad`` as disconnected from what it depends on: asking for the
    gradient through it alone raises DisconnectedInputError (or gives zeros with
    ``disconnected_inputs='ignore'``)."""
    return _disconnected_grad(x)


def grad_clip(x: Any, lower_bound: float, upper_bound: float) -> Variable:
    """``x``, with the gradient flowing back through it clipped to the bounds.

    >>> from workbench import tensor as T
    >>> from workbench.gradient import grad
    >>> x = T.dscalar('x')
    >>> float(grad(grad_clip(x, -1, 1) * 10, x).eval({x: 0.0}))
    1.0
    """
    return GradClip(lower_bound, upper_bound)(x)


def grad_scale(x: Any, multiplier: float) -> Variable:
    """``x``, with the gradient flowing back through it multiplied by ``multiplier``.

    >>> from workbench import tensor as T
    >>> from workbench.gradient import grad
    >>> x = T.dscalar('x')
    >>> float(grad(grad_scale(x, 0.5) ** 2, x).eval({x: 3.0}))
    3.0
    """
    return GradScale(multiplier)(x)
