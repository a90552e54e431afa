"""Reductions: one op family (:class:`CAReduce`) that folds a commutative, associative scalar op
over some axes, plus :class:`Argmax`/:class:`Argmin`.

``Sum``, ``Prod``, ``Max``, ``Min``, ``All`` and ``Any`` are ``CAReduce`` with the scalar op
fixed (Theano's names, so rewrites can match them by class). The output dtype is the one
NumPy's ``ufunc.reduce`` gives (the sum of int8 is int64, of uint8 uint64, of float32
float32); sums and products accumulate in a wider ``acc_dtype`` as Theano does (float32 in
float64).

>>> from workbench import tensor as T
>>> from workbench.compiler.ops.reduce import Sum
>>> x = T.bmatrix('x')
>>> y = Sum(axis=(0,))(x)
>>> y.type, y.owner.op.acc_dtype
(TensorType(int64, vector), 'int64')
"""
from __future__ import annotations

import copy
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from ..graph import Apply, Op
from ..types import DISCRETE_DTYPES, TensorType
from . import scalar
from .scalar import ScalarOp

#: Theano's accumulator for sums and products: wide enough not to overflow or lose precision
_WIDE_ACC = {"bool": "int64", "int8": "int64", "int16": "int64", "int32": "int64",
             "uint8": "uint64", "uint16": "uint64", "uint32": "uint64",
             "float16": "float32", "float32": "float64", "complex64": "complex128"}


