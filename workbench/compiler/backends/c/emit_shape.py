"""C for the shape bookkeeping of a graph: Shape, Shape_i, Reshape, SpecifyShape, Rebroadcast,
Alloc, ARange, Eye, MakeVector, Join and Split.

Gradient graphs are full of these nodes (a shape read, a vector of sizes, a reshape, a
broadcast seed), each on tiny data: what matters is that each one costs a few tens of
nanoseconds instead of a round trip through Python. So scalar results reuse their 0-d
buffer across calls (``wb_prepare``), views are made directly (``wb_view``), and the copies
(Alloc's broadcast, Join) go through one strided copy that merges the axes both operands
walk alike, so the common contiguous cases become a few ``memcpy``\\ s or a vectorised fill.

Copying works on bytes, so these ops compile for every dtype, float16 and complex included;
only arithmetic (ARange, Eye, Join's dtype conversion) needs the C type of a dtype.

This module also holds the C helpers the indexing emitters share (:mod:`.emit_subtensor`):
slice normalisation, strided copy and update kernels, and the text of shapes in messages.
"""
from __future__ import annotations

import numpy as np

from ...ops.alloc import Alloc, ARange, Eye
from ...ops.join import Join, MakeVector, Split
from ...ops.shape import Rebroadcast, Reshape, Shape, Shape_i, SpecifyShape
from ..cstyle import CTYPES, TYPENUMS, ctype
from .registry import emits

# ---------------------------------------------------------------------------------------
# C helpers shared by the shape and indexing emitters (added once per module)

