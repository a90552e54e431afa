"""The headless main job: run the seed examples and print each result, then execute the
tour notebook (``notebooks/01_tour.ipynb``) and write it as HTML, when nbclient and nbconvert
are installed (``pip install -e '.[jupyter]'``).

Run it with ``python -m workbench.demo`` (or ``make demo-headless``); ``--html PATH`` picks
the HTML file (default ``build/01_tour.html`` in the checkout), ``--no-html`` skips it.
``make demo`` opens the tour in JupyterLab instead.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import workbench as theano
from workbench import tensor as T


def _show(title: str, code: str, value: object) -> None:
    print(f"--- {title}")
    print(f">>> {code}")
    print(np.asarray(value) if not isinstance(value, str) else value)
    print()


#: the checkout holding the package (the notebooks live beside it, not inside the package)
CHECKOUT = Path(__file__).resolve().parents[1]
TOUR = CHECKOUT / "notebooks" / "01_tour.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def seed_examples() -> None:
    """Run the seed examples, printing what each computed."""
    a = T.dscalar()
    b = T.dscalar()
    f = theano.function([a, b], a + b)
    assert 4.0 == f(1.5, 2.5)
    _show("adding two scalars", "f = theano.function([a, b], a + b); f(1.5, 2.5)", f(1.5, 2.5))

    x = T.matrix("x")
    y = T.matrix("y")
    value = (x + y).eval({x: [[1, 2], [1, 3]], y: [[1, 0], [3, 4]]})
    _show("adding two matrices", "(x + y).eval({x: [[1, 2], [1, 3]], y: [[1, 0], [3, 4]]})",
          value)
    _show("pretty-printing", "theano.pp(x + y)", theano.pp(x + y))

    x, y, z = T.matrices("x", "y", "z")
    _show("several variables at once", "x, y, z = T.matrices('x', 'y', 'z')",
          f"{x.type} {y.type} {z.type}")

    with theano.config.change_flags(floatX="float32"):
        _show("floatX", "theano.config.floatX = 'float32'; T.scalar().dtype",
              T.scalar().dtype)
    _show("typed constructors", "T.fscalar().dtype, T.dscalar().dtype, T.iscalar().dtype",
          f"{T.fscalar().dtype} {T.dscalar().dtype} {T.iscalar().dtype}")

    A = T.dmatrix("A")
    B = T.dvector("B")
    add = theano.function([A, B], A + B)
    _show("broadcasting", "theano.function([A, B], A + B)(np.ones((2, 3)), [1, 2, 3])",
          add(np.ones((2, 3)), [1, 2, 3]))

    B2 = T.dmatrix("B2")
    dot = theano.function([A, B2], T.dot(A, B2))
    _show("matrix product", "theano.function([A, B2], T.dot(A, B2))(eye(2), [[1, 2], [3, 4]])",
          dot(np.eye(2), [[1, 2], [3, 4]]))

    state = theano.shared(0, name="state")
    inc = T.iscalar("inc")
    accumulator = theano.function([inc], state, updates=[(state, state + inc)])
    accumulator(1)
    accumulator(300)
    _show("shared state with updates", "accumulator(1); accumulator(300); state.get_value()",
          state.get_value())

    print("--- the compiled graph of the accumulator")
    theano.debugprint(accumulator, print_type=True)


def execute_notebook(notebook: Path, html_path: Path, timeout: int = 300) -> Path:
    """Execute ``notebook`` in a fresh ``python3`` kernel and write it, with its outputs, as
    HTML to ``html_path`` (what ``jupyter nbconvert --execute --to html`` does). Raises
    nbclient's ``CellExecutionError`` when a cell fails.

    >>> execute_notebook(TOUR, Path('build/01_tour.html'))  # doctest: +SKIP
    PosixPath('build/01_tour.html')
    """
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    # The kernel is another process: let it import this checkout's workbench even where
    # the package is not installed (an installed one is the same code).
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(CHECKOUT), saved) if p)
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(notebook.parent)}}).execute()
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    # A saved widget would be drawn from its state by JavaScript fetched online, and its
    # Python callbacks are gone with the kernel: the page keeps each view's static HTML.
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_MIME, None)
    nb.metadata.pop("widgets", None)
    body, _ = HTMLExporter().from_notebook_node(nb)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _notebook_tools_missing() -> str | None:
    for module in ("nbformat", "nbclient", "nbconvert", "ipykernel"):
        try:
            __import__(module)
        except ImportError:
            return module
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--html", type=Path, default=CHECKOUT / "build" / "01_tour.html",
                        help="where to write the executed tour notebook as HTML")
    parser.add_argument("--no-html", action="store_true", help="only run the seed examples")
    args = parser.parse_args(argv)

    seed_examples()
    if args.no_html:
        return 0
    missing = _notebook_tools_missing()
    if missing is not None:
        print(f"--- the tour notebook: skipped ({missing} is not installed; "
              f"pip install -e '.[jupyter]' to execute it to HTML)")
        return 0
    if not TOUR.exists():
        print(f"--- the tour notebook: skipped ({TOUR} is not here: the notebooks come with "
              f"the source checkout, not the installed package)")
        return 0
    print(f"--- executing the tour notebook {TOUR.relative_to(CHECKOUT)} ...", flush=True)
    path = execute_notebook(TOUR, args.html)
    print(f"--- wrote {path} (open it in a browser)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
