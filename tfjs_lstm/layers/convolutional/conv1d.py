"""Conv1D: `activation(correlate(x, kernel) + bias)` along the steps axis.

Defaults read in Keras 3.15 `keras/src/layers/convolutional/{base_conv,conv1d}.py` (padding
'valid', data_format resolved to 'channels_last', groups 1, kernel 'glorot_uniform'), tf-keras
2.21 `layers/convolutional/base_conv.py` (the same keys), Keras 2.2.4 `layers/convolutional.py`
(no groups) and TensorFlow.js 4.22 `tfjs-layers/src/layers/convolutional.ts` (kernel
'glorotNormal'; no groups; Conv1D's getConfig drops dataFormat, and its conv1dWithBias throws
on 'causal' padding and never transposes a channelsFirst output back). Every runtime refuses
strides > 1 together with dilation_rate > 1. An incoming mask stops here (Keras 3's Conv does
not support masking; tfjs's executor asks only masking layers for one).
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ..base import REQUIRED, Field, LayerConfig, LayerType, Weight, common_fields
from ..core.dense import DENSE, kernel_bias_fields
from ..windows import channels_last_only, output_length, windows

KERAS = ("keras3", "keras2", "keras2.2")


def _groups_rule(config: LayerConfig, name: str) -> str | None:
    return None if config.groups != 1 else "one group is an ordinary convolution"


FIELDS = (
    Field("filters", k.UNITS, REQUIRED, doc="positive integer, number of output channels"),
    Field("kernel_size", k.SIZES, REQUIRED, doc="window length, an integer or a list of one"),
    Field("strides", k.SIZES, (1,)),
    Field("padding", k.CONV_PADDING, "valid"),
    Field("data_format", k.DATA_FORMAT, "channels_last", families=KERAS,
          ignored_by=("tfjs",), omit_reason=channels_last_only),
    Field("dilation_rate", k.SIZES, (1,)),
    Field("groups", k.GROUPS, 1, families=("keras3", "keras2"), ignored_by=("tfjs",),
          omit_reason=_groups_rule),
    *kernel_bias_fields(),
    Field("activity_regularizer", k.REGULARIZER, None, ignored_by=("tfjs",),
          omit_reason=lambda c, n: "a training-only loss term, which TensorFlow.js 4.22 "
                                   "cannot compute while calling the layer"),
    Field("kernel_constraint", k.CONSTRAINT, None),
    Field("bias_constraint", k.CONSTRAINT, None),
    *common_fields("conv1d"),
)


def _channels(config: LayerConfig, input_shape: tuple) -> int:
    return input_shape[1] if config.data_format == "channels_first" else input_shape[-1]


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    weights = [Weight("kernel", (config.kernel_size[0],
                                 _channels(config, input_shape) // config.groups,
                                 config.filters))]
    if config.use_bias:
        weights.append(Weight("bias", (config.filters,)))
    return weights


def _output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    steps = input_shape[2] if config.data_format == "channels_first" else input_shape[1]
    length = output_length(steps, config.kernel_size[0], config.padding, config.strides[0],
                           config.dilation_rate[0])
    if config.data_format == "channels_first":
        return (input_shape[0], config.filters, length)
    return (input_shape[0], length, config.filters)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    from ...activations import ACTIVATIONS

    x = np.asarray(inputs[0], dtype=dtype)
    if config.data_format == "channels_first":
        x = np.transpose(x, (0, 2, 1))
    size, groups = config.kernel_size[0], config.groups
    patches, _ = windows(x, size, config.padding, config.strides[0], config.dilation_rate[0])
    batch, count = patches.shape[:2]
    patches = patches.reshape(batch, count, size, groups, -1)
    kernel = np.asarray(weights["kernel"], dtype=dtype)
    kernel = kernel.reshape(size, kernel.shape[1], groups, -1)
    y = np.einsum("btkgc,kcgf->btgf", patches, kernel).reshape(batch, count, config.filters)
    if config.use_bias:
        y = y + np.asarray(weights["bias"], dtype=dtype)
    y = ACTIVATIONS[config.activation].function(y.astype(dtype))
    if config.data_format == "channels_first":
        y = np.transpose(y, (0, 2, 1))
    return [y], [None]


def _after_read(values: dict, family: str, given: set[str]) -> None:
    """Every runtime refuses a strided dilated convolution and filters split unevenly."""
    if values["strides"][0] > 1 and values["dilation_rate"][0] > 1:
        raise InputError(f"layer '{values['name']}': strides > 1 together with "
                         "dilation_rate > 1 is refused by every runtime")
    if values["filters"] % values["groups"]:
        raise InputError(f"layer '{values['name']}': filters ({values['filters']}) must be "
                         f"divisible by groups ({values['groups']})")


def _before_write(values: dict, family: str) -> dict[str, str]:
    if family == "tfjs" and values["padding"] == "causal":
        return {"padding": "TensorFlow.js 4.22's Conv1D throws NotImplementedError on causal "
                           "padding when called"}
    return {}


CONV1D = LayerType(
    class_name="Conv1D",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    gate_rescale=DENSE.gate_rescale,
    mask_out=lambda config, input_masked: False,
    after_read=_after_read,
    before_write=_before_write,
    doc="1D convolution over the steps axis; masks stop here.",
)
