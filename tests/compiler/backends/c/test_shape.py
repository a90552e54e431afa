"""The C code of the shape ops (emit_shape): Shape, Shape_i, Reshape, SpecifyShape,
Rebroadcast, Alloc, ARange, Eye, MakeVector, Join, Split.

Each test compiles one graph holding several cases and calls it with many inputs (layouts,
sizes, dtypes), comparing with the Python backend and NumPy value for value, and errors
type for type and message for message.
"""
import numpy as np
import pytest

from workbench import tensor as T
from workbench.compiler.backends.c.build import compiler_available
from workbench.compiler.ops.alloc import Alloc, ARange, Eye
from workbench.compiler.ops.join import Join, MakeVector, Split
from workbench.compiler.ops.shape import (Rebroadcast, Reshape, Shape, Shape_i, ShapeError,
                                          SpecifyShape)

from ccheck import compile_both, layouts, same_error, same_results

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler")


def test_shape_reshape_and_checks_on_any_layout():
    x = T.tensor3("x")
    s = T.lvector("s")
    n = T.lscalar("n")
    outs = [T.shape(x), x.shape[1], T.reshape(x, (-1,)), T.reshape(x, (x.shape[2], -1)),
            T.reshape(x, s, ndim=2), T.specify_shape(x, (None, n, None)),
            T.addbroadcast(x[:, :1], 1)]
    fc, fp = compile_both([x, s, n], outs, Shape, Shape_i, Reshape, MakeVector, SpecifyShape,
                          Rebroadcast)
    base = np.arange(24.0).reshape(2, 3, 4)
    for xv in layouts(base, every_axis=False):
        same_results(fc, fp, xv, np.array([4, -1]), 3)
        same_results(fc, fp, xv, np.array([-1, 2]), 3)
        same_results(fc, fp, xv, np.array([24, 1]), 3)
    # a non-contiguous input reshaped where NumPy can keep a view, and where it cannot
    same_results(fc, fp, base.transpose(1, 0, 2), np.array([6, -1]), 2)
    same_results(fc, fp, np.zeros((0, 3, 4)), np.array([0, 5]), 3)
    same_results(fc, fp, np.zeros((1, 1, 1)), np.array([1, -1]), 1)
    for bad in ([5, -1], [-1, -1], [-2, -12], [7, 3], [0, -1], [2**62, 2**62]):
        err = same_error(fc, fp, base, np.array(bad), 3)
        assert isinstance(err, ValueError) and "cannot reshape an array of shape (2, 3, 4)" \
            in str(err)
    assert isinstance(same_error(fc, fp, base, np.array([24]), 3), ShapeError)
    err = same_error(fc, fp, base, np.array([4, -1]), 5)
    assert isinstance(err, ShapeError) and "expected (?, 5, ?) (axis 1 differs)" in str(err)
    err = same_error(fc, fp, np.zeros((2, 0, 4)), np.array([4, -1]), 0)
    assert isinstance(err, ShapeError) and "marked broadcastable" in str(err)


def test_specify_shape_of_several_axes_names_the_expected_shape():
    x = T.dmatrix("x")
    a, b = T.lscalars("a", "b")
    fc, fp = compile_both([x, a, b], [T.specify_shape(x, (a, b)) * 2], SpecifyShape)
    same_results(fc, fp, np.ones((2, 3)), 2, 3)
    err = same_error(fc, fp, np.ones((2, 3)), 2, 4)
    assert "expected (2, 4) (axis 1 differs)" in str(err)


def test_alloc_broadcasts_values_of_any_dtype_and_layout():
    n, m = T.lscalars("n", "m")
    f32 = T.fscalar("f32")
    c128 = T.vector("c128", dtype="complex128")
    b_row = T.TensorType("bool", (1, None))("b_row")
    i8_col = T.TensorType("int8", (None, 1))("i8_col")
    f16 = T.scalar("f16", dtype="float16")
    f64 = T.dmatrix("f64")
    outs = [T.alloc(f32, n, m), T.alloc(c128, n, m), T.alloc(b_row, n, m),
            T.alloc(i8_col, n, m), T.alloc(f16, n), T.alloc(f64, 2, n, m)]
    fc, fp = compile_both([n, m, f32, c128, b_row, i8_col, f16, f64], outs, Alloc)
    rng = np.random.default_rng(0)
    for nv, mv in [(3, 4), (1, 1), (0, 5), (4, 0), (70, 33)]:
        c = (rng.standard_normal(mv) + 1j * rng.standard_normal(mv)).astype("complex128")
        row = rng.integers(0, 2, (1, mv)).astype(bool)
        col = rng.integers(-100, 100, (nv, 1)).astype("int8")
        full = rng.standard_normal((nv, 2 * mv))[:, ::2]  # strided
        got = same_results(fc, fp, nv, mv, np.float32(1.5), c, row, col, np.float16(-2.25),
                           full)
        np.testing.assert_array_equal(got[5], np.broadcast_to(full, (2, nv, mv)))
        np.testing.assert_array_equal(got[0], np.full((nv, mv), 1.5, "float32"))
    ok = (np.float32(0), np.zeros(3, "complex128"), np.zeros((1, 3), bool),
          np.zeros((2, 1), "int8"), np.float16(0), np.zeros((2, 3)))
    err = same_error(fc, fp, -1, 3, *ok)
    assert isinstance(err, ShapeError) and "negative dimension in the shape (-1, 3)" in str(err)
    err = same_error(fc, fp, 2, 3, ok[0], np.zeros(4, "complex128"), *ok[2:])
    assert isinstance(err, ShapeError) and "cannot broadcast a value of shape (4,)" in str(err)


