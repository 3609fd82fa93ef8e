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
from ..errors import InputError
from ..model import Model
from .atomic import staged_folder
from .tfjs_constraints import as_loaded, keeping_weights
from .tfjs_weights import read_weights, write_weights
from .topology import assign_weights, model_to_topology, tfjs_weight_names, topology_to_model
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
    topology, pointer = document["modelTopology"], "/modelTopology"
    if "model_config" in topology:
        topology, pointer = topology["model_config"], pointer + "/model_config"
    model = topology_to_model(topology, where, pointer)
    model.source = str(document.get("generatedBy") or "")
    manifest = document.get("weightsManifest") or []
    arrays = read_weights(file.parent, manifest, model_file=file.name)
    model.weights = assign_weights(model, arrays, where)
    return as_loaded(model)


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
               for full_name, array in zip(tfjs_weight_names(model, layer, list(arrays)),
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
