"""C for reductions: CAReduce (Sum, Prod, Max, Min, All, Any, other folds), FusedReduce (an
elementwise expression folded in the same pass, never stored) and Argmax/Argmin.

Every node first drops the axes of length one and then picks a loop, at run time:

1. rows: the last axes are reduced and contiguous in every input (``x.sum(axis=1)``, a sum of
   everything): each output element folds contiguous runs with a vectorised kernel that
   keeps four independent accumulators (the add's latency, not memory, would bound one).
   Many outputs are split across cores; few outputs split each run across cores, with one
   partial per thread combined in thread order, so results do not depend on timing;
2. columns: the last axes are kept and contiguous (``x.sum(axis=0)``): a tile of accumulators
   is updated by whole input rows, vectorised along the row; tiles are split across cores;
3. general: any strides, any axes; one odometer per output element.

Floating folds accumulate in the op's ``acc_dtype`` in a different order than NumPy's
pairwise sums, so the last bits may differ. Max and Min propagate NaN as NumPy does; folds
without an identity raise on an empty reduction as NumPy does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...ops.fused_reduce import FusedReduce
from ...ops.reduce import Argmax, Argmin, CAReduce
from ..cstyle import CTYPES, can_render, ctype, render_program
from .emit_elemwise import _broadcast_check
from .registry import emits

#: accumulators kept by the rows kernel; four hide the latency of a vector add
_STREAMS = 4
#: accumulators of the columns path held on the stack at once (one tile of output elements)
_TILE = 1024
#: the most inputs a FusedReduce compiles with (the loop plan holds one stride row each)
_MAX_IN = 32
#: the most dimensions the loop plan holds (runtime.h's WB_MAXDIM)
_MAX_DIM = 32

#: shared by every reduction of a module: the loop plan and the messages' shape text
_PLAN = r"""
#define WB_RMAXIN %(max_in)d
/* A reduction's loops after dropping axes of length one: kept axes (kd, strides ks per
 * input), reduced axes (rd, rs) and, for the rows and columns paths, the length L of the
 * innermost contiguous block (reduced axes for rows, kept axes for columns). */
typedef struct {
    char *base[WB_RMAXIN];
    int nk, nr;
    npy_intp kd[WB_MAXDIM], rd[WB_MAXDIM];
    npy_intp ks[WB_RMAXIN][WB_MAXDIM], rs[WB_RMAXIN][WB_MAXDIM];
    npy_intp L, M, R;
} wb_rplan;

/* kind 0: rows (a block of trailing reduced axes), 1: columns (trailing kept axes), 2:
 * general (no block). vec[i]: input i is read along the block, its strides must be
 * contiguous there; else it must be constant along it (stride 0). 0: no such block. */
static int wb_rplan_make(wb_rplan *P, int kind, int nd, const npy_intp *dims, int nin,
                         PyArrayObject *const *ins, const char *red, const char *vec) {
    int live[WB_MAXDIM], nl = 0, nb = 0;
    npy_intp expect[WB_RMAXIN];
    for (int d = 0; d < nd; d++) if (dims[d] != 1) live[nl++] = d;
    for (int i = 0; i < nin; i++) {
        expect[i] = PyArray_ITEMSIZE(ins[i]);
        P->base[i] = PyArray_BYTES(ins[i]);
    }
    P->L = 1;
    if (kind < 2) {
        for (int j = nl - 1; j >= 0; j--) {
            int d = live[j], ok = red[d] == (kind == 0);
            for (int i = 0; ok && i < nin; i++) {
                npy_intp s = PyArray_DIMS(ins[i])[d] == 1 ? 0 : PyArray_STRIDES(ins[i])[d];
                ok = vec[i] ? s == expect[i] : s == 0;
            }
            if (!ok) break;
            for (int i = 0; i < nin; i++) if (vec[i]) expect[i] *= dims[d];
            P->L *= dims[d];
            nb++;
        }
        if (nb == 0) return 0;
    }
    P->nk = P->nr = 0;
    P->M = P->R = 1;
    for (int j = 0; j < nl - nb; j++) {
        int d = live[j];
        for (int i = 0; i < nin; i++) {
            npy_intp s = PyArray_DIMS(ins[i])[d] == 1 ? 0 : PyArray_STRIDES(ins[i])[d];
            if (red[d]) P->rs[i][P->nr] = s; else P->ks[i][P->nk] = s;
        }
        if (red[d]) { P->rd[P->nr++] = dims[d]; P->R *= dims[d]; }
        else { P->kd[P->nk++] = dims[d]; P->M *= dims[d]; }
    }
    return 1;
}

