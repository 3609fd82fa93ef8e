"""Keras 3's own RNN tests, reproduced on the files Keras 3 writes: each model below is the
layer of a test in keras-team/keras v3.15.1 `keras/src/layers/rnn/<file>` (constant
initializers), saved by Keras 3 as `.keras`, read by tfjs-lstm and run in the reference runtime;
the outputs must be the test's own hard-coded numbers (within 1e-5, the tests' atol).

A test's explicit `mask=` becomes a Masking(-1) layer and -1 at the masked steps: a recurrent
layer skips a masked step whatever its input, so the function is the same.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import assert_close

from tfjs_lstm.convert import load
from tfjs_lstm.runtime.engine import run

SEQ_3_6_4 = np.arange(72).reshape((3, 6, 4)).astype("float32")
SEQ_2_3_4 = np.arange(24).reshape((2, 3, 4)).astype("float32")
SEQ_2_4_3 = np.arange(24).reshape((2, 4, 3)).astype("float32")
LSTM_MASK = np.array([[True, True, True, False], [True, True, False, False]])
GAP_MASK = np.array([[True, True, False, True], [True, False, False, True]])


def constants(kernel: float = 0.01, recurrent: float = 0.02, bias: float = 0.03) -> dict:
    return {"kernel_initializer": {"class_name": "Constant", "config": {"value": kernel}},
            "recurrent_initializer": {"class_name": "Constant", "config": {"value": recurrent}},
            "bias_initializer": {"class_name": "Constant", "config": {"value": bias}}}


def rows(*values: float, width: int) -> np.ndarray:
    return np.array([[v] * width for v in values], np.float32)


# (test file, test name, layer class, layer kwargs, input, mask, expected whole output)
CASES = [
    ("lstm_test.py", "test_correctness", "LSTM", {"units": 3}, SEQ_3_6_4, None,
     rows(0.6288687, 0.86899155, 0.9460773, width=3)),
    ("lstm_test.py", "test_correctness", "LSTM", {"units": 3, "go_backwards": True},
     SEQ_3_6_4, None, rows(0.35622165, 0.74789524, 0.8872726, width=3)),
    ("lstm_test.py", "test_correctness", "LSTM", {"units": 3, "unit_forget_bias": False},
     SEQ_3_6_4, None, rows(0.57019705, 0.8661914, 0.9459622, width=3)),
    ("lstm_test.py", "test_correctness", "LSTM", {"units": 3, "use_bias": False}, SEQ_3_6_4,
     None, rows(0.54986924, 0.86226785, 0.9443936, width=3)),
    ("lstm_test.py", "test_masking", "LSTM", {"units": 2, "unroll": True}, SEQ_2_4_3,
     LSTM_MASK, rows(0.11755939, 0.28556206, width=2)),
    ("lstm_test.py", "test_masking", "LSTM", {"units": 2, "return_sequences": True},
     SEQ_2_4_3, LSTM_MASK, np.stack([rows(0.01588910, 0.05552048, 0.11755939, 0.11755939,
                                          width=2),
                                     rows(0.14185596, 0.28556206, 0.28556206, 0.28556206,
                                          width=2)])),
    ("gru_test.py", "test_correctness", "GRU", {"units": 3}, SEQ_3_6_4, None,
     rows(0.5217289, 0.6371659, 0.39384964, width=3)),
    ("gru_test.py", "test_correctness", "GRU", {"units": 3, "go_backwards": True}, SEQ_3_6_4,
     None, rows(0.24406259, 0.611516, 0.3928808, width=3)),
    ("gru_test.py", "test_masking", "GRU", {"units": 2, "unroll": True}, SEQ_2_4_3, GAP_MASK,
     rows(0.19393763, 0.30818558, width=2)),
    ("simple_rnn_test.py", "test_correctness", "SimpleRNN", {"units": 4}, SEQ_2_3_4, None,
     rows(0.405432, 0.73605347, width=4)),
    ("simple_rnn_test.py", "test_masking", "SimpleRNN", {"units": 4, "unroll": True},
     SEQ_2_4_3, GAP_MASK, rows(0.32951632, 0.61799484, width=4)),
    ("bidirectional_test.py", "test_correctness", "Bidirectional", {"merge_mode": "concat"},
     SEQ_2_3_4, None, np.array([[0.39687276, 0.39687276, 0.10004295, 0.10004295],
                                [0.7237238, 0.7237238, 0.53391594, 0.53391594]], np.float32)),
    ("bidirectional_test.py", "test_correctness", "Bidirectional", {"merge_mode": "ave"},
     SEQ_2_3_4, None, rows(0.24845785, 0.6288199, width=2)),
    ("bidirectional_test.py", "test_correctness", "Bidirectional",
     {"merge_mode": "mul", "backward": True}, SEQ_2_3_4, None,
     rows(0.08374989, 0.6740834, width=2)),
]
# First rows only: what the test file prints of each output.
FIRST_SAMPLE = [
    ("gru_test.py", "test_masking", "GRU", {"units": 2, "return_sequences": True}, SEQ_2_4_3,
     GAP_MASK, rows(0.03606692, 0.09497581, 0.09497581, 0.19393763, width=2)),
    ("simple_rnn_test.py", "test_masking", "SimpleRNN", {"units": 2, "return_sequences": True},
     SEQ_2_4_3, GAP_MASK, rows(0.0599281, 0.15122814, 0.15122814, 0.32394567, width=2)),
]


def layer(keras, class_name: str, kwargs: dict):
    """The test's layer: constant 0.01/0.02/0.03 initializers (a Bidirectional's SimpleRNN(2)
    too; its explicit backward layer 0.03/0.02/0.01 and go_backwards)."""
    L = keras.layers
    init = {key: keras.initializers.deserialize(value) for key, value in constants().items()}
    if class_name != "Bidirectional":
        return getattr(L, class_name)(**kwargs, **init)
    options = dict(kwargs)
    backward = None
    if options.pop("backward", False):
        back_init = {key: keras.initializers.deserialize(value)
                     for key, value in constants(0.03, 0.02, 0.01).items()}
        backward = L.SimpleRNN(2, go_backwards=True, **back_init)
    return L.Bidirectional(L.SimpleRNN(2, **init), backward_layer=backward, **options)


def run_saved(keras, tmp_path, class_name: str, kwargs: dict, x: np.ndarray, mask) -> list:
    """Save the test's layer in a model as Keras 3 writes it, read and run it here."""
    steps = [keras.Input(x.shape[1:])]
    if mask is not None:
        steps.append(keras.layers.Masking(-1.0))
        x = np.where(mask[..., None], x, -1.0).astype(np.float32)
    model = keras.Sequential([*steps, layer(keras, class_name, kwargs)])
    model.save(tmp_path / "case.keras")
    return run(load(tmp_path / "case.keras"), [x])


