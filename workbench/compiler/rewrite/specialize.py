"""BLAS specialisation: products and the arithmetic around them become one BLAS call (the
``specialize`` pass), which the ``inplace`` pass then lets overwrite its updated operand.

- ``local_gemm``: ``b*C + a*dot(A, B)`` (any of ``+``/``-``, the scalars ``a``/``b`` or
  negations left out or repeated, ``A``/``B``/the product transposed) ->
  ``Gemm(C, a, A, B, b)``;
- ``local_gemv``: the same with a matrix-vector or vector-matrix product and a vector
  ``C`` -> ``Gemv``;
- ``local_ger``: ``C + a*outer(x, y)`` (``outer`` being ``T.outer`` or
  ``dot(x[:, None], y[None, :])``) -> ``Ger(C, a, x, y)``;
- ``local_dot_scalar_to_gemm``: a lone ``a*dot(A, B)`` (or ``-dot(A, B)``) of matrices ->
  ``Gemm(zeros((1, 1)), a, A, B, 0)``: BLAS scales while it multiplies, one pass over the
  result instead of two;
- ``local_blas_inplace`` (run by the ``inplace`` pass, tag ``inplace_op``): ``Gemm``,
  ``Gemv``, ``Ger`` -> their in-place variants where the destroy handler allows overwriting
  the updated operand.

What is left alone, and why:

- a lone ``dot(A, B)`` or ``dot(A, x)``: NumPy's ``dot`` already calls BLAS's gemm/gemv for
  float operands; measured against SciPy's gemm/gemv with ``beta`` 0 (and the transposition
  trick for C-ordered operands) it is as fast within noise from 10x10 to 512x512 (and
  SciPy's gemv is slower than ``dot`` for small matrices, its wrapper costing more);
- integer (and bool, float16) products: BLAS has no such routines (nor has NumPy's ``dot``);
- an updated operand that surely broadcasts (a bias row ``b[None, :]`` or a scalar added to
  the product): BLAS updates an operand of the result's full shape, so ``C`` would first be
  copied out to that shape, which is what the elementwise add does anyway (and fusion can
  merge that add with its neighbours);
- mixed dtypes (``float32`` product plus a ``float64`` ``C`` is a ``float64`` sum): the
  BLAS routines take one dtype;
- a product (or a scaled product) that something else also reads: folding it into a BLAS
  update would compute it twice.

A dimension whose size is unknown before run time may still broadcast (be 1) when the
function runs; the BLAS ops then compute the expression with NumPy, so the values are those
of the original graph in every case.

>>> import workbench
>>> from workbench import tensor as T
>>> A, B, C = T.dmatrices('A', 'B', 'C')
>>> a = T.dscalar('a')
>>> f = workbench.function([A, B, C, a], C + a * T.dot(A, B))
>>> [str(n.op) for n in f.maker.fgraph.toposort()]
['Gemm{no_inplace}']
>>> 'local_gemm' in f.trace.fired()
True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..fgraph import FunctionGraph
from ..graph import Apply, Constant, Variable
from ..ops import scalar
from ..ops.blas import Dot
from ..ops.elemwise import DimShuffle, Elemwise
from ..ops.gemm import (BLAS_DTYPES, Gemm, Gemv, Ger, gemm_no_inplace, gemv_no_inplace,
                        ger_no_inplace, is_zero_constant)
from ..ops.scalar import ScalarOp
from .db import node_rewriter, register
from .features import DestroyHandler

# ---------------------------------------------------------------------------------------
# Matching


def _scalar_name(node: Apply) -> str | None:
    """The table name of an Elemwise node's scalar op (None for other ops, casts, fused)."""
    op = node.op
    if not isinstance(op, Elemwise) or op.destroy_map or type(op.scalar_op) is not ScalarOp:
        return None
    return op.scalar_op.name


def _is_transpose(node: Apply) -> bool:
    return isinstance(node.op, DimShuffle) and node.op.new_order == (1, 0)


def _scalar_like(var: Variable) -> bool:
    """A value with one element whatever the run-time shapes: every dimension statically 1
    (an Elemwise pads a 0-d operand to that)."""
    return all(s == 1 for s in var.type.shape)


def _fills(var: Variable, out: Variable) -> bool:
    """Whether ``var`` is not surely broadcast to ``out``'s shape: no dimension statically
    1 where the output's is not (unknown sizes are checked when the op runs)."""
    return var.ndim == out.ndim and not any(
        v == 1 and o != 1 for v, o in zip(var.type.shape, out.type.shape))


