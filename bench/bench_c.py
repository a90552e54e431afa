"""The C backend side by side with what a user would pick instead (issue 5's table).

Peers: NumPy, PyTensor with its C backend (``linker='cvm'``: PyTensor 3 defaults to Numba),
JAX ``jit`` on CPU, PyTorch eager and ``torch.compile``. workbench runs in its default
FAST_RUN mode (the C backend). Each case first computes its output once with every peer
and compares it with workbench's (a mismatch is printed as a note next to the figure), then
times all of them alternately in one run (``harness.run_case``). A peer that cannot run
is listed as missing with the reason.

Cases:

1. ``exp(x)*y + sin(z)*0.5 - x/(1+y*y)`` over 1e7 float64 (ms)
2. ``f(a, b) = a + b`` on scalars (us per call): workbench with checked inputs and with
   ``trust_input``; PyTensor likewise; NumPy's ``a + b`` on ``np.float64``
3. ``C + dot(A, B)``, 1024x1024 float64 (GFLOP/s, ``2 n^3 / t``)
4. one SGD step of a 784-500-10 MLP (sigmoid, softmax, mean cross-entropy), batch 128,
   float32 (ms): shared variables with updates (workbench, PyTensor), a jitted
   ``value_and_grad`` step with donated parameters (JAX), ``backward()`` and an in-place
   update (PyTorch; ``torch.compile`` compiles the loss, forward and backward), and a
   hand-written forward and backward pass (NumPy)
5. ``sum(exp(x))`` over 4000x4000 float64 (ms)
6. ``x.sum(axis=1)`` over 4000x4000 float64 (ms)
7. compiling case 4's train function with an empty cache (s): each sample is a fresh
   process timing from building the graph to the end of the first step (for JAX and
   ``torch.compile`` the first call is where they compile); the cache is a new directory
   (workbench ``compiledir``, PyTensor ``base_compiledir``, JAX's persistent compilation
   cache, ``TORCHINDUCTOR_CACHE_DIR``)
8. the same in a second fresh process on the cache the first one filled (s)

Run: ``python bench/run.py --only c`` (or ``python bench/bench_c.py``). Writes
``bench/results/c_backend.json`` and prints a Markdown table for the README.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from harness import Peer, Result, format_results, run_case, summarize

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results", "c_backend.json")

#: the summary table's columns, in order: workbench first, then the peers
COLUMNS = ["workbench", "NumPy", "PyTensor C", "JAX jit", "torch eager", "torch.compile"]

#: peers left out of a case on purpose (each compile costs seconds of inductor time on a
#: 2-core machine, and the issue's table has no figure for them); ``--all-peers`` runs them
SKIPPED = {
    ("scalar", "torch.compile"): "skipped: dynamo's guards and a 0-d tensor add; "
                                 "--all-peers runs it",
    ("gemm", "torch.compile"): "skipped: compiles to the same addmm call as eager; "
                               "--all-peers runs it",
}


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the peers' libraries, imported once --------------------------------------------------
class Libs:
    """The peer libraries that import, and why the others do not."""

    def __init__(self) -> None:
        self.why: dict[str, str] = {}
        self.pytensor = self._try("pytensor", self._pytensor)
        self.jax = self._try("jax", self._jax)
        self.torch = self._try("torch", self._torch)

    def _try(self, name: str, load: Callable[[], Any]) -> Any:
        try:
            return load()
        except Exception as exc:  # an ImportError, or a broken install
            self.why[name] = f"{name} does not import: {type(exc).__name__}: {exc}"[:200]
            return None

    @staticmethod
    def _pytensor() -> Any:
        if "blas__ldflags" not in os.environ.get("PYTENSOR_FLAGS", ""):
            flags = pytensor_blas_ldflags()
            if flags:
                os.environ["PYTENSOR_FLAGS"] = ",".join(
                    [f for f in [os.environ.get("PYTENSOR_FLAGS", ""), flags] if f])
        with warnings.catch_warnings():
            # without blas__ldflags PyTensor warns that its dot runs through NumPy/SciPy
            warnings.simplefilter("ignore")
            import pytensor
            import pytensor.tensor  # noqa: F401
        return pytensor

    @staticmethod
    def _jax() -> Any:
        import jax

        jax.config.update("jax_enable_x64", True)  # the float64 cases stay float64
        jax.config.update("jax_platforms", "cpu")
        return jax

    @staticmethod
    def _torch() -> Any:
        import torch

        return torch

    def missing(self, name: str) -> str:
        return self.why.get(name, f"{name} is not available")


def c_mode(pytensor: Any) -> Any:
    """PyTensor's C backend with its FAST_RUN rewrites (its default linker is Numba now)."""
    return pytensor.compile.mode.Mode(linker="cvm", optimizer="fast_run")


#: the Fortran BLAS routines PyTensor's C code calls
_BLAS_NAMES = [p + r for r in ("gemm", "gemv", "ger", "dot", "swap", "scal", "copy", "axpy")
               for p in "sdcz" if r not in ("ger", "dot") or p in "sd"]


