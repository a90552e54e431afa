"""The C code of the reductions (emit_reduce): CAReduce (Sum, Prod, Max, Min, All, Any and
the generic folds), FusedReduce and Argmax/Argmin.

Each test compiles one graph holding several reductions and calls it with many inputs:
layouts that pick each loop (rows, columns, general: contiguous, Fortran order, negative
strides, strided and broadcast views), sizes that cross the kernels' thresholds, OpenMP
lowered to small sizes so that the threaded paths run too. Values are compared with NumPy
(floats to the last bits NumPy's pairwise order allows), errors with the Python backend.
"""
import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.backends.c.build import compiler_available
from workbench.compiler.mode import Mode
from workbench.compiler.ops import scalar
from workbench.compiler.ops.fused_reduce import FusedReduce
from workbench.compiler.ops.reduce import Argmax, Argmin, CAReduce

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler")


def compile_c(inputs, outputs, *expected_ops):
    """The graph on C, checked to keep ``expected_ops`` and to run no node through perform."""
    fn = workbench.function(inputs, outputs, mode=Mode("c", "fast_run"))
    kinds = {type(n.op) for n in fn.vm.nodes}
    for cls in expected_ops:
        assert any(issubclass(k, cls) for k in kinds), \
            f"the rewrites removed {cls.__name__}: {sorted(k.__name__ for k in kinds)}"
    assert fn.vm.fallback_nodes == []
    return fn


def layouts(a):
    """``a`` with the same values and other strides: C order, Fortran order, negative
    strides, a strided slice of a larger array, and axes moved in memory."""
    a = np.ascontiguousarray(a)
    yield a
    yield np.asfortranarray(a)
    if a.ndim:
        yield np.flip(np.flip(a).copy())
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        wide[..., ::2] = a
        yield wide[..., ::2]
        yield np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 0, -1)), -1, 0)


def check(got, want, where=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{where}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{where}: shape {got.shape} != {want.shape}"
    if want.dtype.kind == "f":
        rtol = 1e-5 if want.dtype.itemsize == 4 else 1e-10
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True,
                                   err_msg=where)
    else:
        np.testing.assert_array_equal(got, want, err_msg=where)


def values(rng, dtype, shape):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        low = 0 if np.dtype(dtype).kind == "u" else -3
        return rng.integers(low, 4, shape).astype(dtype)
    return (rng.integers(-40, 41, shape) / 8).astype(dtype)


#: every axis set of a 3-d input; the other dtypes take one of each loop's kind (each
#: reduction costs build time), their layouts reaching the other loops
AXES = {"float64": [None, 0, 1, 2, (0, 2), (1, 2), (0, 1)]}


@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "uint8", "int64", "bool"])
def test_folds_over_every_axis_set_and_layout(dtype):
    x = T.TensorType(dtype, (None, None, None))("x")
    cases = [(name, axis) for axis in AXES.get(dtype, [None, 1, (0, 2)])
             for name in ("sum", "max")]
    cases += [("prod", (0, 1)), ("min", 2), ("min", (0, 2)), ("prod", None)]
    if dtype == "bool":
        cases += [("all", 1), ("any", (0, 2)), ("any", None)]
    fn = compile_c([x], [getattr(T, name)(x, axis=axis) for name, axis in cases], CAReduce)
    rng = np.random.default_rng(1)
    shapes = [(2, 3, 4), (1, 5, 1), (3, 1, 7), (4, 40, 33), (2, 1200, 3), (3, 2, 1500),
              (1, 1, 1)]
    for shape in shapes:
        base = values(rng, dtype, shape)
        for xv in layouts(base):
            for got, (name, axis) in zip(fn(xv), cases):
                with np.errstate(all="ignore"):  # products overflow: to inf in both
                    want = getattr(np, name)(xv, axis=axis)
                if name in ("sum", "prod") and dtype == "float32":
                    # float32 folds accumulate in float64 and round once
                    with np.errstate(all="ignore"):
                        want = getattr(np, name)(xv.astype("float64"), axis=axis)
                        want = want.astype(dtype)
                check(got, want, f"{name} axis={axis} shape={shape} strides={xv.strides}")


