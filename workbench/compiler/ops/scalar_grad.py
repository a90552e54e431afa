"""Derivative rules of the scalar ops: one :class:`DerivativeRule` per row of the scalar table.

A rule gives, for one application ``out = f(x_0, x_1, ...)`` lifted over tensors, the partial
derivative of ``f`` with respect to each input, as tensor expressions (or plain numbers) that
broadcast against the output. One set of partials serves both directions:

- reverse mode (``Elemwise.L_op``): ``g_i = gz * ∂f/∂x_i``, summed back to the shape of ``x_i``;
- forward mode (``Elemwise.R_op``): ``J·u = Σ_i ∂f/∂x_i * u_i``.

A partial is a tensor, a Python number (``0`` means the input gets zeros, ``1`` passes the
gradient through unchanged), or :class:`Undefined` / :class:`NotImplementedGrad` when the
derivative is undefined or not implemented. A rule without partials (:data:`DISCONNECTED`)
says the output does not depend differentiably on any input at all (comparisons, bit
operations, ``isnan``); Elemwise turns that into its connection pattern.

Complex numbers follow Theano's convention: the gradient of a real cost ``C`` with respect to
``z = x + iy`` is ``∂C/∂x + i ∂C/∂y``. For a rule marked ``complex_ok`` the partial ``p``
of a complex input is the one for which ``df = p dz`` (holomorphic ``f``) or
``df = Re(p dz)`` (``f`` real-valued: ``real``, ``imag``, ``abs``, ``angle``); the gradient is
then ``gz * conj(p)`` (its real part for a real input) and the tangent ``p * u`` (its real part
for a real output). ``conj`` is the one anti-holomorphic op: gradient ``conj(gz)``, tangent
``conj(u)``. Rules not marked ``complex_ok`` are not implemented for complex inputs.

>>> from workbench import tensor as T
>>> x = T.dscalar('x')
>>> (d_sin,) = RULES['sin'].partials([x], T.sin(x))
>>> float(d_sin.eval({x: 0.0}))
1.0
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ...tensor import math as tm
from ..graph import Variable
from ..types import COMPLEX_DTYPES
from . import scalar as ps


@dataclass(frozen=True)
class Undefined:
    """A partial derivative that does not exist mathematically; ``why`` says why."""

    why: str


@dataclass(frozen=True)
class NotImplementedGrad:
    """A partial derivative that exists but that this library does not compute."""

    why: str


#: a partial derivative: a tensor, a Python number, or one of the two markers above
Partial = Any
PartialsFn = Callable[[Sequence[Variable], Variable], list]


@dataclass(frozen=True)
class DerivativeRule:
    """How to differentiate one scalar op.

    ``partials(inputs, output)`` gives one :data:`Partial` per input; ``None`` means the
    output is disconnected from every input. ``complex_ok``: the partials are also valid for
    complex inputs in the sense of the module docstring. ``conjugating``: the op is ``conj``.
    """

    partials: PartialsFn | None
    complex_ok: bool = False
    conjugating: bool = False

    @property
    def connected(self) -> bool:
        return self.partials is not None


DISCONNECTED = DerivativeRule(None)
LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0


def is_complex(var: Variable) -> bool:
    return var.type.dtype in COMPLEX_DTYPES


def _mask(cond: Variable) -> Variable:
    """``cond`` as a bool tensor (``switch`` takes any nonzero value as true). A bool mask
    times a gradient keeps the gradient's dtype, where a 0./1. float mask would upcast."""
    return cond if cond.dtype == "bool" else tm.neq(cond, 0)


def _rule(fn: PartialsFn, complex_ok: bool = False) -> DerivativeRule:
    return DerivativeRule(fn, complex_ok=complex_ok)


def _unary(fn: Callable[[Variable, Variable], Partial], complex_ok: bool = False
           ) -> DerivativeRule:
    """A rule for a one-input op from ``fn(x, out) -> ∂out/∂x``."""
    return DerivativeRule(lambda xs, out: [fn(xs[0], out)], complex_ok=complex_ok)


def _zero_partials(xs: Sequence[Variable], out: Variable) -> list:
    # piecewise-constant ops (floor, round, sgn, integer division): zero almost everywhere,
    # and Theano gives their float inputs zero gradients rather than none
    return [0] * len(xs)