def pytensor_blas_ldflags() -> str:
    """``blas__ldflags`` giving PyTensor SciPy's OpenBLAS, or "" when that cannot be done.

    A pip-installed PyTensor finds no BLAS to link (SciPy's OpenBLAS exports its routines
    as ``scipy_dgemm_`` ..., PyTensor's C code calls ``dgemm_``), so its GEMM goes through a
    slower NumPy C-API path. The issue compares against PyTensor with BLAS, so the
    benchmark builds a tiny library of jumps from the plain names to SciPy's (x86-64
    assembly, any signature) and points PyTensor at it. No commas: PyTensor's flag parser
    splits on them, hence ``-Xlinker`` rather than ``-Wl,``.
    """
    import glob

    if platform.machine() != "x86_64":
        return ""
    try:
        import scipy
    except ImportError:
        return ""
    libs = glob.glob(os.path.join(os.path.dirname(os.path.dirname(scipy.__file__)),
                                  "scipy.libs", "libscipy_openblas-*.so"))
    if len(libs) != 1:
        return ""
    out = os.path.join(tempfile.gettempdir(), f"wb_bench_pytensor_blas_{os.getuid()}")
    target = os.path.join(out, "libwbblas.so")
    if not os.path.exists(target):
        os.makedirs(out, mode=0o700, exist_ok=True)
        src = os.path.join(out, "jumps.S")
        with open(src, "w") as fh:
            for name in _BLAS_NAMES:
                fh.write(f".globl {name}_\n.type {name}_,@function\n{name}_:\n"
                         f"\tjmp scipy_{name}_@PLT\n")
            fh.write('.section .note.GNU-stack,"",@progbits\n')
        tmp = f"{target}.{os.getpid()}.tmp"
        built = subprocess.run(["gcc", "-shared", "-fPIC", "-o", tmp, src, libs[0],
                                "-Xlinker", "-rpath", "-Xlinker", os.path.dirname(libs[0])],
                               capture_output=True, text=True)
        if built.returncode != 0:
            return ""
        os.replace(tmp, target)
    return f"blas__ldflags=-L{out} -lwbblas -Xlinker -rpath -Xlinker {out}"


@dataclass
class Spec:
    """One peer of a case: its label, table column and a builder returning the timed
    zero-argument callable (which returns the output, for the check)."""

    label: str
    column: str
    build: Callable[[], Callable[[], Any]] | None
    variant: str = ""
    inner: int = 1
    missing: str = ""


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _check(outputs: dict[str, Any], rtol: float, atol: float) -> dict[str, str]:
    """Notes for peers whose output differs from the reference's: NumPy's where it ran
    (the plain computation, so a wrong workbench result is flagged on workbench), else the
    first peer's."""
    notes: dict[str, str] = {}
    names = list(outputs)
    if not names:
        return notes
    base = "NumPy" if "NumPy" in outputs else names[0]
    ref = _to_numpy(outputs[base])
    for name in names:
        if name == base:
            continue
        got = _to_numpy(outputs[name])
        if got.shape != ref.shape:
            notes[name] = f"OUTPUT DIFFERS: shape {got.shape}, {base} gives {ref.shape}"
        elif not np.allclose(got, ref, rtol=rtol, atol=atol, equal_nan=True):
            err = np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))
            notes[name] = f"OUTPUT DIFFERS from {base}'s: max abs difference {err:.3g}"
    return notes


def _workbench_notes(fn: Any) -> str:
    """Where a workbench function did not run all in C (the figure's explanation)."""
    vm = getattr(fn, "vm", None)
    if getattr(vm, "backend", None) != "c":
        return "ran on the Python backend (is a C compiler configured?)"
    fallback = getattr(vm, "fallback_nodes", [])
    if not fallback:
        return ""
    ops = sorted({str(n.op) for n in fallback})
    return f"{len(fallback)} node(s) ran through perform: {', '.join(ops)}"


def timed_case(key: str, case: str, unit: str, specs: list[Spec], rounds: int,
               rtol: float, atol: float = 0.0, work: float | None = None,
               warmup: int = 2, all_peers: bool = False,
               probe: Callable[[Callable[[], Any]], Any] = lambda fn: fn()) -> Result:
    """Build every peer, compare their outputs (``probe(fn)``: by default one call's
    result) once, then time them alternately."""
    _log(f"[bench_c] {case}")
    peers: list[Peer] = []
    outputs: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for spec in specs:
        why = spec.missing
        if not why and (key, spec.column) in SKIPPED and not all_peers:
            why = SKIPPED[(key, spec.column)]
        fn = None
        if not why and spec.build is not None:
            try:
                fn = spec.build()
                outputs[spec.label] = probe(fn)
            except Exception as exc:  # a peer that cannot run this case is reported so
                fn = None
                why = f"failed: {type(exc).__name__}: {exc}"[:300]
        elif not why:
            why = "not available"
        if fn is not None:
            note = getattr(fn, "note", "")
            if note:
                notes[spec.label] = note
        peers.append(Peer(spec.label, fn, why, spec.inner, spec.column, spec.variant))
    for name, text in _check(outputs, rtol, atol).items():
        notes[name] = f"{text}; {notes[name]}" if name in notes else text
    result = run_case(case, unit, peers, rounds=rounds, warmup=warmup, work=work)
    result.notes.update(notes)
    return result


