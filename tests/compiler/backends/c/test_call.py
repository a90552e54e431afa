"""The C backend's call path: which inputs take the fast path (checked in C), which go
through the Python checks (same errors as the Python backend), and what the caller gets back
(outputs it holds are never overwritten, outputs never alias inputs, shared variables change
only when a call succeeds, ifelse computes one branch).

Each test compiles one or two graphs and calls them with many inputs.
"""
import sys

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.backends.c.build import compiler_available
from workbench.compiler.mode import Mode
from workbench.compiler.types import TensorType
from workbench.ifelse import ifelse
from workbench.printing import Print

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler")

C = Mode("c", "fast_run")
PY = Mode("py", "fast_run")


def on_both(inputs, outputs, **kwargs):
    """The same graph compiled for C and for Python."""
    return (workbench.function(inputs, outputs, mode=C, **kwargs),
            workbench.function(inputs, outputs, mode=PY, **kwargs))


def spy(fn):
    """Record, per call of ``fn``, whether the C fast path answered ('fast') or the inputs
    went through the Python checks ('slow')."""
    seen = []
    fast, run = fn._fast, fn.vm.run

    def fast_call(args):
        out = fast(args)
        seen.append("fast" if out is not None else "slow")
        return out

    def slow_run():
        if not seen or seen[-1] != "slow":
            seen.append("slow")
        run()

    fn._fast, fn.vm.run = fast_call, slow_run
    return seen


def data_address(a):
    return a.__array_interface__["data"][0]


def test_vector_inputs_fast_and_slow_paths():
    x, y = T.dvector("x"), T.dvector("y")
    fc, fp = on_both([x, y], T.exp(x) * y + 1)
    assert fc.vm.fallback_nodes == [] and fc._fast is not None
    seen = spy(fc)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=8), rng.normal(size=8)
    want = np.exp(a) * b + 1

    def check(args, path, expected=None):
        del seen[:]
        got = fc(*args)
        np.testing.assert_allclose(got, fp(*args) if expected is None else expected,
                                   rtol=1e-15)
        assert seen == [path], (args, seen)

    check((a, b), "fast", want)
    # any strides: views are exact arrays of the right dtype, so they stay on the fast path
    wide = np.repeat(a, 3)
    check((wide[::3], b), "fast", want)
    check((a[::-1], b[::-1]), "fast", want[::-1])
    check((np.repeat(a, 2)[::-2][::-1], b), "fast", want)
    check((a[:0], b[:0]), "fast", want[:0])
    # what needs converting goes through the checks and gives the same values
    swapped = a.astype(">f8")
    assert not swapped.dtype.isnative
    check((swapped, b), "slow", want)
    check((a.astype(np.float32), b), "slow")
    check((np.arange(8), b), "slow")
    check((list(a), b), "slow", want)
    raw = np.zeros(8 * 8 + 1, np.uint8)[1:].view(np.float64)  # misaligned
    raw[:] = a
    assert not raw.flags.aligned
    check((raw, b), "slow", want)

    class Sub(np.ndarray):
        pass

    check((a.view(Sub), b), "slow", want)
    # no input was written to
    np.testing.assert_array_equal(swapped, a)
    np.testing.assert_array_equal(np.exp(a) * b + 1, want)


@pytest.mark.parametrize("bad", [
    np.ones((2, 4)),                    # wrong number of dimensions
    np.float64(1.0),                    # a scalar for a vector
    np.arange(4, dtype=np.complex128),  # would lose the imaginary part
    np.array(["a", "b"]),               # strings
    [[1.0, 2.0], [3.0]],                # ragged
])
def test_bad_inputs_raise_the_python_backends_errors(bad):
    fc, fp = _pair_xy()
    with pytest.raises(TypeError) as on_py:
        fp(bad, np.ones(4))
    with pytest.raises(TypeError) as on_c:
        fc(bad, np.ones(4))
    assert str(on_c.value) == str(on_py.value)


_pairs: dict = {}


