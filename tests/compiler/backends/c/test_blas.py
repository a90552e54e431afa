"""The C code of the products (emit_blas): Dot, Gemm, Gemv, Ger (in place or not),
BatchedDot and MatMul through SciPy's BLAS.

Each test compiles one graph holding several cases and calls it with many inputs: operands
in C and Fortran order, with negative, zero and odd strides, empty and size-1 dimensions,
and the corner cases where BLAS's contract differs from the NumPy expression an op stands
for (a zero alpha or beta next to NaN and inf, a broadcasting z). Values are compared with
NumPy; errors type for type.
"""
import sys

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.backends.c.build import compiler_available
from workbench.compiler.mode import Mode
from workbench.compiler.ops.blas import BatchedDot, Dot, MatMul, TensorDot
from workbench.compiler.ops.gemm import (Gemm, Gemv, Ger, gemm_no_inplace, gemv_no_inplace,
                                         ger_no_inplace)

from ccheck import layouts

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler")

DTYPES = ["float64", "float32"]


def compile_c(inputs, outputs, *expected_ops):
    """The graph on C, checked to keep ``expected_ops`` and to run no node through perform."""
    f = workbench.function(inputs, outputs, mode=Mode("c", "fast_run"),
                           on_unused_input="ignore")
    ops = [n.op for n in f.vm.nodes]
    for want in expected_ops:
        assert any(op == want if not isinstance(want, type) else isinstance(op, want)
                   for op in ops), f"{want} not in {ops}"
    assert f.vm.fallback_nodes == []
    return f


def close(got, want, dtype, where=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, where
    assert got.shape == want.shape, (where, got.shape, want.shape)
    tol = 2e-4 if np.dtype(dtype) == np.float32 else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=where)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dot_of_every_rank_pair_and_layout(dtype):
    A, B = T.matrix("A", dtype=dtype), T.matrix("B", dtype=dtype)
    v, w = T.vector("v", dtype=dtype), T.vector("w", dtype=dtype)
    dot = Dot()
    f = compile_c([A, B, v, w], [dot(A, B), dot(A, v), dot(v, B), dot(v, w)], Dot)
    rng = np.random.default_rng(0)
    for m, k, n in [(3, 4, 5), (1, 4, 1), (5, 1, 3), (0, 3, 2), (3, 0, 2), (2, 3, 0), (1, 1, 1),
                    (70, 33, 41)]:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        y = rng.standard_normal(k).astype(dtype)  # v and w
        for la, lb, ly in zip(layouts(a), layouts(b), layouts(y)):
            got = f(la, lb, ly, ly)
            want = [la @ lb, la @ ly, ly @ lb, np.asarray(ly @ ly)]
            for i, (g, e) in enumerate(zip(got, want)):
                close(g, e, dtype, f"output {i} for {(m, k, n)}")
    # broadcast (zero-stride) and size-1 operands are copied or read as they are
    a = np.broadcast_to(rng.standard_normal((1, 4)).astype(dtype), (3, 4))
    b = np.broadcast_to(rng.standard_normal((4, 1)).astype(dtype), (4, 5))
    y = np.broadcast_to(np.asarray(2.0, dtype), (4,))
    for g, e in zip(f(a, b, y, y), [a @ b, a @ y, y @ b, np.asarray(y @ y)]):
        close(g, e, dtype)
    with pytest.raises(ValueError, match=r"shapes \(2,3\) and \(4,5\) not aligned"):
        f(np.ones((2, 3), dtype), np.ones((4, 5), dtype), np.ones(4, dtype), np.ones(4, dtype))
    with pytest.raises(ValueError, match=r"shapes \(3,\) and \(4,\) not aligned"):
        f(np.ones((2, 3), dtype), np.ones((3, 5), dtype), np.ones(3, dtype), np.ones(4, dtype))


def test_dot_output_buffers_are_reused_only_when_free():
    A, B = T.dmatrices("A", "B")
    f = compile_c([A, B], Dot()(A, B), Dot)
    a, b = np.ones((3, 4)), np.ones((4, 2))
    first = f(a, b)
    second = f(a, 2 * b)  # the first result is still held: it must not be overwritten
    np.testing.assert_array_equal(first, np.full((3, 2), 4.0))
    np.testing.assert_array_equal(second, np.full((3, 2), 8.0))


