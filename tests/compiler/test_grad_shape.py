"""Gradients of the shape ops: Shape, Shape_i (disconnected), Reshape, SpecifyShape and
Rebroadcast (linear: the gradient is reshaped or passed back), and dimension shuffles."""
import numpy as np
import pytest

from workbench import tensor as T
from workbench.compiler.gradtypes import connection_pattern
from workbench.gradient import DisconnectedInputError, Lop, Rop, grad, hessian

from gradcheck import check_grad

RNG = np.random.default_rng(3)
M = RNG.standard_normal((3, 4))
C3 = RNG.standard_normal((2, 3, 2))


@pytest.mark.parametrize("value,shape", [
    (M, (12,)), (M, (2, -1)), (M, (-1, 2, 3)), (M, (4, 3)), (C3, (-1,)), (C3, (3, 1, 4)),
    (np.array(1.5), (1, 1)), (np.array([2.5]), ()), (np.zeros((0, 3)), (3, 0)),
    (np.zeros((0, 3)), (-1, 3)),
])
def test_reshape_grad(value, shape):
    check_grad(lambda x: x.reshape(shape), value)


def test_reshape_to_a_symbolic_shape_grad():
    # the new shape read from another tensor: that tensor gets no gradient
    check_grad(lambda x, y: x.reshape(y.shape), M, np.zeros((6, 2)), wrt=[0])
    x, y = T.dmatrix("x"), T.dmatrix("y")
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(x.reshape(y.shape)), y)
    n = T.lscalar("n")
    check_grad(lambda a, k: T.reshape(a, (k, -1)), M, np.int64(2))
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.reshape(x, (n, -1))), n)


@pytest.mark.parametrize("value,ndim", [(M, 1), (C3, 1), (C3, 2), (C3, 3),
                                        (np.zeros((2, 0, 3)), 2)])
def test_flatten_grad(value, ndim):
    check_grad(lambda x: T.flatten(x, ndim), value)


def test_reshape_gradient_by_value():
    x = T.dmatrix("x")
    g = grad(T.sum(x.reshape((-1,)) * np.arange(6.0)), x)
    assert g.eval({x: np.zeros((2, 3))}).tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


@pytest.mark.parametrize("build", [
    lambda x: x.T, lambda x: x.dimshuffle(1, "x", 0), lambda x: T.swapaxes(x, 0, 1),
    lambda x: T.transpose(x, (1, 0)).reshape((-1,)),
], ids=["T", "dimshuffle", "swapaxes", "transpose-reshape"])
def test_dimshuffle_grad(build):
    check_grad(build, M)


def test_squeeze_and_expand_dims_grad():
    check_grad(lambda x: T.squeeze(x, 0), M[:1])
    check_grad(lambda x: T.expand_dims(x, (0, 2)), M)


def test_specify_shape_grad():
    check_grad(lambda x: T.specify_shape(x, (3, 4)), M)
    check_grad(lambda x: T.specify_shape(x, (None, 4)) * 1.0, M)
    x, n = T.dmatrix("x"), T.lscalar("n")
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.specify_shape(x, (n, 4))), n)
    g = grad(T.sum(T.specify_shape(x, (n, 4))), x)
    assert g.eval({x: M, n: 3}).tolist() == np.ones((3, 4)).tolist()


@pytest.mark.parametrize("build,value", [
    (lambda x: T.addbroadcast(x, 0), M[:1]),
    (lambda x: T.addbroadcast(x, 0, 1), M[:1, :1]),
    (lambda x: T.unbroadcast(T.addbroadcast(x, 1), 1), M[:, :1]),
    (lambda x: T.patternbroadcast(x, (True, False)), M[:1]),
    # a broadcastable input: the gradient takes its pattern back
    (lambda x: T.unbroadcast(T.addbroadcast(x, 0), 0) + M, M[:1]),
], ids=["add", "add-two", "unbroadcast", "pattern", "broadcast-after"])
def test_rebroadcast_grad(build, value):
    check_grad(build, value)


def test_rebroadcast_gradient_keeps_the_input_pattern():
    x = T.drow("x")
    y = T.unbroadcast(x, 0)
    g = grad(T.sum(y), x)
    assert g.broadcastable == (True, False)
    z = T.dmatrix("z")
    assert grad(T.sum(T.addbroadcast(z, 0)), z).broadcastable == (False, False)


def test_shape_is_disconnected():
    x = T.dmatrix("x")
    cost = T.cast(T.sum(T.shape(x)), "float64")
    with pytest.raises(DisconnectedInputError):
        grad(cost, x)
    with pytest.raises(DisconnectedInputError):
        grad(T.cast(T.shape_i(x, 1), "float64"), x)
    g = grad(cost, x, disconnected_inputs="ignore")
    assert g.eval({x: M}).tolist() == np.zeros((3, 4)).tolist()
    # through a shape and through the values: only the values count
    g = grad(T.sum(x) * T.cast(x.shape[0], "float64"), x)
    assert g.eval({x: M}).tolist() == np.full((3, 4), 3.0).tolist()


def test_connection_patterns():
    x, n = T.dmatrix("x"), T.lscalar("n")
    assert connection_pattern(T.shape(x).owner) == [[False]]
    assert connection_pattern(T.shape_i(x, 0).owner) == [[False]]
    assert connection_pattern(T.reshape(x, (n, -1)).owner) == [[True], [False]]
    assert connection_pattern(T.specify_shape(x, (n, 4)).owner) == [[True], [False], [False]]


def test_rop_of_shape_ops():
    x, u = T.dmatrix("x"), T.dmatrix("u")
    tangent = RNG.standard_normal((3, 4))
    for out, expected in [(x.reshape((4, -1)), tangent.reshape(4, 3)),
                          (T.specify_shape(x, (3, 4)), tangent),
                          (T.flatten(x), tangent.reshape(-1))]:
        np.testing.assert_allclose(Rop(out, x, u).eval({x: M, u: tangent}), expected)
    row = T.drow("row")
    out = T.unbroadcast(row, 0)
    assert Rop(out, row, T.drow("v")).broadcastable == (False, False)


# ---------------------------------------------------------------------------------------
# Second derivatives


def test_reshape_gradient_graph_is_differentiable():
    v = RNG.standard_normal((2, 6))
    check_grad(lambda x, w: Lop(x.reshape((2, -1)), x, w), M, v, wrt=[1])


def test_hessian_through_reshape():
    x = T.dvector("x")
    # sum((x0 + 2 x1)^2 + (x2 + 2 x3)^2) through a reshape to 2x2
    m = x.reshape((2, 2))
    y = m[:, 0] + 2.0 * m[:, 1]
    h = hessian(T.sum(T.sqr(y)), x)
    expected = np.zeros((4, 4))
    expected[:2, :2] = 2 * np.outer([1, 2], [1, 2])
    expected[2:, 2:] = 2 * np.outer([1, 2], [1, 2])
    np.testing.assert_allclose(h.eval({x: np.ones(4)}), expected)
