"""T.nnet against NumPy/SciPy references: activations, softmaxes, cross-entropies."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sps
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import workbench as theano
from opcheck import check_infer_shape, check_op
from workbench import tensor as T
from workbench.compiler.ops.nnet import LogSoftmax, Softmax

FLOATS = ["float32", "float64"]


@st.composite
def logits(draw, min_dims=1, max_dims=3, low=-1000.0, high=1000.0):
    dtype = draw(st.sampled_from(FLOATS))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1,
                                  max_side=5))
    width = np.dtype(dtype).itemsize * 8
    return draw(hnp.arrays(dtype, shape, elements=st.floats(low, high, width=width)))


# -- softmax / logsoftmax -----------------------------------------------------------------

@given(logits(), st.data())
def test_softmax_and_logsoftmax_match_scipy(value, data):
    axis = data.draw(st.sampled_from(list(range(-value.ndim, value.ndim)) + [None]))
    outs = check_op(lambda x: [T.nnet.softmax(x, axis), T.nnet.logsoftmax(x, axis)],
                    lambda v: [sps.softmax(v, axis=axis), sps.log_softmax(v, axis=axis)],
                    value, atol=1e-6 if value.dtype == np.float64 else 1e-4)
    assert [o.dtype for o in outs] == [value.dtype.name] * 2


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (4, 1), (3, 5)])
def test_softmax_rows_one_row_and_one_class(dtype, shape, rng):
    value = rng.normal(size=shape).astype(dtype)
    check_op(T.nnet.softmax, lambda v: sps.softmax(v, axis=-1), value)
    check_op(T.nnet.logsoftmax, lambda v: sps.log_softmax(v, axis=-1), value)
    if shape[1] == 1:  # one class: probability 1, log-probability 0
        x = T.matrix(dtype=dtype)
        np.testing.assert_array_equal(T.nnet.softmax(x).eval({x: value}), 1)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_is_stable_at_extremes(dtype):
    value = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0],
                      [-1000.0, -1000.0, -1000.0]], dtype=dtype)
    x = T.matrix(dtype=dtype)
    sm = T.nnet.softmax(x).eval({x: value})
    lsm = T.nnet.logsoftmax(x).eval({x: value})
    assert np.all(np.isfinite(sm)) and np.all(np.isfinite(lsm))
    np.testing.assert_allclose(sm, [[1, 0, 0], [1 / 3] * 3, [1 / 3] * 3], rtol=1e-6)
    np.testing.assert_allclose(lsm[0], [0.0, -1000.0, -2000.0], rtol=1e-6)
    np.testing.assert_allclose(lsm[1:], np.log(1 / 3), rtol=1e-6)


def test_softmax_dtypes_and_shapes():
    assert T.nnet.softmax(T.ivector()).dtype == "float64"  # as np.exp of int32
    assert T.nnet.logsoftmax(T.bmatrix()).dtype == "float16"  # as np.exp of int8
    x = T.TensorType("float32", (1, None))()
    assert T.nnet.softmax(x).type == x.type
    check_op(T.nnet.softmax, lambda v: sps.softmax(v.astype(np.float64), axis=-1),
             np.array([[1, 2, 3]], dtype=np.int64))
    # an empty input stays empty
    check_op(T.nnet.softmax, lambda v: v.copy(), np.zeros((0, 3)))


def test_softmax_tuple_axis():
    value = np.random.default_rng(0).normal(size=(2, 3, 4))
    check_op(lambda x: T.nnet.softmax(x, axis=(0, 2)), lambda v: sps.softmax(v, axis=(0, 2)),
             value)
    assert Softmax((2, 0)) != Softmax(-1) and LogSoftmax(1) == LogSoftmax(1)


def test_softmax_errors():
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        T.nnet.softmax(T.dmatrix(), axis=2)
    with pytest.raises(ValueError, match="repeats an axis"):
        T.nnet.softmax(T.dmatrix(), axis=(0, -2))
    with pytest.raises(TypeError, match="real inputs.*complex128"):
        T.nnet.logsoftmax(T.zmatrix())
    with pytest.raises(TypeError, match="symbolic"):
        T.nnet.softmax(T.dmatrix(), axis=T.lscalar())


def test_softmax_with_bias(rng):
    x, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    check_op(T.nnet.softmax_with_bias, lambda xv, bv: sps.softmax(xv + bv, axis=-1), x, b)
    big = np.array([[1000.0, 0.0]])
    check_op(T.nnet.softmax_with_bias, lambda xv, bv: sps.softmax(xv + bv, axis=-1), big,
             np.array([1000.0, 0.0]))
    with pytest.raises(ValueError, match="b must be a vector"):
        T.nnet.softmax_with_bias(T.dmatrix(), T.dmatrix())
    with pytest.raises(ValueError, match="b has 3 entries for 4 classes"):
        T.nnet.softmax_with_bias(T.TensorType("float64", (None, 4))(),
                                 T.TensorType("float64", (3,))())


@pytest.mark.parametrize("build", [
    T.nnet.softmax, T.nnet.logsoftmax, lambda x: T.nnet.softmax(x, axis=None),
    lambda x: T.nnet.logsoftmax(x, axis=0),
])
def test_softmax_infer_shape(build):
    check_infer_shape(build, np.arange(6.0).reshape(2, 3))


# -- cross-entropies ------------------------------------------------------------------------

@st.composite
def probabilities_and_labels(draw):
    dtype = draw(st.sampled_from(FLOATS))
    rows, classes = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    raw = draw(hnp.arrays(dtype, (rows, classes), elements=st.floats(
        0.0625, 1.0, width=np.dtype(dtype).itemsize * 8)))
    probs = (raw / raw.sum(axis=1, keepdims=True)).astype(dtype)
    label_dtype = draw(st.sampled_from(["int8", "int32", "int64", "uint8"]))
    labels = draw(hnp.arrays(label_dtype, (rows,), elements=st.integers(0, classes - 1)))
    return probs, labels


def _nll(probs, labels):
    return -np.log(probs[np.arange(len(labels)), labels])


@given(probabilities_and_labels())
def test_categorical_crossentropy_with_labels_and_one_hot(case):
    probs, labels = case
    (out,) = check_op(lambda p, y: [T.nnet.categorical_crossentropy(p, y)], lambda p, y: [
        _nll(p, y)], probs, labels)
    assert out.dtype == probs.dtype.name
    check_op(T.nnet.crossentropy_categorical_1hot, _nll, probs, labels)
    one_hot = np.eye(probs.shape[1], dtype=probs.dtype)[labels]
    check_op(T.nnet.categorical_crossentropy, lambda p, t: -(t * np.log(p)).sum(axis=-1),
             probs, one_hot)


def test_categorical_crossentropy_dense_targets(rng):
    p = sps.softmax(rng.normal(size=(4, 3)), axis=-1)
    t = sps.softmax(rng.normal(size=(4, 3)), axis=-1)
    check_op(T.nnet.categorical_crossentropy, lambda pv, tv: -(tv * np.log(pv)).sum(-1), p, t)
    # integer one-hot targets work too, as NumPy would compute them
    hot = np.eye(3, dtype=np.int32)[[0, 2, 1, 1]]
    check_op(T.nnet.categorical_crossentropy, lambda pv, tv: -(tv * np.log(pv)).sum(-1), p,
             hot)
    # 3-d: one value per (batch, row)
    p3 = sps.softmax(rng.normal(size=(2, 3, 4)), axis=-1)
    y3 = rng.integers(0, 4, size=(2, 3))
    check_op(T.nnet.categorical_crossentropy,
             lambda pv, yv: -np.log(np.take_along_axis(pv, yv[..., None], -1)[..., 0]), p3, y3)


def test_crossentropy_infer_shape():
    p = np.full((3, 2), 0.5)
    check_infer_shape(T.nnet.categorical_crossentropy, p, p)
    check_infer_shape(T.nnet.softmax_with_bias, p, np.zeros(2))
    check_infer_shape(T.nnet.sigmoid_binary_crossentropy, p, p)
    check_infer_shape(T.nnet.crossentropy_categorical_1hot, p, np.array([0, 1, 1]))
    check_infer_shape(lambda x, y: list(T.nnet.crossentropy_softmax_argmax_1hot_with_bias(
        x, T.constant(np.zeros(2)), y)), p, np.array([0, 1, 1]))


def test_label_out_of_range_raises_index_error():
    p, y = T.dmatrix("p"), T.lvector("y")
    f = theano.function([p, y], T.nnet.categorical_crossentropy(p, y))
    probs = np.full((2, 3), 1 / 3)
    with pytest.raises(IndexError, match=r"label 3 \(at position 1\).*3 classes"):
        f(probs, [0, 3])
    with pytest.raises(IndexError, match=r"label -1 .*3 classes"):
        f(probs, [-1, 0])
    g = theano.function([p, y], T.nnet.crossentropy_softmax_1hot(p, y)[0])
    with pytest.raises(IndexError, match="label 5 .*3 classes"):
        g(probs, [5, 0])


def test_label_count_mismatch_raises_value_error():
    p, y = T.dmatrix("p"), T.lvector("y")
    f = theano.function([p, y], T.nnet.crossentropy_categorical_1hot(p, y))
    with pytest.raises(ValueError, match="3 labels for 2 rows"):
        f(np.full((2, 2), 0.5), [0, 1, 1])
    with pytest.raises(ValueError, match="3 labels for 2 rows"):
        T.nnet.categorical_crossentropy(T.TensorType("float64", (2, None))(),
                                        T.TensorType("int64", (3,))())
    g = theano.function([p, y], T.nnet.crossentropy_softmax_1hot(p, y)[0])
    with pytest.raises(ValueError, match="1 labels for 2 rows"):
        g(np.zeros((2, 2)), [0])


def test_crossentropy_type_errors():
    with pytest.raises(TypeError, match="integer class labels.*float64"):
        T.nnet.categorical_crossentropy(T.dmatrix(), T.dvector())
    with pytest.raises(TypeError, match="rank mismatch"):
        T.nnet.categorical_crossentropy(T.dmatrix(), T.dtensor3())
    with pytest.raises(TypeError, match="integer class indices"):
        T.nnet.crossentropy_categorical_1hot(T.dmatrix(), T.dvector())
    with pytest.raises(ValueError, match="x must be a matrix"):
        T.nnet.crossentropy_softmax_1hot(T.dvector(), T.lscalar())
    with pytest.raises(ValueError, match="b has 2 entries for 3 classes"):
        T.nnet.crossentropy_softmax_1hot_with_bias(T.TensorType("float64", (None, 3))(),
                                                   T.TensorType("float64", (2,))(), T.lvector())


@pytest.mark.parametrize("dtype", FLOATS)
def test_crossentropy_softmax_1hot_is_stable(dtype):
    x = np.array([[1000.0, 0.0, -1000.0], [0.5, 0.25, 0.0]], dtype=dtype)
    y = np.array([2, 0])
    b = np.array([0.0, 1.0, -1.0], dtype=dtype)

    def reference(xv, bv, yv):
        z = xv + bv
        return [-sps.log_softmax(z, axis=-1)[np.arange(len(yv)), yv],
                sps.softmax(z, axis=-1), np.argmax(z, axis=-1)]

    outs = check_op(lambda xv, bv, yv: T.nnet.crossentropy_softmax_argmax_1hot_with_bias(
        xv, bv, yv), reference, x, b, y)
    assert [o.dtype for o in outs] == [dtype, dtype, "int64"]
    check_op(lambda xv, bv, yv: list(T.nnet.crossentropy_softmax_1hot_with_bias(xv, bv, yv)),
             lambda xv, bv, yv: reference(xv, bv, yv)[:2], x, b, y)
    check_op(lambda xv, yv: list(T.nnet.crossentropy_softmax_1hot(xv, yv)),
             lambda xv, yv: reference(xv, np.zeros(3, dtype), yv)[:2], x, y)
    xs, bs, ys = T.matrix(dtype=dtype), T.vector(dtype=dtype), T.lvector()
    nll = T.nnet.crossentropy_softmax_1hot_with_bias(xs, bs, ys)[0].eval({xs: x, bs: b, ys: y})
    # row 0: logits 1000, 1, -1001 and label 2: logsumexp - (-1001) = 2001 exactly enough
    assert np.isfinite(nll).all() and abs(nll[0] - 2001.0) < 1e-3


def test_crossentropy_softmax_op_rebuilds_without_bias():
    from workbench.compiler.ops.nnet import CrossentropySoftmaxArgmax1HotWithBias

    x, y = T.dmatrix("x"), T.lvector("y")
    node = T.nnet.crossentropy_softmax_1hot(x, y)[0].owner
    assert len(node.inputs) == 2
    again = node.clone_with_new_inputs([T.fmatrix(), T.lvector()], strict=False)
    assert again.outputs[0].dtype == "float32"
    with pytest.raises(TypeError, match="takes"):
        CrossentropySoftmaxArgmax1HotWithBias()(x)


@given(st.sampled_from(FLOATS), st.data())
def test_binary_crossentropies(dtype, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    width = np.dtype(dtype).itemsize * 8
    logit = data.draw(hnp.arrays(dtype, shape, elements=st.floats(-30, 30, width=width)))
    target = data.draw(hnp.arrays(dtype, shape, elements=st.floats(0, 1, width=width)))
    prob = data.draw(hnp.arrays(dtype, shape, elements=st.floats(0.0625, 0.9375, width=width)))
    check_op(T.nnet.binary_crossentropy,
             lambda o, t: -(t * np.log(o) + (1.0 - t) * np.log(1.0 - o)), prob, target)
    check_op(T.nnet.sigmoid_binary_crossentropy,
             lambda x, t: np.logaddexp(np.zeros((), x.dtype), x) - x * t, logit, target,
             atol=1e-5 if dtype == "float32" else 1e-10)


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_binary_crossentropy_is_stable(dtype):
    x, t = T.vector(dtype=dtype), T.vector(dtype=dtype)
    out = T.nnet.sigmoid_binary_crossentropy(x, t).eval(
        {x: np.array([1000.0, -1000.0, 1000.0], dtype), t: np.array([0.0, 1.0, 1.0], dtype)})
    assert out.dtype == dtype
    np.testing.assert_allclose(out, [1000.0, 1000.0, 0.0])


# -- activations -----------------------------------------------------------------------------

def _ufs_reference(value):
    """Theano's UltraFastScalarSigmoid.st_impl, one element at a time."""
    def one(x):
        x = 0.5 * x
        xx = abs(x)
        z = 1.5 * xx / (1 + xx) if xx < 1.7 else (
            0.935409070603099 + 0.0458812946797165 * (xx - 1.7) if xx < 3 else 0.99505475368673)
        return 0.5 * ((z if x >= 0 else -z) + 1.0)
    return np.vectorize(one, otypes=[value.dtype])(value)


