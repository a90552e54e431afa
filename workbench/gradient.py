"""Theano's ``theano.gradient``: differentiation and gradient checking.

>>> from workbench import tensor as T
>>> x = T.dscalar('x')
>>> float(grad(x ** 2, x).eval({x: 4.0}))
8.0
"""
from .compiler.grad import Lop, Rop, grad
from .compiler.gradcheck import GradientError, numeric_grad, verify_grad
from .compiler.gradderived import hessian, hessian_vector_product, jacobian
from .compiler.gradrecord import GradientRecord, SweepStep
from .compiler.gradtypes import (DisconnectedInputError, DisconnectedType, NullType,
                                 NullTypeGradError, disconnected_type, grad_not_implemented,
                                 grad_undefined)
from .compiler.ops.gradflow import (consider_constant, disconnected_grad, grad_clip, grad_scale,
                                    zero_grad)

__all__ = ["grad", "Lop", "Rop", "jacobian", "hessian", "hessian_vector_product", "verify_grad",
           "numeric_grad", "GradientError", "GradientRecord", "SweepStep", "DisconnectedType",
           "NullType", "NullTypeGradError", "DisconnectedInputError", "disconnected_type",
           "grad_undefined", "grad_not_implemented", "consider_constant", "disconnected_grad",
           "grad_clip", "grad_scale", "zero_grad"]
