"""Dropout and SpatialDropout1D: random zeroing while training, the identity at inference.

Read in Keras 3.15 `keras/src/layers/regularization/` (SpatialDropout1D takes only rate, seed,
name and dtype, and writes dtype as a plain string), tf-keras 2.21, Keras 2.2.4 and TensorFlow.js
4.22 `tfjs-layers/src/layers/core.ts` (SpatialDropout1D stores noiseShape and ignores it).
Masks pass through unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from ... import kinds as k
from ..base import Field, LayerConfig, LayerType, common_fields, no_weights, same_shape

_SPATIAL_OMITTED = {
    "noise_shape": "SpatialDropout1D always drops whole channels and ignores noise_shape; "
                   "dropout is the identity at inference",
    "trainable": "SpatialDropout1D has no weights, so trainable changes nothing",
}

DROPOUT_FIELDS = (
    Field("rate", k.FRACTION, doc="fraction of the inputs dropped while training"),
    Field("noise_shape", k.SHAPE, None, doc="shape of the keep/drop pattern, null for the "
                                            "input's own"),
    Field("seed", k.SEED, None),
    *common_fields("dropout"),
)


def _spatial_fields() -> tuple[Field, ...]:
    """Dropout's fields as SpatialDropout1D has them: Keras 3 lacks noise_shape and trainable
    and writes dtype as a string."""
    fields = []
    for spec in (*DROPOUT_FIELDS[:3], *common_fields("spatial_dropout1d")):
        if spec.name in _SPATIAL_OMITTED:
            spec = replace(spec, families=("keras2", "keras2.2", "tfjs"),
                           omit_reason=lambda c, n: _SPATIAL_OMITTED[n])
        elif spec.name == "dtype":
            spec = replace(spec, kind=k.DTYPE_STRING)
        fields.append(spec)
    return tuple(fields)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    return [inputs[0]], [masks[0]]


DROPOUT = LayerType(
    class_name="Dropout",
    fields=DROPOUT_FIELDS,
    weights=no_weights,
    output_shape=same_shape,
    forward=_forward,
    doc="Dropout: the identity at inference; masks pass through.",
)

SPATIAL_DROPOUT_1D = LayerType(
    class_name="SpatialDropout1D",
    fields=_spatial_fields(),
    weights=no_weights,
    output_shape=same_shape,
    forward=_forward,
    sequence_input=True,
    doc="Dropout of whole channels of [batch, steps, channels]: the identity at inference.",
)
