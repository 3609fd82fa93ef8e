"""`validate`: check layer configs and model.json files against the schemas, with hints.

A file is a tfjs `model.json` (it has `modelTopology`) or one layer config, bare or wrapped in
`{class_name, config}`. A layer config's dialect is given (`--as`) or detected: the first dialect
it is valid in, else the one with the fewest findings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from . import dialects
from .casing import to_camel_case, to_snake_case
from .context import pointer_join
from .errors import InputError, NotExpressibleError, reading
from .formats.untrusted import MAX_JSON_BYTES, load_json_file, parse_json
from .layers import REGISTRY
from .schema import layer_schema, model_json_schema

DETECTION_ORDER = ("keras3", "keras2", "tfjs-json", "tfjs", "keras2.2")


@dataclass(frozen=True)
class Finding:
    """One problem: where it is and what was expected."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.pointer or '/'}: {self.message}"


@dataclass(frozen=True)
class Report:
    """What `validate` found in one file."""

    file: str
    kind: str
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


def load_json(path: str | Path) -> Any:
    """Parse a JSON file (or `-`, standard input) within bounds, or raise InputError naming
    the file, line and column."""
    if str(path) == "-":
        import sys

        data = sys.stdin.buffer.read(MAX_JSON_BYTES + 1)
        if len(data) > MAX_JSON_BYTES:
            raise InputError(f"more than {MAX_JSON_BYTES:,} bytes", file="<stdin>")
        return parse_json(data, "<stdin>")
    return load_json_file(path)


def validate_file(path: str | Path, as_dialect: str | None = None) -> Report:
    """Validate one file; raises InputError only when it cannot be read at all."""
    name = str(path)
    data = load_json(path)
    with reading(name):
        return _validate(name, data, as_dialect)


def _validate(name: str, data: Any, as_dialect: str | None) -> Report:
    if isinstance(data, dict) and "modelTopology" in data:
        return Report(name, "tfjs model.json", tuple(_validate_model_json(name, data)))
    if as_dialect is not None:
        dialects._check_dialect(as_dialect)
        return Report(name, f"layer config ({as_dialect})",
                      tuple(validate_layer(name, data, as_dialect)))
    attempts = {d: validate_layer(name, data, d) for d in DETECTION_ORDER}
    best = min(DETECTION_ORDER, key=lambda d: (len(attempts[d]), DETECTION_ORDER.index(d)))
    return Report(name, f"layer config ({best}{'' if not attempts[best] else ', best guess'})",
                  tuple(attempts[best]))


def validate_layer(file: str, data: Any, dialect: str, pointer: str = "") -> list[Finding]:
    """Schema findings for one layer config, then what the reader refuses, with hints."""
    try:
        class_name, config, inner = dialects.unwrap(data, dialect)
    except InputError as error:
        return [Finding(file, pointer + (error.pointer or ""), error.message)]
    class_name = dialects.canonical_class(class_name or "LSTM", dialect)
    base = pointer + inner
    if class_name not in REGISTRY:
        return [Finding(file, pointer_join(pointer, "class_name"),
                        f"layer class '{class_name}' is not supported "
                        f"(supported: {', '.join(sorted(REGISTRY))})")]
    if not isinstance(config, dict):
        return [Finding(file, base, "expected a JSON object")]
    schema = layer_schema(REGISTRY[class_name], dialect)
    findings = _schema_findings(file, base, config, schema, dialect)
    if findings:
        return findings
    try:
        dialects.read(dialect, data, class_name=class_name, file=file, pointer=pointer)
    except InputError as error:
        findings.append(Finding(file, error.pointer or base, error.message))
    except NotExpressibleError as error:
        findings.extend(Finding(file, pointer_join(base, p.key), p.reason)
                        for p in error.problems)
    return findings


def _schema_findings(file: str, base: str, instance: Any, schema: dict[str, Any],
                     dialect: str) -> list[Finding]:
    validator = jsonschema.Draft202012Validator(schema)
    findings = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        where = pointer_join(base, *error.absolute_path) if error.absolute_path else base
        findings.extend(Finding(file, p, m) for p, m in _explain(error, where, dialect))
    return findings


