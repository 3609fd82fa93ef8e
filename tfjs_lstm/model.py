"""The canonical model: layers (canonical configs), how they are called, and their weights.

Every file format reads into a `Model` and writes out of one; the runtime and `summary` work on
it. A Sequential model is held as the equivalent graph and remembers it was Sequential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError
from .layers import REGISTRY, LayerConfig, Weight


@dataclass(frozen=True)
class TensorRef:
    """An output tensor: output `index` of call `node` of layer `layer`."""

    layer: str
    node: int = 0
    index: int = 0


@dataclass(frozen=True)
class LayerCall:
    """One call of a layer (a Keras 'inbound node') on tensors; `kwargs` holds the call's
    settings that differ from their defaults (`LayerType.call_kwargs`), as (key, value) pairs."""

    layer: str
    inputs: tuple[TensorRef, ...]
    kwargs: tuple[tuple[str, Any], ...] = ()


STACKED = "StackedRNNCells"


@dataclass
class Model:
    """A whole layers model in canonical form."""

    name: str
    layers: dict[str, LayerConfig]
    calls: list[LayerCall]
    inputs: list[TensorRef]
    outputs: list[TensorRef]
    weights: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    sequential: bool = False
    source: str = ""
    scopes: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Layers inlined from nested models: the (name, class) of each enclosing nested model,
    outermost first; weight readers need it, since every format stores them by nesting."""
    stacked: bool = False
    """This is the chain of single-cell RNN layers an RNN over StackedRNNCells computes."""
    family: str = ""
    """'keras3' when read from a Keras 3 file, whose runtime computes some calls otherwise
    (`ignores_mask`); '' for tf-keras and tfjs files, which agree there."""

    @property
    def class_name(self) -> str:
        """The class a file names this model by when it is nested in another one."""
        if self.stacked:
            return STACKED
        return "Sequential" if self.sequential else "Functional"

    def layer_calls(self, name: str) -> list[LayerCall]:
        return [call for call in self.calls if call.layer == name]

    def weight_specs(self, name: str, input_shapes: list[tuple]) -> list[Weight]:
        """The weights a layer's description implies for the input shapes of its first call."""
        config = self.layers[name]
        layer = REGISTRY[config.class_name]
        return layer.weights(config, layer.shape_argument(input_shapes))


_TENSOR_OR_MASK_KWARGS = ("training", "mask", "initial_state")


def call_options(class_name: str, kwargs: dict[str, Any], file: str | None,
                 pointer: str) -> tuple[tuple[str, Any], ...]:
    """A call's non-default settings among the arguments its layer honours; any other
    argument set on a layer that has call arguments (return_attention_scores, an explicit
    attention_mask) is refused, since it would change what the call computes. A nested model
    (not a registered layer) has none."""
    layer = REGISTRY.get(class_name)
    if layer is None:
        return ()
    options = []
    for key, value in kwargs.items():
        if key in layer.call_kwargs:
            default = layer.call_kwargs[key]
            if type(value) is not type(default):
                raise InputError(f"call argument {key} must be {type(default).__name__}, found "
                                 f"{value!r}", file=file, pointer=f"{pointer}/{key}")
            if value != default:
                options.append((key, value))
        elif layer.call_kwargs and key not in _TENSOR_OR_MASK_KWARGS + layer.input_names \
                and value not in (None, False):
            raise InputError(f"{class_name} call argument {key}={value!r} is not supported",
                             file=file, pointer=f"{pointer}/{key}")
    return tuple(sorted(options))


def input_names(class_name: str) -> tuple[str, ...]:
    """The tensors a layer's call names beyond its first positional ones (MultiHeadAttention's
    value and key); none for a nested model."""
    layer = REGISTRY.get(class_name)
    return layer.input_names if layer is not None else ()


