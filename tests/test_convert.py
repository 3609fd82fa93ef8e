"""Whole-model conversion judged by the real runtimes.

Keras 3 models built here are saved as .keras, converted to tfjs folders, loaded from disk by
TensorFlow.js 4.22 in Node (one process for all cases) and must predict what Keras predicted.
Models built in TensorFlow.js go the other way and must load in Keras 3 and predict the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from outputs import keras3_models_in_tfjs, randomize

from tfjs_lstm.convert import convert, load, random_inputs
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.runtime.engine import run

TOLERANCE = 1e-5
rng = np.random.default_rng(11)


def keras3_models(keras):
    """name -> (model, inputs): small models covering the LSTM options and hard_sigmoid."""
    L = keras.layers
    models = {}

    def seq(name, layers, shape):
        model = keras.Sequential([keras.Input(shape), *layers], name=name)
        models[name] = (model, [rng.normal(0, 1, (3, *shape)).astype(np.float32)])

    seq("stacked", [L.LSTM(6, return_sequences=True), L.LSTM(5), L.Dense(2)], (7, 4))
    seq("hard_sigmoid_gates", [L.LSTM(5, recurrent_activation="hard_sigmoid",
                                      return_sequences=True)], (6, 3))
    seq("hard_sigmoid_dense", [L.LSTM(4), L.Dense(3, activation="hard_sigmoid")], (5, 3))
    seq("backwards_no_bias", [L.LSTM(4, go_backwards=True, use_bias=False,
                                     unit_forget_bias=False, return_sequences=True)], (5, 2))
    seq("softsign_sigmoid", [L.LSTM(3, activation="softsign", recurrent_activation="sigmoid"),
                             L.Dense(2, activation="tanh")], (9, 2))
    seq("one_step", [L.LSTM(3)], (1, 2))
    inp = keras.Input((6, 3), name="seq_in")
    out, h, c = L.LSTM(4, return_state=True, name="enc")(inp)
    head = L.Dense(2, name="head")(out)
    functional = keras.Model(inp, [head, h, c], name="return_state")
    models["return_state"] = (functional, [rng.normal(0, 1, (2, 6, 3)).astype(np.float32)])
    for model, _ in models.values():
        randomize(model, rng, 0.8)
    return models


def test_keras3_models_convert_to_tfjs_and_predict_the_same_in_node(keras3, tfjs, tmp_path):
    keras3_models_in_tfjs(tfjs, keras3_models(keras3), tmp_path)


def test_tfjs_models_convert_to_keras3_and_predict_the_same(keras3, tfjs, tmp_path):
    specs = {
        "defaults_only": [{"className": "LSTM", "args": {"units": 5, "inputShape": [6, 3]}}],
        "seed_002": [{"className": "LSTM", "args": {"units": 32, "inputShape": [10, 8],
                                                    "returnSequences": True}}],
        "stack_dense": [
            {"className": "LSTM", "args": {"units": 4, "inputShape": [5, 2],
                                           "returnSequences": True, "goBackwards": True}},
            {"className": "LSTM", "args": {"units": 3, "unitForgetBias": True}},
            {"className": "Dense", "args": {"units": 2, "activation": "hardSigmoid"}}],
    }
    cases = []
    for name, layers in specs.items():
        folder = tmp_path / name
        tfjs.save(folder, layers)
        shape = layers[0]["args"]["inputShape"]
        cases.append((name, folder, [rng.normal(0, 1.5, (2, *shape)).astype(np.float32)]))
    expected = tfjs.predict_folders([(folder, inputs) for _, folder, inputs in cases])
    for (name, folder, inputs), theirs in zip(cases, expected, strict=True):
        target = tmp_path / f"{name}.keras"
        report = convert(folder, target)
        assert report["transforms"], "tfjs's hardSigmoid must be rescaled for Keras 3"
        model = keras3.models.load_model(target)
        got = np.asarray(model.predict(inputs, verbose=0))
        assert np.abs(got - theirs[0]).max() < TOLERANCE, name


def test_tf_keras_h5_models_convert_to_tfjs_and_back_with_the_same_outputs(tf_keras, tfjs,
                                                                          tmp_path):
    L = tf_keras.layers
    model = tf_keras.Sequential([
        L.LSTM(5, input_shape=(6, 3), recurrent_activation="hard_sigmoid",
               return_sequences=True, name="enc"),
        L.LSTM(4, go_backwards=True, name="dec"),
        L.Dense(2, activation="hard_sigmoid", name="head")], name="k2")
    randomize(model, rng, 0.8)
    model.save(tmp_path / "k2.h5")
    inputs = [rng.normal(0, 1.5, (3, 6, 3)).astype(np.float32)]
    expected = model.predict(inputs, verbose=0)
    report = convert(tmp_path / "k2.h5", tmp_path / "k2_tfjs")
    assert report["transforms"] == [], "Keras 2's hard_sigmoid is tfjs's: nothing to rescale"
    [got] = tfjs.predict_folders([(tmp_path / "k2_tfjs", inputs)])
    assert np.abs(got[0] - expected).max() < TOLERANCE
    convert(tmp_path / "k2_tfjs", tmp_path / "back.h5")
    again = tf_keras.models.load_model(tmp_path / "back.h5").predict(inputs, verbose=0)
    assert np.abs(again - expected).max() < TOLERANCE


def test_keras3_hard_sigmoid_to_tf_keras_h5_is_rescaled(keras3, tf_keras, tmp_path):
    model = keras3.Sequential([keras3.Input((5, 2)),
                               keras3.layers.LSTM(3, recurrent_activation="hard_sigmoid")])
    model.layers[0].set_weights([rng.normal(0, 1.5, w.shape).astype(np.float32)
                                 for w in model.layers[0].get_weights()])
    model.save(tmp_path / "k3.keras")
    inputs = rng.normal(0, 2, (4, 5, 2)).astype(np.float32)
    report = convert(tmp_path / "k3.keras", tmp_path / "k2.h5")
    assert len(report["transforms"]) == 1
    got = tf_keras.models.load_model(tmp_path / "k2.h5").predict(inputs, verbose=0)
    assert np.abs(got - model.predict(inputs, verbose=0)).max() < TOLERANCE


def test_a_layer_tfjs_cannot_compute_stops_the_conversion_before_writing(keras3, tmp_path):
    model = keras3.Sequential([keras3.Input((4, 2)),
                               keras3.layers.LSTM(3, activation="hard_sigmoid", name="enc"),
                               keras3.layers.Dense(2, activation="hard_silu", name="head")])
    source = tmp_path / "bad.keras"
    model.save(source)
    destination = tmp_path / "out"
    with pytest.raises(NotExpressibleError) as caught:
        convert(source, destination)
    assert {(p.layer, p.key) for p in caught.value.problems} == {
        ("enc", "activation"), ("head", "activation")}
    assert not destination.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.keras"]


def test_an_existing_destination_is_untouched_when_conversion_fails(keras3, tmp_path):
    model = keras3.Sequential([keras3.Input((4, 2)),
                               keras3.layers.LSTM(3, activation="exponential")])
    model.save(tmp_path / "bad.keras")
    destination = tmp_path / "out"
    destination.mkdir()
    (destination / "keep.txt").write_text("previous conversion")
    with pytest.raises(NotExpressibleError):
        convert(tmp_path / "bad.keras", destination)
    assert (destination / "keep.txt").read_text() == "previous conversion"


def test_quantized_folders_load_in_tfjs_and_stay_within_the_stated_bounds(tfjs, tmp_path):
    from pathlib import Path

    from tfjs_lstm.convert import quantization_errors

    source = Path(__file__).resolve().parent.parent / "examples" / "keras3_lstm.keras"
    options = {"f16": {"float16": "*"}, "u8": {"uint8": "*"},
               "u16_kernels": {"uint16": "*/kernel,*/recurrent_kernel"}}
    inputs = [rng.normal(0, 1, (2, 12, 8)).astype(np.float32)]
    cases = []
    for name, option in options.items():
        convert(source, tmp_path / name, **option)
        rows = quantization_errors(source, tmp_path / name)
        assert rows and all(error <= bound for _, error, bound in rows), rows
        cases.append((tmp_path / name, inputs))
    # A Bidirectional folder: its weights are named bi/forward_lstm/kernel in tfjs.
    bidirectional = Path(__file__).resolve().parent.parent / "fixtures" / \
        "tfjs_defaults_bidirectional" / "model"
    convert(bidirectional, tmp_path / "bi_u8", uint8="*")
    rows = quantization_errors(bidirectional, tmp_path / "bi_u8")
    assert len(rows) == 6 and all(error <= bound for _, error, bound in rows), rows
    assert {name.split("/")[1] for name, _, _ in rows} == {"forward_lstm_LSTM1",
                                                          "backward_lstm_LSTM1"}
    cases.append((tmp_path / "bi_u8", [rng.normal(0, 1, (3, 5, 2)).astype(np.float32)]))
    for (folder, x), got in zip(cases, tfjs.predict_folders(cases), strict=True):
        assert not isinstance(got, str), got
        # tfjs dequantizes exactly as the reader does: same numbers as our runtime on them.
        assert np.abs(got[0] - run(load(folder), x)[0]).max() < TOLERANCE, folder.name


def test_keras3_legacy_h5_reads_with_its_keras3_config(keras3, tfjs, tmp_path):
    model = keras3.Sequential([keras3.Input((5, 3)),
                               keras3.layers.LSTM(4, recurrent_activation="hard_sigmoid",
                                                  return_sequences=True),
                               keras3.layers.Dense(2)])
    randomize(model, rng, 0.8)
    model.save(tmp_path / "legacy.h5")
    inputs = [rng.normal(0, 1, (2, 5, 3)).astype(np.float32)]
    expected = model.predict(inputs, verbose=0)
    assert np.abs(run(load(tmp_path / "legacy.h5"), inputs)[0] - expected).max() < TOLERANCE
    convert(tmp_path / "legacy.h5", tmp_path / "web")
    [got] = tfjs.predict_folders([(tmp_path / "web", inputs)])
    assert np.abs(got[0] - expected).max() < TOLERANCE


def test_check_feeds_an_embedding_integer_ids(keras3, tfjs, tmp_path, monkeypatch, capsys):
    from tfjs_lstm.cli import main
    from tfjs_lstm.runtime import engine

    L = keras3.layers
    tokens, features = keras3.Input((7,), name="tokens"), keras3.Input((7, 3), name="features")
    joined = L.Concatenate()([L.Embedding(50, 4, name="embed")(tokens),
                              features])
    model = keras3.Model([tokens, features], L.Dense(2)(L.LSTM(5)(joined)))
    model.save(tmp_path / "m.keras")
    seen: list[list[np.ndarray]] = []
    real_run = engine.run
    monkeypatch.setattr(engine, "run", lambda m, inputs, **kw: seen.append(inputs)
                        or real_run(m, inputs, **kw))
    assert main(["convert", str(tmp_path / "m.keras"), str(tmp_path / "out"), "--check"]) == 0
    assert ": ok" in capsys.readouterr().out
    assert seen and all(ids.dtype == np.int32 and ids.min() >= 0 and ids.max() < 50
                        and len(np.unique(ids)) > 1 for ids, _ in seen)
    assert all(floats.dtype == np.float32 for _, floats in seen)
    assert main(["check", str(tmp_path / "m.keras"), str(tmp_path / "out"),
                 "--runtimes", "reference,keras3,tfjs"]) == 0
    table = capsys.readouterr().out
    assert "keras3(source) vs tfjs(target)" in table
    assert table.count(" pass\n") == 6 and "6 passed, 0 failed, 0 skipped" in table


def test_the_package_api_converts_loads_runs_and_checks(tmp_path):
    """`tfjs_lstm.convert` is the model conversion, even after the module of the same name
    has been imported; the README's example model goes to tfjs and back."""
    import importlib

    import tfjs_lstm

    importlib.import_module("tfjs_lstm.convert")
    example = Path(__file__).parent.parent / "examples" / "keras3_lstm.keras"
    report = tfjs_lstm.convert(example, tmp_path / "web")
    assert report["shards"] == ["group1-shard1of1.bin"]
    model = tfjs_lstm.load(tmp_path / "web")
    x = np.random.default_rng(0).normal(size=(2, *model.layers[model.inputs[0].layer]
                                                .batch_input_shape[1:])).astype(np.float32)
    assert tfjs_lstm.run(model, [x])[0].shape[0] == 2
    assert tfjs_lstm.check(example, tmp_path / "web", [x]) < 1e-5


def test_check_inputs_reach_an_embedding_behind_a_reshape_as_ids():
    """tfjs's nested-model test feeds ids through a Reshape to an Embedding: `convert --check`
    drew normal floats for it, and the Embedding refused them after the conversion was
    written."""
    model = load(Path(__file__).parent / "runtime_files" / "tfjs-recurrent_test-nested-model")
    [ids] = random_inputs(model)
    assert ids.dtype == np.int32 and 0 <= ids.min() and ids.max() < 10
    run(model, [ids])
