"""Elementwise math: arithmetic, comparisons, logic and the functions of the scalar table.

Every function here builds an :class:`~workbench.compiler.ops.elemwise.Elemwise` node that
broadcasts like NumPy and gives NumPy's output dtype.

>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> T.exp(x).eval({x: [0.0]}).tolist()
[1.0]
"""
from __future__ import annotations

from functools import reduce
from typing import Any

from ..compiler.ops import scalar as ps
from ..compiler.ops.elemwise import Elemwise
from .basic import as_tensor_variable, cast
from .variable import TensorVariable

_ELEMWISE: dict[str, Elemwise] = {}


def elemwise(name: str) -> Elemwise:
    """The shared Elemwise op for the scalar op ``name`` (one instance, so nodes merge)."""
    op = _ELEMWISE.get(name)
    if op is None:
        op = _ELEMWISE[name] = Elemwise(ps.SCALAR_OPS[name])
    return op


def _unary(name: str, public: str | None = None, doc: str = ""):
    def fn(x: Any) -> TensorVariable:
        return elemwise(name)(x)

    fn.__name__ = public or name
    fn.__qualname__ = fn.__name__
    fn.__doc__ = doc or f"Elementwise ``{name}``."
    return fn


def _binary(name: str, public: str | None = None, doc: str = ""):
    def fn(a: Any, b: Any) -> TensorVariable:
        return elemwise(name)(a, b)

    fn.__name__ = public or name
    fn.__qualname__ = fn.__name__
    fn.__doc__ = doc or f"Elementwise ``{name}`` of two tensors, with broadcasting."
    return fn


def add(*terms: Any) -> TensorVariable:
    """The sum of any number of tensors, with broadcasting.

    >>> from workbench import tensor as T
    >>> a, b = T.dscalars('a', 'b')
    >>> float(T.add(a, b, 1).eval({a: 1.0, b: 2.0}))
    4.0
    """
    if not terms:
        raise TypeError("add() needs at least one term")
    return reduce(elemwise("add"), terms) if len(terms) > 1 else as_tensor_variable(terms[0])


def mul(*factors: Any) -> TensorVariable:
    """The product of any number of tensors, with broadcasting."""
    if not factors:
        raise TypeError("mul() needs at least one factor")
    return reduce(elemwise("mul"), factors) if len(factors) > 1 else as_tensor_variable(
        factors[0])


sub = _binary("sub", doc="``a - b`` elementwise.")
true_div = _binary("true_div", doc="``a / b`` elementwise (true division, as in NumPy).")
int_div = _binary("int_div", doc="``a // b`` elementwise (floor division, as in NumPy).")
floor_div = int_div
mod = _binary("mod", doc="``a % b`` elementwise, with the sign of ``b`` as in NumPy.")
pow = _binary("pow", doc="``a ** b`` elementwise.")  # noqa: A001 - Theano's name
maximum = _binary("maximum", doc="The elementwise maximum of two tensors.")
minimum = _binary("minimum", doc="The elementwise minimum of two tensors.")
arctan2 = _binary("arctan2")
hypot = _binary("hypot")
lt = _binary("lt", doc="``a < b`` elementwise (bool).")
gt = _binary("gt", doc="``a > b`` elementwise (bool).")
le = _binary("le", doc="``a <= b`` elementwise (bool).")
ge = _binary("ge", doc="``a >= b`` elementwise (bool).")
eq = _binary("eq", doc="``a == b`` elementwise (bool).")
neq = _binary("neq", doc="``a != b`` elementwise (bool).")
and_ = _binary("and_", doc="Bitwise/logical and (``a & b``).")
or_ = _binary("or_", doc="Bitwise/logical or (``a | b``).")
xor = _binary("xor", doc="Bitwise/logical xor (``a ^ b``).")
bitwise_and, bitwise_or, bitwise_xor = and_, or_, xor
invert = _unary("invert", doc="Bitwise/logical not (``~a``).")
bitwise_not = invert
neg = _unary("neg", doc="``-x`` elementwise.")
abs = _unary("abs", doc="``|x|`` elementwise.")  # noqa: A001 - Theano's name
abs_ = abs
sgn = _unary("sgn", doc="The sign of ``x`` (-1, 0 or 1).")
sign = sgn
sqr = _unary("sqr", doc="``x * x`` elementwise.")
square = sqr
sqrt = _unary("sqrt")
exp = _unary("exp")
exp2 = _unary("exp2")
expm1 = _unary("expm1", doc="``exp(x) - 1``, accurate for small ``x``.")
log = _unary("log")
log2 = _unary("log2")
log10 = _unary("log10")
log1p = _unary("log1p", doc="``log(1 + x)``, accurate for small ``x``.")
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
arcsin = _unary("arcsin")
arccos = _unary("arccos")
arctan = _unary("arctan")
sinh = _unary("sinh")
cosh = _unary("cosh")
tanh = _unary("tanh")
arcsinh = _unary("arcsinh")
arccosh = _unary("arccosh")
arctanh = _unary("arctanh")
deg2rad = _unary("deg2rad")
rad2deg = _unary("rad2deg")
erf = _unary("erf")
erfc = _unary("erfc")
erfinv = _unary("erfinv")
erfcinv = _unary("erfcinv")
gamma = _unary("gamma")
gammaln = _unary("gammaln", doc="``log(|gamma(x)|)``.")
psi = _unary("psi", doc="The digamma function.")
polygamma = _binary("polygamma", doc="The ``k``-th derivative of the digamma function, "
                    "``polygamma(k, x)``.")
