"""Comparing two runtimes' outputs: a table row per pair (max abs and relative error, worst
timestep, error per timestep), the summary line and the printed table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .files import Outputs


@dataclass(frozen=True)
class Row:
    """One line of the table: a runtime pair on a case, or why the pair did not run."""

    case: str
    pair: str
    # "pass", "FAIL", "skipped" (runtime not installed or cannot start), "n/a" (not expressible)
    status: str
    tolerance: float
    max_abs: float | None = None
    max_rel: float | None = None
    worst_step: int | None = None
    worst_output: int | None = None
    outputs: int = 1
    final_only: bool = False
    note: str = ""
    per_step: tuple[float, ...] = ()
    skipped: int = 0

    @property
    def compared(self) -> bool:
        return self.max_abs is not None

    @property
    def first_over(self) -> int | None:
        """The first timestep whose error exceeds the tolerance, or None: where a drift starts,
        or where a half-float backend's error grows past its tolerance."""
        return next((step for step, error in enumerate(self.per_step) if error > self.tolerance),
                    None)

    def worst_text(self) -> str:
        """Where the largest error is: 't=12', 'last (t=9)' for an output without time axis."""
        if self.worst_step is None:
            return "-"
        where = f"last (t={self.worst_step})" if self.final_only else f"t={self.worst_step}"
        return f"out{self.worst_output} {where}" if self.outputs > 1 else where


def compare(case: str, pair: str, a: Outputs, b: Outputs, tolerance: float,
            steps: int, masks: Sequence[np.ndarray | None] = ()) -> Row:
    """Max abs and relative error, the worst timestep and the error per timestep of a vs b.

    Outputs with a time axis (`[batch, steps, ...]`) are measured per step; an output without one
    (the last step's output, or a state) counts at the last step; `per_step` is NaN at steps no
    output shows. Relative error is
    |a - b| / max(|a|, |b|, tolerance). NaN on one side only counts as an infinite error.
    `masks` (one per output, None for none) are the output masks: a model's output means nothing
    where its mask is False (Keras's losses and metrics skip those positions), so they are not
    compared; the row counts them in `skipped` and says so in its note.
    """
    if len(a) != len(b):
        return Row(case, pair, "FAIL", tolerance, note=f"{len(a)} outputs against {len(b)}")
    per_step = np.full(max(steps, 1), np.nan)
    worst = (-1.0, 0, 0, False)
    max_rel = 0.0
    skipped = total = 0
    for index, (x, y) in enumerate(zip(a, b, strict=True)):
        if x.shape != y.shape:
            return Row(case, pair, "FAIL", tolerance, outputs=len(a),
                       note=f"output {index}: shape {list(x.shape)} against {list(y.shape)}")
        x, y = x.astype(np.float64), y.astype(np.float64)
        error = np.where(np.isnan(x) & np.isnan(y), 0.0, np.abs(x - y))
        error = np.where(np.isnan(error), np.inf, error)
        keep = kept_positions(masks[index] if index < len(masks) else None, error.shape)
        if keep is not None:
            error = np.where(keep, error, 0.0)
            skipped += int(keep.size - np.count_nonzero(keep))
            total += int(keep.size)
        scale = np.maximum(np.maximum(np.abs(np.nan_to_num(x)), np.abs(np.nan_to_num(y))),
                           tolerance)
        max_rel = max(max_rel, float((error / scale).max(initial=0.0)))
        timed = error.ndim >= 3 and error.shape[1] == steps
        if timed:
            step_error = error.max(axis=tuple(i for i in range(error.ndim) if i != 1))
            per_step = np.fmax(per_step, step_error)
            step = int(np.argmax(step_error))
            value = float(step_error[step])
        else:
            step, value = len(per_step) - 1, float(error.max(initial=0.0))
            per_step[step] = np.fmax(per_step[step], value)
        if value > worst[0]:
            worst = (value, step, index, not timed)
    max_abs, step, output, final_only = worst
    status = "pass" if max_abs <= tolerance else "FAIL"
    where = (step, output) if max_abs > 0 else (None, None)
    note = (f"{skipped} of {total} positions skipped: the output mask marks them padding, "
            "which Keras's losses and metrics skip too") if skipped else ""
    return Row(case, pair, status, tolerance, max_abs, max_rel, *where, len(a), final_only,
               note=note, per_step=tuple(float(e) for e in per_step), skipped=skipped)


def kept_positions(mask: np.ndarray | None, shape: tuple) -> np.ndarray | None:
    """The `[batch, steps, 1...]` booleans of an output's mask, broadcastable to the output's
    `shape`; None when there is no mask or it does not fit the output's leading axes."""
    if mask is None:
        return None
    mask = np.asarray(mask, bool)
    if mask.ndim >= len(shape) or tuple(mask.shape) != tuple(shape[:mask.ndim]):
        return None
    return mask.reshape(mask.shape + (1,) * (len(shape) - mask.ndim))


def steps_of(inputs: Sequence[np.ndarray]) -> int:
    """Timesteps of the first input: axis 1 of [batch, steps, features], or of integer tokens
    [batch, steps] (an Embedding's input)."""
    first = np.asarray(inputs[0]) if inputs else np.zeros((1,))
    timed = first.ndim >= 3 or (first.ndim == 2 and first.dtype.kind in "iu")
    return int(first.shape[1]) if timed else 1


def exit_status(rows: Sequence[Row]) -> int:
    """1 when a pair failed or nothing at all was compared, else 0."""
    failed = any(row.status == "FAIL" for row in rows)
    return 1 if failed or not any(row.compared for row in rows) else 0


def summary_line(rows: Sequence[Row]) -> str:
    """'12 passed, 1 failed, 14 skipped, 2 n/a' (and a warning when nothing was compared)."""
    counts = {status: sum(row.status == status for row in rows)
              for status in ("pass", "FAIL", "skipped", "n/a")}
    text = (f"{counts['pass']} passed, {counts['FAIL']} failed, {counts['skipped']} skipped "
            f"(runtime not installed or cannot start), {counts['n/a']} n/a (runtime cannot "
            "compute the model)")
    if not any(row.compared for row in rows):
        text += "; nothing was compared"
    return text


HEADER = ("case", "runtime pair", "max abs err", "max rel err", "worst timestep",
          "first over tol", "tolerance", "result")


def table_cells(row: Row) -> tuple[str, ...]:
    """The row as the table shows it (the report uses the same text)."""
    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.3g}"

    result = row.status if not row.note else f"{row.status}: {row.note}"
    first = "-" if row.first_over is None else f"t={row.first_over}"
    return (row.case, row.pair, number(row.max_abs), number(row.max_rel), row.worst_text(),
            first, f"{row.tolerance:g}", result)


def format_table(rows: Sequence[Row]) -> str:
    """A plain-text table, one line per row, columns aligned."""
    cells = [HEADER, *(table_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER) - 1)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)),
                                line[-1]]).rstrip() for line in cells)
