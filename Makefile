# Entry points (see README): `make demo` opens the tour notebook in JupyterLab (the main job),
# `make demo-headless` executes it to build/01_tour.html, `make test` runs the test suite.
# Each creates a virtual environment in .venv and installs the project into it first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo demo-headless graphviz test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(VENV)/.jupyter: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[jupyter]'
	touch $@

# graphviz's `dot` draws the graphs; without it every view shows the graph as text
graphviz:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz; \
	else echo "graphviz: no 'dot' program; install graphviz (apt-get install graphviz) to draw graphs"; fi

demo: $(VENV)/.jupyter graphviz
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/01_tour.ipynb

demo-headless: $(VENV)/.jupyter graphviz
	$(PY) -m workbench.demo --html build/01_tour.html

# the notebook and view tests need the jupyter extra and graphviz, so the test set-up has them
test: $(VENV)/.jupyter graphviz
	$(PY) -m pytest -n 2 -q

bench: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/run.py

clean:
	rm -rf $(VENV)
