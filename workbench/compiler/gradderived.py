"""Derivatives built from ``grad``: the Jacobian, the Hessian and Hessian-vector products.

>>> import numpy as np
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> jacobian(x ** 2, x).eval({x: [4., 4.]}).tolist()
[[8.0, 0.0], [0.0, 8.0]]
>>> hessian(T.sum(x ** 2), x).eval({x: [4., 4.]}).tolist()
[[2.0, 0.0], [0.0, 2.0]]
"""
from __future__ import annotations

from typing import Any, Sequence

from .graph import Variable, graph_inputs
from .grad import grad


def _as_list(wrt: Any) -> tuple[list[Variable], bool]:
    if isinstance(wrt, (list, tuple)):
        return list(wrt), False
    return [wrt], True


def jacobian(expression: Any, wrt: Any, consider_constant: Sequence[Variable] | None = None,
             disconnected_inputs: str = "raise") -> Any:
    """The Jacobian of the vector ``expression`` with respect to ``wrt`` (a variable or a
    list): ``J[i, ...] = d expression[i] / d wrt[...]``, of shape
    ``expression.shape + wrt.shape``. A scalar expression gives its gradient.

    Each row is one reverse sweep, evaluated in a loop at run time (Theano does the same
    with ``scan``).
    """
    from ..tensor.basic import as_tensor_variable, lscalar
    from .ops.indexmap import index_map

    expression = as_tensor_variable(expression)
    wrts, single = _as_list(wrt)
    if expression.ndim == 0:
        return grad(expression, wrt, consider_constant=consider_constant,
                    disconnected_inputs=disconnected_inputs)
    if expression.ndim != 1:
        raise ValueError(f"jacobian expects a 1-d expression, got {expression} with "
                         f"{expression.ndim} dimensions; flatten() it first")
    i = lscalar("i")
    results = []
    for w in wrts:
        body = grad(expression[i], w, consider_constant=consider_constant,
                    disconnected_inputs=disconnected_inputs)
        free = [v for v in graph_inputs([body]) if v is not i and not hasattr(v, "data")]
        results.append(index_map(i, body, n=expression.shape[0], free=free,
                                 item_shape=[w.shape[k] for k in range(w.ndim)]))
    return results[0] if single else results


def hessian(cost: Any, wrt: Any, consider_constant: Sequence[Variable] | None = None,
            disconnected_inputs: str = "raise") -> Any:
    """The Hessian of the scalar ``cost`` with respect to each vector in ``wrt``."""
    wrts, single = _as_list(wrt)
    results = []
    for w in wrts:
        if w.ndim != 1:
            raise ValueError(f"hessian expects 1-d variables in wrt, got {w} with {w.ndim} "
                             f"dimensions")
        g = grad(cost, w, consider_constant=consider_constant,
                 disconnected_inputs=disconnected_inputs)
        results.append(jacobian(g, w, consider_constant=consider_constant,
                                disconnected_inputs="ignore"))
    return results[0] if single else results


def hessian_vector_product(cost: Any, wrt: Any, p: Any,
                           consider_constant: Sequence[Variable] | None = None) -> Any:
    """``H · p`` without forming ``H``: the gradient of ``grad(cost, wrt) · p`` (two sweeps).

    >>> from workbench import tensor as T
    >>> x, v = T.dvector('x'), T.dvector('v')
    >>> hessian_vector_product(T.sum(x ** 3), x, v).eval({x: [1., 2.], v: [1., 1.]}).tolist()
    [6.0, 12.0]
    """
    from ..tensor.math import add
    from ..tensor.reduce import sum as tsum

    wrts, single = _as_list(wrt)
    ps, _ = _as_list(p)
    if len(ps) != len(wrts):
        raise ValueError(f"hessian_vector_product: {len(wrts)} variables but {len(ps)} "
                         f"vectors")
    grads = grad(cost, wrts, consider_constant=consider_constant)
    inner = add(*[tsum(g * v) for g, v in zip(grads, ps)]) if len(ps) > 1 else \
        tsum(grads[0] * ps[0])
    result = grad(inner, wrts, consider_constant=consider_constant,
                  disconnected_inputs="ignore")
    return result[0] if single else result
