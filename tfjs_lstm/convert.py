"""`load` and `convert`: any supported file into the canonical model, and out again.

Formats by path: a folder or `model.json` is a tfjs layers model; `.keras` is Keras 3; `.h5` is
a tf-keras 2.x (or Keras 3 legacy) HDF5 model.
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError, reading
from .model import Model
from .runtime.memory import require_memory

if TYPE_CHECKING:
    from .golden.rows import Row

TARGETS = ("tfjs", "keras3", "keras2")


def detect_format(path: str | os.PathLike) -> str:
    """'tfjs', 'keras3' or 'keras2' (an .h5 file), from the path."""
    path = Path(path)
    if path.is_dir() or path.name.endswith(".json"):
        return "tfjs"
    if path.suffix == ".keras":
        return "keras3"
    if path.suffix in (".h5", ".hdf5"):
        return "keras2"
    raise InputError("unknown model format (expected a tfjs folder or model.json, a .keras "
                     "or a .h5 file)", file=str(path))


def load(path: str | os.PathLike, as_format: str | None = None) -> Model:
    """Read a model file or folder into the canonical model, weights included; `as_format`
    ('tfjs', 'keras3' or 'keras2') overrides what the path suggests."""
    source = as_format or detect_format(path)
    where = str(path)
    if source == "tfjs":
        from .formats.tfjs_model import model_json_path
        from .formats.tfjs_model import read_tfjs_model as reader

        where = str(model_json_path(path))
    elif source == "keras2":
        from .formats.keras_h5 import read_keras_h5 as reader
    else:
        from .formats.keras3_file import read_keras3 as reader
    with reading(where):
        return reader(path)


def target_of(destination: str | os.PathLike, to: str | None) -> str:
    if to is not None:
        if to not in TARGETS:
            raise InputError(f"unknown target '{to}' (known: {', '.join(TARGETS)})")
        return to
    name = str(destination)
    if name.endswith(".keras"):
        return "keras3"
    return "keras2" if name.endswith((".h5", ".hdf5")) else "tfjs"


def save(model: Model, destination: str | os.PathLike, to: str | None = None, *,
         progress: Callable[[int, int], None] | None = None, **options: Any) -> dict[str, Any]:
    """Write the canonical model; returns what was written (shards, bytes, transforms).
    `progress(bytes written, total bytes)` follows the weights of tfjs and .keras output."""
    target = target_of(destination, to)
    if target == "tfjs":
        from .formats.tfjs_model import write_tfjs_model

        return write_tfjs_model(model, destination, progress=progress, **options)
    if target == "keras2":
        from .formats.keras_h5 import write_keras_h5

        return write_keras_h5(model, destination)
    from .formats.keras3_file import write_keras3

    return write_keras3(model, destination, progress=progress)


def quantize_plan(model: Model, *, float16: str | None = None, uint8: str | None = None,
                  uint16: str | None = None) -> dict[str, str]:
    """Weight name -> quantization, from the converter-style options.

    Each option is None (off), "*" (every weight) or comma-separated fnmatch patterns over tfjs
    weight names such as `lstm_1/kernel,*/bias`. A weight matched by two options is an error.
    """
    from .formats.topology import tfjs_weight_index

    plan: dict[str, str] = {}
    names = list(tfjs_weight_index(model))
    for method, patterns in (("float16", float16), ("uint8", uint8), ("uint16", uint16)):
        if patterns is None:
            continue
        for name in names:
            if any(fnmatch.fnmatchcase(name, p.strip()) for p in patterns.split(",")):
                if name in plan:
                    raise InputError(f"weight '{name}' matches both --quantize_{plan[name]} "
                                     f"and --quantize_{method}")
                plan[name] = method
    return plan


def convert(source: str | os.PathLike, destination: str | os.PathLike, *,
            to: str | None = None, progress: Callable[[int, int], None] | None = None,
            **options: Any) -> dict[str, Any]:
    """Convert a model file, exactly or not at all (NotExpressibleError before writing)."""
    _check_destination(source, destination)
    model = load(source)
    quantize = {k: options.pop(k) for k in ("float16", "uint8", "uint16") if k in options}
    if any(v is not None for v in quantize.values()):
        if target_of(destination, to) != "tfjs":
            raise InputError("quantization applies to tfjs output only")
        options["quantize"] = quantize_plan(model, **quantize)
    if options.get("companion") and target_of(destination, to) != "tfjs":
        raise InputError("--companion applies to tfjs output only")
    report = save(model, destination, to, progress=progress, **options)
    report["layers"] = len(model.layers)
    report["params"] = sum(int(np.prod(a.shape)) for arrays in model.weights.values()
                           for a in arrays.values())
    return report


def _check_destination(source: str | os.PathLike, destination: str | os.PathLike) -> None:
    """Refuse a destination whose replacement would delete the source: the source itself, a
    folder holding it, or (a tfjs source) an existing entry of its folder."""
    def real(path: str | os.PathLike) -> Path:  # the last part unresolved: a link is replaced
        path = Path(os.path.abspath(path))
        return Path(os.path.realpath(path.parent)) / path.name if path.name else path

    if detect_format(source) == "tfjs":
        from .formats.tfjs_model import model_json_path

        held = Path(os.path.realpath(model_json_path(source).parent))
    else:
        held = Path(os.path.realpath(source))
    target = real(destination)
    if target == held or target in held.parents or \
            (target.parent == held and os.path.lexists(target) and held.is_dir()):
        raise InputError(f"the destination holds the source {str(source)!r}; writing it would "
                         "replace the model being converted", file=str(destination))


def random_inputs(model: Model, batch: int = 2, seed: int = 0) -> list[np.ndarray]:
    """Inputs of the model's declared shapes (unknown sizes: batch `batch`, 7 steps): normal
    float32 values, or int32 ids in [0, input_dim) for an input that feeds an Embedding,
    which refuses anything else."""
    rng = np.random.default_rng(seed)
    arrays = []
    for ref in model.inputs:
        shape = model.layers[ref.layer].batch_input_shape
        concrete = [batch if i == 0 and d is None else (7 if d is None else d)
                    for i, d in enumerate(shape)]
        require_memory(8 * math.prod(concrete), f"a random input of shape {concrete}")
        vocabularies = _vocabularies(model, ref)
        if vocabularies:
            arrays.append(rng.integers(0, min(vocabularies), concrete, dtype=np.int32))
        else:
            arrays.append(rng.normal(0, 1, concrete).astype(np.float32))
    return arrays


MOVING_LAYERS = ("Reshape", "Flatten", "Permute", "RepeatVector")
"""Layers that only move values: an Embedding after one still reads the model's input ids."""


