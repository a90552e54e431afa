"""Indexing ops: basic indexing (a view), advanced indexing (a copy), and their set/inc forms.

An op's ``idx_list`` is the index with its symbolic parts taken out: each entry is

- an ``int``: a constant integer index;
- ``None``: a new axis (``numpy.newaxis``);
- a 3-tuple ``(start, stop, step)``: a slice, each part ``None``, an ``int`` or ``INPUT``;
- ``INPUT``: the op's next index input (a symbolic integer scalar for basic indexing; an
  integer array, integer scalar or boolean mask for advanced indexing);
- ``Ellipsis``: the axes not indexed otherwise. ``x[...]`` expands it for basic indexing,
  but advanced ops keep it where the user wrote it: NumPy orders the result differently
  when an Ellipsis, even one standing for no axis, separates advanced indices.

The index inputs follow ``x`` (and ``y`` for set/inc) in the order their ``INPUT`` markers
appear, a slice giving its start, stop and step in that order. ``$`` prints an ``INPUT``.

>>> from workbench import tensor as T
>>> x, i = T.dmatrix('x'), T.lscalar('i')
>>> x[i, 1:].owner.op
Subtensor{$, 1:}
>>> x[[0, 2]].owner.op, x[[0, 2], 1:].owner.op
(AdvancedSubtensor1, AdvancedSubtensor{$, 1:})
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..graph import Apply, Op, Variable
from ..gradtypes import disconnected_type, is_disconnected
from ..types import INT_DTYPES, UINT_DTYPES, TensorType
from .elemwise import broadcast_static_shapes
from .shape import IntegerResultOp

INTEGER_DTYPES = INT_DTYPES + UINT_DTYPES


class _IndexInput:
    """The marker of an index part filled by one of the op's inputs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "$"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _IndexInput)

    def __hash__(self) -> int:
        # stable across processes, so compile-cache keys built from idx_list are too
        return 0x5EB

    def __reduce__(self) -> str:
        return "INPUT"


INPUT = _IndexInput()
FULL_SLICE = (None, None, None)


def index_entry_str(entry: Any) -> str:
    """How an idx_list entry prints.

    >>> [index_entry_str(e) for e in [(1, INPUT, -1), INPUT, None, Ellipsis, -2]]
    ['1:$:-1', '$', 'newaxis', '...', '-2']
    """
    if isinstance(entry, tuple):
        start, stop, step = ("" if p is None else repr(p) for p in entry)
        return f"{start}:{stop}" + (f":{step}" if step else "")
    if entry is None:
        return "newaxis"
    if entry is Ellipsis:
        return "..."
    return repr(entry)


def _check_idx_list(idx_list: Sequence[Any]) -> tuple:
    def part_ok(p: Any) -> bool:
        return p is None or p is INPUT or isinstance(p, (int, np.integer)) and not isinstance(
            p, (bool, np.bool_))

    out: list[Any] = []
    for entry in idx_list:
        if isinstance(entry, tuple) and len(entry) == 3 and all(map(part_ok, entry)):
            out.append(tuple(p if p is None or p is INPUT else int(p) for p in entry))
        elif entry is None or entry is INPUT or entry is Ellipsis:
            out.append(entry)
        elif part_ok(entry):
            out.append(int(entry))
        else:
            raise TypeError(f"invalid idx_list entry {entry!r}: expected an int, None, INPUT, "
                            f"Ellipsis or a (start, stop, step) tuple")
    if sum(e is Ellipsis for e in out) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    return tuple(out)


def _count_inputs(idx_list: Sequence[Any]) -> int:
    return sum((e is INPUT) + (sum(p is INPUT for p in e) if isinstance(e, tuple) else 0)
               for e in idx_list)


def _bind(idx_list: Sequence[Any], values: Sequence[Any], scalar: Callable[[Any], Any],
          array: Callable[[Any], Any]) -> list:
    """The idx_list with each ``INPUT`` replaced: slice parts by ``scalar(value)``, whole
    entries by ``array(value)``; slices become ``slice`` objects."""
    it = iter(values)
    bound: list[Any] = []
    for entry in idx_list:
        if isinstance(entry, tuple):
            bound.append(slice(*(scalar(next(it)) if p is INPUT else p for p in entry)))
        elif entry is INPUT:
            bound.append(array(next(it)))
        else:
            bound.append(entry)
    return bound


