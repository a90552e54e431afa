"""Gradients through Print, ifelse, random draws and T.extra_ops."""
from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.gradtypes import (DisconnectedInputError, NullType,
                                          NullTypeGradError, connection_pattern,
                                          disconnected_type, is_disconnected, is_null)
from workbench.ifelse import ifelse
from workbench.printing import Print
from workbench.tensor.random import RandomStreams

from gradcheck import check_grad

RNG = np.random.default_rng(99)


# ---------------------------------------------------------------------------------------
# Print


class Recorder:
    """A Print ``global_fn`` that keeps what it was shown instead of printing it."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def __call__(self, op: Print, value) -> None:
        self.seen.append(np.array(value, copy=True))


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_print_passes_the_gradient_through(shape):
    recorder = Recorder()
    check_grad(lambda x: Print("x", global_fn=recorder)(x) ** 2, RNG.standard_normal(shape))


def test_print_gradient_value_and_printing():
    recorder = Recorder()
    x = T.dvector("x")
    shown = Print("x", global_fn=recorder)(x)
    f = workbench.function([x], [T.sum(shown * 3.0), T.grad(T.sum(shown ** 2), x)])
    cost, g = f([1.0, -2.0])
    assert float(cost) == -3.0
    assert g.tolist() == [2.0, -4.0]
    assert recorder.seen and recorder.seen[0].tolist() == [1.0, -2.0]


def test_print_second_derivative():
    recorder = Recorder()
    check_grad(lambda x: T.grad(T.sum(Print("x", global_fn=recorder)(x) ** 3), x),
               np.array([0.5, -1.5, 2.0]))


# ---------------------------------------------------------------------------------------
# ifelse


@pytest.mark.parametrize("condition", [1.0, -1.0])
@pytest.mark.parametrize("shape", [(), (3,), (2, 2)])
def test_ifelse_grad_goes_to_the_taken_branch(condition, shape):
    a, b = RNG.standard_normal(shape), RNG.standard_normal(shape)
    check_grad(lambda c, a, b: ifelse(T.gt(c, 0), a * 2.0, b ** 2), np.float64(condition),
               a, b, wrt=[1, 2])


@pytest.mark.parametrize("condition,want_a,want_b", [(1, [2.0, 2.0], [0.0, 0.0]),
                                                     (0, [0.0, 0.0], [4.0, -2.0])])
def test_ifelse_grad_values(condition, want_a, want_b):
    c = T.iscalar("c")
    a, b = T.dvectors("a", "b")
    cost = T.sum(ifelse(c, a * 2.0, b ** 2))
    ga, gb = T.grad(cost, [a, b])
    f = workbench.function([c, a, b], [ga, gb])
    got_a, got_b = f(condition, [1.0, 3.0], [2.0, -1.0])
    assert got_a.tolist() == want_a and got_b.tolist() == want_b


def test_ifelse_branches_of_different_shapes():
    c = T.iscalar("c")
    a, b = T.dvector("a"), T.dvector("b")
    ga, gb = T.grad(T.sum(ifelse(c, a, b) * 3.0), [a, b])
    f = workbench.function([c, a, b], [ga, gb])
    got_a, got_b = f(0, [1.0, 2.0, 3.0], [4.0])
    assert got_a.tolist() == [0.0, 0.0, 0.0] and got_b.tolist() == [3.0]


def test_ifelse_several_outputs():
    c = T.iscalar("c")
    a, b, d, e = T.dvectors("a", "b", "d", "e")
    out1, out2 = ifelse(c, [a, b * 2.0], [d * 3.0, e])
    grads = T.grad(T.sum(out1) + T.sum(out2 * out2), [a, b, d, e])
    f = workbench.function([c, a, b, d, e], grads)
    vals = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]
    taken = f(1, *vals)
    assert [g.tolist() for g in taken] == [[1.0, 1.0], [24.0, 32.0], [0.0, 0.0], [0.0, 0.0]]
    other = f(0, *vals)
    assert [g.tolist() for g in other] == [[0.0, 0.0], [0.0, 0.0], [3.0, 3.0], [14.0, 16.0]]


def test_ifelse_output_without_gradient():
    # only the first output reaches the cost: the second output's branches get zeros
    c = T.iscalar("c")
    a, b, d, e = T.dvectors("a", "b", "d", "e")
    out1, _ = ifelse(c, [a, b], [d, e])
    gb = T.grad(T.sum(out1), b, disconnected_inputs="ignore")
    assert gb.eval({b: [1.0, 2.0]}).tolist() == [0.0, 0.0]
    with pytest.raises(DisconnectedInputError):
        T.grad(T.sum(out1), b)


def test_ifelse_condition_is_disconnected():
    c, a, b = T.dscalars("c", "a", "b")
    out = ifelse(c, a, b)
    with pytest.raises(DisconnectedInputError):
        T.grad(out, c)
    with pytest.raises(DisconnectedInputError):
        T.grad(ifelse(T.gt(c, 0), a, b), c)
    g = T.grad(out, c, disconnected_inputs="ignore")
    assert float(g.eval({c: 1.0})) == 0.0


def test_ifelse_integer_branch_alongside_a_float_one():
    c = T.iscalar("c")
    a, b = T.dvectors("a", "b")
    i, j = T.lvectors("i", "j")
    out_f, out_i = ifelse(c, [a, i], [b, j])
    ga = T.grad(T.sum(out_f * T.cast(out_i, "float64")), a)
    f = workbench.function([c, a, b, i, j], ga)
    assert f(1, [1.0, 1.0], [1.0, 1.0], [3, 4], [5, 6]).tolist() == [3.0, 4.0]
    assert f(0, [1.0, 1.0], [1.0, 1.0], [3, 4], [5, 6]).tolist() == [0.0, 0.0]


def test_ifelse_gradient_ignores_the_branch_not_taken():
    # the gradient graph is an ifelse too: the NaN of log(-1) in the branch not taken does
    # not leak into the gradient of the branch taken
    c = T.iscalar("c")
    a = T.dscalar("a")
    out = ifelse(c, a * 3.0, T.log(a))
    g = workbench.function([c, a], T.grad(out, a))
    assert float(g(1, -1.0)) == 3.0
    assert float(g(0, 2.0)) == 0.5


@pytest.mark.parametrize("condition", [1.0, -1.0])
def test_ifelse_second_derivative(condition):
    a, b = np.array([0.5, 1.5]), np.array([-0.7, 2.0])
    check_grad(lambda c, a, b: T.grad(T.sum(ifelse(T.gt(c, 0), a ** 3, T.sin(b))), [a, b])[
        0 if condition > 0 else 1], np.float64(condition), a, b, wrt=[1, 2])


# ---------------------------------------------------------------------------------------
# Random draws


def test_grad_of_a_sample_wrt_its_parameters_is_undefined():
    srng = RandomStreams(seed=3)
    mu, sigma = T.dscalars("mu", "sigma")
    sample = srng.normal((4,), avg=mu, std=sigma)
    with pytest.raises(NullTypeGradError, match=r"RandomFunction\{normal\}.*undefined"):
        T.grad(T.sum(sample), mu)
    low = T.dscalar("low")
    with pytest.raises(NullTypeGradError, match=r"RandomFunction\{uniform\}"):
        T.grad(T.sum(srng.uniform((2,), low=low, high=5.0)), low)
    g = T.grad(T.sum(sample), sigma, null_gradients="return")
    assert isinstance(g.type, NullType)


def test_random_state_is_disconnected():
    srng = RandomStreams(seed=3)
    sample = srng.uniform((3,))
    pattern = connection_pattern(sample.owner)
    assert pattern[0] == [True, False]  # the state only feeds the next state
    assert pattern[1] == [False, False]  # the size
    assert pattern[2:] == [[False, True], [False, True]]
    node = sample.owner
    grads = node.op.L_op(node.inputs, node.outputs,
                         [disconnected_type(), T.ones_like(sample)])
    assert is_disconnected(grads[0]) and is_disconnected(grads[1])
    assert is_null(grads[2]) and is_null(grads[3])


def test_noise_does_not_block_the_gradient_of_other_inputs():
    # dropout: the mask is a sample, the weights get their gradient through the product
    srng = RandomStreams(seed=11)
    x, w = T.dvectors("x", "w")
    keep = T.dscalar("keep")
    mask = srng.binomial((5,), p=keep)
    cost = T.sum(T.cast(mask, "float64") * x * w)
    gw = T.grad(cost, w)
    f = workbench.function([x, w, keep], [mask, gw], no_default_updates=True)
    xv = np.arange(1.0, 6.0)
    drawn, got = f(xv, np.ones(5), 0.5)
    np.testing.assert_array_equal(got, drawn * xv)
    # an integer sample carries no gradient back to its parameters: disconnected
    with pytest.raises(DisconnectedInputError):
        T.grad(cost, keep)


def test_reparameterized_sample_is_differentiable():
    srng = RandomStreams(seed=5)
    mu, sigma = T.dscalars("mu", "sigma")
    eps = srng.normal((6,))
    sample = mu + sigma * eps
    gmu, gsigma = T.grad(T.sum(sample), [mu, sigma])
    f = workbench.function([mu, sigma], [eps, gmu, gsigma], no_default_updates=True,
                           on_unused_input="ignore")
    drawn, got_mu, got_sigma = f(1.0, 2.0)
    assert float(got_mu) == 6.0
    assert float(got_sigma) == pytest.approx(drawn.sum(), rel=1e-12)


# ---------------------------------------------------------------------------------------
# T.extra_ops


@pytest.mark.parametrize("build", [
    lambda x: T.extra_ops.cumsum(x, axis=0),
    lambda x: T.extra_ops.cumprod(x, axis=1),
    lambda x: T.extra_ops.diff(x, axis=1),
    lambda x: T.extra_ops.repeat(x, 2, axis=0),
    lambda x: T.extra_ops.squeeze(x[:1]),
])
def test_extra_ops_grad(build):
    check_grad(build, RNG.uniform(0.5, 1.5, size=(3, 4)))


def test_to_one_hot_labels_are_disconnected():
    y = T.lvector("y")
    with pytest.raises(DisconnectedInputError):
        T.grad(T.sum(T.extra_ops.to_one_hot(y, 3)), y)
