"""Axis arguments: one place that checks them and makes them non-negative.

Every op and user function that takes an ``axis`` goes through here, so the same mistake
gets the same error everywhere: a TypeError for an axis that is not a constant integer, and
NumPy's ``AxisError`` (both a ValueError and an IndexError) for one out of bounds.

>>> normalize_axis(-1, 3, 'sum'), normalize_axes([2, -3], 3, 'sum')
(2, (0, 2))
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Constant, Variable


def normalize_axis(axis: Any, ndim: int, where: str) -> int:
    """``axis`` (an int, or a constant 0-d tensor) as an index in ``range(ndim)``, or an
    error naming ``where``, the axis and the number of dimensions."""
    if isinstance(axis, Constant) and np.ndim(axis.data) == 0:
        axis = axis.data.item()
    if isinstance(axis, Variable):
        raise TypeError(f"{where}: axis must be a constant integer, got the symbolic {axis}")
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{where}: axis must be an int or None, got {type(axis).__name__} "
                        f"{axis!r}")
    if not -ndim <= axis < ndim:
        if ndim == 0:
            raise np.exceptions.AxisError(
                f"{where}: axis {axis} is out of bounds for a 0-d input; use axis=None")
        raise np.exceptions.AxisError(
            f"{where}: axis {axis} is out of bounds for an input of {ndim} dimension"
            f"{'' if ndim == 1 else 's'} (valid axes: {-ndim} to {ndim - 1})")
    return int(axis) % ndim


def normalize_axes(axis: Any, ndim: int, where: str) -> tuple[int, ...]:
    """``axis`` (None for every axis, an int, or a list/tuple/constant vector of ints) as a
    sorted tuple of distinct indices in ``range(ndim)``."""
    if isinstance(axis, Constant):
        axis = axis.data.tolist()
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, np.ndarray):
        axis = axis.tolist()
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    axes = [normalize_axis(a, ndim, where) for a in items]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{where}: axis {axis!r} repeats an axis (ndim {ndim})")
    return tuple(sorted(axes))
