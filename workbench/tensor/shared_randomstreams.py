"""Theano's module path for ``RandomStreams``:
``from workbench.tensor.shared_randomstreams import RandomStreams``."""
from .random import RandomStreams, RandomFunction

__all__ = ["RandomStreams", "RandomFunction"]
