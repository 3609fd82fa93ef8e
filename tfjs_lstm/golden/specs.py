"""How a case is made: its inputs (`Feed`) and its recipe (`Spec`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .files import DEFAULT_TOLERANCE


@dataclass(frozen=True)
class Feed:
    """One model input of a case: its shape, dtype and which steps are padding a mask hides."""

    shape: tuple[int, ...]
    vocab: int = 0  # > 0: int32 tokens in [0, vocab), 0 being what Embedding(mask_zero) masks
    mask_value: float | None = None  # float rows Masking masks, written on the padded tails

    @property
    def dtype(self) -> str:
        return "int32" if self.vocab else "float32"

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """Seeded values; with a mask, sample b's last b * steps // batch steps are padding
        (token 0, or rows all mask_value), so each batch mixes padded and full samples."""
        if self.vocab:
            values = rng.integers(0, self.vocab, self.shape).astype(np.int32)
        else:
            values = rng.normal(0.0, 1.0, self.shape).astype(np.float32)
        pad = 0 if self.vocab else self.mask_value
        if pad is not None:
            batch, steps = self.shape[:2]
            for sample in range(batch):
                values[sample, steps - sample * steps // batch:] = pad
        return values

    def describe(self) -> str:
        """How the values are drawn, for case.json."""
        tail = "sample b's last b*steps//batch steps"
        if self.vocab:
            return (f"int32 tokens uniform in [0, {self.vocab}), {tail} 0 (0 is masked by "
                    "mask_zero)")
        if self.mask_value is None:
            return "normal(0, 1) float32"
        return f"normal(0, 1) float32, {tail} all {self.mask_value:g} (masked by Masking)"


@dataclass(frozen=True)
class Spec:
    """How to make one case: where the model is born, its inputs, how many predict calls
    (states carried between them), seed and what it covers; `companion`: its tfjs folder is
    converted with `--companion` (tfjs runs it with the companion package)."""

    name: str
    covers: str
    born: str  # "keras3", "keras2" or "tfjs"
    build: Callable[[Any], Any] | tuple[dict[str, Any], ...]
    inputs: tuple[Feed, ...]
    seed: int
    calls: int = 1
    tolerance: float = DEFAULT_TOLERANCE
    companion: bool = False
