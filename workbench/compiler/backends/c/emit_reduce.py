"""C for reductions: CAReduce (Sum, Prod, Max, Min, All, Any, other folds), FusedReduce (an
elementwise expression folded in the same pass, never stored) and Argmax/Argmin.

A node first drops the axes of length one and orders the others by stride, largest first (a
fold is commutative, so ``x.T.sum(axis=1)`` reads memory in order too), then picks a loop at
run time:

1. rows: the innermost axes are reduced and contiguous (``x.sum(axis=1)``, a sum of
   everything): each output folds contiguous runs with a vectorised kernel whose several
   accumulators each read a part of the run (one would be bound by the add's latency, and
   several reads in flight draw more from memory). Many outputs are split across cores; a
   few outputs have their runs cut across cores, one partial per thread, combined in thread
   order (the result does not depend on timing);
2. columns: the innermost axes are kept and contiguous (``x.sum(axis=0)``): rows of the input
   are folded into a row of accumulators, vectorised along the row. Tiles of the row are
   split across cores, or, when there are few, the reduced rows are (one accumulator row per
   thread, combined in thread order);
3. general: any strides; an odometer over the reduced axes of each output.

Floats accumulate in the op's ``acc_dtype`` in another order than NumPy's pairwise sums: the
last bits may differ. Max and Min propagate NaN as NumPy does, and folds without an identity
raise on an empty reduction as NumPy does. Argmax/Argmin keep their axes' order (the index
is into the flattened reduced axes) and have a rows path and the general one.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from ...ops.fused_reduce import FusedReduce
from ...ops.reduce import Argmax, Argmin, CAReduce
from ..cstyle import CTYPES, can_render, ctype, render_program
from .emit_elemwise import _broadcast_check
from .registry import emits

#: accumulators of the rows kernel, each reading its own part of the run: four hide the
#: latency of a vector add; a plain fold (a load per element) runs eight, whose reads in
#: flight draw a little more bandwidth from memory
_STREAMS = {"plain": 8, "fused": 4}
#: output elements the columns path accumulates on the stack at once
_TILE = 1024
#: the most inputs a FusedReduce compiles with (the loop plan holds one stride row each)
_MAX_IN = 32
#: the most dimensions the loop plan holds (runtime.h's WB_MAXDIM)
_MAX_DIM = 32

#: shared by every reduction of a module: the loop plan and the shape text of messages
_PLAN = r"""
#define WB_RMAXIN %(max_in)d
/* A reduction's loops once the axes of length one are dropped: kept axes (kd; strides ks per
 * input and ko of the output, in elements), reduced axes (rd, rs) and, for the rows and
 * columns paths, the length L of the innermost contiguous block (reduced axes for rows,
 * kept axes for columns; the block is left out of the other lists). */
typedef struct {
    char *base[WB_RMAXIN];
    int nk, nr;
    npy_intp kd[WB_MAXDIM], rd[WB_MAXDIM], ko[WB_MAXDIM];
    npy_intp ks[WB_RMAXIN][WB_MAXDIM], rs[WB_RMAXIN][WB_MAXDIM];
    npy_intp L, M, R;
} wb_rplan;

WB_INLINE npy_intp wb_rstride(PyArrayObject *a, int d) {
    return PyArray_DIMS(a)[d] == 1 ? 0 : PyArray_STRIDES(a)[d];  /* broadcast: 0 */
}

/* kind 0: rows (a block of innermost reduced axes), 1: columns (innermost kept axes), 2:
 * general (no block). vec[i]: input i is read along the block, contiguous there; else it
 * must be constant along it (stride 0). sort: order the axes by stride (folds only: the
 * arg-reductions index in the axes' own order). Returns 0 when there is no such block. */
