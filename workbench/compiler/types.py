"""Types: what values a variable may hold.

:class:`TensorType` is a dtype and a static shape, where each dimension is a known int or
``None``; a dimension of known size 1 is *broadcastable*. Calling a type makes a variable.

>>> from workbench.compiler.types import TensorType
>>> dmatrix = TensorType('float64', (None, None))
>>> x = dmatrix('x')
>>> x.type == dmatrix, x.broadcastable
(True, (False, False))
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

#: every dtype a tensor may have, by Theano's names
ALL_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
              "float16", "float32", "float64", "complex64", "complex128")
FLOAT_DTYPES = ("float16", "float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
INT_DTYPES = ("int8", "int16", "int32", "int64")
UINT_DTYPES = ("uint8", "uint16", "uint32", "uint64")
DISCRETE_DTYPES = ("bool",) + INT_DTYPES + UINT_DTYPES
CONTINUOUS_DTYPES = FLOAT_DTYPES + COMPLEX_DTYPES

_NDIM_NAMES = {0: "scalar", 1: "vector", 2: "matrix", 3: "tensor3", 4: "tensor4", 5: "tensor5"}


class Type:
    """Base class of types. Subclasses define ``filter`` and equality."""

    variable_type: type | None = None
    constant_type: type | None = None

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        raise NotImplementedError

    def __call__(self, name: str | None = None):
        from .graph import Variable

        cls = self.variable_type or Variable
        return cls(self, None, None, name)

    def make_variable(self, name: str | None = None):
        """A new variable of this type (Theano's name for calling the type)."""
        return self(name)

    def make_constant(self, value: Any, name: str | None = None):
        from .graph import Constant

        cls = self.constant_type or Constant
        return cls(self, value, name=name)

    def is_super(self, other: "Type") -> bool:
        """Whether every value of ``other`` is a value of this type."""
        return self == other

    def is_valid_value(self, value: Any) -> bool:
        try:
            self.filter(value, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def values_eq(self, a: Any, b: Any) -> bool:
        return a == b


class GenericType(Type):
    """Any Python object (used by ops whose inputs are not tensors)."""

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        return value

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __str__(self) -> str:
        return "generic"

    __repr__ = __str__


generic = GenericType()


def _as_dtype(dtype: Any) -> str:
    if dtype == "floatX":
        from ..config import config

        return config.floatX
    name = np.dtype(dtype).name
    if name not in ALL_DTYPES:
        raise TypeError(f"unsupported dtype {name!r}; tensors hold one of {', '.join(ALL_DTYPES)}")
    return name


class TensorType(Type):
    """An n-dimensional array type: a dtype and a static shape.

    ``TensorType('float64', (None, 1))`` is a column; Theano's spelling with a broadcastable
    pattern, ``TensorType('float64', (False, True))``, means the same.
    """

    def __init__(self, dtype: Any, shape: Sequence[int | None | bool] | None = None,
                 name: str | None = None, broadcastable: Sequence[bool] | None = None):
        if shape is not None and broadcastable is None and len(shape) > 0 and all(
                isinstance(s, (bool, np.bool_)) for s in shape):
            broadcastable, shape = shape, None
        if broadcastable is not None:
            shape = tuple(1 if b else None for b in broadcastable)
        if shape is None:
            raise TypeError("TensorType needs a shape (or a broadcastable pattern)")
        self.dtype = _as_dtype(dtype)
        self.shape: tuple[int | None, ...] = tuple(
            None if s is None else int(s) for s in shape)
        if any(s is not None and s < 0 for s in self.shape):
            raise ValueError(f"negative static dimension in shape {self.shape}")
        self.name = name
        # cached for filter(), which runs on every input of every call
        self._np_dtype = np.dtype(self.dtype)
        self._static_dims = tuple((axis, s) for axis, s in enumerate(self.shape)
                                  if s is not None)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(s == 1 for s in self.shape)

    @property
    def numpy_dtype(self) -> np.dtype:
        return self._np_dtype

    def clone(self, dtype: Any = None, shape: Sequence[int | None] | None = None,
              broadcastable: Sequence[bool] | None = None) -> "TensorType":
        if broadcastable is not None:
            shape = tuple(1 if b else None for b in broadcastable)
        return TensorType(self.dtype if dtype is None else dtype,
                          self.shape if shape is None else shape)

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and self.dtype == other.dtype
                and self.shape == other.shape)

    def __hash__(self) -> int:
        return hash((TensorType, self.dtype, self.shape))

    def kind_name(self) -> str:
        if all(s is None for s in self.shape) and self.ndim in _NDIM_NAMES:
            return _NDIM_NAMES[self.ndim]
        if self.shape == (1, None):
            return "row"
        if self.shape == (None, 1):
            return "col"
        return "(" + ", ".join("?" if s is None else str(s) for s in self.shape) + \
            ("," if self.ndim == 1 else "") + ")"

    def __str__(self) -> str:
        if self.name:
            return self.name
        return f"TensorType({self.dtype}, {self.kind_name()})"

    __repr__ = __str__

    def is_super(self, other: "Type") -> bool:
        """Whether every value of ``other`` is a value of this type."""
        return (isinstance(other, TensorType) and other.dtype == self.dtype
                and other.ndim == self.ndim
                and all(s is None or s == o for s, o in zip(self.shape, other.shape)))

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None
               ) -> np.ndarray:
        """Check and convert a value to this type, or raise TypeError saying why.

        ``strict=True`` accepts only arrays of exactly this dtype; otherwise values are
        converted when no precision can be lost (Python numbers when their value survives),
        or always with ``allow_downcast=True``.

        >>> from workbench.compiler.types import TensorType
        >>> TensorType('float32', (None,)).filter([1, 2.5])
        array([1. , 2.5], dtype=float32)
        """
        if type(value) is np.ndarray and value.dtype == self._np_dtype:
            arr = value  # the common case: nothing to convert
        elif strict:
            if not isinstance(value, (np.ndarray, np.generic)):
                raise TypeError(f"expected a numpy.ndarray for {self}, got {type(value).__name__}")
            if value.dtype != self._np_dtype:
                raise TypeError(f"expected dtype {self.dtype}, got {value.dtype.name}")
            arr = np.asarray(value)
        else:
            arr = _convert(value, self._np_dtype, allow_downcast, self)
        if arr.ndim != len(self.shape):
            raise TypeError(
                f"wrong number of dimensions: expected {self.ndim} ({self.kind_name()}), "
                f"got {arr.ndim} with shape {arr.shape}")
        for axis, want in self._static_dims:
            if arr.shape[axis] != want:
                raise TypeError(
                    f"shape {arr.shape} does not match the static shape "
                    f"{self.kind_name()} of {self} at axis {axis}")
        return arr

    def value_zeros(self, shape: Sequence[int]) -> np.ndarray:
        return np.zeros(shape, dtype=self.dtype)

    def values_eq(self, a: Any, b: Any) -> bool:
        return bool(np.array_equal(a, b))

    def values_eq_approx(self, a: Any, b: Any, rtol: float | None = None,
                         atol: float | None = None) -> bool:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            if rtol is None:
                rtol = {"float16": 1e-2, "float32": 1e-4, "complex64": 1e-4}.get(self.dtype, 1e-7)
            if atol is None:
                atol = {"float16": 1e-2, "float32": 1e-5, "complex64": 1e-5}.get(self.dtype, 1e-8)
            return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
        return bool(np.array_equal(a, b))


