"""Dense: `activation(x @ kernel + bias)` on the last axis.

Defaults read in Keras 3.15 `keras/src/layers/core/dense.py`, tf-keras 2.21 and TensorFlow.js
4.22 `tfjs-layers/src/layers/core.ts` (`Dense`: kernel 'glorotNormal', activation null = linear).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ... import kinds as k
from ...objects import INITIALIZERS, KERNEL_INITIALIZER_DEFAULTS
from ...transforms import ScaleGateColumns
from ..base import Field, LayerConfig, LayerType, Weight, common_fields


def kernel_bias_fields() -> tuple[Field, ...]:
    """activation, use_bias and the kernel's and bias's initializers and regularizers, as
    Dense and Conv1D have them in every runtime."""
    return (
        Field("activation", k.ACTIVATION, "linear", null_is_default=False),
        Field("use_bias", k.BOOLEAN, True),
        Field("kernel_initializer", k.INITIALIZER, KERNEL_INITIALIZER_DEFAULTS),
        Field("bias_initializer", k.INITIALIZER, INITIALIZERS.make("Zeros")),
        Field("kernel_regularizer", k.REGULARIZER, None),
        Field("bias_regularizer", k.REGULARIZER, None),
    )


FIELDS = (
    Field("units", k.UNITS, doc="positive integer, size of the last output axis"),
    *kernel_bias_fields(),
    Field("activity_regularizer", k.REGULARIZER, None, families=("keras2", "keras2.2", "tfjs"),
          accepted_by=("keras3",), ignored_by=("tfjs",),
          omit_reason=lambda c, n: "a training-only loss term; Keras 3's Dense does not write "
                                   "it, and TensorFlow.js 4.22 cannot call a Dense that has one"),
    Field("kernel_constraint", k.CONSTRAINT, None),
    Field("bias_constraint", k.CONSTRAINT, None),
    Field("quantization_config", k.NULL_ONLY, None, families=("keras3",), ignored_by=("tfjs",),
          omit_reason=lambda c, n: "no quantization is configured"),
    *common_fields("dense"),
)


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    weights = [Weight("kernel", (input_shape[-1], config.units))]
    if config.use_bias:
        weights.append(Weight("bias", (config.units,)))
    return weights


def _output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    return (*input_shape[:-1], config.units)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    from ...activations import ACTIVATIONS

    x = np.asarray(inputs[0], dtype=dtype)
    y = x @ np.asarray(weights["kernel"], dtype=dtype)
    if config.use_bias:
        y += np.asarray(weights["bias"], dtype=dtype)
    return [ACTIVATIONS[config.activation].function(y)], [masks[0]]


def affine_rescale(weights: tuple[str, ...]) -> Callable[[LayerConfig, str, float],
                                                         ScaleGateColumns]:
    """A gate_rescale for a hard_sigmoid right after a linear map: scaling the `weights`
    (kernel and bias) that feed it changes its slope."""

    def rescale(config: LayerConfig, field_name: str, factor: float) -> ScaleGateColumns:
        return ScaleGateColumns(layer=config.name, weights=weights, gates=(0,), gate_count=1,
                                factor=factor,
                                reason="hard_sigmoid has another slope in the target runtime")

    return rescale


DENSE = LayerType(
    class_name="Dense",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    gate_rescale=affine_rescale(("kernel", "bias")),
    input_dim_families=("keras3", "keras2", "keras2.2", "tfjs"),
    doc="Fully connected layer on the last axis.",
)
