"""Gradients of the neural-network ops (``T.nnet``): softmaxes, cross-entropies, the fused
softmax/cross-entropy op, activations, and a small MLP trained by SGD."""
from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.gradtypes import DisconnectedInputError
from workbench.compiler.ops.nnet import _ultra_fast_sigmoid

from gradcheck import check_grad

RNG = np.random.default_rng(20240611)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def probabilities(*shape: int) -> np.ndarray:
    """Positive entries away from 0 (the rows need not sum to 1 for the gradient)."""
    return RNG.uniform(0.2, 1.0, size=shape)


def np_softmax(x: np.ndarray, axis=-1) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# ---------------------------------------------------------------------------------------
# Softmax and log-softmax

SOFTMAX_CASES = [
    ((5,), -1),
    ((5,), 0),
    ((3, 4), -1),
    ((3, 4), 0),
    ((3, 4), None),
    ((3, 4), (0, 1)),
    ((2, 3, 4), 1),
    ((2, 3, 4), (0, 2)),
    ((1, 4), -1),
    ((0, 3), -1),
    ((3, 0), 0),
]


@pytest.mark.parametrize("shape,axis", SOFTMAX_CASES)
def test_softmax_grad(shape, axis):
    check_grad(lambda x: T.nnet.softmax(x, axis=axis), randn(*shape))


@pytest.mark.parametrize("shape,axis", SOFTMAX_CASES)
def test_logsoftmax_grad(shape, axis):
    check_grad(lambda x: T.nnet.logsoftmax(x, axis=axis), randn(*shape))


def test_softmax_grad_value_is_the_standard_formula():
    x, g = T.dmatrix("x"), T.dmatrix("g")
    s = T.nnet.softmax(x)
    gx = T.grad(T.sum(s * g), x)
    xv, gv = randn(3, 4), randn(3, 4)
    sv = np_softmax(xv)
    want = (gv - np.sum(gv * sv, axis=-1, keepdims=True)) * sv
    np.testing.assert_allclose(workbench.function([x, g], gx)(xv, gv), want, rtol=1e-12,
                               atol=1e-15)


def test_logsoftmax_grad_value_is_g_minus_sum_g_softmax():
    x, g = T.dmatrix("x"), T.dmatrix("g")
    gx = T.grad(T.sum(T.nnet.logsoftmax(x) * g), x)
    xv, gv = randn(3, 4), randn(3, 4)
    want = gv - np.sum(gv, axis=-1, keepdims=True) * np_softmax(xv)
    np.testing.assert_allclose(workbench.function([x, g], gx)(xv, gv), want, rtol=1e-12,
                               atol=1e-15)


def test_logsoftmax_grad_is_finite_for_large_logits():
    x = T.dmatrix("x")
    y = np.array([1, 0])
    cost = -T.sum(T.nnet.logsoftmax(x) * T.extra_ops.to_one_hot(y, 3))
    xv = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]])
    got = workbench.function([x], T.grad(cost, x))(xv)
    want = np_softmax(xv) - np.eye(3)[y]
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)


@pytest.mark.parametrize("op", [T.nnet.softmax, T.nnet.logsoftmax])
def test_softmax_second_derivative(op):
    w = randn(3, 4)
    check_grad(lambda x: T.grad(T.sum(op(x) * w), x), randn(3, 4))


def test_softmax_hessian_matches_formula():
    # the Hessian of sum(w * softmax(x)) for a vector x: d/dx of s * (w - s.w)
    x = T.dvector("x")
    w = randn(4)
    hess = workbench.function([x], T.hessian(T.sum(T.nnet.softmax(x) * w), x))
    xv = randn(4)
    s = np_softmax(xv)
    jac = np.diag(s) - np.outer(s, s)
    # H_ij = d/dx_j [s_i (w_i - s.w)] = J_ij (w_i - s.w) - s_i (w . J[:, j])
    want = jac * (w - s @ w)[:, None] - np.outer(s, w @ jac)
    np.testing.assert_allclose(hess(xv), want, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("shape", [(3, 4), (2, 5)])
def test_softmax_with_bias_grad(shape):
    check_grad(T.nnet.softmax_with_bias, randn(*shape), randn(shape[-1]))


# ---------------------------------------------------------------------------------------
# Cross-entropies


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4), (1, 1), (0, 3)])
def test_categorical_crossentropy_integer_labels_grad(shape):
    labels = RNG.integers(0, shape[-1], size=shape[:-1])
    check_grad(T.nnet.categorical_crossentropy, probabilities(*shape), labels)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