def _vocabularies(model: Model, ref: Any) -> list[int]:
    """The input_dim of every Embedding the input `ref` reaches directly or through
    MOVING_LAYERS (tfjs's own nested-model test feeds ids through a Reshape)."""
    from .model import TensorRef

    found, frontier, seen = [], [ref], set()
    while frontier:
        tensor = frontier.pop()
        nodes: dict[str, int] = {}
        for call in model.calls:
            node = nodes[call.layer] = nodes.get(call.layer, -1) + 1
            if tensor not in call.inputs or (call.layer, node) in seen:
                continue
            seen.add((call.layer, node))
            config = model.layers[call.layer]
            if config.class_name == "Embedding":
                found.append(config.input_dim)
            elif config.class_name in MOVING_LAYERS:
                frontier.append(TensorRef(call.layer, node, 0))
    return found


def quantization_errors(source: str | os.PathLike, destination: str | os.PathLike
                        ) -> list[tuple[str, float, float]]:
    """(weight, max abs error, stated bound) of every quantized weight of a tfjs folder.

    The bound is what the quantization implies (tfjs_weights.dequantization_bound); weights
    rescaled by a transform are compared with the transformed source weights.
    """
    import json

    from .formats.tfjs_model import model_json_path
    from .formats.tfjs_weights import dequantization_bound
    from .formats.topology import model_to_topology, tfjs_weight_index

    manifest = json.loads(model_json_path(destination).read_text(encoding="utf-8"))
    entries = {w["name"]: w["quantization"] for group in manifest["weightsManifest"]
               for w in group["weights"] if w.get("quantization")}
    _, expected, _, _ = model_to_topology(load(source))
    written_model = load(destination, "tfjs")
    written, index = written_model.weights, tfjs_weight_index(written_model)
    rows = []
    for name, quantization in entries.items():
        layer, weight = index[name]
        original = np.asarray(expected[layer][weight], np.float64)
        error = float(np.abs(written[layer][weight] - original).max(initial=0.0))
        bound = dequantization_bound(quantization)
        if quantization["dtype"] == "float16":
            bound = bound * float(np.abs(original).max(initial=0.0)) + 2.0**-25
        rows.append((name, error, bound))
    return rows


def check(source: str | os.PathLike, destination: str | os.PathLike,
          inputs: list[np.ndarray] | None = None, to: str | None = None) -> float:
    """Max abs difference between the two models' outputs in the reference runtime, on the
    positions the output masks keep; `to` is the destination's format when its path does not
    say it (as for `convert --to`)."""
    return compared(source, destination, inputs, to).max_abs or 0.0


def compared(source: str | os.PathLike, destination: str | os.PathLike,
             inputs: list[np.ndarray] | None = None, to: str | None = None,
             tolerance: float = 1e-5) -> Row:
    """The golden table row of the two models in the reference runtime: max abs error where
    the source's output masks keep, and how many masked positions were skipped."""
    from .golden import compare, kept_masks, steps_of
    from .runtime.engine import run

    a, b = load(source), load(destination, to)
    inputs = inputs if inputs is not None else random_inputs(a)
    return compare(f"{Path(source).name}->{Path(destination).name}", "reference",
                   run(a, inputs), run(b, inputs), tolerance, steps_of(inputs),
                   kept_masks(a, inputs))
