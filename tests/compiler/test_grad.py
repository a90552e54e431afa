"""grad, Lop, Rop, jacobian, hessian, verify_grad and the sweep record: the driver itself
(each op's own gradient is tested in the test_grad_<family> files)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.graph import Apply, Op
from workbench.gradient import (DisconnectedInputError, GradientError, Lop, NullTypeGradError,
                                Rop, consider_constant, disconnected_grad, grad, grad_clip,
                                grad_scale, grad_undefined, hessian, hessian_vector_product,
                                jacobian, verify_grad, zero_grad)


def _eval(var, **values):
    inputs = [v for v in workbench.compiler.graph.graph_inputs([var])
              if v.name in values and not isinstance(v, workbench.Constant)]
    return workbench.function(inputs, var, on_unused_input="ignore")(
        *[values[v.name] for v in inputs])


# -- the Theano tutorial's examples ------------------------------------------------------

def test_tutorial_derivative_of_square():
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    f = workbench.function([x], gy)
    assert float(f(4)) == 8.0
    assert float(f(94.2)) == pytest.approx(188.4)


def test_tutorial_logistic_gradient():
    x = T.dmatrix("x")
    s = T.sum(1 / (1 + T.exp(-x)))
    gs = T.grad(s, x)
    dlogistic = workbench.function([x], gs)
    got = dlogistic([[0, 1], [-1, -2]])
    np.testing.assert_allclose(got, [[0.25, 0.19661193], [0.19661193, 0.10499359]],
                               rtol=1e-7)


def test_tutorial_rop_and_lop():
    W, V = T.dmatrix("W"), T.dmatrix("V")
    x, v = T.dvector("x"), T.dvector("v")
    y = T.dot(x, W)
    JV = T.Rop(y, W, V)
    # J·V = dot(x, V) does not read W: the tutorial's signature needs W accepted unused
    f = workbench.function([W, V, x], JV, on_unused_input="ignore")
    np.testing.assert_array_equal(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2.0, 2.0])
    VJ = T.Lop(y, W, v)
    g = workbench.function([v, x], VJ)
    np.testing.assert_array_equal(g([2, 2], [0, 1]), [[0.0, 0.0], [2.0, 2.0]])


def test_tutorial_jacobian_and_hessian():
    x = T.dvector("x")
    J = workbench.gradient.jacobian(x ** 2, x)
    np.testing.assert_array_equal(workbench.function([x], J)([4, 4]), [[8, 0], [0, 8]])
    H = workbench.gradient.hessian(T.sum(x ** 2), x)
    np.testing.assert_array_equal(workbench.function([x], H)([4, 4]), [[2, 0], [0, 2]])


# -- options of grad ---------------------------------------------------------------------

def test_grad_of_a_list_and_names():
    x, w = T.dvector("x"), T.dvector("w")
    cost = T.sum(x * w)
    cost.name = "c"
    gx, gw = grad(cost, [x, w])
    assert gx.name == "(dc/dx)" and gw.name == "(dc/dw)"
    np.testing.assert_array_equal(_eval(gw, x=[1.0, 2.0], w=[0.0, 0.0]), [1.0, 2.0])


def test_cost_must_be_a_float_scalar():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="scalar"):
        grad(x * 2, x)
    i = T.iscalar("i")
    with pytest.raises(TypeError, match="float"):
        grad(i * 2, i)


def test_disconnected_inputs_raise_warn_ignore():
    x, y = T.dscalar("x"), T.dscalar("y")
    cost = x * 2
    with pytest.raises(DisconnectedInputError, match="y"):
        grad(cost, y)
    with pytest.warns(UserWarning, match="does not depend"):
        g = grad(cost, y, disconnected_inputs="warn")
    assert float(_eval(g, y=3.0)) == 0.0
    assert grad(cost, y, disconnected_inputs="ignore", return_disconnected="None") is None
    d = grad(cost, y, disconnected_inputs="ignore", return_disconnected="Disconnected")
    assert type(d.type).__name__ == "DisconnectedType"


def test_gradient_through_argmax_is_disconnected():
    x = T.dvector("x")
    with pytest.raises(DisconnectedInputError):
        grad(T.cast(T.argmax(x), "float64"), x)


def test_integer_wrt_gets_float_zeros():
    i = T.lscalar("i")
    x = T.dscalar("x")
    g = grad(x * i, i)
    assert g.dtype == workbench.config.floatX
    assert float(_eval(g, i=3, x=2.0)) == 0.0


def test_consider_constant_argument_and_op():
    x = T.dscalar("x")
    y = x ** 2
    assert float(_eval(grad(y * x, x, consider_constant=[y]), x=3.0)) == 9.0
    assert float(_eval(grad(consider_constant(y) * x, x), x=3.0)) == 9.0


def test_known_grads_without_cost():
    x = T.dvector("x")
    y = T.exp(x)
    g = grad(None, x, known_grads={y: T.ones_like(y) * 2})
    np.testing.assert_allclose(_eval(g, x=[0.0, 1.0]), 2 * np.exp([0.0, 1.0]))


def test_wrt_an_intermediate_and_its_input():
    x = T.dscalar("x")
    y = x * 3
    cost = y ** 2 + x
    gy, gx = grad(cost, [y, x])
    assert float(_eval(gy, x=1.0)) == 6.0
    assert float(_eval(gx, x=1.0)) == 19.0  # 2*y*3 + 1 through both paths


class _Undefined(Op):
    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0].copy()

    def L_op(self, inputs, outputs, output_grads):
        return [grad_undefined(self, 0, inputs[0], "it jumps")]


class _NoGrad(Op):
    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0].copy()


def test_undefined_and_missing_gradients_name_the_op():
    x = T.dscalar("x")
    with pytest.raises(NullTypeGradError, match="_Undefined.*undefined: it jumps"):
        grad(_Undefined()(x) * 2, x)
    with pytest.raises(NullTypeGradError, match="_NoGrad.*not implemented"):
        grad(_NoGrad()(x), x)
    null = grad(_NoGrad()(x), x, null_gradients="return")
    assert type(null.type).__name__ == "NullType"


def test_bad_options_are_named():
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="disconnected_inputs"):
        grad(x * 2, x, disconnected_inputs="maybe")
    with pytest.raises(ValueError, match="null_gradients"):
        grad(x * 2, x, null_gradients="nope")


# -- higher order, gradient-flow helpers --------------------------------------------------

def test_gradient_of_gradient():
    x = T.dscalar("x")
    g = grad(T.sin(x) * x, x)
    gg = grad(g, x)
    # d2/dx2 (x sin x) = 2 cos x - x sin x
    assert float(_eval(gg, x=0.7)) == pytest.approx(2 * np.cos(0.7) - 0.7 * np.sin(0.7))


def test_gradient_flow_helpers():
    x = T.dscalar("x")
    assert float(_eval(grad(zero_grad(x ** 2) + x, x), x=5.0)) == 1.0
    assert float(_eval(grad(grad_scale(x ** 2, 0.5), x), x=3.0)) == 3.0
    # the gradient reaching the clip point (2x = 6) is clipped, then flows on
    assert float(_eval(grad(grad_clip(x, -1, 1) ** 2, x), x=3.0)) == 1.0
    assert float(_eval(grad(grad_clip(x, -1, 1) ** 2, x), x=0.25)) == 0.5
    with pytest.raises(DisconnectedInputError):
        grad(disconnected_grad(x ** 2), x)
    g = grad(disconnected_grad(x ** 2) + x, x)
    assert float(_eval(g, x=3.0)) == 1.0
    # forward values are untouched
    assert float(_eval(grad_clip(x ** 2, -1, 1), x=3.0)) == 9.0


def test_hessian_vector_product_matches_hessian():
    x, p = T.dvector("x"), T.dvector("p")
    cost = T.sum(T.exp(x) * x[::-1])
    H = hessian(cost, x)
    hv = hessian_vector_product(cost, x, p)
    xv, pv = np.array([0.3, -0.2, 0.5]), np.array([1.0, 2.0, -1.0])
    fh = workbench.function([x], H)
    fhv = workbench.function([x, p], hv)
    np.testing.assert_allclose(fhv(xv, pv), fh(xv) @ pv, rtol=1e-10)


def test_jacobian_of_a_list_and_of_empty():
    x, w = T.dvector("x"), T.dmatrix("w")
    y = T.dot(w, x)
    jx, jw = jacobian(y, [x, w])
    f = workbench.function([x, w], [jx, jw])
    xv, wv = np.array([1.0, 2.0]), np.arange(6.0).reshape(3, 2)
    got_x, got_w = f(xv, wv)
    np.testing.assert_array_equal(got_x, wv)
    assert got_w.shape == (3, 3, 2)
    np.testing.assert_array_equal(got_w[1, 1], xv)
    np.testing.assert_array_equal(got_w[1, 0], [0.0, 0.0])
    empty = workbench.function([x, w], jx)(np.zeros(2), np.zeros((0, 2)))
    assert empty.shape == (0, 2)


def test_jacobian_needs_a_vector():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="1-d"):
        jacobian(x * 2, x)


def test_rop_falls_back_to_double_lop():
    # Softmax has no R_op of its own here necessarily; the identity must hold anyway
    x, u, v = T.dvector("x"), T.dvector("u"), T.dvector("v")
    y = T.tanh(x) * T.sum(x ** 2)
    jv = Rop(y, x, u)
    jtv = Lop(y, x, v)
    f = workbench.function([x, u, v], [jv, jtv])
    rng = np.random.default_rng(0)
    xv, uv, vv = rng.standard_normal((3, 4))
    a, b = f(xv, uv, vv)
    assert float(vv @ a) == pytest.approx(float(b @ uv), rel=1e-10)


# -- verify_grad ---------------------------------------------------------------------------

def test_verify_grad_passes_and_catches_a_wrong_gradient():
    verify_grad(lambda a, b: T.exp(a) * b, [np.array([0.1, 0.2]), np.array([1.0, -2.0])],
                rng=np.random.default_rng(0))

    class WrongExp(Op):
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, out):
            out[0][0] = np.exp(inputs[0])

        def L_op(self, inputs, outputs, output_grads):
            return [output_grads[0] * outputs[0] * 1.1]  # 10% off

    with pytest.raises(GradientError) as info:
        verify_grad(lambda a: WrongExp()(a), [np.array([0.5, 1.0, 1.5])],
                    rng=np.random.default_rng(0))
    err = info.value
    assert err.arg == 0
    message = str(err)
    assert "input 0" in message and "analytic" in message and "numeric" in message
    assert "worst absolute error" in message and "worst relative error" in message
    assert err.rel_err > 0.01


def test_verify_grad_rejects_integer_points():
    with pytest.raises(TypeError, match="floating-point"):
        verify_grad(lambda a: a * 2, [np.array([1, 2])])


# -- the sweep record -------------------------------------------------------------------

def test_record_of_sigmoid_dot_follows_the_chain_rule():
    x, w = T.dvector("x"), T.dvector("w")
    d = T.dot(x, w)
    s = T.nnet.sigmoid(d)
    cost = T.sum(s)
    gx = grad(cost, x)
    record = gx.tag.grad_record
    ops = [type(step.node.op).__name__ for step in record.steps]
    # backwards from the cost: sum, sigmoid, dot
    assert ops[0] == "Sum" and ops[-1] == "Dot"
    assert any("sigmoid" in str(step.node.op) for step in record.steps)
    # every step sends something to its input on the path to x
    for step in record.steps:
        assert any(c is not None for c in step.contributions)
    data = record.to_dict()
    json.dumps(data)  # JSON-serialisable
    graph_ids = {n["id"] for n in data["graph"]["nodes"]}
    for step in data["steps"]:
        assert step["node"] in graph_ids
        for c in step["contributions"]:
            if c is not None:
                assert c["to"]["node"] in graph_ids
    text = record.explain()
    assert "step 1" in text and "sigmoid" in text
    # the replayed values match a hand derivation: d/dx sum(sigmoid(x.w)) = s(1-s) w
    xv, wv = np.array([0.5, -1.0]), np.array([2.0, 0.25])
    sv = 1 / (1 + np.exp(-(xv @ wv)))
    np.testing.assert_allclose(_eval(gx, x=xv, w=wv), sv * (1 - sv) * wv, rtol=1e-12)


def test_record_sums_terms_of_a_variable_used_twice():
    x = T.dscalar("x")
    y = T.exp(x)
    cost = y * y
    g = grad(cost, x)
    record = g.tag.grad_record
    exp_step = [s for s in record.steps if "exp" in str(s.node.op)][0]
    assert len(exp_step.terms[0]) == 2  # one term from each use of y
    assert float(_eval(g, x=0.5)) == pytest.approx(2 * np.exp(1.0))


# -- training: the Theano tutorial's logistic regression ---------------------------------------

def test_logistic_regression_trains():
    rng = np.random.default_rng(42)
    n, feats = 400, 20
    w_true = rng.standard_normal(feats)
    data_x = rng.standard_normal((n, feats))
    data_y = (data_x @ w_true > 0).astype("float64")  # separable
    x, y = T.dmatrix("x"), T.dvector("y")
    w = workbench.shared(rng.standard_normal(feats) * 0.01, name="w")
    b = workbench.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = workbench.function([x, y], [prediction, xent.mean()],
                               updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    predict = workbench.function([x], prediction)
    costs = [float(train(data_x, data_y)[1]) for _ in range(300)]
    assert costs[-1] < costs[0] / 3
    assert all(b_ <= a_ + 1e-12 for a_, b_ in zip(costs, costs[1:]))
    accuracy = float(np.mean(predict(data_x) == data_y))
    assert accuracy > 0.95


def test_integer_input_through_an_integer_intermediate_gets_zeros():
    i = T.lvector("i")
    w = T.dscalar("w")
    g = grad(T.sum(i) * w, i)  # Theano: zeros, not "disconnected"
    np.testing.assert_array_equal(_eval(g, i=[1, 2], w=2.0), [0.0, 0.0])