/* q[i]: where input i's data for kept position m starts */
WB_INLINE void wb_rplan_kept(const wb_rplan *P, int nin, npy_intp m, char **q) {
    for (int i = 0; i < nin; i++) q[i] = P->base[i];
    for (int d = P->nk - 1; d >= 0; d--) {
        npy_intp c = m %% P->kd[d];
        m /= P->kd[d];
        for (int i = 0; i < nin; i++) q[i] += c * P->ks[i][d];
    }
}

/* p[i] = q[i] moved to reduced position r */
WB_INLINE void wb_rplan_red(const wb_rplan *P, int nin, npy_intp r, char *const *q, char **p) {
    for (int i = 0; i < nin; i++) p[i] = q[i];
    for (int d = P->nr - 1; d >= 0; d--) {
        npy_intp c = r %% P->rd[d];
        r /= P->rd[d];
        for (int i = 0; i < nin; i++) p[i] += c * P->rs[i][d];
    }
}

/* the next reduced position, in C order (the flattening Argmax indexes) */
WB_INLINE void wb_rplan_step(const wb_rplan *P, int nin, npy_intp *idx, char **p) {
    for (int d = P->nr - 1; d >= 0; d--) {
        idx[d]++;
        for (int i = 0; i < nin; i++) p[i] += P->rs[i][d];
        if (idx[d] < P->rd[d]) return;
        idx[d] = 0;
        for (int i = 0; i < nin; i++) p[i] -= P->rs[i][d] * P->rd[d];
    }
}

static void wb_dims_text(char *buf, size_t n, int nd, const npy_intp *dims) {
    size_t used = snprintf(buf, n, "(");
    for (int d = 0; d < nd && used < n; d++)
        used += snprintf(buf + used, n - used, d ? ", %%ld" : "%%ld", (long)dims[d]);
    if (used < n) snprintf(buf + used, n - used, nd == 1 ? ",)" : ")");
}