def _noted(fn: Callable[[], Any], note: str) -> Callable[[], Any]:
    """``fn`` carrying a note for the table (workbench's fallback nodes): an attribute, not
    a wrapper, so that the timed call has no extra layer."""
    fn.note = note
    return fn


def _wb_function(inputs: list, outputs: Any, **kwargs: Any) -> Any:
    import workbench as theano

    return theano.function(inputs, outputs, mode="FAST_RUN", **kwargs)


# -- case 1: fused elementwise ---------------------------------------------------------
def case_elemwise(libs: Libs, rounds: int, all_peers: bool) -> Result:
    n = 10_000_000
    rng = np.random.default_rng(1)
    x, y, z = (rng.standard_normal(n) for _ in range(3))

    def wb():
        from workbench import tensor as T

        X, Y, Z = T.dvectors("x", "y", "z")
        f = _wb_function([X, Y, Z], T.exp(X) * Y + T.sin(Z) * 0.5 - X / (1 + Y * Y))
        return _noted(lambda: f(x, y, z), _workbench_notes(f))

    def numpy():
        return lambda: np.exp(x) * y + np.sin(z) * 0.5 - x / (1 + y * y)

    def pytensor():
        pt = libs.pytensor.tensor
        X, Y, Z = pt.dvectors("x", "y", "z")
        f = libs.pytensor.function([X, Y, Z], pt.exp(X) * Y + pt.sin(Z) * 0.5 - X / (1 + Y * Y),
                                   mode=c_mode(libs.pytensor))
        return lambda: f(x, y, z)

    def jax():
        jnp = libs.jax.numpy
        f = libs.jax.jit(lambda a, b, c: jnp.exp(a) * b + jnp.sin(c) * 0.5 - a / (1 + b * b))
        a, b, c = (libs.jax.device_put(v) for v in (x, y, z))
        return lambda: f(a, b, c).block_until_ready()

    def torch(compiled: bool):
        t = libs.torch
        a, b, c = (t.from_numpy(v) for v in (x, y, z))

        def g(a, b, c):
            return t.exp(a) * b + t.sin(c) * 0.5 - a / (1 + b * b)
        f = t.compile(g) if compiled else g
        return lambda: f(a, b, c)

    specs = _standard_specs(libs, wb, numpy, pytensor, jax, torch)
    return timed_case("elemwise", "exp(x)*y + sin(z)*0.5 - x/(1+y*y), 1e7 float64", "ms",
                      specs, rounds, rtol=1e-12, atol=1e-12, all_peers=all_peers)


def _standard_specs(libs: Libs, wb, numpy, pytensor, jax, torch) -> list[Spec]:
    """One peer per library, labelled by its column."""
    def avail(lib: str, build: Callable) -> tuple[Callable | None, str]:
        return (build, "") if getattr(libs, lib) is not None else (None, libs.missing(lib))

    pt_build, pt_why = avail("pytensor", pytensor)
    jx_build, jx_why = avail("jax", jax)
    th_build, th_why = avail("torch", lambda: torch(False))
    tc_build, tc_why = avail("torch", lambda: torch(True))
    return [
        Spec("workbench FAST_RUN (C)", "workbench", wb),
        Spec("NumPy", "NumPy", numpy),
        Spec("PyTensor C (cvm)", "PyTensor C", pt_build, missing=pt_why),
        Spec("JAX jit", "JAX jit", jx_build, missing=jx_why),
        Spec("torch eager", "torch eager", th_build, missing=th_why),
        Spec("torch.compile", "torch.compile", tc_build, missing=tc_why),
    ]


