"""The special values an op's gradient can be, besides an ordinary tensor.

An op's ``L_op`` returns one entry per input. Besides a tensor of the input's shape, an entry
can say that the output does not depend on that input at all (:func:`disconnected_type`), or
that the gradient exists mathematically but is undefined or not implemented
(:func:`grad_undefined`, :func:`grad_not_implemented`). These are variables of special types
so that they flow through the same code paths; :func:`workbench.gradient.grad` turns them into
zeros, ``None`` or a clear error.

>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> isinstance(disconnected_type().type, DisconnectedType)
True
"""
from __future__ import annotations

from .graph import Apply, Op, Variable
from .types import Type


class DisconnectedType(Type):
    """The type of a gradient that does not exist because the output ignores the input."""

    def filter(self, value, strict=False, allow_downcast=None):
        raise AssertionError("a DisconnectedType value cannot be computed")

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __str__(self) -> str:
        return "DisconnectedType"


class NullType(Type):
    """The type of a gradient that is undefined or not implemented; ``why`` says which."""

    def __init__(self, why: str = ""):
        self.why = why

    def filter(self, value, strict=False, allow_downcast=None):
        raise TypeError(f"a null gradient cannot be computed: {self.why}")

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.why == other.why

    def __hash__(self) -> int:
        return hash((type(self), self.why))

    def __str__(self) -> str:
        return "NullType"


def disconnected_type() -> Variable:
    """A gradient entry meaning "this output does not depend on that input"."""
    return Variable(DisconnectedType())


def _null(kind: str, op: Op, x_pos: int, x: Variable, comment: str) -> Variable:
    why = f"the gradient of {op} with respect to input {x_pos} ({x}) is {kind}"
    if comment:
        why += f": {comment}"
    return Variable(NullType(why))


def grad_undefined(op: Op, x_pos: int, x: Variable, comment: str = "") -> Variable:
    """A gradient entry for an input where the derivative is mathematically undefined."""
    return _null("undefined", op, x_pos, x, comment)


def grad_not_implemented(op: Op, x_pos: int, x: Variable, comment: str = "") -> Variable:
    """A gradient entry for an input whose derivative this library does not implement."""
    return _null("not implemented", op, x_pos, x, comment)


def is_disconnected(var: Variable | None) -> bool:
    return var is None or isinstance(var.type, DisconnectedType)


def is_null(var: Variable | None) -> bool:
    return var is not None and isinstance(var.type, NullType)


class NullTypeGradError(TypeError):
    """A gradient asked for is undefined or not implemented."""


class DisconnectedInputError(ValueError):
    """``grad`` was asked for a variable the cost does not depend on."""


def connection_pattern(node: Apply) -> list[list[bool]]:
    """For each input, for each output: whether the output depends on the input.

    Ops say so with a ``connection_pattern(node)`` method; the default is "all connected".
    """
    method = getattr(node.op, "connection_pattern", None)
    if method is not None:
        return method(node)
    return [[True] * len(node.outputs) for _ in node.inputs]
