"""Comparing model outputs across runtimes in tests: one array or a list, within 1e-5."""

from __future__ import annotations

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
