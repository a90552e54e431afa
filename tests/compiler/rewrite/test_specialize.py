"""The BLAS rewrites of the specialize pass (Gemm, Gemv, Ger) and their in-place variants:
which graphs they take, which they must leave alone, and that values never change."""
from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.fgraph import FunctionGraph
from workbench.compiler.ops.blas import Dot
from workbench.compiler.ops.elemwise import Elemwise
from workbench.compiler.ops.gemm import Gemm, Gemv, Ger
from workbench.compiler.rewrite.features import DestroyHandler
from workbench.compiler.rewrite.specialize import local_blas_inplace, match_update

NO_OPT = workbench.Mode(optimizer=None)
FLOATS = ["float32", "float64"]
RNG = np.random.default_rng(3)


def _count(f, cls):
    return sum(isinstance(n.op, cls) for n in f.maker.fgraph.toposort())


def _ops(f):
    return [str(n.op) for n in f.maker.fgraph.toposort()]


def _value(shape, dtype):
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-4, 5, size=shape).astype(dtype)
    value = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        value = value + 1j * RNG.standard_normal(shape)
    return np.asarray(value, dtype=dtype)


def _compare(inputs, outputs, values, mode=None):
    """Compile optimized and unoptimized; same values (to float rounding) and dtypes, and
    the caller's arrays untouched. Returns the optimized function."""
    f = workbench.function(inputs, outputs, mode=mode, on_unused_input="ignore")
    g = workbench.function(inputs, outputs, mode=NO_OPT, on_unused_input="ignore")
    copies = [np.array(v, copy=True) for v in values]
    got, want = f(*values), g(*copies)
    for v, c in zip(values, copies):
        np.testing.assert_array_equal(v, c)
    got, want = (got, want) if isinstance(got, list) else ([got], [want])
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        rtol = 1e-4 if a.dtype in (np.float32, np.complex64) else 1e-10
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    return f


def _matrices(dtype, *names):
    return [T.TensorType(dtype, (None, None))(n) for n in names]


def _vectors(dtype, *names):
    return [T.TensorType(dtype, (None,))(n) for n in names]


def _scalars(dtype, *names):
    return [T.TensorType(dtype, ())(n) for n in names]


# -- Gemm ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_acceptance_c_plus_a_dot_is_one_gemm(dtype):
    A, B, C = _matrices(dtype, "A", "B", "C")
    (a,) = _scalars(dtype, "a")
    values = [_value((3, 4), dtype), _value((4, 5), dtype), _value((3, 5), dtype),
              np.asarray(1.7, dtype=dtype)]
    f = _compare([A, B, C, a], C + a * T.dot(A, B), values)
    g = workbench.function([A, B, C, a], C + a * T.dot(A, B), mode=NO_OPT)
    assert _count(g, Dot) == 1 and _count(g, Elemwise) == 2  # mul, add
    assert [type(n.op) for n in f.maker.fgraph.toposort()] == [Gemm]
    assert f.trace.fired()["local_gemm"] == 1
    assert "local_gemm" in f.trace["specialize"].rule_counts()


