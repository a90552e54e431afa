"""Turning generated C into a loaded module: cffi writes the wrapper, gcc builds it.

cffi's ``emit_c_code`` produces the extension module's C (our source plus the wrappers of
the functions in ``CDEF``); we call the compiler ourselves, because going through setuptools
costs a second per build. Builds are cached on disk by :mod:`.cache`.

>>> from workbench.compiler.backends.c.build import compiler_available
>>> isinstance(compiler_available(), bool)
True
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from typing import Any

#: flags every module is built with: no errno from libm (lets loops vectorise), wrapping
#: signed overflow (NumPy's integer semantics), OpenMP, and code for this machine's CPU
#: (the cache key includes the CPU's features)
CFLAGS = ["-O3", "-march=native", "-fPIC", "-shared", "-fopenmp", "-fno-math-errno",
          "-fwrapv", "-fno-strict-aliasing", "-D_CFFI_NO_LIMITED_API", "-w"]
LIBS = ["-lmvec", "-lm"]


class CompileError(RuntimeError):
    """The C compiler rejected a generated module; the message shows where and why."""


@functools.lru_cache(maxsize=None)
def compiler_command() -> str | None:
    """The C compiler (``config.cxx``), or None when there is none."""
    from ....config import config

    cxx = (config.cxx or "").strip()
    if not cxx:
        return None
    return shutil.which(cxx.split()[0]) and cxx


def compiler_available() -> bool:
    return compiler_command() is not None


@functools.lru_cache(maxsize=None)
def toolchain_fingerprint() -> dict[str, str]:
    """Everything besides the source that decides what a build produces."""
    import cffi
    import numpy

    cxx = compiler_command() or ""
    try:
        version = subprocess.run([cxx.split()[0], "--version"], capture_output=True, text=True,
                                 timeout=30).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        version = "unknown"
    flags = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "compiler": f"{cxx} ({version})",
        "flags": " ".join(CFLAGS + LIBS),
        "cpu_features": hashlib.sha256(flags.encode()).hexdigest()[:16],
        "python": sys.version.split()[0] + " " + sysconfig.get_config_var("EXT_SUFFIX"),
        "numpy": numpy.__version__,
        "cffi": cffi.__version__,
        "format": "1",
    }


def build_module(source: str, cdef: str, module_name: str, directory: str) -> str:
    """Build ``source`` into ``directory``; returns the path of the shared library."""
    import cffi
    import numpy

    ffi = cffi.FFI()
    ffi.cdef(cdef)
    ffi.set_source(module_name, source)
    c_path = os.path.join(directory, module_name + ".c")
    with contextlib.redirect_stdout(io.StringIO()):  # cffi prints "generating ..."
        ffi.emit_c_code(c_path)
    so_path = os.path.join(directory, module_name + sysconfig.get_config_var("EXT_SUFFIX"))
    cmd = (compiler_command() or "gcc").split() + CFLAGS + [
        f"-I{sysconfig.get_paths()['include']}", f"-I{numpy.get_include()}",
        c_path, "-o", so_path] + LIBS
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CompileError(describe_compile_error(proc.stderr, c_path, source))
    return so_path


def describe_compile_error(stderr: str, c_path: str, source: str) -> str:
    """The compiler's first error, the lines of source around it, and the node they implement."""
    with open(c_path) as fh:
        lines = fh.read().splitlines()
    match = re.search(re.escape(os.path.basename(c_path)) + r":(\d+):(?:\d+:)?\s*(?:fatal )?error:"
                      r"\s*(.*)", stderr)
    if not match:
        return "the C compiler failed:\n" + stderr.strip()[-3000:]
    line_no = int(match.group(1))
    start, end = max(line_no - 4, 0), min(line_no + 3, len(lines))
    excerpt = "\n".join(f"{'>' if i + 1 == line_no else ' '} {i + 1:5d} | {lines[i]}"
                        for i in range(start, end))
    node = None
    for i in range(line_no - 1, -1, -1):
        m = re.match(r"\s*/\* node (\S+): (.*) \*/", lines[i])
        if m:
            node = f"{m.group(2)} (graph node {m.group(1)})"
            break
        if re.match(r"\s*/\* end node", lines[i]):
            break
    return (f"the C compiler rejected the generated code: {match.group(2)}\n"
            + (f"in the block of node {node}\n" if node else "")
            + excerpt + f"\n(full source: {c_path})")


def load_module(so_path: str, module_name: str) -> Any:
    """Import a built module from its path (each module name is unique to its source)."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, so_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[module_name] = module
    if module.lib.wb_init() != 0:
        raise ImportError(f"{so_path}: NumPy's C API could not be initialised")
    return module

