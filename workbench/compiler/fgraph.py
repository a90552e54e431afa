"""FunctionGraph: the compiler's own copy of a graph, between fixed inputs and outputs.

It tracks each variable's clients (the nodes that use it) so that rewrites can replace
variables; the rewriting issue adds features (shape inference, destroy tracking) on top.

>>> from workbench import tensor as T
>>> from workbench.compiler.fgraph import FunctionGraph
>>> x = T.dvector('x')
>>> fg = FunctionGraph([x], [T.exp(x) + 1])
>>> [str(n.op) for n in fg.toposort()]
['Elemwise{exp}', 'Elemwise{add}']
"""
from __future__ import annotations

from typing import Sequence

from .graph import Apply, Variable, ancestors, clone_graph, io_toposort


class FunctionGraph:
    """A cloned graph with client lists. ``clone=False`` adopts the given nodes as they are."""

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
                 clone: bool = True):
        if clone:
            inputs, outputs, self.memo = clone_graph(inputs, outputs, copy_inputs=False)
        else:
            self.memo = {}
        self.inputs: list[Variable] = list(inputs)
        self.outputs: list[Variable] = list(outputs)
        self._rebuild()

    def _rebuild(self) -> None:
        self.apply_nodes: list[Apply] = io_toposort(self.inputs, self.outputs)
        self.clients: dict[Variable, list[tuple[Apply | str, int]]] = {}
        for node in self.apply_nodes:
            for i, inp in enumerate(node.inputs):
                self.clients.setdefault(inp, []).append((node, i))
        for i, out in enumerate(self.outputs):
            self.clients.setdefault(out, []).append(("output", i))
        self.variables = ancestors(self.outputs, self.inputs)

    def toposort(self) -> list[Apply]:
        """The nodes in an order where each comes after those it depends on."""
        return list(self.apply_nodes)

    def replace(self, old: Variable, new: Variable, reason: str | None = None) -> None:
        """Make every client of ``old`` use ``new`` instead."""
        if old.type != new.type and not old.type.is_super(new.type):
            raise TypeError(f"cannot replace {old} ({old.type}) by {new} ({new.type})")
        for client, index in list(self.clients.get(old, [])):
            if client == "output":
                self.outputs[index] = new
            else:
                client.inputs[index] = new
        self._rebuild()

    def __str__(self) -> str:
        return f"FunctionGraph({', '.join(map(str, self.outputs))})"
