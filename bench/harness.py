"""Side-by-side timing: every peer of a case runs alternately in one process, one run.

A case is a name, a unit and a list of peers (a name and a zero-argument callable, or None
when the peer is missing, with the reason). ``run_case`` times the peers in rounds, each
round calling every peer once in turn, so that drift in machine load falls on all of them
alike, and reports medians and the ratio of the first peer (workbench) to each of the others.

Figures are times (``s``, ``ms``, ``us``: lower is better) or, when a case gives the work
one call does, rates (``GFLOP/s``: higher is better).
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
    column: str = ""  # the summary table's column this peer fills (its library)
    variant: str = ""  # "" for the column's headline figure, else a short tag ("trusted")


@dataclass
class Result:
    case: str
    unit: str
    medians: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    better: str = "lower"  # "higher" for rates
    #: seconds per call of each sample, in round order (the raw data behind the medians)
    samples: dict[str, list[float]] = field(default_factory=dict)
    #: remarks on a peer's figure: an output that differs, a fallback to a slower path
    notes: dict[str, str] = field(default_factory=dict)
    #: peer name -> (column, variant), for tables that group peers by library
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)


_UNITS = {"s": 1.0, "ms": 1e3, "us": 1e6}


def summarize(case: str, unit: str, samples: dict[str, list[float]],
              missing: dict[str, str] | None = None, work: float | None = None,
              peers: list[Peer] = ()) -> Result:
    """A Result from seconds-per-call samples: medians in ``unit``, or, with ``work`` (the
    amount one call does, in the unit's numerator: GFLOP for GFLOP/s), the rate
    ``work / median seconds``."""
    result = Result(case, unit, better="higher" if work is not None else "lower")
    result.missing.update(missing or {})
    for name, values in samples.items():
        seconds = statistics.median(values)
        result.medians[name] = work / seconds if work is not None else seconds * _UNITS[unit]
        result.samples[name] = list(values)
    for p in peers:
        if p.column:
            result.columns[p.name] = (p.column, p.variant)
    return result


def run_case(case: str, unit: str, peers: list[Peer], rounds: int = 21,
             warmup: int = 3, work: float | None = None) -> Result:
    missing = {}
    live = []
    for p in peers:
        if p.fn is None:
            missing[p.name] = p.missing or "not available"
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
    return summarize(case, unit, samples, missing, work, peers)


def compare(result: Result, name: str, base: str) -> str:
    """``base / name`` and which one that favours, e.g. 'x0.2: workbench 5.00x faster'."""
    ours, theirs = result.medians[base], result.medians[name]
    if not ours or not theirs:
        return "ratio undefined (a zero figure)"
    ratio = ours / theirs
    # a rate is better higher, a time lower: turn both into "how many times faster"
    speedup = ratio if result.better == "higher" else 1.0 / ratio
    side = f"{speedup:.2f}x faster" if speedup >= 1 else f"{1 / speedup:.2f}x slower"
    return f"x{ratio:.3g}: {base} {side}"


def format_results(results: list[Result]) -> str:
    """Every case: each peer's median, and the first peer's figure divided by each other
    peer's (a time ratio below 1, or a rate ratio above 1, means the first peer is faster)."""
    lines = []
    for r in results:
        names = list(r.medians)
        base = names[0] if names else None
        lines.append(f"## {r.case} ({r.unit}, median; {r.better} is better)")
        for name in names:
            tail = "reference" if name == base else f"first/this {compare(r, name, base)}"
            lines.append(f"  {name:<40} {r.medians[name]:>12.4g}   {tail}")
            if name in r.notes:
                lines.append(f"  {'':<40} {'':>12}   note: {r.notes[name]}")
        for name, why in r.missing.items():
            lines.append(f"  {name:<40} {'missing':>12}   ({why})")
        lines.append("")
    return "\n".join(lines)
