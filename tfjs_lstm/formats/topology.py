"""Keras-2-style topology JSON (what tf-keras `.h5`/`to_json()` and tfjs `model.json` hold) <->
canonical `Model`, with layer configs in a given dialect (`keras2` or `tfjs-json`)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np

from .. import __version__, dialects
from .. import companion as companions
from ..casing import keys_as_read
from ..errors import InputError, NotExpressibleError, Problem
from ..layers import LayerConfig
from ..layers.rnn.rnn import LAYER_OF_CELL
from ..model import (
    STACKED,
    LayerCall,
    Model,
    TensorRef,
    call_options,
    checked_graph,
    for_family,
    inline_nested,
    input_layer,
    input_names,
    mask_escapes,
    masked_layers,
    sequential,
)
from ..runtime.engine import output_shapes
from . import refusals
from .untrusted import expect, nonnegative_index


def model_topology(document: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The model config in a model.json and its pointer: tfjs's model.save() writes it as
    `modelTopology`, the converter as `modelTopology.model_config` beside keras_version,
    backend and training_config (which tfjs reads only to compile the model). Its keys are
    spelled as tfjs reads them (`as_read`)."""
    topology, pointer = as_read(document)["modelTopology"], "/modelTopology"
    if isinstance(topology.get("model_config"), dict):
        return topology["model_config"], f"{pointer}/model_config"
    return topology, pointer


def as_read(document: dict[str, Any]) -> dict[str, Any]:
    """A model.json whose model config has its keys spelled snake_case as tfjs reads them:
    tfjs camelCases every key of it, so a camelCase `className` is tfjs's `class_name`
    (`casing.keys_as_read`). tfjs looks for `model_config` as spelled, so that key is not."""
    topology = document["modelTopology"]
    if isinstance(topology.get("model_config"), dict):
        topology = {**topology, "model_config": keys_as_read(topology["model_config"])}
    else:
        topology = keys_as_read(topology)
    return {**document, "modelTopology": topology}


def keras3_forms(topology: dict[str, Any], pointer: str) -> list[tuple[str, str]]:
    """(pointer, what) of each Keras 3 form in a topology, which TensorFlow.js 4.22 cannot load:
    the converter copies a Keras 3 model config verbatim (tfjs issues 8328, 8358, 8489, 8494)."""
    config = topology.get("config")
    entries = config.get("layers") if isinstance(config, dict) else None
    found = []
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
            continue
        at = f"{pointer}/config/layers/{index}"
        if entry.get("class_name") == "InputLayer" and "batch_shape" in entry["config"]:
            found.append((f"{at}/config/batch_shape", "InputLayer batch_shape"))
        if _has_policy(entry["config"]):
            found.append((f"{at}/config", "DTypePolicy dtypes"))
        nodes = entry.get("inbound_nodes")
        if isinstance(nodes, list) and any(isinstance(node, dict) for node in nodes):
            found.append((f"{at}/inbound_nodes", "{args, kwargs} inbound nodes"))
    return found


def _has_policy(config: Any) -> bool:
    """A DTypePolicy dict as a dtype, in a config or a layer it wraps."""
    if not isinstance(config, dict):
        return False
    if isinstance(config.get("dtype"), dict):
        return True
    return any(_has_policy(value.get("config")) for value in config.values()
               if isinstance(value, dict))