SUPPORT = r"""
/* The exception class perform raises for failed run-time shape checks (a ValueError and an
 * AssertionError), looked up on first use: only error paths need it. */
static PyObject *wb_shape_error(void) {
    static PyObject *cls = NULL;
    if (cls == NULL) {
        PyObject *m = PyImport_ImportModule("workbench.compiler.ops.shape");
        if (m != NULL) { cls = PyObject_GetAttrString(m, "ShapeError"); Py_DECREF(m); }
        if (cls == NULL) { PyErr_Clear(); return PyExc_ValueError; }
    }
    return cls;
}

/* Integers as Python prints them: style 0 a tuple "(2, 3)" / "(2,)", style 1 a list
 * "[2, 3]", style 2 NumPy's compact shape "(2,3)" / "(2,)". */
static const char *wb_ints_text(char *buf, size_t n, int count, const npy_intp *v, int style) {
    size_t used = snprintf(buf, n, style == 1 ? "[" : "(");
    for (int k = 0; k < count && used < n; k++)
        used += snprintf(buf + used, n - used, k == 0 ? "%ld" : (style == 2 ? ",%ld" : ", %ld"),
                         (long)v[k]);
    if (used < n) snprintf(buf + used, n - used, style == 1 ? "]" : (count == 1 ? ",)" : ")"));
    return buf;
}

/* An unsigned 64-bit index as npy_intp; values past the range saturate (NumPy clips slice
 * bounds there, and such an integer index is out of bounds anyway). */
WB_INLINE npy_intp wb_u64_intp(npy_uint64 v) {
    return v > (npy_uint64)NPY_MAX_INTP ? NPY_MAX_INTP : (npy_intp)v;
}

/* Python's slice normalisation (PySlice_AdjustIndices) for an axis of length n: the first
 * position and the length of the slice. */
WB_INLINE void wb_slice(npy_intp n, int has_start, npy_intp start, int has_stop, npy_intp stop,
                        npy_intp step, npy_intp *first, npy_intp *len) {
    if (!has_start) start = step < 0 ? n - 1 : 0;
    else if (start < 0) { start += n; if (start < 0) start = step < 0 ? -1 : 0; }
    else if (start >= n) start = step < 0 ? n - 1 : n;
    if (!has_stop) stop = step < 0 ? -1 : n;
    else if (stop < 0) { stop += n; if (stop < 0) stop = step < 0 ? -1 : 0; }
    else if (stop >= n) stop = step < 0 ? n - 1 : n;
    *first = start;
    if (step < 0) *len = stop < start ? (start - stop - 1) / (-step) + 1 : 0;
    else *len = start < stop ? (stop - start - 1) / step + 1 : 0;
}

/* Merge the axes two strided operands walk alike and drop axes of length 1, so loops run
 * over as few and as long rows as possible. Returns the number of axes left (0: a single
 * element), or -1 when an axis has length 0. */
static int wb_coalesce2(int nd, const npy_intp *dims, const npy_intp *as, const npy_intp *bs,
                        npy_intp *cd, npy_intp *ca, npy_intp *cb) {
    int m = 0;
    for (int d = 0; d < nd; d++) {
        if (dims[d] == 0) return -1;
        if (dims[d] == 1) continue;
        if (m > 0 && ca[m - 1] == as[d] * dims[d] && cb[m - 1] == bs[d] * dims[d]) {
            cd[m - 1] *= dims[d]; ca[m - 1] = as[d]; cb[m - 1] = bs[d];
        } else {
            cd[m] = dims[d]; ca[m] = as[d]; cb[m] = bs[d]; m++;
        }
    }
    return m;
}

/* Copy elements of isz bytes from src to dst, both of shape dims with their own strides;
 * a source stride of 0 broadcasts (a fill). */
static void wb_copy_nd(int nd, const npy_intp *dims, char *dst, const npy_intp *dstr,
                       const char *src, const npy_intp *sstr, npy_intp isz) {
    npy_intp cd[NPY_MAXDIMS], cs[NPY_MAXDIMS], css[NPY_MAXDIMS], idx[NPY_MAXDIMS];
    int m = wb_coalesce2(nd, dims, dstr, sstr, cd, cs, css);
    if (m < 0) return;
    if (m == 0) { memcpy(dst, src, isz); return; }
    const npy_intp n = cd[m - 1], ds = cs[m - 1], ss = css[m - 1];
    for (int a = 0; a < m; a++) idx[a] = 0;
    for (;;) {
        /* long contiguous rows: memcpy; short ones: an inline loop (a call costs more) */
        if (ds == isz && ss == isz && n * isz >= 256) memcpy(dst, src, n * isz);
#define WB_ROW(T) \
        else if (isz == sizeof(T) && ds == isz && ss == isz) { \
            T *restrict d = (T *)dst; const T *restrict s = (const T *)src; \
            _Pragma("omp simd") for (npy_intp k = 0; k < n; k++) d[k] = s[k]; } \
        else if (isz == sizeof(T) && ds == isz && ss == 0) { \
            const T v = *(const T *)src; T *d = (T *)dst; \
            _Pragma("omp simd") for (npy_intp k = 0; k < n; k++) d[k] = v; } \
        else if (isz == sizeof(T)) { \
            for (npy_intp k = 0; k < n; k++) *(T *)(dst + k * ds) = *(const T *)(src + k * ss); }
        WB_ROW(npy_uint64) WB_ROW(npy_uint32) WB_ROW(npy_uint16) WB_ROW(npy_uint8)
#undef WB_ROW
        else if (ds == isz && ss == isz) memcpy(dst, src, n * isz);
        else for (npy_intp k = 0; k < n; k++) memcpy(dst + k * ds, src + k * ss, isz);
        int a = m - 2;
        for (; a >= 0; a--) {
            idx[a]++; dst += cs[a]; src += css[a];
            if (idx[a] < cd[a]) break;
            dst -= cs[a] * cd[a]; src -= css[a] * cd[a]; idx[a] = 0;
        }
        if (a < 0) return;
    }
}

/* Whether the memory two arrays span may overlap (by their byte extents). */
static int wb_may_overlap(PyArrayObject *a, PyArrayObject *b) {
    if (PyArray_SIZE(a) == 0 || PyArray_SIZE(b) == 0) return 0;
    char *lo[2], *hi[2];
    PyArrayObject *ab[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        lo[i] = hi[i] = PyArray_BYTES(ab[i]);
        for (int d = 0; d < PyArray_NDIM(ab[i]); d++) {
            npy_intp span = (PyArray_DIMS(ab[i])[d] - 1) * PyArray_STRIDES(ab[i])[d];
            if (span < 0) lo[i] += span; else hi[i] += span;
        }
        hi[i] += PyArray_ITEMSIZE(ab[i]);
    }
    return lo[0] < hi[1] && lo[1] < hi[0];
}
"""


