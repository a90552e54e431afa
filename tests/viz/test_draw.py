"""Graph drawing from the graph record: DOT, SVG, the text fallback, diffs, rich reprs."""
import importlib
import re
import shutil
from collections import OrderedDict

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.graphrecord import graph_record
from workbench.viz import diff_records, draw, graph_html, record_text, record_to_dot
from workbench.viz import mime

# the package exports the function draw(), which hides the module of the same name
draw_module = importlib.import_module("workbench.viz.draw")

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz (dot) not installed")
PY = workbench.Mode(linker="py")


def node_line(dot, nid):
    """The DOT statement declaring node ``nid``."""
    return next(line for line in dot.splitlines() if line.strip().startswith(f'"{nid}" ['))


def attr(line, name):
    match = re.search(rf'\b{name}="((?:[^"\\]|\\.)*)"', line)
    return match.group(1) if match else None


@pytest.fixture
def mixed():
    """A graph with every node kind: input, shared, constant, apply, output."""
    x = T.dmatrix('x')
    w = workbench.shared(np.zeros(3), name='w')
    y = T.exp(T.dot(x, w)) * 2.0
    return x, w, y, graph_record([x], [y])


@pytest.fixture
def merge_step():
    """exp(x) + exp(x): the merge pass drops one exp and rewires the add."""
    x = T.dvector('x')
    f = workbench.function([x], T.exp(x) + T.exp(x), mode=PY)
    p = f.trace['merge']
    return f.trace.initial.record(), p.snapshot.record(), p


