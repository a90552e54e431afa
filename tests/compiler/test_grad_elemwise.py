"""Gradients of the elementwise ops: every scalar op's derivative rule against finite
differences (and forward mode against reverse mode), broadcasting, the non-differentiable ops,
complex numbers, DimShuffle, Composite, and second derivatives."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sps

import workbench
from workbench import tensor as T
from workbench.compiler.gradtypes import DisconnectedInputError, NullTypeGradError
from workbench.compiler.graph import ancestors
from workbench.compiler.ops import scalar as ps
from workbench.compiler.ops.elemwise import DimShuffle, Elemwise
from workbench.compiler.ops.scalar_grad import RULES, WITHOUT_RULE, derivative_rule

from gradcheck import check_grad, check_rop_lop

RNG = np.random.default_rng(7)

# ---------------------------------------------------------------------------------------
# Sample points, away from each function's kinks and singularities


def uniform(lo: float, hi: float):
    return lambda shape, rng: rng.uniform(lo, hi, size=shape)


def away_from_zero(lo: float = 0.2, hi: float = 2.0):
    def sample(shape, rng):
        return rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return sample


def off_integers(shape, rng):
    """Fractional parts in (0.1, 0.4) or (0.6, 0.9): away from the steps of floor, ceil,
    trunc and both roundings."""
    frac = rng.uniform(0.1, 0.4, size=shape) + rng.choice([0.0, 0.5], size=shape)
    return rng.integers(-3, 3, size=shape) + frac


DEFAULT = uniform(-2.0, 2.0)

#: scalar op name -> (tensor function, sampler for its input)
UNARY = {
    "neg": (T.neg, DEFAULT),
    "abs": (T.abs, away_from_zero()),
    "sqr": (T.sqr, DEFAULT),
    "sqrt": (T.sqrt, uniform(0.3, 3.0)),
    "exp": (T.exp, DEFAULT),
    "exp2": (T.exp2, DEFAULT),
    "expm1": (T.expm1, DEFAULT),
    "log": (T.log, uniform(0.3, 3.0)),
    "log2": (T.log2, uniform(0.3, 3.0)),
    "log10": (T.log10, uniform(0.3, 3.0)),
    "log1p": (T.log1p, uniform(-0.6, 2.0)),
    "sin": (T.sin, DEFAULT),
    "cos": (T.cos, DEFAULT),
    "tan": (T.tan, uniform(-1.2, 1.2)),
    "arcsin": (T.arcsin, uniform(-0.8, 0.8)),
    "arccos": (T.arccos, uniform(-0.8, 0.8)),
    "arctan": (T.arctan, DEFAULT),
    "sinh": (T.sinh, DEFAULT),
    "cosh": (T.cosh, DEFAULT),
    "tanh": (T.tanh, DEFAULT),
    "arcsinh": (T.arcsinh, DEFAULT),
    "arccosh": (T.arccosh, uniform(1.2, 3.0)),
    "arctanh": (T.arctanh, uniform(-0.8, 0.8)),
    "deg2rad": (T.deg2rad, DEFAULT),
    "rad2deg": (T.rad2deg, DEFAULT),
    "erf": (T.erf, DEFAULT),
    "erfc": (T.erfc, DEFAULT),
    "erfinv": (T.erfinv, uniform(-0.8, 0.8)),
    "erfcinv": (T.erfcinv, uniform(0.2, 1.8)),
    "gamma": (T.gamma, uniform(0.5, 3.0)),
    "gammaln": (T.gammaln, uniform(0.5, 3.0)),
    "psi": (T.psi, uniform(0.5, 3.0)),
    "sigmoid": (T.sigmoid, DEFAULT),
    "softplus": (T.softplus, DEFAULT),
    "softsign": (T.nnet.softsign, away_from_zero()),
    "relu": (T.relu, away_from_zero()),
    "log1mexp": (lambda x: T.elemwise("log1mexp")(x), uniform(-3.0, -0.2)),
    "real": (T.real, DEFAULT),
    "conj": (T.conj, DEFAULT),
    "identity": (T.tensor_copy, DEFAULT),
}

#: unary ops whose float gradient is zero everywhere it exists
ZERO_GRAD = {
    "sgn": (T.sgn, away_from_zero()),
    "floor": (T.floor, off_integers),
    "ceil": (T.ceil, off_integers),
    "trunc": (T.trunc, off_integers),
    "round_half_to_even": (T.round_half_to_even, off_integers),
    "round_half_away_from_zero": (T.round_half_away_from_zero, off_integers),
    "imag": (T.imag, DEFAULT),
    "angle": (T.angle, away_from_zero()),
}


def _sample_pair(shapes, rng, a_sampler, b_sampler, accept=lambda a, b: True):
    for _ in range(1000):
        a, b = a_sampler(shapes[0], rng), b_sampler(shapes[1], rng)
        if accept(a, b):
            return a, b
    raise AssertionError("no sample point found")


def _frac_ok(a, b):
    """a / b at least 0.05 away from an integer: the steps of mod and floor division."""
    q = np.asarray(a / b)
    frac = q - np.floor(q)
    return bool(np.all((frac > 0.05) & (frac < 0.95)))


def _apart(a, b):
    return bool(np.all(np.abs(np.asarray(a) - np.asarray(b)) > 0.05))


#: binary op name -> (tensor function, sampler of the pair)
BINARY = {
    "add": (T.add, lambda s, r: _sample_pair(s, r, DEFAULT, DEFAULT)),
    "sub": (T.sub, lambda s, r: _sample_pair(s, r, DEFAULT, DEFAULT)),
    "mul": (T.mul, lambda s, r: _sample_pair(s, r, DEFAULT, DEFAULT)),
    "true_div": (T.true_div, lambda s, r: _sample_pair(s, r, DEFAULT, away_from_zero(0.5))),
    "mod": (T.mod, lambda s, r: _sample_pair(s, r, DEFAULT, away_from_zero(0.5), _frac_ok)),
    "pow": (T.pow, lambda s, r: _sample_pair(s, r, uniform(0.5, 2.0), DEFAULT)),
    "maximum": (T.maximum, lambda s, r: _sample_pair(s, r, DEFAULT, DEFAULT, _apart)),
    "minimum": (T.minimum, lambda s, r: _sample_pair(s, r, DEFAULT, DEFAULT, _apart)),
    "arctan2": (T.arctan2, lambda s, r: _sample_pair(s, r, away_from_zero(0.3),
                                                        away_from_zero(0.3))),
    "hypot": (T.hypot, lambda s, r: _sample_pair(s, r, away_from_zero(0.3),
                                                    away_from_zero(0.3))),
}

SHAPES = [(), (3,), (2, 3)]
BROADCAST = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((3, 1), (1, 4)), ((2, 3), (3,)),
             ((), (2, 3)), ((2, 3), ()), ((0, 3), (1, 3))]


# ---------------------------------------------------------------------------------------
# Every rule against finite differences, forward mode against reverse mode


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_grad(name, shape):
    fn, sample = UNARY[name]
    check_grad(fn, sample(shape, RNG))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(ZERO_GRAD))
def test_piecewise_constant_ops_have_zero_gradients(name, shape):
    fn, sample = ZERO_GRAD[name]
    value = sample(shape, RNG)
    x = T.TensorType("float64", (None,) * len(shape))("x")
    g = T.grad(T.sum(fn(x) * 3.0), x)  # connected: zeros, not an error (Theano)
    got = g.eval({x: value})
    assert got.shape == value.shape and not np.any(got)
    check_grad(fn, value)


@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grad_with_broadcasting(name, shapes):
    fn, sample = BINARY[name]
    a, b = sample(shapes, RNG)
    check_grad(fn, a, b)


def test_int_div_has_zero_gradients():
    a, b = _sample_pair(((2, 3), (3,)), RNG, DEFAULT, away_from_zero(0.5), _frac_ok)
    x, y = T.dmatrix("x"), T.dvector("y")
    gx, gy = T.grad(T.sum(x // y), [x, y])
    assert not np.any(gx.eval({x: a, y: b})) and gy.eval({x: a, y: b}).shape == (3,)
    check_grad(T.int_div, a, b)


def test_mod_gradients_are_one_and_minus_floor():
    a, b = np.array([5.5, -3.2]), np.array([2.0, 1.5])
    x, y = T.dvectors("x", "y")
    gx, gy = T.grad(T.sum(x % y), [x, y])
    assert gx.eval({x: a, y: b}).tolist() == [1.0, 1.0]
    assert gy.eval({x: a, y: b}).tolist() == (-np.floor(a / b)).tolist()


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_polygamma_grad_wrt_x(shape):
    x = uniform(0.5, 3.0)(shape, RNG)
    check_grad(T.polygamma, np.array(1), x)  # the order is an integer constant
    check_grad(T.polygamma, np.array(2), x)


def test_polygamma_grad_wrt_order_is_undefined():
    n, x = T.dscalars("n", "x")
    with pytest.raises(NullTypeGradError, match=r"Elemwise\{polygamma\}.*undefined"):
        T.grad(T.polygamma(n, x), n)
    # only the order: the gradient with respect to x is fine
    assert float(T.grad(T.polygamma(n, x), x).eval({n: 1.0, x: 2.0})) == pytest.approx(
        float(sps.polygamma(2, 2.0)))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_chi2sf_grad_wrt_x(shape):
    x = uniform(0.5, 4.0)(shape, RNG)
    for k in (1.0, 2.0, 3.5):
        check_grad(T.chi2sf, x, np.array(k), wrt=[0])
    xv = T.dvector("xv")
    got = T.grad(T.sum(T.chi2sf(xv, 2.0)), xv).eval({xv: [0.0, 1.0]})
    assert np.allclose(got, -np.exp(-np.array([0.0, 1.0]) / 2) / 2)  # -pdf, finite at 0


def test_chi2sf_grad_wrt_k_is_not_implemented():
    x, k = T.dscalars("x", "k")
    with pytest.raises(NullTypeGradError, match=r"chi2sf.*not implemented"):
        T.grad(T.chi2sf(x, k), k)


@pytest.mark.parametrize("shapes", [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)),
                                    ((), (2, 3), ()), ((2, 1), (1, 3), (2, 3))], ids=str)
def test_switch_grad_goes_to_the_chosen_branch(shapes):
    cond = RNG.random(shapes[0]) > 0.5
    a, b = RNG.standard_normal(shapes[1]), RNG.standard_normal(shapes[2])
    check_grad(T.switch, cond, a, b)
    c, x, y = (T.TensorType(v.dtype, (None,) * v.ndim)(n)
               for v, n in zip((cond, a, b), "cxy"))
    gx, gy = T.grad(T.sum(T.switch(c, x, y)), [x, y])
    full = np.broadcast_shapes(*shapes)
    want_x = np.broadcast_to(cond, full).astype(float)
    want_y = 1 - want_x
    np.testing.assert_array_equal(gx.eval({c: cond, x: a, y: b}), _sum_to(want_x, a.shape))
    np.testing.assert_array_equal(gy.eval({c: cond, x: a, y: b}), _sum_to(want_y, b.shape))


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    axes = tuple(d for d, s in enumerate(shape) if s == 1 and g.shape[d] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def test_switch_float_condition_gets_zeros():
    c, x = T.dvectors("c", "x")
    gc, gx = T.grad(T.sum(T.switch(c, x, 2 * x)), [c, x])
    values = {c: [0.0, 3.0], x: [1.0, 1.0]}
    assert gc.eval(values).tolist() == [0.0, 0.0]
    assert gx.eval(values).tolist() == [2.0, 1.0]


@pytest.mark.parametrize("shapes", [((5,), (5,), (5,)), ((2, 3), (), ()),
                                    ((2, 3), (3,), (2, 1))], ids=str)
def test_clip_grad(shapes):
    def sample(rng):
        x = rng.uniform(-2, 2, size=shapes[0])
        lo, hi = rng.uniform(-1, -0.3, size=shapes[1]), rng.uniform(0.3, 1, size=shapes[2])
        return x, lo, hi

    for _ in range(1000):
        x, lo, hi = sample(RNG)
        if _apart(x, lo) and _apart(x, hi):
            break
    check_grad(T.clip, x, lo, hi)


def test_clip_gradient_goes_to_x_inside_and_to_the_bound_outside():
    x, lo, hi = T.dvectors("x", "lo", "hi")
    grads = T.grad(T.sum(T.clip(x, lo, hi)), [x, lo, hi])
    values = {x: [-2.0, 0.0, 2.0, 1.0], lo: [-1.0] * 4, hi: [1.0] * 4}
    got = [g.eval(values).tolist() for g in grads]
    # inclusive bounds: at x == hi the gradient goes to x (as Theano)
    assert got == [[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]


def test_maximum_ties_give_the_gradient_to_both_inputs():
    """Theano 1.0's rule: ``eq(output, x) * gz`` for each input."""
    x, y = T.dvectors("x", "y")
    gx, gy = T.grad(T.sum(T.maximum(x, y)), [x, y])
    values = {x: [1.0, 2.0, 3.0], y: [2.0, 2.0, 1.0]}
    assert gx.eval(values).tolist() == [0.0, 1.0, 1.0]
    assert gy.eval(values).tolist() == [1.0, 1.0, 0.0]
    gx, gy = T.grad(T.sum(T.minimum(x, y)), [x, y])
    assert gx.eval(values).tolist() == [1.0, 1.0, 0.0]


