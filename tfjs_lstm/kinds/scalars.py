"""Scalar kinds: booleans, integers, rates, numbers, strings and fixed choices."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..casing import to_camel_case
from ..context import Context
from .base import Kind


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


@dataclass
class Choice(Kind):
    """One of a few fixed values, spelled the same in every runtime (merge_mode)."""

    values: tuple = ()

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if value not in self.values:
            ctx.bad_input(key, f"expected one of {list(self.values)}, found {value!r}")

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"enum": list(self.values)}


class Text(Kind):
    def check(self, value: Any, ctx: Context, key: str) -> None:
        if not isinstance(value, str) or not value:
            ctx.bad_input(key, f"expected a non-empty string, found {value!r}")

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"type": "string", "minLength": 1}


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


@dataclass
class NonNegative(Number):
    """A finite number >= 0 (ReLU's slopes and threshold), or null for none when `nullable`."""

    nullable: bool = False

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if value is None and self.nullable:
            return
        super().check(value, ctx, key)
        if value < 0:
            ctx.bad_input(key, f"expected a number >= 0, found {value!r}")

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        self.check(value, ctx, key)
        return None if value is None else float(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        number = {"type": "number", "minimum": 0}
        return {"anyOf": [number, {"type": "null"}]} if self.nullable else number


@dataclass
class CasedChoice(Kind):
    """One of a few snake_case words that TensorFlow.js spells in camelCase (data_format);
    tfjs compares the camelCase word only, so a snake_case one would silently mean another."""

    values: tuple[str, ...] = ()

    def spelling(self, family: str, value: str) -> str:
        return to_camel_case(value) if family == "tfjs" else value

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        for canonical in self.values:
            if value == self.spelling(family, canonical):
                return canonical
        known = [self.spelling(family, v) for v in self.values]
        ctx.bad_input(key, f"expected one of {known}, found {value!r}")

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        return self.spelling(family, value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"enum": [v if snake else self.spelling(family, v) for v in self.values]}
