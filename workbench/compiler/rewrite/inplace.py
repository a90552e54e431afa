"""In-place: let ops write their result into the memory of an input nothing else needs.

The pass walks the graph once in topological order. An Elemwise node (a fused one too) whose
output has the dtype and shape of one of its inputs becomes
``Elemwise(scalar_op, inplace_pattern={0: i})`` when the graph's
:class:`~workbench.compiler.rewrite.features.DestroyHandler` allows overwriting input ``i``:
never a graph input (unless declared mutable), a constant, shared storage or a graph output,
and never a value that another node still reads, directly or through a view. Then every node
rewriter tagged ``"inplace_op"`` (Gemm, Gemv, Ger, ...) is tried on the node.

Static types say a dimension is 1 or unknown, and an unknown dimension may still broadcast
at run time, so equal types do not prove that an input has the output's shape: the pass
makes a node in place only where :class:`ShapeTokens` proves the input's shape *is* the
output's (``exp(x) + 1`` may write into ``exp(x)``; ``exp(x) * y`` may not, as ``x`` may be
``(1, n)`` and ``y`` ``(m, n)``).

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> f = workbench.function([x], T.sort(x) * 2)
>>> [str(n.op) for n in f.maker.fgraph.toposort()]
["Sort{axis=0, kind='quicksort'}", 'Elemwise{mul,inplace}']
>>> f.trace.fired()['elemwise_inplace']
1
"""
from __future__ import annotations

from typing import Hashable

from ..fgraph import Feature, FunctionGraph
from ..graph import Apply, Variable
from ..ops.elemwise import DimShuffle, Elemwise
from .db import REWRITES, NodeRewriter, node_keys, node_rewriter, register
from .features import DestroyHandler, attached_feature
from .passes import GraphPass, apply_rewrite
from .trace import ChangeRecorder, PassRecord


Token = Hashable


class ShapeTokens(Feature):
    """Cheap proofs that dimensions have equal sizes at run time.

    Each dimension gets a token; equal tokens mean equal sizes. A statically known size is
    its own token; a DimShuffle passes its input's tokens along; an Elemwise output's
    dimension has the token its inputs share there (inputs statically 1 aside), or none when
    they disagree (one of them may broadcast); any other value's dimension is a token of its
    own. Nothing is built, so a proof costs a few dictionary lookups per node, where
    symbolic shapes would build a ``switch`` per broadcast dimension.

    >>> from workbench import tensor as T
    >>> x, y = T.dmatrices('x', 'y')
    >>> e = T.exp(x)
    >>> tokens = ShapeTokens()
    >>> tokens.same_shape(e + 1, x), tokens.same_shape(e * y, x), tokens.same_shape(e.T, x)
    (True, False, False)
    """

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int], Token | None] = {}
        self._keep: list[Variable] = []  # the variables whose ids key the memo

    def token(self, var: Variable, axis: int) -> Token | None:
        """The token of ``var``'s dimension ``axis`` (None: no proof possible)."""
        key = (id(var), axis)
        if key in self._memo:
            return self._memo[key]
        # iterative: elementwise chains can be thousands of nodes deep
        stack = [(var, axis)]
        while stack:
            v, d = stack[-1]
            if (id(v), d) in self._memo:
                stack.pop()
                continue
            needed = [p for p in self._parents(v, d) if (id(p[0]), p[1]) not in self._memo]
            if needed:
                stack.extend(needed)
                continue
            stack.pop()
            self._keep.append(v)
            self._memo[(id(v), d)] = self._combine(v, d)
        return self._memo[key]

    @staticmethod
    def _parents(var: Variable, axis: int) -> list[tuple[Variable, int]]:
        """The dimensions the token of ``var``'s ``axis`` is made from."""
        node = var.owner
        if var.type.shape[axis] is not None or node is None:
            return []
        if isinstance(node.op, Elemwise):
            return [(i, axis) for i in node.inputs if i.type.shape[axis] != 1]
        if isinstance(node.op, DimShuffle):
            return [(node.inputs[0], node.op.new_order[axis])]
        return []

    def _combine(self, var: Variable, axis: int) -> Token | None:
        static = var.type.shape[axis]
        if static is not None:
            return ("static", static)
        node = var.owner
        if node is not None and isinstance(node.op, (Elemwise, DimShuffle)):
            tokens = {self._memo[(id(p), d)] for p, d in self._parents(var, axis)}
            if len(tokens) == 1:
                return tokens.pop()
            return None
        return ("dim", id(var), axis)

    def same_shape(self, a: Variable, b: Variable) -> bool:
        """Whether ``a`` and ``b`` surely have the same shape at run time."""
        if a.type.ndim != b.type.ndim:
            return False
        for d in range(a.type.ndim):
            ta = self.token(a, d)
            if ta is None or ta != self.token(b, d):
                return False
        return True

    def holds_output(self, node: Apply, i: int) -> bool:
        """Whether input ``i`` of the elementwise ``node`` surely has the output's shape:
        in every dimension the output does not know statically, each other input is
        statically 1 or has the same size as input ``i``."""
        inp, out = node.inputs[i], node.outputs[0]
        for d, static in enumerate(out.type.shape):
            if static is not None:
                continue
            mine = self.token(inp, d)
            if mine is None:
                return False
            for j, other in enumerate(node.inputs):
                if j != i and other.type.shape[d] != 1 and self.token(other, d) != mine:
                    return False
        return True