def nd_kernel(cn, name: str, dst_t: str, src_t: str, stmt: str) -> str:
    """Add (once) a function ``name(nd, dims, dst, dstr, src, sstr)`` running ``stmt`` on
    every element pair: ``*d`` (a ``dst_t``) and ``*s`` (a ``src_t``), any strides, a
    source stride of 0 broadcasting. Contiguous and broadcast rows get loops of their own,
    which the compiler vectorises. Returns ``name``."""
    cn.support(SUPPORT)
    row = (f"for (npy_intp k = 0; k < n; k++) {{ {dst_t} *d = ({dst_t} *)(dst + k * ds); "
           f"const {src_t} *s = (const {src_t} *)(src + k * ss); {stmt} }}")
    contiguous = (f"{dst_t} *restrict dd = ({dst_t} *)dst; const {src_t} *restrict sd = "
                  f"(const {src_t} *)src;\n                #pragma omp simd\n"
                  f"                for (npy_intp k = 0; k < n; k++) "
                  f"{{ {dst_t} *d = dd + k; const {src_t} *s = sd + k; {stmt} }}")
    broadcast = (f"{dst_t} *restrict dd = ({dst_t} *)dst; const {src_t} *s = (const {src_t} *)"
                 f"src;\n                #pragma omp simd\n"
                 f"                for (npy_intp k = 0; k < n; k++) "
                 f"{{ {dst_t} *d = dd + k; {stmt} }}")
    cn.support(f"""
static void {name}(int nd, const npy_intp *dims, char *dst, const npy_intp *dstr,
                   const char *src, const npy_intp *sstr) {{
    npy_intp cd[NPY_MAXDIMS], cs[NPY_MAXDIMS], css[NPY_MAXDIMS], idx[NPY_MAXDIMS];
    int m = wb_coalesce2(nd, dims, dstr, sstr, cd, cs, css);
    if (m < 0) return;
    if (m == 0) {{ {dst_t} *d = ({dst_t} *)dst; const {src_t} *s = (const {src_t} *)src; {stmt} return; }}
    const npy_intp n = cd[m - 1], ds = cs[m - 1], ss = css[m - 1];
    for (int a = 0; a < m; a++) idx[a] = 0;
    for (;;) {{
        if (ds == sizeof({dst_t}) && ss == sizeof({src_t})) {{
                {contiguous}
        }} else if (ds == sizeof({dst_t}) && ss == 0) {{
                {broadcast}
        }} else {{
                {row}
        }}
        int a = m - 2;
        for (; a >= 0; a--) {{
            idx[a]++; dst += cs[a]; src += css[a];
            if (idx[a] < cd[a]) break;
            dst -= cs[a] * cd[a]; src -= css[a] * cd[a]; idx[a] = 0;
        }}
        if (a < 0) return;
    }}
}}
""")
    return name


def inc_kernel(cn, dtype: str) -> str | None:
    """The kernel adding a source into a destination of ``dtype`` (NumPy's ``+=``: a
    logical or for bool), or None for dtypes without a C type."""
    name = np.dtype(dtype).name
    if name not in CTYPES:
        return None
    stmt = "*d = (*d | *s) != 0;" if name == "bool" else "*d += *s;"
    return nd_kernel(cn, f"wb_inc_nd_{name}", CTYPES[name], CTYPES[name], stmt)


