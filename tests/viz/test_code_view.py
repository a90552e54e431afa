"""CodeView: node blocks parsed from generated code, the Python-backend listing, linking."""
import re
import shutil

import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.graphrecord import node_id
from workbench.viz import CodeView, parse_code_blocks
from workbench.viz.code_view import CodeBlock

PY = workbench.Mode(linker="py")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def model():
    x = T.dmatrix('x')
    w = T.dvector('w')
    out = T.tanh(T.dot(x, w)).sum() + (x ** 2).mean()
    return workbench.function([x, w], out, mode=PY)


def synthetic_source(f):
    """C-like code with one marked block per node of f's graph, as the C backend writes."""
    lines = ["#include <math.h>", "static int body(void) {"]
    for node in f.maker.fgraph.toposort():
        lines += [f"    /* node {node_id(node)}: {node.op} */",
                  f"    compute_{node.id}(); /* a < b && c */",
                  f"    /* end node {node_id(node)} */"]
    lines += ["    return 0;", "}"]
    return "\n".join(lines)


def test_parse_blocks_with_lines_and_op_text():
    src = "\n".join([
        "int f(void) {",                                   # 1
        "  /* node n7: Elemwise{Composite{t0 = exp(i0); add(t0, t0)}} */",  # 2
        "  y = exp(x);",                                   # 3
        "  /* end node n7 */",                             # 4
        "  /* ordinary comment */",                        # 5
        "  /* node n9: Sum{axis=(0,)} */",                 # 6
        "  /* node n11: Elemwise{neg} */",                 # 7: nested in n9
        "  z = -y;",                                       # 8
        "  /* end node n11 */",                            # 9
        "  /* end node n9 */",                             # 10
        "  /* node n12: Shape_i{0} */",                    # 11: never closed
        "  s = 3;",                                        # 12
        "}",                                               # 13
    ])
    assert parse_code_blocks(src) == [
        CodeBlock("n7", "Elemwise{Composite{t0 = exp(i0); add(t0, t0)}}", 2, 4),
        CodeBlock("n9", "Sum{axis=(0,)}", 6, 10),
        CodeBlock("n11", "Elemwise{neg}", 7, 9),
        CodeBlock("n12", "Shape_i{0}", 11, 13),
    ]
    assert parse_code_blocks("int main() { return 0; }") == []


def test_view_of_marked_source(model):
    src = synthetic_source(model)
    view = CodeView(model, source=src)
    assert view.language == "c"
    nodes = model.maker.fgraph.toposort()
    assert [b.node_id for b in view.blocks] == [node_id(n) for n in nodes]
    assert [b.op_text for b in view.blocks] == [str(n.op) for n in nodes]
    first = view.blocks[0]
    assert (first.start_line, first.end_line) == (3, 5)
    assert view.block_for(first.node_id) == "\n".join(src.splitlines()[2:5])
    with pytest.raises(KeyError, match="no code block for node 'n0'"):
        view.block_for("n0")


def test_python_backend_listing_covers_every_apply_node(model):
    view = CodeView(model)
    assert view.language == "listing" and getattr(model, "source", None) is None
    nodes = model.maker.fgraph.toposort()
    assert sorted(b.node_id for b in view.blocks) == sorted(node_id(n) for n in nodes)
    position = {b.node_id: b.start_line for b in view.blocks}
    for node in nodes:
        text = view.block_for(node_id(node))
        assert text.startswith(f"{node_id(node)}: ") and f"= {node.op}(" in text
        # a node's line comes after the lines of the nodes it reads
        for inp in node.inputs:
            if inp.owner is not None:
                assert position[node_id(inp.owner)] < position[node_id(node)]
    assert all(b.start_line == b.end_line for b in view.blocks)
    assert "input x: float64[?, ?]" in view.source.splitlines()


def test_html_links_blocks_and_graph_nodes(model):
    view = CodeView(model, source=synthetic_source(model))
    html = view.html()
    for b in view.blocks:
        assert f'id="code-{b.node_id}"' in html
        assert f'href="#graph_{b.node_id}"' in html
    assert "a < b" not in html and "&lt;" in html  # the code is escaped
    assert "<style>" in html and ":target" in html
    if shutil.which("dot"):
        for b in view.blocks:
            assert f'id="graph_{b.node_id}"' in html
            assert f'xlink:href="#code-{b.node_id}"' in html
    else:
        assert "apt-get install graphviz" in html


def test_c_source_is_highlighted_when_pygments_is_there(model):
    pytest.importorskip("pygments")
    html = CodeView(model, source=synthetic_source(model)).html()
    assert re.search(r'<span class="c1?m?">/\* node n\d+', html)  # a comment token
    assert '<span class="cp">#include' in html


def test_listing_html_has_one_block_per_line(model):
    view = CodeView(model)
    html = view.html()
    blocks = re.findall(r'<div class="wb-block" id="code-(n\d+)">(.*?)</div>', html, re.S)
    assert [nid for nid, _ in blocks] == [b.node_id for b in view.blocks]
    assert all(body.count("wb-ln") == 1 for _, body in blocks)


def test_select_highlights_a_node_in_code_and_graph(model):
    pytest.importorskip("ipywidgets")
    view = CodeView(model)
    dropdown, page = view.widget.children
    target = view.blocks[1].node_id
    dropdown.value = target
    assert view.selected == target
    assert f'<div class="wb-block wb-selected" id="code-{target}">' in page.value
    assert page.value.count("wb-selected") == 2  # the style rule and the block
    if shutil.which("dot"):
        line = re.search(rf'<g id="graph_{target}".*?</g>', page.value, re.S).group(0)
        assert 'stroke="#1f77b4"' in line
    view.select(None)
    assert dropdown.value is None and "wb-block wb-selected" not in page.value
    assert "wb-block wb-selected" not in view.html()


def test_mimebundle(model):
    pytest.importorskip("ipywidgets")
    view = CodeView(model)
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] == view.source
    assert bundle["text/html"] == view.html()
    assert bundle[WIDGET_MIME]["model_id"] == view.widget.model_id


def test_generated_c_source_when_the_c_backend_builds_it():
    x = T.dvector('x')
    f = workbench.function([x], T.exp(x) * x + 1, mode=workbench.Mode(linker="c"))
    if getattr(f, "source", None) is None:
        pytest.skip("this function runs on the Python backend (no C compiler)")
    view = CodeView(f)
    assert view.language == "c"
    ids = {node_id(n) for n in f.maker.fgraph.toposort()}
    assert {b.node_id for b in view.blocks} == ids
    for b in view.blocks:
        assert view.block_for(b.node_id).startswith(f"    /* node {b.node_id}: ")
