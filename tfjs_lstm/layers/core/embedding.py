"""Embedding: integer ids -> rows of a [input_dim, output_dim] table; mask_zero masks id 0.

Read in Keras 3.15 `keras/src/layers/core/embedding.py` (pops `input_length` with a warning;
writes `quantization_config`, and `lora_rank`/`lora_alpha` only when LoRA is on, which is not
supported here), tf-keras 2.21 and Keras 2.2.4 (every Embedding gets the input shape
[None, input_length]) and TensorFlow.js 4.22 `tfjs-layers/src/layers/embeddings.ts` (the same
shape rule; ids are cast to int32; an activity regularizer makes the layer uncallable).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ...objects import INITIALIZERS
from ..base import Field, LayerConfig, LayerType, Weight, common_fields

FIELDS = (
    Field("input_dim", k.UNITS, doc="vocabulary size: ids run from 0 to input_dim - 1"),
    Field("output_dim", k.UNITS, doc="size of each embedding vector"),
    Field("embeddings_initializer", k.INITIALIZER,
          INITIALIZERS.make("RandomUniform", minval=-0.05, maxval=0.05)),
    Field("embeddings_regularizer", k.REGULARIZER, None),
    Field("activity_regularizer", k.REGULARIZER, None, ignored_by=("tfjs",),
          omit_reason=lambda c, n: "a training-only loss term; TensorFlow.js 4.22 cannot call "
                                   "a layer that has one"),
    Field("embeddings_constraint", k.CONSTRAINT, None),
    Field("mask_zero", k.BOOLEAN, False),
    Field("input_length", k.LENGTH, None, families=("keras2", "keras2.2", "tfjs"),
          accepted_by=("keras3",),
          omit_reason=lambda c, n: "it only declares the length of the input, which the "
                                   "model's input shape carries; Keras 3 drops it",
          doc="length of the id sequences, or null for any length"),
    Field("quantization_config", k.NULL_ONLY, None, families=("keras3",), ignored_by=("tfjs",),
          omit_reason=lambda c, n: "no quantization is configured"),
    # tfjs writes dtype whenever a shape is given, and an Embedding always has one here.
    *(replace(spec, written_when=None) if spec.name == "dtype" else spec
      for spec in common_fields("embedding")),
)


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    return [Weight("embeddings", (config.input_dim, config.output_dim))]


def _output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    """(*input_shape, output_dim); Keras 2 and tfjs refuse an input_length the shape
    contradicts when the layer is built, and so does this."""
    length = config.input_length
    if length is not None and len(input_shape) == 2 and input_shape[1] not in (None, length):
        raise InputError(f"layer '{config.name}': input_length {length} contradicts the input "
                         f"shape {list(input_shape)}")
    return (*input_shape, config.output_dim)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    """Ids are cast to integers as Keras and tfjs cast them to int32 (truncating floats); the
    mask compares the ids as given with 0, as both runtimes do."""
    given = np.asarray(inputs[0])
    ids = given.astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= config.input_dim):
        raise InputError(f"layer '{config.name}': ids must lie in [0, {config.input_dim}), "
                         f"found {ids.min()}..{ids.max()}")
    output = np.asarray(weights["embeddings"], dtype=dtype)[ids]
    return [output], [given != 0 if config.mask_zero else None]


def _adjust(values: dict, family: str) -> dict[str, str]:
    """Keras 2 and tfjs give every Embedding the input shape [None, input_length]."""
    if family == "keras3" or values["batch_input_shape"] is not None:
        return {}
    values["batch_input_shape"] = (None, values["input_length"])
    return {"batch_input_shape": "Keras 2 and TensorFlow.js give every Embedding an input "
                                 "shape, [batch, input_length]"}


EMBEDDING = LayerType(
    class_name="Embedding",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    adjust=_adjust,
    mask_out=lambda config, masked: config.mask_zero,
    input_dim_families=(),
    doc="Lookup table from integer ids to vectors; mask_zero masks id 0 downstream.",
)