def test_broadcast_views_and_the_threaded_paths():
    """Inputs with zero strides, and sizes above a lowered OpenMP threshold: few outputs
    (runs cut across threads), many outputs, few column tiles (rows cut across threads),
    many tiles, and the general path."""
    workbench.config.openmp_elemwise_minsize = 500
    x = T.dmatrix("x")
    i = T.lmatrix("i")
    cases = [(T.sum(x), np.sum), (T.sum(x, axis=0), lambda v: v.sum(0)),
             (T.sum(x, axis=1), lambda v: v.sum(1)), (T.max(x, axis=0), lambda v: v.max(0)),
             (T.min(x), np.min), (T.argmax(x, axis=1), lambda v: v.argmax(1)),
             (T.argmin(x), np.argmin), (T.argmax(x, axis=0), lambda v: v.argmax(0))]
    icases = [(T.sum(i, axis=0), lambda v: v.sum(0)), (T.max(i), np.max),
              (T.prod(i, axis=1), lambda v: v.prod(1))]
    fn = compile_c([x, i], [c[0] for c in cases + icases], CAReduce, Argmax, Argmin)
    rng = np.random.default_rng(2)
    for shape in [(5000, 3), (3, 5000), (40, 3000), (700, 700), (1, 20000), (20000, 1)]:
        xb = rng.standard_normal(shape)
        ib = rng.integers(-2, 3, shape)
        views = list(zip(layouts(xb), layouts(ib)))
        # stride 0 along an axis: one row (column) read again and again
        views.append((np.broadcast_to(xb[:1], shape), np.broadcast_to(ib[:, :1], shape)))
        for xv, iv in views:
            got = fn(xv, iv)
            for g, (_, ref), arg in zip(got, cases + icases, [xv] * len(cases) + [iv] * 3):
                check(g, ref(arg), f"shape={shape} strides={arg.strides}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_nan_propagates_and_wins_argmax_at_its_first_place(dtype):
    workbench.config.openmp_elemwise_minsize = 1000
    x = T.TensorType(dtype, (None, None))("x")
    refs = [lambda v: v.max(1), lambda v: v.min(0), np.max, lambda v: v.argmax(1),
            lambda v: v.argmin(0), np.argmax, np.argmin]
    fn = compile_c([x], [T.max(x, axis=1), T.min(x, axis=0), T.max(x), T.argmax(x, axis=1),
                         T.argmin(x, axis=0), T.argmax(x), T.argmin(x)], CAReduce, Argmax)
    rng = np.random.default_rng(3)
    for shape in [(4, 7), (3, 3000), (3000, 3), (2, 40000)]:
        base = rng.standard_normal(shape).astype(dtype)
        for where in [(0, 0), (1, -1), (-1, shape[1] // 2), (0, 1)]:
            a = base.copy()
            a[where] = np.nan
            a[-1, 0] = np.nan if where == (0, 1) else a[-1, 0]
            a[0, -1] = np.inf
            a[1, 0] = -np.inf
            for xv in layouts(a):
                for got, ref in zip(fn(xv), refs):
                    check(got, ref(xv), f"shape={shape} nan at {where} strides={xv.strides}")
    # a row of -inf, a row holding only NaN
    a = np.array([[-np.inf, -np.inf, -np.inf], [np.nan, np.nan, np.nan]], dtype)
    for got, ref in zip(fn(a), refs):
        check(got, ref(a))


def test_argmax_ties_keep_the_first_occurrence_in_the_flattened_axes():
    x = T.lmatrix("x")
    y = T.tensor3("y", dtype="int8")
    s = T.dscalar("s")
    fn = compile_c([x, y, s], [T.argmax(x, axis=1), T.argmin(x, axis=0), T.argmax(x),
                               T.argmax(y, axis=(0, 2)), T.argmin(y, axis=(1, 2)),
                               T.argmax(s)], Argmax)
    xv = np.array([[1, 5, 5, 0], [7, 7, 2, 7], [0, 0, 0, 0]])
    yv = np.array([[[1, 3], [3, 0]], [[3, 3], [-1, -1]]], dtype="int8")
    for xl in layouts(xv):
        for yl in layouts(yv):
            got = fn(xl, yl, np.nan)
            check(got[0], xl.argmax(1))
            check(got[1], xl.argmin(0))
            check(got[2], xl.argmax())
            check(got[3], np.moveaxis(yl, 1, 0).reshape(2, 4).argmax(1))
            check(got[4], yl.reshape(2, 4).argmin(1))
            check(got[5], np.argmax(np.nan))


def test_dtypes_of_output_and_accumulator():
    b = T.bvector("b")
    u = T.TensorType("uint8", (None,))("u")
    f = T.fvector("f")
    flag = T.TensorType("bool", (None, None))("flag")
    outs = [T.sum(b), T.sum(b, dtype="int8"), T.sum(b, dtype="float32"),
            T.prod(b, acc_dtype="float64"), T.sum(u), T.prod(u, dtype="uint8"), T.sum(f),
            T.sum(f, dtype="float64"), T.max(u), T.sum(flag, axis=0), T.prod(flag, axis=1),
            T.max(flag, axis=1), T.min(flag)]
    fn = compile_c([b, u, f, flag], outs, CAReduce)
    bv = np.array([100, 100, 100, -7], dtype="int8")
    uv = np.array([200, 100, 3], dtype="uint8")
    fv = np.array([1e8, 1, -1e8], dtype="float32")
    flags = np.array([[True, False, True], [True, True, True]])
    got = fn(bv, uv, fv, flags)
    want = [bv.sum(), bv.sum(dtype="int8"), bv.sum(dtype="float32"),
            np.prod(bv.astype("f8")).astype("int64"), uv.sum(), uv.prod(dtype="uint8"),
            np.float32(1.0), fv.sum(dtype="float64"), uv.max(), flags.sum(0),
            np.multiply.reduce(flags, axis=1), flags.max(1), flags.min()]
    for i, (g, w) in enumerate(zip(got, want)):
        check(g, w, f"output {i}")


def test_generic_bitwise_folds():
    x = T.TensorType("int16", (None, None))("x")
    u = T.TensorType("uint32", (None,))("u")
    outs = [CAReduce(op, axis=axis)(x) for op in (scalar.and_, scalar.or_, scalar.xor)
            for axis in (0, 1, None)] + [CAReduce(scalar.and_)(u), CAReduce(scalar.xor)(u)]
    fn = compile_c([x, u], outs, CAReduce)
    rng = np.random.default_rng(4)
    for shape in [(3, 5), (0, 4), (700, 9)]:
        xb = rng.integers(-200, 200, shape).astype("int16")
        ub = rng.integers(0, 2**32, shape[1], dtype="uint32")
        for xv in layouts(xb):
            got = fn(xv, ub)
            want = [uf.reduce(xv, axis=axis) for uf in (np.bitwise_and, np.bitwise_or,
                                                       np.bitwise_xor) for axis in (0, 1, None)]
            want += [np.bitwise_and.reduce(ub), np.bitwise_xor.reduce(ub)]
            for i, (g, w) in enumerate(zip(got, want)):
                check(g, w, f"output {i}, shape {shape}")


def test_empty_reductions_give_the_identity_or_raise_as_numpy():
    x = T.dmatrix("x")
    n = T.lmatrix("n")
    fn = compile_c([x, n], [T.sum(x, axis=0), T.prod(x, axis=1), T.sum(x), T.all(x, axis=0),
                            T.any(x), T.sum(n, axis=1), T.prod(n)], CAReduce)
    for shape in [(0, 3), (3, 0), (0, 0)]:
        xv, nv = np.zeros(shape), np.zeros(shape, dtype="int64")
        got = fn(xv, nv)
        want = [xv.sum(0), xv.prod(1), xv.sum(), xv.all(0), xv.any(), nv.sum(1), nv.prod()]
        for i, (g, w) in enumerate(zip(got, want)):
            check(g, w, f"output {i}, shape {shape}")
    for build in (lambda v: T.max(v, axis=0), lambda v: T.min(v),
                  lambda v: T.argmax(v, axis=1), lambda v: T.argmin(v)):
        fc = compile_c([x], [build(x)])
        fp = workbench.function([x], [build(x)], mode=Mode("py", "fast_run"))
        for shape in [(0, 3), (3, 0), (0, 0)]:
            xv = np.zeros(shape)
            try:
                want = fp(xv)
            except ValueError as exc:
                with pytest.raises(ValueError) as got:
                    fc(xv)
                first = str(exc).splitlines()[0]
                assert str(got.value).splitlines()[0] == first and "empty axis" in first
            else:
                check(fc(xv)[0], want[0], f"shape {shape}")


def test_fused_elementwise_producers_are_one_node():
    x = T.dmatrix("x")
    m = T.dvector("m")
    w = T.TensorType("float64", (1, None))("w")
    f = T.fmatrix("f")
    k = T.lmatrix("k")
    outs = [T.sum(T.exp(x)), T.sum((x - m[:, None]) ** 2, axis=1), T.sum(x * w, axis=0),
            T.max(-x, axis=1), T.sum(T.exp(f)), T.sum(f * f, axis=0), T.all(k > 0, axis=1),
            T.any(T.eq(k, 2)), T.sum(k * 2, axis=0), T.prod(x + 1, axis=(0, 1))]
    refs = [lambda a, mv, wv, fv, kv: np.exp(a).sum(),
            lambda a, mv, wv, fv, kv: ((a - mv[:, None]) ** 2).sum(1),
            lambda a, mv, wv, fv, kv: (a * wv).sum(0),
            lambda a, mv, wv, fv, kv: (-a).max(1),
            lambda a, mv, wv, fv, kv: np.exp(fv.astype("f8")).sum().astype("f4"),
            lambda a, mv, wv, fv, kv: (fv.astype("f8") * fv).sum(0).astype("f4"),
            lambda a, mv, wv, fv, kv: (kv > 0).all(1),
            lambda a, mv, wv, fv, kv: (kv == 2).any(),
            lambda a, mv, wv, fv, kv: (kv * 2).sum(0),
            lambda a, mv, wv, fv, kv: (a + 1).prod()]
    fn = compile_c([x, m, w, f, k], outs, FusedReduce)
    assert sum(isinstance(n.op, FusedReduce) for n in fn.vm.nodes) == len(outs)
    workbench.config.openmp_elemwise_minsize = 2000
    fn_threads = compile_c([x, m, w, f, k], outs, FusedReduce)
    rng = np.random.default_rng(5)
    for rows, cols in [(3, 4), (1, 1), (50, 3000), (3000, 5), (0, 4)]:
        a = rng.standard_normal((rows, cols)) / 4
        args = [a, rng.standard_normal(rows), rng.standard_normal((1, cols)),
                rng.standard_normal((rows, cols)).astype("float32"),
                rng.integers(-1, 4, (rows, cols))]
        for av, fv in zip(layouts(a), layouts(args[3])):
            call = [av, args[1], args[2], fv, args[4]]
            for g1, g2, ref in zip(fn(*call), fn_threads(*call), refs):
                check(g1, ref(*call), f"shape ({rows}, {cols})")
                check(g2, ref(*call), f"shape ({rows}, {cols}), threads")


def test_fused_reduce_checks_broadcasting_and_empty_maxima():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    fn = compile_c([x, y], [T.max(x * y, axis=0)], FusedReduce)
    with pytest.raises(ValueError, match="could not be broadcast"):
        fn(np.ones((2, 3)), np.ones((4, 3)))
    check(fn(np.ones((2, 1)), np.arange(3.0)[None])[0], np.arange(3.0))
    with pytest.raises(ValueError, match=r"empty axis of an input of shape \(0, 3\)"):
        fn(np.ones((0, 3)), np.ones((1, 3)))
