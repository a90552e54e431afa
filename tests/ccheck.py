"""Helpers for the tests of the C backend's code (tests/compiler/backends/c): compile one graph
on C and on Python (``compile_both``), compare the two backends' results (``same_results``)
and errors (``same_error``), and give an array in several memory layouts (``layouts``).
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import workbench
from workbench.compiler.mode import Mode

#: tolerance (rtol and atol) of ``same_results(..., exact=False)`` for float outputs, by dtype
TOLERANCE = {np.dtype(np.float32): 1e-5}
DEFAULT_TOLERANCE = 1e-12


def compile_both(inputs, outputs, *expected_ops):
    """The graph on C (checked to keep ``expected_ops`` and to run none of its nodes through
    perform) and on Python."""
    fc = workbench.function(inputs, outputs, mode=Mode("c", "fast_run"),
                            on_unused_input="ignore")
    kinds = {type(n.op) for n in fc.vm.nodes}
    for cls in expected_ops:
        assert cls in kinds, \
            f"the rewrites removed {cls.__name__}: {sorted(k.__name__ for k in kinds)}"
    assert fc.vm.fallback_nodes == []
    fp = workbench.function(inputs, outputs, mode=Mode("py", "fast_run"),
                            on_unused_input="ignore")
    return fc, fp


def same_results(fc, fp, *args, exact=True, where=""):
    """``fc(*args)`` and ``fp(*args)`` give outputs of the same dtype and shape, and equal
    values. The Python function runs first and its outputs are copied, so an in-place C
    function cannot change them. ``exact=False``: float outputs need only be close (within
    ``TOLERANCE`` for their dtype, NaN equal to NaN), and NumPy's floating-point warnings are
    ignored during both calls. Returns the C function's outputs."""
    with np.errstate(all="ignore") if not exact else contextlib.nullcontext():
        want = [np.asarray(w).copy() for w in fp(*args)]
        got = fc(*args)
    for i, (g, w) in enumerate(zip(got, want)):
        g = np.asarray(g)
        assert g.dtype == w.dtype and g.shape == w.shape, (where, i, g.dtype, w.dtype, g.shape,
                                                           w.shape)
        if not exact and g.dtype.kind == "f":
            tol = TOLERANCE.get(g.dtype, DEFAULT_TOLERANCE)
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True,
                                       err_msg=f"{where} output {i}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{where} output {i}")
    return got


def same_error(fc, fp, *args):
    """Both backends raise the same exception type with the same first line."""
    with pytest.raises(Exception) as want:
        fp(*args)
    with pytest.raises(type(want.value)) as got:
        fc(*args)
    assert str(got.value).splitlines()[0] == str(want.value).splitlines()[0]
    return got.value


def layouts(a, every_axis=True):
    """``a`` C-contiguous, in Fortran order, reversed along every axis (negative strides), and
    as a strided slice of a larger array (same values each time). The slice steps by 2 from
    offset 1 along every axis, or with ``every_axis=False`` by 2 from offset 0 along the last
    axis only (and a 0-d ``a`` then comes only in the first two layouts)."""
    a = np.ascontiguousarray(a)
    yield a
    yield np.asfortranarray(a)
    if not every_axis and not a.ndim:
        return
    rev = tuple(slice(None, None, -1) for _ in range(a.ndim))
    yield np.ascontiguousarray(a[rev])[rev]
    if every_axis:
        big = np.zeros(tuple(2 * s + 1 for s in a.shape), a.dtype)
        sl = tuple(slice(1, None, 2) for _ in range(a.ndim))
        big[sl] = a
        yield big[sl]
    else:
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        wide[..., ::2] = a
        yield wide[..., ::2]