def _pair_xy():
    """One compiled pair for the parametrized error test (one C build, not five)."""
    if "xy" not in _pairs:
        x, y = T.dvector("x"), T.dvector("y")
        _pairs["xy"] = on_both([x, y], x * y)
    return _pairs["xy"]


def test_scalar_inputs_and_static_shapes():
    a, n = T.dscalar("a"), T.lscalar("n")
    v = T.fvector("v")
    m = TensorType("float64", (2, 3))("m")
    fc, fp = on_both([a, n, v, m], [a * n, v * 2, m + a])
    seen = spy(fc)
    vv, mm = np.arange(3, dtype=np.float32), np.ones((2, 3))
    cases = [
        # Python floats and ints for 0-d float64 / int64 inputs: straight to C
        ((1.5, 3, vv, mm), "fast"),
        ((np.float64(1.5), 3, vv, mm), "fast"),
        ((np.array(1.5), np.array(3), vv, mm), "fast"),
        ((-0.0, -(2 ** 63), vv, mm), "fast"),
        # anything else is converted by the Python checks first
        ((2, 3, vv, mm), "slow"),               # int for a float64 scalar
        ((1.5, True, vv, mm), "slow"),          # bool for int64
        ((1.5, np.int32(3), vv, mm), "slow"),   # a NumPy scalar of another type
        ((np.float32(1.5), 3, vv, mm), "slow"),
        ((1.5, 3, [0.0, 1.0, 2.0], mm), "slow"),
    ]
    for args, path in cases:
        del seen[:]
        got, want = fc(*args), fp(*args)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
        assert seen == [path], (args, seen)
    errors = [
        (1.5, 2 ** 70, vv, mm),                 # does not fit int64
        (1.5, 3.5, vv, mm),                     # a float for an int64 scalar
        (1.5, 3, np.arange(3.0), mm),           # float64 for float32 needs a downcast
        (1.5, 3, vv, np.ones((3, 2))),          # static shape (2, 3)
        (1.5, 3, vv, np.ones((2, 3, 1))),
        (np.ones(1), 3, vv, mm),                # a vector for a scalar
    ]
    for args in errors:
        with pytest.raises(TypeError) as on_py:
            fp(*args)
        with pytest.raises(TypeError) as on_c:
            fc(*args)
        assert str(on_c.value) == str(on_py.value), args
    # allow_input_downcast on the C backend converts as the Python backend does
    down = workbench.function([v], v * 2, mode=C, allow_input_downcast=True)
    np.testing.assert_array_equal(down(np.arange(3.0)), np.arange(3, dtype=np.float32) * 2)


def test_outputs_are_the_callers():
    x, y = T.dvector("x"), T.dvector("y")
    f = workbench.function([x, y], [T.exp(x) * y, x, x[::-1], y.dimshuffle("x", 0)], mode=C)
    a, b = np.arange(5.0), np.ones(5)
    first, same, rev, row = f(a, b)
    kept = first.copy()
    # outputs that are inputs or views of them are copies: the caller's arrays stay apart
    for out in (same, rev, row):
        assert not np.shares_memory(out, a) and not np.shares_memory(out, b)
    np.testing.assert_array_equal(same, a)
    np.testing.assert_array_equal(rev, a[::-1])
    np.testing.assert_array_equal(row, b[None])
    same[:] = -1
    np.testing.assert_array_equal(a, np.arange(5.0))
    # an output the caller holds is not overwritten by the next call
    second = f(a, 2 * b)[0]
    np.testing.assert_array_equal(first, kept)
    assert data_address(second) != data_address(first)

    g = workbench.function([x, y], T.exp(x) * y + 1, mode=C)
    assert g._fast is not None
    held = g(a, b)
    held_copy = held.copy()
    other = g(a, 3 * b)
    np.testing.assert_array_equal(held, held_copy)
    # once dropped, its buffer is reused (same shape): no allocation on the next call
    address = data_address(other)
    del other
    again = g(a, b)
    assert data_address(again) == address
    np.testing.assert_array_equal(again, held_copy)
    # a new shape gets a new buffer
    np.testing.assert_array_equal(g(np.zeros(2), np.ones(2)), [2.0, 2.0])