def test_relu_subgradient_at_zero_is_zero():
    x = T.dvector("x")
    assert T.grad(T.sum(T.relu(x)), x).eval({x: [-1.0, 0.0, 2.0]}).tolist() == [0., 0., 1.]


def test_cast_between_floats_casts_the_gradient_back():
    # check_grad's Rop/Lop identity is to float64 precision: for a float32 output, looser
    value = RNG.standard_normal((2, 3))
    check_grad(lambda x: T.cast(x, "float32") * 2, value, rop=False)
    check_rop_lop(lambda x: T.cast(x, "float32") * 2, value, rtol=1e-5)
    x = T.fvector("x")
    g = T.grad(T.sum(T.cast(x, "float64") ** 2), x)
    assert g.dtype == "float32"
    assert g.eval({x: np.array([1.0, 2.0], dtype="float32")}).tolist() == [2.0, 4.0]


def test_float32_gradients_stay_float32():
    x = T.fmatrix("x")
    for expr in (T.exp(x) * 2.0, T.sigmoid(x) / 3.0, x ** 2, T.maximum(x, 0.5)):
        g = T.grad(T.sum(expr), x)
        assert g.dtype == "float32"
    value = RNG.standard_normal((2, 3)).astype("float32")
    check_grad(lambda v: T.tanh(v) * v, value, rop=False)
    check_rop_lop(lambda v: T.tanh(v) * v, value, rtol=1e-5)


