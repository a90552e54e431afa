"""C for the products: Gemm, Gemv, Ger (and their in-place variants), Dot of 1-d and 2-d
operands, BatchedDot, MatMul and TensorDot, through SciPy's Fortran BLAS
(:mod:`.blas_pointers`).

BLAS is column-major and our arrays are row-major: ``C = A B`` is computed as
``Cᵀ = Bᵀ Aᵀ``. A matrix whose rows (or columns) are contiguous is handed over as it lies,
the transpose flag and the leading dimension saying how to read it; only other layouts
(negative, zero or odd strides) are copied to a temporary first.

The BLAS ops stand for NumPy expressions (``alpha * dot(x, y) + beta * z``), and BLAS's
contract differs from them in corner cases: an ``alpha`` of 0 or a run-time ``beta`` of 0
skips a term where NumPy would still spread a NaN, ``z`` may broadcast, a size may be 0 (BLAS
wants leading dimensions >= 1) or too large for BLAS's 32-bit ints. Those cases take NumPy's
product (``PyArray_MatrixProduct2``) and one loop combining the terms, so the values are the
ones ``perform`` gives; the common case is one BLAS call.

float32 and float64 only (both operands of one dtype); other dtypes run through ``perform``.
"""
from __future__ import annotations

from ...ops.blas import BatchedDot, Dot, MatMul, TensorDot
from ...ops.gemm import Gemm, Gemv, Ger, is_zero_constant
from .registry import emits

#: dtype -> (C type, BLAS prefix)
_TYPES = {"float32": ("float", "s"), "float64": ("double", "d")}

# Helpers shared by both dtypes: how BLAS can read a matrix or a vector, and overlap.
_COMMON = r"""
/* How column-major BLAS can read the r x c row-major-indexed matrix at data (byte strides
 * s0, s1, elements of es bytes): 0: rows contiguous, so memory holds its transpose in
 * column-major order; 1: columns contiguous, memory holds it in column-major order; *ld is
 * the leading dimension. -1: neither (misaligned, zero, negative or odd strides): copy it. */
static int wbb_kind(const char *data, npy_intp r, npy_intp c, npy_intp s0, npy_intp s1,
                    npy_intp es, int *ld) {
    if (((uintptr_t)data) % es) return -1;
    if ((c <= 1 || s1 == es) && (r <= 1 || (s0 > 0 && s0 % es == 0 && s0 / es >= c
                                             && s0 / es <= INT_MAX))) {
        *ld = r <= 1 ? (c > 1 ? (int)c : 1) : (int)(s0 / es);
        return 0;
    }
    if ((r <= 1 || s0 == es) && (c <= 1 || (s1 > 0 && s1 % es == 0 && s1 / es >= r
                                             && s1 / es <= INT_MAX))) {
        *ld = c <= 1 ? (r > 1 ? (int)r : 1) : (int)(s1 / es);
        return 1;
    }
    return -1;
}

/* The pointer and increment BLAS reads the n-vector at data (byte stride s) from (BLAS
 * starts a negative increment at the lowest address); 0 when it cannot (a zero, odd or huge
 * stride, or misaligned data). */
static int wbb_vec(const char *data, npy_intp n, npy_intp s, npy_intp es, char **ptr,
                   int *inc) {
    if (((uintptr_t)data) % es) return 0;
    if (n <= 1) { *ptr = (char *)data; *inc = 1; return 1; }
    if (s == 0 || s % es || s / es > INT_MAX || s / es < -INT_MAX) return 0;
    *inc = (int)(s / es);
    *ptr = (char *)(s < 0 ? data + (n - 1) * s : data);
    return 1;
}

/* Whether the memory a and b span intersects (a cheap bound: it may say yes for
 * interleaved arrays that share no element, which only costs a copy). */
static int wbb_overlap(PyArrayObject *a, PyArrayObject *b) {
    char *lo[2], *hi[2];
    PyArrayObject *ab[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        char *l = PyArray_BYTES(ab[k]), *h = l;
        for (int d = 0; d < PyArray_NDIM(ab[k]); d++) {
            npy_intp n = PyArray_DIMS(ab[k])[d], s = PyArray_STRIDES(ab[k])[d];
            if (n == 0) return 0;
            if (s < 0) l += (n - 1) * s; else h += (n - 1) * s;
        }
        lo[k] = l; hi[k] = h + PyArray_ITEMSIZE(ab[k]);
    }
    return lo[0] < hi[1] && lo[1] < hi[0];
}
"""

