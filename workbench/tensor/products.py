"""Products: dot, tensordot, batched_dot, batched_tensordot, outer, matmul, inner, vdot.

``dot`` follows ``numpy.dot`` for every ndim and is what ``a @ b`` and ``a.dot(b)`` call.
Output dtypes are NumPy's: the operands' common dtype (int8 · int8 is int8). A Python number
operand is a weak scalar, as in ``2 * x``: ``T.dot(2, x)`` keeps ``x``'s dtype.

>>> from workbench import tensor as T
>>> a, b = T.dmatrix('a'), T.dmatrix('b')
>>> (a @ b).owner.op
Dot
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compiler.ops.blas import BatchedDot, Dot, MatMul, TensorDot, normalize_tensordot_axes
from ..compiler.types import COMPLEX_DTYPES
from .basic import as_tensor_variable
from .variable import TensorVariable

_dot = Dot()
_batched_dot = BatchedDot()
_matmul = MatMul()


def _as_pair(a: Any, b: Any) -> tuple[TensorVariable, TensorVariable]:
    return as_tensor_variable(a), as_tensor_variable(b)


def dot(a: Any, b: Any) -> TensorVariable:
    """``numpy.dot``: a scalar operand multiplies; vector·vector is their inner product
    (a scalar); matrix·vector, vector·matrix, matrix·matrix as usual; for N-d operands the
    last axis of ``a`` is contracted with the second-to-last of ``b`` (the only one of a
    vector). Sizes known to differ raise ValueError when the graph is built.

    >>> from workbench import tensor as T
    >>> a, v = T.dmatrix('a'), T.dvector('v')
    >>> T.dot(a, v).eval({a: [[1, 2], [3, 4]], v: [1, 10]}).tolist()
    [21.0, 43.0]
    >>> (v @ v).eval({v: [3, 4]}).item()
    25.0
    """
    from .math import mul

    a, b = _as_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return TensorDot(((a.ndim - 1,), (max(b.ndim - 2, 0),)))(a, b)


def tensordot(a: Any, b: Any, axes: Any = 2) -> TensorVariable:
    """``numpy.tensordot``: contract the last ``axes`` axes of ``a`` with the first ``axes``
    of ``b``, or, with a pair of axis lists, ``axes[0]`` of ``a`` with ``axes[1]`` of ``b``.

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> a, b = T.dtensor3('a'), T.dmatrix('b')
    >>> y = T.tensordot(a, b, axes=[[1, 2], [0, 1]])
    >>> y.eval({a: np.ones((2, 3, 4)), b: np.ones((3, 4))}).tolist()
    [12.0, 12.0]
    """
    a, b = _as_pair(a, b)
    axes_a, axes_b = normalize_tensordot_axes(axes, a.ndim, b.ndim)
    # the contractions Dot covers go through Dot, so the BLAS rewrites see them
    if axes_a == (a.ndim - 1,) and axes_b == (0,) and a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return TensorDot((axes_a, axes_b))(a, b)


def batched_dot(a: Any, b: Any) -> TensorVariable:
    """Theano's batched dot: ``out[i] = dot(a[i], b[i])`` along the first axis (the
    batch). A vector operand scales the other one batch by batch.

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> a, b = T.dtensor3('a'), T.dtensor3('b')
    >>> y = T.batched_dot(a, b)
    >>> y.eval({a: np.ones((5, 2, 3)), b: np.ones((5, 3, 4))}).shape
    (5, 2, 4)
    """
    from .math import mul

    a, b = _as_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise TypeError(f"batched_dot: both operands need a batch axis, got {a.type} and "
                        f"{b.type}")
    if a.ndim == 1:
        return mul(a.dimshuffle(0, *["x"] * (b.ndim - 1)), b)
    if b.ndim == 1:
        return mul(a, b.dimshuffle(0, *["x"] * (a.ndim - 1)))
    return _batched_dot(a, b)


def batched_tensordot(x: Any, y: Any, axes: Any = 2) -> TensorVariable:
    """Theano's batched tensordot: ``out[i] = tensordot(x[i], y[i], axes)`` along the first
    axis (the batch). ``axes`` is an int n (the last n axes of ``x`` with axes 1..n of
    ``y``) or a pair of axis lists of ``x`` and ``y``, which may not name the batch axis 0.

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> a, b = T.dtensor3('a'), T.dtensor4('b')
    >>> y = T.batched_tensordot(a, b, axes=[[2], [3]])
    >>> y.eval({a: np.ones((5, 2, 3)), b: np.ones((5, 4, 6, 3))}).shape
    (5, 2, 4, 6)
    """
    from .math import mul
    from .shape import reshape, shape_i

    x, y = _as_pair(x, y)
    if x.ndim < 2 or y.ndim < 2:
        raise TypeError(f"batched_tensordot: both operands need a batch axis and at least one "
                        f"more, got {x.type} and {y.type}")
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, (bool, np.bool_)):
        n = int(axes)
        if not 0 <= n < min(x.ndim, y.ndim):
            raise ValueError(f"batched_tensordot: axes={n} needs 0 <= axes < the ndim of both "
                             f"operands, which have ndim {x.ndim} and {y.ndim}")
        axes = [list(range(x.ndim - n, x.ndim)), list(range(1, n + 1))]
    axes_x, axes_y = normalize_tensordot_axes(axes, x.ndim, y.ndim)
    if 0 in axes_x or 0 in axes_y:
        raise ValueError(f"batched_tensordot: axes {axes!r} name the batch axis 0")
    free_x = [i for i in range(1, x.ndim) if i not in axes_x]
    free_y = [i for i in range(1, y.ndim) if i not in axes_y]

    def size(v: TensorVariable, dims: list[int]) -> Any:
        return mul(*[shape_i(v, d) for d in dims]) if dims else 1

    xt = x.dimshuffle(0, *free_x, *axes_x)
    yt = y.dimshuffle(0, *axes_y, *free_y)
    batch = shape_i(x, 0)
    x3 = reshape(xt, (batch, size(x, free_x), size(x, list(axes_x))), ndim=3)
    y3 = reshape(yt, (shape_i(y, 0), size(y, list(axes_y)), size(y, free_y)), ndim=3)
    out = _batched_dot(x3, y3)
    out_shape = [batch] + [shape_i(x, d) for d in free_x] + [shape_i(y, d) for d in free_y]
    return reshape(out, out_shape, ndim=len(out_shape))


def _ravel(x: TensorVariable) -> TensorVariable:
    from .shape import flatten

    return x if x.ndim == 1 else flatten(x, 1)


def outer(x: Any, y: Any) -> TensorVariable:
    """The outer product ``x[i] * y[j]`` of two vectors (other operands are flattened
    first, as ``numpy.outer`` does).

    >>> from workbench import tensor as T
    >>> x, y = T.ivector('x'), T.ivector('y')
    >>> T.outer(x, y).eval({x: [1, 2], y: [3, 4, 5]}).tolist()
    [[3, 4, 5], [6, 8, 10]]
    """
    x, y = _as_pair(x, y)
    return _dot(_ravel(x).dimshuffle(0, "x"), _ravel(y).dimshuffle("x", 0))


def matmul(a: Any, b: Any) -> TensorVariable:
    """``numpy.matmul``: like ``dot`` for 1-d and 2-d operands; for more dimensions a
    stack of matrix products over the leading axes, which broadcast. Scalars are refused.

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> a, b = T.dtensor3('a'), T.dmatrix('b')
    >>> T.matmul(a, b).eval({a: np.ones((4, 2, 3)), b: np.ones((3, 5))}).shape
    (4, 2, 5)
    """
    a, b = _as_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got {a.type} and "
                         f"{b.type} (use T.dot or * to multiply by a scalar)")
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return _matmul(a, b)


def inner(a: Any, b: Any) -> TensorVariable:
    """``numpy.inner``: contract the last axis of ``a`` with the last axis of ``b``.

    >>> from workbench import tensor as T
    >>> a, b = T.dmatrix('a'), T.dmatrix('b')
    >>> T.inner(a, b).eval({a: [[1, 2]], b: [[1, 0], [0, 1]]}).tolist()
    [[1.0, 2.0]]
    """
    from .math import mul

    a, b = _as_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if b.ndim == 1 and a.ndim <= 2:
        return _dot(a, b)
    return TensorDot(((a.ndim - 1,), (b.ndim - 1,)))(a, b)


def vdot(a: Any, b: Any) -> TensorVariable:
    """``numpy.vdot``: the inner product of the flattened operands, conjugating ``a``
    when it is complex. A scalar.

    >>> from workbench import tensor as T
    >>> a, b = T.zvector('a'), T.zvector('b')
    >>> complex(T.vdot(a, b).eval({a: [1j, 2], b: [1j, 3]}))
    (7+0j)
    """
    from .math import conj

    a, b = _as_pair(a, b)
    if a.dtype in COMPLEX_DTYPES:
        a = conj(a)
    return _dot(_ravel(a), _ravel(b))


__all__ = ["dot", "tensordot", "batched_dot", "batched_tensordot", "outer", "matmul", "inner", "vdot"]
