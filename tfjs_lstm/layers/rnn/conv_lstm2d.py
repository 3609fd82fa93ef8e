"""ConvLSTM2D: an LSTM whose input and recurrent products are 2D convolutions.

Read in Keras 3.15 `keras/src/layers/rnn/{conv_lstm,conv_lstm2d}.py`, tf-keras 2.21
`layers/rnn/conv_lstm2d.py` and TensorFlow.js 4.22 `tfjs-layers/src/layers/
convolutional_recurrent.ts`: kernel [kh, kw, channels, 4*filters], recurrent_kernel
[kh, kw, filters, 4*filters], bias [4*filters], gates i, f, c, o. The input convolution uses the
layer's strides, padding and dilation; the recurrent one is always 'same' with stride 1.
Keras 3 saves the weights under a cell, tf-keras and tfjs directly under the layer. No
runtime has `implementation` here; tfjs's getConfig carries it and `unitForgetBias` as
undefined. tfjs refuses `unroll`; tf-keras writes `time_major` and ignores it (measured).
Keras 2.2.4 `layers/convolutional_recurrent.py` has the same weights, keys and defaults as
tf-keras (recurrent_activation 'hard_sigmoid', unit_forget_bias true) without `time_major`.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...casing import UNDEFINED
from ..base import REQUIRED, Field, LayerConfig, LayerType, Weight, common_fields
from ..convolutional.base_conv import conv_after_read
from ..windows import output_length, windows_nd
from . import recurrent as rnn
from .lstm import _RECURRENT_GATES, GATES

FAMILIES = ("keras3", "keras2", "keras2.2", "tfjs")
_TFJS_UNDEFINED = ("unitForgetBias", "implementation")


FIELDS = (
    Field("filters", k.UNITS, REQUIRED, doc="positive integer, channels of output and states"),
    Field("kernel_size", k.SIZES_2D, REQUIRED,
          doc="window rows and columns, an integer or a list of two"),
    Field("strides", k.SIZES_2D, (1, 1)),
    Field("padding", k.CONV2D_PADDING, "valid"),
    Field("data_format", k.DATA_FORMAT, "channels_last"),
    Field("dilation_rate", k.SIZES_2D, (1, 1)),
    rnn.GATE_ACTIVATIONS[0],
    Field("recurrent_activation", k.ACTIVATION,
          {"keras3": "sigmoid", "keras2": "hard_sigmoid_keras2", "keras2.2": "hard_sigmoid_keras2",
           "tfjs": "hard_sigmoid_keras2"},
          null_is_default=False),
    *rnn.cell_weight_fields(activity_ignored_by=("tfjs",)),
    Field("unit_forget_bias", k.BOOLEAN,
          {"keras3": True, "keras2": True, "keras2.2": True, "tfjs": False}),
    *rnn.DROPOUTS,
    *(Field("time_major", k.BOOLEAN, False, families=("keras2",), ignored_by=("keras2", "tfjs"),
            omit_reason=lambda c, n: "tf-keras's ConvLSTM2D ignores it: steps are on axis 1")
      if spec.name == "time_major" else spec for spec in rnn.sequence_fields()),
    *common_fields("conv_lstm2d"),
)


def _adjust(values: dict, family: str) -> dict[str, str]:
    """tf-keras and tfjs refuse unroll for convolutional RNNs; unrolling changes no output."""
    if family != "keras3" and values["unroll"]:
        values["unroll"] = False
        return {"unroll": "tf-keras and TensorFlow.js cannot unroll ConvLSTM2D (the same "
                          "function)"}
    return {}


def _space(config: LayerConfig, shape: tuple) -> tuple:
    """Rows and columns of a [batch, steps, *image] shape."""
    return shape[3:5] if config.data_format == "channels_first" else shape[2:4]


def _channels(config: LayerConfig, shape: tuple) -> int:
    return shape[2] if config.data_format == "channels_first" else shape[-1]


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    width = 4 * config.filters
    weights = [Weight("kernel", (*config.kernel_size, _channels(config, input_shape), width)),
               Weight("recurrent_kernel", (*config.kernel_size, config.filters, width))]
    if config.use_bias:
        weights.append(Weight("bias", (width,)))
    return weights


def _output_shape(config: LayerConfig, input_shape: tuple):
    """[batch, (steps,) rows', cols', filters] (filters first with channels_first); with
    return_state then h and c, each shaped as one step's output."""
    rows, cols = (output_length(n, size, config.padding, stride, dilation) for
                  n, size, stride, dilation in zip(_space(config, input_shape), config.kernel_size,
                                                   config.strides, config.dilation_rate,
                                                   strict=True))
    image = (config.filters, rows, cols) if config.data_format == "channels_first" else \
        (rows, cols, config.filters)
    batch = input_shape[0]
    output = (batch, input_shape[1], *image) if config.return_sequences else (batch, *image)
    return [output, (batch, *image), (batch, *image)] if config.return_state else output


