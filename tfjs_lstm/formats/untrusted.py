"""Reading files nobody vouches for: regular files only, sizes bounded before reading, JSON
parsed with bounds on nesting and number size, every string valid Unicode.

Every failure is an `InputError` naming the file (and the JSON pointer where there is one), so
no exception from `json`, `os` or the codecs reaches a command.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..context import pointer_join
from ..errors import InputError

MAX_JSON_BYTES = 64 << 20
"""The largest JSON document read (a model.json, a .keras config.json, an .h5 model_config): one
of a thousand layers is a few megabytes, and Python's parser needs about 6 times the text."""
MAX_DEPTH = 64
"""Deepest nesting accepted; Keras configs nest a dozen levels (a nested model a few more)."""
MAX_INTEGER_DIGITS = 20
"""Integers in model files are sizes and indices: 2**64 has 20 digits."""


def regular_file(path: str | os.PathLike, what: str = "file") -> Path:
    """`path` if it names a regular file (following links); else one line saying what it is.
    A FIFO would block every read, a device would never end."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError("no such file", file=str(path)) from None
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the {what}: {_reason(error)}", file=str(path)) from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else \
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
        raise InputError(f"the {what} is {kind}; expected a regular file", file=str(path))
    return path


def read_bytes(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """A regular file's bytes, refused when it holds more than `limit`."""
    path = regular_file(path, what)
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise InputError(f"the {what} is not a regular file", file=str(path))
            data = handle.read(limit + 1)
    except OSError as error:
        raise InputError(f"cannot read the {what}: {_reason(error)}", file=str(path)) from None
    if len(data) > limit:
        raise InputError(f"the {what} is larger than {limit:,} bytes", file=str(path))
    return data


def load_json_file(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """Parse a JSON file within the bounds above."""
    return parse_json(read_bytes(path, MAX_JSON_BYTES, what), str(path))


def parse_json(data: bytes | str, file: str, pointer: str = "") -> Any:
    """Strict UTF-8 JSON of at most MAX_JSON_BYTES, with bounded nesting and integers, every
    string valid Unicode."""
    if len(data) > MAX_JSON_BYTES:
        raise InputError(f"the JSON text is larger than {MAX_JSON_BYTES:,} bytes", file=file,
                         pointer=pointer or None)
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"not UTF-8 text: invalid byte at offset {error.start}", file=file,
                             pointer=pointer or None) from None
    else:
        text = data
    try:
        value = json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as error:
        raise InputError(f"malformed JSON at line {error.lineno}, column {error.colno}: "
                         f"{error.msg}", file=file, pointer=pointer or None) from None
    except RecursionError:
        raise InputError(f"JSON nested deeper than {MAX_DEPTH} levels", file=file,
                         pointer=pointer or None) from None
    except ValueError as error:
        raise InputError(f"malformed JSON: {error}", file=file, pointer=pointer or None) from None
    _check_tree(value, file, pointer)
    return value


def load_npy(path: str | os.PathLike) -> np.ndarray:
    """A numeric `.npy` array with a batch axis, its header checked against the bytes the file
    holds before anything is allocated; pickled objects are never loaded."""
    path = regular_file(path, "input array")
    where = str(path)
    try:
        with open(path, "rb") as handle:
            array = _npy_array(handle, os.fstat(handle.fileno()).st_size, where)
    except _NPY_ERRORS as error:
        raise InputError(f"not a readable .npy array: {error}", file=where) from None
    if not array.ndim:
        raise InputError("the array is a scalar; an input needs a batch axis first", file=where)
    if not array.shape[0]:
        raise InputError(f"the array holds no samples (shape {list(array.shape)})", file=where)
    return array


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The numeric arrays of an `.npz` by member name (without `.npy`), each header checked
    against the bytes its member can hold (a deflated one at most MAX_DEFLATE_RATIO times its
    stored size) before anything is allocated; pickled objects are never loaded."""
    where = str(regular_file(path, ".npz file"))
    arrays = {}
    try:
        with zipfile.ZipFile(where) as archive:
            for info in archive.infolist():
                at = f"{where}!{info.filename}"
                deflated = info.compress_type == zipfile.ZIP_DEFLATED
                if info.flag_bits & 0x1 or not deflated and \
                        info.compress_type != zipfile.ZIP_STORED:
                    raise InputError("the member is encrypted or uses a compression numpy "
                                     "never writes", file=at)
                room = min(info.file_size,
                           info.compress_size * (MAX_DEFLATE_RATIO if deflated else 1))
                with archive.open(info) as member:
                    arrays[info.filename.removesuffix(".npy")] = _npy_array(member, room, at)
                    member.read(1)  # at the member's end: zipfile checks its CRC-32
    except _NPY_ERRORS + (zipfile.BadZipFile, zlib.error, NotImplementedError,
                          RuntimeError) as error:
        raise InputError(f"not a readable .npz file: {error}", file=where) from None
    return arrays


MAX_DEFLATE_RATIO = 1032
"""Deflate expands data at most about 1032 times: a member claiming more was forged."""
_NPY_ERRORS = (ValueError, SyntaxError, TypeError, OverflowError, OSError, EOFError,
               tokenize.TokenError)
"""What numpy's header parser and the reads raise on damaged bytes."""


