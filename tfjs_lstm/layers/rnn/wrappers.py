"""Bidirectional and TimeDistributed: layers that wrap another layer's config and weights.

Read in Keras 3.15 `layers/rnn/bidirectional.py` and `layers/core/wrapper.py`, tf-keras 2.21 and
tfjs 4.22 `tfjs-layers/src/layers/wrappers.ts`. Bidirectional runs a copy of the layer forward
and one with `go_backwards` flipped; Keras 2 and 3 force `zero_output_for_mask` to
`return_sequences` on both (tfjs does not, which matters only where a mask arrives). Keras 3
names the copies `forward_<name>`/`backward_<name>` in its config; tfjs names their weights
`<wrapper>/forward_<name>/<weight>`. A custom `backward_layer` (Keras 2 and 3) is kept in the
canonical config (None when it is the forward layer run backwards) and run by the reference
runtime; tfjs always derives the backward copy, so it refuses one.
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...companion import Companion
from ...errors import InputError
from ..base import Field, LayerConfig, LayerType, Weight, common_fields

MERGE_MODES = ("concat", "sum", "mul", "ave", None)
_FORWARD, _BACKWARD = "forward/", "backward/"


def _inner_type(config: LayerConfig) -> LayerType:
    from .. import REGISTRY

    return REGISTRY[config.class_name]


def _backward_of(layer: LayerConfig) -> LayerConfig:
    """The copy Bidirectional runs backwards: the same config with go_backwards flipped."""
    return layer.replace(go_backwards=not layer.go_backwards)


def backward_layer(config: LayerConfig) -> LayerConfig:
    """The layer Bidirectional runs backwards: the custom one, or the derived copy."""
    return config.backward_layer or _backward_of(config.layer)


def _forced_zero_output(layer: LayerConfig, family: str) -> LayerConfig:
    """Keras's Bidirectional sets zero_output_for_mask to return_sequences on both layers."""
    if family == "tfjs" or not hasattr(layer, "zero_output_for_mask"):
        return layer
    return layer.replace(zero_output_for_mask=layer.return_sequences)


def _check_backward(values: dict) -> None:
    """Keras's rule: the two layers run in opposite directions and return alike."""
    forward, backward = values["layer"], values["backward_layer"]
    if _inner_type(backward).cell_name is None or \
            forward.go_backwards == backward.go_backwards or \
            any(getattr(forward, a) != getattr(backward, a)
                for a in ("stateful", "return_sequences", "return_state")):
        raise InputError(f"Bidirectional '{values['name']}': backward_layer must be a recurrent "
                         "layer running in the other direction than `layer`, with the same "
                         "stateful, return_sequences and return_state")


def _bidi_after_read(values: dict, family: str, given: set[str]) -> None:
    inner = values["layer"]
    if family == "keras2" and "trainable" not in given:
        values["trainable"] = inner.trainable  # tf-keras: kwargs.get("trainable", layer's)
    name = inner.name.removeprefix("forward_") if family == "keras3" else inner.name
    values["layer"] = _forced_zero_output(inner.replace(name=name), family)
    backward = values["backward_layer"]
    if backward is not None:
        backward = _forced_zero_output(backward, family)
        derived = _backward_of(values["layer"])
        values["backward_layer"] = None if backward.replace(name=derived.name) == derived \
            else backward
    if values["backward_layer"] is not None:
        _check_backward(values)


def _weight_count(layer: LayerConfig) -> int:
    return len(_inner_type(layer).weights(layer, (None, None, 1)))


def _needs_rescale(layer: LayerConfig, family: str) -> bool:
    from ...activations import ACTIVATIONS

    return any(isinstance(value, str) and value in ACTIVATIONS and
               ACTIVATIONS[value].spellings[family] is None for _, value in layer.values)


def _bidi_before_write(values: dict, family: str) -> dict[str, str]:
    """Keras forces zero_output_for_mask to return_sequences on the wrapped layers: a config
    that differs cannot be written for Keras; the keras2 layer config has no such key."""
    inner, custom = values["layer"], values["backward_layer"]
    refused = {}
    if family != "tfjs" and getattr(inner, "zero_output_for_mask", None) is not None:
        if any(layer.zero_output_for_mask != layer.return_sequences
               for layer in (inner, custom) if layer is not None):
            refused["layer"] = ("Keras's Bidirectional forces zero_output_for_mask to "
                                "return_sequences, which changes outputs at masked steps")
        inner = inner.replace(zero_output_for_mask=family == "keras3" and
                              inner.return_sequences)
        if custom is not None:
            custom = custom.replace(zero_output_for_mask=family == "keras3" and
                                    custom.return_sequences)
    if custom is not None and family in ("tfjs", "keras2.2"):
        refused["backward_layer"] = ("this runtime's Bidirectional always runs a copy of "
                                     "`layer` backwards; it has no custom backward layer")
    elif custom is not None and family == "keras2" and _weight_count(inner) != \
            _weight_count(custom):
        refused["backward_layer"] = ("tf-keras's .h5 loader splits Bidirectional weights in "
                                     "half, so both layers need as many weights")
    elif custom is not None and (_needs_rescale(inner, family) or
                                 _needs_rescale(custom, family)):
        refused["backward_layer"] = ("a custom backward layer with a hard_sigmoid this runtime "
                                     "spells differently is not supported")
    if family == "keras3":
        values["backward_layer"] = custom or \
            _backward_of(inner).replace(name=f"backward_{inner.name}")
        inner = inner.replace(name=f"forward_{inner.name}")
    else:
        values["backward_layer"] = custom
    values["layer"] = inner
    return refused