GEMM_FORMS = {
    "C + dot": lambda A, B, C, a, b: C + T.dot(A, B),
    "dot + C": lambda A, B, C, a, b: T.dot(A, B) + C,
    "C - dot": lambda A, B, C, a, b: C - T.dot(A, B),
    "dot - C": lambda A, B, C, a, b: T.dot(A, B) - C,
    "dot*a + C*b": lambda A, B, C, a, b: T.dot(A, B) * a + C * b,
    "b*C - a*dot": lambda A, B, C, a, b: b * C - a * T.dot(A, B),
    "-(a*dot) + 2*C": lambda A, B, C, a, b: -(a * T.dot(A, B)) + 2 * C,
    "a*(b*dot) + C": lambda A, B, C, a, b: a * (b * T.dot(A, B)) + C,
    "C + dot(A.T.T, B)": lambda A, B, C, a, b: C + T.dot(A.T.T, B),
    "C + dot(B.T, A.T).T": lambda A, B, C, a, b: C + T.dot(B.T, A.T).T,
    "C + (a*dot(B.T, A.T)).T": lambda A, B, C, a, b: C + (a * T.dot(B.T, A.T)).T,
    "exp(C) + dot": lambda A, B, C, a, b: T.exp(C) + T.dot(A, B),
    "dot + dot": lambda A, B, C, a, b: T.dot(A, B) + T.dot(A, B * 2),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("form", list(GEMM_FORMS))
def test_gemm_forms(form, dtype):
    A, B, C = _matrices(dtype, "A", "B", "C")
    a, b = _scalars(dtype, "a", "b")
    out = GEMM_FORMS[form](A, B, C, a, b)
    values = [_value((3, 4), dtype), _value((4, 5), dtype), _value((3, 5), dtype),
              np.asarray(1.5, dtype=dtype), np.asarray(-0.5, dtype=dtype)]
    f = _compare([A, B, C, a, b], out, values)
    assert _count(f, Gemm) >= 1, _ops(f)
    assert _count(f, Dot) == (1 if form == "dot + dot" else 0), _ops(f)
    assert f.trace.fired().get("local_gemm", 0) >= 1


def test_transposed_operands_are_passed_without_copies_of_the_graph():
    A, B, C = _matrices("float64", "A", "B", "C")
    f = _compare([A, B, C], C + T.dot(A.T, B.T),
                 [_value((4, 3), "float64"), _value((5, 4), "float64"),
                  _value((3, 5), "float64")])
    (gemm,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Gemm)]
    assert [str(v.owner.op) for v in gemm.inputs[2:4]] == ["Transpose", "Transpose"]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_gemm(dtype):
    A, B, C = _matrices(dtype, "A", "B", "C")
    f = _compare([A, B, C], C - 2 * T.dot(A, B),
                 [_value((3, 4), dtype), _value((4, 5), dtype), _value((3, 5), dtype)])
    assert _count(f, Gemm) == 1 and _count(f, Dot) == 0


def test_constant_coefficients_are_folded():
    A, B, C = _matrices("float64", "A", "B", "C")
    f = _compare([A, B, C], 3 * C - T.dot(A, B) * 2,
                 [_value((2, 3), "float64"), _value((3, 2), "float64"),
                  _value((2, 2), "float64")])
    (gemm,) = f.maker.fgraph.toposort()
    alpha, beta = gemm.inputs[1], gemm.inputs[4]
    assert float(alpha.data) == -2.0 and float(beta.data) == 3.0


def test_a_lone_scaled_dot_is_a_gemm_with_zero_beta():
    A, B = _matrices("float32", "A", "B")
    (a,) = _scalars("float32", "a")
    values = [_value((3, 4), "float32"), _value((4, 5), "float32"), np.float32(0.5)]
    for out in (T.dot(A, B) * a, -T.dot(A, B), 2 * T.dot(B.T, A.T).T):
        f = _compare([A, B, a], out, values)
        assert [type(n.op) for n in f.maker.fgraph.toposort()] == [Gemm], _ops(f)
        assert f.trace.fired()["local_dot_scalar_to_gemm"] == 1


def test_a_scaled_dot_added_to_a_matrix_is_taken_by_local_gemm_alone():
    A, B, C = _matrices("float64", "A", "B", "C")
    f = workbench.function([A, B, C], C + 2 * T.dot(A, B))
    assert "local_dot_scalar_to_gemm" not in f.trace.fired()
    assert _ops(f) == ["Gemm{no_inplace}"]


def test_a_lone_dot_stays_a_dot():
    A, B = _matrices("float64", "A", "B")
    (x,) = _vectors("float64", "x")
    f = workbench.function([A, B, x], [T.dot(A, B), T.dot(A, x), T.dot(x, A)])
    assert _count(f, Dot) == 3 and _count(f, Gemm) == _count(f, Gemv) == 0


