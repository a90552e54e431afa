"""Gradients of the sorting, cumulative and counting ops (Sort, ArgSort, TopK, CumOp, DiffOp,
BinCount): finite differences and the Rop/Lop identity per axis, exact values where the
gradient is a permutation or has zeros to handle, disconnected integer outputs, second
derivatives."""
from __future__ import annotations

import numpy as np
import pytest

from gradcheck import check_grad
from workbench import tensor as T
from workbench.compiler.ops.counting import BinCount
from workbench.compiler.ops.cumulative import CumOp, DiffOp
from workbench.compiler.ops.sort import ArgSort, TopK
from workbench.gradient import DisconnectedInputError, Rop, grad


def _distinct(*shape, seed=0):
    """Distinct values (no ties, so sorting is differentiable), of both signs."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 3) + rng.uniform(0.2, 0.8, n)).reshape(shape) / 2


def _positive(*shape, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape)


# ---------------------------------------------------------------------------------------
# sort, argsort, topk


@pytest.mark.parametrize("shape,axis", [((5,), 0), ((5,), -1), ((3, 4), 0), ((3, 4), 1),
                                        ((3, 4), -1), ((3, 4), None), ((2, 3, 2), 1),
                                        ((2, 3, 2), None), ((1, 4), 0), ((4, 1), 1),
                                        ((0, 3), 1)])
def test_sort_grad(shape, axis):
    check_grad(lambda x: T.sort(x, axis=axis), _distinct(*shape))


def test_sort_grad_is_the_inverse_permutation():
    x = T.dvector("x")
    weights = np.array([1.0, 10.0, 100.0, 1000.0])
    g = grad(T.sum(T.sort(x) * weights), x)
    # x sorted is [x[2], x[0], x[3], x[1]]: x[2] gets weight 1, x[0] 10, ...
    np.testing.assert_array_equal(g.eval({x: [2.0, 9.0, -1.0, 5.0]}), [10.0, 1000.0, 1.0, 100.0])


@pytest.mark.parametrize("kind", ["quicksort", "mergesort", "stable"])
def test_sort_kinds_grad(kind):
    check_grad(lambda x: T.sort(x, axis=0, kind=kind), _distinct(4, 2))


def test_argsort_is_disconnected():
    x = T.dvector("x")
    node = T.argsort(x).owner
    assert isinstance(node.op, ArgSort) and node.op.connection_pattern(node) == [[False]]
    with pytest.raises(DisconnectedInputError):
        grad(T.cast(T.argsort(x), "float64").sum(), x)


@pytest.mark.parametrize("shape,axis,kth", [((5,), 0, 2), ((5,), 0, -2), ((5,), -1, 5),
                                            ((3, 4), 1, 2), ((3, 4), 0, -1), ((3, 4), 0, 3),
                                            ((2, 3, 4), 1, 2), ((2, 3, 4), -1, -3)])
def test_topk_grad(shape, axis, kth):
    check_grad(lambda x: T.topk(x, kth, axis=axis), _distinct(*shape))


def test_topk_grad_values_and_indices_disconnected():
    x = T.dvector("x")
    values, indices = T.topk_and_argtopk(x, 2)
    g = grad(T.sum(values * [3.0, 5.0]) + T.cast(indices, "float64").sum(), x)
    np.testing.assert_array_equal(g.eval({x: [1.0, 7.0, 2.0, 9.0]}), [0.0, 5.0, 0.0, 3.0])
    node = values.owner
    assert isinstance(node.op, TopK) and node.op.connection_pattern(node) == [[True, False]]
    with pytest.raises(DisconnectedInputError):
        grad(T.cast(T.argtopk(x, 2), "float64").sum(), x)


def test_sort_second_derivative():
    # sum(sort(x)**2) == sum(x**2): Hessian 2 I
    x = T.dvector("x")
    h = T.hessian(T.sum(T.sort(x) ** 2), x)
    np.testing.assert_allclose(h.eval({x: [3.0, -1.0, 2.0]}), 2 * np.eye(3))
    check_grad(lambda v: grad(T.sum(T.topk(v, 2) ** 3), v), _distinct(5))


# ---------------------------------------------------------------------------------------
# cumsum, cumprod, diff


@pytest.mark.parametrize("fn", [T.cumsum, T.cumprod])
@pytest.mark.parametrize("shape,axis", [((5,), 0), ((5,), None), ((3, 4), 0), ((3, 4), -1),
                                        ((3, 4), None), ((2, 3, 2), 1), ((1, 4), 0),
                                        ((0, 3), 0), ((), None)])
def test_cumulative_grad(fn, shape, axis):
    check_grad(lambda x: fn(x, axis=axis), _positive(*shape))


def test_cumsum_grad_values():
    x = T.dvector("x")
    g = grad(T.sum(T.cumsum(x) * [1.0, 10.0, 100.0]), x)
    np.testing.assert_array_equal(g.eval({x: [5.0, 6.0, 7.0]}), [111.0, 110.0, 100.0])


@pytest.mark.parametrize("value", [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 4.0],
                                   [2.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.5]])
def test_cumprod_grad_with_zeros_is_exact(value):
    x = T.dvector("x")
    weights = np.array([1.0, 10.0, 100.0, 1000.0])
    g = grad(T.sum(T.cumprod(x) * weights), x).eval({x: value})
    # d/dx_k sum_i w_i prod_{j<=i} x_j = sum_{i>=k} w_i prod_{j<=i, j!=k} x_j
    v = np.array(value)
    want = [sum(weights[i] * np.prod(np.delete(v[:i + 1], k)) for i in range(k, 4))
            for k in range(4)]
    np.testing.assert_allclose(g, want)
    check_grad(lambda t: T.cumprod(t), v)


def test_cumprod_grad_with_zeros_along_an_axis():
    value = np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [0.5, 2.0, 0.0]])
    for axis in (0, 1, None):
        check_grad(lambda t: T.cumprod(t, axis=axis), value)


def test_cumsum_rop_is_the_cumsum_of_the_tangent():
    x, v = T.dmatrix("x"), T.dmatrix("v")
    jv = Rop(T.cumsum(x, axis=1), x, v)
    assert isinstance(jv.owner.op, CumOp)
    vals = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(jv.eval({x: np.ones((2, 3)), v: vals}), np.cumsum(vals, 1))


@pytest.mark.parametrize("n", [0, 1, 2, 5])
@pytest.mark.parametrize("shape,axis", [((4,), 0), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1),
                                        ((1, 4), 0)])
def test_diff_grad(n, shape, axis):
    check_grad(lambda x: T.diff(x, n=n, axis=axis), _distinct(*shape))


def test_diff_grad_values():
    x = T.dvector("x")
    g = grad(T.sum(T.diff(x) * [1.0, 10.0]), x)
    np.testing.assert_array_equal(g.eval({x: [0.0, 0.0, 0.0]}), [-1.0, -9.0, 10.0])
    g2 = grad(T.sum(T.diff(x, n=2) * [1.0]), x)
    np.testing.assert_array_equal(g2.eval({x: [0.0, 0.0, 0.0]}), [1.0, -2.0, 1.0])


def test_diff_rop():
    x, v = T.dvector("x"), T.dvector("v")
    jv = Rop(DiffOp(2, 0)(x), x, v)
    assert isinstance(jv.owner.op, DiffOp)
    np.testing.assert_allclose(jv.eval({x: np.zeros(4), v: [1.0, 4.0, 9.0, 16.0]}), [2.0, 2.0])


def test_cumulative_second_derivatives():
    x = T.dvector("x")
    value = np.array([1.5, 0.5, 2.0])
    h = T.hessian(T.sum(T.cumprod(x)), x).eval({x: value})
    # sum_i prod_{j<=i} x_j = a + ab + abc
    a, b, c = value
    np.testing.assert_allclose(h, [[0, 1 + c, b], [1 + c, 0, a], [b, a, 0]])
    check_grad(lambda t: grad(T.sum(T.cumsum(t) ** 2) + T.sum(T.diff(t) ** 2), t), _distinct(4))


# ---------------------------------------------------------------------------------------
# bincount


def test_bincount_grad_gathers_for_the_weights():
    x = np.array([0, 2, 2, 4, 1], dtype="int64")
    w = _positive(5)
    check_grad(lambda xs, ws: T.extra_ops.bincount(xs, ws, minlength=6), x, w)
    xs, ws = T.lvector("x"), T.dvector("w")
    g = grad(T.sum(T.extra_ops.bincount(xs, ws) * [1.0, 2.0, 3.0]), ws)
    np.testing.assert_array_equal(g.eval({xs: [2, 0, 2, 1], ws: np.ones(4)}), [3.0, 1.0, 3.0, 2.0])


def test_bincount_is_disconnected_from_x():
    xs, ws = T.lvector("x"), T.dvector("w")
    node = T.extra_ops.bincount(xs, ws).owner
    assert isinstance(node.op, BinCount)
    assert node.op.connection_pattern(node) == [[False], [True]]
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.cast(T.extra_ops.bincount(xs), "float64")), xs)


def test_bincount_rop():
    xs, ws, v = T.lvector("x"), T.dvector("w"), T.dvector("v")
    jv = Rop(T.extra_ops.bincount(xs, ws), ws, v)
    np.testing.assert_allclose(jv.eval({xs: [1, 1, 3], ws: np.ones(3), v: [1.0, 2.0, 3.0]}),
                               [0.0, 3.0, 0.0, 3.0])
