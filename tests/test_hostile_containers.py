"""Damaged and crafted containers: .keras zips and .h5 files. Refused in one line naming the
file (and member or HDF5 path), before anything is inflated or allocated beyond what the file
holds, and never reading bytes from outside the model."""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
from hostile import EXAMPLE, ROOT, cli, keras_members, refused, write_keras

from tfjs_lstm.convert import convert

TF_KERAS_H5 = ROOT / "fixtures" / "k2_embedding_gru" / "source.h5"


def _stored_member_offset(path: Path, name: str) -> int:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    data = path.read_bytes()
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:
                                                          info.header_offset + 30])
    return info.header_offset + 30 + name_length + extra_length


def test_a_flipped_bit_in_a_stored_member_is_caught_by_its_crc(tmp_path):
    """The weights are a window on the zip; their CRC-32 is checked before h5py reads them."""
    path = tmp_path / "flipped.keras"
    path.write_bytes(EXAMPLE.read_bytes())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        size = archive.getinfo("model.weights.h5").file_size
    data[_stored_member_offset(path, "model.weights.h5") + size - 9] ^= 0x10
    path.write_bytes(bytes(data))
    refused(cli("summary", path), "flipped.keras", "'model.weights.h5' is damaged", "CRC-32")


def test_a_flipped_bit_in_a_deflated_member_is_one_line(tmp_path):
    path = write_keras(tmp_path / "d.keras", keras_members(), zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    data[_stored_member_offset(path, "config.json") + 40] ^= 0x01
    path.write_bytes(bytes(data))
    refused(cli("summary", path), "d.keras", "'config.json'")


@pytest.mark.parametrize("field, value, needle", [
    ("flags", 0x1, "encrypted"),
    ("method", 99, "compression method 99"),
])
def test_encrypted_or_unknown_compression_is_refused(tmp_path, field, value, needle):
    path = write_keras(tmp_path / "m.keras", keras_members())
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x05\x06"))
    while central >= 0:  # every central directory entry: flags at +8, method at +10
        offset = central + (8 if field == "flags" else 10)
        data[offset:offset + 2] = struct.pack("<H", value)
        central = data.rfind(b"PK\x01\x02", 0, central)
    path.write_bytes(bytes(data))
    refused(cli("summary", path), "m.keras", needle)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """256 MiB of spaces, deflated (about 250 KB), built a chunk at a time."""
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    chunk = b" " * (1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(256)) + packer.flush()


def _with_deflated_member(path: Path, name: str, raw: bytes, declared: int) -> Path:
    """The example .keras with `name` replaced by the deflate stream `raw`, its headers
    declaring `declared` inflated bytes."""
    members = keras_members()
    members[name] = b"placeholder"
    write_keras(path, members, zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as archive:
        kept = {n: archive.read(n) for n in archive.namelist() if n != name}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in kept.items():
            archive.writestr(member, content)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, b"")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    start = info.header_offset + 30 + len(name)
    empty = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    old_size = len(empty.compress(b"") + empty.flush())
    data[start:start + old_size] = raw
    path.write_bytes(bytes(data))
    _forge(path, name, declared, len(raw), zlib.crc32(b""))
    return path


def _forge(path: Path, name: str, size: int, compressed: int, crc: int) -> None:
    """Rewrite `name`'s sizes in its local header and central directory entry, and the
    central directory's offset after the member grew."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    grown = compressed - info.compress_size
    local = info.header_offset
    data[local + 14:local + 26] = struct.pack("<III", crc, compressed, size)
    entry = data.find(b"PK\x01\x02")
    while entry >= 0:
        name_length = struct.unpack("<H", data[entry + 28:entry + 30])[0]
        if data[entry + 46:entry + 46 + name_length] == name.encode():
            data[entry + 16:entry + 28] = struct.pack("<III", crc, compressed, size)
        entry = data.find(b"PK\x01\x02", entry + 4)
    end = data.rfind(b"PK\x05\x06")
    offset = struct.unpack("<I", data[end + 16:end + 20])[0]
    data[end + 16:end + 20] = struct.pack("<I", offset + grown)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("declared, needle", [
    (1000, "'config.json' is damaged"),  # zipfile stops at the declared size: CRC fails
    ((1 << 32) - 1, "'config.json' declares"),  # beyond the 64 MiB bound: refused unread
])
def test_a_zip_bomb_config_is_refused_in_bounded_memory(tmp_path, bomb, declared, needle):
    """config.json inflates to 256 MiB; the command runs capped at 512 MiB of address space."""
    path = _with_deflated_member(tmp_path / "bomb.keras", "config.json", bomb, declared)
    refused(cli("summary", path, memory=512 << 20), "bomb.keras", needle)


def test_deflated_weights_are_inflated_no_further_than_the_config_implies(tmp_path, bomb):
    """model.weights.h5 declares 3 GiB and inflates to 256 MiB; the config implies 5,843
    weights, so inflation into the scratch file stops at about 16 MiB."""
    path = _with_deflated_member(tmp_path / "big.keras", "model.weights.h5", bomb, 3 << 30)
    refused(cli("summary", path, memory=512 << 20), "big.keras",
            "'model.weights.h5' inflates to more than 16,")


@pytest.mark.parametrize("content, needle", [
    (b"this is not hdf5 at all" * 10, "not an HDF5 file"),
    (None, "not an HDF5 file"),  # the real member with bytes deleted from its middle
])
def test_a_garbage_weights_member_names_the_file_and_member(tmp_path, content, needle):
    members = keras_members()
    original = members["model.weights.h5"]
    members["model.weights.h5"] = content if content is not None else \
        original[:100] + original[400:]
    path = write_keras(tmp_path / "g.keras", members)
    refused(cli("summary", path), "g.keras!model.weights.h5", needle)


@pytest.fixture
def h5_copy(tmp_path) -> Path:
    path = tmp_path / "m.h5"
    path.write_bytes(TF_KERAS_H5.read_bytes())
    return path


def _first_weight(h5: h5py.File) -> tuple[h5py.Group, str, str]:
    """(layer group, stored weight path, layer name) of the first layer with weights."""
    group = h5["model_weights"]
    for layer in group.attrs["layer_names"]:
        layer = layer.decode() if isinstance(layer, bytes) else layer
        names = group[layer].attrs.get("weight_names", [])
        if len(names):
            first = names[0].decode() if isinstance(names[0], bytes) else names[0]
            return group[layer], first, layer
    raise AssertionError("no weights")


def test_weight_names_pointing_at_a_group_are_refused(h5_copy):
    with h5py.File(h5_copy, "r+") as h5:
        layer_group, first, _ = _first_weight(h5)
        names = list(layer_group.attrs["weight_names"])
        names[0] = first.rsplit("/", 1)[0].encode()
        layer_group.attrs["weight_names"] = names
    refused(cli("summary", h5_copy), "m.h5", "is not a dataset")


@pytest.mark.parametrize("link", ["soft loop", "external", "soft"])
def test_weights_behind_links_are_refused(h5_copy, tmp_path, link):
    """An ExternalLink would copy another file's bytes into the conversion."""
    secret = tmp_path / "secret.h5"
    with h5py.File(h5_copy, "r+") as h5:
        layer_group, first, _ = _first_weight(h5)
        shape = layer_group[first].shape
        with h5py.File(secret, "w") as other:
            other["data"] = np.full(shape, 42.0, np.float32)
        del layer_group[first]
        if link == "external":
            layer_group[first] = h5py.ExternalLink(str(secret), "data")
        elif link == "soft":
            layer_group[first] = h5py.SoftLink("/model_weights")
        else:
            parent = first.rsplit("/", 1)[0]
            layer_group.require_group(parent)
            layer_group[first] = h5py.SoftLink(f"{layer_group.name}/{first}")
    line = refused(cli("convert", h5_copy, tmp_path / "out"), "m.h5")
    assert "link" in line or "cannot read" in line, line
    assert not (tmp_path / "out").exists()


def test_weights_in_external_raw_files_are_refused(h5_copy, tmp_path):
    secret = tmp_path / "secret.bin"
    with h5py.File(h5_copy, "r+") as h5:
        layer_group, first, _ = _first_weight(h5)
        shape = layer_group[first].shape
        secret.write_bytes(np.full(shape, 7.0, "<f4").tobytes())
        del layer_group[first]
        layer_group.create_dataset(first, shape=shape, dtype="<f4",
                                   external=[(str(secret), 0, h5py.h5f.UNLIMITED)])
    refused(cli("convert", h5_copy, tmp_path / "out"), "m.h5", "stored in external files")
    assert not (tmp_path / "out").exists()


def test_an_unwritten_chunked_dataset_is_refused_before_it_is_read(h5_copy, tmp_path):
    """A [2**31, 4] float32 dataset takes 32 GiB to read and a few KB to store unwritten."""
    with h5py.File(h5_copy, "r+") as h5:
        layer_group, first, _ = _first_weight(h5)
        del layer_group[first]
        layer_group.create_dataset(first, shape=(2**31, 4), dtype="<f4", chunks=(1024, 4))
    assert h5_copy.stat().st_size < 1 << 20
    refused(cli("summary", h5_copy), "m.h5", "has shape [2147483648, 4]")


def test_an_unwritten_dataset_of_the_right_shape_is_refused(h5_copy):
    with h5py.File(h5_copy, "r+") as h5:
        layer_group, first, _ = _first_weight(h5)
        shape = layer_group[first].shape
        del layer_group[first]
        layer_group.create_dataset(first, shape=shape, dtype="<f4", chunks=True)
    refused(cli("summary", h5_copy), "m.h5", "unwritten or truncated")


def test_an_h5_refusal_reads_as_a_sentence_not_hdf5_internals(tmp_path):
    path = tmp_path / "junk.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    line = refused(cli("summary", path), "junk.h5", "not an HDF5 file, or a damaged one")
    assert "synchronously" not in line


def test_the_model_config_attribute_is_parsed_within_bounds(h5_copy):
    with h5py.File(h5_copy, "r+") as h5:
        h5.attrs["model_config"] = "[" * 100_000 + "]" * 100_000
    refused(cli("summary", h5_copy), "m.h5@model_config", "nested deeper than")


def test_a_deflated_keras_zip_still_converts(tmp_path):
    """The checks above refuse nothing Keras itself could have written."""
    path = write_keras(tmp_path / "d.keras", keras_members(), zipfile.ZIP_DEFLATED)
    convert(path, tmp_path / "web")
    assert (tmp_path / "web" / "model.json").exists()


def test_bytes_cut_from_a_keras_zip_are_named_as_such(tmp_path):
    data = EXAMPLE.read_bytes()
    path = tmp_path / "cut.keras"
    path.write_bytes(data[:3000] + data[3500:])
    refused(cli("summary", path), "cut.keras", "points outside the file")


GOLDEN_CASE = ROOT / "fixtures" / "k2_embedding_gru"


def _npy_bytes(shape: tuple, descr: str = "<f4", body: bytes = bytes(64)) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + body


def _npz_with_method(path: Path, method: int) -> None:
    """inputs.npz whose central directory names compression `method`."""
    data = bytearray(path.read_bytes())
    entry = data.find(b"PK\x01\x02")
    data[entry + 10:entry + 12] = struct.pack("<H", method)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, needle", [
    (lambda p: write_keras(p, {"input_0.npy": _npy_bytes((10**12,))}, zipfile.ZIP_DEFLATED),
     "input_0.npy: the header declares shape [1000000000000]"),
    (lambda p: p.write_bytes(b""), "not a readable .npz file"),
    (lambda p: _npz_with_method(p, 14), "a compression numpy never writes"),
    (lambda p: write_keras(p, {"x.npy": _npy_bytes((2, 7), "<i4", bytes(56))}),
     "member 'x' is not named <prefix>_<index>.npy"),
    (lambda p: (p.unlink(), os.mkfifo(p)), "a FIFO"),
])
def test_golden_check_reads_npz_files_within_what_they_hold(tmp_path, damage, needle):
    """A case's .npz went to numpy's np.load: a forged header allocated terabytes, damage
    escaped as EOFError or NotImplementedError, a FIFO hung the command."""
    import shutil

    case = tmp_path / "case"
    shutil.copytree(GOLDEN_CASE, case)
    damage(case / "inputs.npz")
    refused(cli("golden", "check", case, "--runtimes", "reference", timeout=30,
                memory=512 << 20), "inputs.npz", needle)
