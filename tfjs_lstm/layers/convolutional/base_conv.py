"""What Conv1D and Conv2D share: fields, kernel layout, output shape and the forward pass.

The kernel is [*kernel_size, channels / groups, filters] in Keras 3, tf-keras and tfjs alike;
with groups, input channels and filters are split into contiguous equal groups (Keras 3
`base_conv.py`). Every runtime refuses strides > 1 together with dilation_rate > 1 on any
axis, and filters that groups cannot split. An incoming mask stops here (Keras 3's Conv does
not support masking; tfjs's executor asks only masking layers for one).
"""

from __future__ import annotations

import math

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ..base import REQUIRED, Field, LayerConfig, LayerType, Weight, common_fields
from ..core.dense import DENSE, kernel_bias_fields
from ..windows import output_length, windows_nd


def _groups_rule(config: LayerConfig, name: str) -> str | None:
    return None if config.groups != 1 else "one group is an ordinary convolution"


def conv_fields(default_name: str, sizes: k.Sizes, padding: k.Kind,
                data_format: Field) -> tuple[Field, ...]:
    """A convolution's fields in every family, given its rank's sizes, paddings and layout."""
    rank = sizes.rank
    return (
        Field("filters", k.UNITS, REQUIRED, doc="positive integer, number of output channels"),
        Field("kernel_size", sizes, REQUIRED,
              doc="window length, an integer or a list of one" if rank == 1 else
              "window rows and columns, an integer or a list of two"),
        Field("strides", sizes, (1,) * rank),
        Field("padding", padding, "valid"),
        data_format,
        Field("dilation_rate", sizes, (1,) * rank),
        Field("groups", k.GROUPS, 1, families=("keras3", "keras2"), ignored_by=("tfjs",),
              omit_reason=_groups_rule),
        *kernel_bias_fields(),
        Field("activity_regularizer", k.REGULARIZER, None, ignored_by=("tfjs",),
              omit_reason=lambda c, n: "a training-only loss term, which TensorFlow.js 4.22 "
                                       "cannot compute while calling the layer"),
        Field("kernel_constraint", k.CONSTRAINT, None),
        Field("bias_constraint", k.CONSTRAINT, None),
        *common_fields(default_name),
    )


def _channels(config: LayerConfig, input_shape: tuple) -> int:
    return input_shape[1] if config.data_format == "channels_first" else input_shape[-1]


def conv_weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    """kernel [*kernel_size, channels / groups, filters], then bias [filters]."""
    weights = [Weight("kernel", (*config.kernel_size,
                                 _channels(config, input_shape) // config.groups,
                                 config.filters))]
    if config.use_bias:
        weights.append(Weight("bias", (config.filters,)))
    return weights


def conv_output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    first = config.data_format == "channels_first"
    space = input_shape[2:] if first else input_shape[1:-1]
    out = tuple(output_length(n, size, config.padding, stride, dilation) for
                n, size, stride, dilation in zip(space, config.kernel_size, config.strides,
                                                 config.dilation_rate, strict=True))
    if first:
        return (input_shape[0], config.filters, *out)
    return (input_shape[0], *out, config.filters)


def conv_forward(config: LayerConfig, weights: dict, inputs: list, masks: list,
                 dtype) -> tuple:
    """activation(correlate(x, kernel) + bias), group by group, over every spatial axis."""
    from ...activations import ACTIVATIONS

    x = np.asarray(inputs[0], dtype=dtype)
    rank = len(config.kernel_size)
    if config.data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    patches, _ = windows_nd(x, config.kernel_size, config.padding, config.strides,
                            config.dilation_rate)
    batch, out = patches.shape[0], patches.shape[1:1 + rank]
    groups, taps = config.groups, math.prod(config.kernel_size)
    per_group = x.shape[-1] // groups  # sizes spelled out: an empty output has no -1 to infer
    patches = patches.reshape(batch * math.prod(out), taps, groups, per_group)
    kernel = np.asarray(weights["kernel"], dtype=dtype)
    kernel = kernel.reshape(taps, kernel.shape[-2], groups, -1)
    # One product per group over all (tap, channel) pairs: [groups, n, taps*c] @ [groups,
    # taps*c, f], so BLAS does the whole correlation.
    rows = patches.transpose(2, 0, 1, 3).reshape(groups, patches.shape[0], taps * per_group)
    y = rows @ kernel.transpose(2, 0, 1, 3).reshape(groups, rows.shape[-1], -1)
    y = y.transpose(1, 0, 2).reshape(batch, *out, config.filters)
    if config.use_bias:
        y += np.asarray(weights["bias"], dtype=dtype)
    y = ACTIVATIONS[config.activation].function(y.astype(dtype, copy=False))
    if config.data_format == "channels_first":
        y = np.moveaxis(y, -1, 1)
    return [y], [None]


def conv_after_read(values: dict, family: str, given: set[str]) -> None:
    """Every runtime refuses a strided dilated convolution and filters split unevenly."""
    if max(values["strides"]) > 1 and max(values["dilation_rate"]) > 1:
        raise InputError(f"layer '{values['name']}': strides > 1 together with "
                         "dilation_rate > 1 is refused by every runtime")
    if values["filters"] % values["groups"]:
        raise InputError(f"layer '{values['name']}': filters ({values['filters']}) must be "
                         f"divisible by groups ({values['groups']})")


def conv_layer(class_name: str, fields: tuple[Field, ...], doc: str,
               before_write=None) -> LayerType:
    """A convolution's LayerType; a hard_sigmoid activation is rescaled as Dense's is."""
    return LayerType(class_name, fields, conv_weights, conv_output_shape, conv_forward,
                     gate_rescale=DENSE.gate_rescale, after_read=conv_after_read,
                     before_write=before_write, mask_out=lambda config, input_masked: False,
                     doc=doc)