@given(logits(max_dims=2, low=-20.0, high=20.0))
def test_activations(value):
    dtype = value.dtype
    tol = dict(atol=1e-6 if dtype == np.float64 else 1e-5)
    check_op(T.nnet.sigmoid, sps.expit, value, **tol)
    check_op(T.nnet.softplus, lambda v: np.logaddexp(np.zeros((), v.dtype), v), value, **tol)
    check_op(T.nnet.softsign, lambda v: v / (1 + np.abs(v)), value)
    check_op(T.nnet.relu, lambda v: np.maximum(v, 0), value)
    check_op(lambda x: T.nnet.relu(x, 0.1), lambda v: np.where(v > 0, v, 0.1 * v), value)
    check_op(T.nnet.elu, lambda v: np.where(v > 0, v, np.expm1(v)), value, **tol)
    check_op(lambda x: T.nnet.elu(x, 0.5), lambda v: np.where(v > 0, v, 0.5 * np.expm1(v)),
             value, **tol)
    check_op(T.nnet.selu, lambda v: 1.0507009873554805 * np.where(
        v > 0, v, 1.6732632423543772 * np.expm1(v)), value, **tol)
    check_op(T.nnet.hard_sigmoid, lambda v: np.clip(v * 0.2 + 0.5, 0, 1), value, **tol)
    check_op(T.nnet.ultra_fast_sigmoid, _ufs_reference, value, **tol)