@pytest.mark.parametrize(("file", "test", "class_name", "kwargs", "x", "mask", "expected"),
                         CASES, ids=[f"{c[0]}::{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_keras3_rnn_test_numbers(keras3, tmp_path, file, test, class_name, kwargs, x, mask,
                                 expected):
    assert_close(run_saved(keras3, tmp_path, class_name, kwargs, x, mask), [expected],
                 f"keras v3.15.1 keras/src/layers/rnn/{file}::{test}")


@pytest.mark.parametrize(("file", "test", "class_name", "kwargs", "x", "mask", "expected"),
                         FIRST_SAMPLE,
                         ids=[f"{c[0]}::{c[1]}-{i}" for i, c in enumerate(FIRST_SAMPLE)])
def test_keras3_rnn_test_numbers_first_sample(keras3, tmp_path, file, test, class_name, kwargs,
                                              x, mask, expected):
    [output] = run_saved(keras3, tmp_path, class_name, kwargs, x, mask)
    assert_close([output[0]], [expected], f"keras v3.15.1 keras/src/layers/rnn/{file}::{test}")


def test_lstm_initial_state_numbers(keras3, tmp_path):
    """keras v3.15.1 keras/src/layers/rnn/lstm_test.py::test_pass_initial_state."""
    K = keras3
    init = {key: K.initializers.deserialize(value) for key, value in constants().items()}
    x, h, c = K.Input((4, 3)), K.Input((2,)), K.Input((2,))
    model = K.Model([x, h, c], K.layers.LSTM(2, **init)(x, initial_state=[h, c]))
    model.save(tmp_path / "state.keras")
    state = np.arange(4).reshape((2, 2)).astype("float32")
    assert_close(run(load(tmp_path / "state.keras"), [SEQ_2_4_3, state, state]),
                 [np.array([[0.20574439, 0.3558822], [0.64930826, 0.66276]], np.float32)],
                 "lstm_test.py::test_pass_initial_state")


def test_stacked_lstm_cells_mask_numbers(keras3, tmp_path):
    """keras v3.15.1 keras/src/layers/rnn/stacked_rnn_cells_test.py::
    test_stacked_lstm_cell_mask: RNN over two LSTMCell(1, ones), at the test's own atol 1e-4
    (it states its numbers to 4 decimals)."""
    K = keras3
    cells = [K.layers.LSTMCell(1, kernel_initializer="ones", recurrent_initializer="ones")
             for _ in range(2)]
    model = K.Sequential([K.Input((3, 4)), K.layers.Masking(-1.0), K.layers.RNN(cells)])
    model.save(tmp_path / "stacked.keras")
    x = np.ones((2, 3, 4), np.float32)
    x[1, 2] = -1.0  # the test's mask [[T, T, T], [T, T, F]]
    [output] = run(load(tmp_path / "stacked.keras"), [x])
    assert np.abs(output - np.array([[0.7793], [0.5998]])).max() < 1e-4
