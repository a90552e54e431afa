"""``%load_ext workbench`` and ``%%compile`` in a real IPython shell."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("IPython")

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from workbench.magics import CellError, compile_cell, free_inputs  # noqa: E402


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "workbench")
    ip.run_cell("import workbench\nfrom workbench import tensor as T")
    return ip


def run(shell, cell: str):
    """Run a cell; return (result, captured output) with the displays and error text."""
    with capture_output() as cap:
        result = shell.run_cell(cell)
    return result, cap


def shown(cap) -> str:
    """Everything the cell showed as text: stdout, stderr, each display's text/plain."""
    return cap.stdout + cap.stderr + "".join(o.data.get("text/plain", "") for o in cap.outputs)


def test_compile_binds_a_working_function_and_shows_a_summary(shell):
    result, cap = run(shell, "%%compile f_dot\nx = T.dvector('x')\ny = T.dvector('y')\n"
                             "(x * y).sum()")
    assert result.success, result.error_in_exec
    f = shell.user_ns["f_dot"]
    assert float(f([1.0, 2.0], [3.0, 4.0])) == 11.0
    [summary] = cap.outputs
    text = summary.data["text/plain"]
    assert text.splitlines()[0] == "f_dot(x: float64 vector, y: float64 vector) -> float64 scalar"
    nodes_before = len(f.trace.initial)
    assert f"nodes {nodes_before} \u2192 {len(f.maker.fgraph)}" in text
    from workbench.viz.mime import backend_name

    cache = {None: "n/a", True: "hit", False: "miss"}[getattr(f, "cache_hit", None)]
    assert f"backend {backend_name(f)}" in text and f"cache {cache}" in text
    assert "f_dot(x: float64 vector" in summary.data["text/html"]


def test_inputs_follow_creation_order_not_use_order(shell):
    result, _ = run(shell, "%%compile f_order\nb = T.dscalar('b')\na = T.dscalar('a')\n"
                           "a * 10 + b")
    assert result.success, result.error_in_exec
    f = shell.user_ns["f_order"]
    assert [i.name for i in f.maker.inputs] == ["b", "a"]
    assert float(f(1.0, 2.0)) == 21.0


def test_inputs_option_reorders(shell):
    result, _ = run(shell, "%%compile f_rev --inputs y,x\nx = T.dvector('x')\n"
                           "y = T.dmatrix('y')\nT.dot(y, x).sum()")
    assert result.success, result.error_in_exec
    f = shell.user_ns["f_rev"]
    assert [i.name for i in f.maker.inputs] == ["y", "x"]
    assert float(f([[1.0, 2.0], [3.0, 4.0]], [1.0, 10.0])) == 21.0 + 43.0


def test_python_error_binds_nothing_and_names_the_cell_line(shell):
    result, cap = run(shell, "%%compile f_nameerr\nx = T.dvector('x')\nz = x + zz\nz.sum()")
    err = result.error_in_exec
    assert isinstance(err, CellError)
    assert "f_nameerr" not in shell.user_ns
    assert (err.kind, err.line, err.line_text) == ("NameError", 3, "z = x + zz")
    text = shown(cap)
    assert "NameError at cell line 3" in text and "z = x + zz" in text
    assert "name 'zz' is not defined" in text and "f_nameerr was not bound" in text
    assert "Traceback" not in text and "workbench/" not in text  # no compiler frames


def test_type_error_while_building_the_graph_names_the_cell_line(shell):
    result, cap = run(shell, "%%compile f_typeerr\nm = T.dmatrix('m')\n\nz = m + 'abc'\n"
                             "z.sum()")
    err = result.error_in_exec
    assert isinstance(err, CellError)
    assert (err.kind, err.line) == ("TypeError", 4)
    assert "f_typeerr" not in shell.user_ns
    assert "cell line 4" in shown(cap) and "'abc'" in shown(cap)


def test_compile_error_keeps_the_earlier_value(shell):
    ok, _ = run(shell, "%%compile f_keep\nx = T.dvector('x')\nx * 2")
    assert ok.success
    before = shell.user_ns["f_keep"]
    # y is needed but --inputs leaves it out: function() refuses to compile
    result, cap = run(shell, "%%compile f_keep --inputs x\nx = T.dvector('x')\n"
                             "y = T.dvector('y')\n(x * y).sum()")
    err = result.error_in_exec
    assert isinstance(err, CellError)
    assert err.kind == "compile error (MissingInputError)"
    assert err.line == 3 and err.line_text == "y = T.dvector('y')"  # where y was created
    assert shell.user_ns["f_keep"] is before
    text = shown(cap)
    assert "created at cell line 3" in text and "f_keep keeps its earlier value" in text


def test_syntax_error_and_missing_output_point_at_their_lines(shell):
    result, _ = run(shell, "%%compile f_syntax\nx = T.dvector('x')\ny = x +\ny")
    assert (result.error_in_exec.kind, result.error_in_exec.line) == ("SyntaxError", 3)
    result, _ = run(shell, "%%compile f_noout\n\nx = T.dvector('x')\ny = x + 1")
    assert (result.error_in_exec.kind, result.error_in_exec.line) == ("NoOutput", 4)
    result, _ = run(shell, "%%compile f_noout\nx = T.dvector('x')\n3 + 4")
    assert result.error_in_exec.kind == "NoOutput" and "int" in result.error_in_exec.reason
    assert "f_syntax" not in shell.user_ns and "f_noout" not in shell.user_ns


