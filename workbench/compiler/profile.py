"""Per-node timings of a compiled function: ``workbench.function(..., profile=True)``.

A :class:`ProfileStats` belongs to one compiled function (``f.profile``). Each call of the
function adds the wall time of the whole call, and the backend's VM adds, node by node, the
time the node took and the shapes it saw. The stats read back as rows per node and per op
class, as a text summary in the spirit of Theano's profiler, as JSON data and as a Chrome
trace (opens in https://ui.perfetto.dev or chrome://tracing).

The contract for a backend's VM is one method, ``run_profiled(stats)``: run the graph like
``run()`` and, for each node it runs, call
``stats.record_node(index, seconds, in_shapes, out_shapes, start)`` where ``index`` is the
node's position in ``stats.nodes`` (the VM's own node order, ``vm.nodes``).

>>> import numpy as np
>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> f = workbench.function([x], T.exp(x), profile=True)
>>> _ = f(np.ones(1000)); _ = f(np.ones(1000))
>>> f.profile.calls
2
>>> [(row['op'], row['calls']) for row in f.profile.by_node()]
[('Elemwise{exp}', 2)]
>>> 'Apply' in f.profile.summary()
True
"""
from __future__ import annotations

import atexit
import json
import time
from collections import deque
from typing import Any, Sequence

from .graph import Apply

PROFILE_SCHEMA = "workbench.profile/v1"

Shape = tuple[int, ...] | None


def value_shapes(values: Sequence[Any]) -> list[Shape]:
    """The shape of each value (``None`` for values without one): what ``record_node`` takes."""
    return [getattr(v, "shape", None) for v in values]


