"""Joining and splitting ops: ``Join`` (concatenate), ``MakeVector`` (scalars to a vector),
``Split`` and ``Roll``.

Inputs of different dtypes are upcast as ``numpy.concatenate`` does; Python number literals
take part as NumPy 2's weak scalars (as in Elemwise), so ``[x_int32, 0]`` stays int32.

>>> from workbench import tensor as T
>>> T.concatenate([T.dvector(), T.dvector()]).owner.op
Join{axis=0}
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Apply, Op, Variable
from ..gradtypes import disconnected_type, is_disconnected
from ..types import DISCRETE_DTYPES, TensorType
from .shape import ShapeError, as_int_scalar, static_vector_items, vector_items


def _result_dtype(inputs: list[Variable]) -> tuple[list[Variable], str]:
    from .elemwise import _unify_weak_constants

    inputs = _unify_weak_constants(list(inputs))
    return inputs, np.result_type(*[i.dtype for i in inputs]).name


class MakeVector(Op):
    """A vector of ``dtype`` from scalar inputs."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str = "int64"):
        self.dtype = np.dtype(dtype).name

    def make_node(self, *scalars: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable, cast

        scalars = [as_tensor_variable(s) for s in scalars]
        for i, s in enumerate(scalars):
            if s.ndim != 0:
                raise TypeError(f"{self}: input {i} must be a scalar, got {s.type}")
        # A lossless conversion (weak literals, upcasts) is fine; a downcast is not.
        converted = []
        for i, s in enumerate(scalars):
            if s.dtype != self.dtype and not np.can_cast(s.dtype, self.dtype):
                raise TypeError(f"{self}: input {i} of dtype {s.dtype} cannot be stored as "
                                f"{self.dtype} without loss")
            converted.append(cast(s, self.dtype))
        return Apply(self, converted, [TensorType(self.dtype, (len(converted),))()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = np.array(inputs, dtype=self.dtype).reshape(len(inputs))

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [(len(node.inputs),)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # an integer vector (a shape, most often) carries no gradient
        return [[self.dtype not in DISCRETE_DTYPES] for _ in node.inputs]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        (g,) = output_grads
        if self.dtype in DISCRETE_DTYPES or is_disconnected(g):
            return [disconnected_type() for _ in inputs]
        return [g[i] for i in range(len(inputs))]

    def R_op(self, inputs: list, eval_points: list) -> list:
        from ...tensor.alloc import zeros_like

        if self.dtype in DISCRETE_DTYPES or all(e is None for e in eval_points):
            return [None]
        return [self(*[zeros_like(x) if e is None else e
                       for x, e in zip(inputs, eval_points)])]


def make_vector(*scalars: Any) -> Variable:
    """Scalars into a vector of their common dtype."""
    from ...tensor.basic import as_tensor_variable

    scalars_, dtype = _result_dtype([as_tensor_variable(s) for s in scalars])
    return MakeVector(dtype)(*scalars_)


class Join(Op):
    """The inputs concatenated along ``axis``; every other dimension must match."""

    __props__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = int(axis)

    def make_node(self, *tensors: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        if not tensors:
            raise ValueError("concatenate: needs at least one tensor to join")
        tensors = [as_tensor_variable(t) for t in tensors]
        ndim = tensors[0].ndim
        if ndim == 0:
            raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated; "
                             "use stack")
        for i, t in enumerate(tensors):
            if t.ndim != ndim:
                raise ValueError(f"concatenate: all inputs must have the same number of "
                                 f"dimensions, input 0 is {tensors[0].type} and input {i} is "
                                 f"{t.type}")
        if not 0 <= self.axis < ndim:
            raise ValueError(f"concatenate: axis {self.axis} is out of range for {ndim}-d inputs")
        tensors, dtype = _result_dtype(tensors)
        shape: list[int | None] = []
        for d in range(ndim):
            dims = [t.type.shape[d] for t in tensors]
            if d == self.axis:
                shape.append(None if None in dims else sum(dims))
                continue
            known = {s for s in dims if s is not None}
            if len(known) > 1:
                raise ValueError(
                    f"concatenate along axis {self.axis}: the inputs' sizes differ at "
                    f"dimension {d} ({', '.join(str(t.type) for t in tensors)}); every "
                    f"dimension but the axis must match")
            shape.append(known.pop() if known else None)
        return Apply(self, tensors, [TensorType(dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        first = inputs[0].shape
        for i, x in enumerate(inputs):
            for d in range(len(first)):
                if d != self.axis and x.shape[d] != first[d]:
                    raise ShapeError(
                        f"concatenate along axis {self.axis}: input {i} has shape {x.shape} "
                        f"and input 0 has shape {first}; they differ at dimension {d}, and "
                        f"every dimension but the axis must match")
        out = np.concatenate(inputs, axis=self.axis)
        output_storage[0][0] = out.astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor import math as tm

        static = node.outputs[0].type.shape
        along = [s[self.axis] for s in input_shapes]
        total = static[self.axis] if static[self.axis] is not None else tm.add(*along)
        shape = []
        for d, s in enumerate(static):
            if d == self.axis:
                shape.append(total)
            else:
                shape.append(s if s is not None else input_shapes[0][d])
        return [tuple(shape)]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        (g,) = output_grads
        if is_disconnected(g):
            return [disconnected_type() for _ in inputs]
        # each input gets its own stretch of the gradient along the axis
        return split_like(g, inputs, self.axis)

    def R_op(self, inputs: list, eval_points: list) -> list:
        from ...tensor.alloc import zeros_like

        if all(e is None for e in eval_points):
            return [None]
        return [self(*[zeros_like(x) if e is None else e
                       for x, e in zip(inputs, eval_points)])]


def split_like(g: Variable, parts: list[Variable], axis: int) -> list[Variable]:
    """``g`` cut along ``axis`` into pieces as long as each of ``parts`` is there (what
    ``Join`` joined), a view each.

    >>> from workbench import tensor as T
    >>> a, b, g = T.dvector('a'), T.dvector('b'), T.dvector('g')
    >>> _, gb = split_like(g, [a, b], 0)
    >>> gb.eval({a: [0.0], b: [0.0, 0.0], g: [1.0, 2.0, 3.0]}).tolist()
    [2.0, 3.0]
    """
    from ...tensor.shape import _as_shape_vector, _dim

    sizes = _as_shape_vector([_dim(p, axis) for p in parts])
    return Split(len(parts), axis).make_node(g, sizes).outputs


class Split(Op):
    """``x`` cut along ``axis`` into ``len_splits`` pieces of the sizes in an int vector.

    The pieces are views of ``x``.
    """

    __props__ = ("len_splits", "axis")

    def __init__(self, len_splits: int, axis: int = 0):
        self.len_splits = int(len_splits)
        self.axis = int(axis)
        self.view_map = {i: [0] for i in range(self.len_splits)}

    def make_node(self, x: Any, splits: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable, cast

        x = as_tensor_variable(x)
        splits = as_tensor_variable(splits)
        if splits.ndim != 1 or splits.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"split: splits_size must be an integer vector, got {splits.type}")
        splits = cast(splits, "int64")
        if x.ndim == 0:
            raise ValueError("split: cannot split a scalar")
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"split: axis {self.axis} is out of range for {x.type}")
        sizes = static_vector_items(splits)
        if sizes is not None and len(sizes) != self.len_splits:
            raise ValueError(f"split: {len(sizes)} split sizes given for n_splits="
                             f"{self.len_splits}")
        sizes = sizes or [None] * self.len_splits
        if all(s is not None for s in sizes) and x.type.shape[self.axis] is not None \
                and sum(sizes) != x.type.shape[self.axis]:
            raise ValueError(f"split: the sizes {tuple(sizes)} add up to {sum(sizes)}, but axis "
                             f"{self.axis} of {x.type} has size {x.type.shape[self.axis]}")
        outputs = []
        for s in sizes:
            shape = list(x.type.shape)
            shape[self.axis] = s
            outputs.append(TensorType(x.dtype, shape)())
        return Apply(self, [x, splits], outputs)

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x, splits = inputs
        if len(splits) != self.len_splits:
            raise ShapeError(f"split: {len(splits)} split sizes given for n_splits="
                             f"{self.len_splits}")
        if np.any(splits < 0):
            raise ValueError(f"split: negative split size in {splits.tolist()}")
        if splits.sum() != x.shape[self.axis]:
            raise ShapeError(f"split: the sizes {splits.tolist()} add up to {splits.sum()}, but "
                             f"axis {self.axis} of the input (shape {x.shape}) has size "
                             f"{x.shape[self.axis]}")
        pieces = np.split(x, np.cumsum(splits)[:-1], axis=self.axis)
        for cell, piece in zip(output_storage, pieces):
            cell[0] = piece

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        sizes = vector_items(node.inputs[1], self.len_splits)
        shapes = []
        for size in sizes:
            shape = list(input_shapes[0])
            shape[self.axis] = size
            shapes.append(tuple(shape))
        return shapes

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True] * self.len_splits, [False] * self.len_splits]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ...tensor.alloc import zeros_like

        if all(is_disconnected(g) for g in output_grads):
            return [disconnected_type()] * 2
        # a piece nothing depended on contributes zeros
        pieces = [zeros_like(o) if is_disconnected(g) else g
                  for o, g in zip(outputs, output_grads)]
        return [Join(self.axis)(*pieces), disconnected_type()]

    def R_op(self, inputs: list, eval_points: list) -> list:
        if eval_points[0] is None:
            return [None] * self.len_splits
        return self.make_node(eval_points[0], inputs[1]).outputs


class Roll(Op):
    """``numpy.roll(x, shift, axis)`` for a symbolic scalar ``shift``; ``axis=None`` rolls
    the flattened array."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None):
        self.axis = None if axis is None else int(axis)

    def make_node(self, x: Any, shift: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        shift = as_int_scalar(shift, "roll: shift")
        if self.axis is not None and not 0 <= self.axis < x.ndim:
            raise ValueError(f"roll: axis {self.axis} is out of range for {x.type}")
        return Apply(self, [x, shift], [TensorType(x.dtype, x.type.shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x, shift = inputs
        output_storage[0][0] = np.roll(x, int(shift), axis=self.axis)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [tuple(input_shapes[0])]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [False]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ...tensor.math import neg

        (g,) = output_grads
        if is_disconnected(g):
            return [disconnected_type()] * 2
        # a permutation: the gradient rolls back the other way
        return [self(g, neg(inputs[1])), disconnected_type()]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]