def _true_div(xs: Sequence[Variable], out: Variable) -> list:
    a, b = xs
    return [tm.true_div(1.0, b), tm.neg(tm.true_div(out, b))]


def _pow(xs: Sequence[Variable], out: Variable) -> list:
    a, b = xs
    d_a = tm.mul(b, tm.pow(a, tm.sub(b, 1)))
    # d/db a**b = a**b log(a); at a == 0 the product 0 * -inf is nan, where the limit (b > 0)
    # is 0: Theano's choice too
    d_b = tm.switch(tm.eq(a, 0), 0, tm.mul(out, tm.log(a)))
    return [d_a, d_b]


def _selected(xs: Sequence[Variable], out: Variable) -> list:
    # maximum/minimum: the gradient goes to the input equal to the output; on a tie both
    # inputs get all of it, as in Theano 1.0 (``eq(output, x) * gz``)
    return [tm.eq(out, x) for x in xs]


def _arctan2(xs: Sequence[Variable], out: Variable) -> list:
    y, x = xs
    r2 = tm.add(tm.sqr(x), tm.sqr(y))
    return [tm.true_div(x, r2), tm.neg(tm.true_div(y, r2))]


def _hypot(xs: Sequence[Variable], out: Variable) -> list:
    return [tm.true_div(x, out) for x in xs]


def _abs(x: Variable, out: Variable) -> Partial:
    if is_complex(x):
        # |z| is real: d|z| = Re(conj(z) dz) / |z|
        return tm.true_div(tm.conj(x), out)
    return tm.sgn(x)


def _angle(x: Variable, out: Variable) -> Partial:
    if is_complex(x):
        # angle(z) = atan2(y, x): dθ = (x dy - y dx) / |z|² = Re(-i conj(z) dz) / |z|²
        return tm.true_div(tm.mul(-1j, tm.conj(x)), tm.sqr(tm.abs(x)))
    return 0  # 0 or pi on the reals: piecewise constant


def _imag(x: Variable, out: Variable) -> Partial:
    # imag(z) = Re(-i z); a real input's imaginary part is the constant 0
    return -1j if is_complex(x) else 0


def _polygamma(xs: Sequence[Variable], out: Variable) -> list:
    n, x = xs
    return [Undefined("the order n of polygamma(n, x) is an integer"),
            tm.polygamma(tm.add(n, 1), x)]


def _chi2sf(xs: Sequence[Variable], out: Variable) -> list:
    x, k = xs
    half_k = tm.true_div(k, 2.0)
    # d/dx sf = -pdf = -x**(k/2 - 1) exp(-x/2) / (2**(k/2) Gamma(k/2)); the power form keeps
    # x == 0 finite for k == 2
    log_rest = tm.sub(tm.sub(tm.mul(x, -0.5), tm.mul(half_k, LN2)), tm.gammaln(half_k))
    pdf = tm.mul(tm.pow(x, tm.sub(half_k, 1)), tm.exp(log_rest))
    return [tm.neg(pdf), NotImplementedGrad(
        "the derivative of the chi-squared survival function in its degrees of freedom has "
        "no closed form")]


def _clip(xs: Sequence[Variable], out: Variable) -> list:
    x, lo, hi = xs
    # as Theano: x gets the gradient where lo <= x <= hi, each bound where it clipped
    return [tm.and_(tm.ge(x, lo), tm.le(x, hi)), tm.lt(x, lo), tm.gt(x, hi)]


def _switch(xs: Sequence[Variable], out: Variable) -> list:
    cond, _, _ = xs
    mask = _mask(cond)
    # the condition gets zeros (connected, as in Theano: cond + eps picks the same branch)
    return [0, mask, tm.invert(mask)]


def _sigmoid(x: Variable, out: Variable) -> Partial:
    return tm.mul(out, tm.sub(1, out))


def _softsign(x: Variable, out: Variable) -> Partial:
    return tm.true_div(1, tm.sqr(tm.add(1, tm.abs(x))))


