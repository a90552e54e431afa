"""The scalar op table: one row per scalar function.

Each :class:`ScalarOp` names its NumPy implementation (a ufunc or a function with ufunc
semantics) and a C expression template over its inputs ``{0}``, ``{1}``, ... that the C and
CUDA renderers share. :class:`~workbench.compiler.ops.elemwise.Elemwise` lifts a scalar op
over tensors with broadcasting; a fused loop is a :class:`Composite` of them.

>>> from workbench.compiler.ops import scalar
>>> scalar.add.name, scalar.add.c_expr
('add', '({0} + {1})')
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np

from ..graph import Op


class ScalarOp(Op):
    """A scalar function; ``impl`` must broadcast like a ufunc.

    ``out_dtype`` overrides NumPy's own type resolution when given: a callable from the
    input dtypes to the output dtype.
    """

    __props__ = ("name",)

    def __init__(self, name: str, nin: int, impl: Callable, c_expr: str | None = None,
                 out_dtype: Callable[..., str] | None = None, commutative: bool = False,
                 associative: bool = False, identity: float | None = None):
        self.name = name
        self.nin = nin
        self.nout = 1
        self.impl = impl
        self.c_expr = c_expr
        self._out_dtype = out_dtype
        self.commutative = commutative
        self.associative = associative
        self.identity = identity

    def __str__(self) -> str:
        return self.name

    def output_dtype(self, *dtypes: str) -> str:
        """The output dtype for these input dtypes, as NumPy would compute it."""
        if self._out_dtype is not None:
            try:
                return self._out_dtype(*dtypes)
            except TypeError as exc:
                raise TypeError(f"{self.name}: {exc}") from None
        return _numpy_out_dtype(self, dtypes)

    def __call__(self, *inputs):
        from .elemwise import Elemwise

        return Elemwise(self)(*inputs)


@lru_cache(maxsize=4096)
def _numpy_out_dtype(op: ScalarOp, dtypes: tuple[str, ...]) -> str:
    samples = [np.ones(1, dtype=d) for d in dtypes]
    with np.errstate(all="ignore"):
        try:
            out = op.impl(*samples)
        except TypeError as exc:
            raise TypeError(
                f"{op.name} is not defined for inputs of dtype {', '.join(dtypes)}: {exc}"
            ) from None
    return np.asarray(out).dtype.name


class Cast(ScalarOp):
    """Conversion to a fixed dtype."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str):
        self.dtype = np.dtype(dtype).name
        target = self.dtype
        super().__init__(f"convert_to_{target}", 1,
                         lambda x: np.asarray(x).astype(target),
                         c_expr="(({ctype}){0})", out_dtype=lambda *_: target)

    def __str__(self) -> str:
        return f"convert_to_{self.dtype}"


def _same(*dtypes: str) -> str:
    return np.result_type(*dtypes).name


def _bool_out(*_: str) -> str:
    return "bool"


def _float_out(*dtypes: str) -> str:
    """The float dtype ``np.exp`` gives (float16 for 8-bit ints, float32 for int16, else
    float64), for real functions that are no ufunc in NumPy or SciPy."""
    if any(np.dtype(d).kind == "c" for d in dtypes):
        raise TypeError(f"not defined for complex inputs (dtype {', '.join(dtypes)})")
    return _numpy_out_dtype(_FLOAT_PROBE, tuple(dtypes))


_FLOAT_PROBE = ScalarOp("float_probe", 1, np.exp)


def _special(name: str) -> Callable:
    """A scipy.special function imported on first use (scipy costs ~0.2 s to import)."""
    resolved: list[Callable] = []

    def call(*args):
        if not resolved:
            import scipy.special

            resolved.append(getattr(scipy.special, name))
        return resolved[0](*args)

    call.__name__ = name
    return call


class _LazySpecial:
    def __getattr__(self, name: str) -> Callable:
        return _special(name)


sps = _LazySpecial()


def _switch(cond, a, b):
    return np.where(cond, a, b)


def _round_half_away(x):
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5)).astype(np.asarray(x).dtype) \
        if np.asarray(x).dtype.kind == "f" else np.array(x)


def _sigmoid(x):
    x = _as_float(x)
    # exp(-|x|) never overflows; pick the branch that keeps precision on each side
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _as_float(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.result_type(x.dtype, np.float16))


def _softplus(x):
    x = _as_float(x)
    # log(1 + exp(x)) without overflow: for large x it is x, for very negative x exp(x)
    return np.logaddexp(np.zeros((), dtype=x.dtype), x)


def _sqr(x):
    return np.square(x)  # not multiply: square(bool) is int8 in NumPy


def _int_div(a, b):
    return np.floor_divide(a, b)


def _true_div(a, b):
    return np.true_divide(a, b)


