"""Bidirectional and TimeDistributed, judged by Keras 3, tf-keras and tfjs in Node."""

from __future__ import annotations

import numpy as np
import pytest
from outputs import randomize

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError, NotExpressibleError
from tfjs_lstm.runtime.engine import run

TOLERANCE = 1e-5
rng = np.random.default_rng(31)



def keras3_cases(keras):
    L = keras.layers
    cases = {}
    for mode in ("concat", "sum", "mul", "ave"):
        cases[f"lstm_{mode}"] = keras.Sequential([
            keras.Input((5, 3)),
            L.Bidirectional(L.LSTM(4, return_sequences=True, recurrent_activation="hard_sigmoid"),
                            merge_mode=mode),
            L.TimeDistributed(L.Dense(2, activation="hard_sigmoid"))])
    cases["gru_last"] = keras.Sequential([keras.Input((6, 2)),
                                          L.Bidirectional(L.GRU(3, reset_after=False)),
                                          L.Dense(2)])
    x = keras.Input((4, 3))
    both = L.Bidirectional(L.SimpleRNN(2, return_sequences=True), merge_mode=None)(x)
    cases["no_merge"] = keras.Model(x, both)
    return {name: randomize(model, rng) for name, model in cases.items()}


def test_keras3_wrappers_convert_to_tfjs_and_back_with_the_same_outputs(keras3, tfjs,
                                                                        tmp_path):
    cases, expected = [], {}
    for name, model in keras3_cases(keras3).items():
        shape = model.inputs[0].shape[1:]
        inputs = [rng.normal(0, 1, (2, *shape)).astype(np.float32)]
        outputs = model.predict(inputs, verbose=0)
        expected[name] = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        model.save(tmp_path / f"{name}.keras")
        for mine, theirs in zip(run(load(tmp_path / f"{name}.keras"), inputs), expected[name],
                                strict=True):
            assert np.abs(mine - theirs).max() < TOLERANCE, f"reference, {name}"
        convert(tmp_path / f"{name}.keras", tmp_path / name)
        convert(tmp_path / name, tmp_path / f"{name}_back.keras")
        back = keras3.models.load_model(tmp_path / f"{name}_back.keras").predict(inputs,
                                                                                 verbose=0)
        back = list(back) if isinstance(back, (list, tuple)) else [back]
        for mine, theirs in zip(back, expected[name], strict=True):
            assert np.abs(mine - theirs).max() < TOLERANCE, f"back in Keras 3, {name}"
        cases.append((name, tmp_path / name, inputs))
    results = tfjs.predict_folders([(folder, inputs) for _, folder, inputs in cases])
    for (name, _, _), got in zip(cases, results, strict=True):
        assert not isinstance(got, str), f"{name}: {got}"
        for mine, theirs in zip(got, expected[name], strict=True):
            assert np.abs(mine - theirs).max() < TOLERANCE, f"tfjs, {name}"


def test_tf_keras_bidirectional_h5_converts_to_tfjs(tf_keras, tfjs, tmp_path):
    L = tf_keras.layers
    model = randomize(tf_keras.Sequential([
        L.Bidirectional(L.LSTM(3, return_sequences=True), input_shape=(5, 2)),
        L.TimeDistributed(L.Dense(2))]), rng)
    model.save(tmp_path / "k2.h5")
    inputs = [rng.normal(0, 1, (2, 5, 2)).astype(np.float32)]
    convert(tmp_path / "k2.h5", tmp_path / "k2")
    [got] = tfjs.predict_folders([(tmp_path / "k2", inputs)])
    assert np.abs(got[0] - model.predict(inputs, verbose=0)).max() < TOLERANCE


def test_masked_bidirectional_sequences_reaching_an_unmasked_output_are_refused_for_tfjs(
        keras3, tmp_path):
    """Keras forces zero_output_for_mask inside Bidirectional; tfjs repeats the last output at
    padded steps instead. Flatten drops the mask, so the padded steps would differ: refused
    (test_masked_classifier.py converts the models where they stay masked)."""
    model = keras3.Sequential([keras3.Input((5, 2)), keras3.layers.Masking(),
                               keras3.layers.Bidirectional(keras3.layers.LSTM(
                                   3, return_sequences=True, name="enc"), name="bidi"),
                               keras3.layers.Flatten(name="flat")])
    model.save(tmp_path / "masked.keras")
    with pytest.raises(NotExpressibleError) as caught:
        convert(tmp_path / "masked.keras", tmp_path / "out")
    assert [(p.layer, p.key) for p in caught.value.problems] == [
        ("bidi/enc", "zero_output_for_mask")]
    assert "layer 'flat' (Flatten) drops the mask" in caught.value.problems[0].reason


