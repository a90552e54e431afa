"""Allocations inside elementwise graphs, as gradients build them (``ones_like(cost)``,
the broadcast of a sum's gradient, ``zeros_like``): an Elemwise reads an Alloc's value
instead of the allocated array when the other operands provably have its shape, and an
Alloc moves past an Elemwise whose other operands are single elements, so the Elemwise runs
on the small value and the result is allocated once. Alloc of an Alloc, of a value padded on
the left (Alloc broadcasts anyway), or of a value that already has the shape, goes away.

>>> import workbench
>>> from workbench import tensor as T
>>> x, n = T.dscalar('x'), T.lscalar('n')
>>> f = workbench.function([x, n], T.exp(-T.alloc(x, n)) * 2)
>>> [str(node.op) for node, _ in f.trace['canonicalize'].snapshot.order]
['Elemwise{neg}', 'Elemwise{exp}', 'Elemwise{mul}', 'Alloc']
"""
from __future__ import annotations

from ..fgraph import FunctionGraph
from ..graph import Apply, Variable
from ..ops.alloc import Alloc
from ..ops.elemwise import Elemwise
from .canonicalize_match import (broadcast_to_shape_of, covered, is_dim_of, like,
                                  only_client_is, same_size, unpad)
from .db import node_rewriter, register


def _is_alloc(var: Variable) -> bool:
    return var.owner is not None and isinstance(var.owner.op, Alloc)


def _value(alloc: Variable) -> Variable:
    """The value an Alloc broadcasts, with its own dtype even where it is a Python literal
    (a weak constant next to a float32 operand would be computed in float32)."""
    from ...tensor.basic import constant

    value = alloc.owner.inputs[0]
    if getattr(value, "weak", False):
        value = constant(value.data, dtype=value.dtype)
    return value


@register("canonicalize", "fast_run")
@node_rewriter([Elemwise])
def local_elemwise_alloc(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``f(alloc(v, *dims), y) -> f(v, y)`` when ``y`` provably has every dimension of the
    alloc; ``f(alloc(v, *dims), c) -> alloc(f(v, c), *dims)`` when ``c`` is a single
    element (and nothing else reads the alloc)."""
    if node.op.inplace_pattern or not any(_is_alloc(i) for i in node.inputs):
        return None
    out = node.outputs[0]
    allocs = [i for i in node.inputs if _is_alloc(i)]
    others = [i for i in node.inputs if not _is_alloc(i)]
    values = [_value(i) if _is_alloc(i) else i for i in node.inputs]
    if all(covered(fgraph, others, a) for a in allocs):
        return [like(node.op(*values), out)]
    if not all(only_client_is(fgraph, a, node) for a in allocs):
        return None
    if not all(all(s == 1 for s in o.type.shape) for o in others):
        return None
    # the result has the shape of the allocs: they must agree on it
    widest = max(allocs, key=lambda a: a.ndim)
    if widest.ndim != out.ndim:
        return None
    dims = widest.owner.inputs[1:]
    for a in allocs:
        mine = a.owner.inputs[1:]
        if not all(same_size(d, w) or (a.type.shape[-k] == 1)
                   for k, (d, w) in enumerate(zip(reversed(mine), reversed(dims)), 1)):
            return None
    result = broadcast_to_shape_of(fgraph, node.op(*values), out, list(dims))
    return None if result is None else [result]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Alloc])
def local_useless_alloc(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``alloc(v, *shape(v)) -> v``; ``alloc(alloc(v, ...), *dims) -> alloc(v, *dims)``;
    ``alloc(padded(v), *dims) -> alloc(v, *dims)`` for a DimShuffle that only adds
    broadcastable dimensions on the left."""
    value, *dims = node.inputs
    if value.ndim == len(dims) and all(
            is_dim_of(fgraph, d, value, a) for a, d in enumerate(dims)):
        return [value]
    owner = value.owner
    if owner is not None and isinstance(owner.op, Alloc):
        return [Alloc()(owner.inputs[0], *dims)]
    inner = unpad(value)
    if inner is not value:
        return [Alloc()(inner, *dims)]
    return None


__all__ = ["local_elemwise_alloc", "local_useless_alloc"]
