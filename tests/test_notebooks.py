"""The tutorial notebooks: stored without outputs, and each one executes without an error in
a fresh ``python3`` kernel; the headless tour (``python -m workbench.demo``) writes its HTML."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("nbconvert")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: the notebooks that take more than ~20 s on a 2-core machine
SLOW = {"02_optimizations.ipynb", "03_gradients.ipynb", "05_training_mlp.ipynb"}
TOUR = "01_tour.ipynb"


@pytest.fixture
def kernel_env(monkeypatch):
    """The kernel is another process: it imports this checkout's workbench even where the
    package is not installed."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))


def test_the_five_tutorials_are_there():
    assert [nb.name for nb in NOTEBOOKS] == [
        "01_tour.ipynb", "02_optimizations.ipynb", "03_gradients.ipynb",
        "04_profiling.ipynb", "05_training_mlp.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a tutorial without code"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.slow) if p.name in SLOW else p for p in NOTEBOOKS
    if p.name != TOUR],  # the tour runs in test_headless_tour_writes_html
    ids=lambda p: p.stem)
def test_notebook_executes(path, kernel_env):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    # a %%compile --show view that failed would leave this note behind
    shown = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "failed: " not in shown


def test_headless_tour_writes_html(tmp_path):
    """``python -m workbench.demo`` runs the seed examples, then executes the tour (failing
    on any cell error) and writes it as HTML with each view's static fallback."""
    html = tmp_path / "tour.html"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run([sys.executable, "-m", "workbench.demo", "--html", str(html)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"wrote {html}" in out.stdout
    page = html.read_text()
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "dot_product(x: float64 vector, y: float64 vector) -&gt; float64 scalar" in page
    assert "pass trace" in page  # the explorer's static HTML, not a widget placeholder
    assert "application/vnd.jupyter.widget-view+json" not in page
