"""``%load_ext workbench`` and the ``%%compile`` cell magic.

In a notebook::

    %load_ext workbench

    %%compile f --show passes
    x = T.dvector('x')
    y = T.dvector('y')
    (x * y).sum()

runs the cell like any other, compiles its last expression as a function of the free
symbolic variables it depends on (in the order the cell created them), binds it to ``f``
and shows a summary: signature, node count before and after the rewrites, compile time,
backend and compile-cache hit. A cell that fails (a Python error, a type error while
building the graph, a compile error) binds nothing and says which line of the cell failed.

The work is done by :func:`compile_cell`, which needs no IPython; the magic class is built
only when the extension is loaded, so importing this module never imports IPython.
"""
from __future__ import annotations

import ast
import hashlib
import html
import linecache
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .compiler.function import Function, function
from .compiler.graph import Constant, Variable, graph_inputs
from .compiler.mode import Mode, get_mode
from .compiler.shared import SharedVariable

#: ``--backend`` names and the Mode linker each one selects
BACKENDS = {"c": "c", "python": "py", "cuda": "cuda"}
#: what ``--show`` can add below the summary
SHOW_CHOICES = ("passes", "graph", "code", "grad", "profile")


class CellError(Exception):
    """A ``%%compile`` cell failed: ``kind`` (the error's type), ``line`` (1-based, counted
    from the ``%%compile`` line as the notebook editor numbers it) and the line's text.

    IPython shows it through ``_render_traceback_``: the reason and the cell line, not the
    frames of the compiler.
    """

    def __init__(self, kind: str, message: str, line: int | None = None,
                 line_text: str | None = None, name: str | None = None,
                 bound_before: bool = False):
        self.kind = kind
        self.reason = message
        self.line = line
        self.line_text = line_text
        self.name = name
        self.bound_before = bound_before
        super().__init__("\n".join(self._lines(color=False)))

    def _lines(self, color: bool) -> list[str]:
        red, bold, off = ("\x1b[1;31m", "\x1b[1m", "\x1b[0m") if color else ("", "", "")
        where = f" at cell line {self.line}" if self.line is not None else ""
        lines = [f"{red}%%compile: {self.kind}{where}{off}"]
        if self.line is not None and self.line_text:
            lines.append(f"{bold}{self.line:>5} | {self.line_text}{off}")
        lines.extend(self.reason.splitlines() or [""])
        if self.name:
            lines.append(f"{self.name} keeps its earlier value" if self.bound_before
                         else f"{self.name} was not bound")
        return lines

    def _render_traceback_(self) -> list[str]:
        return self._lines(color=True)


@dataclass
class CompiledCell:
    """What :func:`compile_cell` made: the function and the graph it came from."""

    name: str
    function: Function
    inputs: list[Variable]
    outputs: list[Variable]
    backend: str
    compile_seconds: float
    nodes_before: int | None
    nodes_after: int
    cache_hit: bool | None = None

    def signature(self) -> str:
        """``f(x: float64 vector, y: float64 vector) -> float64 scalar``."""
        args = ", ".join(f"{_var_name(v)}: {_type_text(v)}" for v in self.inputs)
        outs = ", ".join(_type_text(v) for v in self.outputs)
        if len(self.outputs) != 1:
            outs = f"[{outs}]"
        return f"{self.name}({args}) -> {outs}"

    def _facts(self) -> list[tuple[str, str]]:
        before = "?" if self.nodes_before is None else str(self.nodes_before)
        cache = "n/a" if self.cache_hit is None else ("hit" if self.cache_hit else "miss")
        return [("nodes", f"{before} \u2192 {self.nodes_after}"),
                ("compile", f"{self.compile_seconds * 1e3:.1f} ms"),
                ("backend", self.backend), ("cache", cache)]

    def summary_text(self) -> str:
        facts = " \u00b7 ".join(f"{k} {v}" for k, v in self._facts())
        return f"{self.signature()}\n{facts}"

    def summary_html(self) -> str:
        facts = "".join(f"<span style='margin-right:1.2em'><b>{k}</b> {html.escape(v)}</span>"
                        for k, v in self._facts())
        return ("<div class='workbench-compile' style='font-family:monospace;padding:4px 8px;"
                "border-left:3px solid #4a7;background:#f6fbf7'>"
                f"<div><b>{html.escape(self.signature())}</b></div><div>{facts}</div>"
                "</div>")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        return {"text/plain": self.summary_text(), "text/html": self.summary_html()}

    def __repr__(self) -> str:
        return self.summary_text()


