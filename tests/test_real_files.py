"""Files as people have them: the converter's model.json layout, browser-download weight paths,
keys TensorFlow.js loads and ignores, topologies with camelCase keys (tfjs camelCases every
key it reads), and Keras 3 topologies the converter copies verbatim.

Every verdict is checked against TensorFlow.js 4.22 in Node (one process for the whole module):
what tfjs-lstm accepts, tfjs loads and computes alike; what it repairs, tfjs cannot load before
and computes as Keras 3 did after.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from converter_emulation import convert_keras_file, convert_keras_h5
from outputs import as_list, assert_close, randomize

from tfjs_lstm.casing import to_camel_case
from tfjs_lstm.cli import main
from tfjs_lstm.convert import load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.formats.tfjs_weights import write_weights
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.validate import validate_file

RNG_SEED = 11
X = np.random.default_rng(RNG_SEED).normal(0, 1, (2, 5, 3)).astype(np.float32)


def input_layer(**extra) -> dict:
    return {"class_name": "InputLayer", "config": {
        "batch_input_shape": [None, 5, 3], "dtype": "float32", "sparse": False,
        "name": "inp", **extra}}


def write_folder(folder: Path, layers: list[dict], weights: list[tuple[str, tuple]], *,
                 dot_slash: bool = False) -> Path:
    """A model.json in the converter's layout (model_config, training_config) with seeded
    weights of the given shapes; `dot_slash` names the shard as browser downloads do."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(RNG_SEED)
    arrays = [(name, rng.normal(0, 0.5, shape).astype(np.float32)) for name, shape in weights]
    manifest = write_weights(folder, arrays)
    if dot_slash:
        [shard] = manifest[0]["paths"]
        (folder / shard).rename(folder / "my-model.weights.bin")
        manifest[0]["paths"] = ["./my-model.weights.bin"]
    topology = {"keras_version": "2.2.4-tf", "backend": "tensorflow",
                "model_config": {"class_name": "Sequential",
                                 "config": {"name": "sequential", "layers": layers}},
                "training_config": {"loss": "mse", "metrics": [], "optimizer_config": {
                    "class_name": "Adam", "config": {"learning_rate": 0.001}}}}
    (folder / "model.json").write_text(json.dumps({
        "format": "layers-model", "generatedBy": "keras v2.2.4-tf",
        "convertedBy": "TensorFlow.js Converter v1.4.0", "modelTopology": topology,
        "weightsManifest": manifest}))
    return folder


def lstm_weights(layer: str, inputs: int, units: int, gates: int = 4
                 ) -> list[tuple[str, tuple]]:
    width = gates * units
    return [(f"{layer}/kernel", (inputs, width)), (f"{layer}/recurrent_kernel", (units, width)),
            (f"{layer}/bias", (width,))]


def gru(name: str, **extra) -> dict:
    return {"class_name": "GRU", "config": {"name": name, "units": 3, "reset_after": False,
                                            "recurrent_activation": "sigmoid", **extra}}


def lstm(**extra) -> dict:
    return {"class_name": "LSTM", "config": {"name": "lstm", "units": 4,
                                             "return_sequences": True, **extra}}


def bidirectional(backward: dict | None = None) -> dict:
    config = {"name": "bidi", "merge_mode": "concat", "layer": gru("gru")}
    return {"class_name": "Bidirectional",
            "config": config if backward is None else {**config, "backward_layer": backward}}


TFJS_FORM_WEIGHTS = [*lstm_weights("lstm", 3, 4), *lstm_weights("bidi/forward_gru", 4, 3, 3),
                     *lstm_weights("bidi/backward_gru", 4, 3, 3)]


def ignored_keys_layers() -> list[dict]:
    """Keys tfjs loads and ignores, each with a value that cannot change these outputs."""
    initializer = {"module": "keras.initializers", "class_name": "RandomUniform",
                   "config": {"minval": -0.05, "maxval": 0.05, "seed": None, "dtype": "float32"},
                   "registered_name": None}
    return [input_layer(optional=False, ragged=False),
            lstm(seed=7, zero_output_for_mask=True, kernel_initializer=initializer),
            bidirectional(gru("backward_gru", go_backwards=True))]


def pooled_layers(keepdims: bool = False) -> list[dict]:
    """An LSTM sequence pooled by a global pooling layer carrying the data_format and keepdims
    that Keras 2.21 writes, which tfjs's 1D global pooling layers ignore."""
    return [input_layer(), lstm(), {"class_name": "GlobalMaxPooling1D", "config": {
        "name": "pool", "data_format": "channels_last", "keepdims": keepdims}}]


def camel_keys(value):
    """A topology with every key camelCased, as a hand-written converter writes it."""
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    if isinstance(value, dict):
        return {to_camel_case(key): camel_keys(item) for key, item in value.items()}
    return value


