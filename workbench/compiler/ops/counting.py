"""Counting ops: ``BinCount`` (``numpy.bincount``).

>>> from workbench import tensor as T
>>> x = T.ivector('x')
>>> T.extra_ops.bincount(x).eval({x: [0, 1, 1, 3]}).tolist()
[1, 2, 0, 1]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Apply, Op
from ..gradtypes import disconnected_type
from ..types import TensorType


class BinCount(Op):
    """Occurrences of each non-negative integer, optionally weighted, at least ``minlength``
    long. Without weights the counts are int64; with weights, float64 as NumPy gives."""

    __props__ = ("minlength",)

    def __init__(self, minlength: int | None = None):
        self.minlength = None if minlength is None else int(minlength)

    def make_node(self, x: Any, weights: Any = None) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        if x.ndim != 1 or x.dtype not in ("bool", "int8", "int16", "int32", "int64", "uint8",
                                          "uint16", "uint32"):
            raise TypeError(f"bincount: x must be a vector of non-negative integers, got {x.type}")
        inputs = [x]
        dtype = "int64"
        if weights is not None:
            weights = as_tensor_variable(weights)
            if weights.ndim != 1:
                raise TypeError(f"bincount: weights must be a vector, got {weights.type}")
            inputs.append(weights)
            dtype = np.bincount(np.zeros(1, np.int64), np.ones(1, weights.dtype)).dtype.name
        return Apply(self, inputs, [TensorType(dtype, (None,))()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x = inputs[0]
        weights = inputs[1] if len(inputs) > 1 else None
        if x.size and x.min() < 0:
            raise ValueError(f"bincount: x holds a negative value ({x.min()})")
        out = np.bincount(x, weights, minlength=self.minlength or 0)
        output_storage[0][0] = out.astype(node.outputs[0].dtype, copy=False)

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # x holds integer labels: disconnected; the counts are linear in the weights
        return [[False]] + [[True]] * (len(node.inputs) - 1)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """``out[v] = sum of weights[i] over x[i] == v``, so ``gweights[i] = g[x[i]]``."""
        from ...tensor.basic import cast

        (g,) = output_grads
        x = inputs[0]
        labels = cast(x, "int64") if x.dtype == "bool" else x  # a bool index would be a mask
        return [disconnected_type()] + [g[labels] for _ in inputs[1:]]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Linear in the weights: the bincount of the weights' tangent."""
        tangent = eval_points[1] if len(eval_points) > 1 else None
        return [None if tangent is None else self(inputs[0], tangent)]
