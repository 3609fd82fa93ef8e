"""A one-line progress bar on stderr, drawn only on a terminal so pipes and logs stay clean."""

from __future__ import annotations

import sys
from typing import TextIO

WIDTH = 30


def render(label: str, done: int, total: int, unit: str) -> str:
    """The bar's text for `done` of `total`, e.g. `convert [#####-----]  50% 37.5/75.0 MiB`."""
    fraction = min(max(done / total, 0.0), 1.0) if total else 1.0
    filled = int(fraction * WIDTH)
    if unit == "bytes":
        amount = f"{done / 2**20:.1f}/{total / 2**20:.1f} MiB"
    else:
        amount = f"{done}/{total} {unit}"
    return f"{label} [{'#' * filled}{'-' * (WIDTH - filled)}] {fraction:4.0%} {amount}"


class Progress:
    """Redraws `render(...)` in place on `stream` (stderr by default) as work is done; silent
    when the stream is not a terminal or the total is under `minimum`, where a bar is noise."""

    def __init__(self, label: str, *, unit: str, minimum: int = 0,
                 stream: TextIO | None = None):
        self.label, self.unit, self.minimum = label, unit, minimum
        self.stream = stream if stream is not None else sys.stderr
        self._last = ""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, done: int, total: int) -> None:
        """Show that `done` of `total` units are finished; drawn only when the text changes."""
        if total < self.minimum or not _is_terminal(self.stream):
            return
        text = render(self.label, done, total, self.unit)
        if text != self._last:
            self.stream.write("\r" + text)
            self.stream.flush()
            self._last = text

    def close(self) -> None:
        """End the bar's line, so what is printed next starts on a fresh one."""
        if self._last:
            self.stream.write("\n")
            self.stream.flush()
            self._last = ""


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
