"""Conv1D, the 1D pooling layers, LayerNormalization and BatchNormalization around recurrent
layers: whole models judged by the real runtimes.

Keras 3 models go to tfjs folders that TensorFlow.js 4.22 runs in Node (one process for all);
the reference runtime runs both files; tf-keras models are read from its .h5; models tfjs saves
itself go to .keras for Keras 3. `summary` is compared with each runtime's own text.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import (
    as_list,
    assert_close,
    assert_h5_runs_as_keras_runs_it,
    assert_summaries_are_each_runtimes_own,
    keras3_models_in_tfjs,
    randomize_trained,
    tfjs_folders_in_keras,
)

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.runtime.engine import run

rng = np.random.default_rng(31)


def sequences(batch: int, steps: int, features: int) -> np.ndarray:
    """Float sequences whose first row is masked (all zero) at its last three steps."""
    x = rng.normal(0, 1, (batch, steps, features)).astype(np.float32)
    x[0, -3:] = 0.0
    return x


def sequential_models(keras) -> dict:
    """name -> Sequential layers on [batch, steps, features], the issue's models first."""
    L = keras.layers
    return {
        "conv_pool_lstm": ((12, 3), [L.Conv1D(4, 3, padding="same", activation="relu"),
                                     L.MaxPooling1D(2), L.LSTM(3)]),
        "lstm_global_max": ((7, 3), [L.LSTM(4, return_sequences=True),
                                     L.GlobalMaxPooling1D()]),
        "lstm_layer_norm": ((6, 3), [L.LSTM(4, return_sequences=True),
                                     L.LayerNormalization(), L.LSTM(3),
                                     L.LayerNormalization(epsilon=0.01, center=False)]),
        "lstm_batch_norm": ((6, 3), [L.LSTM(4, return_sequences=True),
                                     L.BatchNormalization(), L.GRU(3, reset_after=False),
                                     L.BatchNormalization(scale=False, epsilon=0.01)]),
        "lstm_global_average": ((6, 3), [L.LSTM(4, return_sequences=True),
                                         L.GlobalAveragePooling1D()]),
        "conv_variants": ((13, 4), [L.Conv1D(4, 3, strides=2), L.Conv1D(2, 2, dilation_rate=2,
                                                                       padding="same"),
                                    L.AveragePooling1D(3, strides=2, padding="same"),
                                    L.MaxPooling1D(2, padding="same"),
                                    L.GlobalAveragePooling1D()]),
        "masked_lstm_global_max": ((7, 3), [L.Masking(), L.LSTM(4, return_sequences=True),
                                            L.LayerNormalization(), L.BatchNormalization(),
                                            L.GlobalMaxPooling1D()]),
        "activations_permute": ((6, 3), [L.LSTM(4, return_sequences=True),
                                         L.ReLU(max_value=0.5), L.LeakyReLU(), L.ELU(),
                                         L.Permute((2, 1)), L.Softmax(axis=2)]),
        "masked_noise_lstm": ((7, 3), [L.Masking(), L.GaussianNoise(0.2),
                                       L.GaussianDropout(0.1), L.AlphaDropout(0.1), L.ReLU(),
                                       L.LSTM(4)]),
    }


def keras_only_layers(keras) -> list:
    """Layers TensorFlow.js 4.22 lacks (it has only their 2D forms)."""
    L = keras.layers
    return [L.ZeroPadding1D((1, 2), name="pad"), L.Cropping1D((2, 1), name="crop"),
            L.UpSampling1D(2, name="repeat"), L.LSTM(3)]


def build(keras, name: str, shape: tuple, layers: list):
    return randomize_trained(keras.Sequential([keras.Input(shape), *layers], name=name), rng)


def test_keras3_models_convert_to_tfjs_and_predict_the_same_in_node(keras3, tfjs, tmp_path):
    models = {name: (build(keras3, name, shape, layers), [sequences(3, *shape)])
              for name, (shape, layers) in sequential_models(keras3).items()}
    keras3_models_in_tfjs(tfjs, models, tmp_path)


def test_tf_keras_h5_models_run_in_the_reference_runtime_as_in_tf_keras(tf_keras, tmp_path):
    """tf-keras's .h5 names (`gamma:0`...`moving_variance:0`) and built axes ([2])."""
    chosen = ("conv_pool_lstm", "lstm_layer_norm", "lstm_batch_norm", "conv_variants",
              "activations_permute")
    models = {**sequential_models(tf_keras), "keras_only": ((8, 3), keras_only_layers(tf_keras))}
    for name, (shape, layers) in models.items():
        if name not in (*chosen, "keras_only"):
            continue
        assert_h5_runs_as_keras_runs_it(build(tf_keras, name, shape, layers),
                                        sequences(3, *shape), tmp_path)


