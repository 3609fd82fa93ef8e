"""The keras3 dialect against the real Keras 3: what it writes is what Keras itself writes,
and the defaults it fills are the ones Keras fills."""

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
@given(lstm_configs("keras3"))
def test_keras3_writer_output_is_a_get_config_fixpoint(keras3, config):
    written = dialects.write("keras3", config).config
    layer = keras3.layers.LSTM.from_config(copy.deepcopy(written))
    assert as_json(layer.get_config()) == written


@SETTINGS
@given(lstm_configs("keras3"), st.data())
def test_keras3_reader_fills_the_defaults_keras3_fills(keras3, config, data):
    written = dialects.write("keras3", config).config
    kept = data.draw(st.sets(st.sampled_from(sorted(written))))
    kwargs = {key: written[key] for key in kept | {"units", "name"}}
    layer = keras3.layers.LSTM(**copy.deepcopy(kwargs))
    assert dialects.read("keras3", layer.get_config()) == dialects.read("keras3", kwargs)


def test_keras3_defaults_are_sigmoid_and_unit_forget_bias(keras3):
    config = keras3.layers.LSTM(8).get_config()
    assert config["recurrent_activation"] == "sigmoid"
    assert config["unit_forget_bias"] is True
    canonical = dialects.read("keras3", {"units": 8})
    assert canonical.recurrent_activation == "sigmoid"
    assert canonical.unit_forget_bias is True
    assert dialects.read("keras3", config) == canonical.replace(name="lstm")


def test_keras3_hard_sigmoid_is_the_one_sixth_slope_function(keras3):
    import numpy as np

    x = np.linspace(-5, 5, 41).astype("float32")
    got = np.asarray(keras3.activations.get("hard_sigmoid")(x))
    np.testing.assert_allclose(got, np.clip(x / 6 + 0.5, 0, 1), atol=1e-7)
    assert dialects.read("keras3", {"units": 1, "recurrent_activation": "hard_sigmoid"}) \
        .recurrent_activation == "hard_sigmoid_keras3"


def test_keras3_accepts_implementation_but_never_writes_it(keras3):
    assert "implementation" not in keras3.layers.LSTM(4, implementation=1).get_config()
    assert dialects.read("keras3", {"units": 4, "implementation": 1}).implementation == 1
    assert "implementation" not in dialects.write(
        "keras3", dialects.read("keras3", {"units": 4, "implementation": 1})).config
