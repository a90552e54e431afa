"""ProfileView: where a compiled function spends its time, node by node and op class by class.

It reads only the profiler's record (:class:`~workbench.compiler.profile.ProfileStats`):
time, calls, time per call, share of the time in nodes and the shapes each node saw, as tables
(sortable in the widget), a bar chart of the slowest nodes, the compile time by rewrite pass,
and an export to a Chrome trace (opens in https://ui.perfetto.dev).

>>> import numpy as np
>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> f = workbench.function([x], T.exp(x) * 2)
>>> view = ProfileView(f, np.ones(1000), n=3)
>>> view.stats.calls, f.profile is None
(3, True)
>>> [row['op_class'] for row in view.class_rows()]
['Elemwise']
"""
from __future__ import annotations

from typing import Any

from . import html as H
from .mime import add_widget_view

#: the columns a table can be sorted by: label, key in a row, whether larger comes first
SORT_KEYS: dict[str, tuple[str, str, bool]] = {
    "time": ("total time", "seconds", True),
    "per_call": ("time per call", "per_call", True),
    "calls": ("calls", "calls", True),
    "share": ("share", "share", True),
    "op": ("op", "op", False),
    "order": ("execution order", "index", False),
}


def _seconds(value: float) -> str:
    """A duration with a readable unit."""
    if value >= 1:
        return f"{value:.3f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3f} ms"
    return f"{value * 1e6:.1f} µs"


def _shapes(shapes: list | None) -> str:
    if not shapes:
        return ""
    return ", ".join("?" if s is None else "(" + ", ".join(map(str, s))
                     + ("," if len(s) == 1 else "") + ")" for s in shapes)


def bar_chart(items: list[tuple[str, float]], title: str = "", width: int = 520) -> str:
    """Horizontal bars as inline SVG (no plotting library, renders without a kernel): one
    bar per ``(label, seconds)``, scaled to the largest.

    >>> bar_chart([("dot", 0.002), ("exp", 0.001)]).count("<rect")
    2
    """
    if not items:
        return H.hint("nothing to chart")
    label_w, value_w, row_h = 260, 90, 18
    bar_w = width - label_w - value_w
    top = max(seconds for _, seconds in items) or 1.0
    parts = []
    for i, (label, seconds) in enumerate(items):
        y = i * row_h
        text = label if len(label) <= 40 else label[:37] + "..."
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="11">'
            f'{H.escape(text)}<title>{H.escape(label)}</title></text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{max(bar_w * seconds / top, 1):.1f}" '
            f'height="{row_h - 6}" fill="#4a7fc1"/>'
            f'<text x="{label_w + bar_w + 6}" y="{y + 13}" font-size="11">'
            f'{H.escape(_seconds(seconds))}</text>')
    height = row_h * len(items)
    caption = f"<div><b>{H.escape(title)}</b></div>" if title else ""
    return (f'{caption}<svg class="wb-bars" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" font-family="sans-serif">{"".join(parts)}</svg>')


