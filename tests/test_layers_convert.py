"""GRU, SimpleRNN, Embedding, Masking, Dropout, SpatialDropout1D and Activation, whole models
converted and judged by the real runtimes.

Keras 3 models are saved as .keras, converted to tfjs folders, loaded from disk by TensorFlow.js
4.22 in Node (one process for every case) and must predict what Keras 3 predicted; so must the
reference runtime on both files. Models tfjs saves itself go the other way into Keras 3.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import TOLERANCE, as_list, assert_close, keras3_models_in_tfjs, randomize

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError, NotExpressibleError
from tfjs_lstm.runtime.engine import run

rng = np.random.default_rng(23)


def padded_ids(batch: int, steps: int, vocabulary: int) -> np.ndarray:
    """Ids with trailing zero padding of different lengths, and one all-padding row."""
    ids = rng.integers(1, vocabulary, (batch, steps))
    for row, length in enumerate(rng.integers(0, steps + 1, batch)):
        ids[row, length:] = 0
    ids[0] = 0
    ids[-1, :] = rng.integers(1, vocabulary, steps)
    return ids.astype(np.int32)


def padded_steps(batch: int, steps: int, features: int, value: float = 0.0) -> np.ndarray:
    """Float sequences whose masked steps (all features == value) lead, trail and interleave."""
    x = rng.normal(0, 1, (batch, steps, features)).astype(np.float32)
    x[0, :2] = value
    x[1, -3:] = value
    x[2, 1::3] = value
    return x


def keras3_models(keras) -> dict:
    """name -> (model, inputs): every new layer, masks included, and hard_sigmoid gates."""
    L = keras.layers
    models = {}

    def seq(name, input_layer, layers, inputs):
        models[name] = (keras.Sequential([input_layer, *layers], name=name), [inputs])

    seq("embedding_mask_zero_lstm", keras.Input((7,), dtype="int32"),
        [L.Embedding(11, 5, mask_zero=True), L.LSTM(4, return_sequences=True), L.LSTM(3)],
        padded_ids(4, 7, 11))
    seq("masking_lstm", keras.Input((8, 3)),
        [L.Masking(), L.LSTM(4, return_sequences=True)], padded_steps(4, 8, 3))
    seq("masking_value_gru", keras.Input((8, 3)),
        [L.Masking(mask_value=0.5), L.GRU(4, reset_after=False, return_sequences=True),
         L.GRU(3, reset_after=False, go_backwards=True)], padded_steps(4, 8, 3, 0.5))
    seq("masked_sequences_gru", keras.Input((8, 3)),
        [L.Masking(), L.GRU(3, reset_after=False, return_sequences=True)],
        padded_steps(4, 8, 3))
    seq("gru_hard_sigmoid", keras.Input((6, 3)),
        [L.GRU(5, reset_after=False, recurrent_activation="hard_sigmoid",
               return_sequences=True),
         L.GRU(3, reset_after=False, activation="hard_sigmoid", use_bias=False)],
        rng.normal(0, 1.5, (3, 6, 3)).astype(np.float32))
    seq("simple_rnn", keras.Input((6, 2)),
        [L.SimpleRNN(4, return_sequences=True, go_backwards=True),
         L.SimpleRNN(3, activation="hard_sigmoid")],
        rng.normal(0, 1.5, (3, 6, 2)).astype(np.float32))
    seq("dropouts_activations_chain", keras.Input((7, 4)),
        [L.Masking(), L.Dropout(0.3), L.SpatialDropout1D(0.2), L.Activation("relu"),
         L.SimpleRNN(5, return_sequences=True), L.Dropout(0.5, noise_shape=(None, 1, 5)),
         L.Activation("softsign"), L.GRU(2, reset_after=False)], padded_steps(4, 7, 4))
    ids = keras.Input((6,), dtype="int32", name="ids")
    embedded = L.Embedding(9, 4, name="embed")(ids)
    sequence, state = L.GRU(3, reset_after=False, return_sequences=True, return_state=True,
                            name="gru")(embedded)
    head = L.Activation("sigmoid", name="head")(sequence)
    models["functional_int_ids"] = (keras.Model(ids, [head, state], name="functional_int_ids"),
                                    [padded_ids(3, 6, 9)])
    for model, _ in models.values():
        randomize(model, rng, 0.8)
    return models


def test_keras3_models_convert_to_tfjs_and_predict_the_same_in_node(keras3, tfjs, tmp_path):
    models = keras3_models(keras3)
    by_name = keras3_models_in_tfjs(tfjs, models, tmp_path)
    model, inputs = models["masked_sequences_gru"]
    check_zero_output_for_mask_differs_only_at_padded_steps(
        keras3, model, inputs, by_name["masked_sequences_gru"][0])


def check_zero_output_for_mask_differs_only_at_padded_steps(keras, model, inputs: list,
                                                            tfjs_output: np.ndarray) -> None:
    """tfjs ignores zero_output_for_mask (hence the refusal): with it, Keras 3 writes zeros at
    padded steps where tfjs repeats the last output; every other step agrees."""
    config = model.get_config()
    config["layers"][-1]["config"]["zero_output_for_mask"] = True
    twin = keras.Sequential.from_config(config)
    twin.set_weights(model.get_weights())
    zeroed = np.asarray(twin.predict(inputs, verbose=0))
    kept = np.any(inputs[0] != 0, axis=-1)
    assert np.abs(zeroed - tfjs_output)[kept].max() < TOLERANCE
    assert np.all(zeroed[~kept] == 0)
    assert np.abs(tfjs_output[~kept]).max() > 0.01


def test_what_tfjs_cannot_compute_is_refused_and_nothing_is_written(keras3, tmp_path):
    """tfjs's GRUCell throws on reset_after=true; it ignores zero_output_for_mask, which
    matters here because Masking's mask reaches that layer and Flatten lets the padded steps'
    values out of the mask."""
    model = keras3.Sequential([
        keras3.Input((4, 2)), keras3.layers.Masking(),
        keras3.layers.GRU(3, return_sequences=True, name="enc"),
        keras3.layers.SimpleRNN(2, return_sequences=True, zero_output_for_mask=True,
                                name="zeros"),
        keras3.layers.Flatten(name="flat"), keras3.layers.Dense(2, name="head")])
    source = tmp_path / "reset_after.keras"
    model.save(source)
    destination = tmp_path / "out"
    with pytest.raises(NotExpressibleError) as caught:
        convert(source, destination)
    assert {(p.layer, p.key) for p in caught.value.problems} == {
        ("enc", "reset_after"), ("zeros", "zero_output_for_mask")}
    assert not destination.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["reset_after.keras"]


def test_keras3_functional_masks_convert_and_tfjs_propagates_the_same_masks(keras3, tfjs,
                                                                           tmp_path):
    """Keras 3 records a functional model's masks as NotEqual/Any op nodes passed as `mask=`;
    tfjs and the reference runtime propagate the same masks from Embedding and Masking."""
    ids = keras3.Input((5,), dtype="int32", name="ids")
    embedded = keras3.layers.Embedding(7, 3, mask_zero=True, name="emb")(ids)
    by_ids = keras3.Model(ids, keras3.layers.GRU(2, reset_after=False, name="enc")(embedded))
    x = keras3.Input((6, 3), name="x")
    masked = keras3.layers.Masking(mask_value=0.0, name="mask")(x)
    by_value = keras3.Model(x, keras3.layers.LSTM(4, name="enc")(masked))
    padded = rng.normal(0, 1, (3, 6, 3)).astype(np.float32)
    padded[0, 4:] = 0.0
    padded[2, :2] = 0.0
    cases = {"by_ids": (by_ids, [np.array([[3, 1, 0, 0, 0], [6, 2, 4, 5, 1], [2, 0, 0, 0, 0]],
                                          np.int32)]),
             "by_value": (by_value, [padded])}
    for name, (model, _) in cases.items():
        model.save(tmp_path / f"{name}.keras")
        convert(tmp_path / f"{name}.keras", tmp_path / name)
    results = tfjs.predict_folders([(tmp_path / name, inputs)
                                    for name, (_, inputs) in cases.items()])
    for (name, (model, inputs)), got in zip(cases.items(), results, strict=True):
        expected = model.predict(inputs, verbose=0)
        assert not isinstance(got, str), got
        assert np.abs(got[0] - expected).max() < TOLERANCE, name
        assert np.abs(run(load(tmp_path / name), inputs)[0] - expected).max() < TOLERANCE, name


def test_an_explicit_mask_argument_is_refused(keras3, tmp_path):
    x = keras3.Input((4, 2), name="x")
    given = keras3.Input((4,), dtype="bool", name="given_mask")
    out = keras3.layers.LSTM(3, name="enc")(x, mask=given)
    keras3.Model([x, given], out).save(tmp_path / "explicit.keras")
    with pytest.raises(InputError, match="explicit mask"):
        load(tmp_path / "explicit.keras")


def test_tfjs_refuses_what_it_refuses_in_a_model_json(tfjs, tmp_path):
    """tfjs itself cannot load a GRU with reset_after=true; the reader refuses it too."""
    folder = tmp_path / "gru"
    tfjs.save(folder, [{"className": "GRU", "args": {"units": 2, "inputShape": [3, 2]}}])
    text = (folder / "model.json").read_text()
    assert '"reset_after":false' in text
    (folder / "model.json").write_text(text.replace('"reset_after":false', '"reset_after":true'))
    [reply] = tfjs.load([folder])
    assert "reset_after" in reply["error"]
    with pytest.raises(NotExpressibleError, match="reset"):
        load(folder)


def test_tfjs_models_convert_to_keras3_and_predict_the_same(keras3, tfjs, tmp_path):
    specs = {
        "embedding_gru": ([
            {"className": "Embedding", "args": {"inputDim": 9, "outputDim": 4, "inputLength": 6,
                                                "maskZero": True}},
            {"className": "GRU", "args": {"units": 5, "returnSequences": True}},
            {"className": "GRU", "args": {"units": 3, "goBackwards": True}}],
            padded_ids(3, 6, 9).astype(np.float32)),
        "masking_simple_rnn_chain": ([
            {"className": "Masking", "args": {"inputShape": [7, 3]}},
            {"className": "SpatialDropout1D", "args": {"rate": 0.4}},
            {"className": "SimpleRNN", "args": {"units": 4, "returnSequences": True}},
            {"className": "Dropout", "args": {"rate": 0.2}},
            {"className": "Activation", "args": {"activation": "elu"}},
            {"className": "GRU", "args": {"units": 2, "recurrentActivation": "sigmoid"}}],
            padded_steps(4, 7, 3)),
    }
    cases = []
    for name, (layers, inputs) in specs.items():
        tfjs.save(tmp_path / name, layers)
        cases.append((name, tmp_path / name, [inputs]))
    expected = tfjs.predict_folders([(folder, inputs) for _, folder, inputs in cases])
    for (name, folder, inputs), theirs in zip(cases, expected, strict=True):
        assert not isinstance(theirs, str), f"{name}: {theirs}"
        assert_close(run(load(folder), inputs), theirs, f"reference runtime, {name}")
        target = tmp_path / f"{name}.keras"
        report = convert(folder, target)
        # tfjs's default GRU hardSigmoid has another slope than Keras 3's hard_sigmoid.
        assert bool(report["transforms"]) == (name == "embedding_gru"), report["transforms"]
        model = keras3.models.load_model(target)
        assert_close(as_list(model.predict(inputs, verbose=0)), theirs, f"Keras 3, {name}")


def test_embedding_takes_int_or_float_ids_and_refuses_ids_outside_the_table(keras3, tmp_path):
    model = keras3.Sequential([keras3.Input((4,), dtype="int32"),
                               keras3.layers.Embedding(5, 3, name="embed")])
    model.save(tmp_path / "e.keras")
    ours = load(tmp_path / "e.keras")
    ids = np.array([[0, 1, 4, 2]], np.int32)
    expected = np.asarray(model.predict(ids, verbose=0))
    assert np.array_equal(run(ours, [ids])[0], expected)
    assert np.array_equal(run(ours, [ids.astype(np.float32)])[0], expected)
    with pytest.raises(InputError, match="embed"):
        run(ours, [np.array([[0, 1, 5, 2]])])
