"""Where in the user's code a variable or node was created.

Every node records the first stack frame outside the workbench package, so errors and
the graph record can point at the line the user wrote.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class SourceLine:
    filename: str
    lineno: int
    function: str

    def __str__(self) -> str:
        return f'File "{self.filename}", line {self.lineno}, in {self.function}'

    def text(self) -> str:
        """The source text of the line, where it can be read."""
        import linecache

        return linecache.getline(self.filename, self.lineno).strip()

    def to_json(self) -> dict:
        return {"file": self.filename, "line": self.lineno, "function": self.function}


def user_source_line() -> SourceLine | None:
    """The innermost frame of the call stack that is not workbench's own code."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) and not filename.startswith("<frozen"):
            return SourceLine(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None
