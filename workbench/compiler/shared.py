"""Shared variables: symbolic variables with a value that compiled functions share.

>>> import numpy as np, workbench
>>> w = workbench.shared(np.zeros(3), name='w')
>>> w.set_value(np.ones(3))
>>> w.get_value()
array([1., 1., 1.])
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .graph import Variable


class SharedVariable(Variable):
    """A variable whose value lives in ``storage`` (a one-element list every function that
    uses it reads and updates in place)."""

    def __init__(self, type, value: Any, name: str | None = None, strict: bool = False,
                 allow_downcast: bool | None = None, borrow: bool = False):
        super().__init__(type, None, None, name)
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.default_update: Variable | None = None
        value = type.filter(value, strict=strict, allow_downcast=allow_downcast)
        if not borrow:
            value = copy.deepcopy(value)
        self.storage: list[Any] = [value]

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        """The current value; a copy unless ``borrow=True``."""
        value = self.storage[0]
        return value if borrow else copy.deepcopy(value)

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value (checked against the variable's type; copied unless borrow)."""
        try:
            value = self.type.filter(value, strict=self.strict,
                                     allow_downcast=self.allow_downcast)
        except TypeError as exc:
            raise TypeError(f"shared variable {self.name or self}: {exc}") from None
        if not borrow:
            value = copy.deepcopy(value)
        self.storage[0] = value

    def clone(self) -> "SharedVariable":
        cp = self.__class__(self.type, self.storage[0], self.name, self.strict,
                            self.allow_downcast, borrow=True)
        cp.storage = self.storage
        cp.tag = self.tag.copy()
        cp.default_update = self.default_update
        return cp

    @property
    def value(self) -> Any:
        return self.get_value()

    @property
    def container(self) -> list:
        return self.storage


def shared(value: Any, name: str | None = None, strict: bool = False,
           allow_downcast: bool | None = None, borrow: bool = False,
           shape: tuple | None = None, broadcastable: tuple | None = None, **kwargs: Any
           ) -> SharedVariable:
    """A shared variable holding ``value``.

    Its type has the value's dtype and number of dimensions, every dimension free (so
    ``set_value`` may change the shape) unless ``shape`` or ``broadcastable`` says otherwise.

    >>> import numpy as np, workbench
    >>> state = workbench.shared(0, name='state')
    >>> state.type
    TensorType(int64, scalar)
    """
    from ..tensor.sharedvar import tensor_shared

    if isinstance(value, Variable):
        raise TypeError("shared() takes a value, not a symbolic variable")
    if kwargs:
        raise TypeError(f"shared() got unexpected arguments {sorted(kwargs)}")
    return tensor_shared(value, name=name, strict=strict, allow_downcast=allow_downcast,
                         borrow=borrow, shape=shape, broadcastable=broadcastable)


__all__ = ["SharedVariable", "shared", "np"]
