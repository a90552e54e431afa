"""Loop fusion: chains and DAGs of elementwise ops become one op, reductions absorb theirs.

``elemwise_fusion``: a maximal group of Elemwise nodes, where every node but the group's
output is read only inside the group, becomes one ``Elemwise(Composite(program, nin))`` over
the group's external inputs: one loop over memory instead of one per op, and no intermediate
arrays. ``reduction_fusion``: a CAReduce (Sum, Prod, Max, Min, All, Any) whose input is an
Elemwise result read by nothing else becomes one
:class:`~workbench.compiler.ops.fused_reduce.FusedReduce`.

Rules that keep values and cost unchanged:

- a node joins a group only if *every* reader of its output is in that group, so nothing
  is computed twice and no intermediate is needed outside;
- it joins only if its output has the broadcast pattern of the group's output: a ``(1, n)``
  intermediate inside an ``(m, n)`` loop would be recomputed ``m`` times, so it stays
  outside (as an input of the group);
- every step keeps the dtype the original node declared (a cast step is added where a scalar
  op's NumPy implementation would give another one), and Python-number constants are given
  fixed dtypes, so re-inferring types over the group's inputs cannot change them;
- a group never has more than :data:`MAX_FUSED_INPUTS` inputs (kernel argument limits), and
  its expression, written out as a tree (as ``str(Composite)`` and a C expression renderer
  write it, repeating a shared step at each use), has at most :data:`MAX_EXPRESSION_SIZE`
  terms: a value used twice at each of 30 levels would otherwise print as 2**30 terms.

>>> from workbench import tensor as T
>>> from workbench.compiler.rewrite.trace import PassRecord
>>> x, y = T.dvectors('x', 'y')
>>> fg = FunctionGraph([x, y], [T.exp(x) * y + 1])
>>> record = PassRecord('fusion', ())
>>> FusionPass().apply(fg, record)
>>> [str(n.op) for n in fg.toposort()], [e.rule for e in record.events]
(['Elemwise{Composite{add(mul(exp(i0), i1), i2)}}'], ['elemwise_fusion'])
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..fgraph import FunctionGraph
from ..graph import Apply, Variable
from ..ops.elemwise import Elemwise
from ..ops.fused_reduce import FusedReduce, as_composite
from ..ops.reduce import CAReduce
from ..ops.scalar import Cast, Composite, ScalarOp
from .db import NodeRewriter
from .passes import GraphPass, apply_rewrite
from .trace import ChangeRecorder, PassRecord

#: the most inputs one fused loop takes (C compilers and CUDA kernels limit arguments)
MAX_FUSED_INPUTS = 32

#: the most scalar ops one fused loop's expression has when written out as a tree
MAX_EXPRESSION_SIZE = 256


def _fusable(node: Apply) -> bool:
    """An elementwise node that may enter a fused loop (an in-place one may not: it owns
    an input's memory, which fusion would have to keep track of)."""
    op = node.op
    return isinstance(op, Elemwise) and not op.destroy_map and len(node.outputs) == 1


class _Group:
    """Elemwise nodes being fused: ``root`` computes the group's value; ``members`` are in
    the order they joined (the root first, then upstream nodes) until :func:`find_groups`
    sorts them topologically (the root last).

    ``uses[n]`` counts the paths from the root down to member ``n``: how many times ``n``
    appears in the root's expression written out as a tree; ``size`` is their sum.
    """

    def __init__(self, root: Apply):
        self.root = root
        self.members: list[Apply] = [root]
        self.external: dict[Variable, None] = dict.fromkeys(root.inputs)
        self.uses: dict[Apply, int] = {root: 1}
        self.size = 1

    def inputs_if_joined(self, node: Apply) -> int:
        """How many external inputs the group would have with ``node`` in it."""
        external = set(self.external)
        external.discard(node.outputs[0])
        external.update(node.inputs)
        return len(external)

    def join(self, node: Apply, uses: int) -> None:
        self.members.append(node)
        self.uses[node] = uses
        self.size += uses
        self.external.pop(node.outputs[0], None)
        for inp in node.inputs:
            self.external.setdefault(inp, None)


def find_groups(fgraph: FunctionGraph, max_inputs: int = MAX_FUSED_INPUTS,
                max_size: int = MAX_EXPRESSION_SIZE) -> list[_Group]:
    """The groups of two or more elementwise nodes to fuse, upstream groups first.

    One walk from the outputs up: by the time a node is reached every reader of its output
    has been placed, so a node joins its readers' group exactly when they all lie in one.
    A group built this way is convex (no path leaves it and comes back), since each member
    other than the root has all its readers inside.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> fg = FunctionGraph([x], [T.exp(x) + T.sin(x)])
    >>> [len(g.members) for g in find_groups(fg)]
    [3]
    """
    order = fgraph.toposort()
    group_of: dict[Apply, _Group] = {}
    groups: list[_Group] = []
    for node in reversed(order):
        if not _fusable(node):
            continue
        out = node.outputs[0]
        clients = fgraph.clients.get(out, [])
        target = None
        if clients and all(c != "output" and c in group_of for c, _ in clients):
            owners = {id(group_of[c]) for c, _ in clients}
            candidate = group_of[clients[0][0]]
            # every reader is placed already, so this count is final
            uses = sum(candidate.uses.get(c, 0) for c, _ in clients)
            if (len(owners) == 1
                    and out.type.broadcastable == candidate.root.outputs[0].type.broadcastable
                    and candidate.size + uses <= max_size
                    and candidate.inputs_if_joined(node) <= max_inputs):
                target = candidate
        if target is None:
            target = _Group(node)
            groups.append(target)
        else:
            target.join(node, uses)
        group_of[node] = target
    rank = {node: i for i, node in enumerate(order)}
    found = [g for g in reversed(groups) if len(g.members) > 1]
    for g in found:
        g.members.sort(key=rank.__getitem__)
    return found


@lru_cache(maxsize=4096)
def _natural_dtype(op: ScalarOp, dtypes: tuple[str, ...]) -> str | None:
    """The dtype ``op``'s NumPy implementation gives for these input dtypes (None if it
    cannot be probed). Elemwise casts its result to the declared dtype; inside a composite
    nothing does, so a step whose implementation disagrees gets a cast."""
    samples = [np.ones(1, dtype=d) for d in dtypes]
    with np.errstate(all="ignore"):
        try:
            return np.asarray(op.impl(*samples)).dtype.name
        except Exception:  # noqa: BLE001 - any failure: the caller casts to be safe
            return None


class _ProgramBuilder:
    """Collects the steps of a composite program, keeping each step's declared dtype."""

    def __init__(self, inputs: list[Variable]):
        self.nin = len(inputs)
        self.steps: list[tuple[ScalarOp, tuple[int, ...]]] = []
        self.dtypes: list[str] = [v.type.dtype for v in inputs]

    def add(self, op: ScalarOp, args: tuple[int, ...], dtype: str | None = None) -> int:
        """Append ``op(args)`` whose value must have ``dtype`` (its own output dtype by
        default); return the index of the step holding that value."""
        arg_dtypes = tuple(self.dtypes[i] for i in args)
        declared = op.output_dtype(*arg_dtypes)
        self.steps.append((op, args))
        self.dtypes.append(declared)
        index = self.nin + len(self.steps) - 1
        natural = declared if isinstance(op, Cast) else _natural_dtype(op, arg_dtypes)
        target = dtype or declared
        if natural != declared or target != declared:
            self.steps.append((Cast(target), (index,)))
            self.dtypes.append(target)
            index += 1
        return index

    def add_node(self, op: ScalarOp, args: tuple[int, ...], dtype: str) -> int:
        """Append one elementwise node's scalar op, inlining a composite's own steps."""
        if not isinstance(op, Composite):
            return self.add(op, args, dtype)
        local = list(args)
        for k, (inner, idx) in enumerate(op.program):
            last = k == len(op.program) - 1
            local.append(self.add(inner, tuple(local[i] for i in idx),
                                  dtype if last else None))
        return local[-1]

    def composite(self) -> Composite:
        return Composite(tuple(self.steps), self.nin)


def _fixed_dtype(var: Variable, made: dict[Variable, Variable] | None = None) -> Variable:
    """``var``, or for a Python-number constant a constant of the same value and dtype that
    no longer adapts its dtype to the other inputs of the op it feeds (its dtype was chosen
    next to the inputs of its original node; the fused node has other inputs)."""
    if not getattr(var, "weak", False):
        return var
    if made is not None and var in made:
        return made[var]
    from ...tensor.basic import constant

    fixed = constant(var.data, dtype=var.type.dtype, weak=False)
    if made is not None:
        made[var] = fixed  # one constant per literal, however many loops read it
    return fixed


def fuse_group(fgraph: FunctionGraph, group: _Group,
               constants: dict[Variable, Variable] | None = None) -> Variable | None:
    """One elementwise node computing what ``group`` computes, or None if the result would
    not have the root's type."""
    ordered = group.members
    internal = {n.outputs[0] for n in ordered}
    inputs: list[Variable] = []
    position: dict[Variable, int] = {}
    for node in ordered:
        for inp in node.inputs:
            if inp not in internal and inp not in position:
                position[inp] = len(inputs)
                inputs.append(inp)
    builder = _ProgramBuilder(inputs)
    for node in ordered:
        args = tuple(position[i] for i in node.inputs)
        position[node.outputs[0]] = builder.add_node(node.op.scalar_op, args,
                                                     node.outputs[0].type.dtype)
    if position[group.root.outputs[0]] != builder.nin + len(builder.steps) - 1:
        return None  # the root is not the last step: the group was not what it claimed
    fused = Elemwise(builder.composite())(*[_fixed_dtype(v, constants) for v in inputs])
    old = group.root.outputs[0]
    if fused.type.dtype != old.type.dtype or fused.type.ndim != old.type.ndim:
        return None
    return fused


def fuse_reduction(fgraph: FunctionGraph, node: Apply,
                   constants: dict[Variable, Variable] | None = None) -> Variable | None:
    """A FusedReduce for the CAReduce ``node`` when its input is an elementwise result that
    nothing else reads; else None."""
    if not isinstance(node.op, CAReduce):
        return None
    value = node.inputs[0]
    elem = value.owner
    if elem is None or not _fusable(elem):
        return None
    if fgraph.clients.get(value, []) != [(node, 0)]:
        return None  # another reader (or a graph output) needs the array itself
    try:
        fused = FusedReduce(as_composite(elem.op.scalar_op), node.op)(
            *[_fixed_dtype(v, constants) for v in elem.inputs])
    except TypeError:
        return None
    old = node.outputs[0]
    if fused.type.dtype != old.type.dtype or fused.type.ndim != old.type.ndim:
        return None
    return fused


def _one_shot(name: str, replacement: Variable) -> NodeRewriter:
    """A rewriter that returns an already built replacement, so the engine's recording
    (trace event, source lines, type fitting, validation) applies to it."""
    return NodeRewriter(lambda fgraph, node: [replacement], None, name)


class FusionPass(GraphPass):
    """Elementwise fusion, then reduction fusion; one trace event per fusion made."""

    name = "fusion"
    tags = ("fusion",)

    def __init__(self, max_inputs: int = MAX_FUSED_INPUTS,
                 max_size: int = MAX_EXPRESSION_SIZE, excluding: tuple[str, ...] = ()):
        self.max_inputs = max_inputs
        self.max_size = max_size
        self.excluding = tuple(excluding)

    def apply(self, fgraph: FunctionGraph, record: PassRecord) -> None:
        recorder = ChangeRecorder()
        constants: dict[Variable, Variable] = {}
        fgraph.attach_feature(recorder)
        try:
            if "elemwise_fusion" not in self.excluding:
                self._fuse_elemwise(fgraph, record, recorder, constants)
            if "reduction_fusion" not in self.excluding:
                self._fuse_reductions(fgraph, record, recorder, constants)
        finally:
            fgraph.remove_feature(recorder)

    def _fuse_elemwise(self, fgraph: FunctionGraph, record: PassRecord,
                       recorder: ChangeRecorder, constants: dict) -> None:
        for group in find_groups(fgraph, self.max_inputs, self.max_size):
            # an upstream group replaced earlier only changed this group's inputs, and
            # members read their inputs when the group is built, so none is stale
            if any(n not in fgraph.apply_nodes for n in group.members):
                continue
            fused = fuse_group(fgraph, group, constants)
            if fused is not None:
                apply_rewrite(fgraph, _one_shot("elemwise_fusion", fused), group.root,
                              record, recorder)

    def _fuse_reductions(self, fgraph: FunctionGraph, record: PassRecord,
                         recorder: ChangeRecorder, constants: dict) -> None:
        for node in fgraph.toposort():
            if node not in fgraph.apply_nodes:
                continue
            fused = fuse_reduction(fgraph, node, constants)
            if fused is not None:
                apply_rewrite(fgraph, _one_shot("reduction_fusion", fused), node, record,
                              recorder)


__all__ = ["FusionPass", "MAX_EXPRESSION_SIZE", "MAX_FUSED_INPUTS", "find_groups", "fuse_group",
           "fuse_reduction"]

