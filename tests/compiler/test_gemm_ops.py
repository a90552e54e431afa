"""The BLAS update ops Gemm, Gemv and Ger: values against NumPy on every layout and dtype,
in-place writes, the NumPy fallbacks (broadcasting, zero alpha/beta, empty operands, other
dtypes), shapes, types and gradients."""
from __future__ import annotations

import numpy as np
import pytest

from workbench import tensor as T
from workbench.compiler.ops.gemm import (Gemm, Gemv, Ger, blas_function, gemm_inplace,
                                         gemm_no_inplace, gemv_inplace, gemv_no_inplace,
                                         ger_inplace, ger_no_inplace)

from gradcheck import check_grad
from opcheck import check_infer_shape, check_op, symbolic_like

RNG = np.random.default_rng(7)
FLOATS = ["float32", "float64"]
ALL_DTYPES = ["float32", "float64", "complex128", "int32"]


def rand(shape, dtype="float64"):
    value = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        value = value + 1j * RNG.standard_normal(shape)
    if np.dtype(dtype).kind in "iu":
        value = RNG.integers(-5, 5, size=shape)
    return np.asarray(value, dtype=dtype)


def scalar(value, dtype):
    return np.asarray(value, dtype=dtype)


def run(op, *values, symbolic=None):
    """Apply ``op`` to symbolic inputs like ``values`` (or ``symbolic``), then call its
    ``perform`` directly on the arrays themselves (so their layouts and memory are those
    given, and an in-place op's writes can be seen)."""
    inputs = symbolic or [symbolic_like(v) for v in values]
    node = op.make_node(*inputs)
    storage = [[None]]
    with np.errstate(all="ignore"):  # as the VM runs ops: nan and inf are values here
        op.perform(node, list(values), storage)
    return storage[0][0]


def gemm_ref(z, a, x, y, b):
    return a * np.dot(x, y) + b * z


def gemv_ref(y, a, A, x, b):
    return a * np.dot(A, x) + b * y


def ger_ref(A, a, x, y):
    return A + a * np.outer(x, y)


# -- values against NumPy -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_gemm_matches_numpy(dtype):
    args = (rand((3, 5), dtype), scalar(2, dtype), rand((3, 4), dtype), rand((4, 5), dtype),
            scalar(-3, dtype))
    check_op(lambda *v: gemm_no_inplace(*v), gemm_ref, *args)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_gemv_matches_numpy(dtype):
    args = (rand(3, dtype), scalar(2, dtype), rand((3, 4), dtype), rand(4, dtype),
            scalar(-3, dtype))
    check_op(lambda *v: gemv_no_inplace(*v), gemv_ref, *args)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_ger_matches_numpy(dtype):
    args = (rand((3, 4), dtype), scalar(2, dtype), rand(3, dtype), rand(4, dtype))
    check_op(lambda *v: ger_no_inplace(*v), ger_ref, *args)


def _layouts(m):
    """The same matrix C-ordered, Fortran-ordered, strided (a slice of a bigger array)
    and reversed (negative strides)."""
    big = np.zeros((m.shape[0] * 2, m.shape[1] * 3), dtype=m.dtype)
    big[::2, ::3] = m
    return {"C": np.array(m, order="C"), "F": np.array(m, order="F"), "strided": big[::2, ::3],
            "reversed": np.ascontiguousarray(m[::-1, ::-1])[::-1, ::-1]}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", [gemm_no_inplace, gemm_inplace])
def test_gemm_every_layout_of_every_operand(op, dtype):
    z, x, y = rand((4, 5), dtype), rand((4, 3), dtype), rand((3, 5), dtype)
    a, b = scalar(1.5, dtype), scalar(0.5, dtype)
    want = gemm_ref(z, a, x, y, b)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for zl in _layouts(z):
        for xl, xv in _layouts(x).items():
            for yl, yv in _layouts(y).items():
                zv = _layouts(z)[zl]  # fresh: the in-place op overwrites it
                got = run(op, zv, a, xv, yv, b)
                np.testing.assert_allclose(got, want, rtol=rtol, err_msg=f"{zl} {xl} {yl}")
                assert got.dtype == dtype


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", [gemv_no_inplace, gemv_inplace])
def test_gemv_every_layout_of_the_matrix(op, dtype):
    y, A, x = rand(4, dtype), rand((4, 3), dtype), rand(6, dtype)[::2]
    a, b = scalar(-1.0, dtype), scalar(2.0, dtype)
    want = gemv_ref(y, a, A, x, b)
    for name, Av in _layouts(A).items():
        got = run(op, y.copy(), a, Av, x, b)
        np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=name)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", [ger_no_inplace, ger_inplace])
