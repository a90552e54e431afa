"""C for indexing: Subtensor (a view), IncSubtensor (set/inc of a basic index), and the
integer-array forms AdvancedSubtensor(1) / AdvancedIncSubtensor(1).

Where each result dimension comes from is the op module's own ``_layout`` (NumPy's rules:
slices and new axes keep their place, integer arrays broadcast together and their dimensions
go where the advanced indices stand, or first when something separates them), so the C and
the ``perform`` cannot disagree about it. At run time a block normalises the slices as
Python does, checks every integer against its axis (NumPy's IndexError message), and then:

- basic indexing makes a view (``wb_view``); set/inc copies ``x`` (unless in place) and
  copies or adds ``y``, broadcast, into the view of the copy;
- advanced indexing splits the result into P + B + Q: the basic dimensions before the
  advanced ones, the broadcast shape of the index arrays, the basic dimensions after. One
  pass over B computes each position's byte offset in ``x`` (checking bounds); the gather or
  scatter then walks P, B and copies (or adds) a Q block per position. Repeated indices add
  up for inc and the last one wins for set, as the sequential loop makes them (NumPy's
  ``add.at`` and assignment do the same).

Boolean masks run through ``perform``.
"""
from __future__ import annotations

import numpy as np

from ...graph import Variable
from ...ops.subtensor import (INPUT, AdvancedIncSubtensor, AdvancedIncSubtensor1,
                              AdvancedSubtensor, AdvancedSubtensor1, IncSubtensor, Subtensor,
                              _layout)
from ..cstyle import ctype
from .emit_shape import SUPPORT, copyable, inc_kernel, int_at, int_scalar, typenum
from .registry import emits

_OOB = "index %ld is out of bounds for axis {axis} with size %ld"
#: unsigned integer C types by item size: byte copies of one element
_UINT = {1: "npy_uint8", 2: "npy_uint16", 4: "npy_uint32", 8: "npy_uint64"}


def _element_copy(itemsize: int, dst: str, src: str) -> str:
    t = _UINT.get(itemsize)
    if t is None:
        return f"memcpy({dst}, {src}, {itemsize});"
    return f"*({t} *)({dst}) = *(const {t} *)({src});"


class _Walk:
    """C walking an index over one array: after ``lines``, ``base`` points at the first
    element the index selects; ``dims`` holds per result dimension the names of its length
    and byte stride in the array, or ``'adv'`` where the advanced dimensions go; ``arrays``
    the integer array indices as ``(axis, input position)``."""

    def __init__(self, cn, idx_list: tuple, index_vars: list, first: int, arr: str,
                 advanced: bool):
        ndim = cn.node.inputs[0].ndim
        layout, adv = _layout(idx_list, ndim, index_vars, advanced, "")
        self.ok = all(kind != "mask" for kind, _, _ in adv)
        self.cn = cn
        self.pos = {id(v): first + k for k, v in enumerate(index_vars)}
        self.lines = [f"char *base = PyArray_BYTES({arr});",
                      f"const npy_intp *ad = PyArray_DIMS({arr}), *as = PyArray_STRIDES({arr});",
                      "(void)ad; (void)as;"]
        self.dims: list = []
        self.arrays: list[tuple[int, int]] = []
        if not self.ok:
            return
        for j, d in enumerate(layout):
            if d[0] == "new":
                self.lines.append(f"const npy_intp n{j} = 1, s{j} = 0;")
                self.dims.append((f"n{j}", f"s{j}"))
            elif d[0] == "x":
                self._slice(j, d[1], d[2])
                self.dims.append((f"n{j}", f"s{j}"))
            else:
                self.dims.append("adv")
        for kind, axis, what in adv:
            if kind == "int":
                self._integer(axis, what)
            else:
                self.arrays.append((axis, self.pos[id(what)]))

    def part(self, p) -> str | None:
        if p is None:
            return None
        if isinstance(p, Variable):
            return int_scalar(self.cn, self.pos[id(p)])
        return str(int(p))

    def _slice(self, j: int, axis: int, parts: tuple) -> None:
        if all(p is None for p in parts):
            self.lines.append(f"const npy_intp n{j} = ad[{axis}], s{j} = as[{axis}];")
            return
        start, stop, step = (self.part(p) for p in parts)
        self.lines.append(f"npy_intp f{j}, n{j}; const npy_intp st{j} = {step or 1};")
        if isinstance(parts[2], Variable):
            self.lines.append(f"if (st{j} == 0) " + self.cn.fail("slice step cannot be zero"))
        self.lines.append(
            f"wb_slice(ad[{axis}], {int(start is not None)}, {start or 0}, "
            f"{int(stop is not None)}, {stop or 0}, st{j}, &f{j}, &n{j});")
        self.lines.append(f"const npy_intp s{j} = st{j} * as[{axis}]; base += f{j} * as[{axis}];")

    def _integer(self, axis: int, what) -> None:
        value = self.part(what)
        self.lines.append(
            f"{{ const npy_intp v = {value}, w = v < 0 ? v + ad[{axis}] : v;\n"
            f"  if (w < 0 || w >= ad[{axis}]) "
            + self.cn.fail(_OOB.format(axis=axis), "(long)v", f"(long)ad[{axis}]",
                           exc="PyExc_IndexError")
            + f"\n  base += w * as[{axis}]; }}")

    def split(self) -> tuple[list, list]:
        """The basic dimensions before and after the advanced ones (all of them in P when
        there are none)."""
        if "adv" not in self.dims:
            return list(self.dims), []
        k = self.dims.index("adv")
        return self.dims[:k], self.dims[k + 1:]


