"""canonicalize: identities with a constant operand (x*1, x+0, --x, x-x, x*0, x**c...)."""
from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench import tensor as T

from rewritecheck import compare


def count(f, name):
    """How many nodes of the canonicalized graph apply ``name`` (before fusion hides them)."""
    snapshot = f.trace["canonicalize"].snapshot if f.trace.passes else None
    nodes = [n for n, _ in snapshot.order] if snapshot else f.maker.fgraph.toposort()
    return sum(str(n.op) == name for n in nodes)


def count_ref(ref, name):
    return sum(str(n.op) == name for n in ref.maker.fgraph.toposort())


@pytest.fixture
def M(rng):
    return rng.normal(size=(3, 4))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_mul_by_one(M, dtype):
    x = T.tensor(dtype, shape=(None, None), name="x")
    f, ref = compare([x], x * 1 + (1 * x) * 1, [(M * 10).astype(dtype)])
    assert count_ref(ref, "Elemwise{mul}") == 3
    assert count(f, "Elemwise{mul}") == 0
    assert f.trace.fired()["local_mul_by_one"] == 3


def test_mul_by_one_keeps_dtype_and_dimensions(rng):
    x = T.bvector("x")
    out = T.constant(np.ones((1, 1))) * x  # float64 matrix
    f, _ = compare([x], out, [np.array([1, -2, 3], dtype="int8")])
    assert "local_mul_by_one" in f.trace.fired()
    assert f.maker.fgraph.outputs[0].type.ndim == 2


def test_mul_by_ones_that_broadcast_is_kept(rng):
    x = T.dvector("x")
    f, _ = compare([x], T.constant(np.ones((3, 4))) * x, [rng.normal(size=4)])
    assert "local_mul_by_one" not in f.trace.fired()


@pytest.mark.parametrize("make", [lambda x: x + 0, lambda x: 0 + x, lambda x: x - 0.0])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_add_zero(M, make, dtype):
    x = T.tensor(dtype, shape=(None, None), name="x")
    f, _ = compare([x], make(x), [(M * 10).astype(dtype)])
    assert f.trace.fired()["local_add_zero"] == 1
    assert count(f, "Elemwise{add}") + count(f, "Elemwise{sub}") == 0


def test_div_by_one_casts_integers(M):
    x = T.ivector("x")
    f, ref = compare([x], x / 1, [np.arange(4, dtype="int32")])
    assert count_ref(ref, "Elemwise{true_div}") == 1
    assert count(f, "Elemwise{true_div}") == 0
    assert [str(n.op) for n in f.maker.fgraph.toposort()] == ["Elemwise{convert_to_float64}"]


