"""The ``stabilize`` rewrites: each one fires (op counts, rule names in the trace), gives the
values of the unoptimized graph on moderate inputs, and stays finite where the original
overflows or underflows; plus the cases where a rewrite must not fire."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import scipy.special

import workbench
from workbench import tensor as T

RNG = np.random.default_rng(20240622)
UNOPTIMIZED = workbench.Mode(optimizer=None)


def compile_pair(inputs, outputs, mode=None):
    """The FAST_RUN function and the unoptimized reference for the same graph."""
    kwargs = {} if mode is None else {"mode": mode}
    return (workbench.function(inputs, outputs, **kwargs),
            workbench.function(inputs, outputs, mode=UNOPTIMIZED))


def op_counts(f) -> Counter:
    """The ops of the graph right after the stabilize pass (later passes fuse elementwise
    chains into composites)."""
    return Counter(str(node.op) for node, _ in f.trace["stabilize"].snapshot.order)


def assert_same(f, ref, *args, rtol=1e-7):
    got, want = f(*args), ref(*args)
    if not isinstance(got, list):
        got, want = [got], [want]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)


# ---------------------------------------------------------------------------------------
# softplus


@pytest.mark.parametrize("build", [lambda x: T.log(1 + T.exp(x)),
                                   lambda x: T.log(T.exp(x) + 1),
                                   lambda x: T.log1p(T.exp(x))],
                         ids=["1+exp", "exp+1", "log1p"])
def test_log1pexp_to_softplus(build):
    x = T.dvector('x')
    f, ref = compile_pair([x], build(x))
    assert op_counts(f) == Counter({"Elemwise{softplus}": 1})
    assert f.trace.fired()["local_log1pexp_to_softplus"] == 1
    # the acceptance: finite and right far out on both sides
    out = f(np.array([800.0, -800.0]))
    assert out.tolist() == [800.0, np.exp(-800.0)]
    assert np.isinf(ref(np.array([800.0]))).all()  # what it fixes
    assert_same(f, ref, RNG.uniform(-5, 5, 7))


def test_softplus_keeps_float32_and_casts_ints():
    x, i = T.fvector('x'), T.ivector('i')
    f, ref = compile_pair([x], T.log(1 + T.exp(x)))
    v = RNG.uniform(-5, 5, 6).astype("float32")
    assert f(v).dtype == np.float32
    # float32's log(1 + exp(x)) loses digits for x << 0: the reference is the less precise
    assert_same(f, ref, v, rtol=1e-5)
    g, gref = compile_pair([i], T.log(1 + T.exp(i)))
    assert op_counts(g)["Elemwise{softplus}"] == 1
    assert_same(g, gref, np.array([-3, 0, 4], dtype="int32"))


def test_softplus_with_a_constant_of_more_dimensions_keeps_the_broadcast():
    x = T.dvector('x')
    one = T.constant(np.ones((1, 1)))
    f, ref = compile_pair([x], T.log(one + T.exp(x)))
    assert "local_log1pexp_to_softplus" in f.trace.fired()
    v = RNG.uniform(-3, 3, 4)
    assert f(v).shape == (1, 4)
    assert_same(f, ref, v)


def test_softplus_not_fired():
    x = T.dvector('x')
    # 2 + exp(x) is no softplus; a constant of several ones decides the output shape
    for expr in (T.log(2 + T.exp(x)), T.log(T.constant(np.ones((2, 1))) + T.exp(x))):
        f, ref = compile_pair([x], expr)
        assert "local_log1pexp_to_softplus" not in f.trace.fired()
        assert op_counts(f)["Elemwise{softplus}"] == 0
        assert_same(f, ref, RNG.uniform(-3, 3, 3))


def test_excluding_by_name():
    x = T.dvector('x')
    mode = workbench.Mode().excluding("local_log1pexp_to_softplus")
    f = workbench.function([x], T.log(1 + T.exp(x)), mode=mode)
    assert "local_log1pexp_to_softplus" not in f.trace.fired()
    assert op_counts(f)["Elemwise{softplus}"] == 0
    g = workbench.function([x], T.log(1 + T.exp(x)),
                           mode=workbench.Mode().excluding("stabilize"))
    assert "stabilize" not in [p.name for p in g.trace.passes]
    assert "local_log1pexp_to_softplus" not in g.trace.fired()


# ---------------------------------------------------------------------------------------
# sigmoid


def test_log_sigmoid():
    x = T.dvector('x')
    f, ref = compile_pair([x], T.log(T.nnet.sigmoid(x)))
    assert f.trace.fired()["local_log_sigmoid_to_softplus"] == 1
    counts = op_counts(f)
    assert counts["Elemwise{softplus}"] == 1 and counts["Elemwise{sigmoid}"] == 0
    assert counts["Elemwise{log}"] == 0
    assert f(np.array([-800.0])).tolist() == [-800.0]  # the acceptance
    assert ref(np.array([-800.0])).tolist() == [-np.inf]
    assert_same(f, ref, RNG.uniform(-5, 5, 7))


def test_log_one_minus_sigmoid():
    x = T.dvector('x')
    f, ref = compile_pair([x], T.log(1 - T.nnet.sigmoid(x)))
    fired = f.trace.fired()
    # 1 - sigmoid(x) becomes sigmoid(-x) first, whose log is then a softplus
    assert fired["local_one_minus_sigmoid"] == 1
    assert fired["local_log_sigmoid_to_softplus"] == 1
    assert op_counts(f) == Counter({"Elemwise{softplus}": 1, "Elemwise{neg}": 1})
    assert f(np.array([800.0])).tolist() == [-800.0]
    assert_same(f, ref, RNG.uniform(-5, 5, 7))
    # the direct rule, when the first is excluded
    mode = workbench.Mode().excluding("local_one_minus_sigmoid")
    g = workbench.function([x], T.log(1 - T.nnet.sigmoid(x)), mode=mode)
    assert g.trace.fired()["local_log1m_sigmoid_to_softplus"] == 1
    assert g(np.array([800.0])).tolist() == [-800.0]


def test_one_minus_sigmoid():
    x = T.fmatrix('x')
    f, ref = compile_pair([x], 1 - T.nnet.sigmoid(x))
    assert f.trace.fired()["local_one_minus_sigmoid"] == 1
    assert op_counts(f) == Counter({"Elemwise{neg}": 1, "Elemwise{sigmoid}": 1})
    assert f(np.array([[40.0]], dtype="float32")).item() > 0  # 1 - sigmoid(40) rounds to 0
    # the reference loses digits where sigmoid(x) is near 1
    assert_same(f, ref, RNG.uniform(-5, 5, (2, 3)).astype("float32"), rtol=1e-4)


def test_inv_1_plus_exp_to_sigmoid():
    x = T.dvector('x')
    f, ref = compile_pair([x], 1 / (1 + T.exp(-x)))
    assert f.trace.fired()["local_inv_1_plus_exp_to_sigmoid"] == 1
    assert op_counts(f) == Counter({"Elemwise{sigmoid}": 1})
    assert_same(f, ref, RNG.uniform(-5, 5, 7))
    g, _ = compile_pair([x], 2 / (1 + T.exp(-x)))
    assert "local_inv_1_plus_exp_to_sigmoid" not in g.trace.fired()


def test_logistic_regression_cost_and_gradient_at_extreme_logits():
    x, y = T.dmatrix('x'), T.dvector('y')
    w, b = T.dvector('w'), T.dscalar('b')
    p_1 = T.nnet.sigmoid(T.dot(x, w) + b)
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    f, ref = compile_pair([x, y, w, b], [cost, *T.grad(cost, [w, b])])
    fired = f.trace.fired()
    assert fired["local_log_sigmoid_to_softplus"] == 2
    assert fired["local_mul_quotients_by_their_divisors"] == 1
    xv, yv = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([0.0, 1.0])
    cost_v, gw, gb = f(xv, yv, np.array([1000.0, 0.0]), 0.0)
    assert cost_v == 1000.0 + 0.01 * 1000.0 ** 2
    np.testing.assert_allclose(gw, [1.0 + 20.0, 0.0])
    assert gb == 0.0
    assert_same(f, ref, RNG.uniform(-2, 2, (5, 2)), RNG.integers(0, 2, 5).astype(float),
                RNG.uniform(-1, 1, 2), 0.3)


def test_mul_quotients_by_their_divisors():
    a, b, p, q = T.dvectors('a', 'b', 'p', 'q')
    f, ref = compile_pair([a, b, p, q], (a / p - b / q) * (q * p))
    assert f.trace.fired()["local_mul_quotients_by_their_divisors"] == 1
    assert op_counts(f)["Elemwise{true_div}"] == 0
    args = [RNG.uniform(0.5, 2, 4) for _ in range(4)]
    assert_same(f, ref, *args)
    # divisors that are not exactly the two quotients' divisors: kept
    g, gref = compile_pair([a, b, p, q], (a / p + b / q) * (p * p))
    assert "local_mul_quotients_by_their_divisors" not in g.trace.fired()
    assert_same(g, gref, *args)


def test_int8_negation_does_not_wrap():
    # -x of int8 -128 wraps to -128: the rewrites negate after casting to the float dtype
    i = T.bvector('i')
    f, ref = compile_pair([i], T.log(T.nnet.sigmoid(i)))
    assert "local_log_sigmoid_to_softplus" in f.trace.fired()
    v = np.array([-3, 0, 5, 127], dtype="int8")
    assert f(v).dtype == ref(v).dtype == np.float16
    # (closer to the truth than the float16 reference, which rounds sigmoid(5) first)
    np.testing.assert_allclose(f(v), -np.logaddexp(0, -v.astype(float)), rtol=1e-3,
                               atol=1e-6)
    # sigmoid(-128) underflows float16: the original is -inf, the rewrite -128 (not +128)
    assert f(np.array([-128], dtype="int8")).tolist() == [-128.0]


# ---------------------------------------------------------------------------------------
# log1p, expm1, log1mexp, log(exp), exp(log)


def test_log1p():
    x = T.dvector('x')
    f, ref = compile_pair([x], T.log(1 + x))
    assert f.trace.fired()["local_log1p"] == 1
    assert op_counts(f) == Counter({"Elemwise{log1p}": 1})
    assert f(np.array([1e-20])).tolist() == [1e-20]
    assert ref(np.array([1e-20])).tolist() == [0.0]
    assert_same(f, ref, RNG.uniform(0, 3, 5))
    g, gref = compile_pair([x], T.log(1 - x))
    assert op_counts(g) == Counter({"Elemwise{log1p}": 1, "Elemwise{neg}": 1})
    assert_same(g, gref, RNG.uniform(-3, 0.9, 5))


def test_log1p_not_fired_for_integers():
    # 1 + x in int8 wraps around at 127 before the log: that result is kept
    i = T.bvector('i')
    f, ref = compile_pair([i], T.log(1 + i))
    assert "local_log1p" not in f.trace.fired()
    assert_same(f, ref, np.array([1, 5, 127], dtype="int8"))


def test_expm1():
    x = T.dvector('x')
    for expr in (T.exp(x) - 1, T.exp(x) + (-1)):
        f, ref = compile_pair([x], expr)
        assert f.trace.fired()["local_expm1"] == 1
        assert op_counts(f) == Counter({"Elemwise{expm1}": 1})
        assert f(np.array([1e-20])).tolist() == [1e-20]
        assert_same(f, ref, RNG.uniform(-3, 3, 5))
    f, _ = compile_pair([x], T.exp(x) - 2)
    assert "local_expm1" not in f.trace.fired()


def test_log1mexp():
    x = T.dvector('x')
    f, ref = compile_pair([x], T.log(1 - T.exp(x)))
    assert f.trace.fired()["local_log1mexp"] == 1
    assert op_counts(f) == Counter({"Elemwise{log1mexp}": 1})
    out = f(np.array([-1e-20, -800.0]))
    np.testing.assert_allclose(out, [np.log(1e-20), 0.0], rtol=1e-15)
    assert ref(np.array([-1e-20])).tolist() == [-np.inf]
    assert_same(f, ref, RNG.uniform(-5, -0.01, 6))
    # NaN above 0 and -inf at 0, as the original
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(f(np.array([0.0, 1.0])), ref(np.array([0.0, 1.0])))


def test_log_exp():
    x = T.dvector('x')
    f, ref = compile_pair([x], T.log(T.exp(x)))
    assert f.trace.fired()["local_log_exp"] == 1
    assert op_counts(f) == Counter()
    assert f(np.array([1000.0, -1000.0])).tolist() == [1000.0, -1000.0]
    assert_same(f, ref, RNG.uniform(-5, 5, 5))


def test_exp_log_only_when_nonnegative():
    x = T.dvector('x')
    f, ref = compile_pair([x], T.exp(T.log(x)))
    assert "local_exp_log" not in f.trace.fired()  # negative x: NaN must stay NaN
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(f(np.array([-1.0, 2.0])), ref(np.array([-1.0, 2.0])))
    g, gref = compile_pair([x], T.exp(T.log(T.sqr(x))))
    assert g.trace.fired()["local_exp_log"] == 1
    assert op_counts(g) == Counter({"Elemwise{sqr}": 1})
    assert_same(g, gref, RNG.uniform(-3, 3, 5))


# ---------------------------------------------------------------------------------------
# log-sum-exp


def _logsumexp_graph_ok(f):
    counts = op_counts(f)
    assert f.trace.fired()["local_logsumexp"] == 1
    assert counts["Elemwise{exp}"] == 1 and counts["Elemwise{log}"] == 1
    assert sum(n for op, n in counts.items() if op.startswith("Max")) == 1


def test_logsumexp_acceptance():
    x = T.dvector('x')
    f, ref = compile_pair([x], T.log(T.sum(T.exp(x))))
    _logsumexp_graph_ok(f)
    v = np.array([1000.0, 1000.5, 999.0])
    assert f(v) == scipy.special.logsumexp(v)
    assert np.isinf(ref(v))
    assert_same(f, ref, RNG.uniform(-3, 3, 6))


@pytest.mark.parametrize("axis,keepdims", [(1, False), (1, True), (0, False), (0, True),
                                           (None, False), (None, True), ((0, 1), False)])
def test_logsumexp_axes(axis, keepdims):
    x = T.dmatrix('x')
    f, ref = compile_pair([x], T.log(T.sum(T.exp(x), axis=axis, keepdims=keepdims)))
    _logsumexp_graph_ok(f)
    v = np.array([[1000.0, 1000.5, 999.0], [-np.inf, -np.inf, -np.inf], [1.0, 2.0, np.inf]])
    expected = scipy.special.logsumexp(v, axis=axis, keepdims=keepdims)
    with np.errstate(invalid="ignore"):
        got = f(v)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert_same(f, ref, RNG.uniform(-3, 3, (4, 3)))


def test_logsumexp_rows_of_minus_inf():
    x = T.dmatrix('x')
    f, _ = compile_pair([x], T.log(T.sum(T.exp(x), axis=1)))
    v = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    np.testing.assert_array_equal(f(v), [-np.inf, 0.0])  # -inf, not NaN


def test_logsumexp_float32_and_ints():
    x = T.fmatrix('x')
    f, ref = compile_pair([x], T.log(T.sum(T.exp(x), axis=-1)))
    _logsumexp_graph_ok(f)
    v = RNG.uniform(-3, 3, (2, 5)).astype("float32")
    assert f(v).dtype == np.float32
    assert_same(f, ref, v, rtol=1e-6)
    big = np.array([[100.0, 99.0]], dtype="float32")  # exp(100) overflows float32
    np.testing.assert_allclose(f(big), scipy.special.logsumexp(big, axis=-1), rtol=1e-6)
    i = T.bvector('i')  # exp of int8 is float16; the shift is done in float16 too
    g, gref = compile_pair([i], T.log(T.sum(T.exp(i))))
    assert "local_logsumexp" in g.trace.fired()
    w = np.array([-128, 3, 5], dtype="int8")
    assert g(w).dtype == gref(w).dtype
    np.testing.assert_allclose(g(w), gref(w), rtol=1e-3)


def test_logsumexp_not_fired():
    x = T.dmatrix('x')
    for expr in (T.log(T.sum(x)), T.log(T.prod(T.exp(x))), T.log(T.sum(T.exp(x) + 1))):
        f, ref = compile_pair([x], expr)
        assert "local_logsumexp" not in f.trace.fired()
        assert_same(f, ref, RNG.uniform(0.1, 2, (2, 3)))


# ---------------------------------------------------------------------------------------
# softmax, log-softmax, cross-entropy


def np_softmax(v, axis=-1):
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_log_softmax(axis):
    x = T.dmatrix('x')
    f, ref = compile_pair([x], T.log(T.nnet.softmax(x, axis=axis)))
    assert f.trace.fired()["local_log_softmax"] == 1
    counts = op_counts(f)
    assert sum(n for op, n in counts.items() if op.startswith("LogSoftmax")) == 1
    assert counts["Elemwise{log}"] == 0
    assert np.isfinite(f(np.array([[1000.0, 0.0], [0.0, -1000.0]]))).all()
    assert_same(f, ref, RNG.uniform(-3, 3, (3, 4)))


def _labels_case(reduce):
    x, y = T.dmatrix('x'), T.lvector('y')
    cost = reduce(T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))
    return x, y, cost, T.grad(cost, x)


@pytest.mark.parametrize("reduce", [T.mean, T.sum], ids=["mean", "sum"])
def test_softmax_crossentropy_integer_labels(reduce):
    x, y, cost, gx = _labels_case(reduce)
    f, ref = compile_pair([x, y], [cost, gx])
    fired = f.trace.fired()
    assert fired["local_softmax_crossentropy"] == 1
    assert fired["local_softmax_grad_of_log"] == 1
    counts = op_counts(f)
    assert counts["CrossentropySoftmaxArgmax1HotWithBias"] == 1
    assert counts["CrossentropyCategorical1Hot"] == 0
    assert counts["Softmax{axis=1}"] == 0  # the fused op's softmax serves the gradient
    # the acceptance: value and gradient finite for logits of 1000
    xv = np.array([[1000.0, 0.0, 3.0], [0.0, 1000.0, 2.0], [1000.0, 1000.0, 0.0]])
    yv = np.array([1, 1, 2])
    value, grad = f(xv, yv)
    n = 3 if reduce is T.mean else 1
    assert np.isfinite(value) and np.isfinite(grad).all()
    np.testing.assert_allclose(value, np.sum([1000.0, 0.0, 1000.0 + np.log(2)]) / n)
    np.testing.assert_allclose(grad, (np_softmax(xv) - np.eye(3)[yv]) / n, atol=1e-15)
    with np.errstate(all="ignore"):
        assert not np.isfinite(ref(xv, yv)[1]).all()  # what it fixes
    assert_same(f, ref, RNG.uniform(-3, 3, (4, 5)), np.array([0, 4, 2, 2]))


def test_softmax_crossentropy_float32():
    x, y = T.fmatrix('x'), T.ivector('y')
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(x), y).mean()
    f, ref = compile_pair([x, y], [cost, T.grad(cost, x)])
    assert op_counts(f)["CrossentropySoftmaxArgmax1HotWithBias"] == 1
    xv = np.array([[1000.0, 0.0], [0.0, 100.0]], dtype="float32")
    value, grad = f(xv, np.array([1, 1], dtype="int32"))
    assert value.dtype == np.float32 and grad.dtype == np.float32
    np.testing.assert_allclose(value, 500.0)
    np.testing.assert_allclose(grad, (np_softmax(xv) - np.eye(2)[[1, 1]]) / 2, atol=1e-7)
    assert_same(f, ref, RNG.uniform(-3, 3, (3, 2)).astype("float32"),
                np.array([0, 1, 1], dtype="int32"), rtol=1e-5)


def test_softmax_crossentropy_one_hot_labels():
    x, t = T.dmatrix('x'), T.dmatrix('t')
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(x), t).mean()
    f, ref = compile_pair([x, t], [cost, T.grad(cost, x)])
    fired = f.trace.fired()
    assert fired["local_log_softmax"] == 1 and fired["local_softmax_grad_of_log"] == 1
    assert op_counts(f)["LogSoftmax{axis=1}"] == 1
    xv = np.array([[1000.0, 0.0, 3.0], [0.0, 1000.0, 2.0]])
    tv = np.eye(3)[[1, 1]]
    value, grad = f(xv, tv)
    np.testing.assert_allclose(value, 500.0)
    np.testing.assert_allclose(grad, (np_softmax(xv) - tv) / 2, atol=1e-15)
    assert_same(f, ref, RNG.uniform(-3, 3, (4, 3)), np.eye(3)[[0, 2, 1, 1]])


def test_softmax_grad_rewrite_runs_in_canonicalize():
    # it must see the gradient before the algebra of canonicalize reshapes it
    x, y, cost, gx = _labels_case(T.mean)
    f = workbench.function([x, y], [cost, gx])
    assert f.trace["canonicalize"].rule_counts()["local_softmax_grad_of_log"] == 1
    g = workbench.function([x, y], [cost, gx],
                           mode=workbench.Mode().excluding("local_softmax_grad_of_log"))
    assert "local_softmax_grad_of_log" not in g.trace.fired()
    with np.errstate(all="ignore"):
        assert np.isnan(g(np.array([[1000.0, 0.0]]), np.array([1]))[1]).any()


def test_softmax_grad_after_cancelling_s_times_v_over_s():
    # the form left when an algebraic rewrite cancels s * (gz / s) inside the sum:
    # s * (gz / s - sum(gz)) -> gz - sum(gz) * s
    x, gz = T.dmatrix('x'), T.dmatrix('gz')
    s = T.nnet.softmax(x)
    expr = s * (gz / s - T.sum(gz, axis=1, keepdims=True))
    f, ref = compile_pair([x, gz], expr)
    assert f.trace.fired()["local_softmax_grad_of_log"] == 1
    assert op_counts(f)["Elemwise{true_div}"] == 0
    assert_same(f, ref, RNG.uniform(-3, 3, (2, 3)), RNG.uniform(-3, 3, (2, 3)))
    out = f(np.array([[1000.0, 0.0]]), np.array([[0.0, -1.0]]))
    np.testing.assert_allclose(out, [[1.0, -1.0]])


def test_softmax_grad_of_other_costs_untouched():
    # the gradient of sum(softmax(x) * w) has no division by the softmax: nothing to do
    x, w = T.dmatrix('x'), T.dmatrix('w')
    cost = T.sum(T.nnet.softmax(x) * w)
    f, ref = compile_pair([x, w], T.grad(cost, x))
    assert "local_softmax_grad_of_log" not in f.trace.fired()
    assert_same(f, ref, RNG.uniform(-3, 3, (2, 3)), RNG.uniform(-3, 3, (2, 3)))


def test_softmax_crossentropy_not_fused_for_other_axes():
    # a softmax over the columns is no row softmax: the fused op does not apply
    x, y = T.dmatrix('x'), T.lvector('y')
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(x, axis=0), y).sum()
    f, ref = compile_pair([x, y], cost)
    assert "local_softmax_crossentropy" not in f.trace.fired()
    assert op_counts(f)["CrossentropySoftmaxArgmax1HotWithBias"] == 0
    assert_same(f, ref, RNG.uniform(-3, 3, (3, 3)), np.array([0, 2, 1]))


def test_softmax_grad_late_rule_when_canonicalize_is_excluded():
    x, y, cost, gx = _labels_case(T.mean)
    f = workbench.function([x, y], [cost, gx],
                           mode=workbench.Mode().excluding("canonicalize"))
    assert f.trace["stabilize"].rule_counts()["local_softmax_grad_of_log_late"] == 1
    value, grad = f(np.array([[1000.0, 0.0]]), np.array([1]))
    assert value == 1000.0 and grad.tolist() == [[1.0, -1.0]]


@pytest.mark.parametrize("shape,axis", [((3, 4), 0), ((3, 4), None), ((2, 3, 4), -1),
                                        ((2, 3, 4), (0, 2))])
def test_log_softmax_grad_other_axes(shape, axis):
    x, w = T.tensor('float64', (False,) * len(shape)), T.tensor('float64', (False,) * len(shape))
    cost = T.sum(w * T.log(T.nnet.softmax(x, axis=axis)))
    f, ref = compile_pair([x, w], [cost, T.grad(cost, x)])
    fired = f.trace.fired()
    assert fired["local_softmax_grad_of_log"] == 1 and fired["local_log_softmax"] == 1
    assert_same(f, ref, RNG.uniform(-3, 3, shape), RNG.uniform(-3, 3, shape))
    big = np.zeros(shape)
    big.flat[0] = 1000.0
    assert all(np.isfinite(out).all() for out in f(big, RNG.uniform(-3, 3, shape)))


def test_softmax_grad_with_gz_broadcast_along_the_softmax_axis():
    # sum(s * (gz / s)) adds gz once per class when gz is a column: kept by broadcasting it
    x, gz = T.dmatrix('x'), T.dcol('gz')
    s = T.nnet.softmax(x)
    v = gz / s
    expr = s * (v - T.sum(s * v, axis=1, keepdims=True))
    f, ref = compile_pair([x, gz], expr)
    assert f.trace.fired()["local_softmax_grad_of_log"] == 1
    assert_same(f, ref, RNG.uniform(-3, 3, (2, 3)), RNG.uniform(-3, 3, (2, 1)))


def test_two_crossentropies_of_one_softmax():
    x, y1, y2 = T.dmatrix('x'), T.lvector('y1'), T.lvector('y2')
    sm = T.nnet.softmax(x)
    cost = (T.nnet.categorical_crossentropy(sm, y1).sum()
            + T.nnet.categorical_crossentropy(sm, y2).sum())
    f, ref = compile_pair([x, y1, y2], [cost, T.grad(cost, x)])
    assert f.trace.fired()["local_softmax_crossentropy"] == 2
    assert op_counts(f)["CrossentropyCategorical1Hot"] == 0
    assert op_counts(f)["Softmax{axis=1}"] == 0
    assert_same(f, ref, RNG.uniform(-3, 3, (3, 4)), np.array([0, 1, 3]), np.array([2, 2, 0]))
    value, grad = f(np.array([[1000.0, 0.0]]), np.array([1]), np.array([0]))
    assert value == 1000.0 and np.isfinite(grad).all()


def test_crossentropy_out_of_range_labels_still_raise():
    x, y = T.dmatrix('x'), T.lvector('y')
    f = workbench.function([x, y], T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))
    assert "local_softmax_crossentropy" in f.trace.fired()
    with pytest.raises(IndexError):
        f(np.zeros((2, 3)), np.array([0, 3]))


def test_softmax_grad_cancelled_form_with_gz_broadcast_keeps_its_sum():
    # here the sum is over gz itself (size 1 along the axis): it must not be widened
    x, gz = T.dmatrix('x'), T.dcol('gz')
    s = T.nnet.softmax(x)
    expr = s * (gz / s - T.sum(gz, axis=1, keepdims=True))
    f, ref = compile_pair([x, gz], expr)
    assert f.trace.fired()["local_softmax_grad_of_log"] == 1
    assert_same(f, ref, RNG.uniform(-3, 3, (2, 3)), RNG.uniform(-3, 3, (2, 1)))
