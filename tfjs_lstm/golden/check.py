"""Checking: every case in every chosen runtime against the stored outputs, or a user's model
against its conversion."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, TfjsLstmError
from .files import DEFAULT_TOLERANCE, Outputs, discover, load_case
from .rows import Row, compare, steps_of
from .runtimes import RUNTIME_TABLE, RUNTIMES, NotRun, Unavailable, run_all


def check_cases(paths: Sequence[str | os.PathLike],
                runtimes: Sequence[str] = RUNTIMES) -> list[Row]:
    """Run every case in every runtime and compare with every stored runtime's outputs, within
    the case's tolerance or the runtime's own when its float noise needs more."""
    cases = [load_case(folder) for folder in discover(paths)]
    results = run_all({name: [(case.model_for(RUNTIME_TABLE[name].native or name), case.inputs)
                              for case in cases] for name in runtimes},
                      [case.calls for case in cases])
    rows = []
    for index, case in enumerate(cases):
        steps = steps_of(case.inputs)
        masks = kept_masks(case.model_for("reference"), case.inputs, case.calls)
        for name in runtimes:
            result = results[name]
            tolerance = max(case.tolerance, RUNTIME_TABLE[name].tolerance)
            if isinstance(result, str):
                rows.append(Row(case.name, name, "skipped", tolerance, note=result))
                continue
            outputs = result[index]
            if isinstance(outputs, NotRun):
                rows.append(Row(case.name, name, "FAIL" if outputs.failed else "n/a",
                                tolerance, note=outputs.reason))
                continue
            for stored, expected in case.expected.items():
                rows.append(compare(case.name, f"{name} vs {stored}.npz", outputs, expected,
                                    tolerance, steps, masks))
    return rows


def check_pair(source: str | os.PathLike, target: str | os.PathLike,
               runtimes: Sequence[str] = RUNTIMES, inputs: list[np.ndarray] | None = None,
               tolerance: float | None = None) -> list[Row]:
    """A user's pair (a model and its conversion): each file in the reference runtime and in
    its own runtime (Keras 3, tf-keras or TensorFlow.js), every pair of those compared, within
    `tolerance` (by default 1e-5, or either runtime's own when its float noise needs more)."""
    files, inputs, wanted = _pair_jobs(source, target, runtimes, inputs)
    results = run_all({name: [(files[role], inputs) for n, role in wanted if n == name]
                       for name in dict.fromkeys(name for name, _ in wanted)})
    case = f"{files['source'].name}->{files['target'].name}"
    masks = kept_masks(files["source"], inputs)
    done: list[tuple[str, float, Outputs]] = []
    rows = []
    seen: dict[str, int] = {}
    for name, role in wanted:
        result = results[name]
        label = f"{name}({role})"
        own = (max(DEFAULT_TOLERANCE, RUNTIME_TABLE[name].tolerance) if tolerance is None
               else tolerance)
        if isinstance(result, str):
            rows.append(Row(case, label, "skipped", own, note=result))
            continue
        outputs = result[seen.get(name, 0)]
        seen[name] = seen.get(name, 0) + 1
        if isinstance(outputs, NotRun):
            rows.append(Row(case, label, "FAIL", own, note=outputs.reason))
            continue
        for other, other_own, other_outputs in done:
            rows.append(compare(case, f"{other} vs {label}", other_outputs, outputs,
                                max(own, other_own), steps_of(inputs), masks))
        done.append((label, own, outputs))
    return rows


def kept_masks(model: Any, inputs: Sequence[np.ndarray], calls: int = 1
               ) -> list[np.ndarray | None]:
    """The output masks (a model or its path) for `inputs`, repeated for each predict call:
    comparisons skip what they mask. Empty when the reference runtime cannot run it."""
    from ..convert import load
    from ..runtime.engine import output_masks

    try:
        return output_masks(model if not isinstance(model, (str, os.PathLike)) else load(model),
                            inputs) * calls
    except TfjsLstmError:
        return []
@dataclass(frozen=True)
class Timing:
    """One runtime's predict time for one side of a pair: the median of the timed runs, or
    why it has none."""

    label: str
    median: float | None
    note: str = ""


def time_pair(source: str | os.PathLike, target: str | os.PathLike, runs: int,
              runtimes: Sequence[str] = RUNTIMES, inputs: list[np.ndarray] | None = None
              ) -> list[Timing]:
    """The median predict time of each side in each runtime `check_pair` runs it in, over
    `runs` predicts after one untimed warm-up."""
    files, inputs, wanted = _pair_jobs(source, target, runtimes, inputs)
    results: dict[str, list[list[float] | NotRun]] = {}
    for name in dict.fromkeys(name for name, _ in wanted):  # one process per runtime
        runtime = RUNTIME_TABLE[name]
        roles = [role for n, role in wanted if n == name]
        reason = runtime.missing()
        try:
            results[name] = ([NotRun(f"{runtime.label} not installed: {reason}")] * len(roles)
                             if reason else runtime.time([(files[r], inputs) for r in roles],
                                                         runs))
        except Unavailable as error:
            results[name] = [NotRun(str(error))] * len(roles)
    timings = []
    for name, role in wanted:
        result = results[name].pop(0)
        label = f"{name}({role})"
        timings.append(Timing(label, None, result.reason) if isinstance(result, NotRun)
                       else Timing(label, float(np.median(result))))
    return timings


def format_times(timings: Sequence[Timing], runs: int) -> str:
    """The timing lines `check --time` prints, with each time as a multiple of the reference
    runtime's on the same side."""
    lines = [f"median predict time over {runs} runs after 1 warm-up run:"]
    width = max((len(t.label) for t in timings), default=0)
    base = {t.label.partition("(")[2]: t.median for t in timings
            if t.label.startswith("reference(") and t.median}
    for timing in timings:
        if timing.median is None:
            lines.append(f"  {timing.label.ljust(width)}  -  {timing.note}")
            continue
        seconds = timing.median
        text = f"  {timing.label.ljust(width)}  " + (f"{seconds:.3g} s" if seconds >= 1 else
                                                      f"{seconds * 1000:.3g} ms")
        reference = base.get(timing.label.partition("(")[2])
        if reference and not timing.label.startswith("reference("):
            text += f"  ({timing.median / reference:.3g}x the reference runtime)"
        lines.append(text)
    return "\n".join(lines)


def _pair_jobs(source: str | os.PathLike, target: str | os.PathLike,
               runtimes: Sequence[str], inputs: list[np.ndarray] | None
               ) -> tuple[dict[str, Path], list[np.ndarray], list[tuple[str, str]]]:
    """The pair's files, its inputs (checked; random when not given) and the (runtime, role)
    pairs to run: each side in the reference runtime and in the chosen runtimes reading it."""
    from ..convert import detect_format, load, random_inputs

    files = {"source": Path(source), "target": Path(target)}
    model = load(files["source"])
    inputs = random_inputs(model) if inputs is None else inputs
    _check_inputs(model, inputs, str(files["source"]))
    wanted = [(name, role) for role in files for name in runtimes
              if name == "reference" or RUNTIME_TABLE[name].native == detect_format(files[role])]
    return files, inputs, wanted


def _check_inputs(model: Any, inputs: Sequence[np.ndarray], file: str) -> None:
    """Inputs must match the model's declared input shapes before any runtime sees them."""
    if len(inputs) != len(model.inputs):
        raise InputError(f"the model takes {len(model.inputs)} input(s), got {len(inputs)}",
                         file=file)
    for ref, array in zip(model.inputs, inputs, strict=True):
        declared = model.layers[ref.layer].batch_input_shape
        shape = np.shape(array)
        if len(declared) != len(shape) or any(d not in (None, n)
                                               for d, n in zip(declared, shape, strict=True)):
            text = ", ".join("null" if d is None else str(d) for d in declared)
            raise InputError(f"input '{ref.layer}' expects shape [{text}], got {list(shape)}",
                             file=file)
