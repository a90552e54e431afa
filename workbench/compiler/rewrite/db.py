"""Node rewriters and the database that holds them, by name and by tag.

A node rewriter looks at one Apply node and either declines (returns ``None`` or ``False``) or
returns replacements for its outputs: a list (one per output, ``None`` to keep one) or a dict
``{old output: new variable}``. It says which ops it tracks, so a pass only asks it about
nodes it can match.

>>> from workbench.compiler.ops.scalar import neg
>>> @node_rewriter([neg])
... def double_negation(fgraph, node):
...     inner = node.inputs[0].owner
...     if inner is not None and tracks_key(inner.op) == tracks_key(node.op):
...         return [inner.inputs[0]]
>>> double_negation.name
'double_negation'
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..graph import Apply, Op


def tracks_key(op_or_class: Any) -> Any:
    """The key a node is indexed under: an Elemwise by its scalar op's name, any other op by
    its class. A tracked item may be an op class, an op instance or a scalar op."""
    from ..ops.elemwise import Elemwise
    from ..ops.scalar import ScalarOp

    if isinstance(op_or_class, ScalarOp):
        return ("elemwise", type(op_or_class).__name__ if type(op_or_class) is not ScalarOp
                else op_or_class.name)
    if isinstance(op_or_class, Elemwise):
        return tracks_key(op_or_class.scalar_op)
    if isinstance(op_or_class, Op):
        return type(op_or_class)
    return op_or_class


def node_keys(node: Apply) -> tuple:
    """Every key a node matches: its own key, and its op's class (and base classes).
    Remembered on the op, which never changes."""
    op = node.op
    keys = op.__dict__.get("_rewrite_keys")
    if keys is None:
        keys = (tracks_key(op),) + type(op).__mro__
        op.__dict__["_rewrite_keys"] = keys
    return keys


class NodeRewriter:
    """A named function ``fn(fgraph, node)`` applied to the nodes whose op it tracks
    (``tracks=None``: every node)."""

    def __init__(self, fn: Callable[[Any, Apply], Any], tracks: Iterable[Any] | None,
                 name: str | None = None):
        self.fn = fn
        self.name = name or fn.__name__
        self.tracks = None if tracks is None else [tracks_key(t) for t in tracks]
        self.__doc__ = fn.__doc__

    def transform(self, fgraph: Any, node: Apply) -> Any:
        return self.fn(fgraph, node)

    def __call__(self, fgraph: Any, node: Apply) -> Any:
        return self.fn(fgraph, node)

    def __repr__(self) -> str:
        return f"NodeRewriter({self.name})"


def node_rewriter(tracks: Iterable[Any] | None, name: str | None = None
                  ) -> Callable[[Callable], NodeRewriter]:
    """Decorate ``fn(fgraph, node)`` into a :class:`NodeRewriter` tracking these ops."""
    def wrap(fn: Callable) -> NodeRewriter:
        return NodeRewriter(fn, tracks, name)

    return wrap


class RewriteDB:
    """Every registered node rewriter, with the tags that select it."""

    def __init__(self) -> None:
        self.rewriters: dict[str, NodeRewriter] = {}
        self.tags: dict[str, set[str]] = {}

    def register(self, rewriter: NodeRewriter, *tags: str, name: str | None = None
                 ) -> NodeRewriter:
        name = name or rewriter.name
        if name in self.rewriters and self.rewriters[name] is not rewriter:
            raise ValueError(f"a rewriter named {name!r} is already registered")
        rewriter.name = name
        self.rewriters[name] = rewriter
        self.tags[name] = set(tags) | {name}
        return rewriter

    def query(self, tag: str, including: Iterable[str] = (), excluding: Iterable[str] = (),
              requiring: Iterable[str] = ()) -> list[NodeRewriter]:
        """The rewriters tagged ``tag``, minus those excluded by tag or name, restricted to
        those with every required tag; ``including`` adds rewriters of the pass's tag that
        are registered off by default (tagged ``"optional"``)."""
        excluding, including, requiring = set(excluding), set(including), set(requiring)
        result = []
        for name, rewriter in self.rewriters.items():
            tags = self.tags[name]
            if tag not in tags or tags & excluding:
                continue
            if "optional" in tags and not (tags - {"optional", tag}) & including:
                continue
            if requiring and not requiring <= tags:
                continue
            result.append(rewriter)
        return result


#: the one database every rewrite module registers into
REWRITES = RewriteDB()


def register(*tags: str, name: str | None = None) -> Callable[[NodeRewriter], NodeRewriter]:
    """Register a node rewriter under these tags (the tag of its pass first).

    >>> from workbench.compiler.ops.scalar import neg
    >>> db = RewriteDB()
    >>> rw = db.register(NodeRewriter(lambda fg, node: None, [neg], 'noop'), 'canonicalize')
    >>> [r.name for r in db.query('canonicalize')]
    ['noop']
    """
    def wrap(rewriter: NodeRewriter) -> NodeRewriter:
        return REWRITES.register(rewriter, *tags, name=name)

    return wrap
