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
    from scipy.linalg import cython_blas

    try:
        capsule = cython_blas.__pyx_capi__[name]
    except KeyError:
        raise KeyError(f"SciPy's BLAS has no routine {name!r}") from None
    return _get_pointer(capsule, _get_name(capsule))
