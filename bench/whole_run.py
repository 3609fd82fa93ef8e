"""Whole processes: `tfjs-lstm run` on a Keras 3 file against a Python process that loads it
with Keras 3 and calls `predict`, the way issue 15 timed them.

Run as `python bench/whole_run.py [--runs N] [--batch B] [--steps T] [--units U]`. It saves two
stacked LSTMs (U units, 64 input features; random weights) as `.keras` and an input [B, T, 64]
as `.npy`, then runs the two commands in turn (after one warm-up each, A B A B ...) and prints
each one's median wall time, CPU time and peak memory (its own `wait4` accounting), their ratios,
and the largest difference between the two outputs. `tfjs-lstm run` also runs once more with
`TFJS_LSTM_THREADS=1` per round, to time the split of the units against the one-thread loop.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FEATURES = 64
KERAS_PREDICT = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras
model = keras.models.load_model(sys.argv[1])
x = np.load(sys.argv[2])
np.save(sys.argv[3], model.predict(x, batch_size=len(x), verbose=0))
"""


MAKE_MODEL = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras
batch, steps, units, features = (int(v) for v in sys.argv[3:7])
rng = np.random.default_rng(0)
layers = [keras.layers.LSTM(units, return_sequences=True, kernel_initializer="zeros",
                            recurrent_initializer="zeros"),
          keras.layers.LSTM(units, kernel_initializer="zeros", recurrent_initializer="zeros")]
model = keras.Sequential([keras.Input((steps, features)), *layers])
for layer in model.layers:
    layer.set_weights([rng.normal(0, w.shape[0] ** -0.5, w.shape).astype(np.float32)
                       for w in layer.get_weights()])
model.save(sys.argv[1])
np.save(sys.argv[2], rng.normal(size=(batch, steps, features)).astype(np.float32))
"""


def make_model(folder: Path, batch: int, steps: int, units: int) -> tuple[Path, Path]:
    """Two stacked Keras 3 LSTMs with random weights, and a random input, saved by a process
    of their own: this one stays small, so the peak memory of the processes it starts (which
    counts what they hold before they load their program) is theirs."""
    source, inputs = folder / "lstm_x2.keras", folder / "x.npy"
    subprocess.run([sys.executable, "-c", MAKE_MODEL, str(source), str(inputs), str(batch),
                    str(steps), str(units), str(FEATURES)], check=True)
    return source, inputs


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MiB of one run of `command`."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{command[0]} failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--units", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source, inputs = make_model(folder, args.batch, args.steps, args.units)
        ours, theirs = folder / "ours.npy", folder / "keras.npy"
        tool = str(Path(sys.executable).with_name("tfjs-lstm"))
        commands = {
            "tfjs-lstm run": ([tool, "run", str(source), "--input", str(inputs),
                               "--output", str(ours)], {}),
            "tfjs-lstm run, 1 thread": ([tool, "run", str(source), "--input", str(inputs),
                                         "--output", str(ours)], {"TFJS_LSTM_THREADS": "1"}),
            "Keras 3 predict": ([sys.executable, "-c", KERAS_PREDICT, str(source), str(inputs),
                                 str(theirs)], {}),
        }
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
        for round_ in range(args.runs + 1):
            for name, (command, extra) in commands.items():
                figures = measure(command, {**os.environ, **extra})
                if round_:  # the first round warms the caches up
                    results[name].append(figures)
        difference = float(np.abs(np.load(ours) - np.load(theirs)).max())
    print(f"two stacked LSTM {args.units}, batch {args.batch}, {args.steps} steps, "
          f"{FEATURES} features; medians of {args.runs} alternating runs, "
          f"load average {os.getloadavg()[0]:.2f} at end\n")
    print("| command | wall s | CPU s | peak MiB | wall / Keras 3 predict |")
    print("|---|--:|--:|--:|--:|")
    medians = {name: [statistics.median(column) for column in zip(*rows, strict=True)]
               for name, rows in results.items()}
    keras_wall = medians["Keras 3 predict"][0]
    for name, (wall, cpu, peak) in medians.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {peak:.0f} | {wall / keras_wall:.2f} |")
    print(f"\nlargest difference between the outputs: {difference:.1e}")


if __name__ == "__main__":
    main()
