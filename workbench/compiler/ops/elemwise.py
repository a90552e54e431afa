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
from ..gradtypes import (disconnected_type, grad_not_implemented, grad_undefined,
                         is_disconnected)
from ..types import DISCRETE_DTYPES, TensorType
from .scalar import Composite, ScalarOp


def broadcast_static_shapes(shapes: Sequence[tuple[int | None, ...]], where: Any = ""
                            ) -> tuple[int | None, ...]:
    """Combine static shapes of equal length as broadcasting does; raise on a sure mismatch.
    ``where`` (text, or an op) prefixes the error; it is formatted only on error."""
    out: list[int | None] = []
    for axis, dims in enumerate(zip(*shapes)):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            where = where if isinstance(where, str) else f"{where}: "
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
        shape = broadcast_static_shapes([i.type.shape for i in padded], where=self)
        dtype = self.scalar_op.output_dtype(*[i.dtype for i in padded])
        for out_i, in_i in self.inplace_pattern.items():
            if padded[in_i].dtype != dtype or padded[in_i].type.shape != shape:
                raise TypeError(f"{self}: input {in_i} cannot hold output {out_i} in place")
        return Apply(self, padded, [TensorType(dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        if self.inplace_pattern:
            target = inputs[self.inplace_pattern[0]]
            impl = self.scalar_op.impl
            if isinstance(impl, np.ufunc) and impl.nout == 1 and target.flags.writeable:
                impl(*inputs, out=target, casting="unsafe")  # no temporary: the point of it
            else:
                np.copyto(target, impl(*inputs), casting="unsafe")
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

    # -- differentiation: the scalar op's derivative rule (scalar_grad.py), lifted over tensors

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        connected = _connected(self.scalar_op, node.outputs[0])
        return [[connected] for _ in node.inputs]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """``gz * ∂f/∂x_i`` for each input, summed over the axes it was broadcast along.

        >>> from workbench import tensor as T
        >>> x, y = T.dcol('x'), T.drow('y')
        >>> T.grad(T.sum(x * y), y).eval({x: [[1.0], [2.0]], y: [[3.0, 4.0]]}).tolist()
        [[3.0, 3.0]]
        """
        from ...tensor.alloc import zeros_like
        from ...tensor.math import conj
        from .scalar_grad import (NotImplementedGrad, Undefined, derivative_rule,
                                  input_gradient, is_complex)

        (out,), (gz,) = outputs, output_grads
        if is_disconnected(gz) or not _connected(self.scalar_op, out):
            return [disconnected_type() for _ in inputs]
        if isinstance(self.scalar_op, Composite):
            return _composite_lop(self.scalar_op, inputs, gz)
        rule = derivative_rule(self.scalar_op)
        why = _why_no_partials(self.scalar_op, rule, inputs, out)
        if why:
            return [_discrete_zeros(x) if _is_discrete(x) else
                    grad_not_implemented(self, i, x, why) for i, x in enumerate(inputs)]
        if rule.conjugating and is_complex(inputs[0]):
            return [conj(gz)]
        grads: list = []
        for i, (x, p) in enumerate(zip(inputs, rule.partials(inputs, out))):
            if _is_discrete(x):
                # dropped by grad(), or replaced by zeros when asked for (Theano's convention)
                grads.append(_discrete_zeros(x))
            elif isinstance(p, Undefined):
                grads.append(grad_undefined(self, i, x, p.why))
            elif isinstance(p, NotImplementedGrad):
                grads.append(grad_not_implemented(self, i, x, p.why))
            elif not isinstance(p, Variable) and p == 0:
                grads.append(zeros_like(x))
            else:
                grads.append(_sum_to_input(input_gradient(gz, p, x), inputs, i))
        return grads

    def R_op(self, inputs: list, eval_points: list) -> list:
        """The tangent ``Σ_i ∂f/∂x_i · u_i`` of the output, from the same partials as L_op.

        >>> from workbench import tensor as T
        >>> x, u = T.dvectors('x', 'u')
        >>> T.Rop(T.exp(x), x, u).eval({x: [0.0, 0.0], u: [1.0, 2.0]}).tolist()
        [1.0, 2.0]
        """
        from ...tensor.alloc import fill, zeros_like
        from ...tensor.basic import cast
        from ...tensor.math import add, conj
        from .scalar_grad import Partial, derivative_rule, is_complex, tangent_term

        out = Elemwise(self.scalar_op).make_node(*inputs).outputs[0]
        if not _connected(self.scalar_op, out):
            return [None]
        if isinstance(self.scalar_op, Composite):
            return [_composite_rop(self.scalar_op, inputs, eval_points)]
        rule = derivative_rule(self.scalar_op)
        if _why_no_partials(self.scalar_op, rule, inputs, out):
            return NotImplemented  # grad.Rop's fallback reports the missing gradient
        if rule.conjugating and is_complex(inputs[0]):
            return [None if eval_points[0] is None else conj(eval_points[0])]
        partials: list[Partial] = rule.partials(inputs, out)
        terms, covered = [], []
        for x, p, u in zip(inputs, partials, eval_points):
            if u is None or _is_discrete(x):
                continue
            if not isinstance(p, Variable):
                if not isinstance(p, (int, float, complex)):
                    return NotImplemented  # an undefined partial: the fallback raises
                if p == 0:
                    continue
            terms.append(tangent_term(p, u, out))
            covered.append(x)
        if not terms:
            return [zeros_like(out)]
        tangent = add(*terms)
        uncovered = [x for x in inputs if not any(x is c for c in covered)]
        if any(s != 1 for x in uncovered for s in x.type.shape) and \
                (None in tangent.type.shape or tangent.type.shape != out.type.shape):
            # an input without a tangent may have set the output's shape: broadcast to it
            tangent = fill(out, tangent)
        return [tangent if tangent.dtype == out.dtype else cast(tangent, out.dtype)]


def _is_discrete(var: Variable) -> bool:
    return var.type.dtype in DISCRETE_DTYPES


def _connected(scalar_op: ScalarOp, out: Variable) -> bool:
    """Whether a gradient flows from the output to the inputs: never through a discrete
    (integer or bool) output, nor through an op whose rule says disconnected."""
    from .scalar_grad import derivative_rule

    if _is_discrete(out):
        return False
    rule = derivative_rule(scalar_op)
    return rule is None or rule.connected


def _why_no_partials(scalar_op: ScalarOp, rule: Any, inputs: list, out: Variable) -> str:
    """Why the rule cannot give the partials here ('' when it can)."""
    from .scalar_grad import is_complex

    if rule is None:
        return f"the scalar op {scalar_op} has no derivative rule"
    if not rule.complex_ok and any(is_complex(v) for v in [*inputs, out]):
        return f"{scalar_op} is not differentiated for complex numbers"
    return ""


def _discrete_zeros(x: Variable) -> Variable:
    from ...config import config
    from ...tensor.alloc import zeros_like

    return zeros_like(x, dtype=config.floatX)


def _sum_to_input(g: Variable, inputs: list, i: int) -> Variable:
    """``g`` (at the output's shape) summed over the axes input ``i`` was broadcast along.

    Static shapes decide where they can (size 1 in the input, not in ``g``). A dimension of
    unknown size may still have been 1 at run time, broadcast against another input, when
    that other input could be larger there; then the sum is left to ``sum_to_shape_of``,
    which decides at run time.
    """
    from ...tensor.reduce import sum as tsum
    from .alloc import sum_to_shape_of

    x = inputs[i]
    others = [v for v in inputs if v is not x]
    sure: list[int] = []
    unsure = False
    for d, (xs, gs) in enumerate(zip(x.type.shape, g.type.shape)):
        if xs == 1 and gs != 1:
            sure.append(d)
        elif xs is None and gs != 1 and any(o.type.shape[d] != 1 for o in others):
            unsure = True
    if unsure:
        return sum_to_shape_of(g, x)
    if sure:
        return tsum(g, axis=tuple(sure), keepdims=True)
    return g


def expand_composite(composite: Composite, inputs: Sequence[Variable]) -> Variable:
    """The program of ``composite`` applied to ``inputs`` as a graph of tensor Elemwise ops
    (all inputs of the same number of dimensions, as an Elemwise node's are).

    >>> from workbench.compiler.ops import scalar as ps
    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> fused = ps.Composite(((ps.exp, (0,)), (ps.mul, (0, 1))), 1)
    >>> expand_composite(fused, [x]).eval({x: [0.0, 1.0]}).tolist()
    [0.0, 2.718281828459045]
    """
    values = list(inputs)
    for op, idx in composite.program:
        values.append(Elemwise(op)(*[values[k] for k in idx]))
    return values[-1]


def _composite_lop(composite: Composite, inputs: list, gz: Variable) -> list:
    """Differentiate the expanded program. It is built on placeholders (so that an input
    appearing twice gets the gradient of its own position, and the sweep stays inside the
    fused expression), then the placeholders are replaced by the node's inputs."""
    from ..grad import grad
    from ..graph import clone_graph

    holders = [x.type() for x in inputs]
    g_holder = gz.type()
    out = expand_composite(composite, holders)
    grads = grad(None, holders, known_grads={out: g_holder}, disconnected_inputs="ignore",
                 return_disconnected="Disconnected", null_gradients="return")
    tensors = [g for g in grads if isinstance(g.type, TensorType)]
    replace = dict(zip(holders, inputs))
    replace[g_holder] = gz
    _, new, _ = clone_graph(holders + [g_holder], tensors, replace=replace, copy_inputs=False)
    done = dict(zip(map(id, tensors), new))
    return [done.get(id(g), g) for g in grads]


def _composite_rop(composite: Composite, inputs: list, eval_points: list) -> Variable | None:
    """The tangent of the expanded program, built on placeholders as in ``_composite_lop``."""
    from ..grad import Rop
    from ..graph import clone_graph, io_toposort
    from ..gradtypes import connection_pattern

    holders = [x.type() for x in inputs]
    out = expand_composite(composite, holders)
    pairs = [(h, u.type()) for h, u in zip(holders, eval_points) if u is not None]
    live = {id(h) for h, _ in pairs}
    for node in io_toposort(holders, [out]):
        pattern = connection_pattern(node)
        for k, o in enumerate(node.outputs):
            if any(id(x) in live and pattern[j][k] for j, x in enumerate(node.inputs)):
                live.add(id(o))
    if id(out) not in live:
        return None
    tangent = Rop(out, [h for h, _ in pairs], [t for _, t in pairs])
    replace = dict(zip(holders, inputs))
    replace.update({t: u for (_, t), u in zip(pairs, [u for u in eval_points if u is not None])})
    _, (new,), _ = clone_graph(list(replace), [tangent], replace=replace, copy_inputs=False)
    return new


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
        # the dropped (size 1) axes go last, so that reshape removes them
        order = self.shuffle + self.drop
        res = np.transpose(x, order) if order != sorted(order) else x
        if self.drop:
            res = res.reshape([x.shape[d] for d in self.shuffle])
        if self.augment:
            res = np.expand_dims(res, self.augment)
        output_storage[0][0] = res if isinstance(res, np.ndarray) else np.asarray(res)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        (ishape,) = input_shapes
        return [tuple(1 if d == "x" else ishape[d] for d in self.new_order)]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """The inverse shuffle of the output's gradient: the axes ``'x'`` added (size 1) are
        dropped, the input's dropped (size 1) axes put back.

        >>> from workbench import tensor as T
        >>> x = T.dmatrix('x')
        >>> T.grad(T.sum(x.dimshuffle(1, 'x', 0) * [[[1.0, 2.0]]]), x).eval(
        ...     {x: [[0.0], [0.0]]}).tolist()
        [[1.0], [2.0]]
        """
        (gz,) = output_grads
        if is_disconnected(gz):
            return [disconnected_type()]
        order: list[int | str] = ["x"] * len(self.input_broadcastable)
        for position, d in enumerate(self.new_order):
            if d != "x":
                order[d] = position
        if order == list(range(gz.ndim)):
            return [gz]
        # the added axes are size 1 by construction, whatever gz's static shape says
        broadcastable = [b or i in self.augment for i, b in enumerate(gz.broadcastable)]
        return [DimShuffle(broadcastable, order)(gz)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """A DimShuffle is linear: the tangent is shuffled the same way."""
        (u,) = eval_points
        return [None if u is None else self(u)]
