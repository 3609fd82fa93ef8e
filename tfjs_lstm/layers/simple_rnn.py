"""SimpleRNN: `h = activation(x @ kernel + h @ recurrent_kernel + bias)`, in every runtime.

Read in Keras 3.15 `keras/src/layers/rnn/simple_rnn.py` (takes `seed` but never writes it back;
takes `activity_regularizer`, drops it and writes null), tf-keras 2.21 (drops `implementation`),
standalone Keras 2.2.4 and TensorFlow.js 4.22 `tfjs-layers/src/layers/recurrent.ts`
(`SimpleRNNCell`: `activation: null` means tanh there).
"""

from __future__ import annotations

import numpy as np

from .. import kinds as k
from ..objects import INITIALIZERS
from ..transforms import ScaleGateColumns
from .base import Field, LayerConfig, LayerType, Weight, common_fields
from .lstm import GLOROT_UNIFORM, TFJS_GLOROT_NORMAL, _only_if, _zero_output_rule

_DROPOUT_ONLY = "the seed drives dropout and initializers only; it has no effect at inference"

FIELDS = (
    Field("units", k.UNITS, doc="positive integer, size of the output and of the state"),
    Field("activation", k.ACTIVATION, "tanh"),
    Field("use_bias", k.BOOLEAN, True),
    Field("kernel_initializer", k.INITIALIZER,
          {"keras3": GLOROT_UNIFORM, "keras2": GLOROT_UNIFORM, "keras2.2": GLOROT_UNIFORM,
           "tfjs": TFJS_GLOROT_NORMAL}),
    Field("recurrent_initializer", k.INITIALIZER, INITIALIZERS.make("Orthogonal")),
    Field("bias_initializer", k.INITIALIZER, INITIALIZERS.make("Zeros")),
    Field("kernel_regularizer", k.REGULARIZER, None),
    Field("recurrent_regularizer", k.REGULARIZER, None),
    Field("bias_regularizer", k.REGULARIZER, None),
    Field("activity_regularizer", k.REGULARIZER, None, ignored_by=("keras3", "tfjs"),
          omit_reason=lambda c, n: "a training-only loss term; Keras 3's and TensorFlow.js's "
                                   "SimpleRNN ignore it"),
    Field("kernel_constraint", k.CONSTRAINT, None),
    Field("recurrent_constraint", k.CONSTRAINT, None),
    Field("bias_constraint", k.CONSTRAINT, None),
    Field("dropout", k.FRACTION, 0.0),
    Field("recurrent_dropout", k.FRACTION, 0.0),
    Field("implementation", k.IMPLEMENTATION, None, families=(),
          accepted_by=("keras2", "keras2.2"),
          omit_reason=lambda c, n: "SimpleRNN has one implementation; Keras 2 takes the key "
                                   "from old configs and drops it"),
    Field("return_sequences", k.BOOLEAN, False),
    Field("return_state", k.BOOLEAN, False),
    Field("go_backwards", k.BOOLEAN, False),
    Field("stateful", k.BOOLEAN, False),
    Field("unroll", k.BOOLEAN, False),
    Field("time_major", k.BOOLEAN, False, families=("keras2",), ignored_by=("tfjs",),
          omit_reason=_only_if(False, "batch-major is the only layout here")),
    Field("zero_output_for_mask", k.BOOLEAN, False, families=("keras3",), ignored_by=("tfjs",),
          omit_reason=_zero_output_rule),
    Field("seed", k.SEED, None, families=(), accepted_by=("keras3",),
          omit_reason=lambda c, n: _DROPOUT_ONLY),
    *common_fields("simple_rnn"),
)


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    weights = [
        Weight("kernel", (input_shape[-1], config.units)),
        Weight("recurrent_kernel", (config.units, config.units)),
    ]
    if config.use_bias:
        weights.append(Weight("bias", (config.units,)))
    return weights


def _output_shape(config: LayerConfig, input_shape: tuple):
    batch, steps = input_shape[0], input_shape[1]
    output = (batch, steps, config.units) if config.return_sequences else (batch, config.units)
    if config.return_state:
        return [output, (batch, config.units)]
    return output


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    """Inputs are x, then optionally the initial h (Keras's initial_state)."""
    from ..activations import ACTIVATIONS
    from ..runtime.recurrent import simple_rnn_forward

    x = inputs[0]
    if config.time_major:
        x = np.swapaxes(x, 0, 1)
    output, h = simple_rnn_forward(
        x, weights["kernel"], weights["recurrent_kernel"], weights.get("bias"),
        activation=ACTIVATIONS[config.activation].function, mask=masks[0],
        initial_state=inputs[1] if len(inputs) > 1 else None,
        go_backwards=config.go_backwards, return_sequences=config.return_sequences,
        zero_output_for_mask=config.zero_output_for_mask, dtype=dtype)
    if config.time_major and config.return_sequences:
        output = np.swapaxes(output, 0, 1)
    mask = masks[0] if config.return_sequences else None
    if config.return_state:
        return [output, h], [mask, None]
    return [output], [mask]


def _gate_rescale(config: LayerConfig, field_name: str, factor: float) -> ScaleGateColumns:
    """The state is activation(x@W + h@U + b) itself, so scaling W, U and b scales exactly the
    pre-activation while every h stays the same: a hard sigmoid's slope changes, nothing else.
    (Unlike LSTM, whose activation also reads the carry c, which no weight reaches.)"""
    return ScaleGateColumns(
        layer=config.name,
        weights=("kernel", "recurrent_kernel", "bias"),
        gates=(0,),
        gate_count=1,
        factor=factor,
        reason="hard_sigmoid has another slope in the target runtime",
    )


SIMPLE_RNN = LayerType(
    class_name="SimpleRNN",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    gate_rescale=_gate_rescale,
    sequence_input=True,
    keras3_cell="simple_rnn_cell",
    doc="Fully connected recurrent layer: the output is the state.",
)
