"""Reshape's unknown size (-1) written for TensorFlow.js: resolved from the input shape when it
is fully known (tfjs would leave it unknown and fail to build the next layer), kept when an
input size is unknown, as Keras keeps it. Judged by Keras 3 and TensorFlow.js in Node."""

from __future__ import annotations

import json

import numpy as np
from outputs import randomize

from tfjs_lstm.convert import convert, load

rng = np.random.default_rng(17)


def _models(keras) -> dict:
    """name -> (model, inputs, the targetShape tfjs should get)."""
    L = keras.layers
    x = rng.normal(0, 1, (3, 6, 3)).astype(np.float32)
    cases = {
        "last_size_unknown": ([keras.Input((6, 3)), L.LSTM(4, return_sequences=True),
                               L.Reshape((4, -1), name="fold"), L.LSTM(3)], x, [4, 6]),
        "first_size_unknown": ([keras.Input((6, 3)), L.LSTM(4, return_sequences=True),
                                L.Reshape((-1, 8), name="fold"), L.LSTM(3), L.Dense(2)], x,
                               [3, 8]),
        "variable_length": ([keras.Input((None, 3)), L.LSTM(4, return_sequences=True),
                             L.Reshape((-1, 8), name="fold"), L.LSTM(3)], x, [None, 8]),
    }
    models = {}
    for name, (layers, inputs, target) in cases.items():
        model = keras.Sequential(layers, name=name)
        randomize(model, rng, 0.8)
        models[name] = (model, inputs, target)
    return models


def test_reshape_minus_one_converts_to_tfjs_and_predicts_the_same(keras3, tfjs, tmp_path):
    cases, expected = [], {}
    for name, (model, inputs, target) in _models(keras3).items():
        model.save(tmp_path / f"{name}.keras")
        expected[name] = np.asarray(model.predict(inputs, verbose=0))
        convert(tmp_path / f"{name}.keras", tmp_path / name)
        document = json.loads((tmp_path / name / "model.json").read_text())
        [fold] = [layer for layer in document["modelTopology"]["config"]["layers"]
                  if layer["config"]["name"] == "fold"]
        assert fold["config"]["target_shape"] == target, name
        assert -1 in load(tmp_path / f"{name}.keras").layers["fold"].target_shape  # as saved
        cases.append((name, tmp_path / name, [inputs]))
    results = tfjs.predict_folders([(folder, inputs) for _, folder, inputs in cases])
    for (name, _, _), got in zip(cases, results, strict=True):
        assert not isinstance(got, str), f"{name}: tfjs failed to load or run: {got}"
        assert np.abs(got[0] - expected[name]).max() < 1e-5, name