def normalize_op_axis(axis: int | Iterable[int] | None) -> tuple[int, ...] | None:
    """An op's ``axis`` parameter in canonical form: None, or a sorted tuple of distinct
    non-negative ints (negative axes are resolved by the user functions, which know ndim)."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)):
        axis = (axis,)
    axes = tuple(axis)
    for a in axes:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)) or a < 0:
            raise ValueError(f"axis must be None or non-negative ints, got {axis!r}")
    if len(set(axes)) != len(axes):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(sorted(int(a) for a in axes))


def _check_axes_in_range(op: Op, axis: tuple[int, ...] | None, ndim: int) -> None:
    if axis is not None and any(a >= ndim for a in axis):
        raise ValueError(f"{op}: axis {axis} is out of range for an input of ndim {ndim}")


def _reduced_axes(axis: tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim)) if axis is None else axis


@lru_cache(maxsize=1024)
def _reduce_out_dtype(ufunc: np.ufunc, dtype: str) -> str:
    return np.asarray(ufunc.reduce(np.ones(1, dtype=dtype))).dtype.name


class CAReduce(Op):
    """Fold ``scalar_op`` (add, mul, maximum, minimum, and_, or_, ...) over ``axis``.

    ``axis`` None reduces every axis. ``dtype`` is the output dtype and ``acc_dtype`` the
    dtype the reduction runs in; left as None they are resolved from the input dtype when a
    node is made (the node's op then carries the concrete dtypes, so equal work merges).

    >>> from workbench import tensor as T
    >>> from workbench.compiler.ops import scalar
    >>> x = T.imatrix('x')
    >>> CAReduce(scalar.maximum, axis=1)(x).eval({x: [[1, 5], [7, 2]]}).tolist()
    [5, 7]
    """

    __props__ = ("scalar_op", "axis", "dtype", "acc_dtype")

    def __init__(self, scalar_op: ScalarOp, axis: int | Sequence[int] | None = None,
                 dtype: object = None, acc_dtype: object = None):
        if not isinstance(scalar_op, ScalarOp) or scalar_op.nin != 2 or \
                not isinstance(scalar_op.impl, np.ufunc):
            raise TypeError(f"CAReduce needs a binary scalar op backed by a NumPy ufunc (add, "
                            f"mul, maximum, minimum, and_, or_, xor), got {scalar_op!r}")
        self.scalar_op = scalar_op
        self.axis = normalize_op_axis(axis)
        self.dtype = None if dtype is None else np.dtype(dtype).name
        self.acc_dtype = None if acc_dtype is None else np.dtype(acc_dtype).name

    @property
    def ufunc(self) -> np.ufunc:
        return self.scalar_op.impl

    def __str__(self) -> str:
        name = type(self).__name__
        if name == "CAReduce":
            name = f"CAReduce{{{self.scalar_op}}}"
        return name if self.axis is None else f"{name}{{axis={self.axis}}}"

    __repr__ = __str__

    # -- dtypes -------------------------------------------------------------------------
    def _default_acc_dtype(self, in_dtype: str, out_dtype: str) -> str:
        if self.scalar_op in (scalar.add, scalar.mul):
            acc = _WIDE_ACC.get(in_dtype, in_dtype)
            # an explicit output dtype wider than the default accumulator widens it
            return np.result_type(acc, out_dtype).name
        return in_dtype

    def resolve_dtypes(self, in_dtype: str) -> tuple[str, str]:
        """The (output dtype, accumulator dtype) for an input of ``in_dtype``.

        >>> Sum().resolve_dtypes('uint8'), Max().resolve_dtypes('float32')
        (('uint64', 'uint64'), ('float32', 'float32'))
        """
        out = self.dtype or _reduce_out_dtype(self.ufunc, in_dtype)
        acc = self.acc_dtype or self._default_acc_dtype(in_dtype, out)
        discrete_in_continuous_acc = in_dtype in DISCRETE_DTYPES and acc not in DISCRETE_DTYPES
        if not (np.can_cast(in_dtype, acc, casting="safe") or discrete_in_continuous_acc):
            raise TypeError(
                f"{self}: cannot reduce an input of dtype {in_dtype} with acc_dtype {acc}: "
                f"precision would be lost. Leave acc_dtype unset, use one at least as precise "
                f"as {in_dtype}, or pass dtype= to cast the result instead")
        return out, acc

    # -- the op contract ----------------------------------------------------------------
    def prepare_input(self, x: object):
        from ...tensor.basic import as_tensor_variable

        return as_tensor_variable(x)

    def make_node(self, x: object) -> Apply:
        x = self.prepare_input(x)
        _check_axes_in_range(self, self.axis, x.ndim)
        out_dtype, acc_dtype = self.resolve_dtypes(x.dtype)
        if "dtype" in self.__props__ and (self.dtype, self.acc_dtype) != (out_dtype, acc_dtype):
            concrete = copy.copy(self)
            concrete.dtype, concrete.acc_dtype = out_dtype, acc_dtype
            return concrete.make_node(x)
        axes = _reduced_axes(self.axis, x.ndim)
        shape = tuple(s for i, s in enumerate(x.type.shape) if i not in axes)
        return Apply(self, [x], [TensorType(out_dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        out_dtype = node.outputs[0].dtype
        _, acc_dtype = self.resolve_dtypes(node.inputs[0].dtype)
        axis = self.axis
        try:
            if self.ufunc in (np.add, np.multiply):
                result = self.ufunc.reduce(x, axis=axis, dtype=acc_dtype)
            else:
                result = self.ufunc.reduce(x.astype(acc_dtype, copy=False), axis=axis)
        except ValueError as exc:
            if self.ufunc.identity is None and x.size == 0:
                raise ValueError(
                    f"{self}: cannot reduce an empty axis of an input of shape {x.shape} with "
                    f"{self.scalar_op}, which has no identity (NumPy raises too)") from None
            raise ValueError(f"{self}: {exc}") from None
        output_storage[0][0] = np.asarray(result, dtype=out_dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        (shape,) = input_shapes
        axes = _reduced_axes(self.axis, len(shape))
        return [tuple(s for i, s in enumerate(shape) if i not in axes)]

    # -- differentiation ----------------------------------------------------------------
    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # logical/bitwise folds give bool or int: no gradient flows through them (Theano)
        return [[self.scalar_op not in _LOGICAL_OPS]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """Sum: the output gradient broadcast back over the reduced axes; Prod: the product
        of the other elements (exact with zeros, see :func:`_prod_grad`); Max/Min: the
        output gradient to every element equal to the extremum (Theano 1.0: ties all get
        the full gradient). Other scalar ops: not implemented."""
        from ..gradtypes import disconnected_type, grad_not_implemented

        (x,), (out,), (g,) = inputs, outputs, output_grads
        if self.scalar_op in _LOGICAL_OPS:
            return [disconnected_type()]
        axes = _reduced_axes(self.axis, x.ndim)
        if self.scalar_op == scalar.add:
            return [_sum_grad(x, g, axes)]
        if self.scalar_op == scalar.mul:
            if getattr(self, "no_zeros_in_input", False):
                # the caller promised no zeros: Theano's p / x
                return [_expand(g, axes) * _expand(out, axes) / x]
            return [_prod_grad(x, g, axes)]
        if self.scalar_op in (scalar.maximum, scalar.minimum):
            return [_extremum_grad(x, out, g, axes)]
        return [grad_not_implemented(self, 0, x, f"a reduction with {self.scalar_op} has no "
                                     f"gradient; only add, mul, maximum and minimum do")]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """Sums are linear: the tangent of the sum is the sum of the tangent. Other folds
        return NotImplemented (grad.Rop then builds J·v from L_op)."""
        if self.scalar_op != scalar.add:
            return NotImplemented
        (tangent,) = eval_points
        if tangent is None:
            return [None]
        from ...tensor.basic import cast

        out = Sum(axis=self.axis)(tangent)
        return [out if self.dtype is None or out.dtype == self.dtype else cast(out, self.dtype)]


#: folds whose result is bool/int by nature: disconnected for the gradient
_LOGICAL_OPS = (scalar.and_, scalar.or_, scalar.xor)


def _expand(var, axes: tuple[int, ...]):
    """A reduction's output (or its gradient) with each reduced axis put back as a
    broadcastable dimension, so that it lines up with the input."""
    from ...tensor.shape import expand_dims

    return expand_dims(var, axes) if axes else var


def _shape_of(x) -> list:
    """``x``'s dimensions: ints where the static shape knows them, else symbolic."""
    from ...tensor.shape import shape_i

    return [s if s is not None else shape_i(x, i) for i, s in enumerate(x.type.shape)]


def _sum_grad(x, g, axes: tuple[int, ...]):
    from ...tensor.alloc import alloc

    return alloc(_expand(g, axes), *_shape_of(x))


def _extremum_grad(x, out, g, axes: tuple[int, ...]):
    from ...tensor.math import eq

    # every element equal to the max (min) gets the whole gradient, as Theano 1.0 does
    return eq(x, _expand(out, axes)) * _expand(g, axes)


def _prod_grad(x, g, axes: tuple[int, ...]):
    """The gradient of ``prod(x, axes)``: each element gets the product of the other
    elements of its group, computed without dividing by zero.

    With ``x_nz`` = x with zeros replaced by ones, ``p_nz`` = its product over the group and
    ``nz`` = the number of zeros in the group:

    - no zero: ``p_nz / x_nz`` (= p / x; no division by zero);
    - one zero: ``p_nz`` at the zero, 0 elsewhere;
    - two or more zeros: 0 everywhere.

    The zeros of the one- and two-zero cases are written ``z * p_nz / x_nz`` and
    ``(z - x) * p_nz``, where ``z`` (the sum of the group's zero entries) is 0 in value but
    carries their derivative: the gradient of this gradient (the Hessian) is then exact
    too, at zeros included.
    """
    from ...tensor.math import eq, switch
    from ...tensor.reduce import prod
    from ...tensor.reduce import sum as tsum

    is_zero = eq(x, 0)
    n_zeros = tsum(is_zero, axis=axes, keepdims=True)
    x_nz = switch(is_zero, 1, x)
    p_nz = prod(x_nz, axis=axes, keepdims=True, no_zeros_in_input=True)
    z = tsum(switch(is_zero, x, 0), axis=axes, keepdims=True)
    one_zero = switch(is_zero, p_nz, z * p_nz / x_nz)
    two_zeros = switch(is_zero, (z - x) * p_nz, 0)
    factor = switch(eq(n_zeros, 0), p_nz / x_nz,
                    switch(eq(n_zeros, 1), one_zero,
                           switch(eq(n_zeros, 2), two_zeros, 0)))
    return _expand(g, axes) * factor


class Sum(CAReduce):
    """The sum over ``axis`` (all axes when None).

    >>> from workbench import tensor as T
    >>> x = T.fvector('x')
    >>> Sum()(x).eval({x: [1, 2, 3]}).item()
    6.0
    """

    __props__ = ("axis", "dtype", "acc_dtype")

    def __init__(self, axis: int | Sequence[int] | None = None, dtype: object = None,
                 acc_dtype: object = None):
        super().__init__(scalar.add, axis, dtype, acc_dtype)


class Prod(CAReduce):
    """The product over ``axis``. ``no_zeros_in_input`` is a promise the gradient may use.

    >>> from workbench import tensor as T
    >>> x = T.lvector('x')
    >>> Prod()(x).eval({x: [2, 3, 4]}).item()
    24
    """

    __props__ = ("axis", "dtype", "acc_dtype", "no_zeros_in_input")

    def __init__(self, axis: int | Sequence[int] | None = None, dtype: object = None,
                 acc_dtype: object = None, no_zeros_in_input: bool = False):
        super().__init__(scalar.mul, axis, dtype, acc_dtype)
        self.no_zeros_in_input = bool(no_zeros_in_input)


class Max(CAReduce):
    """The maximum over ``axis``; the dtype is kept. An empty axis raises as in NumPy.

    >>> from workbench import tensor as T
    >>> x = T.bvector('x')
    >>> Max()(x).eval({x: [3, -1, 7]}).item()
    7
    """

    __props__ = ("axis",)

    def __init__(self, axis: int | Sequence[int] | None = None):
        super().__init__(scalar.maximum, axis)


class Min(CAReduce):
    """The minimum over ``axis``; the dtype is kept. An empty axis raises as in NumPy.

    >>> from workbench import tensor as T
    >>> x = T.bvector('x')
    >>> Min()(x).eval({x: [3, -1, 7]}).item()
    -1
    """

    __props__ = ("axis",)

    def __init__(self, axis: int | Sequence[int] | None = None):
        super().__init__(scalar.minimum, axis)


class _BoolReduce(CAReduce):
    """A logical reduction: a non-bool input is first compared with zero, as ``np.all``."""

    __props__ = ("axis",)

    def prepare_input(self, x: object):
        from ...tensor.basic import as_tensor_variable
        from ...tensor.math import neq

        x = as_tensor_variable(x)
        return x if x.dtype == "bool" else neq(x, 0)


class All(_BoolReduce):
    """Whether every element over ``axis`` is nonzero (bool).

    >>> from workbench import tensor as T
    >>> x = T.imatrix('x')
    >>> All(axis=1)(x).eval({x: [[1, 2], [0, 3]]}).tolist()
    [True, False]
    """

    def __init__(self, axis: int | Sequence[int] | None = None):
        super().__init__(scalar.and_, axis)


class Any(_BoolReduce):
    """Whether some element over ``axis`` is nonzero (bool).

    >>> from workbench import tensor as T
    >>> x = T.imatrix('x')
    >>> Any(axis=1)(x).eval({x: [[0, 0], [0, 3]]}).tolist()
    [False, True]
    """

    def __init__(self, axis: int | Sequence[int] | None = None):
        super().__init__(scalar.or_, axis)


class Argmax(Op):
    """The index of the maximum over ``axis`` (int64). ``axis`` None indexes the flattened
    input, as NumPy does; several axes index their flattening (kept axes stay in order).

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> Argmax(axis=1)(x).eval({x: [[1, 5], [7, 2]]}).tolist()
    [1, 0]
    """

    __props__ = ("axis",)
    _numpy_fn = staticmethod(np.argmax)

    def __init__(self, axis: int | Sequence[int] | None = None):
        self.axis = normalize_op_axis(axis)

    def __str__(self) -> str:
        name = type(self).__name__
        return name if self.axis is None else f"{name}{{axis={self.axis}}}"

    __repr__ = __str__

    def make_node(self, x: object) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        _check_axes_in_range(self, self.axis, x.ndim)
        axes = _reduced_axes(self.axis, x.ndim)
        shape = tuple(s for i, s in enumerate(x.type.shape) if i not in axes)
        return Apply(self, [x], [TensorType("int64", shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        axes = _reduced_axes(self.axis, x.ndim)
        kept = [i for i in range(x.ndim) if i not in axes]
        kept_shape = tuple(x.shape[i] for i in kept)
        reduced_size = int(np.prod([x.shape[i] for i in axes], dtype=np.int64))
        if reduced_size == 0:
            raise ValueError(f"{self}: cannot take the {type(self).__name__.lower()} of an "
                             f"empty axis of an input of shape {x.shape} (NumPy raises too)")
        # bring the reduced axes last and merge them, so one NumPy call handles any axis set
        flat = np.transpose(x, kept + list(axes)).reshape(kept_shape + (reduced_size,))
        result = self._numpy_fn(flat, axis=-1)
        output_storage[0][0] = np.asarray(result, dtype=np.int64)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        (shape,) = input_shapes
        axes = _reduced_axes(self.axis, len(shape))
        return [tuple(s for i, s in enumerate(shape) if i not in axes)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False]]  # an integer index: no gradient flows back (Theano)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ..gradtypes import disconnected_type

        return [disconnected_type()]


class Argmin(Argmax):
    """The index of the minimum over ``axis`` (int64), like :class:`Argmax`.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> Argmin()(x).eval({x: [3.0, -1.0, 7.0]}).item()
    1
    """

    _numpy_fn = staticmethod(np.argmin)


def real_dtype(dtype: str) -> str:
    """The real dtype of the same precision (complex64 -> float32), else ``dtype``.

    >>> real_dtype('complex64'), real_dtype('int8')
    ('float32', 'int8')
    """
    return {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)


__all__ = ["CAReduce", "Sum", "Prod", "Max", "Min", "All", "Any", "Argmax", "Argmin",
           "normalize_op_axis", "real_dtype"]
