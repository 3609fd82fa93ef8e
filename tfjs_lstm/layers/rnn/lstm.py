"""LSTM: the one description of its config fields, defaults per runtime, weights and shapes.

Defaults were read in each runtime's source and are pinned by tests that build the real layer:
Keras 3.15 `keras/src/layers/rnn/lstm.py`, tf-keras 2.21, standalone Keras 2.2 (old tutorials),
and TensorFlow.js 4.22 `tfjs-layers/src/layers/recurrent.ts` (`LSTMCell`, `RNN`).
"""

from __future__ import annotations

from ... import kinds as k
from ...transforms import ScaleGateColumns
from ..base import Field, LayerConfig, Weight, common_fields
from . import recurrent as rnn

GATES = ("i", "f", "c", "o")
_RECURRENT_GATES = (0, 1, 3)

FIELDS = (
    Field("units", k.UNITS, doc="positive integer, size of the output and of each state"),
    *rnn.GATE_ACTIVATIONS,
    *rnn.cell_weight_fields(activity_ignored_by=("tfjs",)),
    Field("unit_forget_bias", k.BOOLEAN,
          {"keras3": True, "keras2": True, "keras2.2": True, "tfjs": False}),
    *rnn.DROPOUTS,
    rnn.GATED_IMPLEMENTATION,
    *rnn.sequence_fields(),
    *common_fields("lstm"),
)


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    return rnn.cell_weights(config, input_shape, gates=len(GATES))


def _output_shape(config: LayerConfig, input_shape: tuple):
    return rnn.output_shape(config, input_shape, states=2)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    """Inputs are x, then optionally the initial h and c (Keras's initial_state)."""
    from ...activations import ACTIVATIONS
    from ...runtime.recurrent import lstm_forward

    def kernel(x, mask, initial_state):
        return lstm_forward(
            x, weights["kernel"], weights["recurrent_kernel"], weights.get("bias"),
            activation=ACTIVATIONS[config.activation].function,
            recurrent_activation=ACTIVATIONS[config.recurrent_activation].function,
            mask=mask, initial_state=initial_state, go_backwards=config.go_backwards,
            return_sequences=config.return_sequences,
            zero_output_for_mask=config.zero_output_for_mask, dtype=dtype,
            prepared=getattr(weights, "prepared", None))

    return rnn.forward(config, inputs, masks, kernel)


def _gate_rescale(config: LayerConfig, field_name: str, factor: float) -> ScaleGateColumns | None:
    """Only the gates read recurrent_activation right after the affine map; `activation` is
    also applied to the carry state, which no weight scaling can reach."""
    if field_name != "recurrent_activation":
        return None
    return rnn.scale_gates(config, _RECURRENT_GATES, len(GATES), factor)


LSTM = rnn.recurrent_layer(
    class_name="LSTM",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    gate_rescale=_gate_rescale,
    adjust=rnn.implementation_one_with_recurrent_dropout,
    cell_name="lstm_cell",
    doc="Long short-term memory; fused gates in order i, f, c, o in every runtime.",
)