def _log1mexp(x: Variable, out: Variable) -> Partial:
    # d/dx log(1 - e^x) = -e^x / (1 - e^x) = -1 / expm1(-x), stable for x near 0
    return tm.true_div(-1, tm.expm1(tm.neg(x)))


def _inv_sqrt(x: Variable) -> Variable:
    return tm.true_div(1, tm.sqrt(x))


_C = True  # complex_ok, spelled short for the table below

#: the derivative rule of every scalar op of the table, by name
RULES: dict[str, DerivativeRule] = {
    "add": _rule(lambda xs, out: [1, 1], _C),
    "sub": _rule(lambda xs, out: [1, -1], _C),
    "mul": _rule(lambda xs, out: [xs[1], xs[0]], _C),
    "true_div": _rule(_true_div, _C),
    "int_div": _rule(_zero_partials),
    # a % b = a - floor(a / b) * b
    "mod": _rule(lambda xs, out: [1, tm.neg(tm.floor(tm.true_div(xs[0], xs[1])))]),
    "pow": _rule(_pow, _C),
    "maximum": _rule(_selected),
    "minimum": _rule(_selected),
    "arctan2": _rule(_arctan2),
    "hypot": _rule(_hypot),
    # bool outputs: no gradient flows through a comparison
    "lt": DISCONNECTED, "gt": DISCONNECTED, "le": DISCONNECTED, "ge": DISCONNECTED,
    "eq": DISCONNECTED, "neq": DISCONNECTED,
    # bit operations take and give integers and bools only
    "and_": DISCONNECTED, "or_": DISCONNECTED, "xor": DISCONNECTED, "invert": DISCONNECTED,
    "neg": _unary(lambda x, out: -1, _C),
    "abs": _unary(_abs, _C),
    "sgn": _rule(_zero_partials),
    "sqr": _unary(lambda x, out: tm.mul(2, x), _C),
    "sqrt": _unary(lambda x, out: tm.true_div(0.5, out), _C),
    "exp": _unary(lambda x, out: out, _C),
    "exp2": _unary(lambda x, out: tm.mul(out, LN2), _C),
    "expm1": _unary(lambda x, out: tm.add(out, 1), _C),
    "log": _unary(lambda x, out: tm.true_div(1, x), _C),
    "log2": _unary(lambda x, out: tm.true_div(1, tm.mul(x, LN2)), _C),
    "log10": _unary(lambda x, out: tm.true_div(1, tm.mul(x, LN10)), _C),
    "log1p": _unary(lambda x, out: tm.true_div(1, tm.add(1, x)), _C),
    "sin": _unary(lambda x, out: tm.cos(x), _C),
    "cos": _unary(lambda x, out: tm.neg(tm.sin(x)), _C),
    "tan": _unary(lambda x, out: tm.add(1, tm.sqr(out)), _C),
    "arcsin": _unary(lambda x, out: _inv_sqrt(tm.sub(1, tm.sqr(x))), _C),
    "arccos": _unary(lambda x, out: tm.neg(_inv_sqrt(tm.sub(1, tm.sqr(x)))), _C),
    "arctan": _unary(lambda x, out: tm.true_div(1, tm.add(1, tm.sqr(x))), _C),
    "sinh": _unary(lambda x, out: tm.cosh(x), _C),
    "cosh": _unary(lambda x, out: tm.sinh(x), _C),
    "tanh": _unary(lambda x, out: tm.sub(1, tm.sqr(out)), _C),
    "arcsinh": _unary(lambda x, out: _inv_sqrt(tm.add(tm.sqr(x), 1)), _C),
    "arccosh": _unary(lambda x, out: _inv_sqrt(tm.sub(tm.sqr(x), 1)), _C),
    "arctanh": _unary(lambda x, out: tm.true_div(1, tm.sub(1, tm.sqr(x))), _C),
    "deg2rad": _unary(lambda x, out: math.pi / 180.0),
    "rad2deg": _unary(lambda x, out: 180.0 / math.pi),
    "erf": _unary(lambda x, out: tm.mul(TWO_OVER_SQRT_PI, tm.exp(tm.neg(tm.sqr(x))))),
    "erfc": _unary(lambda x, out: tm.mul(-TWO_OVER_SQRT_PI, tm.exp(tm.neg(tm.sqr(x))))),
    "erfinv": _unary(lambda x, out: tm.mul(SQRT_PI_OVER_2, tm.exp(tm.sqr(out)))),
    "erfcinv": _unary(lambda x, out: tm.mul(-SQRT_PI_OVER_2, tm.exp(tm.sqr(out)))),
    "gamma": _unary(lambda x, out: tm.mul(out, tm.psi(x))),
    "gammaln": _unary(lambda x, out: tm.psi(x)),
    "psi": _unary(lambda x, out: tm.polygamma(1, x)),
    "polygamma": _rule(_polygamma),
    "chi2sf": _rule(_chi2sf),
    "floor": _rule(_zero_partials),
    "ceil": _rule(_zero_partials),
    "trunc": _rule(_zero_partials),
    "round_half_to_even": _rule(_zero_partials),
    "round_half_away_from_zero": _rule(_zero_partials),
    "isnan": DISCONNECTED,
    "isinf": DISCONNECTED,
    "sigmoid": _unary(_sigmoid),
    "softplus": _unary(lambda x, out: tm.sigmoid(x)),
    "softsign": _unary(_softsign),
    # the subgradient 0 at x == 0, as most frameworks (the output there is 0 either way)
    "relu": _unary(lambda x, out: tm.gt(x, 0)),
    "log1mexp": _unary(_log1mexp),
    "real": _unary(lambda x, out: 1, _C),  # real(z) = Re(1 * z)
    "imag": _unary(_imag, _C),
    "conj": DerivativeRule(lambda xs, out: [1], complex_ok=True, conjugating=True),
    "angle": _unary(_angle, _C),
    "identity": _unary(lambda x, out: 1, _C),
    "switch": _rule(_switch, _C),
    "clip": _rule(_clip),
}

