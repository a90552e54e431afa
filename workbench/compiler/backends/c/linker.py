"""Whole-graph C: one generated source per FunctionGraph, with one entry point.

Each variable of the graph has a storage slot (a ``PyObject *``: an ndarray, or for a few
non-tensor types any object). Each node becomes one block of C, marked
``/* node <id>: <op> */`` ... ``/* end node <id> */`` so the code view can link blocks to the
graph record's nodes. A block comes from the emitter registered for the node's op class
(:mod:`.registry`); a node whose op has no emitter, or whose emitter declines (returns None,
for dtypes it does not handle), calls the op's ``perform`` through Python from inside the same
C function, so every graph compiles.

Graphs without lazy ops run as straight-line code. A graph with a lazy op (``ifelse``) gets one
C function per node that first computes its inputs on demand, so a branch not taken is never
computed.

>>> from workbench import tensor as T
>>> from workbench.compiler.fgraph import FunctionGraph
>>> x = T.dvector('x')
>>> src = CLinker(FunctionGraph([x], [T.exp(x) * 2])).source
>>> '/* node ' in src and 'wb_call' in src
True
"""
from __future__ import annotations

import os
from typing import Callable

import numpy as np

from ...graph import Apply, Constant, Variable
from ...graphrecord import node_id
from ...shared import SharedVariable
from ...types import TensorType
from ..cstyle import SCALAR_HELPERS, TYPENUMS
from . import registry

_RUNTIME = os.path.join(os.path.dirname(__file__), "runtime.h")

#: declarations cffi exposes to Python
CDEF = """
int wb_init(void);
void *wb_new(int n_store, int n_nodes, intptr_t thunks, intptr_t cells, intptr_t outs,
             intptr_t error);
void wb_put(void *state, int slot, intptr_t obj);
void wb_free(void *state);
void wb_set_profile(void *state, int on, intptr_t dump);
double wb_node_seconds(void *state, int k);
int wb_failed_node(void *state);
void wb_set_blas(void *state, int i, void *fn);
int wb_call(void *state, intptr_t args, int check);
"""

# vectorised libm (glibc's libmvec) for the loops OpenMP's simd pragma vectorises
_SIMD_DECLS = "\n".join(
    f"#pragma omp declare simd notinbranch\n{t} {f}{s}({t});"
    for f in ("exp", "log", "sin", "cos", "tan", "expm1", "log1p", "tanh")
    for t, s in (("double", ""), ("float", "f")))


