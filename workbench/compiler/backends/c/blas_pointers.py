"""BLAS from SciPy: the addresses of the Fortran BLAS routines SciPy's wheel ships.

``scipy.linalg.cython_blas`` exports each routine as a PyCapsule; generated code calls
them through these pointers, so nobody has to find or link a system BLAS.

>>> from workbench.compiler.backends.c.blas_pointers import pointer
>>> pointer('dgemm') != 0
True
"""
from __future__ import annotations

import ctypes
import functools

_get_name = ctypes.pythonapi.PyCapsule_GetName
_get_name.restype = ctypes.c_char_p
_get_name.argtypes = [ctypes.py_object]
_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


@functools.lru_cache(maxsize=None)
def pointer(name: str) -> int:
    """The address of BLAS routine ``name`` (``dgemm``, ``sgemv``, ...) in SciPy's BLAS."""
    try:
        capsule = _cython_blas().__pyx_capi__[name]
    except KeyError:
        raise KeyError(f"SciPy's BLAS has no routine {name!r}") from None
    return _get_pointer(capsule, _get_name(capsule))


@functools.lru_cache(maxsize=None)
def _cython_blas():
    """``scipy.linalg.cython_blas`` alone: importing the ``scipy.linalg`` package costs about
    0.6 s, most of a warm compile in a new process; its BLAS extension loads in 0.1 s."""
    import sys

    if "scipy.linalg.cython_blas" in sys.modules:
        return sys.modules["scipy.linalg.cython_blas"]
    import importlib.util
    import os

    import scipy

    folder = os.path.join(os.path.dirname(scipy.__file__), "linalg")
    for entry in sorted(os.listdir(folder)):
        if entry.startswith("cython_blas.") and entry.endswith((".so", ".pyd")):
            spec = importlib.util.spec_from_file_location(
                "scipy.linalg.cython_blas", os.path.join(folder, entry))
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except ImportError:
                break
            return module
    from scipy.linalg import cython_blas  # other layouts: the normal import

    return cython_blas
