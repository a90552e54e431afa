"""Shapes from input shapes: ``Shape_i(x)`` and ``Shape(x)`` of a computed ``x`` become
expressions on the shapes of earlier variables, so that ``T.exp(x).shape`` does not need
``exp`` computed; ``x.shape[i]`` becomes ``Shape_i(i)(x)``.

A ``Shape_i`` climbs one node at a time (``Shape_i(exp(x)) -> Shape_i(x)``) while each step
costs at most one node: a constant, a size the graph already computes, one ``Shape_i`` of an
input of ``x``'s node (the graph's own one when it has it, so climbs from several places
meet). When ``x`` is computed only for its shape, the whole expression the ShapeFeature
infers (``shape_feature(fgraph).shape_of``) replaces it at once, and ``x`` and what only it
needed go away. So a gradient graph, which reads the shapes of values it computes anyway,
does not grow the ``switch`` expressions broadcasting needs, and the pass stays linear in the
graph. A graph input's shape is read as it is (it has nothing earlier to come from).

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dmatrix('x')
>>> f = workbench.function([x], T.exp(x).shape[1])
>>> [str(n.op) for n in f.maker.fgraph.toposort()]
['Shape_i{1}']
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..fgraph import FunctionGraph
from ..graph import Apply, Variable
from ..ops.elemwise import DimShuffle, Elemwise
from ..ops.join import MakeVector
from ..ops.shape import Shape, Shape_i
from ..ops.subtensor import Subtensor
from ..types import TensorType
from .canonicalize_match import depends_on, dims_of, like, new_nodes
from .db import node_rewriter, register


def read_dim(fgraph: FunctionGraph, var: Variable, axis: int) -> Variable:
    """``Shape_i(axis)(var)``: the graph's own node when it has one (no duplicate to merge).

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> fg = FunctionGraph([x], [T.shape_i(x, 1)])
    >>> read_dim(fg, fg.inputs[0], 1) is fg.outputs[0], str(read_dim(fg, fg.inputs[0], 0))
    (True, 'Shape_i{0}.0')
    """
    for client, _ in fgraph.clients.get(var, ()):
        if client != "output" and isinstance(client.op, Shape_i) and client.op.i == axis:
            return client.outputs[0]
    return Shape_i(axis)(var)


def inferred_shape(fgraph: FunctionGraph, x: Variable) -> tuple | None:
    """``x``'s shape as int64 scalars computed from the shapes of the inputs of its node
    only (read with ``Shape_i``, or constants where static); None when its op cannot say.
    Cheap: one ``infer_shape`` call, where the ShapeFeature infers every ancestor's."""
    from ...tensor.basic import as_tensor_variable, cast, constant

    node = x.owner
    infer = getattr(node.op, "infer_shape", None) if node is not None else None
    if infer is None:
        return None
    in_shapes = [tuple(constant(s, dtype="int64") if s is not None else read_dim(fgraph, i, d)
                       for d, s in enumerate(i.type.shape))
                 if isinstance(i.type, TensorType) else None for i in node.inputs]
    try:
        shape = infer(node, in_shapes)[x.index]
    except Exception:  # noqa: BLE001 - an op that cannot say: the shape stays read
        return None
    items: list[Any] = []
    for static, size in zip(x.type.shape, shape):
        if static is not None or not isinstance(size, Variable):
            items.append(constant(static if static is not None else int(size), dtype="int64"))
        else:
            size = as_tensor_variable(size)
            items.append(size if size.dtype == "int64" else cast(size, "int64"))
    return tuple(items)


def _only_read_for_shape(fgraph: FunctionGraph, x: Variable) -> bool:
    """Whether every use of ``x`` reads only its shape."""
    clients = fgraph.clients.get(x, ())
    return bool(clients) and all(c != "output" and isinstance(c.op, (Shape, Shape_i))
                                 for c, _ in clients)


def _dim_through(fgraph: FunctionGraph, x: Variable, axis: int) -> Variable | None:
    """Dimension ``axis`` of the output of an Elemwise or DimShuffle, as one operand's
    dimension, when one operand alone gives it (else None: broadcasting would need a
    ``switch``); built without calling ``infer_shape``, the common case being cheap."""
    from ...tensor.basic import constant

    node = x.owner
    if x.type.shape[axis] is not None:
        return constant(x.type.shape[axis], dtype="int64")
    if isinstance(node.op, DimShuffle):
        source = node.op.new_order[axis]
        return None if source == "x" else read_dim(fgraph, node.inputs[0], source)
    if not isinstance(node.op, Elemwise):
        return None
    candidates = [i for i in node.inputs if i.type.shape[axis] != 1]
    if len(candidates) != 1:
        return None
    return read_dim(fgraph, candidates[0], axis)


