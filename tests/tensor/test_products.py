"""Products against NumPy: dot for every ndim pair, tensordot, batched_dot, outer, matmul,
inner, vdot; dtypes, size-0 and size-1 shapes, static shape errors, infer_shape."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from opcheck import check_infer_shape, check_op
from workbench import tensor as T
from workbench.compiler.ops.blas import BatchedDot, Dot, MatMul, TensorDot

DTYPES = ["bool", "int8", "int32", "int64", "float32", "float64"]
sizes = st.integers(0, 3)


def _elements(dtype: str) -> st.SearchStrategy:
    if dtype == "bool":
        return st.booleans()
    if dtype.startswith("int"):
        return st.integers(-3, 3)
    # quarters: products and short sums are exact in float32, whatever the order
    return st.integers(-12, 12).map(lambda v: v / 4)


def _array(draw, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))


@st.composite
def dot_operands(draw, min_ndim: int = 0, max_ndim: int = 3):
    """Two arrays whose shapes np.dot accepts, of independently drawn dtypes."""
    nd_a = draw(st.integers(min_ndim, max_ndim))
    nd_b = draw(st.integers(min_ndim, max_ndim))
    shape_a = list(draw(st.tuples(*[sizes] * nd_a)))
    shape_b = list(draw(st.tuples(*[sizes] * nd_b)))
    if nd_a and nd_b:
        shape_b[max(nd_b - 2, 0)] = shape_a[-1]
    a = _array(draw, draw(st.sampled_from(DTYPES)), tuple(shape_a))
    b = _array(draw, draw(st.sampled_from(DTYPES)), tuple(shape_b))
    return a, b


@given(operands=dot_operands())
def test_dot_matches_numpy(operands):
    a, b = operands
    check_op(T.dot, np.dot, a, b)


@given(operands=dot_operands(min_ndim=1, max_ndim=2))
def test_dot_operators_and_method(operands):
    a, b = operands
    (out,) = check_op(lambda x, y: [x @ y], lambda x, y: [np.dot(x, y)], a, b)
    assert isinstance(out.owner.op, Dot)
    check_op(lambda x, y: x.dot(y), np.dot, a, b)
    # a NumPy array on the left defers to the symbolic operand's __rmatmul__
    check_op(lambda x, y: a @ y, lambda x, y: np.dot(a, y), a, b)


@pytest.mark.parametrize("da, db", [("int8", "int8"), ("int8", "uint8"), ("int32", "float32"),
                                    ("int64", "float32"), ("bool", "bool"), ("bool", "int8"),
                                    ("float32", "float64"), ("complex64", "float32")])
def test_dot_dtype_is_numpys(da, db):
    a, b = T.TensorType(da, (None, None))(), T.TensorType(db, (None,))()
    want = np.dot(np.ones((1, 1), da), np.ones(1, db)).dtype
    assert T.dot(a, b).dtype == want
    assert T.dot(T.TensorType(da, (None,) * 3)(), T.TensorType(db, (None,) * 2)()).dtype == want


def test_dot_int8_wraps_as_numpy():
    a = np.full((2, 3), 100, dtype="int8")
    b = np.full((3,), 2, dtype="int8")
    check_op(T.dot, np.dot, a, b)


def test_dot_of_bools_is_logical():
    a = np.array([[True, False], [False, False]])
    check_op(T.dot, np.dot, a, a)


@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)),
                                              ((2, 2, 3), (2, 2)), ((3,), (2, 4, 1))])
def test_static_mismatch_raises_at_build_naming_both_types(shape_a, shape_b):
    a = T.TensorType("float64", shape_a)()
    b = T.TensorType("float64", shape_b)()
    with pytest.raises(ValueError, match=r"not aligned") as info:
        T.dot(a, b)
    assert str(a.type) in str(info.value) and str(b.type) in str(info.value)


def test_runtime_mismatch_raises():
    a, b = T.dmatrix(), T.dvector()
    with pytest.raises(ValueError, match="not aligned"):
        T.dot(a, b).eval({a: np.ones((2, 3)), b: np.ones(4)})


def test_dot_static_shape():
    a = T.TensorType("float64", (2, None))()
    b = T.TensorType("float64", (None, 5))()
    assert T.dot(a, b).type.shape == (2, 5)
    assert T.dot(T.TensorType("float64", (4, 2, 3))(), T.TensorType("float64", (6, 3, 7))()
                 ).type.shape == (4, 2, 6, 7)


def test_dot_op_takes_only_vectors_and_matrices():
    with pytest.raises(TypeError, match="1-d or 2-d"):
        Dot()(T.dtensor3(), T.dmatrix())


# -- tensordot ------------------------------------------------------------------------------

@st.composite
def tensordot_case(draw):
    nd_a, nd_b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    n = draw(st.integers(0, min(nd_a, nd_b)))
    axes_a = draw(st.permutations(range(nd_a)))[:n]
    axes_b = draw(st.permutations(range(nd_b)))[:n]
    shape_a = list(draw(st.tuples(*[sizes] * nd_a)))
    shape_b = list(draw(st.tuples(*[sizes] * nd_b)))
    for i, j in zip(axes_a, axes_b):
        shape_b[j] = shape_a[i]
    form = draw(st.sampled_from(["int", "lists", "negative"]))
    if form == "int":
        # the int form contracts the last n of a with the first n of b
        axes = n
        for k in range(n):
            shape_b[k] = shape_a[nd_a - n + k]
    elif form == "lists":
        axes = [list(axes_a), list(axes_b)]
    else:
        axes = ([a - nd_a for a in axes_a], [b - nd_b for b in axes_b])
    dtype = draw(st.sampled_from(DTYPES))
    return (_array(draw, dtype, tuple(shape_a)), _array(draw, dtype, tuple(shape_b)), axes)


@given(case=tensordot_case())
def test_tensordot_matches_numpy(case):
    a, b, axes = case
    check_op(lambda x, y: T.tensordot(x, y, axes), lambda x, y: np.tensordot(x, y, axes), a, b)


def test_tensordot_default_axes_and_dot_shortcut():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(3, 4, 5))
    check_op(T.tensordot, np.tensordot, a, b)
    (out,) = check_op(lambda x, y: [T.tensordot(x, y, 1)], lambda x, y: [np.tensordot(x, y, 1)],
                      rng.normal(size=(2, 3)), rng.normal(size=(3, 4)))
    assert isinstance(out.owner.op, Dot)


@pytest.mark.parametrize("axes, match", [(3, "axes=3"), (-1, "axes=-1"), ([[0], [0, 1]], "name 1"),
                                         ([[2], [0]], "out of range"), ([[0, 0], [0, 1]], "repeat"),
                                         ("x", "int or a pair"), ([[0.5], [0]], "not an int")])
def test_tensordot_bad_axes(axes, match):
    with pytest.raises(ValueError, match=match):
        T.tensordot(T.dmatrix(), T.dmatrix(), axes)


def test_tensordot_static_mismatch():
    a = T.TensorType("float64", (2, 3))()
    b = T.TensorType("float64", (4, 2))()
    with pytest.raises(ValueError, match="not aligned"):
        T.tensordot(a, b, [[1], [0]])


# -- batched_dot ----------------------------------------------------------------------------

def _batched_reference(a, b):
    if a.ndim == 1 or b.ndim == 1:
        pad = max(a.ndim, b.ndim) - 1
        a = a.reshape(a.shape + (1,) * pad) if a.ndim == 1 else a
        b = b.reshape(b.shape + (1,) * pad) if b.ndim == 1 else b
        return a * b
    letters = "ijklm"
    sa = "z" + letters[:a.ndim - 2] + "c"
    b_axis = 1 if b.ndim == 2 else b.ndim - 2
    rest = "pqrst"[:b.ndim - 1]
    sb = "z" + "".join("c" if i == b_axis else rest[i - 1] for i in range(1, b.ndim))
    out = "z" + letters[:a.ndim - 2] + "".join(ch for ch in sb[1:] if ch != "c")
    return np.einsum(f"{sa},{sb}->{out}", a, b)


@st.composite
def batched_operands(draw):
    batch = draw(sizes)
    nd_a, nd_b = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shape_a = [batch] + list(draw(st.tuples(*[sizes] * (nd_a - 1))))
    shape_b = [batch] + list(draw(st.tuples(*[sizes] * (nd_b - 1))))
    if nd_a >= 2 and nd_b >= 2:
        shape_b[1 if nd_b == 2 else nd_b - 2] = shape_a[-1]
    dtype = draw(st.sampled_from(["int8", "int64", "float32", "float64"]))
    return _array(draw, dtype, tuple(shape_a)), _array(draw, dtype, tuple(shape_b))


@given(operands=batched_operands())
def test_batched_dot_matches_einsum(operands):
    a, b = operands
    check_op(T.batched_dot, _batched_reference, a, b)


def test_batched_dot_is_dot_per_batch():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 3, 5))
    check_op(T.batched_dot, lambda x, y: np.stack([np.dot(x[i], y[i]) for i in range(4)]), a, b)
    assert isinstance(T.batched_dot(T.dtensor3(), T.dtensor3()).owner.op, BatchedDot)


def test_batched_dot_errors():
    with pytest.raises(TypeError, match="batch axis"):
        T.batched_dot(T.dscalar(), T.dmatrix())
    with pytest.raises(ValueError, match="batch sizes 2 and 3"):
        T.batched_dot(T.TensorType("float64", (2, None, None))(),
                      T.TensorType("float64", (3, None, None))())
    a, b = T.dtensor3(), T.dtensor3()
    with pytest.raises(ValueError, match="batch sizes differ"):
        T.batched_dot(a, b).eval({a: np.ones((2, 1, 1)), b: np.ones((3, 1, 1))})


# -- outer, matmul, inner, vdot -------------------------------------------------------------

@given(data=st.data())
def test_outer_matches_numpy(data):
    x, y = (data.draw(st.sampled_from(DTYPES).flatmap(lambda d: hnp.arrays(
        d, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3),
        elements=_elements(d)))) for _ in range(2))
    check_op(T.outer, np.outer, x, y)


@st.composite
def matmul_operands(draw):
    nd_a, nd_b = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n_batch = max(nd_a, nd_b) - 2
    batch = list(draw(st.tuples(*[sizes] * max(n_batch, 0))))
    def batch_of(nd):
        own = batch[len(batch) - max(nd - 2, 0):]
        # some batch axes of size 1, which broadcast against the other operand
        return [1 if draw(st.booleans()) else d for d in own]
    k = draw(sizes)
    shape_a = batch_of(nd_a) + ([draw(sizes)] if nd_a >= 2 else []) + [k]
    shape_b = batch_of(nd_b) + [k] + ([draw(sizes)] if nd_b >= 2 else [])
    dtype = draw(st.sampled_from(DTYPES))
    return _array(draw, dtype, tuple(shape_a)), _array(draw, dtype, tuple(shape_b))


@given(operands=matmul_operands())
def test_matmul_matches_numpy(operands):
    a, b = operands
    check_op(T.matmul, np.matmul, a, b)


def test_matmul_static_shapes_and_errors():
    a = T.TensorType("float64", (1, 3, 2, 4))()
    b = T.TensorType("float64", (5, 1, 4, 6))()
    assert T.matmul(a, b).type.shape == (5, 3, 2, 6)
    assert isinstance(T.matmul(a, b).owner.op, MatMul)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        T.matmul(T.dscalar(), T.dmatrix())
    with pytest.raises(ValueError, match="do not broadcast"):
        T.matmul(T.TensorType("float64", (2, 3, 3))(), T.TensorType("float64", (4, 3, 3))())
    with pytest.raises(ValueError, match="not aligned"):
        T.matmul(T.TensorType("float64", (2, 3))(), T.TensorType("float64", (2, 3))())


@given(operands=dot_operands())
def test_inner_matches_numpy(operands):
    a, b = operands
    # np.inner contracts the last axes: move b's contracted axis last
    if a.ndim and b.ndim:
        b = np.moveaxis(b, max(b.ndim - 2, 0), -1)
    check_op(T.inner, np.inner, a, b)


@pytest.mark.parametrize("shape", [(3,), (2, 2), (0,), ()])
@pytest.mark.parametrize("dtype", ["int8", "float64", "complex128"])
def test_vdot_matches_numpy(shape, dtype):
    rng = np.random.default_rng(2)
    a = (rng.integers(-3, 3, size=shape) + (1j if dtype == "complex128" else 0)).astype(dtype)
    b = (rng.integers(-3, 3, size=shape) * (1 - 2j if dtype == "complex128" else 1)).astype(
        dtype)
    check_op(T.vdot, np.vdot, a, b)


# -- infer_shape ----------------------------------------------------------------------------

@pytest.mark.parametrize("build, shapes", [
    (T.dot, [(2, 3), (3, 4)]),
    (T.dot, [(3,), (3, 0)]),
    (T.dot, [(2, 3), (3,)]),
    (T.dot, [(2, 1, 3), (4, 3, 5)]),
    (lambda a, b: T.tensordot(a, b, [[0, 2], [2, 0]]), [(2, 3, 4), (4, 5, 2)]),
    (T.batched_dot, [(2, 3, 4), (2, 4, 5)]),
    (T.batched_dot, [(2, 4), (2, 3, 4, 5)]),
    (T.batched_dot, [(0, 4), (0, 4)]),
    (T.matmul, [(1, 3, 2, 4), (5, 1, 4, 6)]),
    (T.matmul, [(4,), (2, 4, 3)]),
    (T.outer, [(2,), (4,)]),
])
def test_infer_shape(build, shapes):
    values = [np.ones(s) for s in shapes]
    check_infer_shape(build, *values)


def test_matmul_infer_shape_with_unknown_batch_sizes():
    # only the runtime shapes tell which batch axis broadcasts
    a, b = np.ones((1, 2, 3)), np.ones((4, 3, 2))
    check_infer_shape(T.matmul, a, b)
    check_infer_shape(T.matmul, b, np.ones((1, 2, 5)))


def test_ops_compare_by_parameters():
    assert Dot() == Dot() and hash(Dot()) == hash(Dot())
    assert TensorDot(((1,), (0,))) == TensorDot([[1], [0]])
    assert TensorDot(((1,), (0,))) != TensorDot(((0,), (1,)))
