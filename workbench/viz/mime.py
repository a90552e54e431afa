"""Rich display payloads (Jupyter mimebundles) for variables, functions and views.

``Variable._repr_mimebundle_`` and ``Function._repr_mimebundle_`` call into this module
lazily, so a bare expression in a notebook cell draws its graph. Drawing must never break
display: any failure here falls back to the plain ``repr``.

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> bundle = variable_mimebundle(T.exp(x))
>>> bundle['text/plain'], 'Elemwise{exp}' in bundle['text/html']
('Elemwise{exp}.0', True)
>>> f = workbench.function([x], T.exp(x))
>>> function_mimebundle(f)['text/plain']
'<workbench.Function (x)>'
"""
from __future__ import annotations

import importlib.util
from typing import Any, Callable, Iterable

from . import html as H
from .draw import as_record, dot_to_svg, graph_html, record_text, record_to_dot, type_text

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: graphs larger than this show as text in automatic displays (dot gets slow);
#: ``workbench.viz.draw(x)`` draws them anyway
MAX_AUTO_NODES = 400


def filter_bundle(bundle: dict, include: Iterable[str] | None = None,
                  exclude: Iterable[str] | None = None) -> dict:
    """``bundle`` restricted to the mime types in ``include`` and not in ``exclude``."""
    if include:
        bundle = {k: v for k, v in bundle.items() if k in set(include)}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in set(exclude)}
    return bundle


def _safe(obj: Any, build: Callable[[], dict], include: Any, exclude: Any) -> dict:
    try:
        bundle = build()
    except Exception:  # noqa: BLE001 - display must not raise; repr is always there
        bundle = {"text/plain": repr(obj)}
    return filter_bundle(bundle, include, exclude)


def _graph_bundle(record: dict, caption_html: str, text: str) -> dict:
    apply_count = sum(1 for n in record["nodes"] if n["kind"] == "apply")
    bundle = {"text/plain": text}
    if apply_count > MAX_AUTO_NODES:
        body = H.pre(record_text(record)) + H.hint(
            f"{apply_count} nodes: shown as text; workbench.viz.draw(...) draws it")
        bundle["text/html"] = H.view(caption_html + body)
        return bundle
    svg = dot_to_svg(record_to_dot(record))
    bundle["text/html"] = H.view(caption_html + graph_html(record))
    if svg is not None:
        bundle["image/svg+xml"] = svg
    return bundle


def _var_type(var: Any) -> str:
    return type_text(getattr(var.type, "dtype", None), getattr(var.type, "shape", None))


def variable_mimebundle(var: Any, include: Any = None, exclude: Any = None) -> dict:
    """A variable's graph as ``text/html`` (SVG or text), ``image/svg+xml`` (with graphviz)
    and ``text/plain`` (its usual repr)."""
    def build() -> dict:
        record = as_record(var)
        caption = f"{var}: {_var_type(var)}"
        return _graph_bundle(record, f"<div><code>{H.escape(caption)}</code></div>", repr(var))
    return _safe(var, build, include, exclude)


def backend_name(f: Any) -> str:
    """Which backend runs a compiled function: ``python``, ``c``, ``cuda``."""
    for holder in (f, getattr(f, "vm", None)):
        backend = getattr(holder, "backend", None)
        if isinstance(backend, str):
            return backend
    vm = type(getattr(f, "vm", None)).__name__
    return {"PythonVM": "python", "CVM": "c"}.get(vm, vm.lower())


def function_signature(f: Any) -> str:
    """``f(x: float64[?], w: float64[3]) -> float64[?]``, from the compiled graph."""
    fgraph = f.maker.fgraph
    n_in = len(f.maker.inputs)

    args = [f"{spec.name or f'in{i}'}: {_var_type(v)}" for i, (v, spec) in
            enumerate(zip(fgraph.inputs[:n_in], f.maker.inputs))]
    outs = [_var_type(v) for v in fgraph.outputs[:len(f.maker.outputs)]]
    result = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ")"
    return f"{f.name or 'f'}({', '.join(args)}) -> {result}"


def function_summary(f: Any) -> str:
    """One line: signature, node count (before → after the rewrites), backend."""
    after = len(f.maker.fgraph.apply_nodes)
    trace = getattr(f, "trace", None)
    before = len(trace.initial) if trace is not None and trace.initial is not None else None
    count = f"{before} → {after} nodes" if before is not None else f"{after} nodes"
    updates = len(getattr(f, "_updates", ()))
    extra = f", {updates} update{'s' if updates != 1 else ''}" if updates else ""
    cache = {True: " (cached build)", False: ""}.get(getattr(f, "cache_hit", None), "")
    return f"{function_signature(f)}  ·  {count}{extra}  ·  backend {backend_name(f)}{cache}"


def function_mimebundle(f: Any, include: Any = None, exclude: Any = None) -> dict:
    """A compiled function as its summary line and its optimized graph (``text/html``,
    ``image/svg+xml``), with its usual repr as ``text/plain``."""
    def build() -> dict:
        summary = function_summary(f)
        return _graph_bundle(as_record(f), f"<div><code>{H.escape(summary)}</code></div>",
                             repr(f))
    return _safe(f, build, include, exclude)


def view_mimebundle(view: Any, text: str, include: Any = None, exclude: Any = None) -> dict:
    """The bundle of a view class: ``text/plain``, its static ``text/html`` (``view.html()``)
    and, where ipywidgets is installed, its widget (``view.widget``), which a live notebook
    shows instead while the static HTML stays in the saved file."""
    bundle = {"text/plain": text, "text/html": view.html()}
    if importlib.util.find_spec("ipywidgets") is None:
        return filter_bundle(bundle, include, exclude)
    widget_bundle = view.widget._repr_mimebundle_() or {}
    if WIDGET_MIME in widget_bundle:
        bundle[WIDGET_MIME] = widget_bundle[WIDGET_MIME]
    return filter_bundle(bundle, include, exclude)


def add_widget_view(bundle: dict, view: Any, include: Any = None, exclude: Any = None) -> dict:
    """``bundle`` with, where ipywidgets can be imported, the widget view of ``view.widget``
    added (a live notebook shows the widget, while the static HTML stays in the saved file).
    Returns ``bundle`` itself."""
    try:
        widget = view.widget
    except ImportError:
        return bundle
    payload = widget._repr_mimebundle_(include=include, exclude=exclude) or {}
    widget_view = payload.get(WIDGET_MIME)
    if widget_view is not None:
        bundle[WIDGET_MIME] = widget_view
    return bundle