# Per dtype (@T@ the C type, @P@ the BLAS prefix): the calls with their copies, and the loops
# the NumPy-semantics paths combine terms with.
_TYPED = r"""
typedef void (*wbb_gemm_@P@_t)(char *, char *, int *, int *, int *, @T@ *, @T@ *, int *,
                               @T@ *, int *, @T@ *, @T@ *, int *);
typedef void (*wbb_gemv_@P@_t)(char *, int *, int *, @T@ *, @T@ *, int *, @T@ *, int *,
                               @T@ *, @T@ *, int *);
typedef void (*wbb_ger_@P@_t)(int *, int *, @T@ *, @T@ *, int *, @T@ *, int *, @T@ *, int *);
typedef @T@ (*wbb_dot_@P@_t)(int *, @T@ *, int *, @T@ *, int *);

static @T@ *wbb_pack_@P@(const char *src, npy_intp r, npy_intp c, npy_intp s0, npy_intp s1,
                         int read) {
    @T@ *dst = (@T@ *)malloc((r * c > 0 ? r * c : 1) * sizeof(@T@));
    if (dst != NULL && read)
        for (npy_intp i = 0; i < r; i++)
            for (npy_intp j = 0; j < c; j++)
                dst[i * c + j] = *(const @T@ *)(src + i * s0 + j * s1);
    return dst;
}

static void wbb_unpack_@P@(char *dst, npy_intp r, npy_intp c, npy_intp s0, npy_intp s1,
                           const @T@ *src) {
    for (npy_intp i = 0; i < r; i++)
        for (npy_intp j = 0; j < c; j++)
            *(@T@ *)(dst + i * s0 + j * s1) = src[i * c + j];
}

/* C = alpha A B + beta C for the M x K matrix A, the K x N matrix B and the M x N matrix C,
 * each given by its data and byte strides (BLAS's contract: beta == 0 leaves C unread).
 * Operands BLAS cannot read as they lie are copied; a C it cannot write is computed in a
 * temporary and copied back. Needs 1 <= M, N, K <= INT_MAX. 0, or -1 with MemoryError. */
static int wbb_gemm_@P@(void *fn, npy_intp M, npy_intp N, npy_intp K, @T@ alpha,
                        const char *a, npy_intp as0, npy_intp as1,
                        const char *b, npy_intp bs0, npy_intp bs1,
                        @T@ beta, char *c, npy_intp cs0, npy_intp cs1) {
    const npy_intp es = sizeof(@T@);
    @T@ *ta = NULL, *tb = NULL, *tc = NULL;
    int lda, ldb, ldc, rc = -1;
    int ka = wbb_kind(a, M, K, as0, as1, es, &lda);
    int kb = wbb_kind(b, K, N, bs0, bs1, es, &ldb);
    int kc = wbb_kind(c, M, N, cs0, cs1, es, &ldc);
    char *cp = c;
    if (ka < 0) {
        if ((ta = wbb_pack_@P@(a, M, K, as0, as1, 1)) == NULL) goto done;
        a = (const char *)ta; ka = 0; lda = (int)K;
    }
    if (kb < 0) {
        if ((tb = wbb_pack_@P@(b, K, N, bs0, bs1, 1)) == NULL) goto done;
        b = (const char *)tb; kb = 0; ldb = (int)N;
    }
    if (kc < 0) {
        if ((tc = wbb_pack_@P@(c, M, N, cs0, cs1, beta != 0)) == NULL) goto done;
        cp = (char *)tc; kc = 0; ldc = (int)N;
    }
    {
        char t1, t2;
        int m, n, k = (int)K, ld1, ld2;
        const char *p1, *p2;
        if (kc == 0) {  /* C's rows are contiguous: Cᵀ (N x M, column-major) = Bᵀ Aᵀ */
            m = (int)N; n = (int)M;
            p1 = b; ld1 = ldb; t1 = kb == 0 ? 'N' : 'T';
            p2 = a; ld2 = lda; t2 = ka == 0 ? 'N' : 'T';
        } else {        /* C is column-major: C = A B */
            m = (int)M; n = (int)N;
            p1 = a; ld1 = lda; t1 = ka == 1 ? 'N' : 'T';
            p2 = b; ld2 = ldb; t2 = kb == 1 ? 'N' : 'T';
        }
        ((wbb_gemm_@P@_t)fn)(&t1, &t2, &m, &n, &k, &alpha, (@T@ *)p1, &ld1, (@T@ *)p2, &ld2,
                             &beta, (@T@ *)cp, &ldc);
    }
    if (tc != NULL) wbb_unpack_@P@(c, M, N, cs0, cs1, tc);
    rc = 0;
done:
    if (rc) PyErr_NoMemory();
    free(ta); free(tb); free(tc);
    return rc;
}

/* y = alpha A x + beta y for the M x N matrix A, the N-vector x and the M-vector y (strided;
 * beta == 0 leaves y unread). Needs 1 <= M, N <= INT_MAX. 0, or -1 with MemoryError. */
static int wbb_gemv_@P@(void *fn, npy_intp M, npy_intp N, @T@ alpha,
                        const char *a, npy_intp as0, npy_intp as1, const char *x, npy_intp xs,
                        @T@ beta, char *y, npy_intp ys) {
    const npy_intp es = sizeof(@T@);
    @T@ *ta = NULL, *tx = NULL, *ty = NULL;
    int lda, incx, incy, rc = -1;
    char *px, *py;
    int ka = wbb_kind(a, M, N, as0, as1, es, &lda);
    if (ka < 0) {
        if ((ta = wbb_pack_@P@(a, M, N, as0, as1, 1)) == NULL) goto done;
        a = (const char *)ta; ka = 0; lda = (int)N;
    }
    if (!wbb_vec(x, N, xs, es, &px, &incx)) {
        if ((tx = wbb_pack_@P@(x, N, 1, xs, 0, 1)) == NULL) goto done;
        px = (char *)tx; incx = 1;
    }
    if (!wbb_vec(y, M, ys, es, &py, &incy)) {
        if ((ty = wbb_pack_@P@(y, M, 1, ys, 0, beta != 0)) == NULL) goto done;
        py = (char *)ty; incy = 1;
    }
    {
        /* rows contiguous: memory holds Aᵀ (N x M), so y = (Aᵀ)ᵀ x */
        char t = ka == 0 ? 'T' : 'N';
        int m = ka == 0 ? (int)N : (int)M, n = ka == 0 ? (int)M : (int)N;
        ((wbb_gemv_@P@_t)fn)(&t, &m, &n, &alpha, (@T@ *)a, &lda, (@T@ *)px, &incx, &beta,
                             (@T@ *)py, &incy);
    }
    if (ty != NULL) wbb_unpack_@P@(y, M, 1, ys, 0, ty);
    rc = 0;
done:
    if (rc) PyErr_NoMemory();
    free(ta); free(tx); free(ty);
    return rc;
}

/* A += alpha x yᵀ for the M x N matrix A (strided) and the vectors x (M) and y (N). Needs
 * 1 <= M, N <= INT_MAX. 0, or -1 with MemoryError. */
static int wbb_ger_@P@(void *fn, npy_intp M, npy_intp N, @T@ alpha,
                       const char *x, npy_intp xs, const char *y, npy_intp ys,
                       char *a, npy_intp as0, npy_intp as1) {
    const npy_intp es = sizeof(@T@);
    @T@ *ta = NULL, *tx = NULL, *ty = NULL;
    int lda, incx, incy, rc = -1;
    char *px, *py, *pa = a;
    int ka = wbb_kind(a, M, N, as0, as1, es, &lda);
    if (!wbb_vec(x, M, xs, es, &px, &incx)) {
        if ((tx = wbb_pack_@P@(x, M, 1, xs, 0, 1)) == NULL) goto done;
        px = (char *)tx; incx = 1;
    }
    if (!wbb_vec(y, N, ys, es, &py, &incy)) {
        if ((ty = wbb_pack_@P@(y, N, 1, ys, 0, 1)) == NULL) goto done;
        py = (char *)ty; incy = 1;
    }
    if (ka < 0) {
        if ((ta = wbb_pack_@P@(a, M, N, as0, as1, 1)) == NULL) goto done;
        pa = (char *)ta; ka = 0; lda = (int)N;
    }
    {
        int m = (int)M, n = (int)N;
        if (ka == 0)  /* rows contiguous: Aᵀ += alpha y xᵀ */
            ((wbb_ger_@P@_t)fn)(&n, &m, &alpha, (@T@ *)py, &incy, (@T@ *)px, &incx,
                                (@T@ *)pa, &lda);
        else
            ((wbb_ger_@P@_t)fn)(&m, &n, &alpha, (@T@ *)px, &incx, (@T@ *)py, &incy,
                                (@T@ *)pa, &lda);
    }
    if (ta != NULL) wbb_unpack_@P@(a, M, N, as0, as1, ta);
    rc = 0;
done:
    if (rc) PyErr_NoMemory();
    free(ta); free(tx); free(ty);
    return rc;
}

/* *out = x . y for n-vectors (strided). Needs n <= INT_MAX. 0, or -1 with MemoryError. */
static int wbb_dot_@P@(void *fn, npy_intp n, const char *x, npy_intp xs, const char *y,
                       npy_intp ys, @T@ *out) {
    const npy_intp es = sizeof(@T@);
    @T@ *tx = NULL, *ty = NULL;
    int incx, incy, nn = (int)n, rc = -1;
    char *px, *py;
    if (n == 0) { *out = 0; return 0; }
    if (!wbb_vec(x, n, xs, es, &px, &incx)) {
        if ((tx = wbb_pack_@P@(x, n, 1, xs, 0, 1)) == NULL) goto done;
        px = (char *)tx; incx = 1;
    }
    if (!wbb_vec(y, n, ys, es, &py, &incy)) {
        if ((ty = wbb_pack_@P@(y, n, 1, ys, 0, 1)) == NULL) goto done;
        py = (char *)ty; incy = 1;
    }
    *out = ((wbb_dot_@P@_t)fn)(&nn, (@T@ *)px, &incx, (@T@ *)py, &incy);
    rc = 0;
done:
    if (rc) PyErr_NoMemory();
    free(tx); free(ty);
    return rc;
}

/* o = alpha p + beta z (z NULL: alpha p) over M x N, zero strides broadcasting: the NumPy
 * expression of Gemm and Gemv where BLAS's shortcuts would differ from it. */
static void wbb_axpby_@P@(npy_intp M, npy_intp N, @T@ alpha,
                          const char *p, npy_intp ps0, npy_intp ps1, @T@ beta,
                          const char *z, npy_intp zs0, npy_intp zs1,
                          char *o, npy_intp os0, npy_intp os1) {
    for (npy_intp i = 0; i < M; i++)
        for (npy_intp j = 0; j < N; j++) {
            @T@ v = alpha * *(const @T@ *)(p + i * ps0 + j * ps1);
            if (z != NULL) v = v + beta * *(const @T@ *)(z + i * zs0 + j * zs1);
            *(@T@ *)(o + i * os0 + j * os1) = v;
        }
}

/* o = a + alpha (x yᵀ) over M x N, zero strides broadcasting: Ger's NumPy expression. */
static void wbb_rank1_@P@(npy_intp M, npy_intp N, const char *a, npy_intp as0, npy_intp as1,
                          @T@ alpha, const char *x, npy_intp xs, const char *y, npy_intp ys,
                          char *o, npy_intp os0, npy_intp os1) {
    for (npy_intp i = 0; i < M; i++) {
        const @T@ xi = *(const @T@ *)(x + i * xs);
        for (npy_intp j = 0; j < N; j++)
            *(@T@ *)(o + i * os0 + j * os1) = *(const @T@ *)(a + i * as0 + j * as1)
                + alpha * (xi * *(const @T@ *)(y + j * ys));
    }
}
"""


