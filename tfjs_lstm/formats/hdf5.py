"""HDF5 weights read defensively, for `.h5` models and the `model.weights.h5` inside `.keras`.

Only what the file itself holds is read: a dataset reached through a soft or external link,
stored in external raw files or assembled from other files (a virtual dataset) is refused, since
it would copy bytes from outside the model into a converted artifact. A dataset's shape must
be the one the layer config implies, and its storage must hold its bytes, before anything is
read. Every HDF5 failure is an `InputError` naming the file and the HDF5 path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import h5py
import numpy as np

from ..errors import InputError

H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError)
"""What h5py raises on damaged files: bad signatures, heaps, B-trees, link loops."""
MAX_INFLATION = 1100
"""Deflate cannot expand data more than about 1032 times: a dataset claiming more bytes than
this times its stored size is refused before it is read."""


def hdf5_reason(error: BaseException) -> str:
    """HDF5's own words without its call-stack prefix: the part in parentheses, if any."""
    text = str(error)
    found = re.findall(r"\(([^()]*)\)", text)
    return found[-1] if found else text or type(error).__name__


@contextmanager
def open_hdf5(source: str | os.PathLike | BinaryIO, where: str) -> Iterator[h5py.File]:
    """An HDF5 file opened read-only, or one line saying it is not one."""
    try:
        h5 = h5py.File(source, "r")
    except H5_ERRORS as error:
        raise InputError(f"not an HDF5 file, or a damaged one ({hdf5_reason(error)})",
                         file=where) from None
    with h5:
        yield h5


def child(group: h5py.Group, name: str, where: str) -> h5py.Group | h5py.Dataset | None:
    """`group[name]` following hard links only, each step of the path checked; None when
    absent."""
    node = group
    for part in (p for p in name.split("/") if p):
        if not isinstance(node, h5py.Group):
            return None
        try:
            link = node.get(part, getlink=True)
            if link is None:
                return None
            if not isinstance(link, h5py.HardLink):
                kind = "an external link" if isinstance(link, h5py.ExternalLink) else \
                    "a soft link"
                raise InputError(f"{node.name.rstrip('/')}/{part} is {kind}; weights are read "
                                 "only from the model file itself", file=where)
            node = node[part]
        except H5_ERRORS as error:
            raise InputError(f"cannot read {node.name.rstrip('/')}/{part}: "
                             f"{hdf5_reason(error)}", file=where) from None
    return node


def read_dataset(dataset: Any, shape: tuple[int, ...], where: str,
                 path: str | None = None) -> np.ndarray:
    """A weight's values once its link, storage and shape are checked. Stored whole and
    uncompressed in a file on disk (what Keras writes), it is a read-only map of the file's own
    bytes, so no copy is read."""
    path = path or getattr(dataset, "name", "?")
    if not isinstance(dataset, h5py.Dataset):
        raise InputError(f"{path} is not a dataset", file=where)
    try:
        _check_storage(dataset, shape, path, where)
        offset = dataset.id.get_offset()
        dtype = dataset.dtype
        mapped = offset is not None and dataset.chunks is None and dtype.kind == "f" \
            and dataset.size and os.path.isfile(where)
        if not mapped:
            return np.asarray(dataset[()])
        if offset + dataset.size * dtype.itemsize > os.path.getsize(where):
            raise InputError(f"weight {path} lies past the end of the file", file=where)
        return np.memmap(where, dtype=dtype, mode="r", offset=offset, shape=dataset.shape)
    except H5_ERRORS as error:
        raise InputError(f"cannot read weight {path}: {hdf5_reason(error)}",
                         file=where) from None


def _check_storage(dataset: h5py.Dataset, shape: tuple[int, ...], path: str,
                   where: str) -> None:
    if tuple(dataset.shape) != tuple(shape):
        raise InputError(f"weight {path} has shape {list(dataset.shape)}, the layer config "
                         f"implies {list(shape)}", file=where)
    if dataset.is_virtual:
        raise InputError(f"weight {path} is a virtual dataset assembled from other files",
                         file=where)
    if dataset.id.get_create_plist().get_external_count():
        raise InputError(f"weight {path} is stored in external files", file=where)
    if dataset.dtype.kind not in "fiub" or dataset.dtype.itemsize > 8:
        raise InputError(f"weight {path} has dtype {dataset.dtype}, not a number type",
                         file=where)
    needed = dataset.size * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()
    compressed = dataset.chunks is not None and bool(dataset.id.get_create_plist()
                                                      .get_nfilters())
    if needed and (stored < needed if not compressed else needed > MAX_INFLATION * stored):
        raise InputError(f"weight {path} needs {needed:,} bytes but the file stores "
                         f"{stored:,} for it (unwritten or truncated)", file=where)
