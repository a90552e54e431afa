"""Canonical forms of products and sums.

A tree of ``mul``, ``true_div`` and ``neg`` nodes is flattened into a numerator and a
denominator (``local_mul_canonizer``); a tree of ``add``, ``sub`` and ``neg`` nodes into
added and subtracted terms (``local_add_canonizer``). Equal terms on both sides cancel
(``x * y / x -> y``, ``(x * y) / (y * z) -> x / z``, ``a - a + b -> b``), constants fold into
one (``2 * x * 3 -> 6 * x``, ``1 + x + 2 -> x + 3``), and the tree is rebuilt with at most one
division (subtraction): ``(a / b) / (c / d) -> (a * d) / (b * c)``, ``x + (-y) -> x - y``.
An ``Alloc`` read only by the tree takes part through its value, and the result is broadcast
once, at the end (``-alloc(v, n) -> alloc(-v, n)``: the negation runs on ``v`` only).

A tree only grows through nodes that nothing else reads, of the dtype of its root, so no
shared subexpression is computed twice. A rewrite fires only when the rebuilt tree is
smaller (fewer nodes; then fewer allocations inside it, divisions, negations), so the pass
reaches a fixpoint.

What is assumed, and what is kept:

- Cancelling ``x`` against ``x`` assumes ``x`` is finite and, in a quotient, nonzero (as
  Theano does): ``x * y / x`` is ``y`` even where ``x`` is 0, ``x - x + y`` is ``y`` even
  where ``x`` is inf. A zero constant factor is left to ``local_mul_by_zero`` (``0 / x`` is
  NaN where ``x`` is 0).
- Products of integers are never canonicalized (integer multiplication wraps around, so
  ``x * y / x`` of ints is not ``y`` after an overflow): a product tree must be of a float
  or complex dtype. Sums of integers are (wrapping addition is exact modular arithmetic);
  sums of bools are not (``True + True`` is ``True``).
- Broadcasting: a cancelled term still contributes its shape. The result is broadcast to
  the shape of the expression it replaces unless what remains provably has every dimension
  of what was cancelled (the same symbolic size, or equal static sizes): ``x * y / x`` with
  ``x`` a matrix and ``y`` a vector keeps the matrix shape.
- Dtypes: the tree is rebuilt in its root's dtype (its first operand cast when needed), so
  regrouped integer terms or float32 terms of a float64 tree lose nothing.

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> e = T.exp(x)
>>> f = workbench.function([x], 2 * x * 3 / (x * e) * e * x)
>>> [str(n.op) for n in f.maker.fgraph.toposort()]
['Elemwise{mul}']
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Callable

import numpy as np

from ... import tensor as T
from ..fgraph import FunctionGraph
from ..graph import Apply, Variable
from ..ops import scalar
from ..ops.alloc import Alloc
from .canonicalize_match import (broadcast_to_shape_of, constant_scalar, covered, dims_of,
                                  filled, is_float, like, only_client_is, scalar_op_name,
                                  unpad)
from .db import node_rewriter, register


@dataclass
class _Flat:
    """A flattened tree: leaves on the two sides, folded constants, and what it cost."""

    kind: str                       # "mul" or "add"
    dtype: str
    up: list[Variable] = field(default_factory=list)     # numerator / added terms
    down: list[Variable] = field(default_factory=list)   # denominator / subtracted terms
    up_consts: list[Any] = field(default_factory=list)
    down_consts: list[Any] = field(default_factory=list)
    shape_only: list[Variable] = field(default_factory=list)  # absorbed allocs
    sign: int = 1
    counts: dict[str, int] = field(default_factory=dict)  # absorbed nodes, by kind

    def count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1


#: for each tree kind: the scalar ops it flattens, and the name of the "inverse" op
_TREE_OPS = {"mul": ("mul", "true_div", "neg"), "add": ("add", "sub", "neg")}


def _tree_allowed(kind: str, dtype: str) -> bool:
    if kind == "mul":
        return is_float(dtype)
    return dtype != "bool"


def _flatten(fgraph: FunctionGraph, root: Apply, kind: str) -> _Flat:
    dtype = root.outputs[0].dtype
    ops = _TREE_OPS[kind]
    flat = _Flat(kind, dtype)
    # (variable, on the up side?, reader node or None for the root)
    stack: list[tuple[Variable, bool, Apply | None]] = [(root.outputs[0], True, None)]
    while stack:
        var, up, reader = stack.pop()
        name = scalar_op_name(var)
        owner = var.owner
        absorb = reader is None or (var.dtype == dtype and only_client_is(fgraph, var, reader))
        if absorb and name in ops:
            flat.count(name)
            if name == "neg":
                if kind == "mul":
                    flat.sign = -flat.sign
                    stack.append((owner.inputs[0], up, owner))
                else:
                    stack.append((owner.inputs[0], not up, owner))
            elif name in ("true_div", "sub"):
                stack.append((owner.inputs[1], not up, owner))
                stack.append((owner.inputs[0], up, owner))
            else:
                stack.extend((i, up, owner) for i in reversed(owner.inputs))
            continue
        if absorb and reader is not None and unpad(var) is not var:
            # broadcastable dimensions added on the left: the rebuilt tree adds them again
            flat.count("pad")
            stack.append((owner.inputs[0], up, owner))
            continue
        if absorb and reader is not None and owner is not None and \
                isinstance(owner.op, Alloc):
            # alloc(v, dims) (*|+) rest == alloc(v (*|+) rest, ...): v joins the tree, the
            # alloc only its shape
            flat.count("alloc")
            flat.shape_only.append(var)
            stack.append((owner.inputs[0], up, owner))
            continue
        value = constant_scalar(var)
        if value is not None and not isinstance(value, bool):
            (flat.up_consts if up else flat.down_consts).append(value)
            continue
        (flat.up if up else flat.down).append(var)
    return flat


def _cancel(up: list[Variable], down: list[Variable]
            ) -> tuple[list[Variable], list[Variable], list[Variable]]:
    """The two sides without the terms they share (matched one for one), and those terms."""
    up, down = list(up), list(down)
    gone: list[Variable] = []
    for var in list(down):
        for i, candidate in enumerate(up):
            if candidate is var:
                del up[i]
                down.remove(var)
                gone.append(var)
                break
    return up, down, gone


class _Builder:
    """Builds the rebuilt tree, counting what it makes."""

    def __init__(self, dtype: str):
        self.dtype = dtype
        self.counts: dict[str, int] = {}

    def op(self, name: str, fn: Callable[..., Variable], *args: Variable) -> Variable:
        self.counts[name] = self.counts.get(name, 0) + 1
        return fn(*args)

    def cast(self, var: Variable) -> Variable:
        if var.dtype == self.dtype:
            return var
        return self.op("cast", T.cast, var, self.dtype)

    def chain(self, name: str, fn: Callable, terms: list[Variable]) -> Variable:
        """``fn`` folded over the terms, in the tree's dtype from the first one on."""
        scalar_op = scalar.SCALAR_OPS[name]
        dtype = reduce(scalar_op.output_dtype, [t.dtype for t in terms])
        first = terms[0] if dtype == self.dtype else self.cast(terms[0])
        result = first
        for term in terms[1:]:
            result = self.op(name, fn, result, term)
        return self.cast(result)

    def constant(self, value: Any) -> Variable:
        return T.constant(np.asarray(value, dtype=self.dtype))