class ProfileStats:
    """Timings of one compiled function, accumulated over its calls.

    ``nodes`` are the Apply nodes in the order the VM runs them, ``node_ids`` their ids in the
    graph record (so a view can light them up on the drawing), ``compile_seconds`` the
    compile time by rewrite pass. ``keep_calls`` bounds the memory of the Chrome trace: only
    the events of the last ``keep_calls`` calls are kept.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> y = T.exp(x)
    >>> stats = ProfileStats('f', [y.owner], ['n1'], 'python', {'merge': 0.001})
    >>> stats.record_node(0, 0.002, [(3,)], [(3,)])
    >>> stats.record_call(0.0025)
    >>> row = stats.by_node()[0]
    >>> row['op'], row['calls'], row['out_shapes']
    ('Elemwise{exp}', 1, [(3,)])
    """

    def __init__(self, fn_name: str | None, nodes: list[Apply], node_ids: list[str],
                 backend: str, compile_seconds: dict[str, float],
                 compile_total: float | None = None, keep_calls: int = 100):
        if len(nodes) != len(node_ids):
            raise ValueError(f"ProfileStats: {len(nodes)} nodes but {len(node_ids)} node ids")
        self.fn_name = fn_name or "<unnamed>"
        self.nodes = list(nodes)
        self.node_ids = list(node_ids)
        self.backend = backend
        self.compile_seconds = dict(compile_seconds)
        #: the whole compile (graph building, rewriting, linking); None when not known
        self.compile_total = compile_total
        self.calls = 0
        #: total wall time of the calls (input checks and output copies included)
        self.call_seconds = 0.0
        n = len(self.nodes)
        self.node_seconds = [0.0] * n
        self.node_calls = [0] * n
        self.in_shapes: list[list[Shape] | None] = [None] * n
        self.out_shapes: list[list[Shape] | None] = [None] * n
        self.in_dtypes = [[getattr(v.type, "dtype", None) for v in node.inputs] for node in nodes]
        self.out_dtypes = [[getattr(v.type, "dtype", None) for v in node.outputs]
                           for node in nodes]
        self.op_texts = [str(node.op) for node in nodes]
        self.op_classes = [type(node.op).__name__ for node in nodes]
        # timestamps in the Chrome trace count from here
        self._origin = time.perf_counter()
        # (node index, start, seconds) of the call in progress; closed by record_call
        self._pending: list[tuple[int, float | None, float]] = []
        self._recent: deque = deque(maxlen=keep_calls)
        _ALL_STATS.append(self)

    # -- recording (the hot path: keep it cheap) ---------------------------------------------

    def record_node(self, index: int, seconds: float, in_shapes: list[Shape] | None = None,
                    out_shapes: list[Shape] | None = None, start: float | None = None) -> None:
        """Node ``index`` ran for ``seconds``, on inputs and outputs of these shapes.
        ``start`` is its ``time.perf_counter()`` start time (for the Chrome trace; when
        omitted, nodes are laid end to end from the start of the call)."""
        self.node_seconds[index] += seconds
        self.node_calls[index] += 1
        if in_shapes is not None:
            self.in_shapes[index] = in_shapes
        if out_shapes is not None:
            self.out_shapes[index] = out_shapes
        self._pending.append((index, start, seconds))

    def record_call(self, seconds: float, start: float | None = None) -> None:
        """A whole call took ``seconds``, starting at ``start`` (``time.perf_counter()``)."""
        if start is None:
            start = time.perf_counter() - seconds
        self.calls += 1
        self.call_seconds += seconds
        # nodes left over from a call that raised started before this one: drop them
        events = [e for e in self._pending if e[1] is None or e[1] >= start]
        self._pending = []
        self._recent.append((start, seconds, events))

    def reset(self) -> None:
        """Forget every call recorded so far (the compile times stay)."""
        n = len(self.nodes)
        self.calls, self.call_seconds = 0, 0.0
        self.node_seconds, self.node_calls = [0.0] * n, [0] * n
        self.in_shapes, self.out_shapes = [None] * n, [None] * n
        self._pending = []
        self._recent.clear()

    # -- reading -----------------------------------------------------------------------------

    @property
    def node_total(self) -> float:
        """Seconds spent inside the nodes, over all calls."""
        return sum(self.node_seconds)

    @property
    def overhead(self) -> float:
        """Seconds of the calls not spent in nodes: input checks, output copies, the VM."""
        return max(self.call_seconds - self.node_total, 0.0)

    def by_node(self) -> list[dict]:
        """One row per node, slowest first: ``id``, ``index`` (execution order), ``op``,
        ``op_class``, ``seconds``, ``calls``, ``per_call``, ``share`` (of the time in nodes),
        ``in_shapes``/``out_shapes`` (last seen) and ``in_dtypes``/``out_dtypes``."""
        total = self.node_total
        rows = []
        for i in range(len(self.nodes)):
            seconds, calls = self.node_seconds[i], self.node_calls[i]
            rows.append({
                "id": self.node_ids[i], "index": i, "op": self.op_texts[i],
                "op_class": self.op_classes[i], "seconds": seconds, "calls": calls,
                "per_call": seconds / calls if calls else 0.0,
                "share": seconds / total if total > 0 else 0.0,
                "in_shapes": self.in_shapes[i], "out_shapes": self.out_shapes[i],
                "in_dtypes": self.in_dtypes[i], "out_dtypes": self.out_dtypes[i],
            })
        rows.sort(key=lambda r: (-r["seconds"], r["index"]))
        return rows

    def by_op_class(self) -> list[dict]:
        """Nodes aggregated by their op's class, slowest first: ``op_class``, ``seconds``,
        ``calls``, ``per_call``, ``share``, ``nodes`` (how many nodes of that class)."""
        total = self.node_total
        groups: dict[str, dict] = {}
        for i, cls in enumerate(self.op_classes):
            g = groups.setdefault(cls, {"op_class": cls, "seconds": 0.0, "calls": 0, "nodes": 0})
            g["seconds"] += self.node_seconds[i]
            g["calls"] += self.node_calls[i]
            g["nodes"] += 1
        rows = list(groups.values())
        for g in rows:
            g["per_call"] = g["seconds"] / g["calls"] if g["calls"] else 0.0
            g["share"] = g["seconds"] / total if total > 0 else 0.0
        rows.sort(key=lambda r: (-r["seconds"], r["op_class"]))
        return rows

    def summary(self, n: int = 20) -> str:
        """A text report: function time, time in nodes, overhead, the ``Class`` and
        ``Apply`` sections (the ``n`` slowest rows of each) and compile time by pass."""
        calls = self.calls
        total = self.node_total
        lines = [
            "Function profiling",
            "==================",
            f"  Function: {self.fn_name} (backend {self.backend})",
            f"  Time in {calls} calls to Function.__call__: {self.call_seconds:.6e}s",
        ]
        if calls:
            lines.append(f"  Time per call: {self.call_seconds / calls:.6e}s")
        if self.call_seconds > 0:
            lines.append(f"  Time in nodes: {total:.6e}s "
                         f"({100 * total / self.call_seconds:.1f}% of the calls)")
            lines.append(f"  Overhead (input checks, output copies, VM): {self.overhead:.6e}s "
                         f"({100 * self.overhead / self.call_seconds:.1f}%)")
        else:
            lines.append(f"  Time in nodes: {total:.6e}s")
        lines.append(f"  Nodes: {len(self.nodes)}")
        lines += ["", "Compile time", "------------"]
        if self.compile_total is not None:
            lines.append(f"  Total compile time: {self.compile_total:.6e}s")
        lines.append(f"  Rewrite passes: {sum(self.compile_seconds.values()):.6e}s")
        for name, seconds in self.compile_seconds.items():
            lines.append(f"    {seconds:.6e}s  {name}")

        lines += ["", "Class", "-----",
                  "<% time> <sum %> <node time> <time per call> <#call> <#apply> <Class name>"]
        cum = 0.0
        classes = self.by_op_class()
        for row in classes[:n]:
            cum += row["share"]
            lines.append(f"  {100 * row['share']:5.1f}%  {100 * cum:5.1f}%  "
                         f"{row['seconds']:.3e}s  {row['per_call']:.3e}s  {row['calls']:6d}  "
                         f"{row['nodes']:4d}  {row['op_class']}")
        if len(classes) > n:
            lines.append(f"   ... ({len(classes) - n} more classes)")

        lines += ["", "Apply", "-----",
                  "<% time> <sum %> <node time> <time per call> <#call> <id> <Apply name> "
                  "<output shapes>"]
        cum = 0.0
        rows = self.by_node()
        for row in rows[:n]:
            cum += row["share"]
            shapes = ", ".join(_shape_text(s) for s in row["out_shapes"] or [])
            lines.append(f"  {100 * row['share']:5.1f}%  {100 * cum:5.1f}%  "
                         f"{row['seconds']:.3e}s  {row['per_call']:.3e}s  {row['calls']:6d}  "
                         f"{row['index']:4d}  {row['op']}  {shapes}")
        if len(rows) > n:
            lines.append(f"   ... ({len(rows) - n} more nodes)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (f"<ProfileStats {self.fn_name}: {self.calls} calls, "
                f"{self.call_seconds:.3e}s, {len(self.nodes)} nodes>")

    def to_dict(self) -> dict:
        """The stats as JSON data (schema ``workbench.profile/v1``)."""
        def rows_json(rows: list[dict]) -> list[dict]:
            return [{k: _json_shapes(v) if k.endswith("shapes") else v for k, v in r.items()}
                    for r in rows]

        return {
            "schema": PROFILE_SCHEMA, "function": self.fn_name, "backend": self.backend,
            "calls": self.calls, "call_seconds": self.call_seconds,
            "node_seconds": self.node_total, "overhead_seconds": self.overhead,
            "compile_seconds": dict(self.compile_seconds), "compile_total": self.compile_total,
            "nodes": rows_json(self.by_node()), "classes": self.by_op_class(),
        }

    def chrome_trace(self) -> dict:
        """The last recorded calls in Chrome's trace event format: one complete event
        (``"ph": "X"``) per call and one per node run inside it, times in microseconds."""
        events: list[dict] = []
        pid, tid = 1, 1
        for start, seconds, nodes in self._recent:
            events.append({"name": self.fn_name, "cat": "call", "ph": "X", "pid": pid,
                           "tid": tid, "ts": self._us(start), "dur": seconds * 1e6,
                           "args": {"backend": self.backend}})
            cursor = start
            for index, node_start, node_seconds in nodes:
                begin = node_start if node_start is not None else cursor
                cursor = begin + node_seconds
                events.append({
                    "name": self.op_texts[index], "cat": self.op_classes[index], "ph": "X",
                    "pid": pid, "tid": tid, "ts": self._us(begin), "dur": node_seconds * 1e6,
                    "args": {"node": self.node_ids[index], "index": index,
                             "out_shapes": _json_shapes(self.out_shapes[index])}})
        return {"traceEvents": events, "displayTimeUnit": "ms",
                "otherData": {"function": self.fn_name, "backend": self.backend,
                              "schema": PROFILE_SCHEMA}}

    def save_chrome_trace(self, path: str) -> str:
        """Write :meth:`chrome_trace` as JSON to ``path`` (returned); open it in Perfetto."""
        with open(path, "w") as fh:
            json.dump(self.chrome_trace(), fh)
        return path

    def _us(self, t: float) -> float:
        return (t - self._origin) * 1e6


