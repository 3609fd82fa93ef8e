"""GRU: config fields with each runtime's defaults, weights, shapes and the numpy forward pass.

Read in Keras 3.15 `keras/src/layers/rnn/gru.py`, tf-keras 2.21 `tf_keras/layers/rnn/gru.py`,
standalone Keras 2.2.4 `keras/layers/recurrent.py` and TensorFlow.js 4.22
`tfjs-layers/src/layers/recurrent.ts` (`GRUCell`). Keras 2 and 3 default to `reset_after=True`;
Keras 2.2 and tfjs compute `reset_after=False` only, and tfjs's GRUCell throws on true while its
`getConfig()` always reports false. Gates are z, r, h in every runtime. The companion npm
package's `TfjsLstmGRU` (js/companion) computes reset_after=true on tfjs's RNN.
"""

from __future__ import annotations

from ... import kinds as k
from ...companion import Companion
from ...transforms import ScaleGateColumns
from ..base import Field, LayerConfig, Weight, common_fields
from . import recurrent as rnn

GATES = ("z", "r", "h")

FIELDS = (
    Field("units", k.UNITS, doc="positive integer, size of the output and of the state"),
    *rnn.GATE_ACTIVATIONS,
    *rnn.cell_weight_fields(activity_ignored_by=("tfjs",)),
    *rnn.DROPOUTS,
    rnn.GATED_IMPLEMENTATION,
    Field("reset_after", k.BOOLEAN,
          {"keras3": True, "keras2": True, "keras2.2": False, "tfjs": False},
          ignored_by=("tfjs",), thrown_by=("tfjs",),
          omit_reason=rnn.only_if(False, "TensorFlow.js computes the reset_after=False variant"),
          doc="apply the reset gate after the recurrent matrix product (the cuDNN variant); "
              "TensorFlow.js has only false"),
    *rnn.sequence_fields(),
    *common_fields("gru"),
)


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    """reset_after keeps separate input and recurrent biases: bias is [2, 3*units]."""
    width = len(GATES) * config.units
    return rnn.cell_weights(config, input_shape, gates=len(GATES),
                            bias_shape=(2, width) if config.reset_after else None)


def _output_shape(config: LayerConfig, input_shape: tuple):
    return rnn.output_shape(config, input_shape, states=1)


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    """Inputs are x, then optionally the initial h (Keras's initial_state)."""
    from ...activations import ACTIVATIONS
    from ...runtime.recurrent import gru_forward

    def kernel(x, mask, initial_state):
        return gru_forward(
            x, weights["kernel"], weights["recurrent_kernel"], weights.get("bias"),
            activation=ACTIVATIONS[config.activation].function,
            recurrent_activation=ACTIVATIONS[config.recurrent_activation].function,
            reset_after=config.reset_after, mask=mask,
            initial_state=initial_state[0] if initial_state else None,
            go_backwards=config.go_backwards, return_sequences=config.return_sequences,
            zero_output_for_mask=config.zero_output_for_mask, dtype=dtype,
            prepared=getattr(weights, "prepared", None))

    return rnn.forward(config, inputs, masks, kernel)


def _gate_rescale(config: LayerConfig, field_name: str, factor: float) -> ScaleGateColumns:
    """Both activations directly follow affine maps of x and h: recurrent_activation the z and
    r columns, activation the h columns (with reset_after both bias rows), so scaling exactly
    those columns changes a hard sigmoid's slope and nothing else."""
    gates = (0, 1) if field_name == "recurrent_activation" else (2,)
    return rnn.scale_gates(config, gates, len(GATES), factor)


GRU = rnn.recurrent_layer(
    class_name="GRU",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    gate_rescale=_gate_rescale,
    adjust=rnn.implementation_one_with_recurrent_dropout,
    cell_name="gru_cell",
    companion=Companion("TfjsLstmGRU", {"reset_after": True}),
    doc="Gated recurrent unit; fused gates in order z, r, h in every runtime.",
)