# ---------------------------------------------------------------------------------------
# Integer and bool: disconnected outputs, integer inputs


@pytest.mark.parametrize("build", [
    lambda x: x > 0, lambda x: x <= 1.0, lambda x: T.eq(x, 1.0), lambda x: T.neq(x, 2.0),
    lambda x: T.isnan(x), lambda x: T.isinf(x), lambda x: T.invert(x > 0),
    lambda x: T.and_(x > 0, x < 1), lambda x: T.cast(x, "int64"), lambda x: T.iround(x),
], ids=["gt", "le", "eq", "neq", "isnan", "isinf", "invert", "and", "cast_int", "iround"])
def test_discrete_outputs_are_disconnected(build):
    x = T.dvector("x")
    cost = T.sum(T.cast(build(x), "float64") * x.sum())  # x also reaches the cost directly
    g = T.grad(cost, x)
    value = np.array([0.5, 1.5, -2.0])
    want = np.full(3, float(np.sum(np.asarray(build_numpy(build, value), dtype=float))))
    np.testing.assert_allclose(g.eval({x: value}), want)
    only = T.sum(T.cast(build(x), "float64"))
    with pytest.raises(DisconnectedInputError):
        T.grad(only, x)
    assert T.grad(only, x, disconnected_inputs="ignore").eval({x: value}).tolist() == [0.0] * 3
    node = build(x).owner
    assert not any(row[0] for row in node.op.connection_pattern(node))