static int wb_rplan_make(wb_rplan *P, int kind, int nd, const npy_intp *dims, int nin,
                         PyArrayObject *const *ins, const char *red, const char *vec,
                         int sort) {
    int live[WB_MAXDIM], nl = 0, nb = 0;
    npy_intp ostr[WB_MAXDIM], key[WB_MAXDIM], expect[WB_RMAXIN], oexpect = 1, o = 1;
    for (int d = nd - 1; d >= 0; d--) if (!red[d]) { ostr[d] = o; o *= dims[d]; }
    for (int d = 0; d < nd; d++) {
        if (dims[d] == 1) continue;
        npy_intp k = 0;
        for (int i = 0; i < nin; i++) { npy_intp s = wb_rstride(ins[i], d); k += s < 0 ? -s : s; }
        int j = nl++;
        /* stable insertion by decreasing total stride */
        for (; sort && j > 0 && key[j - 1] < k; j--) { live[j] = live[j - 1]; key[j] = key[j - 1]; }
        live[j] = d;
        key[j] = k;
    }
    for (int i = 0; i < nin; i++) {
        expect[i] = PyArray_ITEMSIZE(ins[i]);
        P->base[i] = PyArray_BYTES(ins[i]);
    }
    P->L = 1;
    if (kind < 2) {
        for (int j = nl - 1; j >= 0; j--) {
            int d = live[j], ok = red[d] == (kind == 0) && (kind == 0 || ostr[d] == oexpect);
            for (int i = 0; ok && i < nin; i++) {
                npy_intp s = wb_rstride(ins[i], d);
                ok = vec[i] ? s == expect[i] : s == 0;
            }
            if (!ok) break;
            for (int i = 0; i < nin; i++) if (vec[i]) expect[i] *= dims[d];
            oexpect *= dims[d];
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
            if (red[d]) P->rs[i][P->nr] = wb_rstride(ins[i], d);
            else P->ks[i][P->nk] = wb_rstride(ins[i], d);
        }
        if (red[d]) { P->rd[P->nr++] = dims[d]; P->R *= dims[d]; }
        else { P->ko[P->nk] = ostr[d]; P->kd[P->nk++] = dims[d]; P->M *= dims[d]; }
    }
    return 1;
}

/* q[i]: where input i's data of kept position m starts; returns the output's offset */
WB_INLINE npy_intp wb_rplan_kept(const wb_rplan *P, int nin, npy_intp m, char **q) {
    npy_intp off = 0;
    for (int i = 0; i < nin; i++) q[i] = P->base[i];
    for (int d = P->nk - 1; d >= 0; d--) {
        npy_intp c = m %% P->kd[d];
        m /= P->kd[d];
        off += c * P->ko[d];
        for (int i = 0; i < nin; i++) q[i] += c * P->ks[i][d];
    }
    return off;
}

/* p[i]: q[i] moved to reduced position r; idx: r's coordinates (for wb_rplan_step) */
WB_INLINE void wb_rplan_red(const wb_rplan *P, int nin, npy_intp r, char *const *q, char **p,
                            npy_intp *idx) {
    for (int i = 0; i < nin; i++) p[i] = q[i];
    for (int d = P->nr - 1; d >= 0; d--) {
        idx[d] = r %% P->rd[d];
        r /= P->rd[d];
        for (int i = 0; i < nin; i++) p[i] += idx[d] * P->rs[i][d];
    }
}

/* the next reduced position, in C order of the plan's axes */
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

