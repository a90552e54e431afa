"""Neural-network ops: softmax, log-softmax and cross-entropies with integer labels.

Every ``perform`` is numerically stable: the softmaxes shift by the maximum before
exponentiating (as ``scipy.special.softmax``/``log_softmax`` do), and the cross-entropy from
logits is ``logsumexp(x) - x[label]``, so logits of 1000 stay finite.

Integer and bool inputs are computed in the float dtype ``numpy.exp`` would give them (the
rule the scalar table's ``sigmoid`` follows); complex inputs are refused.

>>> import numpy as np
>>> from workbench import tensor as T
>>> x = T.dmatrix('x')
>>> LogSoftmax(axis=-1)(x).eval({x: [[1000.0, 0.0]]}).tolist()
[[0.0, -1000.0]]
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ..graph import Apply, Op, Variable
from ..gradtypes import disconnected_type, is_disconnected
from ..types import TensorType
from .elemwise import Elemwise
from .scalar import ScalarOp
from .axes import normalize_axes as normalize_axis_list
from .axes import normalize_axis


@lru_cache(maxsize=None)
def _float_out(*dtypes: str) -> str:
    """The float dtype ``numpy.exp`` gives for ``dtype`` (float dtypes are kept)."""
    return np.exp(np.ones(1, dtype=dtypes[0])).dtype.name


def float_dtype_for(var: Variable, where: str) -> str:
    """The dtype a float computation on ``var`` gives (its own if float), or raise for a
    complex input."""
    if var.dtype in ("complex64", "complex128"):
        raise TypeError(f"{where} is defined for real inputs, got {var} of dtype {var.dtype}")
    return _float_out(var.dtype)


def normalize_axes(axis: int | Sequence[int] | None, ndim: int, where: str
                   ) -> int | tuple[int, ...] | None:
    """``axis`` made non-negative: None (every axis), an int, or a tuple of distinct ints."""
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        return normalize_axis_list(tuple(axis), ndim, where)
    return normalize_axis(axis, ndim, where)


# ---------------------------------------------------------------------------------------
# Theano's piecewise approximation of the sigmoid, as a scalar op


def _ultra_fast_sigmoid(x: Any) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(_float_out(x.dtype.name))
    # Theano's tanh approximation on |x/2|, mirrored for negative x; NaN stays NaN
    # (Theano's branches would turn it into 0.0025, hiding the NaN)
    half = np.abs(x * 0.5)
    z = np.where(half < 1.7, 1.5 * half / (1 + half),
                 np.where(half < 3, 0.935409070603099 + 0.0458812946797165 * (half - 1.7),
                          0.99505475368673))
    z = np.where(x >= 0, z, -z)
    out = np.where(np.isnan(x), x, 0.5 * (z + 1.0))
    return out.astype(x.dtype, copy=False)


def _ufs_c_expr() -> str:
    t = "fabs(0.5 * {0})"
    z = (f"({t} < 1.7 ? 1.5 * {t} / (1.0 + {t}) : ({t} < 3.0 ? 0.935409070603099 + "
         f"0.0458812946797165 * ({t} - 1.7) : 0.99505475368673))")
    return f"(isnan({{0}}) ? {{0}} : 0.5 * (1.0 + ({{0}} >= 0 ? {z} : -{z})))"


#: Theano's ``ultra_fast_sigmoid`` scalar op (a speed approximation, max error about 0.02)
ultra_fast_sigmoid_scalar = ScalarOp("ultra_fast_sigmoid", 1, _ultra_fast_sigmoid,
                                     _ufs_c_expr(), _float_out)


class UltraFastSigmoid(Elemwise):
    """The elementwise ultra-fast sigmoid, with the exact derivative of the piecewise
    approximation it computes (not the true sigmoid's ``s * (1 - s)``), so that the gradient
    is the one of the function actually evaluated.

    With ``h = |x| / 2`` the output is ``0.5 * (1 + sign(x) * z(h))``, hence
    ``d/dx = 0.25 * z'(h)``: ``1.5 / (1 + h)**2`` below 1.7, the slope of the linear piece
    below 3, and 0 on the flat tail. (The approximation jumps by about 0.009 at ``h = 1.7``;
    the derivative there is the one-sided one.)

    >>> from workbench import tensor as T
    >>> x = T.dscalar('x')
    >>> float(T.grad(ultra_fast_sigmoid_op(x), x).eval({x: 0.0}))
    0.375
    """

    def __init__(self) -> None:
        super().__init__(ultra_fast_sigmoid_scalar)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        (x,), (g,) = inputs, output_grads
        return [g * _ultra_fast_sigmoid_slope(x)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        (x,), (v,) = inputs, eval_points
        return [None if v is None else v * _ultra_fast_sigmoid_slope(x)]


def _ultra_fast_sigmoid_slope(x: Variable) -> Variable:
    """The derivative of :func:`_ultra_fast_sigmoid` at ``x``, as a graph."""
    from ... import tensor as T

    half = T.abs(x) * 0.5
    inner = 1.5 / T.sqr(1.0 + half)
    # the linear piece's slope below 3, zero on the flat tail (cast keeps x's float dtype)
    linear = T.cast(T.lt(half, 3.0), half.dtype) * 0.0458812946797165
    return 0.25 * T.switch(T.lt(half, 1.7), inner, linear)


ultra_fast_sigmoid_op = UltraFastSigmoid()


# ---------------------------------------------------------------------------------------
# Softmax and log-softmax


def _softmax(x: np.ndarray, axis: Any) -> np.ndarray:
    if x.size == 0:
        return x.copy()
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: Any) -> np.ndarray:
    if x.size == 0:
        return x.copy()
    peak = np.max(x, axis=axis, keepdims=True)
    # an infinite peak would make x - peak NaN everywhere; shifting by 0 there keeps the
    # finite entries meaningful (scipy.special.log_softmax does the same)
    peak = np.where(np.isfinite(peak), peak, 0)
    shifted = x - peak
    with np.errstate(divide="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class _SoftmaxBase(Op):
    __props__ = ("axis",)

    def __init__(self, axis: int | Sequence[int] | None = -1):
        if isinstance(axis, list):
            axis = tuple(axis)
        self.axis = axis

    def make_node(self, x: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        dtype = float_dtype_for(x, str(self))
        normalize_axes(self.axis, x.ndim, str(self))
        return Apply(self, [x], [TensorType(dtype, x.type.shape)()])

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [tuple(input_shapes[0])]


def softmax_jvp(s: Variable, v: Variable, axis: Any) -> Variable:
    """``J v`` for the softmax ``s`` along ``axis``: ``s * (v - sum(s * v, axis))``.

    The softmax Jacobian ``diag(s) - s sᵀ`` is symmetric, so this is also the
    vector-Jacobian product ``Jᵀ v`` that the gradient needs.

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> s, v = T.dvectors('s', 'v')
    >>> softmax_jvp(s, v, -1).eval({s: [0.5, 0.5], v: [1.0, 0.0]}).tolist()
    [0.25, -0.25]
    """
    from ... import tensor as T

    return s * (v - T.sum(s * v, axis=axis, keepdims=True))


class Softmax(_SoftmaxBase):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int, a tuple, or None for all axes),
    computed with the maximum subtracted first.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> Softmax(axis=-1)(x).eval({x: [1000.0, 1000.0]}).tolist()
    [0.5, 0.5]
    """

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        x = x.astype(node.outputs[0].type.dtype, copy=False)
        output_storage[0][0] = _softmax(x, self.axis)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        # d(cost)/dx = (g - sum(g * s)) * s, from the output itself: no recomputation
        return [softmax_jvp(outputs[0], output_grads[0], self.axis)]

    def R_op(self, inputs: list, eval_points: list) -> list:
        if eval_points[0] is None:
            return [None]
        return [softmax_jvp(self(inputs[0]), eval_points[0], self.axis)]


class LogSoftmax(_SoftmaxBase):
    """``x - logsumexp(x)`` along ``axis``: the log of :class:`Softmax`, finite where the
    softmax underflows to 0.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> LogSoftmax(axis=0)(x).eval({x: [0.0, -2000.0]}).tolist()
    [0.0, -2000.0]
    """

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        (x,) = inputs
        x = x.astype(node.outputs[0].type.dtype, copy=False)
        output_storage[0][0] = _log_softmax(x, self.axis)

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ... import tensor as T

        # y = x - logsumexp(x): dy/dx = I - softmax; exp(y) is the softmax, computed stably
        (g,) = output_grads
        return [g - T.sum(g, axis=self.axis, keepdims=True) * T.exp(outputs[0])]

    def R_op(self, inputs: list, eval_points: list) -> list:
        from ... import tensor as T

        (v,) = eval_points
        if v is None:
            return [None]
        s = Softmax(self.axis)(inputs[0])
        return [v - T.sum(s * v, axis=self.axis, keepdims=True)]


# ---------------------------------------------------------------------------------------
# Cross-entropies with integer labels


def _check_labels(labels: Variable, where: str) -> None:
    if labels.dtype not in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                            "uint64"):
        raise TypeError(f"{where}: the labels must be integer class indices, got {labels} of "
                        f"dtype {labels.dtype}")


