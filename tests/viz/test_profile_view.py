"""ProfileView: tables from the profile, sorting, the bar chart, the Chrome trace export."""
import importlib.util
import json
import re

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.viz.profile_view import SORT_KEYS, ProfileView

# the Python backend: no C build per fresh graph (the view reads any backend's profile)
PY = workbench.Mode(linker="py")


@pytest.fixture
def view(rng):
    x = T.dvector('x')
    a = T.dmatrix('a')
    outs = [T.exp(x) * 2, T.dot(a, a).sum(), T.tanh(x).sum()]
    f = workbench.function([x, a], outs, name="mixed", mode=PY)
    return ProfileView(f, rng.random(20000), rng.random((120, 120)), n=4)


def test_unprofiled_function_gets_a_profiled_copy(rng):
    x = T.dvector('x')
    f = workbench.function([x], T.exp(x), mode=PY)
    view = ProfileView(f, np.ones(10), n=3)
    assert f.profile is None
    assert view.stats.calls == 3


def test_profiled_function_is_used_as_is():
    x = T.dvector('x')
    f = workbench.function([x], T.exp(x), profile=True, mode=PY)
    f(np.ones(10))
    view = ProfileView(f, np.ones(10), n=2)
    assert view.stats is f.profile
    assert f.profile.calls == 3


def test_shared_updates_are_restored():
    w = workbench.shared(np.zeros(3), name="w")
    x = T.dvector('x')
    step = workbench.function([x], w.sum(), updates=[(w, w + x)], mode=PY)
    view = ProfileView(step, np.ones(3), n=5)
    assert view.stats.calls == 5
    assert w.get_value().tolist() == [0.0, 0.0, 0.0]


def test_rows_match_the_profile(view):
    stats = view.stats
    rows = view.rows()
    assert len(rows) == len(stats.nodes)
    for row in rows:
        i = row["index"]
        assert row["id"] == stats.node_ids[i]
        assert row["seconds"] == stats.node_seconds[i]
        assert row["calls"] == stats.node_calls[i] == 4
    table = view.node_table()
    assert table.count("<tr>") == len(rows) + 1
    for row in rows:
        assert row["id"] in table
    classes = view.class_rows()
    assert {c["op_class"] for c in classes} == set(stats.op_classes)


def test_sorting_reorders_rows(view):
    by_time = [r["index"] for r in view.rows("time")]
    by_order = [r["index"] for r in view.rows("order")]
    assert by_order == sorted(by_order)
    seconds = [r["seconds"] for r in view.rows("time")]
    assert seconds == sorted(seconds, reverse=True)
    assert sorted(by_time) == by_order
    ops = [r["op"] for r in view.rows("op")]
    assert ops == sorted(ops)
    # the table follows the chosen sort: node ids appear in that order
    table = view.node_table("order")
    positions = [table.index(f">{view.stats.node_ids[i]}<") for i in by_order]
    assert positions == sorted(positions)
    with pytest.raises(ValueError, match="cannot sort"):
        view.rows("colour")


def test_html_has_bar_chart_every_class_and_compile_passes(view):
    page = view.html()
    assert 'class="wb-bars"' in page
    assert page.count("<rect") >= len(view.stats.nodes)
    for cls in view.stats.op_classes:
        assert cls in page
    for name in view.stats.compile_seconds:
        assert name in page
    # static table sorted by time: the slowest node's id comes first
    ids = re.findall(r"<td>(n\d+)</td>", page)
    assert ids[0] == view.stats.by_node()[0]["id"]


def test_save_chrome_trace(view, tmp_path):
    path = view.save_chrome_trace(str(tmp_path / "t.json"))
    events = json.load(open(path))["traceEvents"]
    assert sum(e["cat"] == "call" for e in events) == 4


def test_widget_dropdown_sorts_the_table(view):
    pytest.importorskip("ipywidgets")
    widget = view.widget
    tables = view._tables
    before = tables.value
    dropdown = next(c for c in widget.children if getattr(c, "options", None))
    assert set(dropdown.options) == {(label, key) for key, (label, _, _) in SORT_KEYS.items()}
    dropdown.value = "order"
    assert view.sort_by == "order"
    assert tables.value != before
    assert view.node_table("order") in tables.value
    view.sort("calls")
    assert dropdown.value == "calls"


def test_widget_saves_a_trace(view, tmp_path):
    pytest.importorskip("ipywidgets")
    view.widget
    view._path.value = str(tmp_path / "w.json")
    view._save.click()
    assert (tmp_path / "w.json").exists()
    assert "saved" in view._saved.value


def test_mimebundle(view):
    bundle = view._repr_mimebundle_()
    assert "Function profiling" in bundle["text/plain"]
    assert bundle["text/html"] == view.html()
    if importlib.util.find_spec("ipywidgets") is None:
        return
    assert "model_id" in bundle["application/vnd.jupyter.widget-view+json"]
