"""What a reader or writer learns while it maps one layer: notes, refusals and weight transforms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

from .errors import InputError, Problem


def pointer_join(base: str, *parts: object) -> str:
    """Extend a JSON pointer (RFC 6901) with escaped parts."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "/".join([base, *escaped])


@dataclass
class Context:
    """Where a mapping is (dialect, layer, file, JSON pointer) and what it found on the way.

    Problems are collected rather than raised so that one error can list every offending key.
    Notes record changes that cannot alter inference (an initializer's spread, a dropped seed).
    `mask_problems` would be problems only where a mask reaches the layer.
    `companion` lets a tfjs writer use the companion package's classes (nested layers too).
    """

    dialect: str
    family: str
    layer: str = "?"
    file: str | None = None
    pointer: str = ""
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    mask_problems: list[Problem] = field(default_factory=list)
    transforms: list[Any] = field(default_factory=list)
    companion: bool = False

    def where(self, *parts: object) -> str:
        return pointer_join(self.pointer, *parts)

    def bad_input(self, key: str | tuple, message: str) -> NoReturn:
        parts = key if isinstance(key, tuple) else (key,)
        raise InputError(
            f"layer '{self.layer}' ({self.dialect}): {message}",
            file=self.file,
            pointer=self.where(*parts),
        )

    def refuse(self, key: str, reason: str) -> None:
        self.problems.append(Problem(self.layer, key, self.dialect, reason))

    def note(self, key: str, text: str) -> None:
        self.notes.append(f"layer '{self.layer}', key '{key}' ({self.dialect}): {text}")
