"""Shape ops: reading a shape, reshaping, and asserting shapes and broadcast patterns.

``Shape`` and ``Shape_i`` read the run-time shape; ``Reshape`` gives a view of new shape;
``SpecifyShape`` and ``Rebroadcast`` pass their input through unchanged, after checking at
run time what their output type promises, so that later ops may rely on it.

>>> from workbench import tensor as T
>>> x = T.dmatrix('x')
>>> x.reshape((-1,)).owner.op, T.shape(x).type
(Reshape{ndim=1}, TensorType(int64, (2,)))
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph import Apply, Constant, Op, Variable
from ..gradtypes import disconnected_type, is_disconnected
from ..types import TensorType


class ShapeError(ValueError, AssertionError):
    """A run-time shape check failed. It is an AssertionError too, as Theano raised one."""


def as_int_scalar(value: Any, what: str) -> Variable:
    """``value`` as a symbolic int64 scalar, or a TypeError naming ``what`` it was for."""
    from ...tensor.basic import as_tensor_variable, cast

    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be an integer, got the bool {value!r}")
    if isinstance(value, (float, np.floating)):
        if not float(value).is_integer():
            raise TypeError(f"{what} must be an integer, got {value!r}")
        value = int(value)
    var = as_tensor_variable(value)
    if var.ndim != 0:
        raise TypeError(f"{what} must be a scalar, got {var.type}")
    if var.dtype not in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                         "uint64"):
        raise TypeError(f"{what} must have an integer dtype, got {var.dtype}")
    return cast(var, "int64")


def static_int(var: Any) -> int | None:
    """The value of an integer scalar when it is known before run time, else None.

    Constants are known, and so are dimensions read (``Shape_i``) from a variable whose static
    shape has them.
    """
    if isinstance(var, (int, np.integer)) and not isinstance(var, (bool, np.bool_)):
        return int(var)
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        if data.ndim == 0 and data.dtype.kind in "iu":
            return int(data)
        return None
    owner = getattr(var, "owner", None)
    if owner is not None:
        if isinstance(owner.op, Shape_i):
            return owner.inputs[0].type.shape[owner.op.i]
        if _is_int_cast(owner.op):
            return static_int(owner.inputs[0])
        index = _constant_vector_index(owner)
        if index is not None:
            items = static_vector_items(owner.inputs[0])
            if items is not None and -len(items) <= index < len(items):
                return items[index]
    return None


def _constant_vector_index(node: Apply) -> int | None:
    """``i`` when ``node`` is the basic indexing ``v[i]`` of a vector by a constant int, as
    ``*x.shape`` makes (the subtensor module's ``Subtensor`` keeps ``i`` in ``idx_list``)."""
    idx_list = getattr(node.op, "idx_list", None)
    if (type(node.op).__name__ == "Subtensor" and isinstance(idx_list, tuple)
            and len(idx_list) == 1 and isinstance(idx_list[0], (int, np.integer))
            and not isinstance(idx_list[0], bool) and node.inputs[0].ndim == 1):
        return int(idx_list[0])
    return None


def _is_int_cast(op: Op) -> bool:
    from .elemwise import Elemwise
    from .scalar import Cast

    return (isinstance(op, Elemwise) and isinstance(op.scalar_op, Cast)
            and np.dtype(op.scalar_op.dtype).kind in "iu")


def static_vector_items(vec: Variable) -> list[int | None] | None:
    """The entries of an integer vector known before run time (None where unknown).

    Returns None when not even the vector's length is known.
    """
    length = vec.type.shape[0] if vec.ndim == 1 else None
    if isinstance(vec, Constant):
        return [int(v) for v in np.asarray(vec.data).ravel()]
    owner = vec.owner
    if owner is not None:
        from .join import MakeVector

        if isinstance(owner.op, MakeVector):
            return [static_int(i) for i in owner.inputs]
        if isinstance(owner.op, Shape):
            return list(owner.inputs[0].type.shape)
    if length is None:
        return None
    return [None] * length


class IntegerResultOp(Op):
    """An op with one input whose integer result does not change when the input's values
    move a little (a shape, a count, positions): disconnected from it, with no gradient and
    no R_op."""

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        return [disconnected_type()]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None]


class Shape(IntegerResultOp):
    """The shape of a tensor as an int64 vector of static length ``ndim``."""

    __props__ = ()

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (x.ndim,))()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = np.asarray(inputs[0].shape, dtype="int64")

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [(node.inputs[0].ndim,)]


