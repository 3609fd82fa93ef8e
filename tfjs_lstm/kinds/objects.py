"""Kinds whose values name Keras objects: activations, initializers/regularizers/constraints,
dtypes, and the layer nested in a wrapper."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .. import activations as act
from ..casing import to_snake_case
from ..context import Context
from ..objects import KerasObject, ObjectFamily, read_object, write_object
from .base import Kind

DTYPES = ("float32", "float16", "bfloat16", "float64", "int32", "bool")


class ActivationKind(Kind):
    """An activation, canonically named by the function it computes (see activations.py)."""

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        if value is not None and not isinstance(value, str):
            ctx.bad_input(key, f"expected an activation name, found {value!r}")
        found = act.from_spelling(family, value)
        if found is None:
            hint = ""
            if family == "tfjs" and isinstance(value, str) and "_" in value:
                hint = " (TensorFlow.js spells activations in camelCase, e.g. 'hardSigmoid')"
            elif family != "tfjs" and isinstance(value, str) and value != value.lower():
                hint = " (a TensorFlow.js spelling; Keras uses snake_case, e.g. 'hard_sigmoid')"
            known = ", ".join(act.spellings_of(family))
            ctx.bad_input(key, f"unknown activation '{value}'{hint} (known: {known})")
        return found.name

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        spelling = act.ACTIVATIONS[value].spellings[family]
        if spelling is None:
            ctx.refuse(key, f"activation '{value}' does not exist in this runtime")
        return spelling

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        names = act.spellings_of(family)
        if snake:
            names = sorted({to_snake_case(n) for n in names})
        return {"anyOf": [{"enum": names}, {"type": "null"}]}


@dataclass
class ObjectKind(Kind):
    """An initializer, regularizer or constraint (see objects.py)."""

    family: ObjectFamily

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        return read_object(self.family, family, value, ctx, key)

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        return write_object(self.family, family, value, ctx, key)

    def to_json(self, value: KerasObject | None) -> Any:
        return None if value is None else value.to_json()

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        names = self.family.names_for(family)
        class_key = "className" if family == "tfjs" and not snake else "class_name"
        strings = sorted({to_snake_case(n) for n in names})
        if family == "tfjs" and not snake:
            strings = sorted({n[0].lower() + n[1:] for n in names})
        as_object = {
            "type": "object",
            "required": [class_key],
            "properties": {
                class_key: {"enum": names},
                "config": {"type": ["object", "null"]},
            },
        }
        if family in ("keras3", "keras2"):
            as_object["properties"]["module"] = {"type": "string"}
            as_object["properties"]["registered_name"] = {"type": ["string", "null"]}
        as_object["additionalProperties"] = family == "tfjs"
        options: list[dict[str, Any]] = [{"type": "null"}, as_object]
        if family != "keras2.2" and not snake:
            options.append({"enum": strings})
        return {"anyOf": options}


@dataclass
class DType(Kind):
    """The layer's compute dtype. Keras 3 writes a DTypePolicy object for layers (`policy`),
    a plain string for InputLayer; the others always a string."""

    policy: bool = True

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        if family == "keras3" and isinstance(value, dict):
            inner = value.get("config")
            if value.get("class_name") != "DTypePolicy" or not isinstance(inner, dict):
                ctx.bad_input(key, f"expected a DTypePolicy object, found {value!r}")
            value = inner.get("name")
        elif isinstance(value, dict):
            hint = ""
            if value.get("class_name") == "DTypePolicy":
                hint = " (a Keras 3 DTypePolicy object; write its config.name, e.g. 'float32')"
            ctx.bad_input(key, f"expected a dtype string{hint}")
        if value not in DTYPES:
            if isinstance(value, str) and value.startswith("mixed_"):
                ctx.bad_input(key, f"mixed-precision policy '{value}' is not supported")
            ctx.bad_input(key, f"unknown dtype {value!r} (known: {', '.join(DTYPES)})")
        return value

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        if family == "tfjs" and value not in ("float32", "int32", "bool"):
            ctx.refuse(key, f"TensorFlow.js computes in float32, int32 or bool, not {value}")
        if family == "keras3" and self.policy:
            return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": value},
                    "registered_name": None}
        return value

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        as_string = {"enum": list(DTYPES)}
        if family != "keras3" or not self.policy:
            return as_string
        policy = {"type": "object", "required": ["class_name", "config"], "properties": {
            "class_name": {"const": "DTypePolicy"},
            "config": {"type": "object", "required": ["name"],
                       "properties": {"name": as_string}},
        }}
        return {"anyOf": [as_string, policy]}


@dataclass
class NestedLayer(Kind):
    """A layer config inside a wrapper (Bidirectional's and TimeDistributed's `layer`).

    `prefixes` say where the inner layer's weights live in the wrapper's weights
    (`forward/kernel`, `backward/kernel`), so the inner writer's weight transforms apply there.
    """

    prefixes: tuple[str, ...] = ("",)

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        from .. import dialects

        if value is None:
            return None
        if not isinstance(value, dict):
            ctx.bad_input(key, "expected a nested layer {class_name, config}")
        from ..errors import NotExpressibleError

        inner: list = []
        try:
            config = dialects.read(family, value, file=ctx.file, pointer=ctx.where(key),
                                   notes=ctx.notes, mask_problems=inner)
        except NotExpressibleError as error:
            raise NotExpressibleError([replace(p, layer=f"{ctx.layer}/{p.layer}")
                                       for p in error.problems]) from None
        ctx.mask_problems.extend(replace(p, layer=f"{ctx.layer}/{p.layer}") for p in inner)
        return config

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        from .. import dialects
        from ..errors import NotExpressibleError, Problem

        if value is None:
            return None
        try:
            result = dialects.write(family, value, nested=True, companion=ctx.companion)
        except NotExpressibleError as error:
            ctx.problems.extend(Problem(f"{ctx.layer}/{p.layer}", p.key, p.dialect, p.reason)
                                for p in error.problems)
            return None
        ctx.notes.extend(result.notes)
        ctx.transforms.extend(t.prefixed(prefix, ctx.layer) for t in result.transforms
                              for prefix in self.prefixes)
        if family == "tfjs":
            return {"className": result.class_name, "config": result.config}
        if family == "keras2.2":
            return {"class_name": value.class_name, "config": result.config}
        return {"module": "keras.layers", "class_name": value.class_name,
                "config": result.config, "registered_name": None}

    def to_json(self, value: Any) -> Any:
        from ..dialects import to_json

        return None if value is None else to_json(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        class_key = "className" if family == "tfjs" and not snake else "class_name"
        return {"anyOf": [{"type": "null"}, {"type": "object", "required": [class_key, "config"],
                                             "properties": {"config": {"type": "object"}}}]}
