"""Compilation modes: which backend runs a graph and which rewrites prepare it.

>>> from workbench.compiler.mode import get_mode
>>> get_mode('FAST_COMPILE').linker
'py'
"""
from __future__ import annotations

from typing import Iterable


class Mode:
    """A backend (``linker``) and a rewrite selection (``optimizer`` plus tag filters).

    ``check_outputs`` makes the Python backend verify every op's outputs against the types
    its node declared (DebugMode does this).
    """

    def __init__(self, linker: str = "py", optimizer: str | None = "fast_run",
                 including: Iterable[str] = (), excluding: Iterable[str] = (),
                 requiring: Iterable[str] = (), check_outputs: bool = False,
                 name: str | None = None):
        if linker not in LINKERS:
            raise ValueError(f"unknown linker {linker!r}; known linkers: {', '.join(LINKERS)}")
        self.linker = linker
        self.optimizer = None if optimizer in (None, "None", "None_") else optimizer
        self.include_tags = tuple(including)
        self.exclude_tags = tuple(excluding)
        self.require_tags = tuple(requiring)
        self.check_outputs = check_outputs
        self.name = name

    def _copy(self, **changes) -> "Mode":
        args = dict(linker=self.linker, optimizer=self.optimizer, including=self.include_tags,
                    excluding=self.exclude_tags, requiring=self.require_tags,
                    check_outputs=self.check_outputs, name=self.name)
        args.update(changes)
        return Mode(**args)

    def including(self, *tags: str) -> "Mode":
        """This mode with rewrites of these tags or names added."""
        return self._copy(including=self.include_tags + tags)

    def excluding(self, *tags: str) -> "Mode":
        """This mode without rewrites of these tags or names."""
        return self._copy(excluding=self.exclude_tags + tags)

    def requiring(self, *tags: str) -> "Mode":
        """This mode restricted to rewrites of these tags."""
        return self._copy(requiring=self.require_tags + tags)

    def __str__(self) -> str:
        return (f"Mode(linker={self.linker!r}, optimizer={self.optimizer!r}"
                + (f", name={self.name!r}" if self.name else "") + ")")

    __repr__ = __str__


#: linker names, Theano's included ('c|py', the ``_nogc`` variants): 'py' and 'vm' run the
#: Python backend, the others the C backend (backends/select.py); 'cuda' runs Python until
#: the CUDA backend exists
LINKERS = ["py", "vm", "cvm", "c", "cuda", "c|py", "c|py_nogc", "vm_nogc", "cvm_nogc"]

def _default_linker() -> str:
    from ..config import config

    return config.linker


PREDEFINED = {
    "FAST_RUN": lambda: Mode(_default_linker(), "fast_run", name="FAST_RUN"),
    "FAST_COMPILE": lambda: Mode("py", "fast_compile", name="FAST_COMPILE"),
    "PYTHON": lambda: Mode("py", "fast_run", name="PYTHON"),
    "Mode": lambda: Mode(_default_linker(), "fast_run", name="Mode"),
    "DebugMode": lambda: Mode("py", "fast_run", check_outputs=True, name="DebugMode"),
    "DEBUG_MODE": lambda: Mode("py", "fast_run", check_outputs=True, name="DebugMode"),
    "NanGuardMode": lambda: Mode("py", "fast_run", name="NanGuardMode"),
}


def get_mode(mode: "Mode | str | None") -> Mode:
    """A Mode from a Mode, a predefined mode's name, or None (``config.mode``)."""
    if isinstance(mode, Mode):
        return mode
    if mode is None:
        from ..config import config

        mode = config.mode
    try:
        return PREDEFINED[mode]()
    except KeyError:
        raise ValueError(f"unknown mode {mode!r}; predefined modes: "
                         f"{', '.join(PREDEFINED)}") from None
