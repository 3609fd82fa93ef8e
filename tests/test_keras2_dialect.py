"""The keras2 and keras2.2 dialects against the real tf-keras 2.21."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import lstm_configs

from tfjs_lstm import dialects


def as_json(config: dict) -> dict:
    """A config as a file holds it (tuples become lists)."""
    return json.loads(json.dumps(config))

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(lstm_configs("keras2"))
def test_keras2_writer_output_is_a_get_config_fixpoint(tf_keras, config):
    written = dialects.write("keras2", config).config
    layer = tf_keras.layers.LSTM.from_config(copy.deepcopy(written))
    assert as_json(layer.get_config()) == written


@SETTINGS
@given(lstm_configs("keras2"), st.data())
def test_keras2_reader_fills_the_defaults_tf_keras_fills(tf_keras, config, data):
    written = dialects.write("keras2", config).config
    kept = data.draw(st.sets(st.sampled_from(sorted(written))))
    kwargs = {key: written[key] for key in kept | {"units", "name"}}
    layer = tf_keras.layers.LSTM(**copy.deepcopy(kwargs))
    assert dialects.read("keras2", layer.get_config()) == dialects.read("keras2", kwargs)


@SETTINGS
@given(lstm_configs("keras2.2"))
def test_keras22_configs_load_in_tf_keras_with_the_same_meaning(tf_keras, config):
    written = dialects.write("keras2.2", config).config
    layer = tf_keras.layers.LSTM.from_config(copy.deepcopy(written))
    assert dialects.read("keras2", layer.get_config()) == dialects.read("keras2.2", written)


def test_keras22_signature_of_seed_001_defaults_to_hard_sigmoid_and_implementation_1():
    legacy = dialects.read("keras2.2", {"units": 128})
    assert legacy.recurrent_activation == "hard_sigmoid_keras2"
    assert legacy.implementation == 1
    assert legacy.unit_forget_bias is True


def test_seed_001_legacy_kwargs_become_the_batch_input_shape(tf_keras):
    kwargs = {"units": 128, "input_dim": 64, "input_length": 5, "return_sequences": True}
    ours = dialects.read("keras2", kwargs)
    assert ours.batch_input_shape == (None, 5, 64)
    real = tf_keras.layers.LSTM(**kwargs).get_config()
    assert tuple(real["batch_input_shape"]) == ours.batch_input_shape


def test_keras2_hard_sigmoid_is_the_one_fifth_slope_function(tf_keras):
    import numpy as np
    import tensorflow as tf

    x = np.linspace(-5, 5, 41).astype("float32")
    got = np.asarray(tf_keras.activations.get("hard_sigmoid")(tf.constant(x)))
    np.testing.assert_allclose(got, np.clip(0.2 * x + 0.5, 0, 1), atol=1e-7)