_MASKED = ("Keras 3, tf-keras and TensorFlow.js 4.22 all fail calling ConvLSTM2D with a mask "
           "(Masking gives one per pixel, not one per step)")


def _conv(x: np.ndarray, kernel: np.ndarray, padding: str, strides: tuple,
          dilation: tuple) -> np.ndarray:
    """[n, rows, cols, channels] correlated with [kh, kw, channels, out]."""
    patches, _ = windows_nd(x, kernel.shape[:2], padding, strides, dilation)
    rows = patches.reshape(*patches.shape[:3], -1)
    return rows @ kernel.reshape(rows.shape[-1], -1)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    """Inputs are x, then optionally the initial h and c (no mask reaches it: see _MASKED)."""
    from ...activations import ACTIVATIONS

    gate = ACTIVATIONS[config.recurrent_activation].function
    act = ACTIVATIONS[config.activation].function
    first = config.data_format == "channels_first"
    kernel = np.asarray(weights["kernel"], dtype)
    recurrent = np.asarray(weights["recurrent_kernel"], dtype)
    bias = np.asarray(weights["bias"] if config.use_bias else 0, dtype)

    def kernel_run(x, mask, initial_state):
        x = np.asarray(x, dtype)
        if first:
            x = np.moveaxis(x, 2, -1)
        if config.go_backwards:
            x = x[:, ::-1]
        batch, steps = x.shape[:2]
        projected = _conv(x.reshape(batch * steps, *x.shape[2:]), kernel, config.padding,
                          config.strides, config.dilation_rate) + bias
        projected = projected.reshape(batch, steps, *projected.shape[1:])
        shape = projected.shape[2:-1] + (config.filters,)
        if initial_state:
            h, c = (np.moveaxis(np.asarray(s, dtype), 1, -1) if first else
                    np.asarray(s, dtype) for s in initial_state)
        else:
            h = c = np.zeros((batch, *shape), dtype)
        outputs = []
        for t in range(steps):
            z = projected[:, t] + _conv(h, recurrent, "same", (1, 1), (1, 1))
            i, f, g, o = np.split(z, 4, axis=-1)
            c = (gate(f) * c + gate(i) * act(g)).astype(dtype)
            h = (gate(o) * act(c)).astype(dtype)
            outputs.append(h)
        result = np.stack(outputs, 1) if config.return_sequences else h
        if first:
            h, c = np.moveaxis(h, -1, 1), np.moveaxis(c, -1, 1)
            result = np.moveaxis(result, -1, 2 if config.return_sequences else 1)
        return result, h, c

    return rnn.forward(config, inputs, masks, kernel_run)


def _gate_rescale(config: LayerConfig, field_name: str, factor: float):
    """As LSTM's: only i, f and o read recurrent_activation right after the convolutions."""
    if field_name != "recurrent_activation":
        return None
    return rnn.scale_gates(config, _RECURRENT_GATES, len(GATES), factor)


def _after_read(values: dict, family: str, given: set[str]) -> None:
    """Every runtime refuses strided dilation, as for Conv2D."""
    conv_after_read({**values, "groups": 1}, family, given)


def _start_read(data: dict, family: str) -> dict:
    """tfjs's `implementation` is always undefined or null and means nothing here."""
    return {key: v for key, v in data.items() if key != "implementation"} \
        if family == "tfjs" else data


def _finish_write(out: dict, family: str) -> dict:
    """tfjs's getConfig carries unitForgetBias (when unset) and implementation as undefined,
    which model.save() writes as null."""
    if family != "tfjs":
        return out
    return out | {key: UNDEFINED for key in _TFJS_UNDEFINED if key not in out}


CONV_LSTM2D = LayerType(
    class_name="ConvLSTM2D",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    gate_rescale=_gate_rescale,
    adjust=_adjust,
    sequence_input=True,
    input_dim_families=(),
    cell_name=lambda config: "",  # Keras 3 keeps a cell; tf-keras names no cell scope
    after_read=_after_read,
    mask_out=lambda config, input_masked: False,
    without_mask=rnn.without_mask,
    refuse_masked=dict.fromkeys(FAMILIES, _MASKED),
    start_read=_start_read,
    finish_write=_finish_write,
    extra_keys=lambda family: ("implementation",) if family == "tfjs" else (),
    families=FAMILIES,
    doc="LSTM over a sequence of images with convolutions for its products; gates i, f, c, o.",
)