def _surely_no_better(flat: _Flat, gone: list[Variable], n_ops: int, inverse: bool,
                      negate: bool, inverse_name: str) -> bool:
    """Whether a tree that loses no term, alloc or padding cannot be rebuilt smaller (so
    the common case, a tree already canonical, builds nothing)."""
    if gone or flat.shape_only or flat.counts.get("pad"):
        return False
    old = (sum(flat.counts.values()), 0, flat.counts.get(inverse_name, 0),
           flat.counts.get("neg", 0))
    return (n_ops, 0, int(inverse), int(negate)) >= old


def _new_cost(fgraph: FunctionGraph, result: Variable) -> int:
    """The nodes computing ``result`` that the graph does not have, not counting the
    computation of an Alloc's shape (broadcasting a result costs one node, the Alloc)."""
    stack, seen, count = [result], set(), 0
    while stack:
        var = stack.pop()
        node = var.owner
        if node is None or var in fgraph.variables or id(node) in seen:
            continue
        seen.add(id(node))
        count += 1
        stack.extend(node.inputs[:1] if isinstance(node.op, Alloc) else node.inputs)
    return count


def _improves(fgraph: FunctionGraph, flat: _Flat, result: Variable | None, b: "_Builder",
              inverse: str) -> bool:
    """Whether the rebuilt tree is smaller than the flattened one: fewer nodes; then fewer
    allocations inside the tree, fewer inverses (divisions, subtractions), negations."""
    if result is None:
        return False
    old = (sum(flat.counts.values()), flat.counts.get("alloc", 0),
           flat.counts.get(inverse, 0), flat.counts.get("neg", 0))
    new = (_new_cost(fgraph, result), 0, b.counts.get(inverse, 0), b.counts.get("neg", 0))
    return new < old


