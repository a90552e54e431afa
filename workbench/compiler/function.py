"""``workbench.function``: compile a graph into a callable.

>>> import workbench
>>> from workbench import tensor as T
>>> a, b = T.dscalars('a', 'b')
>>> f = workbench.function([a, b], a + b)
>>> float(f(1.5, 2.5))
4.0
"""
from __future__ import annotations

import time
import warnings
from typing import Any, Sequence

import numpy as np

from .fgraph import FunctionGraph
from .graph import Constant, Variable, ancestors, clone_graph, graph_inputs, view_root
from .mode import Mode, get_mode
from .shared import SharedVariable


class UnusedInputError(ValueError):
    """An explicit input is not needed to compute the outputs."""


class MissingInputError(ValueError):
    """The outputs depend on a variable that is neither an input nor shared nor constant."""


class In:
    """An input with options: a default ``value``, a keyword ``name``, ``update`` for an
    input that keeps state between calls, ``strict``/``allow_downcast`` conversion rules,
    ``mutable`` and ``borrow`` (whether the function may overwrite or keep the array).

    >>> import workbench
    >>> from workbench import tensor as T
    >>> x, y = T.dscalars('x', 'y')
    >>> f = workbench.function([x, workbench.In(y, value=1)], x + y)
    >>> float(f(33)), float(f(33, 2))
    (34.0, 35.0)
    """

    def __init__(self, variable: Variable, name: str | None = None, value: Any = None,
                 update: Variable | None = None, mutable: bool | None = None,
                 strict: bool = False, allow_downcast: bool | None = None,
                 autoname: bool = True, implicit: bool | None = None, borrow: bool = False,
                 shared: bool = False):
        if not isinstance(variable, Variable):
            raise TypeError(f"In() takes a symbolic variable, got {type(variable).__name__}")
        self.variable = variable
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.update = update
        self.mutable = bool(mutable) if mutable is not None else update is not None
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.implicit = bool(implicit)
        self.borrow = borrow
        self.shared = shared

    def __repr__(self) -> str:
        return f"In({self.variable}{', name=' + repr(self.name) if self.name else ''})"


class Out:
    """An output with options: ``borrow=True`` lets the function return its internal
    buffer (faster; the array may be overwritten by the next call)."""

    def __init__(self, variable: Variable, borrow: bool = False):
        if not isinstance(variable, Variable):
            raise TypeError(f"Out() takes a symbolic variable, got {type(variable).__name__}")
        self.variable = variable
        self.borrow = borrow

    def __repr__(self) -> str:
        return f"Out({self.variable})"


class Container:
    """A typed value cell: an input's default (``In(value=)``, its state with ``update=``)
    or a shared variable's storage. ``f.container[x]`` returns it; ``In(y, value=c)`` with
    a container ``c`` makes two functions share one state, as in Theano.
    ``value`` reads or sets it (setting checks the value against the type)."""

    def __init__(self, variable: Variable, storage: list, required: bool = False,
                 strict: bool = False, allow_downcast: bool | None = None):
        self.variable = variable
        self.type = variable.type
        self.storage = storage
        self.required = required
        self.strict = strict
        self.allow_downcast = allow_downcast

    @property
    def value(self) -> Any:
        value = self.storage[0]
        return None if value is _NO_DEFAULT else value

    @value.setter
    def value(self, value: Any) -> None:
        try:
            self.storage[0] = self.type.filter(value, strict=self.strict,
                                               allow_downcast=self.allow_downcast)
        except TypeError as exc:
            raise TypeError(f"cannot set the value of {self.variable}: {exc}") from None

    def __repr__(self) -> str:
        return f"<Container {self.variable}: {self.value!r}>"


def _shared_container(svar: SharedVariable) -> Container:
    """A Container over a shared variable's own storage (writes check its type)."""
    return Container(svar, svar.storage, strict=svar.strict, allow_downcast=svar.allow_downcast)


