"""Keras `.h5` files <-> canonical `Model`.

tf-keras 2.x (and Keras 3's legacy `.h5`) keep the model config as the root attribute
`model_config` (JSON) and each layer's weights under `model_weights/<layer>/`, listed in order
by that group's `weight_names` attribute. Keras 3's legacy files carry a Keras 3 config.
Keras 2.0-2.3 files have the same layout; their CuDNNLSTM/CuDNNGRU layers read as the LSTM/GRU
they compute (cudnn.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .. import __version__
from ..errors import InputError, NotExpressibleError
from ..layers import REGISTRY
from ..model import Model, masked_layers
from ..runtime.engine import output_shapes
from .atomic import staged_file
from .cudnn import as_native, from_cudnn
from .hdf5 import H5_ERRORS, child, hdf5_reason, open_hdf5, read_dataset
from .refusals import mask_problems
from .topology import check_weights, model_to_topology, topology_to_model
from .untrusted import parse_json, regular_file


def read_keras_h5(path: str | os.PathLike) -> Model:
    """Read a tf-keras (or Keras 3 legacy) `.h5` model file with its weights."""
    where = str(regular_file(path, ".h5 file"))
    with open_hdf5(where, where) as h5:
        try:
            raw = h5.attrs.get("model_config")
            version = _text(h5.attrs.get("keras_version", ""))
        except H5_ERRORS as error:
            raise InputError(f"cannot read the file's attributes: {hdf5_reason(error)}",
                             file=where) from None
        if raw is None:
            raise InputError("no model_config attribute: a weights-only .h5 holds no model",
                             file=where)
        if not isinstance(raw, (bytes, str)):
            raise InputError("the model_config attribute is not text", file=where,
                             pointer="@model_config")
        config, cudnn = as_native(parse_json(raw, f"{where}@model_config"))
        model = _config_to_model(config, f"{where}@model_config", version)
        model.source = f"keras v{version}"
        model.family = "keras3" if version.startswith("3.") else ""
        masked = sorted(set(cudnn) & masked_layers(model))
        if masked:
            raise InputError(f"layer '{masked[0]}': a CuDNN layer does not support masking; "
                             "Keras refuses a mask reaching it", file=where)
        if model.family != "keras3":
            problems = mask_problems(model, _dialect(version))
            if problems:  # this Keras computes these layers otherwise where a mask reaches them
                raise NotExpressibleError(problems, file=where, reading=True)
        group = child(h5, "model_weights", where) or h5
        by_layer = _read_weights(group, model, where, cudnn)
        for name, kind in cudnn.items():
            by_layer[name] = from_cudnn(kind, by_layer.get(name, {}))
        model.weights = check_weights(model, by_layer, where)
    return model


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _config_to_model(config: Any, file: str, version: str) -> Model:
    if version.startswith("3."):
        from .keras3_file import config_to_model

        return config_to_model(config, file)
    return topology_to_model(config, file, "", dialect=_dialect(version))


def _dialect(version: str) -> str:
    """The dialect of a Keras 2 file. Standalone Keras 2.0-2.2 left out keys its layers
    lacked (GRU's reset_after before 2.1.3): they take that Keras's defaults, not tf.keras 2's."""
    standalone = version.startswith(("2.0.", "2.1.", "2.2.")) and "-tf" not in version
    return "keras2.2" if standalone else "keras2"


def _read_weights(group: Any, model: Model, file: str,
                  cudnn: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Weights by layer, matched to the layer description's names by order, as tf-keras loads
    them: a nested model's group lists all its layers' trainable weights, then all the others
    (its `weights` as `trainable_weights + non_trainable_weights`). A CuDNN layer's biases
    are read as stored, flat and twice as many (`cudnn.from_cudnn` converts them)."""
    shapes = output_shapes(model)
    specs: dict[str, list] = {}
    groups: dict[str, list[str]] = {}
    for name in model.layers:
        calls = model.layer_calls(name)
        if calls:
            specs[name] = model.weight_specs(name, [shapes[r] for r in calls[0].inputs])
            scope = model.scopes.get(name)
            groups.setdefault(scope[0][0] if scope else name, []).append(name)
    by_layer: dict[str, dict[str, np.ndarray]] = {}
    for group_name, members in groups.items():
        layer_group = child(group, group_name, file)
        if layer_group is None:
            continue
        at = f"{layer_group.name}@weight_names"
        try:
            stored = layer_group.attrs.get("weight_names", [])
            names = [_text(n) for n in np.asarray(stored).reshape(-1)]
        except (*H5_ERRORS, UnicodeError) as error:
            raise InputError(f"cannot read {at}: {hdf5_reason(error)}", file=file) from None
        ordered = [(name, spec) for trainable in (True, False) for name in members
                   for spec in specs[name]
                   if (spec.trainable and getattr(model.layers[name], "trainable", True))
                   == trainable]
        if len(names) != len(ordered):
            raise InputError(f"layer '{group_name}' stores {len(names)} weights, its config "
                             f"implies {len(ordered)}", file=file,
                             pointer=f"/model_weights/{group_name}")
        for (name, spec), weight in zip(ordered, names, strict=True):
            shape = spec.shape
            if name in cudnn and spec.name.endswith("bias"):
                shape = (int(np.prod(shape)) * (2 if cudnn[name] == "LSTM" else 1),)
            by_layer.setdefault(name, {})[spec.name] = read_dataset(
                child(layer_group, weight, file), shape, file, f"{layer_group.name}/{weight}")
    return by_layer


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
