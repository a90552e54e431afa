"""C for the softmax family: Softmax and LogSoftmax along one axis (or all of them),
CrossentropyCategorical1Hot, and the fused CrossentropySoftmaxArgmax1HotWithBias.

Every row (the entries along the softmax axis) is computed stably, as ``perform`` does: the
row's maximum is subtracted before exponentiating, and the log-softmax shifts by 0 instead
where that maximum is infinite. NaN needs no special care: one NaN makes the row's sum NaN,
hence the whole row, as in NumPy. Rows are split across cores by OpenMP above
``config.openmp_elemwise_minsize`` elements; a row whose entries are contiguous runs
vectorised loops (``omp simd``, libmvec's exp), any other stride a plain loop.

Inputs of any real dtype are converted to the float output dtype first (NumPy's ``exp``
rule); float16 outputs run through ``perform``.
"""
from __future__ import annotations

from ...ops.nnet import (CrossentropyCategorical1Hot, CrossentropySoftmaxArgmax1HotWithBias,
                         LogSoftmax, Softmax)
from ..cstyle import CTYPES
from .registry import emits

_FLOATS = {"float32": ("float", "f"), "float64": ("double", "")}
_LABELS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")

# @I@ input C type, @T@ output (float) C type, @F@ libm suffix ("f" for float), @N@ name part.
# The row maximum ignores NaN (the sum catches it); a row of -inf gives NaN, as in NumPy.
_ROW_KERNELS = r"""
static void wbn_softmax_@N@(npy_intp n, const char *xp, npy_intp xs, char *op, npy_intp os) {
    @T@ m = -INFINITY;
    double s = 0;  /* float32 sums of long rows would lose digits NumPy's pairwise sum keeps */
    if (xs == sizeof(@I@) && os == sizeof(@T@)) {
        const @I@ *restrict x = (const @I@ *)xp;
        @T@ *restrict o = (@T@ *)op;
        #pragma omp simd reduction(max:m)
        for (npy_intp k = 0; k < n; k++) { const @T@ v = (@T@)x[k]; m = v > m ? v : m; }
        #pragma omp simd reduction(+:s)
        for (npy_intp k = 0; k < n; k++) { const @T@ e = exp@F@((@T@)x[k] - m); o[k] = e; s += e; }
        #pragma omp simd
        for (npy_intp k = 0; k < n; k++) o[k] = o[k] / (@T@)s;
    } else {
        for (npy_intp k = 0; k < n; k++) {
            const @T@ v = (@T@)*(const @I@ *)(xp + k * xs); m = v > m ? v : m; }
        for (npy_intp k = 0; k < n; k++) {
            const @T@ e = exp@F@((@T@)*(const @I@ *)(xp + k * xs) - m);
            *(@T@ *)(op + k * os) = e; s += e; }
        for (npy_intp k = 0; k < n; k++) *(@T@ *)(op + k * os) = *(@T@ *)(op + k * os) / (@T@)s;
    }
}

static void wbn_logsoftmax_@N@(npy_intp n, const char *xp, npy_intp xs, char *op, npy_intp os) {
    @T@ m = -INFINITY;
    double s = 0;  /* float32 sums of long rows would lose digits NumPy's pairwise sum keeps */
    if (xs == sizeof(@I@) && os == sizeof(@T@)) {
        const @I@ *restrict x = (const @I@ *)xp;
        @T@ *restrict o = (@T@ *)op;
        #pragma omp simd reduction(max:m)
        for (npy_intp k = 0; k < n; k++) { const @T@ v = (@T@)x[k]; m = v > m ? v : m; }
        if (!isfinite(m)) m = 0;  /* x - inf would be NaN everywhere */
        #pragma omp simd reduction(+:s)
        for (npy_intp k = 0; k < n; k++) s += exp@F@((@T@)x[k] - m);
        const @T@ ls = log@F@((@T@)s);
        #pragma omp simd
        for (npy_intp k = 0; k < n; k++) o[k] = ((@T@)x[k] - m) - ls;
    } else {
        for (npy_intp k = 0; k < n; k++) {
            const @T@ v = (@T@)*(const @I@ *)(xp + k * xs); m = v > m ? v : m; }
        if (!isfinite(m)) m = 0;
        for (npy_intp k = 0; k < n; k++) s += exp@F@((@T@)*(const @I@ *)(xp + k * xs) - m);
        const @T@ ls = log@F@((@T@)s);
        for (npy_intp k = 0; k < n; k++)
            *(@T@ *)(op + k * os) = ((@T@)*(const @I@ *)(xp + k * xs) - m) - ls;
    }
}
"""


