"""C for Elemwise (fused Composites included) and DimShuffle.

An elementwise loop has three paths, chosen at run time:

1. flat: every operand C-contiguous and full size (inputs whose static shape is all ones are
   loaded once): one loop over all elements, vectorised (``omp simd``, libmvec for exp/sin/...)
   and split across cores by OpenMP above ``config.openmp_elemwise_minsize`` elements;
2. rows: every operand's last axis contiguous (or statically broadcast along it): OpenMP over
   the rows, a vectorised inner loop;
3. strided: any strides and any broadcasting, one odometer loop.
"""
from __future__ import annotations

import hashlib

from ...ops.elemwise import DimShuffle, Elemwise
from ...ops.scalar import Composite
from ..cstyle import can_render, ctype, render_program, render_scalar
from .registry import emits


def _broadcast_check(cn, nd: int, names: list[str]) -> str:
    """Code computing ``dims`` (the broadcast shape) with NumPy's error for a mismatch."""
    bufs = ", ".join(f"b{i}[96]" for i in range(len(names)))
    texts = " ".join(f"wb_shape_text(b{i}, 96, {n});" for i, n in enumerate(names))
    fmt = "operands could not be broadcast together with shapes" + " %s" * len(names)
    args = ", ".join(f"b{i}" for i in range(len(names)))
    lines = [f"npy_intp dims[{max(nd, 1)}];",
             f"for (int d = 0; d < {nd}; d++) dims[d] = 1;"]
    for n in names:
        lines.append(
            f"if (wb_broadcast_into(dims, {nd}, {n})) {{ char {bufs}; {texts} "
            f"PyErr_Format(PyExc_ValueError, \"{fmt}\", {args}); goto wb_fail; }}")
    return "\n".join(lines)


@emits(Elemwise)
def elemwise(cn) -> str | None:
    node = cn.node
    op = node.op
    scal = op.scalar_op
    in_dt = [v.type.dtype for v in node.inputs]
    out_dt = node.outputs[0].type.dtype
    if not can_render(scal, in_dt, out_dt):
        return None
    nd = node.outputs[0].ndim
    n = len(node.inputs)
    # inputs whose static shape is all ones hold one element: loaded once, outside loops
    scalar_in = [all(s == 1 for s in v.type.shape) for v in node.inputs]
    # inputs statically broadcast along the last axis: one value per row in the rows path
    row_in = [nd > 0 and v.type.shape[-1] == 1 for v in node.inputs]
    values = [f"v{i}" for i in range(n)]
    if isinstance(scal, Composite):
        lets, expr = render_program(scal, values, in_dt)
    else:
        lets, expr = [], render_scalar(scal, values, in_dt, out_dt)
    tin = [ctype(d) for d in in_dt]
    tout = ctype(out_dt)
    compute = "\n".join(lets + [f"po[k] = {expr};"])
    code = [_broadcast_check(cn, nd, cn.ins)]
    target = op.inplace_pattern.get(0)
    if target is not None:
        code.append(f"wb_set(o0, (PyObject *)i{target});")
    else:
        code.append(f"if (wb_prepare(o0, {nd}, dims, {cn.typenum(out_dt)})) goto wb_fail;")
    code.append("PyArrayObject *out = (PyArrayObject *)*o0;")
    code.append(f"npy_intp N = wb_size({nd}, dims);")
    for i in range(n):
        code.append(f"char *d{i} = PyArray_BYTES(i{i});")
        if scalar_in[i]:
            code.append(f"const {tin[i]} v{i} = *(const {tin[i]} *)d{i};")
    code.append("char *dout = PyArray_BYTES(out);")
    if nd == 0:
        code.append(f"{tout} *po = ({tout} *)dout; const npy_intp k = 0;\n"
                    + "".join(f"const {tin[i]} v{i} = *(const {tin[i]} *)d{i}; "
                              for i in range(n) if not scalar_in[i]) + "\n" + compute)
        return "\n".join(code)
    restrict = "" if target is not None else "restrict "
    # the loop bodies live in functions of their own: compiled once, called by the serial
    # and the OpenMP paths alike
    flat = _kernel(cn, "flat", [not scalar_in[i] for i in range(n)], tin, tout, compute,
                   restrict)
    flat_ok = ["PyArray_IS_C_CONTIGUOUS(out)"] + [
        f"(PyArray_IS_C_CONTIGUOUS(i{i}) && PyArray_SIZE(i{i}) == N)"
        for i in range(n) if not scalar_in[i]]

    def flat_args(offset: str) -> str:
        return ", ".join([f"({tin[i]} *)d{i} + {offset}" if not scalar_in[i] else f"v{i}"
                          for i in range(n)] + [f"({tout} *)dout + {offset}"])

    code.append(
        f"if ({' && '.join(flat_ok)}) {{\n"
        f"    if (N >= {cn.omp_min}) {{\n"
        f"        #pragma omp parallel\n"
        f"        {{\n"
        f"            npy_intp nt = omp_get_num_threads(), t = omp_get_thread_num();\n"
        f"            npy_intp chunk = (N + nt - 1) / nt, b = t * chunk;\n"
        f"            npy_intp e = b + chunk < N ? b + chunk : N;\n"
        f"            if (b < e) {flat}(e - b, {flat_args('b')});\n"
        f"        }}\n"
        f"    }} else {flat}(N, {flat_args('0')});\n"
        f"}}")
    code.append(_rows_path(cn, nd, n, scalar_in, row_in, tin, tout, compute, restrict, flat))
    code.append(_strided_path(nd, n, scalar_in, tin, tout, compute))
    return "\n".join(code)


