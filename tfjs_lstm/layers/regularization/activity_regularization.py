"""ActivityRegularization: adds `l1 * sum|x| + l2 * sum(x^2)` to the training loss; the
identity at inference.

Read in Keras 3.15 `keras/src/layers/regularization/activity_regularization.py`, tf-keras 2.21
and Keras 2.2.4 (l1 and l2 default 0); TensorFlow.js 4.22 has no such layer. Masks pass through.
"""

from __future__ import annotations

from ... import kinds as k
from ..base import Field, LayerConfig, LayerType, common_fields, no_weights, same_shape


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    return [inputs[0]], [masks[0]]


ACTIVITY_REGULARIZATION = LayerType(
    class_name="ActivityRegularization",
    fields=(Field("l1", k.NON_NEGATIVE, 0.0, doc="weight of the L1 activity loss (training only)"),
            Field("l2", k.NON_NEGATIVE, 0.0, doc="weight of the L2 activity loss (training only)"),
            *common_fields("activity_regularization")),
    weights=no_weights,
    output_shape=same_shape,
    forward=_forward,
    families=("keras3", "keras2", "keras2.2"),
    doc="The identity at inference; an activity loss while training.",
)