def test_tfjs_born_bidirectional_converts_to_keras3(keras3, tfjs, tmp_path):
    tfjs.save(tmp_path / "born", [
        {"className": "Bidirectional", "args": {"inputShape": [6, 3], "layer": {
            "className": "LSTM", "config": {"units": 4, "returnSequences": True}}}},
        {"className": "TimeDistributed", "args": {"layer": {
            "className": "Dense", "config": {"units": 2}}}}])
    inputs = [rng.normal(0, 1, (2, 6, 3)).astype(np.float32)]
    [expected] = tfjs.predict_folders([(tmp_path / "born", inputs)])
    convert(tmp_path / "born", tmp_path / "born.keras")
    got = keras3.models.load_model(tmp_path / "born.keras").predict(inputs, verbose=0)
    assert np.abs(got - expected[0]).max() < TOLERANCE


def test_a_custom_backward_layer_runs_in_keras3_and_tf_keras_and_tfjs_refuses_it(
        keras3, tf_keras, tmp_path):
    """Keras 2 and 3 take any recurrent layer running the other way; tfjs always copies
    `layer`, so the tfjs writer refuses rather than computing another function."""
    L = keras3.layers
    x = keras3.Input((6, 3), name="x")
    both = L.Bidirectional(
        L.LSTM(4, return_sequences=True, return_state=True),
        backward_layer=L.LSTM(3, go_backwards=True, return_sequences=True, return_state=True,
                              activation="relu", name="rev"),
        name="bidi")(x)
    model = randomize(keras3.Model(x, both), rng)
    inputs = [rng.normal(0, 1, (2, 6, 3)).astype(np.float32)]
    expected = model.predict(inputs, verbose=0)
    model.save(tmp_path / "m.keras")
    ours = load(tmp_path / "m.keras")
    assert ours.layers["bidi"].backward_layer.name == "rev"
    for mine, theirs in zip(run(ours, inputs), expected, strict=True):
        assert np.abs(mine - theirs).max() < TOLERANCE, "reference runtime"
    convert(tmp_path / "m.keras", tmp_path / "m.h5")
    again = tf_keras.models.load_model(tmp_path / "m.h5").predict(inputs, verbose=0)
    for mine, theirs in zip(again, expected, strict=True):
        assert np.abs(mine - theirs).max() < TOLERANCE, "tf-keras"
    convert(tmp_path / "m.h5", tmp_path / "back.keras")
    back = keras3.models.load_model(tmp_path / "back.keras").predict(inputs, verbose=0)
    for mine, theirs in zip(back, expected, strict=True):
        assert np.abs(mine - theirs).max() < TOLERANCE, "Keras 3 after tf-keras"
    with pytest.raises(NotExpressibleError) as caught:
        convert(tmp_path / "m.keras", tmp_path / "tfjs")
    assert [(p.layer, p.key) for p in caught.value.problems] == [("bidi", "backward_layer")]
    assert not (tmp_path / "tfjs").exists()


def test_tf_keras_h5_refuses_a_backward_layer_with_another_weight_count(keras3, tmp_path):
    L = keras3.layers
    model = keras3.Sequential([keras3.Input((4, 2)), L.Bidirectional(
        L.LSTM(3), backward_layer=L.LSTM(3, use_bias=False, go_backwards=True), name="bidi")])
    model.save(tmp_path / "m.keras")
    with pytest.raises(NotExpressibleError, match="in half"):
        convert(tmp_path / "m.keras", tmp_path / "m.h5")
    assert not (tmp_path / "m.h5").exists()


def test_a_backward_layer_that_is_the_forward_one_reversed_is_not_custom(tf_keras, tmp_path):
    L = tf_keras.layers
    model = tf_keras.Sequential([
        tf_keras.Input((4, 2)),
        L.Bidirectional(L.LSTM(3, name="fw"), backward_layer=L.LSTM(3, go_backwards=True))])
    model.save(tmp_path / "m.h5")
    assert load(tmp_path / "m.h5").layers[model.layers[0].name].backward_layer is None


