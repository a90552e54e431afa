"""Allocation ops against NumPy: alloc and the zeros/ones/full family, fill, arange, eye,
diagonals and trace, repeat, tile and broadcasting."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import workbench
from workbench import tensor as T
from workbench.compiler.types import ALL_DTYPES

from opcheck import check_op
from opcheck import check_infer_shape

dtypes = st.sampled_from(ALL_DTYPES)
# NumPy's arange wraps around for unsigned bounds with stop < start: not a reference
signed_dtypes = st.sampled_from(["int8", "int16", "int32", "int64", "float16", "float32",
                                 "float64"])
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


def arrays(dtype, shape, start=0):
    return (np.arange(int(np.prod(shape)), dtype="int64") + start).reshape(shape).astype(dtype)


@given(dtypes, shapes, st.data())
def test_alloc_broadcasts_like_numpy(dtype, shp, data):
    # a value whose shape broadcasts to shp: a suffix of it, with some sizes set to 1
    suffix = shp[len(shp) - data.draw(st.integers(0, len(shp))):]
    vshape = tuple(1 if data.draw(st.booleans()) else s for s in suffix)
    value = arrays(dtype, vshape, start=1)
    dims = [np.int64(s) for s in shp]
    check_op(lambda v, *d: T.alloc(v, *d), lambda v, *d: np.broadcast_to(v, shp).copy(),
             value, *dims)
    check_op(lambda v: T.broadcast_to(v, shp), lambda v: np.broadcast_to(v, shp), value,
             modes=["python-debug"])
    check_infer_shape(lambda v, *d: T.alloc(v, *d), value, *dims)


def test_alloc_static_shape_and_errors():
    n = T.lscalar("n")
    assert T.alloc(0.0, n, 3).type.shape == (None, 3)
    assert T.alloc(T.tensor("float64", shape=(4,)), n, T.lscalar()).type.shape == (None, 4)
    m = T.dmatrix("m")
    assert T.alloc(1.0, *m.shape).type.shape == (None, None)
    assert T.alloc(1.0, *T.shape(T.tensor("float64", shape=(2, None)))).type.shape == (2, None)
    assert T.alloc(1.0, (2, 3)).type.shape == (2, 3)
    with pytest.raises(ValueError, match="more dimensions"):
        T.alloc(T.dmatrix(), 3)
    with pytest.raises(ValueError, match="cannot broadcast"):
        T.alloc(T.tensor("float64", shape=(3,)), 4)
    with pytest.raises(ValueError, match="negative dimension"):
        T.alloc(0.0, -1)
    with pytest.raises(TypeError, match="dimension 0 of the shape must have an integer dtype"):
        T.alloc(0.0, T.dscalar())
    v = T.dvector("v")
    f = workbench.function([v, n], T.alloc(v, n, 3))
    with pytest.raises(ValueError, match=r"value of shape \(2,\) to the shape \(2, 3\)"):
        f(np.zeros(2), 2)
    with pytest.raises(ValueError, match="negative dimension"):
        f(np.zeros(3), -2)


@given(st.sampled_from([None, "int8", "float32", "complex64", "bool"]), shapes)
def test_zeros_ones(dtype, shp):
    floatx = workbench.config.floatX
    check_op(lambda: T.zeros(shp, dtype), lambda: np.zeros(shp, dtype or floatx))
    check_op(lambda: T.ones(list(shp), dtype), lambda: np.ones(shp, dtype or floatx),
             modes=["python-debug"])
    assert T.zeros(shp, dtype).type.shape == shp


def test_zeros_symbolic_shape_and_floatx():
    m = T.dmatrix("m")
    z = T.zeros(m.shape)
    assert z.eval({m: np.ones((2, 3))}).shape == (2, 3)
    n = T.lscalar("n")
    assert T.ones(n).eval({n: 2}).tolist() == [1.0, 1.0]
    with workbench.config.change_flags(floatX="float32"):
        assert T.zeros((2,)).dtype == "float32"
        assert T.eye(2).dtype == "float32"
    with pytest.raises(TypeError, match="the shape must be"):
        T.zeros("abc")


@given(dtypes, shapes, st.sampled_from([None, "int32", "float64", "bool"]))
def test_like_functions(dtype, shp, like_dtype):
    x = arrays(dtype, shp)
    check_op(lambda v: T.zeros_like(v, like_dtype), lambda v: np.zeros_like(v, like_dtype), x)
    check_op(lambda v: T.ones_like(v, like_dtype), lambda v: np.ones_like(v, like_dtype), x,
             modes=["python-debug"])
    check_op(lambda v: v.zeros_like(), lambda v: np.zeros_like(v), x, modes=["python-debug"])
    check_op(lambda v: T.full_like(v, 3, like_dtype), lambda v: np.full_like(v, 3, like_dtype),
             x, modes=["python-debug"])
    check_infer_shape(lambda v: T.ones_like(v), x)


def test_like_static_shape():
    x = T.tensor("int16", shape=(2, None))
    assert T.zeros_like(x).type == x.type
    assert T.full_like(x, 1.5, "float32").type == T.TensorType("float32", (2, None))


@given(dtypes, shapes)
def test_full(dtype, shp):
    check_op(lambda: T.full(shp, 7, dtype), lambda: np.full(shp, 7, dtype))
    check_op(lambda v: T.full(shp, v), lambda v: np.full(shp, v), np.asarray(2, dtype),
             modes=["python-debug"])
    assert T.full((2,), 7).dtype == "int64"
    assert T.full((2,), 7.5).dtype == workbench.config.floatX


@given(dtypes, shapes, st.data())
def test_fill(dtype, shp, data):
    x = arrays(dtype, shp)
    value = arrays(data.draw(dtypes), shp[len(shp) - data.draw(st.integers(0, len(shp))):], 2)
    check_op(lambda m, v: T.fill(m, v), lambda m, v: np.broadcast_arrays(m, v)[1].copy(),
             x, value)
    check_op(lambda m, v: T.second(m, v), lambda m, v: np.broadcast_arrays(m, v)[1].copy(),
             x, value, modes=["python-debug"])
    check_infer_shape(lambda m, v: T.fill(m, v), x, value)


def test_fill_literals_and_shape():
    x = T.fvector("x")
    assert x.fill(2.0).dtype == "float32"
    assert T.fill(T.bvector(), 1.5).dtype == "float64"
    assert T.fill(T.dcol(), T.drow()).type.shape == (None, None)
    assert T.fill(T.tensor("float64", shape=(3, 1)), 0.0).type.shape == (3, 1)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        T.fill(T.tensor("float64", shape=(3,)), T.tensor("float64", shape=(2,)))


@given(signed_dtypes, signed_dtypes, signed_dtypes, st.data())
def test_arange_like_numpy(dt_start, dt_stop, dt_step, data):
    def val(dtype, lo, hi):
        info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
        lo = max(lo, int(info.min)) if info else lo
        hi = min(hi, int(info.max)) if info else hi
        return np.asarray(data.draw(st.integers(lo, hi)), dtype=dtype)

    start, stop = val(dt_start, -5, 10), val(dt_stop, -5, 10)
    step = val(dt_step, 1, 3) * (-1 if data.draw(st.booleans()) else 1)
    if np.dtype(dt_step).kind == "f":
        step = step / np.asarray(2, dtype=dt_step)
    step = np.asarray(step, dtype=dt_step)
    check_op(lambda a, b, c: T.arange(a, b, c), lambda a, b, c: np.arange(a, b, c),
             start, stop, step)
    check_infer_shape(lambda a, b, c: T.arange(a, b, c), start, stop, step)


def test_arange_constant_bounds():
    assert T.arange(5).type == T.TensorType("int64", (5,))
    assert T.arange(2, 11, 3).eval().tolist() == [2, 5, 8]
    assert T.arange(1.0, 0.0, -0.25).type.shape == (4,)
    assert T.arange(0, 1, 0.1).eval().tolist() == np.arange(0, 1, 0.1).tolist()
    assert T.arange(5, dtype="float32").dtype == "float32"
    assert T.arange(3, 1).eval().tolist() == []
    n = T.iscalar("n")
    assert T.arange(n).dtype == "int64"  # NumPy's: at least int64
    assert T.arange(T.fscalar()).dtype == "float64"
    with workbench.config.change_flags(floatX="float32"):
        assert T.arange(0.0, 1.0, 0.5).dtype == "float32"  # Python floats: floatX
    with pytest.raises(ValueError, match="step must not be zero"):
        T.arange(0, 5, 0)
    with pytest.raises(ValueError, match="step must not be zero"):
        T.arange(0, 5, n).eval({n: 0})
    with pytest.raises(TypeError, match="stop must be a scalar"):
        T.arange(0, T.lvector())


@given(st.integers(0, 4), st.none() | st.integers(0, 4), st.integers(-5, 5),
       st.sampled_from([None, "int8", "float32", "bool"]))
def test_eye(n, m, k, dtype):
    floatx = workbench.config.floatX
    check_op(lambda: T.eye(n, m, k, dtype), lambda: np.eye(n, m, k, dtype or floatx))
    args = [np.int64(n), np.int64(n if m is None else m), np.int64(k)]
    check_op(lambda a, b, c: T.eye(a, b, c, dtype), lambda a, b, c: np.eye(a, b, c,
                                                                           dtype or floatx),
             *args, modes=["python-debug"])
    check_infer_shape(lambda a, b, c: T.eye(a, b, c), *args)


def test_eye_identity_like():
    assert T.eye(3).type == T.TensorType(workbench.config.floatX, (3, 3))
    check_op(lambda v: T.identity_like(v), lambda v: np.eye(*v.shape, dtype=v.dtype),
             arrays("int16", (2, 3)))
    check_infer_shape(lambda v: T.identity_like(v), arrays("int16", (2, 3)))
    with pytest.raises(ValueError, match="needs a matrix"):
        T.identity_like(T.dvector())
    with pytest.raises(ValueError, match="n must not be negative"):
        T.eye(-1)
    with pytest.raises(TypeError, match="eye: n must have an integer dtype"):
        T.eye(T.dscalar())


@given(dtypes, hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=4), st.data())
def test_diagonal_like_numpy(dtype, shp, data):
    x = arrays(dtype, shp)
    nd = len(shp)
    a1 = data.draw(st.integers(-nd, nd - 1))
    a2 = data.draw(st.integers(-nd, nd - 1).filter(lambda a: a % nd != a1 % nd))
    k = data.draw(st.integers(-4, 4))
    check_op(lambda v: T.diagonal(v, k, a1, a2), lambda v: np.diagonal(v, k, a1, a2), x)
    check_op(lambda v: T.trace(v, k, a1, a2), lambda v: np.trace(v, k, a1, a2), x,
             modes=["python-debug"])
    check_infer_shape(lambda v: T.diagonal(v, k, a1, a2), x)


@given(dtypes, st.integers(0, 4), st.integers(-3, 3))
def test_diag_like_numpy(dtype, n, k):
    v = arrays(dtype, (n,))
    check_op(lambda u: T.diag(u, k), lambda u: np.diag(u, k), v)
    check_infer_shape(lambda u: T.diag(u, k), v)
    m = arrays(dtype, (n, n + 1))
    check_op(lambda u: T.diag(u, k), lambda u: np.diag(u, k), m, modes=["python-debug"])


def test_diag_trace_static_and_errors():
    assert T.diag(T.tensor("float64", shape=(3,)), -1).type.shape == (4, 4)
    assert T.diagonal(T.tensor("float64", shape=(2, 5)), 1).type.shape == (2,)
    assert T.diagonal(T.tensor("float64", shape=(2, 5)), 9).type.shape == (0,)
    check_op(lambda v: T.trace(v), lambda v: np.trace(v), arrays("int8", (3, 3)))
    check_op(lambda v: v.trace(), lambda v: np.trace(v), arrays("float32", (3, 2)))
    with pytest.raises(ValueError, match="vector or a matrix"):
        T.diag(T.dtensor3())
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        T.diagonal(T.dvector())
    with pytest.raises(ValueError, match="axis1 and axis2 must differ"):
        T.diagonal(T.dmatrix(), 0, 1, -1)


@given(dtypes, shapes, st.data())
def test_repeat_like_numpy(dtype, shp, data):
    x = arrays(dtype, shp)
    axis = data.draw(st.none() | st.integers(-len(shp), len(shp) - 1)) if shp else None
    along = x.size if axis is None else shp[axis]
    scalar = np.int64(data.draw(st.integers(0, 3)))
    counts = np.asarray(data.draw(st.lists(st.integers(0, 3), min_size=along,
                                           max_size=along)), dtype="int64")
    check_op(lambda v, r: T.repeat(v, r, axis), lambda v, r: np.repeat(v, r, axis), x, scalar)
    check_op(lambda v, r: T.repeat(v, r, axis), lambda v, r: np.repeat(v, r, axis), x, counts,
             modes=["python-debug"])
    check_op(lambda v: T.repeat(v, counts.tolist(), axis),
             lambda v: np.repeat(v, counts, axis), x, modes=["python-debug"])
    check_infer_shape(lambda v, r: T.repeat(v, r, axis), x, counts)
    check_infer_shape(lambda v, r: T.repeat(v, r, axis), x, scalar)


def test_repeat_static_and_errors():
    x = T.tensor("float64", shape=(2, 3))
    assert T.repeat(x, 2).type.shape == (12,)
    assert x.repeat(2, axis=1).type.shape == (2, 6)
    assert T.repeat(x, [1, 2], axis=0).type.shape == (3, 3)
    assert T.repeat(x, [2], axis=0).type.shape == (4, 3)
    check_op(lambda v, r: T.repeat(v, r, 1), lambda v, r: np.repeat(v, r, 1),
             arrays("float64", (2, 3)), np.array([2]))
    check_infer_shape(lambda v, r: T.repeat(v, r, 1), arrays("float64", (2, 3)), np.array([2]))
    with pytest.raises(ValueError, match="3 counts given for 2 elements"):
        T.repeat(x, [1, 2, 3], axis=0)
    with pytest.raises(TypeError, match="integer scalar or vector"):
        T.repeat(x, 1.5)
    v = T.dvector("v")
    r = T.lvector("r")
    f = workbench.function([v, r], T.repeat(v, r))
    with pytest.raises(ValueError, match="3 counts given for 2 elements"):
        f(np.zeros(2), np.array([1, 1, 1]))


@given(dtypes, shapes, st.data())
def test_tile_like_numpy(dtype, shp, data):
    x = arrays(dtype, shp)
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    check_op(lambda v: T.tile(v, reps), lambda v: np.tile(v, reps), x)
    syms = [np.int64(r) for r in reps]
    check_op(lambda v, *r: T.tile(v, list(r)), lambda v, *r: np.tile(v, r), x, *syms,
             modes=["python-debug"])
    check_infer_shape(lambda v, *r: T.tile(v, list(r)), x, *syms)


def test_tile_static_and_ndim():
    x = T.tensor("float64", shape=(2, None))
    assert T.tile(x, (3, 2)).type.shape == (6, None)
    assert T.tile(x, 2).type.shape == (2, None)
    assert T.tile(T.dvector(), (2, 1), ndim=3).ndim == 3
    with pytest.raises(ValueError, match="ndim=1 is less than"):
        T.tile(x, (1, 1), ndim=1)
    v = T.dvector("v")
    reps = T.lvector("reps")
    out = T.tile(v, T.specify_shape(reps, (2,)))
    assert workbench.function([v, reps], out)(np.arange(2.0), np.array([2, 3])).shape == (2, 6)


@given(st.lists(st.tuples(dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=1,
                                                     max_side=3)), min_size=1, max_size=3),
       st.data())
def test_broadcast_arrays_like_numpy(specs, data):
    target = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    values = []
    for dtype, _ in specs:
        vnd = data.draw(st.integers(0, len(target)))
        vshape = tuple(1 if data.draw(st.booleans()) else s for s in target[len(target) - vnd:])
        values.append(arrays(dtype, vshape))
    check_op(lambda *v: T.broadcast_arrays(*v), lambda *v: [a.copy() for a in
                                                             np.broadcast_arrays(*v)], *values)
    check_infer_shape(lambda *v: T.broadcast_arrays(*v), *values)


def test_broadcast_arrays_zero_size_and_errors():
    check_op(lambda a, b: T.broadcast_arrays(a, b),
             lambda a, b: [x.copy() for x in np.broadcast_arrays(a, b)],
             np.zeros((0, 1)), np.zeros((1, 3)))
    a, b = T.dvectors("a", "b")
    f = workbench.function([a, b], T.broadcast_arrays(a, b))
    with pytest.raises(ValueError, match="cannot broadcast"):
        f(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="cannot broadcast"):
        T.broadcast_to(T.tensor("float64", shape=(3,)), (2, 2))