def _convert(value: Any, target: np.dtype, allow_downcast: bool | None, ttype: TensorType
             ) -> np.ndarray:
    """Convert a user value to an ndarray of dtype ``target`` following Theano's rules."""
    from_python = not isinstance(value, (np.ndarray, np.generic))
    try:
        arr = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise TypeError(f"value is not a rectangular array: {exc}") from None
    if arr.dtype == target:
        return arr
    if arr.dtype.kind == "O":
        raise TypeError(
            f"value of type {type(value).__name__} cannot be converted to a numeric "
            f"array (a list that is not rectangular, or objects that are not numbers)")
    if arr.dtype.kind in "USV":
        raise TypeError(f"cannot store strings or bytes ({arr.dtype}) in {ttype}")
    if allow_downcast:
        # the caller asked for a lossy conversion: no overflow or ComplexWarning noise
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return arr.astype(target)
    if np.can_cast(arr.dtype, target, casting="safe"):
        return arr.astype(target)
    if allow_downcast is None and from_python:
        converted = _convert_python_value(arr, target)
        if converted is not None:
            return converted
    raise TypeError(
        f"{ttype} cannot store a value of dtype {arr.dtype.name} without risking loss of "
        f"precision. Cast the data to {target.name} yourself, or allow the downcast "
        f"(function(..., allow_input_downcast=True), In(x, allow_downcast=True) or "
        f"shared(..., allow_downcast=True))")


def _convert_python_value(arr: np.ndarray, target: np.dtype) -> np.ndarray | None:
    """Python numbers carry no precision of their own: convert them when the values
    survive (floats into a narrower float, ints that fit, 0/1 into bool), else None."""
    kind = arr.dtype.kind
    if kind == "c" and target.kind != "c":
        return None
    with np.errstate(all="ignore"):
        converted = arr.astype(target)
    if target.kind == "f" and kind in "iubf":
        # a finite value that became infinite did not survive
        if kind == "f" and not np.array_equal(np.isinf(converted), np.isinf(arr)):
            return None
        return converted
    if target.kind in "iub" and kind in "iub":
        return converted if np.array_equal(converted, arr) else None
    if target.kind == "c" and kind in "iubfc":
        return converted
    return None
