"""Constant folding: a node whose inputs are all constants is computed once, at compile time.

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> f = workbench.function([x], x + T.exp(T.constant(0.0)) * 2)
>>> [str(n.op) for n in f.maker.fgraph.toposort()]
['Elemwise{add}']
"""
from __future__ import annotations

import numpy as np

from ..graph import Apply, Constant
from .db import node_rewriter, register

#: ops that are never folded: their value must be made at run time (random draws, printing)
#: or folding them would only grow the constant (allocations of large arrays)
_MAX_FOLDED_BYTES = 1 << 20


def _foldable(node: Apply) -> bool:
    op = node.op
    if getattr(op, "never_fold", False) or op.destroy_map:
        return False
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return False
    return all(hasattr(o.type, "filter") and hasattr(o.type, "dtype") for o in node.outputs)


@register("constant_folding", "canonicalize", "fast_compile")
@node_rewriter(None)
def constant_folding(fgraph, node):
    """Compute a node of constant inputs now; its outputs become constants."""
    if not _foldable(node):
        return None
    from ...tensor.basic import constant

    storage = [[None] for _ in node.outputs]
    with np.errstate(all="ignore"):
        try:
            node.op.perform(node, [np.array(i.data, copy=True) if isinstance(i.data, np.ndarray)
                                   else i.data for i in node.inputs], storage)
        except Exception:  # noqa: BLE001 - leave it to fail at run time, with the user's line
            return None
    results = []
    for out, (value,) in zip(node.outputs, storage):
        value = np.asarray(value)
        if value.nbytes > _MAX_FOLDED_BYTES:
            return None
        folded = constant(value.astype(out.type.dtype, copy=False))
        if folded.type != out.type and not out.type.is_super(folded.type):
            return None
        results.append(folded)
    return results
