"""Cumulative ops along one axis: :class:`CumOp` (running sum or product) and
:class:`DiffOp` (n-th discrete difference), NumPy's ``cumsum``/``cumprod`` and ``diff``.

``axis=None`` works on the flattened input, as in NumPy. The output dtype is the one NumPy
gives: small integers and bool accumulate in int64 (``np.cumsum`` of int8 is int64).

>>> from workbench import tensor as T
>>> x = T.bvector('x')
>>> y = CumOp(axis=0, mode='add')(x)
>>> y.dtype, y.eval({x: [1, 2, 3]}).tolist()
('int64', [1, 3, 6])
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..graph import Apply, Op
from ..types import TensorType
from .axes import normalize_axis
from .sort import flat_static_shape, flat_symbolic_shape

_MODES = {"add": np.cumsum, "mul": np.cumprod}


@lru_cache(maxsize=None)
def cumulative_dtype(mode: str, dtype: str) -> str:
    """The dtype NumPy's ``cumsum``/``cumprod`` give for an input of ``dtype``."""
    return _MODES[mode](np.zeros(1, dtype=dtype)).dtype.name


class CumOp(Op):
    """Running sum (``mode='add'``) or product (``mode='mul'``) along ``axis``; Theano's
    ``CumOp``.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> CumOp(axis=None, mode='mul')(x).eval({x: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [1.0, 2.0, 6.0, 24.0]
    """

    __props__ = ("axis", "mode")

    def __init__(self, axis: int | None = None, mode: str = "add"):
        if mode not in _MODES:
            raise ValueError(f"CumOp mode must be 'add' or 'mul', got {mode!r}")
        self.axis = None if axis is None else int(axis)
        self.mode = mode

    def __str__(self) -> str:
        name = "Cumsum" if self.mode == "add" else "Cumprod"
        return f"{name}{{axis={self.axis}}}"

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        if self.axis is None:
            shape = flat_static_shape(x.type.shape)
        else:
            normalize_axis(self.axis, x.ndim, str(self))
            shape = x.type.shape
        try:
            dtype = cumulative_dtype(self.mode, x.dtype)
        except TypeError as exc:
            raise TypeError(f"{self} is not defined for dtype {x.dtype}: {exc}") from None
        return Apply(self, [x], [TensorType(dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        out = _MODES[self.mode](x, axis=self.axis)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        (shape,) = input_shapes
        return [flat_symbolic_shape(shape) if self.axis is None else tuple(shape)]


class DiffOp(Op):
    """The ``n``-th discrete difference along ``axis``, ``numpy.diff``: that axis shrinks
    by ``n`` (to no less than 0). Bool inputs give bool (``!=``), as in NumPy.

    >>> from workbench import tensor as T
    >>> x = T.lvector('x')
    >>> DiffOp(n=2, axis=-1)(x).eval({x: [1, 4, 9, 16]}).tolist()
    [2, 2]
    """

    __props__ = ("n", "axis")

    def __init__(self, n: int = 1, axis: int = -1):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"diff: n must be an int, got {type(n).__name__} {n!r}")
        if n < 0:
            raise ValueError(f"diff: the order n must be non-negative, got {n}")
        self.n = int(n)
        self.axis = int(axis)

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise ValueError("diff needs an input of at least one dimension, got a 0-d "
                             f"{x.type}")
        axis = normalize_axis(self.axis, x.ndim, "diff")
        shape = list(x.type.shape)
        if shape[axis] is not None:
            shape[axis] = max(shape[axis] - self.n, 0)
        dtype = x.dtype
        if self.n > 0:
            dtype = np.diff(np.zeros(2, dtype=x.dtype)).dtype.name
        return Apply(self, [x], [TensorType(dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        # np.diff with n=0 hands back its input itself; this op never aliases
        out = np.diff(x, n=self.n, axis=self.axis) if self.n else x.copy()
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor import math as tm

        (shape,) = input_shapes
        axis = self.axis % len(shape)
        out = list(shape)
        if self.n:
            out[axis] = tm.maximum(tm.sub(shape[axis], self.n), 0)
        return [tuple(out)]
