"""RNN wrapping a cell (`RNN(LSTMCell(...))`), and the cells LSTMCell, GRUCell, SimpleRNNCell.

Read in Keras 3.15 `layers/rnn/rnn.py` (cell config nested under `cell`, no seed of its own),
tf-keras 2.21 `layers/rnn/base_rnn.py` (`time_major`; `zero_output_for_mask` written only when
true) and tfjs 4.22 `recurrent.ts` (`RNN.getConfig` also copies every key of the cell's config
to the top level, where `fromConfig` ignores them). A cell is its layer's description less the
sequence fields, so an RNN over a cell computes, weighs and counts exactly like the matching
LSTM, GRU or SimpleRNN layer: this module only translates between the two shapes of config.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ... import kinds as k
from ...errors import InputError
from ..base import Field, LayerConfig, LayerType, common_fields
from . import recurrent as rnn
from .gru import GRU
from .lstm import LSTM
from .simple_rnn import SIMPLE_RNN

# Fields of a recurrent layer that belong to the RNN around the cell, not to the cell.
_SEQUENCE_FIELDS = {"return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                    "time_major", "zero_output_for_mask", "batch_input_shape"}
# Only tfjs's cells write the (ignored) activity regularizer; Keras's cells have none.
_CELL_CHANGES = {"activity_regularizer": {"families": ("tfjs",), "ignored_by": ("tfjs",)}}


def _cell_type(layer: LayerType, class_name: str, default_name: str) -> LayerType:
    """The cell of a recurrent layer: the layer's own fields, weights and gate rescale."""
    changes = {**_CELL_CHANGES, "name": {"default": default_name}}
    fields = tuple(rnn.SEED if spec.name == "seed"  # every Keras 3 cell writes its seed
                   else replace(spec, **changes.get(spec.name, {}))
                   for spec in layer.fields if spec.name not in _SEQUENCE_FIELDS)
    return LayerType(class_name=class_name, fields=fields, weights=layer.weights,
                     output_shape=lambda config, input_shape: (input_shape[0], config.units),
                     gate_rescale=layer.gate_rescale, adjust=layer.adjust,
                     companion=layer.companion and layer.companion.cell(),
                     doc=f"The cell of {layer.class_name}: one step; run it inside RNN.")


LSTM_CELL = _cell_type(LSTM, "LSTMCell", "lstm_cell")
GRU_CELL = _cell_type(GRU, "GRUCell", "gru_cell")
SIMPLE_RNN_CELL = _cell_type(SIMPLE_RNN, "SimpleRNNCell", "simple_rnn_cell")
LAYER_OF_CELL = {LSTM_CELL.class_name: LSTM, GRU_CELL.class_name: GRU,
                 SIMPLE_RNN_CELL.class_name: SIMPLE_RNN}


def as_layer(config: LayerConfig) -> LayerConfig:
    """The LSTM, GRU or SimpleRNN config that computes what this RNN over its cell computes."""
    layer = LAYER_OF_CELL[config.cell.class_name]
    own, cell = config.as_dict(), config.cell.as_dict()
    values = {spec.name: own[spec.name] if spec.name in own and spec.name != "cell"
              else cell.get(spec.name)
              for spec in layer.fields}
    values["name"] = config.name
    return LayerConfig(layer.class_name, tuple(values.items()))


def _after_read(values: dict, family: str, given: set[str]) -> None:
    cell = values["cell"]
    if cell.class_name not in LAYER_OF_CELL:
        raise InputError(f"RNN '{values['name']}': cell {cell.class_name} is not supported "
                         f"(supported: {', '.join(LAYER_OF_CELL)})")


def _copied_keys(family: str) -> tuple[str, ...]:
    """The keys tfjs's RNN.getConfig copies from a cell's config to its own top level (a
    StackedRNNCells cell's `cells` too)."""
    if family != "tfjs":
        return ()
    own = {spec.key_for(family) for spec in RNN.fields}
    return tuple(sorted({spec.key_for(family) for cell in (LSTM_CELL, GRU_CELL, SIMPLE_RNN_CELL)
                         for spec in cell.fields} - own | {"cells"}))


def _start_read(data: dict, family: str) -> dict:
    """tfjs's copies of the cell's keys are ignored by its loader: read the cell's own."""
    copied = set(_copied_keys(family))
    return {key: value for key, value in data.items() if key not in copied}


def _finish_write(out: dict, family: str) -> dict:
    """tfjs's getConfig: the cell's keys at the top level too, the RNN's own winning."""
    if family != "tfjs":
        return out
    return {**{key: value for key, value in out["cell"]["config"].items() if key not in out},
            **out}


def _keras2_zero_output(config: LayerConfig, family: str) -> bool:
    """tf-keras's RNN writes zero_output_for_mask only when it is true."""
    return family != "keras2" or bool(config.zero_output_for_mask)


def _fields() -> tuple[Field, ...]:
    sequence = [spec for spec in rnn.sequence_fields() if spec.name != "seed"]
    sequence = [replace(spec, families=("keras3", "keras2"), written_when=_keras2_zero_output)
                if spec.name == "zero_output_for_mask" else spec for spec in sequence]
    return (Field("cell", k.NestedLayer(prefixes=("",)),
                  doc="the cell run at every step: LSTMCell, GRUCell or SimpleRNNCell"),
            *sequence, *common_fields("rnn"))


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype: Any) -> tuple:
    layer = as_layer(config)
    return LAYER_OF_CELL[config.cell.class_name].forward(layer, weights, inputs, masks, dtype)


def _cell_scope(config: LayerConfig) -> str:
    return config.cell.name


RNN = rnn.recurrent_layer(
    class_name="RNN",
    fields=_fields(),
    weights=lambda config, shape: LAYER_OF_CELL[config.cell.class_name].weights(
        as_layer(config), shape),
    output_shape=lambda config, shape: LAYER_OF_CELL[config.cell.class_name].output_shape(
        as_layer(config), shape),
    forward=_forward,
    after_read=_after_read,
    start_read=_start_read,
    finish_write=_finish_write,
    extra_keys=_copied_keys,
    cell_name=_cell_scope,
    doc="Runs a cell over a sequence; the same function as the cell's own layer type.",
)