def test_categorical_crossentropy_one_hot_grad(shape):
    one_hot = np.eye(shape[-1])[RNG.integers(0, shape[-1], size=shape[:-1])]
    # with respect to both: the coding distribution and the (float) target distribution
    check_grad(T.nnet.categorical_crossentropy, probabilities(*shape), one_hot)


def test_crossentropy_categorical_1hot_grad_is_minus_one_over_p_at_the_label():
    p, y = T.dmatrix("p"), T.lvector("y")
    cost = T.sum(T.nnet.crossentropy_categorical_1hot(p, y) * [1.0, 2.0])
    pv = np.array([[0.2, 0.8, 0.0], [0.5, 0.25, 0.25]])
    got = workbench.function([p, y], T.grad(cost, p))(pv, [1, 2])
    # zeros off the label, even where p is 0 there (no 0 * inf)
    np.testing.assert_array_equal(got, [[0.0, -1.25, 0.0], [0.0, 0.0, -8.0]])


def test_categorical_crossentropy_labels_are_disconnected():
    p, y = T.dmatrix("p"), T.lvector("y")
    cost = T.sum(T.nnet.categorical_crossentropy(p, y))
    with pytest.raises(DisconnectedInputError):
        T.grad(cost, y)
    g = T.grad(cost, y, disconnected_inputs="ignore")
    assert g.eval({y: [0, 1]}).tolist() == [0.0, 0.0]


def test_categorical_crossentropy_second_derivative():
    labels = np.array([2, 0, 1])
    check_grad(lambda p: T.grad(T.sum(T.nnet.categorical_crossentropy(p, labels)), p),
               probabilities(3, 3))


@pytest.mark.parametrize("shape", [(5,), (2, 3)])
def test_binary_crossentropy_grad(shape):
    target = RNG.uniform(0.0, 1.0, size=shape)
    check_grad(T.nnet.binary_crossentropy, RNG.uniform(0.1, 0.9, size=shape), target)


@pytest.mark.parametrize("shape", [(5,), (2, 3)])
def test_sigmoid_binary_crossentropy_grad(shape):
    logits = RNG.choice([-1.0, 1.0], size=shape) * RNG.uniform(0.2, 3.0, size=shape)
    check_grad(T.nnet.sigmoid_binary_crossentropy, logits, RNG.uniform(0, 1, size=shape))


# ---------------------------------------------------------------------------------------
# The fused op: crossentropy_softmax_argmax_1hot_with_bias


def fused_case(rows: int = 3, classes: int = 4):
    return randn(rows, classes), randn(classes), RNG.integers(0, classes, size=rows)


def test_fused_nll_grad_x_and_b():
    x, b, y = fused_case()
    check_grad(lambda x, b, y: T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[0],
               x, b, y)


def test_fused_softmax_output_grad_x_and_b():
    x, b, y = fused_case()
    check_grad(lambda x, b, y: T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[1],
               x, b, y)


def test_fused_both_outputs_grad():
    x, b, y = fused_case()
    w = randn(3, 4)

    def build(x, b, y):
        nll, sm, _ = T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
        return nll * 2.0 + T.sum(sm * w, axis=1)

    check_grad(build, x, b, y)


def test_fused_without_bias_grad():
    x, _, y = fused_case(2, 5)
    check_grad(lambda x, y: T.nnet.crossentropy_softmax_1hot(x, y)[0], x, y)
    check_grad(lambda x, y: T.nnet.crossentropy_softmax_1hot(x, y)[1], x, y)


def test_fused_empty_rows_grad():
    check_grad(lambda x, b, y: T.nnet.crossentropy_softmax_1hot_with_bias(x, b, y)[0],
               np.zeros((0, 3)), randn(3), np.zeros(0, dtype=np.int64))


