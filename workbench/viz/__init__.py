"""Views of what the compiler records: graphs, pass traces, code, gradients, profiles.

Each view reads the compiler's records only (the graph record, the PassTrace, the gradient
record, the profile, ``f.source``) and has both an ipywidgets form and a static HTML form,
so a notebook saved or rendered without a kernel still shows it. Importing this package
needs neither IPython, ipywidgets nor graphviz; views without ``dot`` draw graphs as text.

>>> import workbench
>>> from workbench import tensor as T
>>> from workbench import viz
>>> x = T.dvector('x')
>>> f = workbench.function([x], T.exp(x) + T.exp(x))
>>> viz.PassExplorer(f).steps[:3]
['initial', 'merge', 'constant_folding']
"""
from __future__ import annotations

from typing import Any

from .code_view import CodeView, parse_code_blocks
from .diff import diff_records
from .draw import dot_to_svg, draw, graph_html, record_text, record_to_dot
from .explorer import PassExplorer

# views in modules of their own, imported when first used
_LAZY = {"GradientView": ".gradient_view", "ProfileView": ".profile_view"}

__all__ = ["CodeView", "GradientView", "PassExplorer", "ProfileView", "diff_records",
           "dot_to_svg", "draw", "graph_html", "parse_code_blocks", "record_text",
           "record_to_dot"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