def _kernel(cn, kind: str, vector: list[bool], tin: list[str], tout: str, compute: str,
            restrict: str) -> str:
    """A vectorised loop over ``n`` elements as a function; returns its name. ``vector[i]``:
    input i is read at every element (else it is one value for the whole loop)."""
    params = ", ".join(
        [f"const {t} *{restrict}p{i}" if v else f"const {t} v{i}"
         for i, (t, v) in enumerate(zip(tin, vector))] + [f"{tout} *{restrict}po"])
    loads = "".join(f"const {tin[i]} v{i} = p{i}[k]; " for i, v in enumerate(vector) if v)
    body = (f"(npy_intp n, {params}) {{\n"
            f"    #pragma omp simd\n"
            f"    for (npy_intp k = 0; k < n; k++) {{\n"
            f"        {loads}\n" + _indent(compute, 8) + "\n    }\n}\n")
    # named by content: nodes computing the same thing share one compiled kernel
    name = f"wb_{kind}_{hashlib.sha1(body.encode()).hexdigest()[:12]}"
    cn.support(f"static void {name}{body}")
    return name


def _rows_path(cn, nd: int, n: int, scalar_in: list[bool], row_in: list[bool],
               tin: list[str], tout: str, compute: str, restrict: str, flat: str) -> str:
    """Rows split across cores; every operand contiguous along the last axis (or broadcast
    along it, then one value per row)."""
    vector = [not scalar_in[i] and not row_in[i] for i in range(n)]
    kernel = flat if all(v or scalar_in[i] for i, v in enumerate(vector)) else \
        _kernel(cn, "rows", vector, tin, tout, compute, restrict)
    conds = [f"PyArray_STRIDES(out)[{nd - 1}] == sizeof({tout})"] + [
        f"(PyArray_STRIDES(i{i})[{nd - 1}] == sizeof({tin[i]}) "
        f"&& PyArray_DIMS(i{i})[{nd - 1}] == dims[{nd - 1}])" for i in range(n) if vector[i]]
    movers = [i for i in range(n) if not scalar_in[i]]
    setup = [f"npy_intp s{i}[{nd}]; for (int d = 0; d < {nd}; d++) "
             f"s{i}[d] = PyArray_DIMS(i{i})[d] == 1 ? 0 : PyArray_STRIDES(i{i})[d];"
             for i in movers]
    setup.append("const npy_intp *so = PyArray_STRIDES(out);")
    starts = "".join(f"char *b{i} = d{i}; " for i in movers)
    steps = "".join(f"b{i} += c * s{i}[d]; " for i in movers)
    args = ", ".join([f"(const {tin[i]} *)b{i}" if vector[i] else
                      (f"v{i}" if scalar_in[i] else f"*(const {tin[i]} *)b{i}")
                      for i in range(n)] + [f"({tout} *)bo"])
    row = (f"npy_intp rem = m; {starts}char *bo = dout;\n"
           f"for (int d = {nd - 2}; d >= 0; d--) {{ npy_intp c = rem % dims[d]; "
           f"rem /= dims[d]; {steps}bo += c * so[d]; }}\n"
           f"{kernel}(inner, {args});")
    return (
        f"else if (N > 0 && {' && '.join(conds)}) {{\n"
        + _indent("\n".join(setup), 4) + "\n"
        f"    const npy_intp inner = dims[{nd - 1}], M = N / inner;\n"
        f"    if (N >= {cn.omp_min}) {{\n"
        f"        #pragma omp parallel for schedule(static)\n"
        f"        for (npy_intp m = 0; m < M; m++) {{\n" + _indent(row, 12) + "\n        }\n"
        "    } else {\n"
        "        for (npy_intp m = 0; m < M; m++) {\n" + _indent(row, 12) + "\n        }\n"
        "    }\n}")


