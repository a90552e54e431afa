"""Reductions: a sum of a sum is one sum; a reduction over axes of static size 1 only drops
them (a DimShuffle, a view) and a reduction over no axis is a cast; the sum of a float
tensor scaled by a constant is the scaled sum (one multiplication instead of one per
element).

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dtensor3('x')
>>> f = workbench.function([x], x.sum(axis=2).sum(axis=0))
>>> [str(n.op) for n in f.maker.fgraph.toposort()]
['Sum{axis=(0, 2)}']
"""
from __future__ import annotations

import copy

import numpy as np

from ..fgraph import FunctionGraph
from ..graph import Apply, Variable
from ..ops.elemwise import DimShuffle
from ..ops.reduce import CAReduce, Sum, normalize_op_axis
from .canonicalize_match import constant_scalar, is_float, like, only_client_is, scalar_op_name
from .db import node_rewriter, register


def _axes(axis: tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim)) if axis is None else axis


def _with_axis(op: CAReduce, axes: tuple[int, ...], ndim: int) -> CAReduce:
    """``op`` (dtypes resolved) reducing ``axes`` of an ``ndim``-d input instead."""
    new = copy.copy(op)
    # one spelling of "every axis", as the user functions make, so equal sums merge
    new.axis = None if len(axes) == ndim else normalize_op_axis(axes)
    return new


@register("canonicalize", "fast_run")
@node_rewriter([Sum])
def local_sum_sum(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``sum(sum(x, a), b) -> sum(x, a + b)`` (when both sums have the same output and
    accumulator dtypes, and nothing else reads the inner one)."""
    inner = node.inputs[0]
    owner = inner.owner
    if owner is None or type(owner.op) is not Sum or not only_client_is(fgraph, inner, node):
        return None
    outer_op, inner_op = node.op, owner.op
    if (outer_op.dtype, outer_op.acc_dtype) != (inner_op.dtype, inner_op.acc_dtype):
        return None
    x = owner.inputs[0]
    inner_axes = _axes(inner_op.axis, x.ndim)
    kept = [d for d in range(x.ndim) if d not in inner_axes]
    outer_axes = [kept[a] for a in _axes(outer_op.axis, inner.ndim)]
    axes = tuple(sorted(set(inner_axes) | set(outer_axes)))
    return [_with_axis(inner_op, axes, x.ndim)(x)]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([CAReduce])
def local_reduce_useless_axes(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """A reduction over an axis of static size 1 only drops it; one over no axis at all is
    its input cast to the output dtype (``sum(int8, axis=()) `` is int64)."""
    x = node.inputs[0]
    axes = _axes(node.op.axis, x.ndim)
    useless = [a for a in axes if x.type.shape[a] == 1]
    if axes and not useless:
        return None
    out = node.outputs[0]
    kept_dims = [d for d in range(x.ndim) if d not in useless]
    view = DimShuffle(x.broadcastable, kept_dims)(x) if useless else x
    remaining = [kept_dims.index(a) for a in axes if a not in useless]
    if not remaining:
        return [like(view, out)]
    return [_with_axis(node.op, tuple(remaining), view.ndim)(view)]


@register("canonicalize", "fast_run")
@node_rewriter([Sum])
def local_sum_of_scaled(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``sum(c * x) -> c * sum(x)`` for a single-element constant ``c`` and a float ``x``
    of the product's dtype and dimensions."""
    from ...tensor.basic import constant
    from ...tensor.math import mul

    scaled = node.inputs[0]
    if scalar_op_name(scaled) != "mul" or not only_client_is(fgraph, scaled, node):
        return None
    a, b = scaled.owner.inputs
    c, x = (a, b) if constant_scalar(a) is not None else (b, a)
    value = constant_scalar(c)
    if value is None or isinstance(value, bool) or not is_float(scaled.dtype) or \
            x.dtype != scaled.dtype or x.ndim != scaled.ndim:
        return None
    total = node.op(x)
    return [like(mul(constant(np.asarray(value, dtype=total.dtype)), total), node.outputs[0])]


__all__ = ["local_sum_sum", "local_reduce_useless_axes", "local_sum_of_scaled"]