def _index_parts(cn) -> tuple[tuple, list, int] | None:
    """(idx_list, index inputs, position of the first) of an indexing node."""
    node, op = cn.node, cn.node.op
    if isinstance(op, AdvancedSubtensor1):
        return (INPUT,), [node.inputs[1]], 1
    if isinstance(op, AdvancedIncSubtensor1):
        return (INPUT,), [node.inputs[2]], 2
    first = 2 if isinstance(op, (IncSubtensor, AdvancedIncSubtensor)) else 1
    return op.idx_list, list(node.inputs[first:]), first


# ---------------------------------------------------------------------------------------
# Basic indexing


@emits(Subtensor)
def subtensor(cn) -> str | None:
    cn.support(SUPPORT)
    idx_list, index_vars, first = _index_parts(cn)
    walk = _Walk(cn, idx_list, index_vars, first, "i0", advanced=False)
    nd = len(walk.dims)
    n = max(nd, 1)
    dims = ", ".join(d for d, _ in walk.dims) or "0"
    strides = ", ".join(s for _, s in walk.dims) or "0"
    return "\n".join(walk.lines + [
        f"npy_intp dims[{n}] = {{{dims}}}, strides[{n}] = {{{strides}}};",
        f"if (wb_view(o0, i0, {nd}, dims, strides, base)) goto wb_fail;"])


def _copy_of_x(cn, dtype: str) -> list[str]:
    """C making ``out``: x itself when the op works in place, else a fresh copy of x."""
    nd = cn.node.inputs[0].ndim
    if cn.node.op.inplace:
        return ["wb_set(o0, (PyObject *)i0);", "PyArrayObject *out = (PyArrayObject *)*o0;"]
    return [f"if (wb_prepare(o0, {nd}, PyArray_DIMS(i0), {typenum(dtype)})) goto wb_fail;",
            "PyArrayObject *out = (PyArrayObject *)*o0;",
            f"wb_copy_nd({nd}, PyArray_DIMS(i0), PyArray_BYTES(out), PyArray_STRIDES(out), "
            f"PyArray_BYTES(i0), PyArray_STRIDES(i0), {np.dtype(dtype).itemsize});"]


