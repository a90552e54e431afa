"""The graph IR: variables, constants, applications of ops, and walks over them.

A graph is a DAG of :class:`Variable` and :class:`Apply` nodes. A variable is produced by at
most one ``Apply`` (its ``owner``); an ``Apply`` holds an :class:`Op` and its input and output
variables. Every variable and node records the user's source line that created it.

>>> from workbench import tensor as T
>>> x = T.dscalar('x')
>>> y = x + 1
>>> y.owner.op, y.owner.inputs[0] is x
(Elemwise{add}, True)
"""
from __future__ import annotations

import itertools
from typing import Any, Iterable, Iterator, Sequence

from .sourceline import SourceLine, user_source_line

_ids = itertools.count()


class Scratchpad(dict):
    """``tag``: free-form notes on a variable or node, read and written as attributes
    (Theano's ``x.tag.test_value = ...``) or as a dict."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"tag has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def copy(self) -> "Scratchpad":
        return Scratchpad(self)


class Variable:
    """A symbolic value of a given :class:`~workbench.compiler.types.Type`."""

    def __init__(self, type, owner: "Apply | None" = None, index: int | None = None,
                 name: str | None = None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag: Scratchpad = Scratchpad()
        self.id = next(_ids)
        self.source: SourceLine | None = user_source_line()

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            if len(self.owner.outputs) == 1:
                return f"{op}.0"
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self) -> str:
        return str(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict | None:
        """Jupyter's rich display: the graph drawn (``workbench.viz.mime``, loaded lazily)."""
        try:
            from ..viz.mime import variable_mimebundle
        except ImportError:
            return None
        return variable_mimebundle(self, include, exclude)

    def clone(self) -> "Variable":
        """A new variable of the same type and name, with no owner."""
        cp = self.__class__(self.type, None, None, self.name)
        cp.tag = self.tag.copy()
        cp.source = self.source
        return cp

    def get_parents(self) -> list["Apply"]:
        return [self.owner] if self.owner is not None else []

    def eval(self, inputs_to_values: dict | None = None) -> Any:
        """Compile and run this variable's graph on the given input values.

        >>> from workbench import tensor as T
        >>> x = T.dscalar('x')
        >>> float((x * 2).eval({x: 3.0}))
        6.0
        """
        from .function import function

        inputs_to_values = inputs_to_values or {}
        inputs = list(inputs_to_values)
        cache = self.__dict__.setdefault("_eval_cache", {})
        key = tuple(v.id for v in inputs)
        fn = cache.get(key)
        if fn is None:
            fn = function(inputs, self, on_unused_input="ignore")
            cache[key] = fn
        return fn(*[inputs_to_values[v] for v in inputs])


class Constant(Variable):
    """A variable with a fixed value; ``data`` holds it."""

    def __init__(self, type, data: Any, name: str | None = None):
        super().__init__(type, None, None, name)
        self.data = type.filter(data)

    def signature(self) -> tuple:
        return (self.type, _data_key(self.data))

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        text = str(self.data)
        if len(text) > 20:
            text = text[:10].strip() + "..."
        return text

    def clone(self) -> "Constant":
        cp = self.__class__(self.type, self.data, self.name)
        cp.tag = self.tag.copy()
        cp.source = self.source
        return cp


def _data_key(data: Any) -> Any:
    import numpy as np

    if isinstance(data, np.ndarray):
        return (data.dtype.str, data.shape, data.tobytes())
    return data


