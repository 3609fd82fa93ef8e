"""Regenerate examples/keras3_lstm.keras, the model `make demo` converts (needs Keras 3).

A small Keras 3 sequence classifier whose gates use Keras 3's hard_sigmoid, the case the
official route silently computes differently in TensorFlow.js.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402


def main() -> None:
    keras.utils.set_random_seed(2026)
    model = keras.Sequential([
        keras.Input((12, 8), name="sensor_window"),
        keras.layers.LSTM(24, recurrent_activation="hard_sigmoid", return_sequences=True,
                          name="lstm_1"),
        keras.layers.LSTM(16, recurrent_activation="hard_sigmoid", name="lstm_2"),
        keras.layers.Dense(3, activation="softmax", name="classes"),
    ], name="sensor_classifier")
    rng = np.random.default_rng(2026)
    for layer in model.layers:
        layer.set_weights([rng.normal(0, 0.5, w.shape).astype("float32")
                           for w in layer.get_weights()])
    model.save(Path(__file__).with_name("keras3_lstm.keras"))


if __name__ == "__main__":
    main()
