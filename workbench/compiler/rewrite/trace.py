"""PassTrace: what each rewrite pass did, as data the notebook can show.

For every pass: its name, its wall time, the node count before and after, each rewrite that
fired (the rule's name, the node ids it replaced, the node ids it created) and a snapshot of
the graph after it. Snapshots are taken cheaply (the node list with each node's inputs at that
moment) and turned into ``workbench.graph/v1`` records only when asked for.

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> f = workbench.function([x], T.exp(x) + T.exp(x))
>>> [p.name for p in f.trace.passes][:2]
['merge', 'constant_folding']
>>> f.trace.to_dict()['schema']
'workbench.trace/v1'
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..fgraph import Feature, FunctionGraph
from ..graph import Apply, Variable
from ..graphrecord import SCHEMA, node_id, record_from_structure

TRACE_SCHEMA = "workbench.trace/v1"


@dataclass
class Snapshot:
    """The graph's structure at one moment: its nodes in order, each with its inputs then."""

    inputs: list[Variable]
    outputs: list[Variable]
    order: list[tuple[Apply, tuple[Variable, ...]]]

    @classmethod
    def capture(cls, fgraph: FunctionGraph) -> "Snapshot":
        return cls(list(fgraph.inputs), list(fgraph.outputs),
                   [(node, tuple(node.inputs)) for node in fgraph.toposort()])

    def record(self) -> dict:
        """The ``workbench.graph/v1`` record of this snapshot."""
        return record_from_structure(self.inputs, self.outputs, self.order)

    def __len__(self) -> int:
        return len(self.order)


@dataclass
class RewriteEvent:
    """One rewrite that fired: which rule, on which node, what it removed and made."""

    rule: str
    node: str
    replaced: list[str]
    created: list[str]

    def to_dict(self) -> dict:
        return {"rule": self.rule, "node": self.node, "replaced": self.replaced,
                "created": self.created}


@dataclass
class PassRecord:
    name: str
    tags: tuple[str, ...]
    seconds: float = 0.0
    nodes_before: int = 0
    nodes_after: int = 0
    events: list[RewriteEvent] = field(default_factory=list)
    snapshot: Snapshot | None = None

    @property
    def changed(self) -> bool:
        return bool(self.events)

    def rule_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.events:
            counts[e.rule] = counts.get(e.rule, 0) + 1
        return counts

    def to_dict(self, snapshots: bool = True) -> dict:
        out = {"name": self.name, "tags": list(self.tags), "seconds": self.seconds,
               "nodes_before": self.nodes_before, "nodes_after": self.nodes_after,
               "rewrites": [e.to_dict() for e in self.events]}
        if snapshots and self.snapshot is not None:
            out["graph"] = self.snapshot.record()
        return out


@dataclass
class PassTrace:
    """The passes run on one graph, in order, with the graph before the first."""

    initial: Snapshot | None = None
    passes: list[PassRecord] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.passes)

    def __getitem__(self, name: str) -> PassRecord:
        for p in self.passes:
            if p.name == name:
                return p
        raise KeyError(f"no pass named {name!r}; passes: {', '.join(p.name for p in self.passes)}")

    def fired(self) -> dict[str, int]:
        """How many times each rule fired, over all passes."""
        counts: dict[str, int] = {}
        for p in self.passes:
            for rule, n in p.rule_counts().items():
                counts[rule] = counts.get(rule, 0) + n
        return counts

    def to_dict(self, snapshots: bool = True) -> dict:
        return {"schema": TRACE_SCHEMA, "graph_schema": SCHEMA,
                "initial": self.initial.record() if snapshots and self.initial else None,
                "passes": [p.to_dict(snapshots) for p in self.passes]}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def summary(self) -> str:
        """One line per pass: name, time, node counts, the rules that fired."""
        lines = []
        for p in self.passes:
            rules = ", ".join(f"{r}×{n}" for r, n in sorted(p.rule_counts().items()))
            lines.append(f"{p.name:<18} {p.seconds * 1e3:8.2f} ms  {p.nodes_before:>5} -> "
                         f"{p.nodes_after:<5} {rules}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


class ChangeRecorder(Feature):
    """Collects the nodes imported and pruned while one rewrite is applied."""

    def __init__(self) -> None:
        self.imported: list[Apply] = []
        self.pruned: list[Apply] = []

    def on_import(self, fgraph, node, reason):
        self.imported.append(node)

    def on_prune(self, fgraph, node, reason):
        self.pruned.append(node)

    def reset(self) -> None:
        self.imported.clear()
        self.pruned.clear()

    def event(self, rule: str, node: Apply) -> RewriteEvent:
        made = {id(n) for n in self.imported}
        dropped = {id(n) for n in self.pruned}
        # a node both made and dropped within one rewrite was scaffolding: not worth showing
        created = [n for n in self.imported if id(n) not in dropped]
        replaced = [n for n in self.pruned if id(n) not in made]
        return RewriteEvent(rule, node_id(node), [node_id(n) for n in replaced],
                            [node_id(n) for n in created])


def carry_source(nodes: Sequence[Apply], origin: Apply) -> None:
    """Give the nodes a rewrite made the user source line of the node they replace."""
    if origin.source is None:
        return
    for node in nodes:
        node.source = origin.source
        for out in node.outputs:
            out.source = origin.source
