"""The user namespace for symbolic tensors, Theano's ``theano.tensor`` (``T``).

>>> from workbench import tensor as T
>>> x = T.matrix('x')
>>> T.sum(T.exp(x), axis=1).type
TensorType(float64, vector)
"""
from ..compiler.shared import shared
from ..compiler.types import TensorType
from . import basic, math, variable
from .basic import *  # noqa: F401,F403 - constructors: scalar, dmatrix, ...
from .basic import (CONSTRUCTOR_NAMES, NotScalarConstantError, as_tensor, as_tensor_variable,
                    cast, constant, get_scalar_constant_value, tensor)
from .math import *  # noqa: F401,F403
from .math import abs, pow, round  # noqa: A004 - Theano's names shadow builtins here
from .variable import TensorConstant, TensorVariable
from .sharedvar import TensorSharedVariable
from . import reduce as _reduce_module
from .reduce import *  # noqa: F401,F403
from .products import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .join import *  # noqa: F401,F403
from .alloc import *  # noqa: F401,F403
from . import subtensor
from .subtensor import *  # noqa: F401,F403
from .sort import *  # noqa: F401,F403
from . import nnet

from . import random, shared_randomstreams
from . import extra_ops
from ..compiler.grad import Lop, Rop, grad
from ..compiler.gradderived import hessian, jacobian
from ..compiler.ops.gradflow import consider_constant, zero_grad