def _check_index_input(var: Variable, where: str, scalar_only: bool) -> None:
    if not isinstance(var.type, TensorType):
        raise TypeError(f"{where}: index {var} of type {var.type} is not a tensor")
    if scalar_only:
        if var.ndim != 0 or var.dtype not in INTEGER_DTYPES:
            raise TypeError(f"{where}: expected an integer scalar for index {var}, got "
                            f"{var.type}")
    elif var.dtype not in INTEGER_DTYPES + ("bool",):
        raise TypeError(f"{where}: arrays used as indices must be of integer or boolean "
                        f"dtype; index {var} has dtype {var.dtype}")


def _constant_int(var: Any) -> Any:
    """A constant scalar index part as an ``int``; anything else unchanged."""
    data = getattr(var, "data", None)
    if isinstance(var, Variable) and data is not None and np.ndim(data) == 0 and \
            var.dtype in INTEGER_DTYPES:
        return int(data)
    return var


# ---------------------------------------------------------------------------------------
# Where each dimension of an indexing result comes from


def _layout(idx_list: Sequence[Any], ndim: int, index_inputs: Sequence[Variable],
            advanced: bool, where: str) -> tuple[list[tuple], list[tuple]]:
    """Walk the index against an ``ndim``-d tensor, as NumPy does.

    Returns ``(out, adv)``. ``out`` lists the result's dimensions: ``('x', axis, parts)``
    for an axis of x sliced by ``parts`` (start, stop, step: None, int or the input
    variable), ``('new',)``, and, once, ``('adv',)`` where the broadcast shape of the
    advanced indices goes. ``adv`` lists the integer indices as ``(kind, axis, what)``:
    kind ``'int'`` (``what``: an int or a scalar input), ``'array'`` or ``'mask'``.
    """
    bound = _bind(idx_list, index_inputs, lambda v: v, lambda v: v)
    consumed = sum(e.ndim if isinstance(e, Variable) and e.dtype == "bool" else 1
                   for e in bound if e is not None and e is not Ellipsis)
    if consumed > ndim:
        raise IndexError(f"{where}too many indices for tensor: tensor is {ndim}-dimensional, "
                         f"but {consumed} were indexed")
    groups: list[tuple[bool, list[tuple]]] = []  # (advanced?, result dims) per entry
    adv: list[tuple] = []
    axis = 0
    for entry in bound:
        if entry is None:
            groups.append((False, [("new",)]))
        elif entry is Ellipsis:
            groups.append((False, [("x", axis + i, FULL_SLICE) for i in range(ndim - consumed)]))
            axis += ndim - consumed
        elif isinstance(entry, slice):
            groups.append((False, [("x", axis, (entry.start, entry.stop, entry.step))]))
            axis += 1
        else:
            if isinstance(entry, Variable) and entry.dtype == "bool":
                adv.append(("mask", axis, entry))
                axis += entry.ndim
            else:
                is_array = isinstance(entry, Variable) and entry.ndim > 0
                adv.append(("array" if is_array else "int", axis, entry))
                axis += 1
            if advanced:
                groups.append((True, []))
    trailing = [("x", a, FULL_SLICE) for a in range(axis, ndim)]
    adv_groups = [i for i, (is_adv, _) in enumerate(groups) if is_adv]
    dims = [d for _, ds in groups for d in ds]
    if not adv_groups:
        return dims + trailing, adv
    first, last = adv_groups[0], adv_groups[-1]
    if last - first + 1 == len(adv_groups):
        before = [d for _, ds in groups[:first] for d in ds]
        after = [d for _, ds in groups[last + 1:] for d in ds]
        return before + [("adv",)] + after + trailing, adv
    # NumPy puts the advanced dimensions first when anything separates the advanced indices
    return [("adv",)] + dims + trailing, adv


def _static_slice_length(n: int | None, parts: tuple, where: str) -> int | None:
    start, stop, step = (_constant_int(p) for p in parts)
    if isinstance(step, int) and step == 0:
        raise ValueError(f"{where}slice step cannot be zero")
    if n == 0:
        return 0
    known = [p is None or isinstance(p, int) for p in (start, stop, step)]
    if not all(known):
        return None
    if start is None and stop is None and step in (None, 1, -1):
        return n
    if n is None:
        return None
    return len(range(*slice(start, stop, step).indices(n)))


def _out_of_bounds(index: int, axis: int, size: int, where: str = "") -> IndexError:
    return IndexError(f"{where}index {index} is out of bounds for axis {axis} with size {size}")


