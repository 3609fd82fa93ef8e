"""GRU: config fields with each runtime's defaults, weights, shapes and the numpy forward pass.

Read in Keras 3.15 `keras/src/layers/rnn/gru.py`, tf-keras 2.21 `tf_keras/layers/rnn/gru.py`,
standalone Keras 2.2.4 `keras/layers/recurrent.py` and TensorFlow.js 4.22
`tfjs-layers/src/layers/recurrent.ts` (`GRUCell`). Keras 2 and 3 default to `reset_after=True`;
Keras 2.2 and tfjs compute `reset_after=False` only, and tfjs's GRUCell throws on true while its
`getConfig()` always reports false. Gates are z, r, h in every runtime.
"""

from __future__ import annotations

import numpy as np

from .. import kinds as k
from ..objects import INITIALIZERS
from ..transforms import ScaleGateColumns
from .base import Field, LayerConfig, LayerType, Weight, common_fields
from .lstm import GLOROT_UNIFORM, TFJS_GLOROT_NORMAL, _adjust, _only_if, _zero_output_rule

GATES = ("z", "r", "h")

FIELDS = (
    Field("units", k.UNITS, doc="positive integer, size of the output and of the state"),
    Field("activation", k.ACTIVATION, "tanh", null_is_default=False),
    Field("recurrent_activation", k.ACTIVATION,
          {"keras3": "sigmoid", "keras2": "sigmoid", "keras2.2": "hard_sigmoid_keras2",
           "tfjs": "hard_sigmoid_keras2"}, null_is_default=False),
    Field("use_bias", k.BOOLEAN, True),
    Field("kernel_initializer", k.INITIALIZER,
          {"keras3": GLOROT_UNIFORM, "keras2": GLOROT_UNIFORM, "keras2.2": GLOROT_UNIFORM,
           "tfjs": TFJS_GLOROT_NORMAL}),
    Field("recurrent_initializer", k.INITIALIZER, INITIALIZERS.make("Orthogonal")),
    Field("bias_initializer", k.INITIALIZER, INITIALIZERS.make("Zeros")),
    Field("kernel_regularizer", k.REGULARIZER, None),
    Field("recurrent_regularizer", k.REGULARIZER, None),
    Field("bias_regularizer", k.REGULARIZER, None),
    Field("activity_regularizer", k.REGULARIZER, None, ignored_by=("tfjs",),
          omit_reason=lambda c, n: "a training-only loss term; TensorFlow.js's GRU ignores it"),
    Field("kernel_constraint", k.CONSTRAINT, None),
    Field("recurrent_constraint", k.CONSTRAINT, None),
    Field("bias_constraint", k.CONSTRAINT, None),
    Field("dropout", k.FRACTION, 0.0),
    Field("recurrent_dropout", k.FRACTION, 0.0),
    Field("implementation", k.IMPLEMENTATION,
          {"keras3": 2, "keras2": 2, "keras2.2": 1, "tfjs": 2},
          families=("keras2", "keras2.2", "tfjs"), accepted_by=("keras3",),
          omit_reason=lambda c, n: "implementation 1 and 2 compute the same function; "
                                   "Keras 3 accepts it but never writes it back"),
    Field("reset_after", k.BOOLEAN,
          {"keras3": True, "keras2": True, "keras2.2": False, "tfjs": False},
          ignored_by=("tfjs",),
          omit_reason=_only_if(False, "TensorFlow.js computes the reset_after=False variant"),
          doc="apply the reset gate after the recurrent matrix product (the cuDNN variant); "
              "TensorFlow.js has only false"),
    Field("return_sequences", k.BOOLEAN, False),
    Field("return_state", k.BOOLEAN, False),
    Field("go_backwards", k.BOOLEAN, False),
    Field("stateful", k.BOOLEAN, False),
    Field("unroll", k.BOOLEAN, False),
    Field("time_major", k.BOOLEAN, False, families=("keras2",), ignored_by=("tfjs",),
          omit_reason=_only_if(False, "batch-major is the only layout here")),
    Field("zero_output_for_mask", k.BOOLEAN, False, families=("keras3",), ignored_by=("tfjs",),
          omit_reason=_zero_output_rule),
    Field("seed", k.SEED, None, families=("keras3",), ignored_by=("tfjs",),
          omit_reason=lambda c, n: "the seed drives dropout and initializers only; it has no "
                                   "effect on outputs at inference"),
    *common_fields("gru"),
)


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    units = config.units
    weights = [
        Weight("kernel", (input_shape[-1], 3 * units)),
        Weight("recurrent_kernel", (units, 3 * units)),
    ]
    if config.use_bias:
        # reset_after keeps separate input and recurrent biases.
        weights.append(Weight("bias", (2, 3 * units) if config.reset_after else (3 * units,)))
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
    from ..runtime.recurrent import gru_forward

    x = inputs[0]
    if config.time_major:
        x = np.swapaxes(x, 0, 1)
    output, h = gru_forward(
        x, weights["kernel"], weights["recurrent_kernel"], weights.get("bias"),
        activation=ACTIVATIONS[config.activation].function,
        recurrent_activation=ACTIVATIONS[config.recurrent_activation].function,
        reset_after=config.reset_after, mask=masks[0],
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
    """Both activations directly follow affine maps of x and h: recurrent_activation the z and
    r columns, activation the h columns (with reset_after both bias rows), so scaling exactly
    those columns changes a hard sigmoid's slope and nothing else."""
    gates = (0, 1) if field_name == "recurrent_activation" else (2,)
    return ScaleGateColumns(
        layer=config.name,
        weights=("kernel", "recurrent_kernel", "bias"),
        gates=gates,
        gate_count=len(GATES),
        factor=factor,
        reason="hard_sigmoid has another slope in the target runtime",
    )


GRU = LayerType(
    class_name="GRU",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    gate_rescale=_gate_rescale,
    adjust=_adjust,
    sequence_input=True,
    keras3_cell="gru_cell",
    doc="Gated recurrent unit; fused gates in order z, r, h in every runtime.",
)