def build_numpy(build, value):
    v = T.dvector("v")
    return build(v).eval({v: value})


def test_comparison_node_connection_pattern():
    x, y = T.dvectors("x", "y")
    node = (x < y).owner
    assert node.op.connection_pattern(node) == [[False], [False]]
    node = (x * y).owner
    assert node.op.connection_pattern(node) == [[True], [True]]


def test_integer_inputs_get_zero_gradients():
    x, i = T.dvector("x"), T.ivector("i")
    gx, gi = T.grad(T.sum(x * i), [x, i])
    values = {x: [1.0, 2.0], i: [3, 4]}
    assert gx.eval(values).tolist() == [3.0, 4.0]
    assert gi.dtype == workbench.config.floatX and gi.eval(values).tolist() == [0.0, 0.0]
    # an integer exponent: only the base is differentiated
    n = T.iscalar("n")
    g = T.grad(T.sum(x ** n), x)
    assert g.eval({x: [1.0, 2.0], n: 3}).tolist() == [3.0, 12.0]


# ---------------------------------------------------------------------------------------
# Complex numbers: Theano's convention dC/dz = dC/dRe(z) + i dC/dIm(z)


def _complex_numeric_grad(cost_fn, z, eps=1e-6):
    g = np.zeros_like(z)
    for k in range(z.size):
        step = np.zeros_like(z)
        step.flat[k] = eps
        d_re = (cost_fn(z + step) - cost_fn(z - step)) / (2 * eps)
        d_im = (cost_fn(z + 1j * step) - cost_fn(z - 1j * step)) / (2 * eps)
        g.flat[k] = d_re + 1j * d_im
    return g


