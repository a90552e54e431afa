"""``T.nnet``: activations, softmaxes and cross-entropies, with Theano's names.

Softmax, log-softmax and the cross-entropies with integer labels are dedicated ops with
numerically stable implementations (:mod:`workbench.compiler.ops.nnet`); the rest are
elementwise expressions.

>>> from workbench import tensor as T
>>> x = T.dmatrix('x')
>>> T.nnet.softmax(x).eval({x: [[0.0, 0.0]]}).tolist()
[[0.5, 0.5]]
"""
from __future__ import annotations

from typing import Any, Sequence

from ..compiler.ops.nnet import (CrossentropyCategorical1Hot,
                                 CrossentropySoftmaxArgmax1HotWithBias, LogSoftmax, Softmax,
                                 float_dtype_for, normalize_axes,
                                 ultra_fast_sigmoid_op)
from . import math as tm
from .basic import as_tensor_variable, cast
from .math import relu, sigmoid, softplus
from .reduce import sum as reduce_sum
from .variable import TensorVariable

__all__ = ["sigmoid", "softplus", "relu", "softsign", "ultra_fast_sigmoid", "hard_sigmoid",
           "elu", "selu", "softmax", "logsoftmax", "softmax_with_bias",
           "categorical_crossentropy", "crossentropy_categorical_1hot",
           "crossentropy_softmax_1hot", "crossentropy_softmax_1hot_with_bias",
           "crossentropy_softmax_argmax_1hot_with_bias", "binary_crossentropy",
           "sigmoid_binary_crossentropy", "Softmax", "LogSoftmax",
           "CrossentropyCategorical1Hot", "CrossentropySoftmaxArgmax1HotWithBias"]

#: the constants of SELU (Klambauer et al., 2017), as Theano has them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def softsign(x: Any) -> TensorVariable:
    """``x / (1 + |x|)`` elementwise.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.nnet.softsign(x).eval({x: [-1.0, 3.0]}).tolist()
    [-0.5, 0.75]
    """
    return tm.elemwise("softsign")(x)


def ultra_fast_sigmoid(x: Any) -> TensorVariable:
    """Theano's piecewise approximation of :func:`sigmoid` (faster, absolute error up to
    about 0.02); NaN stays NaN.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.nnet.ultra_fast_sigmoid(x).eval({x: [0.0, 100.0]}).round(4).tolist()
    [0.5, 0.9975]
    """
    return ultra_fast_sigmoid_op(x)


def hard_sigmoid(x: Any) -> TensorVariable:
    """Theano's linear approximation of :func:`sigmoid`: ``clip(0.2 * x + 0.5, 0, 1)``,
    computed in the float dtype of ``x`` (integers take the dtype ``T.sigmoid`` gives).

    >>> from workbench import tensor as T
    >>> x = T.fvector('x')
    >>> y = T.nnet.hard_sigmoid(x)
    >>> y.dtype, y.eval({x: [-5.0, 0.0, 1.0]}).tolist()
    ('float32', [0.0, 0.5, 0.699999988079071])
    """
    x = as_tensor_variable(x)
    x = cast(x, float_dtype_for(x, "hard_sigmoid"))
    return tm.clip(tm.add(tm.mul(x, 0.2), 0.5), 0, 1)


def elu(x: Any, alpha: Any = 1) -> TensorVariable:
    """The exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.nnet.elu(x).eval({x: [2.0, 0.0]}).tolist()
    [2.0, 0.0]
    """
    x = as_tensor_variable(x)
    return tm.switch(tm.gt(x, 0), x, tm.mul(alpha, tm.expm1(x)))


def selu(x: Any) -> TensorVariable:
    """The scaled exponential linear unit: ``scale * elu(x, alpha)`` with the constants of
    Klambauer et al. (2017).

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> T.nnet.selu(x).eval({x: [1.0]}).round(6).tolist()
    [1.050701]
    """
    return tm.mul(SELU_SCALE, elu(x, SELU_ALPHA))


def _axes(c: TensorVariable, axis: Any, where: str) -> Any:
    if isinstance(axis, TensorVariable):
        raise TypeError(f"{where}: axis must be an int, a tuple of ints or None, not the "
                        f"symbolic {axis}")
    if isinstance(axis, list):
        axis = tuple(axis)
    return normalize_axes(axis, c.ndim, where)


