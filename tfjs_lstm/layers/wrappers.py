"""Bidirectional and TimeDistributed: layers that wrap another layer's config and weights.

Read in Keras 3.15 `layers/rnn/bidirectional.py` and `layers/core/wrapper.py`, tf-keras 2.21 and
tfjs 4.22 `tfjs-layers/src/layers/wrappers.ts`. Bidirectional runs a copy of the layer forward
and one with `go_backwards` flipped; Keras 2 and 3 force `zero_output_for_mask` to
`return_sequences` on both (tfjs does not, which matters only where a mask arrives). Keras 3
names the copies `forward_<name>`/`backward_<name>` in its config; tfjs names their weights
`<wrapper>/forward_<name>/<weight>`. A custom `backward_layer` is not supported.
"""

from __future__ import annotations

import numpy as np

from .. import kinds as k
from ..errors import InputError
from .base import Field, LayerConfig, LayerType, Weight, common_fields

MERGE_MODES = ("concat", "sum", "mul", "ave", None)
_FORWARD, _BACKWARD = "forward/", "backward/"


def _inner_type(config: LayerConfig) -> LayerType:
    from . import REGISTRY

    return REGISTRY[config.class_name]


def _backward_of(layer: LayerConfig) -> LayerConfig:
    """The copy Bidirectional runs backwards: the same config with go_backwards flipped."""
    return layer.replace(go_backwards=not layer.go_backwards)


def _bidi_after_read(values: dict, family: str, given: set[str]) -> None:
    inner = values["layer"]
    if family == "keras2" and "trainable" not in given:
        values["trainable"] = inner.trainable  # tf-keras: kwargs.get("trainable", layer's)
    name = inner.name.removeprefix("forward_") if family == "keras3" else inner.name
    values["layer"] = inner.replace(name=name)
    backward = values.pop("backward_layer", None)
    if backward is not None and backward.replace(name=name) != _backward_of(values["layer"]):
        raise InputError(f"Bidirectional '{values['name']}': a backward_layer that is not the "
                         "forward layer run backwards is not supported")
    values["backward_layer"] = None
    if family != "tfjs" and hasattr(inner, "zero_output_for_mask"):
        values["layer"] = values["layer"].replace(zero_output_for_mask=inner.return_sequences)


def _bidi_before_write(values: dict, family: str) -> dict[str, str]:
    """Keras forces zero_output_for_mask to return_sequences on the wrapped layer: a config
    that differs cannot be written for Keras; the keras2 layer config has no such key."""
    inner = values["layer"]
    refused = {}
    if family != "tfjs" and getattr(inner, "zero_output_for_mask", None) is not None:
        if inner.zero_output_for_mask != inner.return_sequences:
            refused["layer"] = ("Keras's Bidirectional forces zero_output_for_mask to "
                                "return_sequences, which changes outputs at masked steps")
        inner = inner.replace(zero_output_for_mask=family == "keras3" and
                              inner.return_sequences)
    if family == "keras3":
        values["backward_layer"] = _backward_of(inner).replace(name=f"backward_{inner.name}")
        inner = inner.replace(name=f"forward_{inner.name}")
    values["layer"] = inner
    return refused


def _bidi_without_mask(config: LayerConfig, family: str) -> LayerConfig:
    """No mask arrives: let the wrapped layer take what the family's Bidirectional computes."""
    inner = config.layer
    if getattr(inner, "zero_output_for_mask", None) is None:
        return config
    forced = family != "tfjs" and inner.return_sequences
    return config.replace(layer=inner.replace(zero_output_for_mask=forced))


BIDIRECTIONAL_FIELDS = (
    Field("layer", k.NestedLayer(prefixes=(_FORWARD, _BACKWARD)),
          doc="the recurrent layer run in both directions"),
    Field("merge_mode", k.Choice(MERGE_MODES), "concat", null_is_default=False),
    # Derived from `layer`, whose transforms already cover the backward weights.
    Field("backward_layer", k.NestedLayer(prefixes=()), None, families=("keras3",),
          accepted_by=("keras2",),
          omit_reason=lambda c, n: "the backward layer is derived from `layer`"),
    # tfjs's Bidirectional sets trainable to true whatever it is given (wrappers.ts).
    *common_fields("bidirectional", trainable_ignored_by=("tfjs",)),
)


def _bidi_weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    inner = _inner_type(config.layer).weights(config.layer, input_shape)
    return [Weight(prefix + w.name, w.shape) for prefix in (_FORWARD, _BACKWARD) for w in inner]