def _strided_path(nd: int, n: int, scalar_in: list[bool], tin: list[str], tout: str,
                  compute: str) -> str:
    """Any strides, any broadcasting: an odometer over the output's coordinates."""
    movers = [i for i in range(n) if not scalar_in[i]]
    setup = "".join(
        f"npy_intp s{i}[{nd}]; for (int d = 0; d < {nd}; d++) "
        f"s{i}[d] = PyArray_DIMS(i{i})[d] == 1 ? 0 : PyArray_STRIDES(i{i})[d];\n"
        for i in movers)
    starts = "".join(f"char *b{i} = d{i}; " for i in movers)
    loads = "".join(f"const {tin[i]} v{i} = *(const {tin[i]} *)b{i}; " for i in movers)
    adv = "".join(f"b{i} += s{i}[d]; " for i in movers)
    back = "".join(f"b{i} -= s{i}[d] * dims[d]; " for i in movers)
    body = compute.replace("po[k] = ", f"*({tout} *)bo = ")
    return (
        "else if (N > 0) {\n"
        + _indent(setup, 4)
        + f"    npy_intp idx[{nd}] = {{0}};\n"
        f"    const npy_intp *so = PyArray_STRIDES(out);\n"
        f"    {starts}char *bo = dout;\n"
        f"    for (npy_intp k = 0; k < N; k++) {{\n"
        f"        {loads}\n" + _indent(body, 8) + "\n"
        f"        for (int d = {nd - 1}; d >= 0; d--) {{\n"
        f"            idx[d]++; {adv}bo += so[d];\n"
        f"            if (idx[d] < dims[d]) break;\n"
        f"            idx[d] = 0; {back}bo -= so[d] * dims[d];\n"
        f"        }}\n    }}\n}}")


@emits(DimShuffle)
def dimshuffle(cn) -> str:
    """A view: kept axes permuted, broadcastable axes dropped, new axes of size one."""
    op = cn.node.op
    nd_out = len(op.new_order)
    lines = [f"npy_intp dims[{max(nd_out, 1)}], strides[{max(nd_out, 1)}];"]
    for d in op.drop:
        lines.append(f"if (PyArray_DIMS(i0)[{d}] != 1) "
                     + cn.fail(f"{op}: dimension {d} has size %ld, not 1",
                               f"(long)PyArray_DIMS(i0)[{d}]"))
    for j, d in enumerate(op.new_order):
        if d == "x":
            lines.append(f"dims[{j}] = 1; strides[{j}] = 0;")
        else:
            lines.append(f"dims[{j}] = PyArray_DIMS(i0)[{d}]; "
                         f"strides[{j}] = PyArray_STRIDES(i0)[{d}];")
    lines.append(f"if (wb_view(o0, i0, {nd_out}, dims, strides, PyArray_BYTES(i0))) goto wb_fail;")
    return "\n".join(lines)


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines())
