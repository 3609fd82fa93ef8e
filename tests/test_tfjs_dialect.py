"""The tfjs and tfjs-json dialects against the real TensorFlow.js 4.22 in Node.

Configs are batched: one Node process checks a whole list, because tfjs starts slowly.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from strategies import layer_configs

from tfjs_lstm import dialects
from tfjs_lstm.layers import REGISTRY

BATCH = settings(max_examples=5, deadline=None, phases=[Phase.generate], database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.data_too_large, HealthCheck.too_slow,
                                        HealthCheck.filter_too_much])
# One list mixes every layer type tfjs has, so each example is one Node process.
CONFIG_LISTS = st.lists(st.sampled_from(sorted(name for name, layer in REGISTRY.items()
                                               if "tfjs" in layer.families)).flatmap(
    lambda name: layer_configs(REGISTRY[name], "tfjs")), min_size=12, max_size=12)


def request(config, args: dict) -> dict:
    return {"className": config.class_name, "args": args}


@BATCH
@given(CONFIG_LISTS)
def test_tfjs_writer_output_is_a_get_config_fixpoint(tfjs, configs):
    written = [dialects.write("tfjs", c).config for c in configs]
    replies = tfjs.configs([request(c, a) for c, a in zip(configs, written, strict=True)])
    for args, reply in zip(written, replies, strict=True):
        assert "error" not in reply, (args, reply)
        assert reply["config"] == args


@BATCH
@given(CONFIG_LISTS)
def test_tfjs_json_writer_writes_what_model_save_writes(tfjs, configs):
    with_shape = [c for c in configs
                  if c.class_name != "InputLayer" and getattr(c, "batch_input_shape", None)]
    replies = tfjs.configs([request(c, dialects.write("tfjs", c).config) for c in with_shape])
    for config, reply in zip(with_shape, replies, strict=True):
        if getattr(config, "stateful", False) and config.batch_input_shape[0] is None:
            assert "needs to know its batch size" in reply["pythonicError"]
            continue
        assert "pythonic" in reply, reply
        if config.class_name in ("LayerNormalization", "TimeDistributed"):
            # tfjs's LayerNormalization writes its axes as built, wrapped or not
            config = REGISTRY[config.class_name].for_input_shapes(
                config, "tfjs", [config.batch_input_shape])
        assert reply["pythonic"] == dialects.write("tfjs-json", config).config


@BATCH
@given(CONFIG_LISTS, st.randoms(use_true_random=False))
def test_tfjs_reader_fills_the_defaults_tfjs_fills(tfjs, configs, rng: random.Random):
    partials = []
    for config in configs:
        args = dialects.write("tfjs", config).config
        required = {spec.key_for("tfjs") for spec in REGISTRY[config.class_name].fields
                    if spec.default_for("tfjs") is dialects.REQUIRED} | {"batchInputShape"}
        kept = {key for key in args if rng.random() < 0.3} | {"name"} | (required & set(args))
        partials.append({key: args[key] for key in kept})
    replies = tfjs.configs([request(c, p) for c, p in zip(configs, partials, strict=True)])
    for config, partial, reply in zip(configs, partials, replies, strict=True):
        name = config.class_name
        assert dialects.read("tfjs", reply["config"], class_name=name) == \
            dialects.read("tfjs", partial, class_name=name)


def test_seed_002_tfjs_defaults_hard_sigmoid_no_unit_forget_bias_glorot_normal(tfjs):
    args = {"units": 32, "inputShape": [10, 8], "returnSequences": True}
    [reply] = tfjs.configs([{"className": "LSTM", "args": args}])
    real = reply["config"]
    assert real["recurrentActivation"] == "hardSigmoid"
    assert "unitForgetBias" not in real
    assert real["kernelInitializer"]["config"]["distribution"] == "normal"
    ours = dialects.read("tfjs", args)
    assert ours.recurrent_activation == "hard_sigmoid_keras2"
    assert ours.unit_forget_bias is False
    assert ours.batch_input_shape == (None, 10, 8)
    assert reply["pythonic"]["implementation"] is None
    assert dialects.read("tfjs-json", reply["pythonic"]) == ours.replace(name=real["name"])


def test_tfjs_silently_drops_the_keys_we_refuse_to_drop(tfjs):
    """Why the tfjs writer refuses time_major and zero_output_for_mask: tfjs ignores them."""
    args = {"units": 2, "timeMajor": True, "zeroOutputForMask": True, "returnSequences": True}
    [reply] = tfjs.configs([{"className": "LSTM", "args": args}])
    assert "timeMajor" not in reply["config"]
    assert "zeroOutputForMask" not in reply["config"]


def test_tfjs_refuses_snake_case_activation_values_as_the_reader_does(tfjs):
    import pytest

    from tfjs_lstm.errors import InputError

    [reply] = tfjs.configs([{"className": "LSTM",
                             "args": {"units": 2, "recurrentActivation": "hard_sigmoid"}}])
    assert "Unknown activation" in reply["error"]
    with pytest.raises(InputError, match="camelCase"):
        dialects.read("tfjs", {"units": 2, "recurrentActivation": "hard_sigmoid"})


def test_keras_normal_initializers_are_written_as_tfjs_normal_with_a_note(tfjs):
    """tfjs has only its uncorrected truncated normal: Keras's glorot_normal and friends are
    written as that (initial weights only), and tfjs builds the layers."""
    notes, requests = [], []
    for name in ("glorot_normal", "he_normal", "lecun_normal"):
        result = dialects.write("tfjs", dialects.read("keras3", {"units": 2,
                                                                 "kernel_initializer": name}))
        notes.extend(result.notes)
        requests.append(request(dialects.read("keras3", {"units": 2}), result.config))
    assert len(notes) == 3 and all("written as 'normal'" in note for note in notes)
    for reply in tfjs.configs(requests):
        assert reply["config"]["kernelInitializer"]["config"]["distribution"] == "normal"


# The arguments each tfjs layer type requires, for a layer written with every default.
REQUIRED_ARGS = {"AlphaDropout": {"rate": 0.1}, "Dropout": {"rate": 0.1},
                 "SpatialDropout1D": {"rate": 0.1}, "Conv1D": {"filters": 2, "kernelSize": 2},
                 "Conv2D": {"filters": 2, "kernelSize": 2},
                 "ConvLSTM2D": {"filters": 2, "kernelSize": 3},
                 "GaussianDropout": {"rate": 0.1},
                 "Embedding": {"inputDim": 5, "outputDim": 2}, "GaussianNoise": {"stddev": 0.1},
                 "Permute": {"dims": [2, 1]}, "RepeatVector": {"n": 2},
                 "Reshape": {"targetShape": [12]}, "Softmax": {"axis": -1}}
TWO_D_INPUT = {"Embedding", "RepeatVector"}
IMAGE_INPUT = {"Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D",
               "GlobalAveragePooling2D"}
NEEDS_MORE = {"InputLayer", "Bidirectional", "RNN", "TimeDistributed"}  # a cell or a layer
MERGES = {"Add", "Average", "Concatenate", "Multiply", "Maximum", "Minimum", "Subtract", "Dot"}


def test_tfjs_json_writer_writes_what_model_save_writes_for_every_default(tfjs):
    """Hypothesis draws few configs per run; here every layer type with all its defaults is
    checked each run (ReLU's unset maxValue is undefined in getConfig(), null in model.save())."""
    configs = []
    for name, layer in sorted(REGISTRY.items()):
        if "tfjs" not in layer.families or name in NEEDS_MORE | MERGES or name.endswith("Cell"):
            continue
        shape = [None, 4] if name in TWO_D_INPUT else [None, 4, 4, 3] if name in IMAGE_INPUT \
            else [None, 2, 4, 4, 3] if name == "ConvLSTM2D" else [None, 4, 3]
        args = {"name": "x", "batchInputShape": shape,
                **REQUIRED_ARGS.get(name, {})}
        if any(spec.name == "units" for spec in layer.fields):
            args["units"] = 2
        configs.append(dialects.read("tfjs", args, class_name=name))
    replies = tfjs.configs([request(c, dialects.write("tfjs", c).config) for c in configs])
    for config, reply in zip(configs, replies, strict=True):
        if config.class_name == "LayerNormalization":
            config = REGISTRY["LayerNormalization"].for_input_shapes(
                config, "tfjs", [config.batch_input_shape])
        assert reply.get("pythonic") == dialects.write("tfjs-json", config).config, reply
    assert "ReLU" in {c.class_name for c in configs}


def test_a_wrapped_layer_normalization_is_written_with_its_axes_as_tfjs_builds_them(tfjs):
    """tfjs's model.save() writes a LayerNormalization's axes as built for one step's shape,
    inside TimeDistributed too: [2] for steps of [4, 2]."""
    config = dialects.read("keras2", {
        "layer": {"class_name": "LayerNormalization", "config": {"axis": -1}},
        "batch_input_shape": [None, 3, 4, 2]}, class_name="TimeDistributed")
    [reply] = tfjs.configs([request(config, dialects.write("tfjs", config).config)])
    built = REGISTRY["TimeDistributed"].for_input_shapes(config, "tfjs", [(None, 3, 4, 2)])
    assert reply["pythonic"]["layer"]["config"]["axis"] == [2]
    assert reply["pythonic"] == dialects.write("tfjs-json", built).config
