"""TensorFlow.js layers-model weights: the `weightsManifest` groups and their binary shards.

Reading follows tfjs-core 4.22 (`io/weights_loader.ts`, `decodeWeight` in `io/io_utils.ts`) so the
arrays are bit-identical to what TensorFlow.js loads; writing follows the official Python
converter (`write_weights.py`, `quantization.py`): same shard names, shard cuts and quantization.
Every byte count is checked against the shard files on disk before anything is allocated.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError

MAX_ELEMENTS = 2**40
"""Largest element count a weight may claim; beyond it the manifest is refused as absurd."""

# Plain weight dtypes: how tfjs stores one element.
_STORED = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4"), "bool": np.dtype("u1")}
# Quantization dtypes: how one element is stored, and which weight dtypes tfjs decodes from it.
_QUANTIZED = {"uint8": np.dtype("u1"), "uint16": np.dtype("<u2"), "float16": np.dtype("<u2")}
_QUANTIZED_TARGETS = {
    "uint8": ("float32", "int32"), "uint16": ("float32", "int32"), "float16": ("float32",),
}
_AFFINE_MAX = {"uint8": 255, "uint16": 65535}
_CHUNK = 1 << 16  # elements dequantized at a time, to bound the float64 scratch space


class _Entry:
    """One validated manifest weight: what it claims, how it is stored, the bytes it needs."""

    __slots__ = ("name", "shape", "dtype", "quantization", "scale", "minimum", "count", "unit")

    def __init__(self, name: str, shape: tuple[int, ...], dtype: str, quantization: str | None,
                 scale: float, minimum: float, count: int):
        self.name, self.shape, self.dtype = name, shape, dtype
        self.quantization, self.scale, self.minimum = quantization, scale, minimum
        self.count = count
        self.unit = _QUANTIZED[quantization] if quantization else _STORED[dtype]

    @property
    def nbytes(self) -> int:
        return self.count * self.unit.itemsize


def read_weights(folder: str | os.PathLike, manifest: list[dict], *,
                 model_file: str = "model.json") -> dict[str, np.ndarray]:
    """Read every weight of `manifest` (the model's `weightsManifest`) from shards in `folder`.

    Quantized weights come back dequantized exactly as tfjs 4.22 does it (float32, or int32 for
    int32 weights); bool weights as numpy bool. Raises `InputError` naming `model_file` and the
    JSON pointer of the offending manifest entry for any unsafe path, size mismatch or bad entry.
    """
    where = os.fspath(Path(folder) / model_file)
    root = os.path.realpath(folder)
    groups = _parse_manifest(manifest, where)
    files = [[_shard_file(root, path, where, f"/weightsManifest/{g}/paths/{k}")
              for k, path in enumerate(paths)] for g, (paths, _) in enumerate(groups)]
    for g, ((paths, entries), shards) in enumerate(zip(groups, files, strict=True)):
        _check_sizes(g, paths, entries, [os.path.getsize(s) for s in shards], where)
    out: dict[str, np.ndarray] = {}
    for g, ((_, entries), shards) in enumerate(zip(groups, files, strict=True)):
        with _ShardStream(shards, where, f"/weightsManifest/{g}/paths") as stream:
            for entry in entries:
                raw = np.empty(entry.count, dtype=entry.unit)
                stream.fill(memoryview(raw.view(np.uint8)))
                out[entry.name] = _decode(raw, entry).reshape(entry.shape)
    return out


def write_weights(folder: str | os.PathLike, weights: list[tuple[str, np.ndarray]], *,
                  shard_size_bytes: int = 4 * 1024 * 1024, quantize: dict[str, str] | None = None,
                  group_name: str = "group1",
                  progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Write `weights` as one group of shards `<group_name>-shard<i>of<n>.bin`; return the manifest.

    Like the converter, the weights' little-endian bytes are concatenated in order and the stream
    is cut every `shard_size_bytes` (the last shard holds the rest; no bytes, no shard).
    `quantize` maps a weight name to "float16", "uint8" or "uint16"; as in the converter only
    float32 weights are quantized, others are written as they are. Float32, int32 and bool only.
    Shards are written one after the other, each weight quantized only when it is written;
    `progress(bytes written, total bytes)` is called as they go.
    """
    if isinstance(shard_size_bytes, bool) or not isinstance(shard_size_bytes, int) \
            or shard_size_bytes <= 0:
        raise ValueError(f"shard_size_bytes must be a positive integer, not {shard_size_bytes!r}")
    if not group_name or any(c in group_name for c in "/\\\0") or group_name in (".", ".."):
        raise ValueError(f"group_name must be a plain file name prefix, not {group_name!r}")
    names = [name for name, _ in weights]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"duplicate weight name {dup!r}")
    quantize = quantize or {}
    unknown = sorted(set(quantize) - set(names))
    if unknown:
        raise ValueError(f"quantize names weights that are not written: {unknown}")
    bad = sorted(n for n, method in quantize.items() if method not in _QUANTIZED)
    if bad:
        raise ValueError(f"quantize: unknown quantization for {bad} (float16, uint8, uint16)")

    entries: list[dict] = []
    total = 0
    for name, array in weights:
        data = np.asarray(array)
        dtype = _dtype_name(data.dtype)
        if dtype is None:
            raise ValueError(f"weight {name!r} has dtype {data.dtype}; only float32, int32 "
                             "and bool are written (convert it explicitly first)")
        entries.append({"name": name, "shape": [int(d) for d in data.shape], "dtype": dtype})
        method = quantize.get(name) if dtype == "float32" else None
        total += data.size * (_QUANTIZED[method] if method else _STORED[dtype]).itemsize

    count = -(-total // shard_size_bytes)
    paths = [f"{group_name}-shard{i}of{count}.bin" for i in range(1, count + 1)]
    stream = _stored_bytes(weights, entries, quantize)
    try:
        _write_shards(folder, paths, shard_size_bytes, stream, total, progress)
    except BaseException:  # a weight that cannot be quantized: leave no partial shards behind
        for path in paths:
            Path(folder, path).unlink(missing_ok=True)
        raise
    return [{"paths": paths, "weights": entries}]


def _write_shards(folder: str | os.PathLike, paths: list[str], shard_size_bytes: int,
                  stream: Iterator[memoryview], total: int,
                  progress: Callable[[int, int], None] | None) -> None:
    """Cut the byte stream into the shard files, one open file at a time."""
    pending = memoryview(b"")
    written = 0
    for path in paths:
        room = shard_size_bytes
        with open(os.path.join(folder, path), "wb") as f:
            while room:
                if not pending:
                    pending = next(stream, None)
                    if pending is None:
                        break
                    continue
                piece = pending[:room]
                f.write(piece)
                room -= len(piece)
                written += len(piece)
                pending = pending[len(piece):]
                if progress is not None:
                    progress(written, total)
    for _ in stream:  # empty weights after the last byte: their entries still get filled in
        pass


def _stored_bytes(weights: list[tuple[str, np.ndarray]], entries: list[dict],
                  quantize: dict[str, str]) -> Iterator[memoryview]:
    """Each weight's stored bytes in turn, quantized only when its turn comes, so at most one
    quantized copy is alive; fills in each entry's quantization as it goes."""
    for (name, array), entry in zip(weights, entries, strict=True):
        data = np.asarray(array)
        if entry["dtype"] == "float32" and name in quantize:
            blob, entry["quantization"] = _quantize(name, data, quantize[name])
        else:
            blob = np.ascontiguousarray(data, dtype=_STORED[entry["dtype"]])
        yield memoryview(blob.reshape(-1).view(np.uint8))


def dequantization_bound(quantization: dict) -> float:
    """Largest error a quantized float32 weight can carry versus its original value.

    Affine ("uint8"/"uint16"): an absolute bound, scale/2 plus one float32 ulp of the largest
    representable magnitude (the rounding of the dequantized value). "float16": a *relative*
    bound, 2**-11: |x' - x| <= 2**-11 * |x| for |x| >= 2**-14; smaller values (half subnormals)
    are off by at most 2**-25 absolute.
    """
    dtype = quantization.get("dtype")
    if dtype == "float16":
        return 2.0**-11
    if dtype in _AFFINE_MAX:
        scale, minimum = float(quantization["scale"]), float(quantization["min"])
        top = max(abs(minimum), abs(minimum + _AFFINE_MAX[dtype] * scale))
        top = min(top, float(np.finfo(np.float32).max))
        return scale / 2 + float(np.spacing(np.float32(top)))
    raise ValueError(f"unknown quantization dtype {dtype!r}")


def _error(where: str, pointer: str, message: str) -> InputError:
    return InputError(message, file=where, pointer=pointer)


def _parse_manifest(manifest: object, where: str) -> list[tuple[list[str], list[_Entry]]]:
    """Validate the whole manifest; no file is touched."""
    if not isinstance(manifest, list):
        raise _error(where, "/weightsManifest", "weightsManifest must be a list of groups")
    groups = []
    seen: set[str] = set()
    for g, group in enumerate(manifest):
        at = f"/weightsManifest/{g}"
        if not isinstance(group, dict):
            raise _error(where, at, "a weights group must be an object with paths and weights")
        paths, weights = group.get("paths"), group.get("weights")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise _error(where, f"{at}/paths", "paths must be a list of shard file names")
        if not isinstance(weights, list):
            raise _error(where, f"{at}/weights", "weights must be a list of weight entries")
        entries = []
        for i, spec in enumerate(weights):
            entry = _parse_entry(spec, where, f"{at}/weights/{i}")
            if entry.name in seen:
                raise _error(where, f"{at}/weights/{i}/name",
                             f"duplicate weight name {entry.name!r}")
            seen.add(entry.name)
            entries.append(entry)
        groups.append((paths, entries))
    return groups


def _parse_entry(spec: object, where: str, at: str) -> _Entry:
    if not isinstance(spec, dict):
        raise _error(where, at, "a weight entry must be an object")
    name = spec.get("name")
    if not isinstance(name, str):
        raise _error(where, f"{at}/name", "weight name must be a string")
    shape = spec.get("shape")
    if not isinstance(shape, list):
        raise _error(where, f"{at}/shape", f"shape of weight {name!r} must be a list of integers")
    count = 1
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 0:
            raise _error(where, f"{at}/shape", f"weight {name!r} has dimension {dim!r}; "
                         "dimensions must be non-negative integers")
        if dim > MAX_ELEMENTS or count * dim > MAX_ELEMENTS:
            raise _error(where, f"{at}/shape",
                         f"weight {name!r} claims more than 2**40 elements: {shape}")
        count *= dim
    dtype = spec.get("dtype")
    if not isinstance(dtype, str) or dtype not in _STORED:
        raise _error(where, f"{at}/dtype", f"weight {name!r} has unsupported dtype {dtype!r} "
                     "(float32, int32, bool)")
    if "quantization" not in spec:
        return _Entry(name, tuple(shape), dtype, None, 0.0, 0.0, count)
    quant = spec["quantization"]
    at = f"{at}/quantization"
    if not isinstance(quant, dict):
        raise _error(where, at, f"quantization of weight {name!r} must be an object")
    qdtype = quant.get("dtype")
    if not isinstance(qdtype, str) or qdtype not in _QUANTIZED:
        raise _error(where, f"{at}/dtype", f"weight {name!r} has unknown quantization dtype "
                     f"{qdtype!r} (uint8, uint16, float16)")
    if dtype not in _QUANTIZED_TARGETS[qdtype]:
        raise _error(where, f"{at}/dtype",
                     f"{qdtype} quantization cannot hold weight {name!r} of dtype {dtype}")
    scale = minimum = 0.0
    if qdtype in _AFFINE_MAX:
        scale = _finite(quant, "scale", name, where, at)
        minimum = _finite(quant, "min", name, where, at)
    return _Entry(name, tuple(shape), dtype, qdtype, scale, minimum, count)


def _finite(quant: dict, key: str, name: str, where: str, at: str) -> float:
    value = quant.get(key)
    if not isinstance(value, bool) and isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise _error(where, f"{at}/{key}",
                 f"{quant.get('dtype')} quantization of weight {name!r} needs a finite {key}")


def _shard_file(root: str, path: str, where: str, at: str) -> str:
    """Resolve a manifest path to a regular file inside the (resolved) model folder. A leading
    `./` is what tfjs's browser downloads write (`./my-model.weights.bin`); tfjs resolves it
    against the model.json's folder, as here."""
    relative = path.removeprefix("./")
    parts = relative.split("/")
    if (not relative or "\\" in path or "\0" in path or os.path.isabs(path)
            or any(part in ("", ".", "..") for part in parts)):
        raise _error(where, at, f"shard path {path!r} must be a relative file name inside the "
                     "model folder")
    real = os.path.realpath(os.path.join(root, *parts))
    if os.path.commonpath([root, real]) != root:
        raise _error(where, at, f"shard {path!r} resolves outside the model folder")
    if not os.path.exists(real):
        raise _error(where, at, f"shard file {path!r} does not exist")
    if not os.path.isfile(real):
        raise _error(where, at, f"shard {path!r} is not a regular file")
    return real


def _check_sizes(g: int, paths: list[str], entries: list[_Entry], sizes: list[int],
                 where: str) -> None:
    """The group's weights must need exactly the bytes its shards hold."""
    held = sum(sizes)
    end = 0
    for i, entry in enumerate(entries):
        start, end = end, end + entry.nbytes
        if end > held:
            files = f"last shard {paths[-1]!r}" if paths else "no shard files"
            raise _error(where, f"/weightsManifest/{g}/weights/{i}",
                         f"weight {entry.name!r} needs bytes {start}..{end} of group {g} but its "
                         f"shards hold {held} bytes ({files}): truncated shard or wrong shape")
    if held > end:
        raise _error(where, f"/weightsManifest/{g}/paths/{len(paths) - 1}",
                     f"shard {paths[-1]!r} has {held - end} extra trailing bytes: group {g} "
                     f"weights need {end} bytes, its shards hold {held}")


class _ShardStream:
    """A group's shards read as one byte stream, one open file at a time, without copies."""

    def __init__(self, files: list[str], where: str, at: str):
        self._files = iter(files)
        self._file = None
        self._where, self._at = where, at

    def __enter__(self) -> _ShardStream:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def fill(self, view: memoryview) -> None:
        """Fill `view` with the next bytes of the stream, crossing shard boundaries."""
        pos = 0
        while pos < len(view):
            if self._file is None:
                path = next(self._files, None)
                if path is None:
                    raise _error(self._where, self._at, "shards shrank while being read")
                self._file = open(path, "rb", buffering=0)  # closed by fill or __exit__
            got = self._file.readinto(view[pos:])
            if got:
                pos += got
            else:
                self._file.close()
                self._file = None


def _decode(raw: np.ndarray, entry: _Entry) -> np.ndarray:
    """Turn the stored elements into the weight's values, as tfjs's `decodeWeight` does."""
    if entry.quantization is None:
        if entry.dtype == "bool":
            return raw != 0
        return raw.astype(entry.dtype, copy=False)
    out = np.empty(entry.count, dtype=entry.dtype)
    for start in range(0, entry.count, _CHUNK):
        chunk = raw[start:start + _CHUNK]
        if entry.quantization == "float16":
            out[start:start + _CHUNK] = _half_to_float32(chunk)
            continue
        # JS: values[i] = v * scale + min, in float64, then stored into a Float32Array.
        x = chunk.astype(np.float64)
        x *= entry.scale
        x += entry.minimum
        with np.errstate(over="ignore", invalid="ignore"):
            out[start:start + _CHUNK] = _js_round_int32(x) if entry.dtype == "int32" else x
    return out


def _half_to_float32(bits: np.ndarray) -> np.ndarray:
    """IEEE half to float32 as tfjs's table decoder: exact, NaN payload shifted, never quieted."""
    out = bits.view("<f2").astype(np.float32)
    nan = ((bits & 0x7C00) == 0x7C00) & ((bits & 0x03FF) != 0)
    if nan.any():
        h = bits[nan].astype(np.uint32)
        out.view(np.uint32)[nan] = ((h & 0x8000) << 16) | 0x7F800000 | ((h & 0x03FF) << 13)
    return out


def _js_round_int32(x: np.ndarray) -> np.ndarray:
    """`Math.round` (ties toward +infinity) then Int32Array storage (wrap modulo 2**32)."""
    r = np.floor(x)
    r += (x - r) >= 0.5
    r = np.mod(r, 2.0**32)
    r[~np.isfinite(r)] = 0.0
    r[r >= 2.0**31] -= 2.0**32
    return r.astype(np.int32)


def _dtype_name(dtype: np.dtype) -> str | None:
    if dtype.kind == "b":
        return "bool"
    if dtype.itemsize == 4 and dtype.kind in "fi":
        return "float32" if dtype.kind == "f" else "int32"
    return None


def _quantize(name: str, data: np.ndarray, method: str) -> tuple[np.ndarray, dict]:
    """The converter's `quantize_weights` for a float32 array; returns stored array and metadata."""
    if method == "float16":
        with np.errstate(over="ignore"):
            halves = np.ascontiguousarray(data, dtype="<f2")
        if np.any(np.isinf(halves) & np.isfinite(data)):
            raise ValueError(f"weight {name!r} has values beyond float16 range (65504)")
        return halves, {"dtype": "float16", "original_dtype": "float32"}
    if not np.all(np.isfinite(data)):
        raise ValueError(f"cannot {method}-quantize weight {name!r}: it holds NaN or infinity")
    qdtype, qmax = _QUANTIZED[method], _AFFINE_MAX[method]
    low = float(data.min()) if data.size else 0.0
    high = float(data.max()) if data.size else 0.0
    if low == high:
        stored = np.zeros(data.shape, dtype=qdtype)
        scale = 1.0
    else:
        scale = (high - low) / qmax
        if low <= 0 <= high:  # nudge so that 0.0 is exactly representable (as TF-Lite does)
            low = -float(np.round((0 - low) / scale)) * scale
            high = qmax * scale + low
        x = data.astype(np.float64)
        np.clip(x, low, high, out=x)
        x -= low
        x /= scale
        stored = np.round(x, out=x).astype(qdtype)
    return stored, {"dtype": method, "min": low, "scale": scale, "original_dtype": "float32"}