def checked_graph(model: Model, file: str | None) -> Model:
    """`model` with its calls in an order the engine can run them, or one line saying which
    call uses a tensor no layer makes (a dangling or cyclic `inbound_nodes`)."""
    for ref in model.inputs:
        if model.layers[ref.layer].class_name != "InputLayer" or ref.node or ref.index:
            raise InputError(f"model input {[ref.layer, ref.node, ref.index]} is not an "
                             "InputLayer's output", file=file)
        if model.layers[ref.layer].batch_input_shape is None:
            raise InputError(f"input layer '{ref.layer}' declares no input shape", file=file)
    made = set(model.inputs)
    node_counts: dict[str, int] = {}
    pending, ordered = list(model.calls), []
    while pending:
        ready = next((call for call in pending if all(r in made for r in call.inputs)
                      and not any(c.layer == call.layer for c in
                                  pending[:pending.index(call)])), None)
        if ready is None:
            call = pending[0]
            missing = next(r for r in call.inputs if r not in made)
            raise InputError(f"layer '{call.layer}' is called on tensor "
                             f"{[missing.layer, missing.node, missing.index]}, which no call of "
                             "the model makes first (a missing or cyclic inbound node)",
                             file=file)
        pending.remove(ready)
        ordered.append(ready)
        node = node_counts.get(ready.layer, 0)
        node_counts[ready.layer] = node + 1
        made.update(TensorRef(ready.layer, node, i) for i in range(_MAX_OUTPUTS))
    for ref in model.outputs:
        if ref not in made:
            raise InputError(f"model output {[ref.layer, ref.node, ref.index]} is made by no "
                             "call of the model", file=file)
    model.calls = ordered
    return model


_MAX_OUTPUTS = 8
"""A call makes at most this many tensors (Bidirectional with states: 1 + 2 + 2); an index
beyond what the layer really returns is caught by `output_shapes`."""


def masked_layers(model: Model) -> set[str]:
    """Layers some call of which receives a mask (from Embedding(mask_zero) or Masking),
    following each layer's `mask_out` rule; by default a layer passes its input's mask on."""
    return mask_flow(model)[1]


def mask_flow(model: Model) -> tuple[set[TensorRef], set[str]]:
    """The tensors that carry a mask, and the layers some call of which receives one."""
    carries: set[TensorRef] = set()
    reached: set[str] = set()
    node_counts: dict[str, int] = {}
    for call in model.calls:
        config = model.layers[call.layer]
        layer = REGISTRY[config.class_name]
        masked = any(ref in carries for ref in call.inputs)
        if masked:
            reached.add(call.layer)
        out = layer.mask_out(config, masked) if layer.mask_out else masked
        node = node_counts.get(call.layer, 0)
        node_counts[call.layer] = node + 1
        if out:
            carries.add(TensorRef(call.layer, node, 0))
    return carries, reached


KERAS3_STATES = ("Keras 3 fills a layer's mask argument only for a call on one tensor, so a "
                 "recurrent layer called with initial states runs over padded steps too (its "
                 "output still carries the mask)")


def ignores_mask(model: Model, call: LayerCall) -> bool:
    """Whether `model`'s runtime runs this call of a recurrent layer without its input's mask:
    Keras 3 does when the call has initial states (`KERAS3_STATES`); tf-keras and tfjs never."""
    layer = REGISTRY[model.layers[call.layer].class_name]
    return model.family == "keras3" and layer.skips_masked_steps and len(call.inputs) > 1


def masked_with_states(model: Model) -> list[str]:
    """Recurrent layers a mask reaches that are called with initial states: Keras 3 computes
    them otherwise than tf-keras and tfjs (`KERAS3_STATES`)."""
    reached = masked_layers(model)
    return sorted({call.layer for call in model.calls if call.layer in reached and
                   REGISTRY[model.layers[call.layer].class_name].skips_masked_steps
                   and len(call.inputs) > 1})


def passes_mask_to(config: LayerConfig) -> int:
    """How many of a masked call's outputs carry its mask: the first (both with merge_mode
    None), none if the layer drops it."""
    layer = REGISTRY[config.class_name]
    if layer.mask_out and not layer.mask_out(config, True):
        return 0
    return 2 if config.class_name == "Bidirectional" and config.merge_mode is None else 1


