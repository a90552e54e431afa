"""Shape ops against NumPy: shape, reshape, flatten, transposes, squeeze, expand_dims,
broadcast patterns and shape assertions."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import workbench
from workbench import tensor as T
from workbench.compiler.types import ALL_DTYPES

from opcheck import check_infer_shape, check_op

dtypes = st.sampled_from(ALL_DTYPES)
small_shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


def arrays(dtype, shape):
    return np.arange(int(np.prod(shape)), dtype="int64").reshape(shape).astype(dtype)


@given(dtypes, small_shapes)
def test_shape_and_shape_i(dtype, shp):
    x = arrays(dtype, shp)
    check_op(lambda v: T.shape(v), lambda v: np.asarray(v.shape, dtype="int64"), x)
    if x.ndim:
        check_op(lambda v: T.shape_i(v, -1), lambda v: np.asarray(v.shape[-1]), x)
    check_infer_shape(lambda v: T.shape(v), x)


def test_shape_static_length():
    assert T.shape(T.dtensor3()).type.shape == (3,)
    assert T.get_vector_length(T.shape(T.dmatrix())) == 2
    with pytest.raises(ValueError, match="not known"):
        T.get_vector_length(T.lvector())


@st.composite
def reshapes(draw):
    shp = draw(small_shapes)
    size = int(np.prod(shp))
    if size == 0:
        parts = draw(st.lists(st.integers(0, 3), min_size=0, max_size=3))
        return shp, tuple(parts + [0])
    # a new shape of the same size: factor the size into a few parts
    parts, rest = [], size
    for _ in range(draw(st.integers(0, 3))):
        d = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
        parts.append(d)
        rest //= d
    parts.append(rest)
    if draw(st.booleans()):
        parts[draw(st.integers(0, len(parts) - 1))] = -1
    return shp, tuple(parts)


@given(reshapes(), dtypes)
def test_reshape_like_numpy(case, dtype):
    shp, new = case
    x = arrays(dtype, shp)
    check_op(lambda v: T.reshape(v, new), lambda v: v.reshape(new), x)
    check_op(lambda v: v.reshape(new), lambda v: v.reshape(new), x, modes=["python-debug"])
    check_infer_shape(lambda v: T.reshape(v, new), x)


def test_reshape_symbolic_shape():
    x = np.arange(12.0)
    n = T.lscalar("n")
    v = T.dvector("v")
    f = workbench.function([v, n], T.reshape(v, (n, -1)))
    assert f(x, 3).shape == (3, 4)
    # a symbolic vector shape: another tensor's shape
    m = T.dmatrix("m")
    y = T.reshape(v, m.shape)
    assert workbench.function([v, m], y)(x, np.zeros((2, 6))).shape == (2, 6)
    check_infer_shape(lambda a, b: T.reshape(a, b.shape), x, np.zeros((4, 3)))
    check_infer_shape(lambda a, b: T.reshape(a, (T.shape_i(b, 0), -1)),
                      x, np.zeros((4, 3)))
    # a vector of unknown length needs ndim
    s = T.lvector("s")
    with pytest.raises(ValueError, match="give ndim"):
        T.reshape(v, s)
    r = T.reshape(v, s, ndim=2)
    assert workbench.function([v, s], r)(x, np.array([6, 2])).shape == (6, 2)


def test_reshape_static_shape():
    x = T.tensor("float64", shape=(2, 3, 4))
    assert T.reshape(x, (6, -1)).type.shape == (6, 4)
    assert T.reshape(x, (-1,)).type.shape == (24,)
    assert T.reshape(T.dmatrix(), (3, -1)).type.shape == (3, None)
    n = T.lscalar()
    assert T.reshape(x, (n, 4)).type.shape == (None, 4)
    assert T.reshape(T.dvector(), T.shape(x)).type.shape == (2, 3, 4)


def test_reshape_errors():
    x = T.tensor("float64", shape=(2, 3))
    with pytest.raises(ValueError, match=r"cannot reshape .*\(2, 3\).*requested shape \(4, 2\)"):
        T.reshape(x, (4, 2))
    with pytest.raises(ValueError, match="at most one"):
        T.reshape(x, (-1, -1))
    with pytest.raises(TypeError, match="integer"):
        T.reshape(x, (2.5, 3))
    v = T.dvector("v")
    f = workbench.function([v], T.reshape(v, (4, -1)))
    with pytest.raises(ValueError, match=r"shape \(6,\).*requested shape \(4, -1\)"):
        f(np.zeros(6))


@given(dtypes, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3), st.data())
def test_flatten(dtype, shp, data):
    x = arrays(dtype, shp)
    nd = data.draw(st.integers(1, max(x.ndim, 1)))
    want = (lambda v: v.reshape(v.shape[:nd - 1] + (-1,))) if x.size else \
        (lambda v: v.reshape(v.shape[:nd - 1] + (int(np.prod(v.shape[nd - 1:])),)))
    check_op(lambda v: T.flatten(v, nd), want, x)
    check_infer_shape(lambda v: T.flatten(v, nd), x)


def test_flatten_static_and_methods():
    x = T.tensor("int8", shape=(None, 2, 3))
    assert T.flatten(x, 2).type.shape == (None, 6)
    assert x.flatten().type.shape == (None,)
    assert x.flatten(outdim=2).type.shape == (None, 6)
    assert T.flatten(T.tensor("int8", shape=(2, 3))).type.shape == (6,)
    with pytest.raises(ValueError, match="between 1 and 3"):
        T.flatten(x, 4)


@given(dtypes, small_shapes, st.data())
def test_transpose(dtype, shp, data):
    x = arrays(dtype, shp)
    perm = data.draw(st.permutations(range(x.ndim)))
    check_op(lambda v: T.transpose(v, perm), lambda v: np.transpose(v, perm), x)
    check_op(lambda v: v.T, lambda v: v.T, x, modes=["python-debug"])
    check_infer_shape(lambda v: T.transpose(v, perm), x)


def test_transpose_errors_and_static():
    x = T.tensor("float64", shape=(2, None, 1))
    assert T.transpose(x).type.shape == (1, None, 2)
    assert x.transpose(1, 0, 2).type.shape == (None, 2, 1)
    with pytest.raises(ValueError, match="not a permutation"):
        T.transpose(x, (0, 0, 1))


@given(small_shapes.filter(lambda s: len(s) >= 1), st.data())
def test_swapaxes(shp, data):
    x = arrays("float32", shp)
    a = data.draw(st.integers(-x.ndim, x.ndim - 1))
    b = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check_op(lambda v: T.swapaxes(v, a, b), lambda v: np.swapaxes(v, a, b), x)
    check_op(lambda v: v.swapaxes(a, b), lambda v: np.swapaxes(v, a, b), x,
             modes=["python-debug"])


def test_squeeze():
    x = T.tensor("float64", shape=(1, None, 1))
    assert T.squeeze(x).type.shape == (None,)
    assert T.squeeze(x, -1).type.shape == (1, None)
    value = np.zeros((1, 3, 1))
    assert T.squeeze(x).eval({x: value}).shape == (3,)
    # an axis not statically 1 is checked at run time
    m = T.dmatrix("m")
    sq = T.squeeze(m, axis=0)
    assert sq.type.shape == (None,)
    f = workbench.function([m], sq)
    np.testing.assert_array_equal(f(np.ones((1, 2))), np.ones(2))
    with pytest.raises(ValueError, match="broadcastable"):
        f(np.ones((2, 2)))
    with pytest.raises(ValueError, match="not 1"):
        T.squeeze(T.tensor("float64", shape=(2, 1)), 0)
    check_op(lambda v: T.squeeze(v, (0, 2)), lambda v: np.squeeze(v, (0, 2)), value)
    check_infer_shape(lambda v: T.squeeze(v, (0, 2)), value)


@given(dtypes, small_shapes, st.data())
def test_expand_dims(dtype, shp, data):
    x = arrays(dtype, shp)
    n_new = data.draw(st.integers(1, 2))
    out_nd = x.ndim + n_new
    axes = data.draw(st.lists(st.integers(-out_nd, out_nd - 1), min_size=n_new,
                              max_size=n_new).filter(
        lambda a: len({i % out_nd for i in a}) == len(a)))
    check_op(lambda v: T.expand_dims(v, tuple(axes)),
             lambda v: np.expand_dims(v, tuple(axes)), x)
    check_infer_shape(lambda v: T.expand_dims(v, tuple(axes)), x)


def test_shape_pads():
    x = np.arange(6.0).reshape(2, 3)
    check_op(lambda v: T.shape_padleft(v, 2), lambda v: v[None, None], x)
    check_op(lambda v: T.shape_padright(v), lambda v: v[..., None], x)
    check_op(lambda v: T.shape_padaxis(v, 1), lambda v: v[:, None], x)


def test_rebroadcast_family():
    m = T.dmatrix("m")
    row = T.addbroadcast(m, 0)
    assert row.broadcastable == (True, False)
    f = workbench.function([m], row)
    np.testing.assert_array_equal(f(np.ones((1, 3))), np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"axis 0 is marked broadcastable.*\(2, 3\)"):
        f(np.ones((2, 3)))
    with pytest.raises(AssertionError):  # Theano raised AssertionError: still caught
        f(np.ones((2, 3)))
    assert T.unbroadcast(row, 0).broadcastable == (False, False)
    assert T.unbroadcast(m, 0) is m
    assert T.addbroadcast(row, 0) is row
    pat = T.patternbroadcast(m, (False, True))
    assert pat.broadcastable == (False, True)
    with pytest.raises(ValueError, match="marked broadcastable"):
        pat.eval({m: np.ones((2, 2))})
    assert T.patternbroadcast(row, (False, False)).broadcastable == (False, False)
    with pytest.raises(ValueError, match="2 entries"):
        T.patternbroadcast(T.dvector(), (True, True))
    with pytest.raises(ValueError, match="cannot be broadcastable"):
        T.addbroadcast(T.tensor("float64", shape=(3,)), 0)
    check_infer_shape(lambda v: T.unbroadcast(T.addbroadcast(v, 0), 0), np.ones((1, 3)))


def test_specify_shape():
    m = T.dmatrix("m")
    n = T.lscalar("n")
    y = T.specify_shape(m, (None, 3))
    assert y.type.shape == (None, 3)
    assert T.specify_shape(m, (2, n)).type.shape == (2, None)
    f = workbench.function([m, n], T.specify_shape(m, (2, n)))
    f(np.zeros((2, 4)), 4)
    with pytest.raises(ValueError, match=r"shape \(2, 4\), expected \(2, 5\)"):
        f(np.zeros((2, 4)), 5)
    with pytest.raises(ValueError, match="2 dimensions"):
        T.specify_shape(m, (1, 2, 3))
    with pytest.raises(ValueError, match="not the specified 4"):
        T.specify_shape(T.tensor("float64", shape=(3,)), (4,))
    # a shape vector: every entry is checked
    g = workbench.function([m], T.specify_shape(m, T.as_tensor_variable([2, 2])))
    g(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="axis 1 differs"):
        g(np.zeros((2, 3)))
    check_infer_shape(lambda v: T.specify_shape(v, (None, 3)), np.zeros((2, 3)))


def test_broadcast_shape_symbolic_handles_zero():
    # (0,) and (1,) broadcast to (0,), neither statically 1
    a, b = T.dvector("a"), T.dvector("b")
    f = workbench.function([a, b], (a + b).shape, on_unused_input="ignore")
    check_infer_shape(lambda u, v: u + v, np.zeros(0), np.zeros(1))
    check_infer_shape(lambda u, v: u + v, np.zeros(1), np.zeros(3))
    n = T.lscalar("n")
    assert T.broadcast_shape_symbolic([(1, n), (4, 1)], (4, None)) == (4, n)
    assert T.broadcast_shape_symbolic([(1, 1), (1, 1)], (None, None)) == (1, 1)
    assert f(np.zeros(0), np.zeros(1)).tolist() == [0]
