"""The in-place pass: Elemwise nodes overwrite an input only where nothing else needs it."""
from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.fgraph import FunctionGraph, InconsistencyError
from workbench.compiler.ops.elemwise import Elemwise
from workbench.compiler.rewrite.features import DestroyHandler
from workbench.compiler.rewrite.inplace import InplacePass, ShapeTokens
from workbench.compiler.rewrite.trace import PassRecord

NO_OPT = workbench.Mode(optimizer=None)
NO_FUSION = workbench.Mode(optimizer="fast_run").excluding("fusion")


def _nodes(f):
    return f.maker.fgraph.toposort()


def _destroyed(f):
    """The variables some node of ``f`` overwrites."""
    return [n.inputs[i] for n in _nodes(f) for ins in n.op.destroy_map.values() for i in ins]


def _inplace_ops(f):
    return [str(n.op) for n in _nodes(f) if n.op.destroy_map]


def _check(inputs, outputs, values, mode=None, updates=None):
    """Compile with ``mode`` and without rewrites; the results must agree and the caller's
    arrays must come back untouched."""
    f = workbench.function(inputs, outputs, mode=mode, updates=updates)
    g = workbench.function(inputs, outputs, mode=NO_OPT)
    copies = [np.array(v, copy=True) for v in values]
    got = f(*values)
    for v, c in zip(values, copies):
        np.testing.assert_array_equal(v, c)
    want = g(*copies)
    if not isinstance(got, list):
        got, want = [got], [want]
    for a, b in zip(got, want):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-12)
    return f


def test_add_overwrites_the_exp_result_but_never_the_input(rng):
    x = T.dvector("x")
    value = rng.normal(size=5)
    f = _check([x], T.exp(x) + 1, [value], mode=NO_FUSION)
    assert _inplace_ops(f) == ["Elemwise{add,inplace}"]
    (destroyed,) = _destroyed(f)
    assert destroyed.owner is not None and str(destroyed.owner.op) == "Elemwise{exp}"
    assert f.trace.fired()["elemwise_inplace"] == 1
    # fused, the loop reads x directly: it may not overwrite it
    fused = _check([x], T.exp(x) + 1, [value])
    assert _inplace_ops(fused) == []


def test_a_shared_variable_is_never_overwritten(rng):
    start = rng.normal(size=4)
    s = workbench.shared(start.copy(), name="s")
    x = T.dvector("x")
    f = workbench.function([x], [s + x, T.exp(s) * 2], mode=NO_FUSION)
    for node in _nodes(f):
        for ins in node.op.destroy_map.values():
            assert all(node.inputs[i] is not s for i in ins)
    xv = rng.normal(size=4)
    a, b = f(xv)
    np.testing.assert_array_equal(s.get_value(), start)
    np.testing.assert_allclose(a, start + xv)
    np.testing.assert_allclose(b, np.exp(start) * 2)


def test_shared_values_change_only_by_their_updates(rng):
    start = rng.normal(size=4)
    s = workbench.shared(start.copy(), name="s")
    x = T.dvector("x")
    for mode in (None, NO_FUSION):
        s.set_value(start.copy())
        f = workbench.function([x], T.exp(s) + x, updates=[(s, s * 2 + 1)], mode=mode)
        xv = rng.normal(size=4)
        out = f(xv)
        np.testing.assert_allclose(out, np.exp(start) + xv)
        np.testing.assert_allclose(s.get_value(), start * 2 + 1)
        out2 = f(xv)
        np.testing.assert_allclose(out2, np.exp(start * 2 + 1) + xv)


def test_an_intermediate_read_twice_is_not_destroyed(rng):
    x = T.dvector("x")
    e = T.exp(x)
    f = _check([x], (e + 1) * T.sort(e), [rng.normal(size=6)], mode=NO_FUSION)
    assert all(v is not e and (v.owner is None or "exp" not in str(v.owner.op))
               for v in _destroyed(f))
    # the two readers are an add and a sort; with fusion the add and the mul become one
    # loop, which may overwrite the sort's result but not exp's
    g = _check([x], (e + 1) * T.sort(e), [rng.normal(size=6)])
    assert all("exp" not in str(v.owner.op) for v in _destroyed(g))


