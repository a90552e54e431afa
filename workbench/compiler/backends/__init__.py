"""Backends: how a FunctionGraph is run (python: NumPy VM; c and cuda come later)."""
