"""TensorType: equality, static shapes, and filter's conversions and refusals."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

from workbench import tensor as T
from workbench.compiler.types import ALL_DTYPES, TensorType

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64",
          "complex64", "complex128"]


def test_equality_and_hash():
    assert TensorType("float64", (None, 1)) == TensorType("float64", (False, True))
    assert TensorType("float64", (None, 1)) == T.dcol
    assert TensorType("float64", (None,)) != TensorType("float32", (None,))
    assert TensorType("float64", (None,)) != TensorType("float64", (3,))
    assert len({TensorType("int8", ()), T.bscalar, TensorType(np.int8, ())}) == 1


def test_broadcastable_from_static_shape():
    t = TensorType("float32", (1, None, 3, 1))
    assert t.broadcastable == (True, False, False, True)
    assert t.ndim == 4
    assert TensorType("float32", broadcastable=(True, False)).shape == (1, None)
    assert t.clone(dtype="int8") == TensorType("int8", (1, None, 3, 1))
    assert t.clone(broadcastable=(False,)).shape == (None,)


def test_names():
    assert str(T.dmatrix) == "TensorType(float64, matrix)"
    assert str(T.frow) == "TensorType(float32, row)"
    assert str(TensorType("int8", (2, None))) == "TensorType(int8, (2, ?))"
    assert repr(T.iscalar) == "TensorType(int32, scalar)"


def test_bad_types_refused():
    with pytest.raises(TypeError, match="unsupported dtype"):
        TensorType("U3", (None,))
    with pytest.raises(TypeError):
        TensorType("float64")
    with pytest.raises(ValueError, match="negative"):
        TensorType("float64", (-1,))
    assert set(ALL_DTYPES) >= set(DTYPES)


def test_is_super():
    assert T.dmatrix.is_super(T.drow)
    assert not T.drow.is_super(T.dmatrix)
    assert not T.dmatrix.is_super(T.fmatrix)


@given(dtype=st.sampled_from(DTYPES), ndim=st.integers(0, 3))
def test_filter_passes_exact_arrays_through(dtype, ndim):
    t = TensorType(dtype, (None,) * ndim)
    arr = np.zeros((2,) * ndim, dtype=dtype)
    assert t.filter(arr) is arr
    assert t.filter(arr, strict=True) is arr


@given(src=st.sampled_from(DTYPES), dst=st.sampled_from(DTYPES))
def test_filter_of_arrays_follows_safe_casting(src, dst):
    """An array converts when NumPy casts it safely; otherwise only with allow_downcast."""
    arr = np.ones(3, dtype=src)
    t = TensorType(dst, (None,))
    if np.can_cast(src, dst, "safe"):
        out = t.filter(arr)
        assert out.dtype == dst and np.array_equal(out, arr.astype(dst))
    else:
        with pytest.raises(TypeError, match=f"{dst}.*{src}|loss of precision"):
            t.filter(arr)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert t.filter(arr, allow_downcast=True).dtype == dst
    if src != dst:
        with pytest.raises(TypeError, match="expected dtype"):
            t.filter(arr, strict=True)


@pytest.mark.parametrize("value,dtype,ok", [
    (1.5, "float32", True),         # Python floats go into floatX-like dtypes
    ([1.0, 2.5], "float32", True),
    ([1.0, 1e300], "float32", False),  # would become inf: refused
    (3, "int8", True), (300, "int8", False), (-1, "uint8", False), (255, "uint8", True),
    (1, "bool", True), (0, "bool", True), (2, "bool", False),
    (1.5, "int32", False), (2.0, "int32", False),  # floats never silently become ints
    (1j, "float64", False), (1, "complex64", True), (1.5, "complex128", True),
    (True, "float64", True), ([1, 2], "float64", True),
])
def test_filter_python_values(value, dtype, ok):
    t = TensorType(dtype, (None,) * np.ndim(value))
    if ok:
        out = t.filter(value)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, np.asarray(value).astype(dtype))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(TypeError, match="loss of precision"):
                t.filter(value)


def test_filter_refusals_name_what_is_wrong():
    with pytest.raises(TypeError, match=r"expected 1 \(vector\), got 2 with shape \(2, 2\)"):
        T.dvector.filter(np.ones((2, 2)))
    with pytest.raises(TypeError, match="not a rectangular"):
        T.dmatrix.filter([[1, 2], [3]])
    with pytest.raises(TypeError, match="strings"):
        T.dvector.filter(["a", "b"])
    with pytest.raises(TypeError, match="dict"):
        T.dscalar.filter({"a": 1})
    with pytest.raises(TypeError, match=r"static shape col .* at axis 1"):
        T.dcol.filter(np.ones((2, 2)))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        T.dvector.filter([1.0], strict=True)
    with pytest.raises(TypeError, match="allow_input_downcast"):
        T.fvector.filter(np.ones(2))


def test_filter_scalars_and_numpy_scalars():
    out = T.dscalar.filter(np.float64(2.0))
    assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.float64
    out = T.dscalar.filter(np.float32(2.0))
    assert out.dtype == np.float64
    with pytest.raises(TypeError):
        T.fscalar.filter(np.float64(2.0))  # NumPy scalars carry a precision: no downcast


def test_is_valid_value_and_values_eq():
    assert T.dvector.is_valid_value(np.ones(2))
    assert not T.dvector.is_valid_value([1.0])
    assert not T.dvector.is_valid_value(np.ones((1, 1)))
    assert T.dvector.values_eq(np.ones(2), np.ones(2))
    assert T.fvector.values_eq_approx(np.ones(2, "float32"), np.ones(2) + 1e-7)
    assert not T.fvector.values_eq_approx(np.ones(2), np.ones(3))
    assert T.dvector.values_eq_approx(np.array([np.nan]), np.array([np.nan]))