def _fold(values: list[Any], kind: str) -> Any:
    if not values:
        return 1 if kind == "mul" else 0
    if any(isinstance(v, complex) for v in values):
        arr = np.asarray(values, dtype=np.complex128)
    elif all(isinstance(v, int) for v in values):
        arr = np.asarray(values, dtype=object)  # exact: Python integers
    else:
        arr = np.asarray(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        out = np.prod(arr) if kind == "mul" else np.sum(arr)
    return out.item() if hasattr(out, "item") else out


def _wrapped(value: int, dtype: str) -> int:
    """``value`` as the integer ``dtype`` holds it after wrapping around, as NumPy's integer
    arithmetic does."""
    bits = np.dtype(dtype).itemsize * 8
    value %= 1 << bits
    if np.dtype(dtype).kind == "i" and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def _finite(value: Any) -> bool:
    return isinstance(value, int) or bool(np.isfinite(value))


def _wrap_dims(fgraph: FunctionGraph, out: Variable, flat: _Flat, gone: list[Variable],
               kept: list[Variable]) -> list | None:
    """The shape to broadcast the rebuilt tree to: None when what is kept provably gives
    it already; else the dimensions of an absorbed alloc or cancelled term that covers
    every other operand, or failing one, the shape of ``out``."""
    must = flat.shape_only + gone
    if all(covered(fgraph, kept, var) for var in must):
        return None
    everything = kept + must
    for candidate in must:
        if candidate.ndim == out.ndim and all(
                covered(fgraph, [candidate], var) for var in everything):
            owner = candidate.owner
            if owner is not None and isinstance(owner.op, Alloc):
                return list(owner.inputs[1:])
            return list(dims_of(fgraph, candidate))
    # the broadcast of the distinct operands' shapes (not the shape inferred for ``out``,
    # which nests one broadcast per node of the tree)
    from ...tensor.shape import broadcast_shape_symbolic

    distinct = list({id(v): v for v in everything}.values())
    shapes = [(1,) * (out.ndim - v.ndim) + tuple(dims_of(fgraph, v)) for v in distinct]
    return list(broadcast_shape_symbolic(shapes, out.type.shape))


def _finish(fgraph: FunctionGraph, out: Variable, result: Variable, dims: list | None
            ) -> Variable | None:
    if dims is None:
        return like(result, out)
    return broadcast_to_shape_of(fgraph, result, out, dims)  # Alloc pads on the left


def _is_absorbed_by_reader(fgraph: FunctionGraph, node: Apply, kind: str) -> bool:
    """Whether the one reader of ``node``'s output flattens it into its own tree."""
    out = node.outputs[0]
    clients = fgraph.clients.get(out, ())
    if len(clients) != 1 or clients[0][0] == "output":
        return False
    reader = clients[0][0]
    return scalar_op_name(reader) in _TREE_OPS[kind] and reader.outputs[0].dtype == out.dtype


def _rebuild_product(fgraph: FunctionGraph, node: Apply, flat: _Flat) -> Variable | None:
    out = node.outputs[0]
    up, down, gone = _cancel(flat.up, flat.down)
    if any(v == 0 for v in flat.down_consts):
        return None
    p_up = _fold(flat.up_consts, "mul")
    p_down = _fold(flat.down_consts, "mul")
    if not (_finite(p_up) and _finite(p_down)):
        return None
    if p_up == 0:
        return None  # 0 * nan, 0 / 0 are NaN: local_mul_by_zero decides (integers only)
    sign = flat.sign
    # one constant: on top, unless the only constants divide (x / 3 stays, x * (1/3) would
    # round differently)
    c_up, c_down = p_up * sign, p_down
    if c_down != 1 and p_up == 1:
        c_up = sign
    elif c_down != 1:
        c_up, c_down = c_up / c_down, 1
    negate = c_up == -1
    if negate:
        c_up = 1
    if not up and not down:
        value = -c_up if negate else c_up
        return filled(fgraph, value / c_down, out)
    n_operands = len(up) + len(down) + (c_up != 1) + (c_down != 1)
    if _surely_no_better(flat, gone, n_operands - 1 + negate, bool(down) or c_down != 1,
                         negate, "true_div"):
        return None
    dims = _wrap_dims(fgraph, out, flat, gone, up + down)
    b = _Builder(flat.dtype)
    numer = list(up)
    if c_up != 1:
        numer.insert(0, b.constant(c_up))
    denom = list(down)
    if c_down != 1:
        denom.insert(0, b.constant(c_down))
    top = b.chain("mul", T.mul, numer) if numer else b.constant(1)
    result = top
    if denom:
        result = b.op("true_div", T.true_div, top, b.chain("mul", T.mul, denom))
    if negate:
        result = b.op("neg", T.neg, result)
    result = _finish(fgraph, out, result, dims)
    return result if _improves(fgraph, flat, result, b, "true_div") else None


def _rebuild_sum(fgraph: FunctionGraph, node: Apply, flat: _Flat) -> Variable | None:
    out = node.outputs[0]
    up, down, gone = _cancel(flat.up, flat.down)
    kind = np.dtype(flat.dtype).kind
    c = _fold(flat.up_consts, "add")
    c_down = _fold(flat.down_consts, "add")
    if kind in "iu":
        c = _wrapped(int(c) - int(c_down), flat.dtype)
    else:
        c = c - c_down
        if not _finite(c):
            return None
    if not up and not down:
        return filled(fgraph, c, out)
    negate = not up and c == 0
    n_ops = len(up) + len(down) + (c != 0) - 1 + negate
    if _surely_no_better(flat, gone, n_ops, bool(down) and not negate, negate, "sub"):
        return None
    dims = _wrap_dims(fgraph, out, flat, gone, up + down)
    b = _Builder(flat.dtype)
    terms = list(up)
    if c != 0 and terms:
        terms.append(b.constant(c))
    if terms:
        result = b.chain("add", T.add, terms)
        if down:
            result = b.op("sub", T.sub, result, b.chain("add", T.add, down))
    elif c != 0:
        result = b.op("sub", T.sub, b.constant(c), b.chain("add", T.add, down))
    else:
        result = b.op("neg", T.neg, b.chain("add", T.add, down))
    result = _finish(fgraph, out, result, dims)
    return result if _improves(fgraph, flat, result, b, "sub") else None


@register("canonicalize", "fast_run")
@node_rewriter([scalar.mul, scalar.true_div, scalar.neg])
def local_mul_canonizer(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """Products and quotients as ``c * num / den``: equal factors cancel, constants fold,
    one division at most, allocs broadcast once at the end."""
    out = node.outputs[0]
    if scalar_op_name(node) is None or not _tree_allowed("mul", out.dtype):
        return None
    if _is_absorbed_by_reader(fgraph, node, "mul"):
        return None  # the tree above handles this one
    flat = _flatten(fgraph, node, "mul")
    result = _rebuild_product(fgraph, node, flat)
    return None if result is None else [result]


@register("canonicalize", "fast_run")
@node_rewriter([scalar.add, scalar.sub, scalar.neg])
def local_add_canonizer(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """Sums as ``terms + c - terms``: equal terms cancel, constants fold, one subtraction
    at most, allocs broadcast once at the end."""
    out = node.outputs[0]
    if scalar_op_name(node) is None or not _tree_allowed("add", out.dtype):
        return None
    if _is_absorbed_by_reader(fgraph, node, "add"):
        return None
    flat = _flatten(fgraph, node, "add")
    result = _rebuild_sum(fgraph, node, flat)
    return None if result is None else [result]


__all__ = ["local_mul_canonizer", "local_add_canonizer"]
