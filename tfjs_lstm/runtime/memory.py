"""How much memory a run may take: refused up front, with the figure, rather than discovered by
the operating system halfway through."""

from __future__ import annotations

import os

from ..errors import InputError

SHARE = 0.8
"""The part of the memory available now that one run may plan to use."""


def available_bytes() -> int:
    """Memory the system can give now: MemAvailable on Linux, else physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def require_memory(needed: int, what: str) -> None:
    """Refuse before allocating when `needed` bytes exceed the share of memory available."""
    budget = int(available_bytes() * SHARE)
    if needed > budget:
        raise InputError(f"{what} needs about {_size(needed)}, more than the {_size(budget)} "
                         "this machine has available: use smaller inputs or --batch-size")


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")
