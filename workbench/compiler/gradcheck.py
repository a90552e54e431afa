"""Checking symbolic gradients against finite differences (Theano's ``verify_grad``).

>>> import numpy as np
>>> from workbench import tensor as T
>>> verify_grad(lambda x: T.tanh(x) * 2, [np.array([0.1, -0.4, 1.3])],
...             rng=np.random.default_rng(0))
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .types import TensorType

#: central-difference step by dtype (Theano's numeric_grad.type_eps)
TYPE_EPS = {"float64": 1e-7, "float32": 3e-4, "float16": 1e-1}
#: default tolerances by dtype: an element passes if its absolute OR its relative error is
#: within tolerance
TYPE_TOL = {"float64": 1e-4, "float32": 1e-2, "float16": 5e-2}


class GradientError(AssertionError):
    """The symbolic gradient of one input disagrees with finite differences."""

    def __init__(self, arg: int, err_pos: tuple, shape: tuple, abs_err: float, rel_err: float,
                 abs_tol: float, rel_tol: float, analytic: np.ndarray, numeric: np.ndarray):
        self.arg = arg
        self.err_pos = err_pos
        self.shape = shape
        self.abs_err = abs_err
        self.rel_err = rel_err
        self.abs_tol = abs_tol
        self.rel_tol = rel_tol
        self.analytic = analytic
        self.numeric = numeric
        super().__init__(str(self))

    def __str__(self) -> str:
        with np.printoptions(precision=6, threshold=50, edgeitems=4):
            return (
                f"verify_grad: the gradient with respect to input {self.arg} (shape "
                f"{self.shape}) disagrees with finite differences.\n"
                f"  worst element {self.err_pos}: analytic {self.analytic[self.err_pos]!r}, "
                f"numeric {self.numeric[self.err_pos]!r}\n"
                f"  worst absolute error {self.abs_err:.3g} (tolerance {self.abs_tol:.3g}), "
                f"worst relative error {self.rel_err:.3g} (tolerance {self.rel_tol:.3g})\n"
                f"  analytic gradient:\n{self.analytic}\n"
                f"  numeric gradient:\n{self.numeric}")


def numeric_grad(f: Callable[..., Any], pt: Sequence[np.ndarray], eps: float | None = None
                 ) -> list[np.ndarray]:
    """Central finite differences of the scalar function ``f`` at the arrays ``pt``.

    >>> g = numeric_grad(lambda x: float((x ** 2).sum()), [np.array([1.0, 3.0])])
    >>> np.round(g[0], 6).tolist()
    [2.0, 6.0]
    """
    # C order: ``reshape(-1)`` below must be a view (a transposed array would give a copy)
    pt = [np.array(p, copy=True, order="C") for p in pt]
    grads = []
    for k, p in enumerate(pt):
        step = eps if eps is not None else TYPE_EPS.get(p.dtype.name, 1e-7)
        g = np.zeros(p.shape, dtype=np.float64)
        flat = p.reshape(-1)  # a view: writing into it moves pt[k]
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + step
            up = float(f(*pt))
            flat[i] = old - step
            down = float(f(*pt))
            flat[i] = old
            g.reshape(-1)[i] = (up - down) / (2 * step)
        grads.append(g)
    return grads


def _worst(analytic: np.ndarray, numeric: np.ndarray, abs_tol: float, rel_tol: float
           ) -> tuple[float, float, tuple, bool]:
    abs_err = np.abs(analytic - numeric)
    rel_err = abs_err / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-300)
    failing = (abs_err > abs_tol) & (rel_err > rel_tol)
    # the worst element: the one furthest beyond both tolerances
    score = np.minimum(abs_err / abs_tol, rel_err / rel_tol)
    pos = np.unravel_index(int(np.argmax(score)), score.shape) if score.size else ()
    return float(abs_err.max(initial=0)), float(rel_err.max(initial=0)), pos, bool(
        failing.any())


def verify_grad(fun: Callable[..., Any], pt: Sequence[Any], n_tests: int = 2,
                rng: Any = None, eps: float | None = None, out_type: Any = None,
                abs_tol: float | None = None, rel_tol: float | None = None, mode: Any = None,
                cast_to_output_type: bool = False, no_debug_ref: bool = True) -> None:
    """Check ``fun``'s symbolic gradient at the point ``pt`` against central differences.

    ``fun`` takes one symbolic tensor per array of ``pt`` and returns one symbolic tensor. The
    output is projected on a random tensor (so every output element counts) and both gradients
    of that scalar are compared, input by input. Raises :class:`GradientError` naming the
    input, the worst element and both values when they disagree.
    ``out_type``, ``cast_to_output_type`` and ``no_debug_ref`` are accepted for Theano
    compatibility and ignored.
    """
    from ..compiler.function import function
    from ..compiler.shared import shared
    from ..tensor.reduce import sum as tsum
    from .grad import grad

    if not isinstance(pt, (list, tuple)):
        raise TypeError("verify_grad(pt=) takes a list of arrays, one per input of fun")
    pt = [np.array(p, copy=True) for p in pt]
    for i, p in enumerate(pt):
        if p.dtype.kind != "f":
            raise TypeError(f"verify_grad: input {i} has dtype {p.dtype}; it works only with "
                            f"floating-point inputs")
    rng = rng if rng is not None else np.random.default_rng(42)
    uniform = rng.uniform if hasattr(rng, "uniform") else rng.rand
    symbolic = [TensorType(p.dtype, (None,) * p.ndim)(f"input{i}") for i, p in enumerate(pt)]
    out = fun(*symbolic)
    if isinstance(out, (list, tuple)):
        raise TypeError("verify_grad: fun returned a list; it must return a single tensor")
    value = np.asarray(function(symbolic, out, mode=mode)(*[p.copy() for p in pt]))
    if value.dtype.kind != "f":
        raise TypeError(f"verify_grad: fun's output has dtype {value.dtype}; a gradient needs "
                        f"a floating-point output")
    # +0.5 keeps the projection away from zero, so no output element is ignored
    projection = shared(np.asarray(uniform(size=value.shape) + 0.5, dtype=value.dtype),
                        name="random_projection")
    cost = tsum(projection * out)
    cost_fn = function(symbolic, cost, mode=mode)
    grads = grad(cost, symbolic, disconnected_inputs="ignore")
    # a linear fun's gradient may not read its input at all (d(2x)/dx = 2)
    grad_fn = function(symbolic, grads, mode=mode, on_unused_input="ignore")
    dtypes = [p.dtype.name for p in pt] + [value.dtype.name]
    abs_tol = abs_tol if abs_tol is not None else max(TYPE_TOL.get(d, 1e-4) for d in dtypes)
    rel_tol = rel_tol if rel_tol is not None else max(TYPE_TOL.get(d, 1e-4) for d in dtypes)
    if eps is None:
        eps = max(TYPE_EPS.get(d, 1e-7) for d in dtypes)
    for test in range(n_tests):
        numeric = numeric_grad(cost_fn, pt, eps)
        analytic = grad_fn(*[p.copy() for p in pt])
        for i, (a, n) in enumerate(zip(analytic, numeric)):
            a = np.asarray(a, dtype=np.float64)
            if a.shape != n.shape:
                raise GradientError(i, (), pt[i].shape, np.inf, np.inf, abs_tol, rel_tol,
                                    a, n)
            abs_err, rel_err, pos, failed = _worst(a, n, abs_tol, rel_tol)
            if failed:
                raise GradientError(i, pos, pt[i].shape, abs_err, rel_err, abs_tol, rel_tol,
                                    a, n)
        if test + 1 < n_tests:
            projection.set_value(np.asarray(uniform(size=value.shape) + 0.5,
                                            dtype=value.dtype))


#: Theano spells the error ``verify_grad.E_grad``
verify_grad.E_grad = GradientError  # type: ignore[attr-defined]
