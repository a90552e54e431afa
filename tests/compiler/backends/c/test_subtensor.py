"""The C code of the indexing ops (emit_subtensor): basic indexing as a view, set/inc of a
basic index (copied or in place), and integer-array indexing with its set/inc.

Each test compiles one graph holding several index forms and calls it with many index
values and layouts, comparing with the Python backend and NumPy value for value, and errors
type for type and message for message.
"""
import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.backends.c.build import compiler_available
from workbench.compiler.mode import Mode
from workbench.compiler.ops.subtensor import (AdvancedIncSubtensor, AdvancedIncSubtensor1,
                                              AdvancedSubtensor, AdvancedSubtensor1,
                                              IncSubtensor, Subtensor)

from ccheck import compile_both, layouts, same_error, same_results

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler")


def in_place(out):
    """``out`` (made by an inc/set op) recomputed by the same op overwriting its input: no
    rewrite makes these in place yet, but the op and its C code support it."""
    node = out.owner
    op = type(node.op)
    if op is AdvancedIncSubtensor1:
        return op(inplace=True, set_instead_of_inc=node.op.set_instead_of_inc)(*node.inputs)
    return op(node.op.idx_list, inplace=True,
              set_instead_of_inc=node.op.set_instead_of_inc)(*node.inputs)


def assert_in_place(fc, cls):
    assert any(n.op.inplace for n in fc.vm.nodes if isinstance(n.op, cls))


def test_basic_indexing_with_symbolic_integers_and_slices():
    x = T.dmatrix("x")
    i, j, k = T.lscalars("i", "j", "k")
    u8 = T.scalar("u8", dtype="uint8")
    outs = [x[i], x[:, i], x[i:j], x[::k], x[i:j:k, 1], x[None, -1, i:], x[1:-1, None, ::-1],
            x[u8], x[:, 2:0:-1]]
    fc, fp = compile_both([x, i, j, k, u8], outs, Subtensor)
    rng = np.random.default_rng(0)
    for xv in layouts(rng.standard_normal((4, 5)), every_axis=False):
        for iv, jv, kv in [(0, 3, 1), (-1, 2, 2), (2, -5, -1), (-4, 100, 3), (3, -100, -2),
                           (1, 1, 1), (0, 4, -7)]:
            same_results(fc, fp, xv, iv, jv, kv, np.uint8(3))
    xv = rng.standard_normal((4, 5))
    assert "index 4 is out of bounds for axis 0 with size 4" in str(
        same_error(fc, fp, xv, 4, 0, 1, np.uint8(0)))
    assert "index -6 is out of bounds for axis 0 with size 4" in str(
        same_error(fc, fp, xv, -6, 0, 1, np.uint8(0)))
    assert "slice step cannot be zero" in str(same_error(fc, fp, xv, 0, 1, 0, np.uint8(0)))
    assert isinstance(same_error(fc, fp, xv, 0, 1, 1, np.uint8(200)), IndexError)


def test_set_and_inc_of_a_basic_index_copied_and_in_place():
    x = T.dmatrix("x")
    y = T.dvector("y")
    b = T.bmatrix("b")
    by = T.bscalar("by")
    i = T.lscalar("i")
    base = x * 2  # an intermediate, which an in-place op may overwrite
    outs = [T.set_subtensor(x[i:, ::-1], y), T.inc_subtensor(x[:, i], y[:1]),
            in_place(T.inc_subtensor(base[i::-1], y)) + 1,
            in_place(T.set_subtensor((base + 1)[i, ::2], 5.0)),
            T.inc_subtensor(b[1:, i], by), T.set_subtensor(x[1], y[::-1])]
    fc, fp = compile_both([x, y, b, by, i], outs, IncSubtensor)
    assert_in_place(fc, IncSubtensor)
    rng = np.random.default_rng(1)
    for xv in layouts(rng.standard_normal((3, 4)), every_axis=False):
        for iv in (0, 1, -1):
            yv = rng.standard_normal(4)
            bv = rng.integers(-50, 50, (3, 4)).astype("int8")
            xin = xv.copy()
            same_results(fc, fp, xv, np.flip(yv.copy()) if iv else yv, bv, np.int8(100), iv)
            np.testing.assert_array_equal(xv, xin)  # inputs are never overwritten
    xv, bv = rng.standard_normal((3, 4)), np.zeros((3, 4), "int8")
    err = same_error(fc, fp, xv, np.ones(5), bv, np.int8(1), 0)
    assert isinstance(err, ValueError) and "broadcast" in str(err)
    assert isinstance(same_error(fc, fp, xv, np.ones(4), bv, np.int8(1), 7), IndexError)


def test_inc_subtensor_in_place_with_a_value_overlapping_the_target():
    x = T.dvector("x")
    base = x + 1
    out = in_place(T.inc_subtensor(base[1:], base[:-1]))
    fc, fp = compile_both([x], [out * 1], IncSubtensor)
    assert_in_place(fc, IncSubtensor)
    same_results(fc, fp, np.arange(6.0))