def _blas_of(cn, n_operands: int, routine: str) -> tuple[str, str, str] | None:
    """(C type, BLAS prefix, C expression of the routine's pointer) when the first
    ``n_operands`` inputs and the output share one BLAS dtype, else None (also when the
    graph already uses all its BLAS pointer slots: the node then runs through perform)."""
    dt = cn.out_dtype()
    if dt not in _TYPES or any(cn.in_dtype(i) != dt for i in range(n_operands)):
        return None
    t, p = _TYPES[dt]
    try:
        fn = cn.blas(p + routine)
    except ValueError:
        return None
    cn.support(_COMMON)
    cn.support(_TYPED.replace("@T@", t).replace("@P@", p))
    return t, p, fn


def _d(a: str, k: int) -> str:
    return f"PyArray_DIMS({a})[{k}]"


def _s(a: str, k: int) -> str:
    return f"PyArray_STRIDES({a})[{k}]"


def _bs(a: str, k: int, size: str) -> str:
    """``a``'s byte stride along axis k, 0 where it broadcasts (size 1) against ``size``."""
    return f"({_d(a, k)} == 1 && {size} != 1 ? 0 : {_s(a, k)})"


def _fits(*sizes: str) -> str:
    return " && ".join(f"{s} <= INT_MAX" for s in sizes)


