"""PassExplorer: step through the rewrite passes of a compiled function.

Reads the function's PassTrace (``f.trace``): step 0 is the graph before any pass, step k
the graph after pass k. For each pass it shows the name, wall time, node counts, the rewrites
that fired and the graphs before and after it side by side, coloured by what changed.

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> explorer = PassExplorer(workbench.function([x], T.exp(x) + T.exp(x)), changed_only=True)
>>> explorer.steps
['initial', 'merge', 'fusion']
>>> explorer.show('fusion')
>>> 'elemwise_fusion' in explorer.current_html()
True
"""
from __future__ import annotations

from typing import Any

from . import html as H
from .diff import diff_records
from .draw import graph_html, relabel, update_labels

INITIAL = "initial"
_MAX_OPEN_EVENTS = 20


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def _rules_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{rule}×{n}" for rule, n in sorted(counts.items()))


class PassExplorer:
    """Step through ``f.trace`` (a compiled function's, or a PassTrace given directly).

    ``steps`` names the steps in view (``'initial'``, then pass names); ``show(i)`` moves to
    step ``i`` (an index into ``steps`` or a pass name); ``current_html()`` is what is shown;
    ``summary_table()`` lists every pass. ``changed_only=True`` keeps only the passes that
    changed the graph. In a notebook the explorer is a slider with prev/next buttons; saved
    notebooks keep a static page (``html()``).
    """

    def __init__(self, f: Any, changed_only: bool = False):
        trace = getattr(f, "trace", f)
        if trace is None or not hasattr(trace, "passes"):
            raise ValueError("PassExplorer needs a compiled function with a pass trace "
                             "(workbench.function(...)) or a PassTrace")
        self.trace = trace
        # a function knows which of its outputs are updates; a bare trace does not
        self._labels_of_outputs = update_labels(f) if hasattr(f, "maker") else {}
        self._records: dict[int, dict] = {}
        self._pages: dict[int, str] = {}
        self._changed_only = changed_only
        self._view = self._steps_in_view()
        self._position = 0
        self._widget: Any = None
        self._syncing = False

    # -- the data ----------------------------------------------------------------------
    def _name(self, step: int) -> str:
        return INITIAL if step == 0 else self.trace.passes[step - 1].name

    def _pass_changed(self, step: int) -> bool:
        p = self.trace.passes[step - 1]
        return p.changed or p.nodes_before != p.nodes_after

    def _steps_in_view(self) -> list[int]:
        steps = range(1, len(self.trace.passes) + 1)
        return [0] + [s for s in steps if not self._changed_only or self._pass_changed(s)]

    def record(self, step: int) -> dict:
        """The graph record after step ``step`` (0: before any pass) of the whole trace."""
        if step not in self._records:
            snapshot = self.trace.initial if step == 0 else self.trace.passes[step - 1].snapshot
            if snapshot is None:
                if step == 0:
                    raise ValueError("the trace has no initial snapshot")
                self._records[step] = self.record(step - 1)
            else:
                self._records[step] = relabel(snapshot.record(), self._labels_of_outputs)
        return self._records[step]

    @property
    def steps(self) -> list[str]:
        """The names of the steps in view: ``'initial'``, then the passes."""
        return [self._name(s) for s in self._view]

    @property
    def current(self) -> str:
        """The name of the step shown now."""
        return self._name(self._view[self._position])

    @property
    def changed_only(self) -> bool:
        return self._changed_only

    @changed_only.setter
    def changed_only(self, value: bool) -> None:
        step = self._view[self._position]
        self._changed_only = bool(value)
        self._view = self._steps_in_view()
        # stay on the same pass, or on the nearest one before it still in view
        position = max(i for i, s in enumerate(self._view) if s <= step)
        if self._widget is not None:
            # a smaller max clamps the slider's value first: ignore that intermediate move
            self._syncing = True
            try:
                self._checkbox.value = self._changed_only
                self._slider.max = len(self._view) - 1
                self._slider.value = position
            finally:
                self._syncing = False
        self._position = position
        if self._widget is not None:
            self._refresh()

    def show(self, i: int | str) -> None:
        """Move to step ``i``: an index into ``steps``, or a step's name."""
        if isinstance(i, str):
            names = self.steps
            if i not in names:
                raise KeyError(f"no step {i!r} in view; steps: {', '.join(names)}")
            i = names.index(i)
        if not 0 <= i < len(self._view):
            raise IndexError(f"step {i} is out of range: there are {len(self._view)} steps")
        self._position = i
        if self._widget is not None:
            self._slider.value = i
            self._refresh()  # the slider's observer runs only when its value changes

    def summary_table(self) -> list[dict]:
        """One row per pass (all of them, whatever the filter): ``name``, ``seconds``,
        ``before``, ``after`` (node counts), ``rules`` (rule → times fired), ``changed``."""
        return [{"name": p.name, "seconds": p.seconds, "before": p.nodes_before,
                 "after": p.nodes_after, "rules": p.rule_counts(),
                 "changed": self._pass_changed(k)}
                for k, p in enumerate(self.trace.passes, start=1)]

    # -- HTML --------------------------------------------------------------------------
    def _labels(self, *records: dict) -> dict[str, str]:
        labels = {}
        for record in records:
            for n in record["nodes"]:
                text = n["label"] if len(n["label"]) <= 40 else n["label"][:37] + "..."
                labels[n["id"]] = f"{n['id']} {text}"
        return labels

    def _rewrites_html(self, step: int) -> str:
        p = self.trace.passes[step - 1]
        if not p.events:
            return H.hint("no rewrite fired")
        labels = self._labels(self.record(step - 1), self.record(step))

        def names(ids: list[str]) -> str:
            return ", ".join(labels.get(i, i) for i in ids)

        counts = H.table(["rule", "fired"], sorted(p.rule_counts().items()))
        events = H.table(["#", "rule", "node", "replaced", "created"],
                         [[k, e.rule, labels.get(e.node, e.node), names(e.replaced),
                           names(e.created)] for k, e in enumerate(p.events, start=1)])
        return counts + H.details(f"{len(p.events)} rewrites, in order", events,
                                  open=len(p.events) <= _MAX_OPEN_EVENTS, cls="wb-details")

    def _step_body(self, step: int) -> str:
        if step == 0:
            record = self.record(0)
            n = len(self.trace.initial) if self.trace.initial is not None else 0
            return (f"<h4>initial graph</h4><div>{n} apply nodes, before any pass</div>"
                    + graph_html(record))
        p = self.trace.passes[step - 1]
        before, after = self.record(step - 1), self.record(step)
        diff = diff_records(before, after)
        head = (f"<h4>pass {step}/{len(self.trace.passes)}: {H.escape(p.name)}</h4>"
                f"<div>{_ms(p.seconds)} · nodes {p.nodes_before} → {p.nodes_after}"
                f" · tags: {H.escape(', '.join(p.tags))}</div>")
        if not (diff["removed"] or diff["added"] or diff["changed"]):
            return head + self._rewrites_html(step) + H.hint("the graph is unchanged") + \
                graph_html(after)
        legend = (f"<div>{len(diff['removed'])} removed (red), {len(diff['added'])} added "
                  f"(green), {len(diff['changed'])} changed (orange)</div>")
        graphs = H.columns(graph_html(before, diff, f"before {p.name}"),
                           graph_html(after, diff, f"after {p.name}"))
        return head + self._rewrites_html(step) + legend + graphs

    def step_html(self, step: int) -> str:
        """The page of one step of the whole trace (0: the initial graph, k: pass k)."""
        if step not in self._pages:
            self._pages[step] = H.view(self._step_body(step))
        return self._pages[step]

    def current_html(self) -> str:
        """The HTML shown for the current step."""
        return self.step_html(self._view[self._position])

    def summary_html(self) -> str:
        rows = [[r["name"], round(r["seconds"] * 1e3, 2), r["before"], r["after"],
                 _rules_text(r["rules"])] for r in self.summary_table()]
        return H.table(["pass", "ms", "nodes before", "after", "rules fired"], rows)

    def html(self) -> str:
        """The static page: the summary table, the initial graph, and for each pass that
        changed the graph its rewrites and the graph after it."""
        passes = self.trace.passes
        first = passes[0].nodes_before if passes else 0
        last = passes[-1].nodes_after if passes else 0
        parts = [f"<h4>pass trace: {len(passes)} passes, {_ms(self.trace.seconds)}, "
                 f"nodes {first} → {last}</h4>", self.summary_html(),
                 H.details(f"initial graph ({first} nodes)", graph_html(self.record(0)),
                           cls="wb-details wb-pass")]
        for step, p in enumerate(passes, start=1):
            if not self._pass_changed(step):
                continue
            diff = diff_records(self.record(step - 1), self.record(step))
            body = self._rewrites_html(step) + graph_html(self.record(step), diff,
                                                          f"after {p.name}")
            summary = (f"{p.name}: {p.nodes_before} → {p.nodes_after} nodes, "
                       f"{_rules_text(p.rule_counts())}")
            parts.append(H.details(summary, body, cls="wb-details wb-pass"))
        return H.view("".join(parts))

    # -- widget ------------------------------------------------------------------------
    @property
    def widget(self) -> Any:
        """The ipywidgets form: prev/next buttons and a slider over the steps, a filter
        checkbox, and the page of the current step (an ``HTML`` widget)."""
        if self._widget is None:
            import ipywidgets as W

            self._slider = W.IntSlider(value=self._position, min=0, max=len(self._view) - 1,
                                       description="step", continuous_update=False)
            prev = W.Button(description="◀ prev", layout=W.Layout(width="80px"))
            nxt = W.Button(description="next ▶", layout=W.Layout(width="80px"))
            self._label = W.HTML()
            self._checkbox = W.Checkbox(value=self._changed_only, indent=False,
                                        description="only passes that changed something")
            self._page = W.HTML()
            prev.on_click(lambda _: self.show(max(self._position - 1, 0)))
            nxt.on_click(lambda _: self.show(min(self._position + 1, len(self._view) - 1)))
            self._slider.observe(self._on_slider, names="value")
            self._checkbox.observe(self._on_checkbox, names="value")
            self._widget = W.VBox([W.HBox([prev, self._slider, nxt, self._label]),
                                   self._checkbox, self._page])
            self._refresh()
        return self._widget

    def _on_slider(self, change: dict) -> None:
        if self._syncing:
            return
        self._position = min(change["new"], len(self._view) - 1)
        self._refresh()

    def _on_checkbox(self, change: dict) -> None:
        if change["new"] != self._changed_only:
            self.changed_only = change["new"]

    def _refresh(self) -> None:
        self._label.value = f"<b>{H.escape(self.current)}</b>"
        self._page.value = self.current_html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        from .mime import view_mimebundle

        return view_mimebundle(self, self.trace.summary(), include, exclude)

    def __repr__(self) -> str:
        return f"<PassExplorer: {len(self.trace.passes)} passes, at {self.current!r}>"