def _row_kernels(cn, in_dt: str, out_dt: str) -> str:
    """Add the row kernels for this pair of dtypes; returns their name suffix."""
    t, f = _FLOATS[out_dt]
    name = f"{in_dt}_{out_dt}"
    cn.support(_ROW_KERNELS.replace("@I@", CTYPES[in_dt]).replace("@T@", t)
               .replace("@F@", f).replace("@N@", name))
    return name


def _axes(op, ndim: int) -> tuple[int, ...]:
    """The axes the op normalises over, non-negative and sorted."""
    axis = op.axis
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted({int(a) % ndim for a in axis}))
    return (int(axis) % ndim,)


@emits(Softmax, LogSoftmax)
def softmax(cn) -> str | None:
    """One row kernel call per lane along the axis; lanes split across cores. Over every
    axis of a tensor, one lane over a C-ordered copy. (Other sets of axes, and 0-d inputs,
    run through perform.)"""
    in_dt, out_dt = cn.in_dtype(0), cn.out_dtype()
    nd = cn.node.inputs[0].ndim
    if out_dt not in _FLOATS or in_dt not in CTYPES or nd == 0:
        return None
    axes = _axes(cn.node.op, nd)
    kind = "softmax" if type(cn.node.op) is Softmax else "logsoftmax"
    if len(axes) == nd and nd > 1:
        kernel = f"wbn_{kind}_{_row_kernels(cn, in_dt, out_dt)}"
        return f"""
if (wb_prepare(o0, {nd}, PyArray_DIMS(i0), {cn.typenum(out_dt)})) goto wb_fail;
if (PyArray_SIZE(i0) > 0) {{
    PyArrayObject *xc = (PyArrayObject *)PyArray_GETCONTIGUOUS(i0);
    if (xc == NULL) goto wb_fail;
    {kernel}(PyArray_SIZE(xc), PyArray_BYTES(xc), PyArray_ITEMSIZE(xc),
             PyArray_BYTES((PyArrayObject *)*o0), PyArray_ITEMSIZE((PyArrayObject *)*o0));
    Py_DECREF(xc);
}}"""
    if len(axes) != 1:
        return None
    ax = axes[0]
    kernel = f"wbn_{kind}_{_row_kernels(cn, in_dt, out_dt)}"
    others = [d for d in range(nd) if d != ax]
    # lane m's offsets: its coordinates over the other axes, in C order
    offsets = "".join(
        f"c = rem % PyArray_DIMS(i0)[{d}]; rem /= PyArray_DIMS(i0)[{d}]; "
        f"px += c * PyArray_STRIDES(i0)[{d}]; po += c * PyArray_STRIDES(out)[{d}]; "
        for d in reversed(others))
    lane = (f"npy_intp rem = m, c = 0; (void)c; const char *px = x0; char *po = o0d; {offsets}\n"
            f"{kernel}(n, px, xs, po, os);")
    return f"""
if (wb_prepare(o0, {nd}, PyArray_DIMS(i0), {cn.typenum(out_dt)})) goto wb_fail;
PyArrayObject *out = (PyArrayObject *)*o0;
const npy_intp size = PyArray_SIZE(i0), n = PyArray_DIMS(i0)[{ax}];
if (size > 0) {{
    const npy_intp lanes = size / n;
    const npy_intp xs = PyArray_STRIDES(i0)[{ax}], os = PyArray_STRIDES(out)[{ax}];
    const char *x0 = PyArray_BYTES(i0);
    char *o0d = PyArray_BYTES(out);
    if (size >= {cn.omp_min} && lanes > 1) {{
        #pragma omp parallel for schedule(static)
        for (npy_intp m = 0; m < lanes; m++) {{
{_indent(lane, 12)}
        }}
    }} else {{
        for (npy_intp m = 0; m < lanes; m++) {{
{_indent(lane, 12)}
        }}
    }}
}}"""


