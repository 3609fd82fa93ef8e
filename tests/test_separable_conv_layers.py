"""SeparableConv1D and DepthwiseConv1D, Keras-only layers: a tiny Keras 3 model and a tiny
tf-keras model each go .keras <-> .h5 and must predict what their own runtime predicted; the
reference runtime agrees on both files; TensorFlow.js 4.22 has neither layer, so the conversion
to a tfjs folder is refused naming each one before anything is written.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import as_list, assert_close, assert_tfjs_lacks, randomize, summary_text

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.summary import render_keras3

rng = np.random.default_rng(53)


def steps(batch: int, length: int, channels: int) -> np.ndarray:
    return rng.normal(0, 1, (batch, length, channels)).astype(np.float32)


def test_keras3_separable_and_depthwise_conv1d_go_to_tf_keras_and_are_refused_by_tfjs(
        keras3, tf_keras, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # Keras sizes its summary table from the terminal
    L = keras3.layers
    model = randomize(keras3.Sequential([
        keras3.Input((9, 3)),
        L.SeparableConv1D(4, 3, depth_multiplier=2, padding="same", activation="relu",
                          name="separable"),
        L.DepthwiseConv1D(2, strides=2, name="depthwise"),
        L.SeparableConv1D(2, 2, dilation_rate=2, use_bias=False, name="dilated"),
        L.LSTM(3, name="lstm")]), rng)
    x = steps(3, 9, 3)
    expected = as_list(model.predict(x, verbose=0))
    model.save(tmp_path / "k3.keras")
    assert_close(run(load(tmp_path / "k3.keras"), [x]), expected, "reference on .keras")
    convert(tmp_path / "k3.keras", tmp_path / "k3.h5")
    assert_close(run(load(tmp_path / "k3.h5"), [x]), expected, "reference on .h5")
    again = tf_keras.models.load_model(tmp_path / "k3.h5", compile=False)
    assert_close(as_list(again.predict(x, verbose=0)), expected, "tf-keras")
    assert render_keras3(load(tmp_path / "k3.keras")) == summary_text(model).rstrip("\n")
    assert_tfjs_lacks(tmp_path / "k3.keras", [("separable", "SeparableConv1D"),
                                              ("depthwise", "DepthwiseConv1D"),
                                              ("dilated", "SeparableConv1D")])


def test_tf_keras_separable_and_depthwise_conv1d_go_to_keras3(keras3, tf_keras, tmp_path):
    """hard_sigmoid after each: its slope differs in Keras 3, reached by rescaling weights."""
    L = tf_keras.layers
    model = randomize(tf_keras.Sequential([
        L.DepthwiseConv1D(3, depth_multiplier=2, padding="same", activation="hard_sigmoid",
                          input_shape=(8, 2), name="depthwise"),
        L.SeparableConv1D(3, 2, strides=2, activation="hard_sigmoid", name="separable"),
        L.GRU(2, name="gru")]), rng, 1.5)
    x = steps(2, 8, 2)
    expected = as_list(model.predict(x, verbose=0))
    model.save(tmp_path / "k2.h5")
    assert_close(run(load(tmp_path / "k2.h5"), [x]), expected, "reference on .h5")
    report = convert(tmp_path / "k2.h5", tmp_path / "k2.keras")
    assert len(report["transforms"]) == 2, report["transforms"]
    assert_close(run(load(tmp_path / "k2.keras"), [x]), expected, "reference on .keras")
    again = keras3.models.load_model(tmp_path / "k2.keras", compile=False)
    assert_close(as_list(again.predict(x, verbose=0)), expected, "Keras 3")
    convert(tmp_path / "k2.keras", tmp_path / "back.h5")
    back = tf_keras.models.load_model(tmp_path / "back.h5", compile=False)
    assert_close(as_list(back.predict(x, verbose=0)), expected, "tf-keras, round trip")


def test_tf_keras_causal_separable_conv1d_runs_here_and_is_refused_by_keras3(tf_keras, tmp_path):
    L = tf_keras.layers
    model = randomize(tf_keras.Sequential([
        L.SeparableConv1D(2, 3, padding="causal", dilation_rate=2, input_shape=(7, 2),
                          name="causal")]), rng)
    x = steps(2, 7, 2)
    model.save(tmp_path / "causal.h5")
    assert_close(run(load(tmp_path / "causal.h5"), [x]), as_list(model.predict(x, verbose=0)),
                 "reference on .h5")
    with pytest.raises(NotExpressibleError, match="layer 'causal', key 'padding' \\(keras3\\)"):
        convert(tmp_path / "causal.h5", tmp_path / "causal.keras")
    assert not (tmp_path / "causal.keras").exists()
