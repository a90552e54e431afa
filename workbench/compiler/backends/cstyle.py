"""The C-style renderer shared by the C and CUDA backends.

One place turns scalar ops (the table in :mod:`~workbench.compiler.ops.scalar`, and
Composites of them) into C expressions with NumPy's type semantics: every argument is cast
to the type the op computes in, float32 math calls the ``f``-suffixed functions, and the
result is cast to the node's output type. The two targets differ only in a few spellings
(``Target``), so C and CUDA cannot drift apart.

>>> from workbench.compiler.backends.cstyle import C, render_scalar
>>> from workbench.compiler.ops import scalar
>>> render_scalar(scalar.exp, ['x'], ['float32'], 'float32', C)
'((float)expf(((float)(x))))'
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ops import scalar as so

#: C type of each NumPy dtype the backends compile (float16 and complex run through perform)
CTYPES = {
    "bool": "npy_bool", "int8": "npy_int8", "int16": "npy_int16", "int32": "npy_int32",
    "int64": "npy_int64", "uint8": "npy_uint8", "uint16": "npy_uint16",
    "uint32": "npy_uint32", "uint64": "npy_uint64", "float32": "float", "float64": "double",
}

#: NumPy C API type numbers, for allocating arrays from generated code
TYPENUMS = {
    "bool": "NPY_BOOL", "int8": "NPY_INT8", "int16": "NPY_INT16", "int32": "NPY_INT32",
    "int64": "NPY_INT64", "uint8": "NPY_UINT8", "uint16": "NPY_UINT16",
    "uint32": "NPY_UINT32", "uint64": "NPY_UINT64", "float32": "NPY_FLOAT32",
    "float64": "NPY_FLOAT64",
}


@dataclass(frozen=True)
class Target:
    """What differs between the C and CUDA spellings of the same expression."""

    name: str
    bool_type: str
    #: math functions that exist with an ``f`` suffix for float32 in this target
    float_suffix: bool = True


C = Target("c", "npy_bool")
CUDA = Target("cuda", "bool")

# functions named after a libm function: the float32 variant appends "f"
_LIBM = {
    "sqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
    "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc",
    "tgamma", "lgamma", "floor", "ceil", "trunc", "nearbyint", "round", "pow", "atan2",
    "hypot", "fabs",
}

#: scalar ops whose NumPy semantics the renderer does not reproduce (they run through
#: ``perform``): no C expression, complex-only functions, and integer powers (NumPy raises
#: on negative exponents, C's pow works in floating point)
_NOT_RENDERED = {"real", "imag", "conj", "angle"}

_COMPARISONS = {"lt", "gt", "le", "ge", "eq", "neq"}
_FLOAT_ARG_TESTS = {"isnan", "isinf"}


def ctype(dtype: str) -> str:
    """The C type of a dtype; KeyError for dtypes the backends do not compile."""
    return CTYPES[np.dtype(dtype).name]


def can_render(op: so.ScalarOp, in_dtypes: list[str], out_dtype: str) -> bool:
    """Whether ``render_scalar`` gives NumPy's results for this op and these dtypes."""
    if any(np.dtype(d).name not in CTYPES for d in list(in_dtypes) + [out_dtype]):
        return False
    if isinstance(op, so.Composite):
        types = list(in_dtypes)
        for step, idx in op.program:
            args = [types[i] for i in idx]
            out = step.output_dtype(*args)
            if not can_render(step, args, out):
                return False
            types.append(out)
        return True
    if isinstance(op, so.Cast):
        return True
    if op.c_expr is None or op.name in _NOT_RENDERED:
        return False
    if op.name == "pow" and np.dtype(out_dtype).kind != "f":
        return False
    return True


def _compute_dtype(op: so.ScalarOp, in_dtypes: list[str], out_dtype: str) -> list[str]:
    """The type each argument is cast to before the op is applied."""
    if op.name in _COMPARISONS:
        common = np.result_type(*in_dtypes).name
        return [common] * len(in_dtypes)
    if op.name in _FLOAT_ARG_TESTS:
        return ["float64" if np.dtype(d).kind != "f" else d for d in in_dtypes]
    if op.name == "switch":
        return [in_dtypes[0], out_dtype, out_dtype]
    if isinstance(op, so.Cast):
        return list(in_dtypes)
    return [out_dtype] * len(in_dtypes)