def topology_to_model(topology: dict[str, Any], file: str, pointer: str,
                      dialect: str = "tfjs-json", notes: list[str] | None = None,
                      nested_in: list[Problem] | None = None) -> Model:
    """A Keras-2-style topology (what tfjs and tf-keras write) as a canonical model.

    A key the runtime ignores that matters only where a mask arrives is refused only for the
    layers a mask reaches; a nested model leaves that to the model it is in (`nested_in`
    collects its problems), since a mask may arrive from there."""
    expect(topology, dict, file, pointer, "a model topology object")
    class_name = expect(topology.get("class_name"), str, file, f"{pointer}/class_name",
                        "the model's class name")
    config = expect(topology.get("config"), (dict, list), file, f"{pointer}/config",
                    "the model config")
    layer_list = config.get("layers") if isinstance(config, dict) else config
    base = f"{pointer}/config/layers" if isinstance(config, dict) else f"{pointer}/config"
    expect(layer_list, list, file, base, "a list of layers")
    mask_problems: list[Problem] = [] if nested_in is None else nested_in
    configs = read_layers(layer_list, dialect, file, base, notes, mask_problems)
    name = config.get("name", "model") if isinstance(config, dict) else "model"
    name = expect(name, str, file, f"{pointer}/config/name", "the model's name")
    if class_name == "Sequential":
        model = sequential(name, configs, file=file)
        return model if nested_in is not None else _refuse_masked(model, mask_problems, file)
    if class_name not in ("Model", "Functional"):
        raise InputError(f"unknown model class {class_name!r}", file=file,
                         pointer=f"{pointer}/class_name")
    layers = {c.name: c for c in configs}
    if len(layers) != len(configs):
        raise InputError("two layers have the same name", file=file, pointer=base)
    calls = []
    for index, entry in enumerate(layer_list):
        nodes = entry.get("inbound_nodes") or []
        expect(nodes, list, file, f"{base}/{index}/inbound_nodes", "a list of inbound nodes")
        for node_index, node in enumerate(nodes):
            at = f"{base}/{index}/inbound_nodes/{node_index}"
            if not isinstance(node, list):
                raise InputError("expected a list of [layer, node, tensor, kwargs] (Keras 3's "
                                 "{args, kwargs} form is not what tfjs reads)", file=file,
                                 pointer=at)
            calls.append(_call(configs[index], node, layers, file, at))
    inputs = [_ref(item, layers, file, f"{pointer}/config/input_layers")
              for item in _refs(config.get("input_layers"))]
    outputs = [_ref(item, layers, file, f"{pointer}/config/output_layers")
               for item in _refs(config.get("output_layers"))]
    model = checked_graph(inline_nested(Model(name, layers, calls, inputs, outputs), file), file)
    return model if nested_in is not None else _refuse_masked(model, mask_problems, file)


def _call(config: LayerConfig, node: list, layers: dict, file: str, at: str) -> LayerCall:
    """One inbound node: a tensor per entry, then the tensors its first entry's kwargs name
    (tf-keras's MultiHeadAttention: `[[query..., {"value": [...], "key": [...]}]]`); the
    call's settings come from the first entry's kwargs too."""
    refs = [_ref(item, layers, file, f"{at}/{k}") for k, item in enumerate(node)]
    kwargs = node[0][3] if node and isinstance(node[0], list) and len(node[0]) > 3 else {}
    kwargs = expect(kwargs if kwargs is not None else {}, dict, file, f"{at}/0/3",
                    "the call's keyword arguments")
    for name in input_names(config.class_name)[len(refs):]:
        if kwargs.get(name) is not None:
            refs.append(_ref(kwargs[name], layers, file, f"{at}/0/3/{name}"))
    layer = dialects.REGISTRY.get(config.class_name)
    if len(refs) == 1 and layer is not None and layer.companion and layer.companion.always:
        refs *= 2  # a companion class called on one tensor: [h, h] (`tfjs_inputs`)
    return LayerCall(config.name, tuple(refs),
                     call_options(config.class_name, kwargs, file, f"{at}/0/3"))


def _refuse_masked(model: Model, mask_problems: list[Problem], file: str) -> Model:
    """Raise the problems of the layers (or wrapped layers) a mask reaches."""
    reached = masked_layers(model)
    problems = [p for p in mask_problems if p.layer.split("/")[0] in reached]
    if problems:
        raise NotExpressibleError(problems, file=file, reading=True)
    return model


