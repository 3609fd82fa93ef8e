"""Permute: reorders the axes after the batch axis, `dims` naming them from 1.

Read in Keras 3.15 `keras/src/layers/reshaping/permute.py`, tf-keras 2.21, Keras 2.2.4
`layers/core.py` and TensorFlow.js 4.22 `core.ts`: dims is required everywhere and must be a
permutation of 1..n. An incoming mask stops here, as in Keras 3 and tfjs's executor.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ..base import REQUIRED, Field, LayerConfig, LayerType, common_fields, no_weights


def _checked(config: LayerConfig, rank: int) -> tuple:
    if sorted(config.dims) != list(range(1, rank)):
        raise InputError(f"layer '{config.name}': dims {list(config.dims)} is not a "
                         f"permutation of the {rank - 1} axes after the batch axis")
    return config.dims


def _output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    dims = _checked(config, len(input_shape))
    return (input_shape[0], *(input_shape[d] for d in dims))


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = np.asarray(inputs[0])
    return [np.transpose(x, (0, *_checked(config, x.ndim)))], [None]


PERMUTE = LayerType(
    class_name="Permute",
    fields=(Field("dims", k.PERMUTATION, REQUIRED, doc="the input axes, from 1, in output "
                                                        "order"),
            *common_fields("permute")),
    weights=no_weights,
    output_shape=_output_shape,
    forward=_forward,
    mask_out=lambda config, input_masked: False,
    doc="Reorders the axes after the batch axis; masks stop here.",
)
