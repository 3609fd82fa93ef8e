"""Keras `.h5` files <-> canonical `Model`.

tf-keras 2.x (and Keras 3's legacy `.h5`) keep the model config as the root attribute
`model_config` (JSON) and each layer's weights under `model_weights/<layer>/`, listed in order
by that group's `weight_names` attribute. Keras 3's legacy files carry a Keras 3 config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .. import __version__
from ..errors import InputError
from ..layers import REGISTRY
from ..model import Model
from ..runtime.engine import output_shapes
from .atomic import staged_file
from .topology import check_weights, model_to_topology, topology_to_model


def read_keras_h5(path: str | os.PathLike) -> Model:
    """Read a tf-keras (or Keras 3 legacy) `.h5` model file with its weights."""
    where = str(path)
    try:
        h5 = h5py.File(path, "r")
    except FileNotFoundError:
        raise InputError("no such file", file=where) from None
    except OSError as error:
        raise InputError(f"not an HDF5 file: {error}", file=where) from None
    with h5:
        raw = h5.attrs.get("model_config")
        if raw is None:
            raise InputError("no model_config attribute: a weights-only .h5 holds no model",
                             file=where)
        try:
            config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        except json.JSONDecodeError as error:
            raise InputError(f"model_config is not JSON: {error}", file=where,
                             pointer="@model_config") from None
        version = _text(h5.attrs.get("keras_version", ""))
        model = _config_to_model(config, f"{where}@model_config", version)
        model.source = f"keras v{version}"
        try:
            group = h5.get("model_weights", h5)
            weights = _read_weights(group, model, where)
        except (KeyError, OSError, ValueError) as error:  # h5py's errors for damaged files
            raise InputError(f"cannot read the weights: {error}", file=where,
                             pointer="/model_weights") from None
        model.weights = check_weights(model, weights, where)
    return model


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _config_to_model(config: dict[str, Any], file: str, version: str) -> Model:
    if version.startswith("3."):
        from .keras3_file import config_to_model

        return config_to_model(config, file)
    return topology_to_model(config, file, "", dialect="keras2")


def _read_weights(group: h5py.Group, model: Model, file: str) -> dict[str, dict[str, Any]]:
    """Weights by layer, matched to the layer description's names by order."""
    shapes = output_shapes(model)
    by_layer: dict[str, dict[str, np.ndarray]] = {}
    for name in model.layers:
        calls = model.layer_calls(name)
        if not calls or name not in group:
            continue
        names = [_text(n) for n in group[name].attrs.get("weight_names", [])]
        specs = model.weight_specs(name, [shapes[r] for r in calls[0].inputs])
        if len(names) != len(specs):
            raise InputError(f"layer '{name}' stores {len(names)} weights, its config implies "
                             f"{len(specs)}", file=file, pointer=f"/model_weights/{name}")
        by_layer[name] = {spec.name: _array(group[name][stored], file)
                          for spec, stored in zip(specs, names, strict=True)}
    return by_layer


def _array(dataset: h5py.Dataset, file: str) -> np.ndarray:
    """A weight's values: a read-only map of the file's own bytes where the dataset is stored
    whole and uncompressed (what Keras writes), so no copy is read; else read into memory."""
    offset = dataset.id.get_offset()
    dtype = dataset.dtype
    if offset is None or dataset.chunks is not None or dtype.kind != "f" or not dataset.size:
        return np.asarray(dataset[()])
    if offset + dataset.size * dtype.itemsize > os.path.getsize(file):
        raise InputError(f"weight '{dataset.name}' lies past the end of the file", file=file)
    return np.memmap(file, dtype=dtype, mode="r", offset=offset, shape=dataset.shape)


def write_keras_h5(model: Model, destination: str | os.PathLike) -> dict[str, Any]:
    """Write a `.h5` tf-keras 2.x loads with `tf_keras.models.load_model`; atomic."""
    topology, weights, transforms, notes = model_to_topology(model, "keras2")
    with staged_file(destination) as stage, h5py.File(stage, "w") as h5:
        h5.attrs["backend"] = "tensorflow"
        h5.attrs["keras_version"] = f"tfjs-lstm-{__version__}"
        h5.attrs["model_config"] = json.dumps({"class_name": topology["class_name"],
                                               "config": topology["config"]})
        group = h5.create_group("model_weights")
        group.attrs["backend"] = "tensorflow"
        group.attrs["keras_version"] = f"tfjs-lstm-{__version__}"
        group.attrs["layer_names"] = [n.encode() for n in model.layers]
        for name in model.layers:
            layer_group = group.create_group(name)
            arrays = weights.get(name, {})
            cell = REGISTRY[model.layers[name].class_name].cell_scope(model.layers[name])
            stored = [f"{name}/{cell + '/' if cell else ''}{weight}:0" for weight in arrays]
            layer_group.attrs["weight_names"] = [s.encode() for s in stored]
            for path, array in zip(stored, arrays.values(), strict=True):
                layer_group.create_dataset(path, data=np.asarray(array, np.float32))
    return {"transforms": transforms, "notes": notes,
            "weights": sum(len(w) for w in weights.values()),
            "bytes": Path(destination).stat().st_size}
