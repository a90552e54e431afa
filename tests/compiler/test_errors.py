"""Error messages name what was wrong and where."""
from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench import tensor as T


def test_wrong_dtype_names_input_expected_and_actual():
    x = T.fvector("weights")
    f = workbench.function([x], x * 2, name="scale")
    with pytest.raises(TypeError) as info:
        f(np.ones(3))
    msg = str(info.value)
    for part in ("weights", "index 0", "scale", "float32", "float64", "precision"):
        assert part in msg, (part, msg)


def test_wrong_ndim():
    x = T.dmatrix("m")
    f = workbench.function([x], x + 1)
    with pytest.raises(TypeError, match=r"m at index 0.*expected 2 \(matrix\), got 1"):
        f(np.ones(3))


def test_ragged_list():
    x = T.dmatrix("m")
    f = workbench.function([x], x + 1)
    with pytest.raises(TypeError, match=r"bad input argument m.*not a rectangular"):
        f([[1.0, 2.0], [3.0]])


def test_missing_input_names_the_variable_and_its_line():
    x = T.dscalar("x")
    y = T.dscalar("y")  # y is created here
    with pytest.raises(workbench.MissingInputError) as info:
        workbench.function([x], x * y)
    msg = str(info.value)
    assert "input y" in msg and __file__ in msg and "needed to compute" in msg


def test_unused_input_names_position_and_variable():
    x, y = T.dscalars("x", "unused")
    with pytest.raises(workbench.UnusedInputError, match=r"input 1 \(unused\).*on_unused_input"):
        workbench.function([x, y], x)


def test_runtime_shape_mismatch_names_op_shapes_and_source_line():
    a, b = T.dvectors("a", "b")
    total = a + b  # the user's line
    f = workbench.function([a, b], total)
    with pytest.raises(ValueError) as info:
        f(np.ones(2), np.ones(3))
    msg = str(info.value)
    assert "Elemwise{add}" in msg
    assert "(2,)" in msg and "(3,)" in msg
    assert __file__ in msg and "total = a + b  # the user's line" in msg
    # the failing node is the compiled copy of the user's node
    assert str(info.value.node) == str(total.owner)
    assert info.value.node.source == total.owner.source


def test_runtime_error_in_a_later_node_points_at_that_node():
    m = T.dmatrix("m")
    v = T.dvector("v")
    first = T.exp(m)
    second = first * v  # the failing line
    f = workbench.function([m, v], second)
    with pytest.raises(ValueError, match="the failing line"):
        f(np.ones((2, 2)), np.ones(3))


def test_update_of_the_wrong_type():
    counter = workbench.shared(np.zeros(2, dtype="int32"), "counter")
    with pytest.raises(TypeError) as info:
        workbench.function([], [], updates=[(counter, counter * 0.5)])
    msg = str(info.value)
    assert "counter" in msg and "int32" in msg and "float64" in msg and __file__ in msg


def test_failed_call_leaves_shared_variables_unchanged():
    s = workbench.shared(np.zeros(2), "s")
    t = workbench.shared(np.ones(2), "t")
    v = T.dvector("v")
    f = workbench.function([v], s + v, updates=[(s, s + 1), (t, t * v)])
    with pytest.raises(ValueError):
        f(np.ones(3))
    np.testing.assert_array_equal(s.get_value(), [0.0, 0.0])
    np.testing.assert_array_equal(t.get_value(), [1.0, 1.0])
    with pytest.raises(TypeError):
        f("bad")
    np.testing.assert_array_equal(s.get_value(), [0.0, 0.0])
    # and the function still works afterwards
    f(np.ones(2))
    np.testing.assert_array_equal(s.get_value(), [1.0, 1.0])


def test_failed_call_does_not_keep_inputs_alive():
    v = T.dvector("v")
    f = workbench.function([v], v * 2)
    with pytest.raises(TypeError):
        f(np.ones((2, 2)))
    assert all(cell[0] is None for cell in f.input_storage)


def test_build_time_broadcast_error_is_clear():
    a = T.TensorType("float64", (2,))("a")
    b = T.TensorType("float64", (3,))("b")
    with pytest.raises(ValueError, match=r"Elemwise\{add\}.*\(2,\) and \(3,\)"):
        a + b


def test_undefined_dtype_combination_is_named():
    with pytest.raises(TypeError, match="and_ is not defined for inputs of dtype float64"):
        T.dvector() & T.dvector()


def test_symbolic_truth_value_is_refused():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="ifelse"):
        if x > 0:
            pass


def test_high_exception_verbosity_shows_the_graph():
    x, y = T.dvectors("x", "y")
    f = workbench.function([x, y], T.exp(x) + y)
    with pytest.raises(ValueError) as low:
        f(np.ones(2), np.ones(3))
    assert "exception_verbosity = 'high'" in str(low.value)
    with workbench.config.change_flags(exception_verbosity="high"):
        with pytest.raises(ValueError) as high:
            f(np.ones(2), np.ones(3))
    text = str(high.value)
    assert "exp(i0)" in text and "<TensorType(float64, vector)>" in text
    assert "test_errors.py:" in text
