"""A pytest helper for users' own suites: two models must compute the same outputs.

    from tfjs_lstm.testing import assert_same_outputs

    def test_web_model_matches():
        assert_same_outputs("model.keras", "web_model/")

Each side is a path (run in its own runtime: Keras 3 for `.keras`, tf-keras for `.h5`,
TensorFlow.js in Node for a tfjs folder; the reference runtime with a warning when that runtime
is not installed), a loaded `tfjs_lstm.model.Model` (reference runtime) or a Keras model object
(its own `predict`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .golden import RUNTIME_TABLE, NotRun, Row, compare, format_table
from .model import Model


def assert_same_outputs(a: Any, b: Any, inputs: Any = None, atol: float = 1e-5) -> Row:
    """Fail with the table row unless a and b give outputs within `atol` (max abs error).

    `inputs`: an array or a list of arrays, one per model input; by default seeded random
    inputs of the models' declared input shapes (unknown sizes: batch 2, 7 steps).
    Positions an output's mask marks padding are not compared (the row says how many).
    Returns the compared row (max abs and relative error, worst timestep, skipped positions).
    """
    arrays = _inputs(a, b, inputs)
    label_a, outputs_a = _outputs(a, arrays)
    label_b, outputs_b = _outputs(b, arrays)
    first = np.asarray(arrays[0])
    steps = int(first.shape[1]) if first.ndim >= 3 else 1
    row = compare(f"{_name(a)} / {_name(b)}", f"{label_a} vs {label_b}", outputs_a, outputs_b,
                  atol, steps, _masks(a, b, arrays))
    if row.status != "pass":
        raise AssertionError(f"outputs differ beyond atol={atol:g}:\n{format_table([row])}")
    return row


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


def _outputs(side: Any, inputs: list[np.ndarray]) -> tuple[str, list[np.ndarray]]:
    """(runtime label, outputs) of one side."""
    from .convert import detect_format
    from .runtime.engine import run

    if isinstance(side, Model):
        return "reference", [np.asarray(o, np.float32) for o in run(side, inputs)]
    if _is_path(side):
        runtime = RUNTIME_TABLE[detect_format(side)]
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
