"""Gradients of the reductions (Sum, Prod, Max, Min, All, Any, Argmax, Argmin, CAReduce) and
of mean/var/std built from them: finite differences and the Rop/Lop identity over axis forms,
keepdims and shapes with size-1 and size-0 dimensions; Theano's semantics for zeros in
products, ties in max/min and the integer-valued reductions; second derivatives."""
from __future__ import annotations

import numpy as np
import pytest

from gradcheck import check_grad
from workbench import tensor as T
from workbench.compiler.ops import reduce as ops
from workbench.compiler.ops import scalar
from workbench.gradient import DisconnectedInputError, NullTypeGradError, Rop, grad

AXES = [None, 0, -1, (0, 1), ()]
SHAPES = [(3, 4), (1, 4), (2, 3, 2)]
FUNCTIONS = ["sum", "prod", "max", "min", "mean"]


def _values(shape, seed=0, low=0.5, high=1.5):
    """Distinct values away from zero, with both signs: no kinks for max/min, no zero for
    prod, no ties."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    magnitudes = low + (high - low) * (rng.permutation(n) + rng.uniform(0.1, 0.9, n)) / max(n, 1)
    signs = np.where(rng.uniform(size=n) < 0.3, -1.0, 1.0)
    return (magnitudes * signs).reshape(shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("fn", FUNCTIONS)
def test_reduction_grad(fn, shape, axis):
    reduce = getattr(T, fn)
    check_grad(lambda x: reduce(x, axis=axis), _values(shape))


@pytest.mark.parametrize("axis", [1, [0, -1]])
@pytest.mark.parametrize("fn", FUNCTIONS)
def test_reduction_keepdims_grad(fn, axis):
    reduce = getattr(T, fn)
    check_grad(lambda x: reduce(x, axis=axis, keepdims=True), _values((2, 3, 2)))


@pytest.mark.parametrize("fn", ["var", "std"])
@pytest.mark.parametrize("axis", [None, 1])
@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std_grad(fn, axis, ddof):
    reduce = getattr(T, fn)
    check_grad(lambda x: reduce(x, axis=axis, ddof=ddof), _values((3, 4)))
    if axis is not None and ddof:
        check_grad(lambda x: reduce(x, axis=axis, ddof=ddof, keepdims=True), _values((3, 4)))


@pytest.mark.parametrize("corrected", [False, True])
def test_var_corrected_grad(corrected):
    check_grad(lambda x: T.var(x, axis=1, corrected=corrected), _values((2, 5)))


@pytest.mark.parametrize("shape,axis", [((0, 3), 0), ((0, 3), 1), ((2, 0), None), ((0,), 0)])
def test_sum_prod_of_empty_inputs(shape, axis):
    x = np.zeros(shape)
    check_grad(lambda v: T.sum(v, axis=axis), x)
    check_grad(lambda v: T.prod(v, axis=axis), x)


def test_sum_dtype_and_acc_dtype():
    x = _values((3, 4))
    check_grad(lambda v: T.sum(v, axis=0, acc_dtype="float64"), x)
    check_grad(lambda v: T.sum(v, axis=1, dtype="float64"), x.astype("float32"), rop=False)
    f32 = T.fmatrix("f")
    g = grad(T.sum(f32, dtype="float64"), f32)
    assert g.dtype == "float32"
    np.testing.assert_array_equal(g.eval({f32: np.ones((2, 2), "float32")}), np.ones((2, 2)))


@pytest.mark.parametrize("op", [scalar.add, scalar.mul, scalar.maximum, scalar.minimum])
@pytest.mark.parametrize("axis", [None, 0, (0, 1)])
def test_generic_careduce_grad(op, axis):
    check_grad(lambda x: ops.CAReduce(op, axis=axis)(x), _values((3, 2, 2)))


def test_careduce_without_gradient_names_the_op():
    x = T.dvector("x")
    y = ops.CAReduce(scalar.sub)(x)
    with pytest.raises(NullTypeGradError, match=r"CAReduce\{sub\}.*not implemented"):
        grad(y, x)


def test_sum_rop_is_the_sum_of_the_tangent():
    x, v = T.dmatrix("x"), T.dmatrix("v")
    jv = Rop(T.sum(x, axis=0), x, v)
    assert isinstance(jv.owner.op, ops.Sum)
    vals = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(jv.eval({x: np.ones((2, 3)), v: vals}), vals.sum(0))


# ---------------------------------------------------------------------------------------
# prod with zeros: exact gradients, no division by zero


def _grad_of(cost_fn, value):
    x = T.dvector("x")
    return grad(cost_fn(x), x).eval({x: np.asarray(value, dtype="float64")})


def test_prod_grad_with_one_zero():
    got = _grad_of(T.prod, [2.0, 0.0, 3.0, 4.0])
    np.testing.assert_array_equal(got, [0.0, 24.0, 0.0, 0.0])


def test_prod_grad_with_two_zeros():
    got = _grad_of(T.prod, [2.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(got, [0.0, 0.0, 0.0, 0.0])


def test_prod_grad_without_zeros():
    got = _grad_of(T.prod, [2.0, -1.0, 3.0, 4.0])
    np.testing.assert_allclose(got, [-12.0, 24.0, -8.0, -6.0])


def test_prod_grad_with_zeros_per_group():
    x = T.dmatrix("x")
    value = np.array([[2.0, 0.0, 5.0], [0.0, 0.0, 7.0], [1.0, 2.0, 3.0]])
    got = grad(T.sum(T.prod(x, axis=1) * [1.0, 10.0, 100.0]), x).eval({x: value})
    want = np.array([[0.0, 10.0, 0.0], [0.0, 0.0, 0.0], [600.0, 300.0, 200.0]])
    np.testing.assert_allclose(got, want)
    assert np.isfinite(got).all()


@pytest.mark.parametrize("value", [[[2.0, 0.0, 3.0], [0.0, 5.0, 0.0]],
                                   [[0.0, 1.5, -2.0], [0.7, 0.0, 1.2]]])
def test_prod_grad_with_zeros_matches_finite_differences(value):
    # prod is a polynomial, smooth at zeros too: central differences are exact
    check_grad(lambda x: T.prod(x, axis=1), np.array(value))
    check_grad(lambda x: T.prod(x, axis=0), np.array(value))
    check_grad(lambda x: T.prod(x), np.array(value))


def test_prod_no_zeros_in_input_uses_p_over_x():
    check_grad(lambda x: T.prod(x, axis=0, no_zeros_in_input=True), _values((3, 2)))


@pytest.mark.parametrize("value,want", [
    ([2.0, 3.0, 4.0], [[0, 4, 3], [4, 0, 2], [3, 2, 0]]),
    ([0.0, 3.0, 4.0], [[0, 4, 3], [4, 0, 0], [3, 0, 0]]),
    ([0.0, 0.0, 4.0], [[0, 4, 0], [4, 0, 0], [0, 0, 0]]),
    ([0.0, 0.0, 0.0], [[0, 0, 0], [0, 0, 0], [0, 0, 0]]),
])
def test_prod_hessian_is_exact_at_zeros_too(value, want):
    x = T.dvector("x")
    h = T.hessian(T.prod(x), x)
    np.testing.assert_allclose(h.eval({x: np.array(value)}), np.array(want, dtype=float))


# ---------------------------------------------------------------------------------------
# max/min: the gradient goes to every element equal to the extremum (Theano 1.0)


def test_max_grad_with_ties_goes_to_every_maximum():
    got = _grad_of(T.max, [1.0, 5.0, 3.0, 5.0])
    np.testing.assert_array_equal(got, [0.0, 1.0, 0.0, 1.0])


def test_min_grad_with_ties_goes_to_every_minimum():
    x = T.dmatrix("x")
    value = np.array([[1.0, 1.0, 3.0], [4.0, 2.0, 6.0]])
    got = grad(T.sum(T.min(x, axis=1) * [2.0, 3.0]), x).eval({x: value})
    np.testing.assert_array_equal(got, [[2.0, 2.0, 0.0], [0.0, 3.0, 0.0]])


def test_max_grad_second_derivative_is_zero():
    x = T.dvector("x")
    h = T.hessian(T.max(x), x)
    np.testing.assert_array_equal(h.eval({x: [1.0, 3.0, 2.0]}), np.zeros((3, 3)))


# ---------------------------------------------------------------------------------------
# integer-valued reductions: disconnected


def test_grad_of_argmax_raises():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="cost must be a float"):
        grad(T.argmax(x), x)


@pytest.mark.parametrize("fn", [T.argmax, T.argmin])
def test_argmax_argmin_are_disconnected(fn):
    x = T.dmatrix("x")
    cost = T.cast(fn(x, axis=1), "float64").sum()
    with pytest.raises(DisconnectedInputError):
        grad(cost, x)
    g = grad(cost, x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(g.eval({x: np.ones((2, 3))}), np.zeros((2, 3)))
    node = fn(x, axis=1).owner
    assert node.op.connection_pattern(node) == [[False]]


def test_max_times_zero_plus_sum_is_fine():
    x = T.dvector("x")
    g = grad(T.max(x) * 0 + x.sum(), x)
    np.testing.assert_array_equal(g.eval({x: [1.0, 4.0, 2.0]}), [1.0, 1.0, 1.0])
    _, idx = T.max_and_argmax(x)
    g = grad(T.max(x) + T.cast(idx, "float64") * 0, x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(g.eval({x: [1.0, 4.0, 2.0]}), [0.0, 1.0, 0.0])


@pytest.mark.parametrize("fn", [T.all, T.any])
def test_all_any_are_disconnected(fn):
    x = T.dmatrix("x")
    node = fn(x, axis=0).owner
    assert isinstance(node.op, (ops.All, ops.Any))
    assert node.op.connection_pattern(node) == [[False]]
    cost = T.cast(fn(x, axis=0), "float64").sum()
    with pytest.raises(DisconnectedInputError):
        grad(cost, x)


def test_integer_input_gets_zero_gradient():
    # Theano: the gradient with respect to an integer input is zero (of floatX)
    x = T.imatrix("x")
    gx = grad(T.sum(x, dtype="float64"), x)
    assert gx.dtype.startswith("float")
    value = np.array([[1, 2], [3, 4]], dtype="int32")
    np.testing.assert_array_equal(gx.eval({x: value}), np.zeros((2, 2)))


# ---------------------------------------------------------------------------------------
# second derivatives


def test_hessian_of_sum_of_squares_over_an_axis():
    x = T.dvector("x")
    h = T.hessian(T.sum(T.sum(x.dimshuffle("x", 0) * x.dimshuffle(0, "x"), axis=0)), x)
    np.testing.assert_allclose(h.eval({x: [1.0, 2.0, 3.0]}), 2 * np.ones((3, 3)))


def test_hessian_of_var():
    x = T.dvector("x")
    n = 4
    h = T.hessian(T.var(x), x).eval({x: [1.0, 2.0, 4.0, 8.0]})
    np.testing.assert_allclose(h, 2.0 / n * (np.eye(n) - np.ones((n, n)) / n), atol=1e-12)


def test_grad_of_grad_of_prod_over_an_axis():
    check_grad(lambda x: grad(T.sum(T.prod(x, axis=1) ** 2), x), _values((2, 2)))
