"""InputLayer: declares a model input's batch shape and dtype; no weights, no computation.

Keras 3 writes `batch_shape` and a plain dtype string; tf-keras and TensorFlow.js write
`batch_input_shape` (tfjs-layers/src/engine/input_layer.ts).
"""

from __future__ import annotations

from ... import kinds as k
from ..base import Field, LayerConfig, LayerType, no_weights

FIELDS = (
    Field("batch_input_shape", k.SHAPE, keys={"keras3": "batch_shape"},
          doc="[batch, ...dims], null for unknown sizes"),
    Field("dtype", k.DTYPE_STRING, "float32"),
    Field("sparse", k.BOOLEAN, False),
    Field("ragged", k.BOOLEAN, False, families=("keras3", "keras2"), ignored_by=("tfjs",),
          omit_reason=lambda c, n: "dense inputs" if not c.ragged else None),
    Field("optional", k.BOOLEAN, False, families=("keras3", "keras2"), ignored_by=("tfjs",),
          omit_reason=lambda c, n: "the input is required" if not c.optional else None),
    Field("name", k.TEXT, "input_1"),
)


def _output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    return tuple(config.batch_input_shape)


INPUT_LAYER = LayerType(
    class_name="InputLayer",
    fields=FIELDS,
    weights=no_weights,
    output_shape=_output_shape,
    input_dim_families=(),
    doc="A model input: its batch shape and dtype.",
)
