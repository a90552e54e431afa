"""Small static-HTML pieces the views share: escaping, tables, collapsible blocks, columns.

Every view has a static HTML form that must read well with no kernel and no JavaScript
(nbconvert, GitHub), so the pieces here are plain HTML with inline styles only.

>>> table(["pass", "nodes"], [["merge", 3], ["fusion", "<1>"]]).count("<tr>")
3
>>> print(details("merge", "<p>body</p>"))
<details><summary>merge</summary><p>body</p></details>
"""
from __future__ import annotations

import html as _html
from typing import Any, Iterable, Sequence

#: the style every view's tables and blocks use, embedded once per view
STYLE = """<style>
.wb-view {font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 13px}
.wb-table {border-collapse: collapse; margin: 4px 0}
.wb-table th, .wb-table td {border: 1px solid #ccc; padding: 2px 8px; text-align: left;
  vertical-align: top}
.wb-table th {background: #f3f3f3}
.wb-table td.wb-num {text-align: right; font-variant-numeric: tabular-nums}
.wb-cols {display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start}
.wb-col {flex: 1 1 0; min-width: 260px; overflow: auto}
.wb-hint {color: #777; font-style: italic}
.wb-pre {font-family: Menlo, Consolas, monospace; font-size: 12px; white-space: pre;
  overflow: auto; background: #f8f8f8; padding: 4px}
.wb-graph svg {max-width: 100%; height: auto}
details.wb-details > summary {cursor: pointer; font-weight: bold}
</style>"""


def escape(value: Any) -> str:
    """``value`` as text, safe inside HTML elements and attributes.

    >>> escape('a < b & "c"')
    'a &lt; b &amp; &quot;c&quot;'
    """
    return _html.escape(str(value), quote=True)


def pre(text: str, cls: str = "wb-pre") -> str:
    """Preformatted text, escaped.

    >>> pre("x < 1")
    '<pre class="wb-pre">x &lt; 1</pre>'
    """
    return f'<pre class="{cls}">{escape(text)}</pre>'


def hint(text: str) -> str:
    """A one-line, unobtrusive note (the graphviz hint, an empty result)."""
    return f'<div class="wb-hint">{escape(text)}</div>'


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]],
          raw: Iterable[int] = ()) -> str:
    """An HTML table. Cells are escaped except in the columns listed in ``raw`` (already
    HTML); ints and floats are right-aligned.

    >>> table(["a"], [[1.5]])
    '<table class="wb-table"><tr><th>a</th></tr><tr><td class="wb-num">1.5</td></tr></table>'
    """
    raw = set(raw)
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text = cell if i in raw else escape(cell)
            numeric = isinstance(cell, (int, float)) and not isinstance(cell, bool)
            cells.append(f'<td class="wb-num">{text}</td>' if numeric else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="wb-table"><tr>{head}</tr>{"".join(body)}</table>'


def details(summary: str, body: str, open: bool = False, cls: str = "") -> str:
    """A collapsible block: ``summary`` (escaped) always shows, ``body`` (HTML) on click."""
    attrs = (f' class="{cls}"' if cls else "") + (" open" if open else "")
    return f"<details{attrs}><summary>{escape(summary)}</summary>{body}</details>"


def columns(*blocks: str) -> str:
    """HTML blocks side by side (wrapping onto new rows on narrow screens)."""
    cols = "".join(f'<div class="wb-col">{b}</div>' for b in blocks)
    return f'<div class="wb-cols">{cols}</div>'


def view(body: str) -> str:
    """A complete view: the shared style, then ``body``."""
    return f'{STYLE}<div class="wb-view">{body}</div>'