class _ContainerView:
    """``f.value`` / ``f.container``: look an input or shared variable up by variable or
    by name, and read or set its value."""

    def __init__(self, function: "Function", values: bool):
        self._function = function
        self._values = values

    def __getitem__(self, item: Any) -> Any:
        container = self._function._find_container(item)
        return container.value if self._values else container

    def __setitem__(self, item: Any, value: Any) -> None:
        container = self._function._find_container(item)
        if not self._values:
            raise TypeError("f.container[...] cannot be assigned; set f[...] or "
                            "f.value[...] instead")
        container.value = value

    def __contains__(self, item: Any) -> bool:
        try:
            self._function._find_container(item)
        except TypeError:
            return False
        return True


def _where(var: Variable) -> str:
    return f" (created at {var.source})" if var.source is not None else ""


def _as_pairs(mapping: Any, what: str) -> list[tuple[Any, Any]]:
    if mapping is None:
        return []
    if isinstance(mapping, dict):
        return list(mapping.items())
    try:
        pairs = [tuple(p) for p in mapping]
    except TypeError:
        raise TypeError(f"{what} must be a dict or a list of (variable, value) pairs") from None
    for p in pairs:
        if len(p) != 2:
            raise TypeError(f"{what} must be a dict or a list of (variable, value) pairs; "
                            f"got an item of length {len(p)}")
    return pairs


def _check_replacement(old: Variable, new: Variable, what: str) -> Variable:
    """Accept ``new`` for ``old`` when its values always fit old's type (or can be checked)."""
    from ..tensor.basic import as_tensor_variable

    if not isinstance(new, Variable):
        try:
            new = as_tensor_variable(new)
        except TypeError as exc:
            raise TypeError(f"{what} for {old}: {exc}") from None
    if old.type == new.type or old.type.is_super(new.type):
        return new
    ot, nt = old.type, new.type
    same_kind = (getattr(ot, "dtype", None) == getattr(nt, "dtype", None)
                 and getattr(ot, "ndim", None) == getattr(nt, "ndim", None))
    if same_kind and all(a is None or b is None or a == b for a, b in zip(ot.shape, nt.shape)):
        return new
    raise TypeError(
        f"{what} must have the same type as the variable it replaces: {old} is {ot}, "
        f"{new} is {nt}{_where(new)}. Cast it (T.cast) or change its broadcast pattern "
        f"(T.unbroadcast / T.addbroadcast).")


class FunctionMaker:
    """What compilation made: the FunctionGraph, the inputs and outputs, the mode."""

    def __init__(self, fgraph: FunctionGraph, inputs: list[In], outputs: list[Out],
                 mode: Mode, compile_time: float):
        self.fgraph = fgraph
        self.inputs = inputs
        self.outputs = outputs
        self.mode = mode
        self.compile_time = compile_time
        #: what the rewrite passes did (a PassTrace)
        self.trace = None


