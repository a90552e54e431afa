"""PassExplorer: stepping through a compiled function's passes, with and without widgets."""
import importlib
import re
import shutil
from collections import OrderedDict

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.viz import PassExplorer

draw_module = importlib.import_module("workbench.viz.draw")
PY = workbench.Mode(linker="py")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def logistic():
    """Logistic regression with a gradient step, as in the Theano tutorial."""
    x = T.dmatrix('x')
    y = T.dvector('y')
    w = workbench.shared(np.zeros(3), name='w')
    b = workbench.shared(0.0, name='b')
    p = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p) - (1 - y) * T.log(1 - p)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    return workbench.function([x, y], [p > 0.5, xent], mode=PY,
                              updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])


@pytest.fixture
def twice():
    x = T.dvector('x')
    return workbench.function([x], T.exp(x) + T.exp(x), mode=PY)


def changed_passes(f):
    return [p.name for p in f.trace.passes if p.events or p.nodes_before != p.nodes_after]


def controls(explorer):
    prev, slider, nxt, label = explorer.widget.children[0].children
    checkbox, page = explorer.widget.children[1:]
    return prev, slider, nxt, label, checkbox, page


def test_steps_are_the_initial_graph_then_every_pass(logistic):
    explorer = PassExplorer(logistic)
    assert explorer.steps == ["initial"] + [p.name for p in logistic.trace.passes]
    assert explorer.current == "initial"
    html = explorer.current_html()
    assert f"{len(logistic.trace.initial)} apply nodes, before any pass" in html


def test_changed_only_keeps_the_passes_that_changed_the_graph(twice, logistic):
    assert PassExplorer(twice, changed_only=True).steps == ["initial", "merge", "fusion"]
    explorer = PassExplorer(logistic)
    explorer.changed_only = True
    assert explorer.steps == ["initial"] + changed_passes(logistic)
    assert len(explorer.steps) < len(logistic.trace.passes) + 1 or \
        all(p.events for p in logistic.trace.passes)


def test_showing_a_pass_shows_its_rewrites_and_diff(twice):
    explorer = PassExplorer(twice)
    explorer.show("merge")
    merge = twice.trace["merge"]
    html = explorer.current_html()
    assert "pass 1/" in html and "merge" in html
    assert f"nodes {merge.nodes_before} → {merge.nodes_after}" in html
    assert f"{merge.seconds * 1e3:.2f} ms" in html
    # the merge dropped one exp and rewired the add: 1 removed, 0 added, 1 changed
    assert "1 removed (red), 0 added (green), 1 changed (orange)" in html
    assert merge.events[0].replaced[0] in html
    explorer.show(explorer.steps.index("fusion"))
    html = explorer.current_html()
    assert "elemwise_fusion" in html and "removed (red), 1 added (green)" in html


def test_summary_table_lists_every_pass(logistic):
    rows = PassExplorer(logistic, changed_only=True).summary_table()
    assert [r["name"] for r in rows] == [p.name for p in logistic.trace.passes]
    for row, p in zip(rows, logistic.trace.passes):
        assert (row["seconds"], row["before"], row["after"]) == \
            (p.seconds, p.nodes_before, p.nodes_after)
        assert row["rules"] == p.rule_counts()
    assert [r["name"] for r in rows if r["changed"]] == changed_passes(logistic)


def test_static_html_has_every_pass_and_details_for_changed_ones(logistic):
    html = PassExplorer(logistic).html()
    for p in logistic.trace.passes:
        assert f"<td>{p.name}</td>" in html
    summaries = re.findall(r'<details class="[^"]*wb-pass"><summary>([^<]*)</summary>', html)
    assert summaries[0].startswith("initial graph")
    assert [s.split(":")[0] for s in summaries[1:]] == changed_passes(logistic)
    for rule in logistic.trace.fired():
        assert rule in html


def test_unknown_steps_are_refused(twice):
    explorer = PassExplorer(twice, changed_only=True)
    with pytest.raises(KeyError, match="no step 'canonicalize' in view"):
        explorer.show("canonicalize")
    with pytest.raises(IndexError):
        explorer.show(len(explorer.steps))
    with pytest.raises(ValueError, match="pass trace"):
        PassExplorer(object())


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz (dot) not installed")
def test_svg_of_a_pass_names_its_ops(logistic):
    explorer = PassExplorer(logistic)
    k = explorer.steps.index("stabilize")
    explorer.show(k)
    html = explorer.current_html()
    assert html.count("<svg") == 2  # before and after, side by side
    after_svg = html[html.rindex("<svg"):]
    after = explorer.record(k)
    labels = {n["id"]: n["label"] for n in after["nodes"]}
    for event in logistic.trace["stabilize"].events:
        for nid in event.created:
            assert f'id="{nid}"' in after_svg
            assert labels[nid] in after_svg
    assert "Elemwise{sigmoid}" in after_svg and "Elemwise{softplus}" in after_svg
    before_svg = html[html.index("<svg"):html.rindex("<svg")]
    assert "Elemwise{sigmoid}" not in before_svg and "Elemwise{log}" in before_svg


def test_without_dot_steps_show_text_diffs(twice, monkeypatch):
    monkeypatch.setattr(draw_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(draw_module, "_svg_cache", OrderedDict())
    explorer = PassExplorer(twice)
    explorer.show("merge")
    html = explorer.current_html()
    assert "<svg" not in html
    assert re.search(r"- n\d+: float64\[\?\] = Elemwise\{exp\}\(x\)", html)
    assert html.count("apt-get install graphviz") == 2  # one hint per graph


def test_slider_buttons_and_checkbox_drive_the_page(logistic):
    pytest.importorskip("ipywidgets")
    explorer = PassExplorer(logistic)
    prev, slider, nxt, label, checkbox, page = controls(explorer)
    assert page.value == explorer.current_html() and "initial graph" in page.value
    k = explorer.steps.index("specialize")
    slider.value = k
    assert explorer.current == "specialize" and "specialize" in label.value
    assert page.value == explorer.current_html() and "local_gemv" in page.value
    nxt.click()
    assert slider.value == k + 1 and explorer.current == explorer.steps[k + 1]
    prev.click()
    prev.click()
    assert explorer.current == explorer.steps[k - 1]
    assert page.value == explorer.step_html(k - 1)

    explorer.show("fusion")
    assert slider.value == explorer.steps.index("fusion")
    assert "elemwise_fusion" in page.value
    checkbox.value = True
    assert explorer.changed_only and explorer.steps == ["initial"] + changed_passes(logistic)
    assert slider.max == len(explorer.steps) - 1
    assert explorer.current == "fusion" and "elemwise_fusion" in page.value
    explorer.changed_only = False
    assert checkbox.value is False and slider.max == len(logistic.trace.passes)


def test_filtering_out_the_current_pass_moves_to_the_one_before(twice):
    pytest.importorskip("ipywidgets")
    explorer = PassExplorer(twice)
    *_, checkbox, page = controls(explorer)
    explorer.show("canonicalize")  # changes nothing in exp(x) + exp(x)
    checkbox.value = True
    assert explorer.current == "merge" and "merge" in page.value


def test_mimebundle_has_text_static_html_and_the_widget(twice):
    pytest.importorskip("ipywidgets")
    explorer = PassExplorer(twice)
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == twice.trace.summary()
    assert bundle["text/html"] == explorer.html()
    assert bundle[WIDGET_MIME]["model_id"] == explorer.widget.model_id
    assert set(explorer._repr_mimebundle_(exclude=[WIDGET_MIME])) == {"text/plain", "text/html"}