#: names of the scalar table deliberately left without a rule, with the reason
WITHOUT_RULE: dict[str, str] = {}

#: ``Cast``: the gradient is cast back by :func:`workbench.compiler.grad.grad` (a cast to an
#: integer type has a discrete output, so Elemwise disconnects it)
CAST_RULE = _unary(lambda x, out: 1, _C)


def derivative_rule(scalar_op: ps.ScalarOp) -> DerivativeRule | None:
    """The rule for ``scalar_op``, or None when there is none (a Composite is differentiated
    by expanding it; an unknown op has no gradient).

    >>> derivative_rule(ps.exp).complex_ok, derivative_rule(ps.lt).connected
    (True, False)
    """
    if isinstance(scalar_op, ps.Cast):
        return CAST_RULE
    if isinstance(scalar_op, ps.Composite):
        return None
    return RULES.get(scalar_op.name)


def input_gradient(gz: Variable, partial: Partial, x: Variable) -> Variable:
    """``gz * ∂f/∂x`` (complex: ``gz * conj(∂f/∂x)``, real part for a real ``x``), at the
    output's shape; ``partial`` is a tensor or a nonzero number.

    >>> from workbench import tensor as T
    >>> g, x = T.dvectors('g', 'x')
    >>> input_gradient(g, -1, x).eval({g: [1.0, 2.0]}).tolist()
    [-1.0, -2.0]
    """
    if isinstance(partial, Variable):
        term = tm.mul(gz, tm.conj(partial) if is_complex(partial) else partial)
    elif partial == 1:
        term = gz
    elif partial == -1:
        term = tm.neg(gz)
    else:
        term = tm.mul(gz, partial.conjugate() if isinstance(partial, complex) else partial)
    if is_complex(term) and not is_complex(x):
        term = tm.real(term)
    return term


def tangent_term(partial: Partial, u: Variable, out: Variable) -> Variable:
    """``∂f/∂x * u``, the contribution of one input's tangent ``u`` to the output's (its real
    part for a real output); ``partial`` is a tensor or a nonzero number."""
    if isinstance(partial, Variable):
        term = tm.mul(partial, u)
    elif partial == 1:
        term = u
    elif partial == -1:
        term = tm.neg(u)
    else:
        term = tm.mul(partial, u)
    if is_complex(term) and not is_complex(out):
        term = tm.real(term)
    return term
