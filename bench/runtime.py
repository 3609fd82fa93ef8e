"""Time the numpy recurrent forwards (`tfjs_lstm.runtime`) against Keras 3, onnxruntime, tfjs.

Run as `python bench/runtime.py [--quick] [--plan] [--layer lstm|gru|gru_before|simple_rnn]
[--case BxTxU] [--no-onnx] [--skip RUNTIME]`.
For each (batch, timesteps, units) case, with 64 input features, it times our forward (as it
runs; kept to one thread of its own: $TFJS_LSTM_THREADS=1, no split of the units; and on BLAS's
own threads: no split, no hold of BLAS to one thread, the loop `scan.py`'s thresholds choose
against), Keras
`model.predict`, the eager `model(x)` and onnxruntime on the same weights and inputs (median of
interleaved runs after one warm-up), and TensorFlow.js 4.22's `predict` (LSTM only; cpu
backend, in Node through js/harness.mjs, random weights of the same shapes: speed does not
depend on their values; its outputs are checked elsewhere). onnxruntime (CPU, $ONNX_THREADS
intra-op threads, default 2) runs the same Keras 3 model exported by tf2onnx at opset 17, in a
worker process inside the bench's own virtual environment (`bench/.onnx-venv`, created on first
use; `bench/onnx_worker.py`), which times its own runs between ours; the table names the ONNX
graph's recurrent op (LSTM, GRU, RNN) or says it has none (a Loop). "products" times the
forward's matrix products alone (the input projection and every step's recurrent product, in
our layouts, on one BLAS thread where ours holds it there, no gate arithmetic): ours minus
products is our gate arithmetic and per-call cost, and products/onnxruntime is what numpy's
BLAS alone leaves of a ratio to onnxruntime. It prints a
Markdown table with achieved GFLOP/s (one forward is 2*B*T*(I+H)*G*H FLOPs for G gates)
beside the machine's numpy float32 matmul GFLOP/s, both on 1024^3 and on the step's own product
[B, H] @ [H, G*H] (the real ceiling of a recurrent step), the time ratios and the largest
differences from Keras and from onnxruntime.

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
import sys
import tempfile
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np

from tfjs_lstm.activations import ACTIVATIONS
from tfjs_lstm.runtime import gru_forward, lstm_forward, scan, simple_rnn_forward
from tfjs_lstm.runtime.scan import THREADS_VARIABLE, projections

FEATURES = 64
FULL = {"batch": (1, 32, 256), "timesteps": (10, 100, 1000), "units": (64, 256, 1024)}
QUICK = {"batch": (32,), "timesteps": (100,), "units": (64, 256)}
HERE = Path(__file__).resolve().parent
ONNX_VENV = HERE / ".onnx-venv"
ONNX_PACKAGES = ("tf2onnx==1.17.0", "onnxruntime==1.32.0", "tensorflow==2.21.0")
# Keras class, gates and options of each --layer.
LAYERS = {"lstm": ("LSTM", 4, {}), "gru": ("GRU", 3, {"reset_after": True}),
          "gru_before": ("GRU", 3, {"reset_after": False}), "simple_rnn": ("SimpleRNN", 1, {})}
PYTHON_RUNTIMES = ("ours", "ours1", "oursb", "products", "predict", "call", "onnx")
RUNTIMES = (*PYTHON_RUNTIMES, "tfjs")
# Seconds one case may spend in one runtime (warm-up included). The full grid then takes about
# 25 minutes on a 2-core machine; `--plan` shows the sum.
BUDGET_S = {"ours": 150.0, "ours1": 150.0, "oursb": 150.0, "products": 150.0, "predict": 150.0,
            "call": 150.0, "onnx": 150.0, "tfjs": 120.0}
MIN_REPEATS = {"ours": 3, "ours1": 3, "oursb": 3, "products": 3, "predict": 3, "call": 3,
               "onnx": 3, "tfjs": 1}
MAX_REPEATS = 5
# Pause before each timed run: onnxruntime's and TensorFlow's idle threads spin for a while
# after a run and slowed the next runtime's run (ours took 553 ms right after onnxruntime
# against 319 ms alone; 305 against 284 with this pause).
SETTLE_S = 1.0
LONG_RUN_S = 10.0
TOTAL_BUDGET_S = 25 * 60.0


def median_seconds(runs: dict[str, Callable[[], object]], repeats: int,
                   settle: float = SETTLE_S) -> dict[str, float]:
    """Median wall time of each run over `repeats` rounds.

    Rounds interleave the runs, so a burst of load from other processes on a shared machine
    slows all of them alike rather than one; each waits `settle` seconds first. A run that
    returns a float has timed itself (in another process): that is its time.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            time.sleep(settle)
            start = time.perf_counter()
            own = run()
            wall = time.perf_counter() - start
            times[name].append(own if isinstance(own, float) else wall)
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

    return median_seconds({"mm": run}, 9, settle=0.0)["mm"] / inner