def test_ger_every_layout_of_the_matrix(op, dtype):
    A, x, y = rand((4, 3), dtype), rand(4, dtype), rand(3, dtype)
    a = scalar(0.5, dtype)
    want = ger_ref(A, a, x, y)
    for name in _layouts(A):
        got = run(op, _layouts(A)[name], a, x, y)
        np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=name)


# -- in place, and not ---------------------------------------------------------------------


@pytest.mark.parametrize("order", ["C", "F"])
def test_inplace_gemm_writes_into_z_and_the_other_leaves_it(order):
    z = np.asarray(rand((4, 5)), order=order)
    x, y = rand((4, 3)), rand((3, 5))
    a, b = scalar(2.0, "float64"), scalar(1.0, "float64")
    want = gemm_ref(z, a, x, y, b)
    saved = z.copy()
    out = run(gemm_no_inplace, z, a, x, y, b)
    np.testing.assert_array_equal(z, saved)
    assert not np.may_share_memory(out, z)
    out = run(gemm_inplace, z, a, x, y, b)
    assert out is z
    np.testing.assert_allclose(z, want, rtol=1e-12)


def test_inplace_gemv_and_ger_write_into_their_first_input():
    y, A, x = rand(4), rand((4, 3)), rand(3)
    want = gemv_ref(y, scalar(1.0, "float64"), A, x, scalar(1.0, "float64"))
    assert run(gemv_inplace, y, scalar(1.0, "float64"), A, x, scalar(1.0, "float64")) is y
    np.testing.assert_allclose(y, want)
    A, u, v = rand((4, 3)), rand(4), rand(3)
    want = ger_ref(A, scalar(3.0, "float64"), u, v)
    assert run(ger_inplace, A, scalar(3.0, "float64"), u, v) is A
    np.testing.assert_allclose(A, want)


def test_inplace_op_does_not_overwrite_an_operand_it_still_reads():
    # z and x share memory: BLAS would read what it writes; the op computes into a copy
    z = rand((4, 4))
    a, b = scalar(1.0, "float64"), scalar(1.0, "float64")
    want = gemm_ref(z, a, z, z.T, b)
    out = run(gemm_inplace, z, a, z, z.T, b)
    np.testing.assert_allclose(out, want, rtol=1e-12)
    A = rand((3, 3))
    want = ger_ref(A, a, A[0], A[:, 1])
    np.testing.assert_allclose(run(ger_inplace, A, a, A[0], A[:, 1]), want, rtol=1e-12)


def test_a_read_only_z_is_copied_even_in_place():
    z = rand((2, 2))
    z.flags.writeable = False
    out = run(gemm_inplace, z, scalar(1.0, "float64"), rand((2, 2)), rand((2, 2)),
              scalar(1.0, "float64"))
    assert out is not z


# -- what BLAS would do differently: NumPy's semantics are kept -----------------------------


def test_z_that_broadcasts_at_run_time_gives_numpy_values():
    z, x, y = rand((1, 5)), rand((3, 4)), rand((4, 5))
    sym = [T.dmatrix(), T.dscalar(), T.dmatrix(), T.dmatrix(), T.dscalar()]
    for op in (gemm_no_inplace, gemm_inplace):
        got = run(op, z, scalar(2.0, "float64"), x, y, scalar(3.0, "float64"), symbolic=sym)
        np.testing.assert_allclose(got, gemm_ref(z, 2.0, x, y, 3.0))
    # the product broadcasts: x has one row, z has three
    z3 = rand((3, 5))
    got = run(gemm_no_inplace, z3, scalar(1.0, "float64"), x[:1], y, scalar(1.0, "float64"),
              symbolic=sym)
    np.testing.assert_allclose(got, gemm_ref(z3, 1.0, x[:1], y, 1.0))
    got = run(gemv_no_inplace, rand(1), scalar(1.0, "float64"), x, rand(4),
              scalar(1.0, "float64"))
    assert got.shape == (3,)
    got = run(ger_no_inplace, rand((1, 1)), scalar(1.0, "float64"), rand(3), rand(5))
    assert got.shape == (3, 5)


