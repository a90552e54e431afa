"""The graph IR: variables, constants, Apply, Op equality, walks, cloning, FunctionGraph."""
from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.fgraph import FunctionGraph
from workbench.compiler.graph import (Apply, Constant, Op, Variable, ancestors, clone_graph,
                                      graph_inputs, io_toposort, is_in_ancestors)
from workbench.compiler.types import TensorType


class Scale(Op):
    """A tiny op with a parameter, to check the Op contract's generic parts."""

    __props__ = ("factor",)

    def __init__(self, factor):
        self.factor = factor

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0] * self.factor, dtype=inputs[0].dtype)


def test_op_equality_and_hash_follow_props():
    assert Scale(2) == Scale(2) and hash(Scale(2)) == hash(Scale(2))
    assert Scale(2) != Scale(3)
    assert str(Scale(2)) == "Scale{factor=2}" == repr(Scale(2))


def test_op_call_and_perform():
    x = T.dvector("x")
    y = Scale(3)(x)
    assert isinstance(y, Variable) and y.owner.op == Scale(3)
    np.testing.assert_array_equal(y.eval({x: [1.0, 2.0]}), [3.0, 6.0])


def test_op_base_methods_raise_clearly():
    with pytest.raises(NotImplementedError, match="make_node"):
        Op().make_node()
    with pytest.raises(NotImplementedError, match="perform"):
        Op().perform(None, [], [])


def test_repr_uses_subclass_str():
    x = T.dscalar("x")
    y = x + 1
    assert repr(y.owner.op) == "Elemwise{add}"
    assert str(y) == "Elemwise{add}.0"
    assert str(y.owner) == "Elemwise{add}(x, 1.0)"


def test_apply_links_outputs():
    x = T.dscalar("x")
    y = T.exp(x)
    node = y.owner
    assert node.inputs == [x] and node.outputs == [y] and node.out is y
    assert y.index == 0 and node.nin == 1 and node.nout == 1
    assert node.default_output() is y
    with pytest.raises(ValueError, match="already has an owner"):
        Apply(Scale(1), [x], [y])


def test_variable_names_and_str():
    v = T.dvector("v")
    assert str(v) == "v"
    assert str(T.dvector()) == "<TensorType(float64, vector)>"
    c = T.constant(np.arange(100))
    assert len(str(c)) < 20


def test_constant_signature_merges_equal_data():
    a, b = T.constant([1, 2]), T.constant([1, 2])
    assert a.signature() == b.signature()
    assert a.signature() != T.constant([1, 3]).signature()
    assert a.signature() != T.constant(np.array([1, 2], dtype="int32")).signature()
    assert isinstance(a, Constant) and a.clone().signature() == a.signature()


def test_source_line_is_the_users_line():
    x = T.dscalar("x")
    y = x * 2  # THIS LINE
    line = y.owner.source
    assert line.filename == __file__
    assert "THIS LINE" in line.text()
    assert line.function == "test_source_line_is_the_users_line"
    assert x.source.filename == __file__
    assert line.to_json()["line"] == line.lineno


def test_walks():
    x, y = T.dscalars("x", "y")
    a = x + y
    b = T.exp(a) * x
    assert set(map(id, graph_inputs([b]))) >= {id(x), id(y)}
    blocked = graph_inputs([b], blockers=[a])
    assert len(blocked) == 2 and blocked[0] is a and blocked[1] is x
    order = io_toposort([x, y], [b])
    assert order.index(a.owner) < order.index(b.owner.inputs[0].owner) < order.index(b.owner)
    assert is_in_ancestors(b, x) and not is_in_ancestors(a, b)
    assert b in ancestors([b])


def test_toposort_is_iterative():
    """A deep chain must not hit Python's recursion limit."""
    x = T.dscalar("x")
    y = x
    for _ in range(3000):
        y = T.neg(y)
    assert len(io_toposort([x], [y])) == 3000
    assert float(workbench.function([x], y)(2.0)) == 2.0


def test_clone_graph():
    x, y, z = T.dscalars("x", "y", "z")
    out = x * y + 1
    ins, outs, memo = clone_graph([x, y], [out])
    assert ins[0] is not x and ins[0].type == x.type and ins[0].name == "x"
    assert outs[0] is not out and outs[0].type == out.type
    _, outs2, _ = clone_graph([x], [out], replace={y: z}, copy_inputs=False)
    assert z in ancestors(outs2) and y not in ancestors(outs2)
    # replacing with a different static type rebuilds the node's type
    v = T.TensorType("float64", (3,))("v")
    w = T.dvector("w")
    _, (o,), _ = clone_graph([w], [w * 2], replace={w: v}, copy_inputs=False)
    assert o.type.shape == (3,)


def test_function_graph():
    x = T.dvector("x")
    out = T.exp(x) + 1
    fg = FunctionGraph([x], [out])
    assert [str(n.op) for n in fg.toposort()] == ["Elemwise{exp}", "Elemwise{add}"]
    assert fg.outputs[0] is not out  # a clone
    exp_out = fg.toposort()[0].outputs[0]
    assert fg.clients[exp_out] == [(fg.toposort()[1], 0)]
    new = T.log(fg.inputs[0])
    fg.replace(exp_out, new)
    assert [str(n.op) for n in fg.toposort()] == ["Elemwise{log}", "Elemwise{add}"]
    with pytest.raises(TypeError, match="cannot replace"):
        fg.replace(new, T.fvector())


def test_variable_eval():
    x, y = T.dscalars("x", "y")
    assert float((x + y).eval({x: 1.0, y: 2.0})) == 3.0
    m, n = T.matrix("x"), T.matrix("y")
    np.testing.assert_array_equal((m + n).eval({m: [[1, 2], [1, 3]], n: [[1, 0], [3, 4]]}),
                                  [[2, 2], [4, 7]])
    assert float(T.constant(2.0).eval()) == 2.0
    s = workbench.shared(np.float64(3.0))
    assert float((s * 2).eval()) == 6.0
    # eval caches its compiled function per set of inputs
    expr = x * 3
    expr.eval({x: 1.0})
    assert len(expr._eval_cache) == 1
    expr.eval({x: 2.0})
    assert len(expr._eval_cache) == 1


def test_variable_clone():
    x = T.dvector("x")
    c = x.clone()
    assert c is not x and c.type == x.type and c.name == "x" and c.owner is None
    assert isinstance(c, type(x))
    assert TensorType("int8", ())("q").clone().dtype == "int8"