def _static_shape(x: Variable, idx_list: Sequence[Any], index_inputs: Sequence[Variable],
                  advanced: bool, where: str) -> tuple[int | None, ...]:
    """The indexing result's static shape; raise at once on an index sure to be wrong."""
    xshape = x.type.shape
    out, adv = _layout(idx_list, x.ndim, index_inputs, advanced, where)
    adv_shapes: list[tuple[int | None, ...]] = []
    for kind, axis, what in adv:
        n = xshape[axis] if axis < len(xshape) else None
        if kind == "mask":
            for k, (m, size) in enumerate(zip(what.type.shape, xshape[axis:])):
                if m is not None and size is not None and m != size:
                    raise IndexError(
                        f"{where}boolean index did not match indexed tensor along axis "
                        f"{axis + k}; size of axis is {size} but size of corresponding boolean "
                        f"axis is {m}")
            data = getattr(what, "data", None)
            adv_shapes.append((None if data is None else int(np.count_nonzero(data)),))
            continue
        value = _constant_int(what) if kind == "int" else getattr(what, "data", None)
        if n is not None and value is not None and not isinstance(value, Variable):
            bad = np.asarray(value)
            bad = bad[(bad >= n) | (bad < -n)] if bad.dtype.kind == "i" else bad[bad >= n]
            if bad.size:
                raise _out_of_bounds(int(bad.flat[0]), axis, n, where)
        adv_shapes.append(() if kind == "int" else what.type.shape)
    shape: list[int | None] = []
    for d in out:
        if d[0] == "new":
            shape.append(1)
        elif d[0] == "x":
            shape.append(_static_slice_length(xshape[d[1]], d[2], where))
        else:
            ndim = max(len(s) for s in adv_shapes)
            padded = [(1,) * (ndim - len(s)) + tuple(s) for s in adv_shapes]
            try:
                shape.extend(broadcast_static_shapes(padded))
            except ValueError:
                raise IndexError(
                    f"{where}shape mismatch: indexing arrays could not be broadcast together "
                    f"with shapes {' '.join(map(str, adv_shapes))}") from None
    return tuple(shape)


# ---------------------------------------------------------------------------------------
# Symbolic shapes (infer_shape), folded to Python ints where the parts are known


def _tm():
    from ...tensor import math

    return math


def _i64(v: Any) -> Any:
    if isinstance(v, Variable):
        v = _constant_int(v)
    if isinstance(v, Variable) and v.dtype != "int64":
        from ...tensor.basic import cast

        return cast(v, "int64")
    return v


def _max(a: Any, b: Any) -> Any:
    return max(a, b) if isinstance(a, int) and isinstance(b, int) else _tm().maximum(a, b)


def _min(a: Any, b: Any) -> Any:
    return min(a, b) if isinstance(a, int) and isinstance(b, int) else _tm().minimum(a, b)


def _floordiv(a: Any, b: Any) -> Any:
    return a // b if isinstance(a, int) and isinstance(b, int) else _tm().int_div(a, b)


def _clamp(i: Any, n: Any, low: Any, high: Any) -> Any:
    """A slice bound normalised as ``slice.indices`` does, between ``low`` and ``high``."""
    if isinstance(i, int):
        return _max(i + n, low) if i < 0 else _min(i, high)
    return _tm().switch(_tm().lt(i, 0), _max(i + n, low), _min(i, high))


def _slice_length_signed(n: Any, start: Any, stop: Any, step: Any, positive: bool) -> Any:
    if positive:
        lo = 0 if start is None else _clamp(start, n, 0, n)
        hi = n if stop is None else _clamp(stop, n, 0, n)
        return _max(0, _floordiv(hi - lo + step - 1, step))
    hi = n - 1 if start is None else _clamp(start, n, -1, n - 1)
    lo = -1 if stop is None else _clamp(stop, n, -1, n - 1)
    return _max(0, _floordiv(hi - lo - step - 1, -step))


def symbolic_slice_length(n: Any, start: Any, stop: Any, step: Any) -> Any:
    """The length of ``range(n)[start:stop:step]`` from int or symbolic int64 parts.

    >>> symbolic_slice_length(10, -3, None, None), symbolic_slice_length(10, None, 2, -3)
    (3, 3)
    """
    start, stop, step = _i64(start), _i64(stop), _i64(1 if step is None else step)
    if isinstance(step, int):
        return _slice_length_signed(n, start, stop, step, step > 0)
    return _tm().switch(_tm().gt(step, 0), _slice_length_signed(n, start, stop, step, True),
                        _slice_length_signed(n, start, stop, step, False))


