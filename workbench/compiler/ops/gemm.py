"""BLAS updates: :class:`Gemm`, :class:`Gemv` and :class:`Ger`, each with an in-place variant.

- ``Gemm``: ``alpha * dot(x, y) + beta * z`` for matrices ``z``, ``x``, ``y``;
- ``Gemv``: ``alpha * dot(A, x) + beta * y`` for a matrix ``A`` and vectors ``x``, ``y``;
- ``Ger``: ``A + alpha * outer(x, y)`` for a matrix ``A`` and vectors ``x``, ``y``;

``alpha`` and ``beta`` are 0-d tensors of the updated operand's dtype. The ``specialize``
rewrites make these ops from ``dot`` and elementwise arithmetic; the ``inplace`` pass then
turns them into their in-place variants (``destroy_map {0: [0]}``: the result overwrites the
first input) where nothing else needs that input.

The values are those of the expression each op stands for, NumPy broadcasting included: an
operand whose shape is only known at run time may still turn out to broadcast, and then the
op computes the expression with NumPy instead of BLAS. One exception is the BLAS contract
for a *constant* ``beta`` of 0: ``z`` (or ``y``) is then not read, only its shape counts
(``Gemm(zeros((1, 1)), a, x, y, 0)`` is ``a * dot(x, y)``, the result allocated by BLAS).

``perform`` calls SciPy's BLAS wrappers for float32, float64, complex64 and complex128,
handing each operand over in the memory order BLAS reads (Fortran order; a C-ordered matrix
is passed as its transpose, flagged as such, so neither is copied); other dtypes use NumPy.

>>> import numpy as np
>>> from workbench import tensor as T
>>> z, x, y = T.dmatrices('z', 'x', 'y')
>>> out = Gemm()(z, 2.0, x, y, 0.5)
>>> out.owner.op, Gemm(inplace=True)
(Gemm{no_inplace}, Gemm{inplace})
>>> out.eval({z: np.ones((2, 2)), x: np.eye(2), y: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
[[2.5, 4.5], [6.5, 8.5]]
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

import numpy as np

from ..graph import Apply, Constant, Op, Variable
from ..gradtypes import disconnected_type
from ..types import TensorType
from .blas import Dot
from .elemwise import broadcast_static_shapes

#: dtypes with a BLAS routine; others are computed with NumPy
BLAS_DTYPES = ("float32", "float64", "complex64", "complex128")
_PREFIX = {"float32": "s", "float64": "d", "complex64": "c", "complex128": "z"}

_dot = Dot()


@lru_cache(maxsize=None)
def blas_function(routine: str, dtype: str) -> Callable | None:
    """SciPy's wrapper of the BLAS ``routine`` ('gemm', 'gemv', 'ger') for ``dtype``, or None
    (no such dtype in BLAS, or no SciPy). SciPy is imported on first use, not with workbench.

    >>> from scipy.linalg import blas
    >>> blas_function('gemm', 'float32') is blas.sgemm, blas_function('gemm', 'int64')
    (True, None)
    """
    prefix = _PREFIX.get(dtype)
    if prefix is None:
        return None
    try:
        from scipy.linalg import blas
    except ImportError:  # pragma: no cover - SciPy is a dependency; NumPy still works
        return None
    if routine == "ger" and prefix in "cz":
        routine = "geru"  # the unconjugated rank-1 update: A + alpha * x y^T
    return getattr(blas, prefix + routine)


def _fortran_operand(m: np.ndarray) -> tuple[np.ndarray, int]:
    """``(array, trans)`` with ``array`` Fortran-contiguous and ``m == array`` (trans 0) or
    ``m == array.T`` (trans 1): a C-contiguous matrix is passed as its transpose, no copy."""
    if m.flags.f_contiguous:
        return m, 0
    if m.flags.c_contiguous:
        return m.T, 1
    return np.asfortranarray(m), 0


def _writable_target(z: np.ndarray, inplace: bool, others: tuple[np.ndarray, ...]
                     ) -> np.ndarray:
    """The array a BLAS call may overwrite with the result: ``z`` itself when the op is in
    place and ``z`` is contiguous, writeable and shares no memory with the other operands
    (BLAS must not read what it is writing), else a contiguous copy of ``z``."""
    contiguous = z.flags.c_contiguous or z.flags.f_contiguous
    if inplace and contiguous and z.flags.writeable and \
            not any(np.may_share_memory(z, o) for o in others):
        return z
    order = "F" if z.flags.f_contiguous and not z.flags.c_contiguous else "C"
    return np.array(z, order=order, copy=True)


def _check_written(result: np.ndarray, target: np.ndarray) -> None:
    # f2py writes into `target` when its layout and dtype allow; otherwise it returns a copy
    if result is not target and not np.may_share_memory(result, target):
        target[...] = result


def _as_coefficient(value: Any, dtype: str, what: str) -> Variable:
    """``value`` as a 0-d tensor of ``dtype``: a cast where NumPy's same-kind rules allow it
    (Python numbers and int scalars for a float update), a TypeError otherwise."""
    from ...tensor.basic import as_tensor_variable, cast, constant

    var = as_tensor_variable(value)
    if var.ndim != 0:
        raise TypeError(f"{what} must be a scalar (a 0-d tensor), got {var.type}")
    if var.dtype == dtype:
        return var
    if not np.can_cast(var.dtype, dtype, casting="same_kind"):
        raise TypeError(f"{what} of dtype {var.dtype} cannot be cast to {dtype}")
    if isinstance(var, Constant):
        return constant(np.asarray(var.data, dtype=dtype))
    return cast(var, dtype)


def _as_operands(what: str, names: str, values: tuple, ndims: tuple[int, ...]
                 ) -> list[Variable]:
    """The tensor operands of a BLAS op, checked: each of its ndim, all of one numeric dtype."""
    from ...tensor.basic import as_tensor_variable

    tensors = [as_tensor_variable(v) for v in values]
    for name, var, ndim in zip(names.split(), tensors, ndims):
        if var.ndim != ndim:
            kind = "a matrix" if ndim == 2 else "a vector"
            raise TypeError(f"{what}: {name} must be {kind}, got {var.type}")
    dtypes = {v.dtype for v in tensors}
    if len(dtypes) != 1:
        raise TypeError(f"{what}: {', '.join(names.split())} must have one dtype, got "
                        f"{', '.join(v.dtype for v in tensors)} (cast them first)")
    if tensors[0].type.numpy_dtype.kind not in "iufc":
        raise TypeError(f"{what} needs numbers, got dtype {tensors[0].dtype}")
    return tensors


def _check_aligned(what: str, a: Variable, a_axis: int, b: Variable, b_axis: int) -> None:
    sa, sb = a.type.shape[a_axis], b.type.shape[b_axis]
    if sa is not None and sb is not None and sa != sb:
        raise ValueError(f"{what}: {a.type} and {b.type} are not aligned (sizes {sa} and {sb})")


def is_zero_constant(var: Variable) -> bool:
    """Whether ``var`` is a constant holding zeros only (a ``beta`` that makes BLAS leave
    the updated operand unread)."""
    return isinstance(var, Constant) and var.data.size > 0 and not np.any(var.data)


def _runtime_scalar(value: np.ndarray) -> Any:
    return value.item() if isinstance(value, np.ndarray) else value


class _BlasUpdate(Op):
    """What Gemm, Gemv and Ger share: the ``inplace`` flag, their names and destroy_map."""

    __props__ = ("inplace",)

    def __init__(self, inplace: bool = False):
        self.inplace = bool(inplace)
        # the result overwrites input 0 (z, y or A)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self) -> str:
        return f"{type(self).__name__}{{{'inplace' if self.inplace else 'no_inplace'}}}"


class _ScaledUpdate(_BlasUpdate):
    """What Gemm and Gemv share: inputs ``(c, alpha, left, right, beta)`` for
    ``alpha * dot(left, right) + beta * c``, with ``c`` unread for a constant ``beta`` of 0;
    subclasses give the gradients of ``dot(left, right)`` in :meth:`_operand_grads`."""

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        reads_c = not is_zero_constant(node.inputs[4])
        return [[reads_c], [True], [True], [True], [reads_c]]

    def _operand_grads(self, left: Variable, right: Variable, g_prod: Variable) -> tuple:
        """The gradients of ``dot(left, right)`` with respect to ``left`` and ``right``,
        given ``g_prod``, the gradient of that product."""
        raise NotImplementedError

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """With ``p = dot(left, right)`` and ``g`` summed back to the shapes of ``p`` and
        ``c`` (undoing any broadcasting): ``gleft, gright = alpha * (the gradients of p)``,
        ``galpha = sum(g_p p)``, ``gc = beta g_c``, ``gbeta = sum(g_c c)``."""
        from ...tensor.reduce import sum as tsum
        from .alloc import sum_to_shape_of

        c, alpha, left, right, beta = inputs
        (g,) = output_grads
        prod = _dot(left, right)
        g_prod = sum_to_shape_of(g, prod)
        g_left, g_right = self._operand_grads(left, right, g_prod)
        grads = [None, tsum(g_prod * prod), g_left * alpha, g_right * alpha, None]
        if is_zero_constant(beta):
            grads[0] = grads[4] = disconnected_type()
        else:
            g_c = sum_to_shape_of(g, c)
            grads[0], grads[4] = g_c * beta, tsum(g_c * c)
        return grads

    def R_op(self, inputs: list, eval_points: list) -> list:
        """``d(out) = dalpha p + alpha (dleft right + left dright) + dbeta c + beta dc``."""
        c, alpha, left, right, beta = inputs
        dc, dalpha, dleft, dright, dbeta = eval_points
        reads_c = not is_zero_constant(beta)
        terms = []
        if dalpha is not None:
            terms.append(dalpha * _dot(left, right))
        if dleft is not None:
            terms.append(alpha * _dot(dleft, right))
        if dright is not None:
            terms.append(alpha * _dot(left, dright))
        if reads_c and dbeta is not None:
            terms.append(dbeta * c)
        if reads_c and dc is not None:
            terms.append(beta * dc)
        return [_sum_terms(terms)]


class Gemm(_ScaledUpdate):
    """``alpha * dot(x, y) + beta * z`` for matrices; inputs ``(z, alpha, x, y, beta)``.

    With a constant ``beta`` of 0, ``z`` is not read, only its shape counts (the BLAS
    contract); ``Gemm(inplace=True)`` writes the result into ``z``.

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> z, x, y = T.fmatrices('z', 'x', 'y')
    >>> Gemm()(z, 1.0, x, y, -1.0).eval({z: [[1.0]], x: [[2.0]], y: [[3.0]]}).tolist()
    [[5.0]]
    """

    def make_node(self, z: Any, alpha: Any, x: Any, y: Any, beta: Any) -> Apply:
        z, x, y = _as_operands("Gemm", "z x y", (z, x, y), (2, 2, 2))
        alpha = _as_coefficient(alpha, z.dtype, "Gemm: alpha")
        beta = _as_coefficient(beta, z.dtype, "Gemm: beta")
        _check_aligned("Gemm", x, 1, y, 0)
        shape = broadcast_static_shapes([z.type.shape, (x.type.shape[0], y.type.shape[1])],
                                        where="Gemm: ")
        return Apply(self, [z, alpha, x, y, beta], [TensorType(z.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        z, alpha, x, y, beta = inputs
        if x.shape[1] != y.shape[0]:
            raise ValueError(f"Gemm: x of shape {x.shape} and y of shape {y.shape} are not "
                             f"aligned")
        dtype = node.outputs[0].type.dtype
        reads_z = not is_zero_constant(node.inputs[4])
        a, b = _runtime_scalar(alpha), _runtime_scalar(beta)
        shape = (x.shape[0], y.shape[1])
        fn = blas_function("gemm", dtype)
        # BLAS skips the product when alpha is 0 and z when beta is 0, where NumPy would still
        # spread a nan or inf from them; a z that broadcasts is NumPy's business too
        if fn is None or 0 in x.shape or 0 in y.shape or a == 0 or \
                (reads_z and (b == 0 or z.shape != shape)):
            prod = np.dot(x, y)
            result = alpha * prod + beta * z if reads_z else alpha * prod
            output_storage[0][0] = np.asarray(result, dtype=dtype)
            return
        if not reads_z and not (self.inplace and z.shape == shape):
            # BLAS allocates the result: computing its transpose in Fortran order gives a
            # C-ordered result
            first, ta = _fortran_operand(y.T)
            second, tb = _fortran_operand(x.T)
            output_storage[0][0] = fn(a, first, second, trans_a=ta, trans_b=tb).T
            return
        target = _writable_target(z, self.inplace, (x, y))
        if target.flags.f_contiguous:
            c, first, second = target, x, y
        else:  # C order: compute the transpose, z.T = alpha * y.T x.T + beta * z.T
            c, first, second = target.T, y.T, x.T
        first, ta = _fortran_operand(first)
        second, tb = _fortran_operand(second)
        result = fn(a, first, second, b if reads_z else 0.0, c, trans_a=ta, trans_b=tb,
                    overwrite_c=1)
        _check_written(result, c)
        output_storage[0][0] = target

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor.shape import broadcast_shape_symbolic

        zs, _, xs, ys, _ = input_shapes
        return [broadcast_shape_symbolic([zs, (xs[0], ys[1])], node.outputs[0].type.shape)]

    def _operand_grads(self, left: Variable, right: Variable, g_prod: Variable) -> tuple:
        """``gx = g_p y^T``, ``gy = x^T g_p`` (before the factor ``alpha``)."""
        return _dot(g_prod, right.T), _dot(left.T, g_prod)


class Gemv(_ScaledUpdate):
    """``alpha * dot(A, x) + beta * y`` for a matrix ``A`` and vectors; inputs
    ``(y, alpha, A, x, beta)``. With a constant ``beta`` of 0, ``y`` is not read.

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> y, A, x = T.dvector('y'), T.dmatrix('A'), T.dvector('x')
    >>> Gemv()(y, 1.0, A, x, 2.0).eval({y: [1.0, 1.0], A: np.eye(2), x: [3.0, 4.0]}).tolist()
    [5.0, 6.0]
    """

    def make_node(self, y: Any, alpha: Any, A: Any, x: Any, beta: Any) -> Apply:  # noqa: N803
        y, A, x = _as_operands("Gemv", "y A x", (y, A, x), (1, 2, 1))
        alpha = _as_coefficient(alpha, y.dtype, "Gemv: alpha")
        beta = _as_coefficient(beta, y.dtype, "Gemv: beta")
        _check_aligned("Gemv", A, 1, x, 0)
        shape = broadcast_static_shapes([y.type.shape, A.type.shape[:1]], where="Gemv: ")
        return Apply(self, [y, alpha, A, x, beta], [TensorType(y.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        y, alpha, A, x, beta = inputs
        if A.shape[1] != x.shape[0]:
            raise ValueError(f"Gemv: A of shape {A.shape} and x of shape {x.shape} are not "
                             f"aligned")
        dtype = node.outputs[0].type.dtype
        reads_y = not is_zero_constant(node.inputs[4])
        a, b = _runtime_scalar(alpha), _runtime_scalar(beta)
        fn = blas_function("gemv", dtype)
        if fn is None or 0 in A.shape or a == 0 or \
                (reads_y and (b == 0 or y.shape != A.shape[:1])):
            prod = np.dot(A, x)
            result = alpha * prod + beta * y if reads_y else alpha * prod
            output_storage[0][0] = np.asarray(result, dtype=dtype)
            return
        matrix, trans = _fortran_operand(A)
        if not reads_y and not (self.inplace and y.shape == A.shape[:1]):
            output_storage[0][0] = fn(a, matrix, x, trans=trans)
            return
        target = _writable_target(y, self.inplace, (A, x))
        result = fn(a, matrix, x, b if reads_y else 0.0, target, trans=trans, overwrite_y=1)
        _check_written(result, target)
        output_storage[0][0] = target

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor.shape import broadcast_shape_symbolic

        ys, _, As, _, _ = input_shapes
        return [broadcast_shape_symbolic([ys, (As[0],)], node.outputs[0].type.shape)]

    def _operand_grads(self, left: Variable, right: Variable, g_prod: Variable) -> tuple:
        """``gA = outer(g_p, x)``, ``gx = A^T g_p`` (before the factor ``alpha``)."""
        return (_dot(g_prod.dimshuffle(0, "x"), right.dimshuffle("x", 0)),
                _dot(g_prod, left))


class Ger(_BlasUpdate):
    """``A + alpha * outer(x, y)``: a rank-1 update of the matrix ``A``; inputs
    ``(A, alpha, x, y)``.

    >>> import numpy as np
    >>> from workbench import tensor as T
    >>> A, x, y = T.dmatrix('A'), T.dvector('x'), T.dvector('y')
    >>> Ger()(A, 2.0, x, y).eval({A: np.zeros((2, 2)), x: [1.0, 2.0], y: [3.0, 4.0]}).tolist()
    [[6.0, 8.0], [12.0, 16.0]]
    """

    def make_node(self, A: Any, alpha: Any, x: Any, y: Any) -> Apply:  # noqa: N803
        A, x, y = _as_operands("Ger", "A x y", (A, x, y), (2, 1, 1))
        alpha = _as_coefficient(alpha, A.dtype, "Ger: alpha")
        shape = broadcast_static_shapes([A.type.shape, x.type.shape + y.type.shape],
                                        where="Ger: ")
        return Apply(self, [A, alpha, x, y], [TensorType(A.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        A, alpha, x, y = inputs
        dtype = node.outputs[0].type.dtype
        a = _runtime_scalar(alpha)
        shape = x.shape + y.shape
        fn = blas_function("ger", dtype)
        if fn is None or 0 in shape or a == 0 or A.shape != shape:
            result = A + alpha * np.outer(x, y)
            output_storage[0][0] = np.asarray(result, dtype=dtype)
            return
        target = _writable_target(A, self.inplace, (x, y))
        if target.flags.f_contiguous:
            result = fn(a, x, y, a=target, overwrite_a=1)
            _check_written(result, target)
        else:  # C order: update the transpose, A.T += alpha * outer(y, x)
            result = fn(a, y, x, a=target.T, overwrite_a=1)
            _check_written(result, target.T)
        output_storage[0][0] = target

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        from ...tensor.shape import broadcast_shape_symbolic

        As, _, xs, ys = input_shapes
        return [broadcast_shape_symbolic([As, (xs[0], ys[0])], node.outputs[0].type.shape)]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """With ``p = outer(x, y)``: ``gA = g_A``, ``gx = alpha g_p y``,
        ``gy = alpha g_p^T x``, ``galpha = sum(g_p p)``."""
        from ...tensor.reduce import sum as tsum
        from .alloc import sum_to_shape_of

        A, alpha, x, y = inputs
        (g,) = output_grads
        prod = _dot(x.dimshuffle(0, "x"), y.dimshuffle("x", 0))
        g_prod = sum_to_shape_of(g, prod)
        return [sum_to_shape_of(g, A), tsum(g_prod * prod), _dot(g_prod, y) * alpha,
                _dot(x, g_prod) * alpha]

    def R_op(self, inputs: list, eval_points: list) -> list:
        """``d(out) = dA + dalpha outer(x, y) + alpha (outer(dx, y) + outer(x, dy))``."""
        A, alpha, x, y = inputs
        dA, dalpha, dx, dy = eval_points

        def outer(u: Variable, v: Variable) -> Variable:
            return _dot(u.dimshuffle(0, "x"), v.dimshuffle("x", 0))

        terms = [] if dA is None else [dA]
        if dalpha is not None:
            terms.append(dalpha * outer(x, y))
        if dx is not None:
            terms.append(alpha * outer(dx, y))
        if dy is not None:
            terms.append(alpha * outer(x, dy))
        return [_sum_terms(terms)]


def _sum_terms(terms: list[Variable]) -> Variable | None:
    if not terms:
        return None
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


gemm_no_inplace = Gemm(inplace=False)
gemm_inplace = Gemm(inplace=True)
gemv_no_inplace = Gemv(inplace=False)
gemv_inplace = Gemv(inplace=True)
ger_no_inplace = Ger(inplace=False)
ger_inplace = Ger(inplace=True)

__all__ = ["Gemm", "Gemv", "Ger", "BLAS_DTYPES", "blas_function",
           "is_zero_constant", "gemm_no_inplace", "gemm_inplace", "gemv_no_inplace",
           "gemv_inplace", "ger_no_inplace", "ger_inplace"]