def _bidi_without_mask(config: LayerConfig, family: str) -> LayerConfig:
    """No mask arrives: let the wrapped layers take what the family's Bidirectional computes."""
    inner = config.layer
    if getattr(inner, "zero_output_for_mask", None) is None:
        return config
    forced = family != "tfjs" and inner.return_sequences
    custom = config.backward_layer
    return config.replace(layer=inner.replace(zero_output_for_mask=forced),
                          backward_layer=custom and custom.replace(zero_output_for_mask=forced))


def _zeroes_masked_steps(config: LayerConfig) -> bool:
    """Keras's forced zero_output_for_mask, which tfjs's Bidirectional does not compute."""
    return bool(getattr(config.layer, "zero_output_for_mask", False)) and \
        config.layer.return_sequences


def _keras_zeros(values: dict) -> None:
    """TfjsLstmBidirectional read back: the wrapped layers zero masked steps, as in Keras."""
    values["layer"] = _forced_zero_output(values["layer"], "keras3")


ZEROING = Companion("TfjsLstmBidirectional", when=_zeroes_masked_steps,
                    to_tfjs=lambda config: _bidi_without_mask(config, "tfjs"),
                    from_tfjs=_keras_zeros)


def _derived_backward(config: LayerConfig, name: str) -> str | None:
    """Leaving backward_layer out is harmless when it is `layer` run backwards (Keras 3 always
    writes that copy; tfjs ignores the key and derives it)."""
    custom, derived = config.backward_layer, _backward_of(config.layer)
    if custom is None or custom.replace(name=derived.name) == derived:
        return "the backward layer is `layer` run backwards, which every runtime derives"
    return None


BIDIRECTIONAL_FIELDS = (
    Field("layer", k.NestedLayer(prefixes=(_FORWARD, _BACKWARD)),
          doc="the recurrent layer run in both directions"),
    Field("merge_mode", k.Choice(MERGE_MODES), "concat", null_is_default=False),
    # None when derived from `layer`, whose transforms then cover the backward weights too.
    Field("backward_layer", k.NestedLayer(prefixes=()), None, families=("keras3", "keras2"),
          ignored_by=("tfjs",),
          written_when=lambda c, family: family != "keras2" or c.backward_layer is not None,
          omit_reason=_derived_backward,
          doc="a custom layer run backwards (Keras only); null: `layer` run backwards"),
    # tfjs's Bidirectional sets trainable to true whatever it is given (wrappers.ts).
    *common_fields("bidirectional", trainable_ignored_by=("tfjs",)),
)


def _sides(config: LayerConfig) -> tuple[tuple[str, LayerConfig], tuple[str, LayerConfig]]:
    return (_FORWARD, config.layer), (_BACKWARD, backward_layer(config))


def _bidi_weights(config: LayerConfig, input_shape: tuple) -> list[Weight]:
    return [Weight(prefix + w.name, w.shape) for prefix, layer in _sides(config)
            for w in _inner_type(layer).weights(layer, input_shape)]


def _bidi_output_shape(config: LayerConfig, input_shape: tuple):
    (output, states), (output_rev, states_rev) = (
        (shapes[0], shapes[1:]) if isinstance(shapes, list) else (shapes, [])
        for shapes in (_inner_type(layer).output_shape(layer, input_shape)
                       for _, layer in _sides(config)))
    if config.merge_mode == "concat":
        merged = [(*output[:-1], output[-1] + output_rev[-1])]
    elif config.merge_mode is None:
        merged = [output, output_rev]
    else:
        merged = [output]
    shapes = [*merged, *states, *states_rev]
    return shapes if len(shapes) > 1 else shapes[0]