def cast_kernel(cn, src: str, dst: str) -> str | None:
    """The kernel copying ``src`` elements into ``dst`` ones with C's conversion (exact for
    the widening conversions NumPy's type promotion makes), or None without C types."""
    src, dst = np.dtype(src).name, np.dtype(dst).name
    if src not in CTYPES or dst not in CTYPES:
        return None
    stmt = ("*d = (*s != 0);" if dst == "bool" else f"*d = ({CTYPES[dst]})*s;")
    return nd_kernel(cn, f"wb_cast_nd_{src}_{dst}", CTYPES[dst], CTYPES[src], stmt)


def copyable(dtype: str) -> bool:
    """Whether byte copies of this dtype are its values (every numeric dtype)."""
    return np.dtype(dtype).kind in "biufc"


def typenum(dtype: str) -> str:
    """The NumPy type number of any numeric dtype (float16 and complex included)."""
    name = np.dtype(dtype).name
    return TYPENUMS.get(name, str(np.dtype(name).num))


def int_at(dtype: str, ptr: str) -> str:
    """C reading the integer of ``dtype`` at ``ptr`` as an npy_intp."""
    name = np.dtype(dtype).name
    if name == "uint64":
        return f"wb_u64_intp(*(const npy_uint64 *)({ptr}))"
    return f"(npy_intp)*(const {ctype(name)} *)({ptr})"


def int_scalar(cn, i: int) -> str:
    """C reading input ``i`` (a 0-d integer array) as an npy_intp."""
    return int_at(cn.in_dtype(i), f"PyArray_DATA(i{i})")


def shape_text(var: str, array: str, style: int = 0) -> str:
    """C declaring ``char var[..]`` holding the shape of ``array`` as Python prints it."""
    return (f"char {var}[256]; wb_ints_text({var}, 256, PyArray_NDIM({array}), "
            f"PyArray_DIMS({array}), {style});")


def c_text(text: str) -> str:
    """``text`` made safe inside a printf format given to ``cn.fail``."""
    return text.replace("%", "%%")


SHAPE_ERROR = "wb_shape_error()"


# ---------------------------------------------------------------------------------------
# Shapes


@emits(Shape)
def shape(cn) -> str:
    nd = cn.node.inputs[0].ndim
    return (f"npy_intp n = {nd};\n"
            f"if (wb_prepare(o0, 1, &n, NPY_INT64)) goto wb_fail;\n"
            f"npy_int64 *out = (npy_int64 *)PyArray_DATA((PyArrayObject *)*o0);\n"
            f"for (int d = 0; d < {nd}; d++) out[d] = PyArray_DIMS(i0)[d];")


@emits(Shape_i)
def shape_i(cn) -> str:
    return ("if (wb_prepare(o0, 0, NULL, NPY_INT64)) goto wb_fail;\n"
            f"*(npy_int64 *)PyArray_DATA((PyArrayObject *)*o0) = PyArray_DIMS(i0)[{cn.node.op.i}];")


