"""Which function writes the C block of each op class.

An emitter takes a :class:`~workbench.compiler.backends.c.linker.CNode` and returns the C
code of the node's block, or None when it does not handle this node (a dtype it does not
compile, say): the node then runs through its op's ``perform``. Emitters live beside the
linker, one module per op family, so the ops stay free of backend strings and each backend
owns its renderer.

>>> from workbench.compiler.backends.c import registry
>>> from workbench.compiler.ops.elemwise import Elemwise
>>> from workbench.compiler.ops import scalar
>>> registry.emitter_for(Elemwise(scalar.add)) is not None
True
"""
from __future__ import annotations

import importlib
from typing import Callable

EMITTERS: dict[type, Callable] = {}

#: the emitter modules, imported on first use
MODULES = (
    "emit_elemwise",
    "emit_blas", "emit_nnet",
    "emit_shape", "emit_subtensor",
    "emit_reduce",
)
_loaded: list[bool] = []


def emits(*op_classes: type) -> Callable[[Callable], Callable]:
    """Register the decorated function as the emitter of these op classes."""
    def register(fn: Callable) -> Callable:
        for cls in op_classes:
            EMITTERS[cls] = fn
        return fn
    return register


def emitter_for(op: object) -> Callable | None:
    """The emitter of ``op``'s class or its nearest base class that has one."""
    if not _loaded:
        for name in MODULES:
            importlib.import_module(f"{__package__}.{name}")
        _loaded.append(True)
    for cls in type(op).__mro__:
        if cls in EMITTERS:
            return EMITTERS[cls]
    return None
