"""workbench: a symbolic tensor compiler in the Theano lineage, made for Jupyter.

Theano programs run with their imports changed::

    import workbench as theano
    from workbench import tensor as T

>>> import workbench as theano
>>> from workbench import tensor as T
>>> a, b = T.dscalar(), T.dscalar()
>>> f = theano.function([a, b], a + b)
>>> float(f(1.5, 2.5))
4.0
"""
from .config import config, change_flags, ConfigError
from . import tensor
from .compiler.function import (Function, In, MissingInputError, Out, UnusedInputError,
                                function)
from .compiler.graph import Apply, Constant, Op, Variable, clone
from .compiler.mode import Mode, get_mode
from .compiler.shared import SharedVariable, shared
from .compiler.types import Type, TensorType
from . import printing
from .printing import debugprint, pp
from .ifelse import ifelse
from . import gradient
from .gradient import Lop, Rop, grad

__version__ = "0.1.0"

__all__ = ["config", "change_flags", "function", "shared", "clone", "In", "Out", "Mode", "pp",
           "debugprint", "ifelse", "tensor", "printing", "Variable", "Constant", "Apply", "Op",
           "Type", "TensorType", "SharedVariable", "Function", "get_mode", "ConfigError",
           "MissingInputError", "UnusedInputError", "gradient", "grad", "Lop", "Rop"]


def load_ipython_extension(ipython) -> None:
    """``%load_ext workbench``: registers the ``%%compile`` cell magic (``workbench.magics``).
    Imported here, lazily, so that ``import workbench`` never loads IPython."""
    from .magics import load_ipython_extension as load

    load(ipython)
