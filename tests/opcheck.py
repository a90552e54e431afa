"""Checking ops against NumPy on every backend available.

``check_op(build, reference, *values)`` makes a symbolic input for each value (same dtype,
same number of dimensions), builds the graph with ``build``, compiles it on every backend,
and compares each result with ``reference(*values)``: same dtype, same shape, same values.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

import workbench
from workbench import tensor as T
from workbench.compiler.backends.c.build import compiler_available
from workbench.compiler.mode import Mode

#: the modes every op is checked on; each backend available adds its own
BACKEND_MODES: dict[str, Callable[[], Mode]] = {
    "python-debug": lambda: Mode("py", "fast_run", check_outputs=True, name="python-debug"),
    "python-fast-compile": lambda: Mode("py", "fast_compile", name="python-fast-compile"),
}
if compiler_available():
    BACKEND_MODES["c"] = lambda: Mode("c", "fast_run", name="c")


def symbolic_like(value: Any, name: str | None = None) -> T.TensorVariable:
    """A symbolic input with the dtype and number of dimensions of ``value``."""
    arr = np.asarray(value)
    return T.TensorType(arr.dtype, (None,) * arr.ndim)(name)


def assert_same(got: Any, want: Any, rtol: float | None = None, atol: float | None = None,
                check_dtype: bool = True, where: str = "") -> None:
    got, want = np.asarray(got), np.asarray(want)
    if check_dtype:
        assert got.dtype == want.dtype, f"{where}dtype {got.dtype} != NumPy's {want.dtype}"
    assert got.shape == want.shape, f"{where}shape {got.shape} != NumPy's {want.shape}"
    if want.dtype.kind in "fc":
        if rtol is None:
            rtol = {2: 1e-2, 4: 1e-5, 8: 1e-10}.get(want.dtype.itemsize, 1e-5)
            if want.dtype.kind == "c":
                rtol = {8: 1e-5, 16: 1e-10}.get(want.dtype.itemsize, 1e-5)
        if atol is None:
            atol = rtol
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=where)
    else:
        np.testing.assert_array_equal(got, want, err_msg=where)


def check_op(build: Callable[..., Any], reference: Callable[..., Any], *values: Any,
             rtol: float | None = None, atol: float | None = None, check_dtype: bool = True,
             modes: Sequence[str] | None = None) -> list:
    """Compare ``build`` on symbolic inputs with ``reference`` on the values, on every backend.

    Returns the symbolic outputs (for further checks on their types).
    """
    values = [np.asarray(v) for v in values]
    inputs = [symbolic_like(v, f"in{i}") for i, v in enumerate(values)]
    outputs = build(*inputs)
    single = not isinstance(outputs, (list, tuple))
    outs = [outputs] if single else list(outputs)
    # NumPy's own warnings about its reference result (empty means, ...) are not ours
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = reference(*[v.copy() for v in values])
    expected = [expected] if single else list(expected)
    for mode_name in modes or BACKEND_MODES:
        fn = workbench.function(inputs, outs, mode=BACKEND_MODES[mode_name](),
                                on_unused_input="ignore")
        got = fn(*[v.copy() for v in values])
        for i, (g, e, o) in enumerate(zip(got, expected, outs)):
            assert_same(g, e, rtol, atol, check_dtype, where=f"[{mode_name}] output {i}: ")
            # the symbolic type must describe the value
            assert g.ndim == o.ndim, f"[{mode_name}] output {i}: ndim {g.ndim} != type {o.type}"
            for axis, s in enumerate(o.type.shape):
                assert s is None or s == g.shape[axis], \
                    f"[{mode_name}] output {i}: static shape {o.type} but value {g.shape}"
    return outs


def check_infer_shape(build: Callable[..., Any], *values: Any) -> None:
    """Check every node's ``infer_shape`` in the graph ``build`` makes against the shapes
    its outputs really have. Input shapes are given as constants; the shape expressions may
    also read the node's other inputs, so they are evaluated with the graph's input values."""
    from workbench.compiler.graph import io_toposort

    values = [np.asarray(v) for v in values]
    inputs = [symbolic_like(v, f"in{i}") for i, v in enumerate(values)]
    outputs = build(*inputs)
    outs = [outputs] if not isinstance(outputs, (list, tuple)) else list(outputs)
    nodes = io_toposort(inputs, outs)
    variables, seen = [], set()
    for node in nodes:
        for v in list(node.inputs) + list(node.outputs):
            if id(v) not in seen:
                seen.add(id(v))
                variables.append(v)
    fn = workbench.function(inputs, variables, mode=BACKEND_MODES["python-debug"](),
                            on_unused_input="ignore")
    actual = {id(v): np.asarray(r) for v, r in zip(variables, fn(*values))}
    checks = []  # (node, output, symbolic shape)
    for node in nodes:
        if not hasattr(node.op, "infer_shape"):
            continue
        in_shapes = [tuple(T.constant(s, dtype="int64") for s in actual[id(i)].shape)
                     for i in node.inputs]
        for out, shape in zip(node.outputs, node.op.infer_shape(node, in_shapes)):
            checks.append((node, out, [T.as_tensor_variable(s) for s in shape]))
    flat = [s for _, _, shape in checks for s in shape]
    evaluated = iter(workbench.function(inputs, flat, on_unused_input="ignore")(*values)
                     if flat else [])
    for node, out, shape in checks:
        got = tuple(int(np.asarray(next(evaluated))) for _ in shape)
        assert got == actual[id(out)].shape, \
            f"{node.op}.infer_shape gave {got}, the output has shape {actual[id(out)].shape}"