/* threads of a split reduction, capped by the partials' array */
WB_INLINE int wb_rthreads(void) {
    int nt = omp_get_max_threads();
    return nt > 64 ? 64 : nt;
}
""" % {"max_in": _MAX_IN}


@dataclass(frozen=True)
class Fold:
    """How one scalar op folds in C for an accumulator type.

    ``combine(a, v)`` is the fold of two values with NumPy's semantics (NaN propagates);
    ``clause``/``body`` the OpenMP simd reduction that vectorises it, where Max and Min of
    floats skip NaN in ``body`` and ``nan_flag`` makes the kernel return NaN when it saw one.
    """

    identity: str | None
    clause: str
    body_template: str
    combine_template: str
    nan_flag: bool = False

    def body(self, a: str, v: str) -> str:
        return self.body_template.format(a=a, v=v)

    def combine(self, a: str, v: str) -> str:
        return self.combine_template.format(a=a, v=v)


def _int_limit(dtype: str, which: str) -> str:
    info = np.iinfo(dtype)
    value = int(getattr(info, which))
    if info.kind == "u":
        return f"(({ctype(dtype)}){value}ULL)"
    if value == -(2 ** 63):
        return f"(({ctype(dtype)})(-9223372036854775807LL - 1))"
    return f"(({ctype(dtype)})({value}LL))"


def fold_for(name: str, acc: str) -> Fold | None:
    """The fold of the scalar op ``name`` (add, mul, maximum, minimum, and_, or_, xor) in an
    accumulator of dtype ``acc``; None for others (they run through ``perform``)."""
    kind = np.dtype(acc).kind
    t = ctype(acc)
    if kind == "b":
        # bools are 0/1: NumPy's logical add/mul/max/min are bitwise or/and on them
        op = {"add": "|", "mul": "&", "maximum": "|", "minimum": "&", "and_": "&",
              "or_": "|", "xor": "^"}.get(name)
        if op is None:
            return None
        ident = "1" if op == "&" else "0"
        return Fold(ident, op, "{a} " + op + "= {v};", "({a} " + op + " {v})")
    if name == "add":
        return Fold("0", "+", "{a} += {v};", "({a} + {v})")
    if name == "mul":
        return Fold("1", "*", "{a} *= {v};", "({a} * {v})")
    if name in ("maximum", "minimum"):
        big = name == "maximum"
        cmp = ">" if big else "<"
        body = "{a} = {v} " + cmp + " {a} ? {v} : {a};"
        if kind == "f":
            return Fold("-INFINITY" if big else "INFINITY",
                        "max" if big else "min", body,
                        ("wb_max({a}, {v})" if big else "wb_min({a}, {v})"), nan_flag=True)
        ident = _int_limit(acc, "min" if big else "max")
        return Fold(ident, "max" if big else "min", body,
                    "({v} " + cmp + " {a} ? {v} : {a})")
    if kind not in "iu":
        return None
    op = {"and_": "&", "or_": "|", "xor": "^"}.get(name)
    if op is None:
        return None
    ident = f"(({t})~(({t})0))" if op == "&" else "0"
    return Fold(ident, op, "{a} " + op + "= {v};", "({a} " + op + " {v})")


def _cast_out(expr: str, out_dtype: str) -> str:
    if out_dtype == "bool":
        return f"(({expr}) != 0)"
    return f"(({ctype(out_dtype)})({expr}))"


class ReduceCode:
    """The C of one reduction node: its types, its fold and the per-element value."""

    def __init__(self, cn, axes: tuple[int, ...], nd: int, in_dtypes: list[str], fold: Fold,
                 acc_dtype: str, out_dtype: str, program, has_identity: bool):
        self.cn = cn
        self.k = cn.index
        self.nd = nd
        self.red = [d in axes for d in range(nd)]
        self.nin = len(in_dtypes)
        self.tin = [ctype(d) for d in in_dtypes]
        self.fold = fold
        self.acc = ctype(acc_dtype)
        self.acc_dtype = acc_dtype
        self.out_dtype = out_dtype
        self.tout = ctype(out_dtype)
        self.program = program  # values -> (let lines, expression in the accumulator type)
        self.has_identity = has_identity
        self.width = max(2, 64 // np.dtype(acc_dtype).itemsize)

    def value(self, loads: list[str], target: str) -> str:
        """Declarations computing the folded value ``target`` from the inputs' ``loads``."""
        decls = [f"const {t} v{i} = {load};" for i, (t, load) in
                 enumerate(zip(self.tin, loads))]
        lets, expr = self.program([f"v{i}" for i in range(self.nin)])
        return " ".join(decls + lets + [f"const {self.acc} {target} = ({self.acc})({expr});"])

    # -- kernels -----------------------------------------------------------------------
    def _params(self, vector: list[bool]) -> str:
        return ", ".join(f"const {t} *restrict p{i}" if v else f"const {t} c{i}"
                         for i, (t, v) in enumerate(zip(self.tin, vector)))

    def rows_kernel(self, vector: list[bool]) -> str:
        """``acc wb_rrow<k>(n, inputs)``: the fold of n contiguous elements."""
        name = f"wb_rrow{self.k}"
        f = self.fold
        accs = [f"a{s}" for s in range(_STREAMS)]
        nan = " reduction(|:nan)" if f.nan_flag else ""

        def step(offset: str, a: str) -> str:
            loads = [f"p{i}[{offset}]" if v else f"c{i}" for i, v in enumerate(vector)]
            flag = " nan |= val != val;" if f.nan_flag else ""
            return "{ " + self.value(loads, "val") + " " + f.body(a, "val") + flag + " }"

        streams = "\n".join("        " + step("k" + (f" + {s} * h" if s else ""), a)
                            for s, a in enumerate(accs))
        merged = accs[0]
        for a in accs[1:]:
            merged = f.combine(merged, a)
        self.cn.support(
            f"static {self.acc} {name}(npy_intp n, {self._params(vector)}) {{\n"
            f"    {self.acc} {', '.join(a + ' = ' + f.identity for a in accs)};\n"
            + ("    int nan = 0;\n" if f.nan_flag else "")
            # only long runs are cut in four: a short one vectorises better whole
            + f"    const npy_intp h = n >= {_STREAMS * 16 * self.width} ? n / {_STREAMS} : 0;\n"
            f"    #pragma omp simd reduction({f.clause}:{','.join(accs)}){nan} "
            f"simdlen({self.width})\n"
            f"    for (npy_intp k = 0; k < h; k++) {{\n{streams}\n    }}\n"
            f"    #pragma omp simd reduction({f.clause}:a0){nan} simdlen({self.width})\n"
            f"    for (npy_intp k = {_STREAMS} * h; k < n; k++)\n        {step('k', 'a0')}\n"
            + (f"    if (nan) return ({self.acc})NAN;\n" if f.nan_flag else "")
            + f"    return {merged};\n}}\n")
        return name

    def cols_kernel(self, vector: list[bool]) -> str:
        """``wb_rcol<k>(n, a, inputs)``: a[j] folds element j of a contiguous row."""
        name = f"wb_rcol{self.k}"
        loads = [f"p{i}[j]" if v else f"c{i}" for i, v in enumerate(vector)]
        self.cn.support(
            f"static void {name}(npy_intp n, {self.acc} *restrict a, "
            f"{self._params(vector)}) {{\n"
            f"    #pragma omp simd simdlen({self.width})\n"
            f"    for (npy_intp j = 0; j < n; j++) {{ {self.value(loads, 'val')} "
            f"a[j] = {self.fold.combine('a[j]', 'val')}; }}\n}}\n")
        return name

    def _args(self, vector: list[bool], ptr: str, offset: str) -> str:
        return ", ".join(f"(const {t} *){ptr}[{i}] + {offset}" if v
                         else f"*(const {t} *){ptr}[{i}]"
                         for i, (t, v) in enumerate(zip(self.tin, vector)))

    # -- the three paths ---------------------------------------------------------------
    def rows_path(self, vector: list[bool]) -> str:
        kernel = self.rows_kernel(vector)
        k, n, f = self.k, self.nin, self.fold
        fold = f"wb_rfold{k}"
        self.cn.support(
            f"/* the fold of reduced positions [b, e) of output m (runs of P->L) */\n"
            f"static {self.acc} {fold}(const wb_rplan *P, npy_intp m, npy_intp b, npy_intp e)"
            f" {{\n"
            f"    char *q[{n}], *p[{n}];\n"
            f"    wb_rplan_kept(P, {n}, m, q);\n"
            f"    {self.acc} acc = {f.identity};\n"
            f"    npy_intp r = b / P->L, k = b - r * P->L;\n"
            f"    while (b < e) {{\n"
            f"        const npy_intp len = P->L - k < e - b ? P->L - k : e - b;\n"
            f"        wb_rplan_red(P, {n}, r, q, p);\n"
            f"        const {self.acc} part = {kernel}(len, {self._args(vector, 'p', 'k')});\n"
            f"        acc = {f.combine('acc', 'part')};\n"
            f"        b += len; r++; k = 0;\n"
            f"    }}\n"
            f"    return acc;\n}}\n")
        out = _cast_out("acc", self.out_dtype)
        return (
            f"const npy_intp RL = P.R * P.L;\n"
            f"if (P.M * RL < {self.cn.omp_min}) {{\n"
            f"    for (npy_intp m = 0; m < P.M; m++) {{ const {self.acc} acc = "
            f"{fold}(&P, m, 0, RL); po[m] = {out}; }}\n"
            f"}} else if (P.M >= 8 * omp_get_max_threads()) {{\n"
            f"    #pragma omp parallel for schedule(static)\n"
            f"    for (npy_intp m = 0; m < P.M; m++) {{ const {self.acc} acc = "
            f"{fold}(&P, m, 0, RL); po[m] = {out}; }}\n"
            f"}} else {{\n"
            # few outputs: each one's run is cut across threads, the partials combined in
            # thread order (the result does not depend on which thread ends first)
            f"    const int nt = wb_rthreads();\n"
            f"    {self.acc} part[64];\n"
            f"    for (npy_intp m = 0; m < P.M; m++) {{\n"
            f"        int used = 1;\n"
            f"        #pragma omp parallel num_threads(nt)\n"
            f"        {{\n"
            f"            const npy_intp T = omp_get_num_threads(), t = omp_get_thread_num();\n"
            f"            npy_intp chunk = ((RL + T - 1) / T + 63) & ~(npy_intp)63;\n"
            f"            npy_intp b = t * chunk, e = b + chunk < RL ? b + chunk : RL;\n"
            f"            part[t] = b < e ? {fold}(&P, m, b, e) : {f.identity};\n"
            f"            if (t == 0) used = (int)T;\n"
            f"        }}\n"
            f"        {self.acc} acc = part[0];\n"
            f"        for (int t = 1; t < used; t++) acc = {f.combine('acc', 'part[t]')};\n"
            f"        po[m] = {out};\n"
            f"    }}\n"
            f"}}")

    def cols_path(self, vector: list[bool]) -> str:
        kernel = self.cols_kernel(vector)
        k, n, f = self.k, self.nin, self.fold
        unit = f"wb_rcols{k}"
        shifts = " ".join(f"p[{i}] += j0 * sizeof({t});"
                          for i, (t, v) in enumerate(zip(self.tin, vector)) if v)
        self.cn.support(
            f"/* output tile u: kept group u / ntiles, columns of tile u % ntiles */\n"
            f"static void {unit}(const wb_rplan *P, npy_intp u, npy_intp ntiles, "
            f"{self.tout} *po) {{\n"
            f"    const npy_intp g = u / ntiles, j0 = (u - g * ntiles) * {_TILE};\n"
            f"    const npy_intp len = P->L - j0 < {_TILE} ? P->L - j0 : {_TILE};\n"
            f"    char *p[{n}];\n"
            f"    npy_intp idx[WB_MAXDIM] = {{0}};\n"
            f"    {self.acc} a[{_TILE}];\n"
            f"    wb_rplan_kept(P, {n}, g, p);\n"
            f"    {shifts}\n"
            f"    for (npy_intp j = 0; j < len; j++) a[j] = {f.identity};\n"
            f"    for (npy_intp r = 0; r < P->R; r++) {{\n"
            f"        {kernel}(len, a, {self._args(vector, 'p', '0')});\n"
            f"        wb_rplan_step(P, {n}, idx, p);\n"
            f"    }}\n"
            f"    {self.tout} *o = po + g * P->L + j0;\n"
            f"    for (npy_intp j = 0; j < len; j++) o[j] = {_cast_out('a[j]', self.out_dtype)};\n"
            f"}}\n")
        return (
            f"const npy_intp ntiles = (P.L + {_TILE - 1}) / {_TILE}, U = P.M * ntiles;\n"
            f"if (U >= 2 && P.M * P.L * P.R >= {self.cn.omp_min}) {{\n"
            f"    #pragma omp parallel for schedule(static)\n"
            f"    for (npy_intp u = 0; u < U; u++) {unit}(&P, u, ntiles, po);\n"
            f"}} else {{\n"
            f"    for (npy_intp u = 0; u < U; u++) {unit}(&P, u, ntiles, po);\n"
            f"}}")

    def general_path(self) -> str:
        k, n, f = self.k, self.nin, self.fold
        fn = f"wb_rgen{k}"
        loads = [f"*(const {t} *)p[{i}]" for i, t in enumerate(self.tin)]
        self.cn.support(
            f"/* output m over any strides: an odometer over the reduced axes */\n"
            f"static {self.acc} {fn}(const wb_rplan *P, npy_intp m) {{\n"
            f"    char *p[{n}];\n"
            f"    npy_intp idx[WB_MAXDIM] = {{0}};\n"
            f"    wb_rplan_kept(P, {n}, m, p);\n"
            f"    {self.acc} acc = {f.identity};\n"
            f"    for (npy_intp r = 0; r < P->R; r++) {{\n"
            f"        {{ {self.value(loads, 'val')} acc = {f.combine('acc', 'val')}; }}\n"
            f"        wb_rplan_step(P, {n}, idx, p);\n"
            f"    }}\n"
            f"    return acc;\n}}\n")
        out = _cast_out("acc", self.out_dtype)
        loop = (f"for (npy_intp m = 0; m < P.M; m++) {{ const {self.acc} acc = {fn}(&P, m); "
                f"po[m] = {out}; }}")
        return (f"if (P.M >= 2 && P.M * P.R >= {self.cn.omp_min}) {{\n"
                f"    #pragma omp parallel for schedule(static)\n    {loop}\n"
                f"}} else {{\n    {loop}\n}}")

    # -- the node's block --------------------------------------------------------------
    def block(self, dims_code: str, dims_name: str, empty_text: str, rows_vector: list[bool], cols_vector: list[bool]) -> str:
        cn, nd, n = self.cn, self.nd, self.nin
        kept = [d for d in range(nd) if not self.red[d]]
        red_dims = [d for d in range(nd) if self.red[d]]
        code = [dims_code]
        code.append(f"npy_intp odims[{max(len(kept), 1)}];")
        code += [f"odims[{j}] = {dims_name}[{d}];" for j, d in enumerate(kept)]
        code.append(f"if (wb_prepare(o0, {len(kept)}, odims, {cn.typenum(self.out_dtype)})) "
                    f"goto wb_fail;")
        code.append(f"{self.tout} *po = ({self.tout} *)PyArray_DATA((PyArrayObject *)*o0);")
        code.append(f"const npy_intp M = PyArray_SIZE((PyArrayObject *)*o0);")
        rall = " * ".join(f"{dims_name}[{d}]" for d in red_dims) or "1"
        code.append(f"const npy_intp Rall = {rall};")
        if self.has_identity:
            ident = _cast_out(self.fold.identity, self.out_dtype)
            code.append(f"if (Rall == 0) {{ for (npy_intp m = 0; m < M; m++) po[m] = {ident}; }}")
        else:
            code.append(
                f"if (Rall == 0) {{ char sh[160]; wb_dims_text(sh, 160, {nd}, {dims_name}); "
                f"PyErr_Format(PyExc_ValueError, \"{empty_text}\", sh); goto wb_fail; }}")
        ins = ", ".join(f"i{i}" for i in range(n))
        red = ", ".join("1" if r else "0" for r in self.red) or "0"
        vr = ", ".join("1" if v else "0" for v in rows_vector)
        vc = ", ".join("1" if v else "0" for v in cols_vector)
        vg = ", ".join("1" for _ in range(n))
        plan = (f"wb_rplan_make(&P, {{kind}}, {nd}, {dims_name}, {n}, ins, red, {{vec}})")
        code.append(
            f"else if (M > 0) {{\n"
            f"    PyArrayObject *const ins[] = {{{ins}}};\n"
            f"    static const char red[] = {{{red}}}, vrow[] = {{{vr}}}, vcol[] = {{{vc}}}, "
            f"vall[] = {{{vg}}};\n"
            f"    wb_rplan P;\n"
            f"    if ({plan.format(kind=0, vec='vrow')}) {{\n"
            + _indent(self.rows_path(rows_vector), 8) + "\n"
            f"    }} else if ({plan.format(kind=1, vec='vcol')}) {{\n"
            + _indent(self.cols_path(cols_vector), 8) + "\n"
            f"    }} else {{\n"
            f"        {plan.format(kind=2, vec='vall')};\n"
            + _indent(self.general_path(), 8) + "\n"
            f"    }}\n}}")
        return "\n".join(code)


