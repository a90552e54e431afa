"""Joining ops against NumPy: concatenate/join, stack, split, horizontal/vertical stacking
and roll."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import workbench
from workbench import tensor as T
from workbench.compiler.types import ALL_DTYPES

from opcheck import check_op
from opcheck import check_infer_shape

dtypes = st.sampled_from(ALL_DTYPES)


def arrays(dtype, shape, start=0):
    return (np.arange(int(np.prod(shape)), dtype="int64") + start).reshape(shape).astype(dtype)


@given(dtypes, dtypes, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3),
       st.data())
def test_concatenate_like_numpy(dt1, dt2, shp, data):
    axis = data.draw(st.integers(-len(shp), len(shp) - 1))
    other = list(shp)
    other[axis] = data.draw(st.integers(0, 3))
    a, b = arrays(dt1, shp), arrays(dt2, other, start=5)
    out = check_op(lambda u, v: T.concatenate([u, v], axis=axis),
                   lambda u, v: np.concatenate([u, v], axis=axis), a, b)
    assert out[0].dtype == np.concatenate([a, b], axis=axis).dtype.name
    check_op(lambda u, v: T.join(axis, u, v, u), lambda u, v: np.concatenate([u, v, u], axis),
             a, b, modes=["python-debug"])
    check_infer_shape(lambda u, v: T.concatenate([u, v], axis=axis), a, b)


def test_concatenate_static_shape_and_weak_literals():
    a = T.tensor("float32", shape=(2, None))
    b = T.tensor("float32", shape=(3, 4))
    assert T.concatenate([a, b]).type.shape == (5, 4)
    assert T.concatenate([a, T.tensor("float32", shape=(2, 4))], axis=1).type.shape == (2, None)
    i = T.ivector("i")
    # a Python literal takes the tensor's dtype, as in elementwise ops
    assert T.concatenate([i, [0, 1]]).dtype == "int64"
    assert T.stack([T.iscalar(), 0]).dtype == "int32"
    x = T.dvector("x")
    assert T.concatenate([x]) is x


def test_concatenate_errors():
    a = T.tensor("float64", shape=(2, 3))
    b = T.tensor("float64", shape=(2, 4))
    with pytest.raises(ValueError, match="axis 0.*dimension 1"):
        T.concatenate([a, b])
    with pytest.raises(ValueError, match="same number of dimensions"):
        T.concatenate([a, T.dvector()])
    with pytest.raises(TypeError, match="list or a tuple"):
        T.concatenate(a)
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        T.concatenate([a, a], axis=2)
    with pytest.raises(ValueError, match="zero-dimensional"):
        T.concatenate([T.dscalar(), T.dscalar()])
    x, y = T.dmatrices("x", "y")
    f = workbench.function([x, y], T.concatenate([x, y], axis=1))
    with pytest.raises(ValueError, match=r"along axis 1: input 1 has shape \(3, 2\).*\(2, 2\)"):
        f(np.zeros((2, 2)), np.zeros((3, 2)))


@given(dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3), st.data())
def test_stack_like_numpy(dtype, shp, data):
    axis = data.draw(st.integers(-len(shp) - 1, len(shp)))
    a, b = arrays(dtype, shp), arrays(dtype, shp, start=3)
    check_op(lambda u, v: T.stack([u, v], axis=axis),
             lambda u, v: np.stack([u, v], axis=axis), a, b)
    check_infer_shape(lambda u, v: T.stack([u, v], axis=axis), a, b)


def test_stack_forms():
    a, b, c = T.dscalars("a", "b", "c")
    old = T.stack(a, b, c)  # Theano's old form
    assert old.type.shape == (3,)
    assert old.owner.op == T.MakeVector("float64")
    np.testing.assert_array_equal(old.eval({a: 1.0, b: 2.0, c: 3.0}), [1.0, 2.0, 3.0])
    m, n = T.dmatrices("m", "n")
    assert T.stack([m, n], 1).type.shape == (None, 2, None)
    assert T.stack([m, n], axis=-1).type.shape == (None, None, 2)
    # lists holding variables become vectors through stack
    i = T.lscalar("i")
    v = T.as_tensor_variable([i, 2, 3])
    assert v.type == T.TensorType("int64", (3,))
    assert v.eval({i: 1}).tolist() == [1, 2, 3]
    assert T.as_tensor_variable([[a, 1.0], [2.0, b]]).type.shape == (2, 2)
    assert T.stacklists([[a, b], [c, a]]).eval({a: 1.0, b: 2.0, c: 3.0}).tolist() == \
        [[1.0, 2.0], [3.0, 1.0]]
    with pytest.raises(ValueError, match="same number of dimensions"):
        T.stack([m, T.dvector()])
    with pytest.raises(ValueError, match="at least one"):
        T.stack([])
    check_infer_shape(lambda u, w: T.stack([T.shape_i(u, 0), T.shape_i(w, 1)]),
                      np.zeros((2, 3)), np.zeros((4, 5)))


def test_make_vector_dtypes():
    x = T.fscalar("x")
    assert T.stack([x, 1.5]).dtype == "float32"  # weak literal
    assert T.stack([x, T.dscalar()]).dtype == "float64"
    assert T.stack([T.bscalar(), T.wscalar()]).dtype == "int16"
    with pytest.raises(TypeError, match="without loss"):
        T.MakeVector("int8")(T.lscalar())


@given(dtypes, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4), st.data())
def test_split_like_numpy(dtype, shp, data):
    axis = data.draw(st.integers(-len(shp), len(shp) - 1))
    n = shp[axis]
    cuts = sorted(data.draw(st.lists(st.integers(0, n), min_size=0, max_size=3)))
    sizes = np.diff([0] + cuts + [n]).tolist()
    x = arrays(dtype, shp)

    def build(v):
        return T.split(v, sizes, len(sizes), axis=axis)

    check_op(build, lambda v: np.split(v, cuts, axis=axis), x)
    check_infer_shape(build, x)


def test_split_symbolic_sizes_and_errors():
    x = T.dvector("x")
    k = T.lscalar("k")
    parts = T.split(x, [k, 4 - k], 2)
    assert len(parts) == 2 and all(p.type.shape == (None,) for p in parts)
    f = workbench.function([x, k], parts)
    a, b = f(np.arange(4.0), 1)
    assert a.tolist() == [0.0] and b.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"add up to 4.*size 5"):
        f(np.arange(5.0), 1)
    sizes = T.lvector("s")
    g = workbench.function([x, sizes], T.split(x, sizes, 2))
    with pytest.raises(ValueError, match="3 split sizes given for n_splits=2"):
        g(np.arange(3.0), np.array([1, 1, 1]))
    static = T.split(T.tensor("float64", shape=(5, 2)), [2, 3], 2)
    assert [p.type.shape for p in static] == [(2, 2), (3, 2)]
    with pytest.raises(ValueError, match="add up to 4.*size 5"):
        T.split(T.tensor("float64", shape=(5,)), [2, 2], 2)
    with pytest.raises(ValueError, match="2 split sizes given for n_splits=3"):
        T.split(x, [1, 2], 3)
    (single,) = T.split(x, [3], 1)
    assert single.eval({x: [1.0, 2.0, 3.0]}).tolist() == [1.0, 2.0, 3.0]
    check_infer_shape(lambda v, s: T.split(v, s, 2), np.arange(5.0), np.array([2, 3]))


@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(2, 3), (2, 1)], [(2,), ()],
                                    [(1, 2, 3), (1, 4, 3)]])
@pytest.mark.parametrize("dtype", ["float32", "int16"])
def test_horizontal_stack(shapes, dtype):
    values = [arrays(dtype, s) for s in shapes]
    check_op(lambda *v: T.horizontal_stack(*v), lambda *v: np.hstack(v), *values)
    check_op(lambda *v: T.horizontal_stack(list(v)), lambda *v: np.hstack(v), *values,
             modes=["python-debug"])


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (1, 3)], [(3,), (2, 3)],
                                    [(), ()], [(1, 2, 3), (4, 2, 3)]])
def test_vertical_stack(shapes):
    values = [arrays("float64", s) for s in shapes]
    check_op(lambda *v: T.vertical_stack(*v), lambda *v: np.vstack(v), *values)


@given(dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), st.data())
def test_roll_like_numpy(dtype, shp, data):
    x = arrays(dtype, shp)
    shift = data.draw(st.integers(-6, 6))
    axis = data.draw(st.none() | st.integers(-len(shp), len(shp) - 1)) if shp else None
    check_op(lambda v, s: T.roll(v, s, axis), lambda v, s: np.roll(v, s, axis), x,
             np.int64(shift))
    check_infer_shape(lambda v: T.roll(v, shift, axis), x)


def test_roll_errors():
    with pytest.raises(TypeError, match="shift must have an integer dtype"):
        T.roll(T.dvector(), T.dscalar())
    with pytest.raises(ValueError, match="axis 1 is out of bounds"):
        T.roll(T.dvector(), 1, axis=1)