class Apply:
    """One application of an op to input variables, producing output variables."""

    def __init__(self, op: "Op", inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        for i, out in enumerate(self.outputs):
            if out.owner is not None and out.owner is not self:
                raise ValueError(f"output {out} of {op} already has an owner")
            out.owner = self
            out.index = i
        self.id = next(_ids)
        self.source: SourceLine | None = user_source_line()
        self.tag: Scratchpad = Scratchpad()

    @property
    def out(self) -> Variable:
        if len(self.outputs) != 1:
            raise AttributeError(f"{self.op} has {len(self.outputs)} outputs")
        return self.outputs[0]

    def default_output(self) -> Variable:
        return self.outputs[getattr(self.op, "default_output", None) or 0]

    def clone_with_new_inputs(self, inputs: Sequence[Variable], strict: bool = True) -> "Apply":
        """The same op on other inputs; ``strict`` keeps the output types."""
        if strict:
            new = Apply(self.op, inputs, [o.clone() for o in self.outputs])
        else:
            new = self.op.make_node(*inputs)
        new.source = self.source
        new.tag = self.tag.copy()
        return new

    def __str__(self) -> str:
        return f"{self.op}({', '.join(map(str, self.inputs))})"

    __repr__ = __str__

    @property
    def nin(self) -> int:
        return len(self.inputs)

    @property
    def nout(self) -> int:
        return len(self.outputs)


class Op:
    """Base class of every op.

    Subclasses list their parameters in ``__props__``; equality and hashing follow them, so
    equal ops merge and share compiled code. The contract:

    - ``make_node(*inputs) -> Apply``: type inference;
    - ``perform(node, inputs, output_storage)``: the NumPy reference; stores each output
      in ``output_storage[i][0]``;
    - ``infer_shape(node, input_shapes) -> list of shape tuples`` (symbolic);
    - ``L_op``/``grad``/``R_op``: differentiation (see :mod:`workbench.compiler.grad`);
    - ``view_map``/``destroy_map``: ``{output index: [input indices]}``.
    """

    __props__: tuple[str, ...] = ()
    view_map: dict[int, list[int]] = {}
    destroy_map: dict[int, list[int]] = {}
    default_output: int | None = None

    def _props(self) -> tuple:
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self) -> int:
        # ops do not change once made; merging and rewriting hash them constantly
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = self.__dict__["_hash"] = hash((type(self), self._props()))
        return cached

    def __str__(self) -> str:
        if self.__props__:
            props = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.__props__)
            return f"{type(self).__name__}{{{props}}}"
        return type(self).__name__

    def __repr__(self) -> str:
        # Not ``__repr__ = __str__``: that would bind Op.__str__ and ignore subclasses' own.
        return str(self)

    def make_node(self, *inputs: Any) -> Apply:
        raise NotImplementedError(f"{type(self).__name__}.make_node")

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no perform")

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        """The gradient of the cost with respect to each input, given the gradient with
        respect to each output (reverse mode). Defaults to :meth:`grad`."""
        return self.grad(inputs, output_grads)

    def grad(self, inputs: list, output_grads: list) -> list:
        """Theano's older spelling of :meth:`L_op`, without the outputs."""
        raise NotImplementedError(f"{self} has no gradient")

    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        node = self.make_node(*inputs, **kwargs)
        if self.default_output is not None:
            return node.outputs[self.default_output]
        if len(node.outputs) == 1:
            return node.outputs[0]
        return node.outputs


# ---------------------------------------------------------------------------------------
# Walks over graphs


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """Every variable the outputs depend on, outputs included, stopping at ``blockers``."""
    blocked = set(map(id, blockers))
    seen: set[int] = set()
    result: list[Variable] = []
    stack = list(outputs)[::-1]
    while stack:
        var = stack.pop()
        if id(var) in seen:
            continue
        seen.add(id(var))
        result.append(var)
        if var.owner is not None and id(var) not in blocked:
            stack.extend(reversed(var.owner.inputs))
    return result


def view_root(var: Variable) -> Variable:
    """The variable owning the memory ``var`` views or overwrites, following ``view_map``
    and ``destroy_map`` up the graph (``var`` itself when it owns its memory)."""
    while var.owner is not None:
        op = var.owner.op
        viewed = op.view_map.get(var.index) or op.destroy_map.get(var.index)
        if not viewed:
            break
        var = var.owner.inputs[viewed[0]]
    return var


