"""`load` and `convert`: any supported file into the canonical model, and out again.

Formats by path: a folder or `model.json` is a tfjs layers model; `.keras` is Keras 3.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .model import Model

TARGETS = ("tfjs", "keras3")


def detect_format(path: str | os.PathLike) -> str:
    """'tfjs' or 'keras3', from the path."""
    path = Path(path)
    if path.is_dir() or path.name.endswith(".json"):
        return "tfjs"
    if path.suffix == ".keras":
        return "keras3"
    if path.suffix in (".h5", ".hdf5"):
        raise InputError("Keras .h5 files are not supported yet; save as .keras",
                         file=str(path))
    raise InputError("unknown model format (expected a tfjs folder or model.json, or a "
                     ".keras file)", file=str(path))


def load(path: str | os.PathLike) -> Model:
    """Read a model file or folder into the canonical model, weights included."""
    source = detect_format(path)
    if source == "tfjs":
        from .formats.tfjs_model import read_tfjs_model

        return read_tfjs_model(path)
    from .formats.keras3_file import read_keras3

    return read_keras3(path)


def target_of(destination: str | os.PathLike, to: str | None) -> str:
    if to is not None:
        if to not in TARGETS:
            raise InputError(f"unknown target '{to}' (known: {', '.join(TARGETS)})")
        return to
    return "keras3" if str(destination).endswith(".keras") else "tfjs"


def save(model: Model, destination: str | os.PathLike, to: str | None = None,
         **options: Any) -> dict[str, Any]:
    """Write the canonical model; returns what was written (shards, bytes, transforms)."""
    target = target_of(destination, to)
    if target == "tfjs":
        from .formats.tfjs_model import write_tfjs_model

        return write_tfjs_model(model, destination, **options)
    from .formats.keras3_file import write_keras3

    return write_keras3(model, destination)


def convert(source: str | os.PathLike, destination: str | os.PathLike, *,
            to: str | None = None, **options: Any) -> dict[str, Any]:
    """Convert a model file, exactly or not at all (NotExpressibleError before writing)."""
    model = load(source)
    report = save(model, destination, to, **options)
    report["layers"] = len(model.layers)
    report["params"] = sum(int(np.prod(a.shape)) for arrays in model.weights.values()
                           for a in arrays.values())
    return report


def random_inputs(model: Model, batch: int = 2, seed: int = 0) -> list[np.ndarray]:
    """Inputs of the model's declared shapes (unknown sizes: batch `batch`, 7 steps)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for ref in model.inputs:
        shape = model.layers[ref.layer].batch_input_shape
        concrete = [batch if i == 0 and d is None else (7 if d is None else d)
                    for i, d in enumerate(shape)]
        arrays.append(rng.normal(0, 1, concrete).astype(np.float32))
    return arrays


def check(source: str | os.PathLike, destination: str | os.PathLike,
          inputs: list[np.ndarray] | None = None) -> float:
    """Max abs difference between the two models' outputs in the reference runtime."""
    from .runtime.engine import run

    a, b = load(source), load(destination)
    inputs = inputs if inputs is not None else random_inputs(a)
    return max(float(np.abs(x - y).max(initial=0.0))
               for x, y in zip(run(a, inputs), run(b, inputs), strict=True))