/* threads of a split reduction, capped by the size of the partials' arrays */
WB_INLINE int wb_rthreads(void) {
    int nt = omp_get_max_threads();
    return nt > 64 ? 64 : nt;
}
""" % {"max_in": _MAX_IN}


@dataclass(frozen=True)
class Fold:
    """How a scalar op folds in C for one accumulator type.

    ``combine`` is the fold of two values with NumPy's semantics (NaN propagates through Max
    and Min). ``clause`` and ``body`` are the OpenMP simd reduction that vectorises it; for
    Max and Min of floats ``body`` skips NaN and ``nan_flag`` makes the kernel return NaN
    when it saw one (OpenMP's max would drop it).
    """

    identity: str
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
    accumulator of dtype ``acc``; None for others (they run through ``perform``).

    >>> fold_for("maximum", "float64").combine("a", "v")
    'wb_max(a, v)'
    >>> fold_for("sub", "int64") is None
    True
    """
    kind = np.dtype(acc).kind
    t = ctype(acc)
    if kind == "b":
        # bools are 0/1: NumPy's add/mul/max/min of bools are or/and
        op = {"add": "|", "mul": "&", "maximum": "|", "minimum": "&", "and_": "&",
              "or_": "|", "xor": "^"}.get(name)
        if op is None:
            return None
        return Fold("1" if op == "&" else "0", op, "{a} " + op + "= {v};",
                    "({a} " + op + " {v})")
    if name == "add":
        return Fold("0", "+", "{a} += {v};", "({a} + {v})")
    if name == "mul":
        return Fold("1", "*", "{a} *= {v};", "({a} * {v})")
    if name in ("maximum", "minimum"):
        big = name == "maximum"
        cmp = ">" if big else "<"
        clause = "max" if big else "min"
        body = "{a} = {v} " + cmp + " {a} ? {v} : {a};"
        if kind == "f":
            return Fold("-INFINITY" if big else "INFINITY", clause, body,
                        "wb_max({a}, {v})" if big else "wb_min({a}, {v})", nan_flag=True)
        return Fold(_int_limit(acc, "min" if big else "max"), clause, body,
                    "({v} " + cmp + " {a} ? {v} : {a})")
    op = {"and_": "&", "or_": "|", "xor": "^"}.get(name)
    if op is None or kind not in "iu":
        return None
    ident = f"(({t})~(({t})0))" if op == "&" else "0"
    return Fold(ident, op, "{a} " + op + "= {v};", "({a} " + op + " {v})")


def _same_width_int(dtype: str) -> str:
    return {8: "npy_int64", 4: "npy_int32", 2: "npy_int16"}.get(np.dtype(dtype).itemsize,
                                                                 "npy_int8")


def _cast_out(expr: str, out_dtype: str) -> str:
    if out_dtype == "bool":
        return f"(({expr}) != 0)"
    return f"(({ctype(out_dtype)})({expr}))"


def _define(cn, prefix: str, text: str) -> str:
    """Add the C function ``text``, its own name written ``@@``, to the module once, named
    after its content: reductions with the same types, fold and loads share one copy, and
    the compiler has less to build. Returns the name."""
    name = f"{prefix}_{hashlib.sha1(text.encode()).hexdigest()[:10]}"
    cn.support(text.replace("@@", name))
    return name


def _runner(cn, prefix: str, out_type: str, code: str) -> str:
    """``code``, a loop over the plan ``P`` (a local of the node's block) writing ``po``, as
    a shared function taking them; returns the call the block makes."""
    body = re.sub(r"\bP\.", "P->", re.sub(r"&P\b", "P", code))
    name = _define(cn, prefix, f"static void @@(const wb_rplan *P, {out_type} *po) {{\n"
                   + _indent(body, 4) + "\n}\n")
    return f"{name}(&P, po);"


def _c_format(text: str) -> str:
    """``text`` inside a C printf format string literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")


class ReduceCode:
    """The C of one fold node (CAReduce or FusedReduce): kernels, paths and the block."""

    def __init__(self, cn, axes: set[int], nd: int, in_dtypes: list[str], fold: Fold,
                 acc_dtype: str, out_dtype: str, program, has_identity: bool,
                 plain: bool):
        self.cn = cn
        self.plain = plain  # a CAReduce: the value folded is the input's element
        self.nd = nd
        self.red = [d in axes for d in range(nd)]
        self.nin = len(in_dtypes)
        self.tin = [ctype(d) for d in in_dtypes]
        self.fold = fold
        self.acc = ctype(acc_dtype)
        self.out_dtype = out_dtype
        self.tout = ctype(out_dtype)
        self.program = program  # value names -> (let lines, expression)
        self.has_identity = has_identity
        self.width = max(2, 64 // np.dtype(acc_dtype).itemsize)  # one 512-bit vector
        # the NaN flag as wide as the values: its vector needs no conversion of masks
        self.flag = _same_width_int(acc_dtype)

    def value(self, loads: list[str], target: str) -> str:
        """Declarations computing ``target``, the value folded, from the inputs' ``loads``."""
        decls = [f"const {t} v{i} = {load};" for i, (t, load) in
                 enumerate(zip(self.tin, loads))]
        lets, expr = self.program([f"v{i}" for i in range(self.nin)])
        return " ".join(decls + lets + [f"const {self.acc} {target} = ({self.acc})({expr});"])

    def _params(self, vector: list[bool]) -> str:
        # constant inputs come as values c<i>; the loop body names its values v<i>
        return ", ".join(f"const {t} *restrict p{i}" if v else f"const {t} c{i}"
                         for i, (t, v) in enumerate(zip(self.tin, vector)))

    def _args(self, vector: list[bool], offset: str) -> str:
        return ", ".join(f"(const {t} *)p[{i}] + {offset}" if v else f"*(const {t} *)p[{i}]"
                         for i, (t, v) in enumerate(zip(self.tin, vector)))

    # -- rows --------------------------------------------------------------------------
    def _rows_kernel(self, vector: list[bool]) -> str:
        """``acc wb_rrow_<hash>(n, inputs)``: the fold of n contiguous elements."""
        f = self.fold
        # eight accumulators with NaN flags cost the compiler tens of seconds: four there
        streams = _STREAMS["plain" if self.plain and not f.nan_flag else "fused"]
        accs = [f"a{s}" for s in range(streams)]
        nan = " reduction(|:nan)" if f.nan_flag else ""

        def step(offset: str, a: str) -> str:
            loads = [f"p{i}[{offset}]" if v else f"c{i}" for i, v in enumerate(vector)]
            flag = " nan |= val != val;" if f.nan_flag else ""
            return "{ " + self.value(loads, "val") + " " + f.body(a, "val") + flag + " }"

        body = "\n".join("        " + step("k" + (f" + {s} * h" if s else ""), a)
                         for s, a in enumerate(accs))
        merged = accs[0]
        for a in accs[1:]:
            merged = f.combine(merged, a)
        return _define(
            self.cn, "wb_rrow",
            f"static {self.acc} @@(npy_intp n, {self._params(vector)}) {{\n"
            f"    {self.acc} {', '.join(a + ' = ' + f.identity for a in accs)};\n"
            + (f"    {self.flag} nan = 0;\n" if f.nan_flag else "")
            # a short run vectorises better whole than cut in four
            + f"    const npy_intp h = n >= {streams * 16 * self.width} ? n / {streams} : 0;\n"
            f"    #pragma omp simd reduction({f.clause}:{','.join(accs)}){nan} "
            f"simdlen({self.width})\n"
            f"    for (npy_intp k = 0; k < h; k++) {{\n{body}\n    }}\n"
            f"    #pragma omp simd reduction({f.clause}:a0){nan} simdlen({self.width})\n"
            f"    for (npy_intp k = {streams} * h; k < n; k++)\n        {step('k', 'a0')}\n"
            + (f"    if (nan) return ({self.acc})NAN;\n" if f.nan_flag else "")
            + f"    return {merged};\n}}\n")

    def rows_path(self, vector: list[bool]) -> str:
        kernel = self._rows_kernel(vector)
        n, f = self.nin, self.fold
        fold = _define(
            self.cn, "wb_rfold",
            f"/* the fold of reduced positions [b, e) from q (runs of P->L elements) */\n"
            f"static {self.acc} @@(const wb_rplan *P, char *const *q, npy_intp b, "
            f"npy_intp e) {{\n"
            f"    char *p[{n}];\n"
            f"    npy_intp idx[WB_MAXDIM];\n"
            f"    {self.acc} acc = {f.identity};\n"
            f"    npy_intp r = b / P->L, k = b - r * P->L;\n"
            f"    while (b < e) {{\n"
            f"        const npy_intp len = P->L - k < e - b ? P->L - k : e - b;\n"
            f"        wb_rplan_red(P, {n}, r, q, p, idx);\n"
            f"        const {self.acc} part = {kernel}(len, {self._args(vector, 'k')});\n"
            f"        acc = {f.combine('acc', 'part')};\n"
            f"        b += len; r++; k = 0;\n"
            f"    }}\n"
            f"    return acc;\n}}\n")
        out = _cast_out("acc", self.out_dtype)
        one = (f"{{ char *q[{n}]; const npy_intp off = wb_rplan_kept(&P, {n}, m, q); "
               f"const {self.acc} acc = {fold}(&P, q, 0, RL); po[off] = {out}; }}")
        return (
            f"const npy_intp RL = P.R * P.L;\n"
            f"if (P.M * RL < {self.cn.omp_min}) {{\n"
            f"    for (npy_intp m = 0; m < P.M; m++) {one}\n"
            f"}} else if (P.M >= 8 * omp_get_max_threads()) {{\n"
            f"    #pragma omp parallel for schedule(static)\n"
            f"    for (npy_intp m = 0; m < P.M; m++) {one}\n"
            f"}} else {{\n"
            # few outputs: each one's positions are cut across threads, and the partials
            # combined in thread order
            f"    const int nt = wb_rthreads();\n"
            f"    {self.acc} part[64];\n"
            f"    for (npy_intp m = 0; m < P.M; m++) {{\n"
            f"        char *q[{n}];\n"
            f"        const npy_intp off = wb_rplan_kept(&P, {n}, m, q);\n"
            f"        int used = 1;\n"
            f"        #pragma omp parallel num_threads(nt)\n"
            f"        {{\n"
            f"            const npy_intp nth = omp_get_num_threads(), th = omp_get_thread_num();\n"
            f"            const npy_intp chunk = ((RL + nth - 1) / nth + 63) & ~(npy_intp)63;\n"
            f"            const npy_intp b = th * chunk, e = b + chunk < RL ? b + chunk : RL;\n"
            f"            part[th] = b < e ? {fold}(&P, q, b, e) : {f.identity};\n"
            f"            if (th == 0) used = (int)nth;\n"
            f"        }}\n"
            f"        {self.acc} acc = part[0];\n"
            f"        for (int th = 1; th < used; th++) acc = {f.combine('acc', 'part[th]')};\n"
            f"        po[off] = {out};\n"
            f"    }}\n"
            f"}}")

    # -- columns -----------------------------------------------------------------------
    def cols_path(self, vector: list[bool]) -> str:
        n, f, acc = self.nin, self.fold, self.acc
        loads = [f"p{i}[j]" if v else f"c{i}" for i, v in enumerate(vector)]
        shifts = " ".join(f"p[{i}] += j0 * sizeof({t});"
                          for i, (t, v) in enumerate(zip(self.tin, vector)) if v)
        kernel = _define(
            self.cn, "wb_rcol",
            f"/* a[j] folds element j of a row, for j < n */\n"
            f"static void @@(npy_intp n, {acc} *restrict a, {self._params(vector)}) {{\n"
            f"    #pragma omp simd simdlen({self.width})\n"
            f"    for (npy_intp j = 0; j < n; j++) {{ {self.value(loads, 'val')} "
            f"a[j] = {f.combine('a[j]', 'val')}; }}\n}}\n")
        tiles = _define(
            self.cn, "wb_rtile",
            f"/* output tile u: kept group u / ntiles, its columns of tile u % ntiles */\n"
            f"static void @@(const wb_rplan *P, npy_intp u, npy_intp ntiles, "
            f"{self.tout} *po) {{\n"
            f"    const npy_intp g = u / ntiles, j0 = (u - g * ntiles) * {_TILE};\n"
            f"    const npy_intp len = P->L - j0 < {_TILE} ? P->L - j0 : {_TILE};\n"
            f"    char *p[{n}];\n"
            f"    npy_intp idx[WB_MAXDIM] = {{0}};\n"
            f"    {acc} a[{_TILE}];\n"
            f"    {self.tout} *o = po + wb_rplan_kept(P, {n}, g, p) + j0;\n"
            f"    {shifts}\n"
            f"    for (npy_intp j = 0; j < len; j++) a[j] = {f.identity};\n"
            f"    for (npy_intp r = 0; r < P->R; r++) {{\n"
            f"        {kernel}(len, a, {self._args(vector, '0')});\n"
            f"        wb_rplan_step(P, {n}, idx, p);\n"
            f"    }}\n"
            f"    for (npy_intp j = 0; j < len; j++) o[j] = {_cast_out('a[j]', self.out_dtype)};\n"
            f"}}\n")
        part = _define(
            self.cn, "wb_rpart",
            f"/* buf[g * L + j] folds reduced positions [b, e) of every kept group */\n"
            f"static void @@(const wb_rplan *P, npy_intp b, npy_intp e, {acc} *buf) {{\n"
            f"    for (npy_intp j = 0; j < P->M * P->L; j++) buf[j] = {f.identity};\n"
            f"    for (npy_intp g = 0; g < P->M && b < e; g++) {{\n"
            f"        char *q[{n}], *p[{n}];\n"
            f"        npy_intp idx[WB_MAXDIM];\n"
            f"        wb_rplan_kept(P, {n}, g, q);\n"
            f"        wb_rplan_red(P, {n}, b, q, p, idx);\n"
            f"        for (npy_intp r = b; r < e; r++) {{\n"
            f"            {kernel}(P->L, buf + g * P->L, {self._args(vector, '0')});\n"
            f"            wb_rplan_step(P, {n}, idx, p);\n"
            f"        }}\n"
            f"    }}\n}}\n")
        out = _cast_out("a", self.out_dtype)
        return (
            f"const npy_intp ntiles = (P.L + {_TILE - 1}) / {_TILE}, U = P.M * ntiles;\n"
            f"const int nt = wb_rthreads();\n"
            f"{acc} *bufs[64] = {{0}};\n"
            f"int used = 0;\n"
            f"if (P.M * P.L * P.R >= {self.cn.omp_min} && U < 4 * nt && P.R >= 4 * nt) {{\n"
            # few tiles, many rows: each thread folds a share of the rows into a row of
            # its own, then the rows are combined in thread order
            f"    used = nt;\n"
            f"    #pragma omp parallel num_threads(nt)\n"
            f"    {{\n"
            f"        const npy_intp nth = omp_get_num_threads(), th = omp_get_thread_num();\n"
            f"        const npy_intp chunk = (P.R + nth - 1) / nth, b = th * chunk;\n"
            f"        const npy_intp e = b + chunk < P.R ? b + chunk : P.R;\n"
            f"        {acc} *buf = ({acc} *)malloc(sizeof({acc}) * P.M * P.L);\n"
            f"        bufs[th] = buf;\n"
            f"        if (buf) {part}(&P, b, e, buf);\n"
            f"        if (th == 0) used = (int)nth;\n"
            f"    }}\n"
            f"    for (int th = 0; th < used; th++) if (!bufs[th]) used = 0;\n"
            f"    for (npy_intp g = 0; g < P.M && used; g++) {{\n"
            f"        char *q[{n}];\n"
            f"        {self.tout} *o = po + wb_rplan_kept(&P, {n}, g, q);\n"
            f"        for (npy_intp j = 0; j < P.L; j++) {{\n"
            f"            {acc} a = bufs[0][g * P.L + j];\n"
            f"            for (int th = 1; th < used; th++) a = "
            f"{f.combine('a', 'bufs[th][g * P.L + j]')};\n"
            f"            o[j] = {out};\n"
            f"        }}\n"
            f"    }}\n"
            f"    for (int th = 0; th < nt; th++) free(bufs[th]);\n"
            f"}}\n"
            f"if (!used && P.M * P.L * P.R >= {self.cn.omp_min} && U >= 2) {{\n"
            f"    #pragma omp parallel for schedule(static)\n"
            f"    for (npy_intp u = 0; u < U; u++) {tiles}(&P, u, ntiles, po);\n"
            f"}} else if (!used) {{\n"
            f"    for (npy_intp u = 0; u < U; u++) {tiles}(&P, u, ntiles, po);\n"
            f"}}")

    # -- general -----------------------------------------------------------------------
    def general_path(self) -> str:
        n, f = self.nin, self.fold
        loads = [f"*(const {t} *)p[{i}]" for i, t in enumerate(self.tin)]
        fn = _define(
            self.cn, "wb_rgen",
            f"/* the fold of kept position m over any strides: an odometer */\n"
            f"static {self.acc} @@(const wb_rplan *P, char **p) {{\n"
            f"    npy_intp idx[WB_MAXDIM] = {{0}};\n"
            f"    {self.acc} acc = {f.identity};\n"
            f"    for (npy_intp r = 0; r < P->R; r++) {{\n"
            f"        {{ {self.value(loads, 'val')} acc = {f.combine('acc', 'val')}; }}\n"
            f"        wb_rplan_step(P, {n}, idx, p);\n"
            f"    }}\n"
            f"    return acc;\n}}\n")
        out = _cast_out("acc", self.out_dtype)
        loop = (f"for (npy_intp m = 0; m < P.M; m++) {{ char *p[{n}]; "
                f"const npy_intp off = wb_rplan_kept(&P, {n}, m, p); "
                f"const {self.acc} acc = {fn}(&P, p); po[off] = {out}; }}")
        return (f"if (P.M >= 2 && P.M * P.R >= {self.cn.omp_min}) {{\n"
                f"    #pragma omp parallel for schedule(static)\n    {loop}\n"
                f"}} else {{\n    {loop}\n}}")

    # -- the node's block --------------------------------------------------------------
    def block(self, dims_code: str, empty_text: str, rows_vector: list[bool],
              cols_vector: list[bool]) -> str:
        """The node's C; ``dims_code`` declares ``dims``, the shape being reduced."""
        cn, nd, n = self.cn, self.nd, self.nin
        kept = [d for d in range(nd) if not self.red[d]]
        code = [dims_code, f"npy_intp odims[{max(len(kept), 1)}];"]
        code += [f"odims[{j}] = dims[{d}];" for j, d in enumerate(kept)]
        code.append(f"if (wb_prepare(o0, {len(kept)}, odims, {cn.typenum(self.out_dtype)})) "
                    f"goto wb_fail;")
        code.append(f"{self.tout} *po = ({self.tout} *)PyArray_DATA((PyArrayObject *)*o0);")
        code.append("const npy_intp M = PyArray_SIZE((PyArrayObject *)*o0);")
        rall = " * ".join(f"dims[{d}]" for d in range(nd) if self.red[d]) or "1"
        if self.has_identity:
            ident = _cast_out(self.fold.identity, self.out_dtype)
            code.append(f"if ({rall} == 0) {{ for (npy_intp m = 0; m < M; m++) po[m] = {ident}; }}")
        else:
            code.append(
                f"if ({rall} == 0) {{ char sh[160]; wb_dims_text(sh, 160, {nd}, dims); "
                f"PyErr_Format(PyExc_ValueError, \"{empty_text}\", sh); goto wb_fail; }}")

        def plan(kind: int, vec: str) -> str:
            return f"wb_rplan_make(&P, {kind}, {nd}, dims, {n}, ins, red, {vec}, 1)"

        # each path's loops are a function shared by the nodes of the same types, and a
        # path that cannot apply to this node's axes is left out: less to compile
        paths = []
        if any(self.red):
            paths.append((plan(0, "vrow"),
                          _runner(cn, "wb_rrows", self.tout, self.rows_path(rows_vector))))
        if kept:
            paths.append((plan(1, "vcol"),
                          _runner(cn, "wb_rcols", self.tout, self.cols_path(cols_vector))))
        body = []
        for i, (cond, text) in enumerate(paths):
            body.append(("if" if i == 0 else "} else if") + f" ({cond}) {{\n"
                        + _indent(text, 4))
        general = f"{plan(2, 'vall')};\n" + _runner(cn, "wb_rgens", self.tout,
                                                     self.general_path())
        body.append(("} else {\n" + _indent(general, 4) + "\n}") if paths else general)
        arrays = [("red", self.red), ("vall", [True] * n)]
        arrays += [("vrow", rows_vector)] if any(self.red) else []
        arrays += [("vcol", cols_vector)] if kept else []
        decl = ", ".join(name + "[] = {" + (", ".join("1" if v else "0" for v in flags) or "0")
                         + "}" for name, flags in arrays)
        code.append(
            f"else if (M > 0) {{\n"
            f"    PyArrayObject *const ins[] = {{{', '.join(cn.ins)}}};\n"
            f"    static const char {decl};\n"
            f"    wb_rplan P;\n" + _indent("\n".join(body), 4) + "\n}")
        return "\n".join(code)


def _vector_flags(node_inputs, axes: set[int], nd: int, reduced: bool) -> list[bool]:
    """Per input: whether the rows (columns) kernel reads it along its block, judging by the
    static shape: an input of length one on every innermost reduced (kept) axis, or on all
    axes, is constant along the block and passed to the kernel as one value."""
    block = []
    for d in reversed(range(nd)):
        if (d in axes) != reduced:
            break
        block.append(d)
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
    nd = node.inputs[0].ndim
    if in_dtype not in CTYPES or out_dtype not in CTYPES or nd > _MAX_DIM:
        return None
    _, acc_dtype = op.resolve_dtypes(in_dtype)
    fold = fold_for(op.scalar_op.name, acc_dtype) if acc_dtype in CTYPES else None
    if fold is None:
        return None
    axes = set(range(nd) if op.axis is None else op.axis)
    code = ReduceCode(cn, axes, nd, [in_dtype], fold, acc_dtype, out_dtype,
                      lambda values: ([], values[0]), op.ufunc.identity is not None, True)
    cn.support(_PLAN)
    return code.block("const npy_intp *dims = PyArray_DIMS(i0);", _empty_text(op),
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
    if not node.inputs or len(node.inputs) > _MAX_IN or nd > _MAX_DIM \
            or out_dtype not in CTYPES or not can_render(op.scalar_op, in_dtypes, elem_dtype):
        return None
    _, acc_dtype = red_op.resolve_dtypes(elem_dtype)
    fold = fold_for(red_op.scalar_op.name, acc_dtype) if acc_dtype in CTYPES else None
    if fold is None:
        return None
    axes = set(range(nd) if red_op.axis is None else red_op.axis)

    def program(values: list[str]) -> tuple[list[str], str]:
        return render_program(op.scalar_op, values, in_dtypes)

    code = ReduceCode(cn, axes, nd, in_dtypes, fold, acc_dtype, out_dtype, program,
                      red_op.ufunc.identity is not None, False)
    cn.support(_PLAN)
    return code.block(_broadcast_check(cn, nd, cn.ins), _empty_text(red_op),
                      _vector_flags(node.inputs, axes, nd, True),
                      _vector_flags(node.inputs, axes, nd, False))


@emits(Argmax, Argmin)
def argmax(cn) -> str | None:
    """The first index of the maximum (minimum) in the flattened reduced axes; the first NaN
    wins, as in NumPy."""
    node = cn.node
    op = node.op
    dtype = cn.in_dtype(0)
    nd = node.inputs[0].ndim
    if dtype not in CTYPES or nd > _MAX_DIM:
        return None
    t = ctype(dtype)
    big = not isinstance(op, Argmin)
    # a later value replaces the best when it is not <= (>=) it: larger (smaller), or NaN
    keep = "<=" if big else ">="
    cmp, clause = (">", "max") if big else ("<", "min")
    axes = set(range(nd) if op.axis is None else op.axis)
    kept = [d for d in range(nd) if d not in axes]
    width = max(2, 64 // np.dtype(dtype).itemsize)
    cn.support(_PLAN)
    row = _define(
        cn, "wb_amrow",
        f"/* the first extremum of n contiguous values: its index, its value in *best. A\n"
        f" * vectorised extremum of each block of 256 tells whether the block holds a new best;\n"
        f" * only then is it searched, 16 at a time, for the new best's first position */\n"
        f"static npy_intp @@(npy_intp n, const {t} *restrict p, {t} *best) {{\n"
        f"    {t} mp = p[0];\n"
        f"    npy_intp mi = 0;\n"
        f"    if (mp != mp) {{ *best = mp; return 0; }}\n"
        f"    for (npy_intp b = 0; b < n; b += 256) {{\n"
        f"        const {t} *restrict q = p + b;\n"
        f"        const npy_intp len = n - b < 256 ? n - b : 256;\n"
        f"        {t} bm = mp;\n"
        f"        {_same_width_int(dtype)} nan = 0;\n"
        f"        #pragma omp simd reduction({clause}:bm) reduction(|:nan) simdlen({width})\n"
        f"        for (npy_intp j = 0; j < len; j++) {{ const {t} v = q[j]; "
        f"bm = v {cmp} bm ? v : bm; nan |= v != v; }}\n"
        f"        if (!nan && !(bm {cmp} mp)) continue;\n"
        # the new best is the block's first NaN, else the first value equal to bm
        f"        for (npy_intp j0 = 0; j0 < len; j0 += 16) {{\n"
        f"            const npy_intp e = len - j0 < 16 ? len - j0 : 16;\n"
        f"            int hit = 0;\n"
        f"            #pragma omp simd reduction(|:hit)\n"
        f"            for (npy_intp j = 0; j < e; j++) hit |= nan ? q[j0 + j] != q[j0 + j] "
        f": q[j0 + j] == bm;\n"
        f"            if (!hit) continue;\n"
        f"            npy_intp j = j0;\n"
        f"            while (nan ? q[j] == q[j] : q[j] != bm) j++;\n"
        f"            mp = q[j];\n"
        f"            mi = b + j;\n"
        f"            break;\n"
        f"        }}\n"
        f"        if (nan) break;\n"
        f"    }}\n"
        f"    *best = mp;\n"
        f"    return mi;\n}}\n")
    gen = _define(
        cn, "wb_amgen",
        f"/* output m over any strides, counting positions in C order */\n"
        f"static npy_intp @@(const wb_rplan *P, char **p) {{\n"
        f"    npy_intp idx[WB_MAXDIM] = {{0}}, mi = 0;\n"
        f"    {t} mp = *(const {t} *)p[0];\n"
        f"    for (npy_intp r = 1; r < P->R && mp == mp; r++) {{\n"
        f"        wb_rplan_step(P, 1, idx, p);\n"
        f"        const {t} v = *(const {t} *)p[0];\n"
        f"        if (!(v {keep} mp)) {{ mp = v; mi = r; }}\n"
        f"    }}\n"
        f"    return mi;\n}}\n")
    red_dims = " * ".join(f"dims[{d}]" for d in sorted(axes)) or "1"
    flags = ", ".join("1" if d in axes else "0" for d in range(nd)) or "0"
    name = type(op).__name__.lower()
    empty = (_c_format(f"{op}: cannot take the {name} of an empty axis of an input of shape ")
             + "%s" + _c_format(" (NumPy raises too)"))
    one = (f"{{ char *q[1]; {t} best; const npy_intp off = wb_rplan_kept(&P, 1, m, q); "
           f"po[off] = {row}(P.L, (const {t} *)q[0], &best); }}")
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
        f"        const npy_intp off = wb_rplan_kept(&P, 1, m, q);\n"
        f"        int used = 1;\n"
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
        f"        po[off] = mi;\n"
        f"    }}\n"
        f"}}")
    loop = (f"for (npy_intp m = 0; m < P.M; m++) {{ char *p[1]; "
            f"const npy_intp off = wb_rplan_kept(&P, 1, m, p); po[off] = {gen}(&P, p); }}")
    general = _runner(cn, "wb_amgens", "npy_int64",
                      f"if (P.M >= 2 && P.M * P.R >= {cn.omp_min}) {{\n"
                      f"    #pragma omp parallel for schedule(static)\n"
                      f"    {loop}\n"
                      f"}} else {{\n    {loop}\n}}")
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
        f"    static const char red[] = {{{flags}}}, vec[] = {{1}};",
        "    wb_rplan P;",
        # the axes keep their order: the index counts positions in the flattened axes
        f"    if (wb_rplan_make(&P, 0, {nd}, dims, 1, ins, red, vec, 0) && P.nr == 0) {{",
        "        " + _runner(cn, "wb_amrows", "npy_int64", rows),
        "    } else {",
        f"        wb_rplan_make(&P, 2, {nd}, dims, 1, ins, red, vec, 0);",
        f"        {general}",
        "    }",
        "}",
    ])


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines())