def shape_tokens(fgraph: FunctionGraph) -> ShapeTokens:
    """The graph's ShapeTokens while the in-place pass runs (tokens depend only on the nodes
    above a value, and a node made in place keeps its inputs), else a fresh one."""
    return fgraph.get_feature(ShapeTokens) or ShapeTokens()


def _destroy_handler(fgraph: FunctionGraph) -> DestroyHandler:
    """The graph's DestroyHandler; a graph without one gets one with no mutable input."""
    return attached_feature(fgraph, DestroyHandler)


@register("inplace_op", "inplace", "fast_run")
@node_rewriter([Elemwise], name="elemwise_inplace")
def elemwise_inplace(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``Elemwise(f)(..., a, ...)`` -> ``Elemwise(f, inplace_pattern={0: i})`` writing into
    ``a`` (input ``i``, the first that qualifies): same dtype and shape as the output, the
    destroy handler lets it be overwritten, and no other input views its memory."""
    op = node.op
    if op.destroy_map:
        return None
    out = node.outputs[0]
    handler = _destroy_handler(fgraph)
    for i, inp in enumerate(node.inputs):
        if inp.type.dtype != out.type.dtype or inp.type.shape != out.type.shape:
            continue
        if not handler.can_destroy(node, i):
            continue
        if _reads_other_view(handler, node, i):
            continue
        if not shape_tokens(fgraph).holds_output(node, i):
            continue
        return [Elemwise(op.scalar_op, {0: i}, name=op.name)(*node.inputs)]
    return None


def _reads_other_view(handler: DestroyHandler, node: Apply, i: int) -> bool:
    """Whether another input of ``node`` is a different view of input ``i``'s memory
    (``e + e.T``): a loop writing element ``k`` of ``e`` would change what it reads later.
    The very same variable is fine: element ``k`` is read before it is written."""
    target = node.inputs[i]
    root = handler.storage_root(target)
    return any(other is not target and handler.storage_root(other) is root
               for other in node.inputs)


def _tracks(rewriter: NodeRewriter, node: Apply) -> bool:
    if rewriter.tracks is None:
        return True
    return any(key in rewriter.tracks for key in node_keys(node))


class InplacePass(GraphPass):
    """Every node, in topological order, tried once with each ``"inplace_op"`` rewriter
    (``elemwise_inplace`` among them); one trace event per node made in place."""

    name = "inplace"
    tags = ("inplace",)

    def __init__(self, excluding: tuple[str, ...] = ()):
        self.excluding = tuple(excluding)

    def apply(self, fgraph: FunctionGraph, record: PassRecord) -> None:
        _destroy_handler(fgraph)
        rewriters = REWRITES.query("inplace_op", excluding=self.excluding)
        if not rewriters:
            return
        recorder = ChangeRecorder()
        tokens = ShapeTokens()
        fgraph.attach_feature(recorder)
        fgraph.attach_feature(tokens)
        try:
            for node in fgraph.toposort():
                if node not in fgraph.apply_nodes or node.op.destroy_map:
                    continue
                for rewriter in rewriters:
                    if _tracks(rewriter, node) and apply_rewrite(fgraph, rewriter, node,
                                                                 record, recorder):
                        break
        finally:
            fgraph.remove_feature(tokens)
            fgraph.remove_feature(recorder)


__all__ = ["InplacePass", "ShapeTokens", "elemwise_inplace"]
