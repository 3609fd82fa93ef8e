"""Time the numpy LSTM forward (`tfjs_lstm.runtime.lstm_forward`) against Keras 3 and tfjs.

Run as `python bench/runtime.py [--quick]`. For each (batch, timesteps, units) case, with 64 input
features, it times our forward, Keras `model.predict` and the eager `model(x)` on the same weights
and inputs (median of several interleaved runs after one warm-up), and TensorFlow.js 4.22's
`predict` (cpu backend, in Node through js/harness.mjs, random weights of the same shapes: speed
does not depend on their values; its outputs are checked elsewhere). It prints a Markdown table
with the achieved GFLOP/s (one LSTM forward is 2*B*T*(I+H)*4H FLOPs), the time ratios and the
largest difference from Keras. Cases whose estimated run time exceeds the per-case budget on this
machine are skipped and listed as such; tfjs (about 0.5 GFLOP/s here) has its own budget.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

from tfjs_lstm.activations import ACTIVATIONS
from tfjs_lstm.runtime import lstm_forward

FEATURES = 64
FULL = {"batch": (1, 32, 256), "timesteps": (10, 100, 1000), "units": (64, 256, 1024)}
QUICK = {"batch": (32,), "timesteps": (100,), "units": (64, 256)}
CASE_BUDGET_S = 60.0
MIN_REPEATS, MAX_REPEATS = 3, 5
# Rough per-run cost model used only to skip hopeless cases: a share of peak matmul speed, reading
# the recurrent kernel from memory at every step, and a fixed cost per timestep (Python loop, TF
# while-loop, eager ops) and per call.
EFFICIENCY = 0.4
BANDWIDTH_BYTES_S = 10e9
STEP_OVERHEAD_S = {"ours": 50e-6, "predict": 200e-6, "call": 2e-3}
CALL_OVERHEAD_S = {"ours": 0.0, "predict": 0.1, "call": 0.0}


def median_seconds(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each run over `repeats` rounds.

    Rounds interleave the runs, so a burst of load from other processes on a shared machine
    slows all of them alike rather than one.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def matmul_gflops() -> float:
    """This machine's numpy float32 matmul speed on 1024x1024 @ 1024x1024."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    a @ b  # warm-up
    return 2 * 1024**3 / median_seconds({"matmul": lambda: a @ b}, 10)["matmul"] / 1e9


def lstm_flops(batch: int, timesteps: int, units: int) -> float:
    return 2.0 * batch * timesteps * (FEATURES + units) * 4 * units


def estimated_seconds(batch: int, timesteps: int, units: int, peak_gflops: float) -> float:
    """Estimated wall time of a whole case (warm-up plus MIN_REPEATS runs of each runtime)."""
    compute = lstm_flops(batch, timesteps, units) / (EFFICIENCY * peak_gflops * 1e9)
    compute += timesteps * units * 4 * units * 4 / BANDWIDTH_BYTES_S
    per_run = sum(
        compute + timesteps * STEP_OVERHEAD_S[name] + CALL_OVERHEAD_S[name]
        for name in STEP_OVERHEAD_S
    )
    return per_run * (1 + MIN_REPEATS)


def run_case(keras, batch: int, timesteps: int, units: int) -> dict[str, float]:
    """Time the three runtimes on one random LSTM; return seconds per runtime and max |diff|."""
    rng = np.random.default_rng(batch * 1_000_003 + timesteps * 1009 + units)
    kernel = rng.normal(0, FEATURES**-0.5, (FEATURES, 4 * units)).astype(np.float32)
    recurrent = rng.normal(0, units**-0.5, (units, 4 * units)).astype(np.float32)
    bias = rng.normal(0, 0.1, 4 * units).astype(np.float32)
    x = rng.normal(0, 1, (batch, timesteps, FEATURES)).astype(np.float32)

    # Zero initializers: the real weights are set next, and orthogonal init of big kernels is slow.
    layer = keras.layers.LSTM(
        units, kernel_initializer="zeros", recurrent_initializer="zeros"
    )
    model = keras.Sequential([keras.Input((timesteps, FEATURES), batch_size=batch), layer])
    layer.set_weights([kernel, recurrent, bias])
    tanh, sigmoid = ACTIVATIONS["tanh"].function, ACTIVATIONS["sigmoid"].function

    def ours() -> np.ndarray:
        return lstm_forward(
            x, kernel, recurrent, bias, activation=tanh, recurrent_activation=sigmoid
        )[0]

    runs = {
        "ours": ours,
        "predict": lambda: model.predict(x, batch_size=batch, verbose=0),
        "call": lambda: np.asarray(model(x, training=False)),
    }
    # One untimed round (the warm-up, and the outputs compared) sizes the repeats to the budget.
    start = time.perf_counter()
    results = {name: run() for name, run in runs.items()}
    one_round = time.perf_counter() - start
    repeats = int(max(MIN_REPEATS, min(MAX_REPEATS, CASE_BUDGET_S / one_round - 1)))
    timings = median_seconds(runs, repeats)
    timings["diff"] = max(
        float(np.abs(results["ours"] - results[name]).max()) for name in ("predict", "call")
    )
    return timings


