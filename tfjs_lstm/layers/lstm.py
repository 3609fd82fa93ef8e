"""LSTM: the one description of its config fields, defaults per runtime, weights and shapes.

Defaults were read in each runtime's source and are pinned by tests that build the real layer:
Keras 3.15 `keras/src/layers/rnn/lstm.py`, tf-keras 2.21, standalone Keras 2.2 (old tutorials),
and TensorFlow.js 4.22 `tfjs-layers/src/layers/recurrent.ts` (`LSTMCell`, `RNN`).
"""

from __future__ import annotations

import numpy as np

from .. import kinds as k
from ..objects import INITIALIZERS
from ..transforms import ScaleGateColumns
from .base import Field, LayerConfig, LayerType, Weight, common_fields

GATES = ("i", "f", "c", "o")
_RECURRENT_GATES = (0, 1, 3)
_INFERENCE_FREE = "has no effect on outputs at inference"
GLOROT_UNIFORM = INITIALIZERS.make("GlorotUniform")
# tfjs's 'glorotNormal': a truncated normal without Keras's stddev correction (objects.py).
TFJS_GLOROT_NORMAL = INITIALIZERS.make(
    "VarianceScaling", scale=1.0, mode="fan_avg", distribution="truncated_normal_uncorrected")


def _only_if(default: object, reason: str):
    """An omit rule: leaving the key out is harmless while the value is the default."""

    def rule(config: LayerConfig, name: str) -> str | None:
        return reason if getattr(config, name) == default else None

    return rule


def _zero_output_rule(config: LayerConfig, name: str) -> str | None:
    if not config.zero_output_for_mask or not config.return_sequences:
        return "only changes returned sequences, and this layer returns none or writes no zeros"
    return None


FIELDS = (
    Field("units", k.UNITS, doc="positive integer, size of the output and of each state"),
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
    Field("unit_forget_bias", k.BOOLEAN,
          {"keras3": True, "keras2": True, "keras2.2": True, "tfjs": False}),
    Field("kernel_regularizer", k.REGULARIZER, None),
    Field("recurrent_regularizer", k.REGULARIZER, None),
    Field("bias_regularizer", k.REGULARIZER, None),
    Field("activity_regularizer", k.REGULARIZER, None, ignored_by=("tfjs",),
          omit_reason=lambda c, n: "a training-only loss term; TensorFlow.js's LSTM ignores it"),
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
          omit_reason=lambda c, n: f"the seed drives dropout and initializers only; it "
                                   f"{_INFERENCE_FREE}"),
    *common_fields("lstm"),
)


def _weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    input_dim = input_shape[-1]
    weights = [
        Weight("kernel", (input_dim, 4 * config.units)),
        Weight("recurrent_kernel", (config.units, 4 * config.units)),
    ]
    if config.use_bias:
        weights.append(Weight("bias", (4 * config.units,)))
    return weights


def _output_shape(config: LayerConfig, input_shape: tuple):
    batch, steps = input_shape[0], input_shape[1]
    output = (batch, steps, config.units) if config.return_sequences else (batch, config.units)
    if config.return_state:
        return [output, (batch, config.units), (batch, config.units)]
    return output


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    """Inputs are x, then optionally the initial h and c (Keras's initial_state)."""
    from ..activations import ACTIVATIONS
    from ..runtime.recurrent import lstm_forward

    if config.time_major:
        inputs = [np.swapaxes(inputs[0], 0, 1), *inputs[1:]]
    output, h, c = lstm_forward(
        inputs[0], weights["kernel"], weights["recurrent_kernel"], weights.get("bias"),
        activation=ACTIVATIONS[config.activation].function,
        recurrent_activation=ACTIVATIONS[config.recurrent_activation].function,
        mask=masks[0], initial_state=inputs[1:3] or None, go_backwards=config.go_backwards,
        return_sequences=config.return_sequences,
        zero_output_for_mask=config.zero_output_for_mask, dtype=dtype)
    if config.time_major and config.return_sequences:
        output = np.swapaxes(output, 0, 1)
    mask = masks[0] if config.return_sequences else None
    if config.return_state:
        return [output, h, c], [mask, None, None]
    return [output], [mask]


def _gate_rescale(config: LayerConfig, field_name: str, factor: float) -> ScaleGateColumns | None:
    """Only the gates read recurrent_activation right after the affine map; `activation` is
    also applied to the carry state, which no weight scaling can reach."""
    if field_name != "recurrent_activation":
        return None
    return ScaleGateColumns(
        layer=config.name,
        weights=("kernel", "recurrent_kernel", "bias"),
        gates=_RECURRENT_GATES,
        gate_count=len(GATES),
        factor=factor,
        reason="hard_sigmoid has another slope in the target runtime",
    )


def _adjust(values: dict, family: str) -> dict[str, str]:
    """Keras (2 and 3) switch to implementation 1 whenever recurrent_dropout is set."""
    if family != "tfjs" and values["recurrent_dropout"] != 0 and values["implementation"] != 1:
        values["implementation"] = 1
        return {"implementation": "Keras uses implementation 1 with recurrent_dropout "
                                  "(the same function)"}
    return {}


LSTM = LayerType(
    class_name="LSTM",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    gate_rescale=_gate_rescale,
    adjust=_adjust,
    sequence_input=True,
    keras3_cell="lstm_cell",
    doc="Long short-term memory; fused gates in order i, f, c, o in every runtime.",
)