def _explain(error: jsonschema.ValidationError, where: str, dialect: str):
    """Turn a schema error into (pointer, message) lines a person can act on."""
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - allowed):
            yield pointer_join(where, key), f"unknown key '{key}'" + _key_hint(key, allowed,
                                                                                dialect)
        return
    if error.validator == "required":
        hint = ""
        if "'batch_input_shape'" in error.message and isinstance(error.instance, dict) \
                and "batch_shape" in error.instance:
            hint = " (found Keras 3's batch_shape; TensorFlow.js wants batch_input_shape)"
        yield where, error.message.replace("is a required property", "is required") + hint
        return
    found = json.dumps(error.instance)[:80]
    hint = _value_hint(error.instance, dialect)
    if error.validator in ("enum", "anyOf", "oneOf", "const"):
        yield where, f"unexpected value {found}{hint}"
        return
    yield where, f"{error.message[:160]}{hint}"


def _key_hint(key: str, allowed: set[str], dialect: str) -> str:
    if key == "batch_shape" and "batch_input_shape" in allowed:
        return " (Keras 3 writes batch_shape; TensorFlow.js wants batch_input_shape)"
    if to_snake_case(key) in allowed and to_snake_case(key) != key:
        return f" (a camelCase TensorFlow.js key; this dialect spells it '{to_snake_case(key)}')"
    if to_camel_case(key) in allowed and to_camel_case(key) != key:
        return f" (a snake_case key; this dialect spells it '{to_camel_case(key)}')"
    if key in ("time_major",):
        return " (a tf.keras 2 key; Keras 3 and TensorFlow.js lack it)"
    if key in ("seed", "zero_output_for_mask"):
        return " (a Keras 3 key)"
    if key in ("inputDim", "inputLength"):
        return " (TensorFlow.js ignores it; use inputShape: [timesteps, features])"
    return ""


def _value_hint(value: Any, dialect: str) -> str:
    if isinstance(value, dict) and value.get("class_name") == "DTypePolicy":
        return (" (a Keras 3 DTypePolicy object; this dialect wants a dtype string such as "
                "'float32')")
    if isinstance(value, str) and dialect == "tfjs" and "_" in value:
        return f" (TensorFlow.js args spell values in camelCase: '{to_camel_case(value)}')"
    if isinstance(value, str) and dialect != "tfjs" and to_snake_case(value) != value \
            and value[:1].islower():
        return f" (a TensorFlow.js spelling; this dialect writes '{to_snake_case(value)}')"
    return ""


def _validate_model_json(file: str, data: dict[str, Any]) -> list[Finding]:
    findings = _schema_findings(file, "", data, model_json_schema(), "tfjs-json")
    findings.extend(_keras3_topology_hints(file, data))
    for index, layer in enumerate(_topology_layers(data)):
        if isinstance(layer, dict) and isinstance(layer.get("class_name"), str) \
                and dialects.canonical_class(layer["class_name"], "tfjs-json") in REGISTRY and \
                isinstance(layer.get("config"), dict):
            pointer = pointer_join("/modelTopology/config/layers", index)
            if not any(f.pointer.startswith(pointer + "/") for f in findings):
                findings.extend(validate_layer(file, layer, "tfjs-json", pointer))
    return _dedupe(findings)


def _keras3_topology_hints(file: str, data: dict[str, Any]) -> list[Finding]:
    """The Keras 3 forms tfjs 4.22 cannot load, named as such."""
    findings = []
    for index, layer in enumerate(_topology_layers(data)):
        if not isinstance(layer, dict):
            continue
        pointer = pointer_join("/modelTopology/config/layers", index)
        nodes = layer.get("inbound_nodes")
        if isinstance(nodes, list) and any(isinstance(n, dict) for n in nodes):
            findings.append(Finding(file, pointer_join(pointer, "inbound_nodes"),
                                    "Keras 3 inbound_nodes form ({args, kwargs}); TensorFlow.js "
                                    "wants nested lists [[[name, node, tensor, {}]]]"))
    return findings


def _topology_layers(data: dict[str, Any]) -> list:
    """The layer entries of a model.json's topology, or none when it is not shaped so."""
    topology = data.get("modelTopology")
    config = topology.get("config") if isinstance(topology, dict) else None
    layers = config.get("layers") if isinstance(config, dict) else None
    return layers if isinstance(layers, list) else []


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, unique = set(), []
    for finding in findings:
        if (finding.pointer, finding.message) not in seen:
            seen.add((finding.pointer, finding.message))
            unique.append(finding)
    return unique
