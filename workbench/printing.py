"""Printing graphs: ``pp`` (compact, math-like) and ``debugprint`` (a tree with ids and types).

>>> import workbench as theano
>>> from workbench import tensor as T
>>> x, y = T.matrices('x', 'y')
>>> theano.pp(x + y)
'(x + y)'
>>> print(theano.debugprint(T.exp(x) * y, file='str'), end='')
Elemwise{mul} [id A] ''
 |Elemwise{exp} [id B] ''
 | |x [id C]
 |y [id D]
"""
from __future__ import annotations

import io
import sys
from typing import Any, Callable, Iterable, Sequence, TextIO

from .compiler.graph import Apply, Constant, Op, Variable

# Infix operators and their precedence (higher binds tighter), by scalar op name.
_INFIX = {
    "or_": ("|", 1), "xor": ("^", 2), "and_": ("&", 3),
    "lt": ("<", 4), "gt": (">", 4), "le": ("<=", 4), "ge": (">=", 4), "eq": ("==", 4),
    "neq": ("!=", 4),
    "add": ("+", 5), "sub": ("-", 5),
    "mul": ("*", 6), "true_div": ("/", 6), "int_div": ("//", 6), "mod": ("%", 6),
    "pow": ("**", 8),
}
_PREFIX = {"neg": "-", "invert": "~"}


def _scalar_name(node: Apply) -> str | None:
    """The scalar op's name for an Elemwise node (reductions also carry a scalar_op)."""
    if type(node.op).__name__ != "Elemwise":
        return None
    return getattr(node.op.scalar_op, "name", None)


def _composite_text(composite: Any, args: list[str]) -> str:
    """A fused loop printed as the expression it computes, over its inputs' texts."""
    values = list(args)
    for op, idx in composite.program:
        operands = [values[i] for i in idx]
        name = getattr(op, "name", str(op))
        if name == "composite":
            values.append(_composite_text(op, operands))
        elif name in _INFIX and len(operands) == 2:
            values.append(f"({operands[0]} {_INFIX[name][0]} {operands[1]})")
        elif name in _PREFIX:
            values.append(f"({_PREFIX[name]}{operands[0]})")
        else:
            values.append(f"{name}({', '.join(operands)})")
    return values[-1]


def _index_text(node: Apply, args: list[str]) -> str | None:
    """``x[1:, i]`` for basic indexing: the op prints its index with ``$`` for each
    symbolic part, which the node's other inputs fill in order."""
    text = str(node.op)
    if type(node.op).__name__ != "Subtensor" or not text.endswith("}") or "{" not in text:
        return None
    index = text[text.index("{") + 1:-1]
    for arg in args[1:]:
        index = index.replace("$", arg, 1)
    return f"{args[0]}[{index}]"


def _constant_text(c: Constant) -> str:
    import numpy as np

    data = np.asarray(c.data)
    if c.name:
        return c.name
    if data.size == 1:  # scalars, and scalars padded with broadcastable dims
        return repr(data.item())
    if data.size <= 6:
        return np.array2string(data, separator=", ")
    return f"TensorConstant{{{data.dtype}, shape={data.shape}}}"


def _is_left_pad(node: Apply) -> bool:
    """A DimShuffle that only adds broadcastable dims on the left (implicit broadcasting)."""
    order = getattr(node.op, "new_order", None)
    if order is None or type(node.op).__name__ != "DimShuffle":
        return False
    kept = [d for d in order if d != "x"]
    n_x = len(order) - len(kept)
    return kept == list(range(len(kept))) and all(d == "x" for d in order[:n_x])


def pp(var: Any, labels: dict | None = None) -> str:
    """A compact, math-like rendering of a variable's graph (or of each output of a compiled
    function, one per line).

    ``labels`` maps variables to names printed in their place (the gradient record uses it
    to write adjoints in terms of named intermediate values).

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> pp(T.exp(-x) * 2)
    '(exp((-x)) * 2.0)'
    """
    if hasattr(var, "maker"):
        return "\n".join(pp(o, labels) for o in var.maker.fgraph.outputs)
    if isinstance(var, (list, tuple)):
        return "\n".join(pp(v, labels) for v in var)
    if not isinstance(var, Variable):
        raise TypeError(f"pp() takes a symbolic variable or a compiled function, "
                        f"got {type(var).__name__}")
    return _pp(var, 0, {"labels": {id(v): text for v, text in (labels or {}).items()}})