def graph_inputs(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """The root variables (no owner, or blocked) that the outputs depend on, in order."""
    blocked = set(map(id, blockers))
    return [v for v in ancestors(outputs, blockers) if v.owner is None or id(v) in blocked]


def io_toposort(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    """The Apply nodes between inputs and outputs, each after the nodes it depends on."""
    stop = set(map(id, inputs))
    order: list[Apply] = []
    done: set[int] = set()
    # iterative DFS, post-order
    for out in outputs:
        if out.owner is None or id(out) in stop:
            continue
        stack: list[tuple[Apply, Iterator[Variable]]] = []
        if id(out.owner) in done:
            continue
        stack.append((out.owner, iter(out.owner.inputs)))
        on_stack = {id(out.owner)}
        while stack:
            node, it = stack[-1]
            advanced = False
            for inp in it:
                parent = inp.owner
                if parent is None or id(inp) in stop or id(parent) in done:
                    continue
                if id(parent) in on_stack:
                    raise ValueError("the graph has a cycle")
                stack.append((parent, iter(parent.inputs)))
                on_stack.add(id(parent))
                advanced = True
                break
            if not advanced:
                stack.pop()
                on_stack.discard(id(node))
                done.add(id(node))
                order.append(node)
    return order


def clone_graph(inputs: Sequence[Variable], outputs: Sequence[Variable],
                replace: dict[Variable, Variable] | None = None,
                copy_inputs: bool = True) -> tuple[list[Variable], list[Variable], dict]:
    """Copy the Apply nodes between inputs and outputs.

    ``replace`` maps variables of the original graph to variables used in their place; the
    replacements themselves are not copied. Roots that are neither inputs nor replaced
    (shared variables, constants) are kept as they are. Returns the new inputs, the new
    outputs and the old-to-new memo.
    """
    memo: dict[Variable, Variable] = {}
    for var in inputs:
        memo[var] = var.clone() if copy_inputs else var
    for old, new in (replace or {}).items():
        memo[old] = new
    for node in io_toposort(list(memo), outputs):
        new_inputs = [memo.get(i, i) for i in node.inputs]
        same_types = all(a.type == b.type for a, b in zip(new_inputs, node.inputs))
        new_node = node.clone_with_new_inputs(new_inputs, strict=same_types)
        for old, new in zip(node.outputs, new_node.outputs):
            memo[old] = new
    new_outputs = [memo.get(out, out) for out in outputs]
    return [memo[i] for i in inputs], new_outputs, memo


def graph_replace(output: Variable, replace: dict[Variable, Variable]) -> Variable:
    """``output`` with the variables in ``replace`` substituted; only the nodes downstream of
    a replaced variable are copied, the rest of the graph is shared.

    >>> from workbench import tensor as T
    >>> x, y = T.dscalars('x', 'y')
    >>> float(graph_replace(x * 2 + 1, {x: y}).eval({y: 3.0}))
    7.0
    """
    memo: dict[int, Variable] = {id(k): v for k, v in replace.items()}
    for node in io_toposort(list(replace), [output]):
        if not any(id(i) in memo for i in node.inputs):
            continue
        new_inputs = [memo.get(id(i), i) for i in node.inputs]
        new_node = node.clone_with_new_inputs(new_inputs, strict=False)
        for old, new in zip(node.outputs, new_node.outputs):
            memo[id(old)] = new
    return memo.get(id(output), output)


def is_in_ancestors(var: Variable, target: Variable) -> bool:
    return any(v is target for v in ancestors([var]))


def clone(output: Any, replace: Any = None, strict: bool = True,
          share_inputs: bool = True) -> Any:
    """Theano's ``theano.clone``: a copy of the graph of ``output`` (a variable or a list),
    with the variables in ``replace`` (a dict or a list of pairs) replaced.

    ``strict=True`` requires each replacement to have the type of the variable it replaces
    (else TypeError); ``strict=False`` lets types change and re-infers them.
    ``share_inputs=False`` also copies the graph's inputs (shared variables keep their
    storage).

    >>> from workbench import tensor as T
    >>> x, y = T.dscalars('x', 'y')
    >>> z = clone(x * 2 + 1, replace={x: y})
    >>> float(z.eval({y: 3.0}))
    7.0
    """
    from .function import _as_pairs, _check_replacement

    outputs = list(output) if isinstance(output, (list, tuple)) else [output]
    for out in outputs:
        if not isinstance(out, Variable):
            raise TypeError(f"clone() takes variables, got {type(out).__name__}")
    memo: dict[Variable, Variable] = {}
    for old, new in _as_pairs(replace, "clone(replace=)"):
        if not isinstance(old, Variable):
            raise TypeError(f"clone(replace=) keys must be variables, got {old!r}")
        if strict:
            new = _check_replacement(old, new, "a clone(strict=True) replacement")
        elif not isinstance(new, Variable):
            from ..tensor.basic import as_tensor_variable

            new = as_tensor_variable(new)
        memo[old] = new
    roots = [] if share_inputs else [
        v for v in graph_inputs(outputs, list(memo))
        if v.owner is None and v not in memo and not isinstance(v, Constant)]
    _, new_outputs, _ = clone_graph(roots, outputs, replace=memo, copy_inputs=True)
    return new_outputs if isinstance(output, (list, tuple)) else new_outputs[0]
