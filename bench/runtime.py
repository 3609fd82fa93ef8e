"""Time the numpy LSTM forward (`tfjs_lstm.runtime.lstm_forward`) against Keras 3 and tfjs.

Run as `python bench/runtime.py [--quick] [--plan]`. For each (batch, timesteps, units) case,
with 64 input features, it times our forward, Keras `model.predict` and the eager `model(x)` on
the same weights and inputs (median of interleaved runs after one warm-up), and TensorFlow.js
4.22's `predict` (cpu backend, in Node through js/harness.mjs, random weights of the same shapes:
speed does not depend on their values; its outputs are checked elsewhere). It prints a Markdown
table with achieved GFLOP/s (one LSTM forward is 2*B*T*(I+H)*4H FLOPs) beside the machine's
numpy float32 matmul GFLOP/s, both on 1024^3 and on the step's own product [B, H] @ [H, 4H] (the
real ceiling of a recurrent step), the time ratios and the largest difference from Keras.

Each runtime of each case runs only if its estimated time (warm-up plus the minimum number of
timed runs, from a cost model calibrated on this machine's step product) fits that runtime's
budget; the others are listed as not run with their estimate. Runs estimated over LONG_RUN_S
are timed once after their warm-up (tfjs: the warm-up is the timed run). Should the estimates
be too low, a case whose runs would take the whole benchmark past TOTAL_BUDGET_S is not run
either, and listed so. `--plan` prints the estimates and the expected total without running
anything; `--case BxTxU` (repeatable) runs only the cases named.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np

from tfjs_lstm.activations import ACTIVATIONS
from tfjs_lstm.runtime import lstm_forward

FEATURES = 64
FULL = {"batch": (1, 32, 256), "timesteps": (10, 100, 1000), "units": (64, 256, 1024)}
QUICK = {"batch": (32,), "timesteps": (100,), "units": (64, 256)}
PYTHON_RUNTIMES = ("ours", "predict", "call")
RUNTIMES = (*PYTHON_RUNTIMES, "tfjs")
# Seconds one case may spend in one runtime (warm-up included). The full grid then takes about
# 20 minutes on a 2-core machine; `--plan` shows the sum.
BUDGET_S = {"ours": 150.0, "predict": 150.0, "call": 150.0, "tfjs": 120.0}
MIN_REPEATS = {"ours": 3, "predict": 3, "call": 3, "tfjs": 1}
MAX_REPEATS = 5
LONG_RUN_S = 10.0
TOTAL_BUDGET_S = 25 * 60.0


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
    return 2 * 1024**3 / matmul_seconds(1024, 1024, 1024) / 1e9


@cache
def matmul_seconds(m: int, k: int, n: int) -> float:
    """Median seconds of a numpy float32 [m, k] @ [k, n] product into a preallocated output,
    repeated to last at least about 0.2 s after a warm-up."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    start = time.perf_counter()
    np.matmul(a, b, out=out)
    inner = max(1, int(0.02 / max(time.perf_counter() - start, 1e-7)))

    def run() -> None:
        for _ in range(inner):
            np.matmul(a, b, out=out)

    return median_seconds({"mm": run}, 9)["mm"] / inner


def step_matmul_gflops(batch: int, units: int) -> float:
    """numpy float32 GFLOP/s of one recurrent step's product [batch, units] @ [units, 4*units]."""
    return 2 * batch * units * 4 * units / matmul_seconds(batch, units, 4 * units) / 1e9


def lstm_flops(batch: int, timesteps: int, units: int) -> float:
    return 2.0 * batch * timesteps * (FEATURES + units) * 4 * units


# Cost model, only to skip hopeless runs: per call, per timestep, and how many times slower than
# numpy's step product each runtime does the step's arithmetic. Measured here (2 cores, loaded):
# Keras predict has ~0.25 s of fixed cost per call, eager model(x) ~3-5 ms per step, tfjs's cpu
# backend ~0.3 GFLOP/s plus ~0.5 ms per step.
CALL_S = {"ours": 0.0, "predict": 0.3, "call": 0.0, "tfjs": 0.0}
STEP_S = {"ours": 25e-6, "predict": 200e-6, "call": 5e-3, "tfjs": 0.5e-3}
SLOWDOWN = {"ours": 1.5, "predict": 2.0, "call": 2.0}


def run_seconds(runtime: str, batch: int, timesteps: int, units: int) -> float:
    """Estimated seconds of one run of a runtime on a case."""
    fixed = CALL_S[runtime] + timesteps * STEP_S[runtime]
    if runtime == "tfjs":
        return fixed + lstm_flops(batch, timesteps, units) / 0.3e9
    projection = 2.0 * batch * timesteps * FEATURES * 4 * units / (matmul_gflops() * 1e9)
    steps = timesteps * matmul_seconds(batch, units, 4 * units)
    return fixed + SLOWDOWN[runtime] * (projection + steps)


def case_seconds(runtime: str, case: tuple[int, int, int]) -> float:
    """Estimated seconds of a runtime on a case: warm-up plus its minimum timed runs (a long
    tfjs warm-up is itself the timed run: it has no tracing, and its first-call cost is <1%)."""
    one_run = run_seconds(runtime, *case)
    if runtime == "tfjs" and one_run > LONG_RUN_S:
        return one_run
    return one_run * (1 + min_repeats(runtime, one_run))


