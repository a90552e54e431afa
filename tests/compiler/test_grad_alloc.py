"""Gradients of the allocating ops: Alloc (and fill, broadcast_to, tile), ARange, Eye,
ExtractDiag / AllocDiag and Repeat."""
import numpy as np
import pytest

from workbench import tensor as T
from workbench.compiler.gradtypes import connection_pattern
from workbench.compiler.ops.alloc import sum_to_shape_of
from workbench.gradient import DisconnectedInputError, Lop, Rop, grad, hessian

from gradcheck import check_grad

RNG = np.random.default_rng(11)
M = RNG.standard_normal((3, 4))
C3 = RNG.standard_normal((2, 3, 3))


@pytest.mark.parametrize("value_shape,shape", [
    ((), (2, 3)), ((4,), (3, 4)), ((1, 4), (3, 4)), ((3, 1), (3, 4)), ((1, 1), (2, 3)),
    ((3, 4), (2, 3, 4)), ((1,), (2, 0)), ((0, 1), (2, 0, 3)), ((2, 1, 3), (2, 4, 3)),
])
def test_alloc_grad(value_shape, shape):
    # the value's type does not say which dimensions broadcast: they do at run time
    check_grad(lambda v: T.alloc(v, *shape), RNG.standard_normal(value_shape))


def test_alloc_grad_with_static_broadcast_dimensions():
    check_grad(lambda v: T.alloc(T.addbroadcast(v, 0), 3, 4), M[:1])
    check_grad(lambda v: T.alloc(T.specify_shape(v, (1, 4)), 2, 3, 4), M[:1])


def test_alloc_grad_with_symbolic_shape():
    check_grad(lambda v, n: T.alloc(v, n, 4), M[:1], np.int64(3))
    v, n = T.drow("v"), T.lscalar("n")
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.alloc(v, n, 4)), n)
    g = grad(T.sum(T.alloc(v, n, 4)), v)
    assert g.eval({v: np.zeros((1, 4)), n: 5}).tolist() == [[5.0] * 4]


BROADCASTS = [((), (2, 3)), ((3, 1), (3, 4)), ((1, 4), (3, 1)), ((4,), (3, 4))]


@pytest.mark.parametrize("value_shape,model_shape", BROADCASTS)
def test_fill_grad(value_shape, model_shape):
    check_grad(lambda m, v: T.fill(m, v), RNG.standard_normal(model_shape),
               RNG.standard_normal(value_shape))


@pytest.mark.parametrize("value_shape,model_shape", BROADCASTS)
def test_broadcast_to_grad(value_shape, model_shape):
    shape = np.broadcast_shapes(value_shape, model_shape)
    check_grad(lambda v: T.broadcast_to(v, shape), RNG.standard_normal(value_shape))


@pytest.mark.parametrize("value_shape,model_shape", BROADCASTS)
def test_broadcast_arrays_grad(value_shape, model_shape):
    def build(a, b):
        left, right = T.broadcast_arrays(a, b)
        return left * 2.0 + right

    check_grad(build, RNG.standard_normal(value_shape), RNG.standard_normal(model_shape))


def test_fill_model_is_disconnected():
    x, y = T.dmatrix("x"), T.dscalar("y")
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.fill(x, y)), x)
    assert float(grad(T.sum(T.fill(x, y)), y).eval({x: M, y: 1.0})) == 12.0
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.zeros_like(x) + T.ones_like(x)), x)


@pytest.mark.parametrize("reps", [(2,), (2, 1), (1, 3), (2, 2, 1)])
def test_tile_grad(reps):
    check_grad(lambda x: T.tile(x, reps), M)


@pytest.mark.parametrize("repeats,axis", [
    (2, 0), (3, 1), (0, 1), (2, None), (np.array([1, 0, 3]), 0), (np.array([2, 1, 0, 1]), 1),
    (np.array([2]), 1), (np.arange(12) % 3, None),
])
def test_repeat_grad(repeats, axis):
    check_grad(lambda x: T.repeat(x, repeats, axis=axis), M)


def test_repeat_with_symbolic_repeats_grad():
    check_grad(lambda x, r: T.repeat(x, r, axis=0), M, np.int64(2))
    check_grad(lambda x, r: T.repeat(x, r, axis=1), M, np.array([0, 2, 1, 1]))
    x, r = T.dvector("x"), T.lvector("r")
    g = grad(T.sum(T.repeat(x, r) * np.arange(4.0)), x)
    assert g.eval({x: np.zeros(3), r: [1, 0, 3]}).tolist() == [0.0, 0.0, 6.0]
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.repeat(x, r)), r)


@pytest.mark.parametrize("k", [0, 1, -2])
def test_alloc_diag_grad(k):
    check_grad(lambda v: T.diag(v, k), RNG.standard_normal(3))