def step_matmul_gflops(batch: int, units: int, gates: int = 4) -> float:
    """numpy float32 GFLOP/s of one recurrent step's product [batch, units] @ [units, G*units]."""
    return 2 * batch * units * gates * units / matmul_seconds(batch, units, gates * units) / 1e9


def lstm_flops(batch: int, timesteps: int, units: int, gates: int = 4) -> float:
    return 2.0 * batch * timesteps * (FEATURES + units) * gates * units


# Cost model, only to skip hopeless runs: per call, per timestep, and how many times slower than
# numpy's step product each runtime does the step's arithmetic. Measured here (2 cores, loaded):
# Keras predict has ~0.25 s of fixed cost per call, eager model(x) ~3-5 ms per step, tfjs's cpu
# backend ~0.3 GFLOP/s plus ~0.5 ms per step.
# onnxruntime's estimate adds the worker's TensorFlow import and tf2onnx export.
CALL_S = {"ours": 0.0, "ours1": 0.0, "oursb": 0.0, "products": 0.0, "predict": 0.3,
          "call": 0.0, "onnx": 0.0, "tfjs": 0.0}
STEP_S = {"ours": 25e-6, "ours1": 25e-6, "oursb": 25e-6, "products": 2e-6, "predict": 200e-6,
          "call": 5e-3, "onnx": 25e-6, "tfjs": 0.5e-3}
SLOWDOWN = {"ours": 1.5, "ours1": 1.5, "oursb": 1.5, "products": 1.0, "predict": 2.0,
            "call": 2.0, "onnx": 1.0}
ONNX_SETUP_S = 15.0


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
    setup = ONNX_SETUP_S if runtime == "onnx" else 0.0
    repeats = min_repeats(runtime, one_run)
    pauses = 0.0 if runtime == "tfjs" else SETTLE_S * repeats
    return setup + pauses + one_run * (1 + repeats)


def min_repeats(runtime: str, one_run: float) -> int:
    return 1 if one_run > LONG_RUN_S else MIN_REPEATS[runtime]


def repeats_within(runtime: str, one_run: float) -> int:
    """Timed runs that fit the budget after a warm-up of `one_run` seconds."""
    fit = int(BUDGET_S[runtime] / max(one_run, 1e-9)) - 1
    return max(min_repeats(runtime, one_run), min(MAX_REPEATS, fit))


