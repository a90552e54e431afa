"""The C code of the softmax family (emit_nnet): Softmax and LogSoftmax along any one axis,
CrossentropyCategorical1Hot and CrossentropySoftmaxArgmax1HotWithBias.

Each test compiles one graph holding several cases and calls it with many inputs (layouts,
sizes, extreme and non-finite logits, integer inputs, rows long enough for OpenMP), comparing
with the ops' own NumPy ``perform`` value for value, and errors type for type and message
for message.
"""
import numpy as np
import pytest

from workbench import tensor as T
from workbench.compiler.backends.c.build import compiler_available
from workbench.compiler.ops.nnet import (CrossentropyCategorical1Hot,
                                         CrossentropySoftmaxArgmax1HotWithBias, LogSoftmax,
                                         Softmax)

from ccheck import compile_both, layouts, same_error, same_results

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler")


def extremes(shape, dtype, rng):
    """Logits with rows of huge, infinite and NaN entries besides ordinary ones."""
    x = rng.standard_normal(shape) * 3
    flat = x.reshape(-1, shape[-1]) if x.size else x
    if x.size and flat.shape[0] >= 6 and shape[-1] >= 2:
        flat[0, 0] = 1000.0           # would overflow exp without the shift
        flat[1, :] = -1000.0          # would underflow
        flat[2, 1] = np.inf
        flat[3, 0] = np.nan
        flat[4, :] = -np.inf
        flat[5, 0] = -np.inf
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_and_logsoftmax_along_any_axis(dtype):
    x2, x3 = T.matrix("x2", dtype=dtype), T.tensor3("x3", dtype=dtype)
    xi, v = T.imatrix("xi"), T.vector("v", dtype=dtype)
    nnet = T.nnet
    outs = [nnet.softmax(x2), nnet.logsoftmax(x2), nnet.softmax(x2, axis=0),
            nnet.logsoftmax(x2, axis=0), nnet.softmax(x3, axis=1), nnet.logsoftmax(x3, axis=-1),
            nnet.softmax(xi), nnet.logsoftmax(xi), nnet.softmax(v, axis=None),
            nnet.logsoftmax(v), nnet.softmax(x3, axis=None), nnet.logsoftmax(x2, axis=(1, 0))]
    fc, fp = compile_both([x2, x3, xi, v], outs, Softmax, LogSoftmax)
    rng = np.random.default_rng(0)
    for shape in [(7, 5), (1, 1), (6, 1), (1, 9), (0, 3), (3, 0), (600, 400)]:
        x2v = extremes(shape, dtype, rng)
        x3v = rng.standard_normal((3,) + shape).astype(dtype)
        xiv = rng.integers(-50, 50, shape).astype("int32")
        vv = extremes((max(shape[0], 1) * shape[1],), dtype, rng)
        for args in zip(layouts(x2v), layouts(x3v), layouts(xiv), layouts(vv)):
            same_results(fc, fp, *args, exact=False, where=str(shape))


def test_softmax_rows_sum_to_one_in_parallel():
    # above openmp_elemwise_minsize the rows are split across threads
    x = T.dmatrix("x")
    fc, fp = compile_both([x], [T.nnet.softmax(x)], Softmax)
    xv = np.random.default_rng(1).standard_normal((2000, 300)) * 30
    (got,) = same_results(fc, fp, xv, exact=False)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-12)


def test_crossentropy_categorical_1hot():
    p, y = T.dmatrix("p"), T.ivector("y")
    pf, yb = T.fmatrix("pf"), T.vector("yb", dtype="uint8")
    q, k = T.dvector("q"), T.lscalar("k")
    xent = T.nnet.crossentropy_categorical_1hot
    # the inputs are not softmaxes, so the rewrites keep the op as it is
    fc, fp = compile_both([p, y, pf, yb, q, k], [xent(p, y), xent(pf, yb), xent(q, k)],
                          CrossentropyCategorical1Hot)
    rng = np.random.default_rng(2)
    for rows, classes in [(5, 4), (1, 1), (0, 3)]:
        pv = rng.uniform(0, 1, (rows, classes))
        pv[:, 0] = 0.0  # -log(0) = inf
        yv = rng.integers(0, classes, rows).astype("int32")
        qv = rng.uniform(0, 1, 4)
        for lp, ly in zip(layouts(pv), layouts(yv)):
            same_results(fc, fp, lp, ly, lp.astype("float32"), ly.astype("uint8"), qv, 3,
                         exact=False)
    good = (np.ones((2, 3)), np.zeros(2, "int32"), np.ones((2, 3), "float32"),
            np.zeros(2, "uint8"), np.ones(4), 0)
    for i, bad in [(1, np.array([0, 3], "int32")), (1, np.array([-1, 0], "int32")),
                   (3, np.array([0, 200], "uint8")), (5, 4), (1, np.zeros(3, "int32"))]:
        args = list(good)
        args[i] = bad
        same_error(fc, fp, *args)
    args = list(good)
    args[0], args[1] = np.ones((2, 0)), np.array([0, 0], "int32")
    assert "no classes" in str(same_error(fc, fp, *args))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_crossentropy_softmax_argmax_1hot_with_bias(dtype):
    x, b, y = T.matrix("x", dtype=dtype), T.vector("b", dtype=dtype), T.lvector("y")
    xi, y16 = T.imatrix("xi"), T.vector("y16", dtype="int16")
    op = T.nnet.crossentropy_softmax_argmax_1hot_with_bias
    outs = list(op(x, b, y)) + list(CrossentropySoftmaxArgmax1HotWithBias()(x, y16)) + \
        list(op(xi, b, y))
    fc, fp = compile_both([x, b, y, xi, y16], outs, CrossentropySoftmaxArgmax1HotWithBias)
    rng = np.random.default_rng(3)
    for rows, classes in [(8, 5), (1, 1), (7, 2), (0, 4), (300, 700)]:
        xv = extremes((rows, classes), dtype, rng)
        bv = rng.standard_normal(classes).astype(dtype)
        yv = rng.integers(0, classes, rows)
        xiv = rng.integers(-5, 5, (rows, classes)).astype("int32")
        for lx, lb, ly, li in zip(layouts(xv), layouts(bv), layouts(yv), layouts(xiv)):
            same_results(fc, fp, lx, lb, ly, li, ly.astype("int16"),
                         exact=False, where=f"{(rows, classes)}")
    good = [np.ones((2, 3), dtype), np.ones(3, dtype), np.zeros(2, "int64"),
            np.ones((2, 3), "int32"), np.zeros(2, "int16")]
    for i, bad in [(1, np.ones(4, dtype)), (2, np.zeros(3, "int64")),
                   (2, np.array([0, 3])), (4, np.array([-1, 0], "int16"))]:
        args = list(good)
        args[i] = bad
        same_error(fc, fp, *args)
