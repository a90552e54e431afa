"""The C backend: whole-graph C built with cffi and cached on disk (see linker.py)."""
