"""Elementwise ops: a scalar op lifted over tensors, and DimShuffle.

Inputs of fewer dimensions are padded on the left with broadcastable dimensions, as NumPy
broadcasting does; the output dtype is the one NumPy computes for the input dtypes, with
Python number literals taking part as NumPy 2's "weak" scalars (``float32_vector * 2.0`` stays
float32).

>>> from workbench import tensor as T
>>> (T.fvector() * 2.0).dtype, (T.ivector() / 2).dtype
('float32', 'float64')
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph import Apply, Constant, Op, Variable
from ..types import TensorType
from .scalar import ScalarOp


def broadcast_static_shapes(shapes: Sequence[tuple[int | None, ...]], where: str = ""
                            ) -> tuple[int | None, ...]:
    """Combine static shapes of equal length as broadcasting does; raise on a sure mismatch."""
    out: list[int | None] = []
    for axis, dims in enumerate(zip(*shapes)):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(
                f"{where}shapes {' and '.join(map(str, shapes))} cannot be broadcast together "
                f"(axis {axis} has sizes {sorted(known)})")
        if known:
            out.append(known.pop())
        elif all(d == 1 for d in dims):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


class Elemwise(Op):
    """Apply ``scalar_op`` elementwise with broadcasting.

    ``inplace_pattern`` maps an output index to the input it overwrites.
    """

    __props__ = ("scalar_op", "inplace_items")

    def __init__(self, scalar_op: ScalarOp, inplace_pattern: dict[int, int] | None = None,
                 name: str | None = None):
        self.scalar_op = scalar_op
        self.inplace_pattern = dict(inplace_pattern or {})
        self.inplace_items = tuple(sorted(self.inplace_pattern.items()))
        self.destroy_map = {o: [i] for o, i in self.inplace_pattern.items()}
        self.name = name

    def __str__(self) -> str:
        if self.name:
            return self.name
        if self.inplace_pattern:
            return f"Elemwise{{{self.scalar_op},inplace}}"
        return f"Elemwise{{{self.scalar_op}}}"

    def make_node(self, *inputs: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        if len(inputs) != self.scalar_op.nin:
            raise TypeError(f"{self} takes {self.scalar_op.nin} inputs, got {len(inputs)}")
        inputs = [as_tensor_variable(i) for i in inputs]
        inputs = _unify_weak_constants(inputs, self.scalar_op)
        ndim = max(i.ndim for i in inputs)
        padded = [pad_left(i, ndim) for i in inputs]
        shape = broadcast_static_shapes([i.type.shape for i in padded], where=f"{self}: ")
        dtype = self.scalar_op.output_dtype(*[i.dtype for i in padded])
        for out_i, in_i in self.inplace_pattern.items():
            if padded[in_i].dtype != dtype or padded[in_i].type.shape != shape:
                raise TypeError(f"{self}: input {in_i} cannot hold output {out_i} in place")
        return Apply(self, padded, [TensorType(dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        if self.inplace_pattern:
            target = inputs[self.inplace_pattern[0]]
            result = self.scalar_op.impl(*inputs)
            np.copyto(target, result, casting="unsafe")
            output_storage[0][0] = target
            return
        result = self.scalar_op.impl(*inputs)
        dtype = node.outputs[0].type.numpy_dtype
        # ufuncs return NumPy scalars for 0-d inputs; outputs are always arrays
        if type(result) is not np.ndarray or result.dtype != dtype:
            result = np.asarray(result, dtype=dtype)
        output_storage[0][0] = result

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor.shape import broadcast_shape_symbolic

        return [broadcast_shape_symbolic(input_shapes, node.outputs[0].type.shape)]


def pad_left(var: Variable, ndim: int) -> Variable:
    """``var`` with broadcastable dimensions added on the left up to ``ndim``."""
    missing = ndim - var.ndim
    if missing <= 0:
        return var
    if isinstance(var, Constant):
        # Fold at build time: a constant padded by a DimShuffle is just another constant.
        from ...tensor.basic import constant

        data = var.data.reshape((1,) * missing + var.data.shape)
        return constant(data, weak=getattr(var, "weak", False),
                        py_value=getattr(var, "py_value", None))
    return DimShuffle(var.type.broadcastable, ["x"] * missing + list(range(var.ndim)))(var)


def _unify_weak_constants(inputs: list[Variable], scalar_op: ScalarOp | None = None
                          ) -> list[Variable]:
    """Give Python-literal constants the dtype NumPy 2 would give them next to the others."""
    from ...tensor.variable import TensorConstant

    weak = [isinstance(i, TensorConstant) and i.weak for i in inputs]
    if not any(weak) or all(weak):
        return inputs
    strong_dtypes = [i.dtype for i, w in zip(inputs, weak) if not w]
    result = []
    for var, is_weak in zip(inputs, weak):
        if is_weak:
            value = _weak_value(var)
            try:
                dtype = np.result_type(*strong_dtypes, value).name
            except (OverflowError, TypeError, ValueError):
                dtype = np.result_type(*strong_dtypes, var.dtype).name
            if dtype == var.dtype:
                pass
            elif not _out_of_range(value, dtype):
                var = _retyped_weak_constant(var, value, dtype)
            elif _numpy_refuses(scalar_op, inputs, weak):
                # NumPy 2 refuses this too (``int8_array + 1000``) rather than wrapping around.
                raise OverflowError(
                    f"Python integer {value} out of bounds for {dtype}, the dtype it takes next "
                    f"to a tensor of dtype {', '.join(strong_dtypes)}; cast the tensor to a "
                    f"wider dtype or give the constant one (T.constant({value}, dtype='int64'))")
            # else: NumPy accepts it (comparisons, true_divide, float loops): keep it as is
        result.append(var)
    return result


def _weak_value(var: Variable) -> Any:
    """The Python number a weak constant stands for (its data when it holds one value)."""
    if var.py_value is not None:
        return var.py_value
    return var.data.item() if var.data.size == 1 else None


def _numpy_refuses(scalar_op: ScalarOp | None, inputs: list[Variable], weak: list[bool]
                   ) -> bool:
    """Whether NumPy raises OverflowError applying the op to these dtypes and literals."""
    if scalar_op is None:
        return True
    args = [_weak_value(v) if w else np.ones(1, dtype=v.dtype) for v, w in zip(inputs, weak)]
    with np.errstate(all="ignore"):
        try:
            scalar_op.impl(*args)
        except OverflowError:
            return True
        except Exception:  # noqa: BLE001 - other refusals are reported by type inference
            return False
    return False


def _out_of_range(value: Any, dtype: str) -> bool:
    target = np.dtype(dtype)
    if target.kind not in "iu" or not isinstance(value, int) or isinstance(value, bool):
        return False
    info = np.iinfo(target)
    return not info.min <= value <= info.max


def _retyped_weak_constant(var: Variable, value: Any, dtype: str) -> Variable:
    """The weak constant ``var`` (holding the Python number ``value``) as ``dtype``."""
    from ...tensor.basic import constant

    target = np.dtype(dtype)
    with np.errstate(all="ignore"):
        data = np.asarray(value, dtype=target).reshape(var.data.shape)
    return constant(data, weak=True, py_value=value)


class DimShuffle(Op):
    """Reorder, insert (``'x'``) or drop (broadcastable only) dimensions; a view.

    >>> from workbench import tensor as T
    >>> T.matrix().dimshuffle(1, 'x', 0).broadcastable
    (False, True, False)
    """

    __props__ = ("input_broadcastable", "new_order")
    view_map = {0: [0]}

    def __init__(self, input_broadcastable: Sequence[bool], new_order: Sequence[int | str],
                 inplace: bool = True):
        self.input_broadcastable = tuple(bool(b) for b in input_broadcastable)
        self.new_order = tuple(new_order)
        nd = len(self.input_broadcastable)
        kept = [d for d in self.new_order if d != "x"]
        for d in kept:
            if not isinstance(d, (int, np.integer)) or not 0 <= d < nd:
                raise ValueError(f"dimshuffle{self.new_order}: {d!r} is not a dimension of a "
                                 f"{nd}-d input")
        if len(set(kept)) != len(kept):
            raise ValueError(f"dimshuffle{self.new_order} repeats a dimension")
        self.drop = [d for d in range(nd) if d not in kept]
        self.shuffle = kept
        self.augment = [i for i, d in enumerate(self.new_order) if d == "x"]

    def __str__(self) -> str:
        if self.new_order == tuple(range(len(self.input_broadcastable)))[::-1] and \
                len(self.new_order) > 1:
            return "Transpose"
        return f"DimShuffle{{{','.join(str(d) for d in self.new_order)}}}"

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        if x.ndim != len(self.input_broadcastable):
            raise TypeError(f"{self} expects a {len(self.input_broadcastable)}-d input, got "
                            f"{x.type}")
        for d in self.drop:
            if x.type.shape[d] not in (1,) and not self.input_broadcastable[d]:
                raise ValueError(
                    f"{self}: cannot drop dimension {d} of {x.type}, it is not broadcastable")
        shape = tuple(1 if d == "x" else x.type.shape[d] for d in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        for d in self.drop:
            if x.shape[d] != 1:
                raise ValueError(f"{self}: dimension {d} has size {x.shape[d]}, not 1")
        res = np.transpose(x, self.shuffle) if self.shuffle != sorted(self.shuffle) else x
        if self.drop:
            res = res.reshape([x.shape[d] for d in self.shuffle])
        if self.augment:
            res = np.expand_dims(res, self.augment)
        output_storage[0][0] = res if isinstance(res, np.ndarray) else np.asarray(res)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        (ishape,) = input_shapes
        return [tuple(1 if d == "x" else ishape[d] for d in self.new_order)]
