"""Prototype measurement, NOT part of the tfjs_lstm package: what a compiled LSTM time loop
would gain over the numpy runtime, and how close it comes to onnxruntime's LSTM op (issue 15).

Builds `lstm_scan.c` with gcc into a temporary folder: the whole unmasked forward loop of a
Keras 3 LSTM in one ctypes call (the GIL released once), products by the OpenBLAS numpy already
loaded (its sgemm/sgemv passed in as function pointers), gate arithmetic in AVX2/FMA with a
vectorized tanh of its own. Variants:

- `C 1+blas2`: the loop on one thread, OpenBLAS at its default thread count (2 here);
- `C 1+blas1`: the loop on one thread, OpenBLAS held to one thread;
- `C 2x1`: two threads in the call, each owning half the units (its rows of all four gates,
  as `tfjs_lstm.runtime.scan.parallel_scan`), each running its products on one OpenBLAS thread,
  meeting at a spinning barrier after every step;
- at batch 1 also `gemv 1` and `gemv 2x1`: the same two loops on one OpenBLAS thread with the
  step's product as sgemv instead of a one-column sgemm;
- at batch > 1 also `own 1` and `own 2x1`: the same two loops with the step's product by a
  small AVX2 kernel of our own on recurrent weights packed once (as onnxruntime's MLAS keeps
  them), the input projections still by OpenBLAS on one thread.

Per case (B x T x U, 64 input features; the weights and input of `bench/runtime.py`'s
`case_arrays`, the same for every runtime) it times `tfjs_lstm.runtime.lstm_forward` (weights
prepared once, as a `Runner` keeps them), each variant, and onnxruntime's LSTM op on the same
Keras 3 model (bench/runtime.py's worker, 2 intra-op threads): wall time, medians of
interleaved rounds after a warm-up, each run after a 1 s pause (onnxruntime's idle threads spin
after a run). It prints the times and their ratios to onnxruntime twice, as medians and as the
fastest round (on a loaded machine the fastest is nearer the idle time), the max |difference|
of each from Keras 3 (`layer(x)`), and the vectorized tanh's error against float64.

Run: `PYTHONPATH=. python bench/c_step/measure_scan.py [--case BxTxU ...] [--repeats N]
[--onnx-venv PATH]` (needs gcc, an AVX2/FMA CPU and numpy's bundled ILP64 OpenBLAS).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tfjs_lstm.activations import ACTIVATIONS
from tfjs_lstm.runtime import lstm_forward
from tfjs_lstm.runtime.blas import one_blas_thread

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import runtime as bench_runtime  # noqa: E402  (bench/runtime.py: onnxruntime worker, cases)

CASES = ["1x100x256", "32x100x256", "64x100x256", "32x100x512", "128x200x512"]
# numpy's wheels bundle OpenBLAS built with 64-bit integers and suffixed symbols; lstm_scan.c
# passes 64-bit integers, so only ILP64 builds are taken.
SGEMM = ("scipy_cblas_sgemm64_", "cblas_sgemm64_")
SGEMV = ("scipy_cblas_sgemv64_", "cblas_sgemv64_")
# The step's product in lstm_scan.c: OpenBLAS sgemm, sgemv (batch 1), our own kernel (batch > 1).
SGEMM_PRODUCT, SGEMV_PRODUCT, OWN_PRODUCT = 0, 1, 2
# Rows of a block of the own kernel's packed weights (MR in lstm_scan.c).
OWN_BLOCK_ROWS = 6
# name: (parts, OpenBLAS held to one thread, product).
VARIANTS = {"C 1+blas2": (1, False, SGEMM_PRODUCT), "C 1+blas1": (1, True, SGEMM_PRODUCT),
            "C 2x1": (2, True, SGEMM_PRODUCT), "gemv 1": (1, True, SGEMV_PRODUCT),
            "gemv 2x1": (2, True, SGEMV_PRODUCT), "own 1": (1, True, OWN_PRODUCT),
            "own 2x1": (2, True, OWN_PRODUCT)}


def build(folder: str) -> ctypes.CDLL:
    """lstm_scan.c compiled into `folder` and loaded, its functions' signatures set."""
    library = os.path.join(folder, "liblstm_scan.so")
    subprocess.run(["gcc", "-O3", "-mavx2", "-mfma", "-ffp-contract=off", "-shared", "-fPIC",
                    "-o", library, str(HERE / "lstm_scan.c"), "-lpthread"], check=True)
    lib = ctypes.CDLL(library)
    pointer, long = ctypes.c_void_p, ctypes.c_long
    lib.lstm_scan.argtypes = [pointer, pointer, ctypes.c_int, long, long, long, long, pointer,
                              long, pointer, pointer, pointer, pointer, pointer]
    lib.lstm_scan.restype = ctypes.c_int
    lib.tanh_array.argtypes = [pointer, pointer, long]
    return lib


