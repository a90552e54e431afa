"""Tensor constructors, constants and conversion of Python values to symbolic tensors.

``T.dscalar``, ``T.fmatrix``, ... are types (call them to make a variable); ``T.scalar``,
``T.matrix``, ... are functions whose dtype defaults to ``config.floatX``.

>>> from workbench import tensor as T
>>> x = T.dscalar('x')
>>> x.type == T.dscalar, T.matrix('m').dtype
(True, 'float64')
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..compiler.graph import Variable
from ..compiler.types import TensorType
from .variable import TensorConstant, TensorVariable

_PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32",
             "d": "float64", "c": "complex64", "z": "complex128"}
_KINDS = {"scalar": (), "vector": (None,), "row": (1, None), "col": (None, 1),
          "matrix": (None, None), "tensor3": (None,) * 3, "tensor4": (None,) * 4,
          "tensor5": (None,) * 5, "tensor6": (None,) * 6, "tensor7": (None,) * 7}
_PLURALS = {"scalar": "scalars", "vector": "vectors", "row": "rows", "col": "cols",
            "matrix": "matrices", "tensor3": "tensor3s", "tensor4": "tensor4s",
            "tensor5": "tensor5s", "tensor6": "tensor6s", "tensor7": "tensor7s"}


def _resolve_dtype(dtype: Any) -> str:
    from ..config import config

    if dtype is None or dtype == "floatX":
        return config.floatX
    return np.dtype(dtype).name


def tensor(dtype: Any = None, broadcastable: Sequence[bool] | None = None,
           name: str | None = None, shape: Sequence[int | None] | None = None
           ) -> TensorVariable:
    """A symbolic tensor of the given dtype and shape (or broadcastable pattern).

    >>> from workbench import tensor as T
    >>> T.tensor('float32', shape=(None, 3)).type
    TensorType(float32, (?, 3))
    """
    if shape is None and broadcastable is None:
        raise TypeError("tensor() needs a shape or a broadcastable pattern")
    return TensorType(_resolve_dtype(dtype), shape, broadcastable=broadcastable)(name)


def _make_generic(kind: str):
    shape = _KINDS[kind]

    def make(name: str | None = None, dtype: Any = None, shape_: Any = None) -> TensorVariable:
        return TensorType(_resolve_dtype(dtype), shape)(name)

    make.__name__ = kind
    make.__doc__ = (f"A symbolic {kind} of dtype ``dtype`` (default ``config.floatX``).\n\n"
                    f"    >>> from workbench import tensor as T\n"
                    f"    >>> T.{kind}('x').ndim\n    {len(shape)}\n")
    return make


def _make_plural(maker, kind: str):
    def make(*names: Any, dtype: Any = None) -> Any:
        if len(names) == 1 and isinstance(names[0], int):
            return [maker(None, dtype=dtype) if callable(maker) and not isinstance(
                maker, TensorType) else maker() for _ in range(names[0])]
        if len(names) == 1 and isinstance(names[0], str):
            # as Theano: one string names one variable per character (``scalars('abcd')``
            # gives a, b, c, d), and a one-character string gives the variable itself
            (names,) = names
            if len(names) == 1:
                return maker(names) if isinstance(maker, TensorType) else maker(
                    names, dtype=dtype)
        if isinstance(maker, TensorType):
            return [maker(n) for n in names]
        return [maker(n, dtype=dtype) for n in names]

    make.__name__ = _PLURALS[kind]
    make.__doc__ = f"Several symbolic {kind}s, one per name (or ``n`` unnamed ones)."
    return make


_namespace: dict[str, Any] = {}
for _kind, _shape in _KINDS.items():
    _generic = _make_generic(_kind)
    _namespace[_kind] = _generic
    _namespace[_PLURALS[_kind]] = _make_plural(_generic, _kind)
    for _prefix, _dtype in _PREFIXES.items():
        _type = TensorType(_dtype, _shape)
        _namespace[_prefix + _kind] = _type
        _namespace[_prefix + _PLURALS[_kind]] = _make_plural(_type, _kind)
globals().update(_namespace)
CONSTRUCTOR_NAMES = sorted(_namespace)


def constant(x: Any, name: str | None = None, ndim: int | None = None, dtype: Any = None,
             weak: bool | None = None, py_value: Any = None) -> TensorConstant:
    """A constant tensor holding ``x``.

    A Python number becomes a *weak* constant: combined with a tensor it takes that tensor's
    dtype where NumPy 2 would (``float32 * 2.0`` is float32).

    >>> from workbench import tensor as T
    >>> T.constant([1, 2]).dtype, T.constant(1.5).dtype
    ('int64', 'float64')
    """
    is_python_number = isinstance(x, (bool, int, float, complex)) and not isinstance(
        x, np.generic)
    if weak is None:
        weak = is_python_number and dtype is None
    if dtype is not None:
        arr = np.asarray(x, dtype=_resolve_dtype(dtype))
    elif isinstance(x, float) and not isinstance(x, np.generic):
        arr = np.asarray(x, dtype=_resolve_dtype(None))
    else:
        try:
            arr = np.asarray(x)
        except ValueError as exc:
            raise TypeError(f"cannot make a constant of a non-rectangular value: {exc}") from None
        if arr.dtype == object:
            raise TypeError(f"cannot make a tensor constant from {type(x).__name__} {x!r}")
        if arr.dtype.kind in "US":
            raise TypeError(f"cannot make a tensor constant from a string: {x!r}")
    if ndim is not None:
        if arr.ndim > ndim:
            raise ValueError(f"constant of {arr.ndim} dimensions cannot have ndim={ndim}")
        arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
    if weak and py_value is None and is_python_number:
        py_value = x
    # A constant's shape is fully known.
    ttype = TensorType(arr.dtype, arr.shape)
    return TensorConstant(ttype, arr, name=name, weak=weak,
                          py_value=py_value if weak else None)


def as_tensor_variable(x: Any, name: str | None = None, ndim: int | None = None
                       ) -> TensorVariable:
    """``x`` as a symbolic tensor: variables pass through, values become constants, lists
    holding variables are stacked.

    >>> from workbench import tensor as T
    >>> T.as_tensor_variable([[1, 2], [3, 4]]).type
    TensorType(int64, (2, 2))
    """
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            raise TypeError(f"{x} of type {x.type} is not a tensor")
        if ndim is not None and x.ndim != ndim:
            if x.ndim < ndim:
                from ..compiler.ops.elemwise import pad_left

                return pad_left(x, ndim)
            raise ValueError(f"{x} has {x.ndim} dimensions, expected {ndim}")
        return x
    if hasattr(x, "variable") and isinstance(getattr(x, "variable"), Variable):
        return as_tensor_variable(x.variable, name, ndim)
    if isinstance(x, (list, tuple)) and any(_contains_variable(i) for i in x):
        from .join import stack

        return stack([as_tensor_variable(i) for i in x])
    try:
        return constant(x, name=name, ndim=ndim)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot convert {type(x).__name__} {x!r} to a symbolic tensor: "
                        f"{exc}") from None


as_tensor = as_tensor_variable


def _contains_variable(x: Any) -> bool:
    if isinstance(x, Variable):
        return True
    if isinstance(x, (list, tuple)):
        return any(_contains_variable(i) for i in x)
    return False


def cast(x: Any, dtype: Any) -> TensorVariable:
    """``x`` converted to ``dtype`` ('floatX' means ``config.floatX``).

    >>> from workbench import tensor as T
    >>> T.cast(T.ivector(), 'float32').dtype
    'float32'
    """
    from ..compiler.ops.elemwise import Elemwise
    from ..compiler.ops.scalar import Cast

    x = as_tensor_variable(x)
    dtype = _resolve_dtype(dtype)
    if x.dtype == dtype:
        return x
    if x.type.numpy_dtype.kind == "c" and np.dtype(dtype).kind in "iuf":
        # as Theano: dropping the imaginary part silently is rarely what was meant (to bool
        # is fine: a truth test of the whole number)
        raise TypeError(f"casting {x} from {x.dtype} to {dtype} is ambiguous: use T.real, "
                        f"T.imag, T.abs or T.angle")
    return Elemwise(Cast(dtype))(x)


def get_scalar_constant_value(v: Any) -> np.ndarray:
    """The value of ``v`` if it is a constant scalar (or a constant broadcast), else raise
    :class:`NotScalarConstantError`."""
    if isinstance(v, (int, float, complex, np.number)):
        return np.asarray(v)
    if isinstance(v, TensorConstant):
        data = v.data
        if data.size >= 1 and np.all(data == data.flat[0]):
            return np.asarray(data.flat[0])
    raise NotScalarConstantError(f"{v} is not a scalar constant")


class NotScalarConstantError(ValueError):
    """Raised by :func:`get_scalar_constant_value` for a non-constant."""