def test_outputs_are_never_destroyed(rng):
    x = T.dvector("x")
    e = T.exp(x)
    f = _check([x], [e, e + 1], [rng.normal(size=3)], mode=NO_FUSION)
    assert _inplace_ops(f) == []
    a, b = f(np.zeros(3))
    assert a.tolist() == [1.0, 1.0, 1.0] and b.tolist() == [2.0, 2.0, 2.0]


def test_distinct_outputs_do_not_alias(rng):
    x, y = T.dvectors("x", "y")
    s = T.sort(x)
    outputs = [s + 1, s * y, T.exp(y) + 2, T.exp(y) - 2]
    for mode in (None, NO_FUSION):
        f = workbench.function([x, y], outputs, mode=mode)
        results = f(rng.normal(size=4), rng.normal(size=4))
        for i, a in enumerate(results):
            for b in results[i + 1:]:
                assert not np.shares_memory(a, b)


def test_an_output_viewing_another_output_gets_its_own_memory(rng):
    x = T.dmatrix("x")
    o1 = T.sort(x) + 1
    a, b = workbench.function([x], [o1, o1.T])(rng.normal(size=(2, 3)))
    assert not np.shares_memory(a, b)


def test_a_mutable_input_may_be_overwritten(rng):
    x = T.dvector("x")
    f = workbench.function([workbench.In(x, mutable=True)], T.exp(x) + 1, mode=NO_FUSION)
    # exp writes into x, then the add into exp's result (the same memory)
    assert [str(v) for v in _destroyed(f)] == ["x", "Elemwise{exp,inplace}.0"]
    value = np.zeros(3)
    out = f(value)
    assert out.tolist() == [2.0, 2.0, 2.0]
    assert value.tolist() == [2.0, 2.0, 2.0]  # the caller allowed it to be overwritten


def test_inputs_that_may_broadcast_at_run_time_are_not_overwritten(rng):
    # static types (None, None) do not say whether exp(x) has the output's shape: x may be
    # (1, 3) against y's (4, 3)
    x, y = T.dmatrices("x", "y")
    e = T.exp(x)
    f = _check([x, y], e * y, [rng.normal(size=(1, 3)), rng.normal(size=(4, 3))], mode=NO_FUSION)
    assert _inplace_ops(f) == []
    np.testing.assert_allclose(f(np.zeros((1, 3)), np.ones((4, 3))), np.ones((4, 3)))


def test_shape_tokens_prove_equal_shapes_soundly():
    x, y = T.dmatrices("x", "y")
    tokens = ShapeTokens()
    e = T.exp(x)
    assert tokens.same_shape(e * 2, x)                 # the constant is statically (1, 1)
    assert tokens.same_shape(T.sin(e) + e, x)
    assert not tokens.same_shape(e * y, x)             # x may broadcast against y
    assert not tokens.same_shape(e.T, x)
    assert tokens.same_shape(e.T.T + 1, x)
    s = T.sort(x)
    assert tokens.same_shape(s + 1, s) and not tokens.same_shape(s, x)
    fixed = T.TensorType("float64", (3, 4))("fixed")
    assert tokens.same_shape(x + fixed, fixed)         # static sizes are their own proof
    row = T.drow("row")
    node = (row + y).owner
    assert not tokens.holds_output(node, 0) and not tokens.holds_output(node, 1)
    node = (x + row).owner
    assert not tokens.holds_output(node, 0)            # row's dim 1 vs x's: unrelated
    # through other ops (a sum here) nothing is proved: conservative, never wrong
    node = (e + T.exp(x).sum(axis=0, keepdims=True)).owner
    assert not tokens.holds_output(node, 0)


def test_deep_elementwise_chains_do_not_recurse():
    x = T.dvector("x")
    e = x
    for _ in range(3000):
        e = T.exp(e) if e.owner is None else e * 1.0001
    assert ShapeTokens().same_shape(e, x)


def test_a_chain_of_inplace_ops_through_a_view(rng):
    x = T.dmatrix("x")
    out = (T.sort(x) + 1).T * 2
    f = _check([x], out, [rng.normal(size=(3, 4))])
    assert _inplace_ops(f) == ["Elemwise{add,inplace}", "Elemwise{mul,inplace}"]


