"""What the canonicalize rewrites share: recognising nodes and constants, proving that two
dimensions are equal, and building a replacement with exactly the type it replaces.

Broadcasting follows NumPy here, not Theano: a dimension whose size is unknown before run
time may still be 1 and broadcast. So dropping an operand (``x * 1``, a cancelled ``x`` in
``x * y / x``) is only safe when what remains *provably* has every dimension the dropped
operand had; :func:`covered` decides, with static shapes and the graph's ShapeFeature
(two dimensions are equal when they are the same symbolic variable or the same constant).
Where it cannot be proved, the rewrites broadcast their result to the shape of the node they
replace (:func:`broadcast_to_shape_of`).

>>> from workbench import tensor as T
>>> from workbench.compiler.fgraph import FunctionGraph
>>> x, y = T.dmatrix('x'), T.dmatrix('y')
>>> fg = FunctionGraph([x, y], [T.exp(x) * y, x * 2.0])
>>> e = fg.outputs[0].owner.inputs[0]
>>> covered(fg, [fg.inputs[0]], e), covered(fg, [fg.inputs[1]], e)
(True, False)
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..fgraph import FunctionGraph
from ..graph import Apply, Constant, Variable
from ..ops.elemwise import DimShuffle, Elemwise, pad_left
from ..ops.scalar import ScalarOp
from ..ops.shape import Shape_i, static_int
from ..types import TensorType
from .features import shape_feature

# ---------------------------------------------------------------------------------------
# Recognising


def scalar_op_name(var_or_node: Variable | Apply | None) -> str | None:
    """The table name (``'mul'``, ``'neg'``...) of the scalar op an Elemwise node applies
    (given the node or one of its outputs); None for anything else, Casts and Composites
    included.

    >>> from workbench import tensor as T
    >>> x = T.dvector()
    >>> scalar_op_name(x * 2), scalar_op_name(T.cast(x, 'int8')), scalar_op_name(x)
    ('mul', None, None)
    """
    node = var_or_node.owner if isinstance(var_or_node, Variable) else var_or_node
    if node is None or not isinstance(node.op, Elemwise) or node.op.inplace_pattern:
        return None
    op = node.op.scalar_op
    return op.name if type(op) is ScalarOp else None


def constant_scalar(var: Variable) -> Any:
    """The one value of a constant with a single element (any number of size-1
    dimensions) as a Python number, else None. Such a constant never widens a broadcast.

    >>> from workbench import tensor as T
    >>> constant_scalar(T.constant([[2.5]])), constant_scalar(T.constant([1, 2]))
    (2.5, None)
    """
    if not isinstance(var, Constant):
        return None
    data = getattr(var, "data", None)
    if not isinstance(data, np.ndarray) or data.size != 1 or data.dtype.kind not in "biufc":
        return None
    return data.reshape(()).item() if data.dtype.kind != "b" else bool(data.reshape(()))


def only_client_is(fgraph: FunctionGraph, var: Variable, node: Apply) -> bool:
    """Whether ``node`` is the only reader of ``var`` (so ``var`` dies with it)."""
    clients = fgraph.clients.get(var, ())
    return len(clients) == 1 and clients[0][0] is node


def is_float(dtype: str) -> bool:
    """Whether ``dtype`` is a float or complex dtype (where NaN and inf exist)."""
    return np.dtype(dtype).kind in "fc"


# ---------------------------------------------------------------------------------------
# Proving dimensions equal


def same_size(a: Any, b: Any, depth: int = 4) -> bool:
    """Whether two symbolic sizes are surely equal: the same variable, equal constants, or
    the same op applied to sizes that are (``Shape_i(0)(x)`` made twice).

    >>> from workbench import tensor as T
    >>> x = T.dmatrix()
    >>> same_size(T.shape_i(x, 0), T.shape_i(x, 0)), same_size(T.shape_i(x, 0), T.shape_i(x, 1))
    (True, False)
    """
    if a is b:
        return True
    ka, kb = _known(a), _known(b)
    if ka is not None or kb is not None:
        return ka is not None and ka == kb
    oa, ob = getattr(a, "owner", None), getattr(b, "owner", None)
    if oa is None or ob is None or depth == 0 or a.index != b.index or oa.op != ob.op or \
            len(oa.inputs) != len(ob.inputs) or oa.op.destroy_map or \
            getattr(oa.op, "never_fold", False):  # two random draws are not equal
        return False
    if isinstance(oa.op, Shape_i):
        return oa.inputs[0] is ob.inputs[0]
    return all(same_size(x, y, depth - 1) for x, y in zip(oa.inputs, ob.inputs))


def _known(size: Any) -> int | None:
    if isinstance(size, (int, np.integer)):
        return int(size)
    if isinstance(size, Constant) and np.ndim(size.data) == 0:
        return int(size.data)
    return None


def is_dim_of(fgraph: FunctionGraph, size: Any, x: Variable, axis: int) -> bool:
    """Whether the symbolic int ``size`` is surely dimension ``axis`` of ``x``."""
    if isinstance(size, Variable) and size.owner is not None:
        op = size.owner.op
        if isinstance(op, Shape_i) and op.i == axis and size.owner.inputs[0] is x:
            return True
    known = static_int(size) if isinstance(size, Variable) else size
    if known is not None and x.type.shape[axis] is not None:
        return known == x.type.shape[axis]
    return same_size(size, dims_of(fgraph, x)[axis])


def dims_of(fgraph: FunctionGraph, var: Variable) -> tuple:
    """``var``'s shape as symbolic int64 scalars (constants where the static type knows)."""
    return shape_feature(fgraph).shape_of(var)