class OnnxWorker:
    """`bench/onnx_worker.py` running in the bench's own virtual environment (created on first
    use with onnxruntime, tf2onnx and the TensorFlow they export from)."""

    def __init__(self, folder: Path) -> None:
        python = ONNX_VENV / "bin" / "python"
        if not python.exists():
            print(f"creating {ONNX_VENV} ({', '.join(ONNX_PACKAGES)})", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", str(ONNX_VENV)], check=True)
            subprocess.run([str(ONNX_VENV / "bin" / "pip"), "install", "--quiet",
                            *ONNX_PACKAGES], check=True)
        self.folder = folder
        self.process = subprocess.Popen([str(python), str(HERE / "onnx_worker.py")],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)

    def ask(self, **request) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        if "error" in reply:
            raise RuntimeError(f"onnx worker: {reply['error']}")
        return reply

    def prepare(self, layer: str, units: int, arrays: dict[str, np.ndarray]) -> tuple:
        """Export the case's model and open its session: (output, recurrent op or a note)."""
        data, model = self.folder / "case.npz", self.folder / "case.onnx"
        outputs = self.folder / "outputs.npy"
        np.savez(data, **arrays)
        class_name, _, options = LAYERS[layer]
        ops = self.ask(export=str(data), onnx=str(model), layer=class_name, units=units,
                       **options)["ops"]
        native = [op for op in ("LSTM", "GRU", "RNN") if op in ops]
        graph = native[0] if native else "no RNN op (" + ", ".join(
            op for op in ops if op in ("Loop", "Scan")) + ")"
        self.ask(session=str(model), inputs=str(data), outputs=str(outputs))
        return np.load(outputs), graph

    def seconds(self) -> float:
        return float(self.ask(run=True)["seconds"])

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def case_arrays(layer: str, batch: int, timesteps: int, units: int) -> dict[str, np.ndarray]:
    """Random weights and input of one case, the same for every runtime."""
    _, gates, options = LAYERS[layer]
    rng = np.random.default_rng(batch * 1_000_003 + timesteps * 1009 + units)
    width = gates * units
    bias_shape = (2, width) if options.get("reset_after") else (width,)
    return {
        "kernel": rng.normal(0, FEATURES**-0.5, (FEATURES, width)).astype(np.float32),
        "recurrent": rng.normal(0, units**-0.5, (units, width)).astype(np.float32),
        "bias": rng.normal(0, 0.1, bias_shape).astype(np.float32),
        "x": rng.normal(0, 1, (batch, timesteps, FEATURES)).astype(np.float32),
    }


def our_forward(layer: str, arrays: dict[str, np.ndarray]) -> Callable[[], np.ndarray]:
    """Our numpy forward of the case, as a call; it keeps its weight layouts from call to call,
    as a `Runner` does."""
    tanh, sigmoid = ACTIVATIONS["tanh"].function, ACTIVATIONS["sigmoid"].function
    args = (arrays["x"], arrays["kernel"], arrays["recurrent"], arrays["bias"])
    options = {"activation": tanh, "prepared": {}}
    if layer == "lstm":
        return lambda: lstm_forward(*args, recurrent_activation=sigmoid, **options)[0]
    if layer == "simple_rnn":
        return lambda: simple_rnn_forward(*args, **options)[0]
    reset_after = LAYERS[layer][2]["reset_after"]
    return lambda: gru_forward(*args, recurrent_activation=sigmoid, reset_after=reset_after,
                               **options)[0]


def products_alone(layer: str, arrays: dict[str, np.ndarray]) -> Callable[[], np.ndarray]:
    """The case's matrix products alone, as our forward lays them out: the input projection
    (bias as a last row) by chunks of steps, then one [G*U, U] @ [U, B] product per step (a
    vector-matrix product at batch 1), on BLAS's default threads or on one where our loop holds
    it there (`scan.step_blas_threads`, as our loop chooses)."""
    x, kernel, recurrent = arrays["x"], arrays["kernel"], arrays["recurrent"]
    batch, units = x.shape[0], recurrent.shape[0]
    bias = arrays["bias"][0] if arrays["bias"].ndim == 2 else arrays["bias"]
    weights = np.concatenate([kernel, bias[None]])
    h = np.random.default_rng(0).standard_normal((units, batch), dtype=np.float32)
    z = np.empty((recurrent.shape[1], batch), dtype=np.float32)
    if batch == 1:
        step_weights = np.ascontiguousarray(recurrent)

        def step() -> None:
            np.matmul(h.T, step_weights, out=z.T)
    else:
        weights, step_weights = np.ascontiguousarray(weights.T), np.ascontiguousarray(recurrent.T)

        def step() -> None:
            np.matmul(step_weights, h, out=z)

    def run() -> np.ndarray:
        with scan.step_blas_threads(recurrent.size * batch):
            for _ in projections(x, weights, go_backwards=False):
                step()
        return z

    return run


def on_blas_threads(run: Callable[[], np.ndarray]) -> Callable[[], np.ndarray]:
    """`run` with neither the split of a layer's units nor BLAS held to one thread: every
    step's product on BLAS's own threads, the loop the thresholds in `scan.py` choose against."""

    def blas_threads() -> np.ndarray:
        saved = scan.ONE_BLAS_THREAD_BELOW, scan.PARALLEL_MIN_PRODUCT
        scan.ONE_BLAS_THREAD_BELOW, scan.PARALLEL_MIN_PRODUCT = 0, sys.maxsize
        try:
            return run()
        finally:
            scan.ONE_BLAS_THREAD_BELOW, scan.PARALLEL_MIN_PRODUCT = saved

    return blas_threads


def on_one_thread(run: Callable[[], np.ndarray]) -> Callable[[], np.ndarray]:
    """`run` with the runtime kept to one thread of its own (no split of a layer's units), to
    time the split against the loop it replaces in the same run."""

    def one_thread() -> np.ndarray:
        os.environ[THREADS_VARIABLE] = "1"
        try:
            return run()
        finally:
            del os.environ[THREADS_VARIABLE]

    return one_thread


def run_case(keras, onnx: OnnxWorker | None, layer: str, batch: int, timesteps: int,
             units: int, runtimes: list[str]) -> dict:
    """Time the given Python runtimes (and onnxruntime) on one random layer; return seconds
    per runtime and the largest |difference| of ours from Keras and from onnxruntime."""
    arrays = case_arrays(layer, batch, timesteps, units)
    runs: dict[str, Callable[[], object]] = {"ours": our_forward(layer, arrays),
                                             "ours1": on_one_thread(our_forward(layer, arrays)),
                                             "oursb": on_blas_threads(our_forward(layer, arrays)),
                                             "products": products_alone(layer, arrays)}
    if {"predict", "call"} & set(runtimes):
        class_name, _, options = LAYERS[layer]
        # Zero initializers: the real weights are set next; orthogonal init of big kernels is slow.
        keras_layer = getattr(keras.layers, class_name)(
            units, kernel_initializer="zeros", recurrent_initializer="zeros", **options
        )
        model = keras.Sequential([keras.Input((timesteps, FEATURES), batch_size=batch),
                                  keras_layer])
        keras_layer.set_weights([arrays["kernel"], arrays["recurrent"], arrays["bias"]])
        x = arrays["x"]
        runs["predict"] = lambda: model.predict(x, batch_size=batch, verbose=0)
        runs["call"] = lambda: np.asarray(model(x, training=False))
    runs = {name: run for name, run in runs.items() if name in runtimes}
    # One untimed round: the warm-up, the outputs compared, and the repeats that fit the budgets.
    results, warm, timings = {}, {}, {}
    for name, run in runs.items():
        start = time.perf_counter()
        results[name] = run()
        warm[name] = time.perf_counter() - start
    if onnx is not None and "onnx" in runtimes:
        results["onnx"], timings["graph"] = onnx.prepare(layer, units, arrays)
        runs["onnx"] = onnx.seconds
        warm["onnx"] = onnx.seconds()
    repeats = min(repeats_within(name, warm[name]) for name in runs)
    timings.update(median_seconds(runs, repeats))
    timings["repeats"] = repeats
    results.pop("products", None)  # its output is not the layer's
    keras_outputs = [results[name] for name in ("predict", "call") if name in results]
    if "ours" in results and keras_outputs:
        timings["diff"] = max(float(np.abs(results["ours"] - y).max()) for y in keras_outputs)
    if "ours" in results and "onnx" in results:
        timings["onnx diff"] = float(np.abs(results["ours"] - results["onnx"]).max())
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
    parser.add_argument("--layer", action="append", choices=sorted(LAYERS),
                        help="the layer to time (repeatable; default lstm)")
    parser.add_argument("--no-onnx", action="store_true", help="leave onnxruntime out")
    parser.add_argument("--skip", action="append", default=[], metavar="RUNTIME",
                        choices=[r for r in RUNTIMES if r != "ours"],
                        help="leave this runtime out (repeatable): " + ", ".join(RUNTIMES[1:]))
    args = parser.parse_args()
    grid = QUICK if args.quick else FULL
    cases = list(itertools.product(grid["batch"], grid["timesteps"], grid["units"]))
    if args.case:
        cases = [tuple(int(v) for v in case.split("x")) for case in args.case]
    layers = args.layer or ["lstm"]
    started = time.perf_counter()
    load = os.getloadavg()[0]
    peak = matmul_gflops()
    runnable, skipped = plan(cases)
    left_out = {*args.skip, *(["onnx"] if args.no_onnx else [])}
    runnable = {case: [r for r in runtimes if r not in left_out]
                for case, runtimes in runnable.items()}
    if args.plan:
        print_plan(runnable, skipped)
        return

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as folder:
        onnx = None if "onnx" in left_out else OnnxWorker(Path(folder))
        try:
            print_header(keras.__version__, tf.__version__, load, peak)
            rows(keras, onnx, layers, cases, runnable, skipped, started)
        finally:
            if onnx is not None:
                onnx.close()
    if skipped:
        print("\nNot run:\n")
        for (case, runtime), reason in skipped.items():
            print(f"- {'x'.join(map(str, case))} {runtime}: not run: {reason}")
    print(f"\nload average {os.getloadavg()[0]:.2f} at end; "
          f"{(time.perf_counter() - started) / 60:.1f} min in all")


def print_header(keras_version: str, tf_version: str, load: float, peak: float) -> None:
    print(f"# Recurrent forward: numpy runtime vs Keras {keras_version} (TF {tf_version}), "
          "onnxruntime and tfjs 4.22\n")
    print(f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load:.2f} at start")
    print(f"- numpy {np.__version__} float32 matmul 1024^3: {peak:.1f} GFLOP/s "
          f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}); "
          "'step mm' is its GFLOP/s on the step's own [B, H] @ [H, G*H], the ceiling of the "
          "recurrent part (ours GFLOP/s also counts the input projection, which runs as larger "
          "products, so it may pass it)")
    print(f"- onnxruntime: {', '.join(ONNX_PACKAGES)}, opset 17, CPU, "
          f"{os.environ.get('ONNX_THREADS', '2')} intra-op threads; "
          "'ONNX op' is the recurrent op of the exported graph")
    print(f"- input features {FEATURES}; return_sequences=False; tanh/sigmoid; medians of "
          f"{min(MIN_REPEATS.values())}-{MAX_REPEATS} interleaved runs after a warm-up (tfjs: "
          "own process, before the others); ratios are times, ours/X < 1: ours faster\n",
          flush=True)


