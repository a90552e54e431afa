import numpy as np
import pytest

import workbench as theano
from workbench import tensor as T
from workbench.tensor.shared_randomstreams import RandomStreams


def test_tutorial_random_streams():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = theano.function([], rv_u)
    g = theano.function([], rv_n, no_default_updates=True)
    nearly_zeros = theano.function([], rv_u + rv_u - 2 * rv_u)
    a, b = f(), f()
    assert a.shape == (2, 2) and a.dtype == theano.config.floatX
    assert not np.allclose(a, b)
    assert ((0 <= a) & (a < 1)).all()
    np.testing.assert_array_equal(g(), g())
    np.testing.assert_allclose(nearly_zeros(), 0, atol=1e-12)


def test_seeding_is_reproducible():
    srng = RandomStreams(seed=1)
    u = srng.uniform((3,))
    f = theano.function([], u)
    srng.seed(902340)
    first = f()
    srng.seed(902340)
    np.testing.assert_array_equal(first, f())
    state = u.rng.get_value(borrow=True)
    state.seed(89234)
    u.rng.set_value(state, borrow=True)
    x = f()
    state.seed(89234)
    u.rng.set_value(state, borrow=True)
    np.testing.assert_array_equal(x, f())


def test_distributions_and_dtypes():
    srng = RandomStreams(seed=3)
    n = T.lscalar("n")
    draws = {
        "binomial": srng.binomial((1000,), n=5, p=0.3),
        "ints": srng.random_integers((1000,), low=-2, high=2),
        "normal32": srng.normal((1000,), avg=3.0, std=0.5, dtype="float32"),
        "symbolic_size": srng.uniform((n, 2)),
    }
    f = theano.function([n], list(draws.values()))
    binom, ints, normal, sized = f(4)
    assert binom.dtype == np.int64 and binom.min() >= 0 and binom.max() <= 5
    assert ints.min() == -2 and ints.max() == 2  # both ends included
    assert normal.dtype == np.float32 and abs(normal.mean() - 3.0) < 0.1
    assert sized.shape == (4, 2)


def test_failed_call_keeps_random_state():
    srng = RandomStreams(seed=5)
    u = srng.uniform((3,))
    x = T.dvector("x")
    f = theano.function([x], u + x)
    before = u.rng.get_value().get_state()[1].copy()
    with pytest.raises(ValueError):
        f(np.ones(4))  # shape mismatch with the (3,) sample
    np.testing.assert_array_equal(u.rng.get_value().get_state()[1], before)