def min_repeats(runtime: str, one_run: float) -> int:
    return 1 if one_run > LONG_RUN_S else MIN_REPEATS[runtime]


def repeats_within(runtime: str, one_run: float) -> int:
    """Timed runs that fit the budget after a warm-up of `one_run` seconds."""
    fit = int(BUDGET_S[runtime] / max(one_run, 1e-9)) - 1
    return max(min_repeats(runtime, one_run), min(MAX_REPEATS, fit))


def run_case(keras, batch: int, timesteps: int, units: int, runtimes: list[str]) -> dict:
    """Time the given Python runtimes on one random LSTM; return seconds per runtime and the
    largest |difference| of ours from the Keras runtimes that ran."""
    rng = np.random.default_rng(batch * 1_000_003 + timesteps * 1009 + units)
    kernel = rng.normal(0, FEATURES**-0.5, (FEATURES, 4 * units)).astype(np.float32)
    recurrent = rng.normal(0, units**-0.5, (units, 4 * units)).astype(np.float32)
    bias = rng.normal(0, 0.1, 4 * units).astype(np.float32)
    x = rng.normal(0, 1, (batch, timesteps, FEATURES)).astype(np.float32)
    tanh, sigmoid = ACTIVATIONS["tanh"].function, ACTIVATIONS["sigmoid"].function

    def ours() -> np.ndarray:
        return lstm_forward(
            x, kernel, recurrent, bias, activation=tanh, recurrent_activation=sigmoid
        )[0]

    runs: dict[str, Callable[[], np.ndarray]] = {"ours": ours}
    if {"predict", "call"} & set(runtimes):
        # Zero initializers: the real weights are set next; orthogonal init of big kernels is slow.
        layer = keras.layers.LSTM(
            units, kernel_initializer="zeros", recurrent_initializer="zeros"
        )
        model = keras.Sequential([keras.Input((timesteps, FEATURES), batch_size=batch), layer])
        layer.set_weights([kernel, recurrent, bias])
        runs["predict"] = lambda: model.predict(x, batch_size=batch, verbose=0)
        runs["call"] = lambda: np.asarray(model(x, training=False))
    runs = {name: run for name, run in runs.items() if name in runtimes}
    # One untimed round: the warm-up, the outputs compared, and the repeats that fit the budgets.
    results, warm = {}, {}
    for name, run in runs.items():
        start = time.perf_counter()
        results[name] = run()
        warm[name] = time.perf_counter() - start
    repeats = min(repeats_within(name, warm[name]) for name in runs)
    timings: dict = median_seconds(runs, repeats)
    timings["repeats"] = repeats
    keras_outputs = [results[name] for name in ("predict", "call") if name in results]
    if "ours" in results and keras_outputs:
        timings["diff"] = max(float(np.abs(results["ours"] - y).max()) for y in keras_outputs)
    return timings


def tfjs_times(cases: list[tuple[int, int, int]]) -> dict[tuple[int, int, int], dict]:
    """tfjs's predict per case (median ms and timed runs), all cases in one Node process."""
    harness = Path(__file__).resolve().parent.parent / "js" / "harness.mjs"
    request = {"command": "benchLstm", "cases": [
        {"batch": b, "steps": t, "features": FEATURES, "units": u,
         "repeats": MAX_REPEATS, "minRepeats": MIN_REPEATS["tfjs"],
         "budgetMs": BUDGET_S["tfjs"] * 1e3, "longRunMs": LONG_RUN_S * 1e3}
        for b, t, u in cases]}
    done = subprocess.run(["node", str(harness)], input=json.dumps(request), text=True,
                          capture_output=True, check=True)
    replies = json.loads(done.stdout)["reply"]
    return dict(zip(cases, replies, strict=True))


def plan(cases: list[tuple[int, int, int]]) -> tuple[dict, dict]:
    """Which runtimes run on each case, and the estimates of those that do not."""
    runnable: dict[tuple[int, int, int], list[str]] = {}
    skipped: dict[tuple[tuple[int, int, int], str], str] = {}
    for case in cases:
        runnable[case] = []
        for runtime in RUNTIMES:
            estimate = case_seconds(runtime, case)
            if estimate <= BUDGET_S[runtime]:
                runnable[case].append(runtime)
            else:
                skipped[case, runtime] = (
                    f"estimated {estimate:.0f} s > {BUDGET_S[runtime]:.0f} s budget"
                )
    return runnable, skipped


def print_plan(runnable: dict, skipped: dict) -> None:
    total = 0.0
    print("| batch | steps | units | " + " | ".join(f"{r} est. s" for r in RUNTIMES) + " |")
    print("|" + "---:|" * (3 + len(RUNTIMES)))
    for case, runtimes in runnable.items():
        cells = []
        for runtime in RUNTIMES:
            estimate = case_seconds(runtime, case)
            cells.append(f"{estimate:.1f}" + ("" if runtime in runtimes else " (not run)"))
            total += estimate if runtime in runtimes else 0.0
        print("| " + " | ".join(str(v) for v in case) + " | " + " | ".join(cells) + " |")
    print(f"\nestimated total of what runs: {total / 60:.1f} min ({len(skipped)} runs skipped)")


