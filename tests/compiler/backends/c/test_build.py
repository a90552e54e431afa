"""Building modules (build.py): cffi's wrapper from a template, the toolchain key found
without running anything, the precompiled header, compiler errors made readable."""
import os
import subprocess

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.backends.c import build
from workbench.compiler.backends.c.build import CompileError, compiler_available
from workbench.compiler.backends.c.linker import CDEF, CLinker
from workbench.compiler.fgraph import FunctionGraph

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler")


def test_template_gives_what_cffi_writes(tmp_path):
    import cffi

    source = "/* any source */\nint wb_init(void) { return 0; }\n"
    name = "wb_" + "0123456789abcdef" * 2
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    ffi.set_source(name, source)
    ffi.emit_c_code(str(tmp_path / "cffi.c"))
    expected = (tmp_path / "cffi.c").read_text()
    ours = build.fill_template(build.wrapper_template(CDEF), source, name)
    # the same text, plus the pragma that compiles cffi's wrappers without optimisation
    assert ours.replace("\n" + build.WRAPPER_PRAGMA, "", 1) == expected
    assert ours.index(source) < ours.index(build.WRAPPER_PRAGMA) < ours.index(f"PyInit_{name}")


def test_toolchain_key_runs_nothing(monkeypatch, tmp_path):
    def no(*args, **kwargs):
        raise AssertionError("the warm path must not start a process")

    build.toolchain_key.cache_clear()
    monkeypatch.setattr(subprocess, "Popen", no)
    try:
        key = build.toolchain_key()
    finally:
        build.toolchain_key.cache_clear()
    assert {"compiler", "flags", "cpu_features", "python", "numpy", "cffi"} <= set(key)
    assert key["flags"].startswith(" ".join(build.CFLAGS))
    assert key["numpy"] == np.__version__


def test_toolchain_key_follows_the_compiler_file(tmp_path, monkeypatch):
    """Another compiler binary, or the same one replaced, is another key."""
    fake = tmp_path / "cc"
    fake.write_text("#!/bin/sh\nexec gcc \"$@\"\n")
    fake.chmod(0o755)
    keys = []
    try:
        for cxx in ("gcc", str(fake), str(fake)):
            if keys and cxx == str(fake) and len(keys) == 2:
                fake.write_text("#!/bin/sh\n# upgraded\nexec gcc \"$@\"\n")
            workbench.config.cxx = cxx
            build.compiler_command.cache_clear()
            build.toolchain_key.cache_clear()
            keys.append(build.toolchain_key()["compiler"])
    finally:
        build.compiler_command.cache_clear()
        build.toolchain_key.cache_clear()
    assert len(set(keys)) == 3, keys


def _graph_source():
    x = T.dvector("x")
    return CLinker(FunctionGraph([x], [T.exp(x) + 1])).source


def test_precompiled_header_builds_the_same_module(tmp_path):
    pch_dir, a, b = (tmp_path / d for d in ("pch", "a", "b"))
    for d in (pch_dir, a, b):
        d.mkdir()
    header = build.build_pch(str(pch_dir))
    assert os.path.getsize(header + ".gch") > 1 << 20
    source = _graph_source()
    name = "wb_pchtest" + os.urandom(4).hex()
    c_code = build.fill_template(build.wrapper_template(CDEF), source, name)
    with_pch = build.build_module(c_code, name, str(a), pch=header)
    without = build.build_module(c_code, name, str(b))
    # the header changes how fast the compiler reads the headers, not the code it makes
    # (only where a few static variables are placed)
    assert os.path.getsize(with_pch) == os.path.getsize(without)
    assert build.load_module(with_pch, name).lib.wb_init() == 0


def test_compiler_error_points_at_the_node(tmp_path):
    source = _graph_source()
    start = source.index("/* node n")
    end = source.index("\n", source.index("/* end node", start))
    broken = (source[:start] + source[start:end].replace("wb_prepare(", "wb_prepare(,", 1)
              + source[end:])
    c_code = build.fill_template(build.wrapper_template(CDEF), broken, "wb_broken")
    with pytest.raises(CompileError) as err:
        build.build_module(c_code, "wb_broken", str(tmp_path))
    message = str(err.value)
    assert message.startswith("the C compiler rejected the generated code: ")
    assert "in the block of node Elemwise{" in message and "(graph node n" in message
    marked = [line for line in message.splitlines() if line.startswith(">")]
    assert len(marked) == 1 and "wb_prepare(," in marked[0]
    assert err.value.line == int(marked[0].split("|")[0][1:])
    assert err.value.source == c_code and "error" in err.value.stderr


def test_compiler_failure_without_a_source_line(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "LIBS", ["-lno_such_library_wb"])
    c_code = build.fill_template(build.wrapper_template(CDEF), _graph_source(), "wb_nolib")
    with pytest.raises(CompileError, match="the C compiler failed:\n.*no_such_library_wb"):
        build.build_module(c_code, "wb_nolib", str(tmp_path))


def test_compiler_error_outside_any_node():
    code = "int a;\n/* node n1: Op */\nint b;\n/* end node n1 */\nint c = ;\n"
    err = build.compile_error("x.c:5:9: error: expected expression before ';' token\n",
                              "x.c", code)
    assert err.node is None and err.line == 5
    assert "in the block of node" not in str(err)
    assert ">     5 | int c = ;" in str(err)
    err = build.compile_error("x.c:3:1: error: bad\n", "x.c", code)
    assert err.node == "Op (graph node n1)"