def resolved(fgraph: FunctionGraph, size: Any) -> Any:
    """``size`` with a ``Shape_i`` of a computed variable replaced by that dimension as the
    ShapeFeature infers it, so that sizes read at different depths compare equal."""
    owner = getattr(size, "owner", None)
    if owner is not None and isinstance(owner.op, Shape_i) and owner.inputs[0].owner is not None:
        inferred = dims_of(fgraph, owner.inputs[0])[owner.op.i]
        inner = inferred.owner
        if not (inner is not None and isinstance(inner.op, Shape_i)
                and inner.inputs[0] is owner.inputs[0]):
            return inferred
    return size


def covered(fgraph: FunctionGraph, kept: Sequence[Variable], dropped: Variable) -> bool:
    """Whether broadcasting ``dropped`` with the ``kept`` variables cannot make any dimension
    larger than broadcasting the ``kept`` ones alone: each dimension of ``dropped`` is
    statically 1, or surely equal to the aligned dimension of one of ``kept``. Dimensions
    are aligned on the right, as NumPy broadcasting does."""
    if not isinstance(dropped.type, TensorType):
        return False
    static = dropped.type.shape
    if all(s == 1 for s in static):
        return True
    dropped_dims = [resolved(fgraph, d) for d in dims_of(fgraph, dropped)]
    kept_dims = [(k, [resolved(fgraph, d) for d in dims_of(fgraph, k)])
                 for k in kept if isinstance(k.type, TensorType)]
    for back in range(1, dropped.ndim + 1):
        if static[-back] == 1:
            continue
        size = dropped_dims[-back]
        if not any(k.ndim >= back and (
                same_size(kd[-back], size)
                or (static[-back] is not None and k.type.shape[-back] == static[-back]))
                for k, kd in kept_dims):
            return False
    return True


# ---------------------------------------------------------------------------------------
# Building replacements


def like(new: Variable, old: Variable) -> Variable:
    """``new`` with ``old``'s dtype and number of dimensions (broadcastable dimensions
    added on the left, as broadcasting would).

    >>> from workbench import tensor as T
    >>> like(T.ivector(), T.dmatrix()).type
    TensorType(float64, row)
    """
    from ...tensor.basic import cast

    if new.dtype != old.dtype:
        new = cast(new, old.dtype)
    return pad_left(new, old.ndim)


def depends_on(var: Variable, target: Variable, fgraph: FunctionGraph) -> bool:
    """Whether the graph of ``var`` that is not yet in ``fgraph`` reads ``target`` (a
    replacement of ``target`` must not)."""
    stack, seen = [var], set()
    while stack:
        v = stack.pop()
        if v is target:
            return True
        if id(v) in seen or v.owner is None or v in fgraph.variables:
            continue
        seen.add(id(v))
        stack.extend(v.owner.inputs)
    return False


def broadcast_to_shape_of(fgraph: FunctionGraph, value: Variable, out: Variable,
                          dims: Sequence[Variable] | None = None) -> Variable | None:
    """``value`` broadcast (an Alloc) to the shape of ``out`` — or to ``dims`` when given —
    with ``out``'s dtype; None when ``out``'s shape can only be read from ``out`` itself.

    ``value`` must broadcast to that shape (it is the result of an expression whose
    operands ``out`` also broadcast)."""
    from ...tensor.basic import cast
    from ..ops.alloc import Alloc

    if dims is None:
        dims = dims_of(fgraph, out)
    if value.dtype != out.dtype:
        value = cast(value, out.dtype)
    if not dims:
        return value
    result = Alloc()(value, *dims)
    if depends_on(result, out, fgraph):
        return None
    return result


def filled(fgraph: FunctionGraph, value: Any, out: Variable) -> Variable | None:
    """A tensor of ``out``'s shape and dtype holding ``value`` everywhere."""
    from ...tensor.basic import constant

    return broadcast_to_shape_of(fgraph, constant(np.asarray(value, dtype=out.dtype)), out)


def unpad(var: Variable) -> Variable:
    """``var`` without broadcastable dimensions added on its left by a DimShuffle (as an
    Elemwise does to line an operand up with wider ones).

    >>> from workbench import tensor as T
    >>> v = T.dvector('v')
    >>> unpad(v.dimshuffle('x', 0)) is v, unpad(v.dimshuffle(0, 'x')) is v
    (True, False)
    """
    owner = var.owner
    if owner is not None and isinstance(owner.op, DimShuffle):
        inner = owner.inputs[0]
        order = owner.op.new_order
        k = len(order) - inner.ndim
        if k > 0 and order == ("x",) * k + tuple(range(inner.ndim)):
            return inner
    return var


def new_nodes(var: Variable, fgraph: FunctionGraph, limit: int = 64) -> int:
    """How many Apply nodes computing ``var`` are not yet in ``fgraph`` (at most ``limit``)."""
    stack, seen = [var], set()
    count = 0
    while stack and count < limit:
        v = stack.pop()
        node = v.owner
        if node is None or v in fgraph.variables or id(node) in seen:
            continue
        seen.add(id(node))
        count += 1
        stack.extend(node.inputs)
    return count

