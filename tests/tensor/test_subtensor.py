"""Indexing (Subtensor and its advanced and set/inc forms) against NumPy."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st
from opcheck import check_infer_shape, check_op

import workbench
from workbench import tensor as T
from workbench.compiler.ops.subtensor import (INPUT, AdvancedIncSubtensor,
                                              AdvancedIncSubtensor1, AdvancedSubtensor,
                                              AdvancedSubtensor1, IncSubtensor, Subtensor,
                                              symbolic_slice_length)

DTYPES = ["bool", "int8", "uint16", "int64", "float32", "float64", "complex64"]
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)


def values_of(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(-5, 6, size=shape) % (2 if dtype == "bool" else 100)).astype(dtype)


# ---------------------------------------------------------------------------------------
# Index strategies: an index is a tuple of entries; "parts" are the integers in it that a
# symbolic version receives as inputs.

slice_bounds = st.one_of(st.none(), st.integers(-6, 6))
slice_steps = st.one_of(st.none(), st.integers(-3, 3).filter(lambda s: s != 0))


@st.composite
def basic_indices(draw, shape):
    """A basic index for ``shape``: ints in range, slices, None and at most one Ellipsis."""
    entries, axis, used_ellipsis = [], 0, False
    while True:
        choices = ["stop", "new"] + (["int", "slice"] if axis < len(shape) else [])
        if not used_ellipsis:
            choices.append("ellipsis")
        kind = draw(st.sampled_from(choices))
        if kind == "stop" or len(entries) > 5:
            break
        if kind == "new":
            entries.append(None)
        elif kind == "ellipsis":
            entries.append(Ellipsis)
            used_ellipsis = True
        elif kind == "int":
            # in range for every axis it may index once an Ellipsis shifts it right
            m = min(shape[axis:])
            if m == 0:
                continue
            entries.append(draw(st.integers(-m, m - 1)))
            axis += 1
        else:
            entries.append(slice(draw(slice_bounds), draw(slice_bounds), draw(slice_steps)))
            axis += 1
    return tuple(entries)


def split_parts(index):
    """The ints of an index (entries and slice parts) and a function rebuilding it from
    replacements for them."""
    parts = []
    for e in index:
        if isinstance(e, slice):
            parts.extend(p for p in (e.start, e.stop, e.step) if p is not None)
        elif isinstance(e, int):
            parts.append(e)

    def rebuild(values):
        it = iter(values)
        out = []
        for e in index:
            if isinstance(e, slice):
                out.append(slice(*(None if p is None else next(it)
                                   for p in (e.start, e.stop, e.step))))
            elif isinstance(e, int):
                out.append(next(it))
            else:
                out.append(e)
        return tuple(out)

    return parts, rebuild


@given(st.data(), shapes, st.sampled_from(DTYPES))
def test_basic_indexing_matches_numpy(data, shape, dtype):
    index = data.draw(basic_indices(shape))
    value = values_of(shape, dtype)
    # constant index
    outs = check_op(lambda x: x[index], lambda x: x[index], value)
    assert isinstance(outs[0].owner.op, Subtensor)
    # the same index with every integer given as a symbolic input
    parts, rebuild = split_parts(index)
    part_dtype = data.draw(st.sampled_from(["int8", "int32", "int64"]))
    part_values = [np.asarray(p, dtype=part_dtype) for p in parts]
    check_op(lambda x, *ps: x[rebuild(ps)], lambda x, *ps: x[rebuild(ps)], value, *part_values)
    check_infer_shape(lambda x: x[index], value)
    check_infer_shape(lambda x, *ps: x[rebuild(ps)], value, *part_values)


@given(st.data(), shapes)
def test_static_shape_with_known_input_shape(data, shape):
    index = data.draw(basic_indices(shape))
    x = T.TensorType("float64", shape)("x")
    y = x[index]
    expected = np.zeros(shape)[index].shape
    assert y.type.shape == expected
    got = y.eval({x: np.zeros(shape)})
    assert got.shape == expected


def test_result_of_basic_indexing_is_a_view():
    op = T.dmatrix()[0].owner.op
    assert op.view_map == {0: [0]} and op.destroy_map == {}
    node = T.dmatrix()[1, ::2].owner
    x = np.arange(12.0).reshape(3, 4)
    out = [[None]]
    node.op.perform(node, [x], out)
    assert np.shares_memory(out[0][0], x)
    # an index of only integers still gives a 0-d ndarray view, not a NumPy scalar
    node = T.dmatrix()[1, 2].owner
    node.op.perform(node, [x], out)
    assert isinstance(out[0][0], np.ndarray) and out[0][0].shape == ()
    assert np.shares_memory(out[0][0], x)


def test_equivalent_basic_indices_build_equal_ops():
    x = T.dtensor3()
    assert x[0].owner.op == x[0, :].owner.op == x[0, ...].owner.op == x[0, :, ::1].owner.op
    assert hash(x[1:].owner.op) == hash(x[1:, :].owner.op)
    i = T.lscalar()
    assert x[i].owner.op == x[T.lscalar()].owner.op == Subtensor([INPUT])
    assert x[i].owner.op != x[0].owner.op
    # a constant scalar tensor index is folded into the op
    assert x[T.constant(2)].owner.op == x[2].owner.op


def test_index_types_are_checked():
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match="only integers"):
        x[1.5]
    with pytest.raises(TypeError, match="integer or boolean dtype"):
        x[T.dvector()]
    with pytest.raises(TypeError, match="slice start"):
        x[T.dscalar():]
    with pytest.raises(TypeError, match="slice stop must be an integer scalar"):
        x[:T.lvector()]
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 0, ...]
    with pytest.raises(IndexError, match="too many indices.*2-dimensional, but 3"):
        x[0, 0, 0]


def test_out_of_range_index_names_axis_index_and_size():
    x = T.TensorType("float64", (3, 4))("x")
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 1 with size 4"):
        x[0, 4]
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 0 with size 3"):
        x[-4]
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        x[[0, 3]]
    y, i = T.dmatrix("y"), T.lscalar("i")
    f = workbench.function([y, i], y[:, i])
    assert f(np.ones((2, 3)), 2).tolist() == [1.0, 1.0]
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 1 with size 3"):
        f(np.ones((2, 3)), 5)
    iv = T.lvector("iv")
    g = workbench.function([y, iv], y[iv])
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 0 with size 2"):
        g(np.ones((2, 3)), [0, 7])


@pytest.mark.parametrize("n", [0, 1, 2, 5, 7])
def test_symbolic_slice_length(n):
    parts = [None, -8, -3, -1, 0, 2, 6, 9]
    steps = [None, 1, 2, 3, -1, -2, -4]
    nv, sv, ev, tv = T.lscalars("n", "start", "stop", "step")
    sym = workbench.function([nv, sv, ev, tv], symbolic_slice_length(nv, sv, ev, tv))
    for start in parts:
        for stop in parts:
            for step in steps:
                want = len(range(n)[start:stop:step])
                assert symbolic_slice_length(n, start, stop, step) == want
                if start is not None and stop is not None and step is not None:
                    assert int(sym(n, start, stop, step)) == want


# ---------------------------------------------------------------------------------------
# Advanced indexing


@st.composite
def advanced_indices(draw, shape):
    """An index mixing integer arrays (broadcastable together), ints, slices, None and an
    Ellipsis, with at least one array. Values are in range for the smallest axis, so that
    they stay valid whichever axis the Ellipsis moves them to."""
    m = max(min(shape), 1)
    common = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    kinds = draw(st.lists(st.sampled_from(["array", "slice", "int"]), min_size=1,
                          max_size=len(shape)))
    if "array" not in kinds:
        kinds[draw(st.integers(0, len(kinds) - 1))] = "array"
    entries = []
    for kind in kinds:
        if kind == "int":
            entries.append(draw(st.integers(-m, m - 1)))
        elif kind == "slice":
            entries.append(slice(draw(slice_bounds), draw(slice_bounds), draw(slice_steps)))
        else:
            # a shape that broadcasts to `common`: some dims 1, maybe fewer dims
            ndim = draw(st.integers(1, len(common)))
            sub = [d if draw(st.booleans()) else 1 for d in common[len(common) - ndim:]]
            rng = np.random.default_rng(draw(st.integers(0, 1000)))
            dtype = draw(st.sampled_from(["int8", "int64", "uint32"]))
            low = 0 if dtype.startswith("u") else -m
            entries.append(rng.integers(low, m, size=sub).astype(dtype))
        if draw(st.integers(0, 4)) == 0:
            entries.append(None)
    if draw(st.booleans()):
        entries.insert(draw(st.integers(0, len(entries))), Ellipsis)
    return tuple(entries)


def _runs_in_numpy(value, index):
    try:
        value[index]
    except IndexError:
        return False
    return True


@given(st.data(), shapes.filter(lambda s: len(s) >= 1), st.sampled_from(DTYPES))
def test_advanced_indexing_matches_numpy(data, shape, dtype):
    index = data.draw(advanced_indices(shape))
    value = values_of(shape, dtype)
    if not _runs_in_numpy(value, index):
        # e.g. an array for an axis added by None: NumPy refuses it too
        with pytest.raises(IndexError):
            T.TensorType(dtype, shape)()[index]
        return
    check_op(lambda x: x[index], lambda x: x[index], value)
    # the arrays as symbolic inputs
    arrays = [e for e in index if isinstance(e, np.ndarray)]

    def rebuild(xs):
        it = iter(xs)
        return tuple(next(it) if isinstance(e, np.ndarray) else e for e in index)

    outs = check_op(lambda x, *a: x[rebuild(a)], lambda x, *a: x[rebuild(a)], value, *arrays)
    assert isinstance(outs[0].owner.op, (AdvancedSubtensor, AdvancedSubtensor1))
    check_infer_shape(lambda x, *a: x[rebuild(a)], value, *arrays)
    # static shape where the input's shape is known
    x = T.TensorType(dtype, shape)()
    assert x[index].type.shape == value[index].shape


@given(st.data(), shapes.filter(lambda s: len(s) >= 1))
def test_boolean_masks_match_numpy(data, shape):
    value = values_of(shape, "float64")
    start = data.draw(st.integers(0, len(shape) - 1))
    width = data.draw(st.integers(0, len(shape) - start))
    seed = data.draw(st.integers(0, 1000))
    mask = np.random.default_rng(seed).random(shape[start:start + width]) < 0.5
    before = tuple(data.draw(st.sampled_from([slice(None), slice(None, None, -1)]))
                   for _ in range(start))
    rest = shape[start + width:]
    after = data.draw(st.sampled_from([(), (0,), (slice(1, None),), (None, Ellipsis)]))
    if after == (0,) and (not rest or rest[0] == 0) or after and after[0] != 0 and not rest \
            and after != (None, Ellipsis):
        after = ()
    index = before + (mask,) + after
    outs = check_op(lambda x, m: x[before + (m,) + after],
                    lambda x, m: x[before + (m,) + after], value, mask)
    assert outs[0].type.shape[len(before)] is None  # the number of True values
    check_op(lambda x: x[index], lambda x: x[index], value)
    check_infer_shape(lambda x, m: x[before + (m,) + after], value, mask)


@pytest.mark.parametrize("index", [
    # where NumPy puts the advanced dimensions: in place when the advanced indices are
    # adjacent, first when a slice, None or an Ellipsis (even an empty one) separates them
    (slice(None), [0, 1], [1, 2]), ([0, 1], slice(None), [1, 2]), ([0], None, [0]),
    (slice(None), [0], Ellipsis, [0]), (slice(None), [0], [0], Ellipsis), (0, slice(None), [0, 1]),
    (slice(None), 0, [0, 1]), (None, [0, 1], 0), (Ellipsis, [[0], [1]], 0),
    # boolean masks, alone and with arrays; 0-d masks add an axis
    (slice(None), np.array([True, False, True]), [0, 3]), (True,), (False,), (Ellipsis, True),
    (slice(None), True, [0, 1]), (np.arange(24).reshape(2, 3, 4) > 10,),
    ([1], slice(None), np.array([True, False, True, False])),
])
def test_advanced_layout_cases(index):
    v = np.arange(24.0).reshape(2, 3, 4)
    check_op(lambda x: x[index], lambda x: x[index], v)
    assert T.TensorType("float64", (2, 3, 4))()[index].type.shape == v[index].shape


def test_boolean_mask_with_arrays_symbolic():
    v = np.arange(24.0).reshape(2, 3, 4)
    m = np.array([True, False, True])
    check_op(lambda x, mm: x[:, mm, [0, 3]], lambda x, mm: x[:, mm, [0, 3]], v, m)
    check_infer_shape(lambda x, mm: x[:, mm, [0, 3]], v, m)
    check_op(lambda x, b: x[b], lambda x, b: x[b], v, np.array(True))


def test_mask_of_the_wrong_shape_is_refused():
    x = T.TensorType("float64", (3, 4))("x")
    with pytest.raises(IndexError, match="boolean index did not match indexed tensor along "
                                         "axis 1; size of axis is 4 but size of corresponding "
                                         "boolean axis is 2"):
        x[:, np.array([True, False])]
    with pytest.raises(IndexError, match="could not be broadcast together"):
        x[[0, 1], [0, 1, 2]]


def test_advanced_subtensor1_is_used_for_one_integer_vector():
    x, iv = T.dmatrix("x"), T.ivector("iv")
    assert isinstance(x[iv].owner.op, AdvancedSubtensor1)
    assert isinstance(x[[0, 2]].owner.op, AdvancedSubtensor1)
    assert isinstance(x[iv, :].owner.op, AdvancedSubtensor1)
    assert isinstance(x[:, iv].owner.op, AdvancedSubtensor)
    assert isinstance(x[T.imatrix()].owner.op, AdvancedSubtensor)
    assert T.TensorType("float32", (5, 3))()[[0, 0, 1, 4]].type.shape == (4, 3)
    assert T.advanced_subtensor1(x, iv).owner.op.view_map == {}
    v = np.arange(12.0).reshape(4, 3)
    for dtype in ["uint8", "int16", "int64"]:
        idx = np.array([3, 0, 0, 1], dtype=dtype)
        check_op(lambda a, i: a[i], lambda a, i: a[i], v, idx)
        check_infer_shape(lambda a, i: a[i], v, idx)
    check_op(lambda a, i: a[i], lambda a, i: a[i], v, np.array([-1, -4]))
    check_op(lambda a, i: a[i], lambda a, i: a[i], v, np.zeros(0, dtype="int64"))


def test_list_index_is_advanced_indexing():
    v = np.arange(6.0).reshape(2, 3)
    check_op(lambda x: x[[1, 0, 1]], lambda x: x[[1, 0, 1]], v)
    check_op(lambda x: x[[[0], [1]], [0, 2]], lambda x: x[[[0], [1]], [0, 2]], v)
    check_op(lambda x: x[[]], lambda x: x[np.array([], dtype=int)], v)
    check_op(lambda x: x[[True, False]], lambda x: x[[True, False]], v)


# ---------------------------------------------------------------------------------------
# set_subtensor and inc_subtensor


def _np_set(value, index, y):
    out = value.copy()
    out[index] = y
    return out


def _np_inc_basic(value, index, y):
    out = value.copy()
    out[index] += y
    return out


def _np_inc_advanced(value, index, y):
    out = value.copy()
    np.add.at(out, index, y)
    return out


@given(st.data(), shapes, st.sampled_from(["int8", "int64", "float32", "float64",
                                           "complex128"]))
def test_set_and_inc_basic_match_numpy(data, shape, dtype):
    index = data.draw(basic_indices(shape))
    value = values_of(shape, dtype)
    target_shape = value[index].shape
    # y of the indexed shape, or one that broadcasts to it
    drop = data.draw(st.integers(0, len(target_shape)))
    y_shape = tuple(1 if data.draw(st.booleans()) else d for d in target_shape[drop:])
    y = values_of(y_shape, dtype, seed=1)
    parts, rebuild = split_parts(index)
    part_values = [np.asarray(p, dtype="int64") for p in parts]
    for fn, ref in [(T.set_subtensor, _np_set), (T.inc_subtensor, _np_inc_basic)]:
        outs = check_op(lambda x, yy: fn(x[index], yy), lambda x, yy: ref(x, index, yy),
                        value, y)
        assert isinstance(outs[0].owner.op, IncSubtensor)
        check_op(lambda x, yy, *ps: fn(x[rebuild(ps)], yy),
                 lambda x, yy, *ps: ref(x, rebuild(ps), yy), value, y, *part_values)
        check_infer_shape(lambda x, yy, *ps: fn(x[rebuild(ps)], yy), value, y, *part_values)


@given(st.data(), shapes.filter(lambda s: len(s) >= 1 and s[0] > 0),
       st.sampled_from(["int16", "float64"]))
def test_set_and_inc_advanced_with_duplicates_match_numpy(data, shape, dtype):
    value = values_of(shape, dtype)
    n = shape[0]
    idx = np.asarray(data.draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=6)),
                     dtype="int64")
    kind = data.draw(st.sampled_from(["vector", "with-slice", "mask"]))
    if kind == "vector":
        index = (idx,)
    elif kind == "with-slice":
        index = (idx, slice(None, None, -1)) if len(shape) > 1 else (idx, None)
    else:
        index = (values_of(shape, "bool", seed=data.draw(st.integers(0, 50))),)
    target_shape = value[index].shape
    y = values_of(target_shape[1:] if data.draw(st.booleans()) else target_shape, dtype, 2)

    def rebuild(arr):
        return (arr,) + index[1:]

    for fn, ref in [(T.set_subtensor, _np_set), (T.inc_subtensor, _np_inc_advanced)]:
        check_op(lambda x, yy: fn(x[index], yy), lambda x, yy: ref(x, index, yy), value, y)
        outs = check_op(lambda x, yy, a: fn(x[rebuild(a)], yy),
                        lambda x, yy, a: ref(x, rebuild(a), yy), value, y, index[0])
        op = outs[0].owner.op
        assert isinstance(op, AdvancedIncSubtensor1 if kind == "vector" else
                          AdvancedIncSubtensor)
        assert op.set_instead_of_inc == (fn is T.set_subtensor)
        check_infer_shape(lambda x, yy, a: fn(x[rebuild(a)], yy), value, y, index[0])


def test_set_and_inc_do_not_modify_their_input():
    x, y, iv = T.dmatrix("x"), T.dvector("y"), T.lvector("iv")
    i = T.lscalar("i")
    outputs = [T.set_subtensor(x[1:], y), T.inc_subtensor(x[i], y),
               T.inc_subtensor(x[iv], y), T.set_subtensor(x[iv], y),
               T.inc_subtensor(x[:, iv], 1.0), T.set_subtensor(x[x > 2], 0.0)]
    f = workbench.function([x, y, iv, i], outputs)
    xv = np.arange(6.0).reshape(2, 3)
    keep = xv.copy()
    results = f(xv, np.ones(3), np.array([0, 0]), 1)
    np.testing.assert_array_equal(xv, keep)
    assert results[0].tolist() == [[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]
    assert results[2].tolist() == [[2.0, 3.0, 4.0], [3.0, 4.0, 5.0]]
    for op in (o.owner.op for o in outputs):
        assert not op.inplace and op.destroy_map == {}


@pytest.mark.parametrize("op,plain,n_index", [
    (IncSubtensor([(1, None, None)], inplace=True), IncSubtensor([(1, None, None)]), 0),
    (AdvancedIncSubtensor([(1, None, None), INPUT], inplace=True),
     AdvancedIncSubtensor([(1, None, None), INPUT]), 1),
    (AdvancedIncSubtensor1(inplace=True), AdvancedIncSubtensor1(), 1),
])
def test_inplace_flag_destroys_x(op, plain, n_index):
    assert op.destroy_map == {0: [0]} and op.inplace and "inplace" in str(op)
    assert plain.destroy_map == {} and op != plain
    x = T.dmatrix("x")
    node = op.make_node(x, 1.0, *[T.lvector()] * n_index)
    xv = np.zeros((3, 2))
    out = [[None]]
    node.op.perform(node, [xv, np.asarray(1.0)] + [np.array([0, 0])] * n_index, out)
    assert out[0][0] is xv and xv.sum() > 0


def test_inplace_argument_of_the_functions():
    x = T.dvector("x")
    y = T.inc_subtensor(x[1:], 1.0, inplace=True, tolerate_inplace_aliasing=True)
    assert y.owner.op.inplace
    z = T.set_subtensor(x[[0]], 1.0, tolerate_inplace_aliasing=True)
    assert not z.owner.op.inplace
    w = T.inc_subtensor(x[1:], 2.0, set_instead_of_inc=True)
    assert w.owner.op.set_instead_of_inc


def test_set_subtensor_needs_an_indexing_result():
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match="must be the result of indexing a tensor"):
        T.set_subtensor(x, 1.0)
    with pytest.raises(TypeError, match=r"made by Elemwise\{exp\}"):
        T.inc_subtensor(T.exp(x), 1.0)


@pytest.mark.parametrize("x_dtype,y,ok", [
    ("float32", T.dvector(), False),
    ("float32", 1.5, True),
    ("float64", T.fvector(), True),
    ("int8", T.ivector(), False),
    ("int8", 100, True),
    ("int8", 300, False),
    ("int64", T.bvector(), True),
    ("int32", 1.0, False),
    ("uint8", -1, False),
    ("bool", T.bvector(), False),
    ("complex64", T.fscalar(), True),
])
def test_value_dtype_must_fit(x_dtype, y, ok):
    x = T.TensorType(x_dtype, (None,))("x")
    for index in [slice(1, None), [0, 1], T.lvector()]:
        if ok:
            out = T.set_subtensor(x[index], y)
            assert out.dtype == x_dtype
            assert out.owner.inputs[1].dtype == x_dtype
        else:
            with pytest.raises(TypeError, match=f"dtype {x_dtype}"):
                T.set_subtensor(x[index], y)


def test_value_shape_is_checked():
    x = T.TensorType("float64", (3, 4))("x")
    with pytest.raises(TypeError, match="cannot set a 1-d subtensor to a 2-d value"):
        T.set_subtensor(x[0], T.dmatrix())
    with pytest.raises(ValueError, match="cannot be broadcast to the indexed shape"):
        T.inc_subtensor(x[1:], T.TensorType("float64", (3, 4))())
    with pytest.raises(ValueError, match="cannot be broadcast to the indexed shape"):
        T.inc_subtensor(x[[0, 1]], np.ones(3))
    T.inc_subtensor(x[1:], np.ones((1, 4)))  # broadcasting is fine


def test_bool_tensors_accumulate_as_numpy_does():
    v = np.array([False, True, False])
    check_op(lambda x: T.inc_subtensor(x[[0, 0]], True),
             lambda x: _np_inc_advanced(x, [0, 0], True), v)
    check_op(lambda x: T.set_subtensor(x[1:], False), lambda x: _np_set(x, slice(1, None),
                                                                        False), v)


# ---------------------------------------------------------------------------------------
# take, nonzero


@given(st.data(), shapes.filter(lambda s: len(s) >= 1), st.sampled_from(["raise", "wrap",
                                                                           "clip"]))
def test_take_matches_numpy(data, shape, mode):
    value = values_of(shape, "float32")
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    n = value.size if axis is None else shape[axis]
    if n == 0 and mode != "raise":
        return  # NumPy refuses to wrap or clip into an empty axis
    spread = n if mode == "raise" else n + 3
    ishape = data.draw(st.lists(st.integers(0, 3), max_size=2).map(tuple))
    if n == 0:
        ishape = (0,) + ishape  # the only valid take from an empty axis takes nothing
    idx = np.random.default_rng(data.draw(st.integers(0, 99))).integers(
        -spread, max(spread, 1), size=ishape)
    check_op(lambda a, i: T.take(a, i, axis=axis, mode=mode),
             lambda a, i: np.take(a, i, axis=axis, mode=mode), value, idx)
    check_infer_shape(lambda a, i: T.take(a, i, axis=axis, mode=mode), value, idx)


def test_take_argument_errors():
    with pytest.raises(np.exceptions.AxisError):
        T.take(T.dmatrix(), T.lvector(), axis=2)
    with pytest.raises(ValueError, match="mode must be"):
        T.take(T.dmatrix(), T.lvector(), mode="bogus")
    with pytest.raises(TypeError, match="integer dtype"):
        T.take(T.dmatrix(), T.dvector(), axis=None)
    assert T.dmatrix().take(T.lvector(), 0).ndim == 2


@given(shapes.filter(lambda s: len(s) >= 1), st.sampled_from(["bool", "int8", "float64"]))
def test_nonzero_family_matches_numpy(shape, dtype):
    value = values_of(shape, dtype)
    check_op(lambda a: list(T.nonzero(a)), lambda a: list(np.nonzero(a)), value)
    check_op(lambda a: T.nonzero(a, return_matrix=True),
             lambda a: np.array(np.nonzero(a)).reshape(len(shape), -1), value)
    check_op(T.flatnonzero, np.flatnonzero, value)
    check_op(T.nonzero_values, lambda a: a.ravel()[np.flatnonzero(a)], value)
    check_infer_shape(lambda a: [T.nonzero(a, return_matrix=True), T.flatnonzero(a),
                                 T.nonzero_values(a)], value)


def test_nonzero_of_a_scalar_is_refused():
    for fn in (T.nonzero, T.flatnonzero, T.nonzero_values):
        with pytest.raises(ValueError, match="scalar"):
            fn(T.dscalar())


def test_ops_print_their_index():
    x, i, iv = T.dtensor3("x"), T.lscalar("i"), T.lvector("iv")
    assert str(x[i, 1:, ::-2].owner.op) == "Subtensor{$, 1:, ::-2}"
    assert str(x[None, :i].owner.op) == "Subtensor{newaxis, :$}"
    assert str(x[..., iv].owner.op) == "AdvancedSubtensor{..., $}"
    assert str(T.set_subtensor(x[0], 1.0).owner.op) == "SetSubtensor{0}"
    assert str(T.inc_subtensor(x[iv], 1.0, inplace=True).owner.op) == \
        "AdvancedIncSubtensor1{inplace}"
    assert isinstance(x[iv, ...].owner.op, AdvancedSubtensor1)


def test_namespace():
    for name in ["set_subtensor", "inc_subtensor", "take", "nonzero", "flatnonzero",
                 "nonzero_values", "advanced_subtensor1", "advanced_inc_subtensor1",
                 "advanced_set_subtensor1", "Subtensor", "AdvancedSubtensor1"]:
        assert hasattr(T, name), name
    assert T.subtensor.getitem is not None
