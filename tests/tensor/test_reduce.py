"""Reductions against NumPy: values, dtypes and shapes over dtypes, shapes (size 0 and 1
included), every axis form and keepdims; infer_shape; error cases."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from opcheck import check_infer_shape, check_op
from workbench import tensor as T
from workbench.compiler.ops import reduce as ops
from workbench.compiler.ops import scalar
from workbench.compiler.ops.shape import Shape_i

DTYPES = ["bool", "int8", "uint8", "int32", "int64", "float32", "float64"]


def _elements(dtype: str) -> st.SearchStrategy:
    if dtype == "bool":
        return st.booleans()
    if dtype.startswith("uint"):
        return st.integers(0, 4)
    if dtype.startswith("int"):
        return st.integers(-4, 4)
    # quarters: sums are exact in float32, so NumPy's and our summation orders agree
    return st.integers(-40, 40).map(lambda v: v / 4)


@st.composite
def arrays(draw, dtypes=DTYPES, min_dims=0, max_dims=3):
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0,
                                  max_side=3))
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))


@st.composite
def axes(draw, ndim: int, allow_tuple: bool = True):
    """None, an int (maybe negative), or a tuple/list of distinct axes (maybe negative)."""
    forms = ["none"] + (["int"] if ndim else []) + (["seq"] if allow_tuple else [])
    form = draw(st.sampled_from(forms))
    if form == "none":
        return None
    if form == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)
                  ) if ndim else []
    chosen = [a - ndim if draw(st.booleans()) else a for a in chosen]
    return tuple(chosen) if draw(st.booleans()) else list(chosen)


def _numpy_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _check_or_raises(build, reference, value, **kwargs):
    """check_op, or, where NumPy raises ValueError (max of an empty axis), that we do too."""
    try:
        with np.errstate(all="ignore"):
            reference(value.copy())
    except ValueError:
        x = T.TensorType(value.dtype, (None,) * value.ndim)()
        fn = __import__("workbench").function([x], build(x))
        with pytest.raises(ValueError, match="empty"):
            fn(value)
        return
    check_op(build, reference, value, **kwargs)


# -- sum, prod, max, min, all, any -------------------------------------------------------

NP_REDUCTIONS = {
    "sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "all": np.all,
    "any": np.any,
}


@pytest.mark.parametrize("name", sorted(NP_REDUCTIONS))
@given(data=st.data())
def test_reduction_matches_numpy(name, data):
    x = data.draw(arrays())
    axis = data.draw(axes(x.ndim))
    keepdims = data.draw(st.booleans())
    fn, np_fn = getattr(T, name), NP_REDUCTIONS[name]
    _check_or_raises(lambda v: fn(v, axis=axis, keepdims=keepdims),
                     lambda v: np.asarray(np_fn(v, axis=_numpy_axis(axis), keepdims=keepdims)),
                     x)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "all", "any"])
def test_methods_call_the_functions(name):
    x = np.arange(6, dtype="int32").reshape(2, 3)
    check_op(lambda v: getattr(v, name)(axis=1), lambda v: getattr(v, name)(axis=1), x)


@pytest.mark.parametrize("dtype, want", [
    ("bool", "int64"), ("int8", "int64"), ("int32", "int64"), ("uint8", "uint64"),
    ("float16", "float16"), ("float32", "float32"), ("float64", "float64"),
    ("complex64", "complex64")])
def test_sum_and_prod_dtypes(dtype, want):
    x = T.TensorType(dtype, (None, None))()
    assert T.sum(x).dtype == want == np.sum(np.ones((1, 1), dtype)).dtype
    assert T.prod(x, axis=0).dtype == want
    assert T.max(x).dtype == dtype and T.min(x, axis=1).dtype == dtype
    assert T.all(x).dtype == "bool" and T.any(x).dtype == "bool"


def test_sum_accumulates_wide_and_casts_to_dtype():
    x = np.array([100, 100, 100], dtype="int8")
    check_op(lambda v: T.sum(v), np.sum, x)                          # int64, no wrap-around
    check_op(lambda v: T.sum(v, dtype="int8"), lambda v: np.sum(v, dtype="int8"), x)
    check_op(lambda v: T.sum(v, dtype="float32"), lambda v: np.sum(v, dtype="float32"), x)
    check_op(lambda v: T.prod(v, acc_dtype="float64"), lambda v: np.prod(v), x)
    f = np.array([1e8, 1, -1e8], dtype="float32")
    # float32 sums run in float64 (Theano's acc_dtype) and round once at the end
    (out,) = check_op(lambda v: T.sum(v), lambda v: np.float32(1.0), f)
    assert out.owner.op.acc_dtype == "float64"


def test_acc_dtype_that_loses_precision_is_refused():
    with pytest.raises(TypeError, match="acc_dtype int8"):
        T.sum(T.fvector(), acc_dtype="int8")
    with pytest.raises(TypeError, match="precision would be lost"):
        T.prod(T.lvector(), acc_dtype="int32")


def test_empty_reductions():
    empty = np.zeros((0, 3), dtype="float64")
    check_op(lambda v: T.sum(v, axis=0), lambda v: np.sum(v, axis=0), empty)
    check_op(lambda v: T.prod(v, axis=0), lambda v: np.prod(v, axis=0), empty)
    check_op(lambda v: T.all(v), np.all, empty)
    check_op(lambda v: T.any(v), np.any, empty)
    check_op(lambda v: T.max(v, axis=1), lambda v: np.max(v, axis=1), empty)  # nothing empty
    x = T.dmatrix()
    for build in (T.max(x, axis=0), T.min(x), T.argmax(x, axis=0), T.argmin(x)):
        with pytest.raises(ValueError, match="empty"):
            build.eval({x: empty})


def test_keepdims_is_broadcastable():
    x = T.TensorType("float64", (None, 4, None))()
    y = T.sum(x, axis=(0, -1), keepdims=True)
    assert y.type.shape == (1, 4, 1) and y.broadcastable == (True, False, True)
    assert T.argmax(x, keepdims=True).type.shape == (1, 1, 1)
    assert T.mean(x, axis=1).type.shape == (None, None)


def test_static_shapes_follow_the_input():
    x = T.TensorType("int8", (2, None, 5))()
    assert T.sum(x, axis=1).type.shape == (2, 5)
    assert T.max(x, axis=(0, 2)).type.shape == (None,)
    assert T.argmin(x).type.shape == ()


def test_every_axis_is_one_canonical_op():
    x = T.dmatrix()
    assert T.sum(x).owner.op == T.sum(x, axis=(1, 0)).owner.op == T.sum(x, [-1, -2]).owner.op
    assert T.sum(x, axis=0).owner.op != T.sum(x, axis=1).owner.op
    assert hash(ops.Sum(axis=(0,), dtype="float64", acc_dtype="float64")) == \
        hash(T.sum(x, axis=0).owner.op)


@pytest.mark.parametrize("axis", [2, -3, (0, 0), (0, -2)])
def test_bad_axis_names_axis_and_ndim(axis):
    with pytest.raises(ValueError, match=r"axis .*2 dimensions|repeats an axis"):
        T.sum(T.dmatrix(), axis=axis)


@pytest.mark.parametrize("fn", [T.sum, T.max, T.argmax, T.mean, T.var, T.all])
def test_bad_axis_type(fn):
    with pytest.raises(TypeError, match="axis must be"):
        fn(T.dmatrix(), axis=1.5)
    with pytest.raises(ValueError, match="out of bounds for a 0-d input"):
        fn(T.dscalar(), axis=0)


def test_careduce_rejects_non_ufunc_scalar_ops():
    with pytest.raises(TypeError, match="binary scalar op"):
        ops.CAReduce(scalar.exp)
    with pytest.raises(ValueError, match="non-negative"):
        ops.Sum(axis=-1)
    with pytest.raises(ValueError, match="out of range"):
        ops.Sum(axis=3)(T.dmatrix())


def test_generic_careduce_xor():
    x = np.array([[1, 2, 4], [3, 3, 0]], dtype="int16")
    check_op(lambda v: ops.CAReduce(scalar.xor, axis=1)(v),
             lambda v: np.bitwise_xor.reduce(v, axis=1), x)


# -- argmax, argmin, max_and_argmax -------------------------------------------------------

@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data())
def test_arg_reductions_match_numpy(name, data):
    x = data.draw(arrays(dtypes=["int8", "int64", "float32", "float64", "bool"]))
    axis = data.draw(axes(x.ndim, allow_tuple=False))
    keepdims = data.draw(st.booleans())
    fn, np_fn = getattr(T, name), getattr(np, name)
    out = None
    try:
        np_fn(x, axis=axis)
    except ValueError:
        out = "raises"
    if out == "raises":
        v = T.TensorType(x.dtype, (None,) * x.ndim)()
        with pytest.raises(ValueError, match="empty"):
            fn(v, axis=axis).eval({v: x})
        return
    check_op(lambda v: fn(v, axis=axis, keepdims=keepdims),
             lambda v: np.asarray(np_fn(v, axis=axis, keepdims=keepdims)), x)


def test_argmax_over_several_axes_indexes_their_flattening():
    x = np.random.default_rng(0).permutation(24).reshape(2, 3, 4).astype("float64")

    def reference(v):
        return np.argmax(v.transpose(1, 0, 2).reshape(3, 8), axis=1)

    check_op(lambda v: T.argmax(v, axis=(0, 2)), reference, x)


def test_max_and_argmax():
    x = np.array([[1.0, 9.0, 3.0], [7.0, 2.0, 7.0]])
    check_op(lambda v: T.max_and_argmax(v, axis=1),
             lambda v: [np.max(v, axis=1), np.argmax(v, axis=1)], x)
    check_op(lambda v: T.max_and_argmax(v, keepdims=True),
             lambda v: [np.max(v, keepdims=True), np.argmax(v, keepdims=True)], x)


# -- mean, var, std -------------------------------------------------------------------------

@given(data=st.data())
def test_mean_matches_numpy(data):
    x = data.draw(arrays())
    axis = data.draw(axes(x.ndim))
    keepdims = data.draw(st.booleans())
    check_op(lambda v: T.mean(v, axis=axis, keepdims=keepdims),
             lambda v: np.asarray(np.mean(v, axis=_numpy_axis(axis), keepdims=keepdims)), x)


@pytest.mark.parametrize("dtype", ["int8", "float32", "float64"])
def test_mean_dtype_argument(dtype):
    x = np.arange(6, dtype="int32").reshape(2, 3)
    check_op(lambda v: T.mean(v, axis=0, dtype=dtype),
             lambda v: np.mean(v, axis=0, dtype=dtype), x)
    h = np.arange(6, dtype="float16")
    check_op(lambda v: T.mean(v), np.mean, h)


@pytest.mark.parametrize("name", ["var", "std"])
@given(data=st.data())
def test_var_std_match_numpy(name, data):
    x = data.draw(arrays(dtypes=["int8", "int64", "float32", "float64", "bool"], min_dims=1))
    axis = data.draw(axes(x.ndim))
    keepdims = data.draw(st.booleans())
    ddof = data.draw(st.integers(0, 2))
    corrected = data.draw(st.booleans())
    fn, np_fn = getattr(T, name), getattr(np, name)
    check_op(lambda v: fn(v, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected),
             lambda v: np.asarray(np_fn(v, axis=_numpy_axis(axis), ddof=ddof,
                                        keepdims=keepdims)),
             x, rtol=1e-4 if x.dtype == np.float32 else None)


def test_corrected_var_far_from_zero():
    x = (1e4 + np.arange(5)).astype("float32")
    check_op(lambda a: T.var(a, corrected=True),
             lambda a: np.var(a.astype("float64")).astype("float32"), x)
    check_op(lambda a: T.std(a, ddof=1, corrected=True, keepdims=True),
             lambda a: np.std(a.astype("float64"), ddof=1, keepdims=True).astype("float32"), x)


def test_var_of_complex_is_real():
    x = np.array([1 + 1j, 2 - 1j, 0 + 3j], dtype="complex128")
    check_op(lambda v: T.var(v), np.var, x)
    check_op(lambda v: T.std(v, ddof=1, corrected=True), lambda v: np.std(v, ddof=1), x)


def test_var_ddof_must_be_an_int():
    with pytest.raises(TypeError, match="ddof"):
        T.var(T.dvector(), ddof=0.5)


def test_mean_of_static_shape_divides_by_a_constant():
    x = T.TensorType("float64", (3, None))()
    assert not any(isinstance(n.op, Shape_i) for n in _nodes(T.mean(x, axis=0)))
    assert any(isinstance(n.op, Shape_i) for n in _nodes(T.mean(x, axis=1)))


def _nodes(out):
    from workbench.compiler.graph import io_toposort

    return io_toposort([], [out])


# -- infer_shape ----------------------------------------------------------------------------

# (build, whether it accepts an input with an empty reduced axis)
INFER_SHAPE_CASES = [
    (lambda v: T.sum(v, axis=1), True),
    (lambda v: T.prod(v, axis=(0, 2), keepdims=True), True),
    (lambda v: T.all(v, axis=-1), True),
    (lambda v: T.max(v), False),
    (lambda v: T.argmax(v, axis=0), False),
    (lambda v: T.argmin(v, axis=(1, 2), keepdims=True), False),
]


@pytest.mark.parametrize("build, empty_ok", INFER_SHAPE_CASES)
@pytest.mark.parametrize("shape", [(2, 3, 4), (0, 2, 1)])
def test_infer_shape(build, empty_ok, shape):
    if 0 in shape and not empty_ok:
        shape = (1, 2, 1)
    check_infer_shape(build, np.ones(shape, dtype="float64"))


def test_infer_shape_of_mean_and_var():
    x = np.ones((2, 3))
    check_infer_shape(lambda v: T.mean(v, axis=1, keepdims=True), x)
    check_infer_shape(lambda v: T.var(v, axis=0, ddof=1), x)
