"""Gradients of the joining ops: Join (concatenate, stack), MakeVector, Split and Roll."""
import numpy as np
import pytest

from workbench import tensor as T
from workbench.compiler.gradtypes import connection_pattern
from workbench.compiler.ops.join import make_vector
from workbench.gradient import DisconnectedInputError, Lop, Rop, grad, hessian

from gradcheck import check_grad

RNG = np.random.default_rng(5)
M = RNG.standard_normal((3, 4))


@pytest.mark.parametrize("shapes,axis", [
    ([(3,), (2,)], 0), ([(3, 4), (1, 4), (2, 4)], 0), ([(3, 4), (3, 2)], 1),
    ([(3, 4), (3, 2)], -1), ([(2, 0, 3), (2, 2, 3)], 1), ([(0, 2), (3, 2)], 0),
    ([(2, 3, 1), (2, 3, 2)], 2),
])
def test_concatenate_grad(shapes, axis):
    values = [RNG.standard_normal(s) for s in shapes]
    check_grad(lambda *xs: T.concatenate(list(xs), axis=axis), *values)


def test_concatenate_same_input_twice_grad():
    check_grad(lambda x: T.concatenate([x, 2.0 * x, x], axis=1), M)


def test_join_with_an_integer_input():
    x, i = T.dvector("x"), T.lvector("i")
    out = T.concatenate([i, x])
    g = grad(T.sum(out * np.arange(5.0)), x)
    assert g.eval({x: np.zeros(3), i: [1, 2]}).tolist() == [2.0, 3.0, 4.0]
    check_grad(lambda a, b: T.concatenate([b, a]), RNG.standard_normal(3), np.array([1, 2]))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack_grad(axis):
    check_grad(lambda a, b: T.stack([a, b], axis=axis), M, M + 1.0)


def test_stack_of_scalars_is_make_vector_grad():
    check_grad(lambda a, b, c: T.stack([a, b, c]), np.array(1.0), np.array(-2.0),
               np.array(0.5))
    a, b = T.dscalars("a", "b")
    ga, gb = grad(T.sum(make_vector(a, b) * np.array([3.0, 5.0])), [a, b])
    assert (float(ga.eval({a: 0.0, b: 0.0})), float(gb.eval({a: 0.0, b: 0.0}))) == (3.0, 5.0)


def test_integer_make_vector_is_disconnected():
    x = T.dmatrix("x")
    n = T.lscalar("n")
    vec = make_vector(n, 2)
    assert connection_pattern(vec.owner) == [[False], [False]]
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.reshape(x, vec)), n)


def test_horizontal_and_vertical_stack_grad():
    check_grad(lambda a, b: T.horizontal_stack(a, b), M, M[:, :2])
    check_grad(lambda a, b: T.vertical_stack(a, b), M, M[:1])


@pytest.mark.parametrize("sizes,axis", [
    ([1, 4], 0), ([2, 0, 3], 0), ([5], 0), ([0, 4], 1), ([1, 2, 1], 1),
])
def test_split_grad(sizes, axis):
    value = RNG.standard_normal((5, 4)) if axis == 0 else M
    n = len(sizes)
    # every piece used, with different weights, and each piece alone (the others' gradients
    # are then missing and count as zeros)
    check_grad(lambda x: T.concatenate([p * float(k + 1) for k, p in
                                        enumerate(T.split(x, sizes, n, axis=axis))],
                                       axis=axis), value)
    for k in range(n):
        check_grad(lambda x: T.split(x, sizes, n, axis=axis)[k], value)


def test_split_with_symbolic_sizes_grad():
    check_grad(lambda x, s: T.split(x, s, 2, axis=1)[1], M, np.array([3, 1]))
    x, s = T.dmatrix("x"), T.lvector("s")
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.split(x, s, 2, axis=1)[0]), s)


def test_split_unused_piece_gets_zeros():
    x = T.dvector("x")
    a, b, c = T.split(x, [1, 2, 1], 3)
    g = grad(T.sum(b) + 2.0 * T.sum(c), x)
    assert g.eval({x: np.zeros(4)}).tolist() == [0.0, 1.0, 1.0, 2.0]


@pytest.mark.parametrize("shift,axis", [(1, 0), (-1, 1), (6, 1), (0, 0), (2, None),
                                        (-13, None)])
def test_roll_grad(shift, axis):
    check_grad(lambda x: T.roll(x, shift, axis=axis), M)


def test_roll_symbolic_shift_grad():
    check_grad(lambda x, s: T.roll(x, s, axis=0), M, np.int64(-2))
    x, s = T.dvector("x"), T.lscalar("s")
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.roll(x, s) * x), s)
    g = grad(T.sum(T.roll(x, 1) * np.arange(3.0)), x)
    assert g.eval({x: np.zeros(3)}).tolist() == [1.0, 2.0, 0.0]


def test_rop_of_join_and_split():
    x, y = T.dvector("x"), T.dvector("y")
    u = T.dvector("u")
    # only x has a tangent: y's part of the result has none
    got = Rop(T.concatenate([x, y]), x, u).eval({x: [1.0, 2.0], y: [3.0], u: [5.0, 7.0]})
    assert got.tolist() == [5.0, 7.0, 0.0]
    piece = T.split(x, [1, 1], 2)[1]
    assert Rop(piece, x, u).eval({x: [1.0, 2.0], u: [5.0, 7.0]}).tolist() == [7.0]


def test_connection_patterns():
    x, s = T.dvector("x"), T.lscalar("s")
    assert connection_pattern(T.roll(x, s).owner) == [[True], [False]]
    pieces = T.split(x, [1, 2], 2)
    assert connection_pattern(pieces[0].owner) == [[True, True], [False, False]]


# ---------------------------------------------------------------------------------------
# Second derivatives


def test_join_and_split_gradient_graphs_are_differentiable():
    v = RNG.standard_normal((3, 6))
    check_grad(lambda x, w: Lop(T.concatenate([x, x[:, :2]], axis=1), x, w), M, v, wrt=[1])
    v = RNG.standard_normal((3, 1))
    check_grad(lambda x, w: Lop(T.split(x, [3, 1], 2, axis=1)[1], x, w), M, v, wrt=[1])


def test_hessian_through_join():
    x = T.dvector("x")
    y = T.concatenate([x, T.roll(x, 1)])
    # sum(y^2) = 2 * sum(x^2): H = 4 I
    h = hessian(T.sum(T.sqr(y)), x)
    np.testing.assert_allclose(h.eval({x: np.ones(3)}), 4 * np.eye(3))