def compile_cell(name: str, cell: str, namespace: dict, *, inputs: Sequence[str] | None = None,
                 backend: str | None = None, mode: str | Mode | None = None,
                 updates: str | None = None, first_line: int = 1,
                 filename: str | None = None,
                 transform: Callable[[str], str] | None = None) -> CompiledCell:
    """Run ``cell`` in ``namespace``, compile its last expression, bind it to ``name``.

    ``inputs`` names the inputs (default: the free variables the outputs depend on, in
    creation order); ``updates`` names a dict or list of pairs in the namespace;
    ``backend`` is one of :data:`BACKENDS`; ``first_line`` is the line number of the
    cell's first line in what the user sees (2 below a ``%%compile`` line). On any failure
    raises :class:`CellError` and leaves ``namespace[name]`` as it was.

    >>> ns = {}
    >>> exec("from workbench import tensor as T", ns)
    >>> made = compile_cell("f", "x = T.dvector('x')\\ny = T.dvector('y')\\n(x * y).sum()", ns)
    >>> made.signature()
    'f(x: float64 vector, y: float64 vector) -> float64 scalar'
    >>> float(ns["f"]([1, 2], [3, 4]))
    11.0
    """
    if not name.isidentifier():
        raise CellError("UsageError", f"{name!r} is not a valid Python name to bind")
    chosen = _mode(mode, backend)  # a bad option stops the cell before it runs
    guard = _Guard(name, namespace, filename or _cache_cell(cell, first_line))
    lines = cell.splitlines(True)
    blank = 0
    while blank < len(lines) and not lines[blank].strip():
        blank += 1  # IPython's transforms drop leading blank lines: keep the numbering
    body = "".join(lines[blank:])
    if transform is not None:
        body = transform(body)
    source = "\n" * (first_line - 1 + blank) + body

    try:
        tree = ast.parse(source, guard.filename, "exec")
    except SyntaxError as exc:
        raise guard.error("SyntaxError", exc.msg, exc.lineno) from None
    if not tree.body:
        raise guard.error("EmptyCell", "the cell is empty: end it with the expression to "
                          "compile, e.g. (x * y).sum()")
    last = tree.body[-1]
    if not isinstance(last, ast.Expr):
        raise guard.error("NoOutput", "the cell's last statement must be an expression: the "
                          "output(s) to compile (a tuple or list gives several)", last.lineno)

    value = guard.run(tree, last)
    outputs = guard.outputs(value, last.lineno)
    update_pairs = guard.lookup(updates, "--updates") if updates else None
    if inputs is not None:
        in_vars = [guard.lookup(n, "--inputs") for n in inputs]
        for n, v in zip(inputs, in_vars):
            if not isinstance(v, Variable):
                raise guard.error("TypeError", f"--inputs: {n} is a {type(v).__name__}, "
                                  "not a symbolic variable", None)
    else:
        in_vars = free_inputs(outputs + _update_values(update_pairs))

    try:
        fn = function(in_vars, outputs if isinstance(value, (list, tuple)) else outputs[0],
                      updates=update_pairs, mode=chosen, name=name)
    except Exception as exc:  # any compile failure: report it at the cell's line
        raise guard.compile_error(exc, last.lineno) from exc

    from .viz.mime import backend_name

    namespace[name] = fn
    trace = fn.trace
    before = len(trace.initial) if trace is not None and trace.initial is not None else None
    return CompiledCell(name, fn, in_vars, outputs, backend_name(fn),
                        fn.maker.compile_time, before,
                        len(fn.maker.fgraph), getattr(fn, "cache_hit", None))


def free_inputs(outputs: Sequence[Variable]) -> list[Variable]:
    """The symbolic variables ``outputs`` depend on that are neither shared nor constant,
    in the order they were created.

    >>> from workbench import tensor as T
    >>> b, a = T.dscalar('b'), T.dscalar('a')
    >>> [v.name for v in free_inputs([a * 2 + b])]
    ['b', 'a']
    """
    found = {id(v): v for v in graph_inputs(outputs)
             if not isinstance(v, (Constant, SharedVariable))}
    return sorted(found.values(), key=lambda v: v.id)


def _update_values(pairs: Any) -> list[Variable]:
    items = pairs.items() if isinstance(pairs, dict) else (pairs or [])
    try:
        return [v for _, v in items if isinstance(v, Variable)]
    except (TypeError, ValueError):
        return []  # malformed: function() says what is wrong with it


