"""The ``canonicalize`` pass: rewrites that put expressions in one standard, simpler form, so
that later passes (stabilize, specialize, fusion) see fewer spellings of the same thing and
gradient graphs come out small.

Its rewrites live in modules by theme, imported here in the order they are tried on a node:

- :mod:`.canonicalize_arith`: identities with a constant (``x * 1``, ``x + 0``, ``--x``,
  ``x - x``, ``x * 0``, ``x ** 2 -> sqr(x)``...);
- :mod:`.canonicalize_useless`: ops that do nothing at run time (reshape to the same shape,
  DimShuffle of DimShuffle, ``x[:]``, a cast to the same dtype, the gradient-flow ops...);
- :mod:`.canonicalize_shape`: shapes computed from input shapes;
- :mod:`.canonicalize_alloc`: allocations sunk out of elementwise graphs;
- :mod:`.canonicalize_reduce`: a sum of a sum, reductions over size-1 axes;
- :mod:`.canonicalize_algebra`: products and sums flattened, cancelled, folded and rebuilt.

Each rewrite keeps the dtype and the (NumPy) broadcast shape of what it replaces; where one
assumes something its module says so (cancelling ``x / x`` assumes ``x`` finite and nonzero,
as Theano does; Theano's ``x * 0 -> 0`` for floats, which ignores NaN, is the optional
``local_mul_by_zero_ignoring_nan``).

>>> import numpy as np, workbench
>>> from workbench import tensor as T
>>> x, y = T.dmatrices('x', 'y')
>>> f = workbench.function([x, y], x * y / x)
>>> 'true_div' in ' '.join(str(n.op) for n in f.maker.fgraph.toposort())
False
>>> f(np.ones((2, 2)) * 3, np.eye(2)).tolist()
[[1.0, 0.0], [0.0, 1.0]]
"""
from __future__ import annotations

from . import canonicalize_arith  # noqa: F401 - registers its rewrites
from . import canonicalize_useless  # noqa: F401
from . import canonicalize_shape  # noqa: F401
from . import canonicalize_alloc  # noqa: F401
from . import canonicalize_reduce  # noqa: F401
from . import canonicalize_algebra  # noqa: F401
