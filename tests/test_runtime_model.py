"""The reference runtime on whole models against Keras 3: stateful layers across calls,
initial states given as inputs, float64, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest
from outputs import randomize

from tfjs_lstm.convert import load
from tfjs_lstm.errors import InputError
from tfjs_lstm.runtime.engine import Runner, run

rng = np.random.default_rng(5)



def test_stateful_lstm_carries_state_across_calls_until_reset(keras3, tmp_path):
    model = keras3.Sequential([keras3.Input(batch_shape=(2, 5, 3)),
                               keras3.layers.LSTM(4, stateful=True, return_sequences=True)])
    randomize(model, rng)
    model.save(tmp_path / "stateful.keras")
    first, second = (rng.normal(0, 1, (2, 5, 3)).astype(np.float32) for _ in range(2))
    expected = [model.predict(first, verbose=0), model.predict(second, verbose=0)]
    model.layers[0].reset_states()
    expected.append(model.predict(second, verbose=0))
    runner = Runner(load(tmp_path / "stateful.keras"))
    got = [runner.predict([first])[0], runner.predict([second])[0]]
    runner.reset_states()
    got.append(runner.predict([second])[0])
    for mine, theirs in zip(got, expected, strict=True):
        assert np.abs(mine - theirs).max() < 1e-5
    assert np.abs(got[1] - got[2]).max() > 1e-3, "the carried state must matter"
    with pytest.raises(InputError, match="expects shape"):
        runner.predict([rng.normal(0, 1, (3, 5, 3)).astype(np.float32)])


def test_initial_states_given_as_model_inputs(keras3, tmp_path):
    x = keras3.Input((6, 3), name="x")
    h0, c0 = keras3.Input((4,), name="h0"), keras3.Input((4,), name="c0")
    y = keras3.layers.LSTM(4, name="enc")(x, initial_state=[h0, c0])
    model = keras3.Model([x, h0, c0], y)
    randomize(model, rng)
    model.save(tmp_path / "initial.keras")
    inputs = [rng.normal(0, 1, (2, 6, 3)).astype(np.float32),
              rng.normal(0, 1, (2, 4)).astype(np.float32),
              rng.normal(0, 1, (2, 4)).astype(np.float32)]
    expected = model.predict(inputs, verbose=0)
    assert np.abs(run(load(tmp_path / "initial.keras"), inputs)[0] - expected).max() < 1e-5


def test_float64_precision_stays_within_1e_5_of_float32(tmp_path):
    from pathlib import Path

    model = load(Path(__file__).resolve().parent.parent / "examples" / "keras3_lstm.keras")
    x = [rng.normal(0, 1, (3, 12, 8)).astype(np.float32)]
    single, double = run(model, x)[0], run(model, x, precision="float64")[0]
    assert double.dtype == np.float64
    assert np.abs(single - double).max() < 1e-5


def test_initial_state_and_stateful_models_convert_and_run_in_tfjs(keras3, tfjs, tmp_path):
    from tfjs_lstm.convert import convert

    x = keras3.Input((6, 3), name="x")
    h0, c0 = keras3.Input((4,), name="h0"), keras3.Input((4,), name="c0")
    with_state = keras3.Model([x, h0, c0], keras3.layers.LSTM(4, name="enc")(
        x, initial_state=[h0, c0]))
    stateful = keras3.Sequential([keras3.Input(batch_shape=(2, 5, 3)),
                                  keras3.layers.LSTM(4, stateful=True)])
    cases = {
        "initial": (with_state, [rng.normal(0, 1, s).astype(np.float32)
                                 for s in ((2, 6, 3), (2, 4), (2, 4))]),
        "stateful": (stateful, [rng.normal(0, 1, (2, 5, 3)).astype(np.float32)]),
    }
    for name, (model, _) in cases.items():
        randomize(model, rng)
        model.save(tmp_path / f"{name}.keras")
        convert(tmp_path / f"{name}.keras", tmp_path / name)
    results = tfjs.predict_folders([(tmp_path / name, inputs)
                                    for name, (_, inputs) in cases.items()])
    for (name, (model, inputs)), got in zip(cases.items(), results, strict=True):
        assert not isinstance(got, str), got
        assert np.abs(got[0] - model.predict(inputs, verbose=0)).max() < 1e-5, name


def test_time_major_unroll_and_implementation_1_run_as_tf_keras_runs_them(tf_keras, tmp_path):
    """tf-keras's time_major layout ([steps, batch, features]), unroll and implementation 1:
    the same numbers from the reference runtime as from tf-keras itself."""
    L = tf_keras.layers
    model = tf_keras.Sequential([
        tf_keras.Input(batch_shape=(5, 4, 3)),  # time-major: 5 steps of a batch of 4
        L.LSTM(5, time_major=True, return_sequences=True, implementation=1),
        L.GRU(3, time_major=True, unroll=True, reset_after=False, return_sequences=True),
        L.SimpleRNN(2, time_major=True, go_backwards=True)])
    randomize(model, rng)
    x = rng.normal(0, 1, (5, 4, 3)).astype(np.float32)
    expected = np.asarray(model(x, training=False))  # predict would batch the time axis
    model.save(tmp_path / "time_major.h5")
    got = run(load(tmp_path / "time_major.h5"), [x])[0]
    assert got.shape == expected.shape == (4, 2)
    assert np.abs(got - expected).max() < 1e-5


def test_runner_prepares_weights_and_checks_memory_once_per_layout(keras3, tmp_path,
                                                                    monkeypatch):
    """A Runner's later calls reuse the kernels' weight layouts (one per batch layout: 1 or
    more) and the memory check of input shapes it has seen, and still match Keras."""
    from tfjs_lstm.runtime import engine, recurrent

    L = keras3.layers
    model = keras3.Sequential([keras3.Input((6, 3)),
                               L.Bidirectional(L.LSTM(4, return_sequences=True)),
                               L.GRU(3, reset_after=False, return_sequences=True),
                               L.SimpleRNN(2)])
    randomize(model, rng)
    model.save(tmp_path / "stack.keras")
    counts = {"layouts": 0, "memory": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(recurrent, "_gate_weights", counted("layouts", recurrent._gate_weights))
    monkeypatch.setattr(engine, "require_run_memory", counted("memory", engine.require_run_memory))
    runner = Runner(load(tmp_path / "stack.keras"))
    seen = []
    for batch in (3, 3, 1, 3, 1):
        x = rng.normal(0, 1, (batch, 6, 3)).astype(np.float32)
        assert np.abs(runner.predict([x])[0] - model.predict(x, verbose=0)).max() < 1e-5
        seen.append(dict(counts))
    assert seen[0]["layouts"] > 0 and seen[2]["layouts"] > seen[0]["layouts"]
    assert seen[1] == seen[0] and seen[3] == seen[2] and seen[4] == seen[2]
    assert [s["memory"] for s in seen] == [1, 1, 2, 2, 2]


def test_predict_in_batches_carries_stateful_states_as_keras3_predict_does(keras3, tmp_path):
    """The Python API of `run --batch-size`: a stateful LSTM over three batches of two gives
    Keras 3's `predict(x, batch_size=2)`; batches of another size are refused."""
    import tfjs_lstm

    L = keras3.layers
    model = keras3.Sequential([keras3.Input(batch_shape=(2, 5, 3)),
                               L.LSTM(4, stateful=True, name="carry"), L.Dense(2)])
    model.save(tmp_path / "s.keras")
    x = np.random.default_rng(9).normal(0, 1, (6, 5, 3)).astype(np.float32)
    ours = tfjs_lstm.predict_in_batches(load(tmp_path / "s.keras"), [x], batch_size=2)
    assert np.abs(ours[0] - model.predict(x, batch_size=2, verbose=0)).max() < 1e-5
    with pytest.raises(InputError, match="every batch must hold 2 samples"):
        tfjs_lstm.predict_in_batches(load(tmp_path / "s.keras"), [x], batch_size=3)