# -- Gemv -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_gemv_matrix_vector(dtype):
    (A,) = _matrices(dtype, "A")
    x, y = _vectors(dtype, "x", "y")
    (a,) = _scalars(dtype, "a")
    values = [_value((3, 4), dtype), _value(4, dtype), _value(3, dtype),
              np.asarray(2.0, dtype=dtype)]
    f = _compare([A, x, y, a], y + a * T.dot(A, x), values)
    assert [type(n.op) for n in f.maker.fgraph.toposort()] == [Gemv]
    assert f.trace.fired()["local_gemv"] == 1


@pytest.mark.parametrize("dtype", FLOATS)
def test_gemv_vector_matrix_uses_the_transpose(dtype):
    (A,) = _matrices(dtype, "A")
    x, y = _vectors(dtype, "x", "y")
    values = [_value((3, 4), dtype), _value(3, dtype), _value(4, dtype)]
    f = _compare([A, x, y], T.exp(y) - 2 * T.dot(x, A), values)
    assert _count(f, Gemv) == 1 and _count(f, Dot) == 0
    (gemv,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Gemv)]
    assert str(gemv.op) == "Gemv{inplace}"  # exp(y) is dead after it
    assert str(gemv.inputs[2].owner.op) == "Transpose"


# -- Ger ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("outer", ["T.outer", "dot(col, row)"])
def test_ger(outer, dtype):
    (C,) = _matrices(dtype, "C")
    x, y = _vectors(dtype, "x", "y")
    (a,) = _scalars(dtype, "a")
    prod = T.outer(x, y) if outer == "T.outer" else T.dot(x[:, None], y[None, :])
    values = [_value((3, 4), dtype), _value(3, dtype), _value(4, dtype),
              np.asarray(-1.5, dtype=dtype)]
    f = _compare([C, x, y, a], C + a * prod, values)
    assert [type(n.op) for n in f.maker.fgraph.toposort()] == [Ger], _ops(f)
    assert f.trace.fired()["local_ger"] == 1


def test_outer_with_a_scaled_matrix_is_a_gemm_of_a_column_and_a_row():
    (C,) = _matrices("float64", "C")
    x, y = _vectors("float64", "x", "y")
    f = _compare([C, x, y], 2 * C + T.outer(x, y),
                 [_value((3, 4), "float64"), _value(3, "float64"), _value(4, "float64")])
    assert _count(f, Gemm) == 1 and _count(f, Ger) == 0


# -- where nothing must change ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int32", "int64", "float16"])
def test_no_blas_for_dtypes_without_routines(dtype):
    A, B, C = _matrices(dtype, "A", "B", "C")
    (x,) = _vectors(dtype, "x")
    f = _compare([A, B, C, x], [C + T.dot(A, B), x + T.dot(A, x)],
                 [_value((3, 3), dtype), _value((3, 3), dtype), _value((3, 3), dtype),
                  _value(3, dtype)])
    assert _count(f, Dot) == 2
    assert _count(f, Gemm) == _count(f, Gemv) == 0


def test_a_bias_that_surely_broadcasts_is_not_a_gemm_operand():
    A, B = _matrices("float64", "A", "B")
    (bias,) = _vectors("float64", "bias")
    row = T.TensorType("float64", (1, None))("row")
    values = [_value((3, 4), "float64"), _value((4, 5), "float64"), _value(5, "float64"),
              _value((1, 5), "float64")]
    f = _compare([A, B, bias, row], [T.dot(A, B) + bias, row - T.dot(A, B),
                                     T.dot(A, B) + 1.0], values)
    assert _count(f, Gemm) == 0 and _count(f, Dot) >= 1


def test_a_product_that_surely_broadcasts_is_not_gemm_either():
    A = T.TensorType("float64", (1, None))("A")
    B, C = _matrices("float64", "B", "C")
    f = _compare([A, B, C], C + T.dot(A, B),
                 [_value((1, 4), "float64"), _value((4, 5), "float64"),
                  _value((3, 5), "float64")])
    assert _count(f, Gemm) == 0