@emits(Reshape)
def reshape(cn) -> str | None:
    """A view of a C-contiguous input; otherwise NumPy's reshape, which views where the
    strides allow and copies where they do not."""
    nd = cn.node.op.ndim
    shape_var = cn.node.inputs[1]
    cn.support(SUPPORT)
    n = max(nd, 1)
    item = int_at(shape_var.dtype, "PyArray_BYTES(i1) + d * PyArray_STRIDES(i1)[0]")
    code = ["const npy_intp K = PyArray_DIMS(i1)[0];",
            f"npy_intp req[NPY_MAXDIMS], dims[{n}], strides[{n}];",
            f"for (npy_intp d = 0; d < K && d < NPY_MAXDIMS; d++) req[d] = {item};"]
    if shape_var.type.shape[0] != nd:
        code.append(
            f"if (K != {nd}) {{ char t[256]; wb_ints_text(t, 256, K < NPY_MAXDIMS ? K : "
            f"NPY_MAXDIMS, req, 0); "
            + cn.fail(f"reshape: the new shape %s has %ld entries, expected ndim={nd}",
                      "t", "(long)K", exc=SHAPE_ERROR) + " }")
    code.append(f"""\
int unknown = -1, bad = 0;
npy_intp known = 1, size = PyArray_SIZE(i0);
for (int d = 0; d < {nd}; d++) {{
    dims[d] = req[d];
    if (req[d] == -1) {{ if (unknown >= 0) bad = 1; unknown = d; }}
    else if (req[d] < 0 || __builtin_mul_overflow(known, req[d], &known)) bad = 1;
}}
if (!bad) {{
    if (unknown >= 0) {{
        if (known == 0 || size % known) bad = 1; else dims[unknown] = size / known;
    }} else if (known != size) bad = 1;
}}
if (bad) {{
    char a[256], b[256];
    wb_ints_text(a, 256, PyArray_NDIM(i0), PyArray_DIMS(i0), 0);
    wb_ints_text(b, 256, {nd}, req, 0);
    {cn.fail("cannot reshape an array of shape %s (size %ld) into the requested shape %s",
             "a", "(long)size", "b")}
}}
if (PyArray_IS_C_CONTIGUOUS(i0)) {{
    npy_intp s = PyArray_ITEMSIZE(i0);
    for (int d = {nd} - 1; d >= 0; d--) {{ strides[d] = s; s *= dims[d]; }}
    if (wb_view(o0, i0, {nd}, dims, strides, PyArray_BYTES(i0))) goto wb_fail;
}} else {{
    PyArray_Dims newshape = {{dims, {nd}}};
    PyObject *r = PyArray_Newshape(i0, &newshape, NPY_CORDER);
    if (r == NULL) goto wb_fail;
    Py_XDECREF(*o0);
    *o0 = r;
}}""")
    return "\n".join(code)


@emits(SpecifyShape)
def specify_shape(cn) -> str:
    op = cn.node.op
    nd = cn.node.inputs[0].ndim
    cn.support(SUPPORT)
    sizes = [int_scalar(cn, k + 1) for k in range(len(op.axes))]
    # the expected shape as perform prints it: '?' where no size is given
    want = ["?"] * nd
    for k, axis in enumerate(op.axes):
        want[axis] = "%ld"
    want_text = c_text("(") + ", ".join(want) + ")"
    want_args = [f"(long)size[{k}]" for k in sorted(range(len(op.axes)),
                                                      key=lambda k: op.axes[k])]
    lines = [f"const npy_intp size[{max(len(sizes), 1)}] = {{{', '.join(sizes) or '0'}}};"]
    for k, axis in enumerate(op.axes):
        lines.append(
            f"if (PyArray_DIMS(i0)[{axis}] != size[{k}]) {{ {shape_text('t', 'i0')} "
            + cn.fail(f"specify_shape: the input has shape %s, expected {want_text} "
                      f"(axis {axis} differs)", "t", *want_args, exc=SHAPE_ERROR) + " }")
    lines.append("wb_set(o0, (PyObject *)i0);")
    return "\n".join(lines)


@emits(Rebroadcast)
def rebroadcast(cn) -> str:
    op = cn.node.op
    cn.support(SUPPORT)
    lines = []
    for axis, broadcastable in op.axes:
        if broadcastable:
            lines.append(
                f"if (PyArray_DIMS(i0)[{axis}] != 1) {{ {shape_text('t', 'i0')} "
                + cn.fail(f"{c_text(str(op))}: axis {axis} is marked broadcastable but the "
                          f"input has shape %s (size %ld there, not 1)", "t",
                          f"(long)PyArray_DIMS(i0)[{axis}]", exc=SHAPE_ERROR) + " }")
    lines.append("wb_set(o0, (PyObject *)i0);")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Allocation


