"""DepthwiseConv1D: each input channel correlated with its own `depth_multiplier` kernels.

Read in Keras 3.15 `keras/src/layers/convolutional/{base_depthwise_conv,depthwise_conv1d}.py`
(depth_multiplier 1, padding 'valid' or 'same', weights `kernel` [k, channels, multiplier] and
bias [channels * multiplier]) and tf-keras 2.21 `layers/convolutional/depthwise_conv1d.py` (the
same keys plus `groups`, always 1; 'causal' refused too; its weight is `depthwise_kernel`).
Output channel c * multiplier + m is channel c's m-th kernel, as tf.nn.depthwise_conv2d orders
it. Keras 2.2.4 and TensorFlow.js 4.22 have no such layer. Masks stop here, as at every
convolution.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ...objects import INITIALIZERS
from ..base import REQUIRED, Field, LayerConfig, LayerType, Weight, common_fields
from ..core.dense import affine_rescale
from ..windows import windows_nd
from .base_conv import conv_output_shape

KERAS = ("keras3", "keras2")


def depthwise_fields(default_name: str, padding: k.Kind) -> tuple[Field, ...]:
    """The fields a depthwise and a separable convolution share (Keras 3 and tf-keras)."""
    return (
        Field("kernel_size", k.SIZES, REQUIRED, doc="window length, an integer or a list of one"),
        Field("strides", k.SIZES, (1,)),
        Field("padding", padding, "valid"),
        Field("data_format", k.DATA_FORMAT, "channels_last"),
        Field("dilation_rate", k.SIZES, (1,)),
        Field("groups", k.Choice((1,)), 1, families=("keras2",),
              omit_reason=lambda c, n: "tf-keras writes groups 1 and never uses it here"),
        Field("depth_multiplier", k.UNITS, 1, doc="kernels per input channel"),
        Field("activation", k.ACTIVATION, "linear", null_is_default=False),
        Field("use_bias", k.BOOLEAN, True),
        Field("depthwise_initializer", k.INITIALIZER, INITIALIZERS.make("GlorotUniform")),
        Field("bias_initializer", k.INITIALIZER, INITIALIZERS.make("Zeros")),
        Field("depthwise_regularizer", k.REGULARIZER, None),
        Field("bias_regularizer", k.REGULARIZER, None),
        Field("activity_regularizer", k.REGULARIZER, None),
        Field("depthwise_constraint", k.CONSTRAINT, None),
        Field("bias_constraint", k.CONSTRAINT, None),
        *common_fields(default_name),
    )


def channels(config: LayerConfig, input_shape: tuple) -> int:
    """The input's channel count, wherever data_format puts it."""
    return input_shape[1] if config.data_format == "channels_first" else input_shape[-1]


def depthwise(config: LayerConfig, x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """[batch, steps, channels] -> [batch, out, channels * multiplier], no bias."""
    patches, _ = windows_nd(x, config.kernel_size, config.padding, config.strides,
                            config.dilation_rate)
    y = np.einsum("bokc,kcm->bocm", patches, kernel, optimize=True)
    return y.reshape(*y.shape[:2], -1)


def finish(config: LayerConfig, y: np.ndarray, bias: np.ndarray | None, dtype) -> np.ndarray:
    """Add the bias, apply the activation and put the channels back where data_format wants."""
    from ...activations import ACTIVATIONS

    if bias is not None:
        y = y + np.asarray(bias, dtype)
    y = ACTIVATIONS[config.activation].function(y.astype(dtype))
    return np.moveaxis(y, -1, 1) if config.data_format == "channels_first" else y


def channels_last(config: LayerConfig, inputs: list, dtype) -> np.ndarray:
    """The input as [batch, steps, channels]."""
    x = np.asarray(inputs[0], dtype)
    return np.moveaxis(x, 1, -1) if config.data_format == "channels_first" else x


def refuse_strided_dilation(values: dict, family: str, given: set[str]) -> None:
    """tf.nn.depthwise_conv2d refuses strides > 1 together with dilation_rate > 1."""
    if max(values["strides"]) > 1 and max(values["dilation_rate"]) > 1:
        raise InputError(f"layer '{values['name']}': strides > 1 together with "
                         "dilation_rate > 1 is refused by every runtime")


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    weights = [Weight("depthwise_kernel",
                      (*config.kernel_size, channels(config, input_shape),
                       config.depth_multiplier))]
    if config.use_bias:
        weights.append(Weight("bias", (channels(config, input_shape) * config.depth_multiplier,)))
    return weights


def _output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    width = channels(config, input_shape) * config.depth_multiplier
    return conv_output_shape(config.replace(filters=width), input_shape)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = channels_last(config, inputs, dtype)
    y = depthwise(config, x, np.asarray(weights["depthwise_kernel"], dtype))
    return [finish(config, y, weights.get("bias"), dtype)], [None]


DEPTHWISE_CONV1D = LayerType(
    class_name="DepthwiseConv1D",
    fields=depthwise_fields("depthwise_conv1d", k.CONV2D_PADDING),
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    gate_rescale=affine_rescale(("depthwise_kernel", "bias")),
    after_read=refuse_strided_dilation,
    mask_out=lambda config, input_masked: False,
    families=KERAS,
    doc="Per-channel 1D convolution over the steps axis; masks stop here.",
)
