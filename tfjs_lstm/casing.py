"""TensorFlow.js's own snake_case <-> camelCase rules, applied to whole configs.

tfjs turns a model.json topology into constructor args with `convertPythonicToTs` and back with
`convertTsToPythonic` (tfjs-layers/src/utils/serialization_utils.ts): every key and every string
value is converted, except the values of `name` and `className`. The `tfjs-json` dialect is the
`tfjs` dialect passed through these rules, exactly as tfjs does it.
"""

from __future__ import annotations

import re
from typing import Any

_FIRST_CAP = re.compile(r"(.)([A-Z][a-z0-9]+)")
_LOWER_UPPER = re.compile(r"([a-z])([A-Z])")
_UNDERSCORES = re.compile(r"_+(\w|$)")
_VERBATIM_KEYS = {"name", "className"}


class _Undefined:
    """JavaScript's `undefined` in a tfjs config: JSON.stringify drops the key, while tfjs's
    model.save() (convertTsToPythonic) writes it as null."""

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undefined()


def strip_undefined(value: Any) -> Any:
    """A tfjs config as `JSON.stringify` writes it: keys holding `undefined` disappear."""
    if isinstance(value, dict):
        return {k: strip_undefined(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [strip_undefined(item) for item in value]
    return value


def to_snake_case(name: str) -> str:
    """`hardSigmoid` -> `hard_sigmoid`, as tfjs's `toSnakeCase` does it."""
    snake = _LOWER_UPPER.sub(r"\1_\2", _FIRST_CAP.sub(r"\1_\2", name)).lower()
    return snake if not snake.startswith("_") else "private" + snake


def to_camel_case(identifier: str) -> str:
    """`hard_sigmoid` -> `hardSigmoid`, as tfjs's `toCamelCase` does it."""
    if len(identifier) <= 1 or "_" not in identifier:
        return identifier
    return _UNDERSCORES.sub(lambda m: m.group(1).upper(), identifier)


def keys_as_read(value: Any) -> Any:
    """A model.json topology with each key spelled snake_case as tfjs reads it: tfjs camelCases
    every key (`convertPythonicToTs`), so `className` and `class_name` are one key to it. A key
    whose snake_case spelling tfjs would read as another key (`W_regularizer`) stays as it is."""
    if isinstance(value, list):
        return [keys_as_read(item) for item in value]
    if isinstance(value, dict):
        return {_key_as_read(key): keys_as_read(item) for key, item in value.items()}
    return value


def _key_as_read(key: str) -> str:
    snake = to_snake_case(key)
    return snake if to_camel_case(snake) == to_camel_case(key) else key


def pythonic_to_ts(value: Any) -> Any:
    """A snake_case model.json layer config as tfjs reads it into constructor args."""
    if isinstance(value, str):
        return to_camel_case(value)
    if isinstance(value, list):
        return [pythonic_to_ts(item) for item in value]
    if isinstance(value, dict):
        converted = {}
        for key, item in value.items():
            if key == "name" and isinstance(item, str):
                converted[key] = item
            else:
                converted[to_camel_case(key)] = pythonic_to_ts(item)
        return converted
    return value


def ts_to_pythonic(value: Any) -> Any:
    """tfjs constructor args / getConfig() as tfjs writes them into a model.json."""
    if value is UNDEFINED:
        return None
    if isinstance(value, str):
        return to_snake_case(value)
    if isinstance(value, list):
        return [ts_to_pythonic(item) for item in value]
    if isinstance(value, dict):
        converted = {}
        for key, item in value.items():
            keep = key in _VERBATIM_KEYS and isinstance(item, str)
            converted[to_snake_case(key)] = item if keep else ts_to_pythonic(item)
        return converted
    return value