def _refs(value: Any) -> list:
    """input_layers/output_layers: a list of [name, node, index], or one such triple."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value]
    return value if isinstance(value, list) else []


def _ref(item: Any, layers: dict, file: str, at: str) -> TensorRef:
    if not isinstance(item, list) or len(item) < 3 or not isinstance(item[0], str) \
            or item[0] not in layers:
        raise InputError(f"expected [layer_name, node_index, tensor_index] naming a layer of "
                         f"this model, found {json.dumps(item)[:80]}", file=file, pointer=at)
    return TensorRef(item[0], nonnegative_index(item[1], file, f"{at}/1", "a node index"),
                     nonnegative_index(item[2], file, f"{at}/2", "a tensor index"))


NESTED_MODELS = ("Sequential", "Model", "Functional")


def read_layers(entries: list, dialect: str, file: str, base: str,
                notes: list[str] | None = None,
                mask_problems: list[Problem] | None = None) -> list:
    """Read every layer config, and each nested model as a flat `Model`; one error lists
    every unsupported or unreadable layer. `notes` and `mask_problems` collect what
    `dialects.read` reports in them."""
    configs, problems = [], []
    for position, entry in enumerate(entries):
        at = f"{base}/{position}"
        expect(entry, dict, file, at, "a layer {class_name, config}")
        class_name = expect(entry.get("class_name"), str, file, f"{at}/class_name",
                            "a layer class name")
        layer_config = expect(entry.get("config", {}), dict, file, f"{at}/config",
                              "a layer config object")
        name = layer_config.get("name", "?")
        cells = _stacked_cells(layer_config)
        if class_name in NESTED_MODELS or (class_name == "RNN" and cells is not None):
            try:
                configs.append(_stacked_rnn(entry, cells, dialect, file, at, notes,
                                            mask_problems) if class_name == "RNN" else
                               _nested_model(entry, dialect, file, at, notes, mask_problems))
            except NotExpressibleError as error:
                problems.extend(error.problems)
            continue
        class_name = dialects.canonical_class(class_name, dialect)
        if class_name not in dialects.REGISTRY or class_name in LAYER_OF_CELL:
            reason = ("Lambda layers hold Python code, which is never executed here"
                      if class_name == "Lambda" else "a cell runs only inside an RNN layer"
                      if class_name in LAYER_OF_CELL else "this layer type is not supported")
            problems.append(Problem(str(name), "class_name", dialect, f"{class_name}: {reason}"))
            continue
        try:
            configs.append(dialects.read(dialect, entry, file=file, pointer=at, notes=notes,
                                         mask_problems=mask_problems))
        except NotExpressibleError as error:
            problems.extend(error.problems)
    if problems:
        raise NotExpressibleError(problems, file=file, reading=True)
    return configs


def _nested_model(entry: dict, dialect: str, file: str, at: str, notes: list[str] | None,
                  mask_problems: list[Problem] | None) -> Model:
    """A model used as a layer, read as its file's runtime reads a model."""
    if dialect == "keras3":
        from .keras3_file import config_to_model

        return config_to_model(entry, file, at)
    model = topology_to_model(entry, file, at, dialect, notes,
                              [] if mask_problems is None else mask_problems)
    if notes is not None:
        notes.append(f"nested model '{model.name}' is read as its layers, inlined: the same "
                     "function, written flat")
    return model


def _stacked_cells(config: dict) -> list | None:
    """The cells of an RNN over StackedRNNCells (or over a list of cells), else None."""
    cell = config.get("cell")
    if isinstance(cell, list):
        return cell
    if isinstance(cell, dict) and cell.get("class_name") == STACKED:
        cells = cell.get("config", {}).get("cells") if isinstance(cell.get("config"), dict) \
            else None
        return cells if isinstance(cells, list) else []
    return None


def _stacked_rnn(entry: dict, cells: list, dialect: str, file: str, at: str,
                 notes: list[str] | None, mask_problems: list[Problem] | None) -> Model:
    """An RNN over StackedRNNCells as the chain of single-cell RNN layers it computes (each
    cell's output sequence is the next one's input, in every runtime's StackedRNNCells.call),
    nested so that readers find the weights where the file keeps them. The stack's states
    (return_state, initial states) and go_backwards, whose reversed sequence the chain would
    hand on with an unreversed mask, are refused."""
    config = entry["config"]
    name = str(config.get("name", "rnn"))
    problems = [Problem(name, key, dialect, f"{key} over StackedRNNCells is not supported "
                        "(only the stacked cells' output is read)")
                for key in ("return_state", "go_backwards") if config.get(key)]
    if not cells:
        problems.append(Problem(name, "cell", dialect, "StackedRNNCells without cells"))
    if problems:
        raise NotExpressibleError(problems, file=file, reading=True)
    own = {key: value for key, value in config.items() if key not in ("cell", "cells")}
    layers = []
    for index, cell in enumerate(cells):
        last = index == len(cells) - 1
        cell_config = cell.get("config") if isinstance(cell, dict) else None
        layer = {**own, "cell": cell, "name": cell_config.get("name", f"{name}_cell_{index}")
                 if isinstance(cell_config, dict) else f"{name}_cell_{index}"}
        if not last:
            layer["return_sequences"] = True
            if "zero_output_for_mask" in own:
                layer["zero_output_for_mask"] = False
        if index:
            layer.pop("batch_input_shape", None)
        layers.append({**entry, "config": layer})
    configs = read_layers(layers, dialect, file, f"{at}/config/cell", notes, mask_problems)
    chain = sequential(name, [input_layer(f"{name}_input", (None,), "float32"), *configs],
                       file=file)
    chain.stacked = True
    return chain