def _output(cn, target: str | None, usable: str, nd: int, dims: str, copy: str | None) -> str:
    """Code making ``out`` the array the result is written to: the in-place ``target`` when
    ``usable`` holds, else a fresh (or last call's) output, into which ``copy`` (an input) is
    copied first when given."""
    fresh = [f"if (wb_prepare(o0, {nd}, {dims}, {cn.typenum(cn.out_dtype())})) goto wb_fail;",
             "out = (PyArrayObject *)*o0;"]
    if copy is not None:
        fresh.append(f"if (PyArray_CopyInto(out, {copy}) < 0) goto wb_fail;")
    if target is None:
        return "PyArrayObject *out;\n" + "\n".join(fresh)
    return (f"PyArrayObject *out;\n"
            f"if ({usable}) {{\n    wb_set(o0, (PyObject *){target});\n    out = {target};\n"
            f"}} else {{\n" + _indent("\n".join(fresh), 4) + "\n}")


def _scaled_update(cn, matrix: bool) -> str | None:
    """Gemm (``matrix``) or Gemv: ``alpha * dot(a, b) + beta * c``, inputs
    ``(c, alpha, a, b, beta)``. One BLAS call into ``c`` (in place) or into a copy of it;
    with a constant ``beta`` of 0, into the output without reading ``c``."""
    types = _blas_of(cn, 5, "gemm" if matrix else "gemv")
    if types is None:
        return None
    t, p, fn = types
    reads_c = not is_zero_constant(cn.node.inputs[4])
    inplace = cn.node.op.inplace
    if matrix:
        name, names = "Gemm", ("z", "x", "y")
        nd, sizes, shape = 2, ("M", "N", "K"), "M, N"
        size_of = f"const npy_intp M = {_d('a', 0)}, K = {_d('a', 1)}, N = {_d('b', 1)};"
        misaligned = cn.fail("Gemm: x of shape (%ld, %ld) and y of shape (%ld, %ld) are not "
                             "aligned", "(long)M", "(long)K", f"(long){_d('b', 0)}", "(long)N")

        def call(alpha: str, beta: str, out: str) -> str:
            return (f"wbb_gemm_{p}({fn}, M, N, K, {alpha}, PyArray_BYTES(a), {_s('a', 0)}, "
                    f"{_s('a', 1)}, PyArray_BYTES(b), {_s('b', 0)}, {_s('b', 1)}, {beta}, "
                    f"PyArray_BYTES({out}), {_s(out, 0)}, {_s(out, 1)})")
    else:
        name, names = "Gemv", ("y", "A", "x")
        nd, sizes, shape = 1, ("M", "K"), "M"
        size_of = f"const npy_intp M = {_d('a', 0)}, K = {_d('a', 1)}, N = 1; (void)N;"
        misaligned = cn.fail("Gemv: A of shape (%ld, %ld) and x of shape (%ld,) are not "
                             "aligned", "(long)M", "(long)K", f"(long){_d('b', 0)}")

        def call(alpha: str, beta: str, out: str) -> str:
            return (f"wbb_gemv_{p}({fn}, M, K, {alpha}, PyArray_BYTES(a), {_s('a', 0)}, "
                    f"{_s('a', 1)}, PyArray_BYTES(b), {_s('b', 0)}, {beta}, "
                    f"PyArray_BYTES({out}), {_s(out, 0)})")
    same_shape = " && ".join(f"{_d('c', k)} == {v}" for k, v in enumerate(sizes[:nd]))
    direct = ["alpha != 0"] + [f"{v} > 0" for v in sizes] + [_fits(*sizes)]
    if reads_c:
        direct += ["beta != 0", same_shape]
    usable = f"{same_shape} && PyArray_ISWRITEABLE(c) && !wbb_overlap(c, a) && !wbb_overlap(c, b)"
    general_usable = " && ".join(f"{_d('c', k)} == dims[{k}]" for k in range(nd)) \
        + " && PyArray_ISWRITEABLE(c)"
    product = f"dot({names[1]}, {names[2]})"
    broadcast = ""
    if reads_c:
        fail = cn.fail(f"{name}: {names[0]} of shape %s does not broadcast against {product} "
                       f"of shape ({', '.join(['%ld'] * nd)}{',' if nd == 1 else ''})", "bc",
                       *[f"(long){v}" for v in sizes[:nd]])
        broadcast = (f"if (wb_broadcast_into(dims, {nd}, c)) {{ char bc[96]; "
                     f"wb_shape_text(bc, 96, c); {fail} }}")
    # (o = alpha P + beta c) over 2-d loops: a vector is one row
    rows = ("dims[0]", "dims[1]") if matrix else ("1", "dims[0]")

    def strides(arr: str, bcast: bool) -> str:
        if not matrix:
            return f"0, {_bs(arr, 0, 'dims[0]') if bcast else _s(arr, 0)}"
        if not bcast:
            return f"{_s(arr, 0)}, {_s(arr, 1)}"
        return f"{_bs(arr, 0, 'dims[0]')}, {_bs(arr, 1, 'dims[1]')}"

    c_term = f"beta, PyArray_BYTES(c), {strides('c', True)}" if reads_c else "0, NULL, 0, 0"
    return f"""
PyArrayObject *c = i0, *a = i2, *b = i3;  /* {name}: {names[0]} = alpha {product} + beta {names[0]} */
{size_of}
if ({_d('b', 0)} != K) {misaligned}
const {t} alpha = *(const {t} *)PyArray_DATA(i1), beta = *(const {t} *)PyArray_DATA(i4);
(void)beta;
if ({' && '.join(direct)}) {{
{_indent(_output(cn, 'c' if inplace else None, usable, nd, f'((npy_intp[]){{{shape}}})',
                 'c' if reads_c else None), 4)}
    if ({call('alpha', 'beta' if reads_c else '0', 'out')}) goto wb_fail;
}} else {{
    /* NumPy's expression: a zero alpha or beta still spreads NaN, {names[0]} may broadcast,
       sizes may be 0 or beyond BLAS's ints. (Not NumPy's dot for P: it would warn about the
       NaN this path exists for.) */
    npy_intp dims[{nd}] = {{{shape}}}, pd[{nd}] = {{{shape}}};
{_indent(broadcast, 4)}
{_indent(_output(cn, 'c' if inplace else None, general_usable, nd, 'dims', None), 4)}
    PyArrayObject *P = (PyArrayObject *)PyArray_ZEROS({nd}, pd, {cn.typenum(cn.out_dtype())}, 0);
    if (P == NULL) goto wb_fail;
    if (!({_fits(*sizes)})) {{
        PyObject *r = PyArray_MatrixProduct2((PyObject *)a, (PyObject *)b, P);
        if (r == NULL) {{ Py_DECREF(P); goto wb_fail; }}
        Py_DECREF(r);
    }} else if ({' && '.join(f'{v} > 0' for v in sizes)} && {call('1', '0', 'P')}) {{
        Py_DECREF(P); goto wb_fail;
    }}
    wbb_axpby_{p}({rows[0]}, {rows[1]}, alpha, PyArray_BYTES(P), {strides('P', True)}, {c_term},
                 PyArray_BYTES(out), {strides('out', False)});
    Py_DECREF(P);
}}"""