def _sgn(x):
    return np.sign(x)


def _relu(x):
    return np.maximum(x, np.zeros((), dtype=np.asarray(x).dtype))


_chdtrc = sps.chdtrc
_polygamma = sps.polygamma


def _chi2sf(x, k):
    """The survival function of the chi-squared distribution with ``k`` degrees of freedom
    at ``x`` (``scipy.stats.chi2.sf(x, k)``)."""
    return _chdtrc(k, x)


def _log1mexp(x):
    return np.where(x < -0.693, np.log1p(-np.exp(x)), np.log(-np.expm1(x)))


def _softsign(x):
    x = _as_float(x)
    return x / (1 + np.abs(x))


_TABLE: list[tuple] = [
    # name, nin, implementation, C expression, output dtype rule, flags
    # (no rule: the dtype the implementation gives, which for NumPy's and SciPy's ufuncs is
    # their own type resolution; _float_out for functions that are not ufuncs anywhere)
    ("add", 2, np.add, "({0} + {1})", None, dict(commutative=True, associative=True, identity=0)),
    ("sub", 2, np.subtract, "({0} - {1})", None, {}),
    ("mul", 2, np.multiply, "({0} * {1})", None,
     dict(commutative=True, associative=True, identity=1)),
    ("true_div", 2, _true_div, "((double){0} / {1})", None, {}),
    ("int_div", 2, _int_div, "wb_floordiv({0}, {1})", None, {}),
    ("mod", 2, np.mod, "wb_mod({0}, {1})", None, {}),
    ("pow", 2, np.power, "pow({0}, {1})", None, {}),
    ("maximum", 2, np.maximum, "wb_max({0}, {1})", None, dict(commutative=True, associative=True)),
    ("minimum", 2, np.minimum, "wb_min({0}, {1})", None, dict(commutative=True, associative=True)),
    ("arctan2", 2, np.arctan2, "atan2({0}, {1})", None, {}),
    ("hypot", 2, np.hypot, "hypot({0}, {1})", None, {}),
    ("lt", 2, np.less, "({0} < {1})", _bool_out, {}),
    ("gt", 2, np.greater, "({0} > {1})", _bool_out, {}),
    ("le", 2, np.less_equal, "({0} <= {1})", _bool_out, {}),
    ("ge", 2, np.greater_equal, "({0} >= {1})", _bool_out, {}),
    ("eq", 2, np.equal, "({0} == {1})", _bool_out, dict(commutative=True)),
    ("neq", 2, np.not_equal, "({0} != {1})", _bool_out, dict(commutative=True)),
    ("and_", 2, np.bitwise_and, "({0} & {1})", None, dict(commutative=True, associative=True)),
    ("or_", 2, np.bitwise_or, "({0} | {1})", None, dict(commutative=True, associative=True)),
    ("xor", 2, np.bitwise_xor, "({0} ^ {1})", None, dict(commutative=True, associative=True)),
    ("invert", 1, np.invert, "(~{0})", None, {}),
    ("neg", 1, np.negative, "(-{0})", None, {}),
    ("abs", 1, np.abs, "wb_abs({0})", None, {}),
    ("sgn", 1, _sgn, "wb_sgn({0})", None, {}),
    ("sqr", 1, _sqr, "({0} * {0})", None, {}),
    ("sqrt", 1, np.sqrt, "sqrt({0})", None, {}),
    ("exp", 1, np.exp, "exp({0})", None, {}),
    ("exp2", 1, np.exp2, "exp2({0})", None, {}),
    ("expm1", 1, np.expm1, "expm1({0})", None, {}),
    ("log", 1, np.log, "log({0})", None, {}),
    ("log2", 1, np.log2, "log2({0})", None, {}),
    ("log10", 1, np.log10, "log10({0})", None, {}),
    ("log1p", 1, np.log1p, "log1p({0})", None, {}),
    ("sin", 1, np.sin, "sin({0})", None, {}),
    ("cos", 1, np.cos, "cos({0})", None, {}),
    ("tan", 1, np.tan, "tan({0})", None, {}),
    ("arcsin", 1, np.arcsin, "asin({0})", None, {}),
    ("arccos", 1, np.arccos, "acos({0})", None, {}),
    ("arctan", 1, np.arctan, "atan({0})", None, {}),
    ("sinh", 1, np.sinh, "sinh({0})", None, {}),
    ("cosh", 1, np.cosh, "cosh({0})", None, {}),
    ("tanh", 1, np.tanh, "tanh({0})", None, {}),
    ("arcsinh", 1, np.arcsinh, "asinh({0})", None, {}),
    ("arccosh", 1, np.arccosh, "acosh({0})", None, {}),
    ("arctanh", 1, np.arctanh, "atanh({0})", None, {}),
    ("deg2rad", 1, np.deg2rad, "({0} * (M_PI / 180.0))", None, {}),
    ("rad2deg", 1, np.rad2deg, "({0} * (180.0 / M_PI))", None, {}),
    ("erf", 1, sps.erf, "erf({0})", None, {}),
    ("erfc", 1, sps.erfc, "erfc({0})", None, {}),
    ("erfinv", 1, sps.erfinv, None, None, {}),
    ("erfcinv", 1, sps.erfcinv, None, None, {}),
    ("gamma", 1, sps.gamma, "tgamma({0})", None, {}),
    ("gammaln", 1, sps.gammaln, "lgamma({0})", None, {}),
    ("psi", 1, sps.psi, None, None, {}),
    ("polygamma", 2, _polygamma, None, None, {}),
    ("chi2sf", 2, _chi2sf, None, None, {}),
    ("floor", 1, np.floor, "floor({0})", None, {}),
    ("ceil", 1, np.ceil, "ceil({0})", None, {}),
    ("trunc", 1, np.trunc, "trunc({0})", None, {}),
    ("round_half_to_even", 1, np.round, "nearbyint({0})", None, {}),
    ("round_half_away_from_zero", 1, _round_half_away, "round({0})", None, {}),
    ("isnan", 1, np.isnan, "isnan({0})", _bool_out, {}),
    ("isinf", 1, np.isinf, "isinf({0})", _bool_out, {}),
    ("sigmoid", 1, _sigmoid, "(1.0 / (1.0 + exp(-{0})))", _float_out, {}),
    ("softplus", 1, _softplus, "wb_softplus({0})", _float_out, {}),
    ("softsign", 1, _softsign, "({0} / (1.0 + wb_abs({0})))", _float_out, {}),
    ("relu", 1, _relu, "wb_max({0}, 0)", None, {}),
    ("log1mexp", 1, _log1mexp, "wb_log1mexp({0})", _float_out, {}),
    # np.real/np.imag of a real array give the array itself / a read-only zeros view: copy,
    # so an op's result is always its own memory (in-place rewrites rely on it)
    ("real", 1, lambda x: np.array(np.real(x)), "creal({0})", None, {}),
    ("imag", 1, lambda x: np.array(np.imag(x)), "cimag({0})", None, {}),
    ("conj", 1, np.conj, "conj({0})", None, {}),
    ("angle", 1, np.angle, "carg({0})", None, {}),
    ("identity", 1, lambda x: np.array(x, copy=True), "{0}", None, {}),
    ("switch", 3, _switch, "({0} ? {1} : {2})",
     lambda c, a, b: np.result_type(a, b).name, {}),
    ("clip", 3, np.clip, "wb_clip({0}, {1}, {2})", None, {}),
]

