"""Prototype measurement, NOT part of the tfjs_lstm package: what a compiled LSTM step would
gain over the numpy kernels (issue 15's closing note).

Builds `lstm_step.c` with gcc into a temporary folder, runs an LSTM forward whose step is
numpy's recurrent matmul plus ONE ctypes call doing all the gate arithmetic (vectorized tanhf
from glibc's libmvec), and times it against `tfjs_lstm.runtime.lstm_forward` and against the
recurrent matmuls alone (the floor of any step), interleaved, medians, in CPU time (the
machine is shared; wall time would measure the other jobs). Max |difference| from Keras 3 is
printed for both. Run: `python bench/c_step/measure.py` (needs gcc and glibc >= 2.35).
"""

from __future__ import annotations

import ctypes
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from tfjs_lstm.activations import ACTIVATIONS
from tfjs_lstm.runtime import lstm_forward
from tfjs_lstm.runtime.recurrent import _projection_weights, _projections

HERE = Path(__file__).resolve().parent
CASES = [(1, 100, 256), (1, 100, 512), (32, 100, 256), (32, 100, 512), (128, 50, 256),
         (128, 20, 512)]
FEATURES = 64


def build(folder: str) -> ctypes.CDLL:
    library = os.path.join(folder, "liblstm_step.so")
    subprocess.run(["gcc", "-O3", "-mavx2", "-mfma", "-ffast-math", "-shared", "-fPIC",
                    "-o", library, str(HERE / "lstm_step.c"), "-lmvec", "-lm"], check=True)
    lib = ctypes.CDLL(library)
    pointer = ctypes.c_void_p
    lib.lstm_gates.argtypes = [pointer, pointer, pointer, pointer, ctypes.c_long, ctypes.c_long]
    return lib


def compiled_forward(lib, x, kernel, recurrent, bias):
    """An LSTM forward (last h, [B, u]) with its weights prepared once, as a `Runner` keeps
    them: gates reordered i, f, o, g, sigmoid columns halved; gemv at batch 1 as ours."""
    batch = x.shape[0]
    u = recurrent.shape[0]
    order = np.r_[0 : 2 * u, 3 * u : 4 * u, 2 * u : 3 * u]
    scale = np.r_[np.full(3 * u, 0.5), np.ones(u)].astype(np.float32)
    # The input projection as the package runs it (chunks of steps, bias as a fixed input).
    projection = _projection_weights(kernel[:, order] * scale, bias[order] * scale, batch)
    row_kernel = np.ascontiguousarray(recurrent[:, order] * scale)
    u_t = np.ascontiguousarray(row_kernel.T)
    gates = lib.lstm_gates

    def forward() -> np.ndarray:
        z = np.empty((4 * u, batch), np.float32)
        h = np.zeros((u, batch), np.float32)
        c = np.zeros((u, batch), np.float32)
        hp, cp, zp = h.ctypes.data, c.ctypes.data, z.ctypes.data
        for xw_t in _projections(x, projection, False):
            if batch == 1:
                np.matmul(h.T, row_kernel, out=z.T)
            else:
                np.matmul(u_t, h, out=z)
            gates(zp, xw_t.ctypes.data, hp, cp, u, batch)
        return h.T.copy()

    return forward


def matmuls_only(x, recurrent):
    """The recurrent products alone, as ours runs them: the floor of any step."""
    u = recurrent.shape[0]
    batch = x.shape[0]
    row_kernel = np.ascontiguousarray(recurrent)
    u_t = np.ascontiguousarray(recurrent.T)
    h = np.zeros((u, batch), np.float32)
    z = np.empty((4 * u, batch), np.float32)
    for _ in range(x.shape[1]):
        if batch == 1:
            np.matmul(h.T, row_kernel, out=z.T)
        else:
            np.matmul(u_t, h, out=z)


