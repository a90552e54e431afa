"""The compiler: graph IR, types, ops, function compilation and backends.

It never imports the notebook layer (viz, IPython, ipywidgets).
"""
