"""Random numbers in graphs: ``RandomStreams`` and the op that draws samples.

Each random variable owns a shared ``numpy.random.RandomState``; drawing returns the sample
and the advanced state, and the shared state's ``default_update`` is that advanced state, so
every call of a compiled function draws new numbers (unless ``no_default_updates=True``).
The op never changes the state it is given: it copies it first, so a failed call leaves
the shared state as it was.

>>> import workbench
>>> from workbench.tensor.random import RandomStreams
>>> srng = RandomStreams(seed=234)
>>> u = srng.uniform((2, 2))
>>> f = workbench.function([], u)
>>> bool((f() != f()).all())
True
"""
from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np

from ..compiler.graph import Apply, Op, Variable
from ..compiler.shared import SharedVariable
from ..compiler.types import TensorType, Type
from .basic import _resolve_dtype, as_tensor_variable


class RandomStateType(Type):
    """The type of a ``numpy.random.RandomState``."""

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        if not isinstance(value, np.random.RandomState):
            raise TypeError(f"expected a numpy.random.RandomState, got {type(value).__name__}")
        return value

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(RandomStateType)

    def __str__(self) -> str:
        return "RandomStateType"

    __repr__ = __str__


random_state_type = RandomStateType()

# name -> (RandomState method, number of parameters)
_DISTRIBUTIONS = {
    "uniform": ("uniform", 2),
    "normal": ("normal", 2),
    "binomial": ("binomial", 2),
    "random_integers": ("randint", 2),
    "poisson": ("poisson", 1),
}