def _broadcast_symbolic(shapes: list[tuple], static: list[tuple]) -> list:
    ndim = max((len(s) for s in shapes), default=0)
    result: list[Any] = [1] * ndim
    for shape, known in zip(shapes, static):
        offset = ndim - len(shape)
        for i, (d, k) in enumerate(zip(shape, known)):
            cur = result[offset + i]
            if k == 1:
                continue
            if isinstance(cur, int) and cur == 1:
                result[offset + i] = d
            else:
                result[offset + i] = _tm().switch(_tm().eq(cur, 1), d, cur)
    return result


def _as_shape(dims: Sequence[Any]) -> tuple:
    from ...tensor.basic import constant

    return tuple(constant(d, dtype="int64") if isinstance(d, (int, np.integer)) else _i64(d)
                 for d in dims)


def _symbolic_shape(x: Variable, x_shape: Sequence[Any], idx_list: Sequence[Any],
                    index_inputs: Sequence[Variable], index_shapes: Sequence[tuple],
                    advanced: bool) -> tuple:
    out, adv = _layout(idx_list, x.ndim, index_inputs, advanced, "")
    # where the static shape is known, use it: smaller graphs
    n_of = [s if s is not None else d for s, d in zip(x.type.shape, x_shape)]
    shape_of = {id(v): s for v, s in zip(index_inputs, index_shapes)}
    adv_shapes, adv_static = [], []
    for kind, _, what in adv:
        if kind == "mask":
            adv_shapes.append((CountNonzero()(what),))
            adv_static.append((None,))
        elif kind == "array":
            adv_shapes.append(tuple(shape_of[id(what)]))
            adv_static.append(what.type.shape)
        else:
            adv_shapes.append(())
            adv_static.append(())
    dims: list[Any] = []
    for d in out:
        if d[0] == "new":
            dims.append(1)
        elif d[0] == "x":
            dims.append(symbolic_slice_length(n_of[d[1]], *d[2]))
        else:
            dims.extend(_broadcast_symbolic(adv_shapes, adv_static))
    return _as_shape(dims)


# ---------------------------------------------------------------------------------------
# The value stored by set/inc


def fit_value(y: Any, dtype: str, where: str) -> Variable:
    """``y`` as a tensor of ``dtype``, or TypeError if its values may not fit ``dtype``.

    A Python number is accepted when it keeps its value (``1.5`` into float32, ``3`` into
    int8); a tensor when NumPy casts its dtype to ``dtype`` safely.

    >>> from workbench import tensor as T
    >>> fit_value(1.5, 'float32', '').dtype, fit_value(T.bvector(), 'int64', '').dtype
    ('float32', 'int64')
    >>> fit_value(T.dvector('y'), 'float32', 'set_subtensor: ')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    TypeError: set_subtensor: cannot store values of y (dtype float64) in a tensor of ...
    """
    from ...tensor.basic import as_tensor_variable, cast, constant
    from ...tensor.variable import TensorConstant

    y = as_tensor_variable(y)
    if y.dtype == dtype:
        return y
    target = np.dtype(dtype)
    if isinstance(y, TensorConstant) and y.weak:
        data = y.data
        if target.kind == "c" or (target.kind == "f" and data.dtype.kind in "biuf"):
            return constant(data.astype(dtype))
        if target.kind in "biu" and data.dtype.kind in "biu":
            converted = data.astype(dtype)
            if np.array_equal(converted, data):
                return constant(converted)
    if np.can_cast(y.dtype, target, casting="safe"):
        return cast(y, dtype)
    raise TypeError(f"{where}cannot store values of {y} (dtype {y.dtype}) in a tensor of dtype "
                    f"{dtype} without risking a loss of precision; cast them to {dtype} first")


def _check_value_shape(y: Variable, target: tuple[int | None, ...], where: str) -> None:
    if y.ndim > len(target):
        raise TypeError(f"{where}cannot set a {len(target)}-d subtensor to a {y.ndim}-d value "
                        f"{y} ({y.type})")
    padded = (1,) * (len(target) - y.ndim) + tuple(y.type.shape)
    for axis, (want, got) in enumerate(zip(target, padded)):
        if got is not None and got != 1 and want is not None and want != got:
            raise ValueError(f"{where}value of shape {y.type.shape} cannot be broadcast to the "
                             f"indexed shape {target} (axis {axis}: {got} vs {want})")


