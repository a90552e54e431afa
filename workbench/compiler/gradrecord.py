"""The record of a reverse sweep: the chain rule, one node at a time.

:func:`workbench.gradient.grad` visits the nodes between the cost and the variables asked for,
from the cost backwards. For each node it notes a :class:`SweepStep`: the adjoint each output
received (the gradient of the cost with respect to that output, and the terms summed into
it), the local rule the op applied, and the contribution sent to each input. Nodes are named by
the ids of the graph record (:mod:`workbench.compiler.graphrecord`), so a viewer can light up
the node a step is about.

>>> from workbench import tensor as T
>>> from workbench.gradient import grad
>>> x = T.dscalar('x')
>>> y = T.exp(x) * 3
>>> g = grad(y, x)
>>> print(g.tag.grad_record.explain())
d(cost)/d(cost) = 1
step 1: (exp(x) * 3.0) = mul(exp(x), 3.0)
  adjoint  g_1 = 1
  to exp(x): [gz * d/da mul(a, 3.0) = (gz * 3.0)] -> g_2
step 2: exp(x) = exp(x)
  adjoint  g_2 = (g_1 * 3.0)
  to x: [gz * d/da exp(a) = (gz * exp(a))] -> (g_2 * exp(x))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .graph import Apply, Variable
from .graphrecord import graph_record, node_id, var_ref

RECORD_SCHEMA = "workbench.gradrecord/v1"
_PLACEHOLDERS = "abcdefhkmnpqrstuvw"


@dataclass
class SweepStep:
    """One node of the reverse sweep."""

    node: Apply
    #: per output: the summed adjoint it received (None if it received nothing)
    adjoints: list[Variable | None]
    #: per output: the terms that were summed (one per client that sent a gradient)
    terms: list[list[Variable]]
    #: per input: the gradient sent to it (None where none was: disconnected or integer)
    contributions: list[Variable | None]

    def local_rule(self) -> list[str | None]:
        """For each input, the op's derivative written over placeholders ``a, b, ...``:
        ``d/da op(a, b)`` as the expression the op's ``L_op`` builds for it."""
        return _local_rules(self.node)


@dataclass
class GradientRecord:
    """What :func:`~workbench.gradient.grad` did, replayable step by step."""

    cost: Variable | None
    wrt: list[Variable]
    seeds: dict[Variable, Variable]
    steps: list[SweepStep] = field(default_factory=list)
    grads: list[Variable | None] = field(default_factory=list)

    # -- names for a reader --------------------------------------------------------------

    def _labels(self) -> tuple[dict[Variable, str], dict[int, str]]:
        """Forward values keep their printed form; adjoints get short names g_1, g_2, ..."""
        adjoint_names: dict[int, str] = {}
        labels: dict[Variable, str] = {}
        for k, step in enumerate(self.steps, start=1):
            for j, adj in enumerate(step.adjoints):
                if adj is None:
                    continue
                name = f"g_{k}" if len(step.adjoints) == 1 else f"g_{k}.{j}"
                adjoint_names[id(adj)] = name
                labels.setdefault(adj, name)
        return labels, adjoint_names

    def explain(self) -> str:
        """The derivation as text: for each node, its adjoint and what it sends on."""
        from ..printing import pp

        labels, _ = self._labels()
        lines = []
        if self.cost is not None:
            lines.append("d(cost)/d(cost) = 1")
        for var, seed in self.seeds.items():
            if var is not self.cost:
                lines.append(f"given: d(cost)/d({pp(var)}) = {pp(seed)}")
        for k, step in enumerate(self.steps, start=1):
            node = step.node
            rules = step.local_rule()
            outs = ", ".join(pp(o) for o in node.outputs)
            lines.append(f"step {k}: {outs} = {_call_text(node, pp)}")
            for j, adj in enumerate(step.adjoints):
                if adj is None:
                    continue
                name = labels[adj]
                own = {v: t for v, t in labels.items() if v is not adj}
                seed = self.seeds.get(self.cost) if self.cost is not None else None
                summed = " + ".join("1" if t is seed else pp(t, own) for t in step.terms[j])
                lines.append(f"  adjoint  {name} = {summed}")
            for i, (inp, contrib) in enumerate(zip(node.inputs, step.contributions)):
                if contrib is None:
                    continue
                rule = f"[{rules[i]}] " if rules[i] is not None else ""
                lines.append(f"  to {pp(inp)}: {rule}-> {pp(contrib, labels)}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The record as JSON data: the forward graph (``workbench.graph/v1``) plus the steps,
        each pointing at forward nodes by id and giving expressions as text."""
        from ..printing import pp

        labels, adjoint_names = self._labels()
        roots = list(self.wrt)
        outputs = [self.cost] if self.cost is not None else list(self.seeds)
        steps = []
        for k, step in enumerate(self.steps, start=1):
            rules = step.local_rule()
            steps.append({
                "index": k,
                "node": node_id(step.node),
                "op": str(step.node.op),
                "adjoints": [None if a is None else {
                    "output": j, "name": adjoint_names[id(a)],
                    "expr": " + ".join(pp(t, {v: n for v, n in labels.items() if v is not a})
                                       for t in step.terms[j]),
                    "terms": len(step.terms[j]),
                } for j, a in enumerate(step.adjoints)],
                "contributions": [None if c is None else {
                    "input": i, "to": var_ref(step.node.inputs[i]),
                    "rule": rules[i], "expr": pp(c, labels),
                } for i, c in enumerate(step.contributions)],
            })
        return {
            "schema": RECORD_SCHEMA,
            "graph": graph_record(roots, outputs),
            "cost": None if self.cost is None else var_ref(self.cost),
            "wrt": [var_ref(w) for w in self.wrt],
            "steps": steps,
            "grads": [None if g is None else pp(g, labels) for g in self.grads],
        }

    def __str__(self) -> str:
        return self.explain()


def _call_text(node: Apply, pp: Any) -> str:
    name = None
    if type(node.op).__name__ == "Elemwise":
        name = getattr(node.op.scalar_op, "name", None)
    name = name or str(node.op)
    return f"{name}({', '.join(pp(i) for i in node.inputs)})"


def _local_rules(node: Apply) -> list[str | None]:
    """``d/da op(a, b, ...)`` for each input, built by calling the op's L_op on fresh
    placeholders with an adjoint of one, then printed."""
    from ..printing import pp
    from .grad import _node_gradients
    from .types import TensorType

    holders: list[Variable] = []
    for i, inp in enumerate(node.inputs):
        if inp.owner is None and inp.name is None and not isinstance(inp.type, TensorType):
            holders.append(inp)
        elif hasattr(inp, "data"):
            holders.append(inp)  # constants stay as they are: "mul(a, 3.0)"
        else:
            h = inp.type(_PLACEHOLDERS[i % len(_PLACEHOLDERS)])
            holders.append(h)
    try:
        new = node.clone_with_new_inputs(holders, strict=False)
        many = len(new.outputs) > 1
        seeds = [o.type(f"gz{j}" if many else "gz") if isinstance(o.type, TensorType) else None
                 for j, o in enumerate(new.outputs)]
        contributions = _node_gradients(new, seeds)
    except Exception:  # noqa: BLE001 - a rule we cannot print is shown as missing, not fatal
        return [None] * len(node.inputs)
    call = _call_text(new, pp)
    gz = " + ".join(f"{s.name} * " for s in seeds if s is not None) if many else "gz * "
    out = []
    for h, c in zip(holders, contributions):
        if c is None or hasattr(h, "data"):
            out.append(None)
            continue
        out.append(f"{gz}d/d{h.name} {call} = {pp(c)}")
    return out
