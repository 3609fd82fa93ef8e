"""Keras 3 `.keras` files (a zip of config.json, metadata.json, model.weights.h5) <-> `Model`.

Weights live in the h5 under paths Keras makes from class names, not layer names
(`layers/lstm/cell/vars/0`, `layers/dense_1/vars/1`); each `vars` group's `name` attribute holds
the layer name, which is how they are matched here. Nothing in the file is ever executed.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .. import __version__, dialects
from ..errors import InputError
from ..model import (
    STACKED,
    LayerCall,
    Model,
    TensorRef,
    call_options,
    checked_graph,
    inline_nested,
    input_names,
    sequential,
)
from ..runtime.engine import output_shapes
from .atomic import staged_file
from .hdf5 import child, open_hdf5, read_dataset
from .keras_zip import member_file, open_archive, read_member
from .topology import check_weights, read_layers, write_layer_configs
from .untrusted import MAX_JSON_BYTES, expect, nonnegative_index, parse_json

MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}
MAX_MEMBER_BYTES = {"config.json": MAX_JSON_BYTES, "metadata.json": 1 << 20,
                    "model.weights.h5": 16 << 30}
KERAS_VERSION = "3.15.1"


def read_keras3(path: str | os.PathLike) -> Model:
    """Read a Keras 3 `.keras` file into a canonical model with weights."""
    where = str(path)
    with open_archive(path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        for name, info in infos.items():
            if name not in MEMBERS and not name.startswith("assets/"):
                raise InputError(f"unexpected member {name!r} in the .keras zip", file=where)
            limit = MAX_MEMBER_BYTES.get(name, 1 << 30)
            if info.file_size > limit:
                raise InputError(f"member {name!r} declares {info.file_size} bytes, over the "
                                 f"{limit}-byte bound", file=where)
        for required in ("config.json", "model.weights.h5"):
            if required not in infos:
                raise InputError(f"the .keras zip has no {required}", file=where)
        config = _member_json(archive, infos["config.json"], where)
        metadata = _member_json(archive, infos["metadata.json"], where) \
            if "metadata.json" in infos else {}
        model = config_to_model(strip_shared_ids(config), f"{where}!config.json")
        version = metadata.get("keras_version", "?") if isinstance(metadata, dict) else "?"
        model.source = f"keras v{version}"
        model.family = "keras3"
        weights_file = f"{where}!model.weights.h5"
        with member_file(archive, infos["model.weights.h5"], _weights_bound(model),
                         where) as data, open_hdf5(data, weights_file) as h5:
            by_layer = _read_h5_weights(h5, model, weights_file)
    model.weights = check_weights(model, by_layer, weights_file)
    return model


def _member_json(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> Any:
    return parse_json(read_member(archive, info, MAX_MEMBER_BYTES[info.filename], where),
                      f"{where}!{info.filename}")


def _weights_bound(model: Model) -> int:
    """The most bytes a model.weights.h5 for this config can hold: its weights as float64 (the
    widest dtype read) and room for HDF5's own structures."""
    shapes = output_shapes(model)
    total = 0
    for name in model.layers:
        calls = model.layer_calls(name)
        if calls:
            total += sum(math.prod(spec.shape) for spec in
                         model.weight_specs(name, [shapes[r] for r in calls[0].inputs]))
    return 8 * total + (16 << 20)


