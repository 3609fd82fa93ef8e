"""SeparableConv1D: a depthwise convolution, then a pointwise (1-wide) one to `filters`.

Read in Keras 3.15 `keras/src/layers/convolutional/{base_separable_conv,separable_conv1d}.py`
(weights depthwise_kernel [k, channels, multiplier], pointwise_kernel [1, channels * multiplier,
filters], bias [filters]; padding 'valid' or 'same') and tf-keras 2.21
`layers/convolutional/separable_conv1d.py` (also 'causal': it pads dilation * (size - 1) steps
in front), whose config also carries the base Conv's `groups` (always 1) and `kernel_*` keys,
which it never uses. Keras 2.2.4 `layers/convolutional.py` has the same weights and
defaults and drops the kernel keys; its `backend.separable_conv1d` throws on 'causal'.
TensorFlow.js 4.22 ("1D separable convolution is not implemented yet") is refused. Masks stop
here.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ...objects import INITIALIZERS, KERNEL_INITIALIZER_DEFAULTS
from ..base import REQUIRED, Field, LayerConfig, LayerType, Weight
from ..core.dense import affine_rescale
from .base_conv import conv_output_shape
from .depthwise_conv1d import (
    channels,
    channels_last,
    depthwise,
    depthwise_fields,
    finish,
    refuse_strided_dilation,
)

FAMILIES = ("keras3", "keras2", "keras2.2")
_NO_CAUSAL = {"keras3": "Keras 3's SeparableConv1D has no causal padding (tf-keras's has)",
              "keras2.2": "Keras 2.2.4's separable_conv1d throws on causal padding"}


def _unused(config: LayerConfig, name: str) -> str:
    return "tf-keras's SeparableConv1D writes its base Conv's kernel keys and never uses them"


FIELDS = (
    Field("filters", k.UNITS, REQUIRED, doc="positive integer, number of output channels"),
    *depthwise_fields("separable_conv1d", k.CONV_PADDING),
    Field("pointwise_initializer", k.INITIALIZER, INITIALIZERS.make("GlorotUniform")),
    Field("pointwise_regularizer", k.REGULARIZER, None),
    Field("pointwise_constraint", k.CONSTRAINT, None),
    Field("kernel_initializer", k.INITIALIZER, KERNEL_INITIALIZER_DEFAULTS, families=("keras2",),
          omit_reason=_unused),
    Field("kernel_regularizer", k.REGULARIZER, None, families=("keras2",), omit_reason=_unused),
    Field("kernel_constraint", k.CONSTRAINT, None, families=("keras2",), omit_reason=_unused),
)


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    width = channels(config, input_shape) * config.depth_multiplier
    weights = [Weight("depthwise_kernel", (*config.kernel_size, channels(config, input_shape),
                                           config.depth_multiplier)),
               Weight("pointwise_kernel", (1, width, config.filters))]
    if config.use_bias:
        weights.append(Weight("bias", (config.filters,)))
    return weights


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = channels_last(config, inputs, dtype)
    y = depthwise(config, x, np.asarray(weights["depthwise_kernel"], dtype))
    y = np.einsum("boc,cf->bof", y, np.asarray(weights["pointwise_kernel"], dtype)[0],
                  optimize=True)
    return [finish(config, y, weights.get("bias"), dtype)], [None]


def _after_read(values: dict, family: str, given: set[str]) -> None:
    """Keras 2.2.4 builds a causal SeparableConv1D and fails calling it."""
    refuse_strided_dilation(values, family, given)
    if family == "keras2.2" and values["padding"] == "causal":
        raise InputError(f"layer '{values['name']}': {_NO_CAUSAL[family]}")


def _before_write(values: dict, family: str) -> dict[str, str]:
    if family in _NO_CAUSAL and values["padding"] == "causal":
        return {"padding": _NO_CAUSAL[family]}
    return {}


SEPARABLE_CONV1D = LayerType(
    class_name="SeparableConv1D",
    fields=FIELDS,
    weights=_weights,
    output_shape=conv_output_shape,
    forward=_forward,
    gate_rescale=affine_rescale(("pointwise_kernel", "bias")),
    after_read=_after_read,
    before_write=_before_write,
    mask_out=lambda config, input_masked: False,
    families=FAMILIES,
    doc="Depthwise then pointwise 1D convolution over the steps axis; masks stop here.",
)