class ProfileView:
    """Run ``f(*args)`` ``n`` times with profiling and show where the time went.

    When ``f`` was not compiled with ``profile=True``, a profiled copy is compiled
    (``f.copy(profile=True)``) and ``f`` itself is left untouched; when it was, its own
    ``f.profile`` is used (and keeps the calls it had before). The shared variables ``f``
    updates are restored after the runs, so viewing a training step does not train.
    """

    def __init__(self, f: Any, *args: Any, n: int = 10):
        if n < 1:
            raise ValueError(f"ProfileView: n must be at least 1, got {n}")
        self.function = f if getattr(f, "profile", None) is not None else f.copy(profile=True)
        saved = [(s, s.get_value(borrow=False)) for s in self.function.get_shared()]
        try:
            for _ in range(n):
                self.function(*args)
        finally:
            for svar, value in saved:
                svar.set_value(value, borrow=True)
        self.stats = self.function.profile
        self.sort_by = "time"
        self._widget = None

    # -- data ------------------------------------------------------------------------------

    def rows(self, by: str | None = None) -> list[dict]:
        """The per-node rows of the profile, sorted by ``by`` (a key of :data:`SORT_KEYS`;
        default: the current sort, initially time)."""
        return self._sorted(self.stats.by_node(), by)

    def class_rows(self, by: str | None = None) -> list[dict]:
        """The per-op-class rows, sorted like :meth:`rows` (``op`` sorts by class name)."""
        rows = [dict(r, op=r["op_class"], index=0) for r in self.stats.by_op_class()]
        return self._sorted(rows, by)

    def _sorted(self, rows: list[dict], by: str | None) -> list[dict]:
        by = by or self.sort_by
        if by not in SORT_KEYS:
            raise ValueError(f"cannot sort by {by!r}; choose one of {', '.join(SORT_KEYS)}")
        _, key, descending = SORT_KEYS[by]
        # stable: ties keep the profiler's order (slowest first)
        return sorted(rows, key=lambda r: r[key], reverse=descending)

    def sort(self, by: str) -> None:
        """Sort the tables by ``by`` (moves the widget's dropdown when there is one)."""
        self._sorted([], by)  # validates
        self.sort_by = by
        if self._widget is not None:
            self._dropdown.value = by

    def save_chrome_trace(self, path: str) -> str:
        """Write the last calls as a Chrome trace (open it in https://ui.perfetto.dev)."""
        return self.stats.save_chrome_trace(path)

    # -- HTML pieces -----------------------------------------------------------------------

    def header_html(self) -> str:
        s = self.stats
        per_call = s.call_seconds / s.calls if s.calls else 0.0
        in_nodes = 100 * s.node_total / s.call_seconds if s.call_seconds else 0.0
        return (f"<div><b>{H.escape(s.fn_name)}</b> &middot; backend {H.escape(s.backend)} "
                f"&middot; {s.calls} calls, {_seconds(per_call)} per call &middot; "
                f"{in_nodes:.1f}% of the time in {len(s.nodes)} nodes, overhead "
                f"{_seconds(s.overhead / s.calls if s.calls else 0.0)} per call</div>")

    def node_table(self, by: str | None = None) -> str:
        """The per-node table, sorted by ``by``."""
        rows = [[r["index"], r["id"], r["op"], _seconds(r["seconds"]), r["calls"],
                 _seconds(r["per_call"]), f"{100 * r['share']:.1f}%",
                 _shapes(r["in_shapes"]), _shapes(r["out_shapes"])]
                for r in self.rows(by)]
        return H.table(["#", "node", "op", "time", "calls", "per call", "share",
                        "input shapes", "output shapes"], rows)

    def class_table(self, by: str | None = None) -> str:
        """The per-op-class table, sorted by ``by``."""
        rows = [[r["op_class"], r["nodes"], _seconds(r["seconds"]), r["calls"],
                 _seconds(r["per_call"]), f"{100 * r['share']:.1f}%"]
                for r in self.class_rows(by)]
        return H.table(["op class", "nodes", "time", "calls", "per call", "share"], rows)

    def bars_html(self, top: int = 10) -> str:
        """A bar chart of the ``top`` slowest nodes."""
        rows = self.stats.by_node()[:top]
        return bar_chart([(f"{r['op']} [{r['id']}]", r["seconds"]) for r in rows],
                         f"slowest {len(rows)} nodes (total time over {self.stats.calls} calls)")

    def compile_html(self) -> str:
        """Compile time by rewrite pass, as a table and bars."""
        s = self.stats
        passes = list(s.compile_seconds.items())
        total = f", {_seconds(s.compile_total)} in all" if s.compile_total is not None else ""
        head = (f"<div>compile: {_seconds(sum(v for _, v in passes))} in rewrite "
                f"passes{total}</div>")
        return head + bar_chart(passes, "compile time by pass")

    def _tables_html(self, by: str | None = None) -> str:
        return ("<h4>Per node</h4>" + self.node_table(by)
                + "<h4>Per op class</h4>" + self.class_table(by))

    def html(self) -> str:
        """The static view: summary, tables sorted by time, bar charts, compile time."""
        return H.view(self.header_html() + self.bars_html() + self._tables_html("time")
                      + "<h4>Compile time</h4>" + self.compile_html()
                      + H.hint("save a Chrome trace with view.save_chrome_trace(path) "
                               "and open it in https://ui.perfetto.dev"))

    # -- widget ----------------------------------------------------------------------------

    @property
    def widget(self) -> Any:
        """The interactive form: a sort dropdown over the tables, the charts, and a button
        that saves a Chrome trace to the path in the text box."""
        if self._widget is None:
            import ipywidgets as W

            self._dropdown = W.Dropdown(
                options=[(label, key) for key, (label, _, _) in SORT_KEYS.items()],
                value=self.sort_by, description="sort by")
            self._tables = W.HTML(H.view(self._tables_html()))
            self._path = W.Text(value=f"{self.stats.fn_name.strip('<>')}.trace.json",
                                description="trace file")
            self._save = W.Button(description="Save Chrome trace")
            self._saved = W.HTML()

            def on_sort(change: dict) -> None:
                self.sort_by = change["new"]
                self._tables.value = H.view(self._tables_html())

            def on_save(_: Any) -> None:
                try:
                    path = self.save_chrome_trace(self._path.value)
                    self._saved.value = H.hint(f"saved {path}; open it in "
                                               f"https://ui.perfetto.dev")
                except OSError as exc:
                    self._saved.value = H.hint(f"could not save: {exc}")

            self._dropdown.observe(on_sort, names="value")
            self._save.on_click(on_save)
            self._widget = W.VBox([
                W.HTML(H.view(self.header_html() + self.bars_html())),
                self._dropdown, self._tables,
                W.HTML(H.view("<h4>Compile time</h4>" + self.compile_html())),
                W.HBox([self._path, self._save]), self._saved])
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        bundle = {"text/plain": self.stats.summary(), "text/html": self.html()}
        return add_widget_view(bundle, self, include, exclude)

    def __repr__(self) -> str:
        return f"<ProfileView {self.stats.fn_name}: {self.stats.calls} calls>"