class RandomFunction(Op):
    """Draw from a distribution: inputs (state, size, *parameters), outputs (new state,
    sample). ``size`` is an int64 vector; an empty one means the parameters' shape."""

    __props__ = ("distribution", "dtype", "ndim")

    def __init__(self, distribution: str, dtype: str, ndim: int):
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {distribution!r}")
        self.distribution = distribution
        self.dtype = dtype
        self.ndim = ndim

    def __str__(self) -> str:
        return f"RandomFunction{{{self.distribution}}}"

    def make_node(self, rng: Variable, size: Variable, *params: Any) -> Apply:
        params = [as_tensor_variable(p) for p in params]
        if any(p.ndim > self.ndim for p in params):
            raise ValueError(f"{self}: a parameter has more dimensions than the sample "
                             f"({self.ndim})")
        shape: tuple[int | None, ...] = (None,) * self.ndim
        from .basic import TensorConstant

        if isinstance(size, TensorConstant) and size.data.size == self.ndim:
            shape = tuple(int(s) for s in size.data)
        return Apply(self, [rng, size] + params,
                     [random_state_type(), TensorType(self.dtype, shape)()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        rng, size, *params = inputs
        rng = copy.deepcopy(rng)
        size = tuple(int(s) for s in size) if len(size) else None
        if size is None:
            size = np.broadcast_shapes(*[np.shape(p) for p in params]) if params else ()
        if len(size) != self.ndim:
            raise ValueError(f"{self}: size {size} does not have {self.ndim} dimensions")
        method = getattr(rng, _DISTRIBUTIONS[self.distribution][0])
        if self.distribution == "random_integers":
            low, high = params
            sample = method(low, np.asarray(high) + 1, size=size)  # inclusive, as Theano
        else:
            sample = method(*params, size=size)
        output_storage[0][0] = rng
        output_storage[1][0] = np.asarray(sample, dtype=self.dtype)

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # outputs (new state, sample): the state only advances the generator, and the size
        # is a shape; neither is something a sample can be differentiated with respect to
        return [[True, False], [False, False]] + [[False, True] for _ in node.inputs[2:]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """As Theano's random ops: no gradient through a draw with respect to the
        distribution's parameters (undefined); state and size are disconnected. An integer
        sample (binomial, poisson, ...) carries no gradient at all, so its parameters are
        disconnected too."""
        from ..compiler.gradtypes import disconnected_type, grad_undefined, is_disconnected

        rng, size, *params = inputs
        grads = [disconnected_type(), disconnected_type()]
        for k, p in enumerate(params, start=2):
            if is_disconnected(output_grads[1]):
                grads.append(disconnected_type())
            else:
                grads.append(grad_undefined(
                    self, k, p, "a random sample is not a differentiable function of the "
                    "distribution's parameters (reparameterize, e.g. avg + std * "
                    "normal(0, 1), to differentiate through the draw)"))
        return grads


def _size_variable(size: Any, ndim: int | None) -> tuple[Variable, int]:
    if size is None or (isinstance(size, (tuple, list)) and len(size) == 0 and ndim):
        return as_tensor_variable(np.zeros(0, dtype="int64")), ndim or 0
    if isinstance(size, int):
        size = (size,)
    if isinstance(size, (tuple, list)):
        if any(isinstance(s, Variable) for s in size):
            from .join import stack
            from .basic import cast

            var = stack([cast(as_tensor_variable(s), "int64") for s in size])
        else:
            var = as_tensor_variable(np.asarray(size, dtype="int64"))
        return var, len(size)
    var = as_tensor_variable(size)
    if var.ndim != 1 or var.dtype[:3] not in ("int", "uin"):
        raise TypeError(f"size must be a tuple of ints or an int vector, got {var.type}")
    if var.type.shape[0] is None and ndim is None:
        raise ValueError("size has unknown length: pass ndim=")
    from .basic import cast

    return cast(var, "int64"), var.type.shape[0] if ndim is None else ndim


def _float_dtype(dtype: Any, *params: Any) -> str:
    """Theano's rule for uniform/normal: the given dtype, else floatX upcast with the
    dtypes of the parameters (Python number literals are weak and do not widen it)."""
    from .variable import TensorConstant

    if dtype is not None:
        return _resolve_dtype(dtype)
    dtypes = [_resolve_dtype(None)]
    for p in params:
        p = as_tensor_variable(p)
        if not (isinstance(p, TensorConstant) and p.weak):
            dtypes.append(p.dtype)
    return np.result_type(*dtypes).name


class RandomStreams:
    """A factory of random variables sharing one seed, as Theano's ``RandomStreams``.

    >>> import workbench
    >>> from workbench.tensor.random import RandomStreams
    >>> srng = RandomStreams(seed=1)
    >>> n = srng.normal((3,))
    >>> g = workbench.function([], n, no_default_updates=True)
    >>> bool((g() == g()).all())
    True
    """

    def __init__(self, seed: int | None = None):
        self.default_instance_seed = seed if seed is not None else 2 ** 30 - 1
        self.gen_seedgen = np.random.RandomState(self.default_instance_seed)
        self.state_updates: list[tuple[SharedVariable, Variable]] = []

    def seed(self, seed: int | None = None) -> None:
        """Re-seed every random variable this object made (from ``seed``)."""
        seedgen = np.random.RandomState(self.default_instance_seed if seed is None else seed)
        for state, _ in self.state_updates:
            state.set_value(np.random.RandomState(int(seedgen.randint(2 ** 30))), borrow=True)

    def updates(self) -> list[tuple[SharedVariable, Variable]]:
        return list(self.state_updates)

    def gen(self, distribution: str, size: Any, params: Sequence[Any], ndim: int | None,
            dtype: str) -> Variable:
        size_var, nd = _size_variable(size, ndim)
        if nd == 0 and size is None:
            nd = max([as_tensor_variable(p).ndim for p in params] or [0])
        state = SharedVariable(random_state_type,
                               np.random.RandomState(int(self.gen_seedgen.randint(2 ** 30))),
                               name="rng", borrow=True)
        new_state, sample = RandomFunction(distribution, dtype, nd).make_node(
            state, size_var, *params).outputs
        state.default_update = new_state
        sample.rng = state
        sample.update = (state, new_state)
        self.state_updates.append((state, new_state))
        return sample

    def uniform(self, size: Any = None, low: Any = 0.0, high: Any = 1.0,
                ndim: int | None = None, dtype: Any = None) -> Variable:
        """Samples uniform on [low, high). ``size=None`` takes the shape of the parameters;
        dtype defaults to floatX, or wider when a parameter tensor is wider (as Theano)."""
        return self.gen("uniform", size, [low, high], ndim, _float_dtype(dtype, low, high))

    def normal(self, size: Any = None, avg: Any = 0.0, std: Any = 1.0,
               ndim: int | None = None, dtype: Any = None) -> Variable:
        """Gaussian samples of mean ``avg`` and standard deviation ``std``."""
        return self.gen("normal", size, [avg, std], ndim, _float_dtype(dtype, avg, std))

    def binomial(self, size: Any = None, n: Any = 1, p: Any = 0.5, ndim: int | None = None,
                 dtype: Any = "int64") -> Variable:
        """Binomial samples (number of successes in ``n`` trials of probability ``p``)."""
        return self.gen("binomial", size, [n, p], ndim, np.dtype(dtype).name)

    def random_integers(self, size: Any = None, low: Any = 0, high: Any = 1,
                        ndim: int | None = None, dtype: Any = "int64") -> Variable:
        """Integers uniform on [low, high], both ends included."""
        return self.gen("random_integers", size, [low, high], ndim, np.dtype(dtype).name)

    def poisson(self, size: Any = None, lam: Any = 1.0, ndim: int | None = None,
                dtype: Any = "int64") -> Variable:
        return self.gen("poisson", size, [lam], ndim, np.dtype(dtype).name)

