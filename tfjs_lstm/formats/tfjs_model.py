"""TensorFlow.js layers-model folders (`model.json` + binary shards) <-> canonical `Model`.

The topology is Keras-2-style JSON, the only form TensorFlow.js 4.22 loads: layer configs in the
`tfjs-json` dialect, `inbound_nodes` as nested lists, `batch_input_shape` on input layers.
tfjs matches weights to variables by name: `<layer>/<weight>` is what it writes and accepts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import InputError, NotExpressibleError
from ..model import Model
from .atomic import staged_folder
from .refusals import mask_problems, state_problems
from .tfjs_constraints import as_loaded, keeping_weights
from .tfjs_weights import read_weights, write_weights
from .topology import (
    assign_weights,
    check_weights,
    keras3_forms,
    model_to_topology,
    model_topology,
    tfjs_weight_names,
    topology_to_model,
)
from .untrusted import load_json_file

DEFAULT_SHARD_SIZE = 4 * 1024 * 1024


def model_json_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path / "model.json" if path.is_dir() else path


def read_tfjs_model(path: str | os.PathLike) -> Model:
    """Read a tfjs layers-model folder (or its model.json) with its weights."""
    file = model_json_path(path)
    where = str(file)
    document = load_json_file(file, "model.json")
    if not isinstance(document, dict) or not isinstance(document.get("modelTopology"), dict):
        raise InputError("not a tfjs layers model: no modelTopology object", file=where,
                         pointer="/modelTopology")
    if document.get("format", "layers-model") != "layers-model":
        raise InputError(f"format {document.get('format')!r} is not 'layers-model' (graph "
                         "models hold no layers to convert)", file=where, pointer="/format")
    model, keras3 = read_topology(document, where)
    manifest = document.get("weightsManifest") or []
    arrays = read_weights(file.parent, manifest, model_file=file.name)
    model.weights = match_weights(model, keras3, arrays, where)
    return model if keras3 else as_loaded(model)


def match_weights(model: Model, keras3: bool, arrays: dict[str, np.ndarray],
                  where: str) -> dict[str, dict[str, np.ndarray]]:
    """The manifest's arrays by layer, matched as the file's reader matches them: tfjs's rule,
    or for a Keras 3 topology also Keras 3's names (model-scoped, or model.weights.h5 paths)."""
    if keras3 and any(name.startswith("layers/") for name in arrays):
        return _weights_by_saved_path(model, arrays, where)
    return assign_weights(model, arrays, where, scope=model.name if keras3 else None)


def _weights_by_saved_path(model: Model, arrays: dict[str, np.ndarray],
                           where: str) -> dict[str, dict[str, np.ndarray]]:
    """The converter's `.keras` route names weights by their path in model.weights.h5
    (`layers/lstm/cell/vars/0`); the optimizer's variables it copies too cannot change
    outputs."""
    from .keras3_file import weights_at_paths

    by_layer = weights_at_paths(model, lambda path, shape: arrays.get(path), where)
    used = {id(array) for weights in by_layer.values() for array in weights.values()}
    unused = [name for name, array in arrays.items()
              if id(array) not in used and not name.startswith("optimizer/")]
    if unused:
        raise InputError(f"weight '{unused[0]}' matches no weight of this model's layers",
                         file=where, pointer="/weightsManifest")
    return check_weights(model, by_layer, where)


def read_topology(document: dict[str, Any], where: str,
                  notes: list[str] | None = None) -> tuple[Model, bool]:
    """The model of a model.json without weights, and whether it is a Keras 3 topology.

    The converter copies a Keras 3 model config verbatim, which TensorFlow.js 4.22 cannot load;
    such a file means what Keras 3 computes, so it is read as Keras 3 reads it (its weights as
    Keras 3 loads them: no constraints applied)."""
    from .keras3_file import config_to_model, strip_shared_ids

    topology, pointer = model_topology(document)
    keras3 = bool(keras3_forms(topology, pointer))
    if keras3:
        model = config_to_model(strip_shared_ids(topology), where, pointer)
    else:
        model = topology_to_model(topology, where, pointer, notes=notes)
        problems = mask_problems(model, "tfjs-json") + state_problems(model, "tfjs-json")
        if problems:  # tfjs computes these layers otherwise where a mask reaches them
            raise NotExpressibleError(problems, file=where, reading=True)
    model.source = str(document.get("generatedBy") or "")
    return model, keras3


def write_tfjs_model(model: Model, destination: str | os.PathLike, *,
                     shard_size_bytes: int = DEFAULT_SHARD_SIZE,
                     quantize: dict[str, str] | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     companion: bool = False) -> dict[str, Any]:
    """Write a tfjs layers-model folder atomically, shard by shard; returns what was written.
    `progress(bytes written, total bytes)` follows the shards; `companion` writes the companion
    package's classes where tfjs's own cannot compute a layer."""
    topology, weights, transforms, notes = model_to_topology(model, companion=companion)
    unconstrained, dropped = keeping_weights(model, weights)
    if dropped:
        topology, weights, transforms, notes = model_to_topology(unconstrained,
                                                                 companion=companion)
        notes = [*notes, *dropped]
    ordered = [(full_name, np.asarray(array, np.float32))
               for layer, arrays in weights.items()
               for full_name, array in zip(tfjs_weight_names(model, layer, list(arrays), False),
                                           arrays.values(), strict=True)]
    with staged_folder(destination) as stage:
        manifest = write_weights(stage, ordered, shard_size_bytes=shard_size_bytes,
                                 quantize={n: m for n, m in (quantize or {}).items()},
                                 progress=progress)
        document = {
            "format": "layers-model",
            "generatedBy": model.source or "unknown",
            "convertedBy": f"tfjs-lstm {__version__}",
            "modelTopology": topology,
            "weightsManifest": manifest,
        }
        (stage / "model.json").write_text(json.dumps(document), encoding="utf-8")
    return {"shards": manifest[0]["paths"] if manifest else [], "transforms": transforms,
            "notes": notes, "weights": len(ordered),
            "bytes": sum(os.path.getsize(Path(destination) / p)
                         for p in (manifest[0]["paths"] if manifest else []))}