def makes_mask(config: LayerConfig) -> bool:
    """Whether the layer's output carries a mask of its own making (Masking, Embedding with
    mask_zero): one it computes from its input, whatever mask arrives."""
    layer = REGISTRY[config.class_name]
    return bool(layer.mask_out and layer.mask_out(config, False))


def _masked_outputs(config: LayerConfig, node: int) -> list[TensorRef]:
    """The outputs of a call that carry its mask (`passes_mask_to`)."""
    return [TensorRef(config.name, node, index) for index in range(passes_mask_to(config))]


def mask_escapes(model: Model) -> dict[str, str]:
    """Layers a mask reaches, with mask-only settings (`LayerType.without_mask`), whose values
    at masked steps reach a model output the mask does not cover: layer -> why (the first layer
    on the way that lets them out). Such values stay harmless while each layer computes a step
    from that step alone and passes the mask on, or skips masked steps (recurrent layers);
    Keras's losses and metrics skip what stays masked to a model output."""
    from .runtime.engine import output_shapes

    reached = masked_layers(model)
    shapes = output_shapes(model)
    users: dict[TensorRef, list[tuple[LayerCall, int]]] = {}
    nodes: dict[str, int] = {}
    called = []
    for call in model.calls:
        node = nodes.get(call.layer, 0)
        nodes[call.layer] = node + 1
        called.append((call, node))
        for ref in call.inputs:
            users.setdefault(ref, []).append((call, node))

    def escape(ref: TensorRef) -> str | None:
        for call, node in users.get(ref, []):
            config = model.layers[call.layer]
            layer = REGISTRY[config.class_name]
            what = f"layer '{call.layer}' ({config.class_name})"
            if ignores_mask(model, call):
                return f"{what} runs over them: {KERAS3_STATES}"
            if layer.skips_masked_steps and ref == call.inputs[0]:
                continue
            if layer.skips_masked_steps:
                return f"{what} takes them as an initial state"
            if makes_mask(config):
                return f"{what} computes a new mask from them"
            if layer.mixes_steps and layer.mixes_steps(config, len(shapes[ref])):
                return f"{what} mixes them into the other steps"
            if not (layer.mask_out(config, True) if layer.mask_out else True):
                return f"{what} drops the mask, so they reach its output"
            why = next(filter(None, map(escape, _masked_outputs(config, node))), None)
            if why:
                return why
        return None

    escapes = {}
    for call, node in called:
        config = model.layers[call.layer]
        layer = REGISTRY[config.class_name]
        if call.layer in reached and layer.without_mask and layer.mask_out(config, True):
            why = next(filter(None, map(escape, _masked_outputs(config, node))), None)
            if why:
                escapes[call.layer] = why
    return escapes


def for_family(model: Model, family: str, companion: bool = False
               ) -> dict[str, LayerConfig]:
    """Layer configs to write for `family`: where no mask arrives, or where values at masked
    steps stay masked to the model's outputs (`mask_escapes`), mask-only settings take the
    value the family can express (they cannot change an output Keras's losses and metrics
    see); layers that need their input shapes spelled out for the family get them
    (`LayerType.for_input_shapes`). With `companion`, a layer a mask reaches keeps its mask-only
    settings where the companion package computes them (exact on every position)."""
    from .runtime.engine import output_shapes

    reached = masked_layers(model)
    escapes = mask_escapes(model) if reached else {}
    shapes = None
    configs = {}
    for name, config in model.layers.items():
        layer = REGISTRY[config.class_name]
        exact = companion and family == "tfjs" and layer.companion is not None and \
            layer.companion.needed(config)
        if layer.without_mask and (name not in reached or (name not in escapes and not exact)):
            config = layer.without_mask(config, family)
        if layer.for_input_shapes:
            shapes = shapes or output_shapes(model)
            config = layer.for_input_shapes(config, family, [
                shapes[call.inputs[0]] for call in model.layer_calls(name)])
        configs[name] = config
    return configs


