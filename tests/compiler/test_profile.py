"""The profiler: function(..., profile=True), ProfileStats, the Chrome trace."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.profile import ProfileStats
from workbench.ifelse import ifelse


# Most tests run the Python backend: building C for every fresh graph would make them
# slow on a cold cache. The timing test runs both backends.
PY = workbench.Mode(linker="py")


def _heavy_function(mode=PY, **kwargs):
    x = T.dvector('x')
    a, b = T.dmatrices('a', 'b')
    cost = (T.exp(x) * 2 + T.sin(x)).sum() + T.dot(a, b).sum()
    return workbench.function([x, a, b], cost, profile=True, mode=mode, **kwargs)


def _heavy_args(rng):
    return rng.random(10 ** 6), rng.random((300, 300)), rng.random((300, 300))


def test_unprofiled_function_has_no_profile():
    x = T.dvector('x')
    assert workbench.function([x], x * 2, mode=PY).profile is None


@pytest.mark.parametrize("mode", [PY, None], ids=["python", "default"])
def test_node_times_sum_to_the_call_time(rng, mode):
    f = _heavy_function(mode)
    args = _heavy_args(rng)
    measured = 0.0
    for _ in range(3):
        start = time.perf_counter()
        f(*args)
        measured += time.perf_counter() - start
    stats = f.profile
    assert stats.calls == 3
    assert all(calls == 3 for calls in stats.node_calls)
    # the nodes do almost all the work; the Function's own bookkeeping is small
    assert abs(stats.node_total - measured) <= 0.1 * measured
    assert abs(stats.call_seconds - measured) <= 0.1 * measured
    assert stats.overhead == pytest.approx(stats.call_seconds - stats.node_total)
    dot = stats.op_classes.index("Dot")
    assert stats.out_shapes[dot] == [(300, 300)]
    events = stats.chrome_trace()["traceEvents"]
    assert len(events) == 3 * (1 + len(stats.nodes))


def test_rows_are_sorted_and_carry_shapes(rng):
    f = _heavy_function()
    f(*_heavy_args(rng))
    rows = f.profile.by_node()
    assert [r["seconds"] for r in rows] == sorted((r["seconds"] for r in rows), reverse=True)
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    dot = next(r for r in rows if r["op_class"] == "Dot")
    assert dot["in_shapes"] == [(300, 300), (300, 300)]
    assert dot["out_shapes"] == [(300, 300)]
    assert dot["out_dtypes"] == ["float64"]
    assert dot["per_call"] == dot["seconds"]
    fgraph_ids = {f"n{n.id}" for n in f.maker.fgraph.toposort()}
    assert {r["id"] for r in rows} == fgraph_ids


def test_by_op_class_aggregates_nodes(rng):
    f = _heavy_function()
    f(*_heavy_args(rng))
    stats = f.profile
    classes = stats.by_op_class()
    assert {c["op_class"] for c in classes} == set(stats.op_classes)
    for c in classes:
        members = [i for i, cls in enumerate(stats.op_classes) if cls == c["op_class"]]
        assert c["nodes"] == len(members)
        assert c["seconds"] == pytest.approx(sum(stats.node_seconds[i] for i in members))


def test_summary_has_the_sections(rng):
    f = _heavy_function(name="heavy")
    f(*_heavy_args(rng))
    text = f.profile.summary()
    for section in ("Function profiling", "Time in 1 calls", "Time in nodes", "Overhead",
                    "Compile time", "Class", "Apply"):
        assert section in text
    assert "heavy" in text
    for name in ("merge", "fusion"):
        assert name in text  # compile time by pass, from f.trace
    for cls in f.profile.op_classes:
        assert cls in text
    assert f.profile.compile_seconds == {p.name: p.seconds for p in f.trace.passes}


def test_summary_limits_rows():
    x = T.dvector('x')
    f = workbench.function([x], [T.exp(x), T.sin(x), T.cos(x)], profile=True,
                           mode=workbench.Mode(optimizer="fast_compile"))
    f(np.ones(3))
    assert "more nodes" in f.profile.summary(n=1)


def test_chrome_trace_events_are_valid(tmp_path, rng):
    f = _heavy_function()
    for _ in range(2):
        f(*_heavy_args(rng))
    trace = f.profile.chrome_trace()
    events = trace["traceEvents"]
    n_nodes = len(f.profile.nodes)
    assert len(events) == 2 * (1 + n_nodes)
    for e in events:
        assert e["ph"] == "X"
        for key in ("ts", "dur", "name", "pid", "tid"):
            assert key in e
        assert e["dur"] >= 0
    calls = [e for e in events if e["cat"] == "call"]
    nodes = [e for e in events if e["cat"] != "call"]
    # every node event lies inside its call's event
    for call in calls:
        inside = [e for e in nodes if call["ts"] <= e["ts"] <= call["ts"] + call["dur"]]
        assert len(inside) == n_nodes
        assert all(e["ts"] + e["dur"] <= call["ts"] + call["dur"] + 1 for e in inside)
    path = f.profile.save_chrome_trace(str(tmp_path / "trace.json"))
    assert json.loads(open(path).read()) == json.loads(json.dumps(trace))


def test_chrome_trace_keeps_only_recent_calls():
    x = T.dvector('x')
    f = workbench.function([x], T.exp(x), profile=True, mode=PY)
    f.profile._recent = type(f.profile._recent)(maxlen=3)
    for _ in range(10):
        f(np.ones(4))
    calls = [e for e in f.profile.chrome_trace()["traceEvents"] if e["cat"] == "call"]
    assert len(calls) == 3
    assert f.profile.calls == 10


def test_lazy_ifelse_records_only_the_nodes_that_ran():
    c = T.dscalar('c')
    x = T.dvector('x')
    out = ifelse(T.lt(c, 0), T.exp(x).sum(), T.cos(x).sum())
    f = workbench.function([c, x], out, profile=True,
                           mode=workbench.Mode(optimizer="fast_compile"))
    f(-1.0, np.ones(5))
    stats = f.profile
    ran = {stats.op_texts[i] for i, n in enumerate(stats.node_calls) if n}
    idle = {stats.op_texts[i] for i, n in enumerate(stats.node_calls) if not n}
    assert "Elemwise{exp}" in ran and "Elemwise{cos}" in idle
    events = f.profile.chrome_trace()["traceEvents"]
    assert not any(e["name"] == "Elemwise{cos}" for e in events)
    f(1.0, np.ones(5))
    assert stats.node_calls[stats.op_texts.index("Elemwise{cos}")] == 1
    assert stats.node_calls[stats.op_texts.index("Elemwise{exp}")] == 1
    assert stats.node_calls[stats.op_classes.index("IfElse")] == 2


def test_lazy_op_time_excludes_its_branch():
    c = T.dscalar('c')
    x = T.dvector('x')
    out = ifelse(T.lt(c, 0), T.exp(x).sum(), T.cos(x).sum())
    f = workbench.function([c, x], out, profile=True,
                           mode=workbench.Mode(optimizer="fast_compile"))
    f(-1.0, np.ones(10 ** 6))
    stats = f.profile
    own = stats.node_seconds[stats.op_classes.index("IfElse")]
    branch = stats.node_seconds[stats.op_texts.index("Elemwise{exp}")]
    assert own < branch
    assert stats.node_total <= stats.call_seconds


def test_config_profile_profiles_every_function():
    x = T.dvector('x')
    with workbench.config.change_flags(profile=True):
        f = workbench.function([x], x + 1, mode=PY)
    assert isinstance(f.profile, ProfileStats)


def test_copy_can_add_a_profile():
    x = T.dvector('x')
    f = workbench.function([x], x * 3, mode=PY)
    g = f.copy(profile=True)
    assert f.profile is None and g.profile is not None
    assert g(np.ones(2)).tolist() == [3.0, 3.0]
    assert g.profile.calls == 1


def test_failed_call_is_not_counted():
    x = T.dvector('x')
    y = T.dvector('y')
    f = workbench.function([x, y], x + y, profile=True, mode=PY)
    with pytest.raises(Exception):
        f(np.ones(2), np.ones(3))
    f(np.ones(2), np.ones(2))
    assert f.profile.calls == 1
    calls = [e for e in f.profile.chrome_trace()["traceEvents"] if e["cat"] != "call"]
    assert len(calls) == len(f.profile.nodes)


def test_to_dict_is_json(rng):
    f = _heavy_function()
    f(*_heavy_args(rng))
    data = json.loads(json.dumps(f.profile.to_dict()))
    assert data["schema"] == "workbench.profile/v1"
    assert data["calls"] == 1
    assert len(data["nodes"]) == len(f.profile.nodes)
    dot = next(r for r in data["nodes"] if r["op_class"] == "Dot")
    assert dot["out_shapes"] == [[300, 300]]


def test_print_global_stats_at_exit():
    code = ("import numpy as np, workbench\n"
            "from workbench import tensor as T\n"
            "x = T.dvector('x')\n"
            "f = workbench.function([x], T.exp(x), name='exiting')\n"
            "f(np.ones(3))\n")
    env = dict(os.environ, WORKBENCH_FLAGS="profile=True,print_global_stats=True,linker=py")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Function profiling" in out.stdout and "exiting" in out.stdout
