"""Side-by-side timing: every peer of a case runs alternately in one process, one run.

A case is a name, a unit and a dict of peers (name -> a zero-argument callable, or None when
the peer is missing, with the reason). ``run_case`` times the peers in rounds, each round
calling every peer once in turn, so that drift in machine load falls on all of them alike,
and reports medians and the ratio of each peer to the first.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Peer:
    name: str
    fn: Callable[[], object] | None
    missing: str = ""  # why the peer could not run
    inner: int = 1  # calls per timed sample (for sub-microsecond work)


@dataclass
class Result:
    case: str
    unit: str
    medians: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


_UNITS = {"s": 1.0, "ms": 1e3, "us": 1e6}


def run_case(case: str, unit: str, peers: list[Peer], rounds: int = 21,
             warmup: int = 3) -> Result:
    result = Result(case, unit)
    live = []
    for p in peers:
        if p.fn is None:
            result.missing[p.name] = p.missing or "not available"
        else:
            live.append(p)
    for p in live:
        for _ in range(warmup):
            p.fn()
    samples: dict[str, list[float]] = {p.name: [] for p in live}
    for _ in range(rounds):
        for p in live:
            fn, inner = p.fn, p.inner
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[p.name].append((time.perf_counter() - start) / inner)
    scale = _UNITS[unit]
    for name, values in samples.items():
        result.medians[name] = statistics.median(values) * scale
    return result


def format_results(results: list[Result]) -> str:
    lines = []
    for r in results:
        names = list(r.medians)
        base = names[0] if names else None
        lines.append(f"## {r.case} ({r.unit}, median)")
        for name in names:
            ratio = r.medians[name] / r.medians[base] if base and r.medians[base] else float("nan")
            lines.append(f"  {name:<32} {r.medians[name]:>12.4g}   x{ratio:.2f} of {base}")
        for name, why in r.missing.items():
            lines.append(f"  {name:<32} {'missing':>12}   ({why})")
        lines.append("")
    return "\n".join(lines)
