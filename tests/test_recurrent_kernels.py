"""The numpy recurrent kernels agree with Keras 3's LSTM, GRU and SimpleRNN layers (TF backend)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tfjs_lstm.activations import ACTIVATIONS
from tfjs_lstm.runtime import gru_forward, lstm_forward, scan, simple_rnn_forward

TOLERANCE = 1e-5
# Typical float32 agreement with Keras after 50 steps (a few roundings, about 5e-7 on values
# near 1, 2 ulp on larger cell states), which the kernels must keep.
TYPICAL_ATOL, TYPICAL_RTOL = 8e-7, 2.5e-7
GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}
# The package's functions: tanh and sigmoid take the kernels' fast in-place path.
NUMPY_ACTIVATIONS = {
    "tanh": ACTIVATIONS["tanh"].function,
    "sigmoid": ACTIVATIONS["sigmoid"].function,
    "relu": ACTIVATIONS["relu"].function,
    "hard_sigmoid": ACTIVATIONS["hard_sigmoid_keras3"].function,  # Keras 3's x/6, not 0.2x
}
# The same functions as plain callables, which take the kernels' generic path.
GENERIC_ACTIVATIONS = {
    "tanh": lambda x: np.tanh(x),
    "sigmoid": lambda x: 0.5 * (np.tanh(0.5 * x) + 1),
}
LAYER_KEYS = (
    "activation", "recurrent_activation", "reset_after", "use_bias", "return_sequences",
    "go_backwards", "zero_output_for_mask",
)


@pytest.fixture(scope="module")
def keras():
    """Keras 3, imported only when a test needs it (tests-only dependency)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


def make_mask(kind: str | None, batch: int, time: int, rng: np.random.Generator):
    """None, trailing padding (first and last rows unpadded), or an irregular bool mask."""
    if kind is None:
        return None
    if kind == "trailing":
        lengths = [time, max(time - 3, 1), 1, time][:batch]
        return np.arange(time)[None, :] < np.array(lengths)[:, None]
    mask = rng.random((batch, time)) < 0.6
    mask[0, :2] = False  # leading masked steps: output zeros even with an initial state
    mask[-1] = True
    if batch > 2:
        mask[1] = False  # a fully masked sequence
    return mask


def make_inputs(kind: str, case: dict, seed: int):
    """Random float32 weights, input, mask and initial state for one case."""
    rng = np.random.default_rng(seed)
    batch, time = case.get("batch", 4), case.get("time", 7)
    features, units = case.get("features", 5), case.get("units", 6)
    width = GATES[kind] * units
    weights = [
        rng.normal(0, 0.7, (features, width)),
        rng.normal(0, 1 / np.sqrt(units), (units, width)),
    ]
    if case.get("use_bias", True):
        reset_after = kind == "GRU" and case.get("reset_after", True)
        weights.append(rng.normal(0, 0.5, (2, width) if reset_after else (width,)))
    x = rng.normal(0, 1, (batch, time, features))
    state = None
    if case.get("initial_state"):
        state = [rng.normal(0, 0.5, (batch, units)) for _ in range(2 if kind == "LSTM" else 1)]
        state = [s.astype(np.float32) for s in state]
    mask = make_mask(case.get("mask"), batch, time, rng)
    return [w.astype(np.float32) for w in weights], x.astype(np.float32), mask, state


def run_keras(keras, kind: str, case: dict, weights, x, mask, state) -> list[np.ndarray]:
    config = {k: case[k] for k in LAYER_KEYS if k in case}
    layer = getattr(keras.layers, kind)(weights[1].shape[0], return_state=True, **config)
    layer.build(x.shape)
    layer.set_weights(weights)
    kwargs = {}
    if mask is not None:
        kwargs["mask"] = keras.ops.convert_to_tensor(mask)
    if state is not None:
        kwargs["initial_state"] = [keras.ops.convert_to_tensor(s) for s in state]
    return [np.asarray(a) for a in layer(x, **kwargs)]


def run_ours(
    kind: str, case: dict, weights, x, mask, state, dtype=np.float32, functions=NUMPY_ACTIVATIONS
):
    options = {
        "activation": functions[case.get("activation", "tanh")],
        "mask": mask,
        "go_backwards": case.get("go_backwards", False),
        "return_sequences": case.get("return_sequences", False),
        "zero_output_for_mask": case.get("zero_output_for_mask", False),
        "dtype": dtype,
    }
    if kind != "SimpleRNN":
        options["recurrent_activation"] = functions[case.get("recurrent_activation", "sigmoid")]
    bias = weights[2] if len(weights) == 3 else None
    if kind == "LSTM":
        options["initial_state"] = state
        return lstm_forward(x, weights[0], weights[1], bias, **options)
    options["initial_state"] = None if state is None else state[0]
    if kind == "GRU":
        return gru_forward(
            x, weights[0], weights[1], bias, reset_after=case.get("reset_after", True), **options
        )
    return simple_rnn_forward(x, weights[0], weights[1], bias, **options)


