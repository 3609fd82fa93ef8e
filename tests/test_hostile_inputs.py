"""Hostile `run` inputs, sizes that would take terabytes, special files and bad options: one
line, exit 1 or 2, checked before anything is allocated."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hostile import EXAMPLE, ROOT, cli, keras_members, refused

from tfjs_lstm.convert import convert

TFJS_FOLDER = ROOT / "fixtures" / "tfjs_seed_lstm32" / "model"


def _npy_header(shape: tuple, descr: str = "<f4") -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


@pytest.mark.parametrize("make, needle", [
    (lambda p: np.save(p, np.float32(3.0)), "a scalar"),
    (lambda p: np.savez(open(p, "wb"), x=np.zeros((2, 12, 8))), "not a readable .npy"),
    (lambda p: p.write_bytes(b""), "not a readable .npy"),
    (lambda p: np.save(p, np.zeros((0, 12, 8), np.float32)), "holds no samples"),
    (lambda p: np.save(p, np.zeros((2, 12), dtype="V8")), "a model takes numbers"),
    (lambda p: p.write_bytes(_npy_header((10**12,)) + bytes(64)), "declares shape [1000000000000]"),
    (lambda p: np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True),
     "a model takes numbers"),
])
def test_unusable_input_arrays_are_refused_before_allocating(tmp_path, make, needle):
    path = tmp_path / "x.npy"
    make(path)
    refused(cli("run", EXAMPLE, "--input", path, "--output", tmp_path / "y.npy",
                memory=512 << 20), "x.npy", needle)
    assert not (tmp_path / "y.npy").exists()


def _tfjs_with(tmp_path: Path, change) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(TFJS_FOLDER, folder)
    document = json.loads((folder / "model.json").read_text())
    change(document["modelTopology"]["config"]["layers"])
    (folder / "model.json").write_text(json.dumps(document))
    return folder


def _huge_batch(layers: list) -> None:
    layers[0]["config"]["batch_input_shape"] = [1_000_000, 1_000_000, 8]


def _repeat_vector(layers: list) -> None:
    layers[0]["config"]["return_sequences"] = False
    layers.append({"class_name": "RepeatVector", "config": {"n": 10**9, "name": "rv"}})


@pytest.mark.parametrize("change", [_huge_batch, _repeat_vector], ids=["batch", "repeat"])
def test_runs_that_would_need_terabytes_are_refused_up_front(tmp_path, change):
    folder = _tfjs_with(tmp_path, change)
    np.save(tmp_path / "x.npy", np.zeros((1, 10, 8), np.float32))
    memory = 512 << 20
    if change is _repeat_vector:
        refused(cli("run", folder, "--input", tmp_path / "x.npy", "--output",
                    tmp_path / "y.npy", memory=memory), "needs about", "more than")
    done = cli("check", folder, folder, "--runtimes", "reference", memory=memory)
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr
    assert "needs about" in done.stdout + done.stderr
    refused(cli("convert", folder, tmp_path / "out.keras", "--check", memory=memory),
            "needs about", "more than")
    assert not (tmp_path / "out.keras").exists()


def test_a_fifo_model_json_is_refused_without_hanging(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    os.mkfifo(folder / "model.json")
    for command in (("summary", folder), ("validate", folder / "model.json")):
        refused(cli(*command, timeout=20), "model.json", "a FIFO")


def test_a_model_json_linked_to_dev_zero_is_refused_without_reading_it(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.json").symlink_to("/dev/zero")
    refused(cli("summary", folder, timeout=20, memory=512 << 20), "model.json", "a device")


@pytest.mark.parametrize("value", ["0", "-4", "abc", "99999999999999999999999"])
def test_shard_size_must_be_a_positive_integer(tmp_path, value):
    done = cli("convert", EXAMPLE, tmp_path / "out", "--weight_shard_size_bytes", value)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "expected a positive integer" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_lambda_layer_in_summary_is_named_with_the_file_not_as_a_conversion(tmp_path):
    folder = _tfjs_with(tmp_path, lambda layers: layers.append(
        {"class_name": "Lambda", "config": {"name": "boom", "function": "print(1)"}}))
    line = refused(cli("summary", folder), "model.json: cannot be read", "layer 'boom'",
                   "never executed", code=1)
    assert "expressed" not in line


def test_converted_files_get_the_permissions_open_would_give(tmp_path):
    old = os.umask(0o022)
    try:
        convert(EXAMPLE, tmp_path / "web")
        convert(EXAMPLE, tmp_path / "m.keras")
        convert(EXAMPLE, tmp_path / "m.h5")
    finally:
        os.umask(old)
    assert (tmp_path / "web").stat().st_mode & 0o777 == 0o755
    for path in (tmp_path / "m.keras", tmp_path / "m.h5", *(tmp_path / "web").iterdir()):
        assert path.stat().st_mode & 0o777 == 0o644, path
    np.save(tmp_path / "x.npy", np.zeros((1, 12, 8), np.float32))
    assert cli("run", EXAMPLE, "--input", tmp_path / "x.npy", "--output",
               tmp_path / "y.npy").returncode == 0
    (tmp_path / "plain").write_bytes(b"")  # what open() gives under this process's umask
    assert (tmp_path / "y.npy").stat().st_mode & 0o777 == \
        (tmp_path / "plain").stat().st_mode & 0o777


def test_refusals_of_what_a_file_holds_name_the_file(tmp_path):
    """Refusals raised past the reader (the target cannot express a layer, an input the
    model does not take) used to print without saying which file they are about."""
    source = ROOT / "fixtures" / "k3_gru_reset_after" / "source.keras"
    refused(cli("convert", source, tmp_path / "web"),
            "source.keras: cannot be expressed exactly", "reset_after", code=1)
    assert not (tmp_path / "web").exists()
    np.save(tmp_path / "x.npy", np.zeros((1, 10, 9), np.float32))
    refused(cli("run", TFJS_FOLDER, "--input", tmp_path / "x.npy", "--output",
                tmp_path / "y.npy"), "tfjs_seed_lstm32/model: input", "expects shape")
    assert not (tmp_path / "y.npy").exists()
    layer = json.loads(keras_members()["config.json"])["config"]["layers"][0]
    layer["config"]["optional"] = True
    (tmp_path / "layer.json").write_text(json.dumps(layer))
    refused(cli("map", "--from", "keras3", "--to", "tfjs", tmp_path / "layer.json"),
            "layer.json: cannot be expressed exactly", "optional", code=1)


@pytest.mark.parametrize("destination, to", [
    ("m.keras", "tfjs"), ("m.keras", None), (".", "tfjs"), ("web", None),
    ("web/model.json", "tfjs"), ("web/group1-shard1of1.bin", "keras2")])
def test_a_destination_that_holds_the_source_is_refused(tmp_path, destination, to):
    """`convert m.keras m.keras --to tfjs` replaced the model with its conversion: the
    rename at the end deleted the source."""
    shutil.copy(EXAMPLE, tmp_path / "m.keras")
    shutil.copytree(TFJS_FOLDER, tmp_path / "web")
    source = "web" if destination.startswith("web") else "m.keras"
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT),
                                                        os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "tfjs_lstm", "convert", source, destination,
                           *(("--to", to) if to else ())], cwd=tmp_path, text=True,
                          capture_output=True, check=False, env=env)
    refused(done, f"{destination}: the destination holds the source", "replace")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_json_larger_than_the_limit_is_refused_before_parsing_in_every_format(tmp_path):
    """A model.json, and an .h5 model_config attribute, past MAX_JSON_BYTES: one line naming
    the file, with the process held to far less than Python's parser would take for it."""
    import h5py

    from tfjs_lstm.formats.untrusted import MAX_JSON_BYTES

    text = '{"pad": "' + "x" * MAX_JSON_BYTES + '"}'
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.json").write_text(text)
    refused(cli("summary", folder, memory=768 << 20), "model.json", "larger than")
    with h5py.File(tmp_path / "model.h5", "w", libver="latest") as h5:
        h5.attrs["model_config"] = text
        h5.attrs["keras_version"] = "2.15.0"
    refused(cli("summary", tmp_path / "model.h5", memory=768 << 20), "model.h5@model_config",
            "larger than")