# -- case 2: call overhead on scalars --------------------------------------------------
def case_scalar(libs: Libs, rounds: int, all_peers: bool) -> Result:
    a0, b0 = np.asarray(1.5), np.asarray(2.5)
    inner = 1000

    def wb(trusted: bool):
        def build():
            from workbench import tensor as T

            A, B = T.dscalars("a", "b")
            f = _wb_function([A, B], A + B, trust_input=trusted)
            if trusted:
                return _noted(lambda: f(a0, b0), _workbench_notes(f))
            return _noted(lambda: f(1.5, 2.5), _workbench_notes(f))
        return build

    def pytensor(trusted: bool):
        def build():
            pt = libs.pytensor.tensor
            A, B = pt.dscalars("a", "b")
            f = libs.pytensor.function([A, B], A + B, mode=c_mode(libs.pytensor))
            if trusted:
                f.trust_input = True
                return lambda: f(a0, b0)
            return lambda: f(1.5, 2.5)
        return build

    def jax():
        f = libs.jax.jit(lambda a, b: a + b)
        return lambda: f(1.5, 2.5).block_until_ready()

    def torch(compiled: bool):
        t = libs.torch
        a, b = t.tensor(1.5, dtype=t.float64), t.tensor(2.5, dtype=t.float64)

        def g(a, b):
            return a + b
        f = t.compile(g) if compiled else g
        return lambda: f(a, b)

    x, y = np.float64(1.5), np.float64(2.5)
    pt_why = "" if libs.pytensor is not None else libs.missing("pytensor")
    specs = [
        Spec("workbench f(1.5, 2.5), checked", "workbench", wb(False), inner=inner),
        Spec("workbench trust_input f(0-d arrays)", "workbench", wb(True), "trusted",
             inner=inner),
        Spec("NumPy a + b on np.float64", "NumPy", lambda: (lambda: x + y), inner=inner * 4),
        Spec("PyTensor C f(1.5, 2.5)", "PyTensor C", pytensor(False), inner=inner,
             missing=pt_why),
        Spec("PyTensor C trust_input f(0-d arrays)", "PyTensor C", pytensor(True), "trusted",
             inner=inner, missing=pt_why),
        Spec("JAX jit f(1.5, 2.5)", "JAX jit", jax if libs.jax else None, inner=inner // 4,
             missing="" if libs.jax else libs.missing("jax")),
        Spec("torch eager a + b (0-d tensors)", "torch eager",
             (lambda: torch(False)) if libs.torch else None, inner=inner,
             missing="" if libs.torch else libs.missing("torch")),
        Spec("torch.compile a + b (0-d tensors)", "torch.compile",
             (lambda: torch(True)) if libs.torch else None, inner=inner // 4,
             missing="" if libs.torch else libs.missing("torch")),
    ]
    return timed_case("scalar", "f(a, b) = a + b on float64 scalars, per call", "us", specs,
                      rounds, rtol=0, atol=0, all_peers=all_peers)


# -- case 3: GEMM ----------------------------------------------------------------------
def case_gemm(libs: Libs, rounds: int, all_peers: bool) -> Result:
    n = 1024
    rng = np.random.default_rng(3)
    A, B, C = (rng.standard_normal((n, n)) for _ in range(3))

    def wb():
        from workbench import tensor as T

        a, b, c = T.dmatrices("A", "B", "C")
        f = _wb_function([a, b, c], c + T.dot(a, b))
        return _noted(lambda: f(A, B, C), _workbench_notes(f))

    def numpy():
        return lambda: C + A @ B

    def pytensor():
        pt = libs.pytensor.tensor
        a, b, c = pt.dmatrices("A", "B", "C")
        f = libs.pytensor.function([a, b, c], c + pt.dot(a, b), mode=c_mode(libs.pytensor))
        return lambda: f(A, B, C)

    def jax():
        f = libs.jax.jit(lambda a, b, c: c + a @ b)
        a, b, c = (libs.jax.device_put(v) for v in (A, B, C))
        return lambda: f(a, b, c).block_until_ready()

    def torch(compiled: bool):
        t = libs.torch
        a, b, c = (t.from_numpy(v) for v in (A, B, C))

        def g(a, b, c):
            return c + a @ b
        f = t.compile(g) if compiled else g
        return lambda: f(a, b, c)

    specs = _standard_specs(libs, wb, numpy, pytensor, jax, torch)
    return timed_case("gemm", "C + dot(A, B), 1024x1024 float64", "GFLOP/s", specs, rounds,
                      rtol=1e-10, atol=1e-9, work=2 * n ** 3 / 1e9, all_peers=all_peers)


# -- case 4: the MLP train step ----------------------------------------------------------
MLP_SIZES = (784, 500, 10)
MLP_BATCH = 128
MLP_LR = 0.1


def mlp_data() -> dict[str, np.ndarray]:
    """The same batch and initial parameters for every peer (float32, int32 labels)."""
    rng = np.random.default_rng(4)
    n_in, n_hidden, n_out = MLP_SIZES
    return {
        "x": rng.standard_normal((MLP_BATCH, n_in), dtype=np.float32),
        "y": rng.integers(0, n_out, MLP_BATCH).astype(np.int32),
        "W1": (rng.standard_normal((n_in, n_hidden), dtype=np.float32) * 0.05),
        "b1": np.zeros(n_hidden, np.float32),
        "W2": (rng.standard_normal((n_hidden, n_out), dtype=np.float32) * 0.05),
        "b2": np.zeros(n_out, np.float32),
    }


PARAMS = ("W1", "b1", "W2", "b2")


def _theano_like_step(lib: Any, T: Any, softmax: Callable, data: dict, mode: Any) -> Any:
    """workbench's or PyTensor's train function: the same Theano code for both."""
    params = [lib.shared(data[k].copy(), name=k) for k in PARAMS]
    W1, b1, W2, b2 = params
    x = T.matrix("x", dtype="float32")
    y = T.ivector("y")
    hidden = T.sigmoid(T.dot(x, W1) + b1)
    p = softmax(T.dot(hidden, W2) + b2)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    grads = lib.grad(cost, params)
    lr = np.asarray(MLP_LR, dtype="float32")
    f = lib.function([x, y], cost, updates=[(w, w - lr * g) for w, g in zip(params, grads)],
                     mode=mode)
    xv, yv = data["x"], data["y"]
    return f, (lambda: f(xv, yv))


