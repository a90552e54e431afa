"""The README's headless job (``python -m workbench.demo``) runs and prints what each seed example computed."""
import subprocess
import sys


def test_demo_runs_and_prints_results():
    # the tour notebook's HTML export is tested in test_notebooks.py
    out = subprocess.run([sys.executable, "-m", "workbench.demo", "--no-html"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "4.0" in text
    assert "(x + y)" in text
    assert "[[2. 2.]\n [4. 7.]]" in text  # the matrix sum of the seed example
    assert "float32" in text
    assert "301" in text  # the accumulator after 1 + 300


def test_import_does_not_load_jupyter():
    code = ("import sys, workbench; bad = [m for m in ('IPython', 'ipywidgets', 'scipy') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