@pytest.mark.parametrize("build", [
    lambda z: T.real(z), lambda z: T.imag(z), lambda z: T.abs(z), lambda z: T.angle(z),
    lambda z: T.real(T.conj(z) * (1 + 2j)), lambda z: T.abs(T.exp(z) * z),
    lambda z: T.imag(T.log(z) + T.sqr(z)), lambda z: T.angle(T.sin(z) / (z + 3)),
    lambda z: T.real(z ** (0.5 + 1j)), lambda z: T.abs(T.tanh(z) - T.sqrt(z)),
], ids=["real", "imag", "abs", "angle", "conj", "exp_mul", "log_sqr", "sin_div", "pow",
        "tanh_sqrt"])
def test_complex_gradients_follow_theano_convention(build):
    z = T.zvector("z")
    w = T.dvector("w")
    cost = T.sum(build(z) * w)
    zv = np.array([0.7 + 0.4j, -0.3 + 1.1j, 1.2 - 0.8j])
    wv = np.array([1.0, -2.0, 0.5])
    f = workbench.function([z, w], cost)
    got = T.grad(cost, z).eval({z: zv, w: wv})
    want = _complex_numeric_grad(lambda v: float(f(v, wv)), zv)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_real_input_of_a_complex_product_gets_the_real_part():
    x, w = T.dvector("x"), T.zvector("w")
    cost = T.sum(T.abs(x * w))
    xv, wv = np.array([0.5, -1.5]), np.array([1 + 1j, 2 - 0.5j])
    got = T.grad(cost, x).eval({x: xv, w: wv})
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.sign(xv) * np.abs(wv))


