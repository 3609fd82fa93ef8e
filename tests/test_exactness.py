"""Mapped configs plus their weight transforms compute the same numbers in the real runtimes,
and what cannot be made exact is refused, naming every layer and key."""

from __future__ import annotations

import numpy as np
import pytest
from node_harness import tensor

from tfjs_lstm import dialects
from tfjs_lstm.errors import NotExpressibleError

UNITS, STEPS, FEATURES, BATCH = 5, 7, 3, 4
rng = np.random.default_rng(7)
X = rng.normal(0, 2, (BATCH, STEPS, FEATURES)).astype(np.float32)
# Large enough that pre-activations cross the hard_sigmoid clipping points.
WEIGHTS = {
    "kernel": rng.normal(0, 1.5, (FEATURES, 4 * UNITS)).astype(np.float32),
    "recurrent_kernel": rng.normal(0, 1.5, (UNITS, 4 * UNITS)).astype(np.float32),
    "bias": rng.normal(0, 1.0, (4 * UNITS,)).astype(np.float32),
}
ORDER = ("kernel", "recurrent_kernel", "bias")


def transformed(result: dialects.MapResult) -> list[np.ndarray]:
    arrays = dict(WEIGHTS)
    for transform in result.transforms:
        arrays = transform.apply(arrays)
    return [arrays[name] for name in ORDER]


def keras_output(module, config: dict, weights: list[np.ndarray]) -> np.ndarray:
    layer = module.layers.LSTM.from_config(config)
    model = module.Sequential([module.Input(batch_shape=(None, STEPS, FEATURES)), layer])
    layer.set_weights(weights)
    return np.asarray(model(X))


def tfjs_output(harness, args: dict, weights: list[np.ndarray]) -> np.ndarray:
    args = {**args, "batchInputShape": [None, STEPS, FEATURES]}
    case = {"layers": [{"className": "LSTM", "args": args,
                        "weights": [tensor(w) for w in weights]}], "input": tensor(X)}
    [[output]] = harness.predict([case])
    return output


KERAS3_HARD_SIGMOID = {"units": UNITS, "recurrent_activation": "hard_sigmoid",
                       "return_sequences": True}


def test_keras3_hard_sigmoid_runs_exactly_in_tfjs_after_the_rescale(keras3, tfjs):
    source = dialects.read("keras3", KERAS3_HARD_SIGMOID)
    expected = keras_output(keras3, dialects.write("keras3", source).config,
                            [WEIGHTS[n] for n in ORDER])
    result = dialects.write("tfjs", source)
    assert [t.factor for t in result.transforms] == [pytest.approx(5 / 6)]
    got = tfjs_output(tfjs, result.config, transformed(result))
    assert np.abs(got - expected).max() < 1e-5
    untransformed = tfjs_output(tfjs, result.config, [WEIGHTS[n] for n in ORDER])
    assert np.abs(untransformed - expected).max() > 1e-2, "the control must differ"


def test_keras3_hard_sigmoid_runs_exactly_in_tf_keras_after_the_rescale(keras3, tf_keras):
    source = dialects.read("keras3", KERAS3_HARD_SIGMOID)
    expected = keras_output(keras3, dialects.write("keras3", source).config,
                            [WEIGHTS[n] for n in ORDER])
    result = dialects.write("keras2", source)
    got = keras_output(tf_keras, result.config, transformed(result))
    assert np.abs(got - expected).max() < 1e-5


def test_tfjs_default_hard_sigmoid_runs_exactly_in_keras3_after_the_rescale(keras3, tfjs):
    args = {"units": UNITS, "returnSequences": True}
    expected = tfjs_output(tfjs, args, [WEIGHTS[n] for n in ORDER])
    result = dialects.write("keras3", dialects.read("tfjs", args))
    assert [t.factor for t in result.transforms] == [pytest.approx(6 / 5)]
    got = keras_output(keras3, result.config, transformed(result))
    assert np.abs(got - expected).max() < 1e-5


def test_tf_keras_config_runs_the_same_in_tfjs_without_any_transform(tf_keras, tfjs):
    kwargs = {"units": UNITS, "recurrent_activation": "hard_sigmoid", "activation": "softsign",
              "go_backwards": True, "return_sequences": True}
    source = dialects.read("keras2", tf_keras.layers.LSTM(**kwargs).get_config())
    expected = keras_output(tf_keras, dialects.write("keras2", source).config,
                            [WEIGHTS[n] for n in ORDER])
    result = dialects.write("tfjs", source)
    assert result.transforms == []
    got = tfjs_output(tfjs, result.config, [WEIGHTS[n] for n in ORDER])
    assert np.abs(got - expected).max() < 1e-5


def test_hard_sigmoid_as_cell_activation_cannot_be_rescaled_so_it_is_refused():
    config = dialects.read("keras3", {"units": 3, "activation": "hard_sigmoid"})
    for target in ("tfjs", "tfjs-json", "keras2", "keras2.2"):
        with pytest.raises(NotExpressibleError) as caught:
            dialects.write(target, config)
        [problem] = caught.value.problems
        assert (problem.layer, problem.key) == ("lstm", "activation")


def test_one_error_lists_every_offending_key():
    config = dialects.read("keras2", {"units": 3, "name": "enc", "time_major": True,
                                      "activation": "exponential", "dtype": "float64"})
    with pytest.raises(NotExpressibleError) as caught:
        dialects.write("tfjs", config)
    assert {(p.layer, p.key) for p in caught.value.problems} == {
        ("enc", "activation"), ("enc", "time_major"), ("enc", "dtype")}
    assert "layer 'enc'" in str(caught.value)


def test_zero_output_for_mask_on_returned_sequences_is_refused_for_tfjs_only_then():
    masked = dialects.read("keras3", {"units": 3, "zero_output_for_mask": True,
                                      "return_sequences": True})
    with pytest.raises(NotExpressibleError, match="zero_output_for_mask"):
        dialects.write("tfjs", masked)
    last_only = masked.replace(return_sequences=False)
    assert dialects.write("tfjs", last_only).notes


def test_time_major_is_refused_for_keras3_which_rejects_the_key(keras3):
    config = dialects.read("keras2", {"units": 3, "time_major": True})
    with pytest.raises(NotExpressibleError, match="time_major"):
        dialects.write("keras3", config)
    with pytest.raises(Exception, match="time_major"):
        keras3.layers.LSTM(3, time_major=True)


def test_reading_a_tfjs_json_file_whose_time_major_tfjs_would_ignore_is_refused():
    with pytest.raises(NotExpressibleError, match="ignores 'timeMajor'"):
        dialects.read("tfjs-json", {"units": 3, "time_major": True})
    assert dialects.read("tfjs-json", {"units": 3, "time_major": False}).time_major is False
