"""The rewrite pipeline: which passes run, in which order, for each optimizer.

``fast_run`` (the default) runs every pass; ``fast_compile`` merges and folds constants only;
``None`` runs nothing. ``Mode.including``/``excluding``/``requiring`` and the
``optimizer_including``/``_excluding``/``_requiring`` flags select by tag or by name: a pass
is skipped when its name or tag is excluded, a rewrite when its name or any of its tags is.

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> f = workbench.function([x], x * 1, mode=workbench.Mode(optimizer='fast_run'))
>>> print(f.trace.summary().splitlines()[0].split()[0])
merge
"""
from __future__ import annotations

import time
from typing import Callable

from ..fgraph import FunctionGraph
from .db import REWRITES
from .passes import GraphPass, MergePass, NodeRewritePass
from .trace import PassRecord, PassTrace, Snapshot

#: (pass name, the tag whose rewriters it applies, optimizers that run it); a ``None`` tag
#: marks a graph pass made by the factory in _GRAPH_PASSES
PIPELINE: list[tuple[str, str | None, tuple[str, ...]]] = [
    ("merge", None, ("fast_run", "fast_compile")),
    ("constant_folding", "constant_folding", ("fast_run", "fast_compile")),
    ("canonicalize", "canonicalize", ("fast_run",)),
    ("stabilize", "stabilize", ("fast_run",)),
    ("specialize", "specialize", ("fast_run",)),
    ("fusion", None, ("fast_run",)),
    ("inplace", None, ("fast_run",)),
    ("final_merge", None, ("fast_run",)),
]


def _fusion_pass(excluding: tuple[str, ...]) -> GraphPass:
    from .fusion import FusionPass

    return FusionPass(excluding=excluding)


def _inplace_pass(excluding: tuple[str, ...]) -> GraphPass:
    from .inplace import InplacePass

    return InplacePass(excluding=excluding)


def _merge(excluding: tuple[str, ...]) -> GraphPass:
    return MergePass()


def _final_merge(excluding: tuple[str, ...]) -> GraphPass:
    merge = MergePass()
    merge.name = "final_merge"
    return merge


#: graph passes by name; each gets the excluded names (rules inside it can be switched off)
_GRAPH_PASSES: dict[str, Callable[[tuple[str, ...]], GraphPass]] = {
    "merge": _merge,
    "fusion": _fusion_pass,
    "inplace": _inplace_pass,
    "final_merge": _final_merge,
}

def load_rewrites() -> None:
    """Import the modules that register node rewriters (Python imports each only once)."""
    from . import canonicalize, constant_folding, specialize, stabilize  # noqa: F401


def build_passes(optimizer: str | None, including: tuple[str, ...] = (),
                 excluding: tuple[str, ...] = (), requiring: tuple[str, ...] = ()
                 ) -> list[GraphPass]:
    """The passes an optimizer runs, with the tag and name filters applied."""
    if optimizer is None:
        return []
    load_rewrites()
    excluded = set(excluding)
    passes: list[GraphPass] = []
    for name, tag, optimizers in PIPELINE:
        if optimizer not in optimizers and name not in including:
            continue
        if name in excluded or (tag is not None and tag in excluded):
            continue
        if tag is None:
            if requiring and name not in requiring:
                continue
            passes.append(_GRAPH_PASSES[name](tuple(excluding)))
            continue
        rewriters = REWRITES.query(tag, including, excluding, requiring)
        passes.append(NodeRewritePass(name, rewriters, (tag,)))
    return passes


def optimize(fgraph: FunctionGraph, optimizer: str | None, including: tuple[str, ...] = (),
             excluding: tuple[str, ...] = (), requiring: tuple[str, ...] = (),
             snapshots: bool = True) -> PassTrace:
    """Run the optimizer's passes on ``fgraph`` in place; return what each did."""
    trace = PassTrace(initial=Snapshot.capture(fgraph) if snapshots else None)
    for graph_pass in build_passes(optimizer, including, excluding, requiring):
        record = PassRecord(graph_pass.name, tuple(getattr(graph_pass, "tags", ())))
        record.nodes_before = len(fgraph.apply_nodes)
        start = time.perf_counter()
        graph_pass.apply(fgraph, record)
        record.seconds = time.perf_counter() - start
        record.nodes_after = len(fgraph.apply_nodes)
        if snapshots:
            record.snapshot = Snapshot.capture(fgraph)
        trace.passes.append(record)
    return trace