def test_updates_from_the_namespace(shell):
    shell.run_cell("state = workbench.shared(0)\ninc = T.iscalar('inc')\n"
                   "steps = [(state, state + inc)]")
    result, _ = run(shell, "%%compile accumulate --updates steps\nstate")
    assert result.success, result.error_in_exec
    acc = shell.user_ns["accumulate"]
    assert [i.name for i in acc.maker.inputs] == ["inc"]  # found through the update
    assert int(acc(1)) == 0 and int(acc(300)) == 1
    assert int(shell.user_ns["state"].get_value()) == 301
    result, _ = run(shell, "%%compile acc2 --updates no_such_name\nstate")
    assert result.error_in_exec.kind == "NameError" and "no_such_name" in str(
        result.error_in_exec)


def test_several_outputs(shell):
    result, cap = run(shell, "%%compile f_many\na, b = T.dmatrices('a', 'b')\ndiff = a - b\n"
                             "diff, abs(diff), diff ** 2")
    assert result.success, result.error_in_exec
    got = shell.user_ns["f_many"]([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    assert len(got) == 3
    np.testing.assert_array_equal(got[2], [[1.0, 0.0], [1.0, 4.0]])
    assert "-> [float64 matrix, float64 matrix, float64 matrix]" in shown(cap)


def test_mode_and_backend_options(shell):
    result, cap = run(shell, "%%compile f_mode --mode FAST_COMPILE --backend python\n"
                             "x = T.dvector('x')\nT.exp(x).sum()")
    assert result.success, result.error_in_exec
    mode = shell.user_ns["f_mode"].maker.mode
    assert (mode.name, mode.linker, mode.optimizer) == ("FAST_COMPILE", "py", "fast_compile")
    assert "backend python" in shown(cap)
    result, cap = run(shell, "%%compile f_c --backend c\nx = T.dvector('x')\nT.exp(x).sum()")
    assert result.success, result.error_in_exec
    assert shell.user_ns["f_c"].maker.mode.linker == "c"
    result, cap = run(shell, "%%compile f_badmode --mode NOPE\nx = T.dvector('x')\nx")
    assert isinstance(result.error_in_exec, CellError) and "NOPE" in str(result.error_in_exec)
    result, cap = run(shell, "%%compile f_bad --backend fortran\nx = T.dvector('x')\nx")
    assert not result.success and "f_bad" not in shell.user_ns  # a usage error
    assert "invalid choice" in shown(cap)


def test_show_passes_and_graph(shell):
    pytest.importorskip("ipywidgets")
    result, cap = run(shell, "%%compile f_show --show passes,graph\nx = T.dvector('x')\n"
                             "T.exp(x).sum() + T.exp(x).sum()")
    assert result.success, result.error_in_exec
    summary, passes, graph = cap.outputs
    f = shell.user_ns["f_show"]
    html = passes.data["text/html"]
    assert all(p.name in html for p in f.trace.passes)
    assert graph.data.get("text/html") or graph.data.get("image/svg+xml")
    assert "Error" not in shown(cap)


def test_show_code_and_grad(shell):
    result, cap = run(shell, "%%compile f_grad --show code,grad\nx = T.dscalar('x')\n"
                             "x ** 2")
    assert result.success, result.error_in_exec
    summary, code, grad = cap.outputs
    f = shell.user_ns["f_grad"]
    assert all(f"code-{node_id}" in code.data["text/html"]
               for node_id in (n["id"] for n in _apply_nodes(f)))
    assert "2 x" in grad.data["text/html"]  # d(x**2)/dx, as LaTeX


def _apply_nodes(f):
    from workbench.viz.draw import function_record

    return [n for n in function_record(f)["nodes"] if n["kind"] == "apply"]


def test_show_grad_and_profile_explain_what_they_need(shell):
    result, cap = run(shell, "%%compile f_vec --show grad,profile\nx = T.dvector('x')\n"
                             "T.exp(x)")
    assert result.success, result.error_in_exec
    _, grad_note, profile_hint = cap.outputs
    assert "needs one scalar output" in grad_note.data["text/plain"]
    assert "a float64 vector output" in grad_note.data["text/plain"]
    assert "ProfileView(f_vec, x_value, n=10)" in profile_hint.data["text/plain"]
    result, _ = run(shell, "%%compile f_vec --show nonsense\nx = T.dvector('x')\nx")
    assert not result.success


def test_compile_cell_without_ipython():
    ns: dict = {}
    exec("from workbench import tensor as T", ns)
    made = compile_cell("g", "w = T.dvector('w')\nv = T.dvector('v')\n(v - w).sum()", ns)
    assert made.signature() == "g(w: float64 vector, v: float64 vector) -> float64 scalar"
    assert float(ns["g"]([1.0, 1.0], [3.0, 4.0])) == 5.0
    with pytest.raises(CellError) as info:
        compile_cell("g", "w = T.dvector('w')\nw + nothing", ns, first_line=2)
    assert info.value.line == 3 and ns["g"] is made.function


def test_free_inputs_skip_shared_and_constants():
    from workbench import shared, tensor as T

    s = shared(np.ones(2))
    b, a = T.dvector("b"), T.dvector("a")
    assert free_inputs([(a + s * 2.0) * b]) == [b, a]


def test_importing_magics_does_not_import_ipython():
    code = "import sys, workbench.magics; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