@register("canonicalize", "fast_run")
@node_rewriter([Shape_i])
def local_shape_i_of_computed(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``Shape_i(i)(f(...)) -> `` dimension ``i`` inferred from ``f``'s inputs: one node up
    at a time while that costs at most one node (it then climbs on in later steps), the
    whole inferred expression when ``f(...)`` is computed only for its shape."""
    from ...tensor.basic import constant

    x = node.inputs[0]
    if x.type.shape[node.op.i] is not None:
        return [constant(x.type.shape[node.op.i], dtype="int64")]
    if x.owner is None:
        return None  # a graph input: its shape is read, not inferred
    quick = _dim_through(fgraph, x, node.op.i)
    if quick is not None:
        return [quick]
    if not isinstance(x.owner.op, (Elemwise, DimShuffle)):
        one_level = inferred_shape(fgraph, x)
        if one_level is not None:
            expr = one_level[node.op.i]
            if not depends_on(expr, x, fgraph) and new_nodes(expr, fgraph, limit=2) <= 1:
                return [expr]
    if not _only_read_for_shape(fgraph, x):
        return None
    expr = dims_of(fgraph, x)[node.op.i]
    if expr is node.outputs[0] or depends_on(expr, x, fgraph):
        return None
    return [expr]


def _only_indexed(fgraph: FunctionGraph, shape: Variable) -> bool:
    """Whether every use of a shape vector takes one constant entry (each becomes a
    ``Shape_i``, which climbs on its own: no need to infer the whole shape)."""
    clients = fgraph.clients.get(shape, ())
    return bool(clients) and all(
        c != "output" and type(c.op) is Subtensor and len(c.op.idx_list) == 1
        and isinstance(c.op.idx_list[0], int) for c, _ in clients)


@register("canonicalize", "fast_run")
@node_rewriter([Shape])
def local_shape_of_computed(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``Shape(x)`` -> a constant when the static shape is known; ``Shape(v)`` when ``x``
    has the shape of an earlier ``v`` (``Shape(exp(v)) -> Shape(v)``); the vector of the
    inferred dimensions when ``x`` is computed only for its shape."""
    from ...tensor.basic import constant

    x = node.inputs[0]
    if all(s is not None for s in x.type.shape):
        return [constant(np.asarray(x.type.shape, dtype="int64").reshape(x.ndim))]
    if x.owner is None or _only_indexed(fgraph, node.outputs[0]):
        return None
    items = dims_of(fgraph, x)
    if any(depends_on(i, x, fgraph) for i in items):
        return None
    owners = [i.owner for i in items]
    if all(o is not None and isinstance(o.op, Shape_i) and o.op.i == k
           for k, o in enumerate(owners)):
        sources = {id(o.inputs[0]) for o in owners}
        if len(sources) == 1 and owners[0].inputs[0].ndim == x.ndim:
            return [Shape()(owners[0].inputs[0])]
    if _only_read_for_shape(fgraph, x):
        return [MakeVector("int64")(*items)]
    return None


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Subtensor])
def local_subtensor_of_shape(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """``Shape(x)[i] -> Shape_i(i)(x)`` and ``MakeVector(a, b, ...)[i] -> `` its ``i``-th
    input, for a constant ``i``."""
    if type(node.op) is not Subtensor or len(node.op.idx_list) != 1:
        return None
    (i,) = node.op.idx_list
    if not isinstance(i, int):
        return None
    vec = node.inputs[0]
    owner = vec.owner
    if owner is None or vec.ndim != 1:
        return None
    if isinstance(owner.op, Shape):
        x = owner.inputs[0]
        if -x.ndim <= i < x.ndim:
            return [Shape_i(i % x.ndim)(x)]
    elif isinstance(owner.op, MakeVector):
        n = len(owner.inputs)
        if -n <= i < n:
            return [like(owner.inputs[i % n], node.outputs[0])]
    return None


__all__ = ["local_shape_i_of_computed", "local_shape_of_computed", "local_subtensor_of_shape"]
