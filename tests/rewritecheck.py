"""Checks shared by the rewrite tests: a graph compiled with and without rewrites must give
the same values, dtypes and shapes; and the ops a pass left behind.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

import workbench

NO_REWRITES = workbench.Mode(optimizer=None)


def compare(inputs: Sequence, output: Any, values: Sequence, mode: Any = None,
            rtol: float = 1e-6) -> tuple:
    """Compile ``output`` with ``mode`` (FAST_RUN by default) and with no rewrites; assert
    equal values, dtypes and shapes on ``values``. Returns both functions."""
    ref = workbench.function(inputs, output, mode=NO_REWRITES, on_unused_input="ignore")
    f = workbench.function(inputs, output, mode=mode, on_unused_input="ignore")
    with np.errstate(all="ignore"):
        want = ref(*[np.copy(v) for v in values])
        got = f(*[np.copy(v) for v in values])
    if not isinstance(output, (list, tuple)):
        want, got = [want], [got]
    for w, g in zip(want, got):
        assert np.shape(g) == np.shape(w)
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=rtol, equal_nan=True)
    return f, ref


def pass_ops(f: Any, name: str = "canonicalize") -> list[str]:
    """The ops of ``f``'s graph right after pass ``name`` (before fusion hides them)."""
    return [str(n.op) for n, _ in f.trace[name].snapshot.order]
