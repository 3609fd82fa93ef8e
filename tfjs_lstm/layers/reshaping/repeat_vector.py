"""RepeatVector: [batch, features] -> [batch, n, features], the input repeated n times.

Read in Keras 3.15 `keras/src/layers/reshaping/repeat_vector.py`, tf-keras 2.21, Keras 2.2.4
and TensorFlow.js 4.22 `core.ts`: n is required everywhere and the input must have rank 2.
An incoming mask stops here, as in Keras 3 (with a warning) and tfjs's executor.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ..base import REQUIRED, Field, LayerConfig, LayerType, common_fields, no_weights

FIELDS = (
    Field("n", k.UNITS, REQUIRED, doc="how many times the input is repeated"),
    *common_fields("repeat_vector"),
)


def _output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    if len(input_shape) != 2:
        raise InputError(f"layer '{config.name}': RepeatVector takes [batch, features], got "
                         f"an input of rank {len(input_shape)}")
    return (input_shape[0], config.n, input_shape[1])


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = np.asarray(inputs[0])
    _output_shape(config, x.shape)
    return [np.repeat(x[:, None, :], config.n, axis=1)], [None]


REPEAT_VECTOR = LayerType(
    class_name="RepeatVector",
    fields=FIELDS,
    weights=no_weights,
    output_shape=_output_shape,
    forward=_forward,
    mask_out=lambda config, input_masked: False,
    doc="Repeats a [batch, features] input n times along a new time axis.",
)
