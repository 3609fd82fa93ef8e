"""A pytest helper for users' own suites: two models must compute the same outputs.

    from tfjs_lstm.testing import assert_same_outputs

    def test_web_model_matches():
        assert_same_outputs("model.keras", "web_model/")

Each side is a path (run in its own runtime: Keras 3 for `.keras`, tf-keras for `.h5`,
TensorFlow.js for a tfjs folder, on each of `tfjs_backends`; the reference runtime with a warning
when that runtime is not installed), a loaded `tfjs_lstm.model.Model` (reference runtime) or a
Keras model object (its own `predict`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .golden import (
    DEFAULT_TOLERANCE,
    RUNTIME_TABLE,
    NotRun,
    Row,
    compare,
    format_table,
    parse_runtimes,
    tfjs_runtime,
)
from .model import Model


def assert_same_outputs(a: Any, b: Any, inputs: Any = None, atol: float | None = None,
                        tfjs_backends: Sequence[str] = ("cpu",)) -> Row:
    """Fail with the table rows unless a and b give outputs within `atol` (max abs error).

    `inputs`: an array or a list of arrays, one per model input; by default seeded random
    inputs of the models' declared input shapes (unknown sizes: batch 2, 7 steps).
    Positions an output's mask marks padding are not compared (the row says how many).
    `tfjs_backends`: a tfjs folder runs on each (cpu, wasm, webgl, webgl-f16), each compared;
    `atol` defaults to 1e-5, or the backend's measured tolerance when larger (webgl-f16: 2e-2).
    Returns the compared row with the largest error relative to its atol.
    """
    parse_runtimes("tfjs", ",".join(tfjs_backends))  # unknown backends fail here
    arrays = _inputs(a, b, inputs)
    first = np.asarray(arrays[0])
    steps = int(first.shape[1]) if first.ndim >= 3 else 1
    masks = _masks(a, b, arrays)
    rows, done = [], {}
    for backend in tfjs_backends:
        for key, side in (("a", a), ("b", b)):  # a side not in TensorFlow.js runs once
            if key not in done or _runs_on_tfjs(side):
                done[key] = _outputs(side, arrays, backend)
        (label_a, outputs_a), (label_b, outputs_b) = done["a"], done["b"]
        tolerance = atol if atol is not None else max(
            DEFAULT_TOLERANCE, *(RUNTIME_TABLE[label].tolerance for label in (label_a, label_b)))
        rows.append(compare(f"{_name(a)} / {_name(b)}", f"{label_a} vs {label_b}", outputs_a,
                            outputs_b, tolerance, steps, masks))
        if not any(_runs_on_tfjs(side) for side in (a, b)):
            break  # no side runs in TensorFlow.js: one comparison says it all
    failed = [row for row in rows if row.status != "pass"]
    if failed:
        limits = ", ".join(dict.fromkeys(f"{row.tolerance:g}" for row in failed))
        raise AssertionError(f"outputs differ beyond atol={limits}:\n{format_table(failed)}")
    return max(rows, key=lambda row: (row.max_abs or 0.0) / row.tolerance)


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _name(value: Any) -> str:
    if _is_path(value):
        return Path(value).name
    return str(getattr(value, "name", type(value).__name__))


def _inputs(a: Any, b: Any, inputs: Any) -> list[np.ndarray]:
    from .convert import load, random_inputs

    if inputs is not None:
        listed = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        return [np.asarray(x) for x in listed]
    for side in (a, b):
        if isinstance(side, Model):
            return random_inputs(side)
        if _is_path(side):
            return random_inputs(load(side))
    rng = np.random.default_rng(0)
    shapes = [tuple(tensor.shape) for tensor in a.inputs]
    return [rng.normal(0, 1, [2 if i == 0 and d is None else (7 if d is None else d)
                              for i, d in enumerate(shape)]).astype(np.float32)
            for shape in shapes]


def _masks(a: Any, b: Any, inputs: list[np.ndarray]) -> list[np.ndarray | None]:
    """The output masks: from the first side the reference runtime reads, else from Keras's
    own call of the first side (`_keras_mask` on each output), made only when a mask enters
    and no layer is stateful (a call would move its states)."""
    from .golden import kept_masks

    for side in (a, b):
        if isinstance(side, Model) or _is_path(side):
            return kept_masks(side, inputs)
    layers = getattr(a, "layers", [])
    if not any(getattr(layer, "mask_zero", False) or type(layer).__name__ == "Masking"
               for layer in layers) or any(getattr(layer, "stateful", False)
                                           for layer in layers):
        return []
    outputs = a(inputs[0] if len(inputs) == 1 else inputs, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    masks = [getattr(output, "_keras_mask", None) for output in outputs]
    return [None if mask is None else np.asarray(mask, bool) for mask in masks]


def _runs_on_tfjs(side: Any) -> bool:
    from .convert import detect_format

    return _is_path(side) and detect_format(side) == "tfjs"


def _outputs(side: Any, inputs: list[np.ndarray], backend: str) -> tuple[str, list[np.ndarray]]:
    """(runtime label, outputs) of one side; a tfjs folder on `backend`."""
    from .convert import detect_format
    from .runtime.engine import run

    if isinstance(side, Model):
        return "reference", [np.asarray(o, np.float32) for o in run(side, inputs)]
    if _is_path(side):
        found = detect_format(side)
        runtime = RUNTIME_TABLE[tfjs_runtime(backend) if found == "tfjs" else found]
        reason = runtime.missing()
        if reason is not None:
            warnings.warn(f"{runtime.label} is not installed ({reason}): {side} runs in the "
                          "reference runtime instead", stacklevel=3)
            runtime = RUNTIME_TABLE["reference"]
        [result] = runtime.run([(Path(side), inputs)])
        if isinstance(result, NotRun):
            raise AssertionError(f"{side}: {result.reason}")
        return runtime.name, result
    if hasattr(side, "predict"):
        label = "keras2" if type(side).__module__.startswith("tf_keras") else "keras3"
        outputs = side.predict(inputs[0] if len(inputs) == 1 else inputs, verbose=0)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return label, [np.asarray(o, np.float32) for o in outputs]
    raise TypeError(f"expected a path, a tfjs_lstm Model or a Keras model, got "
                    f"{type(side).__name__}")