def test_a_symbolic_zero_beta_still_spreads_nan_from_z():
    z = np.full((2, 2), np.nan)
    got = run(gemm_no_inplace, z, scalar(1.0, "float64"), rand((2, 3)), rand((3, 2)),
              scalar(0.0, "float64"))
    assert np.isnan(got).all()
    got = run(gemv_no_inplace, np.full(2, np.inf), scalar(1.0, "float64"), rand((2, 3)),
              rand(3), scalar(0.0, "float64"))
    assert np.isnan(got).all()


def test_a_constant_zero_beta_leaves_z_unread():
    z = np.full((2, 2), np.nan)
    x, y = rand((2, 3)), rand((3, 2))
    sym = [T.dmatrix(), T.dscalar(), T.dmatrix(), T.dmatrix(), T.constant(0.0)]
    got = run(gemm_no_inplace, z, scalar(2.0, "float64"), x, y, np.asarray(0.0), symbolic=sym)
    np.testing.assert_allclose(got, 2.0 * np.dot(x, y))
    # a one-element z stands for the result's shape
    got = run(gemm_no_inplace, np.zeros((1, 1)), scalar(2.0, "float64"), x, y, np.asarray(0.0),
              symbolic=sym)
    np.testing.assert_allclose(got, 2.0 * np.dot(x, y))
    assert got.flags.c_contiguous


def test_a_zero_alpha_still_spreads_nan_from_the_product():
    x = np.full((2, 3), np.nan)
    got = run(gemm_no_inplace, rand((2, 2)), scalar(0.0, "float64"), x, rand((3, 2)),
              scalar(1.0, "float64"))
    assert np.isnan(got).all()
    got = run(ger_no_inplace, rand((2, 2)), scalar(0.0, "float64"), np.full(2, np.inf),
              rand(2))
    assert np.isnan(got).all()


@pytest.mark.parametrize("m,k,n", [(0, 3, 2), (2, 0, 2), (2, 3, 0)])
def test_empty_operands(m, k, n):
    z, x, y = rand((m, n)), rand((m, k)), rand((k, n))
    got = run(gemm_no_inplace, z, scalar(2.0, "float64"), x, y, scalar(3.0, "float64"))
    np.testing.assert_allclose(got, gemm_ref(z, 2.0, x, y, 3.0))
    assert got.shape == (m, n)


def test_misaligned_operands_raise():
    sym = [T.dmatrix(), T.dscalar(), T.dmatrix(), T.dmatrix(), T.dscalar()]
    with pytest.raises(ValueError, match="not aligned"):
        run(gemm_no_inplace, rand((2, 2)), scalar(1.0, "float64"), rand((2, 3)), rand((2, 2)),
            scalar(1.0, "float64"), symbolic=sym)
    with pytest.raises(ValueError, match="not aligned"):
        run(gemv_no_inplace, rand(2), scalar(1.0, "float64"), rand((2, 3)), rand(2),
            scalar(1.0, "float64"))


# -- types, shapes, identity ------------------------------------------------------------------


def test_names_equality_and_hash():
    assert str(Gemm()) == "Gemm{no_inplace}" and str(Gemm(inplace=True)) == "Gemm{inplace}"
    assert str(Gemv(True)) == "Gemv{inplace}" and str(Ger()) == "Ger{no_inplace}"
    assert Gemm() == gemm_no_inplace and hash(Gemm()) == hash(gemm_no_inplace)
    assert Gemm() != gemm_inplace and Gemm() != Gemv()
    assert gemm_inplace.destroy_map == {0: [0]} and gemm_no_inplace.destroy_map == {}
    assert ger_inplace.destroy_map == {0: [0]}


