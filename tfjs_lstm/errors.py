"""Typed errors. Each says where: file, JSON pointer, layer name, so a user can find the spot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class TfjsLstmError(Exception):
    """Base of every error tfjs-lstm raises on purpose; the CLI prints it on one line."""

    exit_code = 2


class InputError(TfjsLstmError):
    """Input that cannot be read or makes no sense: malformed JSON, wrong types, unknown keys."""

    def __init__(self, message: str, *, file: str | None = None, pointer: str | None = None):
        self.file = file
        self.pointer = pointer
        self.message = message
        where = ":".join(part for part in (file, pointer) if part)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Problem:
    """One reason a target runtime cannot compute what the source computes."""

    layer: str
    key: str
    dialect: str
    reason: str

    def __str__(self) -> str:
        return f"layer '{self.layer}', key '{self.key}' ({self.dialect}): {self.reason}"


class NotExpressibleError(TfjsLstmError):
    """The target dialect cannot express the config exactly; lists every offending layer and key.
    `reading` says the file itself holds what tfjs-lstm cannot compute (nothing is converted)."""

    exit_code = 1

    def __init__(self, problems: list[Problem], *, file: str | None = None,
                 reading: bool = False):
        self.problems = tuple(problems)
        self.file = file
        listing = "; ".join(str(p) for p in self.problems)
        what = "cannot be read" if reading else "cannot be expressed exactly"
        super().__init__(f"{file + ': ' if file else ''}{what}: {listing}")


UNEXPECTED_CONTENT = (KeyError, IndexError, TypeError, ValueError, AttributeError,
                      RecursionError, OverflowError, ZeroDivisionError, UnicodeError)
"""What code that trusted a value's type or size raises when a file holds something else."""


@contextmanager
def reading(file: str) -> Iterator[None]:
    """The boundary around reading one input: content of a shape no check foresaw becomes an
    InputError naming the file, never a traceback (`--debug` still shows where it came from)."""
    with naming(file):
        try:
            yield
        except UNEXPECTED_CONTENT as error:
            detail = str(error)[:200] or "no detail"
            raise InputError(f"cannot read it: unexpected content ({type(error).__name__}: "
                             f"{detail})", file=file) from error


@contextmanager
def naming(file: str) -> Iterator[None]:
    """Around work on one model: an error that does not say which file it is about gets the
    model's name, so a refusal of what the file holds always says where."""
    try:
        yield
    except InputError as error:
        if error.file is not None:
            raise
        raise InputError(error.message, file=file, pointer=error.pointer) from error
    except NotExpressibleError as error:
        if error.file is not None:
            raise
        raise NotExpressibleError(list(error.problems), file=file) from error
