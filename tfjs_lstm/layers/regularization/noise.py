"""GaussianNoise, GaussianDropout and AlphaDropout: random only while training, the identity
at inference (as Dropout is).

Read in Keras 3.15 `keras/src/layers/regularization/` (stddev and rate required, seed written,
AlphaDropout's noise_shape written), tf-keras 2.21 (seed written; AlphaDropout's noise_shape
taken, not written), Keras 2.2.4 `layers/noise.py` (no seed; AlphaDropout writes rate only) and
TensorFlow.js 4.22 `noise.ts` (stddev or rate only). Masks pass through unchanged.
"""

from __future__ import annotations

from ... import kinds as k
from ..base import REQUIRED, Field, LayerConfig, LayerType, common_fields, no_weights, same_shape

_TRAINING_ONLY = "it only shapes the noise drawn while training"


def _seed(accepted_by: tuple[str, ...] = ()) -> Field:
    return Field("seed", k.SEED, None, families=("keras3", "keras2"), accepted_by=accepted_by,
                 omit_reason=lambda c, n: _TRAINING_ONLY)


def _identity_layer(class_name: str, amount: Field, default_name: str, doc: str,
                    extra: tuple[Field, ...] = ()) -> LayerType:
    """A layer whose only inference behaviour is passing its input (and mask) on."""
    return LayerType(
        class_name=class_name,
        fields=(amount, *extra, *common_fields(default_name)),
        weights=no_weights,
        output_shape=same_shape,
        forward=_identity,
        doc=doc,
    )


def _identity(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    return [inputs[0]], [masks[0]]


GAUSSIAN_NOISE = _identity_layer(
    "GaussianNoise", Field("stddev", k.FRACTION, REQUIRED, doc="noise added while training"),
    "gaussian_noise", "Adds normal noise while training; the identity at inference.",
    extra=(_seed(),))
GAUSSIAN_DROPOUT = _identity_layer(
    "GaussianDropout", Field("rate", k.FRACTION, REQUIRED), "gaussian_dropout",
    "Multiplies by normal noise while training; the identity at inference.",
    extra=(_seed(),))
ALPHA_DROPOUT = _identity_layer(
    "AlphaDropout", Field("rate", k.FRACTION, REQUIRED), "alpha_dropout",
    "Dropout keeping SELU's mean and variance while training; the identity at inference.",
    extra=(_seed(accepted_by=("keras2.2",)),
           Field("noise_shape", k.SHAPE, None, families=("keras3",),
                 accepted_by=("keras2", "keras2.2", "tfjs"),
                 omit_reason=lambda c, n: _TRAINING_ONLY),))
