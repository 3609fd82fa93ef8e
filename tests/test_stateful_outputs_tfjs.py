"""TensorFlow.js 4.22's predict applies a layer once per output tensor of it the model reads
(`tfjs_executor.execution_order`): a stateful LSTM whose output and states are all read runs
three times per predict and its states advance three times. Refused, naming the layer; written
anyway (the check lifted) tfjs differs from Keras 3 from the second predict on; the neighbour
reading one output converts and agrees on every call. All tfjs runs share one Node process."""

from __future__ import annotations

import numpy as np
import pytest
from outputs import randomize

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.formats import tfjs_executor
from tfjs_lstm.runtime.engine import Runner

TOLERANCE = 1e-5
CALLS = 3
rng = np.random.default_rng(2412)
X = rng.normal(0, 1, (2, 5, 3)).astype(np.float32)


def stateful_lstm(keras, read_states: bool):
    """Input (batch 2) -> stateful LSTM(return_state) -> Dense heads on its output, and on its
    two states when `read_states`."""
    L = keras.layers
    x = keras.Input((5, 3), batch_size=2, name="x")
    out, h, c = L.LSTM(4, stateful=True, return_state=True, name="lstm")(x)
    heads = [L.Dense(2, name="head_out")(out)]
    if read_states:
        heads += [L.Dense(2, name="head_h")(h), L.Dense(2, name="head_c")(c)]
    merged = L.Concatenate(name="merge")(heads) if len(heads) > 1 else heads[0]
    return keras.Model(x, merged)


@pytest.fixture(scope="module")
def runs(keras3, tfjs, tmp_path_factory):
    """name -> (Keras 3's outputs of CALLS predicts, tfjs's, the reference runtime's); the
    refused model converted with the check lifted."""
    tmp = tmp_path_factory.mktemp("stateful")
    cases, folders = {}, []
    for name, read_states in (("states_read", True), ("output_only", False)):
        model = stateful_lstm(keras3, read_states)
        randomize(model, rng)
        source = tmp / f"{name}.keras"
        model.save(source)
        keras_outputs = [np.asarray(model.predict(X, verbose=0)) for _ in range(CALLS)]
        folder = tmp / name
        if read_states:
            with pytest.raises(NotExpressibleError) as refused:
                convert(source, folder)
            lifted = tfjs_executor.repeated_state_problems
            tfjs_executor.repeated_state_problems = lambda model, dialect: []
            try:
                convert(source, folder)
            finally:
                tfjs_executor.repeated_state_problems = lifted
        else:
            refused = None
            convert(source, folder)
        runner = Runner(load(source))
        ours = [runner.predict([X])[0] for _ in range(CALLS)]
        cases[name] = (keras_outputs, ours, refused)
        folders.append(folder)
    replies = tfjs.predict_folders([(folder, [X]) for folder in folders],
                                   calls=[CALLS] * len(folders))
    return {name: (*case, reply) for (name, case), reply in zip(cases.items(), replies,
                                                                 strict=True)}


def test_a_stateful_layer_tfjs_applies_per_output_is_refused_naming_it(runs):
    *_, refused, _ = runs["states_read"]
    message = str(refused.value)
    assert "layer 'lstm', key 'stateful'" in message and "3 here" in message


def test_with_the_refusal_lifted_tfjs_differs_from_the_second_predict_on(runs):
    keras_outputs, _, _, tfjs_outputs = runs["states_read"]
    assert not isinstance(tfjs_outputs, str), tfjs_outputs
    gaps = [float(np.abs(got - want).max()) for got, want in zip(tfjs_outputs, keras_outputs,
                                                                  strict=True)]
    assert gaps[0] < TOLERANCE and min(gaps[1:]) > 1e-4, gaps


@pytest.mark.parametrize("name", ["states_read", "output_only"])
def test_the_reference_runtime_agrees_with_keras_on_every_predict(runs, name):
    keras_outputs, ours, *_ = runs[name]
    for got, want in zip(ours, keras_outputs, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_reading_one_output_converts_and_tfjs_agrees_on_every_predict(runs):
    keras_outputs, _, _, tfjs_outputs = runs["output_only"]
    assert not isinstance(tfjs_outputs, str), tfjs_outputs
    assert np.abs(keras_outputs[1] - keras_outputs[0]).max() > 1e-3  # the states do carry
    for got, want in zip(tfjs_outputs, keras_outputs, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
