"""Numerical stabilisation: rewrite expressions that overflow, underflow or lose precision
into equal ones computed stably (the ``stabilize`` pass, after ``canonicalize``).

- ``log(1 + exp(x))`` -> ``softplus(x)``; ``1 / (1 + exp(-x))`` -> ``sigmoid(x)``;
  ``log(sigmoid(x))`` -> ``-softplus(-x)``;
  ``log(1 - sigmoid(x))`` -> ``-softplus(x)``; ``1 - sigmoid(x)`` -> ``sigmoid(-x)``;
- ``log(1 + x)`` -> ``log1p(x)``; ``exp(x) - 1`` -> ``expm1(x)``;
  ``log(1 - exp(x))`` -> ``log1mexp(x)``; ``log(exp(x))`` -> ``x``; ``exp(log(x))`` -> ``x``
  where ``x >= 0`` is certain;
- ``log(sum(exp(x)))`` -> the max-shifted log-sum-exp;
- ``log(softmax(x))`` -> ``logsoftmax(x)``; softmax then cross-entropy -> one stable op,
  and the gradient of that pair (built by ``T.grad`` before any rewrite) -> softmax - onehot.

Every replacement keeps the dtype and the number of dimensions of what it replaces (a
constant ``1`` of more dimensions than ``x`` still broadcasts the result), and integer inputs
are cast to the output's float dtype first, so that negating them cannot wrap around.

>>> import numpy as np, workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> f = workbench.function([x], T.log(1 + T.exp(x)))
>>> [str(n.op) for n in f.maker.fgraph.toposort()]
['Elemwise{softplus}']
>>> f(np.array([800.0, -800.0])).tolist()
[800.0, 0.0]
"""
from __future__ import annotations

import numpy as np

from ... import tensor as T
from ..graph import Apply, Constant, Variable
from ..ops import scalar
from ..ops.elemwise import DimShuffle, Elemwise, pad_left
from ..ops.nnet import (CrossentropyCategorical1Hot, CrossentropySoftmaxArgmax1HotWithBias,
                        LogSoftmax, Softmax)
from ..ops.reduce import Max, Sum
from ..ops.scalar import ScalarOp
from .db import node_rewriter, register

# ---------------------------------------------------------------------------------------
# Matching helpers