#: every scalar op by name
SCALAR_OPS: dict[str, ScalarOp] = {}
for _name, _nin, _impl, _c, _rule, _flags in _TABLE:
    SCALAR_OPS[_name] = ScalarOp(_name, _nin, _impl, _c, _rule, **_flags)
    globals()[_name] = SCALAR_OPS[_name]


class Composite(ScalarOp):
    """Several scalar ops fused into one: a small expression DAG over ``nin`` inputs.

    ``program`` is a list of ``(scalar_op, argument indices)``; index ``i < nin`` is input
    ``i``, larger indices name earlier steps. The last step is the output.
    """

    __props__ = ("program", "nin")

    def __init__(self, program: tuple[tuple[ScalarOp, tuple[int, ...]], ...], nin: int):
        self.program = tuple(program)

        def run(*args):
            values = list(args)
            for op, idx in self.program:
                values.append(op.impl(*[values[i] for i in idx]))
            return values[-1]

        super().__init__("composite", nin, run)

    def output_dtype(self, *dtypes: str) -> str:
        types = list(dtypes)
        for op, idx in self.program:
            types.append(op.output_dtype(*[types[i] for i in idx]))
        return types[-1]

    def __str__(self) -> str:
        # a step used more than once is named (t0 = ...; ...) and computed once, so the text
        # says what the loop computes and stays linear in the program's size
        uses: dict[int, int] = {}
        for _, idx in self.program:
            for i in idx:
                uses[i] = uses.get(i, 0) + 1
        names = [f"i{i}" for i in range(self.nin)]
        lets = []
        for k, (op, idx) in enumerate(self.program):
            text = f"{op}({', '.join(names[i] for i in idx)})"
            if uses.get(self.nin + k, 0) > 1:
                lets.append(f"t{len(lets)} = {text}")
                text = f"t{len(lets) - 1}"
            names.append(text)
        return f"Composite{{{'; '.join(lets + [names[-1]])}}}"
