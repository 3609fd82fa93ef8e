"""RNN wrapping LSTMCell, GRUCell and SimpleRNNCell, whole models judged by the real runtimes:
Keras 3 -> tfjs in Node, tf-keras .h5 -> Keras 3, and tfjs -> Keras 3."""

from __future__ import annotations

import numpy as np
import pytest
from outputs import (
    as_list,
    assert_close,
    assert_tfjs_folder_converts_to_keras3,
    keras3_models_in_tfjs,
    randomize,
)

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.validate import validate_file

rng = np.random.default_rng(41)



def keras3_cell_models(keras) -> dict:
    """name -> (model, inputs): every cell, masks, states, directions, a Keras 3 hard sigmoid."""
    L = keras.layers
    x = rng.normal(0, 1.2, (3, 6, 4)).astype(np.float32)
    padded = x.copy()
    padded[0, 4:] = 0.0
    padded[2, :2] = 0.0
    inp = keras.Input((6, 4), name="x")
    sequence, h, c = L.RNN(L.LSTMCell(5, recurrent_activation="hard_sigmoid"),
                           return_sequences=True, return_state=True, name="rnn_lstm")(inp)
    models = {
        "lstm_cell_states": (keras.Model(inp, [L.Dense(2, name="head")(sequence), h, c]), [x]),
        "gru_cell_backwards": (keras.Sequential([
            keras.Input((6, 4)),
            L.RNN(L.GRUCell(4, reset_after=False), go_backwards=True, return_sequences=True),
            L.RNN(L.SimpleRNNCell(3, activation="relu"))]), [x]),
        "masked_cells": (keras.Sequential([
            keras.Input((6, 4)), L.Masking(),
            L.RNN(L.LSTMCell(3, unit_forget_bias=False), return_sequences=True),
            L.RNN(L.GRUCell(2, reset_after=False))]), [padded]),
    }
    for model, _ in models.values():
        randomize(model, rng)
    return models


def test_keras3_rnn_cells_convert_to_tfjs_and_predict_the_same_in_node(keras3, tfjs, tmp_path):
    keras3_models_in_tfjs(tfjs, keras3_cell_models(keras3), tmp_path)


def test_a_cell_tfjs_cannot_compute_is_refused_naming_the_rnn_and_its_cell(keras3, tmp_path):
    model = keras3.Sequential([keras3.Input((3, 2)),
                               keras3.layers.RNN(keras3.layers.GRUCell(2, name="gru_cell"),
                                                 name="outer")])
    model.save(tmp_path / "m.keras")
    with pytest.raises(NotExpressibleError) as caught:
        convert(tmp_path / "m.keras", tmp_path / "out")
    assert [(p.layer, p.key) for p in caught.value.problems] == [("outer/gru_cell",
                                                                   "reset_after")]
    assert not (tmp_path / "out").exists()


def test_tf_keras_rnn_cells_convert_to_keras3(tf_keras, keras3, tmp_path):
    L = tf_keras.layers
    model = tf_keras.Sequential([
        tf_keras.Input((5, 3)),
        L.RNN(L.LSTMCell(4, recurrent_activation="hard_sigmoid"), return_sequences=True),
        L.RNN(L.GRUCell(3), go_backwards=True)])
    randomize(model, rng)
    x = rng.normal(0, 1, (2, 5, 3)).astype(np.float32)
    model.save(tmp_path / "m.h5")
    expected = as_list(model.predict(x, verbose=0))
    assert_close(run(load(tmp_path / "m.h5"), [x]), expected, "reference on the .h5")
    report = convert(tmp_path / "m.h5", tmp_path / "m.keras")
    assert report["transforms"], "Keras 2's hard_sigmoid needs rescaled gates in Keras 3"
    theirs = keras3.models.load_model(tmp_path / "m.keras")
    assert_close(as_list(theirs.predict(x, verbose=0)), expected, "Keras 3")
    convert(tmp_path / "m.keras", tmp_path / "back.h5")
    again = tf_keras.models.load_model(tmp_path / "back.h5")
    assert_close(as_list(again.predict(x, verbose=0)), expected, "tf-keras after a round trip")


def test_tfjs_rnn_cells_convert_to_keras3(keras3, tfjs, tmp_path):
    folder = tmp_path / "tfjs_rnn"
    tfjs.save(folder, [
        {"className": "RNN", "args": {"cell": {"className": "LSTMCell", "config": {"units": 4}},
                                      "inputShape": [6, 3], "returnSequences": True}},
        {"className": "RNN", "args": {"cell": {"className": "SimpleRNNCell",
                                               "config": {"units": 2}}}}])
    assert validate_file(str(folder / "model.json")).ok, "tfjs's own RNN topology is valid"
    x = rng.normal(0, 1, (3, 6, 3)).astype(np.float32)
    assert_tfjs_folder_converts_to_keras3(tfjs, keras3, folder, x)


def test_a_bare_cell_as_a_model_layer_is_refused(tmp_path):
    import json

    from tfjs_lstm.formats.topology import read_layers

    entry = {"class_name": "LSTMCell", "config": {"name": "loose", "units": 2}}
    with pytest.raises(NotExpressibleError, match="only inside an RNN"):
        read_layers([json.loads(json.dumps(entry))], "keras3", "model.json", "/layers")
