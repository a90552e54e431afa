"""Gradient checks shared by the op tests.

``check_grad(build, *values)`` runs :func:`workbench.gradient.verify_grad` (random projection
against central differences) and, for the same graph, the forward/reverse identity
``v · (J u) == (Jᵀ v) · u`` between ``Rop`` and ``Lop`` on random ``u`` and ``v``.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import workbench
from workbench.gradient import Lop, Rop, verify_grad

from opcheck import symbolic_like


def check_rop_lop(build: Callable[..., Any], *values: Any, wrt: Sequence[int] | None = None,
                  rng: Any = None, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    """Check ``v · Rop(f, x, u) == sum_i Lop(f, x_i, v) · u_i`` at ``values``.

    ``wrt`` picks the inputs (positions) to differentiate; by default every float input.
    """
    rng = rng if rng is not None else np.random.default_rng(1)
    values = [np.asarray(v) for v in values]
    inputs = [symbolic_like(v, f"in{i}") for i, v in enumerate(values)]
    out = build(*inputs)
    picked = [i for i in (wrt if wrt is not None else range(len(values)))
              if values[i].dtype.kind == "f"]
    xs = [inputs[i] for i in picked]
    out_value = np.asarray(workbench.function(inputs, out, on_unused_input="ignore")(*values))
    us = [x.type(f"u{k}") for k, x in enumerate(xs)]
    v = out.type("v")
    jv = Rop(out, xs, us)
    jtv = Lop(out, xs, v, disconnected_inputs="ignore")
    fn = workbench.function(inputs + us + [v], [jv, *jtv], on_unused_input="ignore")
    u_vals = [rng.standard_normal(values[i].shape).astype(values[i].dtype) for i in picked]
    v_val = rng.standard_normal(out_value.shape).astype(out_value.dtype)
    jv_val, *jtv_vals = fn(*values, *u_vals, v_val)
    lhs = float(np.sum(v_val * jv_val))
    rhs = float(sum(np.sum(g * u) for g, u in zip(jtv_vals, u_vals)))
    scale = max(1.0, abs(lhs), abs(rhs))
    assert abs(lhs - rhs) <= atol + rtol * scale, \
        f"Rop/Lop disagree: v·(J u) = {lhs!r} but (Jᵀ v)·u = {rhs!r}"


def check_grad(build: Callable[..., Any], *values: Any, wrt: Sequence[int] | None = None,
               rop: bool = True, eps: float | None = None, abs_tol: float | None = None,
               rel_tol: float | None = None) -> None:
    """verify_grad over the float inputs picked by ``wrt`` (the others held at their values),
    then the Rop/Lop identity."""
    values = [np.asarray(v) for v in values]
    picked = [i for i in (wrt if wrt is not None else range(len(values)))
              if values[i].dtype.kind == "f"]

    def fun(*diff_inputs):
        full = []
        it = iter(diff_inputs)
        for i, v in enumerate(values):
            full.append(next(it) if i in picked else workbench.tensor.constant(v))
        return build(*full)

    verify_grad(fun, [values[i] for i in picked], rng=np.random.default_rng(0), eps=eps,
                abs_tol=abs_tol, rel_tol=rel_tol)
    if rop:
        check_rop_lop(build, *values, wrt=picked)
