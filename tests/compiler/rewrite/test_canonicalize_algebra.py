"""canonicalize: products and sums flattened, cancelled, folded and rebuilt."""
from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench import tensor as T

from rewritecheck import pass_ops as canonical_ops
from rewritecheck import compare as _compare


def compare(inputs, output, values, mode=None):
    return _compare(inputs, output, values, mode, rtol=1e-5)


def ops_anywhere(f):
    """Every op of the compiled graph, fused ones spelled out."""
    return " ".join(str(n.op) for n in f.maker.fgraph.toposort())


# -- the acceptance -----------------------------------------------------------------

def test_x_times_y_over_x_has_no_division(rng):
    x, y = T.dmatrices("x", "y")
    X, Y = rng.normal(size=(3, 4)) + 3, rng.normal(size=(3, 4))
    f, ref = compare([x, y], x * y / x, [X, Y])
    assert "true_div" in ops_anywhere(ref)
    assert "true_div" not in ops_anywhere(f) and "mul" not in ops_anywhere(f)
    assert "local_mul_canonizer" in f.trace.fired()
    out = f(X, Y)
    assert out.shape == Y.shape
    np.testing.assert_array_equal(out, Y)


def test_x_times_y_over_x_keeps_the_broadcast_shape(rng):
    # a cancelled term still contributes its shape: x matrix, y vector -> a matrix
    x, y = T.dmatrix("x"), T.dvector("y")
    f, _ = compare([x, y], x * y / x, [rng.normal(size=(3, 4)) + 3, rng.normal(size=4)])
    assert "true_div" not in ops_anywhere(f)
    assert f(np.ones((3, 4)), np.arange(4.0)).shape == (3, 4)
    # and the same where y is the wider one at run time
    g, _ = compare([x, y], x * y / x, [np.full((1, 4), 2.0), rng.normal(size=4)])
    a, b = T.dmatrices("a", "b")
    h, _ = compare([a, b], a * b / a, [np.full((1, 4), 2.0), rng.normal(size=(3, 4))])
    assert h(np.full((3, 1), 2.0), np.ones((1, 4))).shape == (3, 4)


def test_cancellation_without_broadcast_needs_no_alloc(rng):
    # the kept x has every dimension of the cancelled (1 + x*x): no Alloc is needed
    x, y = T.dmatrices("x", "y")
    d = 1 + x * x
    f, _ = compare([x, y], (x * y) / d * d, [rng.normal(size=(3, 4)), rng.normal(size=(3, 4))])
    assert "Alloc" not in canonical_ops(f)
    assert canonical_ops(f) == ["Elemwise{mul}"]


def test_cancel_common_factors(rng):
    x, y, z = T.dmatrices("x", "y", "z")
    values = [rng.normal(size=(2, 3)), rng.normal(size=(2, 3)) + 3, rng.normal(size=(2, 3)) + 3]
    f, ref = compare([x, y, z], (x * y) / (y * z), values)
    ops = canonical_ops(f)
    assert ops.count("Elemwise{true_div}") == 1 and "Elemwise{mul}" not in ops


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_constants_fold(rng, dtype):
    x = T.tensor(dtype, shape=(None,), name="x")
    f, ref = compare([x], 2 * x * 3, [rng.normal(size=5).astype(dtype)])
    assert canonical_ops(f) == ["Elemwise{mul}"]
    assert f.maker.fgraph.outputs[0].dtype == dtype


def test_one_division_at_most(rng):
    a, b, c, d = T.dvectors("a", "b", "c", "d")
    values = [rng.normal(size=3) + 4 for _ in range(4)]
    f, ref = compare([a, b, c, d], (a / b) / (c / d), values)
    assert [str(n.op) for n in ref.maker.fgraph.toposort()].count("Elemwise{true_div}") == 3
    assert canonical_ops(f).count("Elemwise{true_div}") == 1


def test_negations_fold_into_the_product(rng):
    x, y = T.dvectors("x", "y")
    f, _ = compare([x, y], (-x) * (-y) + -(2 * x), [rng.normal(size=3), rng.normal(size=3)])
    assert "Elemwise{neg}" not in canonical_ops(f)


def test_division_by_a_lone_constant_is_kept(rng):
    # x / 3 is not rewritten to x * 0.333...: it would round differently
    x = T.dvector("x")
    f, _ = compare([x], x / 3, [rng.normal(size=3)])
    assert "local_mul_canonizer" not in f.trace.fired()
    assert canonical_ops(f) == ["Elemwise{true_div}"]


def test_integer_products_are_not_cancelled():
    # decided: integer multiplication wraps around, so (x * y) / x is not y after an overflow
    x, y = T.ivectors("x", "y")
    big = np.array([2 ** 30, 3], dtype="int32")
    f, _ = compare([x, y], (x * y) / x, [big, np.array([4, 5], dtype="int32")])
    assert "local_mul_canonizer" not in f.trace.fired()
    assert f(big, np.array([4, 5], dtype="int32"))[0] == 0.0  # 2**32 wrapped to 0