def _mode(mode: str | Mode | None, backend: str | None) -> Mode:
    try:
        base = get_mode(mode)
    except ValueError as exc:
        raise CellError("UsageError", f"--mode: {exc}") from None
    if backend is None:
        return base
    if backend not in BACKENDS:
        raise CellError("UsageError", f"--backend must be one of {', '.join(BACKENDS)}; "
                        f"got {backend!r}")
    return Mode(BACKENDS[backend], base.optimizer, including=base.include_tags,
                excluding=base.exclude_tags, requiring=base.require_tags,
                check_outputs=base.check_outputs, name=base.name)


class _Guard:
    """Runs the cell's parts and turns each failure into a CellError at the cell's line."""

    def __init__(self, name: str, namespace: dict, filename: str):
        self.name = name
        self.namespace = namespace
        self.filename = filename
        self.bound_before = name in namespace

    def error(self, kind: str, message: str, line: int | None = None) -> CellError:
        text = linecache.getline(self.filename, line).rstrip() if line else None
        return CellError(kind, message, line, text, self.name, self.bound_before)

    def run(self, tree: ast.Module, last: ast.Expr) -> Any:
        ns = self.namespace
        try:
            exec(compile(ast.Module(tree.body[:-1], []), self.filename, "exec"), ns)
            return eval(compile(ast.Expression(last.value), self.filename, "eval"), ns)
        except Exception as exc:
            raise self.error(type(exc).__name__, str(exc), self._cell_line(exc)) from exc

    def _cell_line(self, exc: BaseException) -> int | None:
        """The innermost traceback line inside the cell (the user's line, not ours)."""
        line, tb = None, exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                line = tb.tb_lineno
            tb = tb.tb_next
        return line

    def outputs(self, value: Any, line: int) -> list[Variable]:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        bad = [v for v in items if not isinstance(v, Variable)]
        if not items or bad:
            what = type(bad[0]).__name__ if bad else "an empty " + type(value).__name__
            raise self.error("NoOutput", f"the last expression gave {what}, not a symbolic "
                             "expression: end the cell with the output(s) to compile", line)
        return items

    def lookup(self, name: str, option: str) -> Any:
        try:
            return self.namespace[name]
        except KeyError:
            raise self.error("NameError", f"{option}: no variable named {name!r} in the "
                             "namespace") from None

    def compile_error(self, exc: Exception, output_line: int) -> CellError:
        # compile errors name the user's source lines as File "<cell>", line N: say
        # "cell line N" instead, and point at the first such line (else the output line)
        pattern = re.compile(r'File "' + re.escape(self.filename) + r'", line (\d+)'
                             r'(?:, in [\w<>]+)?')
        lines = [int(m) for m in pattern.findall(str(exc))]
        message = pattern.sub(lambda m: f"cell line {m.group(1)}", str(exc))
        return self.error(f"compile error ({type(exc).__name__})", message,
                          lines[0] if lines else output_line)


def _cache_cell(cell: str, first_line: int) -> str:
    """A file name for the cell, registered with linecache so source lines resolve."""
    text = "\n" * (first_line - 1) + cell
    name = f"<compile-cell-{hashlib.sha1(text.encode()).hexdigest()[:12]}>"
    linecache.cache[name] = (len(text), None, [ln + "\n" for ln in text.splitlines()], name)
    return name


def _var_name(var: Variable) -> str:
    return var.name if var.name is not None else f"<{var.type}>"


def _type_text(var: Variable) -> str:
    t = var.type
    dtype, ndim = getattr(t, "dtype", None), getattr(t, "ndim", None)
    if dtype is None or ndim is None:
        return str(t)
    kinds = {0: "scalar", 1: "vector", 2: "matrix"}
    return f"{dtype} {kinds.get(ndim, f'tensor{ndim}')}"


# ---------------------------------------------------------------------------------------
# --show: the views below the summary


class Note:
    """A one-paragraph message shown in place of a view that cannot be drawn."""

    def __init__(self, text: str):
        self.text = text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        return {"text/plain": self.text,
                "text/html": f"<div style='font-family:monospace;color:#a60'>"
                             f"{html.escape(self.text)}</div>"}

    def __repr__(self) -> str:
        return self.text