def _bidi_forward(config: LayerConfig, weights: dict, inputs: list, masks: list,
                  dtype) -> tuple:
    from ...runtime.engine import LayerWeights

    half = (len(inputs) - 1) // 2
    states = {_FORWARD: inputs[1:1 + half], _BACKWARD: inputs[1 + half:]}
    prepared = getattr(weights, "prepared", {})  # each side keeps its own, for a Runner
    (ys, y_masks), (rev, _) = (
        _inner_type(layer).forward(
            layer, LayerWeights({w.removeprefix(prefix): a for w, a in weights.items()
                                 if w.startswith(prefix)}, prepared.setdefault(prefix, {})),
            [inputs[0], *states[prefix]], masks, dtype)
        for prefix, layer in _sides(config))
    y, y_rev = ys[0], rev[0]
    if config.layer.return_sequences:
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
    forward = _weight_count(config.layer)
    return [f"{side}_layer/{path}" for (side, layer), n in
            zip((("forward", config.layer), ("backward", backward_layer(config))),
                (forward, count - forward), strict=True)
            for path in _inner_type(layer).keras3_paths(layer, n)]


REVERSED = ("Keras zeroes a Bidirectional's outputs at masked steps, and a direction that runs "
            "the other way than its wrapper expects (the wrapped layer's go_backwards=true, or a "
            "custom backward_layer going forwards) returns its sequence reversed, so those "
            "zeros land at steps the mask keeps; TensorFlow.js 4.22 repeats the previous output "
            "there, and the companion class zeroes the steps the mask names, not the reversed "
            "ones")


def _reversed_refusal(config: LayerConfig) -> dict[str, str]:
    """tfjs cannot compute a masked Bidirectional returning sequences whose direction comes
    back reversed: its values at masked steps sit at kept positions."""
    reversed_direction = config.layer.go_backwards or not backward_layer(config).go_backwards
    return {"tfjs": REVERSED} if config.layer.return_sequences and reversed_direction else {}


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
    skips_masked_steps=True,
    refuse_masked=_reversed_refusal,
    companion=ZEROING,
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
    """The wrapped layer over batch x steps samples, each with its step's slice of the mask
    (Keras 3); the input's mask passes on unchanged, as in Keras 3."""
    x = np.asarray(inputs[0])
    batch, steps = x.shape[:2]
    flat = x.reshape(batch * steps, *x.shape[2:])
    mask = masks[0]
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape[:2] != (batch, steps) or mask.ndim >= x.ndim:
            raise InputError(f"TimeDistributed layer '{config.name}' got a mask of shape "
                             f"{mask.shape} for inputs of shape {x.shape}")
        mask = mask.reshape(batch * steps, *mask.shape[2:])
    [y], _ = _inner_type(config.layer).forward(config.layer, weights, [flat], [mask], dtype)
    return [y.reshape(batch, steps, *y.shape[1:])], [masks[0]]


_TD_MASKS = {
    "tfjs": "TensorFlow.js 4.22's TimeDistributed hands the wrapped layer the whole [batch, "
            "steps, ...] mask at every step, not the step's slice: predict throws, or computes "
            "with the wrong mask",
    "keras2": "tf-keras's TimeDistributed gives its output the wrapped layer's mask, or the "
              "input's mask reduced to [batch, steps], where Keras 3 passes the input's mask on",
    "keras2.2": "standalone Keras 2.0-2.2's TimeDistributed does not hand the wrapped layer its "
                "mask in every version, and gives its output another mask than Keras 3's",
}


def _td_reads_mask(config: LayerConfig) -> bool:
    return _inner_type(config.layer).computes_with_mask(config.layer)


def _td_refuse_masked(config: LayerConfig) -> dict[str, str]:
    """The wrapped layer's own refusals; and where it computes with the mask, every runtime
    but Keras 3's, which hand it another mask or give the output another one."""
    refusals = dict(_TD_MASKS) if _td_reads_mask(config) else {}
    return {**refusals, **_inner_type(config.layer).masked_refusals(config.layer)}


def _td_after_read(values: dict, family: str, given: set[str]) -> None:
    if family == "tfjs":
        values["trainable"] = values["layer"].trainable  # tfjs reports the wrapped layer's


def _td_before_write(values: dict, family: str) -> dict[str, str]:
    if family == "tfjs":
        values["trainable"] = values["layer"].trainable
    return {}


def _td_for_input_shapes(config: LayerConfig, family: str, input_shapes: list[tuple]
                         ) -> LayerConfig:
    """The wrapped layer's config as written for one step's shape (tfjs's LayerNormalization
    writes its axes as built for it)."""
    inner = _inner_type(config.layer)
    if inner.for_input_shapes is None:
        return config
    steps = [(shape[0], *shape[2:]) for shape in input_shapes]
    return config.replace(layer=inner.for_input_shapes(config.layer, family, steps))


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
    for_input_shapes=_td_for_input_shapes,
    reads_mask=_td_reads_mask,
    refuse_masked=_td_refuse_masked,
    after_read=_td_after_read,
    before_write=_td_before_write,
    sequence_input=True,
    doc="Applies a layer to every timestep of a sequence.",
)