def test_approximate_sigmoids_are_close_to_sigmoid():
    value = np.linspace(-12, 12, 481)
    x = T.dvector("x")
    ufs = T.nnet.ultra_fast_sigmoid(x).eval({x: value})
    hard = T.nnet.hard_sigmoid(x).eval({x: value})
    assert np.max(np.abs(ufs - sps.expit(value))) < 0.03
    assert np.max(np.abs(hard - sps.expit(value))) < 0.1
    assert np.isnan(T.nnet.ultra_fast_sigmoid(x).eval({x: [np.nan]})[0])


def test_activation_dtypes():
    assert T.nnet.hard_sigmoid(T.ivector()).dtype == "float64"
    assert T.nnet.ultra_fast_sigmoid(T.fvector()).dtype == "float32"
    assert T.nnet.elu(T.fvector()).dtype == "float32"
    assert T.nnet.selu(T.fvector()).dtype == "float32"
    assert T.nnet.relu(T.ivector()).dtype == "int32"
    with pytest.raises(TypeError, match="real inputs"):
        T.nnet.hard_sigmoid(T.zvector())


def test_theano_style_program():
    x = T.matrix("x")
    y = T.ivector("y")
    p = T.nnet.softmax(x)
    loss = T.nnet.categorical_crossentropy(p, y)
    f = theano.function([x, y], [p, loss])
    probs, out = f(np.zeros((2, 3)), np.array([0, 2], dtype=np.int32))
    np.testing.assert_allclose(probs, 1 / 3)
    np.testing.assert_allclose(out, np.log(3.0))
