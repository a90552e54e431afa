"""Symbolic differentiation: reverse mode (:func:`grad`, :func:`Lop`) and forward mode
(:func:`Rop`).

``grad`` walks the graph from the cost back to the variables asked for. At each node it sums
the adjoints its outputs received (the gradient of the cost with respect to each output), asks
the op for the gradient with respect to each input (``op.L_op``) and sends those
contributions on. What it did is kept in a :class:`~workbench.compiler.gradrecord.GradientRecord`
(``g.tag.grad_record`` on every result) that a teacher can replay step by step.

>>> from workbench import tensor as T
>>> x = T.dscalar('x')
>>> g = grad(x ** 2, x)
>>> float(g.eval({x: 4.0}))
8.0
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

from .graph import Apply, Op, Variable, graph_replace, io_toposort
from .gradrecord import GradientRecord, SweepStep
from .gradtypes import (DisconnectedInputError, DisconnectedType, NullType, NullTypeGradError,
                        connection_pattern, disconnected_type, grad_not_implemented,
                        is_disconnected, is_null)
from .types import DISCRETE_DTYPES, TensorType

_RETURN_DISCONNECTED = ("zero", "None", "Disconnected")


def grad(cost: Variable | None, wrt: Variable | Sequence[Variable],
         consider_constant: Sequence[Variable] | None = None,
         disconnected_inputs: str = "raise", add_names: bool = True,
         known_grads: dict | None = None, return_disconnected: str = "zero",
         null_gradients: str = "raise") -> Any:
    """The gradient of the scalar ``cost`` with respect to ``wrt`` (a variable or a list).

    - ``consider_constant``: variables treated as constants (no gradient flows through them);
    - ``disconnected_inputs``: ``'raise'``, ``'warn'`` or ``'ignore'`` when a ``wrt`` does not
      influence the cost;
    - ``known_grads``: ``{variable: its gradient}`` to start from (``cost`` may then be None);
    - ``return_disconnected``: what a disconnected ``wrt`` gets: ``'zero'`` (zeros like it),
      ``'None'`` or ``'Disconnected'`` (a DisconnectedType variable);
    - ``null_gradients``: ``'raise'`` (an undefined gradient is an error naming the op) or
      ``'return'`` (return the NullType variable).

    >>> from workbench import tensor as T
    >>> x, w = T.dvector('x'), T.dvector('w')
    >>> gx, gw = grad(T.sum(x * w), [x, w])
    >>> gx.eval({x: [1., 2.], w: [3., 4.]}).tolist()
    [3.0, 4.0]
    """
    single = isinstance(wrt, Variable)
    wrt_list = [wrt] if single else list(wrt)
    _check_options(disconnected_inputs, return_disconnected, null_gradients)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad(wrt=) takes variables, got {type(w).__name__}: {w!r}")
    seeds = _seeds(cost, known_grads)
    record = GradientRecord(cost, wrt_list, seeds)
    adjoints = _reverse_sweep(seeds, wrt_list, consider_constant or (), record)
    results = []
    for w in wrt_list:
        g = adjoints.get(w)
        if is_null(g):
            if null_gradients == "raise":
                raise NullTypeGradError(f"grad: cannot compute the gradient with respect to {w}: "
                                        f"{g.type.why}")
        elif g is None and _is_discrete(w) and _connected(w, seeds, consider_constant or ()):
            g = _float_zeros_like(w)  # Theano: an integer the cost depends on gets zeros
        elif g is None:
            g = _disconnected_result(w, disconnected_inputs, return_disconnected)
        elif _is_discrete(w):
            g = _float_zeros_like(w)
        elif add_names and g.name is None and g.owner is not None and w.name is not None:
            cost_name = cost.name if cost is not None and cost.name else "cost"
            g.name = f"(d{cost_name}/d{w.name})"
        if g is not None and not is_disconnected(g):
            g.tag.grad_record = record
        results.append(g)
    record.grads = results
    return results[0] if single else results


def _check_options(disconnected_inputs: str, return_disconnected: str,
                   null_gradients: str) -> None:
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"grad(disconnected_inputs={disconnected_inputs!r}): use 'raise', "
                         f"'warn' or 'ignore'")
    if return_disconnected not in _RETURN_DISCONNECTED:
        raise ValueError(f"grad(return_disconnected={return_disconnected!r}): use one of "
                         f"{', '.join(map(repr, _RETURN_DISCONNECTED))}")
    if null_gradients not in ("raise", "return"):
        raise ValueError(f"grad(null_gradients={null_gradients!r}): use 'raise' or 'return'")


def _seeds(cost: Variable | None, known_grads: dict | None) -> dict[Variable, Variable]:
    from ..tensor.basic import as_tensor_variable

    seeds: dict[Variable, Variable] = {}
    if cost is not None:
        if not isinstance(cost, Variable):
            raise TypeError(f"grad(cost=) takes a symbolic variable, got {type(cost).__name__}")
        if not isinstance(cost.type, TensorType) or cost.type.ndim != 0:
            raise TypeError(f"grad: the cost must be a scalar (0-d tensor), got {cost} of type "
                            f"{cost.type}; sum or index it first, or pass known_grads")
        if cost.dtype in DISCRETE_DTYPES:
            raise TypeError(f"grad: the cost must be a float, got {cost} of dtype {cost.dtype}")
        from ..tensor.alloc import ones_like

        seeds[cost] = ones_like(cost)
    for var, g in (known_grads or {}).items():
        if not isinstance(var, Variable):
            raise TypeError(f"grad(known_grads=) keys must be variables, got {var!r}")
        if not (isinstance(g, Variable) and isinstance(g.type, (NullType, DisconnectedType))):
            g = as_tensor_variable(g)
            if g.ndim != var.ndim:
                raise ValueError(f"grad(known_grads=): the gradient given for {var} has "
                                 f"{g.ndim} dimensions, the variable {var.ndim}")
        if var in seeds:
            from ..tensor.math import add

            g = add(seeds[var], g)
        seeds[var] = g
    if not seeds:
        raise ValueError("grad: give a cost, known_grads, or both")
    return seeds


def _depends_on(order: list[Apply], wrt: Sequence[Variable],
                blocked: set[int]) -> set[int]:
    """Ids of the variables (in ``order``) whose value depends on some ``wrt``."""
    live = {id(w) for w in wrt}
    for node in order:
        pattern = None
        for i, inp in enumerate(node.inputs):
            if id(inp) in live and id(inp) not in blocked:
                pattern = pattern or connection_pattern(node)
                for j, out in enumerate(node.outputs):
                    if pattern[i][j]:
                        live.add(id(out))
    return live


def _connected(w: Variable, seeds: dict[Variable, Variable],
               consider_constant: Sequence[Variable]) -> bool:
    """Whether a seed depends on ``w`` along inputs the ops declare connected."""
    order = io_toposort(list(consider_constant), list(seeds))
    live = _depends_on(order, [w], {id(v) for v in consider_constant})
    return any(id(v) in live for v in seeds)


def _reverse_sweep(seeds: dict[Variable, Variable], wrt: Sequence[Variable],
                   consider_constant: Sequence[Variable], record: GradientRecord
                   ) -> dict[Variable, Variable]:
    """Propagate adjoints from the seeds; return each wrt's summed adjoint (or None)."""
    blocked = {id(v) for v in consider_constant}
    order = io_toposort([v for v in consider_constant], list(seeds))
    live = _depends_on(order, wrt, blocked)
    terms: dict[int, list[Variable]] = {}
    for var, g in seeds.items():
        terms.setdefault(id(var), []).append(g)
    wanted = {id(w) for w in wrt}
    for node in reversed(order):
        if not any(id(i) in live and id(i) not in blocked for i in node.inputs):
            continue
        received = [terms.get(id(o), []) for o in node.outputs]
        if not any(received):
            continue
        adjoints = [_sum_terms(t) for t in received]
        contributions = _node_gradients(node, adjoints)
        sent: list[Variable | None] = []
        for inp, g in zip(node.inputs, contributions):
            if g is None or id(inp) in blocked or id(inp) not in live or (
                    _is_discrete(inp) and not is_null(g) and id(inp) not in wanted):
                sent.append(None)  # nothing flows there: not shown in the record either
                continue
            sent.append(g)
            terms.setdefault(id(inp), []).append(g)
        record.steps.append(SweepStep(node, adjoints, received, sent))
    by_id = {id(w): w for w in wrt}
    return {by_id[i]: _sum_terms(terms.get(i, [])) for i in by_id}


