"""Graph passes: a named step of the rewrite pipeline that changes a FunctionGraph in place.

:class:`NodeRewritePass` applies the node rewriters of one tag until none fires (a worklist:
a node is revisited only when something it depends on changed, so a pass costs time
proportional to the graph plus the rewrites it makes). :class:`MergePass` merges equal
constants and common subexpressions.

>>> from workbench import tensor as T
>>> from workbench.compiler.fgraph import FunctionGraph
>>> from workbench.compiler.rewrite.trace import PassRecord
>>> x = T.dvector('x')
>>> fg = FunctionGraph([x], [T.exp(x) + T.exp(x)])
>>> len(fg), MergePass().apply(fg, PassRecord('merge', ())) or len(fg)
(3, 2)
"""
from __future__ import annotations

from collections import deque
from typing import Any

from ..fgraph import FunctionGraph, InconsistencyError
from ..graph import Apply, Constant, Variable
from .db import NodeRewriter, node_keys
from ..graphrecord import node_id
from .trace import ChangeRecorder, PassRecord, RewriteEvent, carry_source


class GraphPass:
    """A named pass; ``tags`` are what ``optimizer_excluding`` may name to skip it."""

    name = "pass"
    tags: tuple[str, ...] = ()

    def apply(self, fgraph: FunctionGraph, record: PassRecord) -> None:
        raise NotImplementedError


def _normalize(node: Apply, result: Any) -> list[tuple[Variable, Variable]]:
    if isinstance(result, dict):
        return [(old, new) for old, new in result.items() if new is not None and new is not old]
    if len(result) != len(node.outputs):
        raise ValueError(f"a rewrite of {node.op} returned {len(result)} replacements for "
                         f"{len(node.outputs)} outputs")
    return [(old, new) for old, new in zip(node.outputs, result)
            if new is not None and new is not old]


def _fit_type(old: Variable, new: Variable) -> Variable:
    """``new`` given exactly ``old``'s type when only static shape knowledge differs."""
    if new.type == old.type:
        return new
    from ..types import TensorType

    if isinstance(old.type, TensorType) and isinstance(new.type, TensorType) and \
            old.type.dtype == new.type.dtype and old.type.ndim == new.type.ndim:
        if old.type.is_super(new.type):
            return new
        from ...tensor.shape import patternbroadcast, specify_shape

        if any(o is not None and n is None for o, n in zip(old.type.shape, new.type.shape)):
            if all(o in (1, None) for o in old.type.shape):
                return patternbroadcast(new, old.type.broadcastable)
            return specify_shape(new, old.type.shape)
    return new


def apply_rewrite(fgraph: FunctionGraph, rewriter: NodeRewriter, node: Apply,
                  record: PassRecord, recorder: ChangeRecorder) -> bool:
    """Try one rewriter on one node; apply and record what it returns. True if it fired."""
    result = rewriter.transform(fgraph, node)
    if not result:
        return False
    pairs = [(old, _fit_type(old, new)) for old, new in _normalize(node, result)]
    if not pairs:
        return False
    recorder.reset()
    try:
        fgraph.replace_all_validate(pairs, reason=rewriter.name)
    except InconsistencyError:
        return False
    carry_source(recorder.imported, node)
    record.events.append(recorder.event(rewriter.name, node))
    return True


class NodeRewritePass(GraphPass):
    """Apply the node rewriters of one tag everywhere, until none fires."""

    def __init__(self, name: str, rewriters: list[NodeRewriter], tags: tuple[str, ...] = (),
                 max_rounds: int = 50):
        self.name = name
        self.tags = tags or (name,)
        self.rewriters = rewriters
        self.max_rounds = max_rounds
        self._index: dict[Any, list[NodeRewriter]] = {}
        self._any: list[NodeRewriter] = []
        for rw in rewriters:
            if rw.tracks is None:
                self._any.append(rw)
            else:
                for key in rw.tracks:
                    self._index.setdefault(key, []).append(rw)

    def _candidates(self, node: Apply) -> list[NodeRewriter]:
        found: list[NodeRewriter] = []
        for key in node_keys(node):
            for rw in self._index.get(key, ()):
                if rw not in found:
                    found.append(rw)
        return found + self._any

    def apply(self, fgraph: FunctionGraph, record: PassRecord) -> None:
        if not self.rewriters:
            return
        recorder = ChangeRecorder()
        queue: deque[Apply] = deque(fgraph.toposort())
        queued = set(queue)
        budget = self.max_rounds * (len(queue) + 10)
        fgraph.attach_feature(recorder)
        try:
            while queue and budget > 0:
                node = queue.popleft()
                queued.discard(node)
                if node not in fgraph.apply_nodes:
                    continue
                for rw in self._candidates(node):
                    budget -= 1
                    if apply_rewrite(fgraph, rw, node, record, recorder):
                        # revisit what was made and what reads the replaced values
                        for new in recorder.imported:
                            if new in fgraph.apply_nodes and new not in queued:
                                queue.append(new)
                                queued.add(new)
                        for new in recorder.imported:
                            for out in new.outputs:
                                for client, _ in fgraph.clients.get(out, ()):
                                    if client != "output" and client not in queued:
                                        queue.append(client)
                                        queued.add(client)
                        break
        finally:
            fgraph.remove_feature(recorder)


class MergePass(GraphPass):
    """Equal constants become one; nodes applying equal ops to the same inputs become one."""

    name = "merge"
    tags = ("merge",)

    def apply(self, fgraph: FunctionGraph, record: PassRecord) -> None:
        constants: dict[Any, Variable] = {}
        for var in list(fgraph.variables):
            if isinstance(var, Constant) and var in fgraph.variables:
                key = var.signature()
                first = constants.setdefault(key, var)
                if first is not var and fgraph.clients.get(var):
                    fgraph.replace(var, first, reason="merge")
                    record.events.append(RewriteEvent("merge_constants", node_id(var),
                                                      [node_id(var)], []))
        seen: dict[tuple, Apply] = {}
        for node in fgraph.toposort():
            if node not in fgraph.apply_nodes or node.op.destroy_map:
                continue
            key = (node.op, tuple(id(i) for i in node.inputs))
            try:
                first = seen.setdefault(key, node)
            except TypeError:  # an op whose props cannot be hashed: never merged
                continue
            if first is node:
                continue
            pairs = list(zip(node.outputs, first.outputs))
            try:
                fgraph.replace_all_validate(pairs, reason="merge")
            except InconsistencyError:
                continue
            record.events.append(RewriteEvent("merge", node_id(node), [node_id(node)], []))
