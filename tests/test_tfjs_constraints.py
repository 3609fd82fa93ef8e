"""TensorFlow.js applies weight constraints when it loads weights, Keras never: conversions
both ways must still compute what the source computed, judged by Keras 3 and tfjs in Node."""

from __future__ import annotations

import json

import numpy as np
from outputs import as_list, assert_close, assert_tfjs_folder_converts_to_keras3, randomize

from tfjs_lstm.convert import convert, load
from tfjs_lstm.runtime.engine import run

rng = np.random.default_rng(53)


def test_constraints_the_weights_break_are_left_out_for_tfjs_and_kept_where_they_hold(
        keras3, tfjs, tmp_path):
    L, C = keras3.layers, keras3.constraints
    model = keras3.Sequential([
        keras3.Input((5, 3)),
        L.LSTM(4, return_sequences=True, name="lstm", recurrent_constraint=C.UnitNorm(),
               bias_constraint=C.NonNeg(), kernel_constraint=C.MaxNorm(0.5)),
        L.Bidirectional(L.GRU(3, reset_after=False, kernel_constraint=C.MinMaxNorm(0.1, 0.3)),
                        name="bidi"),
        L.Dense(2, kernel_constraint=C.NonNeg(), name="head")])
    randomize(model, rng, 0.8)
    head_kernel, head_bias = model.get_layer("head").get_weights()
    model.get_layer("head").set_weights([np.abs(head_kernel), head_bias])  # NonNeg holds
    x = rng.normal(0, 1, (2, 5, 3)).astype(np.float32)
    expected = as_list(model.predict(x, verbose=0))
    model.save(tmp_path / "m.keras")
    report = convert(tmp_path / "m.keras", tmp_path / "web")
    dropped = sorted(note.split("'")[1:4:2] for note in report["notes"] if "loads it" in note)
    assert dropped == [["bidi", "layer/kernel_constraint"], ["bidi", "layer/kernel_constraint"],
                       ["lstm", "bias_constraint"], ["lstm", "kernel_constraint"],
                       ["lstm", "recurrent_constraint"]]
    layers = json.loads((tmp_path / "web" / "model.json").read_text())[
        "modelTopology"]["config"]["layers"]
    assert layers[-1]["config"]["kernel_constraint"]["class_name"] == "NonNeg"
    [got] = tfjs.predict_folders([(tmp_path / "web", [x])])
    assert not isinstance(got, str), got
    assert_close(got, expected, "tfjs")
    assert_close(run(load(tmp_path / "web"), [x]), expected, "reference on the tfjs folder")


def test_a_tfjs_model_runs_its_constrained_weights_and_keras_gets_those(keras3, tfjs,
                                                                        tmp_path):
    folder = tmp_path / "born"
    tfjs.save(folder, [
        {"className": "LSTM", "args": {"units": 3, "inputShape": [4, 2], "returnSequences": True,
                                       "kernelConstraint": "nonNeg",
                                       "recurrentConstraint": "unitNorm"}},
        {"className": "Dense", "args": {"units": 2, "kernelConstraint": "maxNorm"}}])
    document = json.loads((folder / "model.json").read_text())
    [group] = document["weightsManifest"]
    data = b"".join(rng.normal(0, 1.5, w["shape"]).astype("<f4").tobytes()
                    for w in group["weights"])
    (folder / group["paths"][0]).write_bytes(data)  # weights that break every constraint
    x = rng.normal(0, 1, (3, 4, 2)).astype(np.float32)
    assert_tfjs_folder_converts_to_keras3(tfjs, keras3, folder, x)
