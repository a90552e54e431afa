"""The graph record: a graph as plain JSON data (schema ``workbench.graph/v1``).

One schema serves every consumer (the SVG renderer, the notebook widgets, the JupyterLab
extension, the gradient and pass records); it is documented in ``docs/graph-record.md`` and
its JSON Schema is ``graph_record.schema.json`` next to this module.

Node ids are stable for the life of the graph objects: ``n<id>`` for an Apply node,
``v<id>`` for an input or constant variable, ``out<i>`` for the i-th output. So a node that
survives a rewrite pass keeps its id from one snapshot to the next, and other records (the
gradient sweep, the pass trace) can point at nodes by id.

>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> rec = graph_record([x], [T.exp(x)])
>>> [n['kind'] for n in rec['nodes']]
['input', 'apply', 'output']
>>> rec['edges'][0]['target'] == rec['nodes'][1]['id']
True
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from .graph import Apply, Constant, Variable, io_toposort

SCHEMA = "workbench.graph/v1"
SCHEMA_FILE = Path(__file__).with_name("graph_record.schema.json")


def node_id(obj: Apply | Variable) -> str:
    """The record id of an Apply node or of a root variable."""
    if isinstance(obj, Apply):
        return f"n{obj.id}"
    return f"v{obj.id}"


def var_ref(var: Variable) -> dict:
    """Where a variable's value comes from: ``{"node": id, "output": index}``."""
    if var.owner is not None:
        return {"node": node_id(var.owner), "output": var.index}
    return {"node": node_id(var), "output": 0}


def _static_shape(var: Variable) -> list | None:
    shape = getattr(var.type, "shape", None)
    return None if shape is None else list(shape)


def _dtype(var: Variable) -> str | None:
    return getattr(var.type, "dtype", None)


def _source(obj: Any) -> dict | None:
    src = getattr(obj, "source", None)
    if src is None:
        return None
    return src.to_json()


def _constant_label(c: Constant) -> str:
    text = str(c.data) if c.name is None else c.name
    return text if len(text) <= 24 else text[:21] + "..."


def _variable_node(var: Variable, kind: str) -> dict:
    label = _constant_label(var) if kind == "constant" else (var.name or str(var.type))
    node = {"id": node_id(var), "kind": kind, "op": None, "label": label,
            "dtype": _dtype(var), "shape": _static_shape(var), "source": _source(var)}
    if kind == "input" and hasattr(var, "container"):
        node["shared"] = True
    return node


def _apply_node(node: Apply) -> dict:
    op = node.op
    return {
        "id": node_id(node), "kind": "apply", "op": type(op).__name__, "label": str(op),
        "dtype": _dtype(node.outputs[0]) if node.outputs else None,
        "shape": _static_shape(node.outputs[0]) if node.outputs else None,
        "source": _source(node),
        "outputs": [{"name": o.name, "dtype": _dtype(o), "shape": _static_shape(o)}
                    for o in node.outputs],
        "destroy_map": {str(k): v for k, v in getattr(op, "destroy_map", {}).items()},
        "view_map": {str(k): v for k, v in getattr(op, "view_map", {}).items()},
    }


def graph_record(inputs: Sequence[Variable], outputs: Sequence[Variable],
                 extra: dict | None = None) -> dict:
    """The ``workbench.graph/v1`` record of the graph between ``inputs`` and ``outputs``.

    Roots that are not among ``inputs`` (shared variables, constants, free variables) appear as
    nodes too, so the record is self-contained.
    """
    order = [(node, list(node.inputs)) for node in io_toposort(inputs, outputs)]
    return record_from_structure(inputs, outputs, order, extra)


def record_from_structure(inputs: Sequence[Variable], outputs: Sequence[Variable],
                          order: Sequence[tuple[Apply, Sequence[Variable]]],
                          extra: dict | None = None) -> dict:
    """The record of nodes given with the inputs they had (a snapshot taken earlier, while
    the nodes themselves have been rewired since)."""
    nodes: list[dict] = []
    edges: list[dict] = []
    seen: set[str] = set()
    input_ids = {id(v) for v in inputs}

    def add_root(var: Variable) -> None:
        nid = node_id(var)
        if nid not in seen:
            seen.add(nid)
            nodes.append(_variable_node(var, "constant" if isinstance(var, Constant)
                                        else "input"))

    def ref(var: Variable) -> dict:
        if id(var) in input_ids or var.owner is None:
            add_root(var)
            return {"node": node_id(var), "output": 0}
        return var_ref(var)

    for var in inputs:
        add_root(var)
    for node, node_inputs in order:
        for i, inp in enumerate(node_inputs):
            r = ref(inp)
            edges.append({"source": r["node"], "target": node_id(node), "input": i,
                          "output": r["output"]})
        nodes.append(_apply_node(node))
        seen.add(node_id(node))
    for k, out in enumerate(outputs):
        r = ref(out)
        nodes.append({"id": f"out{k}", "kind": "output", "op": None,
                      "label": out.name or f"output {k}", "dtype": _dtype(out),
                      "shape": _static_shape(out), "source": _source(out)})
        edges.append({"source": r["node"], "target": f"out{k}", "input": 0,
                      "output": r["output"]})
    record = {"schema": SCHEMA, "nodes": nodes, "edges": edges}
    if extra:
        record.update(extra)
    return record


def load_schema() -> dict:
    """The JSON Schema of a graph record."""
    return json.loads(SCHEMA_FILE.read_text())
