"""JSON Schemas (2020-12) generated from the layer registry, so they cannot drift from the mapper.

`python -m tfjs_lstm.schema DIR` writes them; a test checks the committed `schemas/` match.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .casing import to_snake_case
from .dialects import DIALECTS, FAMILY_OF
from .layers import REGISTRY, LayerType
from .layers.base import REQUIRED

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_SHAPE_KWARGS = {
    "keras3": ("input_shape", "input_dim", "input_length", "batch_size"),
    "keras2": ("batch_input_shape", "input_shape", "input_dim", "input_length", "batch_size"),
    "keras2.2": ("batch_input_shape", "input_shape", "input_dim", "input_length", "batch_size"),
    "tfjs": ("batchInputShape", "inputShape", "batchSize"),
    "tfjs-json": ("batch_input_shape",),
}
_DIMS = {"type": "array", "items": {"anyOf": [{"type": "integer", "minimum": 1},
                                              {"type": "null"}]}}


def layer_schema(layer: LayerType, dialect: str) -> dict[str, Any]:
    """The schema of one layer's config in one dialect."""
    family = FAMILY_OF[dialect]
    snake = dialect == "tfjs-json"
    properties: dict[str, Any] = {}
    required = []
    for spec in layer.fields:
        if spec.name == "batch_input_shape":
            continue
        readable = spec.families + spec.accepted_by + spec.ignored_by
        if family not in readable:
            continue
        key = spec.name if snake else spec.key_for(family)
        schema = spec.kind.schema(family, snake)
        if family == "tfjs" and spec.null_is_default:
            schema = {"anyOf": [schema, {"type": "null"}]}
        if spec.doc:
            schema = {**schema, "description": spec.doc}
        properties[key] = schema
        if spec.default_for(family) is REQUIRED:
            required.append(key)
    for key in layer.extra_keys(family) if layer.extra_keys else ():
        properties.setdefault(to_snake_case(key) if snake else key,
                              {"description": "a copy the runtime writes and ignores"})
    for key in _SHAPE_KWARGS[dialect]:
        if key in properties:  # a field of the layer itself (Embedding's input_dim)
            continue
        properties[key] = {"type": "integer", "minimum": 1} if key.endswith(
            ("dim", "length", "size", "Size")) else {"anyOf": [_DIMS, {"type": "null"}]}
    return {
        "$schema": DRAFT,
        "$id": f"urn:tfjs-lstm:{layer.class_name.lower()}:{dialect}",
        "title": f"{layer.class_name} layer config, {dialect} dialect",
        "description": layer.doc,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def model_json_schema() -> dict[str, Any]:
    """The schema of a tfjs layers-model `model.json`, with every registered layer's config;
    a companion package class (TfjsLstmGRU) has the config of the layer it computes."""
    from .companion import by_class_name

    classes = {name: name for name in REGISTRY}
    classes.update({name: canonical for name, (canonical, _) in by_class_name().items()})
    layer_rules = [
        {"if": {"properties": {"class_name": {"const": name}}},
         "then": {"properties": {"config": {"$ref": f"#/$defs/{classes[name]}"}}}}
        for name in sorted(classes)
    ]
    layer = {
        "type": "object",
        "required": ["class_name", "config"],
        "properties": {
            "class_name": {"type": "string"},
            "config": {"type": "object"},
            "name": {"type": "string"},
            "inbound_nodes": {"type": "array", "items": {
                "type": "array", "description": "[[layer_name, node_index, tensor_index, kwargs]]",
                "items": {"type": "array", "prefixItems": [
                    {"type": "string"}, {"type": "integer"}, {"type": "integer"},
                    {"type": "object"}], "minItems": 3, "maxItems": 4}}},
        },
        "allOf": [*layer_rules, {
            "if": {"properties": {"class_name": {"const": "InputLayer"}}},
            "then": {"properties": {"config": {
                "required": ["batch_input_shape"],
                "properties": {"batch_input_shape": _DIMS, "dtype": {"type": "string"}},
            }}},
        }],
    }
    weight = {
        "type": "object",
        "required": ["name", "shape", "dtype"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "dtype": {"enum": ["float32", "int32", "bool", "string", "complex64"]},
            "quantization": {
                "type": "object",
                "required": ["dtype"],
                "properties": {
                    "dtype": {"enum": ["uint8", "uint16", "float16"]},
                    "scale": {"type": "number"},
                    "min": {"type": "number"},
                    "original_dtype": {"enum": ["float32", "int32"]},
                },
            },
        },
    }
    return {
        "$schema": DRAFT,
        "$id": "urn:tfjs-lstm:model.json",
        "title": "TensorFlow.js layers-model model.json",
        "type": "object",
        "required": ["modelTopology", "weightsManifest"],
        "properties": {
            "format": {"const": "layers-model"},
            "generatedBy": {"type": ["string", "null"]},
            "convertedBy": {"type": ["string", "null"]},
            "modelTopology": {
                "description": "the model itself ({class_name, config}, what tfjs model.save() "
                               "writes) or the converter's {keras_version, backend, "
                               "model_config, training_config}",
                "type": "object",
                "if": {"required": ["model_config"]},
                "then": {"properties": {
                    "model_config": {"$ref": "#/$defs/topology"},
                    "training_config": {"type": ["object", "null"]},
                    "keras_version": {"type": "string"},
                    "backend": {"type": "string"},
                }},
                "else": {"$ref": "#/$defs/topology"},
            },
            "weightsManifest": {"type": "array", "items": {
                "type": "object",
                "required": ["paths", "weights"],
                "properties": {
                    "paths": {"type": "array", "items": {
                        "type": "string", "minLength": 1,
                        "description": "a plain file name inside the model folder, "
                                       "optionally after ./ (tfjs browser downloads)",
                        "pattern": r"^(\./)?(?!\.\.?$)[^/\\]+$"}},
                    "weights": {"type": "array", "items": {"$ref": "#/$defs/weight"}},
                },
            }},
            "trainingConfig": {"type": ["object", "null"]},
            "userDefinedMetadata": {"type": ["object", "null"]},
        },
        "$defs": {
            "topology": {
                "type": "object",
                "required": ["class_name", "config"],
                "properties": {
                    "class_name": {"enum": ["Sequential", "Model", "Functional"]},
                    "config": {
                        "description": "the layers and how they connect; Keras 2.0-2.1 wrote "
                                       "a Sequential's config as the bare list of its layers",
                        "type": ["object", "array"],
                        "items": {"$ref": "#/$defs/layer"},
                        "properties": {
                            "layers": {"type": "array", "items": {"$ref": "#/$defs/layer"}},
                            "input_layers": {"type": "array"},
                            "output_layers": {"type": "array"},
                        }},
                    "keras_version": {"type": "string"},
                    "backend": {"type": "string"},
                },
            },
            "layer": layer,
            "weight": weight,
            **{name: _inline(layer_schema(spec, "tfjs-json")) for name, spec in REGISTRY.items()},
        },
    }


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every layer in each dialect that has it, plus model.json."""
    schemas = {"model.json.schema.json": model_json_schema()}
    for name, spec in sorted(REGISTRY.items()):
        for dialect in (d for d in DIALECTS if FAMILY_OF[d] in spec.families):
            schemas[f"{name.lower()}.{dialect}.schema.json"] = layer_schema(spec, dialect)
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    target = Path((argv or sys.argv[1:] or ["schemas"])[0])
    target.mkdir(parents=True, exist_ok=True)
    for file_name, schema in all_schemas().items():
        (target / file_name).write_text(render(schema), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