def function(inputs: Sequence[Variable | In], outputs: Any = None, mode: Mode | str | None = None,
             updates: Any = None, givens: Any = None, no_default_updates: Any = False,
             accept_inplace: bool = False, name: str | None = None, rebuild_strict: bool = True,
             allow_input_downcast: bool | None = None, profile: Any = None,
             on_unused_input: str | None = None, trust_input: bool = False) -> "Function":
    """Compile ``outputs`` as a function of ``inputs``.

    ``updates`` (dict or list of pairs) sets shared variables after each call, every new
    value computed from the values before the call; ``givens`` substitutes variables in the
    graph. A list of outputs returns a list; a dict returns a dict.

    >>> import workbench
    >>> from workbench import tensor as T
    >>> state = workbench.shared(0)
    >>> inc = T.iscalar('inc')
    >>> acc = workbench.function([inc], state, updates=[(state, state + inc)])
    >>> int(acc(10)), int(state.get_value())
    (0, 10)
    """
    from ..config import config

    start = time.perf_counter()
    if isinstance(inputs, (Variable, In)):
        raise TypeError("function() takes a list of inputs; wrap a single input in a list")
    ins = [i if isinstance(i, In) else In(i) for i in inputs]
    in_vars = [i.variable for i in ins]
    for pos, var in enumerate(in_vars):
        if isinstance(var, Constant):
            raise TypeError(f"input {pos} ({var}) is a constant; constants cannot be inputs")
        if isinstance(var, SharedVariable):
            raise TypeError(
                f"input {pos} ({var}) is a shared variable; shared variables are implicit "
                f"inputs of every function that uses them (use givens= to substitute one)")
        if not isinstance(var, Variable):
            raise TypeError(f"input {pos} is not a symbolic variable: {var!r}")
    seen: dict[int, int] = {}
    for pos, var in enumerate(in_vars):
        if id(var) in seen:
            raise ValueError(f"variable {var} is given twice as an input "
                             f"(positions {seen[id(var)]} and {pos})")
        seen[id(var)] = pos

    kind, out_specs, keys = _normalize_outputs(outputs)
    update_pairs = _collect_updates(updates, ins, out_specs, no_default_updates)
    replace = {}
    for old, new in _as_pairs(givens, "givens"):
        if not isinstance(old, Variable):
            raise TypeError(f"givens keys must be symbolic variables, got {old!r}")
        replace[old] = _check_replacement(old, new, "a givens replacement")

    input_updates = []  # (position, expression) of In(update=) inputs
    for pos, spec in enumerate(ins):
        if spec.update is not None:
            if spec.value is None:
                raise ValueError(f"input {pos} ({spec.variable}) has an update but no value: "
                                 f"In(update=) needs In(value=) for its first call")
            input_updates.append((pos, _check_replacement(spec.variable, spec.update,
                                                          "an input update")))
    targets = ([o.variable for o in out_specs] + [u for _, u in update_pairs]
               + [u for _, u in input_updates])
    _, targets, _ = clone_graph(in_vars, targets, replace=replace or None, copy_inputs=False)

    shared_inputs: list[SharedVariable] = []
    for root in graph_inputs(targets, in_vars):
        if any(root is v for v in in_vars) or isinstance(root, Constant):
            continue
        if isinstance(root, SharedVariable):
            shared_inputs.append(root)
            continue
        needed_by = [o.variable for o, t in zip(out_specs, targets) if any(
            a is root for a in ancestors([t], in_vars))]
        raise MissingInputError(
            f"input {root} ({root.type}){_where(root)} is needed to compute "
            f"{', '.join(map(str, needed_by)) or 'an update'} but was not given as an input "
            f"to function(); add it to the inputs, or replace it with givens=")
    for svar, _ in update_pairs:
        if not any(svar is s for s in shared_inputs):
            shared_inputs.append(svar)

    policy = on_unused_input or config.on_unused_input
    if policy not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {policy!r}")
    used = {id(v) for v in ancestors(targets, in_vars)}
    for pos, var in enumerate(in_vars):
        if id(var) not in used and ins[pos].update is None and policy != "ignore":
            msg = (f"function() was asked to create a function computing the outputs given "
                   f"certain inputs, but input {pos} ({var}) is not part of the graph needed "
                   f"to compute them. To make this a warning pass on_unused_input='warn'; to "
                   f"allow it pass on_unused_input='ignore'.")
            if policy == "raise":
                raise UnusedInputError(msg)
            warnings.warn(msg, stacklevel=2)

    fgraph = FunctionGraph(in_vars + shared_inputs, targets)
    mode = get_mode(mode)
    trace = _rewrite(fgraph, mode, [v for v, spec in zip(in_vars, ins) if spec.mutable])
    maker = FunctionMaker(fgraph, ins, out_specs, mode, 0.0)
    maker.trace = trace
    fn = Function(maker, kind, keys, update_pairs, shared_inputs, name,
                  allow_input_downcast, trust_input, [pos for pos, _ in input_updates])
    fn._spec = dict(inputs=list(inputs), outputs=outputs, mode=mode, updates=update_pairs,
                    givens=list(replace.items()), name=name,
                    allow_input_downcast=allow_input_downcast, on_unused_input=on_unused_input,
                    no_default_updates=True)
    maker.compile_time = time.perf_counter() - start
    if profile or config.profile:
        from .profile import profile_for

        fn.profile = profile_for(fn)
    return fn