def scalar_name(var: Variable) -> str | None:
    """The name of the table scalar op computing ``var`` elementwise, or None (not an
    Elemwise, or a Cast/Composite, whose names are not table names)."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, Elemwise):
        return None
    op = owner.op.scalar_op
    return op.name if type(op) is ScalarOp else None


def arg_of(var: Variable, name: str) -> Variable | None:
    """``a`` if ``var`` is ``name(a)`` (a unary table op), else None."""
    return var.owner.inputs[0] if scalar_name(var) == name else None


def scalar_constant(var: Variable) -> float | None:
    """The value of a constant holding one real number (of any number of size-1
    dimensions), else None: only such a constant leaves the shape of a sum to the other
    operand."""
    if not isinstance(var, Constant) or not isinstance(getattr(var, "data", None), np.ndarray):
        return None
    data = var.data
    if data.size != 1 or data.dtype.kind not in "biuf":
        return None
    return float(data.flat[0])


def unpadded(var: Variable) -> Variable:
    """``var`` without the broadcastable dimensions an Elemwise added on its left to line it
    up with an operand of more dimensions (:func:`like` puts them back)."""
    owner = var.owner
    if owner is not None and isinstance(owner.op, DimShuffle):
        order = owner.op.new_order
        n = len(order) - owner.inputs[0].ndim
        if n > 0 and order == ("x",) * n + tuple(range(owner.inputs[0].ndim)):
            return owner.inputs[0]
    return var


def one_plus(var: Variable) -> tuple[int, Variable] | None:
    """``(+1, t)`` if ``var`` is ``1 + t`` or ``t + 1``; ``(-1, t)`` if it is ``1 - t`` or
    ``1 + (-t)``; else None."""
    name = scalar_name(var)
    if name == "add":
        a, b = var.owner.inputs
        for c, t in ((a, b), (b, a)):
            if scalar_constant(c) == 1.0:
                t = unpadded(t)
                neg = arg_of(t, "neg")
                return (-1, neg) if neg is not None else (1, t)
    elif name == "sub":
        c, t = var.owner.inputs
        if scalar_constant(c) == 1.0:
            return -1, unpadded(t)
    return None


def minus_one(var: Variable) -> Variable | None:
    """``t`` if ``var`` is ``t - 1``, ``t + (-1)`` or ``(-1) + t``, else None."""
    name = scalar_name(var)
    if name == "sub":
        t, c = var.owner.inputs
        if scalar_constant(c) == 1.0:
            return unpadded(t)
    elif name == "add":
        a, b = var.owner.inputs
        for c, t in ((a, b), (b, a)):
            if scalar_constant(c) == -1.0:
                return unpadded(t)
    return None


def is_float(var: Variable) -> bool:
    return np.dtype(var.dtype).kind == "f"


def as_dtype(var: Variable, dtype: str) -> Variable:
    """``var`` cast to ``dtype`` (itself when it has it already)."""
    return T.cast(var, dtype) if var.dtype != dtype else var


def negated(var: Variable) -> Variable:
    """``-var``, unwrapping a negation rather than stacking a second one."""
    inner = arg_of(var, "neg")
    return inner if inner is not None else T.neg(var)


def like(new: Variable, old: Variable) -> Variable:
    """``new`` with ``old``'s dtype and number of dimensions (a size-1 constant operand that
    was dropped may have added leading broadcastable dimensions)."""
    new = as_dtype(new, old.dtype)
    if new.ndim < old.ndim:
        new = pad_left(new, old.ndim)
    return new


def _float_out(node: Apply) -> str | None:
    """The node's output dtype if it is a real float (the only case these rewrites handle:
    softplus, log1mexp and friends refuse complex inputs)."""
    out = node.outputs[0]
    return out.dtype if is_float(out) else None


# ---------------------------------------------------------------------------------------
# softplus, log1p, log1mexp


def _log1p_operand(node: Apply, sign: int, name: str) -> Variable | None:
    """``x`` if ``node`` is ``log(1 + sign * name(x))`` or ``log1p(sign * name(x))`` (sign
    +1 or -1, ``name`` a unary table op), else None."""
    (arg,) = node.inputs
    if scalar_name(node.outputs[0]) == "log":
        match = one_plus(arg)
        if match is None or match[0] != sign:
            return None
        term = match[1]
    else:
        term = arg if sign == 1 else arg_of(arg, "neg")
    return None if term is None else arg_of(term, name)


@register("stabilize", "fast_run")
@node_rewriter([scalar.log, scalar.log1p])
def local_log1pexp_to_softplus(fgraph, node):
    """``log(1 + exp(x))``, ``log(exp(x) + 1)``, ``log1p(exp(x))`` -> ``softplus(x)``:
    exp overflows for x > 709 (float64) where softplus is just x."""
    dtype = _float_out(node)
    x = _log1p_operand(node, 1, "exp")
    if dtype is None or x is None:
        return None
    return [like(T.softplus(as_dtype(x, dtype)), node.outputs[0])]


@register("stabilize", "fast_run")
@node_rewriter([scalar.log, scalar.log1p])
def local_log1mexp(fgraph, node):
    """``log(1 - exp(x))``, ``log1p(-exp(x))`` -> ``log1mexp(x)``, which keeps precision for
    x near 0 (where 1 - exp(x) cancels) and for very negative x (where exp(x) is below the
    rounding of 1). Equal for every x: both are NaN for x > 0 and -inf at 0."""
    dtype = _float_out(node)
    x = _log1p_operand(node, -1, "exp")
    if dtype is None or x is None:
        return None
    return [like(T.elemwise("log1mexp")(as_dtype(x, dtype)), node.outputs[0])]


@register("stabilize", "fast_run")
@node_rewriter([scalar.log])
def local_log_sigmoid_to_softplus(fgraph, node):
    """``log(sigmoid(x))`` -> ``-softplus(-x)``: sigmoid underflows to 0 for x < -745
    (float64) where the log is about x."""
    dtype = _float_out(node)
    x = arg_of(node.inputs[0], "sigmoid")
    if dtype is None or x is None:
        return None
    return [like(T.neg(T.softplus(negated(as_dtype(x, dtype)))), node.outputs[0])]


@register("stabilize", "fast_run")
@node_rewriter([scalar.log, scalar.log1p])
def local_log1m_sigmoid_to_softplus(fgraph, node):
    """``log(1 - sigmoid(x))``, ``log1p(-sigmoid(x))`` -> ``-softplus(x)``: 1 - sigmoid(x)
    rounds to 0 for x > 37 (float64) where the log is about -x."""
    dtype = _float_out(node)
    x = _log1p_operand(node, -1, "sigmoid")
    if dtype is None or x is None:
        return None
    return [like(T.neg(T.softplus(as_dtype(x, dtype))), node.outputs[0])]


@register("stabilize", "fast_run")
@node_rewriter([scalar.true_div])
def local_inv_1_plus_exp_to_sigmoid(fgraph, node):
    """``1 / (1 + exp(-x))`` -> ``sigmoid(x)``: the logistic function written out (as in
    Theano's logistic regression tutorial), so that the sigmoid rules below apply to it and
    exp(-x) cannot overflow to inf."""
    dtype = _float_out(node)
    num, den = node.inputs
    if dtype is None or scalar_constant(num) != 1.0:
        return None
    match = one_plus(den)
    if match is None or match[0] != 1:
        return None
    u = arg_of(match[1], "exp")
    if u is None:
        return None
    return [like(T.sigmoid(negated(as_dtype(u, dtype))), node.outputs[0])]


@register("stabilize", "fast_run")
@node_rewriter([scalar.sub, scalar.add])
def local_one_minus_sigmoid(fgraph, node):
    """``1 - sigmoid(x)`` -> ``sigmoid(-x)``: exact where the subtraction rounds to 0 (and
    what lets ``log(1 - sigmoid(x))`` become a softplus)."""
    dtype = _float_out(node)
    match = one_plus(node.outputs[0])
    if dtype is None or match is None or match[0] != -1:
        return None
    x = arg_of(match[1], "sigmoid")
    if x is None:
        return None
    return [like(T.sigmoid(negated(as_dtype(x, dtype))), node.outputs[0])]


@register("stabilize", "fast_run")
@node_rewriter([scalar.log])
def local_log1p(fgraph, node):
    """``log(1 + t)`` -> ``log1p(t)`` and ``log(1 - t)`` -> ``log1p(-t)``: precise for small
    t, where 1 + t rounds t away. (Registered after the rules above, which turn the
    exp/sigmoid cases into something better still.)"""
    dtype = _float_out(node)
    match = one_plus(node.inputs[0])
    if dtype is None or match is None:
        return None
    sign, t = match
    if not is_float(t):
        return None  # 1 + t in an integer dtype may wrap around before the log: keep it
    t = as_dtype(t, dtype)
    return [like(T.log1p(t if sign == 1 else negated(t)), node.outputs[0])]


@register("stabilize", "fast_run")
@node_rewriter([scalar.sub, scalar.add])
def local_expm1(fgraph, node):
    """``exp(x) - 1`` (or ``exp(x) + (-1)``) -> ``expm1(x)``: precise for small x."""
    dtype = _float_out(node)
    term = minus_one(node.outputs[0])
    if dtype is None or term is None:
        return None
    x = arg_of(term, "exp")
    if x is None:
        return None
    return [like(T.expm1(as_dtype(x, dtype)), node.outputs[0])]


@register("stabilize", "fast_run")
@node_rewriter([scalar.log])
def local_log_exp(fgraph, node):
    """``log(exp(x))`` -> ``x`` (real x): exact, where exp would overflow to inf or underflow
    to 0."""
    dtype = _float_out(node)
    x = arg_of(node.inputs[0], "exp")
    if dtype is None or x is None or np.dtype(x.dtype).kind == "c":
        return None
    return [like(as_dtype(x, dtype), node.outputs[0])]


#: table ops whose result is never negative (or is NaN), so that exp(log(r)) == r
_NONNEGATIVE = frozenset({"exp", "exp2", "sqr", "abs", "sqrt", "softplus", "sigmoid", "cosh"})


def _nonnegative(var: Variable) -> bool:
    """Whether every value of ``var`` is certainly >= 0 (or NaN)."""
    if isinstance(var, Constant) and isinstance(getattr(var, "data", None), np.ndarray):
        data = var.data
        return data.dtype.kind in "biuf" and not np.any(data < 0)
    return scalar_name(var) in _NONNEGATIVE or np.dtype(var.dtype).kind in "bu"


@register("stabilize", "fast_run")
@node_rewriter([scalar.exp])
def local_exp_log(fgraph, node):
    """``exp(log(x))`` -> ``x``, only where ``x >= 0`` is certain (an exp, a square, an
    abs, ... or a non-negative constant): for a negative x the original is NaN."""
    dtype = _float_out(node)
    x = arg_of(node.inputs[0], "log")
    if dtype is None or x is None or not _nonnegative(x):
        return None
    return [like(as_dtype(x, dtype), node.outputs[0])]


def _quotient(var: Variable) -> tuple[Variable, Variable] | None:
    """``(a, d)`` if ``var`` is ``a / d``, else None."""
    return tuple(var.owner.inputs) if scalar_name(var) == "true_div" else None


@register("stabilize", "fast_run")
@node_rewriter([scalar.mul])
def local_mul_quotients_by_their_divisors(fgraph, node):
    """``(a / p ± b / q) * (p * q)`` -> ``a * q ± b * p``: the shape of the gradient of a
    binary cross-entropy of a sigmoid, ``(g1 / s - g2 / (1 - s)) * s * (1 - s)``, which is
    NaN where s rounds to 0 or 1 (inf times 0) and finite once the divisors cancel."""
    if _float_out(node) is None:
        return None
    out = node.outputs[0]
    for total, product in (node.inputs, node.inputs[::-1]):
        op = scalar_name(total)
        if op not in ("add", "sub") or scalar_name(product) != "mul":
            continue
        first, second = (_quotient(t) for t in total.owner.inputs)
        if first is None or second is None:
            continue
        (a, p), (b, q) = first, second
        if not all(is_float(v) for v in (a, p, b, q)):
            continue  # a * q of integers may overflow where the quotients were floats
        divisors = product.owner.inputs
        if not ((divisors[0] is p and divisors[1] is q) or
                (divisors[0] is q and divisors[1] is p)) or p is q:
            continue
        combine = T.add if op == "add" else T.sub
        return [like(combine(a * q, b * p), out)]
    return None


# ---------------------------------------------------------------------------------------
# log-sum-exp


def _max_shifted(x: Variable, axis: tuple[int, ...] | None) -> bool:
    """Whether ``x`` is ``a - m`` with ``m`` the (inf-guarded) max of ``a`` over ``axis``:
    what :func:`local_logsumexp` makes, which must not be shifted again."""
    if scalar_name(x) != "sub":
        return False
    a, m = x.owner.inputs
    while m.owner is not None and isinstance(m.owner.op, DimShuffle):
        m = m.owner.inputs[0]
    if scalar_name(m) == "switch":
        m = m.owner.inputs[2]
    return m.owner is not None and type(m.owner.op) is Max and m.owner.op.axis == axis \
        and m.owner.inputs[0] is a


@register("stabilize", "fast_run")
@node_rewriter([scalar.log])
def local_logsumexp(fgraph, node):
    """``log(sum(exp(x), axis))`` -> ``m + log(sum(exp(x - m), axis))`` with ``m`` the max
    of ``x`` over ``axis`` (also with keepdims, and over every axis), as
    ``scipy.special.logsumexp`` computes it: an infinite max is replaced by 0 before
    shifting, so that a row of -inf gives -inf (not NaN) and one holding +inf gives +inf.

    Differs in one case: over an empty axis the original gives -inf where the max raises
    ValueError (NumPy's max of nothing).
    """
    dtype = _float_out(node)
    if dtype is None:
        return None
    total = node.inputs[0]
    keepdims = None
    if total.owner is not None and isinstance(total.owner.op, DimShuffle):
        keepdims = total.owner.op  # T.sum(..., keepdims=True) puts the axes back after
        total = total.owner.inputs[0]
    if total.owner is None or type(total.owner.op) is not Sum:
        return None
    sum_op = total.owner.op
    exp_x = total.owner.inputs[0]
    x = arg_of(exp_x, "exp")
    if x is None or not is_float(exp_x) or _max_shifted(x, sum_op.axis):
        return None
    x = as_dtype(x, exp_x.dtype)  # shift in float: x - max(x) can overflow an int dtype
    axes = tuple(range(x.ndim)) if sum_op.axis is None else sum_op.axis
    peak = T.max(x, axis=sum_op.axis)
    peak = T.switch(T.isinf(peak), 0, peak)
    shifted = T.exp(x - T.expand_dims(peak, axes)) if axes else T.exp(x - peak)
    result = T.log(sum_op(shifted)) + peak
    if keepdims is not None:
        result = keepdims(result)
    return [like(result, node.outputs[0])]



# ---------------------------------------------------------------------------------------
# Softmax, log-softmax, cross-entropy, and the gradient T.grad builds for them


def _axes_of(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    """A softmax's or a reduction's ``axis`` as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(int(a) % ndim for a in axes)) if ndim else ()


def softmax_axes(var: Variable) -> tuple[int, ...] | None:
    """The axes ``var`` is a softmax over, if it is one: the output of a :class:`Softmax`, or
    the softmax output of :class:`CrossentropySoftmaxArgmax1HotWithBias` (over the rows)
    that :func:`local_softmax_crossentropy` puts in a softmax's place; else None."""
    owner = var.owner
    if owner is None:
        return None
    if type(owner.op) is Softmax:
        return _axes_of(owner.op.axis, var.ndim)
    if type(owner.op) is CrossentropySoftmaxArgmax1HotWithBias and var is owner.outputs[1]:
        return (1,)
    return None


def softmax_of(var: Variable) -> tuple[Variable, tuple[int, ...]] | None:
    """``(z, axes)`` if ``var`` is the softmax of ``z`` over ``axes`` (``z = x + b`` for the
    fused op with a bias), else None."""
    axes = softmax_axes(var)
    if axes is None:
        return None
    inputs = var.owner.inputs
    if type(var.owner.op) is Softmax or len(inputs) == 2:
        return inputs[0], axes
    return inputs[0] + inputs[1], axes


@register("stabilize", "fast_run")
@node_rewriter([scalar.log])
def local_log_softmax(fgraph, node):
    """``log(softmax(x))`` -> ``logsoftmax(x)``: ``x - logsumexp(x)``, finite where the
    softmax underflows to 0 (and exact where it rounds to 1)."""
    match = softmax_of(node.inputs[0])
    if match is None or not is_float(node.outputs[0]):
        return None
    z, axes = match
    axis = axes[0] if len(axes) == 1 else None if len(axes) == z.ndim else axes
    return [like(LogSoftmax(axis)(as_dtype(z, node.outputs[0].dtype)), node.outputs[0])]


@register("stabilize", "fast_run")
@node_rewriter([CrossentropyCategorical1Hot])
def local_softmax_crossentropy(fgraph, node):
    """``crossentropy_categorical_1hot(softmax(x), y)`` (x a matrix, the softmax over its
    rows) -> the fused ``CrossentropySoftmaxArgmax1HotWithBias(x, y)``, which computes
    ``logsumexp(x) - x[y]``: finite for logits of 1000, where the softmax of the true class
    underflows to 0 and its log is -inf. The softmax itself is taken from the fused op too,
    so that it is computed once.

    (The gradient ``T.grad`` built from the two separate ops is rewritten by
    :func:`softmax_grad_of_log`.)
    """
    sm, labels = node.inputs
    if sm.ndim != 2 or labels.ndim != 1 or softmax_axes(sm) != (1,):
        return None  # (other ranks keep the separate ops: the fused op takes a matrix)
    inputs = list(sm.owner.inputs)
    if type(sm.owner.op) is Softmax:
        inputs.append(labels)
    else:  # the softmax of a fused op made for another cross-entropy of the same logits
        inputs[-1] = labels
    nll, fused_sm, _ = CrossentropySoftmaxArgmax1HotWithBias()(*inputs)
    out = node.outputs[0]
    if nll.dtype != out.dtype or fused_sm.dtype != sm.dtype:
        return None
    if type(sm.owner.op) is not Softmax:
        return {out: nll}
    return {out: nll, sm: fused_sm}


def _keepdims_of(var: Variable, axes: tuple[int, ...], ndim: int) -> Variable | None:
    """``s`` if ``var`` is ``sum(s, axes, keepdims=True)`` (a Sum then the DimShuffle that
    puts the reduced axes back), else None."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, DimShuffle):
        return None
    rest = iter(range(ndim - len(axes)))
    expected = tuple("x" if d in axes else next(rest) for d in range(ndim))
    if owner.op.new_order != expected:
        return None
    total = owner.inputs[0]
    if total.owner is None or type(total.owner.op) is not Sum or \
            _axes_of(total.owner.op.axis, ndim) != axes:
        return None
    return total.owner.inputs[0]


def _over(v: Variable, s: Variable) -> Variable | None:
    """``g`` if ``v`` is ``g / s`` (``true_div(g, s)``, or ``g * (1 / s)`` as the gradient of
    ``log(s)`` is built), else None."""
    name = scalar_name(v)
    if name == "true_div" and v.owner.inputs[1] is s:
        return v.owner.inputs[0]
    if name == "mul":
        a, b = v.owner.inputs
        for g, inv in ((a, b), (b, a)):
            if scalar_name(inv) == "true_div" and inv.owner.inputs[1] is s and \
                    scalar_constant(inv.owner.inputs[0]) == 1.0:
                return g
    return None


def _picked_over(v: Variable, s: Variable) -> Variable | None:
    """``switch(mask, h[..., None], 0)`` if ``v`` is ``switch(mask, (h / p)[..., None], 0)``
    with ``p = sum(switch(mask, s, 0), -1)`` (the entry of ``s`` at each row's label): the
    gradient of ``crossentropy_categorical_1hot(s, y)``; that is, ``v`` is that switch
    divided by ``s`` where the mask holds (and 0 elsewhere), else None."""
    if scalar_name(v) != "switch":
        return None
    mask, picked_term, zero = v.owner.inputs
    if scalar_constant(zero) != 0.0:
        return None
    pad = picked_term.owner
    if pad is None or not isinstance(pad.op, DimShuffle) or \
            pad.op.new_order != tuple(range(s.ndim - 1)) + ("x",):
        return None
    quotient = pad.inputs[0]
    if scalar_name(quotient) != "true_div":
        return None
    h, picked = quotient.owner.inputs
    if picked.owner is None or type(picked.owner.op) is not Sum or \
            _axes_of(picked.owner.op.axis, s.ndim) != (s.ndim - 1,):
        return None
    chosen = picked.owner.inputs[0]
    if scalar_name(chosen) != "switch":
        return None
    mask2, entry, zero2 = chosen.owner.inputs
    if mask2 is not mask or entry is not s or scalar_constant(zero2) != 0.0:
        return None
    return T.switch(mask, T.shape_padright(h), 0)


def _divided_by(v: Variable, s: Variable) -> Variable | None:
    """``gz`` such that ``v`` is ``gz / s`` in one of the forms of :func:`_over` and
    :func:`_picked_over`, or a sum of such terms (the gradients of several costs of one
    softmax add up before the softmax's own gradient), else None."""
    gz = _over(v, s)
    if gz is None:
        gz = _picked_over(v, s)
    if gz is None and scalar_name(v) == "add":
        a, b = (_divided_by(term, s) for term in v.owner.inputs)
        if a is not None and b is not None:
            gz = a + b
    return gz


def _softmax_grad_term(out: Variable, s: Variable, axes: tuple[int, ...]
                       ) -> tuple[Variable, Variable | None] | None:
    """``(gz, total)`` if ``out`` is the softmax's vector-Jacobian product of ``gz / s``,
    ``s * (v - sum(s * v, axes, keepdims))`` with ``v = gz / s`` in one of the forms above
    (``total`` None: the sum is to be made anew), or ``s * (gz / s - total)`` where an
    algebraic rewrite already cancelled ``sum(s * (gz / s))`` to ``total = sum(gz)``."""
    if scalar_name(out) != "mul":
        return None
    a, b = out.owner.inputs
    diff = b if a is s else a if b is s else None
    if diff is None or scalar_name(diff) != "sub":
        return None
    v, total = diff.owner.inputs
    inner = _keepdims_of(total, axes, s.ndim)
    if inner is None:
        return None
    if scalar_name(inner) == "mul" and {id(i) for i in inner.owner.inputs} == {id(s), id(v)}:
        gz = _divided_by(v, s)
        return None if gz is None else (gz, None)
    gz = _over(v, s)
    return (gz, total) if gz is not None and inner is gz else None


def softmax_grad_of_log(fgraph, node):
    """The gradient of ``log(softmax(x))`` (or of a cross-entropy of it), as ``T.grad`` builds
    it from the separate ops, ``s * (v - sum(s * v))`` with ``v = gz / s``, ->
    ``gz - sum(gz) * s`` (the log-softmax's gradient). Where the softmax underflows to 0,
    ``gz / s`` is inf and the original is NaN; for the cross-entropy with integer labels
    this gives ``softmax - onehot``, finite for logits of 1000.

    It looks forward from the softmax to the nodes that use it, and it runs in the
    ``canonicalize`` pass as well as in ``stabilize``: visiting the softmax, which comes
    before its gradient in the graph's order, it sees the gradient as ``T.grad`` built it,
    before the algebraic rewrites of ``canonicalize`` reshape the products and quotients it
    matches. It is registered twice: ``local_softmax_grad_of_log`` (canonicalize, and
    stabilize) and ``local_softmax_grad_of_log_late`` (stabilize only, for a mode that
    excludes canonicalize). Excluding ``stabilize`` or the name
    ``local_softmax_grad_of_log`` turns both off.
    """
    outputs = node.outputs if type(node.op) is Softmax else node.outputs[1:2]
    replacements = {}
    for s in outputs:
        axes = softmax_axes(s)
        if axes is None:
            continue
        for client, _ in fgraph.clients.get(s, ()):
            if client == "output" or scalar_name(client.outputs[0]) != "mul":
                continue
            old = client.outputs[0]
            match = _softmax_grad_term(old, s, axes)
            if match is None:
                continue
            gz, total = match
            if total is None:
                if any(gz.broadcastable[a] and not s.broadcastable[a] for a in axes):
                    # a gz broadcast along the softmax axes is summed once per entry in the
                    # original (sum(s * gz / s)): give it its full extent before summing
                    gz = gz * T.ones_like(s)
                axis = axes if len(axes) < s.ndim else None
                total = T.sum(gz, axis=axis, keepdims=True)
            replacements[old] = like(gz - total * s, old)
    return replacements or None


_SOFTMAX_OUTPUTS = [Softmax, CrossentropySoftmaxArgmax1HotWithBias]
local_softmax_grad_of_log = register("canonicalize", "stabilize", "fast_run")(
    node_rewriter(_SOFTMAX_OUTPUTS, name="local_softmax_grad_of_log")(softmax_grad_of_log))
local_softmax_grad_of_log_late = register("stabilize", "fast_run", "local_softmax_grad_of_log")(
    node_rewriter(_SOFTMAX_OUTPUTS, name="local_softmax_grad_of_log_late")(softmax_grad_of_log))
