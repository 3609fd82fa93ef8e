"""The base value kind: reads a family's spelling of a config value into the canonical value,
writes it back, and gives the JSON Schema `validate` checks."""

from __future__ import annotations

from typing import Any

from ..context import Context


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
