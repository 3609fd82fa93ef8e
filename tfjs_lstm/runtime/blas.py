"""Holding numpy's BLAS to one thread while the runtime's recurrent loops run.

A recurrent step is one small matrix product: two BLAS threads wait on each other at every
step (under load, many times slower), and when a layer splits its units over threads of its
own (`scan.parallel_scan`) each must run its products alone. OpenBLAS, which numpy's wheels
bundle, keeps one thread count for the whole process (`openblas_set_num_threads_local` sets it
too, in its pthreads builds): while any loop holds it at one, every BLAS call in the process
runs on one thread, and the count in force before the first holder comes back when the last
one leaves. Without OpenBLAS (another BLAS, or one whose calls cannot be found) nothing is held
and the runtime keeps to one thread of its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import threading
from collections.abc import Callable, Iterator

import numpy as np

# The thread count's setter and getter, named with the build's symbol prefix and suffix
# (numpy's wheels: scipy_openblas...64_).
_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads", "openblas_set_num_threads64_")
_GETTERS = ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
            "scipy_openblas_get_num_threads", "openblas_get_num_threads64_")


@functools.cache
def _controls() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    """OpenBLAS's thread count setter and getter from the library numpy loaded, or None."""
    assert np.matmul  # the library is mapped once numpy is imported
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if "openblas" in line}
    except OSError:
        return None
    for path in sorted(p for p in paths if os.path.isabs(p)):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(library, n) for n in _SETTERS if hasattr(library, n)), None)
        getter = next((getattr(library, n) for n in _GETTERS if hasattr(library, n)), None)
        if setter is not None and getter is not None:
            setter.argtypes, setter.restype = [ctypes.c_int], None
            getter.argtypes, getter.restype = [], ctypes.c_int
            return setter, getter
    return None


def controllable() -> bool:
    """Whether the runtime can hold BLAS to one thread."""
    return _controls() is not None


class _Hold:
    """Who holds the count at one now, and the count to give back when the last one leaves."""

    lock = threading.Lock()
    holders = 0
    before = 0


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Inside, BLAS runs on one thread (in the whole process: see the module's docstring)."""
    controls = _controls()
    if controls is None:
        yield
        return
    set_count, count = controls
    with _Hold.lock:
        if _Hold.holders == 0:
            _Hold.before = count()
            set_count(1)
        _Hold.holders += 1
    try:
        yield
    finally:
        with _Hold.lock:
            _Hold.holders -= 1
            if _Hold.holders == 0:
                set_count(_Hold.before)