def test_fused_second_derivative():
    x, b, y = fused_case()
    check_grad(lambda x: T.grad(T.sum(
        T.nnet.crossentropy_softmax_1hot_with_bias(x, b, y)[0] * [1.0, 2.0, 3.0]), x), x)


def test_fused_grad_is_finite_at_logits_of_1000():
    x, b, y = T.dmatrix("x"), T.dvector("b"), T.lvector("y")
    nll, _, _ = T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    gx, gb = T.grad(T.sum(nll), [x, b])
    xv = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0], [0.0, 0.0, 0.0]])
    bv = np.zeros(3)
    yv = np.array([1, 1, 2])
    got_x, got_b = workbench.function([x, b, y], [gx, gb])(xv, bv, yv)
    want = np_softmax(xv + bv) - np.eye(3)[yv]
    assert np.isfinite(got_x).all() and np.isfinite(got_b).all()
    np.testing.assert_array_equal(got_x, want)
    np.testing.assert_allclose(got_b, want.sum(axis=0), rtol=0, atol=1e-15)
    assert got_x.tolist()[0] == [1.0, -1.0, 0.0]  # the softmax is exactly one-hot there


def test_fused_mean_cost_grad_is_softmax_minus_onehot_times_g():
    x, y = T.dmatrix("x"), T.lvector("y")
    nll, _ = T.nnet.crossentropy_softmax_1hot(x, y)
    gx = T.grad(T.mean(nll), x)
    xv = np.array([[1000.0, -1000.0], [3.0, 1.0]])
    got = workbench.function([x, y], gx)(xv, [1, 0])
    want = (np_softmax(xv) - np.eye(2)[[1, 0]]) / 2
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)
    assert got[0].tolist() == [0.5, -0.5]


def test_fused_argmax_and_labels_are_disconnected():
    x, b, y = T.dmatrix("x"), T.dvector("b"), T.lvector("y")
    nll, sm, am = T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    with pytest.raises(DisconnectedInputError):
        T.grad(T.sum(T.cast(am, "float64")), x)
    with pytest.raises(DisconnectedInputError):
        T.grad(T.sum(nll), y)
    # the argmax adds nothing to a cost that also uses the other outputs
    gx = T.grad(T.sum(nll) + T.sum(T.cast(am, "float64")), x)
    xv, bv, yv = fused_case()
    got = workbench.function([x, b, y], gx, on_unused_input="ignore")(xv, bv, yv)
    np.testing.assert_allclose(got, np_softmax(xv + bv) - np.eye(4)[yv], rtol=1e-12)


def test_fused_rop_matches_lop():
    # check_grad runs the Rop/Lop identity; here the tangent goes through b alone
    x, b, y = fused_case()
    check_grad(lambda b: T.nnet.crossentropy_softmax_1hot_with_bias(x, b, y)[0], b)


# ---------------------------------------------------------------------------------------
# Activations through T.nnet


def away_from(points: np.ndarray, kinks: list[float], margin: float = 0.05) -> np.ndarray:
    """``points`` moved off the kinks of a piecewise function."""
    for k in kinks:
        near = np.abs(points - k) < margin
        points = np.where(near, k + np.sign(points - k + 1e-12) * margin, points)
    return points


@pytest.mark.parametrize("fn,kinks", [
    (T.nnet.sigmoid, []),
    (T.nnet.softplus, []),
    (T.nnet.relu, [0.0]),
    (lambda x: T.nnet.relu(x, alpha=0.1), [0.0]),
    (T.nnet.softsign, [0.0]),
    (T.nnet.elu, [0.0]),
    (T.nnet.selu, [0.0]),
    (T.nnet.hard_sigmoid, [-2.5, 2.5]),
    (T.nnet.ultra_fast_sigmoid, [-6.0, -3.4, 3.4, 6.0]),
])
@pytest.mark.parametrize("shape", [(7,), (2, 3)])
def test_activation_grad(fn, kinks, shape):
    x = away_from(RNG.uniform(-7.0, 7.0, size=shape), kinks)
    check_grad(fn, x)


