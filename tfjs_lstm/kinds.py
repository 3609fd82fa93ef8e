"""Value kinds of layer config fields: how each family spells a value, and its JSON Schema.

A kind reads a family's value into the canonical value and writes it back; the schema it gives
is what `validate` checks, so the mapper and the schemas come from the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from . import activations as act
from .casing import to_camel_case, to_snake_case
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


@dataclass
class NestedLayer(Kind):
    """A layer config inside a wrapper (Bidirectional's and TimeDistributed's `layer`).

    `prefixes` say where the inner layer's weights live in the wrapper's weights
    (`forward/kernel`, `backward/kernel`), so the inner writer's weight transforms apply there.
    """

    prefixes: tuple[str, ...] = ("",)

    def read(self, family: str, value: Any, ctx: Context, key: str) -> Any:
        from . import dialects

        if value is None:
            return None
        if not isinstance(value, dict):
            ctx.bad_input(key, "expected a nested layer {class_name, config}")
        from .errors import NotExpressibleError

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
        from . import dialects
        from .errors import NotExpressibleError, Problem

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
        from .dialects import to_json

        return None if value is None else to_json(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        class_key = "className" if family == "tfjs" and not snake else "class_name"
        return {"anyOf": [{"type": "null"}, {"type": "object", "required": [class_key, "config"],
                                             "properties": {"config": {"type": "object"}}}]}
IMPLEMENTATION = Integer(minimum=0, nullable=True)
SEED = Integer(minimum=0, nullable=True)
LENGTH = Integer(minimum=1, nullable=True)
NUMBER = Number()


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


DATA_FORMAT = CasedChoice(("channels_last", "channels_first"))
AXIS = Axis()
TARGET_SHAPE = TargetShape()


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
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in items):
            ctx.bad_input(key, f"expected a positive integer or a list of {self.rank}, "
                               f"found {value!r}")
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


SIZES = Sizes()
STRIDES = Sizes(nullable=True)
SIZES_2D = Sizes(rank=2)
STRIDES_2D = Sizes(nullable=True, rank=2)
AXES = Axes()
FALSE_ONLY = Choice((False,))
CONV_PADDING = Choice(("valid", "same", "causal"))
POOL_PADDING = Choice(("valid", "same"))
CONV2D_PADDING = Choice(("valid", "same"))
GROUPS = Integer(minimum=1)


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


NON_NEGATIVE = NonNegative()
OPTIONAL_NON_NEGATIVE = NonNegative(nullable=True)
PAIR = IntList(length=2)
PERMUTATION = IntList(minimum=1)