def test_complex_rop_matches_the_derivative():
    z, u = T.zvectors("z", "u")
    zv, uv = np.array([0.7 + 0.4j, -0.3 + 1.1j]), np.array([0.2 - 1j, 1.5 + 0.5j])
    got = T.Rop(T.exp(z) * z, z, u).eval({z: zv, u: uv})
    np.testing.assert_allclose(got, (np.exp(zv) * (zv + 1)) * uv)
    np.testing.assert_allclose(T.Rop(T.imag(z), z, u).eval({z: zv, u: uv}), uv.imag)
    np.testing.assert_allclose(T.Rop(T.conj(z), z, u).eval({z: zv, u: uv}), np.conj(uv))
    np.testing.assert_allclose(T.Rop(T.abs(z), z, u).eval({z: zv, u: uv}),
                               np.real(np.conj(zv) * uv) / np.abs(zv))


def test_complex_input_of_a_real_only_rule_is_not_implemented():
    z = T.zvector("z")
    with pytest.raises(NullTypeGradError, match="complex"):
        T.grad(T.sum(T.real(T.erf(z))), z)


# ---------------------------------------------------------------------------------------
# Broadcasting: static shapes sum where they know, run time decides where they do not


def test_static_broadcasting_sums_without_reshaping():
    x, y = T.dcol("x"), T.drow("y")
    gx, gy = T.grad(T.sum(x * y), [x, y])
    assert gx.broadcastable == (False, True) and gy.broadcastable == (True, False)
    assert not any(v.owner is not None and "Reshape" in str(v.owner.op)
                   for v in ancestors([gx, gy]))
    xv, yv = np.array([[1.0], [2.0]]), np.array([[3.0, 4.0, 5.0]])
    assert gx.eval({x: xv, y: yv}).tolist() == [[12.0], [12.0]]
    assert gy.eval({x: xv, y: yv}).tolist() == [[3.0, 3.0, 3.0]]


def test_scalar_broadcast_against_a_matrix():
    a, m = T.dscalar("a"), T.dmatrix("m")
    ga, gm = T.grad(T.sum(a * m), [a, m])
    mv = np.arange(6.0).reshape(2, 3)
    assert float(ga.eval({a: 2.0, m: mv})) == 15.0
    assert gm.eval({a: 2.0, m: mv}).tolist() == [[2.0] * 3] * 2


def test_run_time_broadcasting_of_unknown_dimensions():
    x, y = T.dvectors("x", "y")  # static shapes unknown: x may be broadcast at run time
    gx, gy = T.grad(T.sum(x * y), [x, y])
    assert gx.eval({x: [2.0], y: [1.0, 2.0, 3.0]}).tolist() == [6.0]
    assert gy.eval({x: [2.0], y: [1.0, 2.0, 3.0]}).tolist() == [2.0, 2.0, 2.0]
    assert gx.eval({x: [2.0, 1.0, 0.0], y: [1.0, 2.0, 3.0]}).tolist() == [1.0, 2.0, 3.0]


def test_unary_gradient_needs_no_reduction():
    x = T.dmatrix("x")
    g = T.grad(T.sum(T.exp(x)), x)
    assert not any(v.owner is not None and "Reshape" in str(v.owner.op)
                   for v in ancestors([g]))


def test_rop_broadcasts_a_lone_tangent_to_the_output_shape():
    x, y, u = T.dcol("x"), T.drow("y"), T.dcol("u")
    got = T.Rop(x + y, x, u).eval({x: [[1.0], [2.0]], y: [[0.0, 0.0, 0.0]], u: [[1.0], [5.0]]})
    assert got.tolist() == [[1.0] * 3, [5.0] * 3]
    xv = T.dvector("xv")
    uv = T.dvector("uv")
    got = T.Rop(T.floor(xv), xv, uv).eval({xv: [0.5, 1.5], uv: [1.0, 1.0]})
    assert got.tolist() == [0.0, 0.0]