def keras3_models(keras):
    """Keras 3 models the converter copies verbatim: a functional hard_sigmoid stack with a
    Bidirectional, a Sequential with Dropout and GRU(reset_after=False), and a default GRU."""
    layers = keras.layers
    rng = np.random.default_rng(RNG_SEED)
    inputs = keras.Input((5, 3))
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True,
                                         recurrent_activation="hard_sigmoid"))(inputs)
    x = layers.LSTM(3, recurrent_activation="hard_sigmoid")(x)
    functional = keras.Model(inputs, layers.Dense(2)(x))
    stacked = keras.Sequential([keras.Input((5, 3)), layers.LSTM(4, return_sequences=True),
                                layers.Dropout(0.2), layers.GRU(3, reset_after=False),
                                layers.Dense(2, activation="softmax")])
    default_gru = keras.Sequential([keras.Input((5, 3)), layers.GRU(3, name="reset_after_gru")])
    return {name: randomize(model, rng, 0.5) for name, model in
            (("functional", functional), ("stacked", stacked), ("default_gru", default_gru))}


@pytest.fixture(scope="module")
def world(keras3, tfjs, tmp_path_factory):
    """Every folder of this module, and what TensorFlow.js 4.22 made of each, in one Node run."""
    root = tmp_path_factory.mktemp("real")
    folders = {
        "converter_layout": write_folder(root / "converter_layout", [
            input_layer(), lstm(recurrent_activation="sigmoid"), bidirectional()],
            TFJS_FORM_WEIGHTS,
            dot_slash=True),
        "ignored_keys": write_folder(root / "ignored_keys", ignored_keys_layers(),
                                     TFJS_FORM_WEIGHTS),
    }
    folders["pooled"] = write_folder(root / "pooled", pooled_layers(),
                                     lstm_weights("lstm", 3, 4))
    folders["camel_keys"] = write_folder(root / "camel_keys", camel_keys(
        [input_layer(), lstm(recurrent_activation="sigmoid"), bidirectional()]),
        TFJS_FORM_WEIGHTS)
    folders["reset_after"] = write_folder(root / "reset_after", [
        input_layer(), gru("gru", reset_after=True)],
        [("gru/kernel", (3, 9)), ("gru/recurrent_kernel", (3, 9)), ("gru/bias", (2, 9))])
    renamed = root / "renamed_weight"
    shutil.copytree(folders["converter_layout"], renamed)
    document = json.loads((renamed / "model.json").read_text())
    document["weightsManifest"][0]["weights"][0]["name"] = "lstm/kernel_renamed"
    (renamed / "model.json").write_text(json.dumps(document))
    folders["renamed_weight"] = renamed
    expected = {}
    for name, model in keras3_models(keras3).items():
        model.save(root / f"{name}.h5")
        folders[f"broken_{name}"] = convert_keras_h5(root / f"{name}.h5", root / f"broken_{name}"
                                                     ).parent
        expected[name] = as_list(model.predict(X, verbose=0))
    model = keras3_models(keras3)["functional"]
    model.save(root / "functional.keras")
    folders["broken_keras_file"] = convert_keras_file(root / "functional.keras",
                                                      root / "broken_keras_file").parent
    expected["keras_file"] = as_list(model.predict(X, verbose=0))
    for name in ("functional", "stacked", "keras_file"):
        assert main(["convert", str(folders[f"broken_{name}"]), str(root / f"fixed_{name}")]) == 0
        folders[f"fixed_{name}"] = root / f"fixed_{name}"
    results = tfjs.predict_folders([(folder, [X]) for folder in folders.values()])
    return folders, dict(zip(folders, results, strict=True)), expected, root


@pytest.mark.parametrize("name", ["converter_layout", "ignored_keys", "pooled", "camel_keys"])
def test_tfjs_form_files_validate_and_run_as_tfjs_runs_them(world, name):
    folders, tfjs_outputs, _, _ = world
    report = validate_file(folders[name] / "model.json")
    assert report.ok, report.findings
    assert not isinstance(tfjs_outputs[name], str), tfjs_outputs[name]
    assert_close(run(load(folders[name]), [X]), tfjs_outputs[name], name)


def test_ignored_keys_are_warnings_naming_each_key(world, capsys):
    folders, _, _, _ = world
    path = folders["ignored_keys"] / "model.json"
    messages = "\n".join(w.message for w in validate_file(path).warnings)
    for key in ("seed", "zeroOutputForMask", "dtype of RandomUniform", "backwardLayer"):
        assert key in messages
    assert main(["validate", str(path)]) == 0
    assert main(["validate", "--strict", str(path)]) == 1
    assert "warning: " in capsys.readouterr().out
    assert not validate_file(folders["converter_layout"] / "model.json").warnings