TFJS_GFLOPS_ESTIMATE = 0.5
TFJS_REPEATS = 3


def tfjs_times(cases: list[tuple[int, int, int]]) -> dict[tuple[int, int, int], float]:
    """Median seconds of tfjs's predict per case, all cases in one Node process."""
    import json
    import subprocess
    from pathlib import Path

    harness = Path(__file__).resolve().parent.parent / "js" / "harness.mjs"
    request = {"command": "benchLstm", "cases": [
        {"batch": b, "steps": t, "features": FEATURES, "units": u, "repeats": TFJS_REPEATS}
        for b, t, u in cases]}
    done = subprocess.run(["node", str(harness)], input=json.dumps(request), text=True,
                          capture_output=True, check=True)
    replies = json.loads(done.stdout)["reply"]
    return {case: reply["medianMs"] / 1e3 for case, reply in zip(cases, replies, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 32, 100 steps, 64/256 units")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    peak = matmul_gflops()
    print(f"# LSTM forward: numpy runtime vs Keras {keras.__version__} (TF {tf.__version__})\n")
    print(f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    print(f"- numpy {np.__version__} float32 matmul 1024^3: {peak:.1f} GFLOP/s "
          f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})")
    print(f"- input features {FEATURES}; return_sequences=False; tanh/sigmoid; "
          f"median of {MIN_REPEATS}-{MAX_REPEATS} interleaved runs after a warm-up; "
          "ratios are times ours/Keras (< 1: ours faster)\n")
    grid = QUICK if args.quick else FULL
    cases = list(itertools.product(grid["batch"], grid["timesteps"], grid["units"]))
    tfjs_cases = [c for c in cases if lstm_flops(*c) / 1e9 / TFJS_GFLOPS_ESTIMATE
                  * (TFJS_REPEATS + 1) <= CASE_BUDGET_S]
    tfjs = tfjs_times(tfjs_cases) if tfjs_cases else {}
    print("| batch | steps | units | GFLOP | ours ms | predict ms | call ms | tfjs ms "
          "| ours GFLOP/s | predict GFLOP/s | tfjs GFLOP/s | ours/predict | ours/call "
          "| tfjs/ours | max abs diff |")
    print("|" + "---:|" * 15)
    for batch, timesteps, units in cases:
        gflop = lstm_flops(batch, timesteps, units) / 1e9
        head = f"| {batch} | {timesteps} | {units} | {gflop:.3g} |"
        estimate = estimated_seconds(batch, timesteps, units, peak)
        if estimate > CASE_BUDGET_S:
            print(f"{head} skipped: estimated {estimate:.0f} s > {CASE_BUDGET_S:.0f} s budget"
                  + " |" * 10)
            continue
        t = run_case(keras, batch, timesteps, units)
        js = tfjs.get((batch, timesteps, units))
        js_ms = f"{js * 1e3:.0f}" if js else "skipped"
        js_gflops = f"{gflop / js:.2f}" if js else "-"
        js_ratio = f"{js / t['ours']:.0f}" if js else "-"
        print(
            f"{head} {t['ours'] * 1e3:.1f} | {t['predict'] * 1e3:.1f} | {t['call'] * 1e3:.1f} "
            f"| {js_ms} | {gflop / t['ours']:.1f} | {gflop / t['predict']:.1f} | {js_gflops} "
            f"| {t['ours'] / t['predict']:.2f} | {t['ours'] / t['call']:.2f} | {js_ratio} "
            f"| {t['diff']:.1e} |",
            flush=True,
        )
    print(f"\nload average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
