"""Core benchmarks: import time of workbench, and the call overhead of a compiled function.

Run: ``python bench/run.py`` (or ``make bench``).
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from harness import Peer, Result, run_case


def import_time(module: str, repeats: int = 7) -> float:
    """Median seconds to import ``module`` in a fresh interpreter (interpreter start excluded)."""
    code = ("import time; t = time.perf_counter(); import {m}; "
            "print(time.perf_counter() - t)").format(m=module)
    times = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        times.append(float(out.stdout.strip()))
    times.sort()
    return times[len(times) // 2]


def bench_import() -> Result:
    result = Result("import time, fresh process", "s")
    for module in ("numpy", "workbench"):
        result.medians[f"import {module}"] = import_time(module)
    try:
        result.medians["import pytensor"] = import_time("pytensor", 3)
    except subprocess.CalledProcessError:
        result.missing["import pytensor"] = "pytensor is not installed"
    return result


def bench_call_overhead() -> Result:
    import workbench as theano
    from workbench import tensor as T

    a, b = T.dscalars("a", "b")
    f = theano.function([a, b], a + b)
    ft = theano.function([a, b], a + b)
    ft.trust_input = True
    x, y = np.float64(1.5), np.float64(2.5)
    xa, ya = np.asarray(1.5), np.asarray(2.5)
    peers = [
        Peer("numpy np.add(x, y)", lambda: np.add(x, y), inner=2000),
        Peer("workbench f(1.5, 2.5) python", lambda: f(1.5, 2.5), inner=500),
        Peer("workbench f(arrays) python", lambda: f(xa, ya), inner=500),
        Peer("workbench trusted f(arrays)", lambda: ft(xa, ya), inner=500),
    ]
    try:
        import pytensor
        import pytensor.tensor as pt

        pa, pb = pt.dscalars("a", "b")
        pf = pytensor.function([pa, pb], pa + pb)
        peers.append(Peer("pytensor f(1.5, 2.5)", lambda: pf(1.5, 2.5), inner=500))
    except ImportError:
        peers.append(Peer("pytensor f(1.5, 2.5)", None, "pytensor is not installed"))
    return run_case("call overhead of function([a, b], a + b) on scalars", "us", peers)


def main() -> list[Result]:
    return [bench_import(), bench_call_overhead()]
