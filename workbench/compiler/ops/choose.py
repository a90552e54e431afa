"""``Choose`` (``numpy.choose``): pick each element from one of several tensors, by index.

>>> from workbench import tensor as T
>>> a = T.lvector('a')
>>> T.choose(a, [[1, 2, 3], [10, 20, 30]]).eval({a: [0, 1, 0]}).tolist()
[1, 20, 3]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Apply, Op, Variable
from ..gradtypes import disconnected_type, is_disconnected
from ..types import INT_DTYPES, UINT_DTYPES, TensorType
from .elemwise import broadcast_static_shapes


class Choose(Op):
    """``out = choices[a]`` elementwise, with ``a``, and the choices broadcast together.

    ``stacked`` means one input holds all choices along its first axis; otherwise each
    choice is its own input. ``mode`` is NumPy's: 'raise', 'wrap' or 'clip'.
    """

    __props__ = ("mode", "stacked")

    def __init__(self, mode: str = "raise", stacked: bool = False):
        if mode not in ("raise", "wrap", "clip"):
            raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
        self.mode = mode
        self.stacked = bool(stacked)

    def make_node(self, a: Any, *choices: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        a = as_tensor_variable(a)
        if a.dtype not in INT_DTYPES + UINT_DTYPES + ("bool",):
            raise TypeError(f"choose: the index tensor must hold integers, got {a.type}")
        choices = [as_tensor_variable(c) for c in choices]
        if not choices or (self.stacked and len(choices) != 1):
            raise TypeError("choose: needs at least one choice")
        if self.stacked:
            (c,) = choices
            if c.ndim < 1:
                raise TypeError(f"choose: the choices tensor needs an axis of choices, got {c.type}")
            shapes = [a.type.shape, c.type.shape[1:]]
        else:
            shapes = [a.type.shape] + [c.type.shape for c in choices]
        ndim = max(len(s) for s in shapes)
        padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
        shape = broadcast_static_shapes(padded, where="choose: ")
        dtype = np.result_type(*[c.dtype for c in choices]).name
        return Apply(self, [a, *choices], [TensorType(dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        a, *choices = inputs
        if self.stacked:
            choices = choices[0]
        dtype = node.outputs[0].type.numpy_dtype
        output_storage[0][0] = np.asarray(np.choose(a, choices, mode=self.mode), dtype=dtype)

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # the index tensor picks; the values come from the choices
        return [[False]] + [[True] for _ in node.inputs[1:]]

    def _picked(self, a: Variable, n_choices: Any) -> Variable:
        """``a`` as the choice numbers NumPy uses, after ``mode`` (int64)."""
        from ...tensor import math as tm
        from ...tensor.basic import cast

        a = cast(a, "int64")
        if self.mode == "wrap":
            return tm.mod(a, n_choices)
        if self.mode == "clip":
            return tm.clip(a, 0, tm.sub(n_choices, 1))
        return a

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ...tensor import math as tm
        from ...tensor.reduce import sum as tsum
        from ...tensor.shape import _dim
        from .alloc import ARange, sum_to_shape_of

        a, *choices = inputs
        (g,) = output_grads
        if is_disconnected(g):
            return [disconnected_type() for _ in inputs]
        if not self.stacked:
            picked = self._picked(a, len(choices))
            # choice k gets the gradient where it was picked, summed where it broadcast
            return [disconnected_type()] + [
                sum_to_shape_of(tm.switch(tm.eq(picked, k), g, 0), c)
                for k, c in enumerate(choices)]
        (stack,) = choices
        n = _dim(stack, 0)
        picked = self._picked(a, n)
        out_ndim = g.ndim
        # one mask per choice, along a new first axis: (n, *output shape)
        which = ARange("int64")(0, n, 1).dimshuffle(0, *["x"] * out_ndim)
        spread = tm.switch(tm.eq(which, picked), g, 0)
        # the output axes the stack lacks (broadcast on the left), then its own broadcasting
        extra = out_ndim - (stack.ndim - 1)
        if extra:
            spread = tsum(spread, axis=tuple(range(1, 1 + extra)))
        return [disconnected_type(), sum_to_shape_of(spread, stack)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        from ...tensor.alloc import zeros_like

        if all(e is None for e in eval_points[1:]):
            return [None]
        # linear in the choices: pick from their tangents
        tangents = [zeros_like(c) if e is None else e
                    for c, e in zip(inputs[1:], eval_points[1:])]
        return [self(inputs[0], *tangents)]


__all__ = ["Choose"]