def test_integer_vector_indexing_and_its_gradient_ops():
    x = T.dmatrix("x")
    v = T.fvector("v")
    iv = T.lvector("iv")
    i32 = T.ivector("i32")
    y = T.dmatrix("y")
    yv = T.fvector("yv")
    outs = [x[iv], v[i32], T.inc_subtensor(x[iv], y), T.set_subtensor(x[iv], y),
            T.inc_subtensor(v[i32], yv), T.inc_subtensor(v[i32], 1.5),
            in_place(T.inc_subtensor((v * 2)[i32], yv)), in_place(T.set_subtensor((x + 1)[iv], y))]
    fc, fp = compile_both([x, v, iv, i32, y, yv], outs, AdvancedSubtensor1,
                          AdvancedIncSubtensor1)
    assert_in_place(fc, AdvancedIncSubtensor1)
    rng = np.random.default_rng(2)
    xv = rng.standard_normal((4, 3))
    vv = rng.standard_normal(6).astype("float32")
    for idx in ([0, 3, 1], [-1, -1, 2], [2, 2, 2], []):
        idx = np.array(idx, "int64")
        i32v = np.array(list(idx) + [5, -6, 5], "int32")
        for xl in layouts(xv, every_axis=False):
            ys = (layouts(rng.standard_normal((len(idx), 3)), every_axis=False) if len(idx)
                  else [np.zeros((0, 3))])
            for yl in ys:
                same_results(fc, fp, xl, vv[::-1], idx, i32v, yl,
                             rng.standard_normal(len(i32v)).astype("float32"))
    got = fc(xv, vv, np.array([1, 1]), np.array([0, 0], "int32"), np.ones((2, 3)),
             np.ones(2, "float32"))
    assert got[2][1].tolist() == (xv[1] + 2).tolist()  # repeated indices add up
    ok = [xv, vv, np.array([0]), np.array([0], "int32"), np.ones((1, 3)), np.ones(1, "float32")]
    err = same_error(fc, fp, xv, vv, np.array([0, 4]), *ok[3:4], np.ones((2, 3)), *ok[5:])
    assert "index 4 is out of bounds for axis 0 with size 4" in str(err)
    same_error(fc, fp, *ok[:4], np.ones((2, 3)), *ok[5:])


def test_advanced_indexing_of_several_arrays_with_slices_between():
    x = T.tensor3("x")
    a = T.lvector("a")
    b = T.ivector("b")
    col = T.lmatrix("col")
    n = T.lscalar("n")
    y = T.dvector("y")
    outs = [x[a, b], x[1:, a], x[a, :, b], x[col, a], x[n, :, a], x[:, col, ::-1],
            T.inc_subtensor(x[a, b], y), T.set_subtensor(x[a, :, b], y[0]),
            T.inc_subtensor(x[col, a], y), in_place(T.inc_subtensor((x + 1)[a, :, b], y[:1]))]
    fc, fp = compile_both([x, a, b, col, n, y], outs, AdvancedSubtensor, AdvancedIncSubtensor)
    assert_in_place(fc, AdvancedIncSubtensor)
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((3, 4, 3))
    cases = [([0, 2, 2], [1, -1, 0], [[0], [2], [1]]), ([-3], [2], [[1]]), ([], [], [])]
    for xl in layouts(xv, every_axis=False):
        for av, bv, colv in cases:
            av, bv = np.array(av, "int64"), np.array(bv, "int32")
            colv = np.array(colv, "int64").reshape(len(av), 1)
            got = same_results(fc, fp, xl, av, bv, colv, -1, rng.standard_normal(3))
            np.testing.assert_array_equal(got[2], xv[av, :, bv])
    err = same_error(fc, fp, xv, np.array([0, 1]), np.array([0, 1, 2], "int32"),
                     np.zeros((1, 1), "int64"), 0, np.ones(1))
    assert "could not be broadcast together with shapes (2,) (3,) " in str(err)
    err = same_error(fc, fp, xv, np.array([0]), np.array([3], "int32"),
                     np.zeros((1, 1), "int64"), 0, np.ones(1))
    assert "index 3 is out of bounds for axis" in str(err)


def test_boolean_masks_still_run_through_perform():
    x = T.dvector("x")
    mask = T.vector("mask", dtype="bool")
    f = workbench.function([x, mask], [x[mask]], mode=Mode("c", "fast_run"))
    assert [type(n.op) for n in f.vm.fallback_nodes] == [AdvancedSubtensor]
    assert f(np.arange(3.0), np.array([True, False, True]))[0].tolist() == [0.0, 2.0]


def test_mlp_train_graph_has_no_shape_or_indexing_fallbacks():
    """The optimized MLP train step (bench/bench_rewrite.py's graph, smaller sizes do not
    change its nodes) runs all its shape, allocation, join and indexing nodes in C."""
    from workbench.compiler.ops import alloc, join, shape, subtensor
    from workbench.gradient import grad

    x = T.matrix("x", dtype="float32")
    y = T.ivector("y")
    W1, W2 = T.fmatrix("W1"), T.fmatrix("W2")
    b1, b2 = T.fvector("b1"), T.fvector("b2")
    hidden = T.sigmoid(T.dot(x, W1) + b1)
    p = T.special.softmax(T.dot(hidden, W2) + b2, axis=-1) if hasattr(T, "special") else \
        T.nnet.softmax(T.dot(hidden, W2) + b2)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    params = [W1, b1, W2, b2]
    updates = [w - np.float32(0.1) * g for w, g in zip(params, grad(cost, params))]
    f = workbench.function([x, y] + params, [cost] + updates, mode=Mode("c", "fast_run"))
    mine = {alloc.__name__, join.__name__, shape.__name__, subtensor.__name__}
    ours = [n for n in f.vm.nodes if type(n.op).__module__ in mine]
    assert len(ours) > 10
    assert [n for n in f.vm.fallback_nodes if type(n.op).__module__ in mine] == []
    rng = np.random.default_rng(4)
    args = [rng.standard_normal((8, 6)).astype("float32"), rng.integers(0, 3, 8).astype("int32"),
            rng.standard_normal((6, 5)).astype("float32"), np.zeros(5, "float32"),
            rng.standard_normal((5, 3)).astype("float32"), np.zeros(3, "float32")]
    fp = workbench.function([x, y] + params, [cost] + updates, mode=Mode("py", "fast_run"))
    for g, w in zip(f(*args), fp(*args)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