@emits(Alloc)
def alloc(cn) -> str | None:
    """The value broadcast into a new array: one strided copy with zero strides where the
    value broadcasts (a plain fill for a scalar value)."""
    node = cn.node
    dtype = cn.out_dtype()
    if not copyable(dtype):
        return None
    nd = node.outputs[0].ndim
    vd = node.inputs[0].ndim
    offset = nd - vd
    n = max(nd, 1)
    cn.support(SUPPORT)
    sizes = ", ".join(int_scalar(cn, k + 1) for k in range(nd)) or "0"
    code = [f"npy_intp dims[{n}] = {{{sizes}}}, sstr[{n}];",
            f"for (int d = 0; d < {nd}; d++) if (dims[d] < 0) {{ char t[256]; "
            f"wb_ints_text(t, 256, {nd}, dims, 0); "
            + cn.fail("alloc: negative dimension in the shape %s", "t", exc=SHAPE_ERROR) + " }",
            f"for (int d = 0; d < {nd}; d++) {{",
            f"    if (d < {offset}) {{ sstr[d] = 0; continue; }}",
            f"    npy_intp v = PyArray_DIMS(i0)[d - {offset}];",
            f"    if (v != 1 && v != dims[d]) {{ char a[256], b[256]; "
            f"wb_ints_text(a, 256, {vd}, PyArray_DIMS(i0), 0); "
            f"wb_ints_text(b, 256, {nd}, dims, 0); "
            + cn.fail("alloc: cannot broadcast a value of shape %s to the shape %s", "a", "b",
                      exc=SHAPE_ERROR) + " }",
            f"    sstr[d] = v == 1 ? 0 : PyArray_STRIDES(i0)[d - {offset}];",
            "}",
            f"if (wb_prepare(o0, {nd}, dims, {typenum(dtype)})) goto wb_fail;",
            "PyArrayObject *out = (PyArrayObject *)*o0;",
            f"wb_copy_nd({nd}, dims, PyArray_BYTES(out), PyArray_STRIDES(out), "
            f"PyArray_BYTES(i0), sstr, {np.dtype(dtype).itemsize});"]
    return "\n".join(code)


def _result(*dtypes: str) -> str:
    """The dtype NumPy gives an arithmetic operation on 0-d arrays of these dtypes."""
    return np.result_type(*[np.dtype(d) for d in dtypes]).name


