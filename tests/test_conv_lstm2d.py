"""ConvLSTM2D judged by the real runtimes: tiny Keras 3 and tf-keras models converted to tfjs
folders that TensorFlow.js 4.22 runs in Node (one process for all), tfjs-born ones converted to
.keras and .h5, and `summary` equal to each runtime's own text. TensorFlow's CPU kernels have
no channels_first convolution, so that layout is judged by tfjs alone.
"""

from __future__ import annotations

import numpy as np
import outputs
import pytest
from outputs import as_list, assert_close, randomize

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.runtime.engine import run

rng = np.random.default_rng(43)


def frames(batch: int, *shape: int) -> np.ndarray:
    return rng.normal(0, 1, (batch, *shape)).astype(np.float32)


def keras_models(keras) -> dict:
    """name -> (input shape without the batch, layers): the issue's 3 frames of 5x5x2 first."""
    L = keras.layers
    return {
        "conv_lstm": ((3, 5, 5, 2), [L.ConvLSTM2D(3, 3)]),
        "conv_lstm_variants": ((3, 6, 5, 2), [
            L.ConvLSTM2D(2, (3, 2), strides=(2, 1), padding="same", return_sequences=True,
                         go_backwards=True, recurrent_activation="hard_sigmoid"),
            L.ConvLSTM2D(2, 2, dilation_rate=(2, 1), padding="same", use_bias=False,
                         activation="relu")]),
    }


def build(keras, name: str, shape: tuple, layers: list):
    return randomize(keras.Sequential([keras.Input(shape), *layers], name=name), rng, 0.5)


def test_tf_keras_ignores_time_major_in_conv_lstm2d_and_so_does_the_reference_runtime(
        tf_keras, tmp_path):
    model = build(tf_keras, "time_major", (2, 5, 5, 2), [tf_keras.layers.ConvLSTM2D(
        2, 3, time_major=True, return_sequences=True)])
    outputs.assert_h5_runs_as_keras_runs_it(model, frames(3, 2, 5, 5, 2), tmp_path)


def test_keras3_and_tf_keras_conv_lstm2d_with_states_predict_the_same_in_tfjs_in_node(
        keras3, tf_keras, tfjs, tmp_path):
    cases, expected = [], {}
    for runtime, keras, suffix in (("keras3", keras3, "keras"), ("tf_keras", tf_keras, "h5")):
        for name, (shape, layers) in keras_models(keras).items():
            model, x = build(keras, name, shape, layers), frames(2, *shape)
            source, folder = tmp_path / f"{runtime}_{name}.{suffix}", tmp_path / f"{runtime}_{name}"
            model.save(source)
            expected[folder] = as_list(model.predict(x, verbose=0))
            assert_close(run(load(source), [x]), expected[folder], f"reference, {source.name}")
            convert(source, folder)
            cases.append((folder, [x]))
    states = keras3.Input((3, 3, 2)), keras3.Input((3, 3, 2))
    frames_in = keras3.Input((3, 5, 5, 2))
    model = randomize(keras3.Model([frames_in, *states], keras3.layers.ConvLSTM2D(
        2, 3, return_state=True)(frames_in, initial_state=list(states))), rng, 0.5)
    inputs = [frames(2, 3, 5, 5, 2), frames(2, 3, 3, 2), frames(2, 3, 3, 2)]
    model.save(tmp_path / "initial_state.keras")
    expected[tmp_path / "initial_state"] = as_list(list(model.predict(inputs, verbose=0)))
    convert(tmp_path / "initial_state.keras", tmp_path / "initial_state")
    cases.append((tmp_path / "initial_state", inputs))
    for (folder, _), got in zip(cases, tfjs.predict_folders(cases), strict=True):
        assert not isinstance(got, str), f"{folder.name}: tfjs failed: {got}"
        assert_close(got, expected[folder], f"tfjs, {folder.name}")


TFJS_MODELS = {
    "tfjs_conv_lstm": [{"className": "ConvLSTM2D", "args": {
        "filters": 2, "kernelSize": [2, 3], "padding": "same", "returnSequences": True,
        "unitForgetBias": True, "inputShape": [3, 5, 4, 2]}},
        {"className": "ConvLSTM2D", "args": {"filters": 3, "kernelSize": 2, "goBackwards": True}}],
    "tfjs_channels_first": [{"className": "ConvLSTM2D", "args": {
        "filters": 2, "kernelSize": 2, "dataFormat": "channelsFirst", "returnSequences": True,
        "inputShape": [3, 2, 5, 4]}}],
}


def test_tfjs_born_conv_lstm2d_converts_to_keras3_and_tf_keras(keras3, tf_keras, tfjs, tmp_path):
    """Keras only loads the channels_first one: TensorFlow's CPU has no NCHW convolution."""
    for name, layers in TFJS_MODELS.items():
        tfjs.save(tmp_path / name, layers)
    outputs.tfjs_folders_in_keras(
        tfjs, keras3, tf_keras,
        [(tmp_path / name, [frames(2, *layers[0]["args"]["inputShape"])])
         for name, layers in TFJS_MODELS.items()], skip_keras=("tfjs_channels_first",))
    loaded = tf_keras.models.load_model(tmp_path / "tfjs_channels_first.h5")
    assert loaded.layers[0].data_format == "channels_first"


def test_a_mask_reaching_conv_lstm2d_is_refused_as_every_runtime_fails_on_it(tfjs, tmp_path):
    """Masking gives one mask per pixel; Keras 3, tf-keras and tfjs all fail calling with it."""
    tfjs.save(tmp_path / "masked", [
        {"className": "Masking", "args": {"inputShape": [3, 5, 5, 2]}},
        {"className": "ConvLSTM2D", "args": {"filters": 2, "kernelSize": 3, "name": "video"}}])
    [failed] = tfjs.predict_folders([(tmp_path / "masked", [frames(1, 3, 5, 5, 2)])])
    assert isinstance(failed, str)
    with pytest.raises(NotExpressibleError) as caught:
        load(tmp_path / "masked")
    assert {(p.layer, p.key) for p in caught.value.problems} == {("video", "mask")}


def test_conv_lstm2d_summaries_match_each_runtimes_own(keras3, tf_keras, tfjs, tmp_path,
                                                      monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    models = [build(keras, "conv_lstm", *keras_models(keras)["conv_lstm_variants"])
              for keras in (keras3, tf_keras)]
    outputs.assert_summaries_are_each_runtimes_own(*models, tfjs, tmp_path)
