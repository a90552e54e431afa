"""ifelse: a lazy scalar conditional; the branch not taken is never computed."""
from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.graph import Apply, Op
from workbench.ifelse import IfElse, ifelse


class Boom(Op):
    """Raises when run: proves a branch was not evaluated."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        raise RuntimeError("the branch that was not taken ran")


class Count(Op):
    """Counts its runs."""

    runs = 0

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        Count.runs += 1
        output_storage[0][0] = inputs[0].copy()


def test_picks_a_branch():
    a, b, c = T.dscalars("a", "b", "c")
    f = workbench.function([c, a, b], ifelse(T.lt(c, 0), a, b))
    assert float(f(-1, 1.0, 2.0)) == 1.0
    assert float(f(1, 1.0, 2.0)) == 2.0


def test_branch_not_taken_is_not_evaluated():
    c = T.dscalar("c")
    x = T.dvector("x")
    f = workbench.function([c, x], ifelse(T.gt(c, 0), x * 2, Boom()(x)))
    np.testing.assert_array_equal(f(1.0, [1.0, 2.0]), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="not taken ran"):
        f(-1.0, [1.0, 2.0])
    g = workbench.function([c, x], ifelse(T.gt(c, 0), Boom()(x), x + 1))
    np.testing.assert_array_equal(g(-1.0, [1.0]), [2.0])


def test_laziness_saves_work():
    Count.runs = 0
    c = T.iscalar("c")
    x = T.dvector("x")
    f = workbench.function([c, x], ifelse(c, Count()(x), x))
    f(0, [1.0])
    assert Count.runs == 0
    f(1, [1.0])
    assert Count.runs == 1


def test_several_outputs_and_shared_condition():
    c = T.bscalar("c")
    x, y = T.dvectors("x", "y")
    outs = ifelse(c, [x, y], [y, x])
    f = workbench.function([c, x, y], outs)
    a, b = f(1, [1.0], [2.0])
    assert (a[0], b[0]) == (1.0, 2.0)
    a, b = f(0, [1.0], [2.0])
    assert (a[0], b[0]) == (2.0, 1.0)


def test_output_is_a_copy():
    c = T.dscalar("c")
    s = workbench.shared(np.ones(2))
    f = workbench.function([c], ifelse(c, s, s * 2))
    out = f(1.0)
    out[0] = 99.0
    assert s.get_value()[0] == 1.0


def test_type_checks():
    c = T.dscalar("c")
    with pytest.raises(TypeError, match="scalar"):
        ifelse(T.dvector(), c, c)
    with pytest.raises(TypeError, match="float64.*float32"):
        ifelse(c, T.dvector(), T.fvector())
    with pytest.raises(ValueError, match="2 values in the then branch but 1"):
        ifelse(c, [c, c], [c])
    out = ifelse(c, T.TensorType("float64", (3,))(), T.TensorType("float64", (4,))())
    assert out.type.shape == (None,)
    assert ifelse(c, c, c, name="pick").name == "pick"
    assert IfElse(2) == IfElse(2) and IfElse(1) != IfElse(2)


def test_nested_ifelse_and_updates():
    c, d = T.dscalars("c", "d")
    x = T.dscalar("x")
    s = workbench.shared(0.0)
    inner = ifelse(T.gt(d, 0), x + 10, Boom()(x))
    out = ifelse(T.gt(c, 0), inner, x - 1)
    f = workbench.function([c, d, x], out, updates={s: s + out})
    assert float(f(1.0, 1.0, 1.0)) == 11.0
    assert float(f(-1.0, -1.0, 1.0)) == 0.0
    assert float(s.get_value()) == 11.0


def test_infer_shape():
    c = T.dscalar("c")
    x, y = T.dvector("x"), T.dvector("y")
    out = ifelse(c, x, y)
    shapes = out.owner.op.infer_shape(out.owner, [(), (T.constant(2),), (T.constant(5),)])
    f = workbench.function([c], shapes[0][0])
    assert int(f(1.0)) == 2 and int(f(0.0)) == 5