@pytest.mark.parametrize("value,offset,axis1,axis2", [
    (M, 0, 0, 1), (M, 1, 0, 1), (M, -2, 0, 1), (M, 7, 0, 1), (M.T.copy(), 2, 1, 0),
    (C3, 0, 1, 2), (C3, -1, 0, 2), (C3, 1, 2, 0), (C3, 0, 2, 1), (np.zeros((0, 3)), 0, 0, 1),
])
def test_extract_diag_grad(value, offset, axis1, axis2):
    check_grad(lambda x: T.diagonal(x, offset, axis1, axis2), value)


def test_diag_both_directions_by_value():
    v, x = T.dvector("v"), T.dmatrix("x")
    g = grad(T.sum(T.diag(v, 1) * np.arange(9.0).reshape(3, 3)), v)
    assert g.eval({v: np.zeros(2)}).tolist() == [1.0, 5.0]
    g = grad(T.sum(T.diag(x)), x)
    assert g.eval({x: np.zeros((2, 3))}).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    check_grad(lambda a: T.trace(a), M)


def test_arange_gradients_follow_theano():
    start, stop, step = T.dscalars("start", "stop", "step")
    out = T.arange(start, stop, step)
    cost = T.sum(out * np.arange(1.0, 5.0))
    gstart, gstep = grad(cost, [start, step])
    values = {start: 0.5, stop: 4.0, step: 1.0}
    # out[i] = start + i * step
    assert float(gstart.eval(values)) == 10.0
    assert float(gstep.eval(values)) == 0 * 1 + 1 * 2 + 2 * 3 + 3 * 4
    with pytest.raises(DisconnectedInputError):
        grad(cost, stop)
    check_grad(lambda a, b: T.arange(a, 3.0, b), np.array(0.25), np.array(0.7))


def test_integer_arange_and_eye_are_disconnected():
    n = T.lscalar("n")
    assert connection_pattern(T.arange(n).owner) == [[False], [False], [False]]
    assert connection_pattern(T.eye(n).owner) == [[False], [False], [False]]
    x = T.dmatrix("x")
    # eye shaped like x: x's values do not matter
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.eye(x.shape[0], x.shape[1]) * 2.0), x)
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.identity_like(x)), x)
    g = grad(T.sum(T.eye(3) * x), x)
    assert g.eval({x: np.zeros((3, 3))}).tolist() == np.eye(3).tolist()


def test_sum_to_shape_of_runtime_broadcasting():
    g, v = T.dtensor3("g"), T.dmatrix("v")
    out = sum_to_shape_of(g, v)
    ones = np.ones((2, 3, 4))
    for shape, expected in [((3, 4), np.full((3, 4), 2.0)), ((1, 4), np.full((1, 4), 6.0)),
                            ((3, 1), np.full((3, 1), 8.0)), ((1, 1), np.full((1, 1), 24.0))]:
        np.testing.assert_array_equal(out.eval({g: ones, v: np.zeros(shape)}), expected)
    empty = out.eval({g: np.ones((2, 0, 4)), v: np.zeros((1, 4))})
    np.testing.assert_array_equal(empty, np.zeros((1, 4)))


def test_rop_of_alloc_ops():
    v, u = T.dvector("v"), T.dvector("u")
    got = Rop(T.alloc(v, 2, 2), v, u).eval({v: [1.0, 2.0], u: [3.0, 4.0]})
    assert got.tolist() == [[3.0, 4.0], [3.0, 4.0]]
    got = Rop(T.repeat(v, 2), v, u).eval({v: [1.0, 2.0], u: [3.0, 4.0]})
    assert got.tolist() == [3.0, 3.0, 4.0, 4.0]
    a, b, ta, tb = T.dscalars("a", "b", "ta", "tb")
    got = Rop(T.arange(a, 3.0, b), [a, b], [ta, tb]).eval({a: 0.0, b: 1.0, ta: 1.0, tb: 2.0})
    assert got.tolist() == [1.0, 3.0, 5.0]


# ---------------------------------------------------------------------------------------
# Second derivatives


def test_alloc_and_diag_gradient_graphs_are_differentiable():
    check_grad(lambda x, w: Lop(T.alloc(x, 2, 3, 4), x, w), M[:1],
               RNG.standard_normal((2, 3, 4)), wrt=[1])
    check_grad(lambda x, w: Lop(T.diagonal(x, 1, 2, 0), x, w), C3,
               RNG.standard_normal((3, 1)), wrt=[1])
    check_grad(lambda x, w: Lop(T.repeat(x, np.array([2, 0, 1]), 0), x, w), M,
               RNG.standard_normal((3, 4)), wrt=[1])


def test_hessian_through_alloc_and_repeat():
    x = T.dvector("x")
    # alloc copies x 3 times, repeat copies each element twice: sum(y^2) = 6 sum(x^2)
    y = T.repeat(T.alloc(x, 3, 2), 2, axis=1)
    h = hessian(T.sum(T.sqr(y)), x)
    np.testing.assert_allclose(h.eval({x: np.ones(2)}), 12 * np.eye(2))