MASKED = [
    {"mask": "trailing", "return_sequences": seq, "go_backwards": back,
     "zero_output_for_mask": zero}
    for seq in (False, True) for back in (False, True) for zero in (False, True)
]
CASES = [
    ("LSTM", {}),
    ("LSTM", {"return_sequences": True}),
    ("LSTM", {"go_backwards": True}),
    ("LSTM", {"go_backwards": True, "return_sequences": True}),
    ("LSTM", {"use_bias": False, "return_sequences": True}),
    ("LSTM", {"batch": 1, "time": 1}),
    ("LSTM", {"batch": 1, "time": 30, "initial_state": True, "go_backwards": True,
              "return_sequences": True}),
    ("LSTM", {"batch": 1, "time": 500, "units": 4, "return_sequences": True}),
    ("LSTM", {"batch": 3, "time": 500, "units": 4, "mask": "trailing"}),
    ("LSTM", {"initial_state": True, "return_sequences": True}),
    ("LSTM", {"activation": "relu", "recurrent_activation": "hard_sigmoid",
              "return_sequences": True}),
    ("LSTM", {"activation": "sigmoid", "recurrent_activation": "hard_sigmoid",
              "mask": "trailing"}),
    ("LSTM", {"activation": "sigmoid", "initial_state": True, "return_sequences": True}),
    ("LSTM", {"mask": "irregular", "initial_state": True, "return_sequences": True}),
    ("LSTM", {"mask": "irregular", "initial_state": True, "go_backwards": True}),
    ("LSTM", {"mask": "irregular", "return_sequences": True, "zero_output_for_mask": True}),
    *[("LSTM", case) for case in MASKED],
    ("GRU", {"reset_after": True, "return_sequences": True}),
    ("GRU", {"reset_after": False, "return_sequences": True}),
    ("GRU", {"reset_after": True, "use_bias": False, "go_backwards": True}),
    ("GRU", {"reset_after": False, "use_bias": False, "return_sequences": True}),
    ("GRU", {"reset_after": False, "recurrent_activation": "hard_sigmoid", "mask": "trailing",
             "return_sequences": True, "zero_output_for_mask": True}),
    ("GRU", {"reset_after": True, "activation": "relu", "recurrent_activation": "hard_sigmoid",
             "mask": "irregular", "initial_state": True, "return_sequences": True}),
    ("GRU", {"reset_after": False, "mask": "irregular", "initial_state": True,
             "go_backwards": True}),
    ("GRU", {"batch": 1, "time": 1}),
    ("GRU", {"batch": 1, "time": 30, "reset_after": False, "initial_state": True,
             "return_sequences": True}),
    ("GRU", {"batch": 2, "time": 500, "units": 4, "reset_after": False, "mask": "trailing",
             "return_sequences": True}),
    ("SimpleRNN", {"return_sequences": True}),
    ("SimpleRNN", {"activation": "relu", "use_bias": False, "go_backwards": True}),
    ("SimpleRNN", {"activation": "sigmoid", "mask": "irregular", "initial_state": True,
                   "return_sequences": True}),
    ("SimpleRNN", {"mask": "trailing", "go_backwards": True, "zero_output_for_mask": True}),
    ("SimpleRNN", {"batch": 1, "time": 1, "initial_state": True}),
    ("SimpleRNN", {"batch": 1, "time": 30, "activation": "sigmoid", "go_backwards": True}),
    ("SimpleRNN", {"batch": 2, "time": 500, "units": 4, "return_sequences": True}),
]


def case_id(case: tuple[str, dict]) -> str:
    kind, options = case
    return "-".join([kind] + [k if v is True else f"{k}={v}" for k, v in options.items()])


@pytest.mark.parametrize("seed, case", list(enumerate(CASES)), ids=[case_id(c) for c in CASES])
def test_matches_keras(keras, seed, case):
    kind, options = case
    weights, x, mask, state = make_inputs(kind, options, seed)
    expected = run_keras(keras, kind, options, weights, x, mask, state)
    actual = run_ours(kind, options, weights, x, mask, state)
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert got.shape == want.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


TYPICAL_CASES = [
    ("LSTM", {"batch": 8, "time": 50, "units": 32, "features": 16, "return_sequences": True}),
    ("GRU", {"batch": 8, "time": 50, "units": 32, "features": 16, "return_sequences": True}),
    ("SimpleRNN", {"batch": 8, "time": 50, "units": 32, "features": 16,
                   "return_sequences": True}),
]


