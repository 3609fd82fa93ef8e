"""What LSTM, GRU and SimpleRNN share: the RNN layer's fields, the cell's weight fields, the
rules for keys some runtimes lack, output shapes and the forward pass around a numpy kernel.

Each recurrent layer file adds only what is its own (gates, unit_forget_bias, reset_after).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ... import kinds as k
from ...errors import InputError
from ...objects import INITIALIZERS, KERNEL_INITIALIZER_DEFAULTS
from ...transforms import ScaleGateColumns
from ..base import Field, LayerConfig, LayerType, Weight


def only_if(default: object, reason: str) -> Callable[[LayerConfig, str], str | None]:
    """An omit rule: leaving the key out is harmless while the value is the default."""

    def rule(config: LayerConfig, name: str) -> str | None:
        return reason if getattr(config, name) == default else None

    return rule


def zero_output_rule(config: LayerConfig, name: str) -> str | None:
    """tfjs repeats the last output at masked steps; Keras with zero_output_for_mask writes
    zeros there. Only a returned sequence can show the difference."""
    if not config.zero_output_for_mask or not config.return_sequences:
        return "only changes returned sequences, and this layer returns none or writes no zeros"
    return None


def _training_only(who: str) -> Callable[[LayerConfig, str], str]:
    return lambda config, name: f"a training-only loss term; {who} ignore it"


GATE_ACTIVATIONS = (
    Field("activation", k.ACTIVATION, "tanh", null_is_default=False),
    Field("recurrent_activation", k.ACTIVATION,
          {"keras3": "sigmoid", "keras2": "sigmoid", "keras2.2": "hard_sigmoid_keras2",
           "tfjs": "hard_sigmoid_keras2"}, null_is_default=False),
)
DROPOUTS = (
    Field("dropout", k.FRACTION, 0.0),
    Field("recurrent_dropout", k.FRACTION, 0.0),
)
GATED_IMPLEMENTATION = Field(
    "implementation", k.IMPLEMENTATION, {"keras3": 2, "keras2": 2, "keras2.2": 1, "tfjs": 2},
    families=("keras2", "keras2.2", "tfjs"), accepted_by=("keras3",),
    omit_reason=lambda c, n: "implementation 1 and 2 compute the same function; Keras 3 "
                             "accepts it but never writes it back")
SEED = Field("seed", k.SEED, None, families=("keras3",), ignored_by=("tfjs",),
             omit_reason=lambda c, n: "the seed drives dropout and initializers only; it has "
                                      "no effect on outputs at inference")


def cell_weight_fields(activity_ignored_by: tuple[str, ...]) -> tuple[Field, ...]:
    """use_bias and the initializers, regularizers and constraints of kernel, recurrent kernel
    and bias; `activity_ignored_by` names the runtimes whose layer drops the activity one."""
    who = " and ".join({"keras3": "Keras 3", "tfjs": "TensorFlow.js"}[f]
                       for f in activity_ignored_by)
    return (
        Field("use_bias", k.BOOLEAN, True),
        Field("kernel_initializer", k.INITIALIZER, KERNEL_INITIALIZER_DEFAULTS),
        Field("recurrent_initializer", k.INITIALIZER, INITIALIZERS.make("Orthogonal")),
        Field("bias_initializer", k.INITIALIZER, INITIALIZERS.make("Zeros")),
        Field("kernel_regularizer", k.REGULARIZER, None),
        Field("recurrent_regularizer", k.REGULARIZER, None),
        Field("bias_regularizer", k.REGULARIZER, None),
        Field("activity_regularizer", k.REGULARIZER, None, ignored_by=activity_ignored_by,
              omit_reason=_training_only(who)),
        Field("kernel_constraint", k.CONSTRAINT, None),
        Field("recurrent_constraint", k.CONSTRAINT, None),
        Field("bias_constraint", k.CONSTRAINT, None),
    )


def sequence_fields(seed: Field = SEED) -> tuple[Field, ...]:
    """The RNN layer's own fields: what it returns, direction, state, layout, masking."""
    return (
        Field("return_sequences", k.BOOLEAN, False),
        Field("return_state", k.BOOLEAN, False),
        Field("go_backwards", k.BOOLEAN, False),
        Field("stateful", k.BOOLEAN, False),
        Field("unroll", k.BOOLEAN, False),
        Field("time_major", k.BOOLEAN, False, families=("keras2",), ignored_by=("tfjs",),
              omit_reason=only_if(False, "batch-major is the only layout here")),
        Field("zero_output_for_mask", k.BOOLEAN, False, families=("keras3",),
              ignored_by=("tfjs",), omit_reason=zero_output_rule),
        seed,
    )