def fmt(value: float | None, spec: str = "") -> str:
    """value with `spec`, by default three significant digits without an exponent; '-' if None."""
    if value is None:
        return "-"
    if spec:
        return format(value, spec)
    return format(value, ".0f" if value >= 100 else ".3g")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 32, 100 steps, 64/256 units")
    parser.add_argument("--plan", action="store_true", help="print the estimates, run nothing")
    parser.add_argument("--case", action="append", metavar="BxTxU",
                        help="run only this batch x timesteps x units case (repeatable)")
    args = parser.parse_args()
    grid = QUICK if args.quick else FULL
    cases = list(itertools.product(grid["batch"], grid["timesteps"], grid["units"]))
    if args.case:
        cases = [tuple(int(v) for v in case.split("x")) for case in args.case]
    started = time.perf_counter()
    load = os.getloadavg()[0]
    peak = matmul_gflops()
    runnable, skipped = plan(cases)
    if args.plan:
        print_plan(runnable, skipped)
        return

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    print(f"# LSTM forward: numpy runtime vs Keras {keras.__version__} (TF {tf.__version__}) "
          "and tfjs 4.22\n")
    print(f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load:.2f} at start")
    print(f"- numpy {np.__version__} float32 matmul 1024^3: {peak:.1f} GFLOP/s "
          f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}); "
          "'step mm' is its GFLOP/s on the step's own [B, H] @ [H, 4H], the ceiling of the "
          "recurrent part (ours GFLOP/s also counts the input projection, which runs as larger "
          "products, so it may pass it)")
    print(f"- input features {FEATURES}; return_sequences=False; tanh/sigmoid; medians of "
          f"{min(MIN_REPEATS.values())}-{MAX_REPEATS} interleaved runs after a warm-up (tfjs: "
          "own process, before the others); ratios are times, ours/Keras < 1: ours faster\n",
          flush=True)
    tfjs_cases = [case for case in cases if "tfjs" in runnable[case]]
    tfjs = tfjs_times(tfjs_cases) if tfjs_cases else {}
    print("| batch | steps | units | GFLOP | ours ms | predict ms | call ms | tfjs ms "
          "| ours GFLOP/s | step mm GFLOP/s | ours/step mm | predict GFLOP/s | tfjs GFLOP/s "
          "| ours/predict | ours/call | tfjs/ours | max abs diff | runs |")
    print("|" + "---:|" * 18)
    for case in cases:
        python = [r for r in PYTHON_RUNTIMES if r in runnable[case]]
        needed = sum(case_seconds(r, case) for r in python)
        if python and time.perf_counter() - started + needed > TOTAL_BUDGET_S:
            for runtime in python:
                skipped[case, runtime] = (f"estimated {needed:.0f} s would pass the "
                                          f"{TOTAL_BUDGET_S / 60:.0f} min total")
            python = []
        if not python and case not in tfjs:
            continue
        batch, timesteps, units = case
        gflop = lstm_flops(*case) / 1e9
        t = run_case(keras, *case, python) if python else {}
        ms = {r: t[r] * 1e3 if r in t else None for r in PYTHON_RUNTIMES}
        ms["tfjs"] = tfjs[case]["medianMs"] if case in tfjs else None
        rate = {r: gflop / v * 1e3 if v else None for r, v in ms.items()}
        step = step_matmul_gflops(batch, units)
        ratio = {r: ms["ours"] / ms[r] if ms["ours"] and ms[r] else None
                 for r in ("predict", "call")}
        tfjs_ratio = ms["tfjs"] / ms["ours"] if ms["ours"] and ms["tfjs"] else None
        runs = f"{t['repeats']}" if t else "-"
        if case in tfjs:
            runs += f", tfjs {tfjs[case]['runs']}"
        print(
            f"| {batch} | {timesteps} | {units} | {fmt(gflop)} | {fmt(ms['ours'])} "
            f"| {fmt(ms['predict'])} | {fmt(ms['call'])} | {fmt(ms['tfjs'])} "
            f"| {fmt(rate['ours'])} | {fmt(step)} "
            f"| {fmt(rate['ours'] / step if rate['ours'] else None, '.0%')} "
            f"| {fmt(rate['predict'])} | {fmt(rate['tfjs'])} "
            f"| {fmt(ratio['predict'])} | {fmt(ratio['call'])} "
            f"| {fmt(tfjs_ratio)} | {fmt(t.get('diff'), '.1e')} | {runs} |",
            flush=True,
        )
    if skipped:
        print("\nNot run:\n")
        for (case, runtime), reason in skipped.items():
            print(f"- {'x'.join(map(str, case))} {runtime}: not run: {reason}")
    print(f"\nload average {os.getloadavg()[0]:.2f} at end; "
          f"{(time.perf_counter() - started) / 60:.1f} min in all")


if __name__ == "__main__":
    main()
