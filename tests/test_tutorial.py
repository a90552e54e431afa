"""The Theano tutorial's "Baby steps - Algebra" and "More examples", verbatim but for the
imports, with the documented outputs asserted; and the project's seed examples."""
from __future__ import annotations

import numpy

import workbench as theano
from workbench import tensor as T

function = theano.function
In = theano.In
shared = theano.shared


# -- Baby steps - Algebra -------------------------------------------------------------

def test_adding_two_scalars():
    x = T.dscalar('x')
    y = T.dscalar('y')
    z = x + y
    f = function([x, y], z)
    assert f(2, 3) == numpy.array(5.0)
    assert numpy.allclose(f(16.3, 12.1), 28.4)
    assert isinstance(x, T.TensorVariable)
    assert str(x.type) == "TensorType(float64, scalar)"
    assert str(T.dscalar) == "TensorType(float64, scalar)"
    assert x.type is T.dscalar
    assert numpy.allclose(z.eval({x: 16.3, y: 12.1}), 28.4)


def test_pretty_print_of_a_sum():
    x = T.dscalar('x')
    y = T.dscalar('y')
    z = x + y
    assert theano.pp(z) == "(x + y)"


def test_adding_two_matrices():
    x = T.dmatrix('x')
    y = T.dmatrix('y')
    z = x + y
    f = function([x, y], z)
    expected = numpy.array([[11., 22.], [33., 44.]])
    numpy.testing.assert_array_equal(f([[1, 2], [3, 4]], [[10, 20], [30, 40]]), expected)
    numpy.testing.assert_array_equal(
        f(numpy.array([[1, 2], [3, 4]]), numpy.array([[10, 20], [30, 40]])), expected)


def test_exercise():
    a = theano.tensor.vector()  # declare variable
    out = a + a ** 10  # build symbolic expression
    f = theano.function([a], out)  # compile function
    numpy.testing.assert_array_equal(f([0, 1, 2]), [0., 2., 1026.])


# -- More examples --------------------------------------------------------------------

def test_logistic_function():
    x = T.dmatrix('x')
    s = 1 / (1 + T.exp(-x))
    logistic = theano.function([x], s)
    expected = numpy.array([[0.5, 0.73105858], [0.26894142, 0.11920292]])
    numpy.testing.assert_allclose(logistic([[0, 1], [-1, -2]]), expected, rtol=1e-7)
    s2 = (1 + T.tanh(x / 2)) / 2
    logistic2 = theano.function([x], s2)
    numpy.testing.assert_allclose(logistic2([[0, 1], [-1, -2]]), expected, rtol=1e-7)


def test_computing_more_than_one_thing_at_the_same_time():
    a, b = T.dmatrices('a', 'b')
    diff = a - b
    abs_diff = abs(diff)
    diff_squared = diff**2
    f = theano.function([a, b], [diff, abs_diff, diff_squared])
    got = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    want = [numpy.array([[1., 0.], [-1., -2.]]), numpy.array([[1., 0.], [1., 2.]]),
            numpy.array([[1., 0.], [1., 4.]])]
    assert len(got) == 3
    for g, w in zip(got, want):
        numpy.testing.assert_array_equal(g, w)


def test_setting_a_default_value_for_an_argument():
    x, y = T.dscalars('x', 'y')
    z = x + y
    f = function([x, In(y, value=1)], z)
    assert f(33) == numpy.array(34.0)
    assert f(33, 2) == numpy.array(35.0)

    x, y, w = T.dscalars('x', 'y', 'w')
    z = (x + y) * w
    f = function([x, In(y, value=1), In(w, value=2, name='w_by_name')], z)
    assert f(33) == numpy.array(68.0)
    assert f(33, 2) == numpy.array(70.0)
    assert f(33, 0, 1) == numpy.array(33.0)
    assert f(33, w_by_name=1) == numpy.array(34.0)
    assert f(33, w_by_name=1, y=0) == numpy.array(33.0)


def test_using_shared_variables():
    state = shared(0)
    inc = T.iscalar('inc')
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert state.get_value() == 0
    assert accumulator(1) == numpy.array(0)
    assert state.get_value() == 1
    assert accumulator(300) == numpy.array(1)
    assert state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == numpy.array(-1)
    assert state.get_value() == 2

    decrementor = function([inc], state, updates=[(state, state - inc)])
    assert decrementor(2) == numpy.array(2)
    assert state.get_value() == 0

    fn_of_state = state * 2 + inc
    # The type of foo must match the shared variable we are replacing
    # with the ``givens``
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == numpy.array(7)  # we're using 3 for the state, not state.value
    assert state.get_value() == 0  # old state still there, but we didn't use it


def test_copying_functions():
    state = theano.shared(0)
    inc = T.iscalar('inc')
    accumulator = theano.function([inc], state, updates=[(state, state + inc)])
    assert accumulator(10) == numpy.array(0)
    assert state.get_value() == 10

    new_state = theano.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    assert new_accumulator(100) == numpy.array(0)
    assert new_state.get_value() == 100
    assert state.get_value() == 10

    null_accumulator = accumulator.copy(delete_updates=True)
    assert null_accumulator(9000) == numpy.array(10)
    assert state.get_value() == 10


# -- seed examples ----------------------------------------------------------------------

def test_seed_scalar_sum():
    a = T.dscalar()
    b = T.dscalar()
    f = theano.function([a, b], a + b)
    assert 4.0 == f(1.5, 2.5)


def test_seed_matrix_eval():
    x = T.matrix('x')
    y = T.matrix('y')
    out = (x + y).eval({x: [[1, 2], [1, 3]], y: [[1, 0], [3, 4]]})
    numpy.testing.assert_array_equal(out, [[2, 2], [4, 7]])
    assert out.dtype == numpy.float64


def test_seed_matrices_and_floatX():
    x, y, z = T.matrices('x', 'y', 'z')
    assert [v.name for v in (x, y, z)] == ['x', 'y', 'z']
    theano.config.floatX = 'float32'
    assert T.scalar().dtype == 'float32'


def test_seed_broadcasting():
    A = T.dmatrix('A')
    B = T.dvector('B')
    f = theano.function([A, B], A + B)
    a, b = numpy.arange(6.0).reshape(2, 3), numpy.array([10.0, 20.0, 30.0])
    numpy.testing.assert_array_equal(f(a, b), a + b)


def test_seed_dot_and_abs_of_a_reduction():
    x = T.dmatrix('x')
    w = T.dvector('w')
    out = T.abs_(T.dot(x, w).sum())
    f = theano.function([x, w], out)
    xv, wv = numpy.array([[1.0, -2.0], [-3.0, 0.5]]), numpy.array([1.0, 2.0])
    assert numpy.isclose(f(xv, wv), abs((xv @ wv).sum()))