def _check_label_shape(dist: Variable, labels: Variable, where: str, what: str) -> None:
    """Labels index the last axis of ``dist``: one label per row (per leading index)."""
    if dist.ndim < 1:
        raise ValueError(f"{where}: {what} must have at least one dimension (the classes), "
                         f"got {dist.type}")
    if labels.ndim != dist.ndim - 1:
        raise ValueError(f"{where}: {what} of {dist.ndim} dimensions needs labels of "
                         f"{dist.ndim - 1} dimension(s), one per row; got {labels.type}")
    for axis, (a, b) in enumerate(zip(dist.type.shape[:-1], labels.type.shape)):
        if a is not None and b is not None and a != b:
            raise ValueError(f"{where}: {b} labels for {a} rows of {what} (axis {axis}); "
                             f"there must be one label per row")


def _validate_labels(labels: np.ndarray, dist_shape: tuple, where: str, what: str) -> None:
    if labels.shape != tuple(dist_shape[:-1]):
        if labels.ndim == 1 and len(dist_shape) == 2:
            raise ValueError(f"{where}: {labels.shape[0]} labels for {dist_shape[0]} rows of "
                             f"{what}; there must be one label per row")
        raise ValueError(f"{where}: labels of shape {labels.shape} for {what} of shape "
                         f"{dist_shape}; the labels' shape must be {tuple(dist_shape[:-1])}")
    n_classes = dist_shape[-1]
    bad = (labels < 0) | (labels >= n_classes)
    if np.any(bad):
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        at = "" if not pos else f" (at position {pos[0] if len(pos) == 1 else pos})"
        valid = f"labels must be in [0, {n_classes - 1}]" if n_classes else \
            f"{what} has no classes"
        raise IndexError(f"{where}: label {labels[pos]}{at} is out of range for {n_classes} "
                         f"classes; {valid}")