def test_integer_terms_cancel_in_a_float_product(rng):
    x, i = T.fvector("x"), T.bvector("i")
    f, _ = compare([x, i], (x * i) / i, [rng.normal(size=3).astype("float32"),
                                           np.array([1, 2, 3], dtype="int8")])
    assert "local_mul_canonizer" in f.trace.fired()
    assert "true_div" not in ops_anywhere(f)


def test_shared_subexpressions_are_not_flattened(rng):
    # x * y is read twice: flattening it into the quotient would compute it twice
    x, y, z = T.dvectors("x", "y", "z")
    xy = x * y
    f, _ = compare([x, y, z], [xy / z, xy + 1], [rng.normal(size=3) for _ in range(3)])
    assert "local_mul_canonizer" not in f.trace.fired()


def test_alloc_sinks_out_of_a_product(rng):
    s, n = T.dscalar("s"), T.lscalar("n")
    f, _ = compare([s, n], -T.alloc(s, n) * 3.0, [1.5, 4])
    ops = canonical_ops(f)
    # the product runs on the scalar; one Alloc at the end
    assert ops[-1] == "Alloc" and ops.count("Alloc") == 1


# -- sums ---------------------------------------------------------------------------------

def test_sum_constants_fold(rng):
    x = T.dmatrix("x")
    f, _ = compare([x], 1 + x + 2, [rng.normal(size=(2, 3))])
    assert canonical_ops(f) == ["Elemwise{add}"]
    assert "local_add_canonizer" in f.trace.fired()


def test_plus_negation_is_a_subtraction(rng):
    x, y = T.dmatrices("x", "y")
    f, _ = compare([x, y], x + (-y), [rng.normal(size=(2, 3)), rng.normal(size=(2, 3))])
    assert canonical_ops(f) == ["Elemwise{sub}"]
    g, _ = compare([x, y], x - (-y), [rng.normal(size=(2, 3)), rng.normal(size=(2, 3))])
    assert canonical_ops(g) == ["Elemwise{add}"]


def test_one_subtraction_at_most(rng):
    a, b, c, d = T.dmatrices("a", "b", "c", "d")
    f, _ = compare([a, b, c, d], (a - b) + (c - d), [rng.normal(size=(2, 3)) for _ in range(4)])
    assert canonical_ops(f).count("Elemwise{sub}") == 1


def test_sum_cancellation_keeps_the_broadcast_shape(rng):
    a, b = T.dmatrix("a"), T.dvector("b")
    f, _ = compare([a, b], a - a + b, [rng.normal(size=(2, 3)), rng.normal(size=3)])
    assert "Elemwise{sub}" not in canonical_ops(f)
    assert f(np.zeros((2, 3)), np.ones(3)).shape == (2, 3)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64"])
def test_integer_sums_wrap_as_numpy(dtype):
    x = T.tensor(dtype, shape=(None,), name="x")
    values = np.array([0, 1, 100, 127], dtype=dtype)
    f, _ = compare([x], x + 100 + 100 - x + x, [values])
    assert "local_add_canonizer" in f.trace.fired()


def test_bool_sums_are_left_alone():
    x = T.TensorType("bool", (None,))("x")
    f, _ = compare([x], x + x, [np.array([True, False])])
    assert "local_add_canonizer" not in f.trace.fired()


def test_float32_terms_of_a_float64_sum_stay_float64(rng):
    a = T.fvector("a")
    b = T.dvector("b")
    # after cancelling b, a + a must still be computed in float64
    f, _ = compare([a, b], (a + b) - b + a, [np.array([3e38, 1.0], dtype="float32"),
                                             rng.normal(size=2)])
    assert f.maker.fgraph.outputs[0].dtype == "float64"
    assert np.isfinite(f(np.array([3e38], dtype="float32"), np.zeros(1))).all()


def test_exp_twice_is_computed_once(rng):
    x = T.dvector("x")
    f, ref = compare([x], T.exp(x) + T.exp(x), [rng.normal(size=4)])
    assert [str(n.op) for n in ref.maker.fgraph.toposort()].count("Elemwise{exp}") == 2
    assert canonical_ops(f).count("Elemwise{exp}") == 1
    assert "merge" in f.trace.fired()


def test_canonizers_can_be_excluded(rng):
    x, y = T.dmatrices("x", "y")
    mode = workbench.Mode().excluding("local_mul_canonizer")
    f, _ = compare([x, y], x * y / x, [rng.normal(size=(2, 2)) + 3, rng.normal(size=(2, 2))],
                   mode=mode)
    assert "local_mul_canonizer" not in f.trace.fired()
    assert "true_div" in ops_anywhere(f)
