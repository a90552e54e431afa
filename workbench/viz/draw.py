"""Drawing a graph record (``workbench.graph/v1``): DOT text, SVG through graphviz, or text.

Everything here reads the record only (see ``docs/graph-record.md``), so the same code draws
a variable, a compiled function, a snapshot from the pass trace or a merged diff of two.
Node ids from the record become the SVG elements' ids, so a page (or a test) can find the
drawing of node ``n14`` as ``id="n14"``.

Where the graphviz ``dot`` program is missing, :func:`graph_html` shows the graph as text
(:func:`record_text`) with a one-line hint instead.

>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> picture = draw(T.exp(x) * 2)
>>> [n['kind'] for n in picture.record['nodes']]
['input', 'apply', 'constant', 'apply', 'output']
>>> print(record_text(picture.record).splitlines()[0])
input x: float64[?]
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import textwrap
from collections import OrderedDict
from typing import Any, Iterable, Sequence

from . import html as H

DOT_HINT = "install graphviz (apt-get install graphviz) to draw graphs"
DOT_FAILED_HINT = "graphviz (dot) could not draw this graph; it is shown as text"
#: seconds ``dot`` may take on one graph before the text form is shown instead
DOT_TIMEOUT = 30.0

_KIND_STYLE = {
    "input": {"shape": "ellipse", "style": "filled", "fillcolor": "#dbe9f6"},
    "shared": {"shape": "ellipse", "style": "filled", "fillcolor": "#fff4c2"},
    "constant": {"shape": "box", "style": "filled", "fillcolor": "#eeeeee", "fontsize": "9"},
    "apply": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff"},
    "output": {"shape": "invhouse", "style": "filled", "fillcolor": "#e8def5"},
}
# Diff colours win over the kind's fill: red removed, green added, orange changed.
_DIFF_STYLE = {
    "removed": {"color": "#d62728", "fontcolor": "#d62728", "fillcolor": "#fde0e0",
                "penwidth": "2", "dashed": True},
    "added": {"color": "#2ca02c", "fillcolor": "#dff5df", "penwidth": "2"},
    "changed": {"color": "#ff7f0e", "fillcolor": "#ffe9d1", "penwidth": "2"},
}
_EDGE_DIFF_STYLE = {
    "removed": {"color": "#d62728", "style": "dashed"},
    "added": {"color": "#2ca02c", "penwidth": "1.6"},
}
_LABEL_WIDTH = 44
_LABEL_LINES = 5


# ------------------------------------------------------------------------------------------
# Text


def type_text(dtype: str | None, shape: Sequence[int | None] | None) -> str:
    """``float64[?, 3]``: a dtype and a static shape (``?`` where unknown).

    >>> type_text("float64", [None, 3]), type_text("int64", []), type_text(None, None)
    ('float64[?, 3]', 'int64[]', '')
    """
    if dtype is None and shape is None:
        return ""
    dims = "" if shape is None else "[" + ", ".join("?" if d is None else str(d)
                                                    for d in shape) + "]"
    return f"{dtype or '?'}{dims}"


def _value_names(record: dict) -> dict[str, str]:
    """How text refers to each node's value: inputs by their name when it is a unique
    identifier, constants by their value, everything else by its id."""
    roots = [n for n in record["nodes"] if n["kind"] == "input"]
    counts: dict[str, int] = {}
    for n in roots:
        counts[n["label"]] = counts.get(n["label"], 0) + 1
    names = {}
    for n in record["nodes"]:
        label = n["label"]
        if n["kind"] == "input" and label.isidentifier() and counts[label] == 1:
            names[n["id"]] = label
        elif n["kind"] == "constant":
            names[n["id"]] = label
        else:
            names[n["id"]] = n["id"]
    return names


def _inputs_of(record: dict) -> dict[str, list[dict]]:
    """Each node's incoming edges, by input number."""
    incoming: dict[str, list[dict]] = {}
    for e in record["edges"]:
        incoming.setdefault(e["target"], []).append(e)
    for edges in incoming.values():
        edges.sort(key=lambda e: e["input"])
    return incoming


def _ref(edge: dict, names: dict[str, str], multi: set[str]) -> str:
    name = names.get(edge["source"], edge["source"])
    return f"{name}.{edge['output']}" if edge["source"] in multi else name