@emits(Gemm)
def gemm(cn) -> str | None:
    """``alpha * dot(x, y) + beta * z`` for matrices: one ``?gemm``."""
    return _scaled_update(cn, matrix=True)


@emits(Gemv)
def gemv(cn) -> str | None:
    """``alpha * dot(A, x) + beta * y`` for a matrix and vectors: one ``?gemv``."""
    return _scaled_update(cn, matrix=False)


@emits(Ger)
def ger(cn) -> str | None:
    """``A + alpha * outer(x, y)``: one ``?ger`` on ``A`` (in place) or on a copy of it."""
    types = _blas_of(cn, 4, "ger")
    if types is None:
        return None
    t, p, fn = types
    inplace = cn.node.op.inplace
    direct = ["alpha != 0", "M > 0", "N > 0", f"{_d('A', 0)} == M", f"{_d('A', 1)} == N",
              _fits("M", "N")]
    usable = ("PyArray_ISWRITEABLE(A) && !wbb_overlap(A, x) && !wbb_overlap(A, y)")
    general_usable = (f"{_d('A', 0)} == dims[0] && {_d('A', 1)} == dims[1] && {usable}")
    fail = cn.fail("Ger: A of shape %s does not broadcast against outer(x, y) of shape "
                   "(%ld, %ld)", "ba", "(long)M", "(long)N")
    return f"""
PyArrayObject *A = i0, *x = i2, *y = i3;
const npy_intp M = {_d('x', 0)}, N = {_d('y', 0)};
const {t} alpha = *(const {t} *)PyArray_DATA(i1);
if ({' && '.join(direct)}) {{
{_indent(_output(cn, 'A' if inplace else None, usable, 2, '((npy_intp[]){M, N})', 'A'), 4)}
    if (wbb_ger_{p}({fn}, M, N, alpha, PyArray_BYTES(x), {_s('x', 0)}, PyArray_BYTES(y),
                   {_s('y', 0)}, PyArray_BYTES(out), {_s('out', 0)}, {_s('out', 1)}))
        goto wb_fail;
}} else {{
    /* NumPy's A + alpha * outer(x, y): a zero alpha still spreads NaN, A may broadcast */
    npy_intp dims[2] = {{M, N}};
    if (wb_broadcast_into(dims, 2, A)) {{ char ba[96]; wb_shape_text(ba, 96, A); {fail} }}
{_indent(_output(cn, 'A' if inplace else None, general_usable, 2, 'dims', None), 4)}
    wbb_rank1_{p}(dims[0], dims[1], PyArray_BYTES(A), {_bs('A', 0, 'dims[0]')},
                 {_bs('A', 1, 'dims[1]')}, alpha, PyArray_BYTES(x), {_bs('x', 0, 'dims[0]')},
                 PyArray_BYTES(y), {_bs('y', 0, 'dims[1]')},
                 PyArray_BYTES(out), {_s('out', 0)}, {_s('out', 1)});
}}"""