def _value_strides(cn, nr: int, rdims: list[str], set_message: str, inc_message: str,
                   style_args: str) -> list[str]:
    """C checking that y (input 1) broadcasts to the ``nr`` dims ``rdims`` and giving its
    strides ``ys`` over them (0 where it broadcasts); ``y`` is y, copied first when it
    overlaps x being updated in place."""
    ny = cn.node.inputs[1].ndim
    lead = nr - ny
    message = set_message if cn.node.op.set_instead_of_inc else inc_message
    lines = [f"npy_intp rd[{max(nr, 1)}] = {{{', '.join(rdims) or '0'}}}, ys[{max(nr, 1)}];",
             f"for (int r = 0; r < {nr}; r++) {{",
             f"    if (r < {lead}) {{ ys[r] = 0; continue; }}",
             f"    const npy_intp m = PyArray_DIMS(i1)[r - {lead}];",
             f"    if (m != 1 && m != rd[r]) {{ char a[256], b[256]; "
             f"wb_ints_text(a, 256, {nr}, rd, 2); wb_ints_text(b, 256, {ny}, PyArray_DIMS(i1), 2); "
             + cn.fail(message, *style_args.split()) + " }",
             f"    ys[r] = m == 1 ? 0 : PyArray_STRIDES(i1)[r - {lead}];",
             "}",
             "PyArrayObject *y = i1, *y_copy = NULL;"]
    if cn.node.op.inplace:
        lines += ["if (wb_may_overlap(i1, out)) {",
                  "    y_copy = (PyArrayObject *)PyArray_NewCopy(i1, NPY_CORDER);",
                  "    if (y_copy == NULL) goto wb_fail;",
                  "    y = y_copy; for (int r = 0; r < %d; r++) if (ys[r]) ys[r] = "
                  "PyArray_STRIDES(y)[r - %d];" % (nr, lead),
                  "}"]
    return lines


def _inc_start(cn, advanced: bool) -> tuple | None:
    """The start of the set/inc emitters: ``(op, dtype, kernel, code, walk)``, with
    ``kernel`` the C adding y into x (None to set), ``code`` the C copying x into the output
    (unless in place) and ``walk`` the index walked over the output; None where the C code
    cannot do the op (a dtype it cannot copy or add)."""
    op = cn.node.op
    dtype = cn.out_dtype()
    if not copyable(dtype):
        return None
    kernel = None if op.set_instead_of_inc else inc_kernel(cn, dtype)
    if not op.set_instead_of_inc and kernel is None:
        return None
    cn.support(SUPPORT)
    idx_list, index_vars, first = _index_parts(cn)
    code = _copy_of_x(cn, dtype)
    walk = _Walk(cn, idx_list, index_vars, first, "out", advanced=advanced)
    return op, dtype, kernel, code, walk


@emits(IncSubtensor)
def inc_subtensor(cn) -> str | None:
    """x copied (unless in place), then y copied or added into the view of the index."""
    start = _inc_start(cn, advanced=False)
    if start is None:
        return None
    op, dtype, kernel, code, walk = start
    code += walk.lines
    nr = len(walk.dims)
    code += _value_strides(
        cn, nr, [d for d, _ in walk.dims],
        "could not broadcast input array from shape %s into shape %s",
        "operands could not be broadcast together with shapes %s %s %s ",
        "b a" if op.set_instead_of_inc else "a b a")
    strides = ", ".join(s for _, s in walk.dims) or "0"
    code.append(f"const npy_intp rs[{max(nr, 1)}] = {{{strides}}};")
    if op.set_instead_of_inc:
        code.append(f"wb_copy_nd({nr}, rd, base, rs, PyArray_BYTES(y), ys, "
                    f"{np.dtype(dtype).itemsize});")
    else:
        code.append(f"{kernel}({nr}, rd, base, rs, PyArray_BYTES(y), ys);")
    code.append("Py_XDECREF(y_copy);")
    return "\n".join(code)


# ---------------------------------------------------------------------------------------
# Advanced (integer array) indexing


