"""Theano 1.0 compatibility of the tensor namespace (``T.*``): programs and examples taken
from Theano's documentation (library/tensor/basic, nnet), checked against NumPy / SciPy.

Each test is a regression test for a place where workbench departed from what Theano 1.0
documents."""
from __future__ import annotations

import numpy as np
import pytest

import workbench as theano
from workbench import tensor as T


# -- constructors ---------------------------------------------------------------------------
def test_plural_constructor_splits_one_string_into_one_variable_per_character():
    # basic.txt, stacklists: ``a, b, c, d = scalars('abcd')``
    a, b, c, d = T.scalars("abcd")
    assert [v.name for v in (a, b, c, d)] == ["a", "b", "c", "d"]
    X = T.stacklists([[a, b], [c, d]])
    f = theano.function([a, b, c, d], X)
    assert f(1, 2, 3, 4).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    m = T.matrices("abcd")
    assert len(m) == 4 and all(v.ndim == 2 for v in m)
    assert [v.dtype for v in T.iscalars("xy")] == ["int32", "int32"]
    assert [v.dtype for v in T.scalars("xy", dtype="int8")] == ["int8", "int8"]


def test_plural_constructor_one_character_name_gives_the_variable():
    x = T.dscalars("x")
    assert x.name == "x" and x.type == T.dscalar
    assert T.fmatrices("m").type == T.fmatrix
    # several names and a count still give lists
    assert [v.name for v in T.dmatrices("x", "y", "z")] == ["x", "y", "z"]
    assert len(T.dmatrices(3)) == 3


def test_tensor_type_make_variable():
    v = T.dmatrix.make_variable("q")
    assert v.name == "q" and v.type == T.dmatrix


# -- TensorVariable methods listed in basic.txt -----------------------------------------------
def test_nonzero_values_and_get_scalar_constant_value_methods():
    v = T.dvector("v")
    assert v.nonzero_values().eval({v: [0.0, 2.0, 0.0, 3.0]}).tolist() == [2.0, 3.0]
    assert T.constant(3).get_scalar_constant_value() == 3
    with pytest.raises(T.NotScalarConstantError):
        v.get_scalar_constant_value()


def test_conjugate_method():
    z = T.zvector("z")
    assert z.conjugate().eval({z: [1 + 2j]}).tolist() == [1 - 2j]


# -- reductions ----------------------------------------------------------------------------
def test_ptp_matches_numpy():
    x = T.dmatrix("x")
    a = np.array([[1.0, 5.0, -2.0], [7.0, 2.0, 0.5]])
    for axis in (None, 0, 1, -1):
        np.testing.assert_array_equal(T.ptp(x, axis).eval({x: a}), np.ptp(a, axis))
        np.testing.assert_array_equal(x.ptp(axis=axis).eval({x: a}), np.ptp(a, axis))
    np.testing.assert_array_equal(T.ptp(x, 1, keepdims=True).eval({x: a}),
                                  np.ptp(a, 1, keepdims=True))
    b = T.bvector("b")
    assert T.ptp(b).dtype == np.ptp(np.zeros(1, "int8")).dtype.name


# -- products ------------------------------------------------------------------------------
@pytest.mark.parametrize("xs, ys, axes", [
    ((5, 2, 3), (5, 4, 6, 3), [[2], [3]]),
    ((5, 2, 3, 4), (5, 3, 4, 6), 2),
    ((5, 3), (5, 3), 1),
    ((5, 2, 3), (5, 3, 2), [[1, 2], [2, 1]]),
    ((5, 2, 3), (5, 3, 4), [[-1], [1]]),
    ((5, 2), (5, 3), 0),
])
def test_batched_tensordot_is_a_tensordot_per_batch(xs, ys, axes):
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal(xs), rng.standard_normal(ys)
    x = T.TensorType("float64", (None,) * len(xs))("x")
    y = T.TensorType("float64", (None,) * len(ys))("y")
    out = T.batched_tensordot(x, y, axes)
    if isinstance(axes, int):
        per_item = [list(range(len(xs) - 1 - axes, len(xs) - 1)), list(range(axes))]
    else:
        per_item = [[a % len(xs) - 1 for a in axes[0]], [a % len(ys) - 1 for a in axes[1]]]
    ref = np.stack([np.tensordot(A[i], B[i], per_item) for i in range(5)])
    got = out.eval({x: A, y: B})
    assert out.ndim == ref.ndim
    np.testing.assert_allclose(got, ref)