def test_shared_variables_and_updates():
    x = T.dvector("x")
    s = workbench.shared(np.zeros(3), name="s")
    t = workbench.shared(np.ones(3), name="t")
    count = workbench.shared(np.int64(0), name="count")
    f = workbench.function([x], [s * x, s + t],
                           updates=[(s, t + x), (t, s), (count, count + 1)], mode=C)
    assert f.vm.fallback_nodes == []
    out = f(np.full(3, 2.0))
    np.testing.assert_array_equal(out[0], np.zeros(3))
    np.testing.assert_array_equal(out[1], np.ones(3))
    # every update saw the values from before the call (s and t swapped through t + x)
    np.testing.assert_array_equal(s.get_value(), np.full(3, 3.0))
    np.testing.assert_array_equal(t.get_value(), np.zeros(3))
    assert count.get_value() == 1
    out = f(np.ones(3))
    np.testing.assert_array_equal(out[0], np.full(3, 3.0))
    np.testing.assert_array_equal(s.get_value(), np.ones(3))
    np.testing.assert_array_equal(t.get_value(), np.full(3, 3.0))
    # a new value set from outside is what the next call reads
    s.set_value(np.full(3, 5.0))
    np.testing.assert_array_equal(f(np.ones(3))[0], np.full(3, 5.0))
    # a failing call changes nothing
    before = [v.get_value().copy() for v in (s, t, count)]
    with pytest.raises(ValueError):
        f(np.ones(4))
    for var, value in zip((s, t, count), before):
        np.testing.assert_array_equal(var.get_value(), value)
    # the output the caller holds is not the shared variable's new storage
    g = workbench.function([x], s + x, updates=[(s, s + x)], mode=C)
    expected = s.get_value() + 1
    out = g(np.ones(3))
    np.testing.assert_array_equal(out, expected)
    out[:] = 100
    np.testing.assert_array_equal(s.get_value(), expected)


def _record(op, value, log=[]):  # noqa: B006 - the log is the spy
    log.append((op.message, np.array(value)))


def test_ifelse_is_lazy():
    log = _record.__defaults__[0]
    c = T.iscalar("c")
    x, y = T.dvector("x"), T.dvector("y")
    then = Print("then", global_fn=_record)(x * 2)
    other = Print("else", global_fn=_record)(x + y)
    f = workbench.function([c, x, y], ifelse(c, then, other), mode=C)
    assert f.vm.linker.lazy
    del log[:]
    np.testing.assert_array_equal(f(1, np.ones(3), np.ones(3)), np.full(3, 2.0))
    assert [m for m, _ in log] == ["then"]
    del log[:]
    np.testing.assert_array_equal(f(0, np.ones(3), np.ones(3)), np.full(3, 2.0))
    assert [m for m, _ in log] == ["else"]
    # the branch not taken would raise: it is never computed
    del log[:]
    np.testing.assert_array_equal(f(1, np.ones(3), np.ones(4)), np.full(3, 2.0))
    assert [m for m, _ in log] == ["then"]
    with pytest.raises(ValueError, match="could not be broadcast"):
        f(0, np.ones(3), np.ones(4))


def test_runtime_error_names_node_and_source_line():
    x, y = T.dvector("x"), T.dvector("y")
    s = workbench.shared(np.zeros(3), name="s")
    f = workbench.function([x, y], T.exp(x) * y, updates=[(s, s + 1)], mode=C)  # THIS LINE
    line = sys._getframe().f_lineno - 1
    with pytest.raises(ValueError) as err:
        f(np.ones(3), np.ones(4))
    message = str(err.value)
    assert "could not be broadcast together with shapes (3,) (4,)" in message
    assert "Apply node that caused the error: Elemwise" in message
    assert f"{__file__}\", line {line}" in message and "# THIS LINE" in message
    assert err.value.node in f.vm.nodes
    np.testing.assert_array_equal(s.get_value(), np.zeros(3))
    # the function still works after the error
    np.testing.assert_allclose(f(np.zeros(2), np.ones(2)), np.ones(2))
    np.testing.assert_array_equal(s.get_value(), np.ones(3))
