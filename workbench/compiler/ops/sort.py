"""Sorting ops: :class:`Sort`, :class:`ArgSort` and :class:`TopK`, NumPy's ``sort``,
``argsort`` and a sorted top-k along one axis.

The axis is a parameter of the op (not a symbolic input): ``axis=None`` sorts the flattened
input, as ``numpy.sort(a, axis=None)`` does, and gives a vector.

>>> import numpy as np
>>> from workbench import tensor as T
>>> x = T.dmatrix('x')
>>> Sort(axis=1)(x).eval({x: [[3.0, 1.0, 2.0]]}).tolist()
[[1.0, 2.0, 3.0]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Apply, Op
from ..gradtypes import disconnected_type
from ..types import TensorType
from .axes import normalize_axis

#: the algorithms ``numpy.sort`` knows
SORT_KINDS = ("quicksort", "mergesort", "heapsort", "stable")


def flat_static_shape(shape: tuple[int | None, ...]) -> tuple[int | None]:
    """The static shape of the input flattened to a vector (a 0-d input gives 1 element)."""
    if any(s is None for s in shape):
        return (None,)
    return (int(np.prod(shape, dtype=np.int64)),)


def flat_symbolic_shape(shape: tuple) -> tuple:
    """The symbolic shape of the input flattened to a vector: the product of its dims."""
    from ...tensor import math as tm
    from ...tensor.basic import constant

    if not shape:
        return (constant(1, dtype="int64"),)
    return (tm.mul(*shape),) if len(shape) > 1 else (shape[0],)


class _SortAlongAxis(Op):
    """What Sort and ArgSort share: the axis and kind parameters, their checks, the output
    shape. Subclasses give ``out_dtype`` and ``perform``."""

    __props__ = ("axis", "kind")
    out_dtype: str | None = None  # None: the input's dtype

    def __init__(self, axis: int | None = -1, kind: str = "quicksort"):
        if kind not in SORT_KINDS:
            raise ValueError(f"{type(self).__name__.lower()} kind must be one of "
                             f"{', '.join(SORT_KINDS)}, got {kind!r}")
        self.axis = None if axis is None else int(axis)
        self.kind = kind

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        if self.axis is not None:
            normalize_axis(self.axis, x.ndim, str(self))
        shape = flat_static_shape(x.type.shape) if self.axis is None else x.type.shape
        return Apply(self, [x], [TensorType(self.out_dtype or x.dtype, shape)()])

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        (shape,) = input_shapes
        return [flat_symbolic_shape(shape) if self.axis is None else tuple(shape)]


class Sort(_SortAlongAxis):
    """The input sorted along ``axis`` (NaNs last, as NumPy); ``axis=None`` sorts the
    flattened input.

    >>> from workbench import tensor as T
    >>> x = T.ivector('x')
    >>> Sort(axis=0)(x).eval({x: [2, 0, 1]}).tolist()
    [0, 1, 2]
    """

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        output_storage[0][0] = np.sort(x, axis=self.axis, kind=self.kind)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """Each output element came from one input element: ``g`` is scattered back
        through the sorting permutation (``argsort`` of the input)."""
        from ...tensor.shape import flatten, reshape

        (x,), (g,) = inputs, output_grads
        order = ArgSort(self.axis, self.kind)(x)
        if self.axis is None:
            flat = flatten(x, 1)
            return [reshape(scatter_along_axis(flat, order, g, 0), _shape_of(x))]
        return [scatter_along_axis(x, order, g, self.axis % x.ndim)]


class ArgSort(_SortAlongAxis):
    """The int64 indices that sort the input along ``axis`` (``axis=None``: the flattened
    input), as ``numpy.argsort``.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> ArgSort(axis=0)(x).eval({x: [2.0, 0.5, 1.0]}).tolist()
    [1, 2, 0]
    """

    out_dtype = "int64"

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        output_storage[0][0] = np.argsort(x, axis=self.axis, kind=self.kind).astype(
            np.int64, copy=False)

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]  # integer indices: no gradient flows back (Theano)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        return [disconnected_type()]


class TopK(Op):
    """The ``|kth|`` largest (``kth > 0``) or smallest (``kth < 0``) entries along ``axis``,
    and their int64 indices: two outputs, values then indices.

    The entries come sorted, largest first for ``kth > 0`` and smallest first for
    ``kth < 0`` (Theano leaves the order unspecified; a sorted order is one of its valid
    answers). Ties keep the lower index first.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> values, indices = TopK(axis=0, kth=2)(x)
    >>> values.eval({x: [1.0, 5.0, 3.0]}).tolist()
    [5.0, 3.0]
    """

    __props__ = ("axis", "kth", "idx_dtype")

    def __init__(self, axis: int = -1, kth: int = 1, idx_dtype: str = "int64"):
        if isinstance(kth, (bool, np.bool_)) or not isinstance(kth, (int, np.integer)):
            raise TypeError(f"topk: kth must be an int, got {type(kth).__name__} {kth!r}")
        if kth == 0:
            raise ValueError("topk: kth must not be 0 (positive: largest, negative: smallest)")
        if np.dtype(idx_dtype).kind not in "iu":
            raise TypeError(f"topk: idx_dtype must be an integer dtype, got {idx_dtype!r}")
        self.axis = int(axis)
        self.kth = int(kth)
        self.idx_dtype = np.dtype(idx_dtype).name

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        axis = normalize_axis(self.axis, x.ndim, "topk")
        size = x.type.shape[axis]
        if size is not None and abs(self.kth) > size:
            raise ValueError(f"topk: |kth| = {abs(self.kth)} is larger than the size {size} "
                             f"of axis {self.axis}")
        shape = list(x.type.shape)
        shape[axis] = abs(self.kth)
        return Apply(self, [x], [TensorType(x.dtype, shape)(),
                                 TensorType(self.idx_dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        axis = self.axis % x.ndim
        k = abs(self.kth)
        if k > x.shape[axis]:
            raise ValueError(f"topk: |kth| = {k} is larger than the size {x.shape[axis]} of "
                             f"axis {self.axis} (input shape {x.shape})")
        # A stable sort of the reversed axis puts the largest first and keeps ties in
        # index order once flipped back; the smallest need no reversal.
        if self.kth > 0:
            n = x.shape[axis]
            order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
            order = (n - 1) - np.flip(order, axis)
        else:
            order = np.argsort(x, axis=axis, kind="stable")
        idx = np.take(order, np.arange(k), axis=axis)
        output_storage[0][0] = np.take_along_axis(x, idx, axis=axis)
        output_storage[1][0] = idx.astype(self.idx_dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor.basic import constant

        (shape,) = input_shapes
        axis = self.axis % len(shape)
        out = list(shape)
        out[axis] = constant(abs(self.kth), dtype="int64")
        return [tuple(out), tuple(out)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True, False]]  # the values depend on x; the integer indices do not count

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """The values' gradient goes back to the positions they were taken from (the
        indices output); the indices get none."""
        (x,), (g_values, _) = inputs, output_grads
        return [scatter_along_axis(x, outputs[1], g_values, self.axis % x.ndim)]


def _shape_of(x: Any) -> list:
    """``x``'s dimensions: ints where the static shape knows them, else symbolic."""
    from ...tensor.shape import shape_i

    return [s if s is not None else shape_i(x, i) for i, s in enumerate(x.type.shape)]