def _rewrite(fgraph: FunctionGraph, mode: Mode, mutable: list[Variable]) -> Any:
    """Run the mode's rewrite passes on ``fgraph``; return their trace."""
    from ..config import config
    from .rewrite.features import DestroyHandler
    from .rewrite.pipeline import optimize

    fgraph.attach_feature(DestroyHandler(mutable=mutable))
    optimizer = mode.optimizer
    if mode.name == "Mode" and optimizer == "fast_run":
        optimizer = None if config.optimizer in (None, "None") else config.optimizer
    return optimize(fgraph, optimizer,
                    including=tuple(mode.include_tags) + tuple(config.optimizer_including),
                    excluding=tuple(mode.exclude_tags) + tuple(config.optimizer_excluding),
                    requiring=tuple(mode.require_tags) + tuple(config.optimizer_requiring))


def _normalize_outputs(outputs: Any) -> tuple[str, list[Out], list | None]:
    from ..tensor.basic import as_tensor_variable

    def spec(o: Any) -> Out:
        if isinstance(o, Out):
            return o
        if isinstance(o, Variable):
            return Out(o)
        try:
            return Out(as_tensor_variable(o))
        except TypeError:
            raise TypeError(f"function() outputs must be symbolic variables, got {o!r}") from None

    if outputs is None:
        return "list", [], None
    if isinstance(outputs, dict):
        keys = list(outputs)
        return "dict", [spec(outputs[k]) for k in keys], keys
    if isinstance(outputs, (list, tuple)):
        return "list", [spec(o) for o in outputs], None
    return "single", [spec(outputs)], None


def _collect_updates(updates: Any, ins: list[In], out_specs: list[Out],
                     no_default_updates: Any) -> list[tuple[SharedVariable, Variable]]:
    pairs: list[tuple[SharedVariable, Variable]] = []
    for svar, value in _as_pairs(updates, "updates"):
        if not isinstance(svar, SharedVariable):
            raise TypeError(f"updates keys must be shared variables; {svar} is "
                            f"{type(svar).__name__}{_where(svar) if isinstance(svar, Variable) else ''}")
        if any(svar is s for s, _ in pairs):
            raise ValueError(f"shared variable {svar} is updated twice")
        pairs.append((svar, _check_replacement(svar, value, "an update")))
    if no_default_updates is not True:
        skip = no_default_updates or []
        roots = [o.variable for o in out_specs] + [u for _, u in pairs]
        for var in ancestors(roots):
            if (isinstance(var, SharedVariable) and var.default_update is not None
                    and not any(var is s for s, _ in pairs) and not any(var is s for s in skip)):
                pairs.append((var, _check_replacement(var, var.default_update,
                                                      "a default update")))
    return pairs


def _may_alias_roots(var: Variable) -> bool:
    """Whether ``var``'s value may share memory with a graph input, shared or constant."""
    while True:
        if var.owner is None:
            return True
        node = var.owner
        view = node.op.view_map.get(var.index) or node.op.destroy_map.get(var.index)
        if not view:
            return False
        if any(_may_alias_roots(node.inputs[i]) for i in view[1:]):
            return True
        var = node.inputs[view[0]]


