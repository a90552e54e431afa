"""The C backend's runner: builds (or loads) the graph's module and calls its entry point.

It has the Python VM's interface (``storage`` cells, ``run()``) so ``Function`` treats both
alike, plus ``fast_call(args)``: the inputs go straight to C, which checks them (exact
ndarrays of the right dtype and rank, or Python scalars for 0-d inputs) and asks for the
slow path (``None``) only when something needs converting.

>>> from workbench import tensor as T
>>> from workbench.compiler.fgraph import FunctionGraph
>>> from workbench.compiler.backends.c.vm import CVM
>>> x = T.dscalar('x')
>>> vm = CVM(FunctionGraph([x], [x * 2]))
>>> float(vm.fast_call((3.0,))[0])
6.0
"""
from __future__ import annotations

import time
import weakref
from typing import Any

import numpy as np

from ...fgraph import FunctionGraph
from ...graph import Apply, Constant
from ...shared import SharedVariable
from ..errors import raise_node_error
from ..python import _errors_ignored, _errors_restored
from . import cache
from .linker import CDEF, CLinker


def _thunk(node: Apply):
    """A callable running ``node`` through its op's perform (for ops without C code)."""
    op, n_out = node.op, len(node.outputs)

    def run(*values: Any) -> tuple:
        storage = [[None] for _ in range(n_out)]
        op.perform(node, list(values), storage)
        return tuple(cell[0] for cell in storage)

    return run


class CVM:
    """Runs ``fgraph`` as one generated C function (see :mod:`.linker`)."""

    backend = "c"

    def __init__(self, fgraph: FunctionGraph, check_outputs: bool = False):
        start = time.perf_counter()
        self.fgraph = fgraph
        linker = CLinker(fgraph)
        self.linker = linker
        self.nodes = linker.order
        self.source = linker.source
        self.codegen_seconds = time.perf_counter() - start
        module, self.cache_hit = cache.get_module(
            linker.source, CDEF, description=_describe(fgraph))
        self.build_seconds = time.perf_counter() - start - self.codegen_seconds
        self.lib = module.lib
        self._call = module.lib.wb_call
        self.fallback_nodes = [n for n, fb in zip(self.nodes, linker.fallback) if fb]
        self._quiet = bool(self.fallback_nodes)  # perform may warn; NumPy's state is ours
        self._thunks = tuple(_thunk(n) for n in self.nodes)
        self._cells_tuple = tuple(svar.storage for svar in linker.implicit)
        self._outs: list = [None] * len(fgraph.outputs)
        self._error: list = [None]
        self._st = module.lib.wb_new(len(linker.slots), len(self.nodes), id(self._thunks),
                                     id(self._cells_tuple), id(self._outs), id(self._error))
        self._finalizer = weakref.finalize(self, module.lib.wb_free, self._st)
        for slot, value in linker.constants:
            # NumPy scalars become 0-d arrays; wb_put keeps its own reference in C
            obj = np.asarray(value) if hasattr(value, "dtype") and \
                not isinstance(value, np.ndarray) else value
            module.lib.wb_put(self._st, slot, id(obj))
        if linker.blas_names:
            from .blas_pointers import pointer

            for i, name in enumerate(linker.blas_names):
                module.lib.wb_set_blas(self._st, i, module.ffi.cast("void *", pointer(name)))
        # the Python VM's interface: a cell per input and output
        self.storage: dict = {}
        for var in fgraph.inputs:
            self.storage[var] = var.storage if isinstance(var, SharedVariable) else [None]
        for var in fgraph.outputs:
            if var not in self.storage:
                self.storage[var] = [var.data] if isinstance(var, Constant) else [None]
        self._in_cells = [self.storage[v] for v in linker.explicit]
        # an output that is an input already sits in its cell (a shared variable's storage,
        # say): only computed outputs are written
        inputs = set(fgraph.inputs)
        self._out_cells = [self.storage[v] if v not in inputs else [None]
                           for v in fgraph.outputs]

    # -- calling ---------------------------------------------------------------------------
    def run(self) -> None:
        """Compute the outputs from the values in the input cells (already checked)."""
        args = tuple(cell[0] for cell in self._in_cells)
        for cell in self._out_cells:
            cell[0] = None  # so last call's buffers can be reused when the caller let go
        token = _errors_ignored() if self._quiet else None
        try:
            rc = self._call(self._st, id(args), 0)
        finally:
            if token is not None:
                _errors_restored(token)
        if rc:
            self._raise(rc)
        for cell, value in zip(self._out_cells, self._outs):
            cell[0] = value

    def fast_call(self, args: tuple) -> list | None:
        """The outputs for ``args`` (one value per explicit input), or None when an input
        needs converting first (the caller then filters and calls ``run``)."""
        token = _errors_ignored() if self._quiet else None
        try:
            rc = self._call(self._st, id(args), 1)
        finally:
            if token is not None:
                _errors_restored(token)
        if rc == 0:
            return list(self._outs)
        if rc == -2:
            return None
        self._raise(rc)

    def _raise(self, rc: int) -> None:
        exc = self._error[0]
        self._error[0] = None
        k = self.lib.wb_failed_node(self._st)
        node = self.nodes[k] if 0 <= k < len(self.nodes) else None
        if exc is None:
            exc = RuntimeError(f"the compiled function failed (code {rc})")
        if node is None:
            raise exc
        raise_node_error(exc, node, None)

    def run_profiled(self, stats: Any) -> None:
        """``run`` with a timer around every node; records into ``stats``
        (:class:`~workbench.compiler.profile.ProfileStats`)."""
        dump: list = [None] * len(self.linker.slots)
        self.lib.wb_set_profile(self._st, 1, id(dump))
        try:
            self.run()
        finally:
            self.lib.wb_set_profile(self._st, 0, 0)
        slots = self.linker.slots
        for k, node in enumerate(self.nodes):
            seconds = self.lib.wb_node_seconds(self._st, k)
            if seconds < 0:
                continue  # not run (a branch of ifelse not taken)
            stats.record_node(k, seconds,
                              [_shape(dump[slots[v]]) for v in node.inputs],
                              [_shape(dump[slots[v]]) for v in node.outputs])


def _shape(value: Any) -> tuple | None:
    shape = getattr(value, "shape", None)
    return tuple(shape) if shape is not None else None


def _describe(fgraph: FunctionGraph) -> str:
    ops = {}
    for node in fgraph.apply_nodes:
        name = type(node.op).__name__
        ops[name] = ops.get(name, 0) + 1
    return f"{len(fgraph.apply_nodes)} nodes: " + ", ".join(
        f"{k}×{v}" if v > 1 else k for k, v in sorted(ops.items(), key=lambda kv: -kv[1])[:6])