def scatter_along_axis(x: Any, indices: Any, values: Any, axis: int) -> Any:
    """Zeros shaped like ``x`` with ``values`` added at ``indices`` along ``axis``: the
    adjoint of ``numpy.take_along_axis(x, indices, axis)``. ``indices`` and ``values``
    have ``x``'s shape except along ``axis``.

    >>> from workbench import tensor as T
    >>> x, i, v = T.dmatrix('x'), T.lmatrix('i'), T.dmatrix('v')
    >>> y = scatter_along_axis(x, i, v, 1)
    >>> y.eval({x: [[0.0, 0.0, 0.0]], i: [[2, 0]], v: [[5.0, 7.0]]}).tolist()
    [[7.0, 0.0, 5.0]]
    """
    from ...tensor.alloc import arange, zeros
    from ...tensor.shape import shape_i
    from ...tensor.subtensor import inc_subtensor

    target = zeros(_shape_of(x), dtype=values.dtype)
    # an index grid for every other axis, shaped to broadcast against ``indices``
    index = []
    for d in range(x.ndim):
        if d == axis:
            index.append(indices)
        else:
            grid = arange(shape_i(indices, d))
            index.append(grid.dimshuffle(*["x" if k != d else 0 for k in range(x.ndim)]))
    return inc_subtensor(target[tuple(index)], values)