def mlp_workbench(data: dict) -> Callable[[], Any]:
    import workbench as theano
    from workbench import tensor as T

    f, step = _theano_like_step(theano, T, T.nnet.softmax, data, "FAST_RUN")
    return _noted(step, _workbench_notes(f))


def mlp_pytensor(data: dict, pytensor: Any) -> Callable[[], Any]:
    pt = pytensor.tensor
    _, step = _theano_like_step(pytensor, pt, lambda v: pt.special.softmax(v, axis=-1), data,
                                c_mode(pytensor))
    return step


def mlp_jax(data: dict, jax: Any) -> Callable[[], Any]:
    jnp = jax.numpy

    def loss(params, x, y):
        W1, b1, W2, b2 = params
        hidden = jax.nn.sigmoid(x @ W1 + b1)
        logp = jax.nn.log_softmax(hidden @ W2 + b2, axis=-1)
        return -jnp.mean(logp[jnp.arange(x.shape[0]), y])

    def train(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return value, [w - MLP_LR * g for w, g in zip(params, grads)]

    train = jax.jit(train, donate_argnums=0)  # the old parameters' buffers take the new ones
    state = [[jax.device_put(data[k].copy()) for k in PARAMS]]
    x, y = jax.device_put(data["x"]), jax.device_put(data["y"])

    def step():
        value, state[0] = train(state[0], x, y)
        return value.block_until_ready()
    return step


def mlp_torch(data: dict, torch: Any, compiled: bool) -> Callable[[], Any]:
    F = torch.nn.functional
    params = [torch.from_numpy(data[k].copy()).requires_grad_() for k in PARAMS]
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"].astype(np.int64))

    def loss(W1, b1, W2, b2, x, y):
        hidden = torch.sigmoid(x @ W1 + b1)
        return F.nll_loss(F.log_softmax(hidden @ W2 + b2, dim=1), y)

    fn = torch.compile(loss) if compiled else loss

    def step():
        value = fn(*params, x, y)
        value.backward()
        with torch.no_grad():
            torch._foreach_add_(params, [p.grad for p in params], alpha=-MLP_LR)
        for p in params:
            p.grad = None
        return value.detach()
    return step


def mlp_numpy(data: dict) -> Callable[[], Any]:
    """The forward and backward pass by hand, updating the parameters in place."""
    W1, b1, W2, b2 = (data[k].copy() for k in PARAMS)
    x, y = data["x"], data["y"]
    rows = np.arange(len(y))
    lr = np.float32(MLP_LR)

    def step():
        hidden = x @ W1
        hidden += b1
        np.negative(hidden, out=hidden)
        np.exp(hidden, out=hidden)
        hidden += 1
        np.reciprocal(hidden, out=hidden)  # sigmoid
        logits = hidden @ W2
        logits += b2
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        total = e.sum(axis=1, keepdims=True)
        value = -np.mean(logits[rows, y] - np.log(total[:, 0]))
        d = e / total  # softmax; minus the one-hot, over the batch size: d(loss)/d(logits)
        d[rows, y] -= 1
        d /= len(y)
        gW2 = hidden.T @ d
        gb2 = d.sum(axis=0)
        dh = d @ W2.T
        dh *= hidden * (1 - hidden)
        gW1 = x.T @ dh
        gb1 = dh.sum(axis=0)
        for w, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            g *= lr
            w -= g
        return value
    return step


def case_mlp(libs: Libs, rounds: int, all_peers: bool) -> Result:
    data = mlp_data()

    specs = _standard_specs(
        libs, lambda: mlp_workbench(data), lambda: mlp_numpy(data),
        lambda: mlp_pytensor(data, libs.pytensor), lambda: mlp_jax(data, libs.jax),
        lambda compiled: mlp_torch(data, libs.torch, compiled))

    def first_two_losses(step: Callable[[], Any]) -> np.ndarray:
        """What the output check compares: the second loss shows that the update was
        applied alike."""
        return np.array([float(_to_numpy(step())), float(_to_numpy(step()))])

    return timed_case("mlp", "MLP 784-500-10 SGD train step, batch 128, float32", "ms", specs,
                      rounds, rtol=1e-4, atol=1e-5, all_peers=all_peers,
                      probe=first_two_losses)


# -- cases 5 and 6: reductions ---------------------------------------------------------
def case_reduce(libs: Libs, rounds: int, all_peers: bool, axis1: bool) -> Result:
    n = 4000
    x = np.random.default_rng(5).standard_normal((n, n))

    def expr(mod: Any, v: Any) -> Any:
        return v.sum(axis=1) if axis1 else mod.exp(v).sum()

    def wb():
        from workbench import tensor as T

        X = T.dmatrix("x")
        f = _wb_function([X], T.sum(X, axis=1) if axis1 else T.sum(T.exp(X)))
        return _noted(lambda: f(x), _workbench_notes(f))

    def numpy():
        return lambda: expr(np, x)

    def pytensor():
        pt = libs.pytensor.tensor
        X = pt.dmatrix("x")
        f = libs.pytensor.function([X], pt.sum(X, axis=1) if axis1 else pt.sum(pt.exp(X)),
                                   mode=c_mode(libs.pytensor))
        return lambda: f(x)

    def jax():
        jnp = libs.jax.numpy
        f = libs.jax.jit(lambda v: expr(jnp, v))
        v = libs.jax.device_put(x)
        return lambda: f(v).block_until_ready()

    def torch(compiled: bool):
        t = libs.torch
        v = t.from_numpy(x)

        def g(v):
            return expr(t, v)
        f = t.compile(g) if compiled else g
        return lambda: f(v)

    specs = _standard_specs(libs, wb, numpy, pytensor, jax, torch)
    if axis1:
        return timed_case("sum1", "x.sum(axis=1), 4000x4000 float64", "ms", specs, rounds,
                          rtol=1e-10, atol=1e-9, all_peers=all_peers)
    return timed_case("sumexp", "sum(exp(x)), 4000x4000 float64", "ms", specs, rounds,
                      rtol=1e-10, atol=0, all_peers=all_peers)


# -- cases 7 and 8: compiling the MLP in fresh processes --------------------------------
COMPILE_PEERS = [("workbench FAST_RUN (C)", "workbench"), ("PyTensor C (cvm)", "PyTensor C"),
                 ("JAX jit", "JAX jit"), ("torch.compile", "torch.compile")]


def compile_worker(column: str, cache: str) -> None:
    """Runs in a fresh process whose environment points the peer's cache at ``cache``:
    prints the seconds from building the MLP train function to the end of its first step,
    and that step's loss, as JSON."""
    data = mlp_data()
    if column == "workbench":
        importlib.import_module("workbench")  # importing is not compiling: not timed
        start = time.perf_counter()
        step = mlp_workbench(data)
    elif column == "PyTensor C":
        pytensor = Libs._pytensor()
        start = time.perf_counter()
        step = mlp_pytensor(data, pytensor)
    elif column == "JAX jit":
        jax = Libs._jax()
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        start = time.perf_counter()
        step = mlp_jax(data, jax)
    elif column == "torch.compile":
        torch = Libs._torch()
        start = time.perf_counter()
        step = mlp_torch(data, torch, compiled=True)
    else:
        raise SystemExit(f"unknown compile peer {column!r}")
    loss = float(_to_numpy(step()))
    print(json.dumps({"seconds": time.perf_counter() - start, "loss": loss}))


def _worker_env(column: str, cache: str) -> dict[str, str]:
    env = dict(os.environ)
    if column == "workbench":
        flags = [f for f in env.get("WORKBENCH_FLAGS", "").split(",")
                 if f.strip() and not f.strip().startswith("compiledir=")]
        env["WORKBENCH_FLAGS"] = ",".join(flags + [f"compiledir={cache}"])
    elif column == "PyTensor C":
        flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",")
                 if f.strip() and "compiledir" not in f]
        env["PYTENSOR_FLAGS"] = ",".join(flags + [f"base_compiledir={cache}"])
    elif column == "torch.compile":
        env["TORCHINDUCTOR_CACHE_DIR"] = cache
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def _run_worker(column: str, cache: str, timeout: float) -> dict:
    out = subprocess.run([sys.executable, "-W", "ignore", os.path.abspath(__file__),
                          "--compile-worker", column, cache], capture_output=True, text=True,
                         env=_worker_env(column, cache), timeout=timeout, cwd=HERE)
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"worker exited with {out.returncode}: {tail}"[:300])
    return json.loads(out.stdout.strip().splitlines()[-1])


