"""sort, argsort, topk, cumsum, cumprod and diff against NumPy."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from opcheck import check_infer_shape, check_op
from workbench import tensor as T
from workbench.compiler.ops.cumulative import CumOp, DiffOp
from workbench.compiler.ops.sort import ArgSort, Sort, TopK

DTYPES = ["bool", "int8", "int32", "int64", "uint16", "float16", "float32", "float64"]


@st.composite
def array_and_axis(draw, dtypes=DTYPES, min_dims=1, allow_none=True, min_side=0):
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=min_side,
                                  max_side=5))
    if np.dtype(dtype).kind == "f":
        elements = st.floats(-100, 100, width=np.dtype(dtype).itemsize * 8)
    else:
        elements = None
    value = draw(hnp.arrays(dtype, shape, elements=elements))
    axes = list(range(-len(shape), len(shape))) + ([None] if allow_none else [])
    return value, draw(st.sampled_from(axes))


# -- sort / argsort ----------------------------------------------------------------------

@given(array_and_axis())
def test_sort_matches_numpy(case):
    value, axis = case
    check_op(lambda x: T.sort(x, axis), lambda v: np.sort(v, axis=axis), value)


@given(array_and_axis(), st.sampled_from(["quicksort", "mergesort", "stable"]))
def test_argsort_matches_numpy(case, kind):
    value, axis = case
    (out,) = check_op(lambda x: [T.argsort(x, axis, kind=kind)],
                      lambda v: [np.argsort(v, axis=axis, kind=kind).astype(np.int64)], value)
    assert out.dtype == "int64"


def test_sort_puts_nan_last_and_keeps_inf_order():
    value = np.array([np.nan, 1.0, -np.inf, np.inf, 0.0])
    check_op(T.sort, np.sort, value)
    check_op(T.argsort, lambda v: np.argsort(v).astype(np.int64), value)


def test_sort_methods_and_defaults():
    x = T.dmatrix("x")
    value = np.array([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]])
    np.testing.assert_array_equal(x.sort().eval({x: value}), np.sort(value))
    np.testing.assert_array_equal(x.argsort(axis=0).eval({x: value}), np.argsort(value, 0))
    # a NumPy integer or a constant tensor is an axis too
    np.testing.assert_array_equal(T.sort(x, np.int64(0)).eval({x: value}), np.sort(value, 0))
    np.testing.assert_array_equal(T.sort(x, T.constant(0)).eval({x: value}), np.sort(value, 0))


@pytest.mark.parametrize("shape, axis, expected", [
    ((2, 3), None, (6,)), ((2, None), None, (None,)), ((2, 3), 0, (2, 3)), ((), None, (1,)),
])
def test_sort_static_shape(shape, axis, expected):
    x = T.TensorType("float64", shape)()
    assert T.sort(x, axis).type.shape == expected
    assert T.argsort(x, axis).type.shape == expected


def test_sort_of_a_scalar_with_axis_none_gives_one_element():
    check_op(lambda x: T.sort(x, None), lambda v: np.sort(v, axis=None), np.float64(3.0))


@pytest.mark.parametrize("build", [
    lambda x: T.sort(x, 1), lambda x: T.sort(x, None), lambda x: T.argsort(x, 0),
    lambda x: T.argsort(x, None), lambda x: T.cumsum(x), lambda x: T.cumprod(x, -1),
    lambda x: T.diff(x, 2, 1), lambda x: T.diff(x, 7, 1), lambda x: T.diff(x, 0, 0),
    lambda x: T.topk_and_argtopk(x, 2, axis=1), lambda x: T.topk(x, -1, axis=0),
])
def test_infer_shape(build):
    check_infer_shape(build, np.arange(12.0).reshape(3, 4))


def test_infer_shape_scalar_flattened():
    check_infer_shape(lambda x: [T.sort(x, None), T.cumsum(x)], np.float64(2.0))


def test_sort_errors():
    x = T.dmatrix("x")
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of bounds"):
        T.sort(x, 2)
    with pytest.raises(ValueError, match="axis -3"):
        T.argsort(x, -3)
    with pytest.raises(ValueError, match="out of bounds for a 0-d input"):
        T.sort(T.dscalar(), -1)
    with pytest.raises(ValueError, match="kind must be one of"):
        T.sort(x, kind="bogosort")
    with pytest.raises(ValueError, match="order"):
        T.argsort(x, order=["a"])
    with pytest.raises(TypeError, match="axis must be an int or None, got float"):
        T.sort(x, 1.0)
    with pytest.raises(TypeError, match="constant int"):
        T.sort(x, T.lscalar("a"))


def test_ops_compare_by_parameters():
    assert Sort(0) == Sort(0) and hash(Sort(0)) == hash(Sort(0))
    assert Sort(0) != Sort(1) and Sort(0) != ArgSort(0)
    assert CumOp(None, "add") != CumOp(None, "mul")
    assert DiffOp(1, 0) == DiffOp(1, 0)
    assert TopK(0, 2) != TopK(0, -2)


# -- topk ---------------------------------------------------------------------------------

def _topk_reference(value, kth, axis):
    """Largest first (smallest for kth < 0), ties by lower index, one lane at a time."""
    def lane_order(lane):
        sign = -1.0 if kth > 0 else 1.0
        order = sorted(range(len(lane)), key=lambda j: (sign * float(lane[j]), j))
        return np.array(order[:abs(kth)], dtype=np.int64)

    indices = np.apply_along_axis(lane_order, axis, value)
    return [np.take_along_axis(value, indices, axis=axis), indices]


@given(array_and_axis(dtypes=["int16", "uint8", "float32", "float64"], allow_none=False,
                      min_side=1), st.integers(1, 5), st.booleans())
def test_topk_gives_the_sorted_extremes(case, k, largest):
    value, axis = case
    kth = min(k, value.shape[axis]) * (1 if largest else -1)
    check_op(lambda x: list(T.topk_and_argtopk(x, kth, axis)),
             lambda v: _topk_reference(v, kth, axis), value)
    check_op(lambda x: [T.topk(x, kth, axis), T.argtopk(x, kth, axis)],
             lambda v: _topk_reference(v, kth, axis), value)


def test_topk_idx_dtype_and_ties():
    x = T.lvector("x")
    idx = T.argtopk(x, 3, idx_dtype="int32")
    assert idx.dtype == "int32"
    np.testing.assert_array_equal(idx.eval({x: [1, 5, 5, 0, 5]}), [1, 2, 4])
    np.testing.assert_array_equal(T.argtopk(x, -2).eval({x: [1, 0, 5, 0]}), [1, 3])


def test_topk_errors():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="kth must not be 0"):
        T.topk(x, 0)
    with pytest.raises(TypeError, match="kth must be an int"):
        T.topk(x, 1.5)
    with pytest.raises(ValueError, match="at least one dimension"):
        T.topk(T.dscalar(), 1)
    with pytest.raises(ValueError, match="larger than the size 3"):
        T.topk(T.TensorType("float64", (3,))(), 4)
    with pytest.raises(ValueError, match=r"\|kth\| = 4 is larger than the size 2"):
        T.topk(x, -4).eval({x: [1.0, 2.0]})
    with pytest.raises(TypeError, match="idx_dtype"):
        T.argtopk(x, 1, idx_dtype="float32")


# -- cumsum / cumprod ---------------------------------------------------------------------

@given(array_and_axis(), st.sampled_from(["cumsum", "cumprod"]))
def test_cumulative_matches_numpy(case, name):
    value, axis = case
    (out,) = check_op(lambda x: [getattr(T, name)(x, axis)],
                      lambda v: [getattr(np, name)(v, axis=axis)], value)
    assert out.dtype == getattr(np, name)(value, axis=axis).dtype.name


@pytest.mark.parametrize("dtype, expected", [
    ("bool", "int64"), ("int8", "int64"), ("int32", "int64"), ("uint8", "uint64"),
    ("float16", "float16"), ("float32", "float32"), ("complex64", "complex64")])
def test_cumulative_dtype_is_numpys(dtype, expected):
    x = T.TensorType(dtype, (None, None))()
    assert T.cumsum(x).dtype == expected == np.cumsum(np.zeros(1, dtype)).dtype.name
    assert T.cumprod(x, 0).dtype == np.cumprod(np.zeros(1, dtype)).dtype.name


def test_cumulative_methods_and_static_shape():
    x = T.TensorType("int8", (2, 3))("x")
    value = np.arange(6, dtype=np.int8).reshape(2, 3)
    assert x.cumsum().type.shape == (6,) and x.cumprod(axis=1).type.shape == (2, 3)
    np.testing.assert_array_equal(x.cumsum().eval({x: value}), np.cumsum(value))
    np.testing.assert_array_equal(x.cumprod(1).eval({x: value}), np.cumprod(value, 1))


def test_cumulative_errors():
    with pytest.raises(ValueError, match="axis 1 is out of bounds"):
        T.cumsum(T.dvector(), 1)
    with pytest.raises(ValueError, match="0-d input"):
        T.cumprod(T.dscalar(), 0)
    with pytest.raises(ValueError, match="mode must be 'add' or 'mul'"):
        CumOp(0, "max")


# -- diff ---------------------------------------------------------------------------------

@given(array_and_axis(allow_none=False), st.integers(0, 4))
def test_diff_matches_numpy(case, n):
    value, axis = case
    check_op(lambda x: T.diff(x, n, axis), lambda v: np.diff(v, n=n, axis=axis), value)


def test_diff_static_shape_and_no_alias():
    x = T.TensorType("float64", (3, None))()
    assert T.diff(x, 1, 0).type.shape == (2, None)
    assert T.diff(x, 5, 0).type.shape == (0, None)
    v = T.dvector("v")
    value = np.array([1.0, 2.0])
    out = T.diff(v, 0).eval({v: value})
    out[0] = 10.0
    assert value[0] == 1.0


def test_diff_errors():
    with pytest.raises(ValueError, match="at least one dimension"):
        T.diff(T.dscalar())
    with pytest.raises(ValueError, match="non-negative"):
        T.diff(T.dvector(), -1)
    with pytest.raises(np.exceptions.AxisError, match="axis 1"):
        T.diff(T.dvector(), 1, axis=1)
    with pytest.raises(TypeError, match="axis must be an int"):
        T.diff(T.dvector(), 1, axis=None)
