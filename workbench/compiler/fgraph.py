"""FunctionGraph: the compiler's own mutable copy of a graph, between fixed inputs and outputs.

It keeps each variable's clients (the nodes that use it, and ``"output"`` for graph outputs),
so a rewrite can replace a variable everywhere in time proportional to its uses. Nodes that
lose their last client are pruned; nodes that a replacement brings in are imported. Features
(shape inference, destroy tracking, the pass trace) attach to the graph and hear of every
change through callbacks; ``replace_validate`` undoes a change that a feature rejects.

>>> from workbench import tensor as T
>>> from workbench.compiler.fgraph import FunctionGraph
>>> x = T.dvector('x')
>>> fg = FunctionGraph([x], [T.exp(x) + 1])
>>> [str(n.op) for n in fg.toposort()]
['Elemwise{exp}', 'Elemwise{add}']
>>> fg.replace(fg.outputs[0], T.exp(fg.inputs[0]))
>>> [str(n.op) for n in fg.toposort()]
['Elemwise{exp}']
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from .graph import Apply, Constant, Variable, clone_graph, io_toposort

Client = tuple[Any, int]  # (Apply or "output", input index)


class InconsistencyError(Exception):
    """A change would make the graph invalid (a feature's ``validate`` refused it)."""


class Feature:
    """Base class of graph features; every callback is optional."""

    def on_attach(self, fgraph: "FunctionGraph") -> None: ...

    def on_detach(self, fgraph: "FunctionGraph") -> None: ...

    def on_import(self, fgraph: "FunctionGraph", node: Apply, reason: str | None) -> None: ...

    def on_prune(self, fgraph: "FunctionGraph", node: Apply, reason: str | None) -> None: ...

    def on_change_input(self, fgraph: "FunctionGraph", node: Any, i: int, old: Variable,
                        new: Variable, reason: str | None) -> None: ...

    def validate(self, fgraph: "FunctionGraph") -> None: ...


class FunctionGraph:
    """A graph with client lists and features. ``clone=False`` adopts the given nodes."""

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
                 clone: bool = True, features: Iterable[Feature] = ()):
        if clone:
            inputs, outputs, self.memo = clone_graph(inputs, outputs, copy_inputs=False)
        else:
            self.memo = {}
        self.inputs: list[Variable] = list(inputs)
        self.outputs: list[Variable] = list(outputs)
        self.features: list[Feature] = []
        # insertion-ordered sets (dicts) keep every walk deterministic
        self.apply_nodes: dict[Apply, None] = {}
        self.variables: dict[Variable, None] = {}
        self.clients: dict[Variable, list[Client]] = {}
        self._order: list[Apply] | None = None
        self._history: list[tuple[Any, int, Variable]] | None = None
        self.change_count = 0
        for var in self.inputs:
            self._add_variable(var)
        for node in io_toposort(self.inputs, self.outputs):
            self._import_node(node, None)
        for i, out in enumerate(self.outputs):
            self._add_variable(out)
            self.clients[out].append(("output", i))
        for feature in features:
            self.attach_feature(feature)

    # -- structure --------------------------------------------------------------------------

    def _add_variable(self, var: Variable) -> None:
        if var not in self.variables:
            self.variables[var] = None
            self.clients.setdefault(var, [])

    def _import_node(self, node: Apply, reason: str | None) -> None:
        self.apply_nodes[node] = None
        for out in node.outputs:
            self._add_variable(out)
        for i, inp in enumerate(node.inputs):
            self._add_variable(inp)
            self.clients[inp].append((node, i))
        self._order = None
        for feature in self.features:
            feature.on_import(self, node, reason)

    def _import_graph_of(self, var: Variable, reason: str | None) -> None:
        """Bring in the nodes computing ``var`` that the graph does not have yet (a walk that
        stops at known variables, so its cost is the size of what is new)."""
        stack: list[tuple[Variable, bool]] = [(var, False)]
        while stack:
            v, expanded = stack.pop()
            if v in self.variables:
                continue
            node = v.owner
            if node is None:
                self._check_root(v)
                self._add_variable(v)
                continue
            if node in self.apply_nodes:
                continue
            if expanded:
                self._import_node(node, reason)
                continue
            stack.append((v, True))
            stack.extend((inp, False) for inp in node.inputs if inp not in self.variables)

    def _check_root(self, var: Variable) -> None:
        if isinstance(var, Constant) or hasattr(var, "container"):
            return  # constants and shared variables may enter with a rewrite
        from .function import MissingInputError

        raise MissingInputError(f"a rewrite brought in {var} ({var.type}), which is not an "
                                f"input of the graph")

    def _prune_if_dead(self, var: Variable, reason: str | None) -> None:
        stack = [var]
        while stack:
            v = stack.pop()
            if self.clients.get(v):
                continue
            node = v.owner
            if node is None or node not in self.apply_nodes:
                if node is None and v not in self.inputs and v in self.variables:
                    del self.variables[v]
                    del self.clients[v]
                continue
            if any(self.clients.get(o) for o in node.outputs):
                continue
            del self.apply_nodes[node]
            self._order = None
            for out in node.outputs:
                self.variables.pop(out, None)
                self.clients.pop(out, None)
            for i, inp in enumerate(node.inputs):
                clients = self.clients.get(inp)
                if clients is not None:
                    clients.remove((node, i))
                    stack.append(inp)
            for feature in self.features:
                feature.on_prune(self, node, reason)

    # -- changes ----------------------------------------------------------------------------

    def change_node_input(self, client: Any, i: int, new: Variable,
                          reason: str | None = None) -> None:
        """Make input ``i`` of ``client`` (an Apply, or ``"output"``) be ``new``."""
        if client == "output":
            old = self.outputs[i]
            if old is new:
                return
            self._import_graph_of(new, reason)
            self.outputs[i] = new
        else:
            old = client.inputs[i]
            if old is new:
                return
            self._import_graph_of(new, reason)
            client.inputs[i] = new
        self.clients[old].remove((client, i))
        self.clients[new].append((client, i))
        if self._history is not None:
            self._history.append((client, i, old))
        self._order = None
        self.change_count += 1
        for feature in self.features:
            feature.on_change_input(self, client, i, old, new, reason)
        self._prune_if_dead(old, reason)

    def replace(self, old: Variable, new: Variable, reason: str | None = None) -> None:
        """Make every client of ``old`` use ``new`` instead."""
        if old is new:
            return
        if old.type != new.type and not old.type.is_super(new.type):
            raise TypeError(f"cannot replace {old} ({old.type}) by {new} ({new.type})"
                            + (f" in rewrite {reason}" if reason else ""))
        if old not in self.variables:
            return
        for client, i in list(self.clients.get(old, [])):
            self.change_node_input(client, i, new, reason)

    def replace_all(self, pairs: Iterable[tuple[Variable, Variable]],
                    reason: str | None = None) -> None:
        for old, new in pairs:
            self.replace(old, new, reason)

    def replace_all_validate(self, pairs: Iterable[tuple[Variable, Variable]],
                             reason: str | None = None) -> None:
        """Replace, then let every feature validate; on refusal undo and raise."""
        mark = self.checkpoint()
        try:
            self.replace_all(pairs, reason)
            self.validate()
        except Exception:
            self.revert(mark)
            raise
        finally:
            self._release(mark)

    def replace_validate(self, old: Variable, new: Variable, reason: str | None = None) -> None:
        self.replace_all_validate([(old, new)], reason)

    def validate(self) -> None:
        for feature in self.features:
            feature.validate(self)

    def checkpoint(self) -> int:
        """Start (or continue) recording changes; returns a mark for :meth:`revert`."""
        if self._history is None:
            self._history = []
            return -1
        return len(self._history)

    def revert(self, mark: int) -> None:
        """Undo the changes made since ``mark``."""
        history = self._history or []
        start = max(mark, 0)
        undo = history[start:]
        del history[start:]
        saved, self._history = self._history, None
        try:
            for client, i, old in reversed(undo):
                self.change_node_input(client, i, old, "revert")
        finally:
            self._history = saved

    def _release(self, mark: int) -> None:
        if mark == -1:
            self._history = None

    # -- features -----------------------------------------------------------------------------

    def attach_feature(self, feature: Feature) -> None:
        if feature in self.features:
            return
        self.features.append(feature)
        feature.on_attach(self)

    def remove_feature(self, feature: Feature) -> None:
        self.features.remove(feature)
        feature.on_detach(self)

    def get_feature(self, kind: type) -> Any:
        for feature in self.features:
            if isinstance(feature, kind):
                return feature
        return None

    # -- views --------------------------------------------------------------------------------

    def toposort(self) -> list[Apply]:
        """The nodes in an order where each comes after those it depends on (and, with a
        destroy handler attached, destroyers after the other readers of what they destroy)."""
        if self._order is None:
            order = io_toposort(self.inputs, self.outputs)
            for feature in self.features:
                orderings = getattr(feature, "orderings", None)
                if orderings is not None:
                    order = orderings(self, order)
            self._order = order
        return list(self._order)

    def clone(self) -> "FunctionGraph":
        """An independent copy (new nodes, same inputs), without features."""
        return FunctionGraph(self.inputs, self.outputs, clone=True)

    def __len__(self) -> int:
        return len(self.apply_nodes)

    def __str__(self) -> str:
        return f"FunctionGraph({', '.join(map(str, self.outputs))})"
