"""The keras3, keras2 and keras2.2 dialects against the real Keras 3 and tf-keras 2.21: what a
writer emits is what Keras itself writes, and a reader fills the defaults Keras fills. Every
registered layer type is checked."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import layer_configs

from tfjs_lstm import dialects
from tfjs_lstm.layers import REGISTRY

SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
RUNTIMES = [("keras3", "keras3"), ("keras2", "tf_keras")]
LAYERS = sorted(REGISTRY)


def as_json(config: dict) -> dict:
    """A config as a file holds it (tuples become lists; tf-keras's float32 scalars become
    numbers, as its saving does)."""
    return json.loads(json.dumps(config, default=lambda value: value.item()))


@pytest.fixture(params=RUNTIMES, ids=[d for d, _ in RUNTIMES])
def runtime(request):
    dialect, fixture = request.param
    return dialect, request.getfixturevalue(fixture)


@pytest.mark.parametrize("class_name", LAYERS)
@SETTINGS
@given(data=st.data())
def test_writer_output_is_a_get_config_fixpoint(runtime, class_name, data):
    dialect, keras = runtime
    if dialect not in REGISTRY[class_name].families:  # ThresholdedReLU is gone from Keras 3
        assert not hasattr(keras.layers, class_name)
        return
    config = data.draw(layer_configs(REGISTRY[class_name], dialect))
    written = dialects.write(dialect, config).config
    layer = getattr(keras.layers, class_name).from_config(copy.deepcopy(written))
    assert as_json(layer.get_config()) == written


@pytest.mark.parametrize("class_name", LAYERS)
@SETTINGS
@given(data=st.data())
def test_reader_fills_the_defaults_keras_fills(runtime, class_name, data):
    dialect, keras = runtime
    layer_type = REGISTRY[class_name]
    if dialect not in layer_type.families:
        assert not hasattr(keras.layers, class_name)
        return
    config = data.draw(layer_configs(layer_type, dialect))
    written = dialects.write(dialect, config).config
    required = {s.key_for(dialect) for s in layer_type.fields
                if s.default_for(dialect) is dialects.REQUIRED} | {"name"}
    # Keys written beside the fields stay: tf-keras's MultiHeadAttention requires its shapes.
    required |= set(layer_type.extra_keys(dialect) if layer_type.extra_keys else ())
    kept = data.draw(st.sets(st.sampled_from(sorted(written)))) | (required & set(written))
    kwargs = {key: written[key] for key in kept}
    layer = getattr(keras.layers, class_name).from_config(copy.deepcopy(kwargs))
    assert dialects.read(dialect, as_json(layer.get_config()), class_name=class_name) == \
        dialects.read(dialect, kwargs, class_name=class_name)


@pytest.mark.parametrize("class_name", [name for name in LAYERS
                                        if "keras2.2" in REGISTRY[name].families])
@SETTINGS
@given(data=st.data())
def test_keras22_configs_load_in_tf_keras_with_the_same_meaning(tf_keras, class_name, data):
    config = data.draw(layer_configs(REGISTRY[class_name], "keras2.2"))
    written = dialects.write("keras2.2", config).config
    layer = getattr(tf_keras.layers, class_name).from_config(copy.deepcopy(written))
    assert dialects.read("keras2", as_json(layer.get_config()), class_name=class_name) == \
        dialects.read("keras2.2", written, class_name=class_name)


def test_keras3_defaults_are_sigmoid_and_unit_forget_bias(keras3):
    config = keras3.layers.LSTM(8, name="probe").get_config()
    assert config["recurrent_activation"] == "sigmoid"
    assert config["unit_forget_bias"] is True
    canonical = dialects.read("keras3", {"units": 8})
    assert canonical.recurrent_activation == "sigmoid"
    assert canonical.unit_forget_bias is True
    assert dialects.read("keras3", config) == canonical.replace(name="probe")


def test_hard_sigmoid_has_a_different_slope_in_keras3_and_tf_keras(keras3, tf_keras):
    import numpy as np
    import tensorflow as tf

    x = np.linspace(-5, 5, 41).astype("float32")
    k3 = np.asarray(keras3.activations.get("hard_sigmoid")(x))
    k2 = np.asarray(tf_keras.activations.get("hard_sigmoid")(tf.constant(x)))
    np.testing.assert_allclose(k3, np.clip(x / 6 + 0.5, 0, 1), atol=1e-7)
    np.testing.assert_allclose(k2, np.clip(0.2 * x + 0.5, 0, 1), atol=1e-7)
    spec = {"units": 1, "recurrent_activation": "hard_sigmoid"}
    assert dialects.read("keras3", spec).recurrent_activation == "hard_sigmoid_keras3"
    assert dialects.read("keras2", spec).recurrent_activation == "hard_sigmoid_keras2"


def test_keras3_accepts_implementation_but_never_writes_it(keras3):
    assert "implementation" not in keras3.layers.LSTM(4, implementation=1).get_config()
    config = dialects.read("keras3", {"units": 4, "implementation": 1})
    assert config.implementation == 1
    assert "implementation" not in dialects.write("keras3", config).config


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


def test_a_layer_class_keras22_lacks_is_refused_naming_the_class():
    """Keras 2.2.4 has no LayerNormalization (keras/layers/normalization.py holds only
    BatchNormalization), so neither a keras2.2 reader nor writer accepts one."""
    from tfjs_lstm.errors import InputError, NotExpressibleError

    config = dialects.read("keras3", {"axis": -1}, class_name="LayerNormalization")
    with pytest.raises(NotExpressibleError) as caught:
        dialects.write("keras2.2", config)
    assert [(p.key, p.dialect) for p in caught.value.problems] == [("class_name", "keras2.2")]
    with pytest.raises(InputError, match="LayerNormalization"):
        dialects.read("keras2.2", {"axis": -1}, class_name="LayerNormalization")
