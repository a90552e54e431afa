"""``ifelse``: a lazy conditional that computes only the branch it takes.

Unlike ``T.switch``, which is elementwise and evaluates both branches, ``ifelse`` takes a
scalar condition and evaluates one branch.

>>> import workbench
>>> from workbench import tensor as T
>>> from workbench.ifelse import ifelse
>>> a, b, c = T.dscalars('a', 'b', 'c')
>>> f = workbench.function([c, a, b], ifelse(T.lt(c, 0), a, b))
>>> float(f(-1, 1.0, 2.0)), float(f(1, 1.0, 2.0))
(1.0, 2.0)
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .compiler.graph import Apply, Op, Variable
from .tensor.basic import as_tensor_variable


class IfElse(Op):
    """``n_outs`` outputs: the first ``n_outs`` value inputs if the condition holds, else
    the next ``n_outs``. The Python VM evaluates it on demand (``lazy``)."""

    __props__ = ("n_outs",)
    lazy = True

    def __init__(self, n_outs: int):
        self.n_outs = n_outs

    def make_node(self, condition: Any, *values: Any) -> Apply:
        condition = as_tensor_variable(condition)
        if condition.ndim != 0:
            raise TypeError(f"ifelse: the condition must be a scalar, got {condition.type}")
        if len(values) != 2 * self.n_outs:
            raise TypeError(f"ifelse expects {2 * self.n_outs} branch values, got {len(values)}")
        values = [as_tensor_variable(v) for v in values]
        then_vals, else_vals = values[:self.n_outs], values[self.n_outs:]
        outputs = []
        for i, (t, e) in enumerate(zip(then_vals, else_vals)):
            if t.dtype != e.dtype or t.ndim != e.ndim:
                raise TypeError(
                    f"ifelse: branch {i} has different types in its two branches: "
                    f"{t.type} (then) and {e.type} (else); cast one of them")
            shape = tuple(a if a == b else None for a, b in zip(t.type.shape, e.type.shape))
            outputs.append(t.type.clone(shape=shape)())
        return Apply(self, [condition] + values, outputs)

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        cond = bool(inputs[0])
        offset = 1 if cond else 1 + self.n_outs
        for i in range(self.n_outs):
            output_storage[i][0] = np.array(inputs[offset + i], copy=True)

    def perform_lazy(self, node: Apply, inputs: list[Callable[[], Any]],
                     output_storage: list) -> None:
        cond = bool(inputs[0]())
        offset = 1 if cond else 1 + self.n_outs
        for i in range(self.n_outs):
            output_storage[i][0] = np.array(inputs[offset + i](), copy=True)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from .tensor.math import switch

        shapes = []
        for i in range(self.n_outs):
            then_s, else_s = input_shapes[1 + i], input_shapes[1 + self.n_outs + i]
            shapes.append(tuple(switch(node.inputs[0], a, b) for a, b in zip(then_s, else_s)))
        return shapes

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # output i comes from then value i or else value i; the condition only picks which
        # (its derivative is zero almost everywhere and undefined at the switch point)
        n = self.n_outs
        rows = [[False] * n]
        for side in range(2):
            rows += [[j == i for j in range(n)] for i in range(n)]
        return rows

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """Output i's gradient goes to the value of the branch taken, zeros to the other;
        both are lazy conditionals on the same condition, so the gradient graph computes
        only what the forward pass took."""
        from .compiler.gradtypes import disconnected_type, is_disconnected
        from .tensor.alloc import zeros_like

        n = self.n_outs
        condition, then_vals, else_vals = inputs[0], inputs[1:1 + n], inputs[1 + n:]
        live = [i for i in range(n) if not is_disconnected(output_grads[i])]
        then_grads = [disconnected_type() for _ in range(n)]
        else_grads = [disconnected_type() for _ in range(n)]
        if live:
            grads = [output_grads[i] for i in live]
            # zeros in the gradient's dtype: both branches of an IfElse must have one type
            then_zeros = [zeros_like(then_vals[i], dtype=g.dtype) for i, g in zip(live, grads)]
            else_zeros = [zeros_like(else_vals[i], dtype=g.dtype) for i, g in zip(live, grads)]
            to_then = IfElse(len(live)).make_node(condition, *grads, *then_zeros).outputs
            to_else = IfElse(len(live)).make_node(condition, *else_zeros, *grads).outputs
            for k, i in enumerate(live):
                then_grads[i], else_grads[i] = to_then[k], to_else[k]
        return [disconnected_type()] + then_grads + else_grads

    def R_op(self, inputs: list, eval_points: list) -> list:
        from .tensor.alloc import zeros_like
        from .tensor.basic import cast

        n = self.n_outs
        results = []
        for i in range(n):
            then_x, else_x = inputs[1 + i], inputs[1 + n + i]
            then_v, else_v = eval_points[1 + i], eval_points[1 + n + i]
            if then_v is None and else_v is None:
                results.append(None)
                continue
            # a branch without a tangent is constant: zero tangent, in the branches' dtype
            then_v = zeros_like(then_x) if then_v is None else cast(then_v, then_x.dtype)
            else_v = zeros_like(else_x) if else_v is None else cast(else_v, else_x.dtype)
            results.append(IfElse(1).make_node(inputs[0], then_v, else_v).outputs[0])
        return results


def ifelse(condition: Any, then_branch: Any, else_branch: Any, name: str | None = None
           ) -> Variable | list[Variable]:
    """``then_branch`` if the scalar ``condition`` is true, else ``else_branch``; lists of
    variables give lists of outputs."""
    single = not isinstance(then_branch, (list, tuple))
    then_list = [then_branch] if single else list(then_branch)
    else_list = [else_branch] if not isinstance(else_branch, (list, tuple)) else list(else_branch)
    if len(then_list) != len(else_list):
        raise ValueError(f"ifelse: {len(then_list)} values in the then branch but "
                         f"{len(else_list)} in the else branch")
    then_list, else_list = zip(*[_match_literal(t, e) for t, e in zip(then_list, else_list)]) \
        if then_list else ((), ())
    outs = IfElse(len(then_list)).make_node(condition, *then_list, *else_list).outputs
    if name is not None:
        for o in outs:
            o.name = name
    if single:
        return outs[0]
    # as Theano: a tuple of branches gives a tuple of outputs, a list a list
    return tuple(outs) if isinstance(then_branch, tuple) else list(outs)


def _match_literal(then_value: Any, else_value: Any) -> tuple[Variable, Variable]:
    """A Python number literal in one branch is weak (NumPy 2): it takes the dtype of the
    other branch where its value fits, so ``ifelse(c, fscalar, 0.0)`` is float32."""
    from .compiler.ops.subtensor import fit_value
    from .tensor.variable import TensorConstant

    t, e = as_tensor_variable(then_value), as_tensor_variable(else_value)

    def weak(v: Variable) -> bool:
        return isinstance(v, TensorConstant) and v.weak

    if t.dtype != e.dtype and weak(t) != weak(e):
        lit, other = (t, e) if weak(t) else (e, t)
        try:
            fitted = fit_value(lit, other.dtype, "")
        except TypeError:
            return t, e  # the types differ: make_node says so
        return (fitted, e) if lit is t else (t, fitted)
    return t, e