def record_listing(record: dict) -> list[tuple[str, str]]:
    """The graph as ``(node id, line)`` pairs in the record's (topological) order: one line
    per input, apply node and output, e.g. ``n14: float64[?] = Elemwise{exp}(x)``.

    >>> from workbench import tensor as T
    >>> from workbench.compiler.graphrecord import graph_record
    >>> x = T.dvector('x')
    >>> record_listing(graph_record([x], [T.exp(x)]))[1][1].endswith('= Elemwise{exp}(x)')
    True
    """
    names = _value_names(record)
    incoming = _inputs_of(record)
    multi = {n["id"] for n in record["nodes"] if len(n.get("outputs") or ()) > 1}
    lines = []
    for n in record["nodes"]:
        kind, nid = n["kind"], n["id"]
        typ = type_text(n.get("dtype"), n.get("shape"))
        args = [_ref(e, names, multi) for e in incoming.get(nid, [])]
        if kind == "input":
            what = "shared" if n.get("shared") else "input"
            lines.append((nid, f"{what} {names[nid]}: {typ}"))
        elif kind == "constant":
            continue  # constants show inline where they are used
        elif kind == "apply":
            outs = n.get("outputs") or [{"dtype": n.get("dtype"), "shape": n.get("shape")}]
            if len(outs) == 1:
                lhs = f"{nid}: {typ}"
            else:
                lhs = ", ".join(f"{nid}.{k}: {type_text(o.get('dtype'), o.get('shape'))}"
                                for k, o in enumerate(outs))
            lines.append((nid, f"{lhs} = {n['label']}({', '.join(args)})"))
        else:
            lines.append((nid, f"{n['label']}: {typ} = {', '.join(args)}"))
    return lines


def record_text(record: dict, diff: dict | None = None) -> str:
    """The graph as readable text, one line per node (see :func:`record_listing`); with a
    ``diff`` (from :func:`~workbench.viz.diff.diff_records`) each line starts with ``-``
    (removed), ``+`` (added), ``~`` (changed) or a space.

    >>> from workbench import tensor as T
    >>> from workbench.compiler.graphrecord import graph_record
    >>> x = T.dvector('x')
    >>> print(record_text(graph_record([x], [x * 2])))  # doctest: +ELLIPSIS
    input x: float64[?]
    n...: float64[?] = Elemwise{mul}(x, [2.])
    output 0: float64[?] = n...
    """
    lines = record_listing(record)
    if diff is None:
        return "\n".join(line for _, line in lines)
    status = _statuses(diff)
    marks = {"removed": "-", "added": "+", "changed": "~"}
    return "\n".join(f"{marks.get(status.get(nid), ' ')} {line}" for nid, line in lines)


# ------------------------------------------------------------------------------------------
# DOT