chi2sf = _binary("chi2sf", doc="The chi-squared survival function (1 - cdf) at ``x`` with "
                 "``k`` degrees of freedom, ``chi2sf(x, k)``.")
floor = _unary("floor")
ceil = _unary("ceil")
trunc = _unary("trunc")
isnan = _unary("isnan")
isinf = _unary("isinf")
real = _unary("real")
imag = _unary("imag")
conj = _unary("conj")
angle = _unary("angle")
tensor_copy = _unary("identity", "tensor_copy", doc="A copy of ``x``.")


def inv(x: Any) -> TensorVariable:
    """``1 / x`` elementwise."""
    return true_div(1.0, x)


reciprocal = inv


def round(a: Any, mode: str | None = None) -> TensorVariable:  # noqa: A001
    """Round to the nearest integer value; ``mode`` is 'half_away_from_zero' (the default,
    as in Theano) or 'half_to_even' (NumPy's ``round``)."""
    mode = mode or "half_away_from_zero"
    if mode == "half_away_from_zero":
        return elemwise("round_half_away_from_zero")(a)
    if mode == "half_to_even":
        return elemwise("round_half_to_even")(a)
    raise ValueError(f"round(mode=) is 'half_away_from_zero' or 'half_to_even', got {mode!r}")


def round_half_to_even(a: Any) -> TensorVariable:
    return round(a, "half_to_even")


def round_half_away_from_zero(a: Any) -> TensorVariable:
    return round(a, "half_away_from_zero")


def iround(a: Any, mode: str | None = None) -> TensorVariable:
    """``round(a)`` cast to int64."""
    return cast(round(a, mode), "int64")


def largest(*args: Any) -> TensorVariable:
    """The elementwise largest of any number of tensors (like Python's ``max``).

    >>> from workbench import tensor as T
    >>> a, b = T.dvectors('a', 'b')
    >>> T.largest(a, b, 2.0).eval({a: [1.0, 5.0], b: [3.0, 0.0]}).tolist()
    [3.0, 5.0]
    """
    if not args:
        raise TypeError("largest() needs at least one argument")
    return reduce(maximum, args) if len(args) > 1 else as_tensor_variable(args[0])


def smallest(*args: Any) -> TensorVariable:
    """The elementwise smallest of any number of tensors (like Python's ``min``)."""
    if not args:
        raise TypeError("smallest() needs at least one argument")
    return reduce(minimum, args) if len(args) > 1 else as_tensor_variable(args[0])


def switch(cond: Any, ift: Any, iff: Any) -> TensorVariable:
    """Elementwise choice: ``ift`` where ``cond`` is true, else ``iff`` (both computed).

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.switch(x > 0, x, 0).eval({x: [-1.0, 2.0]}).tolist()
    [0.0, 2.0]
    """
    return elemwise("switch")(cond, ift, iff)


def where(cond: Any, ift: Any = None, iff: Any = None) -> TensorVariable:
    """``switch(cond, ift, iff)``; with only ``cond``, the indices where it is nonzero."""
    if ift is None and iff is None:
        from .subtensor import nonzero

        return nonzero(cond)
    return switch(cond, ift, iff)


def clip(x: Any, min: Any, max: Any) -> TensorVariable:  # noqa: A002 - Theano's names
    """``x`` limited to ``[min, max]`` elementwise."""
    return elemwise("clip")(x, min, max)


def sigmoid(x: Any) -> TensorVariable:
    """The logistic function ``1 / (1 + exp(-x))``."""
    return elemwise("sigmoid")(x)


def softplus(x: Any) -> TensorVariable:
    """``log(1 + exp(x))`` computed without overflow."""
    return elemwise("softplus")(x)


def relu(x: Any, alpha: Any = 0) -> TensorVariable:
    """``max(x, 0)``; with ``alpha``, the leaky variant ``x if x > 0 else alpha * x``."""
    if isinstance(alpha, (int, float)) and alpha == 0:
        return elemwise("relu")(x)
    x = as_tensor_variable(x)
    return switch(gt(x, 0), x, mul(alpha, x))


def isclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> TensorVariable:
    """Elementwise ``|a - b| <= atol + rtol * |b|``, as ``numpy.isclose``."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    close = le(abs(sub(a, b)), add(atol, mul(rtol, abs(b))))
    both_inf = and_(eq(a, b), or_(isinf(a), isinf(b)))
    close = or_(and_(close, invert(or_(isinf(a), isinf(b)))), both_inf)
    if equal_nan:
        close = or_(close, and_(isnan(a), isnan(b)))
    return close


def allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> TensorVariable:
    """Whether every element is close, as ``numpy.allclose``."""
    from .reduce import all as all_

    return all_(isclose(a, b, rtol, atol, equal_nan))


def complex_from_polar(abs_value: Any, angle_value: Any) -> TensorVariable:
    return mul(abs_value, add(cos(angle_value), mul(1j, sin(angle_value))))


def logical_and(a: Any, b: Any) -> TensorVariable:
    return and_(cast(a, "bool"), cast(b, "bool"))


def logical_or(a: Any, b: Any) -> TensorVariable:
    return or_(cast(a, "bool"), cast(b, "bool"))


def logical_not(a: Any) -> TensorVariable:
    return invert(cast(a, "bool"))


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "annotations", "reduce", "Any", "ps", "Elemwise", "TensorVariable")]