def _label_checks(cn, labels: str, rows: str, classes: str, per_row: bool, what: str,
                  where: str) -> str:
    """Code raising perform's IndexError for the first label out of ``[0, classes)``."""
    dt = cn.in_dtype(len(cn.node.inputs) - 1)
    unsigned64 = dt == "uint64"
    fmt, cast = ("%llu", "unsigned long long") if unsigned64 else ("%lld", "long long")
    at = " (at position %ld)" if per_row else ""
    at_arg = ["(long)i"] if per_row else []
    in_range = cn.fail(f"{where}: label {fmt}{at} is out of range for %ld classes; labels "
                       f"must be in [0, %ld]", f"({cast})raw", *at_arg, f"(long){classes}",
                       f"(long){classes} - 1", exc="PyExc_IndexError")
    empty = cn.fail(f"{where}: label {fmt}{at} is out of range for 0 classes; {what} has no "
                    f"classes", f"({cast})raw", *at_arg, exc="PyExc_IndexError")
    stride = f"PyArray_STRIDES({labels})[0]" if per_row else "0"
    return f"""for (npy_intp i = 0; i < {rows}; i++) {{
    const {CTYPES[dt]} raw = *(const {CTYPES[dt]} *)(PyArray_BYTES({labels}) + i * {stride});
    /* an unsigned label past INT64_MAX turns negative here: out of range either way */
    const npy_int64 lab = (npy_int64)raw;
    if (lab < 0 || lab >= {classes}) {{
        if ({classes} == 0) {empty}
        {in_range}
    }}
}}"""


def _label_at(cn, labels: str, per_row: bool) -> str:
    dt = CTYPES[cn.in_dtype(len(cn.node.inputs) - 1)]
    stride = f"PyArray_STRIDES({labels})[0]" if per_row else "0"
    return f"(npy_intp)*(const {dt} *)(PyArray_BYTES({labels}) + i * {stride})"


@emits(CrossentropyCategorical1Hot)
def crossentropy_categorical_1hot(cn) -> str | None:
    """``-log(coding_dist[i, labels[i]])`` per row (a vector and a 0-d label too)."""
    in_dt, lab_dt, out_dt = cn.in_dtype(0), cn.in_dtype(1), cn.out_dtype()
    nd = cn.node.inputs[0].ndim
    if out_dt not in _FLOATS or in_dt not in CTYPES or lab_dt not in _LABELS or nd not in (1, 2):
        return None
    t, f = _FLOATS[out_dt]
    where = "crossentropy_categorical_1hot"
    per_row = nd == 2
    rows = "PyArray_DIMS(i0)[0]" if per_row else "1"
    count = ""
    if per_row:
        count = ("if (PyArray_DIMS(i1)[0] != R) " + cn.fail(
            f"{where}: %ld labels for %ld rows of coding_dist; there must be one label per row",
            "(long)PyArray_DIMS(i1)[0]", "(long)R") + "\n")
    row_stride = "PyArray_STRIDES(i0)[0]" if per_row else "0"
    return f"""
const npy_intp R = {rows}, C = PyArray_DIMS(i0)[{nd - 1}];
{count}{_label_checks(cn, 'i1', 'R', 'C', per_row, 'coding_dist', where)}
if (wb_prepare(o0, {nd - 1}, PyArray_DIMS(i0), {cn.typenum(out_dt)})) goto wb_fail;
{t} *po = ({t} *)PyArray_DATA((PyArrayObject *)*o0);
for (npy_intp i = 0; i < R; i++) {{
    const npy_intp lab = {_label_at(cn, 'i1', per_row)};
    const {t} p = ({t})*(const {CTYPES[in_dt]} *)(PyArray_BYTES(i0) + i * {row_stride}
                                               + lab * PyArray_STRIDES(i0)[{nd - 1}]);
    po[i] = -log{f}(p);
}}"""