def _dot_string(text: str) -> str:
    """A DOT double-quoted string; ``\\n`` in ``text`` stays a DOT line break."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(attrs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_dot_string(str(v))}" for k, v in attrs.items() if v is not None)


def _wrap(label: str) -> list[str]:
    lines = textwrap.wrap(label, _LABEL_WIDTH, break_long_words=True,
                          break_on_hyphens=False) or [""]
    if len(lines) > _LABEL_LINES:
        lines = lines[:_LABEL_LINES - 1] + ["…"]
    return lines


def _node_label(node: dict) -> str:
    typ = type_text(node.get("dtype"), node.get("shape"))
    kind = node["kind"]
    if kind == "apply":
        lines = _wrap(node["label"])
        outs = node.get("outputs") or []
        if len(outs) > 1:
            typ = ", ".join(type_text(o.get("dtype"), o.get("shape")) for o in outs)
        for key, what in (("destroy_map", "in-place on"), ("view_map", "view of")):
            for _, inputs in sorted((node.get(key) or {}).items()):
                lines.append(f"{what} input {', '.join(map(str, inputs))}")
        return "\n".join(lines + ([typ] if typ else []))
    return "\n".join(_wrap(node["label"]) + ([typ] if typ else []))


def _tooltip(node: dict) -> str:
    text = f"{node['id']}: {node['label']}"
    src = node.get("source")
    if src:
        text += f"\n{src.get('file')}:{src.get('line')}"
    return text


def _statuses(diff: dict | None) -> dict[str, str]:
    status: dict[str, str] = {}
    for key in ("removed", "added", "changed"):
        for nid in (diff or {}).get(key, ()):
            status[nid] = key
    return status


def _edge_key(edge: dict) -> tuple:
    return (edge["source"], edge["target"], edge["input"], edge.get("output", 0))


def record_to_dot(record: dict, diff: dict | None = None, title: str | None = None, *,
                  links: dict[str, str] | None = None, highlight: Iterable[str] = (),
                  id_prefix: str = "") -> str:
    """The DOT text of a graph record.

    Inputs are blue ellipses (shared variables yellow), constants grey boxes, apply nodes
    rounded boxes (op, then dtype and shape), outputs lilac. With ``diff`` (from
    :func:`~workbench.viz.diff.diff_records`) removed nodes are red and dashed, added ones
    green, changed ones orange. Each node's DOT ``id`` is ``id_prefix`` + its record id;
    ``links`` maps node ids to URLs the node links to; ``highlight`` nodes get a thick blue
    border.

    >>> from workbench import tensor as T
    >>> from workbench.compiler.graphrecord import graph_record
    >>> x = T.dvector('x')
    >>> dot = record_to_dot(graph_record([x], [T.exp(x)]))
    >>> dot.startswith('digraph'), 'Elemwise{exp}' in dot, 'shape="invhouse"' in dot
    (True, True, True)
    """
    status = _statuses(diff)
    edge_status = {tuple(k): "removed" for k in (diff or {}).get("edges_removed", ())}
    edge_status.update({tuple(k): "added" for k in (diff or {}).get("edges_added", ())})
    highlight = set(highlight)
    links = links or {}
    graph_attrs = {"rankdir": "TB", "bgcolor": "transparent", "nodesep": "0.25",
                   "ranksep": "0.35", "fontname": "Helvetica", "fontsize": "11"}
    if title:
        graph_attrs.update(label=title, labelloc="t")
    out = [
        "digraph G {",
        f"  graph [{_attrs(graph_attrs)}];",
        '  node [fontname="Helvetica", fontsize="10", margin="0.08,0.04", height="0.3", '
        'color="#555555"];',
        '  edge [fontname="Helvetica", fontsize="8", color="#666666", arrowsize="0.6"];',
    ]
    known = set()
    # a diff's union record can feed one input from two sources: count input slots
    slots: dict[str, set[int]] = {}
    for e in record["edges"]:
        slots.setdefault(e["target"], set()).add(e["input"])
    for node in record["nodes"]:
        nid = node["id"]
        known.add(nid)
        kind = "shared" if node["kind"] == "input" and node.get("shared") else node["kind"]
        attrs = dict(_KIND_STYLE.get(kind, _KIND_STYLE["apply"]))
        change = _DIFF_STYLE.get(status.get(nid, ""), {})
        attrs.update({k: v for k, v in change.items() if k != "dashed"})
        if change.get("dashed"):
            attrs["style"] += ",dashed"
        if nid in highlight:
            attrs.update(color="#1f77b4", penwidth="3")
        attrs.update(id=id_prefix + nid, label=_node_label(node), tooltip=_tooltip(node))
        if nid in links:
            attrs.update(URL=links[nid], target="_self")
        out.append(f"  {_dot_string(nid)} [{_attrs(attrs)}];")
    for e in record["edges"]:
        if e["source"] not in known or e["target"] not in known:
            continue
        attrs = {"id": f"{id_prefix}e_{e['source']}_{e['target']}_{e['input']}"}
        if len(slots[e["target"]]) > 1 or e.get("output", 0):
            attrs["label"] = (f"[{e['output']}]→" if e.get("output", 0) else "") + str(e["input"])
        attrs.update(_EDGE_DIFF_STYLE.get(edge_status.get(_edge_key(e)) or e.get("diff", ""), {}))
        out.append(f"  {_dot_string(e['source'])} -> {_dot_string(e['target'])} [{_attrs(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------
# SVG

_svg_cache: OrderedDict[str, str] = OrderedDict()
_SVG_CACHE_SIZE = 64


def dot_to_svg(dot: str) -> str | None:
    """The SVG drawing of DOT text, by graphviz's ``dot``; None where ``dot`` is not
    installed or fails. The result is an ``<svg>`` element ready to inline in HTML.

    >>> svg = dot_to_svg('digraph { a -> b }')
    >>> svg is None or svg.startswith('<svg')
    True
    """
    key = hashlib.sha1(dot.encode()).hexdigest()
    if key in _svg_cache:
        _svg_cache.move_to_end(key)
        return _svg_cache[key]
    exe = shutil.which("dot")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "-Tsvg"], input=dot.encode(), capture_output=True,
                              timeout=DOT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.decode("utf-8", errors="replace")
    start = text.find("<svg")
    if done.returncode != 0 or start < 0:
        return None
    svg = text[start:]
    _svg_cache[key] = svg
    if len(_svg_cache) > _SVG_CACHE_SIZE:
        _svg_cache.popitem(last=False)
    return svg


def graph_html(record: dict, diff: dict | None = None, title: str | None = None, *,
               links: dict[str, str] | None = None, highlight: Iterable[str] = (),
               id_prefix: str = "") -> str:
    """The graph as HTML: the SVG inline, or (without graphviz) the text form and a
    one-line hint. Options as for :func:`record_to_dot`.

    >>> from workbench import tensor as T
    >>> from workbench.compiler.graphrecord import graph_record
    >>> x = T.dvector('x')
    >>> 'Elemwise{exp}' in graph_html(graph_record([x], [T.exp(x)]))
    True
    """
    svg = dot_to_svg(record_to_dot(record, diff, title, links=links, highlight=highlight,
                                   id_prefix=id_prefix))
    if svg is not None:
        return f'<div class="wb-graph">{svg}</div>'
    text = record_text(record, diff)
    if title:
        text = f"{title}\n{text}"
    return H.pre(text) + H.hint(DOT_HINT if shutil.which("dot") is None else DOT_FAILED_HINT)


# ------------------------------------------------------------------------------------------
# Records of things


def _is_record(obj: Any) -> bool:
    return isinstance(obj, dict) and "nodes" in obj and "edges" in obj


def update_labels(f: Any) -> dict[str, str]:
    """Labels for a compiled function's outputs past its own, by output node id: they
    compute its updates (``update w``)."""
    n_out = len(f.maker.outputs)
    updated = [f"update {svar}" for svar, *_ in getattr(f, "_updates", ())]
    updated += [f"update of input {pos}" for pos, _ in getattr(f, "_input_updates", ())]
    return {f"out{n_out + k}": label for k, label in enumerate(updated)}


def relabel(record: dict, labels: dict[str, str]) -> dict:
    """``record`` with the nodes in ``labels`` relabelled (a copy where anything changes)."""
    if not any(n["id"] in labels for n in record["nodes"]):
        return record
    nodes = [dict(n, label=labels[n["id"]]) if n["id"] in labels else n
             for n in record["nodes"]]
    return dict(record, nodes=nodes)


def function_record(f: Any) -> dict:
    """The graph record of a compiled function's optimized graph, its update outputs
    labelled as such."""
    from ..compiler.graphrecord import graph_record

    fgraph = f.maker.fgraph
    return relabel(graph_record(fgraph.inputs, fgraph.outputs), update_labels(f))


def as_record(obj: Any) -> dict:
    """The graph record of a variable, a list of variables, a compiled function, a
    FunctionGraph or a graph record (returned as is)."""
    from ..compiler.graph import Constant, Variable, graph_inputs
    from ..compiler.graphrecord import graph_record

    if _is_record(obj):
        return obj
    if hasattr(obj, "maker") and hasattr(obj.maker, "fgraph"):
        return function_record(obj)
    if isinstance(obj, Variable):
        obj = [obj]
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(v, Variable) for v in obj):
        roots = [v for v in graph_inputs(obj) if not isinstance(v, Constant)]
        return graph_record(roots, list(obj))
    if hasattr(obj, "inputs") and hasattr(obj, "outputs") and hasattr(obj, "toposort"):
        return graph_record(obj.inputs, obj.outputs)
    raise TypeError(f"cannot draw {type(obj).__name__}: draw() takes a variable, a list of "
                    f"variables, a compiled function or a graph record")


class GraphDrawing:
    """A drawn graph: shows itself in Jupyter (SVG, or text without graphviz).

    ``record`` is the graph record; ``dot()``, ``svg()``, ``html()`` and ``text()`` give
    its forms.
    """

    def __init__(self, record: dict, diff: dict | None = None, title: str | None = None):
        self.record = record
        self.diff = diff
        self.title = title

    def dot(self) -> str:
        return record_to_dot(self.record, self.diff, self.title)

    def svg(self) -> str | None:
        return dot_to_svg(self.dot())

    def html(self) -> str:
        return H.view(graph_html(self.record, self.diff, self.title))

    def text(self) -> str:
        return record_text(self.record, self.diff)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        bundle = {"text/plain": self.text(), "text/html": self.html()}
        svg = self.svg()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle

    def __repr__(self) -> str:
        n = sum(1 for node in self.record["nodes"] if node["kind"] == "apply")
        return f"<GraphDrawing: {n} apply nodes>"


def draw(obj: Any, title: str | None = None, diff: dict | None = None) -> GraphDrawing:
    """Draw a variable, a list of variables, a compiled function (its optimized graph) or
    a graph record; in a notebook the result shows as SVG.

    >>> import workbench
    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> f = workbench.function([x], T.exp(x) + T.exp(x))
    >>> [n['label'] for n in draw(f).record['nodes'] if n['kind'] == 'apply']
    ['Elemwise{Composite{t0 = exp(i0); add(t0, t0)}}']
    """
    return GraphDrawing(as_record(obj), diff, title)
