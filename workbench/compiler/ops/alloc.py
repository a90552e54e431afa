"""Ops that allocate new arrays: ``Alloc`` (a value broadcast into a fresh array),
``ARange``, ``Eye``, the diagonal ops, and ``Repeat``.

Every shape argument is a symbolic int64 scalar; a constant one (or a dimension read from a
variable whose static shape has it) fills the output's static shape.

>>> from workbench import tensor as T
>>> T.alloc(0.0, 2, 3).type
TensorType(float64, (2, 3))
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Apply, Constant, Op, Variable
from ..gradtypes import disconnected_type, is_disconnected
from ..types import DISCRETE_DTYPES, TensorType
from .shape import ShapeError, as_int_scalar, static_int


def sum_to_shape_of(grad: Variable, value: Variable) -> Variable:
    """``grad``, the gradient of ``value`` broadcast (as NumPy does) to ``grad``'s shape,
    summed back to ``value``'s shape: over the dimensions broadcasting added on the left,
    and over each dimension where ``value`` has size 1 and ``grad`` does not.

    A dimension whose sizes are not known before run time may or may not have been
    broadcast; there ``grad`` is reshaped to ``(m, n // m)`` (``m`` the value's size, ``n``
    the broadcast one) and summed over the second part, which is right in both cases.

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> g, v = T.dmatrix('g'), T.dmatrix('v')
    >>> sum_to_shape_of(g, v).eval({g: np.ones((2, 3)), v: np.ones((1, 3))}).tolist()
    [[2.0, 2.0, 2.0]]
    """
    from ...tensor import math as tm
    from ...tensor.reduce import sum as tsum
    from ...tensor.shape import _dim, reshape

    lead = grad.ndim - value.ndim
    if lead < 0:
        raise ValueError(f"sum_to_shape_of: {grad.type} has fewer dimensions than "
                         f"{value.type}")
    if lead:
        grad = tsum(grad, axis=tuple(range(lead)))
    vshape, gshape = value.type.shape, grad.type.shape
    sure = tuple(d for d in range(value.ndim) if vshape[d] == 1 and gshape[d] != 1)
    if sure:
        grad = tsum(grad, axis=sure, keepdims=True)
    unsure = [d for d in range(value.ndim)
              if vshape[d] is None and grad.type.shape[d] != 1 and d not in sure]
    if not unsure:
        return grad
    new_shape: list = []
    for d in range(value.ndim):
        if d in unsure:
            m, n = _dim(value, d), _dim(grad, d)
            new_shape += [m, tm.int_div(n, tm.maximum(m, 1))]
        else:
            new_shape.append(_dim(grad, d))
    split = reshape(grad, new_shape)
    # the second part of the d-th unsure dimension sits at d + (its rank among them) + 1
    return tsum(split, axis=tuple(d + k + 1 for k, d in enumerate(unsure)))


class Alloc(Op):
    """A new array of the given shape filled with ``value`` (broadcast as NumPy does: the
    value has at most as many dimensions as the shape)."""

    __props__ = ()

    def make_node(self, value: Any, *shape: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        value = as_tensor_variable(value)
        sizes = [as_int_scalar(s, f"alloc: dimension {i} of the shape")
                 for i, s in enumerate(shape)]
        if value.ndim > len(sizes):
            raise ValueError(f"alloc: the value ({value.type}) has more dimensions than the "
                             f"shape ({len(sizes)} given)")
        out: list[int | None] = []
        offset = len(sizes) - value.ndim
        for d, size in enumerate(sizes):
            known = static_int(size)
            if known is not None and known < 0:
                raise ValueError(f"alloc: negative dimension {known} at axis {d} of the shape")
            vdim = value.type.shape[d - offset] if d >= offset else 1
            if known is None and vdim not in (None, 1):
                known = vdim  # the value only broadcasts to a dimension of its own size
            if known is not None and vdim not in (None, 1, known):
                raise ValueError(f"alloc: cannot broadcast the value ({value.type}) to a shape "
                                 f"of size {known} at axis {d}")
            out.append(known)
        return Apply(self, [value, *sizes], [TensorType(value.dtype, out)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        value, *shape = inputs
        shape = tuple(int(s) for s in shape)
        if any(s < 0 for s in shape):
            raise ShapeError(f"alloc: negative dimension in the shape {shape}")
        offset = len(shape) - value.ndim
        for d, vdim in enumerate(value.shape):
            if vdim not in (1, shape[d + offset]):
                raise ShapeError(f"alloc: cannot broadcast a value of shape {value.shape} to "
                                 f"the shape {shape}")
        out = np.empty(shape, dtype=node.outputs[0].type.dtype)
        out[...] = value
        output_storage[0][0] = out

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        static = node.outputs[0].type.shape
        return [tuple(s if s is not None else v for s, v in zip(static, node.inputs[1:]))]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        value, *shape = inputs
        (g,) = output_grads
        sizes = [disconnected_type() for _ in shape]
        if is_disconnected(g):
            return [disconnected_type()] + sizes
        # each element of the value was copied to every position it broadcast to
        return [sum_to_shape_of(g, value)] + sizes

    def R_op(self, inputs: list, eval_points: list) -> list:
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


class ARange(Op):
    """``numpy.arange(start, stop, step)`` of dtype ``dtype`` for symbolic scalar bounds."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str):
        self.dtype = np.dtype(dtype).name

    def make_node(self, start: Any, stop: Any, step: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        args = [as_tensor_variable(a) for a in (start, stop, step)]
        for name, a in zip(("start", "stop", "step"), args):
            if a.ndim != 0:
                raise TypeError(f"arange: {name} must be a scalar, got {a.type}")
            if a.dtype.startswith("complex") or a.dtype == "bool":
                raise TypeError(f"arange: {name} must be a real number, got dtype {a.dtype}")
        length = None
        if all(isinstance(a, Constant) for a in args):
            lo, hi, st = (np.asarray(a.data) for a in args)
            if st == 0:
                raise ValueError("arange: step must not be zero")
            length = _arange_length(lo, hi, st)
        return Apply(self, args, [TensorType(self.dtype, (length,))()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        start, stop, step = inputs
        if step == 0:
            raise ValueError("arange: step must not be zero")
        output_storage[0][0] = np.arange(start, stop, step, dtype=self.dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor import math as tm
        from ...tensor.basic import cast

        static = node.outputs[0].type.shape[0]
        if static is not None:
            return [(static,)]
        start, stop, step = node.inputs
        if all(v.dtype[:3] in ("int", "uin") for v in node.inputs):
            start, stop, step = (cast(v, "int64") for v in node.inputs)
            # ceil((stop - start) / step) in exact integer arithmetic
            length = tm.neg(tm.int_div(tm.sub(start, stop), step))
        else:
            # NumPy computes the length in double precision
            start, stop, step = (cast(v, "float64") for v in node.inputs)
            length = cast(tm.ceil(tm.true_div(tm.sub(stop, start), step)), "int64")
        return [(tm.maximum(length, 0),)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # Integer ranges have no gradient; ``stop`` only sets the length (as in Theano).
        connected = self.dtype not in DISCRETE_DTYPES
        return [[connected], [False], [connected]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ...tensor.reduce import sum as tsum
        from ...tensor.shape import _dim

        (g,) = output_grads
        if self.dtype in DISCRETE_DTYPES or is_disconnected(g):
            return [disconnected_type()] * 3
        # out[i] = start + i * step
        positions = ARange(self.dtype)(0, _dim(outputs[0], 0), 1)
        return [tsum(g), disconnected_type(), tsum(g * positions)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        from ...tensor.alloc import zeros_like
        from ...tensor.shape import _dim

        start, _, step = eval_points
        if self.dtype in DISCRETE_DTYPES or (start is None and step is None):
            return [None]
        out = self.make_node(*inputs).outputs[0]
        tangent = zeros_like(out) if start is None else start + zeros_like(out)
        if step is not None:
            tangent = tangent + ARange(self.dtype)(0, _dim(out, 0), 1) * step
        return [tangent]


def _arange_length(start: np.ndarray, stop: np.ndarray, step: np.ndarray) -> int:
    """The length of ``numpy.arange(start, stop, step)``, computed as NumPy does."""
    if any(v.dtype.kind not in "iu" for v in (start, stop, step)):
        start, stop, step = (v.astype("float64") for v in (start, stop, step))
    with np.errstate(all="ignore"):
        span = np.true_divide(np.subtract(stop, start), step)
    if not np.isfinite(span):
        raise ValueError(f"arange: bounds ({start}, {stop}, {step}) give no finite length")
    return max(0, int(np.ceil(span)))


class Eye(Op):
    """An ``n`` by ``m`` matrix of ``dtype``, ones on diagonal ``k`` and zeros elsewhere."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str):
        self.dtype = np.dtype(dtype).name

    def make_node(self, n: Any, m: Any, k: Any) -> Apply:
        n = as_int_scalar(n, "eye: n")
        m = as_int_scalar(m, "eye: m")
        k = as_int_scalar(k, "eye: k")
        shape = (static_int(n), static_int(m))
        for name, s in zip("nm", shape):
            if s is not None and s < 0:
                raise ValueError(f"eye: {name} must not be negative, got {s}")
        return Apply(self, [n, m, k], [TensorType(self.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        n, m, k = (int(i) for i in inputs)
        if n < 0 or m < 0:
            raise ValueError(f"eye: the shape ({n}, {m}) has a negative dimension")
        output_storage[0][0] = np.eye(n, m, k, dtype=self.dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        static = node.outputs[0].type.shape
        return [tuple(s if s is not None else v for s, v in zip(static, node.inputs[:2]))]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # the integer shape and offset only say where the ones go
        return [[False], [False], [False]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        return [disconnected_type()] * 3


class ExtractDiag(Op):
    """``numpy.diagonal(x, offset, axis1, axis2)``, as a new array: the two axes are removed
    and the diagonal becomes the last one."""

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1):
        self.offset, self.axis1, self.axis2 = int(offset), int(axis1), int(axis2)

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise ValueError(f"diagonal: needs at least 2 dimensions, got {x.type}")
        for axis in (self.axis1, self.axis2):
            if not 0 <= axis < x.ndim:
                raise ValueError(f"diagonal: axis {axis} is out of range for {x.type}")
        if self.axis1 == self.axis2:
            raise ValueError(f"diagonal: axis1 and axis2 must differ, both are {self.axis1}")
        rest = [s for d, s in enumerate(x.type.shape) if d not in (self.axis1, self.axis2)]
        d1, d2 = x.type.shape[self.axis1], x.type.shape[self.axis2]
        length = None
        if d1 is not None and d2 is not None:
            length = self._length(d1, d2)
        return Apply(self, [x], [TensorType(x.dtype, rest + [length])()])

    def _length(self, d1: Any, d2: Any) -> Any:
        from ...tensor import math as tm

        k = self.offset
        a, b = d1 - max(0, -k), d2 - max(0, k)
        if all(isinstance(v, int) for v in (a, b)):
            return max(0, min(a, b))
        return tm.maximum(tm.minimum(a, b), 0)

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = np.diagonal(inputs[0], self.offset, self.axis1,
                                           self.axis2).copy()

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        (shape,) = input_shapes
        rest = [s for d, s in enumerate(shape) if d not in (self.axis1, self.axis2)]
        static = node.outputs[0].type.shape[-1]
        length = static if static is not None else self._length(shape[self.axis1],
                                                                shape[self.axis2])
        return [tuple(rest) + (length,)]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        (g,) = output_grads
        if is_disconnected(g):
            return [disconnected_type()]
        return [diagonal_scatter(inputs[0], g, self.offset, self.axis1, self.axis2)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None if eval_points[0] is None else self(eval_points[0])]


def diagonal_scatter(x: Variable, diag: Variable, offset: int, axis1: int, axis2: int
                     ) -> Variable:
    """Zeros like ``x`` with ``diag`` (laid out as :class:`ExtractDiag` gives it: the
    other axes in order, then the diagonal) on the diagonal ``offset`` of ``axis1`` and
    ``axis2``; the transpose of ``ExtractDiag``, for any shape.

    >>> from workbench import tensor as T
    >>> x, d = T.dmatrix('x'), T.dvector('d')
    >>> diagonal_scatter(x, d, 1, 0, 1).eval({x: [[0.0] * 3] * 2, d: [1.0, 2.0]}).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]
    """
    from ...tensor.alloc import zeros_like
    from ...tensor.shape import _dim
    from ...tensor.subtensor import inc_subtensor

    steps = ARange("int64")(0, _dim(diag, diag.ndim - 1), 1)
    index: list = [slice(None)] * x.ndim
    index[axis1] = steps - offset if offset < 0 else steps
    index[axis2] = steps + offset if offset > 0 else steps
    # NumPy puts the indexed (diagonal) dimension where the two advanced indices stand when
    # they are neighbours, else first
    where = min(axis1, axis2) if abs(axis1 - axis2) == 1 else 0
    rest = list(range(diag.ndim - 1))
    order = rest[:where] + [diag.ndim - 1] + rest[where:]
    if order != list(range(diag.ndim)):
        diag = diag.dimshuffle(*order)
    return inc_subtensor(zeros_like(x)[tuple(index)], diag)


class AllocDiag(Op):
    """``numpy.diag(v, offset)`` for a vector ``v``: a square matrix with ``v`` on the
    diagonal ``offset``."""

    __props__ = ("offset",)

    def __init__(self, offset: int = 0):
        self.offset = int(offset)

    def make_node(self, v: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        v = as_tensor_variable(v)
        if v.ndim != 1:
            raise ValueError(f"AllocDiag: needs a vector, got {v.type}")
        n = v.type.shape[0]
        size = None if n is None else n + abs(self.offset)
        return Apply(self, [v], [TensorType(v.dtype, (size, size))()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = np.diag(inputs[0], self.offset)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor import math as tm

        size = tm.add(input_shapes[0][0], abs(self.offset))
        return [(size, size)]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        (g,) = output_grads
        if is_disconnected(g):
            return [disconnected_type()]
        return [ExtractDiag(self.offset, 0, 1)(g)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None if eval_points[0] is None else self(eval_points[0])]


class Repeat(Op):
    """``numpy.repeat(x, repeats, axis)``: ``repeats`` is an int scalar or a vector with one
    count per element along ``axis``; ``axis=None`` repeats the flattened array."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None = None):
        self.axis = None if axis is None else int(axis)

    def make_node(self, x: Any, repeats: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable, cast

        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        if repeats.ndim > 1 or repeats.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"repeat: repeats must be an integer scalar or vector, got "
                            f"{repeats.type}")
        repeats = cast(repeats, "int64")
        if self.axis is not None and not 0 <= self.axis < x.ndim:
            raise ValueError(f"repeat: axis {self.axis} is out of range for {x.type}")
        along = _static_size(x.type.shape) if self.axis is None else x.type.shape[self.axis]
        length = None
        if isinstance(repeats, Constant):
            counts = np.asarray(repeats.data)
            if np.any(counts < 0):
                raise ValueError(f"repeat: negative count in repeats {counts.tolist()}")
            if counts.ndim == 1 and counts.size != 1:
                if along is not None and counts.size != along:
                    raise ValueError(f"repeat: {counts.size} counts given for {along} "
                                     f"elements along axis {self.axis} of {x.type}")
                length = int(counts.sum())
            elif along is not None:
                length = along * int(counts.reshape(-1)[0])
        if self.axis is None:
            shape = [length]
        else:
            shape = list(x.type.shape)
            shape[self.axis] = length
        return Apply(self, [x, repeats], [TensorType(x.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x, repeats = inputs
        along = x.size if self.axis is None else x.shape[self.axis]
        if repeats.ndim == 1 and repeats.size not in (1, along):
            where = "the flattened input" if self.axis is None else f"axis {self.axis}"
            raise ShapeError(f"repeat: {repeats.size} counts given for {along} elements along "
                             f"{where} (input shape {x.shape})")
        if np.any(repeats < 0):
            raise ValueError(f"repeat: negative count in repeats {repeats.tolist()}")
        output_storage[0][0] = np.repeat(x, repeats, axis=self.axis)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor import math as tm

        static = node.outputs[0].type.shape
        (xshape, _) = input_shapes
        repeats = node.inputs[1]
        along = (tm.mul(*xshape) if xshape else 1) if self.axis is None else xshape[self.axis]
        if repeats.ndim == 0:
            length = tm.mul(along, repeats)
        else:
            # a single count applies to every element, as in NumPy
            total = sum_last_axis(repeats)
            length = tm.switch(tm.eq(input_shapes[1][0], 1), tm.mul(along, total), total)
        if self.axis is None:
            return [(static[0] if static[0] is not None else length,)]
        shape = list(xshape)
        shape[self.axis] = static[self.axis] if static[self.axis] is not None else length
        return [tuple(shape)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [False]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        x, repeats = inputs
        (g,) = output_grads
        if is_disconnected(g):
            return [disconnected_type()] * 2
        return [unrepeat(x, repeats, g, self.axis), disconnected_type()]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]


def unrepeat(x: Variable, repeats: Variable, g: Variable, axis: int | None) -> Variable:
    """The gradient of ``repeat(x, repeats, axis)``: each element of ``x`` gets the sum of
    ``g`` over its copies.

    >>> from workbench import tensor as T
    >>> x, g = T.dvector('x'), T.dvector('g')
    >>> r = T.constant([1, 2])
    >>> unrepeat(x, r, g, 0).eval({x: [0.0, 0.0], g: [1.0, 2.0, 3.0]}).tolist()
    [1.0, 5.0]
    """
    from ...tensor.alloc import zeros_like
    from ...tensor.reduce import sum as tsum
    from ...tensor.shape import _dim, _dims, flatten, reshape
    from ...tensor.subtensor import inc_subtensor

    if axis is None:
        return reshape(unrepeat(flatten(x), repeats, g, 0), _dims(x))
    if repeats.ndim == 0:
        # the copies of element i are the run i*r .. i*r + r - 1: sum each run
        dims = _dims(g)
        dims[axis:axis + 1] = [_dim(x, axis), repeats]
        return tsum(reshape(g, dims), axis=axis + 1)
    # one count per element (or a single count): result position p came from source[p]
    source = Repeat(None)(ARange("int64")(0, _dim(x, axis), 1), repeats)
    return inc_subtensor(zeros_like(x)[(slice(None),) * axis + (source,)], g)


def _static_size(shape: tuple) -> int | None:
    return None if None in shape else int(np.prod(shape, dtype=np.int64))


def sum_last_axis(x: Any) -> Any:
    """The sum over the last axis, with NumPy's dtype (small ints add up in int64)."""
    from ...tensor import sum as sum_

    return sum_(x, axis=-1)
