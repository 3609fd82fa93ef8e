"""Value kinds of layer config fields: how each family spells a value, and its JSON Schema.

A kind reads a family's value into the canonical value and writes it back; the schema it gives
is what `validate` checks, so the mapper and the schemas come from the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import activations as act
from .casing import to_snake_case
from .context import Context
from .objects import (
    CONSTRAINTS,
    INITIALIZERS,
    REGULARIZERS,
    KerasObject,
    ObjectFamily,
    read_object,
    write_object,
)

DTYPES = ("float32", "float16", "bfloat16", "float64", "int32", "bool")


class Kind:
    """Base kind: the value is the same in every family."""

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        self.check(value, ctx, key)
        return value

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        return value

    def check(self, value: Any, ctx: Context, key: str) -> None:
        """Raise InputError when `value` is not of this kind."""

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        return value


class Boolean(Kind):
    def check(self, value: Any, ctx: Context, key: str) -> None:
        if not isinstance(value, bool):
            ctx.bad_input(key, f"expected true or false, found {value!r}")

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass
class Integer(Kind):
    minimum: int = 1
    nullable: bool = False

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if value is None and self.nullable:
            return
        if isinstance(value, float) and value.is_integer():
            ctx.bad_input(key, f"expected an integer, found the float {value!r}")
        if not isinstance(value, int) or isinstance(value, bool) or value < self.minimum:
            ctx.bad_input(key, f"expected an integer >= {self.minimum}, found {value!r}")

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        base = {"type": "integer", "minimum": self.minimum}
        return {"anyOf": [base, {"type": "null"}]} if self.nullable else base


class Fraction(Kind):
    """A rate in [0, 1] such as dropout; stored as a float."""

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            ctx.bad_input(key, f"expected a number from 0 to 1, found {value!r}")

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        self.check(value, ctx, key)
        return float(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"type": "number", "minimum": 0, "maximum": 1}


class Text(Kind):
    def check(self, value: Any, ctx: Context, key: str) -> None:
        if not isinstance(value, str) or not value:
            ctx.bad_input(key, f"expected a non-empty string, found {value!r}")

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"type": "string", "minLength": 1}


class Shape(Kind):
    """A batch input shape: a list of dimensions, null for unknown ones; or null for none."""

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if value is None:
            return
        dims_ok = isinstance(value, (list, tuple)) and all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 1)
            for d in value
        )
        if not dims_ok or len(value) < 1:
            ctx.bad_input(key, f"expected a list of positive integers or nulls, found {value!r}")

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        self.check(value, ctx, key)
        return None if value is None else tuple(value)

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        return None if value is None else list(value)

    def to_json(self, value: Any) -> Any:
        return None if value is None else list(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"anyOf": [{"type": "null"}, {"type": "array", "minItems": 1, "items": {
            "anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}}]}


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


BOOLEAN = Boolean()
UNITS = Integer(minimum=1)
FRACTION = Fraction()
TEXT = Text()
SHAPE = Shape()
ACTIVATION = ActivationKind()
INITIALIZER = ObjectKind(INITIALIZERS)
REGULARIZER = ObjectKind(REGULARIZERS)
CONSTRAINT = ObjectKind(CONSTRAINTS)
DTYPE = DType()
DTYPE_STRING = DType(policy=False)


class NullOnly(Kind):
    """A key that must be null for tfjs-lstm to compute the layer (e.g. Keras 3's
    quantization_config: quantized Keras 3 weights are not supported)."""

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if value is not None:
            ctx.bad_input(key, f"only null is supported here, found {value!r}")

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"type": "null"}


class Number(Kind):
    """A finite real number such as Masking's mask_value; stored as a float."""

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value):
            ctx.bad_input(key, f"expected a finite number, found {value!r}")

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        self.check(value, ctx, key)
        return float(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"type": "number"}


NULL_ONLY = NullOnly()
IMPLEMENTATION = Integer(minimum=0, nullable=True)
SEED = Integer(minimum=0, nullable=True)
LENGTH = Integer(minimum=1, nullable=True)
NUMBER = Number()