def _bidi_output_shape(config: LayerConfig, input_shape: tuple):
    inner = _inner_type(config.layer).output_shape(config.layer, input_shape)
    output, states = (inner[0], inner[1:]) if isinstance(inner, list) else (inner, [])
    if config.merge_mode == "concat":
        merged = [(*output[:-1], 2 * output[-1])]
    elif config.merge_mode is None:
        merged = [output, output]
    else:
        merged = [output]
    shapes = [*merged, *states, *states]
    return shapes if len(shapes) > 1 else shapes[0]


def _bidi_forward(config: LayerConfig, weights: dict, inputs: list, masks: list,
                  dtype) -> tuple:
    inner = config.layer
    layer = _inner_type(inner)
    half = (len(inputs) - 1) // 2
    forward_states, backward_states = inputs[1:1 + half], inputs[1 + half:]
    own = {name: {w.removeprefix(prefix): a for w, a in weights.items() if w.startswith(prefix)}
           for name, prefix in (("forward", _FORWARD), ("backward", _BACKWARD))}
    ys, y_masks = layer.forward(inner, own["forward"], [inputs[0], *forward_states], masks,
                                dtype)
    rev, _ = layer.forward(_backward_of(inner), own["backward"],
                           [inputs[0], *backward_states], masks, dtype)
    y, y_rev = ys[0], rev[0]
    if inner.return_sequences:
        y_rev = y_rev[:, ::-1]
    merged = {"concat": lambda: [np.concatenate([y, y_rev], axis=-1)],
              "sum": lambda: [y + y_rev], "mul": lambda: [y * y_rev],
              "ave": lambda: [(y + y_rev) / 2], None: lambda: [y, y_rev]}[config.merge_mode]()
    outputs = [*merged, *ys[1:], *rev[1:]]
    out_masks = [y_masks[0]] * len(merged) + [None] * (len(outputs) - len(merged))
    return outputs, out_masks


def _bidi_tfjs_names(config: LayerConfig, names: list[str]) -> list[str]:
    inner = config.layer.name
    return [name.replace(_FORWARD, f"forward_{inner}/", 1).replace(
        _BACKWARD, f"backward_{inner}/", 1) for name in names]


def _bidi_keras3_paths(config: LayerConfig, count: int) -> list[str]:
    inner = _inner_type(config.layer).keras3_paths(config.layer, count // 2)
    return [f"{side}_layer/{path}" for side in ("forward", "backward") for path in inner]


def _sequence_mask(config: LayerConfig, masked: bool) -> bool:
    return masked and config.layer.return_sequences


BIDIRECTIONAL = LayerType(
    class_name="Bidirectional",
    fields=BIDIRECTIONAL_FIELDS,
    weights=_bidi_weights,
    output_shape=_bidi_output_shape,
    forward=_bidi_forward,
    after_read=_bidi_after_read,
    before_write=_bidi_before_write,
    mask_out=_sequence_mask,
    without_mask=_bidi_without_mask,
    tfjs_weight_names=_bidi_tfjs_names,
    keras3_weight_paths=_bidi_keras3_paths,
    sequence_input=True,
    doc="Runs a recurrent layer forwards and backwards and merges the two outputs.",
)


def _td_weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    return _inner_type(config.layer).weights(config.layer, (input_shape[0], *input_shape[2:]))


def _td_output_shape(config: LayerConfig, input_shape: tuple) -> tuple:
    inner = _inner_type(config.layer).output_shape(config.layer,
                                                   (input_shape[0], *input_shape[2:]))
    return (input_shape[0], input_shape[1], *inner[1:])


def _td_forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    x = np.asarray(inputs[0])
    batch, steps = x.shape[:2]
    flat = x.reshape(batch * steps, *x.shape[2:])
    [y], _ = _inner_type(config.layer).forward(config.layer, weights, [flat], [None], dtype)
    return [y.reshape(batch, steps, *y.shape[1:])], [masks[0]]


def _td_after_read(values: dict, family: str, given: set[str]) -> None:
    if family == "tfjs":
        values["trainable"] = values["layer"].trainable  # tfjs reports the wrapped layer's


def _td_before_write(values: dict, family: str) -> dict[str, str]:
    if family == "tfjs":
        values["trainable"] = values["layer"].trainable
    return {}


def _td_keras3_paths(config: LayerConfig, count: int) -> list[str]:
    return [f"layer/{path}" for path in _inner_type(config.layer).keras3_paths(config.layer,
                                                                                count)]


TIME_DISTRIBUTED = LayerType(
    class_name="TimeDistributed",
    fields=(Field("layer", k.NestedLayer(prefixes=("",)),
                  doc="the layer applied to every timestep"),
            *common_fields("time_distributed")),
    weights=_td_weights,
    output_shape=_td_output_shape,
    forward=_td_forward,
    keras3_weight_paths=_td_keras3_paths,
    after_read=_td_after_read,
    before_write=_td_before_write,
    sequence_input=True,
    doc="Applies a layer to every timestep of a sequence.",
)
