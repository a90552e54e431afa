"""CodeView: a compiled function's code beside its graph, each block linked to its node.

In the spirit of ``cython --annotate``. On the C backend, ``f.source`` is the generated C;
the backend marks each node's block with ``/* node <id>: <op text> */`` at its start and
``/* end node <id> */`` at its end (``<id>`` the graph-record id). The Python backend has no
generated code, so the view lists the optimized graph's nodes in the order they run, one line
(and one block) per node: the view reads the same on every backend.

In the static HTML each block has ``id="code-<node id>"`` and each graph node links to it
(and back): clicking one highlights the other, with CSS only.

>>> import workbench
>>> from workbench import tensor as T
>>> x = T.dvector('x')
>>> f = workbench.function([x], T.exp(x) * x)
>>> view = CodeView(f)
>>> [b.op_text for b in view.blocks]
['Elemwise{Composite{mul(exp(i0), i0)}}']
>>> 'exp' in view.block_for(view.blocks[0].node_id)
True
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from . import html as H
from .draw import as_record, graph_html, record_listing

_START = re.compile(r"^\s*/\* node ([A-Za-z0-9_.-]+): (.*?) \*/\s*$")
_END = re.compile(r"^\s*/\* end node ([A-Za-z0-9_.-]+) \*/\s*$")

_STYLE = """<style>
.wb-code {font-family: Menlo, Consolas, monospace; font-size: 12px; white-space: pre;
  background: #fafafa; padding: 4px; overflow: auto}
.wb-code a {color: inherit; text-decoration: none}
.wb-block {border-left: 3px solid #d0d7e5; margin: 1px 0}
.wb-block:hover {background: #eef4ff; border-left-color: #1f77b4}
.wb-block:target, .wb-block.wb-selected {background: #fff3c4; border-left-color: #ff7f0e}
.wb-line {border-left: 3px solid transparent}
.wb-ln {color: #999; display: inline-block; width: 3.5em; text-align: right;
  margin-right: 1em; user-select: none}
.wb-codeview .wb-graph g.node:target path, .wb-codeview .wb-graph g.node:target polygon,
.wb-codeview .wb-graph g.node:target ellipse {stroke: #ff7f0e; stroke-width: 3}
</style>"""


class CodeBlock(NamedTuple):
    """One node's code: lines ``start_line`` to ``end_line`` (1-based, inclusive)."""

    node_id: str
    op_text: str
    start_line: int
    end_line: int


def parse_code_blocks(source: str) -> list[CodeBlock]:
    """The node blocks marked in generated code, in source order.

    >>> src = "int f() {\\n/* node n7: Elemwise{exp} */\\ny = exp(x);\\n/* end node n7 */\\n}"
    >>> parse_code_blocks(src)
    [CodeBlock(node_id='n7', op_text='Elemwise{exp}', start_line=2, end_line=4)]
    """
    lines = source.splitlines()
    open_blocks: list[tuple[str, str, int]] = []
    blocks: list[CodeBlock] = []
    for number, line in enumerate(lines, start=1):
        start = _START.match(line)
        if start:
            open_blocks.append((start.group(1), start.group(2), number))
            continue
        end = _END.match(line)
        if end:
            for k in range(len(open_blocks) - 1, -1, -1):
                if open_blocks[k][0] == end.group(1):
                    nid, text, first = open_blocks.pop(k)
                    blocks.append(CodeBlock(nid, text, first, number))
                    break
    # a block the generator left open runs to the end of the source
    blocks += [CodeBlock(nid, text, first, len(lines)) for nid, text, first in open_blocks]
    return sorted(blocks, key=lambda b: b.start_line)


def _highlighted_lines(source: str, language: str) -> tuple[list[str], str]:
    """Each source line as HTML, and the CSS its highlighting needs."""
    lines = source.splitlines()
    plain = [H.escape(line) for line in lines]
    if language != "c":
        return plain, ""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import CLexer
    except ImportError:
        return plain, ""
    formatter = HtmlFormatter(nowrap=True)
    # the formatter closes its spans at each line end, so the output splits by line
    out = highlight(source, CLexer(stripnl=False, ensurenl=True), formatter).split("\n")
    if out and out[-1] == "":
        out.pop()
    if len(out) != len(lines):
        return plain, ""
    return out, f"<style>{formatter.get_style_defs('.wb-code')}</style>"


class CodeView:
    """A compiled function's code (``f.source``, or a node listing on the Python backend)
    beside its optimized graph.

    ``blocks`` lists ``(node_id, op_text, start_line, end_line)``; ``block_for(id)`` gives a
    node's code; ``select(id)`` highlights one node in the code and the graph; ``html()`` is
    the static page, ``widget`` the ipywidgets form. ``source=`` overrides ``f.source``.
    """

    def __init__(self, f: Any, source: str | None = None):
        self.function = f
        self.record = as_record(f)
        code = source if source is not None else getattr(f, "source", None)
        if code:
            self.language = "c"
            self.source = str(code)
            self.blocks = parse_code_blocks(self.source)
        else:
            self.language = "listing"
            self.source, self.blocks = self._listing()
        self._by_id = {b.node_id: b for b in self.blocks}
        self.selected: str | None = None
        self._widget: Any = None

    def _listing(self) -> tuple[str, list[CodeBlock]]:
        lines = ["# no generated code on this backend: the optimized graph's nodes,",
                 "# one per line, in the order they run"]
        blocks = []
        apply_labels = {n["id"]: n["label"] for n in self.record["nodes"]
                        if n["kind"] == "apply"}
        for nid, line in record_listing(self.record):
            lines.append(line)
            if nid in apply_labels:
                blocks.append(CodeBlock(nid, apply_labels[nid], len(lines), len(lines)))
        return "\n".join(lines), blocks

    def block_for(self, node_id: str) -> str:
        """The code of the block implementing node ``node_id``."""
        try:
            block = self._by_id[node_id]
        except KeyError:
            raise KeyError(f"no code block for node {node_id!r}; blocks: "
                           f"{', '.join(self._by_id) or 'none'}") from None
        return "\n".join(self.source.splitlines()[block.start_line - 1:block.end_line])

    def select(self, node_id: str | None) -> None:
        """Highlight node ``node_id``'s block and graph node (None: no highlight)."""
        if node_id is not None and node_id not in self._by_id:
            raise KeyError(f"no code block for node {node_id!r}")
        self.selected = node_id
        if self._widget is not None:
            self._dropdown.value = node_id
            self._page.value = self.current_html()

    # -- HTML --------------------------------------------------------------------------
    def _code_html(self) -> tuple[str, str]:
        lines, css = _highlighted_lines(self.source, self.language)
        width = len(str(len(lines)))
        starts = {b.start_line: b for b in self.blocks}
        out: list[str] = []
        number = 1
        while number <= len(lines):
            block = starts.get(number)
            if block is None:
                out.append(f'<div class="wb-line"><span class="wb-ln">{number:>{width}}'
                           f"</span>{lines[number - 1]}</div>")
                number += 1
                continue
            nid = H.escape(block.node_id)
            body = [f'<span class="wb-ln">{k:>{width}}</span>{lines[k - 1]}'
                    for k in range(block.start_line, block.end_line + 1)]
            # the block's first line links to the node in the graph
            body[0] = f'<a href="#graph_{nid}" title="{nid}: {H.escape(block.op_text)}">' \
                      f"{body[0]}</a>"
            cls = "wb-block wb-selected" if block.node_id == self.selected else "wb-block"
            out.append(f'<div class="{cls}" id="code-{nid}">' + "\n".join(body) + "</div>")
            number = block.end_line + 1
        return f'<div class="wb-code">{"".join(out)}</div>', css

    def _hover_css(self) -> str:
        """Hovering a block highlights its graph node and back (``:has``, no JavaScript)."""
        rules = []
        for b in self.blocks:
            nid = re.sub(r"[^A-Za-z0-9_-]", "", b.node_id)
            rules.append(f".wb-codeview:has(#code-{nid}:hover) #graph_{nid} path, "
                         f".wb-codeview:has(#code-{nid}:hover) #graph_{nid} polygon, "
                         f".wb-codeview:has(#code-{nid}:hover) #graph_{nid} ellipse "
                         f"{{stroke: #1f77b4; stroke-width: 3}}")
            rules.append(f".wb-codeview:has(#graph_{nid}:hover) #code-{nid} "
                         f"{{background: #eef4ff; border-left-color: #1f77b4}}")
        return "<style>" + "\n".join(rules) + "</style>" if rules else ""

    def current_html(self) -> str:
        """The page as shown now (with the selected node highlighted)."""
        code, css = self._code_html()
        links = {b.node_id: f"#code-{b.node_id}" for b in self.blocks}
        graph = graph_html(self.record, links=links, id_prefix="graph_",
                           highlight=[self.selected] if self.selected else ())
        what = "generated C" if self.language == "c" else "node listing (Python backend)"
        head = (f"<div><b>{H.escape(what)}</b>: {len(self.blocks)} blocks; click a block or "
                f"a node to find the other</div>")
        return H.view(_STYLE + css + self._hover_css() + head
                      + f'<div class="wb-codeview">{H.columns(code, graph)}</div>')

    def html(self) -> str:
        """The static page: code and graph side by side, linked both ways."""
        selected, self.selected = self.selected, None
        try:
            return self.current_html()
        finally:
            self.selected = selected

    # -- widget ------------------------------------------------------------------------
    @property
    def widget(self) -> Any:
        """The ipywidgets form: a node picker above the linked code and graph."""
        if self._widget is None:
            import ipywidgets as W

            options = [("(none)", None)] + [(f"{b.node_id}: {b.op_text[:60]}", b.node_id)
                                            for b in self.blocks]
            self._dropdown = W.Dropdown(options=options, value=self.selected,
                                        description="node")
            self._page = W.HTML(self.current_html())
            self._dropdown.observe(lambda change: self.select(change["new"]), names="value")
            self._widget = W.VBox([self._dropdown, self._page])
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        from .mime import view_mimebundle

        return view_mimebundle(self, self.source, include, exclude)

    def __repr__(self) -> str:
        return f"<CodeView: {self.language}, {len(self.blocks)} blocks>"
