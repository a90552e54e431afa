"""Ops that do nothing at run time, removed or merged with their neighbour.

- a Reshape to the shape the input already has; a Reshape of a Reshape (the inner one is
  skipped: both keep the C order of the elements);
- a DimShuffle that keeps every dimension in order; a DimShuffle of a DimShuffle (one with
  the composed order, so a double transpose goes away);
- a Subtensor that takes everything (``x[:]``, ``x[0:n]`` with ``n`` the length of ``x``);
- a cast to the dtype the input has, and a cast of a lossless cast (``int8 -> int64 ->
  float32`` is ``int8 -> float32``);
- ``tensor_copy`` (the compiled function copies outputs that could alias its inputs, and the
  in-place pass never overwrites what others read, so the copy is not needed);
- a SpecifyShape or Rebroadcast that asserts what is already known;
- the gradient-flow ops (``consider_constant``, ``zero_grad``, ``disconnected_grad``,
  ``grad_clip``, ``grad_scale``): identities once the gradient is built.

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dmatrix('x')
>>> f = workbench.function([x], T.exp(x.T.T[:]))
>>> [str(n.op) for n in f.maker.fgraph.toposort()]
['Elemwise{exp}']
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..fgraph import FunctionGraph
from ..graph import Apply, Constant, Variable
from ..ops.elemwise import DimShuffle, Elemwise
from ..ops.gradflow import GradientFlowOp
from ..ops.join import MakeVector
from ..ops.scalar import SCALAR_OPS, Cast
from ..ops.shape import Rebroadcast, Reshape, Shape, SpecifyShape, static_int
from ..ops.subtensor import INPUT, Subtensor
from .canonicalize_match import is_dim_of, scalar_op_name
from .db import node_rewriter, register


def _shape_entries(shape: Variable, ndim: int) -> list[Any] | None:
    """The entries of a shape vector, as ints or symbolic scalars, when the graph says them
    without computing anything: a constant, a MakeVector's inputs."""
    if isinstance(shape, Constant):
        return [int(v) for v in np.asarray(shape.data).ravel()]
    owner = shape.owner
    if owner is not None and isinstance(owner.op, MakeVector):
        return list(owner.inputs)
    return None


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Reshape])
def local_useless_reshape(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``reshape(x, shape(x)) -> x``: every entry of the new shape is surely the size of that
    dimension of ``x`` (a vector reshaped to ``(-1,)`` too)."""
    x, shape = node.inputs
    if node.op.ndim != x.ndim:
        return None
    if shape.owner is not None and isinstance(shape.owner.op, Shape) and \
            shape.owner.inputs[0] is x:
        return [x]
    entries = _shape_entries(shape, x.ndim)
    if entries is None or len(entries) != x.ndim:
        return None
    if x.ndim == 1 and static_int(entries[0]) == -1:
        return [x]
    if all(is_dim_of(fgraph, e, x, a) for a, e in enumerate(entries)):
        return [x]
    return None


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Reshape])
def local_reshape_reshape(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``reshape(reshape(x, s1), s2) -> reshape(x, s2)``."""
    inner, shape = node.inputs
    if inner.owner is None or not isinstance(inner.owner.op, Reshape):
        return None
    return [Reshape(node.op.ndim)(inner.owner.inputs[0], shape)]


def _compose(inner: DimShuffle, outer: DimShuffle) -> tuple:
    return tuple("x" if d == "x" else inner.new_order[d] for d in outer.new_order)


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([DimShuffle])
def local_dimshuffle_merge(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """A DimShuffle that keeps every dimension in place is ``x``; a DimShuffle of a
    DimShuffle is one DimShuffle (so ``x.T.T -> x``)."""
    x = node.inputs[0]
    order = node.op.new_order
    if order == tuple(range(x.ndim)):
        return [x]
    if x.owner is None or not isinstance(x.owner.op, DimShuffle):
        return None
    source = x.owner.inputs[0]
    composed = _compose(x.owner.op, node.op)
    if composed == tuple(range(source.ndim)):
        return [source]
    kept = {d for d in composed if d != "x"}
    # a dimension either op drops is checked to be 1 at run time: keep that check
    pattern = [b or d not in kept for d, b in enumerate(source.broadcastable)]
    return [DimShuffle(pattern, composed)(source)]


def _full_slice(fgraph: FunctionGraph, x: Variable, axis: int, parts: tuple) -> bool:
    start, stop, step = parts
    if step not in (None, 1) and static_int(step) != 1:
        return False
    if start is not None and static_int(start) != 0:
        return False
    if stop is None:
        return True
    known = static_int(stop)
    size = x.type.shape[axis]
    if known is not None and size is not None and known >= size:
        return True
    return isinstance(stop, Variable) and is_dim_of(fgraph, stop, x, axis)


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Subtensor])
def local_useless_subtensor(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``x[:]``, ``x[0:]``, ``x[::1]``, ``x[0:x.shape[0]]`` (and the same on every axis) ->
    ``x``."""
    if type(node.op) is not Subtensor:
        return None
    x, *index = node.inputs
    inputs = iter(index)
    axis = 0
    for entry in node.op.idx_list:
        if not isinstance(entry, tuple):
            return None  # an integer index or a new axis changes the shape
        parts = tuple(next(inputs) if p is INPUT else p for p in entry)
        if not _full_slice(fgraph, x, axis, parts):
            return None
        axis += 1
    return [x]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Cast("float64")])
def local_useless_cast(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """A cast to the dtype the input has is the input; a cast of a lossless cast is one cast
    (or none)."""
    from ...tensor.basic import cast

    x = node.inputs[0]
    target = node.outputs[0].dtype
    if x.dtype == target:
        return [x]
    owner = x.owner
    if owner is not None and isinstance(owner.op, Elemwise) and \
            isinstance(owner.op.scalar_op, Cast) and not owner.op.inplace_pattern:
        source = owner.inputs[0]
        if np.can_cast(source.dtype, x.dtype, casting="safe"):
            return [cast(source, target)]
    return None


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([SCALAR_OPS["identity"]])
def local_remove_tensor_copy(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``tensor_copy(x) -> x``."""
    if scalar_op_name(node) != "identity":
        return None
    return [node.inputs[0]]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([SpecifyShape])
def local_useless_specify_shape(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """A SpecifyShape of sizes already known (statically or as the same symbolic size) is
    dropped, or keeps only the sizes that still say something."""
    x, *sizes = node.inputs
    keep = [(a, s) for a, s in zip(node.op.axes, sizes) if not is_dim_of(fgraph, s, x, a)]
    if len(keep) == len(sizes):
        return None
    if not keep:
        return [x]
    return [SpecifyShape([a for a, _ in keep])(x, *[s for _, s in keep])]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Rebroadcast])
def local_useless_rebroadcast(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """A Rebroadcast that marks as broadcastable what is, or as not broadcastable what is
    not, is dropped; a Rebroadcast of a Rebroadcast is one."""
    x = node.inputs[0]
    axes = dict(node.op.axes)
    if x.owner is not None and isinstance(x.owner.op, Rebroadcast):
        merged = dict(x.owner.op.axes)
        merged.update(axes)
        return [Rebroadcast(list(merged.items()))(x.owner.inputs[0])]
    useful = {a: b for a, b in axes.items() if (x.type.shape[a] == 1) != b}
    if len(useful) == len(axes):
        return None
    if not useful:
        return [x]
    return [Rebroadcast(list(useful.items()))(x)]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([GradientFlowOp])
def local_remove_gradient_flow(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``consider_constant``, ``zero_grad``, ``disconnected_grad``, ``grad_clip`` and
    ``grad_scale`` are the identity once the gradient is built."""
    return [node.inputs[0]]


__all__ = ["local_useless_reshape", "local_reshape_reshape", "local_dimshuffle_merge",
           "local_useless_subtensor", "local_useless_cast", "local_remove_tensor_copy",
           "local_useless_specify_shape", "local_useless_rebroadcast",
           "local_remove_gradient_flow"]
