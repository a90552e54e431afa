"""Errors raised while running a node, re-raised with the node's context.

The message keeps the original error and adds the op, the input shapes and dtypes, and the
user's source line that built the node.
"""
from __future__ import annotations

from typing import NoReturn

import numpy as np

from ..graph import Apply


def describe_node(node: Apply, values: list | None) -> str:
    """A few lines naming the node, its inputs' shapes and dtypes, and where it was built."""
    lines = [f"Apply node that caused the error: {node}"]
    if values is not None:
        shapes = [getattr(v, "shape", "no shape") for v in values]
        dtypes = [getattr(getattr(v, "dtype", None), "name", type(v).__name__) for v in values]
        lines.append(f"Inputs shapes: {shapes}")
        lines.append(f"Inputs dtypes: {dtypes}")
        if any(isinstance(v, np.ndarray) and v.size <= 10 for v in values):
            lines.append("Inputs values: " + ", ".join(
                np.array2string(v) if isinstance(v, np.ndarray) and v.size <= 10 else "..."
                for v in values))
    if node.source is not None:
        lines.append(f"Node built at: {node.source}")
        text = node.source.text()
        if text:
            lines.append(f"    {text}")
    from ...config import config

    if config.exception_verbosity == "high":
        from ...printing import debugprint

        lines.append("The graph that computes the node's inputs:")
        lines.append(debugprint(node.outputs, print_type=True, print_source=True, file="str"))
    else:
        lines.append("Set workbench.config.exception_verbosity = 'high' to see the graph "
                     "around this node.")
    return "\n".join(lines)


class NodeComputeError(RuntimeError):
    """An op failed at run time and its own exception type could not carry the context."""


def raise_node_error(exc: Exception, node: Apply, values: list | None) -> NoReturn:
    """Re-raise ``exc`` as the same exception type, with the node's context appended."""
    message = f"{exc}\n{describe_node(node, values)}"
    try:
        new = type(exc)(message)
    except Exception:  # noqa: BLE001 - exception types with unusual constructors
        new = NodeComputeError(message)
    new.node = node  # type: ignore[attr-defined]
    raise new from exc
