"""`validate` on files written by the real Keras 3, tf-keras and TensorFlow.js, and broken ones.

For model.json files the verdict is checked against tfjs itself: what we call valid, tfjs 4.22
loads; the Keras 3 topology we reject, tfjs fails to load.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfjs_lstm.cli import main
from tfjs_lstm.validate import validate_file


def write_json(path: Path, value) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path


def model_json(topology: dict) -> dict:
    return {"format": "layers-model", "generatedBy": "test", "convertedBy": None,
            "modelTopology": topology, "weightsManifest": []}


def test_keras3_get_config_is_valid_keras3(keras3, tmp_path):
    layer = keras3.layers.LSTM(16, return_sequences=True, recurrent_activation="hard_sigmoid",
                               kernel_regularizer=keras3.regularizers.L2(0.01))
    report = validate_file(write_json(tmp_path / "k3.json", layer.get_config()))
    assert report.ok, report.findings
    assert report.kind == "layer config (keras3)"


def test_tf_keras_get_config_is_valid_keras2(tf_keras, tmp_path):
    layer = tf_keras.layers.LSTM(16, input_shape=(5, 3), dropout=0.5)
    report = validate_file(write_json(tmp_path / "k2.json", layer.get_config()))
    assert report.ok, report.findings
    assert report.kind == "layer config (keras2)"


def test_tfjs_get_config_and_saved_model_json_are_valid(tfjs, tmp_path):
    args = {"units": 8, "inputShape": [4, 3], "returnSequences": True}
    [reply] = tfjs.configs([{"className": "LSTM", "args": args}])
    report = validate_file(write_json(tmp_path / "tfjs.json", reply["config"]))
    assert report.ok, report.findings
    assert report.kind == "layer config (tfjs)"
    tfjs.save(tmp_path / "saved", [{"className": "LSTM", "args": args},
                                   {"className": "Dense", "args": {"units": 2}}])
    report = validate_file(tmp_path / "saved" / "model.json")
    assert report.ok, report.findings
    assert report.kind == "tfjs model.json"


def test_tf_keras_topology_is_valid_and_tfjs_loads_it(tf_keras, tfjs, tmp_path):
    from tfjs_lstm.formats.tfjs_weights import write_weights

    model = tf_keras.Sequential([tf_keras.layers.LSTM(4, input_shape=(3, 2), name="lstm")])
    (tmp_path / "k2").mkdir()
    names = ["lstm/kernel", "lstm/recurrent_kernel", "lstm/bias"]
    manifest = write_weights(tmp_path / "k2", list(zip(names, model.get_weights(), strict=True)))
    document = {**model_json(json.loads(model.to_json())), "weightsManifest": manifest}
    path = write_json(tmp_path / "k2" / "model.json", document)
    assert validate_file(path).ok, validate_file(path).findings
    [loaded] = tfjs.load([path.parent])
    assert loaded == {"layers": ["InputLayer", "LSTM"]}


def test_keras3_topology_is_a_warning_naming_its_forms_and_tfjs_fails_to_load_it(
        keras3, tfjs, tmp_path, capsys):
    from tfjs_lstm.formats.tfjs_weights import write_weights

    model = keras3.Sequential([keras3.Input((3, 2)), keras3.layers.LSTM(4, name="lstm")])
    (tmp_path / "k3").mkdir()
    names = ["lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias"]
    manifest = write_weights(tmp_path / "k3", list(zip(names, model.get_weights(), strict=True)))
    document = {**model_json(json.loads(model.to_json())), "weightsManifest": manifest}
    path = write_json(tmp_path / "k3" / "model.json", document)
    report = validate_file(path)
    assert report.ok, report.findings
    [warning] = report.warnings
    assert warning.pointer == "/modelTopology/config/layers/0/config/batch_shape"
    for form in ("batch_shape", "batch_input_shape", "DTypePolicy", "tfjs-lstm convert"):
        assert form in warning.message
    assert main(["validate", str(path)]) == 0
    assert main(["validate", "--strict", str(path)]) == 1
    assert capsys.readouterr().out.startswith("warning: ")
    [loaded] = tfjs.load([path.parent])
    assert "batchInputShape" in loaded["error"]


def test_camel_case_key_in_snake_case_config_gets_a_hint(tmp_path):
    path = write_json(tmp_path / "mixed.json", {"units": 4, "unitForgetBias": True,
                                                  "recurrent_activation": "sigmoid"})
    [finding] = validate_file(path, "keras2").findings
    assert finding.pointer == "/unitForgetBias"
    assert "unit_forget_bias" in finding.message


def test_keras3_dtype_policy_in_tfjs_json_gets_a_hint(tmp_path):
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": None}
    path = write_json(tmp_path / "policy.json", {"units": 4, "dtype": policy})
    [finding] = validate_file(path, "tfjs-json").findings
    assert finding.pointer == "/dtype"
    assert "DTypePolicy" in finding.message


def test_unsafe_manifest_path_and_missing_units_are_reported(tmp_path):
    bad = model_json({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "LSTM", "config": {"name": "lstm"}}]}})
    bad["weightsManifest"] = [{"paths": ["../outside.bin"], "weights": []}]
    findings = validate_file(write_json(tmp_path / "model.json", bad)).findings
    pointers = {f.pointer for f in findings}
    assert "/weightsManifest/0/paths/0" in pointers
    assert "/modelTopology/config/layers/0/config" in pointers


def test_validate_exit_codes_and_one_line_messages(tmp_path, capsys):
    good = write_json(tmp_path / "good.json", {"units": 3})
    bad = write_json(tmp_path / "bad.json", {"units": 0})
    broken = tmp_path / "broken.json"
    broken.write_text("{\"units\": ")
    assert main(["validate", str(good)]) == 0
    assert main(["validate", str(good), str(bad)]) == 1
    assert main(["validate", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "broken.json: malformed JSON at line 1" in err
    assert "Traceback" not in err
    assert main(["validate", str(tmp_path / "missing.json")]) == 2


@pytest.mark.parametrize("dialect", ["tfjs", "tfjs-json", "keras2", "keras2.2", "keras3"])
def test_every_writer_output_validates_in_its_own_dialect(dialect, tmp_path):
    from tfjs_lstm import dialects

    config = dialects.read("keras3", {"units": 5, "recurrent_activation": "tanh"})
    written = dialects.write(dialect, config).config
    assert validate_file(write_json(tmp_path / "w.json", written), dialect).ok
