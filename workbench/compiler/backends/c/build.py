"""Turning generated C into a loaded module: cffi's wrapper around it, gcc builds it.

cffi's wrapper code (the Python-callable functions of ``CDEF``) is the same for every module
but its name, so it is made once (``wrapper_template``: parsing the declarations imports
pycparser, 0.1 s in a fresh process, more on a busy machine) and filled in per module. We call the
compiler ourselves, because going through setuptools costs a second per build, optionally
with a precompiled header of the fixed part (Python.h and NumPy's headers). Builds are cached
on disk by :mod:`.cache`, which also keeps the wrapper template and the precompiled header.

Nothing here runs the compiler, nor imports cffi's parser, when a module comes from the
cache: ``toolchain_key`` identifies the compiler by its file, not by running it.

>>> from workbench.compiler.backends.c.build import compiler_available
>>> isinstance(compiler_available(), bool)
True
"""
from __future__ import annotations

import functools
import hashlib
import importlib.machinery
import importlib.util
import os
import re
import shutil
import sys
from typing import Any

#: flags every module is built with: no errno from libm (lets loops vectorise), wrapping
#: signed overflow (NumPy's integer semantics), OpenMP, and code for this machine's CPU
#: (the cache key includes the CPU's features)
CFLAGS = ["-O2", "-march=native", "-fPIC", "-shared", "-fopenmp", "-fno-math-errno",
          "-fwrapv", "-fno-strict-aliasing", "-D_CFFI_NO_LIMITED_API", "-w"]
LIBS = ["-lmvec", "-lm"]

#: the suffix of extension modules of this Python (sysconfig's EXT_SUFFIX)
EXT_SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]

#: the headers every module includes before its own code (see runtime.h): what the
#: precompiled header holds. The NumPy API macro must match runtime.h's.
PCH_TEXT = """\
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <Python.h>
#include <numpy/arrayobject.h>
#include <stddef.h>
#include <math.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
"""
PCH_NAME = "wb_pch.h"

#: put before cffi's wrapper code (see ``fill_template``); gcc-specific, others ignore it
WRAPPER_PRAGMA = '#pragma GCC optimize ("O0")\n'

# stand-ins for the module name and the source in the wrapper template; the name has the
# length of a real one (wb_ and 32 hex digits) only for tidiness
_NAME_MARK = "wb_MODULENAMEMODULENAMEMODULENAME00"
_SOURCE_MARK = "/*@@ WB_SOURCE @@*/"


class CompileError(RuntimeError):
    """The C compiler rejected a generated module; the message shows where and why.

    ``source`` is the whole C file given to the compiler, ``line`` the line (1-based) of its
    first error, ``node`` the graph node whose block holds that line (or None), ``stderr``
    what the compiler said.
    """

    def __init__(self, message: str, source: str = "", stderr: str = "",
                 line: int | None = None, node: str | None = None):
        super().__init__(message)
        self.source = source
        self.stderr = stderr
        self.line = line
        self.node = node


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


def _cpu_features() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return hashlib.sha256(line.encode()).hexdigest()[:16]
    except OSError:
        pass
    import platform

    return platform.machine() + " " + platform.processor()


@functools.lru_cache(maxsize=None)
def toolchain_key() -> dict[str, str]:
    """Everything besides the source that decides what a build produces, found without
    running anything: the compiler is named by its file (path, size, modification time),
    which changes whenever the compiler does."""
    import _cffi_backend
    import numpy

    cxx = compiler_command() or ""
    exe = shutil.which(cxx.split()[0]) if cxx else None
    if exe:
        real = os.path.realpath(exe)
        info = os.stat(real)
        compiler = f"{cxx} = {real} ({info.st_size} bytes, mtime {info.st_mtime_ns})"
    else:
        compiler = cxx
    return {
        "compiler": compiler,
        "flags": " ".join(CFLAGS + LIBS),
        "cpu_features": _cpu_features(),
        "python": sys.version.split()[0] + " " + EXT_SUFFIX,
        "numpy": numpy.__version__,
        "cffi": _cffi_backend.__version__,
        "format": "2",
        "wrapper": WRAPPER_PRAGMA.strip(),
    }


@functools.lru_cache(maxsize=None)
def compiler_version() -> str:
    """The compiler's first line of ``--version`` (recorded in the metadata of builds)."""
    import subprocess

    cxx = compiler_command() or ""
    try:
        return subprocess.run([cxx.split()[0], "--version"], capture_output=True, text=True,
                              timeout=30).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def toolchain_fingerprint() -> dict[str, str]:
    """``toolchain_key`` and the compiler's version, for people reading the metadata."""
    return dict(toolchain_key(), compiler_version=compiler_version())