def _b_offsets(cn, walk: _Walk, nb: int, with_y: bool, y_first: int, cleanup: str = "",
               per_b: str | None = None) -> tuple[list[str], list[str], str]:
    """C for the B part of an advanced index, in two pieces: the first gives ``bd`` (the
    index arrays' broadcast shape) and ``NB`` its size; the second walks B, checking each
    index against its axis, and gives per position ``aoff[b]`` (the byte offset in the
    indexed array) and, ``with_y``, ``yoff[b]`` (in y, whose strides over B start at
    ``ys[y_first]``) -- or, given ``per_b``, runs that code there with the offsets in
    ``off`` and ``yo`` instead of storing them. Also returns the C releasing what the walk
    allocated (and ``cleanup``), for every way out after it."""
    arrays = walk.arrays
    shape = [f"npy_intp bd[{max(nb, 1)}];", f"for (int d = 0; d < {nb}; d++) bd[d] = 1;"]
    texts = " ".join(
        f"wb_ints_text(t + strlen(t), 1024 - strlen(t), PyArray_NDIM(i{p}), PyArray_DIMS(i{p}), 2);"
        f" strcat(t, \" \");" for _, p in arrays)
    mismatch = ("{ char t[1024]; t[0] = 0; " + texts + " "
                + cn.fail("shape mismatch: indexing arrays could not be broadcast together "
                          "with shapes %s", "t", exc="PyExc_IndexError") + " }")
    for _, p in arrays:
        k = cn.node.inputs[p].ndim
        shape.append(f"for (int d = 0; d < {k}; d++) {{ const npy_intp s = PyArray_DIMS(i{p})[d];"
                     f" npy_intp *b = &bd[{nb - k} + d];"
                     f" if (s != *b) {{ if (*b == 1) *b = s; else if (s != 1) {mismatch} }} }}")
    shape.append(f"npy_intp NB = 1; for (int d = 0; d < {nb}; d++) NB *= bd[d];")
    walk_lines = []
    free = cleanup
    stored = ["aoff"] + (["yoff"] if with_y else []) if per_b is None else []
    for name in stored:
        walk_lines.append(f"npy_intp {name}_buf[256], *{name} = NB <= 256 ? {name}_buf : "
                          f"(npy_intp *)malloc(NB * sizeof(npy_intp));")
        free += f" if ({name} != {name}_buf) free({name});"
    if stored:
        missing = " || ".join(f"{name} == NULL" for name in stored)
        walk_lines.append(f"if ({missing}) {{ {free} PyErr_NoMemory(); goto wb_fail; }}")
    # per index array: its pointer and its strides over B (0 where it broadcasts)
    for k, (axis, p) in enumerate(arrays):
        nd = cn.node.inputs[p].ndim
        walk_lines.append(f"const char *p{k} = PyArray_BYTES(i{p}); npy_intp k{k}[{max(nb, 1)}];")
        walk_lines.append(f"for (int d = 0; d < {nb}; d++) {{ const int e = d - {nb - nd}; "
                          f"k{k}[d] = e < 0 || PyArray_DIMS(i{p})[e] == 1 ? 0 : "
                          f"PyArray_STRIDES(i{p})[e]; }}")
    walk_lines.append("int bad = 0, bad_axis = 0; "
                      "npy_intp bad_v = 0, bad_n = 0, bi[%d] = {0}, yo = 0;" % max(nb, 1))
    walk_lines.append("(void)bi; (void)yo;")
    body = ["npy_intp off = 0;"]
    for k, (axis, p) in enumerate(arrays):
        body.append(
            f"{{ const npy_intp v = {int_at(cn.in_dtype(p), f'p{k}')}, "
            f"w = v < 0 ? v + ad[{axis}] : v;\n"
            f"  if (w < 0 || w >= ad[{axis}]) {{ bad = 1; bad_v = v; bad_axis = {axis}; "
            f"bad_n = ad[{axis}]; break; }}\n"
            f"  off += w * as[{axis}]; }}")
    if per_b is None:
        body.append("aoff[b] = off;" + (" yoff[b] = yo;" if with_y else ""))
    else:
        body.append(per_b)
    step = "".join(f" p{k} += k{k}[d];" for k in range(len(arrays)))
    back = "".join(f" p{k} -= k{k}[d] * bd[d];" for k in range(len(arrays)))
    ystep = f" yo += ys[{y_first} + d];" if with_y else ""
    yback = f" yo -= ys[{y_first} + d] * bd[d];" if with_y else ""
    body.append(f"for (int d = {nb - 1}; d >= 0; d--) {{ bi[d]++;{step}{ystep} "
                f"if (bi[d] < bd[d]) break;{back}{yback} bi[d] = 0; }}")
    walk_lines.append("for (npy_intp b = 0; b < NB; b++) {\n"
                      + "\n".join("    " + line.replace("\n", "\n    ") for line in body)
                      + "\n}")
    walk_lines.append(f"if (bad) {{ {free} "
                      + cn.fail("index %ld is out of bounds for axis %d with size %ld",
                                "(long)bad_v", "bad_axis", "(long)bad_n",
                                exc="PyExc_IndexError") + " }")
    return shape, walk_lines, free