# ---------------------------------------------------------------------------------------
# The ops


class _IndexOp(Op):
    """What the indexing ops share: the idx_list, its inputs, and the getting itself."""

    __props__: tuple[str, ...] = ("idx_list",)
    advanced = False

    def __init__(self, idx_list: Sequence[Any]):
        self.idx_list = _check_idx_list(idx_list)

    def __str__(self) -> str:
        return f"{type(self).__name__}{{{', '.join(map(index_entry_str, self.idx_list))}}}"

    def _prepare(self, x: Any, index_inputs: Sequence[Any]
                 ) -> tuple[Variable, list[Variable], tuple[int | None, ...]]:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        index = [as_tensor_variable(i) for i in index_inputs]
        expected = _count_inputs(self.idx_list)
        if len(index) != expected:
            raise TypeError(f"{self} takes {expected} index inputs, got {len(index)}")
        parts = iter(index)
        for entry in self.idx_list:
            if isinstance(entry, tuple):
                for p in entry:
                    if p is INPUT:
                        _check_index_input(next(parts), f"{self}: slice", scalar_only=True)
            elif entry is INPUT:
                _check_index_input(next(parts), str(self), scalar_only=not self.advanced)
        shape = _static_shape(x, self.idx_list, index, self.advanced, f"{self}: ")
        return x, index, shape

    def numpy_index(self, values: Sequence[Any]) -> tuple:
        """The NumPy index for these values of the index inputs."""
        index = tuple(_bind(self.idx_list, values, int, np.asarray if self.advanced else int))
        if not self.advanced and Ellipsis not in index:
            # with an Ellipsis, an index of only integers gives a 0-d view, not a scalar
            index += (Ellipsis,)
        return index

    def make_node(self, x: Any, *index: Any) -> Apply:
        x, index, shape = self._prepare(x, index)
        return Apply(self, [x, *index], [TensorType(x.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        result = inputs[0][self.numpy_index(inputs[1:])]
        output_storage[0][0] = result if isinstance(result, np.ndarray) else np.asarray(result)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [_symbolic_shape(node.inputs[0], input_shapes[0], self.idx_list,
                                node.inputs[1:], input_shapes[1:], self.advanced)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # the index inputs choose positions; the values come from x alone
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def _writer(self, set_instead_of_inc: bool) -> "_IncOp":
        """The (not in-place) op writing into the part of x this op reads."""
        kind = AdvancedIncSubtensor if self.advanced else IncSubtensor
        return kind(self.idx_list, set_instead_of_inc=set_instead_of_inc)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ...tensor.alloc import zeros_like

        x, *index = inputs
        (g,) = output_grads
        index_grads = [disconnected_type() for _ in index]
        if is_disconnected(g):
            return [disconnected_type()] + index_grads
        # scattered back where it was read; a repeated advanced index adds up
        return [self._writer(False)(zeros_like(x), g, *index)] + index_grads

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None if eval_points[0] is None else self(eval_points[0], *inputs[1:])]


class Subtensor(_IndexOp):
    """Basic indexing ``x[idx]``: integers and slices (constant or symbolic), new axes.

    The result is a view of ``x``.

    >>> from workbench import tensor as T
    >>> import numpy as np
    >>> x = T.dmatrix('x')
    >>> y = x[1, ::-1]
    >>> y.owner.op, y.type
    (Subtensor{1, ::-1}, TensorType(float64, vector))
    >>> y.eval({x: np.arange(6.0).reshape(2, 3)}).tolist()
    [5.0, 4.0, 3.0]
    """

    view_map = {0: [0]}


class AdvancedSubtensor(_IndexOp):
    """Advanced indexing ``x[idx]``: integer arrays (broadcast together) and boolean masks,
    mixed with integers, slices, new axes and an Ellipsis, as NumPy orders them. A copy.

    >>> from workbench import tensor as T
    >>> import numpy as np
    >>> x, i = T.dmatrix('x'), T.lvector('i')
    >>> y = x[1:, i]
    >>> y.owner.op, y.type
    (AdvancedSubtensor{1:, $}, TensorType(float64, matrix))
    >>> y.eval({x: np.arange(6.0).reshape(2, 3), i: [2, 0, 2]}).tolist()
    [[5.0, 3.0, 5.0]]
    """

    advanced = True


class _IncOp(_IndexOp):
    """What the set/inc ops share: ``inplace`` (overwrite x; the later in-place rewrite sets
    it) and ``set_instead_of_inc``. Inputs: x, y, then the index inputs."""

    __props__: tuple[str, ...] = ("idx_list", "inplace", "set_instead_of_inc")

    def __init__(self, idx_list: Sequence[Any] = (), inplace: bool = False,
                 set_instead_of_inc: bool = False):
        super().__init__(idx_list)
        self.inplace = bool(inplace)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        # an instance attribute: Op's class-level {} must stay shared and empty
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self) -> str:
        name = type(self).__name__
        if self.set_instead_of_inc:
            name = name.replace("Inc", "Set")
        inner = ";".join(filter(None, [", ".join(map(index_entry_str, self.idx_list)),
                                       "inplace" if self.inplace else ""]))
        return f"{name}{{{inner}}}" if inner else name

    def make_node(self, x: Any, y: Any, *index: Any) -> Apply:
        x, index, shape = self._prepare(x, index)
        y = fit_value(y, x.dtype, f"{self}: ")
        _check_value_shape(y, shape, f"{self}: ")
        return Apply(self, [x, y, *index], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        self._store(inputs, output_storage, self.numpy_index(inputs[2:]))

    def _store(self, inputs: list, output_storage: list, index: Any) -> None:
        x, y = inputs[0], inputs[1]
        out = x if self.inplace else x.copy()
        if self.set_instead_of_inc:
            out[index] = y
        elif self.advanced:
            # each repetition of an index adds again, as a loop of increments would
            np.add.at(out, index, y)
        else:
            out[index] += y
        output_storage[0][0] = out

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [tuple(input_shapes[0])]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [True]] + [[False]] * (len(node.inputs) - 2)

    def _reader(self) -> Op:
        """The op reading the part of x this op writes."""
        return (AdvancedSubtensor if self.advanced else Subtensor)(self.idx_list)

    def _writer(self, set_instead_of_inc: bool) -> "_IncOp":
        return type(self)(self.idx_list, set_instead_of_inc=set_instead_of_inc)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from .alloc import sum_to_shape_of

        x, y, *index = inputs
        (g,) = output_grads
        index_grads = [disconnected_type() for _ in index]
        if is_disconnected(g):
            return [disconnected_type(), disconnected_type()] + index_grads
        region = self._reader()(g, *index)
        if self.set_instead_of_inc:
            # the old values of the part were overwritten: they get no gradient
            gx = self._writer(True)(g, 0, *index)
            if self._may_repeat(index):
                # of the values written to one place, only the one NumPy kept counts
                region = region * self._kept(g, region, index)
        else:
            gx = g
        return [gx, sum_to_shape_of(region, y)] + index_grads

    def _may_repeat(self, index: list) -> bool:
        """Whether the index may name one position twice (an integer array)."""
        return self.advanced and any(i.ndim > 0 and i.dtype != "bool" for i in index)

    def _kept(self, like: Variable, region: Variable, index: list) -> Variable:
        """A bool tensor of the shape of ``region``: True where the value set to that
        position of the indexed part is the one that stays (the last of duplicates)."""
        from ...tensor import math as tm
        from ...tensor.alloc import alloc
        from ...tensor.basic import constant
        from ...tensor.shape import _dims, reshape
        from .alloc import ARange

        dims = _dims(region)
        count = tm.mul(*dims) if dims else 1
        ticket = reshape(ARange("int64")(0, count, 1), dims)
        board = alloc(constant(-1, dtype="int64"), *_dims(like))
        # write each position's ticket with the same op (the same NumPy assignment order)
        # and read back which tickets survived
        board = self._writer(True)(board, ticket, *index)
        return tm.eq(self._reader()(board, *index), ticket)

    def R_op(self, inputs: list, eval_points: list) -> list:
        from ...tensor.alloc import zeros_like

        x, y, *index = inputs
        ex, ey = eval_points[:2]
        if ex is None and ey is None:
            return [None]
        ex = zeros_like(x) if ex is None else ex
        ey = zeros_like(y) if ey is None else ey
        return [self._writer(self.set_instead_of_inc)(ex, ey, *index)]


class IncSubtensor(_IncOp):
    """``x`` with ``x[idx]`` incremented by ``y`` (or set to it, ``set_instead_of_inc``),
    for a basic index; ``y`` broadcasts to the indexed shape. ``inplace`` overwrites x.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.set_subtensor(x[1:], 5.0).eval({x: [1.0, 2.0, 3.0]}).tolist()
    [1.0, 5.0, 5.0]
    """


class AdvancedIncSubtensor(_IncOp):
    """``x`` with ``x[idx]`` incremented by ``y`` (each duplicate index adds again) or set
    to it (the last duplicate wins, as in NumPy), for an advanced index.

    >>> from workbench import tensor as T
    >>> x, i = T.dmatrix('x'), T.lvector('i')
    >>> T.inc_subtensor(x[0, i], 1.0).eval({x: [[0.0, 0.0]], i: [1, 1, 0]}).tolist()
    [[1.0, 2.0]]
    """

    advanced = True


def _check_index_vector(x: Variable, ilist: Variable, where: str) -> None:
    if x.ndim == 0:
        raise TypeError(f"{where}: cannot index a scalar ({x.type}) with an index vector")
    if ilist.ndim != 1 or ilist.dtype not in INTEGER_DTYPES:
        raise TypeError(f"{where}: the index must be an integer vector, got {ilist.type}")
    data, n = getattr(ilist, "data", None), x.type.shape[0]
    if data is not None and n is not None:
        bad = data[(data >= n) | (data < -n)] if data.dtype.kind == "i" else data[data >= n]
        if bad.size:
            raise _out_of_bounds(int(bad[0]), 0, n, f"{where}: ")


class AdvancedSubtensor1(Op):
    """``x[ilist]`` for an integer vector ``ilist``: rows of ``x`` picked along axis 0.

    >>> from workbench import tensor as T
    >>> x, i = T.dvector('x'), T.lvector('i')
    >>> T.advanced_subtensor1(x, i).eval({x: [1.0, 2.0, 3.0], i: [2, -1, 0]}).tolist()
    [3.0, 3.0, 1.0]
    """

    __props__ = ()

    def make_node(self, x: Any, ilist: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x, ilist = as_tensor_variable(x), as_tensor_variable(ilist)
        _check_index_vector(x, ilist, str(self))
        shape = (ilist.type.shape[0],) + x.type.shape[1:]
        return Apply(self, [x, ilist], [TensorType(x.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x, ilist = inputs
        output_storage[0][0] = x[ilist]

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        x_shape, i_shape = input_shapes
        return [(i_shape[0],) + tuple(x_shape[1:])]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [False]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ...tensor.alloc import zeros_like

        x, ilist = inputs
        (g,) = output_grads
        if is_disconnected(g):
            return [disconnected_type()] * 2
        # rows picked several times get the sum of their gradients
        return [AdvancedIncSubtensor1()(zeros_like(x), g, ilist), disconnected_type()]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]


class AdvancedIncSubtensor1(_IncOp):
    """``x`` with ``x[ilist]`` incremented by ``y`` (duplicates add up) or set to it.

    >>> from workbench import tensor as T
    >>> x, i = T.dvector('x'), T.lvector('i')
    >>> T.inc_subtensor(x[i], 1.0).eval({x: [0.0, 0.0], i: [1, 1]}).tolist()
    [0.0, 2.0]
    """

    __props__ = ("inplace", "set_instead_of_inc")
    advanced = True

    def __init__(self, inplace: bool = False, set_instead_of_inc: bool = False):
        super().__init__((), inplace, set_instead_of_inc)

    def make_node(self, x: Any, y: Any, ilist: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x, ilist = as_tensor_variable(x), as_tensor_variable(ilist)
        _check_index_vector(x, ilist, str(self))
        y = fit_value(y, x.dtype, f"{self}: ")
        _check_value_shape(y, (ilist.type.shape[0],) + x.type.shape[1:], f"{self}: ")
        return Apply(self, [x, y, ilist], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        self._store(inputs, output_storage, inputs[2])

    def _reader(self) -> Op:
        return AdvancedSubtensor1()

    def _writer(self, set_instead_of_inc: bool) -> "_IncOp":
        return AdvancedIncSubtensor1(set_instead_of_inc=set_instead_of_inc)


# ---------------------------------------------------------------------------------------
# Nonzero, take


class CountNonzero(IntegerResultOp):
    """The number of nonzero elements of a tensor (int64 scalar); gives the length of a
    boolean mask's result to ``infer_shape``.

    >>> from workbench import tensor as T
    >>> m = T.bvector('m')
    >>> int(CountNonzero()(m).eval({m: [0, 3, 0, 1]}))
    2
    """

    __props__ = ()

    def make_node(self, a: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        a = as_tensor_variable(a)
        return Apply(self, [a], [TensorType("int64", ())()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = np.asarray(np.count_nonzero(inputs[0]), dtype="int64")

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [()]


class Nonzero(IntegerResultOp):
    """The indices of the nonzero elements: an int64 matrix with one row per axis of ``a``
    (``numpy.nonzero`` stacked), or with ``flat``, the vector ``numpy.flatnonzero``.

    >>> from workbench import tensor as T
    >>> a = T.dmatrix('a')
    >>> Nonzero()(a).eval({a: [[0.0, 1.0], [2.0, 0.0]]}).tolist()
    [[0, 1], [1, 0]]
    """

    __props__ = ("flat",)

    def __init__(self, flat: bool = False):
        self.flat = bool(flat)

    def make_node(self, a: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        a = as_tensor_variable(a)
        if a.ndim == 0:
            raise ValueError(f"{self}: nonzero of a scalar ({a.type}) is not defined; index "
                             f"a tensor of at least one dimension")
        shape = (None,) if self.flat else (a.ndim, None)
        return Apply(self, [a], [TensorType("int64", shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (a,) = inputs
        if self.flat:
            result = np.flatnonzero(a)
        else:
            result = np.array(np.nonzero(a)).reshape(a.ndim, -1)
        output_storage[0][0] = result.astype("int64", copy=False)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        count = CountNonzero()(node.inputs[0])
        return [(count,) if self.flat else _as_shape([node.inputs[0].ndim, count])]


class Take(Op):
    """``numpy.take(a, indices, axis, mode)``; ``axis=None`` takes from ``a`` flattened, and
    ``mode`` is 'raise', 'wrap' or 'clip' for indices out of range.

    >>> from workbench import tensor as T
    >>> a, i = T.dvector('a'), T.lvector('i')
    >>> Take(None, 'wrap')(a, i).eval({a: [1.0, 2.0], i: [3, -1]}).tolist()
    [2.0, 2.0]
    """

    __props__ = ("axis", "mode")

    def __init__(self, axis: int | None, mode: str = "raise"):
        if mode not in ("raise", "wrap", "clip"):
            raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
        self.axis = None if axis is None else int(axis)
        self.mode = mode

    def make_node(self, a: Any, indices: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        a, indices = as_tensor_variable(a), as_tensor_variable(indices)
        if indices.dtype not in INTEGER_DTYPES:
            raise TypeError(f"{self}: indices must be of an integer dtype, got {indices.type}")
        if self.axis is None:
            shape = indices.type.shape
        else:
            if not 0 <= self.axis < a.ndim:
                raise np.exceptions.AxisError(self.axis, a.ndim, f"{self}")
            shape = a.type.shape[:self.axis] + indices.type.shape + a.type.shape[self.axis + 1:]
        return Apply(self, [a, indices], [TensorType(a.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        a, indices = inputs
        output_storage[0][0] = np.asarray(np.take(a, indices, axis=self.axis, mode=self.mode))

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        a_shape, i_shape = map(tuple, input_shapes)
        if self.axis is None:
            return [i_shape]
        return [a_shape[:self.axis] + i_shape + a_shape[self.axis + 1:]]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [False]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ...tensor import math as tm
        from ...tensor.alloc import zeros_like
        from ...tensor.shape import _dim, _dims, flatten, reshape
        from ...tensor.subtensor import inc_subtensor

        a, indices = inputs
        (g,) = output_grads
        if is_disconnected(g):
            return [disconnected_type()] * 2
        source = flatten(a) if self.axis is None else a
        axis = 0 if self.axis is None else self.axis
        # the positions actually read, as plain (possibly negative) indices
        n = _dim(source, axis)
        if self.mode == "wrap":
            indices = tm.mod(indices, n)
        elif self.mode == "clip":
            indices = tm.clip(indices, 0, tm.sub(n, 1))
        if self.axis is None:
            flat = inc_subtensor(zeros_like(source)[flatten(indices)], flatten(g))
            return [reshape(flat, _dims(a)), disconnected_type()]
        read = (slice(None),) * axis + (indices,)
        return [inc_subtensor(zeros_like(a)[read], g), disconnected_type()]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [None if eval_points[0] is None else self(eval_points[0], inputs[1])]