def softmax(c: Any, axis: int | Sequence[int] | None = -1) -> TensorVariable:
    """``exp(c) / sum(exp(c))`` along ``axis`` (default: the last; None: all), computed
    without overflow. Theano's ``softmax`` works on the rows of a matrix, which is the
    default here; any number of dimensions is accepted.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> T.nnet.softmax(x).eval({x: [[1000.0, 1000.0, 1000.0]]}).round(4).tolist()
    [[0.3333, 0.3333, 0.3333]]
    """
    c = as_tensor_variable(c)
    return Softmax(_axes(c, axis, "softmax"))(c)


def logsoftmax(c: Any, axis: int | Sequence[int] | None = -1) -> TensorVariable:
    """``log(softmax(c))`` along ``axis``, as ``c - logsumexp(c)``: finite where the softmax
    underflows.

    >>> from workbench import tensor as T
    >>> x = T.dmatrix('x')
    >>> T.nnet.logsoftmax(x).eval({x: [[1000.0, 0.0]]}).tolist()
    [[0.0, -1000.0]]
    """
    c = as_tensor_variable(c)
    return LogSoftmax(_axes(c, axis, "logsoftmax"))(c)


def softmax_with_bias(x: Any, b: Any) -> TensorVariable:
    """``softmax(x + b)`` over the last axis: ``b`` is a vector with one bias per class.

    >>> from workbench import tensor as T
    >>> x, b = T.dmatrix('x'), T.dvector('b')
    >>> T.nnet.softmax_with_bias(x, b).eval({x: [[0.0, 0.0]], b: [0.0, 0.0]}).tolist()
    [[0.5, 0.5]]
    """
    x, b = as_tensor_variable(x), as_tensor_variable(b)
    if x.ndim < 1:
        raise ValueError(f"softmax_with_bias: x must have a class axis, got {x.type}")
    if b.ndim != 1:
        raise ValueError(f"softmax_with_bias: b must be a vector (one bias per class), got "
                         f"{b.type}")
    known = (x.type.shape[-1], b.type.shape[0])
    if None not in known and known[0] != known[1]:
        raise ValueError(f"softmax_with_bias: b has {known[1]} entries for {known[0]} classes "
                         f"of x; there must be one bias per class")
    return softmax(tm.add(x, b), axis=-1)


def crossentropy_categorical_1hot(coding_dist: Any, true_one_of_n: Any) -> TensorVariable:
    """``-log(coding_dist[i, true_one_of_n[i]])`` per row: the cross-entropy of rows of
    probabilities against integer class labels.

    >>> from workbench import tensor as T
    >>> p, y = T.dmatrix('p'), T.ivector('y')
    >>> out = T.nnet.crossentropy_categorical_1hot(p, y)
    >>> out.eval({p: [[0.25, 0.75]], y: [1]}).round(4).tolist()
    [0.2877]
    """
    return CrossentropyCategorical1Hot()(coding_dist, true_one_of_n)


def categorical_crossentropy(coding_dist: Any, true_dist: Any) -> TensorVariable:
    """The cross-entropy of each row of ``coding_dist`` (probabilities over the last axis)
    against ``true_dist``: either integer class labels (one per row) or a one-hot /
    probability tensor of the same shape, ``-sum(true_dist * log(coding_dist), axis=-1)``.

    >>> from workbench import tensor as T
    >>> p, t = T.dmatrix('p'), T.dmatrix('t')
    >>> out = T.nnet.categorical_crossentropy(p, t)
    >>> out.eval({p: [[0.25, 0.75]], t: [[0.0, 1.0]]}).round(4).tolist()
    [0.2877]
    """
    coding_dist, true_dist = as_tensor_variable(coding_dist), as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        if coding_dist.ndim == 0:
            raise ValueError("categorical_crossentropy: coding_dist needs a class axis, got "
                             f"{coding_dist.type}")
        return tm.neg(reduce_sum(tm.mul(true_dist, tm.log(coding_dist)), axis=-1))
    if true_dist.ndim == coding_dist.ndim - 1:
        if true_dist.dtype[:3] not in ("int", "uin"):
            raise TypeError(
                f"categorical_crossentropy: a true_dist of one dimension less than coding_dist "
                f"({coding_dist.type}) must hold integer class labels, got dtype "
                f"{true_dist.dtype}")
        return crossentropy_categorical_1hot(coding_dist, true_dist)
    raise TypeError(
        f"categorical_crossentropy: rank mismatch between coding_dist ({coding_dist.type}) and "
        f"true_dist ({true_dist.type}); true_dist must have the same number of dimensions "
        f"(a one-hot or probability tensor) or one fewer (integer labels)")


