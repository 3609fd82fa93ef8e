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
    """What `validate` found in one file: problems, and warnings about what the runtime
    ignores or cannot load although tfjs-lstm reads it (`--strict` makes those fail too)."""

    file: str
    kind: str
    findings: tuple[Finding, ...]
    warnings: tuple[Finding, ...] = ()

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
        findings, warnings = _validate_model_json(name, data)
        return Report(name, "tfjs model.json", tuple(findings), tuple(warnings))
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


def _validate_model_json(file: str, data: dict[str, Any]) -> tuple[list[Finding],
                                                                     list[Finding]]:
    """The schema, then the model reader `run` and `convert` use: what it accepts is valid,
    with its notes as warnings. A Keras 3 topology copied verbatim by the converter is read
    as Keras 3 reads it, with a warning that TensorFlow.js 4.22 cannot load it."""
    from .formats.tfjs_model import match_weights, read_topology
    from .formats.topology import as_read, keras3_forms, model_topology

    if isinstance(data.get("modelTopology"), dict):
        data = as_read(data)
    topology, pointer = (model_topology(data) if isinstance(data.get("modelTopology"), dict)
                         else ({}, "/modelTopology"))
    forms = keras3_forms(topology, pointer)
    schema = model_json_schema()
    if forms:  # the layers are checked by the Keras 3 reader, not the tfjs schema
        schema["properties"]["modelTopology"] = {"type": "object"}
    findings = _schema_findings(file, "", data, schema, "tfjs-json")
    notes: list[str] = []
    read: list[Finding] = []
    try:
        model, keras3 = read_topology(data, file, notes)
        match_weights(model, keras3, _manifest_shapes(data), file)
    except InputError as error:
        read.append(Finding(file, error.pointer or "", error.message))
    except NotExpressibleError as error:
        read.extend(Finding(file, _problem_pointer(topology, pointer, p), p.reason)
                    for p in error.problems)
    if findings:  # what the reader adds at places the schema found nothing wrong with
        return _dedupe(findings + [f for f in read if f.pointer and not any(
            f.pointer.startswith(g.pointer) or g.pointer.startswith(f.pointer)
            for g in findings)]), []
    findings = read
    warnings = [Finding(file, pointer, note) for note in notes]
    if forms:
        kinds = ", ".join(dict.fromkeys(what for _, what in forms))
        warnings.insert(0, Finding(file, forms[0][0], (
            f"a Keras 3 topology copied verbatim ({kinds}), which TensorFlow.js 4.22 cannot "
            "load (it wants batch_input_shape, dtype strings and nested-list inbound_nodes); "
            f"tfjs-lstm reads it as Keras 3 computes it, and `tfjs-lstm convert {file} OUT/` "
            "writes a folder TensorFlow.js loads")))
    return _dedupe(findings), _dedupe(warnings)


def _manifest_shapes(data: dict[str, Any]) -> dict[str, Any]:
    """Each manifest weight as a zero-cost array of its shape, to match names and shapes
    without reading a shard (the schema has checked the entries)."""
    import numpy as np

    manifest = data.get("weightsManifest")
    return {weight["name"]: np.broadcast_to(np.float32(0), weight["shape"])
            for group in (manifest if isinstance(manifest, list) else [])
            if isinstance(group, dict) and isinstance(group.get("weights"), list)
            for weight in group["weights"] if _plain_entry(weight)}


def _plain_entry(weight: Any) -> bool:
    """A manifest entry with a string name and a shape of non-negative integers."""
    shape = weight.get("shape") if isinstance(weight, dict) else None
    return isinstance(weight, dict) and isinstance(weight.get("name"), str) \
        and isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool)
                                            and 0 <= d < 2**40 for d in shape)


def _problem_pointer(topology: dict[str, Any], pointer: str, problem: Any) -> str:
    """The pointer of a refused key: its layer's config in the topology, else the topology."""
    config = topology.get("config")
    entries, base = ((config.get("layers"), f"{pointer}/config/layers")
                     if isinstance(config, dict) else (config, f"{pointer}/config"))
    outer = problem.layer.split("/")[0]
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        config = entry.get("config") if isinstance(entry, dict) else None
        if isinstance(config, dict) and config.get("name") == outer:
            inside = () if problem.key == "class_name" else ("config",)
            return pointer_join(base, index, *inside, to_snake_case(problem.key))
    return pointer


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, unique = set(), []
    for finding in findings:
        if (finding.pointer, finding.message) not in seen:
            seen.add((finding.pointer, finding.message))
            unique.append(finding)
    return unique