def test_ultra_fast_sigmoid_grad_is_the_slope_of_the_approximation():
    x = T.dvector("x")
    pts = np.array([-8.0, -5.0, -2.0, -0.5, 0.0, 0.5, 2.0, 5.0, 8.0])
    got = workbench.function([x], T.grad(T.sum(T.nnet.ultra_fast_sigmoid(x)), x))(pts)
    numeric = (_ultra_fast_sigmoid(pts + 1e-6) - _ultra_fast_sigmoid(pts - 1e-6)) / 2e-6
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-9)
    assert got[4] == 0.375 and got[0] == 0.0  # 0.25 * 1.5 at 0; flat tail


def test_ultra_fast_sigmoid_second_derivative():
    check_grad(lambda x: T.grad(T.sum(T.nnet.ultra_fast_sigmoid(x)), x),
               np.array([-2.5, -1.0, 0.4, 1.2, 2.9]))


# ---------------------------------------------------------------------------------------
# The seed MLP: sigmoid hidden layer, softmax output, mean categorical cross-entropy


N_IN, N_HIDDEN, N_OUT, N_SAMPLES = 20, 8, 3, 12


def mlp_cost_numpy(x: np.ndarray, y: np.ndarray, W1: np.ndarray, b1: np.ndarray,
                   W2: np.ndarray, b2: np.ndarray) -> float:
    """The reference: the same cost written in NumPy."""
    h = 1.0 / (1.0 + np.exp(-(x @ W1 + b1)))
    p = np_softmax(h @ W2 + b2)
    return float(np.mean(-np.log(p[np.arange(len(y)), y])))


def central_differences(f, params: list[np.ndarray], eps: float = 1e-6) -> list[np.ndarray]:
    grads = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            up = [q.copy() for q in params]
            down = [q.copy() for q in params]
            up[k][idx] += eps
            down[k][idx] -= eps
            g[idx] = (f(*up) - f(*down)) / (2 * eps)
        grads.append(g)
    return grads


def mlp_problem():
    rng = np.random.default_rng(7)
    data_x = rng.standard_normal((N_SAMPLES, N_IN))
    data_y = rng.integers(0, N_OUT, size=N_SAMPLES)
    init = [rng.standard_normal((N_IN, N_HIDDEN)) * 0.3, rng.standard_normal(N_HIDDEN) * 0.1,
            rng.standard_normal((N_HIDDEN, N_OUT)) * 0.3, rng.standard_normal(N_OUT) * 0.1]
    return data_x, data_y, init


def build_mlp(init):
    W1, b1, W2, b2 = (workbench.shared(v.copy(), name=n)
                      for v, n in zip(init, ["W1", "b1", "W2", "b2"]))
    x, y = T.dmatrix("x"), T.lvector("y")
    hidden = T.nnet.sigmoid(T.dot(x, W1) + b1)
    p_y = T.nnet.softmax(T.dot(hidden, W2) + b2)
    cost = T.mean(T.nnet.categorical_crossentropy(p_y, y))
    return x, y, [W1, b1, W2, b2], cost


def test_mlp_gradients_match_numpy_finite_differences():
    data_x, data_y, init = mlp_problem()
    x, y, params, cost = build_mlp(init)
    grads = T.grad(cost, params)
    got_cost, *got = workbench.function([x, y], [cost] + grads)(data_x, data_y)
    assert got_cost == pytest.approx(mlp_cost_numpy(data_x, data_y, *init), rel=1e-12)
    numeric = central_differences(lambda *ps: mlp_cost_numpy(data_x, data_y, *ps), init)
    for param, g, n in zip(params, got, numeric):
        assert g.shape == param.get_value().shape
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-8, err_msg=param.name)


def test_mlp_sgd_lowers_the_cost():
    data_x, data_y, init = mlp_problem()
    x, y, params, cost = build_mlp(init)
    grads = T.grad(cost, params)
    learning_rate = 0.5
    train = workbench.function([x, y], cost, updates=[
        (p, p - learning_rate * g) for p, g in zip(params, grads)])
    costs = [float(train(data_x, data_y)) for _ in range(20)]
    assert costs[0] == pytest.approx(mlp_cost_numpy(data_x, data_y, *init), rel=1e-12)
    # full-batch gradient descent with a small step: the cost goes down at every step
    assert all(b < a for a, b in zip(costs, costs[1:])), costs
    final = mlp_cost_numpy(data_x, data_y, *[p.get_value() for p in params])
    assert final < 0.8 * costs[0]