class Function:
    """A compiled function. Call it with values for its inputs (positionally or by name).

    ``maker.fgraph`` is the compiled graph; ``copy()`` makes a variant with other shared
    variables or without updates; ``trust_input = True`` skips input checks.
    """

    def __init__(self, maker: FunctionMaker, kind: str, keys: list | None,
                 update_pairs: list, shared_inputs: list[SharedVariable], name: str | None,
                 allow_input_downcast: bool | None, trust_input: bool = False,
                 updated_inputs: list[int] | None = None):
        from .backends.select import make_vm

        self.maker = maker
        self.name = name
        self.trust_input = trust_input
        self._kind = kind
        self._keys = keys
        fgraph = maker.fgraph
        from ..config import config

        self.vm = make_vm(fgraph, maker.mode.linker, check_outputs=maker.mode.check_outputs,
                          allow_gc=config.allow_gc and not maker.mode.linker.endswith("_nogc"))
        #: the generated source (C backend) and whether the build came from the disk cache
        self.source: str | None = getattr(self.vm, "source", None)
        self.cache_hit: bool | None = getattr(self.vm, "cache_hit", None)
        n_in = len(maker.inputs)
        self._input_cells = [self.vm.storage[v] for v in fgraph.inputs[:n_in]]
        self._input_types = [v.type for v in fgraph.inputs[:n_in]]
        self._input_names = [i.name for i in maker.inputs]
        self._downcast = [i.allow_downcast if i.allow_downcast is not None
                          else allow_input_downcast for i in maker.inputs]
        self._strict = [i.strict for i in maker.inputs]
        # (filter, strict, allow_downcast) per input, unpacked once for the call path
        self._checks = [(t.filter, st, dc) for t, st, dc in
                        zip(self._input_types, self._strict, self._downcast)]
        # one Container per input, holding its default value (or _NO_DEFAULT)
        self._defaults: list[Container] = []
        for i, spec in enumerate(maker.inputs):
            if isinstance(spec.value, Container):
                container = spec.value  # shared with the function it came from
                if not container.type.is_super(self._input_types[i]):
                    raise TypeError(f"In({spec.variable}, value=...): the container holds "
                                    f"{container.type}, the input is {self._input_types[i]}")
            else:
                container = Container(spec.variable, [_NO_DEFAULT], spec.value is None,
                                      self._strict[i], self._downcast[i])
                if spec.value is not None:
                    value = spec.value.get_value() if isinstance(spec.value, SharedVariable) \
                        else spec.value
                    container.storage[0] = self._filter(i, value)
            self._defaults.append(container)
        self._name_to_pos = {}
        for i, nm in enumerate(self._input_names):
            if nm is not None and nm not in self._name_to_pos:
                self._name_to_pos[nm] = i
        n_out = len(maker.outputs)
        outs = fgraph.outputs
        self._output_cells = [self.vm.storage[v] for v in outs[:n_out]]
        self._output_copy = []
        for i, (spec, var) in enumerate(zip(maker.outputs, outs[:n_out])):
            # the same memory as an earlier output (merged, or a view of it), or as an update
            # (whose value becomes shared storage): the caller must get its own copy
            root = view_root(var)
            repeated = any(root is view_root(other) for other in outs[:i]) or any(
                root is view_root(other) for other in outs[n_out:])
            self._output_copy.append(repeated or (not spec.borrow and _may_alias_roots(var)))
        self._outputs = list(zip(self._output_cells, self._output_copy))
        self._updates = []
        for (svar, _), var in zip(update_pairs, outs[n_out:]):
            cell = self.vm.storage.get(svar, svar.storage)
            needs_check = not svar.type.is_super(var.type)
            self._updates.append((svar, cell, self.vm.storage[var], _may_alias_roots(var),
                                  needs_check))
        # In(update=) inputs: after each call the update's value becomes the input's default
        first = n_out + len(update_pairs)
        self._input_updates = [(pos, self.vm.storage[var]) for pos, var in
                               zip(updated_inputs or [], outs[first:])]
        self.shared_inputs = shared_inputs
        self._spec: dict = {}
        self._n_in = n_in
        # the C backend's direct call, when nothing else has to happen around it
        # (it checks dtype, rank and static shape in C at a few ns per input, so
        # trust_input has nothing left to skip there)
        simple = (not self._updates and not self._input_updates and not any(self._output_copy)
                  and len(fgraph.inputs) - n_in == len(shared_inputs))
        self._fast = getattr(self.vm, "fast_call", None) if simple else None
        #: per-node timings (a ProfileStats) when compiled with profile=True, else None
        self.profile = None

    @property
    def trace(self) -> Any:
        """What each rewrite pass did to this function's graph
        (:class:`~workbench.compiler.rewrite.trace.PassTrace`)."""
        return self.maker.trace

    # ------------------------------------------------------------------------------------
    def _filter(self, pos: int, value: Any) -> Any:
        ttype = self._input_types[pos]
        try:
            return ttype.filter(value, strict=self._strict[pos],
                                allow_downcast=self._downcast[pos])
        except TypeError as exc:
            raise self._input_error(pos, exc) from None

    def _input_error(self, pos: int, exc: Exception) -> TypeError:
        name = self._input_names[pos]
        return TypeError(
            f"bad input argument {name or ''!s}{' ' if name else ''}at index {pos} "
            f"(0-based) of function {self.name or '<unnamed>'}: expected "
            f"{self._input_types[pos]}; {exc}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fast is not None and not kwargs and len(args) == self._n_in \
                and self.profile is None:
            # the C backend checks the inputs itself; None: one needs converting
            results = self._fast(args)
            if results is not None:
                if self._kind == "single":
                    return results[0]
                if self._kind == "dict":
                    return dict(zip(self._keys, results))
                return results
        profile = self.profile
        call_start = time.perf_counter() if profile is not None else 0.0
        cells = self._input_cells
        try:
            if kwargs or len(args) != len(cells):
                self._fill_inputs(args, kwargs)
            elif self.trust_input:
                for cell, value in zip(cells, args):
                    cell[0] = value
            else:
                # The common case, kept lean: every input given by position.
                pos = 0
                try:
                    for pos, (cell, check, value) in enumerate(zip(cells, self._checks, args)):
                        cell[0] = check[0](value, check[1], check[2])
                except TypeError as exc:
                    raise self._input_error(pos, exc) from None
            if profile is None:
                self.vm.run()
            else:
                self.vm.run_profiled(profile)
            # Read outputs and updates before the input cells are cleared: either may be
            # an input itself.
            results = [np.array(cell[0], copy=True) if copy else cell[0]
                       for cell, copy in self._outputs]
            new_values = self._read_updates() if self._updates else None
            if self._input_updates:
                new_defaults = [(pos, np.array(cell[0], copy=True))
                                for pos, cell in self._input_updates]
        finally:
            for cell in cells:
                cell[0] = None
        if new_values is not None:
            for (svar, cell, *_), value in zip(self._updates, new_values):
                cell[0] = value
        if self._input_updates:
            for pos, value in new_defaults:
                self._defaults[pos].storage[0] = self._filter(pos, value)
        if profile is not None:
            profile.record_call(time.perf_counter() - call_start, call_start)
        if self._kind == "single":
            return results[0]
        if self._kind == "dict":
            return dict(zip(self._keys, results))
        return results

    def _fill_inputs(self, args: tuple, kwargs: dict) -> None:
        """Put positional, keyword and default values into the input cells."""
        cells = self._input_cells
        n_in = len(cells)
        if len(args) > n_in:
            raise TypeError(f"function {self.name or '<unnamed>'} takes {n_in} inputs, "
                            f"got {len(args)}")
        values = list(args) + [_NO_VALUE] * (n_in - len(args))
        for key, value in kwargs.items():
            pos = self._name_to_pos.get(key)
            if pos is None:
                raise TypeError(f"function {self.name or '<unnamed>'} has no input named "
                                f"{key!r}; its inputs are {self._input_names}")
            if values[pos] is not _NO_VALUE:
                raise TypeError(f"input {key!r} is given both by position and by name")
            values[pos] = value
        for pos, value in enumerate(values):
            if value is _NO_VALUE:
                default = self._defaults[pos].storage[0]
                if default is _NO_DEFAULT or self._defaults[pos].required:
                    name = self._input_names[pos]
                    raise TypeError(
                        f"missing required input {name + ' ' if name else ''}at index {pos} "
                        f"of function {self.name or '<unnamed>'}")
                cells[pos][0] = default
            else:
                cells[pos][0] = value if self.trust_input else self._filter(pos, value)

    def _read_updates(self) -> list:
        # Every new value is read before any is stored, so each update sees the values
        # from before the call (swapping two shared variables works).
        new_values = []
        for svar, cell, value_cell, alias, check in self._updates:
            value = value_cell[0]
            if check:
                value = svar.type.filter(value, strict=True)
            new_values.append(np.array(value, copy=True) if alias else value)
        return new_values

    # ------------------------------------------------------------------------------------
    def copy(self, share_memory: bool = False, swap: dict | None = None,
             delete_updates: bool = False, name: str | None = None,
             profile: Any = None) -> "Function":
        """A new function computing the same thing.

        ``swap`` maps shared variables to others used in their place (updates included);
        ``delete_updates=True`` drops the updates.
        """
        spec = dict(self._spec)
        swap = dict(swap or {})
        for old, new in swap.items():
            if not isinstance(old, SharedVariable) or not isinstance(new, SharedVariable):
                raise TypeError("copy(swap=) maps shared variables to shared variables")
            if old.type != new.type:
                raise TypeError(f"copy(swap=): {old} is {old.type} but {new} is {new.type}")
        if delete_updates:
            spec["updates"] = []
        else:
            spec["updates"] = [(swap.get(s, s), u) for s, u in spec["updates"]]
        spec["givens"] = list(spec["givens"]) + list(swap.items())
        spec["name"] = name if name is not None else self.name
        spec["on_unused_input"] = "ignore"
        fn = function(**spec, profile=profile)
        fn.trust_input = self.trust_input
        return fn

    def _find_container(self, item: Any) -> Container:
        """The container of an input (by variable or name) or of a shared variable."""
        for pos, spec in enumerate(self.maker.inputs):
            if item is spec.variable:
                return self._defaults[pos]
        for svar in self.shared_inputs:
            if item is svar:
                return _shared_container(svar)
        if isinstance(item, str):
            found = [c for c, nm in zip(self._defaults, self._input_names) if nm == item]
            found += [_shared_container(s) for s in self.shared_inputs if s.name == item]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise TypeError(f"ambiguous name {item!r}: several inputs or shared variables "
                                f"of function {self.name or '<unnamed>'} have it")
        raise TypeError(f"unknown input or state: {item}; function {self.name or '<unnamed>'} "
                        f"has inputs {self._input_names}")

    @property
    def value(self) -> _ContainerView:
        """``f.value[x]``: the value of input ``x`` (its default or state) or of a shared
        variable, by variable or name; ``f.value[x] = v`` sets it. Same as ``f[x]``."""
        return _ContainerView(self, values=True)

    @property
    def container(self) -> _ContainerView:
        """``f.container[x]``: the Container of input ``x``; ``In(y, value=f.container[x])``
        makes another function share that state."""
        return _ContainerView(self, values=False)

    def __getitem__(self, item: Any) -> Any:
        return self.value[item]

    def __setitem__(self, item: Any, value: Any) -> None:
        self.value[item] = value

    def __contains__(self, item: Any) -> bool:
        return item in self.value

    def get_shared(self) -> list[SharedVariable]:
        """The shared variables this function reads or updates."""
        return list(self.shared_inputs)

    @property
    def input_storage(self) -> list[list]:
        return self._input_cells

    def __repr__(self) -> str:
        names = ", ".join(str(n) for n in self._input_names)
        return f"<workbench.Function {self.name or ''}({names})>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict | None:
        """Jupyter's rich display: a summary and the optimized graph (``workbench.viz``)."""
        try:
            from ..viz.mime import function_mimebundle
        except ImportError:
            return None
        return function_mimebundle(self, include, exclude)


class _Sentinel:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


_NO_DEFAULT = _Sentinel("NO_DEFAULT")
_NO_VALUE = _Sentinel("NO_VALUE")