# ---------------------------------------------------------------------------------------
# The Theano tutorial, second derivatives


def test_tutorial_derivative_of_square():
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert float(workbench.function([x], gy)(4)) == 8.0


def test_tutorial_logistic_derivative():
    x = T.dmatrix("x")
    s = T.sum(1 / (1 + T.exp(-x)))
    gs = T.grad(s, x)
    xv = np.array([[0.0, 1.0], [-1.0, -2.0]])
    sig = 1 / (1 + np.exp(-xv))
    np.testing.assert_allclose(workbench.function([x], gs)(xv), sig * (1 - sig))
    np.testing.assert_allclose(T.grad(T.sum(T.sigmoid(x)), x).eval({x: xv}), sig * (1 - sig))


def test_second_derivatives():
    x = T.dscalar("x")
    g2 = T.grad(T.grad(T.sin(x), x), x)
    assert float(g2.eval({x: 0.7})) == pytest.approx(-np.sin(0.7))
    g2 = T.grad(T.grad(x ** 3, x), x)
    assert float(g2.eval({x: 1.5})) == pytest.approx(9.0)
    v = T.dvector("v")
    h = T.hessian(T.sum(T.exp(v) * T.sum(v)), v)
    vv = np.array([0.1, -0.3])
    e = np.exp(vv)
    want = np.diag(e * vv.sum()) + e[:, None] + e[None, :]
    np.testing.assert_allclose(h.eval({v: vv}), want)


SECOND_ORDER = sorted(set(UNARY) - {"neg", "deg2rad", "rad2deg", "real", "conj", "identity",
                                     "relu", "abs"})


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_gradients_are_differentiable_again(name):
    """The gradient graph of each rule is itself checked against finite differences."""
    fn, sample = UNARY[name]
    check_grad(lambda x: T.grad(T.sum(fn(x)), x), sample((3,), RNG))


@pytest.mark.parametrize("name, shapes", [("mul", ((2, 3), (3,))), ("pow", ((2, 3), (3,))),
                                          ("true_div", ((3,), (3,))),
                                          ("arctan2", ((3,), (3,))), ("hypot", ((3,), ()))])
def test_binary_gradients_are_differentiable_again(name, shapes):
    fn, sample = BINARY[name]
    a, b = sample(shapes, RNG)
    check_grad(lambda x, y: T.grad(T.sum(fn(x, y)), x), a, b)
    check_grad(lambda x, y: T.grad(T.sum(fn(x, y)), y), a, b)


# ---------------------------------------------------------------------------------------
# Inplace, DimShuffle, Composite


def test_inplace_elemwise_has_the_same_gradient():
    x = T.dvector("x")
    plain = T.grad(T.sum(T.sin(x) * 2), x)
    inplace_op = Elemwise(ps.sin, {0: 0})
    node = inplace_op.make_node(x)
    gz = T.dvector("gz")
    (g_inplace,) = inplace_op.L_op(node.inputs, node.outputs, [gz])
    (g_plain,) = T.sin(x).owner.op.L_op([x], [T.sin(x)], [gz])
    values = {x: [0.1, 0.5], gz: [2.0, 2.0]}
    np.testing.assert_allclose(g_inplace.eval(values), g_plain.eval(values))
    np.testing.assert_allclose(g_inplace.eval(values), plain.eval({x: [0.1, 0.5]}))
    u = T.dvector("u")
    (r_inplace,) = inplace_op.R_op(node.inputs, [u])
    np.testing.assert_allclose(r_inplace.eval({x: [0.1, 0.5], u: [1.0, 3.0]}),
                               np.cos([0.1, 0.5]) * [1.0, 3.0])


