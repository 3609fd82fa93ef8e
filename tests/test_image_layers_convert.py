"""Conv2D and the 2D pooling layers, alone and inside TimeDistributed before an LSTM (the
CNN-LSTM over video frames), and the 1D step layers inside TimeDistributed: whole models
judged by the real runtimes.

Keras 3 models go to tfjs folders that TensorFlow.js 4.22 runs in Node (one process for all);
tf-keras models are read from its .h5; models tfjs saves itself go to .keras and .h5. `summary`
is compared with each runtime's own text. TensorFlow's CPU kernels have no channels_first
Conv2D, so that layout is judged by tfjs alone.
"""

from __future__ import annotations

import numpy as np
import outputs
import pytest
from outputs import as_list, assert_close, randomize_trained

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.runtime.engine import run

rng = np.random.default_rng(41)


def frames(batch: int, *shape: int) -> np.ndarray:
    return rng.normal(0, 1, (batch, *shape)).astype(np.float32)


def keras_models(keras) -> dict:
    """name -> (input shape without the batch, layers): the issue's CNN-LSTM first."""
    L = keras.layers
    td = L.TimeDistributed
    return {
        "cnn_lstm": ((3, 6, 6, 2), [td(L.Conv2D(3, 3, padding="same", activation="relu")),
                                    td(L.MaxPooling2D()), td(L.Flatten()), L.LSTM(4)]),
        "cnn_global_gru": ((3, 7, 6, 2), [td(L.Conv2D(4, (3, 2), strides=(2, 1))),
                                          td(L.AveragePooling2D(2, padding="same")),
                                          td(L.GlobalMaxPooling2D()),
                                          L.GRU(3, reset_after=False)]),
        "conv2d_variants": ((7, 6, 4), [L.Conv2D(4, (3, 2), strides=(2, 1), use_bias=False),
                                        L.Conv2D(2, 2, dilation_rate=(2, 1), padding="same",
                                                 activation="tanh"),
                                        L.AveragePooling2D(3, strides=2, padding="same"),
                                        L.MaxPooling2D((2, 1), strides=1, padding="same"),
                                        L.GlobalAveragePooling2D()]),
        "steps_in_time_distributed": ((3, 8, 4), [td(L.Conv1D(4, 3, activation="relu")),
                                                  td(L.LayerNormalization()),
                                                  td(L.BatchNormalization()),
                                                  td(L.Dropout(0.3)), td(L.MaxPooling1D()),
                                                  td(L.GlobalAveragePooling1D()), L.LSTM(3)]),
    }


def build(keras, name: str, shape: tuple, layers: list):
    return randomize_trained(keras.Sequential([keras.Input(shape), *layers], name=name), rng,
                             0.5)


def test_keras3_cnn_lstm_models_convert_to_tfjs_and_predict_the_same_in_node(keras3, tfjs,
                                                                            tmp_path):
    models = {name: (build(keras3, name, shape, layers), [frames(2, *shape)])
              for name, (shape, layers) in keras_models(keras3).items()}
    outputs.keras3_models_in_tfjs(tfjs, models, tmp_path)


def test_tf_keras_h5_cnn_lstm_runs_in_the_reference_runtime_as_in_tf_keras(tf_keras,
                                                                          tmp_path):
    for name, (shape, layers) in keras_models(tf_keras).items():
        if name == "cnn_global_gru":
            continue
        outputs.assert_h5_runs_as_keras_runs_it(build(tf_keras, name, shape, layers),
                                                frames(2, *shape), tmp_path)


def test_grouped_conv2d_and_kept_dims_run_as_keras3_runs_them_and_tfjs_is_refused(keras3, tmp_path):
    """tfjs 4.22's Conv2D has no groups and its global pooling no keepdims: the tfjs writer
    names each layer and key."""
    L = keras3.layers
    model = build(keras3, "grouped", (6, 6, 4), [L.Conv2D(4, 3, groups=2, name="grouped"),
                                                 L.GlobalMaxPooling2D(keepdims=True, name="kept")])
    model.save(tmp_path / "grouped.keras")
    x = frames(2, 6, 6, 4)
    assert_close(run(load(tmp_path / "grouped.keras"), [x]),
                 as_list(model.predict(x, verbose=0)), "reference runtime")
    with pytest.raises(NotExpressibleError) as caught:
        convert(tmp_path / "grouped.keras", tmp_path / "grouped")
    assert {(p.layer, p.key) for p in caught.value.problems} == {("grouped", "groups"),
                                                                 ("kept", "keepdims")}
    assert not (tmp_path / "grouped").exists()


TFJS_MODELS = {
    "tfjs_cnn_lstm": [
        {"className": "TimeDistributed", "args": {"inputShape": [3, 6, 6, 2], "layer": {
            "className": "Conv2D", "config": {"filters": 3, "kernelSize": 2}}}},
        {"className": "TimeDistributed", "args": {"layer": {
            "className": "MaxPooling2D", "config": {}}}},
        {"className": "TimeDistributed", "args": {"layer": {
            "className": "Flatten", "config": {}}}},
        {"className": "LSTM", "args": {"units": 3}}],
    "tfjs_defaults": [
        {"className": "Conv2D", "args": {"filters": 2, "kernelSize": [3, 2],
                                         "inputShape": [7, 6, 2]}},
        {"className": "AveragePooling2D", "args": {}},
        {"className": "GlobalAveragePooling2D", "args": {}}],
    "tfjs_channels_first": [
        {"className": "Conv2D", "args": {"filters": 3, "kernelSize": 2, "padding": "same",
                                         "dataFormat": "channelsFirst",
                                         "inputShape": [2, 7, 6]}},
        {"className": "MaxPooling2D", "args": {"dataFormat": "channelsFirst",
                                               "padding": "same"}},
        {"className": "AveragePooling2D", "args": {"poolSize": [2, 1],
                                                   "dataFormat": "channelsFirst"}},
        {"className": "GlobalMaxPooling2D", "args": {"dataFormat": "channelsFirst"}}],
}


def test_tfjs_born_cnn_models_convert_to_keras3_and_tf_keras(keras3, tf_keras, tfjs, tmp_path):
    cases = []
    for name, layers in TFJS_MODELS.items():
        tfjs.save(tmp_path / name, layers)
        cases.append((tmp_path / name, [frames(2, *layers[0]["args"]["inputShape"])]))
    # TensorFlow's CPU kernels have no NCHW convolution: there Keras only loads the file.
    outputs.tfjs_folders_in_keras(tfjs, keras3, tf_keras, cases,
                                  skip_keras=("tfjs_channels_first",))
    loaded = keras3.models.load_model(tmp_path / "tfjs_channels_first.keras")
    assert loaded.layers[0].data_format == "channels_first"


def summary_model(keras):
    shape, layers = keras_models(keras)["cnn_lstm"]
    return build(keras, "cnn_lstm", shape, layers)


def test_cnn_lstm_summaries_match_each_runtimes_own(keras3, tf_keras, tfjs, tmp_path,
                                                   monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    outputs.assert_summaries_are_each_runtimes_own(summary_model(keras3),
                                                   summary_model(tf_keras), tfjs, tmp_path)