def _npy_array(handle: BinaryIO, size: int, where: str) -> np.ndarray:
    """The numeric array of the `.npy` bytes `handle` reads, `size` bytes in all: its header
    must declare exactly the bytes after it before the array is allocated."""
    version = np.lib.format.read_magic(handle)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"format version {version} (1.0 and 2.0 are read)")
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
        np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(handle, max_header_size=1 << 16)
    if dtype.kind not in "fiub" or dtype.hasobject or dtype.fields:
        raise InputError(f"the array has dtype {dtype}; a model takes numbers", file=where)
    held = size - handle.tell()
    needed = math.prod(shape) * dtype.itemsize
    if needed != held:
        raise InputError(f"the header declares shape {list(shape)} of {dtype} ({needed:,} "
                         f"bytes) but the file holds {held:,}", file=where)
    data = np.empty(math.prod(shape), dtype=dtype)
    view = memoryview(data.view(np.uint8))
    filled = 0
    while filled < needed:
        got = handle.readinto(view[filled:])
        if not got:
            raise EOFError(f"the array's bytes end after {filled:,} of {needed:,}")
        filled += got
    return data.reshape(shape, order="F" if fortran else "C")


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"an integer of {len(digits)} digits (at most {MAX_INTEGER_DIGITS})")
    return int(digits)


def _check_tree(value: Any, file: str, pointer: str) -> None:
    """Depth and string checks without recursion, holding one iterator per open container (at
    most MAX_DEPTH + 1), so neither a deep nor a long document costs more than its parse."""
    keys: list[Any] = []  # where each open container below the root sits in its parent
    stack: list[Iterator[tuple[Any, Any]]] = [iter([(None, value)])]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            if len(stack) >= 2:
                keys.pop()
            continue
        key, item = entry
        if len(stack) > MAX_DEPTH + 1:
            raise InputError(f"JSON nested deeper than {MAX_DEPTH} levels", file=file,
                             pointer=_pointer(pointer, keys, key, len(stack)) or "/")
        if isinstance(item, str):
            _check_text(item, file, pointer, keys, key, len(stack))
        elif isinstance(item, (dict, list)):
            if isinstance(item, dict):
                for name in item:
                    _check_text(name, file, pointer, keys, key, len(stack))
            if len(stack) >= 2:
                keys.append(key)
            stack.append(iter(item.items()) if isinstance(item, dict) else enumerate(item))


def _pointer(base: str, keys: list[Any], key: Any, open_containers: int) -> str:
    """The JSON pointer of item `key` of the innermost of `open_containers` iterators."""
    return pointer_join(base, *keys, key) if open_containers >= 2 else base


def _check_text(text: str, file: str, base: str, keys: list[Any], key: Any,
                open_containers: int) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("a string holds a lone surrogate (\\ud800-\\udfff), which is not "
                         "Unicode text", file=file,
                         pointer=_pointer(base, keys, key, open_containers) or "/") from None


def _reason(error: BaseException) -> str:
    """An OS error's own words without the path (the message names the file already)."""
    return getattr(error, "strerror", None) or str(error)


def expect(value: Any, kind: type | tuple[type, ...], file: str, pointer: str,
           what: str) -> Any:
    """`value` if it is of `kind` (bool is never an int here); else one line naming the spot."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    else:
        ok = isinstance(value, kinds)
    if not ok:
        found = "null" if value is None else type(value).__name__
        found = {"dict": "an object", "list": "a list", "str": "a string", "int": "an integer",
                 "float": "a number", "bool": "a boolean"}.get(found, found)
        raise InputError(f"expected {what}, found {found}", file=file, pointer=pointer or "/")
    return value


def nonnegative_index(value: Any, file: str, pointer: str, what: str = "an index") -> int:
    """A non-negative integer index below 2**31 (node and tensor indices)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise InputError(f"expected {what} (a non-negative integer), found "
                         f"{json.dumps(value)[:40]}", file=file, pointer=pointer or "/")
    return value