def test_arange_gives_numpys_values_bit_for_bit():
    i = T.lscalars("i0", "i1", "i2")
    d = T.dscalars("d0", "d1", "d2")
    f = T.fscalars("f0", "f1", "f2")
    b = [T.scalar(f"b{k}", dtype="int8") for k in range(3)]
    outs = [T.arange(*i), T.arange(*d), T.arange(*f, dtype="float32"),
            T.arange(*b, dtype="int8"), T.arange(i[0], d[1], f[2], dtype="int32")]
    fc, fp = compile_both(i + d + f + b, outs, ARange)
    assert [n.op.dtype for n in fc.vm.nodes if isinstance(n.op, ARange)] == \
        ["int64", "float64", "float32", "int8", "int32"]
    ints = [(0, 10, 1), (3, -7, -2), (5, 5, 1), (0, 1, 7), (10, 0, 3), (-4, 4, 3), (0, 2, 1)]
    floats = [(0.1, 1000.7, 0.3), (1.0, -2.5, -0.25), (0.0, 1.0, 0.1), (2.0, 2.0, 1.0),
              (0.0, 1e-300, 1.0), (0.5, 0.6, 1e300)]
    small = [(-100, 100, 1), (0, 10, 3), (100, -100, -7)]
    with np.errstate(over="ignore"):
        for k in range(max(len(ints), len(floats), len(small))):
            iv = ints[k % len(ints)]
            dv = floats[k % len(floats)]
            fv = tuple(np.float32(v) for v in floats[k % len(floats)])
            bv = tuple(np.int8(v) for v in small[k % len(small)])
            got = same_results(fc, fp, *iv, *dv, *fv, *bv)
            np.testing.assert_array_equal(got[1], np.arange(*dv))
            np.testing.assert_array_equal(
                got[2], np.arange(*(np.array(v, "float32") for v in fv), dtype="float32"))
    ok = (0, 1, 1, 0.0, 1.0, 1.0, np.float32(0), np.float32(1), np.float32(1), np.int8(0),
          np.int8(1), np.int8(1))
    err = same_error(fc, fp, 0, 5, 0, *ok[3:])
    assert "arange: step must not be zero" in str(err)
    same_error(fc, fp, *ok[:3], 0.0, np.nan, 1.0, *ok[6:])
    same_error(fc, fp, *ok[:3], 0.0, np.inf, 1.0, *ok[6:])


def test_eye_places_the_diagonal():
    n, m, k = T.lscalars("n", "m", "k")
    fc, fp = compile_both([n, m, k], [T.eye(n, m, k, dtype="float32"),
                                      T.eye(n, m, k, dtype="int16")], Eye)
    for nv, mv, kv in [(3, 3, 0), (3, 5, 1), (5, 3, -2), (4, 4, 7), (4, 4, -9), (0, 3, 0),
                       (3, 0, 0), (1, 1, 0)]:
        got = same_results(fc, fp, nv, mv, kv)
        np.testing.assert_array_equal(got[0], np.eye(nv, mv, kv, dtype="float32"))
    assert "negative dimension" in str(same_error(fc, fp, -1, 3, 0))


def test_join_make_vector_and_split():
    a = T.dmatrix("a")
    b = T.imatrix("b")
    c = T.tensor3("c")
    p, q = T.dscalars("p", "q")
    sizes = T.lvector("sizes")
    u = T.dvector("u")
    pieces = T.split(u, sizes, 3)
    outs = [T.concatenate([a, a], axis=0), T.concatenate([a, b, a], axis=1),
            T.concatenate([c, c[:, :, ::-1]], axis=2), T.stack([p, q, p]), *pieces]
    fc, fp = compile_both([a, b, c, p, q, sizes, u], outs, Join, MakeVector, Split)
    rng = np.random.default_rng(1)
    for rows in (0, 1, 3):
        av = rng.standard_normal((rows, 4))
        bv = rng.integers(-9, 9, (rows, 2)).astype("int32")
        cv = rng.standard_normal((2, rows, 3))
        for al in layouts(av, every_axis=False):
            same_results(fc, fp, al, bv.T.copy().T, cv.transpose(0, 1, 2), 1.5, -2.0,
                         np.array([1, 0, 4]), np.arange(5.0))
    got = same_results(fc, fp, av, bv, cv, 1.0, 2.0, np.array([2, 2, 1]), np.arange(5.0))
    assert [g.tolist() for g in got[4:]] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    ok = [av, bv, cv, 1.0, 2.0, np.array([2, 2, 1]), np.arange(5.0)]
    err = same_error(fc, fp, av, bv[:1], *ok[2:])
    assert isinstance(err, ShapeError) and "they differ at dimension 0" in str(err)
    for bad in ([2, 2], [3, 3, -1], [1, 1, 1]):
        same_error(fc, fp, *ok[:5], np.array(bad), np.arange(5.0))
