"""Property-based differential tests: random expression graphs give the same values with
every rewrite on (FAST_RUN) as with none."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench
from workbench import tensor as T
from workbench.compiler.backends.c.build import compiler_available

UNARY = {
    "exp": lambda a: T.exp(a * 0.1),
    "softplus_pattern": lambda a: T.log(1 + T.exp(a)),
    "tanh": T.tanh,
    "sin": T.sin,
    "sqr": lambda a: a ** 2,
    "neg": lambda a: -a,
    "neg_neg": lambda a: -(-a),
    "abs": abs,
    "sigmoid": T.nnet.sigmoid,
    "log_sigmoid": lambda a: T.log(T.nnet.sigmoid(a)),
    "times_one": lambda a: a * 1,
    "plus_zero": lambda a: a + 0,
    "sqrt_pattern": lambda a: (a * a + 1) ** 0.5,
    "log1p_pattern": lambda a: T.log(1 + a * a),
    "expm1_pattern": lambda a: T.exp(a * 0.1) - 1,
    "sum_keep": lambda a: T.sum(a, axis=-1, keepdims=True) if a.ndim else a,
    "logsumexp": lambda a: T.log(T.sum(T.exp(a), axis=-1, keepdims=True)) if a.ndim else a,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "safe_div": lambda a, b: a / (1 + b * b),
    "cancel": lambda a, b: (a * b) / (1 + a * a) * (1 + a * a),
    "x_minus_x": lambda a, b: a - a + b,
    "max": T.maximum,
}

SHAPES = {"s": (), "v": (3,), "m": (2, 3), "r": (1, 3), "c": (2, 1)}


def _expr(draw, leaves, depth):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(leaves))
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(UNARY)))
        return UNARY[name](_expr(draw, leaves, depth - 1))
    name = draw(st.sampled_from(sorted(BINARY)))
    return BINARY[name](_expr(draw, leaves, depth - 1), _expr(draw, leaves, depth - 1))


@st.composite
def graphs(draw):
    kinds = draw(st.lists(st.sampled_from(sorted(SHAPES)), min_size=1, max_size=3))
    inputs = [T.TensorType("float64", tuple(None if s != 1 else 1 for s in SHAPES[k]))(
        f"in{i}") for i, k in enumerate(kinds)]
    leaves = inputs + [T.constant(2.0), T.constant(np.float64(0.5))]
    outs = [_expr(draw, leaves, 4) for _ in range(draw(st.integers(1, 2)))]
    seed = draw(st.integers(0, 2 ** 16))
    return inputs, [SHAPES[k] for k in kinds], outs, seed


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_fast_run_equals_no_rewrites(case):
    inputs, shapes, outs, seed = case
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) for s in shapes]
    reference = workbench.function(inputs, outs, mode=workbench.Mode(optimizer=None),
                                   on_unused_input="ignore")
    optimized = workbench.function(inputs, outs, on_unused_input="ignore")
    with np.errstate(all="ignore"):
        want = reference(*[v.copy() for v in values])
        got = optimized(*[v.copy() for v in values])
    for w, g in zip(want, got):
        assert np.shape(w) == np.shape(g)
        assert np.asarray(w).dtype == np.asarray(g).dtype
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(graphs())
def test_rewrites_leave_caller_arrays_alone(case):
    inputs, shapes, outs, seed = case
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) for s in shapes]
    copies = [v.copy() for v in values]
    f = workbench.function(inputs, outs, on_unused_input="ignore")
    with np.errstate(all="ignore"):
        f(*values)
        f(*values)
    for v, c in zip(values, copies):
        np.testing.assert_array_equal(v, c)


def _strided(value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same values in a non-contiguous, possibly reversed layout."""
    if value.ndim == 0:
        return value
    big = np.empty(tuple(2 * s for s in value.shape), value.dtype)
    view = big[tuple(slice(None, None, 2) for _ in value.shape)]
    if rng.integers(2):
        view = view[..., ::-1]
        view[...] = value[..., ::-1]
        return view[..., ::-1]
    view[...] = value
    return view


@pytest.mark.skipif(not compiler_available(), reason="no C compiler")
@settings(max_examples=30, deadline=None)
@given(graphs())
def test_c_backend_equals_python_backend(case):
    """The same random graphs, optimized, on the C backend: the same values and dtypes as the
    Python backend, for contiguous and for strided inputs, and the inputs left alone."""
    inputs, shapes, outs, seed = case
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) for s in shapes]
    python = workbench.function(inputs, outs, mode=workbench.Mode("py"), on_unused_input="ignore")
    compiled = workbench.function(inputs, outs, mode=workbench.Mode("c"),
                                  on_unused_input="ignore")
    with np.errstate(all="ignore"):
        want = python(*[v.copy() for v in values])
        for layout in (values, [_strided(v, rng) for v in values]):
            copies = [np.array(v) for v in layout]
            got = compiled(*layout)
            for w, g in zip(want, got):
                assert np.shape(w) == np.shape(g)
                assert np.asarray(w).dtype == np.asarray(g).dtype
                np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
            for v, c in zip(layout, copies):
                np.testing.assert_array_equal(v, c)
