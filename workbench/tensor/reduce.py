"""Reductions: sum, prod, mean, var, std, max, min, argmax, argmin, all, any.

``axis`` is None (every axis), an int (negative counts from the end) or a list/tuple of ints;
``keepdims=True`` keeps each reduced axis as a broadcastable dimension of size 1. Output
dtypes are NumPy's (the sum of int8 is int64, the mean of ints float64).

>>> from workbench import tensor as T
>>> x = T.imatrix('x')
>>> s = T.sum(x, axis=0)
>>> s.type, s.eval({x: [[1, 2], [3, 4]]}).tolist()
(TensorType(int64, vector), [4, 6])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compiler.ops import reduce as ops
from ..compiler.ops.axes import normalize_axes
from ..compiler.ops.elemwise import DimShuffle
from ..compiler.types import COMPLEX_DTYPES, DISCRETE_DTYPES
from .basic import as_tensor_variable, cast, constant
from .variable import TensorVariable


def _op_axis(axes: tuple[int, ...], ndim: int) -> tuple[int, ...] | None:
    # one canonical spelling of "every axis", so equal reductions are equal ops and merge
    return None if len(axes) == ndim else axes


def _keep_dims(out: TensorVariable, axes: tuple[int, ...], ndim: int) -> TensorVariable:
    """Put back each reduced axis as a broadcastable dimension."""
    if not axes:
        return out
    order: list[int | str] = []
    kept = 0
    for i in range(ndim):
        if i in axes:
            order.append("x")
        else:
            order.append(kept)
            kept += 1
    return DimShuffle(out.broadcastable, order)(out)


def _reduce(op_class: type, x: Any, axis: Any, keepdims: bool, where: str,
            **params: Any) -> TensorVariable:
    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim, where)
    out = op_class(axis=_op_axis(axes, x.ndim), **params)(x)
    return _keep_dims(out, axes, x.ndim) if keepdims else out


def sum(input: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False,  # noqa: A001
        acc_dtype: Any = None) -> TensorVariable:
    """The sum over ``axis``. ``dtype`` sets the output dtype, ``acc_dtype`` the dtype the
    sum runs in (by default a wide one: int64 for small ints, float64 for float32).

    >>> from workbench import tensor as T
    >>> x = T.bmatrix('x')
    >>> y = T.sum(x, axis=-1, keepdims=True)
    >>> y.type, y.eval({x: [[100, 100], [1, 2]]}).tolist()
    (TensorType(int64, col), [[200], [3]])
    """
    return _reduce(ops.Sum, input, axis, keepdims, "sum", dtype=dtype, acc_dtype=acc_dtype)


def prod(input: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False,
         acc_dtype: Any = None, no_zeros_in_input: bool = False) -> TensorVariable:
    """The product over ``axis`` (1 over an empty axis). ``no_zeros_in_input`` promises
    the input holds no zero (a later gradient uses it).

    >>> from workbench import tensor as T
    >>> x = T.imatrix('x')
    >>> T.prod(x, axis=0).eval({x: [[1, 2], [3, 4]]}).tolist()
    [3, 8]
    """
    return _reduce(ops.Prod, input, axis, keepdims, "prod", dtype=dtype, acc_dtype=acc_dtype,
                   no_zeros_in_input=no_zeros_in_input)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:  # noqa: A001
    """The maximum over ``axis``, in the input's dtype. An empty axis raises ValueError.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> T.max(x, axis=1).eval({x: [[1, 5], [7, 2]]}).tolist()
    [5.0, 7.0]
    """
    return _reduce(ops.Max, x, axis, keepdims, "max")


def min(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:  # noqa: A001
    """The minimum over ``axis``, in the input's dtype. An empty axis raises ValueError.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> T.min(x, axis=(0, 1)).eval({x: [[1, 5], [7, 2]]}).item()
    1.0
    """
    return _reduce(ops.Min, x, axis, keepdims, "min")


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """The int64 index of the maximum over ``axis``; None indexes the flattened input.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> T.argmax(x).eval({x: [[1, 5], [7, 2]]}).item(), T.argmax(x, 0).eval(
    ...     {x: [[1, 5], [7, 2]]}).tolist()
    (2, [1, 0])
    """
    return _reduce(ops.Argmax, x, axis, keepdims, "argmax")


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """The int64 index of the minimum over ``axis``; None indexes the flattened input.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> T.argmin(x, axis=-1, keepdims=True).eval({x: [[1, 5], [7, 2]]}).tolist()
    [[0], [1]]
    """
    return _reduce(ops.Argmin, x, axis, keepdims, "argmin")


def max_and_argmax(a: Any, axis: Any = None, keepdims: bool = False) -> list[TensorVariable]:
    """``[max(a, axis), argmax(a, axis)]``.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> m, i = T.max_and_argmax(x)
    >>> float(m.eval({x: [3.0, 9.0, 4.0]})), int(i.eval({x: [3.0, 9.0, 4.0]}))
    (9.0, 1)
    """
    return [max(a, axis, keepdims), argmax(a, axis, keepdims)]


def ptp(a: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """The range of values (maximum - minimum) over ``axis``, as ``numpy.ptp``.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> T.ptp(x, axis=1).eval({x: [[1, 5], [7, 2]]}).tolist()
    [4.0, 5.0]
    """
    from .math import sub

    return sub(max(a, axis, keepdims), min(a, axis, keepdims))


def all(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:  # noqa: A001
    """Whether every element over ``axis`` is nonzero (bool; True over an empty axis).

    >>> from workbench import tensor as T
    >>> x = T.imatrix('x')
    >>> T.all(x, axis=1).eval({x: [[1, 2], [0, 3]]}).tolist()
    [True, False]
    """
    return _reduce(ops.All, x, axis, keepdims, "all")


def any(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:  # noqa: A001
    """Whether some element over ``axis`` is nonzero (bool; False over an empty axis).

    >>> from workbench import tensor as T
    >>> x = T.imatrix('x')
    >>> T.any(x, axis=0).eval({x: [[1, 0], [0, 0]]}).tolist()
    [True, False]
    """
    return _reduce(ops.Any, x, axis, keepdims, "any")


def _reduced_size(x: TensorVariable, axes: tuple[int, ...]) -> TensorVariable:
    """The number of elements over ``axes`` as an int64 scalar; the statically known
    dimensions are folded into one constant."""
    from .math import mul
    from .shape import shape_i

    known = int(np.prod([x.type.shape[a] for a in axes if x.type.shape[a] is not None],
                        dtype=np.int64))
    unknown = [shape_i(x, a) for a in axes if x.type.shape[a] is None]
    if not unknown:
        return constant(known, dtype="int64")
    return mul(*unknown) if known == 1 else mul(constant(known, dtype="int64"), *unknown)


def _divide_by_count(total: TensorVariable, count: TensorVariable) -> TensorVariable:
    from .math import true_div

    if total.dtype in DISCRETE_DTYPES:
        return true_div(total, cast(count, "float64"))
    # the count in the total's own real precision, so float32 stays float32
    return true_div(total, cast(count, ops.real_dtype(total.dtype)))


def mean(input: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False,
         acc_dtype: Any = None) -> TensorVariable:
    """The mean over ``axis``: float64 for integer and bool inputs, else the input's dtype
    (as ``numpy.mean``); ``dtype`` sets the output dtype. NaN over an empty axis.

    >>> from workbench import tensor as T
    >>> x = T.imatrix('x')
    >>> y = T.mean(x, axis=1)
    >>> y.dtype, y.eval({x: [[1, 2], [3, 5]]}).tolist()
    ('float64', [1.5, 4.0])
    """
    x = as_tensor_variable(input)
    axes = normalize_axes(axis, x.ndim, "mean")
    out_dtype = np.mean(np.ones(1, dtype=x.dtype),
                        dtype=None if dtype is None else np.dtype(dtype)).dtype.name
    if dtype is not None:
        sum_dtype = np.dtype(dtype).name
    elif x.dtype in DISCRETE_DTYPES:
        sum_dtype = "float64"
    elif x.dtype == "float16":
        sum_dtype = "float32"  # float16 sums overflow too easily
    else:
        sum_dtype = None
    if sum_dtype in DISCRETE_DTYPES:
        sum_dtype = "float64"
    total = sum(x, axis=axes, dtype=sum_dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    result = _divide_by_count(total, _reduced_size(x, axes))
    return cast(result, out_dtype)


def var(input: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False,
        corrected: bool = False) -> TensorVariable:
    """The variance over ``axis``, dividing by ``N - ddof`` as ``numpy.var`` does.

    ``corrected=True`` uses the corrected two-pass algorithm (subtracts the rounding error
    of the mean), which is more accurate for data far from zero. Complex inputs give a
    real variance.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> float(T.var(x).eval({x: [1.0, 2.0, 3.0, 4.0]})), float(
    ...     T.var(x, ddof=1).eval({x: [1.0, 2.0, 3.0, 4.0]}))
    (1.25, 1.6666666666666667)
    """
    from .math import abs as abs_
    from .math import maximum, sqr, sub

    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, np.integer)):
        raise TypeError(f"var: ddof must be an int, got {ddof!r}")
    x = as_tensor_variable(input)
    axes = normalize_axes(axis, x.ndim, "var")
    centered = sub(x, mean(x, axes, keepdims=True))
    is_complex = centered.dtype in COMPLEX_DTYPES
    squares = sqr(abs_(centered)) if is_complex else sqr(centered)
    if ddof == 0 and not corrected:
        return mean(squares, axes, keepdims=keepdims)
    count = _reduced_size(x, axes)
    # NumPy divides by max(N - ddof, 0): too few elements give inf/nan, never < 0
    dof = maximum(count - int(ddof), 0)
    total = sum(squares, axes, keepdims=keepdims)
    if corrected:
        # the centered values sum to N times the mean's rounding error; remove its share
        err_sum = sum(centered, axes, keepdims=keepdims)
        err_sq = sqr(abs_(err_sum)) if is_complex else sqr(err_sum)
        total = sub(total, _divide_by_count(err_sq, count))
    return _divide_by_count(total, dof)


def std(input: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False,
        corrected: bool = False) -> TensorVariable:
    """The standard deviation over ``axis``: ``sqrt(var(input, axis, ddof, ...))``.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> T.std(x, axis=1).eval({x: [[1.0, 3.0], [2.0, 2.0]]}).tolist()
    [1.0, 0.0]
    """
    from .math import sqrt

    return sqrt(var(input, axis, ddof=ddof, keepdims=keepdims, corrected=corrected))


__all__ = ["sum", "prod", "mean", "var", "std", "max", "min", "argmax", "argmin",
           "max_and_argmax", "ptp", "all", "any"]
