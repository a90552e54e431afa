"""``workbench.function``: every argument, In/Out, shared variables, updates, copying."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import workbench
from workbench import In, Out, tensor as T
from workbench.compiler.mode import Mode, get_mode


# -- outputs ------------------------------------------------------------------------------

def test_single_list_and_dict_outputs():
    x, y = T.dscalars("x", "y")
    assert float(workbench.function([x, y], x + y)(1.0, 2.0)) == 3.0
    out = workbench.function([x, y], [x + y, x * y])(2.0, 3.0)
    assert isinstance(out, list) and [float(o) for o in out] == [5.0, 6.0]
    out = workbench.function([x, y], (x - y,))(2.0, 3.0)
    assert isinstance(out, list) and float(out[0]) == -1.0
    out = workbench.function([x], {"double": x * 2, "same": x})(4.0)
    assert set(out) == {"double", "same"}
    assert float(out["double"]) == 8.0 and float(out["same"]) == 4.0
    assert workbench.function([], [])() == []


def test_outputs_are_ndarrays_of_the_declared_dtype():
    x = T.fscalar("x")
    out = workbench.function([x], x * 2)(1.5)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == ()


def test_input_returned_as_output_is_its_value():
    v = T.dvector("v")
    arr = np.array([1.0, 2.0])
    out = workbench.function([v], v)(arr)
    np.testing.assert_array_equal(out, arr)
    assert not np.shares_memory(out, arr)
    both = workbench.function([v], [v, v * 1])(arr)
    np.testing.assert_array_equal(both[0], arr)
    borrowed = workbench.function([v], Out(v, borrow=True))(arr)
    np.testing.assert_array_equal(borrowed, arr)


def test_outputs_never_alias_inputs_or_shared_unless_borrowed():
    s = workbench.shared(np.zeros(3), "s")
    v = T.dvector("v")
    f = workbench.function([v], [s, v, v.dimshuffle("x", 0), s + 0])
    arr = np.ones(3)
    outs = f(arr)
    internal = s.get_value(borrow=True)
    for o in outs:
        assert not np.shares_memory(o, internal) and not np.shares_memory(o, arr)
    g = workbench.function([], Out(s, borrow=True))
    assert np.shares_memory(g(), s.get_value(borrow=True))


def test_repeated_output_gives_distinct_arrays():
    x = T.dvector("x")
    y = x * 2
    a, b = workbench.function([x], [y, y])(np.ones(2))
    assert a is not b and not np.shares_memory(a, b)


def test_constant_output_is_not_corrupted_by_callers():
    f = workbench.function([], T.constant(np.array([3.0])))
    r = f()
    r[0] = 5.0
    assert f()[0] == 3.0


# -- inputs ----------------------------------------------------------------------------

def test_in_default_value_and_names():
    x, y, w = T.dscalars("x", "y", "w")
    z = x + y + w
    f = workbench.function([x, In(y, value=1), In(w, value=2, name="w_by_name")], z)
    assert float(f(33)) == 36.0
    assert float(f(33, 2)) == 37.0
    assert float(f(33, 0, 1)) == 34.0
    assert float(f(33, w_by_name=1)) == 35.0
    assert float(f(33, w_by_name=1, y=0)) == 34.0
    assert float(f(x=1, y=1, w_by_name=1)) == 3.0
    with pytest.raises(TypeError, match="no input named 'w'"):
        f(33, w=1)
    with pytest.raises(TypeError, match="both by position and by name"):
        f(33, 1, y=2)
    with pytest.raises(TypeError, match=r"missing required input x at index 0"):
        f()
    with pytest.raises(TypeError, match="takes 3 inputs, got 4"):
        f(1, 2, 3, 4)


def test_in_strict_and_allow_downcast():
    v = T.fvector("v")
    strict = workbench.function([In(v, strict=True)], v * 2)
    np.testing.assert_array_equal(strict(np.ones(2, np.float32)), [2.0, 2.0])
    with pytest.raises(TypeError, match="numpy.ndarray"):
        strict([1.0, 2.0])
    with pytest.raises(TypeError, match="expected dtype float32"):
        strict(np.ones(2))
    loose = workbench.function([In(v, allow_downcast=True)], v * 2)
    assert loose(np.ones(2)).dtype == np.float32
    never = workbench.function([In(v, allow_downcast=False)], v * 2)
    with pytest.raises(TypeError):
        never([1.0])  # even Python floats are refused when downcasting is forbidden


def test_allow_input_downcast():
    v = T.fvector("v")
    f = workbench.function([v], v * 2)
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])  # Python floats: fine
    with pytest.raises(TypeError, match="allow_input_downcast"):
        f(np.array([1.0]))
    g = workbench.function([v], v * 2, allow_input_downcast=True)
    assert g(np.array([1.0])).dtype == np.float32
    i = T.bvector("i")
    h = workbench.function([i], i, allow_input_downcast=True)
    assert h(np.array([1.7, 300])).dtype == np.int8


def test_in_borrow_and_mutable_are_accepted():
    v = T.dvector("v")
    f = workbench.function([In(v, borrow=True, mutable=True)], v + 1)
    arr = np.ones(2)
    np.testing.assert_array_equal(f(arr), [2.0, 2.0])  # mutable: arr may be overwritten
    kept = workbench.function([In(v)], v + 1)
    arr = np.ones(2)
    np.testing.assert_array_equal(kept(arr), [2.0, 2.0])
    np.testing.assert_array_equal(arr, [1.0, 1.0])
    assert In(v).mutable is False and In(v, mutable=True).mutable is True
    with pytest.raises(TypeError, match="symbolic variable"):
        In(3)
    with pytest.raises(TypeError, match="symbolic variable"):
        Out("x")


def test_inputs_must_be_a_list_of_distinct_non_constant_variables():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="list"):
        workbench.function(x, x)
    with pytest.raises(ValueError, match="twice"):
        workbench.function([x, x], x)
    with pytest.raises(TypeError, match="constant"):
        workbench.function([T.constant(1.0)], x, on_unused_input="ignore")
    with pytest.raises(TypeError, match="shared variable"):
        workbench.function([workbench.shared(1.0)], x, on_unused_input="ignore")
    with pytest.raises(TypeError, match="outputs must be symbolic"):
        workbench.function([x], "nope")


def test_on_unused_input():
    x, y = T.dscalars("x", "y")
    with pytest.raises(workbench.UnusedInputError, match=r"input 1 \(y\)"):
        workbench.function([x, y], x)
    with pytest.warns(UserWarning, match=r"input 1 \(y\)"):
        f = workbench.function([x, y], x, on_unused_input="warn")
    assert float(f(1.0, 2.0)) == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        workbench.function([x, y], x, on_unused_input="ignore")
    with pytest.raises(ValueError, match="on_unused_input"):
        workbench.function([x], x, on_unused_input="sometimes")
    workbench.config.on_unused_input = "ignore"
    workbench.function([x, y], x)


def test_name_and_repr():
    x = T.dscalar("x")
    f = workbench.function([x], x * 2, name="double")
    assert f.name == "double" and "double" in repr(f)
    with pytest.raises(TypeError, match="function double"):
        f("not a number")


# -- modes --------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "DebugMode", "PYTHON",
                                  Mode("py", None), get_mode("FAST_RUN").excluding("fusion")])
def test_modes(mode):
    x = T.dvector("x")
    f = workbench.function([x], T.exp(x) * 2, mode=mode)
    np.testing.assert_allclose(f([0.0, 1.0]), 2 * np.exp([0.0, 1.0]))
    assert isinstance(f.maker.mode, Mode)


def test_unknown_mode_and_linker():
    x = T.dscalar()
    with pytest.raises(ValueError, match="unknown mode 'FAST'"):
        workbench.function([x], x, mode="FAST")
    with pytest.raises(ValueError, match="unknown linker"):
        Mode("java")


def test_config_mode_is_the_default():
    workbench.config.mode = "DebugMode"
    x = T.dscalar()
    assert workbench.function([x], x).maker.mode.check_outputs


# -- shared variables and updates -----------------------------------------------------

def test_shared_get_set_value_borrow():
    arr = np.zeros(2)
    s = workbench.shared(arr, name="s")
    arr[0] = 1.0
    assert s.get_value()[0] == 0.0  # borrow=False copied
    b = workbench.shared(arr, borrow=True)
    arr[1] = 7.0
    assert b.get_value()[1] == 7.0  # borrow=True kept the array
    assert b.get_value(borrow=True) is arr
    assert b.get_value() is not arr
    b.set_value(arr)
    assert b.get_value(borrow=True) is not arr
    b.set_value(arr, borrow=True)
    assert b.get_value(borrow=True) is arr
    got = s.get_value()
    got[0] = 99.0
    assert s.get_value()[0] == 0.0
    assert s.name == "s" and s.value[0] == 0.0


def test_shared_set_value_checks_the_type():
    s = workbench.shared(np.zeros(2, np.float32), name="w")
    with pytest.raises(TypeError, match="shared variable w.*float32.*float64"):
        s.set_value(np.zeros(2))
    with pytest.raises(TypeError, match="shared variable w.*dimensions"):
        s.set_value(np.zeros((2, 2), np.float32))
    s.set_value([1.5, 2.0])  # Python floats: fine
    assert s.get_value().dtype == np.float32
    s.set_value(np.zeros(5, np.float32))  # shapes may change: dims are not static
    assert s.get_value().shape == (5,)
    t = workbench.shared(np.zeros(2, np.float32), allow_downcast=True)
    t.set_value(np.ones(2))
    assert t.get_value().dtype == np.float32


def test_accumulator_updates_dict_and_list():
    state = workbench.shared(0)
    inc = T.iscalar("inc")
    acc = workbench.function([inc], state, updates=[(state, state + inc)])
    assert int(acc(1)) == 0 and int(state.get_value()) == 1
    acc2 = workbench.function([inc], state, updates={state: state - inc})
    assert int(acc2(3)) == 1 and int(state.get_value()) == -2


def test_updates_see_values_from_before_the_call():
    a, b = workbench.shared(1.0, "a"), workbench.shared(2.0, "b")
    swap = workbench.function([], [], updates=[(a, b), (b, a)])
    swap()
    assert (float(a.get_value()), float(b.get_value())) == (2.0, 1.0)
    swap()
    assert (float(a.get_value()), float(b.get_value())) == (1.0, 2.0)
    va, vb = workbench.shared(np.arange(3.0)), workbench.shared(np.ones(3))
    f = workbench.function([], [va + 0, vb + 0], updates={va: va * 2 + vb, vb: va})
    before = f()
    np.testing.assert_array_equal(before[0], np.arange(3.0))
    np.testing.assert_array_equal(va.get_value(), np.arange(3.0) * 2 + 1)
    np.testing.assert_array_equal(vb.get_value(), np.arange(3.0))
    assert not np.shares_memory(va.get_value(borrow=True), vb.get_value(borrow=True))


def test_update_values_do_not_alias_outputs():
    s = workbench.shared(np.zeros(3))
    f = workbench.function([], s + 1, updates={s: s + 1})
    out = f()
    out[0] = 100.0
    assert s.get_value()[0] == 1.0


def test_update_errors():
    s = workbench.shared(0, "counter")
    x = T.dscalar("x")
    with pytest.raises(TypeError, match=r"counter is TensorType\(int64, scalar\).*float64"):
        workbench.function([x], x, updates=[(s, s + 1.5)])
    with pytest.raises(TypeError, match="shared variables"):
        workbench.function([x], x, updates=[(x, x + 1)])
    with pytest.raises(ValueError, match="updated twice"):
        workbench.function([], [], updates=[(s, s + 1), (s, s + 2)])
    with pytest.raises(TypeError, match="pairs"):
        workbench.function([], [], updates=[(s, s + 1, 3)])
    v = workbench.shared(np.zeros(2))
    with pytest.raises(TypeError, match="same type"):
        workbench.function([], [], updates=[(v, T.dmatrix())])


def test_default_updates_and_no_default_updates():
    s = workbench.shared(0, "s")
    s.default_update = s + 1
    f = workbench.function([], s)
    f()
    f()
    assert int(s.get_value()) == 2
    g = workbench.function([], s, no_default_updates=True)
    g()
    assert int(s.get_value()) == 2
    h = workbench.function([], s, no_default_updates=[s])
    h()
    assert int(s.get_value()) == 2


def test_givens():
    x, y = T.dscalars("x", "y")
    state = workbench.shared(0.0, "state")
    fn_of_state = state * 2 + x
    foo = T.dscalar("foo")
    skip = workbench.function([x, foo], fn_of_state, givens=[(state, foo)])
    assert float(skip(1.0, 3.0)) == 7.0
    assert float(state.get_value()) == 0.0
    f = workbench.function([y], x * 2, givens={x: y + 1})
    assert float(f(1.0)) == 4.0
    with pytest.raises(TypeError, match="same type"):
        workbench.function([], x, givens={x: T.fscalar()})
    with pytest.raises(TypeError, match="keys must be symbolic"):
        workbench.function([y], y, givens={1.0: y})
    # a constant value is accepted and converted
    assert float(workbench.function([], x * 2, givens={x: 3.0})()) == 6.0


def test_missing_input():
    x, y = T.dscalars("x", "y")
    with pytest.raises(workbench.MissingInputError, match=r"input y .* is needed to compute"):
        workbench.function([x], x + y)


# -- copying ------------------------------------------------------------------------------

def test_copy_swap_and_delete_updates():
    state = workbench.shared(0, "state")
    inc = T.iscalar("inc")
    acc = workbench.function([inc], state, updates=[(state, state + inc)], name="acc")
    acc(10)
    new_state = workbench.shared(0)
    new_acc = acc.copy(swap={state: new_state})
    new_acc(100)
    assert int(new_state.get_value()) == 100 and int(state.get_value()) == 10
    null_acc = acc.copy(delete_updates=True)
    assert int(null_acc(2)) == 10 and int(state.get_value()) == 10
    assert acc.copy().name == "acc" and acc.copy(name="other").name == "other"
    with pytest.raises(TypeError, match="swap"):
        acc.copy(swap={state: workbench.shared(0.0)})
    with pytest.raises(TypeError, match="shared variables"):
        acc.copy(swap={state: inc})
    assert acc.get_shared() == [state]


def test_maker_fgraph_toposort():
    x = T.dvector("x")
    f = workbench.function([x], T.exp(x) + 1, mode="FAST_COMPILE")
    nodes = f.maker.fgraph.toposort()
    assert [str(n.op) for n in nodes] == ["Elemwise{exp}", "Elemwise{add}"]
    assert f.maker.compile_time >= 0 and len(f.maker.inputs) == 1
    fused = workbench.function([x], T.exp(x) + 1)  # FAST_RUN fuses the two loops
    assert [str(n.op) for n in fused.maker.fgraph.toposort()] == [
        "Elemwise{Composite{add(exp(i0), i1)}}"]


def test_trust_input_skips_checks():
    x = T.dvector("x")
    f = workbench.function([x], x * 2)
    f.trust_input = True
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])



def test_input_with_update_keeps_state_between_calls():
    x = T.dvector("x")
    total = T.dscalar("total")
    f = workbench.function([x, In(total, value=0.0, update=total + x.sum())], total)
    assert float(f([1.0, 2.0])) == 0.0
    assert float(f([3.0])) == 3.0
    assert float(f([1.0], 100.0)) == 100.0  # an explicit value replaces the state once
    assert float(f([1.0])) == 101.0


def test_input_update_needs_a_value():
    s = T.dscalar("s")
    with pytest.raises(ValueError, match="needs In\\(value=\\)"):
        workbench.function([In(s, update=s + 1)], s)


def test_update_taken_directly_from_an_input():
    v = T.dvector("v")
    state = workbench.shared(np.zeros(2))
    f = workbench.function([v], [], updates=[(state, v)])
    given = np.ones(2)
    f(given)
    np.testing.assert_array_equal(state.get_value(), [1.0, 1.0])
    given[0] = 5.0  # the shared value must not alias the caller's array
    np.testing.assert_array_equal(state.get_value(), [1.0, 1.0])
