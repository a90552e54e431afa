"""The rewrite engine: FunctionGraph changes, features, the pass pipeline and its trace."""
from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.fgraph import Feature, FunctionGraph, InconsistencyError
from workbench.compiler.graphrecord import graph_record, load_schema
from workbench.compiler.rewrite.features import DestroyHandler, ShapeFeature
from workbench.compiler.rewrite.pipeline import build_passes

SCHEMA = load_schema()


def _ops(f):
    return [str(n.op) for n in f.maker.fgraph.toposort()]


# -- FunctionGraph ----------------------------------------------------------------------------

def test_replace_prunes_dead_nodes_and_imports_new_ones():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x) * 2])
    xi = fg.inputs[0]
    old_out = fg.outputs[0]
    fg.replace(old_out, T.sin(xi) + 1)
    assert sorted(str(n.op) for n in fg.apply_nodes) == ["Elemwise{add}", "Elemwise{sin}"]
    assert old_out not in fg.variables
    assert all(c[0] != "output" for c in fg.clients.get(xi, []))


def test_replace_rejects_a_different_type():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)])
    with pytest.raises(TypeError, match="cannot replace"):
        fg.replace(fg.outputs[0], T.dmatrix())


def test_replace_validate_reverts_on_refusal():
    class Refuse(Feature):
        def validate(self, fgraph):
            if any("sin" in str(n.op) for n in fgraph.apply_nodes):
                raise InconsistencyError("no sin allowed")

    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)], features=[Refuse()])
    before = [str(n.op) for n in fg.toposort()]
    with pytest.raises(InconsistencyError):
        fg.replace_validate(fg.outputs[0], T.sin(fg.inputs[0]))
    assert [str(n.op) for n in fg.toposort()] == before


def test_features_hear_imports_and_prunes():
    seen = []

    class Listen(Feature):
        def on_import(self, fgraph, node, reason):
            seen.append(("import", str(node.op), reason))

        def on_prune(self, fgraph, node, reason):
            seen.append(("prune", str(node.op), reason))

    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)], features=[Listen()])
    fg.replace(fg.outputs[0], T.cos(fg.inputs[0]), reason="test")
    assert ("import", "Elemwise{cos}", "test") in seen
    assert ("prune", "Elemwise{exp}", "test") in seen


def test_a_rewrite_may_not_bring_in_a_free_variable():
    x, y = T.dvector("x"), T.dvector("y")
    fg = FunctionGraph([x], [T.exp(x)])
    with pytest.raises(workbench.MissingInputError):
        fg.replace(fg.outputs[0], y)


def test_shape_feature_gives_shapes_from_input_shapes():
    x, y = T.dmatrix("x"), T.dvector("y")
    fg = FunctionGraph([x, y], [T.dot(T.exp(x), y)], features=[ShapeFeature()])
    shape = fg.get_feature(ShapeFeature).shape_of(fg.outputs[0])
    f = workbench.function([x, y], list(shape), on_unused_input="ignore")
    assert [int(v) for v in f(np.zeros((3, 4)), np.zeros(4))] == [3]


# -- destroy handling -------------------------------------------------------------------------

def test_destroy_handler_protects_inputs_shared_and_multiply_read_values():
    x = T.dvector("x")
    s = workbench.shared(np.zeros(3), name="s")
    e = T.exp(x)
    sx = T.sin(x)
    fg = FunctionGraph([x, s], [e + 1, T.exp(s) * 2, (sx + 1) * sx])
    dh = DestroyHandler()
    fg.attach_feature(dh)
    nodes = {str(n.op): n for n in fg.toposort()}
    add_node = [n for n in fg.toposort() if str(n.op) == "Elemwise{add}"
                and "exp" in str(n.inputs[0].owner.op if n.inputs[0].owner else "")][0]
    assert dh.can_destroy(add_node, 0)          # exp(x) is read only by the add
    assert not dh.can_destroy(nodes["Elemwise{exp}"], 0)   # x is a graph input
    exp_s = [n for n in fg.toposort() if n.inputs[0] is fg.inputs[1]][0]
    assert not dh.can_destroy(exp_s, 0)         # shared storage
    sin_node = [n for n in fg.toposort() if str(n.op) == "Elemwise{sin}"][0]
    sin_reader = fg.clients[sin_node.outputs[0]][0][0]
    assert not dh.can_destroy(sin_reader, sin_reader.inputs.index(sin_node.outputs[0]))


def test_mutable_inputs_may_be_destroyed():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x)])
    dh = DestroyHandler(mutable=[fg.inputs[0]])
    fg.attach_feature(dh)
    assert dh.can_destroy(fg.toposort()[0], 0)


# -- the pipeline and its selection ------------------------------------------------------------