def gate_seconds(lib, batch: int, u: int) -> dict[str, float]:
    """CPU seconds of the gate arithmetic of one step alone: numpy's passes (as the package's
    kernel runs them) and the one compiled call, on the same [4u, B] buffers."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((4 * u, batch)).astype(np.float32)
    xw = rng.standard_normal((4 * u, batch)).astype(np.float32)
    z, h, c = np.empty_like(start), np.zeros((u, batch), np.float32), np.zeros((u, batch),
                                                                                np.float32)
    activated = np.empty_like(c)
    gates, i, f, o, g = z[: 3 * u], z[:u], z[u : 2 * u], z[2 * u : 3 * u], z[3 * u :]
    pointers = [a.ctypes.data for a in (z, xw, h, c)]

    def numpy_gates() -> None:
        np.copyto(z, start)
        np.add(z, xw, out=z)
        np.tanh(z, out=z)
        np.multiply(gates, 0.5, out=gates)
        np.add(gates, 0.5, out=gates)
        np.multiply(f, c, out=c)
        np.multiply(g, i, out=g)
        np.add(c, g, out=c)
        np.multiply(o, np.tanh(c, out=activated), out=h)

    def compiled_gates() -> None:
        np.copyto(z, start)
        lib.lstm_gates(*pointers, u, batch)

    runs = {"numpy": numpy_gates, "compiled": compiled_gates, "copy": lambda: np.copyto(z, start)}
    seconds = median_cpu_seconds(runs, 9, inner=max(5, int(3e5 / (batch * u))))
    return {name: seconds[name] - seconds["copy"] for name in ("numpy", "compiled")}


def median_cpu_seconds(runs: dict, repeats: int, inner: int = 1) -> dict[str, float]:
    """Median CPU seconds of each run (`inner` calls per timing), interleaved."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.process_time()
            for _ in range(inner):
                run()
            times[name].append((time.process_time() - start) / inner)
    return {name: statistics.median(v) for name, v in times.items()}


def measure_case(lib, keras, batch: int, steps: int, u: int) -> str:
    """One table row: whole forwards (numpy kernel, compiled gates, matmuls alone), the gate
    arithmetic of one step alone, and the differences from Keras 3."""
    tanh, sigmoid = ACTIVATIONS["tanh"].function, ACTIVATIONS["sigmoid"].function
    rng = np.random.default_rng(batch + steps + u)
    x = rng.standard_normal((batch, steps, FEATURES), dtype=np.float32)
    kernel = rng.normal(0, FEATURES**-0.5, (FEATURES, 4 * u)).astype(np.float32)
    recurrent = rng.normal(0, u**-0.5, (u, 4 * u)).astype(np.float32)
    bias = rng.normal(0, 0.1, 4 * u).astype(np.float32)
    layer = keras.layers.LSTM(u)
    layer.build((batch, steps, FEATURES))
    layer.set_weights([kernel, recurrent, bias])
    expected = np.asarray(layer(x))
    prepared: dict = {}
    runs = {
        "numpy": lambda: lstm_forward(x, kernel, recurrent, bias, activation=tanh,
                                      recurrent_activation=sigmoid, prepared=prepared)[0],
        "compiled": compiled_forward(lib, x, kernel, recurrent, bias),
        "matmuls": lambda: matmuls_only(x, recurrent),
    }
    diff = {name: float(np.abs(runs[name]() - expected).max()) for name in ("numpy", "compiled")}
    ms = {name: v * 1e3 for name, v in median_cpu_seconds(runs, 9).items()}
    us = {name: v * 1e6 for name, v in gate_seconds(lib, batch, u).items()}
    return (f"| {batch} | {steps} | {u} | {ms['numpy']:.2f} | {ms['compiled']:.2f} "
            f"| {ms['matmuls']:.2f} | {ms['compiled'] / ms['numpy']:.2f} | {us['numpy']:.1f} "
            f"| {us['compiled']:.1f} | {diff['numpy']:.1e} | {diff['compiled']:.1e} |")


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    print(f"load average {os.getloadavg()[0]:.2f}; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; CPU time, medians of 9\n")
    print("| B | T | H | numpy forward ms | compiled-gates forward ms | matmuls only ms "
          "| compiled/numpy | numpy gates us/step | compiled gates us/step "
          "| diff Keras numpy | diff Keras compiled |")
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    with tempfile.TemporaryDirectory() as folder:
        lib = build(folder)
        for case in CASES:
            print(measure_case(lib, keras, *case), flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
