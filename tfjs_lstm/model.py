"""The canonical model: layers (canonical configs), how they are called, and their weights.

Every file format reads into a `Model` and writes out of one; the runtime and `summary` work on
it. A Sequential model is held as the equivalent graph and remembers it was Sequential.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    """One call of a layer (a Keras 'inbound node') on tensors."""

    layer: str
    inputs: tuple[TensorRef, ...]


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

    def layer_calls(self, name: str) -> list[LayerCall]:
        return [call for call in self.calls if call.layer == name]

    def weight_specs(self, name: str, input_shapes: list[tuple]) -> list[Weight]:
        """The weights a layer's description implies for the input shapes of its first call."""
        config = self.layers[name]
        layer = REGISTRY[config.class_name]
        return layer.weights(config, layer.shape_argument(input_shapes))


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
    return reached


def makes_mask(config: LayerConfig) -> bool:
    """Whether the layer's output carries a mask of its own making (Masking, Embedding with
    mask_zero): one it computes from its input, whatever mask arrives."""
    layer = REGISTRY[config.class_name]
    return bool(layer.mask_out and layer.mask_out(config, False))


def _masked_outputs(config: LayerConfig, node: int) -> list[TensorRef]:
    """The outputs of a call that carry its mask: the first (both with merge_mode None)."""
    count = 2 if config.class_name == "Bidirectional" and config.merge_mode is None else 1
    return [TensorRef(config.name, node, index) for index in range(count)]


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


def sequential(name: str, configs: list[LayerConfig], *, source: str = "",
               file: str | None = None) -> Model:
    """A Sequential model as a chain; the first layer's batch input shape makes the input."""
    layers: dict[str, LayerConfig] = {}
    if not configs:
        raise InputError("a Sequential model needs at least one layer", file=file)
    if configs[0].class_name != "InputLayer":
        shape = getattr(configs[0], "batch_input_shape", None)
        if shape is None:
            raise InputError(f"the first layer '{configs[0].name}' declares no input shape",
                             file=file)
        input_config = _input_layer(f"{configs[0].name}_input", shape, configs[0].dtype)
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
    return checked_graph(Model(name, layers, calls, [TensorRef(configs[0].name)], [previous],
                               sequential=True, source=source), file)


def _input_layer(name: str, shape: tuple, dtype: str) -> LayerConfig:
    from .dialects import read

    return read("tfjs", {"batchInputShape": list(shape), "dtype": dtype, "name": name},
                class_name="InputLayer")