def test_floor_div_by_one_only_for_integers(rng):
    i, x = T.ivector("i"), T.dvector("x")
    f, _ = compare([i], i // 1, [np.arange(-3, 3, dtype="int32")])
    assert "local_div_by_one" in f.trace.fired()
    g, _ = compare([x], x // 1, [rng.normal(size=5) * 3])  # floor(x) for floats
    assert "local_div_by_one" not in g.trace.fired()


@pytest.mark.parametrize("dtype", ["float64", "int8"])
def test_neg_neg(dtype):
    x = T.tensor(dtype, shape=(None,), name="x")
    f, ref = compare([x], -(-x), [np.array([-128, -1, 0, 5, 127]).astype(dtype)])
    assert count_ref(ref, "Elemwise{neg}") == 2
    assert count(f, "Elemwise{neg}") == 0
    assert "local_neg_neg" in f.trace.fired()


def test_sub_self_gives_zeros_of_the_shape(M):
    x = T.dmatrix("x")
    f, ref = compare([x], x - x, [M])
    assert count_ref(ref, "Elemwise{sub}") == 1
    assert count(f, "Elemwise{sub}") == 0
    assert "local_sub_self" in f.trace.fired()


def test_zero_sub_is_neg(M):
    x = T.fmatrix("x")
    f, _ = compare([x], 0 - x, [M.astype("float32")])
    assert "local_zero_sub" in f.trace.fired()
    assert [str(n.op) for n in f.maker.fgraph.toposort()] == ["Elemwise{neg}"]


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_mul_by_zero_has_the_shape_of_both_operands(rng, dtype):
    # x * 0 where the other operand is wider: zeros of the broadcast shape, not x's
    x, y = T.tensor(dtype, shape=(None,), name="x"), T.imatrix("y")
    values = [rng.integers(0, 2, size=4).astype(dtype), rng.integers(-5, 5, size=(3, 4))
              .astype("int32")]
    f, ref = compare([x, y], (x * 0) + y * 0, values)
    assert f.trace.fired()["local_mul_by_zero"] == 2
    assert count(f, "Elemwise{mul}") == 0
    x1 = T.TensorType(dtype, (1, None))("x1")
    g, _ = compare([x1, y], x1 * 0 + y, [values[0][None, :], values[1]])
    assert "local_mul_by_zero" in g.trace.fired()
    assert g(values[0][None, :], values[1]).shape == (3, 4)


def test_float_times_zero_keeps_nan_unless_asked(rng):
    # NumPy: nan * 0 and inf * 0 are NaN; Theano's x * 0 -> 0 is an opt-in rewrite
    x = T.dvector("x")
    values = [np.array([np.nan, np.inf, 2.0])]
    f, _ = compare([x], x * 0, values)
    assert "local_mul_by_zero" not in f.trace.fired()
    assert np.isnan(f(*values)[:2]).all()
    theano_like = workbench.Mode().including("local_mul_by_zero_ignoring_nan")
    g = workbench.function([x], x * 0, mode=theano_like)
    assert g.trace.fired()["local_mul_by_zero_ignoring_nan"] == 1
    assert g(*values).tolist() == [0.0, 0.0, 0.0]


def test_zero_over_x_is_not_zero(rng):
    # 0 / 0 is NaN: a zero numerator is not folded
    x = T.bvector("x")
    f, _ = compare([x], 0 / x, [np.array([0, 1, -2], dtype="int8")])
    assert np.isnan(f(np.array([0], dtype="int8"))).all()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_pow_zero_and_one(M, dtype):
    x = T.tensor(dtype, shape=(None, None), name="x")
    f, ref = compare([x], x ** 1 + x ** 0, [(np.abs(M) * 10).astype(dtype)])
    assert count_ref(ref, "Elemwise{pow}") == 2
    assert count(f, "Elemwise{pow}") == 0
    assert f.trace.fired()["local_pow_canonicalize"] == 2


@pytest.mark.parametrize("exponent, op", [(2, "sqr"), (0.5, "sqrt"), (-1, "true_div"),
                                          (-0.5, "sqrt")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pow_special_exponents(M, exponent, op, dtype):
    x = T.tensor(dtype, shape=(None, None), name="x")
    f, ref = compare([x], abs(x) ** exponent, [M.astype(dtype)])
    assert count(f, "Elemwise{pow}") == 0
    assert count(f, f"Elemwise{{{op}}}") == 1
    assert "local_pow_special_exponent" in f.trace.fired()


def test_pow_of_int8_by_float_is_squared_in_float():
    # int8 ** 2.0 is float64 in NumPy: squaring in int8 would wrap around
    x = T.bvector("x")
    f, _ = compare([x], x ** 2.0, [np.array([100, -100, 3], dtype="int8")])
    assert "local_pow_special_exponent" in f.trace.fired()
    assert f(np.array([100], dtype="int8")).tolist() == [10000.0]


def test_integer_to_negative_power_is_left_alone():
    x = T.ivector("x")
    f = workbench.function([x], x ** -1)
    assert "local_pow_special_exponent" not in f.trace.fired()
    with pytest.raises(ValueError):
        f(np.array([1, 2], dtype="int32"))


def test_rule_can_be_excluded_by_name(M):
    x = T.dmatrix("x")
    f, _ = compare([x], x * 1, [M], mode=workbench.Mode().excluding("local_mul_by_one",
                                                                       "local_mul_canonizer"))
    assert "local_mul_by_one" not in f.trace.fired()
    assert count(f, "Elemwise{mul}") == 1