def test_modes_select_passes():
    assert [p.name for p in build_passes(None)] == []
    assert [p.name for p in build_passes("fast_compile")] == ["merge", "constant_folding"]
    names = [p.name for p in build_passes("fast_run")]
    assert names[:5] == ["merge", "constant_folding", "canonicalize", "stabilize",
                         "specialize"]
    assert names[-1] == "final_merge"
    assert "merge" not in [p.name for p in build_passes("fast_run", excluding=("merge",))]


def test_excluding_a_rewrite_by_name_and_by_tag():
    x = T.dvector("x")
    expr = x + T.exp(T.constant(0.0))
    on = workbench.function([x], expr)
    assert "constant_folding" in on.trace.fired()
    by_name = workbench.function([x], expr, mode=workbench.Mode().excluding("constant_folding"))
    assert "constant_folding" not in by_name.trace.fired()
    with workbench.change_flags(optimizer_excluding=("constant_folding",)):
        by_flag = workbench.function([x], expr)
    assert "constant_folding" not in by_flag.trace.fired()
    for f in (on, by_name, by_flag):
        np.testing.assert_allclose(f([1.0, 2.0]), [2.0, 3.0])


def test_optimizer_none_leaves_the_graph_alone():
    x = T.dvector("x")
    f = workbench.function([x], T.exp(x) + T.exp(x), mode=workbench.Mode(optimizer=None))
    assert _ops(f).count("Elemwise{exp}") == 2
    assert f.trace.passes == []


def test_merge_common_subexpressions_and_constants():
    x = T.dvector("x")
    f = workbench.function([x], T.exp(x) + T.exp(x))
    after_merge = [str(n.op) for n, _ in f.trace["merge"].snapshot.order]
    assert after_merge.count("Elemwise{exp}") == 1
    assert f.trace["merge"].rule_counts().get("merge") == 1
    np.testing.assert_allclose(f([0.0, 1.0]), 2 * np.exp([0.0, 1.0]))
    g = workbench.function([x], (x + np.float64(2.0)) * (x - np.float64(2.0)),
                           mode=workbench.Mode(optimizer="fast_compile"))
    consts = {id(v) for n in g.maker.fgraph.toposort() for v in n.inputs
              if isinstance(v, workbench.Constant)}
    assert len(consts) == 1


def test_constant_folding():
    x = T.dvector("x")
    f = workbench.function([x], x * (T.exp(T.constant(1.0)) + 1))
    assert "Elemwise{exp}" not in _ops(f)
    np.testing.assert_allclose(f([1.0]), [np.e + 1])


# -- the trace ---------------------------------------------------------------------------------

def test_trace_records_every_pass_with_schema_valid_snapshots():
    x, y = T.dvector("x"), T.dvector("y")
    f = workbench.function([x, y], T.exp(x) * y + T.exp(x) + T.log(T.constant(1.0)))
    trace = f.trace
    assert trace is f.maker.trace
    data = json.loads(trace.to_json())
    assert data["schema"] == "workbench.trace/v1"
    jsonschema.validate(data["initial"], SCHEMA)
    for p in data["passes"]:
        assert p["seconds"] >= 0
        jsonschema.validate(p["graph"], SCHEMA)
        for event in p["rewrites"]:
            assert event["rule"]
    last = data["passes"][-1]["graph"]
    assert len([n for n in last["nodes"] if n["kind"] == "apply"]) == len(f.maker.fgraph)
    merge = trace["merge"]
    assert merge.events and merge.events[0].replaced


def test_trace_node_ids_survive_passes():
    x = T.dvector("x")
    f = workbench.function([x], T.exp(x) + T.exp(T.constant(0.0)))
    before = {n["id"] for n in f.trace.initial.record()["nodes"]}
    after = {n["id"] for n in f.trace.passes[-1].snapshot.record()["nodes"]}
    assert before & after  # untouched nodes keep their ids
    folded = f.trace["constant_folding"].events
    assert folded and all(r in before for e in folded for r in e.replaced)


def test_graph_record_is_schema_valid_and_self_contained():
    x = T.dmatrix("x")
    s = workbench.shared(np.ones(3), name="s")
    rec = graph_record([x], [T.dot(x, s) + 1])
    jsonschema.validate(rec, SCHEMA)
    ids = {n["id"] for n in rec["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in rec["edges"])
    kinds = {n["kind"] for n in rec["nodes"]}
    assert kinds == {"input", "constant", "apply", "output"}
    assert any(n.get("shared") for n in rec["nodes"])
    assert any(n["source"] and n["source"]["file"].endswith("test_engine.py")
               for n in rec["nodes"] if n["kind"] == "apply")


def test_rewritten_nodes_keep_the_users_source_line():
    x = T.dvector("x")
    y = x + T.exp(T.constant(0.0))  # the line the user wrote
    line = y.owner.source.lineno
    f = workbench.function([x], y)
    (node,) = f.maker.fgraph.toposort()
    assert node.source.lineno == line