def _trailing(axes: set[int], nd: int, reduced: bool) -> list[int]:
    """The last axes that are all reduced (or all kept)."""
    out = []
    for d in reversed(range(nd)):
        if (d in axes) != reduced:
            break
        out.append(d)
    return out


def _vector_flags(node_inputs, axes: set[int], nd: int, reduced: bool) -> list[bool]:
    """Per input: whether it is read along the rows (columns) path's block, judging by its
    static shape (length one on every trailing reduced (kept) axis: constant along it)."""
    block = _trailing(axes, nd, reduced)
    flags = []
    for v in node_inputs:
        shape = v.type.shape
        constant = (bool(block) and all(shape[d] == 1 for d in block)) or \
            all(s == 1 for s in shape)
        flags.append(not constant)
    return flags


def _empty_text(op) -> str:
    return (_c_format(f"{op}: cannot reduce an empty axis of an input of shape ") + "%s"
            + _c_format(f" with {op.scalar_op}, which has no identity (NumPy raises too)"))


@emits(CAReduce)
def careduce(cn) -> str | None:
    node = cn.node
    op = node.op
    in_dtype, out_dtype = cn.in_dtype(0), cn.out_dtype(0)
    if in_dtype not in CTYPES or out_dtype not in CTYPES or node.inputs[0].ndim > _MAX_DIM:
        return None
    _, acc_dtype = op.resolve_dtypes(in_dtype)
    if acc_dtype not in CTYPES:
        return None
    fold = fold_for(op.scalar_op.name, acc_dtype)
    if fold is None:
        return None
    nd = node.inputs[0].ndim
    axes = set(range(nd) if op.axis is None else op.axis)
    code = ReduceCode(cn, tuple(sorted(axes)), nd, [in_dtype], fold, acc_dtype, out_dtype,
                      lambda values: ([], values[0]), op.ufunc.identity is not None)
    cn.support(_PLAN)
    return code.block("const npy_intp *dims = PyArray_DIMS(i0);", "dims", _empty_text(op),
                      [True], [True])