def show_views(made: CompiledCell, what: Sequence[str],
               display: Callable[[Any], Any] = print) -> None:
    """Display the views ``--show`` asked for, in order. A view that fails is replaced by a
    one-line :class:`Note` and, once the others are shown, its error is raised: it is a bug
    in the view, not in the cell, so the function stays bound."""
    failures = []
    for item in what:
        try:
            view = _view(made, item)
        except Exception as exc:
            failures.append(exc)
            view = Note(f"--show {item} failed: {type(exc).__name__}: {exc}")
        display(view)
    if failures:
        raise failures[0]


def _view(made: CompiledCell, item: str) -> Any:
    from . import viz

    f = made.function
    if item == "passes":
        return viz.PassExplorer(f)
    if item == "graph":
        return viz.draw(f)
    if item == "code":
        return viz.CodeView(f)
    if item == "grad":
        out = made.outputs[0] if len(made.outputs) == 1 else None
        if out is None or getattr(out.type, "ndim", None) != 0:
            got = (f"{len(made.outputs)} outputs" if out is None
                   else f"a {_type_text(out)} output")
            return Note(f"--show grad: the gradient view needs one scalar output; this cell "
                        f"has {got} (reduce it, e.g. with .sum())")
        if not made.inputs:
            return Note("--show grad: the output has no symbolic inputs to differentiate by")
        return viz.GradientView(out, made.inputs)
    if item == "profile":
        args = ", ".join(f"{_var_name(v)}_value" for v in made.inputs)
        return Note(f"--show profile: profiling needs input values; run "
                    f"`from workbench.viz import ProfileView; ProfileView({made.name}"
                    f"{', ' if args else ''}{args}, n=10)` in the next cell")
    raise ValueError(f"unknown view {item!r}")


def parse_show(text: str | None) -> list[str]:
    """``'passes, graph'`` -> ``['passes', 'graph']``, checking each name.

    >>> parse_show('passes,graph')
    ['passes', 'graph']
    """
    items = [s.strip() for s in (text or "").split(",") if s.strip()]
    unknown = [s for s in items if s not in SHOW_CHOICES]
    if unknown:
        raise CellError("UsageError", f"--show: unknown view(s) {', '.join(unknown)}; "
                        f"choose from {', '.join(SHOW_CHOICES)}")
    return items


# ---------------------------------------------------------------------------------------
# the IPython side


def _magics_class() -> type:
    """The Magics subclass, built on demand so that importing this module needs no IPython."""
    from IPython.core import magic_arguments as ma
    from IPython.core.error import UsageError
    from IPython.core.magic import Magics, cell_magic, magics_class
    from IPython.display import display

    @magics_class
    class CompileMagics(Magics):
        @ma.magic_arguments()
        @ma.argument("name", help="the name the compiled function is bound to")
        @ma.argument("--inputs", default=None,
                     help="comma-separated input names, in order (default: the free "
                          "variables the output depends on, in creation order)")
        @ma.argument("--backend", choices=sorted(BACKENDS), default=None,
                     help="c, python or cuda (default: the mode's own)")
        @ma.argument("--mode", default=None, help="a predefined mode: FAST_RUN, "
                     "FAST_COMPILE, DebugMode, ...")
        @ma.argument("--updates", default=None,
                     help="the name of a dict or list of (shared, new value) pairs")
        @ma.argument("--show", default=None,
                     help=f"comma-separated views to add: {', '.join(SHOW_CHOICES)}")
        @cell_magic("compile")
        def compile_magic(self, line: str, cell: str) -> None:
            """Run the cell, compile its last expression and bind the function to NAME.

            The inputs are the free symbolic variables the output depends on, in the order
            the cell created them, unless --inputs names them. A tuple or list as the last
            expression gives several outputs.
            """
            args = ma.parse_argstring(self.compile_magic, line)
            try:
                show = parse_show(args.show)
            except CellError as exc:
                raise UsageError(exc.reason) from None
            shell = self.shell
            filename = shell.compile.cache("%%compile " + line + "\n" + cell,
                                           shell.execution_count)
            inputs = ([s.strip() for s in args.inputs.split(",") if s.strip()]
                      if args.inputs is not None else None)
            made = compile_cell(args.name, cell, shell.user_ns, inputs=inputs,
                                backend=args.backend, mode=args.mode, updates=args.updates,
                                first_line=2, filename=filename,
                                transform=shell.transform_cell)
            display(made)
            show_views(made, show, display)

    return CompileMagics


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext workbench``: register the ``%%compile`` cell magic."""
    ipython.register_magics(_magics_class())
