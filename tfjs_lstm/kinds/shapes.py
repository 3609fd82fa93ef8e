"""Kinds of shapes, axes and window sizes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..context import Context
from .base import Kind


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


class Axis(Kind):
    """An axis index of the whole tensor (batch axis 0); negative ones count from the end."""

    def check(self, value: Any, ctx: Context, key: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            ctx.bad_input(key, f"expected an integer axis, found {value!r}")

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"type": "integer"}


class TargetShape(Kind):
    """Reshape's target without the batch axis: positive sizes and at most one unknown size,
    which Keras spells -1 and TensorFlow.js null (its constructor turns -1 into null).
    Canonically -1."""

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        def known(d: Any) -> bool:
            return isinstance(d, int) and not isinstance(d, bool) and d >= 1

        def unknown(d: Any) -> bool:
            return (d is None and family == "tfjs") or (
                isinstance(d, int) and not isinstance(d, bool) and d == -1)

        if not isinstance(value, (list, tuple)) or not value or \
                not all(known(d) or unknown(d) for d in value):
            spelled = "null" if family == "tfjs" else "-1"
            ctx.bad_input(key, f"expected a list of positive sizes, {spelled} for one unknown "
                               f"size, found {value!r}")
        dims = tuple(d if known(d) else -1 for d in value)
        if dims.count(-1) > 1:
            ctx.bad_input(key, f"at most one size can be unknown, found {value!r}")
        return dims

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        return [None if d == -1 and family == "tfjs" else d for d in value]

    def to_json(self, value: Any) -> Any:
        return list(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        sizes = [{"type": "integer", "minimum": 1}, {"const": -1}]
        if family == "tfjs":
            sizes.append({"type": "null"})
        return {"type": "array", "minItems": 1, "items": {"anyOf": sizes}}


@dataclass
class Sizes(Kind):
    """A window size, stride or dilation of a layer over `rank` spatial axes: Keras and tfjs
    take an integer (the same on every axis) or a list of `rank` and write the list.
    Canonically a tuple; null (strides: 'as the pool size') when `nullable`."""

    nullable: bool = False
    rank: int = 1

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        if value is None and self.nullable:
            return None
        items = value if isinstance(value, (list, tuple)) else [value] * self.rank
        if len(items) != self.rank or not all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v < 2**31
                for v in items):  # TensorFlow holds window sizes as int32
            ctx.bad_input(key, f"expected a positive integer below 2**31 or a list of "
                               f"{self.rank}, found {value!r}")
        return tuple(items)

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        return None if value is None else list(value)

    def to_json(self, value: Any) -> Any:
        return None if value is None else list(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        size = {"type": "integer", "minimum": 1}
        options = [size, {"type": "array", "items": size, "minItems": self.rank,
                          "maxItems": self.rank}]
        return {"anyOf": [*options, {"type": "null"}] if self.nullable else options}


class Axes(Kind):
    """A normalization axis: an integer, or a list of them (LayerNormalization; tf-keras and
    tfjs write the list of positive axes once built). Canonically an int or a tuple."""

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        def axis(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        if axis(value):
            return value
        if isinstance(value, (list, tuple)) and value and all(axis(v) for v in value) and \
                len(set(value)) == len(value):
            return tuple(value)
        ctx.bad_input(key, f"expected an integer axis or a list of distinct ones, found {value!r}")

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        return list(value) if isinstance(value, tuple) else value

    def to_json(self, value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"anyOf": [{"type": "integer"},
                          {"type": "array", "items": {"type": "integer"}, "minItems": 1}]}


@dataclass
class IntList(Kind):
    """A fixed-length list of integers (Permute's dims, ZeroPadding1D's padding before and
    after): Keras writes the list; an integer stands for `length` copies of it."""

    length: int | None = None
    minimum: int = 0

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        items = [value] * (self.length or 1) if isinstance(value, int) and \
            not isinstance(value, bool) else value
        if not isinstance(items, (list, tuple)) or not items or \
                (self.length is not None and len(items) != self.length) or \
                not all(isinstance(v, int) and not isinstance(v, bool) and v >= self.minimum
                        for v in items):
            count = f"{self.length} " if self.length else ""
            ctx.bad_input(key, f"expected a list of {count}integers >= {self.minimum}, "
                               f"found {value!r}")
        return tuple(items)

    def write(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        return list(value)

    def to_json(self, value: Any) -> Any:
        return list(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        items = {"type": "integer", "minimum": self.minimum}
        array: dict[str, Any] = {"type": "array", "items": items, "minItems": self.length or 1}
        if self.length:
            array["maxItems"] = self.length
        return {"anyOf": [items, array]}
