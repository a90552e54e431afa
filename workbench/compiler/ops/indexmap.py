"""IndexMap: evaluate an inner graph once per index ``i`` in ``range(n)`` and stack the results.

This is the loop behind :func:`workbench.gradient.jacobian` (one gradient per output element).
The inner graph is compiled once, on first use, into an ordinary function.

>>> from workbench import tensor as T
>>> i, x = T.lscalar('i'), T.dvector('x')
>>> rows = index_map(i, x[i] * T.arange(3), n=x.shape[0], free=[x])
>>> rows.eval({x: [1., 2.]}).tolist()
[[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]]
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph import Apply, Op, Variable, graph_inputs
from ..gradtypes import grad_not_implemented
from ..types import TensorType


class IndexMap(Op):
    """``out[i] = body(i, *free)`` for ``i`` in ``range(n)``; inputs are ``n``, the shape of one
    item (used when ``n`` is 0) and the free variables of the body."""

    def __init__(self, index: Variable, body: Variable, free: Sequence[Variable]):
        self.index = index
        self.body = body
        self.free = list(free)
        self._fn = None

    # Each IndexMap holds its own inner graph: two are equal only if they are the same.
    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __str__(self) -> str:
        return f"IndexMap{{{self.body}}}"

    def make_node(self, n: Any, item_shape: Any, *free: Any) -> Apply:
        from ...tensor.basic import as_tensor_variable, cast

        n = cast(as_tensor_variable(n), "int64")
        item_shape = cast(as_tensor_variable(item_shape), "int64")
        free = [as_tensor_variable(f) for f in free]
        if len(free) != len(self.free):
            raise TypeError(f"{self} takes {len(self.free)} free variables, got {len(free)}")
        out = TensorType(self.body.dtype, (None,) + tuple(self.body.type.shape))()
        return Apply(self, [n, item_shape, *free], [out])

    def _function(self):
        if self._fn is None:
            from ..function import function

            self._fn = function([self.index, *self.free], self.body,
                                on_unused_input="ignore")
        return self._fn

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        n, item_shape, *free = inputs
        fn = self._function()
        dtype = node.outputs[0].type.numpy_dtype
        items = [np.asarray(fn(np.int64(i), *free)) for i in range(int(n))]
        if items:
            result = np.stack(items).astype(dtype, copy=False)
        else:
            result = np.zeros((0,) + tuple(int(s) for s in item_shape), dtype=dtype)
        output_storage[0][0] = result

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        n, item_shape = node.inputs[0], node.inputs[1]
        return [(n,) + tuple(item_shape[k] for k in range(self.body.ndim))]

    def L_op(self, inputs, outputs, output_grads):
        return [None, None] + [
            grad_not_implemented(self, k + 2, x, "differentiating through a jacobian loop "
                                 "(third derivatives) is not supported")
            for k, x in enumerate(inputs[2:])]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[False], [False]] + [[True] for _ in node.inputs[2:]]


def index_map(index: Variable, body: Variable, n: Any, free: Sequence[Variable] | None = None,
              item_shape: Any = None) -> Variable:
    """Stack ``body`` evaluated at ``index = 0 .. n-1``.

    ``free`` lists the variables besides ``index`` that ``body`` depends on (found from the
    graph when omitted); ``item_shape`` is the shape of one item, needed only for ``n = 0``
    (taken from ``body``'s static shape when omitted).
    """
    from ...tensor.basic import as_tensor_variable
    from ...tensor.join import stack

    if free is None:
        free = [v for v in graph_inputs([body]) if v is not index and not hasattr(v, "data")]
    if item_shape is None:
        if any(s is None for s in body.type.shape):
            raise ValueError("index_map: give item_shape, the body's shape is not static")
        item_shape = as_tensor_variable(np.asarray(body.type.shape, dtype="int64"))
    elif isinstance(item_shape, (list, tuple)):
        item_shape = stack([as_tensor_variable(s) for s in item_shape]) if item_shape else \
            as_tensor_variable(np.zeros(0, dtype="int64"))
    return IndexMap(index, body, free)(n, item_shape, *free)
