"""Theano's ``theano.tensor.extra_ops``: cumulative ops, repeat, squeeze, bincount, one-hot.

>>> from workbench import tensor as T
>>> y = T.ivector('y')
>>> T.extra_ops.to_one_hot(y, 3).eval({y: [0, 2]}).tolist()
[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""
from __future__ import annotations

from typing import Any

from ..compiler.ops.counting import BinCount
from .alloc import arange, repeat
from .basic import _resolve_dtype, as_tensor_variable, cast
from .math import eq
from .shape import squeeze
from .sort import cumprod, cumsum, diff
from .variable import TensorVariable


def bincount(x: Any, weights: Any = None, minlength: int | None = None,
             assert_nonneg: bool = False) -> TensorVariable:
    """Occurrences of each value of a non-negative integer vector (``numpy.bincount``).

    >>> from workbench import tensor as T
    >>> x = T.lvector('x')
    >>> bincount(x, minlength=4).eval({x: [1, 1]}).tolist()
    [0, 2, 0, 0]
    """
    return BinCount(minlength)(x) if weights is None else BinCount(minlength)(x, weights)


def to_one_hot(y: Any, nb_class: int, dtype: Any = None) -> TensorVariable:
    """Rows of a ``len(y) x nb_class`` matrix, with a 1 at each label's column (floatX).

    >>> from workbench import tensor as T
    >>> y = T.lvector('y')
    >>> to_one_hot(y, 2, dtype='int8').eval({y: [1]}).tolist()
    [[0, 1]]
    """
    y = as_tensor_variable(y)
    if y.ndim != 1 or y.dtype[:3] not in ("int", "uin"):
        raise TypeError(f"to_one_hot: y must be an integer vector, got {y.type}")
    hits = eq(y.dimshuffle(0, "x"), arange(nb_class).dimshuffle("x", 0))
    return cast(hits, _resolve_dtype(dtype))


__all__ = ["bincount", "cumprod", "cumsum", "diff", "repeat", "squeeze", "to_one_hot",
           "BinCount"]
