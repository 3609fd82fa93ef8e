"""SimpleRNN: `h = activation(x @ kernel + h @ recurrent_kernel + bias)`, in every runtime.

Read in Keras 3.15 `keras/src/layers/rnn/simple_rnn.py` (takes `seed` but never writes it back;
takes `activity_regularizer`, drops it and writes null), tf-keras 2.21 (drops `implementation`),
standalone Keras 2.2.4 and TensorFlow.js 4.22 `tfjs-layers/src/layers/recurrent.ts`
(`SimpleRNNCell`: `activation: null` means tanh there).
"""

from __future__ import annotations

from ... import kinds as k
from ...transforms import ScaleGateColumns
from ..base import Field, LayerConfig, Weight, common_fields
from . import recurrent as rnn

FIELDS = (
    Field("units", k.UNITS, doc="positive integer, size of the output and of the state"),
    Field("activation", k.ACTIVATION, "tanh"),
    *rnn.cell_weight_fields(activity_ignored_by=("keras3", "tfjs")),
    *rnn.DROPOUTS,
    Field("implementation", k.IMPLEMENTATION, None, families=(),
          accepted_by=("keras2", "keras2.2"),
          omit_reason=lambda c, n: "SimpleRNN has one implementation; Keras 2 takes the key "
                                   "from old configs and drops it"),
    *rnn.sequence_fields(seed=Field(
        "seed", k.SEED, None, families=(), accepted_by=("keras3",),
        omit_reason=lambda c, n: "the seed drives dropout and initializers only; it has no "
                                 "effect on outputs at inference")),
    *common_fields("simple_rnn"),
)


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    return rnn.cell_weights(config, input_shape, gates=1)


def _output_shape(config: LayerConfig, input_shape: tuple):
    return rnn.output_shape(config, input_shape, states=1)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    """Inputs are x, then optionally the initial h (Keras's initial_state)."""
    from ...activations import ACTIVATIONS
    from ...runtime.recurrent import simple_rnn_forward

    def kernel(x, mask, initial_state):
        return simple_rnn_forward(
            x, weights["kernel"], weights["recurrent_kernel"], weights.get("bias"),
            activation=ACTIVATIONS[config.activation].function, mask=mask,
            initial_state=initial_state[0] if initial_state else None,
            go_backwards=config.go_backwards, return_sequences=config.return_sequences,
            zero_output_for_mask=config.zero_output_for_mask, dtype=dtype,
            prepared=getattr(weights, "prepared", None))

    return rnn.forward(config, inputs, masks, kernel)


def _gate_rescale(config: LayerConfig, field_name: str, factor: float) -> ScaleGateColumns:
    """The state is activation(x@W + h@U + b) itself, so scaling W, U and b scales exactly the
    pre-activation while every h stays the same: a hard sigmoid's slope changes, nothing else.
    (Unlike LSTM, whose activation also reads the carry c, which no weight reaches.)"""
    return rnn.scale_gates(config, (0,), 1, factor)


SIMPLE_RNN = rnn.recurrent_layer(
    class_name="SimpleRNN",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    gate_rescale=_gate_rescale,
    cell_name="simple_rnn_cell",
    doc="Fully connected recurrent layer: the output is the state.",
)