def _numpy_shape(nd: int, arr: str) -> tuple[str, list[str]]:
    """A printf format and arguments for ``arr``'s shape as NumPy's dot prints it: (2,3)."""
    fmt = "(" + ",".join(["%ld"] * nd) + ("," if nd == 1 else "") + ")"
    return fmt, [f"(long){_d(arr, k)}" for k in range(nd)]


@emits(Dot)
def dot(cn) -> str | None:
    """``numpy.dot`` of 1-d and 2-d operands: ``?gemm``, ``?gemv`` (a vector times a matrix
    is the transposed matrix times the vector) or ``?dot``."""
    na, nb = (v.ndim for v in cn.node.inputs)
    routine = "dot" if na == nb == 1 else "gemm" if na == nb == 2 else "gemv"
    types = _blas_of(cn, 2, routine)
    if types is None:
        return None
    t, p, fn = types
    fa, aa = _numpy_shape(na, "x")
    fb, ab = _numpy_shape(nb, "y")
    k_a, k_b = na - 1, 0
    fail = cn.fail(f"shapes {fa} and {fb} not aligned: %ld (dim {k_a}) != %ld (dim {k_b})",
                   *aa, *ab, f"(long){_d('x', k_a)}", f"(long){_d('y', k_b)}")
    head = (f"PyArrayObject *x = i0, *y = i1;\n"
            f"const npy_intp K = {_d('x', k_a)};\n"
            f"if ({_d('y', k_b)} != K) {fail}\n")
    tn = cn.typenum(cn.out_dtype())
    if na == 1 and nb == 1:
        return head + f"""if (wb_prepare(o0, 0, NULL, {tn})) goto wb_fail;
if (K > INT_MAX) {{
    PyObject *r = PyArray_MatrixProduct2((PyObject *)x, (PyObject *)y, (PyArrayObject *)*o0);
    if (r == NULL) goto wb_fail;
    Py_DECREF(r);
}} else if (wbb_dot_{p}({fn}, K, PyArray_BYTES(x), {_s('x', 0)},
                       PyArray_BYTES(y), {_s('y', 0)}, ({t} *)PyArray_DATA((PyArrayObject *)*o0)))
    goto wb_fail;"""
    if na == 2 and nb == 2:
        sizes = "const npy_intp M = PyArray_DIMS(x)[0], N = PyArray_DIMS(y)[1];\n"
        dims, nd = "((npy_intp[]){M, N})", 2
        call = (f"wbb_gemm_{p}({fn}, M, N, K, 1, PyArray_BYTES(x), "
                f"{_s('x', 0)}, {_s('x', 1)}, PyArray_BYTES(y), {_s('y', 0)}, {_s('y', 1)}, 0, "
                f"PyArray_BYTES(out), {_s('out', 0)}, {_s('out', 1)})")
    elif na == 2:
        sizes = "const npy_intp M = PyArray_DIMS(x)[0], N = 1;\n"
        dims, nd = "((npy_intp[]){M})", 1
        call = (f"wbb_gemv_{p}({fn}, M, K, 1, PyArray_BYTES(x), {_s('x', 0)}, "
                f"{_s('x', 1)}, PyArray_BYTES(y), {_s('y', 0)}, 0, PyArray_BYTES(out), "
                f"{_s('out', 0)})")
    else:  # x . y = yᵀ x: y's transpose is y with its strides swapped
        sizes = "const npy_intp M = 1, N = PyArray_DIMS(y)[1];\n"
        dims, nd = "((npy_intp[]){N})", 1
        call = (f"wbb_gemv_{p}({fn}, N, K, 1, PyArray_BYTES(y), {_s('y', 1)}, "
                f"{_s('y', 0)}, PyArray_BYTES(x), {_s('x', 0)}, 0, PyArray_BYTES(out), "
                f"{_s('out', 0)})")
    return head + sizes + f"""if (wb_prepare(o0, {nd}, {dims}, {tn})) goto wb_fail;
PyArrayObject *out = (PyArrayObject *)*o0;
if (M == 0 || N == 0) {{
}} else if (K == 0) {{
    memset(PyArray_DATA(out), 0, PyArray_NBYTES(out));
}} else if (!({_fits('M', 'N', 'K')})) {{
    PyObject *r = PyArray_MatrixProduct2((PyObject *)x, (PyObject *)y, out);
    if (r == NULL) goto wb_fail;
    Py_DECREF(r);
}} else if ({call}) goto wb_fail;"""


