"""An LSTM whose units are split over threads agrees with Keras 3 as the one-thread loop does,
and a failure on any thread reaches the caller without leaving threads behind."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from test_recurrent_kernels import TOLERANCE, case_id, make_inputs, run_keras, run_ours

from tfjs_lstm.errors import InputError
from tfjs_lstm.runtime import blas, recurrent, scan
from tfjs_lstm.runtime.recurrent import lstm_forward


@pytest.fixture
def split(monkeypatch):
    """Every LSTM splits (threshold 0) over the given number of threads; returns the list of
    part counts each split call used."""
    if not blas.controllable():
        pytest.skip("this numpy's BLAS cannot be held to one thread")
    monkeypatch.setattr(scan, "PARALLEL_MIN_PRODUCT", 0)
    calls: list[int] = []
    real = recurrent.parallel_scan

    def counted(parts, *args):
        calls.append(len(parts))
        return real(parts, *args)

    monkeypatch.setattr(recurrent, "parallel_scan", counted)

    def threads(count: int) -> list[int]:
        monkeypatch.setenv(scan.THREADS_VARIABLE, str(count))
        return calls

    return threads


SPLIT_CASES = [
    (2, {"units": 64, "return_sequences": True}),
    (2, {"units": 65, "time": 30, "go_backwards": True, "return_sequences": True}),
    (3, {"units": 96, "initial_state": True, "return_sequences": True}),
    (2, {"units": 64, "batch": 1, "time": 40, "initial_state": True}),
    (2, {"units": 64, "use_bias": False, "go_backwards": True}),
    (2, {"units": 70, "activation": "relu", "recurrent_activation": "hard_sigmoid",
         "return_sequences": True}),
    (2, {"units": 64, "activation": "sigmoid", "initial_state": True}),
]


@pytest.mark.parametrize("threads, case", SPLIT_CASES,
                         ids=[f"{t}-{case_id(('LSTM', c))}" for t, c in SPLIT_CASES])
def test_split_lstm_matches_keras(keras3, split, threads, case):
    weights, x, mask, state = make_inputs("LSTM", case, seed=threads + case["units"])
    expected = run_keras(keras3, "LSTM", case, weights, x, mask, state)
    calls = split(threads)
    actual = run_ours("LSTM", case, weights, x, mask, state)
    assert calls == [threads]
    for got, want in zip(actual, expected, strict=True):
        assert got.shape == want.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


MASKED_SPLIT_CASES = [
    {"units": 64, "mask": "irregular", "initial_state": True, "return_sequences": True},
    {"units": 64, "mask": "irregular", "go_backwards": True, "return_sequences": True,
     "zero_output_for_mask": True},
    {"units": 65, "batch": 3, "time": 20, "mask": "trailing", "go_backwards": True},
    {"units": 64, "mask": "trailing", "activation": "relu",
     "recurrent_activation": "hard_sigmoid", "return_sequences": True},
]


@pytest.mark.parametrize("case", MASKED_SPLIT_CASES,
                         ids=[case_id(("LSTM", c)) for c in MASKED_SPLIT_CASES])
def test_masked_split_lstm_matches_keras(keras3, split, case):
    """Masked batch rows keep their states in every part; outputs at masked steps as Keras."""
    weights, x, mask, state = make_inputs("LSTM", case, seed=case["units"] + len(case))
    expected = run_keras(keras3, "LSTM", case, weights, x, mask, state)
    calls = split(2)
    actual = run_ours("LSTM", case, weights, x, mask, state)
    assert calls == [2]
    for got, want in zip(actual, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_split_keeps_its_layouts_between_calls(split):
    case = {"units": 64, "return_sequences": True}
    weights, x, _, _ = make_inputs("LSTM", case, seed=3)
    calls = split(2)
    prepared: dict = {}
    options = {"activation": np.tanh, "recurrent_activation": lambda v: 1 / (1 + np.exp(-v))}
    first = lstm_forward(x, *weights, prepared=prepared, **options)
    kept = dict(prepared)
    second = lstm_forward(x, *weights, prepared=prepared, **options)
    assert calls == [2, 2] and prepared.keys() == kept.keys()
    assert all(prepared[key] is kept[key] for key in kept)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("failing", ["worker", "caller"])
def test_a_failing_part_raises_and_leaves_no_thread(split, failing):
    """An activation that raises on one thread: the caller gets the error, no thread waits on."""
    case = {"units": 64, "time": 20}
    weights, x, _, _ = make_inputs("LSTM", case, seed=4)
    split(2)
    caller = threading.current_thread()
    steps = {"count": 0}

    def activation(values: np.ndarray) -> np.ndarray:
        steps["count"] += 1
        on_caller = threading.current_thread() is caller
        if steps["count"] > 10 and on_caller == (failing == "caller"):
            raise ArithmeticError(f"stop on the {failing}")
        return np.tanh(values)

    before = threading.active_count()
    with pytest.raises(ArithmeticError, match=f"stop on the {failing}"):
        lstm_forward(x, *weights, activation=activation, recurrent_activation=np.tanh)
    assert threading.active_count() == before


@pytest.mark.parametrize(
    "units, batch, threads, expected",
    [
        (256, 64, "2", [slice(0, 128), slice(128, 256)]),  # 2^24 multiply-adds a step
        (256, 32, "2", [slice(0, 256)]),  # 2^23: threads save nothing
        (2048, 1, "2", [slice(0, 1024), slice(1024, 2048)]),
        (512, 32, "1", [slice(0, 512)]),
        (512, 32, "3", [slice(0, 170), slice(170, 341), slice(341, 512)]),
        (40, 4096, "2", [slice(0, 40)]),  # parts keep at least 32 units
    ],
)
def test_units_split_by_the_size_of_a_step(monkeypatch, units, batch, threads, expected):
    if not blas.controllable():
        pytest.skip("this numpy's BLAS cannot be held to one thread")
    monkeypatch.setenv(scan.THREADS_VARIABLE, threads)
    assert scan.unit_parts(units, batch, 4) == expected


def test_one_blas_thread_holds_the_count_until_the_last_holder_leaves():
    """OpenBLAS's count is the process's: held at one while any thread holds it, given back
    as it was when the last leaves (parallel_scan's threads enter and leave in any order)."""
    if not blas.controllable():
        pytest.skip("this numpy's BLAS cannot be held to one thread")
    _, count = blas._controls()
    before = count()
    first_in, second_out = threading.Event(), threading.Event()
    seen: list[int] = []

    def other() -> None:
        with blas.one_blas_thread():
            first_in.set()
            second_out.wait(10)
            seen.append(count())

    thread = threading.Thread(target=other)
    with blas.one_blas_thread():
        thread.start()
        first_in.wait(10)
        seen.append(count())
    seen.append(count())  # the other thread still holds it
    second_out.set()
    thread.join()
    assert seen == [1, 1, 1] and count() == before


@pytest.mark.parametrize("batch, units, threads, held", [
    (1, 256, "2", True), (32, 64, "2", True), (32, 256, "2", True), (1, 1024, "2", True),
    (64, 256, "2", False), (16, 256, "1", True), (64, 256, "1", True)])
def test_small_steps_or_one_thread_run_on_one_blas_thread(monkeypatch, batch, units, threads,
                                                          held):
    """Below 2^24 multiply-adds a step (4 gates x units^2 x batch) the loop holds BLAS to one
    thread; from 64 x 256 on it leaves BLAS as it is (an LSTM splits instead), unless one
    thread is all it may use."""
    if not blas.controllable():
        pytest.skip("this numpy's BLAS cannot be held to one thread")
    entered: list[bool] = []
    real = scan.one_blas_thread

    def spy():
        entered.append(True)
        return real()

    monkeypatch.setattr(scan, "one_blas_thread", spy)
    monkeypatch.setattr(scan, "PARALLEL_MIN_PRODUCT", 1 << 62)
    monkeypatch.setenv(scan.THREADS_VARIABLE, threads)
    weights, x, _, _ = make_inputs("LSTM", {"batch": batch, "units": units, "time": 3}, seed=2)
    lstm_forward(x, *weights, activation=np.tanh, recurrent_activation=np.tanh)
    assert entered == ([True] if held else [])


def test_threads_default_to_the_cpus_at_most_two(monkeypatch):
    if not blas.controllable():
        pytest.skip("this numpy's BLAS cannot be held to one thread")
    monkeypatch.delenv(scan.THREADS_VARIABLE, raising=False)
    monkeypatch.setattr(scan.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert scan.threads() == 2
    monkeypatch.setattr(scan.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert scan.threads() == 1
    monkeypatch.setenv(scan.THREADS_VARIABLE, "4")
    assert scan.threads() == 4
    for wrong in ("many", "0", "-2", ""):
        monkeypatch.setenv(scan.THREADS_VARIABLE, wrong)
        with pytest.raises(InputError, match="TFJS_LSTM_THREADS must be a positive integer"):
            scan.threads()