def sequential(name: str, configs: list[LayerConfig | Model], *, source: str = "",
               file: str | None = None) -> Model:
    """A Sequential model as a chain; the first layer's batch input shape makes the input.
    A nested model among the layers is inlined (`inline_nested`)."""
    layers: dict[str, LayerConfig | Model] = {}
    if not configs:
        raise InputError("a Sequential model needs at least one layer", file=file)
    if configs[0].class_name != "InputLayer":
        first = configs[0]
        if isinstance(first, Model):
            first = first.layers[first.inputs[0].layer]
        shape = getattr(first, "batch_input_shape", None)
        if shape is None:
            raise InputError(f"the first layer '{configs[0].name}' declares no input shape",
                             file=file)
        input_config = input_layer(f"{configs[0].name}_input", shape, first.dtype)
        configs = [input_config, *configs]
    calls = []
    previous = None
    for config in configs:
        if config.name in layers:
            raise InputError(f"two layers are named '{config.name}'", file=file)
        layers[config.name] = config
        if config.class_name != "InputLayer":
            calls.append(LayerCall(config.name, (previous,)))
        previous = TensorRef(config.name, 0, 0)
    return checked_graph(inline_nested(Model(name, layers, calls, [TensorRef(configs[0].name)],
                                             [previous], sequential=True, source=source),
                                       file), file)


def inline_nested(model: Model, file: str | None) -> Model:
    """`model` with each nested model among its layers (already flat itself) replaced by its
    layers, called on the tensors the nested model was called on: the same function, which
    every format can hold. Only a nested model called once is read; an inner layer named like
    another layer of the model is refused, as renaming it would break its weights' names.
    Keras 3 numbers that call node 0; tf-keras and tfjs count the node that built the nested
    model on its own inputs first (tf-keras `_should_skip_first_node`), so the call is node 1:
    both name the one call."""
    if not any(isinstance(item, Model) for item in model.layers.values()):
        return model
    layers: dict[str, LayerConfig] = {}
    scopes = dict(model.scopes)
    replaced: dict[TensorRef, TensorRef] = {}
    inner_calls: dict[str, list[LayerCall]] = {}
    for name, item in model.layers.items():
        if not isinstance(item, Model):
            layers[name] = item
            continue
        outer = model.layer_calls(name)
        if len(outer) != 1 or len(outer[0].inputs) != len(item.inputs):
            raise InputError(f"nested model '{name}' is called {len(outer)} times or on another "
                             "number of tensors than it takes; a nested model is read only "
                             "when called once, on its inputs", file=file)
        bound = dict(zip(item.inputs, outer[0].inputs, strict=True))
        for inner, config in item.layers.items():
            if TensorRef(inner) in bound:
                continue  # the nested model's input layers are the tensors it is called on
            if inner in model.layers or inner in layers:
                raise InputError(f"nested model '{name}' has a layer named '{inner}', as "
                                 "another layer of the model is", file=file)
            layers[inner] = config
            scopes[inner] = ((name, item.class_name), *item.scopes.get(inner, ()))
        inner_calls[name] = [LayerCall(call.layer, tuple(bound.get(r, r) for r in call.inputs),
                                       call.kwargs) for call in item.calls]
        replaced.update({TensorRef(name, node, index): bound.get(ref, ref) for node in (0, 1)
                         for index, ref in enumerate(item.outputs)})

    def resolve(ref: TensorRef) -> TensorRef:
        for _ in range(len(replaced) + 1):  # a cycle of nested models ends here
            if ref not in replaced:
                return ref
            ref = replaced[ref]
        raise InputError("nested models are called on each other's outputs in a cycle",
                         file=file)

    calls = [LayerCall(call.layer, tuple(resolve(r) for r in call.inputs), call.kwargs)
             for outer in model.calls
             for call in inner_calls.get(outer.layer, [outer])]
    return Model(model.name, layers, calls, [resolve(r) for r in model.inputs],
                 [resolve(r) for r in model.outputs], model.weights, model.sequential,
                 model.source, scopes, family=model.family)


def input_layer(name: str, shape: tuple, dtype: str) -> LayerConfig:
    from .dialects import read

    return read("tfjs", {"batchInputShape": list(shape), "dtype": dtype, "name": name},
                class_name="InputLayer")
