"""Where the time goes in ordinary recurrent models: each layer's share in the reference runtime.

Run as `python bench/layers.py [--repeats N] [--batch B]`. Builds the models people put around
an LSTM in Keras 3 (Conv1D and pooling before it, normalization after it, Attention and
MultiHeadAttention over its sequence, a CNN-LSTM over frames), saves each as `.keras`, reads it
with tfjs-lstm, and times, interleaved and as medians after a warm-up, our `Runner.predict`
against Keras 3 `model.predict` on the same file and input. Each of our layer calls is timed
inside the same runs, so the table shows which layer costs most. Also prints the largest
difference from Keras, so a fast wrong answer shows. On a machine with other work, run it with
`OPENBLAS_NUM_THREADS=1`: numpy's two BLAS threads wait on each other under load.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tfjs_lstm import load
from tfjs_lstm.layers import REGISTRY
from tfjs_lstm.runtime.engine import Runner


def build_models(keras, batch: int) -> dict[str, tuple[object, np.ndarray]]:
    """Keras 3 models and one input batch each, at sizes people train (100 steps, 64 features,
    128 units; 10 frames of 32x32x3 for the CNN-LSTM)."""
    layers, rng = keras.layers, np.random.default_rng(0)
    steps, features, units = 100, 64, 128

    def sequence_input():
        return keras.Input((steps, features))

    def sequence_batch():
        return rng.standard_normal((batch, steps, features), dtype=np.float32)

    models = {}
    x = inputs = sequence_input()
    x = layers.Conv1D(64, 5, padding="same", activation="relu")(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(64, 3, padding="causal", dilation_rate=2, activation="relu")(x)
    x = layers.LSTM(units)(x)
    models["Conv1D+MaxPooling1D+LSTM"] = (keras.Model(inputs, layers.Dense(10)(x)),
                                          sequence_batch())
    x = inputs = sequence_input()
    x = layers.LSTM(units, return_sequences=True)(x)
    x = layers.LayerNormalization()(x)
    x = layers.BatchNormalization()(x)
    x = layers.GlobalMaxPooling1D()(x)
    models["LSTM+LayerNorm+BatchNorm+GlobalMaxPooling1D"] = (
        keras.Model(inputs, layers.Dense(10)(x)), sequence_batch())
    x = inputs = sequence_input()
    x = layers.LSTM(units, return_sequences=True)(x)
    x = layers.Attention(use_scale=True)([x, x], use_causal_mask=True)
    x = layers.GlobalAveragePooling1D()(x)
    models["LSTM+Attention+GlobalAveragePooling1D"] = (
        keras.Model(inputs, layers.Dense(10)(x)), sequence_batch())
    x = inputs = sequence_input()
    x = layers.LSTM(units, return_sequences=True)(x)
    x = layers.MultiHeadAttention(num_heads=4, key_dim=32)(x, x)
    x = layers.GlobalAveragePooling1D()(x)
    models["LSTM+MultiHeadAttention+GlobalAveragePooling1D"] = (
        keras.Model(inputs, layers.Dense(10)(x)), sequence_batch())
    x = inputs = keras.Input((10, 32, 32, 3))
    x = layers.TimeDistributed(layers.Conv2D(16, 3, activation="relu"))(x)
    x = layers.TimeDistributed(layers.MaxPooling2D())(x)
    x = layers.TimeDistributed(layers.Flatten())(x)
    x = layers.LSTM(64)(x)
    frames = rng.standard_normal((batch, 10, 32, 32, 3), dtype=np.float32)
    models["CNN-LSTM over frames (TimeDistributed Conv2D)"] = (
        keras.Model(inputs, layers.Dense(10)(x)), frames)
    return models


class LayerClock:
    """Times each top-level layer call of our runtime by wrapping the registry's forwards
    (a wrapper's inner calls count towards the wrapper)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.depth = 0
        self.current: dict[str, float] = defaultdict(float)
        for name, layer in list(REGISTRY.items()):
            if layer.forward is not None:
                REGISTRY[name] = dataclasses.replace(layer, forward=self.timed(layer.forward))

    def timed(self, forward: Callable) -> Callable:
        def run(config, weights, inputs, masks, dtype):
            self.depth += 1
            start = time.perf_counter()
            try:
                return forward(config, weights, inputs, masks, dtype)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    label = f"{config.name} ({config.class_name})"
                    self.current[label] += time.perf_counter() - start

        return run

    def end_run(self) -> None:
        for label, seconds in self.current.items():
            self.seconds[label].append(seconds)
        self.current.clear()


def interleaved_medians(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall seconds of each run over `repeats` interleaved rounds after one warm-up."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    clock = LayerClock()
    load_average = os.getloadavg()[0]
    print(f"# Layer shares, batch {args.batch}: Keras {keras.__version__}, numpy "
          f"{np.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {load_average:.1f}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, medians of {args.repeats} "
          "interleaved runs\n")
    with tempfile.TemporaryDirectory() as folder:
        for title, (keras_model, x) in build_models(keras, args.batch).items():
            path = Path(folder) / "model.keras"
            keras_model.save(path)
            runner = Runner(load(path))

            def ours(runner=runner, x=x):
                clock.current.clear()
                output = runner.predict([x])[0]
                clock.end_run()
                return output

            expected = keras_model.predict(x, verbose=0)
            error = float(np.max(np.abs(ours() - expected)))
            clock.seconds.clear()
            medians = interleaved_medians(
                {"ours": ours, "predict": lambda m=keras_model, x=x: m.predict(x, verbose=0)},
                args.repeats)
            print(f"## {title}\n\nours {medians['ours'] * 1e3:.1f} ms, Keras 3 predict "
                  f"{medians['predict'] * 1e3:.1f} ms, ours/predict "
                  f"{medians['ours'] / medians['predict']:.2f}, largest difference "
                  f"{error:.1e}\n")
            print("| layer | ms | share of ours |\n|---|---:|---:|")
            layer_medians = {label: statistics.median(s) for label, s in clock.seconds.items()}
            total = sum(layer_medians.values())
            for label, seconds in sorted(layer_medians.items(), key=lambda item: -item[1]):
                print(f"| {label} | {seconds * 1e3:.2f} | {seconds / total:.0%} |")
            print()
            sys.stdout.flush()


if __name__ == "__main__":
    main()