def rows(keras, onnx: OnnxWorker | None, layers: list[str], cases: list, runnable: dict,
         skipped: dict, started: float) -> None:
    """Run and print one table row per layer and case."""
    tfjs_cases = [case for case in cases if "tfjs" in runnable[case]] if "lstm" in layers else []
    tfjs = tfjs_times(tfjs_cases) if tfjs_cases else {}
    print("| layer | batch | steps | units | GFLOP | ours ms | ours 1 thread ms "
          "| ours BLAS threads ms | products ms "
          "| onnxruntime ms | predict ms "
          "| call ms | tfjs ms | ours GFLOP/s | step mm GFLOP/s | ours/step mm "
          "| ours/ours 1 thread | ours/ours BLAS threads | ours/onnxruntime "
          "| products/onnxruntime | ours/predict "
          "| ours/call | tfjs/ours | ONNX op "
          "| max diff Keras | max diff onnxruntime | runs |")
    print("|---|" + "---:|" * 22 + "---|---:|---:|---:|")
    for layer, case in itertools.product(layers, cases):
        python = [r for r in PYTHON_RUNTIMES if r in runnable[case]]
        needed = sum(case_seconds(r, case) for r in python)
        if python and time.perf_counter() - started + needed > TOTAL_BUDGET_S:
            for runtime in python:
                skipped[case, runtime] = (f"estimated {needed:.0f} s would pass the "
                                          f"{TOTAL_BUDGET_S / 60:.0f} min total")
            python = []
        in_tfjs = layer == "lstm" and case in tfjs
        if not python and not in_tfjs:
            continue
        batch, timesteps, units = case
        gates = LAYERS[layer][1]
        gflop = lstm_flops(*case, gates) / 1e9
        # Before the runs: onnxruntime's idle threads spin for a while after its last run.
        step = step_matmul_gflops(batch, units, gates)
        t = run_case(keras, onnx, layer, *case, python) if python else {}
        ms = {r: t[r] * 1e3 if r in t else None for r in PYTHON_RUNTIMES}
        ms["tfjs"] = tfjs[case]["medianMs"] if in_tfjs else None
        rate = {r: gflop / v * 1e3 if v else None for r, v in ms.items()}
        ratio = {r: ms["ours"] / ms[r] if ms["ours"] and ms[r] else None
                 for r in ("ours1", "oursb", "predict", "call", "onnx")}
        floor = ms["products"] / ms["onnx"] if ms["products"] and ms["onnx"] else None
        tfjs_ratio = ms["tfjs"] / ms["ours"] if ms["ours"] and ms["tfjs"] else None
        runs = f"{t['repeats']}" if t else "-"
        if in_tfjs:
            runs += f", tfjs {tfjs[case]['runs']}"
        print(
            f"| {layer} | {batch} | {timesteps} | {units} | {fmt(gflop)} | {fmt(ms['ours'])} "
            f"| {fmt(ms['ours1'])} | {fmt(ms['oursb'])} | {fmt(ms['products'])} "
            f"| {fmt(ms['onnx'])} | {fmt(ms['predict'])} | {fmt(ms['call'])} "
            f"| {fmt(ms['tfjs'])} | {fmt(rate['ours'])} | {fmt(step)} "
            f"| {fmt(rate['ours'] / step if rate['ours'] else None, '.0%')} "
            f"| {fmt(ratio['ours1'])} | {fmt(ratio['oursb'])} | {fmt(ratio['onnx'])} "
            f"| {fmt(floor)} "
            f"| {fmt(ratio['predict'])} "
            f"| {fmt(ratio['call'])} "
            f"| {fmt(tfjs_ratio)} | {t.get('graph', '-')} | {fmt(t.get('diff'), '.1e')} "
            f"| {fmt(t.get('onnx diff'), '.1e')} | {runs} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