def _c_string(text: str) -> str:
    """A C string literal for ``text`` (an argument of a format, not a format)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class CNode:
    """What an emitter sees of one node: names to use in its block, and helpers.

    Inside a block, input ``i`` is the ``PyArrayObject *`` named ``i<i>`` and output ``j`` is
    the slot ``PyObject **o<j>`` the emitter fills (``wb_prepare(o0, nd, dims, typenum)``
    allocates it, ``wb_set(o0, obj)`` stores a reference). ``fail(...)`` is the code that
    raises a Python exception and leaves the function.
    """

    def __init__(self, linker: "CLinker", node: Apply, index: int):
        self.linker = linker
        self.node = node
        self.index = index
        self.ins = [f"i{i}" for i in range(len(node.inputs))]
        self.outs = [f"o{j}" for j in range(len(node.outputs))]

    # -- types ------------------------------------------------------------------------------
    def in_dtype(self, i: int) -> str:
        return self.node.inputs[i].type.dtype

    def out_dtype(self, j: int = 0) -> str:
        return self.node.outputs[j].type.dtype

    @staticmethod
    def typenum(dtype: str) -> str:
        return TYPENUMS[np.dtype(dtype).name]

    # -- code helpers ----------------------------------------------------------------------
    def fail(self, message: str, *c_args: str, exc: str = "PyExc_ValueError") -> str:
        """Code raising ``exc`` with a printf-style ``message`` (``%ld`` etc. take
        ``c_args``) and leaving the function."""
        fmt = '"' + message.replace("\\", "\\\\").replace('"', '\\"') + '"'
        args = "".join(f", {a}" for a in c_args)
        return f"{{ PyErr_Format({exc}, {fmt}{args}); goto wb_fail; }}"

    @property
    def fail_pending(self) -> str:
        """Code leaving the function when a Python exception is already set."""
        return "goto wb_fail;"

    def support(self, code: str) -> None:
        """Add helper code (functions, macros) once to the module."""
        self.linker.add_support(code)

    @property
    def omp_min(self) -> int:
        """Loops over at least this many elements use OpenMP (``config.openmp_elemwise_minsize``)."""
        return self.linker.omp_min

    def blas(self, name: str) -> str:
        """A C expression for the BLAS function ``name`` (e.g. ``dgemm``), loaded from SciPy."""
        return self.linker.blas_slot(name)


class CLinker:
    """Generates the C source of a graph; ``source`` is the text, ``order`` the nodes."""

    def __init__(self, fgraph, omp_min: int | None = None):
        from ....config import config

        self.fgraph = fgraph
        self.omp_min = int(config.openmp_elemwise_minsize if omp_min is None else omp_min)
        self.order: list[Apply] = fgraph.toposort()
        self._support: list[str] = []
        self._support_seen: set[str] = set()
        self.blas_names: list[str] = []
        self.slots: dict[Variable, int] = {}
        self.constants: list[tuple[int, object]] = []
        self.explicit: list[Variable] = []
        self.implicit: list[SharedVariable] = []
        self.fallback: list[bool] = []
        self.lazy = any(getattr(n.op, "lazy", False) for n in self.order)
        self._assign_slots()
        self.source = self._generate()

    # -- slots -----------------------------------------------------------------------------
    def _slot(self, var: Variable) -> int:
        if var not in self.slots:
            self.slots[var] = len(self.slots)
            if isinstance(var, Constant):
                self.constants.append((self.slots[var], var.data))
        return self.slots[var]

    def _assign_slots(self) -> None:
        for var in self.fgraph.inputs:
            self._slot(var)
            if isinstance(var, SharedVariable):
                self.implicit.append(var)
            else:
                self.explicit.append(var)
        for node in self.order:
            for var in node.inputs + node.outputs:
                self._slot(var)
        for var in self.fgraph.outputs:
            self._slot(var)

    def add_support(self, code: str) -> None:
        if code not in self._support_seen:
            self._support_seen.add(code)
            self._support.append(code)

    def blas_slot(self, name: str) -> str:
        if name not in self.blas_names:
            if len(self.blas_names) == 8:
                raise ValueError("too many BLAS functions in one graph")
            self.blas_names.append(name)
        return f"st->blas[{self.blas_names.index(name)}]"

    # -- generation ------------------------------------------------------------------------
    def _node_block(self, k: int, node: Apply) -> str:
        if getattr(node.op, "lazy", False):
            self.fallback.append(False)  # written in C by _ifelse_block, not through perform
            return ""
        cn = CNode(self, node, k)
        emitter = registry.emitter_for(node.op)
        body = None
        if emitter is not None and all(isinstance(v.type, TensorType)
                                       for v in node.inputs + node.outputs):
            body = emitter(cn)
        self.fallback.append(body is None)
        if body is None:
            body = self._thunk_call(k, node)
        decl_in = "".join(f"    PyArrayObject *i{i} = (PyArrayObject *)S[{self.slots[v]}];\n"
                          for i, v in enumerate(node.inputs))
        decl_out = "".join(f"    PyObject **o{j} = &S[{self.slots[v]}];\n"
                           for j, v in enumerate(node.outputs))
        unused = "".join(f" (void)i{i};" for i in range(len(node.inputs))) + \
            "".join(f" (void)o{j};" for j in range(len(node.outputs)))
        label = str(node.op).replace("*/", "* /").replace("\n", " ")
        return (f"/* node {node_id(node)}: {label} */\n"
                f"st->node = {k};\n"
                f"if (st->profile) t0 = wb_now();\n"
                f"{{\n{decl_in}{decl_out}   {unused}\n"
                + _indent(body.strip("\n"), 4) + "\n}\n"
                f"if (st->profile) st->node_seconds[{k}] = wb_now() - t0;\n"
                f"/* end node {node_id(node)} */\n")

    def _thunk_call(self, k: int, node: Apply) -> str:
        # NumPy's type number for tensor outputs (converted to it), -1 for other objects
        typenums = ", ".join(
            (TYPENUMS.get(v.type.dtype) or _numpy_typenum(v.type.dtype))
            if isinstance(v.type, TensorType) else "-1" for v in node.outputs)
        ins = ", ".join(f"S[{self.slots[v]}]" for v in node.inputs) or "NULL"
        outs = ", ".join(f"&S[{self.slots[v]}]" for v in node.outputs)
        return (f"/* no C code for this op: its perform runs through Python */\n"
                f"PyObject *args[] = {{{ins}}};\n"
                f"PyObject **res[] = {{{outs}}};\n"
                f"static const int tn[] = {{{typenums}}};\n"
                f"if (wb_thunk(st, {k}, {len(node.inputs)}, args, {len(node.outputs)}, res, tn))"
                f" goto wb_fail;")

    def _generate(self) -> str:
        blocks = [self._node_block(k, node) for k, node in enumerate(self.order)]
        if self.lazy:
            body = self._lazy_body(blocks)
        else:
            body = ("static int wb_body(wb_state *st, PyObject **S) {\n"
                    "    double t0 = 0; (void)t0;\n"
                    + _indent("".join(blocks), 4)
                    + "    return 0;\nwb_fail:\n    return -1;\n}\n")
        with open(_RUNTIME) as fh:
            runtime = fh.read()
        parts = [runtime, SCALAR_HELPERS, _SIMD_DECLS, *self._support, body, self._entry(),
                 STATE_FUNCTIONS]
        return "\n".join(parts)

    def _lazy_body(self, blocks: list[str]) -> str:
        """One function per node, computing its inputs on demand (``ifelse`` picks one side)."""
        index = {node: k for k, node in enumerate(self.order)}
        protos = "".join(f"static int wb_node{k}(wb_state *st, PyObject **S);\n"
                         for k in range(len(self.order)))
        funcs = []
        for k, node in enumerate(self.order):
            def need(var: Variable) -> str:
                owner = var.owner
                if owner is None or owner not in index:
                    return ""
                return f"if (wb_node{index[owner]}(st, S)) return -1;\n"

            if getattr(node.op, "lazy", False):
                pre = self._ifelse_block(k, node, need)
                block = ""
            else:
                pre = "".join(dict.fromkeys(need(v) for v in node.inputs))
                block = blocks[k]
            funcs.append(
                f"static int wb_node{k}(wb_state *st, PyObject **S) {{\n"
                f"    double t0 = 0; (void)t0;\n"
                f"    if (st->computed[{k}]) return 0;\n"
                + _indent(pre, 4) + _indent(block, 4)
                + f"    st->computed[{k}] = 1;\n    return 0;\n"
                + ("wb_fail:\n    return -1;\n" if block else "") + "}\n")
        outs = "".join(
            f"    if (wb_node{index[v.owner]}(st, S)) return -1;\n"
            for v in dict.fromkeys(self.fgraph.outputs) if v.owner in index)
        return (protos + "".join(funcs)
                + "static int wb_body(wb_state *st, PyObject **S) {\n"
                f"    memset(st->computed, 0, {max(len(self.order), 1)});\n"
                + outs + "    return 0;\n}\n")

    def _ifelse_block(self, k: int, node: Apply, need: Callable[[Variable], str]) -> str:
        n = node.op.n_outs
        cond = node.inputs[0]
        lines = [f"/* node {node_id(node)}: {node.op} */", f"st->node = {k};", need(cond),
                 f"int take = PyObject_IsTrue(S[{self.slots[cond]}]);",
                 "if (take < 0) return -1;", "if (take) {"]
        for side, label in ((1, "then"), (1 + n, "else")):
            if label == "else":
                lines.append("} else {")
            for i in range(n):
                src = node.inputs[side + i]
                dst = self.slots[node.outputs[i]]
                lines.append("    " + need(src).strip())
                lines.append(
                    f"    {{ PyObject *c = PyArray_NewCopy((PyArrayObject *)S[{self.slots[src]}],"
                    f" NPY_CORDER); if (c == NULL) return -1; Py_XDECREF(S[{dst}]); "
                    f"S[{dst}] = c; }}")
        lines += ["}", f"/* end node {node_id(node)} */"]
        return "\n".join(line for line in lines if line.strip()) + "\n"

    def _entry(self) -> str:
        """wb_call: take the inputs, run the body, hand over the outputs, drop aliases."""
        check_lines = []
        for j, var in enumerate(self.explicit):
            slot = self.slots[var]
            t = var.type
            if not isinstance(t, TensorType) or t.dtype not in TYPENUMS:
                check_lines.append("    if (check) { rc = -2; goto done; }")
                check_lines.append(f"    wb_set(&S[{slot}], PyTuple_GET_ITEM(a, {j}));")
                continue
            static = " || ".join(f"PyArray_DIMS((PyArrayObject *)o)[{ax}] != {s}"
                                 for ax, s in enumerate(t.shape) if s is not None)
            check_lines.append(
                f"    o = PyTuple_GET_ITEM(a, {j});\n"
                f"    if (check && !wb_input_ok(o, {TYPENUMS[t.dtype]}, {t.ndim})) {{\n"
                + (f"        PyObject *c = wb_scalar_input(o, {TYPENUMS[t.dtype]});\n"
                   f"        if (c == NULL) {{ rc = -2; goto done; }}\n"
                   f"        Py_XDECREF(S[{slot}]); S[{slot}] = c;\n"
                   if t.ndim == 0 else "        rc = -2; goto done;\n")
                + "    } else"
                + (f" if (check && ({static})) {{ rc = -2; goto done; }} else" if static else "")
                + f" wb_set(&S[{slot}], o);")
        for j, var in enumerate(self.implicit):
            # shared storage is checked when set, but a list can be written to directly
            t = var.type
            ok = (f"wb_input_ok(o, {TYPENUMS[t.dtype]}, {t.ndim})"
                  if isinstance(t, TensorType) and t.dtype in TYPENUMS else "1")
            name = _c_string(str(var))
            check_lines.append(
                f"    o = PyList_GET_ITEM(PyTuple_GET_ITEM(st->cells, {j}), 0);\n"
                f"    if (!({ok})) {{ st->node = -1; PyErr_Format(PyExc_TypeError, "
                f"\"shared variable %s holds a value that is not a {t}\", {name}); "
                f"wb_stash_error(st); rc = -1; goto done; }}\n"
                f"    wb_set(&S[{self.slots[var]}], o);")
        outs = "".join(
            f"    Py_XINCREF(S[{self.slots[v]}]); PyList_SetItem(st->outs, {i}, "
            f"S[{self.slots[v]}] ? S[{self.slots[v]}] : (Py_INCREF(Py_None), Py_None));\n"
            for i, v in enumerate(self.fgraph.outputs))
        # slots not kept between calls: the inputs (the caller's arrays) and every result
        # that aliases another (views, in-place results, ifelse) or that perform made
        kept = set()
        for k, node in enumerate(self.order):
            if not self.fallback[k] and not node.op.view_map and not node.op.destroy_map \
                    and not getattr(node.op, "lazy", False):
                kept.update(self.slots[v] for v in node.outputs)
        kept.update(slot for slot, _ in self.constants)
        dropped = sorted(set(self.slots.values()) - kept)
        clear = "".join(f"    Py_CLEAR(S[{s}]);\n" for s in dropped)
        n_out = len(self.fgraph.outputs)
        return (
            "int wb_call(void *state, intptr_t args, int check) {\n"
            "    PyGILState_STATE gil = PyGILState_Ensure();\n"
            "    wb_state *st = (wb_state *)state;\n"
            "    PyObject **S = st->store;\n"
            "    PyObject *a = (PyObject *)args, *o = NULL; (void)o; (void)a;\n"
            "    int rc = 0;\n"
            f"    if (st->profile) for (int k = 0; k < {len(self.order)}; k++) "
            "st->node_seconds[k] = -1;\n"
            f"    for (int i = 0; i < {n_out}; i++) {{ Py_INCREF(Py_None); "
            "PyList_SetItem(st->outs, i, Py_None); }\n"
            + "\n".join(check_lines) + "\n"
            "    if (wb_body(st, S)) { wb_stash_error(st); rc = -1; goto done; }\n"
            + outs +
            "done:\n"
            "    if (st->dump) for (int i = 0; i < st->n_store; i++) {\n"
            "        PyObject *v = S[i] ? S[i] : Py_None; Py_INCREF(v); PyList_SetItem(st->dump, i, v); }\n"
            + clear +
            "    PyGILState_Release(gil);\n"
            "    return rc;\n}\n")


def _numpy_typenum(dtype: str) -> str:
    return str(np.dtype(dtype).num)


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


#: the functions every module defines besides wb_call (state management)
STATE_FUNCTIONS = r"""
int wb_init(void) {
    PyGILState_STATE gil = PyGILState_Ensure();
    int rc = _import_array();
    if (rc < 0) PyErr_Print();
    PyGILState_Release(gil);
    return rc;
}
void *wb_new(int n_store, int n_nodes, intptr_t thunks, intptr_t cells, intptr_t outs,
             intptr_t error) {
    PyGILState_STATE gil = PyGILState_Ensure();
    wb_state *st = (wb_state *)calloc(1, sizeof(wb_state));
    st->n_store = n_store;
    st->store = (PyObject **)calloc(n_store > 0 ? n_store : 1, sizeof(PyObject *));
    st->node_seconds = (double *)calloc(n_nodes > 0 ? n_nodes : 1, sizeof(double));
    st->computed = (char *)calloc(n_nodes > 0 ? n_nodes : 1, 1);
    st->thunks = (PyObject *)thunks; Py_INCREF(st->thunks);
    st->cells = (PyObject *)cells; Py_INCREF(st->cells);
    st->outs = (PyObject *)outs; Py_INCREF(st->outs);
    st->error = (PyObject *)error; Py_INCREF(st->error);
    PyGILState_Release(gil);
    return st;
}
void wb_put(void *state, int slot, intptr_t obj) {
    PyGILState_STATE gil = PyGILState_Ensure();
    wb_set(&((wb_state *)state)->store[slot], (PyObject *)obj);
    PyGILState_Release(gil);
}
void wb_free(void *state) {
    wb_state *st = (wb_state *)state;
    PyGILState_STATE gil = PyGILState_Ensure();
    for (int i = 0; i < st->n_store; i++) Py_CLEAR(st->store[i]);
    Py_CLEAR(st->thunks); Py_CLEAR(st->cells); Py_CLEAR(st->outs); Py_CLEAR(st->error);
    Py_CLEAR(st->dump);
    PyGILState_Release(gil);
    free(st->store); free(st->node_seconds); free(st->computed); free(st);
}
void wb_set_profile(void *state, int on, intptr_t dump) {
    wb_state *st = (wb_state *)state;
    PyGILState_STATE gil = PyGILState_Ensure();
    st->profile = on;
    Py_CLEAR(st->dump);
    if (on && dump) { st->dump = (PyObject *)dump; Py_INCREF(st->dump); }
    PyGILState_Release(gil);
}
double wb_node_seconds(void *state, int k) { return ((wb_state *)state)->node_seconds[k]; }
int wb_failed_node(void *state) { return ((wb_state *)state)->node; }
void wb_set_blas(void *state, int i, void *fn) { ((wb_state *)state)->blas[i] = fn; }
"""