def _sum_terms(terms: list[Variable]) -> Variable | None:
    terms = [t for t in terms if not is_disconnected(t)]
    if not terms:
        return None
    nulls = [t for t in terms if is_null(t)]
    if nulls:
        return nulls[0]
    if len(terms) == 1:
        return terms[0]
    from ..tensor.math import add

    return add(*terms)


def _node_gradients(node: Apply, adjoints: list[Variable | None]) -> list[Variable | None]:
    """The op's gradient with respect to each input, checked, cast and made explicit."""
    op = node.op
    nulls = [a for a in adjoints if is_null(a)]
    pattern = connection_pattern(node)
    if nulls:
        # An undefined adjoint makes every connected input's gradient undefined too.
        return [nulls[0] if any(pattern[i]) else None for i in range(len(node.inputs))]
    output_grads = [a if a is not None else _zeros_or_disconnected(o)
                    for a, o in zip(adjoints, node.outputs)]
    if type(op).L_op is Op.L_op and type(op).grad is Op.grad:
        return [grad_not_implemented(op, i, x) if any(pattern[i]) and not _is_discrete(x)
                else None for i, x in enumerate(node.inputs)]
    raw = op.L_op(list(node.inputs), list(node.outputs), output_grads)
    if len(raw) != len(node.inputs):
        raise ValueError(f"{op}.L_op returned {len(raw)} gradients for {len(node.inputs)} "
                         f"inputs (node built at {node.source or 'an unknown line'})")
    return [_checked_term(op, node, i, x, g) for i, (x, g) in enumerate(zip(node.inputs, raw))]