def test_fused_loops_are_made_inplace(rng):
    x = T.dmatrix("x")
    s = T.sort(x)
    f = _check([x], T.exp(s) * 2 + T.sin(s), [rng.normal(size=(2, 5))])
    (node,) = [n for n in _nodes(f) if isinstance(n.op, Elemwise)]
    assert node.op.destroy_map == {0: [0]} and "Composite" in str(node.op)


def test_dtype_must_match_to_overwrite(rng):
    x = T.ivector("x")
    e = T.sort(x)
    f = _check([x], e / 2, [rng.integers(0, 9, size=5).astype("int32")])
    assert _inplace_ops(f) == []  # int32 memory cannot hold the float64 result
    g = _check([x], e * 2, [rng.integers(0, 9, size=5).astype("int32")])
    assert _inplace_ops(g) == ["Elemwise{mul,inplace}"]


def test_repeated_calls_give_fresh_results(rng):
    x = T.dvector("x")
    f = workbench.function([x], T.sort(x) * 2)
    assert _inplace_ops(f)
    a = f(np.array([3.0, 1.0]))
    b = f(np.array([5.0, 4.0]))
    assert a.tolist() == [2.0, 6.0] and b.tolist() == [8.0, 10.0]


def test_the_pass_attaches_a_destroy_handler_when_missing():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x) + 1])
    record = PassRecord("inplace", ())
    InplacePass().apply(fg, record)
    assert fg.get_feature(DestroyHandler) is not None
    assert [str(n.op) for n in fg.toposort()] == ["Elemwise{exp}", "Elemwise{add,inplace}"]
    assert [e.rule for e in record.events] == ["elemwise_inplace"]


def test_validate_refuses_a_second_reader_of_a_destroyed_value():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x) + 1], features=[DestroyHandler()])
    InplacePass().apply(fg, PassRecord("inplace", ()))
    (exp_node, add_node) = fg.toposort()
    assert add_node.op.destroy_map
    # giving exp's result, which the add overwrites, another reader must be refused
    with pytest.raises(InconsistencyError):
        fg.replace_validate(fg.outputs[0], add_node.outputs[0] * exp_node.outputs[0])
    assert [str(n.op) for n in fg.toposort()] == ["Elemwise{exp}", "Elemwise{add,inplace}"]


def test_excluding_the_inplace_pass(rng):
    x = T.dvector("x")
    f = workbench.function([x], T.sort(x) * 2,
                           mode=workbench.Mode(optimizer="fast_run").excluding("inplace"))
    assert _inplace_ops(f) == []


def test_an_input_read_through_another_view_is_not_overwritten(rng):
    x = T.TensorType("float64", (3, 3))("x")
    e = T.sort(x)
    f = _check([x], e + e.T, [rng.normal(size=(3, 3))])
    assert _inplace_ops(f) == []   # writing e[i, j] would change e.T[j, i], still to be read
    g = _check([x], e * e, [rng.normal(size=(3, 3))])
    assert _inplace_ops(g) == ["Elemwise{mul,inplace}"]  # the same element: read, then written


def test_inplace_events_and_trace_are_recorded():
    x = T.dvector("x")
    f = workbench.function([x], T.sort(x) * 2)
    record = f.trace["inplace"]
    (event,) = record.events
    assert event.rule == "elemwise_inplace"
    assert len(event.replaced) == 1 and len(event.created) == 1
    assert record.nodes_before == record.nodes_after == 2


@pytest.mark.parametrize("fn, dtype", [(T.real, "float64"), (T.imag, "float64"),
                                       (T.real, "complex128"), (T.round, "int64")])
def test_results_that_may_be_the_inputs_own_memory_are_not_overwritten(rng, fn, dtype):
    # np.real of a real array is that array, np.imag of one a read-only array, rounding an
    # integer array returns it: their Elemwise declares no view, so the destroy handler
    # protects these results itself
    x = T.matrix("x", dtype=dtype)
    value = (rng.normal(size=(2, 2)) * 10).astype(dtype)
    f = _check([x], fn(x).T + 1, [value])
    assert _inplace_ops(f) == []