def case_compile(libs: Libs, rounds: int, timeout: float = 300.0) -> list[Result]:
    """Cases 7 and 8, interleaved: each round runs every peer cold (a new cache directory)
    then warm (a second process on that directory)."""
    _log("[bench_c] compile the MLP train function (fresh processes)")
    available = {"workbench": True, "PyTensor C": libs.pytensor is not None,
                 "JAX jit": libs.jax is not None, "torch.compile": libs.torch is not None}
    why = {"PyTensor C": libs.missing("pytensor"), "JAX jit": libs.missing("jax"),
           "torch.compile": libs.missing("torch")}
    cold: dict[str, list[float]] = {}
    warm: dict[str, list[float]] = {}
    missing: dict[str, str] = {}
    losses: dict[str, float] = {}
    for label, column in COMPILE_PEERS:
        if not available[column]:
            missing[label] = why[column]
        else:
            cold[label], warm[label] = [], []
    for _ in range(rounds):
        for label, column in COMPILE_PEERS:
            if label not in cold:
                continue
            cache = tempfile.mkdtemp(prefix="wb_bench_cache_")
            try:
                first = _run_worker(column, cache, timeout)
                second = _run_worker(column, cache, timeout)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
                missing[label] = f"failed: {exc}"[:300]
                del cold[label], warm[label]
                continue
            finally:
                shutil.rmtree(cache, ignore_errors=True)
            cold[label].append(first["seconds"])
            warm[label].append(second["seconds"])
            losses.setdefault(label, first["loss"])
    no_compile = {"NumPy": "no compile step", "torch eager": "no compile step"}
    peers = [Peer(label, None, column=column) for label, column in COMPILE_PEERS] + \
        [Peer(name, None, column=name) for name in no_compile]
    results = []
    for title, samples in (("compile the MLP train function, new cache", cold),
                           ("same, cache warm, new process", warm)):
        result = summarize(f"{title} (graph build to end of the first step, fresh process)",
                           "s", samples, {**missing, **no_compile}, peers=peers)
        result.notes.update(_check({k: losses[k] for k in losses if k in samples},
                                   rtol=1e-4, atol=1e-5))
        results.append(result)
    return results


