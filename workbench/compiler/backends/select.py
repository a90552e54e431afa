"""Which backend runs a compiled graph, from the mode's linker name.

``py``/``vm`` (and their ``_nogc`` variants) run the Python VM; ``c``, ``cvm`` and ``c|py``
run generated C when a C compiler is present (``config.cxx``), and otherwise the Python VM
after one warning.

>>> from workbench.compiler.backends.select import backend_for
>>> backend_for('py')
'python'
"""
from __future__ import annotations

import warnings
from typing import Any

_PYTHON_LINKERS = {"py", "vm", "vm_nogc"}
_warned: list[bool] = []


def backend_for(linker: str) -> str:
    """``'c'`` or ``'python'`` for a linker name."""
    if linker in _PYTHON_LINKERS or linker == "cuda":
        return "python"
    from .c.build import compiler_available

    if compiler_available():
        return "c"
    if not _warned:
        _warned.append(True)
        from ...config import config

        warnings.warn(f"no C compiler found (config.cxx = {config.cxx!r}): compiled functions "
                      f"run on the Python backend, which is much slower. Install gcc, or set "
                      f"workbench.config.linker = 'py' to silence this warning.", stacklevel=4)
    return "python"


def make_vm(fgraph: Any, linker: str, check_outputs: bool = False, allow_gc: bool = True) -> Any:
    """The runner of ``fgraph`` for this linker."""
    if not check_outputs and backend_for(linker) == "c":
        from .c.vm import CVM

        return CVM(fgraph)
    from .python import PythonVM

    return PythonVM(fgraph, check_outputs=check_outputs, allow_gc=allow_gc)