# @I@ x's C type, @B@ b's C type, @T@ the float type, @F@ libm suffix, @N@ name part.
_FUSED_ROW = r"""
/* One row of the fused softmax cross-entropy: z = x + b; the softmax of z into sm, its
 * negative log-likelihood at label lab into *nll, the first argmax (NumPy's: the first NaN
 * if any) into *am. b may be NULL. */
static void wbn_xent_@N@(npy_intp n, const char *xp, npy_intp xs, const char *bp,
                         npy_intp bs, npy_intp lab, @T@ *restrict sm, @T@ *nll,
                         npy_int64 *am) {
#define WBN_Z(k) ((@T@)*(const @I@ *)(xp + (k) * xs) \
                  + (bp ? (@T@)*(const @B@ *)(bp + (k) * bs) : (@T@)0))
    @T@ m = -INFINITY;
    double s = 0;  /* see the row kernels */
    npy_int64 best = -1, first_nan = -1;
    for (npy_intp k = 0; k < n; k++) {
        const @T@ v = WBN_Z(k);
        if (v != v) { if (first_nan < 0) first_nan = k; }
        else if (best < 0 || v > m) { m = v; best = k; }
    }
    *am = first_nan >= 0 ? first_nan : (best >= 0 ? best : 0);
    for (npy_intp k = 0; k < n; k++) { const @T@ e = exp@F@(WBN_Z(k) - m); sm[k] = e; s += e; }
    for (npy_intp k = 0; k < n; k++) sm[k] = sm[k] / (@T@)s;
    /* the log-softmax shifts by 0 where the maximum is infinite (see LogSoftmax) */
    @T@ peak = m;
    double t = s;
    if (!isfinite(m)) {
        peak = 0; t = 0;
        for (npy_intp k = 0; k < n; k++) t += exp@F@(WBN_Z(k));
    }
    *nll = -((WBN_Z(lab) - peak) - log@F@((@T@)t));
#undef WBN_Z
}
"""


@emits(CrossentropySoftmaxArgmax1HotWithBias)
def crossentropy_softmax_argmax_1hot_with_bias(cn) -> str | None:
    """Per row, one pass for the maximum and argmax, one for the exponentials and their sum,
    one to normalise; the loss comes from the same sum."""
    node = cn.node
    has_b = len(node.inputs) == 3
    x_dt, lab_dt, out_dt = cn.in_dtype(0), cn.in_dtype(len(node.inputs) - 1), cn.out_dtype()
    b_dt = cn.in_dtype(1) if has_b else x_dt
    if out_dt not in _FLOATS or x_dt not in CTYPES or b_dt not in CTYPES or \
            lab_dt not in _LABELS:
        return None
    t, f = _FLOATS[out_dt]
    name = f"{x_dt}_{b_dt}_{out_dt}"
    cn.support(_FUSED_ROW.replace("@I@", CTYPES[x_dt]).replace("@B@", CTYPES[b_dt])
               .replace("@T@", t).replace("@F@", f).replace("@N@", name))
    where = "crossentropy_softmax_argmax_1hot_with_bias"
    labels = f"i{len(node.inputs) - 1}"
    b_check = ""
    if has_b:
        b_check = ("if (PyArray_DIMS(i1)[0] != C) " + cn.fail(
            f"{where}: b has %ld entries for %ld classes of x; there must be one bias per "
            f"class", "(long)PyArray_DIMS(i1)[0]", "(long)C") + "\n")
    b_ptr = "PyArray_BYTES(i1)" if has_b else "NULL"
    b_stride = "PyArray_STRIDES(i1)[0]" if has_b else "0"
    row = (f"wbn_xent_{name}(C, PyArray_BYTES(i0) + i * PyArray_STRIDES(i0)[0], "
           f"PyArray_STRIDES(i0)[1], {b_ptr}, {b_stride}, {_label_at(cn, labels, True)}, "
           f"sm + i * C, nll + i, am + i);")
    return f"""
const npy_intp R = PyArray_DIMS(i0)[0], C = PyArray_DIMS(i0)[1];
{b_check}if (PyArray_DIMS({labels})[0] != R) {cn.fail(
        f"{where}: %ld labels for %ld rows of x; there must be one label per row",
        f"(long)PyArray_DIMS({labels})[0]", "(long)R")}
{_label_checks(cn, labels, 'R', 'C', True, 'x', where)}
npy_intp dims[2] = {{R, C}};
if (wb_prepare(o0, 1, dims, {cn.typenum(out_dt)})) goto wb_fail;
if (wb_prepare(o1, 2, dims, {cn.typenum(out_dt)})) goto wb_fail;
if (wb_prepare(o2, 1, dims, NPY_INT64)) goto wb_fail;
{t} *nll = ({t} *)PyArray_DATA((PyArrayObject *)*o0);
{t} *sm = ({t} *)PyArray_DATA((PyArrayObject *)*o1);
npy_int64 *am = (npy_int64 *)PyArray_DATA((PyArrayObject *)*o2);
if (C == 0) {{
    /* no classes: only zero rows get here (any label is out of range) */
}} else if (R * C >= {cn.omp_min}) {{
    #pragma omp parallel for schedule(static)
    for (npy_intp i = 0; i < R; i++) {{
        {row}
    }}
}} else {{
    for (npy_intp i = 0; i < R; i++) {{
        {row}
    }}
}}"""


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines())