# -- the goals of issue 5, and the README table ----------------------------------------
#: per case: the goal's text, and its terms: (peer column, factor) for "at least factor
#: times as fast as that peer" (time ratio or rate ratio), or (None, limit) for "at most
#: limit" in the case's unit
GOALS: dict[str, tuple[str, list[tuple[str | None, float]]]] = {
    "elemwise": ("≥ 5× NumPy, ≥ 2× JAX", [("NumPy", 5.0), ("JAX jit", 2.0)]),
    "scalar": ("≤ 1/2 of PyTensor's, checked inputs", [("PyTensor C", 2.0)]),
    "gemm": ("≥ 0.95× NumPy", [("NumPy", 0.95)]),
    "mlp": ("faster than JAX", [("JAX jit", 1.0)]),
    "sumexp": ("≥ 4× NumPy", [("NumPy", 4.0)]),
    "sum1": ("≤ JAX's time", [("JAX jit", 1.0)]),
    "compile_cold": ("≤ 3 s", [(None, 3.0)]),
    "compile_warm": ("≤ 0.2 s", [(None, 0.2)]),
}

SHORT = {"elemwise": "`exp(x)*y + sin(z)*0.5 - x/(1+y*y)`, 1e7 float64, ms",
         "scalar": "`f(a, b) = a + b` on scalars, µs per call",
         "gemm": "`C + dot(A, B)`, 1024² float64, GFLOP/s",
         "mlp": "MLP 784-500-10 train step, batch 128, float32, ms",
         "sumexp": "`sum(exp(x))`, 4000² float64, ms",
         "sum1": "sum over axis 1, 4000² float64, ms",
         "compile_cold": "compile the MLP train function, new cache, s",
         "compile_warm": "same, cache warm, new process, s"}


def headline(result: Result, column: str) -> str | None:
    """The peer name giving a column's headline figure (its variant-less peer)."""
    for name, (col, variant) in result.columns.items():
        if col == column and not variant and name in result.medians:
            return name
    return None


def goal_status(key: str, result: Result) -> tuple[str, bool | None]:
    """The goal's verdict in words, and whether it is met (None: not measurable)."""
    text, terms = GOALS[key]
    ours = headline(result, "workbench")
    if ours is None:
        return "workbench missing", None
    parts, met = [], True
    for column, factor in terms:
        if column is None:
            value = result.medians[ours]
            ok = value <= factor
            parts.append(f"{_fmt(value)} {result.unit}" + ("" if ok else
                         f" ({value / factor:.1f}× the limit)"))
        else:
            peer = headline(result, column)
            if peer is None:
                parts.append(f"{column} missing")
                met = None if met is True else met
                continue
            ratio = result.medians[ours] / result.medians[peer]
            speedup = ratio if result.better == "higher" else 1 / ratio
            ok = speedup >= factor
            parts.append(f"{speedup:.2f}× {column}'s speed" + ("" if ok else
                         f" (goal {factor:g}×: missed by {(1 - speedup / factor) * 100:.0f}%)"))
        if not ok:
            met = False
    return "; ".join(parts), met


def _fmt(value: float) -> str:
    """Three significant digits, without exponents (1210, 86.1, 0.146)."""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if value >= 0.001 else f"{value:.2e}"


def _cell(result: Result, column: str) -> str:
    names = [n for n, (col, _) in result.columns.items() if col == column]
    main = [n for n in names if not result.columns[n][1] and n in result.medians]
    extra = [n for n in names if result.columns[n][1] and n in result.medians]
    if not main and not extra:
        return "–"
    fmt = _fmt
    text = fmt(result.medians[main[0]]) if main else "–"
    if extra:
        text += " (" + ", ".join(f"{fmt(result.medians[n])} {result.columns[n][1]}"
                                 for n in extra) + ")"
    if any(n in result.notes and "DIFFERS" in result.notes[n] for n in main + extra):
        text += " ⚠"
    return text


def markdown(keyed: list[tuple[str, Result]], remarks: list[str] = ()) -> str:
    """The README table: one row per case, one column per library, the goal and verdict;
    below it the general ``remarks``, what was missing and why, and the notes (fallbacks,
    output differences)."""
    head = "| case | " + " | ".join(COLUMNS) + " | goal for workbench | verdict |"
    lines = [head, "| --- " * (len(COLUMNS) + 3) + "|"]
    footnotes = [f"- {text}" for text in remarks]
    for key, result in keyed:
        status, met = goal_status(key, result)
        verdict = {True: "met", False: "missed", None: "n/a"}[met]
        cells = [_cell(result, c) for c in COLUMNS]
        lines.append(f"| {SHORT[key]} | " + " | ".join(cells) +
                     f" | {GOALS[key][0]} | {verdict}: {status} |")
        for name, why in result.missing.items():
            if why != "no compile step":
                footnotes.append(f"- {SHORT[key]}: {name} missing ({why})")
        for name, note in result.notes.items():
            footnotes.append(f"- {SHORT[key]}: {name}: {note}")
    return "\n".join(lines + ([""] + footnotes if footnotes else []))