def strip_shared_ids(value: Any) -> Any:
    """Keras 3 marks shared objects with `shared_object_id`; it carries no config."""
    if isinstance(value, dict):
        return {k: strip_shared_ids(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list):
        return [strip_shared_ids(v) for v in value]
    return value


def config_to_model(config: Any, file: str, pointer: str = "") -> Model:
    """Keras 3's model config (Sequential or Functional) as a canonical model; `pointer` says
    where the config sits in its file (a model.json's `/modelTopology/model_config`)."""
    expect(config, dict, file, pointer, "a model config object")
    class_name = expect(config.get("class_name"), str, file, f"{pointer}/class_name",
                        "the model's class name")
    body = expect(config.get("config") or {}, dict, file, f"{pointer}/config",
                  "the model's config")
    entries = expect(body.get("layers"), list, file, f"{pointer}/config/layers",
                     "a list of layers")
    mask_ops = _mask_only_ops(entries)
    indexed = [(i, e) for i, e in enumerate(entries)
               if not (isinstance(e, dict) and _entry_name(e) in mask_ops)]
    configs = read_layers([e for _, e in indexed], "keras3", file, f"{pointer}/config/layers")
    entries = [e for _, e in indexed]
    name = expect(body.get("name", "model"), str, file, "/config/name", "the model's name")
    if class_name == "Sequential":
        return sequential(name, configs, file=file)
    if class_name not in ("Functional", "Model"):
        raise InputError(f"model class {class_name!r} is not supported (subclassed models "
                         "hold Python code)", file=file, pointer=f"{pointer}/class_name")
    layers = {c.name: c for c in configs}
    if len(layers) != len(configs):
        raise InputError("two layers have the same name", file=file, pointer="/config/layers")
    calls = []
    for (index, entry), config in zip(indexed, configs, strict=True):
        nodes = expect(entry.get("inbound_nodes") or [], list, file,
                       f"{pointer}/config/layers/{index}/inbound_nodes", "a list of inbound nodes")
        for node_index, node in enumerate(nodes):
            at = f"{pointer}/config/layers/{index}/inbound_nodes/{node_index}"
            expect(node, dict, file, at, "a Keras 3 inbound node {args, kwargs}")
            kwargs = expect(node.get("kwargs") or {}, dict, file, f"{at}/kwargs",
                            "the call's keyword arguments")
            refs = tuple(_keras_tensors(node.get("args", []), layers, file, at))
            named = input_names(config.class_name)[len(refs):]
            refs += tuple(_keras_tensors([kwargs.get(n) for n in named if kwargs.get(n)],
                                         layers, file, f"{at}/kwargs"))
            refs += tuple(_keras_tensors(kwargs.get("initial_state") or [], layers, file, at))
            if not refs:
                raise InputError("the call has no input tensor", file=file, pointer=at)
            if kwargs.get("mask") is not None:
                _check_propagated_mask(refs[0], layers, calls, file, at)
                if len(refs) > 1 and dialects.REGISTRY[config.class_name].skips_masked_steps:
                    raise InputError(f"layer '{config.name}' gets an explicit mask= and initial "
                                     "states: Keras 3 then skips padded steps, which a Keras 3 "
                                     "file's layers called with initial states are run without; "
                                     "not supported", file=file, pointer=f"{at}/kwargs/mask")
            calls.append(LayerCall(config.name, refs, call_options(
                config.class_name, kwargs, file, f"{at}/kwargs")))
    inputs = [_triple(item, layers, file, f"{pointer}/config/input_layers")
              for item in _triples(body.get("input_layers"))]
    outputs = [_triple(item, layers, file, f"{pointer}/config/output_layers")
               for item in _triples(body.get("output_layers"))]
    return checked_graph(inline_nested(Model(name, layers, calls, inputs, outputs), file), file)


def _entry_name(entry: dict) -> str:
    config = entry.get("config")
    name = entry.get("name") or (config.get("name") if isinstance(config, dict) else None)
    return name if isinstance(name, str) else ""


def _history_names(value: Any) -> list[str]:
    """Layer names of every `__keras_tensor__` inside a node's args or kwargs."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = value.get("config")
        history = history.get("keras_history") if isinstance(history, dict) else None
        return [history[0]] if isinstance(history, list) and history else []
    if isinstance(value, dict):
        return [name for item in value.values() for name in _history_names(item)]
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in _history_names(item)]
    return []


def _mask_only_ops(entries: list) -> set[str]:
    """Op nodes (NotEqual, Any...) that Keras 3 records only to compute a `mask=` argument.

    The runtimes propagate masks from Embedding(mask_zero) and Masking themselves, so these
    nodes are dropped; `_check_propagated_mask` makes sure such a mask really arrives.
    """
    ops = {_entry_name(e) for e in entries if isinstance(e, dict)
           and str(e.get("module", "")).startswith("keras.src.ops")}
    consumers: dict[str, set[str]] = {}
    for entry in entries:
        nodes = entry.get("inbound_nodes") if isinstance(entry, dict) else None
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, dict) or not isinstance(node.get("kwargs") or {}, dict):
                continue
            kwargs = {k: v for k, v in (node.get("kwargs") or {}).items() if k != "mask"}
            for name in _history_names([node.get("args", []), kwargs]):
                consumers.setdefault(name, set()).add(_entry_name(entry))
    mask_only = set(ops)
    changed = True
    while changed:
        changed = False
        for op in list(mask_only):
            if not consumers.get(op, set()) <= mask_only:
                mask_only.discard(op)
                changed = True
    return mask_only


def _check_propagated_mask(ref: TensorRef, layers: dict, calls: list, file: str,
                           at: str) -> None:
    """A `mask=` from dropped ops is only sound when the input carries a propagated mask."""
    producers = {call.layer: call for call in calls}
    name = ref.layer
    while name in producers:
        if layers[name].class_name == "Masking" or getattr(layers[name], "mask_zero", False):
            return
        name = producers[name].inputs[0].layer
    raise InputError("this call gets an explicit mask= that no Embedding(mask_zero=True) or "
                     "Masking layer upstream computes; explicit masks are not supported",
                     file=file, pointer=f"{at}/kwargs/mask")


def _triples(value: Any) -> list:
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value]
    return value or []


def _triple(item: Any, layers: dict, file: str, at: str) -> TensorRef:
    if not isinstance(item, list) or len(item) != 3 or not isinstance(item[0], str) \
            or item[0] not in layers:
        raise InputError(f"expected [layer_name, node_index, tensor_index], found "
                         f"{json.dumps(item)[:80]}", file=file, pointer=at)
    return TensorRef(item[0], nonnegative_index(item[1], file, f"{at}/1", "a node index"),
                     nonnegative_index(item[2], file, f"{at}/2", "a tensor index"))


def _keras_tensors(value: Any, layers: dict, file: str, at: str):
    """Every `__keras_tensor__` in a node's args, in order (lists of tensors flatten)."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = value.get("config")
        yield _triple(history.get("keras_history") if isinstance(history, dict) else None,
                      layers, file, at)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _keras_tensors(item, layers, file, at)


def _snake_key(class_name: str) -> str:
    """Keras 3's snake case of a class name (`naming.to_snake_case`), which unlike tf-keras's
    splits no digits off a capital: ConvLSTM2D -> conv_lstm2d, not conv_lst_m2d."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", class_name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _h5_keys(model: Model, nested: bool = True) -> list[tuple[str, str]]:
    """(h5 group path, layer name) in Keras's saving order: class names made unique within
    each model, a nested model's layers under `<its key>/layers/`, the cells of an RNN over
    StackedRNNCells under `<rnn key>/cell/cells/<cell class>` (Keras 3 `saving_lib`). A
    Sequential model saves no InputLayer; `nested=False` gives the flat layout written."""
    keys: list[tuple[str, str]] = []

    def walk(names: list[str], depth: int, prefix: str, skip_inputs: bool,
             cells: bool) -> None:
        used: dict[str, int] = {}
        members: dict[str, list[str]] = {}
        entries: list[tuple[str, str]] = []  # (key before made unique, layer or scope name)
        for name in names:
            scope = model.scopes.get(name, ()) if nested else ()
            if len(scope) > depth:
                if scope[depth][0] not in members:
                    members[scope[depth][0]] = []
                    entries.append(("rnn" if scope[depth][1] == STACKED
                                    else _snake_key(scope[depth][1]), scope[depth][0]))
                members[scope[depth][0]].append(name)
            elif not (skip_inputs and model.layers[name].class_name == "InputLayer"):
                config = model.layers[name]
                entries.append((_snake_key(config.cell.class_name if cells
                                              else config.class_name), name))
        for key, name in entries:
            if key in used:
                used[key] += 1
                key = f"{key}_{used[key]}"
            else:
                used[key] = 0
            if name not in members:
                keys.append((prefix + key, name))
                continue
            stack = model.scopes[members[name][0]][depth][1] == STACKED
            walk(members[name], depth + 1,
                 f"{prefix}{key}/{'cell/cells' if stack else 'layers'}/", True, stack)

    walk(list(model.layers), 0, "", model.sequential, False)
    return keys


def _read_h5_weights(h5: Any, model: Model, file: str) -> dict[str, dict]:
    def dataset(path: str, shape: tuple[int, ...]) -> np.ndarray | None:
        found = child(h5, path, file)
        return None if found is None else read_dataset(found, shape, file, path)

    return weights_at_paths(model, dataset, file)


def weights_at_paths(model: Model, get: Callable[[str, tuple[int, ...]], Any],
                     file: str) -> dict[str, dict]:
    """Each layer's weights from where Keras 3 saves them (`layers/<key>/<path>`, see
    `_h5_keys` and `LayerType.keras3_paths`); `get(path, shape)` gives the array of that
    shape, or None when nothing is stored there."""
    shapes = output_shapes(model)
    by_layer: dict[str, dict[str, np.ndarray]] = {}
    for key, name in _h5_keys(model):
        calls = model.layer_calls(name)
        if not calls:
            continue
        specs = model.weight_specs(name, [shapes[r] for r in calls[0].inputs])
        config = model.layers[name]
        paths = dialects.REGISTRY[config.class_name].keras3_paths(config, len(specs))
        if model.scopes.get(name, ((None, None),))[-1][1] == STACKED:
            paths = [path.removeprefix("cell/") for path in paths]  # the group is the cell's
        found = {}
        for spec, path in zip(specs, paths, strict=True):
            array = get(f"layers/{key}/{path}", spec.shape)
            if array is None:
                raise InputError(f"layer '{name}' has no weight at layers/{key}/{path}",
                                 file=file)
            found[spec.name] = array
        by_layer[name] = found
    return by_layer


def model_to_config(model: Model) -> tuple[dict[str, Any], dict[str, dict[str, Any]],
                                           list[str], list[str]]:
    """Keras 3's config.json for the model, the weights it needs, transforms and notes;
    raises NotExpressibleError before any writing."""
    results, weights, transforms, notes = write_layer_configs(model, "keras3")
    if model.sequential:
        layers = [_entry(model, name, results[name]) for name in model.layers]
        config = {"module": "keras", "class_name": "Sequential", "config": {
            "name": model.name, "trainable": True, "dtype": _policy(), "layers": layers},
            "registered_name": None, "build_config": {"input_shape": list(
                model.layers[model.inputs[0].layer].batch_input_shape)}}
        return config, weights, transforms, notes
    layers = []
    for name in model.layers:
        entry = _entry(model, name, results[name])
        entry["name"] = name
        entry["inbound_nodes"] = [_node(model, call) for call in model.layer_calls(name)]
        layers.append(entry)
    config = {"module": "keras.src.models.functional", "class_name": "Functional", "config": {
        "name": model.name, "trainable": True, "layers": layers,
        "input_layers": [[r.layer, r.node, r.index] for r in model.inputs],
        "output_layers": [[r.layer, r.node, r.index] for r in model.outputs]},
        "registered_name": None, "build_config": {"input_shape": None}}
    return config, weights, transforms, notes


def _entry(model: Model, name: str, result: dialects.MapResult) -> dict[str, Any]:
    return {"module": "keras.layers", "class_name": model.layers[name].class_name,
            "config": result.config, "registered_name": None}


def _policy() -> dict[str, Any]:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": None}


def _node(model: Model, call: LayerCall) -> dict[str, Any]:
    shapes = output_shapes(model)
    tensors = [{"class_name": "__keras_tensor__", "config": {
        "shape": list(shapes[ref]), "dtype": "float32",
        "keras_history": [ref.layer, ref.node, ref.index]}} for ref in call.inputs]
    layer = dialects.REGISTRY[model.layers[call.layer].class_name]
    options = dict(call.kwargs)
    if layer.skips_masked_steps and len(tensors) > 1:  # a recurrent layer or Bidirectional
        return {"args": [tensors[0]], "kwargs": {"initial_state": tensors[1:]}}
    if layer.input_names:
        return {"args": tensors, "kwargs": options}  # MultiHeadAttention(query, value, key)
    if layer.multi_input:
        return {"args": [tensors], "kwargs": options}  # merge layers take one list of tensors
    return {"args": tensors[:1], "kwargs": options}


def write_keras3(model: Model, destination: str | os.PathLike, *,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Write a `.keras` file Keras 3 loads with `keras.models.load_model`; atomic. The weights
    go to a temporary h5 file beside the destination, then into the zip, never all in memory;
    `progress(bytes written, total bytes)` follows them."""
    config, weights, transforms, notes = model_to_config(model)
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.now(timezone.utc).strftime("%Y-%m-%d@%H:%M:%S"),
                "converted_by": f"tfjs-lstm {__version__}"}
    with staged_file(destination) as stage, \
            tempfile.TemporaryDirectory(prefix=f"{stage.name}.", dir=stage.parent) as scratch:
        h5_path = Path(scratch) / "model.weights.h5"
        _write_h5_weights(h5_path, model, weights, progress)
        with zipfile.ZipFile(stage, "w") as archive:
            archive.writestr("metadata.json", json.dumps(metadata))
            archive.writestr("config.json", json.dumps(config))
            archive.write(h5_path, "model.weights.h5")  # copied in chunks
    return {"transforms": transforms, "notes": notes,
            "weights": sum(len(w) for w in weights.values()),
            "bytes": Path(destination).stat().st_size}


def _write_h5_weights(path: Path, model: Model, weights: dict[str, dict[str, Any]],
                      progress: Callable[[int, int], None] | None) -> None:
    """model.weights.h5 as Keras 3 lays it out: groups by class name, `vars/<i>` datasets."""
    total = sum(np.asarray(a).size * 4 for arrays in weights.values() for a in arrays.values())
    done = 0
    with h5py.File(path, "w") as h5:
        h5.create_group("vars").attrs["name"] = model.name
        layers = h5.create_group("layers")
        for key, name in _h5_keys(model, nested=False):
            group = layers.create_group(key)
            group.create_group("vars").attrs["name"] = name
            layer_config = model.layers[name]
            arrays = list(weights.get(name, {}).values())
            paths = dialects.REGISTRY[layer_config.class_name].keras3_paths(layer_config,
                                                                           len(arrays))
            for weight_path, array in zip(paths, arrays, strict=True):
                group.require_group(weight_path.rsplit("/", 1)[0])
                data = group.create_dataset(weight_path, data=np.asarray(array, np.float32))
                done += data.size * 4
                if progress is not None:
                    progress(done, total)
