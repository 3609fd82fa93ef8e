"""Comparing model outputs across runtimes in tests: one array or a list, within 1e-5."""

from __future__ import annotations

from pathlib import Path

import numpy as np

TOLERANCE = 1e-5


def as_list(outputs) -> list[np.ndarray]:
    """Keras's predict output (one array or a list) as a list of arrays."""
    return [np.asarray(o) for o in (outputs if isinstance(outputs, list) else [outputs])]


def assert_close(got: list, expected: list, what: str) -> None:
    """Same number of outputs, same shapes, values within TOLERANCE."""
    assert len(got) == len(expected), what
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.shape == theirs.shape, what
        assert np.abs(mine - theirs).max() < TOLERANCE, what


def assert_tfjs_folder_converts_to_keras3(tfjs, keras3, folder: Path, x: np.ndarray) -> None:
    """tfjs's own predictions for a folder are what the reference runtime computes from it and
    what Keras 3 computes from its conversion to `.keras`."""
    from tfjs_lstm.convert import convert, load
    from tfjs_lstm.runtime.engine import run

    [theirs] = tfjs.predict_folders([(folder, [x])])
    assert not isinstance(theirs, str), theirs
    assert_close(run(load(folder), [x]), theirs, "reference on the tfjs folder")
    target = folder.parent / f"{folder.name}.keras"
    convert(folder, target)
    model = keras3.models.load_model(target)
    assert_close(as_list(model.predict(x, verbose=0)), theirs, "Keras 3")