def environment() -> dict[str, Any]:
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for name in ("workbench", "pytensor", "jax", "jaxlib", "torch", "scipy"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:  # run from a checkout
            try:
                versions[name] = getattr(importlib.import_module(name), "__version__", None)
            except ImportError:
                versions[name] = None
    return {"machine": platform.machine(), "cpu_count": os.cpu_count(),
            "platform": platform.platform(), "versions": versions,
            "loadavg_start": os.getloadavg()}


def record_command(argv: list[str] | None) -> str:
    """The command line that reproduces this run (for the README and the JSON)."""
    extra = " ".join(argv if argv is not None else sys.argv[1:])
    return "python bench/run.py --only c" + (f" -- {extra}" if extra else "")


def main(argv: list[str] | None = None) -> list[Result]:
    """Run the C cases; write the JSON; print the figures and the Markdown table."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per case")
    parser.add_argument("--compile-rounds", type=int, default=3,
                        help="rounds of fresh-process compiles (cold then warm)")
    parser.add_argument("--cases", default="elemwise,scalar,gemm,mlp,sumexp,sum1,compile",
                        help="comma-separated subset of the cases")
    parser.add_argument("--all-peers", action="store_true",
                        help="also run the peers skipped by default (SKIPPED)")
    parser.add_argument("--json", default=RESULTS, help="where to write the results")
    args = parser.parse_args(argv)
    wanted = args.cases.split(",")
    env = environment()
    started = time.perf_counter()
    libs = Libs()
    env["PYTENSOR_FLAGS"] = os.environ.get("PYTENSOR_FLAGS", "")
    keyed: list[tuple[str, Result]] = []
    runners = {
        "elemwise": lambda: case_elemwise(libs, args.rounds, args.all_peers),
        "scalar": lambda: case_scalar(libs, args.rounds * 2, args.all_peers),
        "gemm": lambda: case_gemm(libs, args.rounds, args.all_peers),
        "mlp": lambda: case_mlp(libs, args.rounds * 2, args.all_peers),
        "sumexp": lambda: case_reduce(libs, args.rounds, args.all_peers, axis1=False),
        "sum1": lambda: case_reduce(libs, args.rounds, args.all_peers, axis1=True),
    }
    for key in wanted:
        if key in runners:
            keyed.append((key, runners[key]()))
    if "compile" in wanted:
        cold, warm = case_compile(libs, args.compile_rounds)
        keyed += [("compile_cold", cold), ("compile_warm", warm)]
    env["loadavg_end"] = os.getloadavg()
    env["seconds"] = time.perf_counter() - started
    load = f"{env['loadavg_start'][0]:.1f} at start, {env['loadavg_end'][0]:.1f} at end"
    remarks = [f"Measured with `{record_command(argv)}` on {env['cpu_count']} cores "
               f"(load average {load}; {env['seconds']:.0f} s in all); medians of "
               f"interleaved rounds; ⚠ marks an output that differs from NumPy's."]
    if "blas__ldflags" in env["PYTENSOR_FLAGS"]:
        remarks.append("PyTensor C is linked to SciPy's OpenBLAS through a small library of "
                       "jumps (`bench_c.pytensor_blas_ldflags`): a pip install of PyTensor "
                       "finds no BLAS of its own.")
    elif libs.pytensor is not None:
        remarks.append("PyTensor C runs without `blas__ldflags`: its dot goes through its "
                       "slower NumPy C-API path.")
    table = markdown(keyed, remarks)
    record = {
        "schema": "workbench.bench.c/v1",
        "command": record_command(argv),
        "environment": env,
        "cases": [{"key": key, "case": r.case, "unit": r.unit, "better": r.better,
                   "medians": r.medians, "samples_seconds": r.samples, "missing": r.missing,
                   "notes": r.notes, "columns": {k: list(v) for k, v in r.columns.items()},
                   "goal": GOALS[key][0], "verdict": goal_status(key, r)[0],
                   "goal_met": goal_status(key, r)[1]}
                  for key, r in keyed],
        "markdown": table,
    }
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json + ".tmp", "w") as fh:
        json.dump(record, fh, indent=1)
    os.replace(args.json + ".tmp", args.json)
    results = [r for _, r in keyed]
    print(format_results(results))
    print("\n# C backend vs peers: the README table\n")
    print(table)
    print(f"\n(results written to {os.path.relpath(args.json, ROOT)})\n")
    return results


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    if len(sys.argv) == 4 and sys.argv[1] == "--compile-worker":
        compile_worker(sys.argv[2], sys.argv[3])
    else:
        main()
