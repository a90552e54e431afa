"""Arithmetic identities with a constant operand: ``x * 1``, ``x + 0``, ``x - 0``, ``x / 1``,
``--x``, ``x - x``, ``0 - x``, ``x * 0`` and powers by the constants 0, 1, 2, 1/2, -1, -1/2.

Each keeps the dtype and the broadcast shape of the expression it replaces: the kept operand
is cast to the result's dtype (``int8 * 1.0`` is float64) and given its number of dimensions;
a constant that is not a single element is dropped only where the kept operand provably has
every one of its dimensions. ``x - x`` and ``x * 0`` become zeros of the shape of the result.

``x * 0 -> 0`` is done for integer and bool ``x`` only: for floats ``nan * 0`` and
``inf * 0`` are NaN, and compiled functions give NumPy's values (the test suite checks them
with NaN and inf inputs). Theano's behaviour, zeros regardless, is the optional rewrite
``local_mul_by_zero_ignoring_nan`` (``Mode().including('local_mul_by_zero_ignoring_nan')``).
``x - x -> 0`` does follow Theano and ignores that ``inf - inf`` is NaN, as the cancellation
of equal terms in sums and products does (see :mod:`.canonicalize_algebra`).

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> f = workbench.function([x], (x * 1 + 0) ** 2)
>>> [str(n.op) for n in f.maker.fgraph.toposort()]
['Elemwise{sqr}']
"""
from __future__ import annotations

import numpy as np

from ..fgraph import FunctionGraph
from ..graph import Apply, Constant, Variable
from ..ops import scalar
from .canonicalize_match import constant_scalar, covered, filled, is_float, like, scalar_op_name
from .db import node_rewriter, register


def _all_equal_constant(var: Variable, value: float) -> bool:
    """Whether ``var`` is a constant whose every element equals ``value``."""
    if not isinstance(var, Constant):
        return False
    data = getattr(var, "data", None)
    return isinstance(data, np.ndarray) and data.size > 0 and data.dtype.kind in "biufc" \
        and bool(np.all(data == value))


def _drop_neutral(fgraph: FunctionGraph, node: Apply, keep: Variable, drop: Variable
                  ) -> list[Variable] | None:
    """``keep`` in place of ``node``'s output, when ``drop`` cannot widen the broadcast."""
    if not covered(fgraph, [keep], drop):
        return None
    return [like(keep, node.outputs[0])]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([scalar.mul])