def wrapper_template(cdef: str) -> str:
    """cffi's C for a module declaring ``cdef``, with stand-ins for the name and source
    (``fill_template`` puts them in); the slow part of cffi, done once per cdef."""
    import contextlib
    import io
    import tempfile

    import cffi

    ffi = cffi.FFI()
    ffi.cdef(cdef)
    ffi.set_source(_NAME_MARK, _SOURCE_MARK)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        path = os.path.join(tmp, "template.c")
        ffi.emit_c_code(path)  # cffi prints "generating ..."
        with open(path) as fh:
            text = fh.read()
    if text.count(_SOURCE_MARK) != 1:
        raise RuntimeError("unexpected cffi output: the source is not pasted exactly once")
    return text


def fill_template(template: str, source: str, module_name: str) -> str:
    """The C file cffi would write for ``source`` as module ``module_name``, except that
    cffi's wrappers and tables (after the source) are compiled without optimisation: they
    cost a third of a small module's build at -O2, and a call spends its time in cffi's
    own argument converters, not in the wrapper."""
    head, tail = template.split(_SOURCE_MARK)
    return (head.replace(_NAME_MARK, module_name) + source + "\n" + WRAPPER_PRAGMA
            + tail.replace(_NAME_MARK, module_name))


def _include_flags() -> list[str]:
    import sysconfig

    import numpy

    return [f"-I{sysconfig.get_paths()['include']}", f"-I{numpy.get_include()}"]


def build_pch(directory: str) -> str:
    """Precompile the fixed headers into ``directory``; returns the header's path (gcc uses
    ``<header>.gch`` beside it when its flags match, else reads the header itself)."""
    import subprocess

    header = os.path.join(directory, PCH_NAME)
    with open(header, "w") as fh:
        fh.write(PCH_TEXT)
    flags = [f for f in CFLAGS if f != "-shared"]
    cmd = (compiler_command() or "gcc").split() + flags + _include_flags() + [
        "-x", "c-header", header, "-o", header + ".gch"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CompileError("the precompiled header failed to build:\n" + proc.stderr[-3000:],
                           source=PCH_TEXT, stderr=proc.stderr)
    return header


def build_module(c_code: str, module_name: str, directory: str,
                 pch: str | None = None) -> str:
    """Build the C file ``c_code`` (from ``fill_template``) into ``directory``; returns the
    path of the shared library. ``pch``: a header from ``build_pch`` to include first."""
    import subprocess

    c_path = os.path.join(directory, module_name + ".c")
    with open(c_path, "w") as fh:
        fh.write(c_code)
    so_path = os.path.join(directory, module_name + EXT_SUFFIX)
    cmd = (compiler_command() or "gcc").split() + CFLAGS + _include_flags() + (
        ["-include", pch] if pch else []) + [c_path, "-o", so_path] + LIBS
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise compile_error(proc.stderr, os.path.basename(c_path), c_code)
    return so_path


def compile_error(stderr: str, c_name: str, c_code: str) -> CompileError:
    """The compiler's first error, the lines of source around it, and the node they
    implement (from the ``/* node <id>: <op> */`` comments the linker writes)."""
    lines = c_code.splitlines()
    match = re.search(re.escape(c_name) + r":(\d+):(?:\d+:)?\s*(?:fatal )?error:\s*(.*)",
                      stderr)
    if not match:
        return CompileError("the C compiler failed:\n" + stderr.strip()[-3000:],
                            source=c_code, stderr=stderr)
    line_no = int(match.group(1))
    start, end = max(line_no - 4, 0), min(line_no + 3, len(lines))
    excerpt = "\n".join(f"{'>' if i + 1 == line_no else ' '} {i + 1:5d} | {lines[i]}"
                        for i in range(start, end))
    node = None
    for i in range(min(line_no, len(lines)) - 1, -1, -1):
        m = re.match(r"\s*/\* node (\S+): (.*) \*/", lines[i])
        if m:
            node = f"{m.group(2)} (graph node {m.group(1)})"
            break
        if re.match(r"\s*/\* end node", lines[i]):
            break
    message = (f"the C compiler rejected the generated code: {match.group(2)}\n"
               + (f"in the block of node {node}\n" if node else "")
               + excerpt + "\n(the whole C file is this exception's .source)")
    return CompileError(message, source=c_code, stderr=stderr, line=line_no, node=node)


def load_module(so_path: str, module_name: str) -> Any:
    """Import a built module from its path (each module name is unique to its source)."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, so_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if module.lib.wb_init() != 0:
        raise ImportError(f"{so_path}: NumPy's C API could not be initialised")
    sys.modules[module_name] = module
    return module