def _pp(var: Variable, outer_prec: int, memo: dict) -> str:
    label = memo["labels"].get(id(var))
    if label is not None:
        return label
    if isinstance(var, Constant):
        return _constant_text(var)
    node = var.owner
    if node is None:
        return var.name if var.name is not None else f"<{var.type}>"
    if var.name is not None and outer_prec >= 0 and memo.get("_depth", 0) > 0:
        return var.name
    memo["_depth"] = memo.get("_depth", 0) + 1
    try:
        return _pp_node(var, node, outer_prec, memo)
    finally:
        memo["_depth"] -= 1


def _pp_node(var: Variable, node: Apply, outer_prec: int, memo: dict) -> str:
    name = _scalar_name(node)
    if name == "composite":
        return _composite_text(node.op.scalar_op, [_pp(i, 0, memo) for i in node.inputs])
    if name in _INFIX and len(node.inputs) == 2:
        sym, prec = _INFIX[name]
        left = _pp(node.inputs[0], prec, memo)
        right = _pp(node.inputs[1], prec + 1, memo)
        return f"({left} {sym} {right})"
    if name in _PREFIX:
        return f"({_PREFIX[name]}{_pp(node.inputs[0], 9, memo)})"
    if _is_left_pad(node):
        return _pp(node.inputs[0], outer_prec, memo)
    custom = getattr(node.op, "pp", None)
    args = [_pp(i, 0, memo) for i in node.inputs]
    indexed = _index_text(node, args)
    if indexed is not None:
        return indexed
    if callable(custom):
        text = custom(node, args)
        if text is not None:
            return text
    if name is not None:
        label = name
    else:
        label = str(node.op)
    if len(node.outputs) > 1:
        label = f"{label}[{var.index}]"
    return f"{label}({', '.join(args)})"


# ---------------------------------------------------------------------------------------
# debugprint


def _char_ids() -> Iterable[str]:
    """A, B, ..., Z, BA, BB, ...: Theano's 'CHAR' ids."""
    n = 0
    while True:
        digits, k = [], n
        while True:
            digits.append(chr(ord("A") + k % 26))
            k //= 26
            if k == 0:
                break
        yield "".join(reversed(digits))
        n += 1