def test_batched_tensordot_refuses_the_batch_axis():
    with pytest.raises(ValueError, match="batch axis"):
        T.batched_tensordot(T.dtensor3(), T.dtensor3(), [[0], [0]])


# -- mesh grids ----------------------------------------------------------------------------
def test_mgrid_and_ogrid_as_documented():
    a = T.mgrid[0:5, 0:3]
    assert a[0].eval().tolist() == np.mgrid[0:5, 0:3][0].tolist()
    assert a[1].eval().tolist() == np.mgrid[0:5, 0:3][1].tolist()
    b = T.ogrid[0:5, 0:3]
    assert b[0].eval().tolist() == [[0], [1], [2], [3], [4]]
    assert b[1].eval().tolist() == [[0, 1, 2]]
    for got, ref in zip(T.mgrid[0:2, 1:7:2, 0:4], np.mgrid[0:2, 1:7:2, 0:4]):
        np.testing.assert_array_equal(got.eval(), ref)
    n = T.lscalar("n")
    assert T.mgrid[0:n, 0:2][0].eval({n: 3}).shape == (3, 2)


# -- elementwise functions -----------------------------------------------------------------
def test_polygamma_and_chi2sf_match_scipy():
    import scipy.special
    import scipy.stats

    x = T.dvector("x")
    xs = np.array([0.5, 1.0, 3.0])
    np.testing.assert_allclose(T.polygamma(1, x).eval({x: xs}), scipy.special.polygamma(1, xs))
    np.testing.assert_allclose(T.polygamma(0, x).eval({x: xs}), scipy.special.psi(xs))
    np.testing.assert_allclose(T.chi2sf(x, 3).eval({x: xs}), scipy.stats.chi2.sf(xs, 3))


def test_largest_and_smallest():
    a, b = T.dvectors("a", "b")
    vals = {a: [1.0, 5.0], b: [3.0, 0.0]}
    assert T.largest(a, b).eval(vals).tolist() == [3.0, 5.0]
    assert T.largest(a, b, 4.0).eval(vals).tolist() == [4.0, 5.0]
    assert T.smallest(a, b, 0.5).eval(vals).tolist() == [0.5, 0.0]


# -- choose (basic.txt: theano.tensor.basic.choose) ----------------------------------------
def test_choose_matches_numpy():
    a = T.lvector("a")
    m = T.dmatrix("m")
    choices = np.arange(6.0).reshape(2, 3)
    idx = np.array([0, 1, 0])
    np.testing.assert_array_equal(T.choose(a, m).eval({a: idx, m: choices}),
                                  np.choose(idx, choices))
    # a list of choices, broadcast with the index
    im, v = T.imatrix("im"), T.dvector("v")
    out = T.choose(im, [5, v])
    A = np.array([[0, 1], [1, 0]], "int32")
    assert out.type.ndim == 2 and out.dtype == "float64"
    np.testing.assert_array_equal(out.eval({im: A, v: [7.0, 8.0]}),
                                  np.choose(A, [5, np.array([7.0, 8.0])]))
    for mode in ("wrap", "clip"):
        np.testing.assert_array_equal(
            a.choose([[1, 2, 3], [4, 5, 6]], mode=mode).eval({a: [5, -1, 2]}),
            np.choose([5, -1, 2], [[1, 2, 3], [4, 5, 6]], mode=mode))
    with pytest.raises(ValueError):
        T.choose(a, [[1, 2, 3], [4, 5, 6]]).eval({a: [5, 0, 0]})
    with pytest.raises(TypeError, match="integers"):
        T.choose(T.dvector(), [[1.0], [2.0]])