@emits(FusedReduce)
def fused_reduce(cn) -> str | None:
    node = cn.node
    op = node.op
    inner = op._inner(node)
    red_op = inner.op
    elem_dtype = inner.inputs[0].type.dtype
    in_dtypes = [v.type.dtype for v in node.inputs]
    out_dtype = cn.out_dtype(0)
    nd = node.inputs[0].ndim if node.inputs else 0
    if len(node.inputs) > _MAX_IN or nd > _MAX_DIM or out_dtype not in CTYPES \
            or not can_render(op.scalar_op, in_dtypes, elem_dtype):
        return None
    _, acc_dtype = red_op.resolve_dtypes(elem_dtype)
    if acc_dtype not in CTYPES:
        return None
    fold = fold_for(red_op.scalar_op.name, acc_dtype)
    if fold is None:
        return None
    axes = set(range(nd) if red_op.axis is None else red_op.axis)

    def program(values: list[str]) -> tuple[list[str], str]:
        return render_program(op.scalar_op, values, in_dtypes)

    code = ReduceCode(cn, tuple(sorted(axes)), nd, in_dtypes, fold, acc_dtype, out_dtype,
                      program, red_op.ufunc.identity is not None)
    cn.support(_PLAN)
    return code.block(_broadcast_check(cn, nd, cn.ins), "dims", _empty_text(red_op),
                      _vector_flags(node.inputs, axes, nd, True),
                      _vector_flags(node.inputs, axes, nd, False))