def tfjs_weight_names(model: Model, layer: str, weights: list[str],
                      nested: bool = True) -> list[str]:
    """Full tfjs names (`lstm/kernel`, `bidi/forward_lstm/kernel`) of a layer's weights; a
    cell of a stack as tfjs names it (`rnn/RNNCell_0/kernel`: StackedRNNCells.build scopes
    each cell so) unless `nested` is False (a model written flat)."""
    config = model.layers[layer]
    names = dialects.REGISTRY[config.class_name].tfjs_names(config, weights)
    scope = model.scopes.get(layer, ())[-1:] if nested else ()
    if scope and scope[0][1] == STACKED:
        index = [n for n in model.layers if model.scopes.get(n) == model.scopes[layer]
                 ].index(layer)
        return [f"{scope[0][0]}/RNNCell_{index}/{name}" for name in names]
    return [f"{layer}/{name}" for name in names]


def tfjs_weight_index(model: Model) -> dict[str, tuple[str, str]]:
    """Every weight's full tfjs name -> (layer, weight name in the layer's description)."""
    return {full_name: (layer, weight) for layer, arrays in model.weights.items()
            for full_name, weight in zip(tfjs_weight_names(model, layer, list(arrays), False),
                                         arrays, strict=True)}


def assign_weights(model: Model, arrays: dict[str, np.ndarray], file: str,
                   scope: str | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Match tfjs weight names to layers the way tfjs does, and check every shape.

    tfjs takes a weight's exact name, or else the name without its second-to-last token, which
    is how the Python converter's `lstm/lstm_cell/kernel` finds `lstm/kernel`. Some Keras 3
    releases (3.8, seen in a real file) scoped names by the model too
    (`sequential/lstm/lstm_cell/kernel`): a `scope` given is dropped from the front first.
    With a scope (a Keras 3 topology), a wrapper's weights are also found without the wrapper's
    name, as Keras 3 names its sublayers' variables (`forward_lstm/lstm_cell/kernel`).
    """
    by_name = dict(arrays)
    for full_name in arrays:
        tokens = full_name.split(":")[0].split("/")
        if scope is not None and len(tokens) > 2 and tokens[0] == scope:
            tokens = tokens[1:]
            by_name.setdefault("/".join(tokens), arrays[full_name])
        if len(tokens) > 2:
            by_name.setdefault("/".join(tokens[:-2] + tokens[-1:]), arrays[full_name])
    shapes = output_shapes(model)
    by_layer: dict[str, dict[str, np.ndarray]] = {}
    used = set()
    for name in model.layers:
        calls = model.layer_calls(name)
        if not calls:
            continue
        specs = model.weight_specs(name, [shapes[r] for r in calls[0].inputs])
        expected = tfjs_weight_names(model, name, [spec.name for spec in specs])
        for spec, full_name in zip(specs, expected, strict=True):
            unwrapped = full_name.split("/", 1)[1] if scope is not None and \
                full_name.count("/") > 1 else None
            found = full_name if full_name in by_name else unwrapped
            if found in by_name:
                by_layer.setdefault(name, {})[spec.name] = by_name[found]
                used.add(id(by_name[found]))
    unused = [n for n, a in arrays.items() if id(a) not in used]
    if unused:
        raise InputError(f"weight '{unused[0]}' matches no weight of this model's layers",
                         file=file, pointer="/weightsManifest")
    return check_weights(model, by_layer, file)


def check_weights(model: Model, by_layer: dict[str, dict[str, np.ndarray]],
                  file: str) -> dict[str, dict[str, np.ndarray]]:
    """Every layer has exactly the weights its description says, with the right shapes."""
    shapes = output_shapes(model)
    checked = {}
    for name in model.layers:
        calls = model.layer_calls(name)
        if not calls:
            continue
        expected = model.weight_specs(name, [shapes[r] for r in calls[0].inputs])
        given = by_layer.get(name, {})
        missing = [w.name for w in expected if w.name not in given]
        extra = sorted(set(given) - {w.name for w in expected})
        if missing or extra:
            raise InputError(f"layer '{name}' needs weights {[w.name for w in expected]}; "
                             f"missing {missing}, unexpected {extra}", file=file)
        for spec in expected:
            if tuple(given[spec.name].shape) != spec.shape:
                raise InputError(f"weight '{name}/{spec.name}' has shape "
                                 f"{list(given[spec.name].shape)}, the layer config implies "
                                 f"{list(spec.shape)}", file=file)
        if expected:
            checked[name] = {spec.name: given[spec.name] for spec in expected}
    return checked


def write_layer_configs(model: Model, dialect: str, companion: bool = False
                        ) -> tuple[dict[str, dialects.MapResult], dict[str, dict[str, Any]],
                                   list[str], list[str]]:
    """Every layer written in `dialect`, the weights with the transforms they need applied,
    the transforms' descriptions and the notes. One NotExpressibleError lists every layer the
    target cannot compute exactly; mask-only settings are relaxed where no mask arrives.
    `companion` allows the companion package's classes."""
    results, transforms, notes = {}, [], []
    problems = refusals.target_problems(model, dialect, companion)
    weights = {name: dict(arrays) for name, arrays in model.weights.items()}
    family = dialects.FAMILY_OF[dialect]
    escapes = mask_escapes(model) if masked_layers(model) else {}
    for name, config in for_family(model, family, companion).items():
        try:
            result = dialects.write(dialect, config, companion=companion)
        except NotExpressibleError as error:
            problems.extend(_masked_steps_why(error.problems, config, dialect, companion,
                                              escapes.get(name)))
            continue
        results[name] = result
        notes.extend(result.notes)
        for transform in result.transforms:
            weights[name] = transform.apply(weights.get(name, {}))
            transforms.append(transform.describe())
    if problems:
        raise NotExpressibleError(problems)
    return results, weights, transforms, notes


def _masked_steps_why(problems: list[Problem], config: dialects.LayerConfig, dialect: str,
                      companion: bool, escape: str | None) -> list[Problem]:
    """A mask-only setting the target cannot express is refused only because values at masked
    steps escape the mask: those problems (the ones its mask-free config has not) say where."""
    if escape is None:
        return problems
    relaxed = dialects.REGISTRY[config.class_name].without_mask(
        config, dialects.FAMILY_OF[dialect])
    try:
        dialects.write(dialect, relaxed, companion=companion)
        remaining: set = set()
    except NotExpressibleError as error:
        remaining = {(p.layer, p.key) for p in error.problems}
    return [p if (p.layer, p.key) in remaining else
            replace(p, reason=f"{p.reason}; values at masked steps differ, and {escape}")
            for p in problems]


def model_to_topology(model: Model, dialect: str = "tfjs-json", companion: bool = False
                      ) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]], list[str],
                                 list[str]]:
    """The Keras-2-style topology, the weights the target needs, transforms and notes;
    `companion` writes the companion package's class where tfjs's own cannot compute a layer.

    tfjs's Sequential form puts the input shape on the first layer; tf-keras's keeps the
    InputLayer. Raises NotExpressibleError listing every layer the target cannot compute
    exactly, before any file is written.
    """
    results, weights, transforms, notes = write_layer_configs(model, dialect, companion)
    written = {name: result.config for name, result in results.items()}
    if model.sequential:
        layers = []
        first = dialect == "tfjs-json"
        for name, config in model.layers.items():
            if config.class_name == "InputLayer" and first:
                continue
            entry = dict(written[name])
            if first:
                entry["batch_input_shape"] = list(model.layers[model.inputs[0].layer]
                                                  .batch_input_shape)
                first = False
            layers.append({"class_name": results[name].class_name, "config": entry})
        topology_config: dict[str, Any] = {"name": model.name, "layers": layers}
        class_name = "Sequential"
    else:
        layers = []
        for name in model.layers:
            nodes = [_node(model, call, dialects.FAMILY_OF[dialect] == "tfjs")
                     for call in model.layer_calls(name)]
            layers.append({"name": name, "class_name": results[name].class_name,
                           "config": written[name], "inbound_nodes": nodes})
        topology_config = {
            "name": model.name, "layers": layers,
            "input_layers": [[r.layer, r.node, r.index] for r in model.inputs],
            "output_layers": [[r.layer, r.node, r.index] for r in model.outputs],
        }
        class_name = "Model"
    backend = "tensor_flow.js" if dialect == "tfjs-json" else "tensorflow"
    topology = {"class_name": class_name, "config": topology_config,
                "keras_version": f"tfjs-lstm {__version__}", "backend": backend}
    return topology, weights, transforms, notes


def _node(model: Model, call: LayerCall, tfjs: bool) -> list:
    """An inbound node as tf-keras writes it: every entry carries the call's settings; a layer
    called on named tensors has one entry, the query, naming the others in its kwargs (tfjs
    passes kwargs to its call as they are, so there each tensor is an entry)."""
    options = dict(call.kwargs)
    layer = dialects.REGISTRY[model.layers[call.layer].class_name]
    names = layer.input_names
    if tfjs:
        return [[ref.layer, ref.node, ref.index, options]
                for ref in companions.tfjs_inputs(layer.companion, call.inputs)]
    if names:
        first = call.inputs[0]
        named = {name: [ref.layer, ref.node, ref.index]
                 for name, ref in zip(names[1:], call.inputs[1:], strict=False)}
        return [[first.layer, first.node, first.index, {**named, **options}]]
    return [[ref.layer, ref.node, ref.index, options] for ref in call.inputs]
