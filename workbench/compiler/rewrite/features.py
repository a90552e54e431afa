"""FunctionGraph features the rewrites rely on: symbolic shapes and destroy tracking.

:class:`ShapeFeature` gives each variable's shape as symbolic int64 scalars computed from the
graph's input shapes through every op's ``infer_shape`` (a known static size is a constant),
so a rewrite can replace ``x.shape`` by arithmetic on input shapes without computing ``x``.

:class:`DestroyHandler` decides whether an op may overwrite an input in place: never a graph
input (unless declared mutable), a constant, shared storage, a graph output, or a value that
anything else still reads, directly or through a view.

>>> from workbench import tensor as T
>>> from workbench.compiler.fgraph import FunctionGraph
>>> x = T.dmatrix('x')
>>> fg = FunctionGraph([x], [T.exp(x).T], features=[ShapeFeature()])
>>> out = fg.outputs[0]
>>> [str(s) for s in fg.get_feature(ShapeFeature).shape_of(out)]
['Shape_i{1}.0', 'Shape_i{0}.0']
"""
from __future__ import annotations

from typing import Any

from ..fgraph import Feature, FunctionGraph, InconsistencyError
from ..graph import Apply, Constant, Variable, view_root
from ..types import TensorType


class ShapeFeature(Feature):
    """Symbolic shapes, computed on demand and remembered."""

    def __init__(self) -> None:
        self._shapes: dict[Variable, tuple] = {}

    def on_attach(self, fgraph: FunctionGraph) -> None:
        self.fgraph = fgraph

    def on_prune(self, fgraph, node, reason):
        for out in node.outputs:
            self._shapes.pop(out, None)

    def on_change_input(self, fgraph, node, i, old, new, reason):
        # The shapes remembered for what `node` computes, and for everything computed from
        # it, may be expressions over the replaced value's graph, which is being pruned:
        # forget them, or a rewrite importing such a shape would bring dead nodes back.
        if node == "output":
            return
        stack = list(node.outputs)
        while stack:
            var = stack.pop()
            if self._shapes.pop(var, None) is None:
                continue  # not remembered: neither is anything computed from it
            for client, _ in fgraph.clients.get(var, ()):
                if client != "output":
                    stack.extend(client.outputs)

    def shape_of(self, var: Variable) -> tuple:
        """``var``'s shape: one symbolic int64 scalar per dimension."""
        found = self._shapes.get(var)
        if found is not None:
            return found
        stack = [var]
        while stack:
            v = stack[-1]
            if v in self._shapes:
                stack.pop()
                continue
            node = v.owner
            pending = [] if node is None else [i for i in node.inputs
                                               if isinstance(i.type, TensorType)
                                               and i not in self._shapes]
            if pending and getattr(node.op, "infer_shape", None) is not None:
                stack.extend(pending)
                continue
            stack.pop()
            self._compute(v)
        return self._shapes[var]

    def _compute(self, var: Variable) -> None:
        node = var.owner
        infer = None if node is None else getattr(node.op, "infer_shape", None)
        if infer is not None:
            in_shapes = [self._shapes.get(i) if isinstance(i.type, TensorType) else None
                         for i in node.inputs]
            try:
                shapes = infer(node, in_shapes)
            except Exception:  # noqa: BLE001 - an op that cannot say: fall back to reading it
                shapes = None
            if shapes is not None:
                for out, shape in zip(node.outputs, shapes):
                    if isinstance(out.type, TensorType):
                        self._shapes[out] = self._normalize(out, shape)
                if var in self._shapes:
                    return
        self._shapes[var] = self._read_shape(var)

    def _normalize(self, var: Variable, shape: Any) -> tuple:
        from ...tensor.basic import as_tensor_variable, cast, constant

        items = []
        for axis, s in enumerate(shape):
            static = var.type.shape[axis]
            if static is not None:
                items.append(constant(static, dtype="int64"))
                continue
            if isinstance(s, (int,)) or hasattr(s, "__index__") and not isinstance(s, Variable):
                items.append(constant(int(s), dtype="int64"))
                continue
            s = as_tensor_variable(s)
            items.append(s if s.dtype == "int64" else cast(s, "int64"))
        return tuple(items)

    def _read_shape(self, var: Variable) -> tuple:
        from ...tensor.basic import constant
        from ..ops.shape import Shape_i

        return tuple(constant(s, dtype="int64") if s is not None else Shape_i(i)(var)
                     for i, s in enumerate(var.type.shape))


#: scalar ops whose NumPy implementation may return its input's own memory (``np.real`` of
#: a real array is that array; rounding an integer array returns it) or a read-only array
#: (``np.imag`` of a real array), though their Elemwise declares no view: such a result is
#: never overwritten. (Remove once their implementations always return fresh arrays.)
UNOWNED_RESULT_OPS = frozenset({"real", "imag", "round_half_away_from_zero"})


def _unowned_result(node: Apply) -> bool:
    """Whether ``node``'s output may not be memory of its own (see UNOWNED_RESULT_OPS)."""
    scalar_op = getattr(node.op, "scalar_op", None)
    if scalar_op is None:
        return False
    program = getattr(scalar_op, "program", None)
    if program:  # a composite: its last step makes the result
        scalar_op = program[-1][0]
    return getattr(scalar_op, "name", None) in UNOWNED_RESULT_OPS


def _elementwise(node: Apply) -> bool:
    return type(node.op).__name__ == "Elemwise"


def attached_feature(fgraph: FunctionGraph, cls: type) -> Any:
    """The graph's feature of class ``cls``, made with no arguments and attached on first
    use."""
    feature = fgraph.get_feature(cls)
    if feature is None:
        feature = cls()
        fgraph.attach_feature(feature)
    return feature