@emits(Argmax, Argmin)
def argmax(cn) -> str | None:
    """The first index of the maximum (minimum) of the flattened reduced axes; a NaN wins at
    its first occurrence, as in NumPy."""
    node = cn.node
    op = node.op
    dtype = cn.in_dtype(0)
    nd = node.inputs[0].ndim
    if dtype not in CTYPES or nd > _MAX_DIM:
        return None
    k = cn.index
    t = ctype(dtype)
    # a later value wins when it is not <= (>=) the best so far: greater (smaller), or NaN
    keep = "<=" if not isinstance(op, Argmin) else ">="
    axes = set(range(nd) if op.axis is None else op.axis)
    kept = [d for d in range(nd) if d not in axes]
    cn.support(_PLAN)
    cn.support(
        f"/* the first extremum of n contiguous values: its index, and its value in *best */\n"
        f"static npy_intp wb_amrow{k}(npy_intp n, const {t} *restrict p, {t} *best) {{\n"
        f"    {t} mp = p[0];\n"
        f"    npy_intp mi = 0;\n"
        f"    if (mp == mp) for (npy_intp j = 1; j < n; j++) {{\n"
        f"        const {t} v = p[j];\n"
        f"        if (!(v {keep} mp)) {{ mp = v; mi = j; if (v != v) break; }}\n"
        f"    }}\n"
        f"    *best = mp;\n"
        f"    return mi;\n}}\n"
        f"/* output m over any strides, counting positions in C order */\n"
        f"static npy_intp wb_amgen{k}(const wb_rplan *P, npy_intp m) {{\n"
        f"    char *p[1];\n"
        f"    npy_intp idx[WB_MAXDIM] = {{0}}, mi = 0;\n"
        f"    wb_rplan_kept(P, 1, m, p);\n"
        f"    {t} mp = *(const {t} *)p[0];\n"
        f"    for (npy_intp r = 1; r < P->R && mp == mp; r++) {{\n"
        f"        wb_rplan_step(P, 1, idx, p);\n"
        f"        const {t} v = *(const {t} *)p[0];\n"
        f"        if (!(v {keep} mp)) {{ mp = v; mi = r; }}\n"
        f"    }}\n"
        f"    return mi;\n}}\n")
    red_dims = " * ".join(f"dims[{d}]" for d in sorted(axes)) or "1"
    red = ", ".join("1" if d in axes else "0" for d in range(nd)) or "0"
    name = type(op).__name__.lower()
    empty = _c_format(f"{op}: cannot take the {name} of an empty axis of an input of shape ") \
        + "%s" + _c_format(" (NumPy raises too)")
    row = f"wb_amrow{k}"
    one = (f"{{ char *q[1]; {t} best; wb_rplan_kept(&P, 1, m, q); "
           f"po[m] = {row}(P.L, (const {t} *)q[0], &best); }}")
    rows = (
        f"if (P.M * P.L < {cn.omp_min}) {{\n"
        f"    for (npy_intp m = 0; m < P.M; m++) {one}\n"
        f"}} else if (P.M >= 8 * omp_get_max_threads()) {{\n"
        f"    #pragma omp parallel for schedule(static)\n"
        f"    for (npy_intp m = 0; m < P.M; m++) {one}\n"
        f"}} else {{\n"
        # few outputs: each thread finds the first extremum of its part; the parts are
        # combined in order by the same rule, which keeps the first occurrence
        f"    const int nt = wb_rthreads();\n"
        f"    {t} val[64];\n"
        f"    npy_intp at[64];\n"
        f"    for (npy_intp m = 0; m < P.M; m++) {{\n"
        f"        char *q[1];\n"
        f"        int used = 1;\n"
        f"        wb_rplan_kept(&P, 1, m, q);\n"
        f"        #pragma omp parallel num_threads(nt)\n"
        f"        {{\n"
        f"            const npy_intp nth = omp_get_num_threads(), th = omp_get_thread_num();\n"
        f"            const npy_intp chunk = (P.L + nth - 1) / nth, b = th * chunk;\n"
        f"            const npy_intp e = b + chunk < P.L ? b + chunk : P.L;\n"
        f"            at[th] = b < e ? b + {row}(e - b, (const {t} *)q[0] + b, &val[th]) : -1;\n"
        f"            if (th == 0) used = (int)nth;\n"
        f"        }}\n"
        f"        {t} mp = val[0];\n"
        f"        npy_intp mi = at[0];\n"
        f"        for (int th = 1; th < used && at[th] >= 0 && mp == mp; th++)\n"
        f"            if (!(val[th] {keep} mp)) {{ mp = val[th]; mi = at[th]; }}\n"
        f"        po[m] = mi;\n"
        f"    }}\n"
        f"}}")
    general = f"for (npy_intp m = 0; m < P.M; m++) po[m] = wb_amgen{k}(&P, m);"
    return "\n".join([
        "const npy_intp *dims = PyArray_DIMS(i0);",
        f"npy_intp odims[{max(len(kept), 1)}];",
        *[f"odims[{j}] = dims[{d}];" for j, d in enumerate(kept)],
        f"if ({red_dims} == 0) {{ char sh[160]; wb_shape_text(sh, 160, i0); "
        f"PyErr_Format(PyExc_ValueError, \"{empty}\", sh); goto wb_fail; }}",
        f"if (wb_prepare(o0, {len(kept)}, odims, NPY_INT64)) goto wb_fail;",
        "npy_int64 *po = (npy_int64 *)PyArray_DATA((PyArrayObject *)*o0);",
        "if (PyArray_SIZE((PyArrayObject *)*o0) > 0) {",
        "    PyArrayObject *const ins[] = {i0};",
        f"    static const char red[] = {{{red}}}, vec[] = {{1}};",
        "    wb_rplan P;",
        f"    if (wb_rplan_make(&P, 0, {nd}, dims, 1, ins, red, vec) && P.nr == 0) {{",
        _indent(rows, 8),
        "    } else {",
        f"        wb_rplan_make(&P, 2, {nd}, dims, 1, ins, red, vec);",
        f"        if (P.M >= 2 && P.M * P.R >= {cn.omp_min}) {{",
        "            #pragma omp parallel for schedule(static)",
        f"            {general}",
        f"        }} else {{ {general} }}",
        "    }",
        "}",
    ])


def _c_format(text: str) -> str:
    """``text`` inside a C printf format string literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines())