def test_sizes_that_broadcast_only_at_run_time_give_the_same_values():
    A, B, C = _matrices("float64", "A", "B", "C")
    f = workbench.function([A, B, C], C + T.dot(A, B))
    assert _count(f, Gemm) == 1
    g = workbench.function([A, B, C], C + T.dot(A, B), mode=NO_OPT)
    for shapes in [((3, 4), (4, 5), (1, 5)), ((3, 4), (4, 5), (3, 1)), ((1, 4), (4, 5), (3, 5)),
                   ((3, 4), (4, 1), (3, 5)), ((3, 4), (4, 5), (1, 1))]:
        values = [_value(s, "float64") for s in shapes]
        np.testing.assert_allclose(f(*values), g(*values), rtol=1e-12)


@pytest.mark.parametrize("mixed", ["float32 C", "float64 scalar"])
def test_mixed_dtypes_are_left_alone(mixed):
    A, B = _matrices("float32", "A", "B")
    C = T.dmatrix("C") if mixed == "float32 C" else T.fmatrix("C")
    a = T.dscalar("a") if mixed == "float64 scalar" else T.fscalar("a")
    values = [_value((3, 4), "float32"), _value((4, 5), "float32"),
              _value((3, 5), C.dtype), np.asarray(2.0, dtype=a.dtype)]
    f = _compare([A, B, C, a], C + a * T.dot(A, B), values)
    # the sum stays elementwise (a float32 a*dot alone may still be a Gemm with beta 0)
    assert isinstance(f.maker.fgraph.outputs[0].owner.op, Elemwise)
    assert all(n.inputs[0] is not f.maker.fgraph.inputs[2] for n in f.maker.fgraph.toposort()
               if isinstance(n.op, Gemm))


def test_a_python_float_scale_keeps_the_float32_dtype_and_becomes_alpha():
    A, B, C = _matrices("float32", "A", "B", "C")
    f = _compare([A, B, C], C + 0.5 * T.dot(A, B),
                 [_value((3, 4), "float32"), _value((4, 5), "float32"),
                  _value((3, 5), "float32")])
    assert _count(f, Gemm) == 1


def test_a_product_read_elsewhere_is_not_computed_twice():
    A, B, C = _matrices("float64", "A", "B", "C")
    values = [_value((3, 4), "float64"), _value((4, 5), "float64"), _value((3, 5), "float64")]
    p = T.dot(A, B)
    f = _compare([A, B, C], [p, C + p], values)
    assert _count(f, Dot) == 1 and _count(f, Gemm) == 0
    scaled = 2 * T.dot(A, B)
    f = _compare([A, B, C], [T.exp(scaled), C + scaled], values)
    assert _count(f, Dot) + _count(f, Gemm) == 1


def test_a_zero_scale_of_c_is_not_made_a_zero_beta():
    # BLAS does not read z when beta is 0: a nan in C must still come through (canonicalize,
    # whose x * 0 -> zeros drops it on purpose, is left out to see what specialize does)
    A, B, C = _matrices("float64", "A", "B", "C")
    f = workbench.function([A, B, C], C * 0.0 + T.dot(A, B),
                           mode=workbench.Mode().excluding("canonicalize"))
    assert _count(f, Gemm) == 1
    c = np.full((2, 2), np.nan)
    assert np.isnan(f(np.ones((2, 2)), np.ones((2, 2)), c)).all()


def test_a_hadamard_product_is_not_a_scale():
    A, B, C, D = _matrices("float64", "A", "B", "C", "D")
    values = [_value((3, 3), "float64") for _ in range(4)]
    f = _compare([A, B, C, D], C + D * T.dot(A, B), values)
    assert _count(f, Gemm) == 0 and _count(f, Dot) == 1


def test_rewrites_can_be_excluded_by_name_and_by_tag():
    A, B, C = _matrices("float64", "A", "B", "C")
    for name in ("local_gemm", "blas", "specialize"):
        f = workbench.function([A, B, C], C + T.dot(A, B),
                               mode=workbench.Mode().excluding(name))
        assert _count(f, Gemm) == 0 and _count(f, Dot) == 1


def test_match_update_describes_the_update():
    A, B, C = _matrices("float64", "A", "B", "C")
    fg = FunctionGraph([A, B, C], [C - T.dot(A, B)])
    update = match_update(fg, fg.outputs[0].owner)
    assert update.kind == "gemm" and update.product.sign == -1 and update.zsign == 1
    assert update.z is fg.inputs[2]


