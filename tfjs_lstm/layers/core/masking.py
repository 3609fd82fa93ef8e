"""Masking: marks the timesteps whose features all equal mask_value, and zeroes them.

Read in Keras 3.15 `keras/src/layers/core/masking.py` (`where(keep, x, 0)`), tf-keras 2.21,
Keras 2.2.4 and TensorFlow.js 4.22 `tfjs-layers/src/layers/core.ts` (`x * cast(keep)`): the mask
is `any(x != mask_value, axis=-1)` everywhere, replacing any incoming mask.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ..base import Field, LayerConfig, LayerType, common_fields, no_weights, same_shape

FIELDS = (
    Field("mask_value", k.NUMBER, 0.0, doc="steps whose features all equal this are masked"),
    *common_fields("masking"),
)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = np.asarray(inputs[0], dtype=dtype)
    keep = np.any(x != config.mask_value, axis=-1)
    return [np.where(keep[..., None], x, np.zeros((), dtype))], [keep]


MASKING = LayerType(
    class_name="Masking",
    fields=FIELDS,
    weights=no_weights,
    output_shape=same_shape,
    forward=_forward,
    mask_out=lambda config, masked: True,
    doc="Masks timesteps equal to mask_value for the recurrent layers that follow.",
)
