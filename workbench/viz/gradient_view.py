"""GradientView: the chain rule made visible.

``GradientView(cost, wrt, at=None)`` shows a cost and its derivative as LaTeX, the gradient
graph as :func:`workbench.grad` built it and after optimization, and the reverse sweep step
by step from the gradient record (``g.tag.grad_record``): for each node, the adjoint it
received, the op's local rule, and what it sent to each input, lit up on the drawing.
With ``at={x: value, ...}`` every node is also annotated with its value and its adjoint
(micrograd's ``data | grad`` labels) and the gradient is checked against finite differences.

>>> import numpy as np
>>> from workbench import tensor as T
>>> x = T.dscalar('x')
>>> view = GradientView(x ** 2, x, at={x: 3.0})
>>> view.latex()[1]
'\\\\frac{\\\\partial f}{\\\\partial x} = 2 x'
>>> float(view.values[view.steps[0]['node']]['adjoint']), view.verify.ok
(1.0, True)
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import html as H
from .mime import add_widget_view

# ------------------------------------------------------------------------------------------
# LaTeX: a small printer for the common ops; anything else is pp's text in \text{}

_ATOM, _POW, _UNARY, _MUL, _ADD, _CMP = 6, 5, 4, 3, 2, 1
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota",
          "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi",
          "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi",
          "Psi", "Omega"}
_FUNCS = {"log": r"\log", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "sinh": r"\sinh",
          "cosh": r"\cosh", "tanh": r"\tanh", "arcsin": r"\arcsin", "arccos": r"\arccos",
          "arctan": r"\arctan", "sigmoid": r"\sigma", "log2": r"\log_2", "log10": r"\log_{10}",
          "maximum": r"\max", "minimum": r"\min", "erf": r"\operatorname{erf}",
          "softplus": r"\operatorname{softplus}", "relu": r"\operatorname{relu}",
          "sgn": r"\operatorname{sgn}", "floor": r"\operatorname{floor}",
          "ceil": r"\operatorname{ceil}", "gammaln": r"\log\Gamma", "gamma": r"\Gamma"}
_INFIX = {"add": ("+", _ADD), "sub": ("-", _ADD), "lt": ("<", _CMP), "gt": (">", _CMP),
          "le": (r"\le", _CMP), "ge": (r"\ge", _CMP), "eq": ("=", _CMP), "neq": (r"\ne", _CMP)}
_REDUCE = {"Sum": r"\sum", "Prod": r"\prod", "Max": r"\max", "Min": r"\min"}
#: ops printed by a template: (str.format template of the printed arguments, precedence
#: of the result, precedence the first argument is wrapped to or None to insert it as is)
_TEMPLATES = {"true_div": (r"\frac{{{0}}}{{{1}}}", _ATOM, None),
              "neg": ("-{0}", _UNARY, _UNARY + 1),
              "pow": ("{0}^{{{1}}}", _POW, _ATOM),
              "sqr": ("{0}^{{2}}", _POW, _ATOM),
              "exp": ("e^{{{0}}}", _POW, None),
              "expm1": ("e^{{{0}}} - 1", _ADD, None),
              "log1p": (r"\log\left(1 + {0}\right)", _ATOM, None),
              "sqrt": (r"\sqrt{{{0}}}", _ATOM, None),
              "abs": (r"\left|{0}\right|", _ATOM, None)}
#: a printed expression longer than this is replaced by a note (graphs can be huge)
LATEX_MAX_CHARS = 1500


def latex_text(text: str) -> str:
    r"""``text`` inside ``\text{}``, its LaTeX special characters escaped.

    >>> latex_text('Shape_i{0}(x)')
    '\\text{Shape\\_i\\{0\\}(x)}'
    """
    special = {"\\": r"\backslash ", "{": r"\{", "}": r"\}", "_": r"\_", "#": r"\#",
               "$": r"\$", "%": r"\%", "&": r"\&", "^": r"\^{}", "~": r"\~{}"}
    return r"\text{" + "".join(special.get(c, c) for c in text) + "}"


def latex_name(name: str) -> str:
    r"""A variable name as LaTeX: ``x``, ``W_{1}``, ``\alpha``, ``\mathrm{bias}``.

    >>> [latex_name(n) for n in ('x', 'W1', 'alpha', 'x_2', 'bias')]
    ['x', 'W_{1}', '\\alpha', 'x_{2}', '\\mathrm{bias}']
    """
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)", name)
    base, sub = (m.group(1), m.group(2)) if m else (name, None)
    if base in _GREEK:
        text = "\\" + base
    elif re.fullmatch(r"[A-Za-z]", base):
        text = base
    elif re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", base):
        text = r"\mathrm{" + base + "}"
    else:
        return latex_text(name)
    return f"{text}_{{{sub}}}" if sub else text


def _number(value: Any) -> str:
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exp)}}}"
    return text


def _is_number(text: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", text) is not None


def _scalar_like(var: Any) -> bool:
    shape = getattr(var.type, "shape", ())
    return all(s == 1 for s in shape)


class LatexPrinter:
    """Prints a variable's graph as LaTeX. ``labels`` maps variables to LaTeX names printed
    in their place. Shared subexpressions are printed once per use (memoised)."""

    def __init__(self, labels: dict | None = None):
        self.labels = {id(v): text for v, text in (labels or {}).items()}
        self._memo: dict[int, tuple[str, int]] = {}

    def __call__(self, var: Any) -> str:
        from ..printing import pp

        text = self._print(var)[0]
        if len(text) > LATEX_MAX_CHARS:
            return latex_text(f"(a long expression: {len(pp(var))} characters; see the graph)")
        return text

    def _print(self, var: Any) -> tuple[str, int]:
        key = id(var)
        if key not in self._memo:
            self._memo[key] = self._compute(var)
        return self._memo[key]

    def _wrap(self, var: Any, prec: int) -> str:
        text, own = self._print(var)
        return text if own >= prec else rf"\left({text}\right)"

    def _compute(self, var: Any) -> tuple[str, int]:
        from ..compiler.graph import Constant
        from ..printing import pp

        if key := self.labels.get(id(var)):
            return key, _ATOM
        if isinstance(var, Constant):
            data = np.asarray(var.data)
            if data.size == 1 and data.dtype.kind in "biuf":
                value = data.item()
                return _number(value), _ATOM if value >= 0 else _UNARY
            return latex_text(pp(var)), _ATOM
        node = var.owner
        if node is None:
            return (latex_name(var.name) if var.name else latex_text(pp(var))), _ATOM
        op = node.op
        cls = type(op).__name__
        args = node.inputs
        if cls == "Elemwise":
            return self._scalar(op.scalar_op, [self._print(a) for a in args],
                                [_scalar_like(a) for a in args])
        if cls == "DimShuffle":
            kept = [d for d in op.new_order if d != "x"]
            if kept == sorted(kept):  # only broadcasting dims added or dropped
                return self._print(args[0])
            if kept == list(range(len(kept)))[::-1]:
                return self._wrap(args[0], _ATOM) + r"^{\top}", _POW
        if cls in ("Dot", "MatMul"):
            # both sides parenthesised when they are products: a ⊙ b · c would be ambiguous
            return (rf"{self._wrap(args[0], _MUL + 1)} \cdot {self._wrap(args[1], _MUL + 1)}",
                    _MUL)
        if cls in _REDUCE:
            return self._reduce(_REDUCE[cls], op, self._wrap(args[0], _MUL + 1))
        if cls == "FusedReduce":
            inner, prec = self._scalar(op.scalar_op, [self._print(a) for a in args],
                                       [_scalar_like(a) for a in args])
            name = _REDUCE.get(type(op.reduce_op).__name__)
            if name is not None:
                body = inner if prec > _MUL else rf"\left({inner}\right)"
                return self._reduce(name, op.reduce_op, body)
        if cls in ("Softmax", "LogSoftmax"):
            name = r"\operatorname{softmax}" if cls == "Softmax" else r"\log\operatorname{softmax}"
            return rf"{name}\left({self._print(args[0])[0]}\right)", _ATOM
        if cls == "Alloc":  # a broadcast: the value is what matters in a formula
            return self._print(args[0])
        if cls == "Shape_i":
            return rf"\dim_{{{op.i}}}\left({self._print(args[0])[0]}\right)", _ATOM
        if cls in ("Gemm", "Gemv"):
            z, alpha, x, y, beta = args
            return self._blas(alpha, rf"{self._wrap(x, _MUL + 1)} \cdot "
                              rf"{self._wrap(y, _MUL + 1)}", beta, z)
        if cls == "Ger":
            a, alpha, x, y = args
            term = self._scaled(alpha, rf"{self._wrap(x, _MUL)} \, {self._wrap(y, _POW)}^{{\top}}")
            return rf"{self._print(a)[0]} + {term}", _ADD
        return self._fallback(var)

    def _fallback(self, var: Any) -> tuple[str, int]:
        """An op this printer does not know: its pp text when short, else its name over
        the printed arguments (so the ops inside still read as math)."""
        from ..printing import pp

        text = pp(var)
        if len(text) <= 60 or not var.owner.inputs:
            return latex_text(text), _ATOM
        args = ", ".join(self._print(a)[0] for a in var.owner.inputs)
        return rf"{latex_text(str(var.owner.op))}\left({args}\right)", _ATOM

    def _reduce(self, name: str, op: Any, body: str) -> tuple[str, int]:
        axis = getattr(op, "axis", None)
        sub = "" if axis is None else "_{" + latex_text(
            "axis " + ",".join(map(str, axis))) + "}"
        return rf"{name}{sub} {body}", _MUL

    def _scaled(self, alpha: Any, term: str) -> str:
        from ..compiler.graph import Constant

        if isinstance(alpha, Constant) and np.all(np.asarray(alpha.data) == 1):
            return term
        return rf"{self._wrap(alpha, _MUL)} \, {term}"

    def _blas(self, alpha: Any, product: str, beta: Any, z: Any) -> tuple[str, int]:
        from ..compiler.graph import Constant

        term = self._scaled(alpha, product)
        if isinstance(beta, Constant) and np.all(np.asarray(beta.data) == 0):
            return term, _MUL
        return rf"{self._scaled(beta, self._wrap(z, _MUL))} + {term}", _ADD

    def _scalar(self, sop: Any, args: list[tuple[str, int]], scalar: list[bool]
                ) -> tuple[str, int]:
        """A scalar op (or a fused Composite of them) over printed arguments."""
        name = getattr(sop, "name", str(sop))
        if name == "composite":
            values = list(args)
            flags = list(scalar)
            for inner, idx in sop.program:
                values.append(self._scalar(inner, [values[i] for i in idx],
                                           [flags[i] for i in idx]))
                flags.append(all(flags[i] for i in idx))
            return values[-1]

        def wrap(k: int, prec: int) -> str:
            text, own = args[k]
            return text if own >= prec else rf"\left({text}\right)"

        if name in _INFIX and len(args) == 2:
            sym, prec = _INFIX[name]
            right = wrap(1, prec + 1) if name == "sub" else wrap(1, prec)
            return f"{wrap(0, prec)} {sym} {right}", prec
        if name == "mul":
            left, right = wrap(0, _MUL), wrap(1, _MUL)
            if left == "1" or right == "1":  # a seed of one (d cost / d cost) says nothing
                return args[1] if left == "1" else args[0]
            if not scalar[0] and not scalar[1]:
                return rf"{left} \odot {right}", _MUL
            if _is_number(right) and not _is_number(left):
                left, right = right, left  # 2 x, not x 2
            if right[:1].isdigit() or right[:1] == "-":
                return rf"{left} \times {right}", _MUL
            return f"{left} {right}", _MUL
        if name in _TEMPLATES:
            template, prec, first_prec = _TEMPLATES[name]
            first = args[0][0] if first_prec is None else wrap(0, first_prec)
            return template.format(first, *(a[0] for a in args[1:])), prec
        if name in ("identity",) or name.startswith("convert_to_"):
            return args[0]
        func = _FUNCS.get(name, r"\operatorname{" + latex_text(name)[6:-1] + "}")
        return rf"{func}\left({', '.join(a[0] for a in args)}\right)", _ATOM


def to_latex(var: Any, labels: dict | None = None) -> str:
    r"""A variable's graph as LaTeX (common ops; others as ``\text{}`` of their pp text).

    >>> from workbench import tensor as T
    >>> x, w = T.dmatrix('x'), T.dvector('w')
    >>> to_latex(T.nnet.sigmoid(T.dot(x, w)).sum())
    '\\sum \\sigma\\left(x \\cdot w\\right)'
    >>> to_latex(T.exp(-x) / 2)
    '\\frac{e^{-x}}{2}'
    """
    return LatexPrinter(labels)(var)


# ------------------------------------------------------------------------------------------
# Values shown in labels and tables


def value_text(value: Any, width: int = 60) -> str:
    """A short rendering of a value: a scalar to 4 digits, a small array in full, a large
    one summarised.

    >>> value_text(np.float64(0.25)), value_text(np.arange(3.0))
    ('0.25', '[0. 1. 2.]')
    """
    if value is None:
        return "-"
    arr = np.asarray(value)
    if arr.ndim == 0:
        return f"{arr.item():.4g}" if arr.dtype.kind == "f" else str(arr.item())
    text = np.array2string(arr, precision=3, threshold=8, edgeitems=2, max_line_width=width)
    text = " ".join(text.split())
    return text if len(text) <= width else f"array{arr.shape} mean {arr.mean():.3g}"


@dataclass
class GradCheck:
    """The gradient checked against central differences at the ``at=`` point:
    ``ok`` (``verify_grad`` passed), the largest absolute and relative errors of the
    symbolic gradient, and a message."""

    ok: bool
    max_abs_error: float
    max_rel_error: float
    message: str

    def html(self) -> str:
        colour = "#2ca02c" if self.ok else "#d62728"
        word = "passed" if self.ok else "FAILED"
        return (f'<div><b style="color:{colour}">verify_grad {word}</b>: max abs error '
                f"{self.max_abs_error:.3g}, max rel error {self.max_rel_error:.3g}"
                f"{(' &middot; ' + H.escape(self.message)) if self.message else ''}</div>")


#: verification by finite differences is skipped above this many wrt elements
VERIFY_MAX_ELEMENTS = 2000
_ids = itertools.count()


class GradientView:
    """The gradient of ``cost`` with respect to ``wrt`` (a variable or a list), step by step.

    ``at`` maps the cost's inputs (variables or their names) to values; with it, every node
    shows its value and adjoint and the gradient is verified by finite differences.
    """

    def __init__(self, cost: Any, wrt: Any, at: dict | None = None):
        from ..compiler.graph import Variable
        from ..gradient import grad

        if not isinstance(cost, Variable):
            raise TypeError(f"GradientView takes a symbolic cost, got {type(cost).__name__}")
        self.cost = cost
        self._single = not isinstance(wrt, (list, tuple))
        self.wrt = [wrt] if self._single else list(wrt)
        self.grads = list(grad(cost, self.wrt))
        self.record = self.grads[0].tag.grad_record
        self.record_data = self.record.to_dict()
        self._uid = f"wbg{next(_ids)}"
        self._function = None
        self.values: dict[str, dict] = {}
        self.verify: GradCheck | None = None
        self.verify_skipped: str | None = None
        self.at = self._resolve_at(at) if at is not None else None
        if self.at is not None:
            self._evaluate()
            self._check()
        self.steps = self._steps()
        self._widget = None
        self.current = 1 if self.steps else 0

    # -- inputs and compiled pieces ----------------------------------------------------------

    def _free_inputs(self) -> list:
        from ..compiler.graph import Constant, graph_inputs
        from ..compiler.shared import SharedVariable

        return [v for v in graph_inputs([self.cost] + self.grads)
                if not isinstance(v, (Constant, SharedVariable))]

    def _resolve_at(self, at: dict) -> dict:
        inputs = self._free_inputs()
        by_name = {v.name: v for v in inputs if v.name}
        resolved = {}
        for key, value in at.items():
            var = by_name.get(key) if isinstance(key, str) else key
            if var is None or not any(var is v for v in inputs):
                raise KeyError(f"GradientView(at=): {key!r} is not an input of the cost; its "
                               f"inputs are {', '.join(str(v) for v in inputs)}")
            resolved[var] = np.asarray(var.type.filter(value, allow_downcast=True))
        missing = [str(v) for v in inputs if v not in resolved]
        if missing:
            raise KeyError(f"GradientView(at=): give a value for {', '.join(missing)} "
                           f"(needed to evaluate the cost and its gradient)")
        return resolved

    @property
    def function(self) -> Any:
        """The gradient compiled (its optimized graph is the one drawn)."""
        if self._function is None:
            from ..compiler.function import function

            self._function = function(self._free_inputs(), self.grads, mode=_helper_mode(),
                                      on_unused_input="ignore")
        return self._function

    def _evaluate(self) -> None:
        """Compute every forward value and every adjoint at ``self.at``."""
        from ..compiler.function import function
        from ..compiler.graph import io_toposort
        from ..compiler.graphrecord import node_id

        inputs = list(self.at)
        forward = [n for n in io_toposort(inputs, [self.cost])]
        adjoints = [(step.node, step.adjoints[0]) for step in self.record.steps
                    if step.adjoints and step.adjoints[0] is not None]
        outs = [n.outputs[0] for n in forward] + [a for _, a in adjoints] + self.grads
        fn = function(inputs, outs, mode=_helper_mode(), on_unused_input="ignore")
        results = fn(*[self.at[v] for v in inputs])
        k = len(forward)
        for node, value in zip(forward, results[:k]):
            self.values[node_id(node)] = {"value": value, "adjoint": None}
        for (node, _), value in zip(adjoints, results[k:k + len(adjoints)]):
            self.values.setdefault(node_id(node), {"value": None})["adjoint"] = value
        for var, value in self.at.items():
            self.values[node_id(var)] = {"value": value, "adjoint": None}
        for var, value in zip(self.wrt, results[k + len(adjoints):]):
            self.values.setdefault(node_id(var.owner or var), {"value": None})
            if var.owner is None:
                self.values[node_id(var)]["adjoint"] = value

    def _check(self) -> None:
        """verify_grad at the ``at=`` point, plus the largest errors of the gradient."""
        from ..compiler.function import function
        from ..compiler.graph import clone
        from ..gradient import GradientError, numeric_grad, verify_grad
        from ..tensor.basic import as_tensor_variable

        checked = [w for w in self.wrt if w.owner is None and w in self.at
                   and self.at[w].dtype.kind == "f"]
        size = sum(self.at[w].size for w in checked)
        if not checked:
            self.verify_skipped = "no floating-point input among wrt to check"
            return
        if size > VERIFY_MAX_ELEMENTS:
            self.verify_skipped = (f"{size} elements: too many to check by finite "
                                   f"differences (limit {VERIFY_MAX_ELEMENTS})")
            return
        fixed = {v: as_tensor_variable(val) for v, val in self.at.items() if v not in checked}

        def fun(*symbolic: Any) -> Any:
            replace = dict(fixed)
            replace.update(zip(checked, symbolic))
            return clone(self.cost, replace=replace, strict=False)

        point = [self.at[w] for w in checked]
        ok, message = True, ""
        try:
            verify_grad(fun, point, n_tests=1, rng=np.random.default_rng(0),
                        mode=_helper_mode())
        except GradientError as exc:
            ok, message = False, f"input {checked[exc.arg]}: worst element {exc.err_pos}"
        syms = [w.type() for w in checked]
        cost_fn = function(syms, fun(*syms), mode=_helper_mode(), on_unused_input="ignore")
        numeric = numeric_grad(cost_fn, point)
        abs_err = rel_err = 0.0
        for w, n in zip(checked, numeric):
            a = np.asarray(self.values[_node_key(w)]["adjoint"], dtype=np.float64)
            diff = np.abs(a - n)
            abs_err = max(abs_err, float(diff.max(initial=0)))
            rel = diff / np.maximum(np.abs(a) + np.abs(n), 1e-300)
            rel_err = max(rel_err, float(rel.max(initial=0)))
        self.verify = GradCheck(ok, abs_err, rel_err, message)

    # -- the sweep -------------------------------------------------------------------------

    def _steps(self) -> list[dict]:
        from ..printing import pp

        steps = []
        for data, step in zip(self.record_data["steps"], self.record.steps):
            adjoints = [a for a in data["adjoints"] if a is not None]
            contributions = [c for c in data["contributions"] if c is not None]
            row = {
                "index": data["index"], "node": data["node"], "op": data["op"],
                "expression": ", ".join(pp(o) for o in step.node.outputs),
                "adjoint": "\n".join(f"{a['name']} = {a['expr']}" for a in adjoints),
                "rule": "\n".join(c["rule"] for c in contributions if c["rule"]),
                "contributions": "\n".join(
                    f"to {pp(step.node.inputs[c['input']])}: {c['expr']}"
                    for c in contributions),
            }
            if self.at is not None:
                entry = self.values.get(data["node"], {})
                row["value"] = entry.get("value")
                row["adjoint_value"] = entry.get("adjoint")
            steps.append(row)
        return steps

    # -- LaTeX -----------------------------------------------------------------------------

    def latex(self, optimized: bool = True) -> tuple[str, Any]:
        r"""``(function, derivative)`` as LaTeX equations: ``f = ...`` and
        ``\frac{\partial f}{\partial x} = ...`` (a list of them when ``wrt`` was a list).
        ``optimized`` prints the derivative from the compiled (simplified) graph, else as
        grad built it."""
        fname = latex_name(self.cost.name) if self.cost.name else "f"
        function = f"{fname} = {to_latex(self.cost)}"
        grads = list(self.function.maker.fgraph.outputs) if optimized else self.grads
        derivatives = []
        for w, g in zip(self.wrt, grads):
            wname = latex_name(w.name) if w.name else to_latex(w)
            derivatives.append(rf"\frac{{\partial {fname}}}{{\partial {wname}}} = {to_latex(g)}")
        return function, derivatives[0] if self._single else derivatives

    # -- HTML pieces -----------------------------------------------------------------------

    def _forward_record(self) -> dict:
        """The forward graph; with ``at=``, labels carry ``data | grad`` like micrograd."""
        record = self.record_data["graph"]
        if self.at is None:
            return record
        nodes = []
        for node in record["nodes"]:
            entry = self.values.get(node["id"])
            if entry is not None:
                label = f"{node['label']} | data {value_text(entry['value'], 30)}"
                if entry.get("adjoint") is not None:  # no adjoint: not on a path to wrt
                    label += f" | grad {value_text(entry['adjoint'], 30)}"
                node = dict(node, label=label)
            nodes.append(node)
        return dict(record, nodes=nodes)

    def graph_html(self, highlight: Sequence[str] = (), links: bool = False) -> str:
        """The forward graph, the nodes in ``highlight`` outlined; ``links`` makes each
        swept node link to its step in the static page."""
        from .draw import graph_html

        targets = {s["node"]: f"#{self._uid}-step-{s['index']}" for s in self.steps} \
            if links else None
        return graph_html(self._forward_record(), links=targets, highlight=highlight,
                          id_prefix=f"{self._uid}-fwd-")

    def gradient_graphs_html(self) -> str:
        """The gradient graph as grad built it and after optimization, side by side."""
        from .draw import as_record, function_record, graph_html

        built = graph_html(as_record(self.grads), id_prefix=f"{self._uid}-raw-")
        optimized = graph_html(function_record(self.function), id_prefix=f"{self._uid}-opt-")
        return H.columns("<h4>as grad built it</h4>" + built,
                         "<h4>after optimization</h4>" + optimized)

    def header_html(self) -> str:
        from ..printing import pp

        function, derivatives = self.latex()
        derivatives = [derivatives] if self._single else derivatives
        lines = [f"<div>$${H.escape(function)}$$</div>"]
        lines += [f"<div>$${H.escape(d)}$$</div>" for d in derivatives]
        optimized = self.function.maker.fgraph.outputs
        text = "\n".join([f"cost = {pp(self.cost)}"]
                         + [f"d cost / d {w} = {pp(g)}" for w, g in zip(self.wrt, optimized)])
        lines.append(H.details("as text", H.pre(text)))
        if self.verify is not None:
            lines.append(self.verify.html())
        elif self.verify_skipped:
            lines.append(H.hint(f"verify_grad skipped: {self.verify_skipped}"))
        return "".join(lines)

    def step_html(self, k: int) -> str:
        """Step ``k`` (1-based) of the sweep: its node, adjoint, local rule, contributions."""
        s = self.steps[k - 1]
        rows = [["node", f"{s['node']}: {s['op']}"], ["computes", s["expression"]],
                ["adjoint received", s["adjoint"]], ["local rule", s["rule"] or "-"],
                ["sent to inputs", s["contributions"] or "-"]]
        if self.at is not None:
            rows += [["value", value_text(s.get("value"))],
                     ["adjoint value", value_text(s.get("adjoint_value"))]]
        # long or multi-line expressions keep their layout in a <pre>
        body = H.table(["", f"step {k}"], [[a, H.pre(b) if "\n" in b or len(b) > 40
                                            else H.escape(b)] for a, b in rows], raw=(1,))
        return (f'<div id="{self._uid}-step-{k}"><b>step {k} of {len(self.steps)}</b>'
                f"{body}</div>")

    def steps_table(self) -> str:
        """Every step of the sweep in one table (the static page's version of the slider)."""
        headers = ["step", "node", "adjoint received", "local rule", "sent to inputs"]
        if self.at is not None:
            headers += ["value", "adjoint value"]
        rows = []
        for s in self.steps:
            anchor = f'<span id="{self._uid}-step-{s["index"]}">{s["index"]}</span>'
            row = [anchor, H.escape(f"{s['node']}: {s['op']}"), H.pre(s["adjoint"]),
                   H.pre(s["rule"] or "-"), H.pre(s["contributions"] or "-")]
            if self.at is not None:
                row += [H.escape(value_text(s.get("value"))),
                        H.escape(value_text(s.get("adjoint_value")))]
            rows.append(row)
        return H.table(headers, rows, raw=range(len(headers)))

    def html(self) -> str:
        """The static view: LaTeX, the check, the forward graph with every step of the
        sweep, and the gradient graphs before and after optimization."""
        sweep = H.columns(self.graph_html(links=True),
                          "<h4>reverse sweep</h4>" + self.steps_table())
        return H.view(self.header_html() + "<h4>forward graph</h4>" + sweep
                      + H.details("gradient graph", self.gradient_graphs_html(), open=True))

    def current_html(self) -> str:
        """What the widget shows for the current step: the step and the highlighted graph."""
        if not self.steps:
            return H.hint("the sweep visited no node")
        node = self.steps[self.current - 1]["node"]
        return H.view(H.columns(self.step_html(self.current), self.graph_html([node])))

    # -- widget ----------------------------------------------------------------------------

    def show(self, k: int) -> None:
        """Show step ``k`` (1-based); moves the widget's slider when there is one."""
        if not 1 <= k <= len(self.steps):
            raise IndexError(f"step {k} out of range 1..{len(self.steps)}")
        self.current = k
        if self._widget is not None:
            self._slider.value = k
            self._step.value = self.current_html()

    @property
    def widget(self) -> Any:
        """The interactive form: LaTeX, a slider (and buttons) over the sweep's steps with
        the step's node lit up on the graph, and the gradient graphs."""
        if self._widget is None:
            import ipywidgets as W

            n = max(len(self.steps), 1)
            self._slider = W.IntSlider(value=max(self.current, 1), min=1, max=n,
                                       description="step", continuous_update=False)
            prev, nxt = W.Button(description="◀ prev"), W.Button(description="next ▶")
            self._step = W.HTML(self.current_html())

            def on_slide(change: dict) -> None:
                if self.steps:
                    self.current = change["new"]
                    self._step.value = self.current_html()

            self._slider.observe(on_slide, names="value")
            prev.on_click(lambda _: setattr(self._slider, "value",
                                            max(self._slider.value - 1, 1)))
            nxt.on_click(lambda _: setattr(self._slider, "value",
                                           min(self._slider.value + 1, n)))
            graphs = W.Accordion(children=[W.HTML(H.view(self.gradient_graphs_html()))])
            graphs.set_title(0, "gradient graph: as built and optimized")
            self._widget = W.VBox([W.HTMLMath(H.view(self.header_html())),
                                   W.HBox([prev, self._slider, nxt]), self._step, graphs])
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        bundle = {"text/plain": self.record.explain(), "text/html": self.html()}
        return add_widget_view(bundle, self, include, exclude)

    def __repr__(self) -> str:
        return f"<GradientView d({self.cost})/d({', '.join(map(str, self.wrt))}): " \
               f"{len(self.steps)} steps>"


def _helper_mode() -> Any:
    """The default mode's rewrites on the Python backend: the graphs this view compiles
    are drawn or evaluated once, so building them as C would only cost time (the
    rewrites, hence the optimized graph drawn, do not depend on the backend)."""
    from ..compiler.mode import get_mode

    return get_mode(None)._copy(linker="py")


def _node_key(var: Any) -> str:
    from ..compiler.graphrecord import node_id

    return node_id(var.owner or var)