def test_make_node_types():
    z, x, y = T.fmatrix(), T.fmatrix(), T.TensorType("float32", (None, 7))()
    out = gemm_no_inplace(z, 2.0, x, y, T.iscalar())
    assert out.type == T.TensorType("float32", (None, 7))
    assert out.owner.inputs[1].dtype == "float32" and out.owner.inputs[4].dtype == "float32"
    with pytest.raises(TypeError, match="one dtype"):
        gemm_no_inplace(T.dmatrix(), 1.0, T.fmatrix(), T.fmatrix(), 1.0)
    with pytest.raises(TypeError, match="must be a matrix"):
        gemm_no_inplace(T.dvector(), 1.0, T.dmatrix(), T.dmatrix(), 1.0)
    with pytest.raises(TypeError, match="scalar"):
        gemm_no_inplace(T.dmatrix(), T.dvector(), T.dmatrix(), T.dmatrix(), 1.0)
    with pytest.raises(TypeError, match="cannot be cast"):
        gemm_no_inplace(T.fmatrix(), T.cscalar(), T.fmatrix(), T.fmatrix(), 1.0)
    with pytest.raises(TypeError, match="cannot be cast"):
        gemm_no_inplace(T.fmatrix(), 1.0, T.fmatrix(), T.fmatrix(), 2j)
    with pytest.raises(ValueError, match="not aligned"):
        gemm_no_inplace(T.dmatrix(), 1.0, T.TensorType("float64", (2, 3))(),
                        T.TensorType("float64", (4, 2))(), 1.0)
    with pytest.raises(TypeError, match="must be a vector"):
        gemv_no_inplace(T.dvector(), 1.0, T.dmatrix(), T.dmatrix(), 1.0)
    with pytest.raises(TypeError, match="numbers"):
        ger_no_inplace(T.TensorType("bool", (None, None))(), True,
                       T.TensorType("bool", (None,))(), T.TensorType("bool", (None,))())


def test_infer_shape():
    check_infer_shape(lambda *v: gemm_no_inplace(*v), rand((3, 5)), scalar(1.0, "float64"),
                      rand((3, 2)), rand((2, 5)), scalar(1.0, "float64"))
    check_infer_shape(lambda *v: gemm_no_inplace(*v), rand((1, 5)), scalar(1.0, "float64"),
                      rand((3, 2)), rand((2, 5)), scalar(1.0, "float64"))
    check_infer_shape(lambda *v: gemv_no_inplace(*v), rand(3), scalar(1.0, "float64"),
                      rand((3, 2)), rand(2), scalar(1.0, "float64"))
    check_infer_shape(lambda *v: ger_no_inplace(*v), rand((3, 4)), scalar(1.0, "float64"),
                      rand(3), rand(4))


def test_blas_function_lookup():
    from scipy.linalg import blas

    assert blas_function("gemv", "float64") is blas.dgemv
    assert blas_function("ger", "complex64") is blas.cgeru
    assert blas_function("gemm", "float16") is None


# -- gradients ----------------------------------------------------------------------------------


def test_gemm_gradient():
    check_grad(lambda *v: gemm_no_inplace(*v), rand((3, 4)), scalar(1.5, "float64"),
               rand((3, 2)), rand((2, 4)), scalar(-0.5, "float64"))


def test_gemm_gradient_through_a_z_that_broadcasts_at_run_time():
    check_grad(lambda *v: gemm_no_inplace(*v), rand((1, 4)), scalar(1.5, "float64"),
               rand((3, 2)), rand((2, 4)), scalar(2.0, "float64"))


def test_gemm_gradient_with_a_constant_zero_beta_ignores_z():
    def build(a, x, y):
        return gemm_no_inplace(T.constant(np.zeros((1, 1))), a, x, y, T.constant(0.0))

    check_grad(build, scalar(1.5, "float64"), rand((3, 2)), rand((2, 4)))


def test_gemv_gradient():
    check_grad(lambda *v: gemv_no_inplace(*v), rand(3), scalar(1.5, "float64"), rand((3, 2)),
               rand(2), scalar(-0.5, "float64"))


def test_ger_gradient():
    check_grad(lambda *v: ger_no_inplace(*v), rand((3, 4)), scalar(1.5, "float64"), rand(3),
               rand(4))