def _zeros_or_disconnected(out: Variable) -> Variable:
    if isinstance(out.type, TensorType) and not _is_discrete(out):
        from ..tensor.alloc import zeros_like

        return zeros_like(out)
    return disconnected_type()


def _checked_term(op: Op, node: Apply, i: int, x: Variable, g: Any) -> Variable | None:
    if g is None or is_disconnected(g) or is_null(g):
        return None if g is None or is_disconnected(g) else g
    from ..tensor.basic import as_tensor_variable, cast

    g = as_tensor_variable(g)
    if not isinstance(x.type, TensorType):
        return g
    if g.ndim != x.ndim:
        raise ValueError(f"{op}.L_op gave a {g.ndim}-d gradient for its {x.ndim}-d input {i} "
                         f"({x}); node built at {node.source or 'an unknown line'}")
    if _is_discrete(x):
        return g
    if g.dtype != x.dtype:
        g = cast(g, x.dtype)
    if any(xs == 1 and gs != 1 for xs, gs in zip(x.type.shape, g.type.shape)):
        from ..tensor.shape import patternbroadcast

        g = patternbroadcast(g, x.broadcastable)
    return g


def _is_discrete(var: Variable) -> bool:
    return isinstance(var.type, TensorType) and var.type.dtype in DISCRETE_DTYPES


def _float_zeros_like(var: Variable) -> Variable:
    from ..config import config
    from ..tensor.alloc import zeros_like

    return zeros_like(var, dtype=config.floatX)


def _disconnected_result(w: Variable, disconnected_inputs: str,
                         return_disconnected: str) -> Variable | None:
    message = (f"grad was asked for the gradient with respect to {w}, which the cost does not "
               f"depend on (it is not part of the cost's graph, or reaches it only through "
               f"operations without a gradient such as argmax or comparisons)")
    if disconnected_inputs == "raise":
        raise DisconnectedInputError(message + "; pass disconnected_inputs='ignore' to get "
                                     "zeros instead")
    if disconnected_inputs == "warn":
        warnings.warn(message, stacklevel=3)
    if return_disconnected == "None":
        return None
    if return_disconnected == "Disconnected":
        return disconnected_type()
    if _is_discrete(w) or not isinstance(w.type, TensorType):
        return _float_zeros_like(w)
    from ..tensor.alloc import zeros_like

    return zeros_like(w)


# ---------------------------------------------------------------------------------------
# Lop and Rop


def _as_list(x: Any) -> tuple[list, bool]:
    if isinstance(x, (list, tuple)):
        return list(x), False
    return [x], True


