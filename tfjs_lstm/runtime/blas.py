"""Per-thread control of the BLAS numpy calls, for the runtime's own threads.

When a recurrent layer splits its units over threads (see `scan.parallel_scan`), each thread
must run its matrix products on one BLAS thread: two callers each waking OpenBLAS's pool would
wait on each other at every step. OpenBLAS (0.3.27 and later, as in numpy's wheels) sets that
per calling thread with `openblas_set_num_threads_local`; other BLAS builds have no such call,
and the runtime then keeps to one thread of its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from collections.abc import Callable, Iterator

import numpy as np

_LOCAL_SETTER = "openblas_set_num_threads_local"
# The process-wide count's getter, named with the build's symbol prefix and suffix.
_GLOBAL_GETTERS = ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
                   "scipy_openblas_get_num_threads", "openblas_get_num_threads64_")


@functools.cache
def _controls() -> tuple[Callable[[int], int], Callable[[], int]] | None:
    """OpenBLAS's per-thread count setter and process-wide count getter from the library numpy
    loaded, or None."""
    assert np.matmul  # the library is mapped once numpy is imported
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if "openblas" in line}
    except OSError:
        return None
    for path in sorted(p for p in paths if os.path.isabs(p)):
        try:
            library = ctypes.CDLL(path)
            setter = getattr(library, _LOCAL_SETTER)
            getter = next(getattr(library, name) for name in _GLOBAL_GETTERS
                          if hasattr(library, name))
        except (OSError, AttributeError, StopIteration):
            continue
        setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
        getter.argtypes, getter.restype = [], ctypes.c_int
        return setter, getter
    return None


def per_thread_control() -> bool:
    """Whether BLAS can be held to one thread in one calling thread only."""
    return _controls() is not None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Inside, this thread's BLAS calls run on one thread; other threads keep their setting.

    Afterwards the thread follows the process-wide count again (OpenBLAS's 0), unless it had a
    count of its own before.
    """
    controls = _controls()
    if controls is None:
        yield
        return
    setter, global_count = controls
    previous = setter(1)
    try:
        yield
    finally:
        setter(0 if previous == global_count() else previous)
