"""Checking: every case in every chosen runtime against the stored outputs, or a user's model
against its conversion."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, TfjsLstmError
from .files import DEFAULT_TOLERANCE, Outputs, discover, load_case
from .rows import Row, compare, steps_of
from .runtimes import RUNTIME_TABLE, RUNTIMES, NotRun, run_all


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
    from ..convert import detect_format, load, random_inputs

    files = {"source": Path(source), "target": Path(target)}
    model = load(files["source"])
    inputs = random_inputs(model) if inputs is None else inputs
    _check_inputs(model, inputs, str(files["source"]))
    wanted = [(name, role) for role in files for name in runtimes
              if name == "reference" or RUNTIME_TABLE[name].native == detect_format(files[role])]
    results = run_all({name: [(files[role], inputs) for n, role in wanted if n == name]
                       for name in dict.fromkeys(name for name, _ in wanted)})
    case = f"{files['source'].name}->{files['target'].name}"
    masks = kept_masks(model, inputs)
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