def refused_for_tfjs(model, shape: tuple, tmp_path) -> set[tuple[str, str]]:
    """(layer, key) of every refusal to write `model` as a tfjs folder, after checking the
    reference runtime computes what Keras 3 computes; nothing is written."""
    source = tmp_path / f"{model.name}.keras"
    model.save(source)
    x = sequences(3, *shape)
    assert_close(run(load(source), [x]), as_list(model.predict(x, verbose=0)),
                 f"reference runtime, {model.name}")
    with pytest.raises(NotExpressibleError) as caught:
        convert(source, tmp_path / model.name)
    assert not (tmp_path / model.name).exists()
    return {(p.layer, p.key) for p in caught.value.problems}


def test_masked_global_average_is_refused_for_tfjs_and_computed_as_keras_does(keras3,
                                                                            tmp_path):
    """Keras averages the unmasked steps; tfjs 4.22's GlobalAveragePooling1D averages all,
    and its LeakyReLU drops the mask Keras passes on."""
    L = keras3.layers
    model = build(keras3, "masked_average", (6, 3), [
        L.Masking(), L.LeakyReLU(name="leaky"), L.LSTM(4, return_sequences=True),
        L.GlobalAveragePooling1D(name="mean")])
    assert refused_for_tfjs(model, (6, 3), tmp_path) == {("mean", "mask"), ("leaky", "mask")}


def test_a_tfjs_model_whose_mask_reaches_global_average_is_refused_on_reading(tfjs, tmp_path):
    """There tfjs 4.22 takes a plain mean over every step, which no Keras layer computes."""
    tfjs.save(tmp_path / "masked_mean", [
        {"className": "Masking", "args": {"inputShape": [5, 2]}},
        {"className": "LSTM", "args": {"units": 3, "returnSequences": True}},
        {"className": "GlobalAveragePooling1D", "args": {"name": "mean"}}])
    with pytest.raises(NotExpressibleError) as caught:
        load(tmp_path / "masked_mean")
    assert [(p.layer, p.key) for p in caught.value.problems] == [("mean", "mask")]


def test_layers_tfjs_lacks_are_refused_naming_them(keras3, tmp_path):
    model = build(keras3, "keras_only", (8, 3), keras_only_layers(keras3))
    assert refused_for_tfjs(model, (8, 3), tmp_path) == {
        ("pad", "class_name"), ("crop", "class_name"), ("repeat", "class_name")}


def test_what_tfjs_conv1d_lacks_is_refused_naming_layer_and_key(keras3, tmp_path):
    """tfjs 4.22's Conv1D throws on causal padding and has no groups."""
    L = keras3.layers
    model = build(keras3, "conv_refused", (8, 4), [
        L.Conv1D(2, 3, padding="causal", dilation_rate=2, name="causal"),
        L.Conv1D(2, 2, groups=2, name="grouped"), L.LSTM(2)])
    assert refused_for_tfjs(model, (8, 4), tmp_path) == {("causal", "padding"),
                                                         ("grouped", "groups")}


def test_tfjs_models_with_default_args_convert_to_keras3_and_tf_keras(keras3, tf_keras, tfjs,
                                                                     tmp_path):
    specs = {
        "tfjs_conv_pool": [
            {"className": "Conv1D", "args": {"filters": 3, "kernelSize": 2,
                                             "inputShape": [9, 2]}},
            {"className": "MaxPooling1D", "args": {}},
            {"className": "AveragePooling1D", "args": {}},
            {"className": "LSTM", "args": {"units": 3}}],
        "tfjs_norms": [
            {"className": "LSTM", "args": {"units": 4, "returnSequences": True,
                                           "inputShape": [5, 2]}},
            {"className": "LayerNormalization", "args": {}},
            {"className": "BatchNormalization", "args": {}},
            {"className": "GlobalMaxPooling1D", "args": {}}],
        "tfjs_average": [
            {"className": "GRU", "args": {"units": 3, "returnSequences": True,
                                          "inputShape": [5, 2]}},
            {"className": "GlobalAveragePooling1D", "args": {}}],
    }
    cases = []
    for name, layers in specs.items():
        tfjs.save(tmp_path / name, layers)
        cases.append((tmp_path / name, [sequences(3, *layers[0]["args"]["inputShape"])]))
    tfjs_folders_in_keras(tfjs, keras3, tf_keras, cases)


def summary_model(keras):
    L = keras.layers
    return build(keras, "norms", (8, 3), [
        L.Conv1D(4, 3), L.MaxPooling1D(), L.LSTM(5, return_sequences=True),
        L.BatchNormalization(), L.LayerNormalization(), L.GlobalAveragePooling1D()])


def test_summaries_count_moving_statistics_as_non_trainable(keras3, tf_keras, tfjs, tmp_path,
                                                           monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    ours = assert_summaries_are_each_runtimes_own(summary_model(keras3), summary_model(tf_keras),
                                                  tfjs, tmp_path)
    assert "Non-trainable params: 10" in ours