def local_mul_by_one(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``x * 1 -> x`` and ``1 * x -> x``."""
    a, b = node.inputs
    if _all_equal_constant(b, 1):
        return _drop_neutral(fgraph, node, a, b)
    if _all_equal_constant(a, 1):
        return _drop_neutral(fgraph, node, b, a)
    return None


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([scalar.add, scalar.sub])
def local_add_zero(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``x + 0 -> x``, ``0 + x -> x`` and ``x - 0 -> x``."""
    a, b = node.inputs
    if node.outputs[0].dtype == "bool":
        return None  # bool + bool is logical or: there 0 is False, still neutral, but rare
    if _all_equal_constant(b, 0):
        return _drop_neutral(fgraph, node, a, b)
    if scalar_op_name(node) == "add" and _all_equal_constant(a, 0):
        return _drop_neutral(fgraph, node, b, a)
    return None


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([scalar.true_div, scalar.int_div])
def local_div_by_one(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``x / 1 -> x``; ``x // 1 -> x`` for integers (for floats it is ``floor(x)``)."""
    a, b = node.inputs
    if not _all_equal_constant(b, 1):
        return None
    if scalar_op_name(node) == "int_div" and a.type.numpy_dtype.kind not in "iu":
        return None
    return _drop_neutral(fgraph, node, a, b)


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([scalar.neg])
def local_neg_neg(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``-(-x) -> x`` (exact for integers too: two's complement negation is an
    involution)."""
    inner = node.inputs[0]
    if scalar_op_name(inner) != "neg":
        return None
    return [like(inner.owner.inputs[0], node.outputs[0])]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([scalar.sub])
def local_sub_self(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``x - x -> zeros`` of the shape of the result (NaN and inf ignored, as Theano)."""
    a, b = node.inputs
    if a is not b:
        return None
    zeros = filled(fgraph, 0, node.outputs[0])
    return None if zeros is None else [zeros]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([scalar.sub])
def local_zero_sub(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``0 - x -> -x``."""
    from ...tensor.basic import cast
    from ...tensor.math import neg

    a, b = node.inputs
    out = node.outputs[0]
    if not _all_equal_constant(a, 0) or not covered(fgraph, [b], a) or out.dtype == "bool":
        return None
    return [like(neg(cast(b, out.dtype)), out)]


def _times_zero(fgraph: FunctionGraph, node: Apply, floats_too: bool) -> list | None:
    a, b = node.inputs
    if _all_equal_constant(b, 0):
        other = a
    elif _all_equal_constant(a, 0):
        other = b
    else:
        return None
    if not floats_too and other.type.numpy_dtype.kind not in "biu":
        return None
    zeros = filled(fgraph, 0, node.outputs[0])
    return None if zeros is None else [zeros]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([scalar.mul])
def local_mul_by_zero(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``x * 0 -> zeros`` of the broadcast shape of both operands, for an integer or bool
    ``x`` (which holds no NaN or inf)."""
    return _times_zero(fgraph, node, floats_too=False)


@register("canonicalize", "optional")
@node_rewriter([scalar.mul])
def local_mul_by_zero_ignoring_nan(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``x * 0 -> zeros`` for a float ``x`` too, as Theano does: ``nan * 0`` and
    ``inf * 0`` become 0 instead of NaN. Off by default (NumPy gives NaN); turn it on with
    ``Mode().including('local_mul_by_zero_ignoring_nan')``."""
    return _times_zero(fgraph, node, floats_too=True)


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([scalar.pow])
def local_pow_canonicalize(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``x ** 1 -> x`` and ``x ** 0 -> ones`` (NumPy gives 1 for ``nan ** 0`` too)."""
    x, p = node.inputs
    out = node.outputs[0]
    value = constant_scalar(p)
    if value is None:
        return None
    if value == 1:
        return [like(x, out)]
    if value == 0:
        ones = filled(fgraph, 1, out)
        return None if ones is None else [ones]
    return None


@register("canonicalize", "fast_run")
@node_rewriter([scalar.pow])
def local_pow_special_exponent(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``x ** 2 -> sqr(x)``, ``x ** 0.5 -> sqrt(x)``, ``x ** -1 -> 1 / x`` and
    ``x ** -0.5 -> 1 / sqrt(x)``; ``x`` is first cast to the result's dtype, so the square
    of an int8 raised to a float power does not wrap around. Integer results only take the
    square (NumPy refuses integers to negative powers)."""
    from ...tensor.basic import cast
    from ...tensor.math import inv, sqr, sqrt

    x, p = node.inputs
    out = node.outputs[0]
    value = constant_scalar(p)
    if value is None or isinstance(value, complex) or value not in (2, 0.5, -1, -0.5):
        return None
    if value != 2 and not is_float(out.dtype):
        return None
    if out.dtype == "bool":
        return None
    xo = cast(x, out.dtype)
    if value == 2:
        result = sqr(xo)
    elif value == 0.5:
        result = sqrt(xo)
    elif value == -1:
        result = inv(xo)
    else:
        result = inv(sqrt(xo))
    return [like(result, out)]


__all__ = ["local_mul_by_one", "local_add_zero", "local_div_by_one", "local_neg_neg",
           "local_sub_self", "local_zero_sub", "local_mul_by_zero",
           "local_mul_by_zero_ignoring_nan", "local_pow_canonicalize",
           "local_pow_special_exponent"]