def crossentropy_softmax_argmax_1hot_with_bias(x: Any, b: Any, y_idx: Any
                                               ) -> list[TensorVariable]:
    """From logits ``x`` (a matrix), a bias vector ``b`` and integer labels ``y_idx``: the
    negative log-likelihood per row, ``softmax(x + b)`` and the argmax of each row.

    >>> from workbench import tensor as T
    >>> x, b, y = T.dmatrix('x'), T.dvector('b'), T.lvector('y')
    >>> nll, sm, am = T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    >>> am.eval({x: [[0.0, 2.0]], b: [1.0, 0.0], y: [0]}).tolist()
    [1]
    """
    return CrossentropySoftmaxArgmax1HotWithBias()(x, b, y_idx)


def crossentropy_softmax_1hot_with_bias(x: Any, b: Any, y_idx: Any
                                        ) -> tuple[TensorVariable, TensorVariable]:
    """The negative log-likelihood of the labels ``y_idx`` under ``softmax(x + b)``, and
    that softmax; stable for large logits.

    >>> from workbench import tensor as T
    >>> x, b, y = T.dmatrix('x'), T.dvector('b'), T.lvector('y')
    >>> nll, sm = T.nnet.crossentropy_softmax_1hot_with_bias(x, b, y)
    >>> nll.eval({x: [[0.0, 0.0]], b: [0.0, 0.0], y: [0]}).round(4).tolist()
    [0.6931]
    """
    nll, sm, _ = CrossentropySoftmaxArgmax1HotWithBias()(x, b, y_idx)
    return nll, sm


def crossentropy_softmax_1hot(x: Any, y_idx: Any) -> tuple[TensorVariable, TensorVariable]:
    """The negative log-likelihood of the labels ``y_idx`` under ``softmax(x)``, and that
    softmax; stable for large logits.

    >>> from workbench import tensor as T
    >>> x, y = T.dmatrix('x'), T.lvector('y')
    >>> nll, sm = T.nnet.crossentropy_softmax_1hot(x, y)
    >>> nll.eval({x: [[1000.0, 0.0]], y: [1]}).tolist()
    [1000.0]
    """
    nll, sm, _ = CrossentropySoftmaxArgmax1HotWithBias()(x, None, y_idx)
    return nll, sm


def binary_crossentropy(output: Any, target: Any) -> TensorVariable:
    """``-(target * log(output) + (1 - target) * log(1 - output))`` elementwise, for
    probabilities ``output`` (use :func:`sigmoid_binary_crossentropy` from logits).

    >>> from workbench import tensor as T
    >>> o, t = T.dvectors('o', 't')
    >>> T.nnet.binary_crossentropy(o, t).eval({o: [0.5], t: [1.0]}).round(4).tolist()
    [0.6931]
    """
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return tm.neg(tm.add(tm.mul(target, tm.log(output)),
                         tm.mul(tm.sub(1.0, target), tm.log(tm.sub(1.0, output)))))


def sigmoid_binary_crossentropy(output: Any, target: Any) -> TensorVariable:
    """``binary_crossentropy(sigmoid(output), target)`` from the logits ``output``, computed
    stably as ``softplus(-|output|) + output * ((output > 0) - target)``.

    >>> from workbench import tensor as T
    >>> x, t = T.dvectors('x', 't')
    >>> T.nnet.sigmoid_binary_crossentropy(x, t).eval({x: [-1000.0], t: [1.0]}).tolist()
    [1000.0]
    """
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return tm.add(softplus(tm.neg(tm.abs(output))),
                  tm.mul(output, tm.sub(tm.gt(output, 0), target)))