def debugprint(obj: Any, depth: int = -1, print_type: bool = False, file: Any = None,
               ids: str = "CHAR", stop_on_name: bool = False, print_source: bool = False
               ) -> Any:
    """Print a graph as a tree: each node's op, an id (``[id A]``), optionally its type and
    the source line that built it. A node seen before is printed once and then referenced by
    its id. ``obj`` is a variable, a list of them, an Apply, a FunctionGraph or a compiled
    function (whose nodes also show their position in the execution order).

    ``file='str'`` returns the text; otherwise it is written to ``file`` (default stdout),
    which is returned.

    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> print(debugprint(x * 2, print_type=True, file='str'), end='')
    Elemwise{mul} [id A] <TensorType(float64, vector)> ''
     |x [id B] <TensorType(float64, vector)>
     |2.0 [id C] <TensorType(float64, (1,))>
    """
    order: dict[Apply, int] | None = None
    if hasattr(obj, "maker"):
        fgraph = obj.maker.fgraph
        roots = list(fgraph.outputs)
        order = {n: i for i, n in enumerate(fgraph.toposort())}
    elif hasattr(obj, "toposort") and hasattr(obj, "outputs"):
        roots = list(obj.outputs)
        order = {n: i for i, n in enumerate(obj.toposort())}
    elif isinstance(obj, Apply):
        roots = list(obj.outputs)
    elif isinstance(obj, Variable):
        roots = [obj]
    elif isinstance(obj, (list, tuple)):
        roots = []
        for item in obj:
            if hasattr(item, "maker"):
                roots.extend(item.maker.fgraph.outputs)
            elif isinstance(item, Variable):
                roots.append(item)
            else:
                raise TypeError(f"debugprint cannot print {type(item).__name__}")
    else:
        raise TypeError(f"debugprint takes a variable, a list of variables, an Apply, a "
                        f"FunctionGraph or a compiled function; got {type(obj).__name__}")

    id_gen = _char_ids() if ids == "CHAR" else (str(i) for i in range(10 ** 9))
    assigned: dict[int, str] = {}
    expanded: set[int] = set()
    out = io.StringIO()

    def ident(key: int) -> str:
        if ids == "":
            return ""
        if key not in assigned:
            assigned[key] = next(id_gen)
        return f" [id {assigned[key]}]"

    def walk(var: Variable, prefix: str, level: int) -> None:
        type_text = f" <{var.type}>" if print_type else ""
        node = var.owner
        if node is None or (stop_on_name and var.name is not None and level > 0):
            label = str(var) if not isinstance(var, Constant) else _constant_text(var)
            out.write(f"{prefix}{label}{ident(id(var))}{type_text}\n")
            return
        key = id(node)
        label = str(node.op)
        if len(node.outputs) > 1:
            label = f"{label}.{var.index}"
        name = f" '{var.name}'" if var.name else " ''"
        pos = f"   {order[node]}" if order is not None and node in order else ""
        src = f"   ({node.source.filename.rsplit('/', 1)[-1]}:{node.source.lineno})" \
            if print_source and node.source is not None else ""
        already = key in expanded
        out.write(f"{prefix}{label}{ident(key)}{type_text}{name}{pos}{src}\n")
        if already or (depth != -1 and level >= depth):
            return
        expanded.add(key)
        for inp in node.inputs:
            walk(inp, prefix + " |", level + 1)

    for root in roots:
        walk(root, "", 0)

    text = out.getvalue()
    if file == "str":
        return text
    stream: TextIO = sys.stdout if file is None else file
    stream.write(text)
    return stream


#: Theano's name for the pretty printer: ``theano.printing.pprint(var)``
pprint = pp


# ---------------------------------------------------------------------------------------
# Print: an identity op that prints its input when it runs


def _print_fn(op: "Print", value: Any) -> None:
    for attr in op.attrs:
        item = getattr(value, attr)
        print(op.message, attr, "=", item() if callable(item) else item)


class Print(Op):
    """An identity op that, as a side effect, prints ``message`` and its input's value
    (each of ``attrs``, called when callable) every time it runs; ``global_fn(op, value)``
    replaces the printing.

    >>> import workbench
    >>> from workbench import tensor as T
    >>> x = T.dvector('x')
    >>> f = workbench.function([x], Print('x is')(x) * 5)
    >>> f([1.0, 2.0]).tolist()
    x is __str__ = [1. 2.]
    [5.0, 10.0]
    """

    __props__ = ("message", "attrs", "global_fn")
    view_map = {0: [0]}
    never_fold = True  # printing is the point: it must happen at run time, every call

    def __init__(self, message: str = "", attrs: Sequence[str] = ("__str__",),
                 global_fn: Callable[["Print", Any], None] = _print_fn):
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def __str__(self) -> str:
        return f"Print{{{self.message}}}"

    def make_node(self, x: Any) -> Apply:
        if not isinstance(x, Variable):
            from .tensor.basic import as_tensor_variable

            x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list) -> None:
        output_storage[0][0] = inputs[0]
        self.global_fn(self, inputs[0])

    def infer_shape(self, node: Apply, input_shapes: list) -> list:
        return [input_shapes[0]]

    def L_op(self, inputs: list, outputs: list, output_grads: list) -> list:
        # an identity: the gradient passes through (and is not printed)
        return [output_grads[0]]

    def R_op(self, inputs: list, eval_points: list) -> list:
        return [eval_points[0]]