@pytest.fixture
def no_dot(monkeypatch):
    """As on a machine without graphviz."""
    monkeypatch.setattr(draw_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(draw_module, "_svg_cache", OrderedDict())


def test_node_kinds_are_styled_distinctly(mixed):
    x, w, y, rec = mixed
    dot = record_to_dot(rec)
    by_kind = {}
    for n in rec["nodes"]:
        kind = "shared" if n.get("shared") else n["kind"]
        line = node_line(dot, n["id"])
        by_kind.setdefault(kind, set()).add((attr(line, "shape"), attr(line, "fillcolor")))
    assert set(by_kind) == {"input", "shared", "constant", "apply", "output"}
    styles = [s for kind_styles in by_kind.values() for s in kind_styles]
    # one style per kind, and no two kinds alike
    assert all(len(s) == 1 for s in by_kind.values()) and len(set(styles)) == 5


def test_labels_show_op_name_dtype_and_shape(mixed):
    x, w, y, rec = mixed
    dot = record_to_dot(rec)
    assert attr(node_line(dot, f"v{x.id}"), "label") == "x\\nfloat64[?, ?]"
    assert attr(node_line(dot, f"v{w.id}"), "label") == "w\\nfloat64[?]"
    exp_node = y.owner.inputs[0].owner
    assert attr(node_line(dot, f"n{exp_node.id}"), "label") == "Elemwise{exp}\\nfloat64[?]"
    # every node's id is its record id, so the SVG can be searched by it
    for n in rec["nodes"]:
        assert attr(node_line(dot, n["id"]), "id") == n["id"]


def test_edges_are_labelled_by_input_index_only_for_several_inputs(mixed):
    x, w, y, rec = mixed
    dot = record_to_dot(rec)
    dot_node, mul_node = y.owner.inputs[0].owner.inputs[0].owner, y.owner
    edges = {(s, t): line for s, t, line in
             re.findall(r'^\s*"(\w+)" -> "(\w+)" \[(.*)\];$', dot, re.M)}
    assert attr(edges[(f"v{x.id}", f"n{dot_node.id}")], "label") == "0"
    assert attr(edges[(f"v{w.id}", f"n{dot_node.id}")], "label") == "1"
    exp_id = f"n{y.owner.inputs[0].owner.id}"
    assert attr(edges[(exp_id, f"n{mul_node.id}")], "label") == "0"
    # exp has one input: no label
    assert attr(edges[(f"n{dot_node.id}", exp_id)], "label") is None


def test_title_and_labels_are_escaped_for_dot():
    x = T.dvector('say "hi"\\')
    dot = record_to_dot(graph_record([x], [T.exp(x)]), title='a "title"')
    assert 'label="a \\"title\\""' in dot
    assert 'say \\"hi\\"\\\\' in dot


def test_diff_of_the_merge_pass(merge_step):
    before, after, p = merge_step
    d = diff_records(before, after)
    assert d["removed"] == p.events[0].replaced
    assert d["added"] == []
    add_id = next(n["id"] for n in after["nodes"] if n["label"] == "Elemwise{add}")
    assert d["changed"] == [add_id]  # its second input now comes from the surviving exp
    merged = d["record"]
    assert {n["id"] for n in merged["nodes"]} == {n["id"] for n in before["nodes"]}
    assert {n["id"]: n.get("diff") for n in merged["nodes"]}[d["removed"][0]] == "removed"
    flags = sorted(e.get("diff", "") for e in merged["edges"] if e["target"] == add_id)
    assert flags == ["", "added", "removed"]


def test_diff_of_the_fusion_pass_adds_the_fused_node():
    x = T.dvector('x')
    f = workbench.function([x], T.exp(x) * 2 + x, mode=PY)
    k = [p.name for p in f.trace.passes].index("fusion")
    before, after = f.trace.passes[k - 1].snapshot.record(), f.trace.passes[k].snapshot.record()
    d = diff_records(before, after)
    created = [nid for e in f.trace.passes[k].events for nid in e.created]
    kinds = {n["id"]: n["kind"] for n in after["nodes"]}
    assert created and {nid for nid in d["added"] if kinds[nid] == "apply"} == set(created)
    assert set(d["removed"]) >= {nid for e in f.trace.passes[k].events for nid in e.replaced}
    # the union is in topological order: every edge goes forward
    order = {n["id"]: i for i, n in enumerate(d["record"]["nodes"])}
    assert all(order[e["source"]] < order[e["target"]] for e in d["record"]["edges"])


def test_diff_colours_in_dot(merge_step):
    before, after, p = merge_step
    d = diff_records(before, after)
    removed_line = node_line(record_to_dot(before, d), d["removed"][0])
    assert "dashed" in attr(removed_line, "style") and attr(removed_line, "color") == "#d62728"
    changed_line = node_line(record_to_dot(after, d), d["changed"][0])
    assert attr(changed_line, "color") == "#ff7f0e"
    rec = d["record"]
    added = dict(rec, nodes=rec["nodes"] + [dict(rec["nodes"][0], id="n999999")])
    line = node_line(record_to_dot(added, {"added": ["n999999"]}), "n999999")
    assert attr(line, "color") == "#2ca02c"


def test_record_text_lists_every_node_and_marks_a_diff(merge_step):
    before, after, p = merge_step
    text = record_text(before)
    assert text.splitlines()[0] == "input x: float64[?]"
    assert text.count("= Elemwise{exp}(x)") == 2
    assert text.splitlines()[-1].startswith("output 0: float64[?] = n")
    d = diff_records(before, after)
    marked = record_text(d["record"], d).splitlines()
    assert [line[0] for line in marked].count("-") == 1
    assert any(line.startswith("~ ") and "Elemwise{add}" in line for line in marked)


@needs_dot
def test_svg_has_node_ids_and_op_names(mixed):
    x, w, y, rec = mixed
    html = graph_html(rec)
    assert html.startswith('<div class="wb-graph"><svg')
    for n in rec["nodes"]:
        assert f'id="{n["id"]}"' in html
    assert "Elemwise{exp}" in html and "Dot" in html


@needs_dot
def test_svg_is_cached_by_dot_text(mixed, monkeypatch):
    dot = record_to_dot(mixed[3], title="cache test")
    first = draw_module.dot_to_svg(dot)

    def no_second_run(*args, **kwargs):
        raise AssertionError("dot ran again for the same text")

    monkeypatch.setattr(draw_module.subprocess, "run", no_second_run)
    assert draw_module.dot_to_svg(dot) is first


def test_without_dot_the_graph_is_text_with_a_one_line_hint(mixed, no_dot):
    rec = mixed[3]
    assert draw_module.dot_to_svg(record_to_dot(rec)) is None
    html = graph_html(rec)
    assert "<svg" not in html and "Elemwise{exp}" in html
    assert html.count("apt-get install graphviz") == 1
    bundle = draw(mixed[2])._repr_mimebundle_()
    assert "image/svg+xml" not in bundle and "<pre" in bundle["text/html"]


def test_draw_accepts_variables_functions_and_records(mixed):
    x, w, y, rec = mixed
    assert draw(rec).record is rec
    assert draw(y).record["nodes"] == rec["nodes"]
    two = draw([y, T.exp(x)]).record
    assert [n["label"] for n in two["nodes"] if n["kind"] == "output"] == ["output 0", "output 1"]
    f = workbench.function([x], y, updates=[(w, w + 1)], mode=PY)
    labels = [n["label"] for n in draw(f).record["nodes"] if n["kind"] == "output"]
    assert labels == ["output 0", "update w"]
    applies = {n["id"] for n in draw(f).record["nodes"] if n["kind"] == "apply"}
    assert applies == {f"n{node.id}" for node in f.maker.fgraph.toposort()}
    bundle = draw(y)._repr_mimebundle_()
    assert "Elemwise{exp}" in bundle["text/plain"] and "text/html" in bundle
    with pytest.raises(TypeError, match="cannot draw"):
        draw(42)


def test_variable_rich_repr_draws_its_graph(mixed):
    x, w, y, rec = mixed
    bundle = y._repr_mimebundle_()
    assert bundle["text/plain"] == repr(y)
    assert "Elemwise{exp}" in bundle["text/html"]
    if shutil.which("dot"):
        assert bundle["image/svg+xml"].startswith("<svg")
    assert set(y._repr_mimebundle_(include=["text/plain"])) == {"text/plain"}
    assert "text/html" not in y._repr_mimebundle_(exclude=["text/html"])
    assert repr(y) == str(y) == "Elemwise{mul}.0"


def test_function_rich_repr_has_a_summary_line():
    x = T.dvector('x')
    f = workbench.function([x], T.exp(x) + T.exp(x), name="twice", mode=PY)
    bundle = f._repr_mimebundle_()
    assert bundle["text/plain"] == repr(f) == "<workbench.Function twice(x)>"
    summary = mime.function_summary(f)
    assert summary.startswith("twice(x: float64[?]) -> float64[?]")
    assert "3 → 1 nodes" in summary and "backend python" in summary
    assert "Composite" in bundle["text/html"]


def test_a_failure_while_drawing_falls_back_to_text(mixed, monkeypatch):
    def broken(obj):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(mime, "as_record", broken)
    y = mixed[2]
    assert y._repr_mimebundle_() == {"text/plain": repr(y)}
    x = T.dvector('x')
    f = workbench.function([x], T.exp(x), mode=PY)
    assert f._repr_mimebundle_() == {"text/plain": repr(f)}


def test_large_graphs_show_as_text_in_automatic_displays(mixed, monkeypatch):
    monkeypatch.setattr(mime, "MAX_AUTO_NODES", 1)
    bundle = mixed[2]._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert "<svg" not in bundle["text/html"] and "draw(...) draws it" in bundle["text/html"]