@pytest.mark.parametrize("case", TYPICAL_CASES, ids=[case_id(c) for c in TYPICAL_CASES])
def test_typical_agreement_is_a_few_roundings(keras, case):
    kind, options = case
    weights, x, mask, state = make_inputs(kind, options, seed=1)
    expected = run_keras(keras, kind, options, weights, x, mask, state)
    for got, want in zip(run_ours(kind, options, weights, x, mask, state), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=TYPICAL_RTOL, atol=TYPICAL_ATOL)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_projection_chunks_match_keras(keras, monkeypatch, kind, batch):
    """Input projections computed a few timesteps at a time, across masked and reversed runs."""
    options = {"batch": batch, "time": 11, "mask": "trailing", "go_backwards": True,
               "return_sequences": True, "initial_state": True}
    weights, x, mask, state = make_inputs(kind, options, seed=batch)
    step_bytes = batch * weights[0].shape[1] * 4
    monkeypatch.setattr(scan, "_PROJECTION_CHUNK_BYTES", 3 * step_bytes)
    expected = run_keras(keras, kind, options, weights, x, mask, state)
    for got, want in zip(run_ours(kind, options, weights, x, mask, state), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


GENERIC_CASES = [
    ("LSTM", {"mask": "irregular", "initial_state": True, "return_sequences": True}),
    ("LSTM", {"activation": "sigmoid", "go_backwards": True, "return_sequences": True}),
    ("LSTM", {"batch": 1, "time": 30, "go_backwards": True}),
    ("GRU", {"reset_after": True, "mask": "trailing", "return_sequences": True}),
    ("GRU", {"reset_after": False, "initial_state": True}),
    ("SimpleRNN", {"activation": "sigmoid", "return_sequences": True}),
    ("SimpleRNN", {"batch": 1, "time": 30}),
]


@pytest.mark.parametrize("case", GENERIC_CASES, ids=[case_id(c) for c in GENERIC_CASES])
def test_fast_activations_equal_generic_ones(case):
    """The in-place tanh path (inner scale folded into the weights) rounds like the plain one."""
    kind, options = case
    weights, x, mask, state = make_inputs(kind, options, seed=0)
    fast = run_ours(kind, options, weights, x, mask, state)
    generic = run_ours(kind, options, weights, x, mask, state, functions=GENERIC_ACTIVATIONS)
    for got, want in zip(fast, generic, strict=True):
        np.testing.assert_array_equal(got, want)


FLOAT64_CASES = [
    ("LSTM", {"time": 50, "mask": "irregular", "initial_state": True, "return_sequences": True}),
    ("GRU", {"time": 50, "reset_after": True, "mask": "trailing", "return_sequences": True}),
    ("GRU", {"time": 50, "reset_after": False, "go_backwards": True}),
    ("SimpleRNN", {"time": 50, "mask": "irregular", "return_sequences": True}),
]


@pytest.mark.parametrize(
    "seed, case", list(enumerate(FLOAT64_CASES)), ids=[case_id(c) for c in FLOAT64_CASES]
)
def test_float64_agrees_with_float32(seed, case):
    kind, options = case
    weights, x, mask, state = make_inputs(kind, options, seed)
    single = run_ours(kind, options, weights, x, mask, state)
    double = run_ours(kind, options, weights, x, mask, state, dtype=np.float64)
    for got, want in zip(double, single, strict=True):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_inputs_are_not_modified(kind, batch):
    weights, x, mask, state = make_inputs(kind, {"batch": batch, "initial_state": True}, seed=0)
    copies = [a.copy() for a in [*weights, x, *state]]
    outputs = run_ours(kind, {"return_sequences": True}, weights, x, mask, state)
    for before, after in zip(copies, [*weights, x, *state], strict=True):
        np.testing.assert_array_equal(before, after)
    outputs[0][:] = 7  # the returned arrays share no memory
    assert not any((out == 7).any() for out in outputs[1:])


def test_bad_shapes_are_refused():
    weights, x, _, _ = make_inputs("GRU", {"reset_after": True}, seed=0)
    with pytest.raises(ValueError, match="GRU bias"):
        run_ours("GRU", {"reset_after": False}, weights, x, None, None)
    with pytest.raises(ValueError, match="mask"):
        run_ours("GRU", {}, weights, x, np.ones((4, 3), dtype=bool), None)


def test_runtime_imports_no_tensorflow():
    code = (
        "import sys, tfjs_lstm.runtime; "
        "assert not {'tensorflow', 'keras'} & set(sys.modules), 'imports TF'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