class Shape_i(IntegerResultOp):  # noqa: N801 - Theano's name
    """Dimension ``i`` of a tensor's shape, as an int64 scalar."""

    __props__ = ("i",)

    def __init__(self, i: int):
        self.i = int(i)

    def __str__(self) -> str:
        return f"Shape_i{{{self.i}}}"

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        if not 0 <= self.i < x.ndim:
            raise ValueError(f"Shape_i{{{self.i}}}: {x.type} has no dimension {self.i}")
        return Apply(self, [x], [TensorType("int64", ())()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = np.asarray(inputs[0].shape[self.i], dtype="int64")

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [()]


class Reshape(Op):
    """``x`` reshaped to the int vector ``shape`` (of static length ``ndim``; one entry may
    be -1, as in NumPy). The result is a view where NumPy can make one."""

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim: int):
        self.ndim = int(ndim)

    def make_node(self, x: Any, shape: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        shape = as_tensor_variable(shape)
        if shape.ndim != 1 or shape.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"reshape: the new shape must be an integer vector, got {shape.type}")
        items = static_vector_items(shape)
        if items is not None and len(items) != self.ndim:
            raise ValueError(f"reshape: the new shape has {len(items)} entries, expected "
                             f"ndim={self.ndim}")
        items = items or [None] * self.ndim
        if sum(1 for s in items if s == -1) > 1:
            raise ValueError(f"reshape: at most one entry of the new shape may be -1, got "
                             f"{_show(items)}")
        if any(s is not None and s < -1 for s in items):
            raise ValueError(f"reshape: negative entry in the new shape {_show(items)}")
        out = [s if s is not None and s >= 0 else None for s in items]
        size = _static_size(x.type.shape)
        if size is not None:
            known = [s for s in items if s is not None and s != -1]
            if len(known) == self.ndim and int(np.prod(known)) != size:
                raise ValueError(f"cannot reshape {x.type} (shape {x.type.shape}, size {size}) "
                                 f"into the requested shape {_show(items)}")
            if -1 in items and len(known) == self.ndim - 1 and int(np.prod(known)) != 0:
                rest, remainder = divmod(size, int(np.prod(known)))
                if remainder:
                    raise ValueError(f"cannot reshape {x.type} (shape {x.type.shape}, size "
                                     f"{size}) into the requested shape {_show(items)}")
                out[items.index(-1)] = rest
        return Apply(self, [x, shape], [TensorType(x.dtype, out)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x, shape = inputs
        requested = tuple(int(s) for s in shape)
        if len(requested) != self.ndim:
            raise ShapeError(f"reshape: the new shape {requested} has {len(requested)} entries, "
                             f"expected ndim={self.ndim}")
        try:
            output_storage[0][0] = np.reshape(x, requested)
        except ValueError:
            raise ValueError(f"cannot reshape an array of shape {x.shape} (size {x.size}) into "
                             f"the requested shape {requested}") from None

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor import math as tm

        ishape, _ = input_shapes
        items = vector_items(node.inputs[1], self.ndim)
        static = node.outputs[0].type.shape
        if all(s is not None for s in static):
            return [static]
        if all(static_int(i) is not None and static_int(i) >= 0 for i in items):
            return [tuple(items)]
        # The -1 entry (wherever it is) takes the size left by the others: their product is
        # negative exactly when one of them is -1.
        size = tm.mul(*ishape) if ishape else 1
        requested = tm.neg(tm.mul(*items)) if items else 1
        rest = tm.int_div(size, tm.maximum(requested, 1))
        return [tuple(s if s is not None else tm.switch(tm.eq(item, -1), rest, item)
                      for s, item in zip(static, items))]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [False]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ...tensor.shape import shape

        x = inputs[0]
        (g,) = output_grads
        if is_disconnected(g):
            return [disconnected_type()] * 2
        # the same elements in the same (C) order: reshape the gradient back
        return [Reshape(x.ndim)(g, shape(x)), disconnected_type()]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]


def _show(items: Sequence[int | None]) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in items) + \
        ("," if len(items) == 1 else "") + ")"


def _static_size(shape: Sequence[int | None]) -> int | None:
    if any(s is None for s in shape):
        return None
    return int(np.prod(shape, dtype=np.int64))


def vector_items(vec: Variable, length: int | None = None) -> list[Any]:
    """The entries of an integer vector as scalars (python ints where known), without
    computing anything at build time that the graph does not already hold."""
    items = static_vector_items(vec)
    n = length if length is not None else (len(items) if items is not None else None)
    if n is None:
        raise ValueError(f"the length of {vec} ({vec.type}) is not known; give it explicitly")
    owner = vec.owner
    from .join import MakeVector

    result: list[Any] = []
    for i in range(n):
        known = items[i] if items is not None else None
        if known is not None:
            result.append(known)
        elif owner is not None and isinstance(owner.op, MakeVector):
            result.append(owner.inputs[i])
        elif owner is not None and isinstance(owner.op, Shape):
            result.append(Shape_i(i)(owner.inputs[0]))
        else:
            result.append(vector_item(vec, i))
    return result


def vector_item(vec: Variable, i: int) -> Variable:
    """Entry ``i`` of a symbolic vector (basic indexing)."""
    from ...tensor.subtensor import getitem

    return getitem(vec, i)


class SpecifyShape(Op):
    """``x`` unchanged, after checking that each dimension in ``axes`` has the size given by
    the matching scalar input."""

    __props__ = ("axes",)
    view_map = {0: [0]}

    def __init__(self, axes: Sequence[int]):
        self.axes = tuple(int(a) for a in axes)

    def make_node(self, x: Any, *sizes: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        if len(sizes) != len(self.axes):
            raise TypeError(f"{self} takes {len(self.axes)} sizes, got {len(sizes)}")
        if any(not 0 <= a < x.ndim for a in self.axes):
            raise ValueError(f"specify_shape: axes {self.axes} do not fit {x.type}")
        sizes = [as_int_scalar(s, f"specify_shape: the size of dimension {a}")
                 for a, s in zip(self.axes, sizes)]
        shape = list(x.type.shape)
        for axis, size in zip(self.axes, sizes):
            known = static_int(size)
            if known is None:
                continue
            if shape[axis] is not None and shape[axis] != known:
                raise ValueError(f"specify_shape: {x.type} has size {shape[axis]} at axis "
                                 f"{axis}, not the specified {known}")
            shape[axis] = known
        return Apply(self, [x, *sizes], [TensorType(x.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x, *sizes = inputs
        for axis, size in zip(self.axes, sizes):
            if x.shape[axis] != int(size):
                want = ["?"] * x.ndim
                for a, s in zip(self.axes, sizes):
                    want[a] = str(int(s))
                raise ShapeError(f"specify_shape: the input has shape {x.shape}, expected "
                                 f"({', '.join(want)}) (axis {axis} differs)")
        output_storage[0][0] = x

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        shape = list(input_shapes[0])
        for axis, size in zip(self.axes, node.inputs[1:]):
            shape[axis] = size
        return [tuple(shape)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True]] + [[False]] * len(self.axes)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        (g,) = output_grads
        sizes = [disconnected_type() for _ in self.axes]
        return [disconnected_type() if is_disconnected(g) else g] + sizes

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [eval_points[0]]


class Rebroadcast(Op):
    """``x`` unchanged with some dimensions marked broadcastable (size 1, checked at run
    time) or not. ``axes`` is a tuple of ``(axis, broadcastable)`` pairs."""

    __props__ = ("axes",)
    view_map = {0: [0]}

    def __init__(self, axes: Sequence[tuple[int, bool]]):
        self.axes = tuple(sorted((int(a), bool(b)) for a, b in dict(axes).items()))

    def __str__(self) -> str:
        return "Rebroadcast{" + ",".join(f"{a}:{int(b)}" for a, b in self.axes) + "}"

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        shape = list(x.type.shape)
        for axis, broadcastable in self.axes:
            if not 0 <= axis < x.ndim:
                raise ValueError(f"{self}: {x.type} has no axis {axis}")
            if broadcastable:
                if shape[axis] not in (None, 1):
                    raise ValueError(f"{self}: axis {axis} of {x.type} has size {shape[axis]}, "
                                     f"it cannot be broadcastable")
                shape[axis] = 1
            elif shape[axis] == 1:
                shape[axis] = None
        return Apply(self, [x], [TensorType(x.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        for axis, broadcastable in self.axes:
            if broadcastable and x.shape[axis] != 1:
                raise ShapeError(f"{self}: axis {axis} is marked broadcastable but the input "
                                 f"has shape {x.shape} (size {x.shape[axis]} there, not 1)")
        output_storage[0][0] = x

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        shape = list(input_shapes[0])
        for axis, broadcastable in self.axes:
            if broadcastable:
                shape[axis] = 1
        return [tuple(shape)]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ...tensor.shape import patternbroadcast

        (g,) = output_grads
        if is_disconnected(g):
            return [disconnected_type()]
        # the identity; the gradient takes the input's broadcast pattern back
        return [patternbroadcast(g, inputs[0].broadcastable)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None if eval_points[0] is None else self(eval_points[0])]

