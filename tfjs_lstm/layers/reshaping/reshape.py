"""Reshape: every axis but the batch axis to target_shape, with at most one unknown size.

Read in Keras 3.15 `keras/src/layers/reshaping/reshape.py` and `ops/operation_utils.py`
(writes target_shape as given, -1 for the unknown size), tf-keras 2.21, Keras 2.2.4 and
TensorFlow.js 4.22 `core.ts` (its constructor turns negative sizes into null, which getConfig
writes; the tfjs writer resolves them where the input shape allows). Row-major order everywhere.
An incoming mask stops here, as in Keras 3 (with a warning) and tfjs's executor.
"""

from __future__ import annotations

import math

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ..base import REQUIRED, Field, LayerConfig, LayerType, common_fields, no_weights

FIELDS = (
    Field("target_shape", k.TARGET_SHAPE, REQUIRED,
          doc="the output shape without the batch axis; one size may be unknown"),
    *common_fields("reshape"),
)


def _resolved(config: LayerConfig, sizes: tuple) -> tuple:
    """target_shape with its unknown size computed from `sizes`; InputError when the total
    size cannot be kept, as every runtime refuses it."""
    total = math.prod(sizes)
    known = math.prod(d for d in config.target_shape if d != -1)
    fits = total % known == 0 if -1 in config.target_shape else total == known
    if not fits:
        raise InputError(f"layer '{config.name}': cannot reshape {list(sizes)} to "
                         f"{list(config.target_shape)}: the total size must be unchanged")
    return tuple(total // known if d == -1 else d for d in config.target_shape)


def _output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    """The target shape; its unknown size stays None while an input size is unknown."""
    if None in input_shape[1:]:
        return (input_shape[0], *(None if d == -1 else d for d in config.target_shape))
    return (input_shape[0], *_resolved(config, tuple(input_shape[1:])))


def _for_input_shapes(config: LayerConfig, family: str, input_shapes: list[tuple]
                      ) -> LayerConfig:
    """The config to write for tfjs, given the input shape of each call: its -1 resolved when
    every call knows all its sizes and they agree. tfjs counts the null batch size as unknown,
    so it never resolves a -1 while building and the next layer would get no size there; with
    an unknown input size Keras leaves that size unknown too, and the -1 is kept."""
    if family != "tfjs" or -1 not in config.target_shape or \
            any(None in shape[1:] for shape in input_shapes):
        return config
    resolved = {_resolved(config, tuple(shape[1:])) for shape in input_shapes}
    return config.replace(target_shape=resolved.pop()) if len(resolved) == 1 else config


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = np.asarray(inputs[0])
    return [x.reshape((x.shape[0], *_resolved(config, x.shape[1:])))], [None]


RESHAPE = LayerType(
    class_name="Reshape",
    fields=FIELDS,
    weights=no_weights,
    output_shape=_output_shape,
    forward=_forward,
    mask_out=lambda config, input_masked: False,
    for_input_shapes=_for_input_shapes,
    doc="Reshapes every axis but the batch axis; masks stop here.",
)