# Documents of 3 sentences of 5 words (0 pads); the first document's last sentence is empty.
SENTENCES = np.array([[[1, 2, 0, 0, 0], [3, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
                      [[1, 2, 3, 4, 5], [5, 4, 3, 0, 0], [2, 2, 0, 0, 0]]], np.int32)


def masked_sentence_models(keras):
    """TimeDistributed over sentences of masked word embeddings: Keras 3 hands the wrapped
    layer each sentence's mask (an empty sentence leaves a recurrent layer's zero state)."""
    L = keras.layers
    wrapped = {"lstm": lambda: L.LSTM(4, name="inner"),
               "gru_sequences": lambda: L.GRU(3, return_sequences=True, name="inner"),
               "bidirectional": lambda: L.Bidirectional(L.SimpleRNN(2, name="inner"),
                                                        name="inner_bidi"),
               "average": lambda: L.GlobalAveragePooling1D(name="inner")}
    models = {}
    for name, make in wrapped.items():
        words = keras.Input((3, 5), dtype="int32")
        embedded = L.Embedding(10, 4, mask_zero=True, name="words")(words)
        models[name] = randomize(keras.Model(words, L.TimeDistributed(make(), name="td")(
            embedded)), rng)
    return models


def test_time_distributed_hands_the_wrapped_layer_each_steps_mask_as_keras3(keras3, tmp_path):
    for name, model in masked_sentence_models(keras3).items():
        # An empty sentence averages nothing: NaN in Keras, so the average gets full ones.
        x = SENTENCES if name != "average" else np.maximum(SENTENCES, [[[1, 0, 0, 0, 0]]])
        model.save(tmp_path / f"{name}.keras")
        [mine] = run(load(tmp_path / f"{name}.keras"), [x])
        theirs = model.predict(x, verbose=0)
        assert np.abs(mine - theirs).max() < TOLERANCE, name


def test_masked_time_distributed_over_a_mask_reading_layer_is_refused_outside_keras3(
        keras3, tmp_path):
    """tfjs hands the wrapped layer the whole mask at every step, tf-keras gives the output
    another mask: both refused, naming the layer and the mask, before anything is written."""
    model = masked_sentence_models(keras3)["lstm"]
    model.save(tmp_path / "sentences.keras")
    for target in ("sentences_tfjs", "sentences.h5"):
        with pytest.raises(NotExpressibleError) as caught:
            convert(tmp_path / "sentences.keras", tmp_path / target)
        assert [(p.layer, p.key) for p in caught.value.problems] == [("td", "mask")]
        assert not (tmp_path / target).exists()


def test_masked_time_distributed_dense_converts_to_tfjs_with_keras3s_numbers(keras3, tfjs,
                                                                            tmp_path):
    """A wrapped layer that computes without the mask (Dense) is not refused: tfjs gives it
    the mask too, and Dense ignores it in every runtime."""
    L = keras3.layers
    model = randomize(keras3.Sequential([keras3.Input((4, 3)), L.Masking(),
                                         L.LSTM(3, return_sequences=True),
                                         L.TimeDistributed(L.Dense(2))]), rng)
    x = rng.normal(0, 1, (2, 4, 3)).astype(np.float32)
    x[0, 2:] = 0
    model.save(tmp_path / "dense.keras")
    convert(tmp_path / "dense.keras", tmp_path / "dense")
    [got] = tfjs.predict_folders([(tmp_path / "dense", [x])])
    assert np.abs(got[0] - model.predict(x, verbose=0)).max() < TOLERANCE


def test_a_tf_keras_file_with_a_masked_time_distributed_lstm_is_refused_on_reading(
        tf_keras, tmp_path):
    """tf-keras reduces the mask after TimeDistributed(LSTM) to [batch, sentences] and its
    next LSTM skips empty sentences; Keras 3 passes the words' mask on (and cannot run the
    model), so the reference runtime cannot compute what the file means."""
    L = tf_keras.layers
    words = tf_keras.Input((3, 5), dtype="int32")
    embedded = L.Embedding(10, 4, mask_zero=True)(words)
    sentences = L.TimeDistributed(L.LSTM(4), name="td")(embedded)
    model = tf_keras.Model(words, L.LSTM(2)(sentences))
    assert model.predict(SENTENCES, verbose=0).shape == (2, 2)
    model.save(tmp_path / "han.h5")
    with pytest.raises(NotExpressibleError) as caught:
        load(tmp_path / "han.h5")
    assert [(p.layer, p.key) for p in caught.value.problems] == [("td", "mask")]


def test_a_recurrent_layer_after_a_masked_time_distributed_is_one_clear_error(keras3,
                                                                              tmp_path):
    """In Keras 3 the words' [batch, sentences, words] mask passes TimeDistributed and reaches
    the next LSTM, which cannot take it: Keras 3 fails, and so does run, naming the layer."""
    L = keras3.layers
    words = keras3.Input((3, 5), dtype="int32")
    embedded = L.Embedding(10, 4, mask_zero=True)(words)
    sentences = L.TimeDistributed(L.LSTM(4))(embedded)
    model = keras3.Model(words, L.LSTM(2, name="documents")(sentences))
    with pytest.raises(Exception):  # noqa: B017 - Keras 3's own shape error
        model.predict(SENTENCES, verbose=0)
    model.save(tmp_path / "han.keras")
    with pytest.raises(InputError, match="layer 'documents' .* mask of shape \\[2, 3, 5\\]"):
        run(load(tmp_path / "han.keras"), [SENTENCES])