def _single_client(fgraph: FunctionGraph, var: Variable) -> bool:
    return len(fgraph.clients.get(var, ())) == 1


def _transposed(var: Variable) -> Variable:
    """``var.T``, without stacking a transpose on a transpose."""
    node = var.owner
    if node is not None and _is_transpose(node):
        return node.inputs[0]
    return var.T


@dataclass
class _Product:
    """``sign * prod(coefs) * dot(x, y)`` as a BLAS routine sees it: ``kind`` 'gemm' (two
    matrices), 'outer' (a column times a row: a rank-1 update) or 'gemv' (matrix, vector)."""

    kind: str
    x: Variable
    y: Variable
    coefs: list[Variable] = field(default_factory=list)
    sign: int = 1


def _product_of(node: Apply, dtype: str, transposed: bool) -> _Product | None:
    """The product a Dot (or a buffer-only Gemm) node computes, if BLAS can compute it."""
    op = node.op
    if isinstance(op, Gemm) and not op.inplace and is_zero_constant(node.inputs[4]) and \
            _scalar_like(node.inputs[0]):
        # alpha * dot(x, y), made a Gemm by local_dot_scalar_to_gemm
        _, alpha, x, y, _ = node.inputs
        if transposed:
            x, y = _transposed(y), _transposed(x)
        return _Product("gemm", x, y, [alpha])
    if not isinstance(op, Dot):
        return None
    x, y = node.inputs
    if x.dtype != dtype or y.dtype != dtype:
        return None
    if x.ndim == 2 and y.ndim == 2:
        if transposed:  # dot(x, y).T == dot(y.T, x.T)
            x, y = _transposed(y), _transposed(x)
        outer = x.type.shape[1] == 1 and y.type.shape[0] == 1
        return _Product("outer" if outer else "gemm", x, y)
    if x.ndim == 2 and y.ndim == 1:
        return _Product("gemv", x, y)
    if x.ndim == 1 and y.ndim == 2:  # dot(x, A) == dot(A.T, x)
        return _Product("gemv", _transposed(y), x)
    return None


def product_term(fgraph: FunctionGraph, var: Variable, dtype: str, top: bool = False
                 ) -> _Product | None:
    """``var`` as ``sign * prod(coefs) * dot(x, y)``, peeling negations, multiplications by
    one-element values and transposes off a product, or None.

    Every variable on the way (``var`` too unless ``top``) must have ``dtype`` and be read
    only by the next node up: the product is then computed by the BLAS call alone.
    """
    coefs: list[Variable] = []
    sign, transposed = 1, False
    first = True
    while True:
        if var.dtype != dtype or (not (first and top) and not _single_client(fgraph, var)):
            return None
        first = False
        node = var.owner
        if node is None:
            return None
        if isinstance(node.op, (Dot, Gemm)):
            prod = _product_of(node, dtype, transposed)
            if prod is None:
                return None
            prod.coefs = prod.coefs + coefs
            prod.sign *= sign
            return prod
        if _is_transpose(node):
            transposed = not transposed
            var = node.inputs[0]
            continue
        name = _scalar_name(node)
        if name == "neg":
            sign = -sign
            var = node.inputs[0]
            continue
        if name == "mul":
            a, b = node.inputs
            if _scalar_like(a) and not _scalar_like(b):
                coefs.append(a)
                var = b
            elif _scalar_like(b):
                coefs.append(b)
                var = a
            else:
                return None
            continue
        return None


def scaled_operand(fgraph: FunctionGraph, var: Variable, dtype: str
                   ) -> tuple[Variable, list[Variable], int]:
    """``var`` as ``sign * prod(coefs) * z``: the updated operand of a BLAS call and the
    factors that become its ``beta``. Peels what :func:`product_term` peels (but
    transposes) while each step is read only by the next; a constant 0 factor stays in ``z``
    (a ``beta`` of 0 would make BLAS skip a nan or inf in ``z``)."""
    coefs: list[Variable] = []
    sign = 1
    while var.owner is not None and var.dtype == dtype and _single_client(fgraph, var):
        node = var.owner
        name = _scalar_name(node)
        if name == "neg":
            sign = -sign
            var = node.inputs[0]
            continue
        if name == "mul":
            a, b = node.inputs
            for coef, rest in ((a, b), (b, a)):
                if _scalar_like(coef) and not _scalar_like(rest) and \
                        not (isinstance(coef, Constant) and not np.any(coef.data)):
                    coefs.append(coef)
                    var = rest
                    break
            else:
                break
            continue
        break
    return var, coefs, sign


