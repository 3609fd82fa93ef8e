"""Weight transforms a writer asks for so the target runtime computes exactly the same thing."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ScaleGateColumns:
    """Multiply chosen gate blocks of the last axis of some weights by `factor`.

    Used for hard_sigmoid: 0.2 * (z * 5/6) == z / 6, so scaling the pre-activations of the
    gates that hard_sigmoid reads turns one runtime's hard_sigmoid into the other's.
    """

    layer: str
    weights: tuple[str, ...]
    gates: tuple[int, ...]
    gate_count: int
    factor: float
    reason: str

    def apply(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """A new dict with the named weights rescaled; weights absent (no bias) are skipped."""
        result = dict(arrays)
        for name in self.weights:
            if name not in arrays:
                continue
            original = arrays[name]
            width = original.shape[-1] // self.gate_count
            scaled = original.astype(original.dtype, copy=True)
            for gate in self.gates:
                block = scaled[..., gate * width:(gate + 1) * width]
                block *= np.asarray(self.factor, dtype=original.dtype)
            result[name] = scaled
        return result

    def prefixed(self, prefix: str, layer: str) -> ScaleGateColumns:
        """The same transform on a wrapper's copy of the weights (`forward/kernel`)."""
        return replace(self, layer=layer, weights=tuple(prefix + w for w in self.weights))

    def describe(self) -> str:
        return (f"layer '{self.layer}': scale gate columns {list(self.gates)} of "
                f"{', '.join(self.weights)} by {self.factor:.10g} ({self.reason})")
