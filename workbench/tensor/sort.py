"""Sorting and cumulative functions: ``sort``, ``argsort``, ``topk``, ``argtopk``,
``cumsum``, ``cumprod`` and ``diff``, with Theano's names and NumPy's results.

>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> T.sort(x).eval({x: [3.0, 1.0, 2.0]}).tolist()
[1.0, 2.0, 3.0]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compiler.graph import Variable
from ..compiler.ops.cumulative import CumOp, DiffOp
from ..compiler.ops.axes import normalize_axis
from ..compiler.ops.sort import ArgSort, Sort, TopK
from .basic import as_tensor_variable, get_scalar_constant_value, NotScalarConstantError
from .variable import TensorVariable

__all__ = ["sort", "argsort", "topk", "argtopk", "topk_and_argtopk", "cumsum", "cumprod",
           "diff"]


def _constant_int(value: Any, what: str, allow_none: bool = True) -> int | None:
    """A Python int from an int, a NumPy integer or a constant scalar tensor; the ops take
    their axis as a parameter, so a computed (symbolic) axis is refused."""
    if value is None and allow_none:
        return None
    if isinstance(value, Variable):
        if value.ndim != 0 or value.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"{what} must be an int, got {value} of type {value.type}")
        try:
            value = get_scalar_constant_value(value)
        except NotScalarConstantError:
            raise TypeError(f"{what} must be a constant int, got the symbolic {value}") from None
        return int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        allowed = "an int or None" if allow_none else "an int"
        raise TypeError(f"{what} must be {allowed}, got {type(value).__name__} {value!r}")
    return int(value)


def _check_order(order: Any, fname: str) -> None:
    if order is not None:
        raise ValueError(f"{fname}(order={order!r}): order applies to structured arrays, "
                         f"which tensors are not; leave it None")


def _axis_for(x: TensorVariable, axis: Any, fname: str) -> int | None:
    axis = _constant_int(axis, f"{fname}: axis")
    if axis is not None:
        axis = normalize_axis(axis, x.ndim, fname)
    return axis


def sort(a: Any, axis: Any = -1, kind: str = "quicksort", order: Any = None
         ) -> TensorVariable:
    """``a`` sorted along ``axis`` (``None``: the flattened ``a``), as ``numpy.sort``.

    >>> from workbench import tensor as T
    >>> m = T.imatrix('m')
    >>> T.sort(m, axis=None).eval({m: [[3, 1], [2, 0]]}).tolist()
    [0, 1, 2, 3]
    """
    _check_order(order, "sort")
    a = as_tensor_variable(a)
    return Sort(_axis_for(a, axis, "sort"), kind)(a)


def argsort(a: Any, axis: Any = -1, kind: str = "quicksort", order: Any = None
            ) -> TensorVariable:
    """The int64 indices that sort ``a`` along ``axis`` (``None``: the flattened ``a``), as
    ``numpy.argsort``.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.argsort(x).eval({x: [0.3, 0.1, 0.2]}).tolist()
    [1, 2, 0]
    """
    _check_order(order, "argsort")
    a = as_tensor_variable(a)
    return ArgSort(_axis_for(a, axis, "argsort"), kind)(a)


def _topk_op(x: Any, kth: Any, axis: Any, idx_dtype: str, fname: str
             ) -> tuple[TensorVariable, TopK]:
    x = as_tensor_variable(x)
    if x.ndim == 0:
        raise ValueError(f"{fname} needs an input of at least one dimension, got {x.type}")
    kth = _constant_int(kth, f"{fname}: kth", allow_none=False)
    axis = _constant_int(axis, f"{fname}: axis", allow_none=False)
    return x, TopK(normalize_axis(axis, x.ndim, fname), kth, idx_dtype)


def topk(x: Any, kth: Any, axis: Any = -1, sorted: bool = True,  # noqa: A002 - Theano's name
         idx_dtype: str = "int64") -> TensorVariable:
    """The ``kth`` largest entries of ``x`` along ``axis`` (the ``-kth`` smallest when
    ``kth`` is negative), largest (resp. smallest) first.

    The entries always come sorted: a sorted answer is also a valid one for Theano's
    ``sorted=False``, so the flag is accepted and changes nothing.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.topk(x, 2).eval({x: [1.0, 5.0, 3.0, 4.0]}).tolist()
    [5.0, 4.0]
    >>> T.topk(x, -1).eval({x: [1.0, 5.0, 3.0, 4.0]}).tolist()
    [1.0]
    """
    x, op = _topk_op(x, kth, axis, idx_dtype, "topk")
    return op(x)[0]


def argtopk(x: Any, kth: Any, axis: Any = -1, sorted: bool = True,  # noqa: A002
            idx_dtype: str = "int64") -> TensorVariable:
    """The indices along ``axis`` of the entries :func:`topk` gives.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.argtopk(x, 2).eval({x: [1.0, 5.0, 3.0, 4.0]}).tolist()
    [1, 3]
    """
    x, op = _topk_op(x, kth, axis, idx_dtype, "argtopk")
    return op(x)[1]


def topk_and_argtopk(x: Any, kth: Any, axis: Any = -1, sorted: bool = True,  # noqa: A002
                     idx_dtype: str = "int64") -> tuple[TensorVariable, TensorVariable]:
    """:func:`topk` and :func:`argtopk` from one node.

    >>> from workbench import tensor as T
    >>> x = T.lvector('x')
    >>> values, indices = T.topk_and_argtopk(x, 1)
    >>> values.eval({x: [4, 9, 2]}).tolist(), indices.eval({x: [4, 9, 2]}).tolist()
    ([9], [1])
    """
    x, op = _topk_op(x, kth, axis, idx_dtype, "topk_and_argtopk")
    values, indices = op(x)
    return values, indices


def cumsum(x: Any, axis: Any = None) -> TensorVariable:
    """The running sum of ``x`` along ``axis`` (``None``: the flattened ``x``), with
    NumPy's dtype (int8 accumulates in int64).

    >>> from workbench import tensor as T
    >>> m = T.dmatrix('m')
    >>> T.cumsum(m, axis=0).eval({m: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [[1.0, 2.0], [4.0, 6.0]]
    """
    x = as_tensor_variable(x)
    return CumOp(_axis_for(x, axis, "cumsum"), "add")(x)


def cumprod(x: Any, axis: Any = None) -> TensorVariable:
    """The running product of ``x`` along ``axis`` (``None``: the flattened ``x``), with
    NumPy's dtype.

    >>> from workbench import tensor as T
    >>> x = T.lvector('x')
    >>> T.cumprod(x).eval({x: [1, 2, 3, 4]}).tolist()
    [1, 2, 6, 24]
    """
    x = as_tensor_variable(x)
    return CumOp(_axis_for(x, axis, "cumprod"), "mul")(x)


def diff(x: Any, n: int = 1, axis: Any = -1) -> TensorVariable:
    """The ``n``-th discrete difference of ``x`` along ``axis``, as ``numpy.diff``.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.diff(x).eval({x: [1.0, 4.0, 9.0]}).tolist()
    [3.0, 5.0]
    """
    x = as_tensor_variable(x)
    if x.ndim == 0:
        raise ValueError(f"diff needs an input of at least one dimension, got a 0-d {x.type}")
    n = _constant_int(n, "diff: n", allow_none=False)
    axis = _constant_int(axis, "diff: axis", allow_none=False)
    return DiffOp(n, normalize_axis(axis, x.ndim, "diff"))(x)