def _stacked(cn, p: str, fn: str, a_core: int, b_core: int, broadcast: bool, name: str) -> str:
    """A loop of ``?gemm`` calls over the batch axes for stacks of matrices (or of vectors:
    a core of 1 axis is a row for ``a``, a column for ``b``). ``broadcast``: the batch axes
    broadcast as ``numpy.matmul``'s do; else they must be equal (BatchedDot)."""
    na, nb = (v.ndim for v in cn.node.inputs)
    ba, bb = na - a_core, nb - b_core
    nbatch = max(ba, bb)
    nout = cn.node.outputs[0].ndim
    def fail(message: str, *args: str) -> str:
        # the shapes are printed only when it fails
        return ("{ char ta[96], tb[96]; wb_shape_text(ta, 96, a); wb_shape_text(tb, 96, b); "
                + cn.fail(message, "ta", "tb", *args) + " }")

    lines = ["PyArrayObject *a = i0, *b = i1;",
             f"npy_intp dims[{max(nout, 1)}], sa[{max(nbatch, 1)}], sb[{max(nbatch, 1)}];",
             f"const npy_intp M = {_d('a', na - 2) if a_core == 2 else '1'}, "
             f"K = {_d('a', na - 1)};",
             f"const npy_intp K2 = {_d('b', nb - 2) if b_core == 2 else _d('b', nb - 1)}, "
             f"N = {_d('b', nb - 1) if b_core == 2 else '1'};"]
    if broadcast:
        lines.append("if (K != K2) " + fail(
            f"{name}: shapes %s and %s are not aligned: the last axis of the first has size "
            f"%ld, the {'second-to-last' if b_core == 2 else 'last'} axis of the second %ld",
            "(long)K", "(long)K2"))
    else:
        lines.append(f"if ({_d('a', 0)} != {_d('b', 0)}) " + fail(
            f"{name}: batch sizes differ: %s and %s"))
        b_axis = nb - 2 if b_core == 2 else nb - 1
        lines.append("if (K != K2) " + fail(
            f"{name}: shapes %s and %s are not aligned (axis {na - 1} against axis {b_axis})"))
    for k in range(nbatch):
        ia, ib = k - (nbatch - ba), k - (nbatch - bb)
        da = _d("a", ia) if ia >= 0 else "1"
        db = _d("b", ib) if ib >= 0 else "1"
        lines.append(f"{{ const npy_intp da = {da}, db = {db};")
        if broadcast:
            lines.append("  if (da != db && da != 1 && db != 1) " + fail(
                f"{name}: the batch axes of shapes %s and %s do not broadcast"))
        lines.append(f"  dims[{k}] = da == 1 ? db : da;")
        lines.append(f"  sa[{k}] = da == 1 ? 0 : {_s('a', ia) if ia >= 0 else '0'};")
        lines.append(f"  sb[{k}] = db == 1 ? 0 : {_s('b', ib) if ib >= 0 else '0'}; }}")
    core = (["M"] if a_core == 2 else []) + (["N"] if b_core == 2 else [])
    for j, c in enumerate(core):
        lines.append(f"dims[{nbatch + j}] = {c};")
    tn = cn.typenum(cn.out_dtype())
    a_rows = _s("a", na - 2) if a_core == 2 else "0"
    b_cols = _s("b", nb - 1) if b_core == 2 else "0"
    b_rows = _s("b", nb - 2) if b_core == 2 else _s("b", nb - 1)
    o_rows = _s("out", nbatch) if a_core == 2 else "0"
    o_cols = _s("out", nout - 1) if b_core == 2 else "0"
    lines.append(f"""if (wb_prepare(o0, {nout}, dims, {tn})) goto wb_fail;
PyArrayObject *out = (PyArrayObject *)*o0;
npy_intp batches = 1;
for (int d = 0; d < {nbatch}; d++) batches *= dims[d];
if (PyArray_SIZE(out) == 0) {{
}} else if (K == 0) {{
    memset(PyArray_DATA(out), 0, PyArray_NBYTES(out));
}} else if (!({_fits('M', 'N', 'K')})) {{
    {fail(f"{name}: the sizes of %s and %s exceed what BLAS's 32-bit ints can index")}
}} else {{
    npy_intp idx[{max(nbatch, 1)}] = {{0}};
    const char *pa = PyArray_BYTES(a), *pb = PyArray_BYTES(b);
    char *po = PyArray_BYTES(out);
    for (npy_intp m = 0; m < batches; m++) {{
        if (wbb_gemm_{p}({fn}, M, N, K, 1, pa, {a_rows}, {_s('a', na - 1)},
                        pb, {b_rows}, {b_cols}, 0, po, {o_rows}, {o_cols})) goto wb_fail;
        for (int d = {nbatch - 1}; d >= 0; d--) {{
            idx[d]++; pa += sa[d]; pb += sb[d]; po += PyArray_STRIDES(out)[d];
            if (idx[d] < dims[d]) break;
            idx[d] = 0; pa -= sa[d] * dims[d]; pb -= sb[d] * dims[d];
            po -= PyArray_STRIDES(out)[d] * dims[d];
        }}
    }}
}}""")
    return "\n".join(lines)