@dataclass
class _Update:
    """``zsign * prod(zcoefs) * z + product``: what one BLAS call computes."""

    product: _Product
    z: Variable
    zcoefs: list[Variable]
    zsign: int

    @property
    def kind(self) -> str:
        if self.product.kind == "outer":
            # Ger has no beta: a scaled z makes it a gemm of a column and a row
            return "ger" if not self.zcoefs and self.zsign == 1 else "gemm"
        return self.product.kind


def match_update(fgraph: FunctionGraph, node: Apply) -> _Update | None:
    """The BLAS update an ``add`` or ``sub`` node computes, if it computes one."""
    name = _scalar_name(node)
    if name not in ("add", "sub"):
        return None
    out = node.outputs[0]
    dtype = out.dtype
    if dtype not in BLAS_DTYPES or out.ndim not in (1, 2):
        return None
    left, right = node.inputs
    # (product side, operand side, sign of the product, sign of the operand)
    if name == "add":
        candidates = ((right, left, 1, 1), (left, right, 1, 1))
    else:
        candidates = ((right, left, -1, 1), (left, right, 1, -1))
    for prod_var, z_var, psign, zsign in candidates:
        if prod_var.owner is None or not _fills(prod_var, out):
            continue
        prod = product_term(fgraph, prod_var, dtype)
        if prod is None or (prod.kind == "gemv") != (out.ndim == 1):
            continue
        z, zcoefs, sign = scaled_operand(fgraph, z_var, dtype)
        if z.dtype != dtype or not _fills(z, out):
            continue
        prod.sign *= psign
        return _Update(prod, z, zcoefs, sign * zsign)
    return None


# ---------------------------------------------------------------------------------------
# Building


def _as_scalar(var: Variable, dtype: str) -> Variable:
    """A one-element value (every dimension statically 1) as a 0-d tensor of ``dtype``."""
    from ...tensor.basic import cast, constant

    if isinstance(var, Constant):
        return constant(np.asarray(var.data).reshape(()).astype(dtype))
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle) and node.inputs[0].ndim == 0:
        var = node.inputs[0]  # the padding an Elemwise put on a 0-d operand
    elif var.ndim:
        var = var.dimshuffle()
    return cast(var, dtype)


def coefficient(coefs: list[Variable], sign: int, dtype: str) -> Variable:
    """``sign * prod(coefs)`` as a 0-d tensor of ``dtype``, the constant factors folded."""
    from ...tensor.basic import constant

    value = np.asarray(sign, dtype=dtype)
    symbolic: list[Variable] = []
    for c in coefs:
        s = _as_scalar(c, dtype)
        if isinstance(s, Constant):
            value = np.asarray(value * s.data, dtype=dtype)
        else:
            symbolic.append(s)
    if not symbolic:
        return constant(value)
    result = symbolic[0]
    for s in symbolic[1:]:
        result = result * s
    if value == -1:
        return -result
    if value != 1:
        return result * constant(value)
    return result


#: ``Subtensor.idx_list`` of ``x[:, None]`` (a column) and of ``x[None]``/``x[None, :]`` (a row)
_COLUMN_INDEX = (((None, None, None), None),)
_ROW_INDEX = ((None,), (None, (None, None, None)))


def _vector_of(var: Variable, axis: int) -> Variable:
    """The vector a column (``axis`` 1) or row (``axis`` 0) matrix holds."""
    from ..ops.subtensor import Subtensor

    node = var.owner
    if node is not None and len(node.inputs) == 1 and node.inputs[0].ndim == 1:
        op = node.op
        pattern = (0, "x") if axis == 1 else ("x", 0)
        if isinstance(op, DimShuffle) and op.new_order == pattern:
            return node.inputs[0]  # T.outer's x.dimshuffle(0, 'x')
        if isinstance(op, Subtensor) and \
                op.idx_list in (_COLUMN_INDEX if axis == 1 else _ROW_INDEX):
            return node.inputs[0]  # x[:, None]
    # a column's shape[1] (a row's shape[0]) is statically 1: dropping it is allowed
    return var.dimshuffle(0) if axis == 1 else var.dimshuffle(1)