@emits(ARange)
def arange(cn) -> str | None:
    """``numpy.arange`` computed as NumPy does (its ``_calc_length`` and the dtype's
    ``fill``): the length from ``(stop - start) / step`` in the types NumPy's arithmetic on
    the 0-d inputs gives, the first two values from ``start`` and ``start + step``, the rest
    as ``first + i * delta`` in the output type."""
    out_dt = cn.out_dtype()
    start_dt, stop_dt, step_dt = (cn.in_dtype(i) for i in range(3))
    if out_dt == "bool" or out_dt not in CTYPES or \
            any(d not in CTYPES for d in (start_dt, stop_dt, step_dt)):
        return None
    cn.support(SUPPORT)
    sub_dt = _result(stop_dt, start_dt)
    div_dt = (np.zeros((), sub_dt) / np.ones((), step_dt)).dtype.name
    next_dt = _result(start_dt, step_dt)
    t_out = ctype(out_dt)
    name = f"wb_arange_fill_{out_dt}"
    # NumPy's fill is compiled without fused multiply-add; -march=native would contract
    # ``first + i * delta`` into one and round differently
    cn.support(f"""
__attribute__((optimize("fp-contract=off")))
static void {name}({t_out} *p, npy_intp n) {{
    const {t_out} first = p[0], delta = p[1] - p[0];
    #pragma omp simd
    for (npy_intp i = 2; i < n; i++) p[i] = first + i * delta;
}}
""")
    v = {k: f"*(const {ctype(d)} *)PyArray_DATA(i{i})"
         for i, (k, d) in enumerate((("start", start_dt), ("stop", stop_dt), ("step", step_dt)))}
    return f"""\
const {ctype(start_dt)} start = {v['start']};
const {ctype(stop_dt)} stop = {v['stop']};
const {ctype(step_dt)} step = {v['step']};
if (step == 0) {cn.fail("arange: step must not be zero")}
const {ctype(sub_dt)} range = ({ctype(sub_dt)})(({ctype(sub_dt)})stop - ({ctype(sub_dt)})start);
const {ctype(div_dt)} val = ({ctype(div_dt)})(({ctype(div_dt)})range / ({ctype(div_dt)})step);
const double value = (double)val;
npy_intp n;
if (val == 0 && range != 0) n = signbit(value) ? 0 : 1;
else {{
    const double c = ceil(value);
    if (isnan(c)) {cn.fail("arange: cannot compute length")}
    if (!((double)NPY_MIN_INTP <= c && c <= (double)NPY_MAX_INTP))
        {cn.fail("Maximum allowed size exceeded")}
    n = c > 0 ? (npy_intp)c : 0;
}}
if (wb_prepare(o0, 1, &n, {typenum(out_dt)})) goto wb_fail;
{t_out} *p = ({t_out} *)PyArray_DATA((PyArrayObject *)*o0);
if (n > 0) p[0] = ({t_out})start;
if (n > 1) p[1] = ({t_out})({ctype(next_dt)})(({ctype(next_dt)})start + ({ctype(next_dt)})step);
if (n > 2) {name}(p, n);"""


@emits(Eye)
def eye(cn) -> str | None:
    dtype = cn.out_dtype()
    if dtype not in CTYPES:
        return None
    t = ctype(dtype)
    return f"""\
const npy_intp n = {int_scalar(cn, 0)}, m = {int_scalar(cn, 1)}, k = {int_scalar(cn, 2)};
if (n < 0 || m < 0) {cn.fail("eye: the shape (%ld, %ld) has a negative dimension",
                             "(long)n", "(long)m")}
npy_intp dims[2] = {{n, m}};
if (wb_prepare(o0, 2, dims, {typenum(dtype)})) goto wb_fail;
{t} *p = ({t} *)PyArray_DATA((PyArrayObject *)*o0);
memset(p, 0, n * m * sizeof({t}));
for (npy_intp i = k < 0 ? -k : 0; i < n && i + k < m; i++) p[i * m + i + k] = 1;"""


# ---------------------------------------------------------------------------------------
# Joining and splitting


@emits(MakeVector)
def make_vector(cn) -> str | None:
    dtype = cn.out_dtype()
    if not copyable(dtype) or any(cn.in_dtype(i) != dtype for i in range(len(cn.node.inputs))):
        return None
    n = len(cn.node.inputs)
    size = np.dtype(dtype).itemsize
    copies = "\n".join(f"memcpy(p + {k * size}, PyArray_DATA(i{k}), {size});" for k in range(n))
    return (f"npy_intp n = {n};\n"
            f"if (wb_prepare(o0, 1, &n, {typenum(dtype)})) goto wb_fail;\n"
            f"char *p = PyArray_BYTES((PyArrayObject *)*o0); (void)p;\n" + copies)


