"""Tensor variables: the Python operators and NumPy-like methods of symbolic tensors.

>>> from workbench import tensor as T
>>> x = T.matrix('x')
>>> y = (x.T + 1).sum(axis=0)
>>> y.type
TensorType(float64, vector)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compiler.graph import Constant, Variable
from ..compiler.types import TensorType


def _T():
    from .. import tensor

    return tensor


class _TensorOperators:
    """Operators shared by tensor variables, constants and shared variables."""

    # NumPy must defer to our reflected operators: ndarray + x gives x.__radd__(ndarray)
    __array_ufunc__ = None
    __array_priority__ = 1000

    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable

    @property
    def static_shape(self) -> tuple[int | None, ...]:
        return self.type.shape

    # -- arithmetic ---------------------------------------------------------------------
    def __add__(self, other): return _T().add(self, other)
    def __radd__(self, other): return _T().add(other, self)
    def __sub__(self, other): return _T().sub(self, other)
    def __rsub__(self, other): return _T().sub(other, self)
    def __mul__(self, other): return _T().mul(self, other)
    def __rmul__(self, other): return _T().mul(other, self)
    def __truediv__(self, other): return _T().true_div(self, other)
    def __rtruediv__(self, other): return _T().true_div(other, self)
    def __floordiv__(self, other): return _T().int_div(self, other)
    def __rfloordiv__(self, other): return _T().int_div(other, self)
    def __mod__(self, other): return _T().mod(self, other)
    def __rmod__(self, other): return _T().mod(other, self)
    def __pow__(self, other): return _T().pow(self, other)
    def __rpow__(self, other): return _T().pow(other, self)
    def __neg__(self): return _T().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _T().abs(self)
    def __invert__(self): return _T().invert(self)
    def __and__(self, other): return _T().and_(self, other)
    def __rand__(self, other): return _T().and_(other, self)
    def __or__(self, other): return _T().or_(self, other)
    def __ror__(self, other): return _T().or_(other, self)
    def __xor__(self, other): return _T().xor(self, other)
    def __rxor__(self, other): return _T().xor(other, self)
    def __matmul__(self, other): return _T().dot(self, other)
    def __rmatmul__(self, other): return _T().dot(other, self)
    def __dot__(self, other): return _T().dot(self, other)
    def __rdot__(self, other): return _T().dot(other, self)

    # -- comparisons (== and != stay identity, as in Theano: use T.eq / T.neq) ----------
    def __lt__(self, other): return _T().lt(self, other)
    def __le__(self, other): return _T().le(self, other)
    def __gt__(self, other): return _T().gt(self, other)
    def __ge__(self, other): return _T().ge(self, other)

    __hash__ = Variable.__hash__

    def __bool__(self):
        raise TypeError(
            "a symbolic variable has no truth value; use T.switch / T.eq / ifelse to branch "
            "on a symbolic condition")

    def __len__(self):
        raise TypeError("len() of a symbolic variable is unknown; use x.shape[0]")

    def __iter__(self):
        shape0 = self.type.shape[0] if self.ndim else None
        if shape0 is None:
            raise TypeError("cannot iterate over a symbolic variable of unknown length; "
                            "index it, or use scan")
        for i in range(shape0):
            yield self[i]

    def __getitem__(self, index):
        return _T().subtensor.getitem(self, index)

    # -- shape --------------------------------------------------------------------------
    @property
    def shape(self):
        return _T().shape(self)

    @property
    def size(self):
        return _T().prod(self.shape)

    @property
    def T(self):
        return _T().transpose(self)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        return _T().transpose(self, axes or None)

    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (tuple, list)):
            pattern = pattern[0]
        from ..compiler.ops.elemwise import DimShuffle

        return DimShuffle(self.broadcastable, pattern)(self)

    def reshape(self, shape, *more, ndim=None):
        if more:
            shape = (shape,) + more
        return _T().reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1, outdim=None):
        return _T().flatten(self, outdim if outdim is not None else ndim)

    def ravel(self):
        return _T().flatten(self, 1)

    def squeeze(self, axis=None):
        return _T().squeeze(self, axis)

    def swapaxes(self, a, b):
        return _T().swapaxes(self, a, b)

    def repeat(self, repeats, axis=None):
        return _T().repeat(self, repeats, axis)

    def astype(self, dtype):
        return _T().cast(self, dtype)

    def copy(self, name=None):
        out = _T().tensor_copy(self)
        out.name = name
        return out

    # -- reductions ---------------------------------------------------------------------
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _T().sum(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _T().prod(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _T().mean(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def var(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _T().var(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def std(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _T().std(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def max(self, axis=None, keepdims=False):
        return _T().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _T().min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _T().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _T().argmin(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _T().all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _T().any(self, axis=axis, keepdims=keepdims)

    def norm(self, L, axis=None, keepdims=False):
        if L == 0:
            raise NotImplementedError("the L0 norm is not implemented")
        return _T().pow(_T().pow(_T().abs(self), L).sum(axis=axis, keepdims=keepdims), 1.0 / L)

    # -- other methods ------------------------------------------------------------------
    def dot(self, other):
        return _T().dot(self, other)

    def clip(self, a_min, a_max):
        return _T().clip(self, a_min, a_max)

    def round(self, mode=None):
        return _T().round(self, mode)

    def sort(self, axis=-1, kind="quicksort", order=None):
        return _T().sort(self, axis, kind, order)

    def argsort(self, axis=-1, kind="quicksort", order=None):
        return _T().argsort(self, axis, kind, order)

    def cumsum(self, axis=None):
        return _T().cumsum(self, axis)

    def cumprod(self, axis=None):
        return _T().cumprod(self, axis)

    def nonzero(self, return_matrix=False):
        return _T().nonzero(self, return_matrix)

    def nonzero_values(self):
        return _T().nonzero_values(self)

    def get_scalar_constant_value(self):
        return _T().get_scalar_constant_value(self)

    def ptp(self, axis=None, keepdims=False):
        return _T().ptp(self, axis=axis, keepdims=keepdims)

    def choose(self, choices, out=None, mode="raise"):
        return _T().choose(self, choices, out=out, mode=mode)

    def conj(self):
        return _T().conj(self)

    conjugate = conj

    @property
    def real(self):
        return _T().real(self)

    @property
    def imag(self):
        return _T().imag(self)

    def zeros_like(self, dtype=None):
        return _T().zeros_like(self, dtype)

    def ones_like(self, dtype=None):
        return _T().ones_like(self, dtype)

    def fill(self, value):
        return _T().fill(self, value)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _T().diagonal(self, offset, axis1, axis2)

    def trace(self):
        return _T().trace(self)

    def take(self, indices, axis=None, mode="raise"):
        return _T().take(self, indices, axis, mode)


class TensorVariable(_TensorOperators, Variable):
    """A symbolic tensor."""


class TensorConstant(_TensorOperators, Constant):
    """A constant tensor. ``weak`` marks a Python number literal, which takes the dtype of
    the tensors it is combined with, as NumPy 2 does."""

    def __init__(self, type, data, name=None, weak: bool = False, py_value: Any = None):
        super().__init__(type, data, name)
        self.weak = weak
        # The Python number a weak constant was made from: re-typing it next to a tensor
        # must start from this exact value, not from ``data`` (0.1 stored as float32 under
        # floatX='float32' is not 0.1 in float64).
        self.py_value = py_value

    def signature(self):
        return super().signature() + (self.weak,)

    @property
    def value(self):
        return self.data

    def clone(self):
        cp = TensorConstant(self.type, self.data, self.name, self.weak, self.py_value)
        cp.tag = self.tag.copy()
        cp.source = self.source
        return cp


TensorType.variable_type = TensorVariable
TensorType.constant_type = TensorConstant


def is_symbolic(value: Any) -> bool:
    return isinstance(value, Variable)


__all__ = ["TensorVariable", "TensorConstant", "np"]
