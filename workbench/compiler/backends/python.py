"""The Python backend: a small VM that runs a FunctionGraph through each op's ``perform``.

Graphs without lazy ops run as one straight loop over the nodes in order, freeing each
intermediate after its last use. A graph with a lazy op (``op.lazy = True``, such as
``ifelse``) is evaluated on demand, so a branch that is not taken is never computed.

>>> from workbench import tensor as T
>>> from workbench.compiler.fgraph import FunctionGraph
>>> from workbench.compiler.backends.python import PythonVM
>>> x = T.dscalar('x')
>>> vm = PythonVM(FunctionGraph([x], [x * 2]))
>>> vm.storage[vm.fgraph.inputs[0]][0] = 3.0
>>> vm.run(); float(vm.storage[vm.fgraph.outputs[0]][0])
6.0
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from ..fgraph import FunctionGraph
from ..graph import Apply, Constant, Variable
from ..profile import value_shapes
from ..shared import SharedVariable
from .errors import raise_node_error

try:
    # np.errstate costs ~2 us per use, as much as a whole small call; setting NumPy's
    # error-state context variable directly costs a quarter of that. Private NumPy names,
    # so fall back to the public context manager where they are missing.
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    _make_extobj(all="ignore")

    def _errors_ignored() -> Any:
        return _extobj_contextvar.set(_make_extobj(all="ignore"))

    def _errors_restored(token: Any) -> None:
        _extobj_contextvar.reset(token)
except (ImportError, TypeError):  # pragma: no cover - other NumPy versions
    def _errors_ignored() -> Any:
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def _errors_restored(token: Any) -> None:
        token.__exit__(None, None, None)


class PythonVM:
    """Runs a graph: ``storage`` maps each variable to a one-element list (its cell).

    ``check_outputs=True`` verifies that every op's output has the dtype and static shape
    its node promised (what DebugMode does).
    """

    def __init__(self, fgraph: FunctionGraph, check_outputs: bool = False,
                 allow_gc: bool = True, input_storage: dict[Variable, list] | None = None):
        self.fgraph = fgraph
        self.check_outputs = check_outputs
        self.nodes = fgraph.toposort()
        self.storage: dict[Variable, list] = dict(input_storage or {})
        for var in fgraph.inputs:
            if var not in self.storage:
                self.storage[var] = var.storage if isinstance(var, SharedVariable) else [None]
        for node in self.nodes:
            for var in node.inputs:
                if var not in self.storage:
                    if isinstance(var, SharedVariable):
                        self.storage[var] = var.storage
                    elif isinstance(var, Constant):
                        self.storage[var] = [var.data]
                    else:
                        self.storage[var] = [None]
            for var in node.outputs:
                self.storage[var] = [None]
        for var in fgraph.outputs:
            if var not in self.storage:
                self.storage[var] = [var.data] if isinstance(var, Constant) else [None]
        self.lazy = any(getattr(node.op, "lazy", False) for node in self.nodes)
        self._steps = [(node, node.op.perform, [self.storage[v] for v in node.inputs],
                        [self.storage[v] for v in node.outputs]) for node in self.nodes]
        self._gc_after = self._plan_gc() if allow_gc else [[] for _ in self.nodes]

    def _plan_gc(self) -> list[list[list]]:
        """For each step, the cells of intermediates used for the last time there."""
        keep = set(self.fgraph.outputs) | set(self.fgraph.inputs)
        last_use: dict[Variable, int] = {}
        for i, node in enumerate(self.nodes):
            for var in node.inputs:
                last_use[var] = i
        plan: list[list[list]] = [[] for _ in self.nodes]
        for var, i in last_use.items():
            if var.owner is not None and var not in keep:
                plan[i].append(self.storage[var])
        return plan

    def run(self) -> None:
        """Compute every output from the values in the input cells."""
        if self.lazy:
            self._run_lazy()
            return
        token = _errors_ignored()
        try:
            for (node, perform, ins, outs), dead in zip(self._steps, self._gc_after):
                try:
                    perform(node, [c[0] for c in ins], outs)
                except Exception as exc:  # noqa: BLE001 - re-raised with the node's context
                    raise_node_error(exc, node, [c[0] for c in ins])
                if self.check_outputs:
                    check_node_outputs(node, [c[0] for c in outs])
                for cell in dead:
                    cell[0] = None
        finally:
            _errors_restored(token)

    def run_profiled(self, stats: Any) -> None:
        """``run()``, timing each node with ``time.perf_counter()`` into ``stats`` (a
        :class:`~workbench.compiler.profile.ProfileStats` over ``self.nodes``): each node
        that runs is reported as ``stats.record_node(index, seconds, in_shapes, out_shapes,
        start)``. In a lazy graph only the nodes actually run are reported, and a lazy op's
        time excludes the inputs it computed on demand."""
        if self.lazy:
            self._run_lazy(stats)
            return
        clock = time.perf_counter
        record = stats.record_node
        token = _errors_ignored()
        try:
            for index, ((node, perform, ins, outs), dead) in enumerate(
                    zip(self._steps, self._gc_after)):
                args = [c[0] for c in ins]
                start = clock()
                try:
                    perform(node, args, outs)
                except Exception as exc:  # noqa: BLE001 - re-raised with the node's context
                    raise_node_error(exc, node, args)
                seconds = clock() - start
                record(index, seconds, value_shapes(args), value_shapes([c[0] for c in outs]),
                       start)
                if self.check_outputs:
                    check_node_outputs(node, [c[0] for c in outs])
                for cell in dead:
                    cell[0] = None
        finally:
            _errors_restored(token)

    def _run_lazy(self, stats: Any = None) -> None:
        computed: set[Apply] = set()
        position = {node: i for i, node in enumerate(self.nodes)} if stats is not None else {}
        # seconds spent computing nested nodes, one slot per node being computed, so a lazy
        # op (which computes its inputs inside perform_lazy) reports only its own time
        nested: list[float] = []

        def value_of(var: Variable) -> Any:
            node = var.owner
            if node is not None and node not in computed and var not in self.fgraph.inputs:
                compute(node)
            return self.storage[var][0]

        def compute(node: Apply) -> None:
            outs = [self.storage[v] for v in node.outputs]
            if getattr(node.op, "lazy", False):
                getters: list[Callable[[], Any]] = [
                    (lambda v=v: value_of(v)) for v in node.inputs]
                args = None
                start = time.perf_counter() if stats is not None else 0.0
                nested.append(0.0)
                try:
                    node.op.perform_lazy(node, getters, outs)
                except Exception as exc:  # noqa: BLE001
                    raise_node_error(exc, node, None)
                finally:
                    inner = nested.pop()
            else:
                args = [value_of(v) for v in node.inputs]
                start = time.perf_counter() if stats is not None else 0.0
                inner = 0.0
                try:
                    node.op.perform(node, args, outs)
                except Exception as exc:  # noqa: BLE001
                    raise_node_error(exc, node, args)
            if stats is not None:
                elapsed = time.perf_counter() - start
                if nested:
                    nested[-1] += elapsed
                in_shapes = value_shapes(args) if args is not None else None
                stats.record_node(position[node], elapsed - inner, in_shapes,
                                  value_shapes([c[0] for c in outs]), start)
            if self.check_outputs:
                check_node_outputs(node, [c[0] for c in outs])
            computed.add(node)

        token = _errors_ignored()
        try:
            for out in self.fgraph.outputs:
                value_of(out)
        finally:
            _errors_restored(token)
        for node in self.nodes:
            for var in node.outputs:
                if var not in self.fgraph.outputs:
                    self.storage[var][0] = None


def check_node_outputs(node: Apply, values: list) -> None:
    """Raise if an op's outputs disagree with the types its node declared."""
    from ..types import TensorType

    for var, value in zip(node.outputs, values):
        if not isinstance(var.type, TensorType):
            continue
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{node.op} returned {type(value).__name__} for output {var.index}, "
                            f"not a numpy.ndarray")
        if value.dtype.name != var.type.dtype:
            raise TypeError(f"{node.op} returned dtype {value.dtype.name} for output "
                            f"{var.index}, its node declares {var.type.dtype}")
        if value.ndim != var.type.ndim or any(
                s is not None and s != v for s, v in zip(var.type.shape, value.shape)):
            raise TypeError(f"{node.op} returned shape {value.shape} for output {var.index}, "
                            f"its node declares {var.type}")