@emits(Join)
def join(cn) -> str | None:
    """Each input copied into its stretch of the output along the axis (rows of memcpy
    for contiguous inputs of the output's dtype; C conversions for the others)."""
    node = cn.node
    axis = node.op.axis
    out_dt = cn.out_dtype()
    if not copyable(out_dt):
        return None
    nd = node.outputs[0].ndim
    n = len(node.inputs)
    cn.support(SUPPORT)
    copies = []
    for i in range(n):
        dst = "PyArray_BYTES(out) + along * PyArray_STRIDES(out)[%d]" % axis
        args = (f"{nd}, PyArray_DIMS(i{i}), {dst}, PyArray_STRIDES(out), PyArray_BYTES(i{i}), "
                f"PyArray_STRIDES(i{i})")
        if cn.in_dtype(i) == out_dt:
            copies.append(f"wb_copy_nd({args}, {np.dtype(out_dt).itemsize});")
        else:
            kernel = cast_kernel(cn, cn.in_dtype(i), out_dt)
            if kernel is None:
                return None
            copies.append(f"{kernel}({args});")
        copies.append(f"along += PyArray_DIMS(i{i})[{axis}];")
    check = []
    for i in range(1, n):
        check.append(
            f"for (int d = 0; d < {nd}; d++) if (d != {axis} && PyArray_DIMS(i{i})[d] != "
            f"PyArray_DIMS(i0)[d]) {{ {shape_text('a', f'i{i}')} {shape_text('b', 'i0')} "
            + cn.fail(f"concatenate along axis {axis}: input {i} has shape %s and input 0 has "
                      f"shape %s; they differ at dimension %d, and every dimension but the "
                      f"axis must match", "a", "b", "d", exc=SHAPE_ERROR) + " }")
    total = " + ".join(f"PyArray_DIMS(i{i})[{axis}]" for i in range(n))
    return "\n".join(
        check
        + [f"npy_intp dims[{nd}];",
           f"for (int d = 0; d < {nd}; d++) dims[d] = PyArray_DIMS(i0)[d];",
           f"dims[{axis}] = {total};",
           f"if (wb_prepare(o0, {nd}, dims, {typenum(out_dt)})) goto wb_fail;",
           "PyArrayObject *out = (PyArrayObject *)*o0;",
           "npy_intp along = 0;"]
        + copies + ["(void)along;"])


@emits(Split)
def split(cn) -> str | None:
    """Each piece a view of the input, after perform's checks of the sizes."""
    op = cn.node.op
    axis, k = op.axis, op.len_splits
    nd = cn.node.inputs[0].ndim
    cn.support(SUPPORT)
    item = int_at(cn.in_dtype(1), "PyArray_BYTES(i1) + j * PyArray_STRIDES(i1)[0]")
    lines = [
        "const npy_intp K = PyArray_DIMS(i1)[0];",
        f"if (K != {k}) " + cn.fail(f"split: %ld split sizes given for n_splits={k}",
                                    "(long)K", exc=SHAPE_ERROR),
        f"npy_intp sizes[{max(k, 1)}], total = 0;",
        "int negative = 0;",
        f"for (npy_intp j = 0; j < {k}; j++) {{ sizes[j] = {item}; "
        f"negative |= sizes[j] < 0; total += sizes[j]; }}",
        f"if (negative) {{ char t[512]; wb_ints_text(t, 512, {k}, sizes, 1); "
        + cn.fail("split: negative split size in %s", "t") + " }",
        f"if (total != PyArray_DIMS(i0)[{axis}]) {{ char t[512]; "
        f"wb_ints_text(t, 512, {k}, sizes, 1); {shape_text('s', 'i0')} "
        + cn.fail(f"split: the sizes %s add up to %ld, but axis {axis} of the input (shape %s) "
                  f"has size %ld", "t", "(long)total", "s",
                  f"(long)PyArray_DIMS(i0)[{axis}]", exc=SHAPE_ERROR) + " }",
        f"npy_intp dims[{nd}];",
        f"for (int d = 0; d < {nd}; d++) dims[d] = PyArray_DIMS(i0)[d];",
        "char *at = PyArray_BYTES(i0);",
    ]
    for j in range(k):
        lines.append(f"dims[{axis}] = sizes[{j}];")
        lines.append(f"if (wb_view(o{j}, i0, {nd}, dims, PyArray_STRIDES(i0), at)) goto wb_fail;")
        lines.append(f"at += sizes[{j}] * PyArray_STRIDES(i0)[{axis}];")
    return "\n".join(lines)
