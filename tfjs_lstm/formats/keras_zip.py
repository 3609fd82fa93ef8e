"""The zip container of a `.keras` file, read defensively: members are checked for the
compression Keras writes, inflated with a running limit (never trusting the sizes a header
declares), CRC-checked, and a stored member is read as a window on the file, never copied.

Every failure is an `InputError` naming the file and the member.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from ..errors import InputError
from .untrusted import regular_file

_CHUNK = 1 << 20
_MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                  NotImplementedError, RuntimeError, struct.error)
"""What zipfile raises on damaged members: bad CRC, bad headers, truncation, unknown methods."""


@contextmanager
def open_archive(path: str | os.PathLike) -> Iterator[zipfile.ZipFile]:
    """The zip at `path`, or one line saying why it is not one."""
    where = str(regular_file(path, ".keras file"))
    try:
        archive = zipfile.ZipFile(where)
    except _MEMBER_ERRORS as error:
        raise InputError(f"not a .keras zip file: {error}", file=where) from None
    with archive:
        yield archive


def _check_method(info: zipfile.ZipInfo, where: str) -> None:
    if info.flag_bits & 0x1:
        raise InputError(f"member {info.filename!r} is encrypted; Keras never encrypts",
                         file=where)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError(f"member {info.filename!r} uses compression method "
                         f"{info.compress_type}; Keras writes stored or deflated members",
                         file=where)


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sink: BinaryIO, limit: int,
             where: str) -> int:
    """Copy a member's inflated bytes into `sink`, stopping past `limit`; zipfile checks the
    CRC at the end. Returns the byte count."""
    _check_method(info, where)
    total = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise InputError(f"member {info.filename!r} inflates to more than "
                                     f"{limit:,} bytes", file=where)
                sink.write(chunk)
    except _MEMBER_ERRORS as error:
        raise InputError(f"member {info.filename!r} is damaged: {_zip_reason(error)}",
                         file=where) from None
    return total


def _zip_reason(error: BaseException) -> str:
    """zipfile's complaint, or for a failed seek what it means: the zip directory's offsets
    point outside the file, so bytes were cut out or inserted."""
    if isinstance(error, OSError):
        return "the zip directory points outside the file (bytes cut out or inserted)"
    return str(error)


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, where: str
                ) -> bytes:
    """A small member's bytes (config.json, metadata.json), at most `limit` of them."""
    buffer = io.BytesIO()
    _inflate(archive, info, buffer, limit, where)
    return buffer.getvalue()


@contextmanager
def member_file(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, where: str
                ) -> Iterator[BinaryIO]:
    """A member as a seekable file, never read whole into memory: a stored member (what Keras
    writes) is a window on the zip itself, CRC-checked first; a deflated one is inflated into
    a temporary file of at most `limit` bytes."""
    _check_method(info, where)
    if info.compress_type != zipfile.ZIP_STORED:
        with tempfile.TemporaryFile() as scratch:
            _inflate(archive, info, scratch, limit, where)
            scratch.seek(0)
            yield scratch
        return
    with open(archive.filename, "rb") as raw:
        window = _stored_window(raw, info, where)
        crc = 0
        while chunk := window.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
        if crc != info.CRC:
            raise InputError(f"member {info.filename!r} is damaged: its CRC-32 does not match",
                             file=where)
        window.seek(0)
        yield window


def _stored_window(raw: BinaryIO, info: zipfile.ZipInfo, where: str) -> _Window:
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    fields = _LOCAL_HEADER.unpack(header) if len(header) == _LOCAL_HEADER.size else None
    name = raw.read(fields[1]) if fields else b""
    try:
        same = name.decode("utf-8" if info.flag_bits & 0x800 else "cp437") == info.orig_filename
    except UnicodeDecodeError:
        same = False
    if not fields or fields[0] != b"PK\x03\x04" or not same:
        raise InputError(f"member {info.filename!r} has a bad local header", file=where)
    start = info.header_offset + _LOCAL_HEADER.size + fields[1] + fields[2]
    if start + info.file_size > os.fstat(raw.fileno()).st_size:
        raise InputError(f"member {info.filename!r} runs past the end of the zip", file=where)
    return _Window(raw, start, info.file_size)


_LOCAL_HEADER = struct.Struct("<4s22xHH")
"""A zip local file header: signature, 22 bytes up to the name and extra field lengths."""


class _Window(io.RawIOBase):
    """`size` bytes of `raw` from `start`, read-only and seekable, reading past them impossible."""

    def __init__(self, raw: BinaryIO, start: int, size: int):
        super().__init__()
        self._raw, self._start, self._size, self._pos = raw, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        count = max(0, min(len(view), self._size - self._pos))
        self._raw.seek(self._start + self._pos)
        got = self._raw.readinto(view[:count]) or 0
        self._pos += got
        return got