def _row_loop(n: str, dst: tuple[str, str], src: tuple[str, str], element: str,
              itemsize: int) -> str:
    """A loop over ``n`` elements: ``pd`` walks from ``dst = (start, byte stride)`` and ``ps``
    from ``src``, and ``element`` runs on each pair. Contiguous rows and a broadcast source
    get copies of the loop with constant strides, which the compiler vectorises."""
    def loop(dst_stride: str, src_stride: str, simd: bool = True) -> str:
        return (("\n#pragma omp simd\n" if simd else "")
                + f"for (npy_intp k = 0; k < {n}; k++) {{ char *pd = {dst[0]} + k * {dst_stride}; "
                f"const char *ps = {src[0]} + k * {src_stride}; {element} }}")

    return (f"if ({dst[1]} == {itemsize} && {src[1]} == {itemsize}) {{ "
            f"{loop(str(itemsize), str(itemsize))}\n}}\n"
            f"else if ({dst[1]} == {itemsize} && {src[1]} == 0) {{ {loop(str(itemsize), '0')}\n}}\n"
            f"else {{ {loop(dst[1], src[1], False)} }}")


def _b_ndim(cn, walk: _Walk) -> int:
    """The number of dimensions of B: the most any index array has (integers have none)."""
    return max([cn.node.inputs[p].ndim for _, p in walk.arrays], default=0)


def _nest(dims: list[tuple[str, str]], pointers: list[tuple[str, str, list[str]]],
          body: str) -> str:
    """Loops over the P dimensions ``dims`` (length names), moving each pointer ``(name,
    start, strides)``; ``body`` sees each pointer under its name."""
    lines, depth = [], 0
    current = {name: start for name, start, _ in pointers}
    for j, (n, _) in enumerate(dims):
        pad = "    " * depth
        lines.append(f"{pad}for (npy_intp q{j} = 0; q{j} < {n}; q{j}++) {{")
        for name, _, strides in pointers:
            lines.append(f"{pad}    char *{name}{j} = {current[name]} + q{j} * {strides[j]};")
            current[name] = f"{name}{j}"
        depth += 1
    pad = "    " * depth
    lines.append(pad + "{ " + " ".join(f"char *{name} = {current[name]};"
                                         for name, _, _ in pointers))
    lines += [pad + "    " + line for line in body.splitlines()]
    lines.append(pad + "}")
    for j in range(len(dims) - 1, -1, -1):
        lines.append("    " * j + "}")
    return "\n".join(lines)


@emits(AdvancedSubtensor, AdvancedSubtensor1)
def advanced_subtensor(cn) -> str | None:
    """Gather: output = P + B + Q, one Q block copied per (P, B) position."""
    dtype = cn.out_dtype()
    if not copyable(dtype):
        return None
    cn.support(SUPPORT)
    idx_list, index_vars, first = _index_parts(cn)
    walk = _Walk(cn, idx_list, index_vars, first, "i0", advanced=True)
    if not walk.ok:
        return None
    p_dims, q_dims = walk.split()
    nb = _b_ndim(cn, walk)
    isz = np.dtype(dtype).itemsize
    code = list(walk.lines)
    nd = cn.node.outputs[0].ndim
    out_dims = [d for d, _ in p_dims] + [f"bd[{d}]" for d in range(nb)] + [d for d, _ in q_dims]
    nq = len(q_dims)
    if nq == 0:
        inner = _element_copy(isz, "dst", "s") + f" dst += {isz};"
    elif nq == 1:
        # one row per position (x[ivector] of a matrix): an inline loop, no call
        (qn, qs), = q_dims
        inner = _row_loop(qn, ("dst", str(isz)), ("s", qs), _element_copy(isz, "pd", "ps"),
                          isz) + f"\ndst += {qn} * {isz};"
    else:
        inner = f"wb_copy_nd({nq}, qd, dst, qc, s, qs, {isz}); dst += qbytes;"
    # without basic dimensions before B, each position is copied as soon as it is checked
    fused = f"{{ const char *s = base + off; {inner} }}" if not p_dims else None
    shape, walk_lines, free = _b_offsets(cn, walk, nb, False, 0, per_b=fused)
    code += shape
    code += [f"npy_intp odims[{max(nd, 1)}] = {{{', '.join(out_dims) or '0'}}};",
             f"if (wb_prepare(o0, {nd}, odims, {typenum(dtype)})) goto wb_fail;",
             "char *dst = PyArray_BYTES((PyArrayObject *)*o0);"]
    if nq > 1:
        code += [f"npy_intp qd[{nq}] = {{{', '.join(d for d, _ in q_dims)}}}, "
                 f"qs[{nq}] = {{{', '.join(s for _, s in q_dims)}}}, qc[{nq}];",
                 f"npy_intp qbytes = {isz};",
                 f"for (int d = {nq - 1}; d >= 0; d--) {{ qc[d] = qbytes; qbytes *= qd[d]; }}"]
    code += walk_lines
    if fused is None:
        body = f"for (npy_intp b = 0; b < NB; b++) {{ const char *s = sp + aoff[b]; {inner} }}"
        code.append(_nest(p_dims, [("sp", "base", [s for _, s in p_dims])], body))
    code.append(free)
    return "\n".join(code)