@pytest.mark.parametrize(("change", "layer", "key"), [
    ("masked", "lstm", "zeroOutputForMask"),
    ("reset_after", "bidi/gru", "resetAfter"),
    ("custom_backward", "bidi", "backwardLayer"),
])
def test_ignored_keys_that_would_change_outputs_are_refused_by_name(tmp_path, change, layer,
                                                                    key):
    layers = ignored_keys_layers()
    if change == "masked":
        layers.insert(1, {"class_name": "Masking", "config": {"name": "mask", "mask_value": 0.0}})
    elif change == "reset_after":
        layers[2]["config"]["layer"]["config"]["reset_after"] = True
    else:
        layers[2]["config"]["backward_layer"]["config"]["activation"] = "relu"
    folder = write_folder(tmp_path / change, layers, TFJS_FORM_WEIGHTS)
    with pytest.raises(NotExpressibleError) as caught:
        load(folder)
    assert [(p.layer, p.key) for p in caught.value.problems] == [(layer, key)]
    [finding] = validate_file(folder / "model.json").findings
    assert finding.pointer.startswith("/modelTopology/model_config/config/layers/")


def test_camel_case_keys_read_as_tfjs_reads_them_one_key_with_the_snake_case_one(world):
    folders, tfjs_outputs, _, _ = world
    assert_close(tfjs_outputs["camel_keys"], tfjs_outputs["converter_layout"], "tfjs")
    topology = json.loads((folders["camel_keys"] / "model.json").read_text())["modelTopology"]
    layers = topology["model_config"]["config"]["layers"]
    assert "className" in layers[0] and "batchInputShape" in layers[0]["config"]


def test_keepdims_tfjs_ignores_is_refused_where_it_would_keep_the_pooled_axis(tmp_path):
    folder = write_folder(tmp_path / "kept", pooled_layers(keepdims=True),
                          lstm_weights("lstm", 3, 4))
    with pytest.raises(NotExpressibleError) as caught:
        load(folder)
    assert [(p.layer, p.key) for p in caught.value.problems] == [("pool", "keepdims")]
    [finding] = validate_file(folder / "model.json").findings
    assert finding.pointer.endswith("/layers/2/config/keepdims")


def test_a_gru_with_reset_after_is_refused_saying_tfjs_throws_on_it_as_it_does(world):
    folders, tfjs_outputs, _, _ = world
    assert "does not support reset_after" in tfjs_outputs["reset_after"]
    with pytest.raises(NotExpressibleError) as caught:
        load(folders["reset_after"])
    assert "layer 'gru', key 'resetAfter'" in str(caught.value)
    assert "throws on loading 'resetAfter' True: it computes False only" in str(caught.value)


def test_a_weight_name_tfjs_cannot_match_is_a_validate_finding(world):
    folders, tfjs_outputs, _, _ = world
    assert "no target variable" in tfjs_outputs["renamed_weight"]
    [finding] = validate_file(folders["renamed_weight"] / "model.json").findings
    assert finding.pointer == "/weightsManifest"
    assert "lstm/kernel_renamed" in finding.message


def test_relative_paths_out_of_the_folder_are_still_refused(world, tmp_path):
    folders, _, _, _ = world
    document = json.loads((folders["converter_layout"] / "model.json").read_text())
    for bad in ("../my-model.weights.bin", "/etc/passwd", "./../x.bin", "./"):
        document["weightsManifest"][0]["paths"] = [bad]
        path = tmp_path / "model.json"
        path.write_text(json.dumps(document))
        [finding] = validate_file(path).findings
        assert finding.pointer == "/weightsManifest/0/paths/0", bad


@pytest.mark.parametrize("name", ["functional", "stacked", "keras_file"])
def test_keras3_verbatim_files_fail_in_tfjs_and_are_repaired_to_what_keras3_computed(world,
                                                                                      name):
    folders, tfjs_outputs, expected, _ = world
    assert isinstance(tfjs_outputs[f"broken_{name}"], str)
    assert "batchInputShape" in tfjs_outputs[f"broken_{name}"]
    report = validate_file(folders[f"broken_{name}"] / "model.json")
    assert report.ok and "cannot load" in report.warnings[0].message
    assert_close(run(load(folders[f"broken_{name}"]), [X]), expected[name], "reference")
    fixed = tfjs_outputs[f"fixed_{name}"]
    assert not isinstance(fixed, str), fixed
    assert_close(fixed, expected[name], f"tfjs on the repaired {name}")
    assert validate_file(folders[f"fixed_{name}"] / "model.json").warnings == ()


def test_keras3_gru_with_reset_after_is_refused_by_layer_and_key(world, capsys):
    folders, tfjs_outputs, _, root = world
    assert isinstance(tfjs_outputs["broken_default_gru"], str)
    assert main(["convert", str(folders["broken_default_gru"]), str(root / "fixed_gru")]) == 1
    err = capsys.readouterr().err
    assert "layer 'reset_after_gru', key 'reset_after'" in err
    assert not (root / "fixed_gru").exists()