@pytest.mark.parametrize("build, shape", [
    (lambda x: x.T, (2, 3)),
    (lambda x: x.dimshuffle(1, "x", 0), (2, 3)),
    (lambda x: x.dimshuffle("x", 0, "x"), (4,)),
    (lambda x: x.dimshuffle("x"), ()),
    (lambda x: DimShuffle((False, True, False), (2, "x", 0))(x), (2, 1, 3)),
    (lambda x: DimShuffle((True, False), (1,))(x), (1, 4)),
    (lambda x: DimShuffle((True,), ())(x), (1,)),
    (lambda x: x.dimshuffle(2, 0, 1), (2, 3, 4)),
], ids=["T", "1x0", "x0x", "scalar_x", "drop_permute", "drop_first", "drop_all", "cycle"])
def test_dimshuffle_grad(build, shape):
    check_grad(lambda x: build(x) * 1.5, RNG.standard_normal(shape))


def test_dimshuffle_rop_is_the_same_shuffle():
    x, u = T.dmatrix("x"), T.dmatrix("u")
    uv = np.arange(6.0).reshape(2, 3)
    got = T.Rop(x.dimshuffle(1, "x", 0), x, u).eval({x: np.zeros((2, 3)), u: uv})
    assert got.tolist() == uv.T[:, None, :].tolist()


EXP_MUL_SIN = ps.Composite(((ps.exp, (0,)), (ps.mul, (2, 1)), (ps.sin, (1,)),
                            (ps.add, (3, 4))), 2)  # exp(i0) * i1 + sin(i1)
LEAKY = ps.Composite(((ps.gt, (0, 1)), (ps.mul, (0, 2)), (ps.switch, (2, 0, 3))), 3)
# switch(i0 > i1, i0, i0 * i2)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3, 1), (1, 4)), ((), (2, 3))], ids=str)
def test_composite_grad(shapes):
    a, b = (RNG.standard_normal(s) for s in shapes)
    check_grad(lambda x, y: Elemwise(EXP_MUL_SIN)(x, y), a, b)


def test_composite_with_a_comparison_and_a_repeated_input():
    xv = away_from_zero()((5,), RNG)
    check_grad(lambda x: Elemwise(LEAKY)(x, 0.0, 0.1), xv)
    x = T.dvector("x")
    # both inputs are x: each position's gradient is added up
    g = T.grad(T.sum(Elemwise(EXP_MUL_SIN)(x, x)), x)
    want = np.exp(xv) * xv + np.exp(xv) + np.cos(xv)
    np.testing.assert_allclose(g.eval({x: xv}), want)
    g2 = T.grad(T.sum(T.grad(T.sum(Elemwise(EXP_MUL_SIN)(x, x)), x)), x)
    np.testing.assert_allclose(g2.eval({x: xv}), np.exp(xv) * xv + 2 * np.exp(xv) - np.sin(xv))


def test_composite_of_comparisons_is_disconnected():
    both = ps.Composite(((ps.gt, (0, 1)),), 2)
    x, y = T.dvectors("x", "y")
    with pytest.raises(DisconnectedInputError):
        T.grad(T.sum(T.cast(Elemwise(both)(x, y), "float64")), x)


# ---------------------------------------------------------------------------------------
# Every row of the scalar table has a rule


def test_every_scalar_op_has_a_rule_or_a_reason():
    names = [row[0] for row in ps._TABLE]
    missing = [n for n in names if n not in RULES and n not in WITHOUT_RULE]
    assert not missing, f"scalar ops without a derivative rule: {missing}"
    assert not set(RULES) - set(names), "rules for ops that are not in the table"
    for name in names:
        rule = RULES.get(name)
        if rule is not None and rule.connected:
            xs = [T.dscalar() for _ in range(ps.SCALAR_OPS[name].nin)]
            if name == "switch":
                xs[0] = T.bscalar()
            out = T.elemwise(name)(*xs)
            assert len(rule.partials(xs, out)) == ps.SCALAR_OPS[name].nin, name
    assert derivative_rule(ps.Cast("float32")) is not None
