"""What tensorflowjs_converter 4.22 writes for Keras 3 models (`.h5` with `--input_format
keras`, `.keras` with `keras_keras`), built without the converter, which is not installed here.

Read at tag tfjs-v4.22.0 in `tfjs-converter/python/tensorflowjs/converters/keras_h5_conversion.py`
(`h5_merged_saved_model_to_tfjs_format`, `write_artifacts`): the h5's `model_config` attribute is
copied verbatim as `modelTopology.model_config` beside `keras_version`, `backend` and
`training_config`; each layer group's `weight_names` (without `:0`) name the weights, in one
group of 4 MiB shards; `generatedBy` is `keras v<keras_version>`.
"""

from __future__ import annotations

import json
from pathlib import Path

CONVERTED_BY = "TensorFlow.js Converter v4.22.0"


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def convert_keras_h5(h5_path: Path, folder: Path) -> Path:
    """Write the converter's model.json and shards for a Keras `.h5`; returns the model.json."""
    import h5py
    import numpy as np

    from tfjs_lstm.formats.tfjs_weights import write_weights

    with h5py.File(h5_path, "r") as h5:
        topology = {"keras_version": _text(h5.attrs["keras_version"]),
                    "backend": _text(h5.attrs["backend"]),
                    "model_config": json.loads(_text(h5.attrs["model_config"]))}
        if "training_config" in h5.attrs:
            topology["training_config"] = json.loads(_text(h5.attrs["training_config"]))
        weights = []
        group = h5["model_weights"]
        for layer in group:
            for name in group[layer].attrs.get("weight_names", []):
                name = _text(name)
                weights.append((name.removesuffix(":0"),
                                np.asarray(group[layer][name], np.float32)))
    folder.mkdir(parents=True, exist_ok=True)
    manifest = write_weights(folder, weights)
    document = {"format": "layers-model", "generatedBy": f"keras v{topology['keras_version']}",
                "convertedBy": CONVERTED_BY, "modelTopology": topology,
                "weightsManifest": manifest}
    path = folder / "model.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _without_keys(value, keys: tuple[str, ...]):
    """`_discard_v3_keys`: the converter drops these keys at every depth of config.json."""
    if isinstance(value, dict):
        return {k: _without_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without_keys(v, keys) for v in value]
    return value


def convert_keras_file(keras_path: Path, folder: Path) -> Path:
    """The converter's `--input_format keras_keras` route for a `.keras` file
    (`h5_v3_merged_saved_model_to_tfjs_format`): config.json without `module`,
    `registered_name` and `date_saved` as model_config beside metadata's keras_version (no
    backend), and every dataset of model.weights.h5 named by its path in the file
    (`layers/lstm/cell/vars/0`), walking groups in h5py's order."""
    import io
    import zipfile

    import h5py
    import numpy as np

    from tfjs_lstm.formats.tfjs_weights import write_weights

    with zipfile.ZipFile(keras_path) as archive:
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
        weights_file = io.BytesIO(archive.read("model.weights.h5"))
    weights = []

    def walk(group, prefix: str) -> None:
        for key in group:
            if isinstance(group[key], h5py.Group):
                walk(group[key], f"{prefix}{key}/")
            else:
                weights.extend((f"{prefix}{name}", np.asarray(group[name], np.float32))
                               for name in group)
                break

    with h5py.File(weights_file, "r") as h5:
        walk(h5, "")
    topology = {"keras_version": metadata["keras_version"],
                "model_config": _without_keys(config, ("module", "registered_name",
                                                       "date_saved"))}
    folder.mkdir(parents=True, exist_ok=True)
    document = {"format": "layers-model", "generatedBy": f"keras v{metadata['keras_version']}",
                "convertedBy": CONVERTED_BY, "modelTopology": topology,
                "weightsManifest": write_weights(folder, weights)}
    path = folder / "model.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path
