"""``Choose`` (``numpy.choose``): pick each element from one of several tensors, by index.

>>> from workbench import tensor as T
>>> a = T.lvector('a')
>>> T.choose(a, [[1, 2, 3], [10, 20, 30]]).eval({a: [0, 1, 0]}).tolist()
[1, 20, 3]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Apply, Op
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


__all__ = ["Choose"]
