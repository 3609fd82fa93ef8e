"""Flatten: [batch, d1, d2, ...] -> [batch, d1 * d2 * ...]; channels_first moves axis 1 last.

Read in Keras 3.15 `keras/src/layers/reshaping/flatten.py` (writes data_format resolved to
'channels_last'), tf-keras 2.21, Keras 2.2.4 (older 2.x lack data_format and flatten as
channels_last) and TensorFlow.js 4.22 `core.ts` (dataFormat written only when given; its
inputSpec wants rank >= 3 and every dimension known). An incoming mask stops here: Keras 3 drops
it with a warning, tfjs's executor asks only masking layers for one.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ..base import Field, LayerConfig, LayerType, common_fields, no_weights

FIELDS = (
    Field("data_format", k.DATA_FORMAT, "channels_last",
          doc="channels_first moves axis 1 to the end before flattening"),
    *common_fields("flatten"),
)


def _output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    """[batch, product of the other dimensions], None when one is unknown (as Keras 3)."""
    rest = input_shape[1:]
    return (input_shape[0], None if None in rest else int(np.prod(rest, dtype=np.int64)))


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = np.asarray(inputs[0])
    if config.data_format == "channels_first" and x.ndim > 2:
        x = np.transpose(x, (0, *range(2, x.ndim), 1))
    return [x.reshape(x.shape[0], -1)], [None]


FLATTEN = LayerType(
    class_name="Flatten",
    fields=FIELDS,
    weights=no_weights,
    output_shape=_output_shape,
    forward=_forward,
    mask_out=lambda config, input_masked: False,
    doc="Flattens every axis but the batch axis; masks stop here.",
)