@emits(AdvancedIncSubtensor, AdvancedIncSubtensor1)
def advanced_inc_subtensor(cn) -> str | None:
    """Scatter: x copied (unless in place), then for each (P, B) position a Q block of y
    copied or added at the offset the index arrays give; duplicates add up (inc) or the
    last one stays (set)."""
    start = _inc_start(cn, advanced=True)
    if start is None:
        return None
    op, dtype, kernel, code, walk = start
    if not walk.ok:
        return None
    code += walk.lines
    p_dims, q_dims = walk.split()
    nb = _b_ndim(cn, walk)
    isz = np.dtype(dtype).itemsize
    # the shape of x[index] (P + B + Q) is only known once B is: check y after it
    b_dims = [f"bd[{d}]" for d in range(nb)]
    nr = len(p_dims) + nb + len(q_dims)
    shape, walk_lines, free = _b_offsets(cn, walk, nb, True, len(p_dims), " Py_XDECREF(y_copy);")
    code += shape
    code += _value_strides(
        cn, nr, [d for d, _ in p_dims] + b_dims + [d for d, _ in q_dims],
        "shape mismatch: value array of shape %s could not be broadcast to indexing result "
        "of shape %s", "array is not broadcastable to correct shape", "b a")
    # all indices are checked before anything is written, as NumPy does
    code += walk_lines
    ny = f"ys + {len(p_dims) + nb}"
    nq = len(q_dims)
    if op.set_instead_of_inc:
        element = _element_copy(isz, "pd", "ps")
    elif dtype == "bool":
        element = "*(npy_bool *)pd = (*(npy_bool *)pd | *(const npy_bool *)ps) != 0;"
    else:
        element = f"*({ctype(dtype)} *)pd += *(const {ctype(dtype)} *)ps;"
    if nq == 0:
        inner = f"char *pd = d; const char *ps = s; {element}"
    elif nq == 1:
        (qn, qs), = q_dims
        inner = _row_loop(qn, ("d", qs), ("s", f"ys[{len(p_dims) + nb}]"), element, isz)
    else:
        code.append(f"npy_intp qd[{nq}] = {{{', '.join(d for d, _ in q_dims)}}}, "
                    f"qs[{nq}] = {{{', '.join(s for _, s in q_dims)}}};")
        inner = (f"wb_copy_nd({nq}, qd, d, qs, s, {ny}, {isz});" if op.set_instead_of_inc
                 else f"{kernel}({nq}, qd, d, qs, s, {ny});")
    body = ("for (npy_intp b = 0; b < NB; b++) { char *d = dp + aoff[b]; "
            f"const char *s = yp + yoff[b]; {inner} }}")
    code.append(_nest(p_dims, [("dp", "base", [s for _, s in p_dims]),
                               ("yp", "PyArray_BYTES(y)", [f"ys[{j}]" for j in range(len(p_dims))])],
                      body))
    code.append(free)
    return "\n".join(code)