def _pick(dist: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``dist[..., labels]`` taken row by row."""
    return np.take_along_axis(dist, labels.astype(np.intp)[..., None], axis=-1)[..., 0]


def label_mask(labels: Variable, dist: Variable) -> Variable:
    """A bool tensor shaped like ``dist``: True at ``[..., labels[...]]`` (each row's label).

    >>> from workbench import tensor as T
    >>> p, y = T.dmatrix('p'), T.lvector('y')
    >>> label_mask(y, p).eval({p: [[0.5, 0.5]], y: [1]}).tolist()
    [[False, True]]
    """
    from ... import tensor as T

    classes = T.arange(T.shape_i(dist, dist.ndim - 1))
    return T.eq(T.shape_padright(labels), classes)


class CrossentropyCategorical1Hot(Op):
    """``-log(coding_dist[i, labels[i]])`` per row: the cross-entropy of a probability
    matrix against integer class labels (Theano's ``crossentropy_categorical_1hot``).

    Labels out of ``[0, n_classes)`` raise IndexError; a label count that differs from the
    row count raises ValueError.

    >>> from workbench import tensor as T
    >>> p, y = T.dmatrix('p'), T.lvector('y')
    >>> out = CrossentropyCategorical1Hot()(p, y)
    >>> out.eval({p: [[0.5, 0.5], [1.0, 0.0]], y: [1, 0]}).round(4).tolist()
    [0.6931, -0.0]
    """

    __props__ = ()

    def make_node(self, coding_dist: Any, labels: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable

        coding_dist, labels = as_tensor_variable(coding_dist), as_tensor_variable(labels)
        where = "crossentropy_categorical_1hot"
        dtype = float_dtype_for(coding_dist, where)
        _check_labels(labels, where)
        _check_label_shape(coding_dist, labels, where, "coding_dist")
        shape = tuple(a if a is not None else b
                      for a, b in zip(coding_dist.type.shape[:-1], labels.type.shape))
        return Apply(self, [coding_dist, labels], [TensorType(dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        dist, labels = inputs
        _validate_labels(labels, dist.shape, "crossentropy_categorical_1hot", "coding_dist")
        dtype = node.outputs[0].type.dtype
        with np.errstate(divide="ignore"):
            out = -np.log(_pick(dist, labels).astype(dtype, copy=False))
        output_storage[0][0] = np.asarray(out, dtype=dtype)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [tuple(input_shapes[1])]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # the integer labels select an entry; the loss is not a function of them to derive
        return [[True], [False]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ... import tensor as T

        dist, labels = inputs
        (g,) = output_grads
        mask = label_mask(labels, dist)
        # -g / p at the true class, 0 elsewhere; switch (not a product with the mask) keeps
        # a zero probability at another class from turning 0 * inf into NaN
        picked = T.sum(T.switch(mask, dist, 0), axis=-1)
        return [T.switch(mask, T.shape_padright(-g / picked), 0), disconnected_type()]

    def R_op(self, inputs: list, eval_points: list) -> list:
        from ... import tensor as T

        dist, labels = inputs
        v = eval_points[0]
        if v is None:
            return [None]
        mask = label_mask(labels, dist)
        picked = T.sum(T.switch(mask, dist, 0), axis=-1)
        return [-T.sum(T.switch(mask, v, 0), axis=-1) / picked]


class CrossentropySoftmaxArgmax1HotWithBias(Op):
    """From logits ``x``, a bias ``b`` over the classes (or None) and integer labels: the
    negative log-likelihood ``logsumexp(x + b) - (x + b)[label]`` per row, the softmax of
    ``x + b``, and each row's argmax (int64). Theano's op of the same name.

    >>> from workbench import tensor as T
    >>> x, b, y = T.dmatrix('x'), T.dvector('b'), T.lvector('y')
    >>> nll, sm, am = CrossentropySoftmaxArgmax1HotWithBias()(x, b, y)
    >>> nll.eval({x: [[1000.0, 0.0]], b: [0.0, 0.0], y: [1]}).tolist()
    [1000.0]
    """

    __props__ = ()
    _where = "crossentropy_softmax_argmax_1hot_with_bias"

    def make_node(self, *inputs: Any) -> Apply:
        """``(x, b, labels)``; ``b`` may be None, or left out: ``(x, labels)``."""
        from ...tensor.basic import as_tensor_variable

        where = self._where
        if len(inputs) == 2:
            inputs = (inputs[0], None, inputs[1])
        if len(inputs) != 3:
            raise TypeError(f"{where} takes (x, b, labels) or (x, labels), got "
                            f"{len(inputs)} inputs")
        x, b, labels = inputs
        x, labels = as_tensor_variable(x), as_tensor_variable(labels)
        if x.ndim != 2:
            raise ValueError(f"{where}: x must be a matrix (rows of logits), got {x.type}")
        dtype = float_dtype_for(x, where)
        classes = x.type.shape[1]
        inputs = [x]
        if b is not None:
            b = as_tensor_variable(b)
            if b.ndim != 1:
                raise ValueError(f"{where}: b must be a vector (one bias per class), got "
                                 f"{b.type}")
            if None not in (classes, b.type.shape[0]) and classes != b.type.shape[0]:
                raise ValueError(f"{where}: b has {b.type.shape[0]} entries for {classes} "
                                 f"classes of x; there must be one bias per class")
            classes = classes if classes is not None else b.type.shape[0]
            dtype = np.result_type(dtype, float_dtype_for(b, where)).name
            inputs.append(b)
        _check_labels(labels, where)
        _check_label_shape(x, labels, where, "x")
        rows = x.type.shape[0] if x.type.shape[0] is not None else labels.type.shape[0]
        return Apply(self, inputs + [labels], [TensorType(dtype, (rows,))(),
                                               TensorType(dtype, (rows, classes))(),
                                               TensorType("int64", (rows,))()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        x, labels = inputs[0], inputs[-1]
        dtype = node.outputs[0].type.dtype
        z = x.astype(dtype, copy=False)
        if len(inputs) == 3:
            b = inputs[1]
            if b.shape != x.shape[1:]:
                raise ValueError(f"{self._where}: b has {b.shape[0]} entries for "
                                 f"{x.shape[1]} classes of x; there must be one bias per "
                                 f"class")
            z = np.add(z, b, dtype=dtype)
        _validate_labels(labels, z.shape, self._where, "x")
        output_storage[0][0] = np.asarray(-_pick(_log_softmax(z, -1), labels), dtype=dtype)
        output_storage[1][0] = np.asarray(_softmax(z, -1), dtype=dtype)
        am = np.argmax(z, axis=-1) if z.shape[-1] else np.zeros(z.shape[:-1], np.int64)
        output_storage[2][0] = np.asarray(am, dtype=np.int64)

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        xshape = input_shapes[0]
        return [(xshape[0],), tuple(xshape), (xshape[0],)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # x and b reach the loss and the softmax; the argmax is integer (piecewise constant)
        # and the labels only select entries, so neither carries a gradient
        values = [[True, True, False] for _ in node.inputs[:-1]]
        return values + [[False, False, False]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        from ... import tensor as T

        _, sm, _ = outputs
        g_nll, g_sm, _ = output_grads
        terms = []
        if not is_disconnected(g_nll):
            # d nll / dz = softmax - onehot: from the stable softmax output, finite for any
            # logits (no exp of a large number, no log of an underflowed 0)
            onehot = T.cast(label_mask(inputs[-1], sm), sm.dtype)
            terms.append(T.shape_padright(g_nll) * (sm - onehot))
        if not is_disconnected(g_sm):
            terms.append(softmax_jvp(sm, g_sm, -1))
        dz = T.add(*terms) if len(terms) > 1 else terms[0] if terms else T.zeros_like(sm)
        grads = [dz]
        if len(inputs) == 3:
            grads.append(T.sum(dz, axis=0))  # b is broadcast over the rows
        return grads + [disconnected_type()]

    def R_op(self, inputs: list, eval_points: list) -> list:
        from ... import tensor as T

        tangents = [v for v in eval_points[:-1] if v is not None]
        if not tangents:
            return [None, None, None]
        dz = T.add(*tangents) if len(tangents) > 1 else tangents[0]
        _, sm, _ = self.make_node(*inputs).outputs
        onehot = T.cast(label_mask(inputs[-1], sm), sm.dtype)
        d_nll = T.sum((sm - onehot) * dz, axis=-1)
        return [d_nll, softmax_jvp(sm, dz, -1), None]