def openblas_functions() -> tuple[int, int]:
    """Addresses of sgemm and sgemv in the OpenBLAS numpy loaded (found as
    tfjs_lstm/runtime/blas.py finds its thread setter)."""
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        paths = {line.split(None, 5)[-1].strip() for line in maps if "openblas" in line}
    for path in sorted(p for p in paths if os.path.isabs(p)):
        library = ctypes.CDLL(path)
        sgemm = next((getattr(library, n) for n in SGEMM if hasattr(library, n)), None)
        sgemv = next((getattr(library, n) for n in SGEMV if hasattr(library, n)), None)
        if sgemm is not None and sgemv is not None:
            return (ctypes.cast(sgemm, ctypes.c_void_p).value,
                    ctypes.cast(sgemv, ctypes.c_void_p).value)
    raise RuntimeError("no ILP64 OpenBLAS sgemm/sgemv loaded by numpy")


def tanh_error(lib: ctypes.CDLL) -> tuple[float, float]:
    """Max |error| and max error in float32 ulps of the C tanh against float64 tanh, over every
    float32 in [-10, 10] at a 2^-17 step plus the 1e-6-wide neighbourhood of 0."""
    x = np.concatenate([np.arange(-10, 10, 2.0**-17), np.linspace(-1e-6, 1e-6, 4001)])
    x = x.astype(np.float32)
    y = np.empty_like(x)
    lib.tanh_array(x.ctypes.data, y.ctypes.data, x.size)
    exact = np.tanh(x.astype(np.float64))
    error = np.abs(y - exact)
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return float(error.max()), float((error / ulp).max())


def runs_at(product: int, batch: int) -> bool:
    """Whether a variant with this product runs at this batch size."""
    return product == SGEMM_PRODUCT or (product == SGEMV_PRODUCT) == (batch == 1)