def build_update(update: _Update, dtype: str) -> Variable:
    """The BLAS op computing ``update``."""
    prod = update.product
    alpha = coefficient(prod.coefs, prod.sign, dtype)
    kind = update.kind
    if kind == "ger":
        return ger_no_inplace(update.z, alpha, _vector_of(prod.x, 1), _vector_of(prod.y, 0))
    beta = coefficient(update.zcoefs, update.zsign, dtype)
    op = gemv_no_inplace if kind == "gemv" else gemm_no_inplace
    return op(update.z, alpha, prod.x, prod.y, beta)


# ---------------------------------------------------------------------------------------
# Rewrites


def _rewrite_update(fgraph: FunctionGraph, node: Apply, kind: str) -> list[Variable] | None:
    update = match_update(fgraph, node)
    if update is None or update.kind != kind:
        return None
    return [build_update(update, node.outputs[0].dtype)]


@register("specialize", "fast_run", "blas")
@node_rewriter([scalar.add, scalar.sub])
def local_gemm(fgraph, node):
    """``b*C + a*dot(A, B)`` -> ``Gemm(C, a, A, B, b)`` for matrices of one float or
    complex dtype (signs, scalar factors and transposes folded into ``a``, ``b`` and the
    operands)."""
    return _rewrite_update(fgraph, node, "gemm")


@register("specialize", "fast_run", "blas")
@node_rewriter([scalar.add, scalar.sub])
def local_gemv(fgraph, node):
    """``b*y + a*dot(A, x)`` (or ``a*dot(x, A)``) -> ``Gemv(y, a, A, x, b)`` (``A.T`` for
    the vector-matrix product) for vectors ``x``, ``y`` and a matrix ``A`` of one dtype."""
    return _rewrite_update(fgraph, node, "gemv")


@register("specialize", "fast_run", "blas")
@node_rewriter([scalar.add, scalar.sub])
def local_ger(fgraph, node):
    """``C + a*outer(x, y)`` -> ``Ger(C, a, x, y)``: a rank-1 update (``outer`` is a Dot of
    a column and a row, which ``T.outer`` makes)."""
    return _rewrite_update(fgraph, node, "ger")


@register("specialize", "fast_run", "blas")
@node_rewriter([scalar.mul, scalar.neg])
def local_dot_scalar_to_gemm(fgraph, node):
    """``a*dot(A, B)`` (``-dot(A, B)``, ``dot(A, B).T * a``, ...) alone ->
    ``Gemm(zeros((1, 1)), a, A, B, 0)``: BLAS scales while it multiplies, sparing NumPy's
    second pass over the result (the constant ``beta`` 0 leaves the one-element ``z``
    unread; BLAS allocates the result). Left to ``local_gemm`` when the result is added to
    a matrix (the node's only reader is an update that rewrite takes)."""
    out = node.outputs[0]
    dtype = out.dtype
    if dtype not in BLAS_DTYPES or out.ndim != 2:
        return None
    prod = product_term(fgraph, out, dtype, top=True)
    if prod is None or prod.kind not in ("gemm", "outer"):
        return None
    clients = fgraph.clients.get(out, ())
    if len(clients) == 1 and clients[0][0] != "output" and \
            match_update(fgraph, clients[0][0]) is not None:
        return None
    from ...tensor.basic import constant

    alpha = coefficient(prod.coefs, prod.sign, dtype)
    return [gemm_no_inplace(constant(np.zeros((1, 1), dtype=dtype)), alpha, prod.x, prod.y,
                            constant(np.zeros((), dtype=dtype)))]


@register("inplace_op", "inplace", "fast_run", "blas")
@node_rewriter([Gemm, Gemv, Ger])
def local_blas_inplace(fgraph, node):
    """``Gemm``/``Gemv``/``Ger`` -> the in-place variant, overwriting the updated operand,
    where the destroy handler allows it and no other input of the node views the same
    memory (BLAS must not write what it is still reading)."""
    if node.op.inplace:
        return None
    handler = fgraph.get_feature(DestroyHandler)
    if handler is None or not handler.can_destroy(node, 0):
        return None
    root = handler.storage_root(node.inputs[0])
    if any(handler.storage_root(v) is root for v in node.inputs[1:]):
        return None
    return [type(node.op)(inplace=True)(*node.inputs)]


__all__ = ["local_gemm", "local_gemv", "local_ger", "local_dot_scalar_to_gemm",
           "local_blas_inplace", "match_update", "product_term", "scaled_operand",
           "coefficient", "build_update"]
