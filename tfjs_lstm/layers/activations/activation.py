"""Activation: applies an activation function elementwise; masks pass through.

Keras (3.15, tf-keras 2.21, 2.2.4) require the activation; TensorFlow.js 4.22 (`core.ts`)
treats a missing or null one as linear. No weights precede it inside the layer, so a hard
sigmoid of another slope cannot be reached by rescaling and is refused.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ..base import (
    REQUIRED,
    Field,
    LayerConfig,
    LayerType,
    common_fields,
    no_weights,
    same_shape,
)

FIELDS = (
    Field("activation", k.ACTIVATION,
          {"keras3": REQUIRED, "keras2": REQUIRED, "keras2.2": REQUIRED, "tfjs": "linear"}),
    *common_fields("activation"),
)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    from ...activations import ACTIVATIONS

    x = np.asarray(inputs[0], dtype=dtype)
    return [ACTIVATIONS[config.activation].function(x)], [masks[0]]


ACTIVATION = LayerType(
    class_name="Activation",
    fields=FIELDS,
    weights=no_weights,
    output_shape=same_shape,
    forward=_forward,
    doc="An activation function applied elementwise.",
)