def packed_rows(a: np.ndarray) -> np.ndarray:
    """A [m, k] in the own kernel's layout: blocks of OWN_BLOCK_ROWS rows (zero rows padding
    m), each stored k-major, so the kernel reads a block's column p as consecutive floats."""
    m, k = a.shape
    blocks = -(-m // OWN_BLOCK_ROWS)
    padded = np.zeros((blocks * OWN_BLOCK_ROWS, k), np.float32)
    padded[:m] = a
    return np.ascontiguousarray(padded.reshape(blocks, OWN_BLOCK_ROWS, k).transpose(0, 2, 1))


def compiled_forward(lib: ctypes.CDLL, blas: tuple[int, int], arrays: dict[str, np.ndarray],
                     parts: int, one_thread: bool, product: int) -> Callable[[], np.ndarray]:
    """One variant's forward (last h, [B, U]); its weights are laid out once, here, as a
    `Runner` keeps them: per part its units' rows of all four gates (Keras order i, f, c, o),
    the sigmoid gates' (i, f, o) scaled by 0.5."""
    x, kernel, recurrent, bias = (arrays[k] for k in ("x", "kernel", "recurrent", "bias"))
    batch, time, features = x.shape
    u = recurrent.shape[0]
    scale = np.r_[np.full(2 * u, 0.5), np.ones(u), np.full(u, 0.5)].astype(np.float32)
    with_bias = np.concatenate([kernel, bias[None]]) * scale
    recurrent = recurrent * scale
    bounds = np.array([u * p // parts for p in range(parts + 1)], dtype=np.int64)
    weights = []
    for start, stop in zip(bounds, bounds[1:], strict=False):
        order = np.concatenate([np.arange(start, stop) + g * u for g in range(4)])
        rows = np.ascontiguousarray(recurrent[:, order].T)
        weights.append((packed_rows(rows) if product == OWN_PRODUCT else rows,
                        np.ascontiguousarray(with_bias[:, order].T)))
    # The C call reads the weights through these addresses: `forward` keeps `weights` alive.
    pointers = [(ctypes.c_void_p * parts)(*(w[k].ctypes.data for w in weights)) for k in (0, 1)]
    inputs = np.ones((features + 1, time * batch), np.float32)
    h, c = np.empty((u, batch), np.float32), np.empty((u, batch), np.float32)

    def forward() -> np.ndarray:
        # Column t*B + b of the input block is x[b, t]; the row of ones carries the bias.
        inputs[:features] = x.transpose(2, 1, 0).reshape(features, time * batch)
        assert len(weights) == parts
        with one_blas_thread() if one_thread else contextlib.nullcontext():
            failed = lib.lstm_scan(*blas, product, batch, time, features + 1, u,
                                   inputs.ctypes.data, parts, bounds.ctypes.data, *pointers,
                                   h.ctypes.data, c.ctypes.data)
        if failed:
            raise RuntimeError("lstm_scan could not start its threads")
        return h.T.copy()

    return forward


def keras_output(keras, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Keras 3's LSTM (tanh, sigmoid, last output) on the case: the reference."""
    units = arrays["recurrent"].shape[0]
    layer = keras.layers.LSTM(units, kernel_initializer="zeros", recurrent_initializer="zeros")
    layer.build(arrays["x"].shape)
    layer.set_weights([arrays["kernel"], arrays["recurrent"], arrays["bias"]])
    return np.asarray(layer(arrays["x"]))


def round_seconds(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, list]:
    """Wall seconds of each run in each of `repeats` interleaved rounds, each run after
    bench/runtime.py's pause; a run that returns a float (onnxruntime's worker) timed itself."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            time.sleep(bench_runtime.SETTLE_S)
            start = time.perf_counter()
            own = run()
            wall = time.perf_counter() - start
            times[name].append(own if isinstance(own, float) else wall)
    return times


def run_case(lib, blas, keras, onnx, case: str, repeats: int) -> tuple[dict, dict, dict]:
    """(median ms, fastest ms, max |difference| from Keras) of every runtime on one case."""
    batch, time, units = map(int, case.split("x"))
    arrays = bench_runtime.case_arrays("lstm", batch, time, units)
    tanh, sigmoid = ACTIVATIONS["tanh"].function, ACTIVATIONS["sigmoid"].function
    prepared: dict = {}
    args = [arrays[k] for k in ("x", "kernel", "recurrent", "bias")]
    runs: dict[str, Callable[[], object]] = {"ours": lambda: lstm_forward(
        *args, activation=tanh, recurrent_activation=sigmoid, prepared=prepared)[0]}
    for name, (parts, one_thread, product) in VARIANTS.items():
        if runs_at(product, batch):
            runs[name] = compiled_forward(lib, blas, arrays, parts, one_thread, product)
    expected = keras_output(keras, arrays)
    diff = {name: float(np.abs(run() - expected).max()) for name, run in runs.items()}
    onnx_output, graph = onnx.prepare("lstm", units, arrays)
    assert graph == "LSTM", graph
    diff["onnx"] = float(np.abs(onnx_output - expected).max())
    runs["onnx"] = onnx.seconds
    onnx.seconds()  # the worker's warm-up was its first run; one more, as ours had
    seconds = round_seconds(runs, repeats)
    return ({name: statistics.median(s) * 1e3 for name, s in seconds.items()},
            {name: min(s) * 1e3 for name, s in seconds.items()}, diff)


def time_rows(case: str, ms: dict[str, float]) -> list[str]:
    """One row of a times table: ms of each runtime, ratios to onnxruntime, best C to ours."""
    names = ["ours", *VARIANTS, "onnx"]
    best = min(ms[n] for n in VARIANTS if n in ms)
    return [*case.split("x"), *(f"{ms[n]:.2f}" if n in ms else "-" for n in names),
            f"{ms['ours'] / ms['onnx']:.2f}",
            *(f"{ms[n] / ms['onnx']:.2f}" if n in ms else "-" for n in VARIANTS),
            f"{best / ms['ours']:.2f}"]


def table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "--:|" * len(header),
                      *("| " + " | ".join(row) + " |" for row in rows)])


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", help="BxTxU (repeatable); default: "
                        + " ".join(CASES))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--onnx-venv", type=Path, default=bench_runtime.ONNX_VENV,
                        help="virtual environment with onnxruntime and tf2onnx "
                             "(default: bench/.onnx-venv, created on first use)")
    args = parser.parse_args()
    bench_runtime.ONNX_VENV = args.onnx_venv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    blas = openblas_functions()
    names = ["ours", *VARIANTS, "onnx"]
    print(f"uptime at start: {uptime()}")
    with tempfile.TemporaryDirectory() as folder:
        lib = build(folder)
        error, ulps = tanh_error(lib)
        print(f"C tanh against float64: max |error| {error:.1e}, max {ulps:.2f} ulp (float32)")
        print(f"wall ms over {args.repeats} interleaved rounds after a warm-up, "
              f"{bench_runtime.SETTLE_S:g} s pause before each run; onnxruntime "
              f"{bench_runtime.ONNX_PACKAGES[1]}, {os.environ.get('ONNX_THREADS', '2')} "
              "intra-op threads\n")
        onnx = bench_runtime.OnnxWorker(Path(folder))
        medians, fastest, diffs = [], [], []
        try:
            for case in args.case or CASES:
                ms, least, diff = run_case(lib, blas, keras, onnx, case, args.repeats)
                medians.append(time_rows(case, ms))
                fastest.append(time_rows(case, least))
                diffs.append([*case.split("x"),
                              *(f"{diff[n]:.1e}" if n in diff else "-" for n in names)])
                print(f"{case} done, {uptime()}", file=sys.stderr, flush=True)
        finally:
            onnx.close()
    times = ["B", "T", "U", *(f"{n} ms" for n in names), "ours/onnx",
             *(f"{n}/onnx" for n in VARIANTS), "best C/ours"]
    print(f"Medians:\n\n{table(times, medians)}\n")
    print(f"Fastest rounds:\n\n{table(times, fastest)}\n")
    print("Max |difference| from Keras 3:\n\n"
          + table(["B", "T", "U", *names], diffs))
    print(f"\nuptime at end: {uptime()}")


if __name__ == "__main__":
    main()
