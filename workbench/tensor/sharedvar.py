"""Tensor shared variables.

>>> from workbench import tensor as T
>>> import numpy as np
>>> w = T.shared(np.ones((2, 2)), 'w')
>>> (w * 2).eval().tolist()
[[2.0, 2.0], [2.0, 2.0]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compiler.shared import SharedVariable
from ..compiler.types import TensorType
from .variable import _TensorOperators


class TensorSharedVariable(_TensorOperators, SharedVariable):
    """A shared variable of tensor type, usable in expressions like any tensor."""


def tensor_shared(value: Any, name: str | None = None, strict: bool = False,
                  allow_downcast: bool | None = None, borrow: bool = False,
                  shape: tuple | None = None, broadcastable: tuple | None = None
                  ) -> TensorSharedVariable:
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
    elif isinstance(value, (bool, int, float, complex, list, tuple)):
        # Python numbers keep NumPy's default dtypes (int64, float64), as in Theano.
        try:
            arr = np.asarray(value)
        except ValueError as exc:
            raise TypeError(f"shared(): value is not a rectangular array: {exc}") from None
    else:
        raise TypeError(f"shared() cannot hold a value of type {type(value).__name__}")
    if arr.dtype == object:
        raise TypeError("shared(): value is not a rectangular numeric array")
    if broadcastable is not None:
        shape = tuple(1 if b else None for b in broadcastable)
    if shape is None:
        shape = (None,) * arr.ndim
    ttype = TensorType(arr.dtype, shape)
    if not isinstance(value, (np.ndarray, np.generic)):
        value = arr
    return TensorSharedVariable(ttype, value, name=name, strict=strict,
                                allow_downcast=allow_downcast, borrow=borrow)