def Lop(f: Any, wrt: Any, eval_points: Any, consider_constant: Sequence[Variable] | None = None,
        disconnected_inputs: str = "raise") -> Any:
    """The vector-Jacobian product ``eval_points · ∂f/∂wrt`` (reverse mode).

    ``f`` and ``eval_points`` are a variable or lists of equal length; the result has one entry
    per ``wrt``.

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> W, v = T.dmatrix('W'), T.dvector('v')
    >>> x = T.dvector('x')
    >>> y = Lop(T.dot(x, W), W, v)
    >>> y.eval({x: [0., 1.], v: [2., 2.]}).tolist()
    [[0.0, 0.0], [2.0, 2.0]]
    """
    from ..tensor.basic import as_tensor_variable

    fs, _ = _as_list(f)
    points, _ = _as_list(eval_points)
    if len(fs) != len(points):
        raise ValueError(f"Lop: {len(fs)} expressions but {len(points)} eval points")
    known = {}
    for fi, vi in zip(fs, points):
        vi = as_tensor_variable(vi)
        if vi.ndim != fi.ndim:
            raise ValueError(f"Lop: the eval point for {fi} has {vi.ndim} dimensions, the "
                             f"expression {fi.ndim}")
        known[fi] = vi
    return grad(None, wrt, consider_constant=consider_constant, known_grads=known,
                disconnected_inputs=disconnected_inputs)


def Rop(f: Any, wrt: Any, eval_points: Any) -> Any:
    """The Jacobian-vector product ``∂f/∂wrt · eval_points`` (forward mode).

    Each op on the way uses its ``R_op`` where it has one; otherwise the product is built by
    differentiating the op's ``L_op`` once more (the "double Lop" construction, exact too).

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> W, V = T.dmatrix('W'), T.dmatrix('V')
    >>> x = T.dvector('x')
    >>> y = Rop(T.dot(x, W), W, V)
    >>> y.eval({x: [0., 1.], W: np.ones((2, 2)), V: [[2., 2.], [2., 2.]]}).tolist()
    [2.0, 2.0]
    """
    from ..tensor.basic import as_tensor_variable

    fs, single = _as_list(f)
    wrts, _ = _as_list(wrt)
    points, _ = _as_list(eval_points)
    if len(wrts) != len(points):
        raise ValueError(f"Rop: {len(wrts)} variables but {len(points)} eval points")
    tangents: dict[int, Variable] = {}
    for w, v in zip(wrts, points):
        v = as_tensor_variable(v)
        if v.ndim != w.ndim:
            raise ValueError(f"Rop: the eval point for {w} has {v.ndim} dimensions, the "
                             f"variable {w.ndim}")
        if v.dtype != w.dtype and w.dtype not in DISCRETE_DTYPES:
            from ..tensor.basic import cast

            v = cast(v, w.dtype)
        tangents[id(w)] = v
    for node in io_toposort(wrts, fs):
        in_tangents = [tangents.get(id(i)) for i in node.inputs]
        if all(t is None for t in in_tangents):
            continue
        out_tangents = _node_rop(node, in_tangents)
        for out, t in zip(node.outputs, out_tangents):
            if t is not None:
                tangents[id(out)] = t
    results = []
    for fi in fs:
        t = tangents.get(id(fi))
        if t is None:
            raise ValueError(f"Rop: {fi} does not depend on any of {wrts}")
        results.append(t)
    return results[0] if single else results


def _node_rop(node: Apply, in_tangents: list[Variable | None]) -> list[Variable | None]:
    op = node.op
    own = getattr(op, "R_op", None)
    if own is not None:
        out = own(list(node.inputs), in_tangents)
        if out is not NotImplemented:
            return [None if is_disconnected(t) else t for t in out]
    return _rop_by_double_lop(node, in_tangents)


def _rop_by_double_lop(node: Apply, in_tangents: list[Variable | None]
                       ) -> list[Variable | None]:
    """J·v for one node from its L_op: ``d/du <Jᵀu, v>`` with ``u`` a placeholder.

    ``Jᵀu`` is linear in ``u``, so the result does not depend on ``u``'s value; any leftover
    reference to ``u`` is replaced by zeros of the output's shape.
    """
    from ..tensor.alloc import zeros_like
    from ..tensor.math import add
    from ..tensor.reduce import sum as tsum

    results: list[Variable | None] = []
    for k, out in enumerate(node.outputs):
        if not isinstance(out.type, TensorType) or _is_discrete(out):
            results.append(None)
            continue
        u = out.type()
        adjoints = [u if j == k else None for j in range(len(node.outputs))]
        contributions = _node_gradients(node, adjoints)
        products = []
        for i, (g, v) in enumerate(zip(contributions, in_tangents)):
            if v is None or g is None:
                continue
            if is_null(g):
                raise NullTypeGradError(f"Rop through {node.op}: {g.type.why}")
            products.append(tsum(g * v))
        if not products:
            results.append(None)
            continue
        jv = grad(add(*products) if len(products) > 1 else products[0], u,
                  disconnected_inputs="ignore")
        results.append(graph_replace(jv, {u: zeros_like(out)}))
    return results

