"""What changed between two graph records of one graph (say before and after a pass).

Node ids are stable across snapshots (``docs/graph-record.md``), so two records are compared
by id: a node is removed, added, or changed (same id, another op, label or inputs).

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> f = workbench.function([x], T.exp(x) + T.exp(x))
>>> merge = f.trace['merge']
>>> d = diff_records(f.trace.initial.record(), merge.snapshot.record())
>>> d['removed'] == merge.events[0].replaced, d['added']
(True, [])
"""
from __future__ import annotations

import heapq


def _incoming(record: dict) -> dict[str, list[tuple]]:
    inputs: dict[str, list[tuple]] = {}
    for e in record["edges"]:
        inputs.setdefault(e["target"], []).append((e["input"], e["source"], e.get("output", 0)))
    for edges in inputs.values():
        edges.sort()
    return inputs


def _edge_key(edge: dict) -> tuple:
    return (edge["source"], edge["target"], edge["input"], edge.get("output", 0))


def _topological(nodes: list[dict], edges: list[dict]) -> list[dict]:
    """``nodes`` ordered so each comes after its inputs, otherwise keeping their order (the
    union of two graphs is not in either's order)."""
    position = {n["id"]: i for i, n in enumerate(nodes)}
    parents: dict[str, set[str]] = {n["id"]: set() for n in nodes}
    children: dict[str, list[str]] = {n["id"]: [] for n in nodes}
    for e in edges:
        if e["source"] in parents and e["target"] in parents and e["source"] != e["target"]:
            if e["source"] not in parents[e["target"]]:
                parents[e["target"]].add(e["source"])
                children[e["source"]].append(e["target"])
    waiting = {nid: len(ps) for nid, ps in parents.items()}
    ready = [position[nid] for nid, k in waiting.items() if k == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        nid = nodes[heapq.heappop(ready)]["id"]
        order.append(nid)
        for child in children[nid]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, position[child])
    placed = set(order)
    # a cycle in the union (never within one snapshot): keep the rest in their order
    order += [n["id"] for n in nodes if n["id"] not in placed]
    by_id = {n["id"]: n for n in nodes}
    return [by_id[nid] for nid in order]


def diff_records(before: dict, after: dict) -> dict:
    """Compare two graph records by node id.

    Returns ``removed`` (ids only in ``before``, in its order), ``added`` (only in
    ``after``), ``changed`` (in both, with another op, label or inputs), ``edges_removed`` /
    ``edges_added`` (``[source, target, input, output]`` lists) and ``record``: a graph record
    of the union of both, nodes and edges marked with ``"diff": "removed" | "added" |
    "changed"``, for drawing the change in one picture.
    """
    before_nodes = {n["id"]: n for n in before["nodes"]}
    after_nodes = {n["id"]: n for n in after["nodes"]}
    before_in, after_in = _incoming(before), _incoming(after)
    removed = [nid for nid in before_nodes if nid not in after_nodes]
    added = [nid for nid in after_nodes if nid not in before_nodes]
    changed = []
    for nid, node in after_nodes.items():
        old = before_nodes.get(nid)
        if old is None:
            continue
        if (old.get("op"), old.get("label")) != (node.get("op"), node.get("label")) or \
                before_in.get(nid, []) != after_in.get(nid, []):
            changed.append(nid)
    before_edges = {_edge_key(e): e for e in before["edges"]}
    after_edges = {_edge_key(e): e for e in after["edges"]}
    edges_removed = [list(k) for k in before_edges if k not in after_edges]
    edges_added = [list(k) for k in after_edges if k not in before_edges]

    status = {**{nid: "removed" for nid in removed}, **{nid: "added" for nid in added},
              **{nid: "changed" for nid in changed}}
    union_nodes = []
    for node in list(before["nodes"]) + [after_nodes[nid] for nid in added]:
        node = dict(after_nodes.get(node["id"], node))
        if node["id"] in status:
            node["diff"] = status[node["id"]]
        union_nodes.append(node)
    union_edges = []
    for key, edge in {**before_edges, **after_edges}.items():
        edge = dict(edge)
        if key not in after_edges:
            edge["diff"] = "removed"
        elif key not in before_edges:
            edge["diff"] = "added"
        union_edges.append(edge)
    record = {"schema": after.get("schema", before.get("schema")),
              "nodes": _topological(union_nodes, union_edges), "edges": union_edges}
    return {"removed": removed, "added": added, "changed": changed,
            "edges_removed": edges_removed, "edges_added": edges_added, "record": record}