def shape_feature(fgraph: FunctionGraph) -> ShapeFeature:
    """The graph's ShapeFeature, attached on first use."""
    return attached_feature(fgraph, ShapeFeature)


class DestroyHandler(Feature):
    """Keeps in-place ops safe. ``mutable`` lists the graph inputs that may be overwritten."""

    def __init__(self, mutable: Any = ()) -> None:
        self.mutable = {id(v) for v in mutable}
        self.destroyers: dict[Apply, None] = {}
        # validate() re-checks only what changed since the last call: destroyers made or
        # rewired (_pending), and values that gained a reader (_dirty); a rewired view makes
        # it check everything (_full). _by_value: which destroyer overwrites each value.
        self._pending: set[Apply] = set()
        self._dirty: set[int] = set()
        self._full = True
        self._by_value: dict[int, Apply] = {}
        self._values_of: dict[Apply, list[int]] = {}

    def on_attach(self, fgraph: FunctionGraph) -> None:
        self.fgraph = fgraph
        self.destroyers = {n: None for n in fgraph.apply_nodes if n.op.destroy_map}
        self._full = True

    def on_import(self, fgraph, node, reason):
        if node.op.destroy_map:
            self.destroyers[node] = None
            self._pending.add(node)
        for inp in node.inputs:  # each input gains a reader
            self._dirty.add(id(self.value_root(inp)))

    def on_prune(self, fgraph, node, reason):
        self.destroyers.pop(node, None)
        self._pending.discard(node)
        for key in self._values_of.pop(node, ()):
            if self._by_value.get(key) is node:
                del self._by_value[key]

    def on_change_input(self, fgraph, node, i, old, new, reason):
        self._dirty.add(id(self.value_root(new)))
        if node == "output":
            return
        if node in self.destroyers:
            self._pending.add(node)
        elif node.op.view_map:
            self._full = True  # what the views downstream of it show has changed

    def storage_root(self, var: Variable) -> Variable:
        """The variable whose memory ``var`` views (itself when it owns its memory)."""
        return view_root(var)

    def is_protected(self, var: Variable) -> bool:
        """Whether ``var``'s memory must not be overwritten."""
        root = self.storage_root(var)
        if isinstance(root, Constant) or hasattr(root, "container"):
            return True
        if root.owner is None:
            return id(root) not in self.mutable
        return _unowned_result(root.owner)

    def can_destroy(self, node: Apply, i: int) -> bool:
        """Whether ``node`` may overwrite its input ``i``: the memory is not protected, and
        no other node and no graph output reads it, nor any view of it."""
        var = node.inputs[i]
        if self.is_protected(var):
            return False
        fg = self.fgraph
        # walk down from the memory's owner through every view of it: only `node` may read
        root = self.storage_root(var)
        stack = [root]
        seen = set()
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            for client, j in fg.clients.get(v, ()):
                if client == "output":
                    return False
                if client is node:
                    # the input it overwrites, or (elementwise only) the very same array read
                    # again: each element is read before it is written
                    if v is var and (j == i or _elementwise(node)):
                        continue
                    return False  # it reads that memory through another view, or a BLAS op
                    # would read elements it already wrote
                op = client.op
                views = [o for o, ins in list(op.view_map.items()) + list(op.destroy_map.items())
                         if j in ins]
                if not views:
                    return False  # another reader of the same memory
                # a view is fine only if nothing reads it: follow it
                stack.extend(client.outputs[o] for o in views)
        return True

    def value_root(self, var: Variable) -> Variable:
        """The value ``var`` is a view of (itself when it is no view). Unlike
        :meth:`storage_root` this stops at a destroyer's output: that is a new value in the
        same memory, which the next op of a chain may overwrite in turn."""
        while var.owner is not None:
            viewed = var.owner.op.view_map.get(var.index)
            if not viewed:
                break
            var = var.owner.inputs[viewed[0]]
        return var

    def validate(self, fgraph: FunctionGraph) -> None:
        """No value overwritten twice; nothing protected overwritten; no value overwritten
        while another node (or a graph output) still reads it. Only what changed since the
        last validation is checked."""
        if self._full:
            todo = list(self.destroyers)
            self._by_value.clear()
            self._values_of.clear()
        else:
            todo = list(self._pending)
            for key in self._dirty:
                node = self._by_value.get(key)
                if node is not None and node in self.destroyers:
                    todo.append(node)
        try:
            for node in dict.fromkeys(todo):
                self._check(node)
        finally:
            self._pending.clear()
            self._dirty.clear()
            self._full = False

    def _check(self, node: Apply) -> None:
        keys = []
        for _, ins in node.op.destroy_map.items():
            for i in ins:
                root = self.storage_root(node.inputs[i])
                if self.is_protected(node.inputs[i]):
                    self._full = True
                    raise InconsistencyError(f"{node.op} would overwrite {root}, which is "
                                             f"an input, a constant or shared storage")
                # keyed by value, not memory: a chain of in-place ops, each overwriting
                # the previous one's result, is fine
                value = self.value_root(node.inputs[i])
                other = self._by_value.get(id(value))
                if other is not None and other is not node and other in self.destroyers:
                    self._full = True
                    raise InconsistencyError(f"{node.op} and {other.op} both overwrite "
                                             f"{value}")
                if not self.can_destroy(node, i):
                    # e.g. a merge after the in-place pass gave the value another reader
                    self._full = True
                    raise InconsistencyError(f"{node.op} would overwrite {node.inputs[i]}, "
                                             f"which something else still reads")
                keys.append(id(value))
        for key in keys:
            self._by_value[key] = node
        self._values_of[node] = keys