def _spell_functions(expr: str, dtype: str, target: Target) -> str:
    """``exp(`` → ``expf(`` for float32 computations."""
    if dtype != "float32" or not target.float_suffix:
        return expr
    out = []
    i = 0
    while i < len(expr):
        j = i
        while j < len(expr) and (expr[j].isalnum() or expr[j] == "_"):
            j += 1
        if j > i:
            word = expr[i:j]
            before = expr[i - 1] if i > 0 else ""
            if word in _LIBM and j < len(expr) and expr[j] == "(" and before != "_" \
                    and not before.isalnum():
                word += "f"
            out.append(word)
            i = j
        else:
            out.append(expr[i])
            i += 1
    return "".join(out)


def _literal_type(dtype: str) -> str:
    return "float" if dtype == "float32" else "double"


def render_scalar(op: so.ScalarOp, args: list[str], in_dtypes: list[str], out_dtype: str,
                  target: Target = C) -> str:
    """A C expression computing ``op`` on the C expressions ``args``, as NumPy would.

    Composites render inline; use :func:`render_program` to name shared steps once.
    """
    if isinstance(op, so.Composite):
        lines, result = render_program(op, args, in_dtypes, target, prefix="_t")
        if lines:
            raise ValueError("a Composite with shared steps needs render_program")
        return result
    out_c = ctype(out_dtype) if target is C else _cuda_type(out_dtype)
    if isinstance(op, so.Cast):
        return _cast(args[0], in_dtypes[0], out_dtype, target)
    kinds = _compute_dtype(op, in_dtypes, out_dtype)
    cast_args = [_cast(a, src, d, target) for a, src, d in zip(args, in_dtypes, kinds)]
    compute = kinds[-1] if op.name != "switch" else out_dtype
    template = _template(op, compute)
    expr = template.format(*cast_args, ctype=out_c, lit=_literal_type(compute))
    expr = _spell_functions(expr, compute if op.name not in _COMPARISONS else "", target)
    return f"(({out_c}){expr})"


def _cast(expr: str, src: str, dst: str, target: Target) -> str:
    """``expr`` (of dtype ``src``) as ``dst``; anything non-zero (NaN too) is true."""
    t = ctype(dst) if target is C else _cuda_type(dst)
    if np.dtype(dst).kind == "b" and np.dtype(src).kind != "b":
        return f"(({t})(({expr}) != 0))"
    return f"(({t})({expr}))"


def _template(op: so.ScalarOp, compute: str) -> str:
    """The op's C template, with the spellings that depend on the computing type."""
    kind = np.dtype(compute).kind if compute else "f"
    name = op.name
    if name == "true_div":
        return "({0} / {1})"
    if name == "int_div":
        return "wb_floordiv_f({0}, {1})" if kind == "f" else "wb_floordiv_i({0}, {1})"
    if name == "mod":
        return "wb_mod_f({0}, {1})" if kind == "f" else "wb_mod_i({0}, {1})"
    if name == "abs":
        return "fabs({0})" if kind == "f" else "wb_abs({0})"
    if name == "sigmoid":
        return "wb_sigmoid({0})" if compute == "float64" else "wb_sigmoidf({0})"
    if name == "softplus":
        return "wb_softplus({0})" if compute == "float64" else "wb_softplusf({0})"
    if name == "log1mexp":
        return "wb_log1mexp({0})" if compute == "float64" else "wb_log1mexpf({0})"
    if name == "softsign":
        return "({0} / (({lit})1 + wb_abs({0})))"
    if name == "relu":
        return "wb_max({0}, 0)"
    if name in ("deg2rad", "rad2deg"):
        factor = "(M_PI / 180.0)" if name == "deg2rad" else "(180.0 / M_PI)"
        return "({0} * (" + "{lit}" + ")" + factor + ")"
    if name in ("and_", "or_", "xor") and compute == "bool":
        return {"and_": "({0} && {1})", "or_": "({0} || {1})", "xor": "({0} != {1})"}[name]
    if name == "invert" and compute == "bool":
        return "(!{0})"
    if name in ("add", "mul") and compute == "bool":
        return "({0} || {1})" if name == "add" else "({0} && {1})"
    if name == "sqr":
        return "({0} * {0})"
    if name == "gammaln":  # lgamma(-inf) is +inf in C, -inf in SciPy
        return "wb_lgamma({0})"
    return op.c_expr


