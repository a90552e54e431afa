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

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """cumsum: the reversed running sum of ``g``. cumprod: ``gx[k] = sum over i >= k of
        g[i] * (the product of x[:i+1] without x[k])``, exact with zeros too (see
        :func:`_cumprod_grad`). ``axis=None`` differentiates the flattened input and
        reshapes back."""
        from ...tensor.shape import flatten, reshape

        (x,), (out,), (g,) = inputs, outputs, output_grads
        if self.axis is None:
            flat = flatten(x, 1)
            g_flat = _cum_grad(self.mode, flat, out, g, 0)
            return [reshape(g_flat, _shape_of(x))]
        return [_cum_grad(self.mode, x, out, g, self.axis % x.ndim)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """cumsum is linear: the tangent's running sum. cumprod: NotImplemented (grad.Rop
        then builds J·v from L_op)."""
        if self.mode != "add":
            return NotImplemented
        (tangent,) = eval_points
        return [None if tangent is None else CumOp(self.axis, "add")(tangent)]


def _shape_of(x: Any) -> list:
    """``x``'s dimensions: ints where the static shape knows them, else symbolic."""
    from ...tensor.shape import shape_i

    return [s if s is not None else shape_i(x, i) for i, s in enumerate(x.type.shape)]


def _reverse(x: Any, axis: int) -> Any:
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _reverse_cumsum(x: Any, axis: int) -> Any:
    """``out[k] = sum of x[i] for i >= k`` along ``axis``."""
    return _reverse(CumOp(axis, "add")(_reverse(x, axis)), axis)


def _cum_grad(mode: str, x: Any, out: Any, g: Any, axis: int) -> Any:
    if mode == "add":
        return _reverse_cumsum(g, axis)
    return _cumprod_grad(x, out, g, axis)


def _cumprod_grad(x: Any, out: Any, g: Any, axis: int) -> Any:
    """The gradient of ``out = cumprod(x, axis)`` without dividing by zero.

    Before the first zero along the axis, ``gx[k] = sum_{i>=k} g[i] out[i] / x[k]`` (``out``
    is 0 from the first zero on, so later terms vanish, and ``x[k]`` is nonzero). At the
    first zero, ``gx[k] = sum_{i>=k} g[i] out'[i]``, with ``out'`` the running product that
    reads that one zero as 1. After it every product keeps that zero: 0. First derivatives
    are exact everywhere; second derivatives are exact where ``x`` has no zero.
    """
    from ...tensor.math import and_, eq, switch

    is_zero = eq(x, 0)
    zeros_so_far = CumOp(axis, "add")(is_zero)
    before_first = eq(zeros_so_far, 0)
    first_zero = and_(is_zero, eq(zeros_so_far, 1))
    before = _reverse_cumsum(g * out, axis) / switch(is_zero, 1, x)
    skipping_it = CumOp(axis, "mul")(switch(first_zero, 1, x))
    at_first = _reverse_cumsum(g * skipping_it, axis)
    return switch(before_first, before, switch(first_zero, at_first, 0))


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

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """``diff`` is linear; its adjoint is ``(-1)^n diff(g padded with n zeros on both
        sides, n)``, cut to the input's length (which only matters when the input is
        shorter than ``n`` and the output empty: the gradient is then zero)."""
        from ...tensor.alloc import zeros
        from ...tensor.join import join
        from ...tensor.shape import shape_i

        (x,), (g,) = inputs, output_grads
        if self.n == 0:
            return [g]
        axis = self.axis % x.ndim
        pad_shape = _shape_of(g)
        pad_shape[axis] = self.n
        pad = zeros(pad_shape, dtype=g.dtype)
        gx = DiffOp(self.n, axis)(join(axis, pad, g, pad))
        if self.n % 2:
            gx = -gx
        length = x.type.shape[axis] if x.type.shape[axis] is not None else shape_i(x, axis)
        return [gx[(slice(None),) * axis + (slice(0, length),)]]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Linear: the difference of the tangent."""
        (tangent,) = eval_points
        return [None if tangent is None else self(tangent)]