@emits(BatchedDot)
def batched_dot(cn) -> str | None:
    """``out[i] = dot(a[i], b[i])`` for stacks of matrices or vectors (ndim 2 or 3): one
    ``?gemm`` per batch entry."""
    na, nb = (v.ndim for v in cn.node.inputs)
    types = _blas_of(cn, 2, "gemm") if na in (2, 3) and nb in (2, 3) else None
    if types is None:
        return None
    return _stacked(cn, types[1], types[2], na - 1, nb - 1, False, "batched_dot")


@emits(MatMul)
def matmul(cn) -> str | None:
    """``numpy.matmul``: one ``?gemm`` per matrix of the (broadcast) batch axes."""
    types = _blas_of(cn, 2, "gemm")
    if types is None:
        return None
    na, nb = (v.ndim for v in cn.node.inputs)
    return _stacked(cn, types[1], types[2], min(na, 2), min(nb, 2), True, "matmul")


@emits(TensorDot)
def tensordot(cn) -> str | None:
    """``numpy.tensordot``: ``a``'s free axes then its contracted ones, and ``b``'s
    contracted axes then its free ones, each grouped into one matrix axis (a view where the
    strides allow, else NumPy copies), then one ``?gemm``."""
    types = _blas_of(cn, 2, "gemm")
    if types is None:
        return None
    t, p, fn = types
    op = cn.node.op
    na, nb = (v.ndim for v in cn.node.inputs)
    (axes_a, axes_b), (free_a, free_b) = op.axes, op._free(na, nb)
    nout = len(free_a) + len(free_b)
    checks = "".join(
        f"if ({_d('a', i)} != {_d('b', j)}) " + cn.fail(
            f"tensordot: shape-mismatch for sum: axis {i} of the first operand has size %ld, "
            f"axis {j} of the second %ld", f"(long){_d('a', i)}", f"(long){_d('b', j)}") + "\n"
        for i, j in zip(axes_a, axes_b))

    def product(arr: str, axes: list[int]) -> str:
        return " * ".join([_d(arr, k) for k in axes] or ["1"])

    dims = ", ".join([_d("a", k) for k in free_a] + [_d("b", k) for k in free_b]) or "0"
    perm_a = ", ".join(str(k) for k in list(free_a) + list(axes_a)) or "0"
    perm_b = ", ".join(str(k) for k in list(axes_b) + list(free_b)) or "0"
    return f"""PyArrayObject *a = i0, *b = i1;
{checks}const npy_intp M = {product('a', free_a)}, K = {product('a', axes_a)}, N = {product('b', free_b)};
npy_intp dims[{max(nout, 1)}] = {{{dims}}};
if (wb_prepare(o0, {nout}, dims, {cn.typenum(cn.out_dtype())})) goto wb_fail;
PyArrayObject *out = (PyArrayObject *)*o0;
if (PyArray_SIZE(out) == 0) {{
}} else if (K == 0) {{
    memset(PyArray_DATA(out), 0, PyArray_NBYTES(out));
}} else if (!({_fits('M', 'N', 'K')})) {{
    {cn.fail("tensordot: the sizes exceed what BLAS's 32-bit ints can index")}
}} else {{
    npy_intp pa[{max(na, 1)}] = {{{perm_a}}}, pb[{max(nb, 1)}] = {{{perm_b}}};
    npy_intp sa[2] = {{M, K}}, sb[2] = {{K, N}};
    PyArray_Dims perm_a = {{pa, {na}}}, perm_b = {{pb, {nb}}}, shape_a = {{sa, 2}}, shape_b = {{sb, 2}};
    PyObject *ta = PyArray_Transpose(a, &perm_a), *tb = PyArray_Transpose(b, &perm_b);
    PyArrayObject *ma = NULL, *mb = NULL;
    if (ta != NULL && tb != NULL) {{
        ma = (PyArrayObject *)PyArray_Newshape((PyArrayObject *)ta, &shape_a, NPY_CORDER);
        mb = (PyArrayObject *)PyArray_Newshape((PyArrayObject *)tb, &shape_b, NPY_CORDER);
    }}
    Py_XDECREF(ta); Py_XDECREF(tb);
    int rc = ma == NULL || mb == NULL || wbb_gemm_{p}({fn}, M, N, K, 1, PyArray_BYTES(ma),
        {_s('ma', 0)}, {_s('ma', 1)}, PyArray_BYTES(mb), {_s('mb', 0)}, {_s('mb', 1)}, 0,
        PyArray_BYTES(out), N * (npy_intp)sizeof({t}), sizeof({t}));
    Py_XDECREF(ma); Py_XDECREF(mb);
    if (rc) goto wb_fail;
}}"""


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines())