def _cuda_type(dtype: str) -> str:
    return {"bool": "bool", "int8": "signed char", "int16": "short", "int32": "int",
            "int64": "long long", "uint8": "unsigned char", "uint16": "unsigned short",
            "uint32": "unsigned int", "uint64": "unsigned long long", "float32": "float",
            "float64": "double"}[np.dtype(dtype).name]


def render_program(op: so.Composite, args: list[str], in_dtypes: list[str], target: Target = C,
                   prefix: str = "t") -> tuple[list[str], str]:
    """A Composite as C: declarations for steps used more than once, and the result.

    Returns ``(lines, expression)``; each line declares ``<ctype> <prefix>K = ...;``.
    """
    uses: dict[int, int] = {}
    for _, idx in op.program:
        for i in idx:
            uses[i] = uses.get(i, 0) + 1
    exprs = list(args)
    types = list(in_dtypes)
    lines: list[str] = []
    for k, (step, idx) in enumerate(op.program):
        step_in = [types[i] for i in idx]
        out = step.output_dtype(*step_in)
        expr = render_scalar(step, [exprs[i] for i in idx], step_in, out, target)
        slot = len(exprs)
        if uses.get(slot, 0) > 1:
            name = f"{prefix}{k}"
            t = ctype(out) if target is C else _cuda_type(out)
            lines.append(f"const {t} {name} = {expr};")
            expr = name
        exprs.append(expr)
        types.append(out)
    return lines, exprs[-1]


#: helper functions every generated C or CUDA file starts with (the templates call them)
SCALAR_HELPERS = r"""
#define wb_max(a, b) (((a) >= (b) || (a) != (a)) ? (a) : (b))
#define wb_min(a, b) (((a) <= (b) || (a) != (a)) ? (a) : (b))
#define wb_abs(a) ((a) < 0 ? -(a) : (a))
#define wb_sgn(a) ((a) != (a) ? (a) : (a) > 0 ? 1 : (a) < 0 ? -1 : 0)
#define wb_clip(x, lo, hi) wb_min(wb_max((x), (lo)), (hi))
#define wb_floordiv_i(a, b) ((b) == 0 ? 0 : ((a) / (b) - (((a) % (b) != 0) && (((a) < 0) != ((b) < 0)))))
#define wb_mod_i(a, b) ((b) == 0 ? 0 : ((a) % (b) + ((((a) % (b)) != 0 && (((a) % (b) < 0) != ((b) < 0))) ? (b) : 0)))
WB_INLINE double wb_floordiv_f(double a, double b) {
    if (b == 0) return a / b;
    double m = fmod(a, b), d = (a - m) / b;
    if (m != 0 && ((b < 0) != (m < 0))) d -= 1.0;
    if (d == 0) return copysign(0.0, a / b);
    double f = floor(d);
    return (d - f > 0.5) ? f + 1.0 : f;
}
WB_INLINE double wb_mod_f(double a, double b) {
    if (b == 0) return fmod(a, b);
    double m = fmod(a, b);
    if (m != 0) { if ((b < 0) != (m < 0)) m += b; } else m = copysign(0.0, b);
    return m;
}
WB_INLINE double wb_sigmoid(double x) {
    double e = exp(-fabs(x));
    return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
WB_INLINE float wb_sigmoidf(float x) {
    float e = expf(-fabsf(x));
    return x >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
}
WB_INLINE double wb_softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
WB_INLINE float wb_softplusf(float x) { return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
WB_INLINE double wb_lgamma(double x) { return isinf(x) && x < 0 ? x : lgamma(x); }
WB_INLINE double wb_log1mexp(double x) { return x < -0.693 ? log1p(-exp(x)) : log(-expm1(x)); }
WB_INLINE float wb_log1mexpf(float x) { return x < -0.693f ? log1pf(-expf(x)) : logf(-expm1f(x)); }
"""