def _shape_text(shape: Shape) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _json_shapes(shapes: list[Shape] | None) -> list | None:
    if shapes is None:
        return None
    return [None if s is None else [int(d) for d in s] for s in shapes]


def profile_for(fn: Any) -> ProfileStats:
    """A fresh ProfileStats for the compiled function ``fn``, over its VM's nodes, with
    compile times from ``fn.trace``."""
    from .graphrecord import node_id

    vm = fn.vm
    nodes = list(vm.nodes)
    backend = getattr(vm, "backend", None) or type(vm).__name__.removesuffix("VM").lower()
    trace = fn.trace
    passes = {p.name: p.seconds for p in trace.passes} if trace is not None else {}
    return ProfileStats(fn.name, nodes, [node_id(n) for n in nodes], backend, passes,
                        compile_total=getattr(fn.maker, "compile_time", None))


# Every ProfileStats made in this process, for config.print_global_stats at exit.
_ALL_STATS: list[ProfileStats] = []


def global_summary(n: int = 20) -> str:
    """The summaries of every profiled function that was called, one after the other."""
    return "\n\n".join(s.summary(n) for s in _ALL_STATS if s.calls)


@atexit.register
def _print_global_stats() -> None:
    from ..config import config

    if config.print_global_stats:
        text = global_summary()
        if text:
            print(text)