def numpy_gemm(z, alpha, x, y, beta, reads_z=True):
    """The NumPy expression Gemm (and Gemv) stand for."""
    with np.errstate(all="ignore"):
        prod = np.dot(x, y)
        return np.asarray(alpha * prod + beta * z if reads_z else alpha * prod, z.dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_in_place_and_not_matches_numpy(dtype):
    z, x, y = (T.matrix(n, dtype=dtype) for n in "zxy")
    a, b, s = (T.scalar(n, dtype=dtype) for n in "abs")
    outs = [gemm_no_inplace(z * s, a, x, y, b),   # an intermediate z: updated in place
            gemm_no_inplace(z, a, x, y, b),       # an input z: copied first
            gemm_no_inplace(z, a, x, y, 0.0)]     # a constant beta of 0: z is not read
    f = compile_c([z, x, y, a, b, s], outs, Gemm(inplace=True), Gemm(inplace=False))
    rng = np.random.default_rng(1)
    one = np.asarray(1, dtype)

    def check(zv, xv, yv, av, bv, where):
        av, bv = np.asarray(av, dtype), np.asarray(bv, dtype)
        got = f(zv, xv, yv, av, bv, one)
        want = [numpy_gemm(zv, av, xv, yv, bv), numpy_gemm(zv, av, xv, yv, bv),
                numpy_gemm(zv, av, xv, yv, bv, reads_z=False)]
        for i, (g, e) in enumerate(zip(got, want)):
            close(g, e, dtype, f"output {i}: {where}")

    for m, k, n in [(4, 3, 5), (1, 1, 1), (6, 1, 2), (40, 30, 20)]:
        zv = rng.standard_normal((m, n)).astype(dtype)
        xv = rng.standard_normal((m, k)).astype(dtype)
        yv = rng.standard_normal((k, n)).astype(dtype)
        for lz, lx, ly in zip(layouts(zv), layouts(xv), layouts(yv)):
            check(lz, lx, ly, 1.5, -0.5, f"{(m, k, n)} layouts")
            check(lz, lx, ly, -1.0, 1.0, f"{(m, k, n)} layouts")
        # the corner cases BLAS would get wrong: NaN and inf next to a zero alpha or beta
        xn = xv.copy()
        xn[0, 0] = np.inf
        zn = zv.copy()
        zn[-1, -1] = np.nan
        check(zv, xn, yv, 0.0, 2.0, "alpha 0 with an inf in x")
        check(zn, xv, yv, 2.0, 0.0, "a run-time beta of 0 with a NaN in z")
        check(zn, xv, yv, 0.0, 0.0, "both 0")
        # z broadcasting against the product (the constant-beta output ignores z's shape)
        check(zv[:1], xv, yv, 2.0, 3.0, "z with one row")
        check(zv[:, :1], xv, yv, 2.0, 3.0, "z with one column")
    # empty sizes: no BLAS call with a leading dimension of 0
    for m, k, n in [(0, 3, 2), (3, 0, 2), (3, 2, 0)]:
        check(np.ones((m, n), dtype), np.ones((m, k), dtype), np.ones((k, n), dtype), 2.0, 3.0,
              f"empty {(m, k, n)}")
    with pytest.raises(ValueError, match=r"Gemm: x of shape \(2, 3\) and y of shape \(4, 5\) "
                                         r"are not aligned"):
        f(np.ones((2, 5), dtype), np.ones((2, 3), dtype), np.ones((4, 5), dtype), one, one, one)
    with pytest.raises(ValueError, match=r"Gemm: z of shape \(3, 5\) does not broadcast"):
        f(np.ones((3, 5), dtype), np.ones((2, 3), dtype), np.ones((3, 5), dtype), one, one, one)


def test_gemm_in_place_writes_into_its_intermediate_z_of_any_layout():
    z, w, x, y = T.dmatrices("z", "w", "x", "y")
    a, b = T.dscalars("a", "b")
    # only the Gemm reads each target: the inplace pass lets it overwrite it, whether it is
    # C-ordered, a transpose (column-major), reversed (a negative stride: computed in a
    # temporary and copied back) or every other column (a leading dimension of 2 N)
    targets = [z * 2, (z * 3).T, (z * 4)[::-1], (w * 5)[:, ::2]]
    f = compile_c([z, w, x, y, a, b], [gemm_no_inplace(t, a, x, y, b) for t in targets])
    assert sum(n.op == Gemm(inplace=True) for n in f.vm.nodes) == 4
    rng = np.random.default_rng(5)
    zv, wv = rng.standard_normal((3, 3)), rng.standard_normal((3, 6))
    xv, yv = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    keep = zv.copy(), wv.copy()
    for bv in (2.0, -1.0, 0.0):
        got = f(zv, wv, xv, yv, 0.5, bv)
        bases = [zv * 2, (zv * 3).T, (zv * 4)[::-1], (wv * 5)[:, ::2]]
        for i, (g, base) in enumerate(zip(got, bases)):
            np.testing.assert_allclose(g, 0.5 * xv @ yv + bv * base, err_msg=f"target {i}")
    np.testing.assert_array_equal(zv, keep[0])  # the caller's arrays are untouched
    np.testing.assert_array_equal(wv, keep[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemv_and_ger_match_numpy(dtype):
    A, Z = T.matrix("A", dtype=dtype), T.matrix("Z", dtype=dtype)
    v, x, y = (T.vector(n, dtype=dtype) for n in "vxy")
    a, b, s = (T.scalar(n, dtype=dtype) for n in "abs")
    outs = [gemv_no_inplace(v * s, a, A, x, b), gemv_no_inplace(v, a, A, x, b),
            gemv_no_inplace(v, a, A, x, 0.0),
            ger_no_inplace(Z * s, a, x, y), ger_no_inplace(Z, a, x, y)]
    f = compile_c([v, A, x, y, Z, a, b, s], outs, Gemv(inplace=True), Gemv(inplace=False),
                  Ger(inplace=True), Ger(inplace=False))
    rng = np.random.default_rng(2)
    one = np.asarray(1, dtype)

    def check(vv, Av, xv, yv, Zv, av, bv, where):
        av, bv = np.asarray(av, dtype), np.asarray(bv, dtype)
        got = f(vv, Av, xv, yv, Zv, av, bv, one)
        with np.errstate(all="ignore"):
            outer = np.asarray(Zv + av * np.outer(xv, yv), dtype)
        want = [numpy_gemm(vv, av, Av, xv, bv), numpy_gemm(vv, av, Av, xv, bv),
                numpy_gemm(vv, av, Av, xv, bv, reads_z=False), outer, outer]
        for i, (g, e) in enumerate(zip(got, want)):
            close(g, e, dtype, f"output {i}: {where}")

    for m, n in [(4, 3), (1, 1), (1, 5), (6, 1), (50, 40)]:
        vv = rng.standard_normal(m).astype(dtype)
        Av = rng.standard_normal((m, n)).astype(dtype)
        xv = rng.standard_normal(n).astype(dtype)
        Zv = rng.standard_normal((n, n)).astype(dtype)
        for lv, lA, lx, lZ in zip(layouts(vv), layouts(Av), layouts(xv), layouts(Zv)):
            check(lv, lA, lx, lx, lZ, 1.5, -0.5, f"{(m, n)} layouts")
        xn = xv.copy()
        xn[0] = np.inf
        vn = vv.copy()
        vn[0] = np.nan
        check(vv, Av, xn, xn, Zv, 0.0, 1.0, "alpha 0 with an inf")
        check(vn, Av, xv, xv, Zv, 1.0, 0.0, "a run-time beta of 0 with a NaN")
        check(vv[:1], Av, xv, xv, Zv[:1], 2.0, 3.0, "y and A broadcasting")
        check(vv, Av, np.broadcast_to(xv[:1], xv.shape), xv, Zv, 2.0, 3.0, "zero stride x")
    check(np.ones(0, dtype), np.ones((0, 3), dtype), np.ones(3, dtype), np.ones(3, dtype),
          np.ones((3, 3), dtype), 1.0, 1.0, "no rows")
    check(np.ones(2, dtype), np.ones((2, 0), dtype), np.ones(0, dtype), np.ones(0, dtype),
          np.ones((0, 0), dtype), 1.0, 1.0, "no columns")
    with pytest.raises(ValueError, match=r"Gemv: A of shape \(2, 3\) and x of shape \(4,\)"):
        f(np.ones(2, dtype), np.ones((2, 3), dtype), np.ones(4, dtype), np.ones(4, dtype),
          np.ones((4, 4), dtype), one, one, one)


def test_gemv_and_ger_in_place_into_any_layout():
    v, x = T.dvectors("v", "x")
    A, Z = T.dmatrices("A", "Z")
    a, b = T.dscalars("a", "b")
    outs = [gemv_no_inplace((v * 2)[::-1], a, A, x, b),       # a negative increment
            gemv_no_inplace((Z * 2)[:, 1], a, A, x, b),       # a column: increment of 3
            ger_no_inplace((Z * 3).T, a, x, x),               # column-major
            ger_no_inplace((Z * 4)[::-1], a, x, x)]           # copied and written back
    f = compile_c([v, x, A, Z, a, b], outs)
    assert sum(n.op in (Gemv(inplace=True), Ger(inplace=True)) for n in f.vm.nodes) == 4
    rng = np.random.default_rng(6)
    vv, xv = rng.standard_normal(3), rng.standard_normal(3)
    Av, Zv = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    got = f(vv, xv, Av, Zv, 0.5, 2.0)
    want = [0.5 * Av @ xv + 2 * (vv * 2)[::-1], 0.5 * Av @ xv + 2 * (Zv * 2)[:, 1],
            (Zv * 3).T + 0.5 * np.outer(xv, xv), (Zv * 4)[::-1] + 0.5 * np.outer(xv, xv)]
    for i, (g, e) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, e, err_msg=f"output {i}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_batched_dot_and_matmul_loop_over_gemm(dtype):
    a3, b3 = T.tensor3("a3", dtype=dtype), T.tensor3("b3", dtype=dtype)
    a2, b2 = T.matrix("a2", dtype=dtype), T.matrix("b2", dtype=dtype)
    a4 = T.tensor4("a4", dtype=dtype)
    v = T.vector("v", dtype=dtype)
    bd, mm = BatchedDot(), MatMul()
    outs = [bd(a3, b3), bd(a2, b2), bd(a3, b2), bd(a2, b3),
            mm(a4, b3), mm(v, b3), mm(a3, v), mm(a2, b3), mm(v, v)]
    f = compile_c([a3, b3, a2, b2, a4, v], outs, BatchedDot, MatMul)
    rng = np.random.default_rng(3)

    def run(a3v, b3v, a2v, b2v, a4v, vv):
        got = f(a3v, b3v, a2v, b2v, a4v, vv)
        want = [np.matmul(a3v, b3v), np.einsum("bi,bi->b", a2v, b2v),
                np.einsum("bij,bj->bi", a3v, b2v), np.einsum("bi,bij->bj", a2v, b3v),
                np.matmul(a4v, b3v), np.matmul(vv, b3v), np.matmul(a3v, vv),
                np.matmul(a2v, b3v), np.asarray(np.matmul(vv, vv))]
        for i, (g, e) in enumerate(zip(got, want)):
            close(g, e.astype(dtype), dtype, f"output {i}")

    for B, m, k, n in [(3, 4, 5, 2), (1, 1, 1, 1), (2, 0, 3, 2), (2, 3, 0, 2), (0, 2, 2, 2)]:
        a3v = rng.standard_normal((B, m, k)).astype(dtype)
        b3v = rng.standard_normal((B, k, n)).astype(dtype)
        a2v = rng.standard_normal((B, k)).astype(dtype)
        b2v = rng.standard_normal((B, k)).astype(dtype)
        a4v = rng.standard_normal((2, 1, m, k)).astype(dtype)  # batch axes broadcast
        vv = rng.standard_normal(k).astype(dtype)
        for args in zip(layouts(a3v), layouts(b3v), layouts(a2v), layouts(b2v),
                        layouts(a4v), layouts(vv)):
            run(*args)
    ok = [np.ones((2, 3, 4), dtype), np.ones((2, 4, 5), dtype), np.ones((2, 4), dtype),
          np.ones((2, 4), dtype), np.ones((1, 1, 3, 4), dtype), np.ones(4, dtype)]
    bad = list(ok)
    bad[1] = np.ones((3, 4, 5), dtype)
    with pytest.raises(ValueError, match="batched_dot: batch sizes differ"):
        f(*bad)
    bad = list(ok)
    bad[1] = np.ones((2, 3, 5), dtype)
    with pytest.raises(ValueError, match="not aligned"):
        f(*bad)
    bad = list(ok)
    bad[4] = np.ones((1, 3, 3, 4), dtype)
    with pytest.raises(ValueError, match="matmul: the batch axes .* do not broadcast"):
        f(*bad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensordot_groups_axes_into_one_gemm(dtype):
    a3, b3 = T.tensor3("a3", dtype=dtype), T.tensor3("b3", dtype=dtype)
    b2 = T.matrix("b2", dtype=dtype)
    cases = [(a3, b2, 1), (a3, b3, [[1, 2], [0, 1]]), (a3, b3, [[0, 1], [2, 0]]),
             (b2, b2, 0), (a3, a3, 3), (a3, b2, [[0], [1]])]
    outs = [T.tensordot(x, y, axes) for x, y, axes in cases]
    f = compile_c([a3, b3, b2], outs, TensorDot)
    rng = np.random.default_rng(4)
    for n in [(2, 3, 4), (1, 1, 1), (0, 2, 3), (2, 0, 3)]:
        p, q, r = n
        a3v = rng.standard_normal((p, q, r)).astype(dtype)
        b3v = rng.standard_normal((q, r, p)).astype(dtype)
        b2v = rng.standard_normal((r, p)).astype(dtype)
        for args in zip(layouts(a3v), layouts(b3v), layouts(b2v)):
            got = f(*args)
            values = dict(zip([a3, b3, b2], args))
            for i, ((x, y, axes), g) in enumerate(zip(cases, got)):
                want = np.asarray(np.tensordot(values[x], values[y], axes))
                close(g, want, dtype, f"case {i} {n}")
    with pytest.raises(ValueError, match="tensordot: shape-mismatch for sum"):
        f(np.ones((2, 3, 4), dtype), np.ones((3, 4, 2), dtype), np.ones((5, 2), dtype))


def test_other_dtypes_run_through_perform():
    A, B = T.imatrices("A", "B")
    x, y = T.fmatrix("x"), T.dmatrix("y")
    f = workbench.function([A, B, x, y], [Dot()(A, B), Dot()(x, y)], mode=Mode("c", "fast_run"))
    assert len(f.vm.fallback_nodes) == 2
    got = f(np.ones((2, 3), "int32"), np.ones((3, 2), "int32"), np.ones((2, 2), "float32"),
            np.ones((2, 2)))
    np.testing.assert_array_equal(got[0], np.full((2, 2), 3, "int32"))
    np.testing.assert_array_equal(got[1], np.full((2, 2), 2.0))


def test_mlp_train_step_runs_its_products_and_softmax_in_c():
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[4] / "bench"))
    from bench_rewrite import mlp_graph

    inputs, outputs = mlp_graph(T, workbench.grad)
    f = workbench.function(inputs, outputs, mode=Mode("c", "fast_run"))
    mine = ("Dot", "Gemm", "Gemv", "Ger", "Softmax", "LogSoftmax",
            "CrossentropySoftmaxArgmax1HotWithBias", "CrossentropyCategorical1Hot")
    kinds = {type(n.op).__name__ for n in f.vm.nodes}
    assert {"Dot", "Gemm", "Softmax", "LogSoftmax"} <= kinds
    assert [n for n in f.vm.fallback_nodes if type(n.op).__name__ in mine] == []
    fp = workbench.function(inputs, outputs, mode=Mode("py", "fast_run"))
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((16, 784)).astype("float32"),
            rng.integers(0, 10, 16).astype("int32"),
            (0.05 * rng.standard_normal((784, 500))).astype("float32"),
            np.zeros(500, "float32"),
            (0.05 * rng.standard_normal((500, 10))).astype("float32"),
            np.zeros(10, "float32")]
    for g, e in zip(f(*args), fp(*args)):
        close(g, e, "float32")