# -- in place ------------------------------------------------------------------------------------


def test_gemm_overwrites_a_dead_intermediate():
    A, B, C = _matrices("float64", "A", "B", "C")
    values = [_value((3, 4), "float64"), _value((4, 5), "float64"), _value((3, 5), "float64")]
    f = _compare([A, B, C], T.exp(C) + T.dot(A, B), values)
    assert "Gemm{inplace}" in _ops(f)
    assert f.trace.fired()["local_blas_inplace"] == 1
    assert "local_blas_inplace" in f.trace["inplace"].rule_counts()


def test_gemm_never_overwrites_an_input_or_an_output():
    A, B, C = _matrices("float64", "A", "B", "C")
    values = [_value((3, 4), "float64"), _value((4, 5), "float64"), _value((3, 5), "float64")]
    f = _compare([A, B, C], C + T.dot(A, B), values)
    assert _ops(f) == ["Gemm{no_inplace}"]
    e = T.exp(C)
    f = _compare([A, B, C], [e, e + T.dot(A, B)], values)
    assert "Gemm{no_inplace}" in _ops(f)


def test_gemm_does_not_overwrite_an_operand_it_also_multiplies():
    # E + dot(E, B): E is read by the product while it would be overwritten
    E0, B = _matrices("float64", "E0", "B")
    e = T.exp(E0)
    values = [_value((3, 3), "float64"), _value((3, 3), "float64")]
    f = _compare([E0, B], e + T.dot(e, B), values)
    assert _count(f, Gemm) == 1 and "Gemm{inplace}" not in _ops(f)
    f = _compare([E0, B], e + T.dot(B, e.T), values)
    assert "Gemm{inplace}" not in _ops(f)


def test_inplace_rewriter_needs_a_destroy_handler():
    A, B, C = _matrices("float64", "A", "B", "C")
    fg = FunctionGraph([A, B, C], [T.exp(C) + T.dot(A, B)])
    exp_node = fg.outputs[0].owner.inputs[0].owner
    from workbench.compiler.ops.gemm import gemm_no_inplace

    node = gemm_no_inplace(exp_node.outputs[0], 1.0, fg.inputs[0], fg.inputs[1], 1.0).owner
    assert local_blas_inplace(fg, node) is None
    fg.replace(fg.outputs[0], node.outputs[0])
    fg.attach_feature(DestroyHandler())
    (new,) = local_blas_inplace(fg, node)
    assert new.owner.op == Gemm(inplace=True)


def test_gemv_and_ger_in_place():
    (A,) = _matrices("float64", "A")
    x, y = _vectors("float64", "x", "y")
    values = [_value((3, 4), "float64"), _value(4, "float64"), _value(3, "float64")]
    f = _compare([A, x, y], T.exp(y) + T.dot(A, x), values)
    assert "Gemv{inplace}" in _ops(f)
    f = _compare([A, x, y], T.exp(A) + T.outer(y, x), values)
    assert "Ger{inplace}" in _ops(f)


# -- gradients of specialized graphs ----------------------------------------------------------


def test_the_gradient_of_a_specialized_graph_is_the_original_gradient():
    A, B, C = _matrices("float64", "A", "B", "C")
    (a,) = _scalars("float64", "a")
    f = workbench.function([A, B, C, a], C + a * T.dot(A, B))
    fg = f.maker.fgraph
    (gemm,) = fg.toposort()
    cost = T.sum(T.sin(fg.outputs[0]))
    specialized = workbench.function(fg.inputs, T.grad(cost, fg.inputs), mode=NO_OPT)
    original_cost = T.sum(T.sin(C + a * T.dot(A, B)))
    original = workbench.function([A, B, C, a], T.grad(original_cost, [A, B, C, a]))
    values = [_value((3, 4), "float64"), _value((4, 5), "float64"), _value((3, 5), "float64"),
              np.asarray(0.7)]
    for got, want in zip(specialized(*values), original(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-10)
