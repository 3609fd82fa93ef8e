"""UnitNormalization: each sample scaled to unit L2 norm over `axis` (default -1).

Read in Keras 3.15 `keras/src/layers/normalization/unit_normalization.py` and tf-keras 2.21
`layers/normalization/unit_normalization.py`; Keras 2.2.4 and TensorFlow.js 4.22 have no such
layer. Computed as Keras 3 does, `x * min(rsqrt(sum(x^2)), 1e12)`; tf-keras caps the inverse norm
at 1e6 instead, which differs only for vectors shorter than 1e-6. No weights; masks pass through.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ..base import Field, LayerConfig, LayerType, common_fields, no_weights, same_shape


def l2_normalized(x: np.ndarray, axes: int | tuple[int, ...], epsilon: float) -> np.ndarray:
    """Keras 3's `ops.normalize(x, axes, order=2, epsilon)`: `x * min(rsqrt(sum(x^2)),
    1 / epsilon)`."""
    with np.errstate(divide="ignore"):
        inv = 1.0 / np.sqrt(np.square(x).sum(axis=axes, keepdims=True))
    return (x * np.minimum(inv, x.dtype.type(1.0 / epsilon))).astype(x.dtype)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = np.asarray(inputs[0], dtype)
    axes = config.axis if isinstance(config.axis, tuple) else (config.axis,)
    if any(not -x.ndim <= axis < x.ndim for axis in axes):
        raise InputError(f"layer '{config.name}': axis {config.axis} does not fit an input of "
                         f"rank {x.ndim}")
    return [l2_normalized(x, axes, 1e-12)], [masks[0]]


UNIT_NORMALIZATION = LayerType(
    class_name="UnitNormalization",
    fields=(Field("axis", k.AXES, -1, doc="the axis or axes normalized over"),
            *common_fields("unit_normalization")),
    weights=no_weights,
    output_shape=same_shape,
    forward=_forward,
    families=("keras3", "keras2"),
    doc="Scales each sample to unit L2 norm over `axis`.",
)