def mask_out(config: LayerConfig, masked: bool) -> bool:
    """A recurrent layer passes its input's mask on only with its sequence."""
    return masked and config.return_sequences


def without_mask(config: LayerConfig, family: str) -> LayerConfig:
    """With no mask arriving, zero_output_for_mask changes nothing: families without the key
    take the default."""
    return config if family == "keras3" else config.replace(zero_output_for_mask=False)


def implementation_one_with_recurrent_dropout(values: dict, family: str) -> dict[str, str]:
    """Keras (2 and 3) switch gated cells to implementation 1 whenever recurrent_dropout is set."""
    if family != "tfjs" and values["recurrent_dropout"] != 0 and values["implementation"] != 1:
        values["implementation"] = 1
        return {"implementation": "Keras uses implementation 1 with recurrent_dropout "
                                  "(the same function)"}
    return {}


def output_shape(config: LayerConfig, input_shape: tuple, states: int):
    """The output, then with return_state one [batch, units] shape per state."""
    if len(input_shape) != 3:
        raise InputError(f"layer '{config.name}': a recurrent layer takes [batch, steps, "
                         f"features], got an input of rank {len(input_shape)}")
    batch, steps = input_shape[0], input_shape[1]
    output = (batch, steps, config.units) if config.return_sequences else (batch, config.units)
    if config.return_state:
        return [output, *[(batch, config.units)] * states]
    return output


def forward(config: LayerConfig, inputs: list, masks: list,
            kernel: Callable[..., tuple]) -> tuple[list, list]:
    """Run `kernel(x, mask, initial_state)` -> (output, *states) the way the RNN layer wraps
    its cell: time_major layout, the mask passed on only with sequences, states on request."""
    x = np.swapaxes(inputs[0], 0, 1) if config.time_major else inputs[0]
    output, *states = kernel(x, masks[0], inputs[1:] or None)
    if config.time_major and config.return_sequences:
        output = np.swapaxes(output, 0, 1)
    mask = masks[0] if config.return_sequences else None
    if config.return_state:
        return [output, *states], [mask, *[None] * len(states)]
    return [output], [mask]


def cell_weights(config: LayerConfig, input_shape: tuple, gates: int,
                 bias_shape: tuple | None = None) -> list[Weight]:
    """kernel [input_dim, gates*units], recurrent_kernel [units, gates*units] and, with
    use_bias, bias (`bias_shape`, by default [gates*units])."""
    width = gates * config.units
    weights = [Weight("kernel", (input_shape[-1], width)),
               Weight("recurrent_kernel", (config.units, width))]
    if config.use_bias:
        weights.append(Weight("bias", bias_shape or (width,)))
    return weights


def scale_gates(config: LayerConfig, gates: tuple[int, ...], gate_count: int,
                factor: float) -> ScaleGateColumns:
    """The hard_sigmoid slope rescale of some gate blocks of kernel, recurrent kernel, bias."""
    return ScaleGateColumns(layer=config.name, weights=("kernel", "recurrent_kernel", "bias"),
                            gates=gates, gate_count=gate_count, factor=factor,
                            reason="hard_sigmoid has another slope in the target runtime")


def recurrent_layer(**description) -> LayerType:
    """A recurrent LayerType: sequence input, masks passed on with sequences, masked steps
    skipped."""
    return LayerType(sequence_input=True, mask_out=mask_out, without_mask=without_mask,
                     skips_masked_steps=True, **description)
