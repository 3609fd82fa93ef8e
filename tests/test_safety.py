"""Bad input gets a one-line error naming the file and the key, exit code 2, no traceback, and
nothing half-written at the destination."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tfjs_lstm import dialects
from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError, NotExpressibleError
from tfjs_lstm.formats.keras3_file import write_keras3
from tfjs_lstm.model import sequential

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "keras3_lstm.keras"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tfjs_lstm", *map(str, args)], text=True,
                          capture_output=True, check=False)


@pytest.fixture
def tfjs_folder(tmp_path) -> Path:
    convert(EXAMPLE, tmp_path / "model")
    return tmp_path / "model"


def test_truncated_shard_is_one_line_naming_file_and_weight(tfjs_folder, tmp_path):
    shard = next(tfjs_folder.glob("*.bin"))
    shard.write_bytes(shard.read_bytes()[:-10])
    done = cli("convert", tfjs_folder, tmp_path / "out.keras")
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "model.json:/weightsManifest/0/weights/" in line and "truncated" in line
    assert not (tmp_path / "out.keras").exists()


def test_missing_shard_names_the_manifest_path(tfjs_folder):
    next(tfjs_folder.glob("*.bin")).unlink()
    with pytest.raises(InputError) as caught:
        load(tfjs_folder)
    assert caught.value.pointer == "/weightsManifest/0/paths/0"


def test_manifest_path_leaving_the_folder_is_refused(tfjs_folder, tmp_path):
    document = json.loads((tfjs_folder / "model.json").read_text())
    shard = document["weightsManifest"][0]["paths"][0]
    (tmp_path / "outside.bin").write_bytes((tfjs_folder / shard).read_bytes())
    document["weightsManifest"][0]["paths"][0] = "../outside.bin"
    (tfjs_folder / "model.json").write_text(json.dumps(document))
    with pytest.raises(InputError, match="inside the model folder"):
        load(tfjs_folder)


def test_shape_that_disagrees_with_the_layer_config_is_refused(tfjs_folder):
    document = json.loads((tfjs_folder / "model.json").read_text())
    weights = document["weightsManifest"][0]["weights"]
    weights[0]["shape"], weights[1]["shape"] = weights[1]["shape"], weights[0]["shape"]
    (tfjs_folder / "model.json").write_text(json.dumps(document))
    with pytest.raises(InputError) as caught:
        load(tfjs_folder)
    assert "lstm_1" in str(caught.value)


def test_malformed_model_json_is_exit_2(tfjs_folder):
    (tfjs_folder / "model.json").write_text('{"modelTopology": ')
    done = cli("summary", tfjs_folder)
    assert done.returncode == 2
    assert "model.json" in done.stderr and "Traceback" not in done.stderr


def test_keras_zip_with_an_unexpected_member_is_refused(tmp_path):
    with zipfile.ZipFile(EXAMPLE) as source, \
            zipfile.ZipFile(tmp_path / "evil.keras", "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("../../escape.txt", "x")
    with pytest.raises(InputError, match="unexpected member"):
        load(tmp_path / "evil.keras")


def _big_keras_file(path: Path) -> dict[str, np.ndarray]:
    """A .keras file with one LSTM of 4.5 MiB of weights; returns the weights."""
    layer = dialects.read("keras2", {"units": 512, "batch_input_shape": [None, 5, 64],
                                     "name": "big"}, class_name="LSTM")
    model = sequential("big", [layer])
    rng = np.random.default_rng(0)
    model.weights = {"big": {spec.name: rng.normal(size=spec.shape).astype(np.float32)
                             for spec in model.weight_specs("big", [(None, 5, 64)])}}
    write_keras3(model, path)
    return model.weights["big"]


def test_keras_weights_are_read_without_a_copy_of_the_h5_member(tmp_path):
    weights = _big_keras_file(tmp_path / "big.keras")
    tracemalloc.start()
    try:
        back = load(tmp_path / "big.keras").weights["big"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.25 * sum(a.nbytes for a in weights.values())  # a copy would make it 2x
    for name, array in weights.items():
        np.testing.assert_array_equal(back[name], array)


def test_a_deflated_keras_zip_reads_the_same(tmp_path):
    weights = _big_keras_file(tmp_path / "stored.keras")
    with zipfile.ZipFile(tmp_path / "stored.keras") as source, \
            zipfile.ZipFile(tmp_path / "deflated.keras", "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, source.read(item))
    with zipfile.ZipFile(tmp_path / "deflated.keras") as check:
        assert check.getinfo("model.weights.h5").compress_type == zipfile.ZIP_DEFLATED
    back = load(tmp_path / "deflated.keras").weights["big"]
    for name, array in weights.items():
        np.testing.assert_array_equal(back[name], array)


def test_a_keras_zip_whose_local_header_disagrees_is_refused(tmp_path):
    model = load(EXAMPLE)
    write_keras3(model, tmp_path / "plain.keras")
    with zipfile.ZipFile(tmp_path / "plain.keras") as archive:
        offset = archive.getinfo("model.weights.h5").header_offset
    data = bytearray((tmp_path / "plain.keras").read_bytes())
    assert data[offset + 30:offset + 46] == b"model.weights.h5"
    data[offset + 30:offset + 35] = b"other"
    (tmp_path / "bad.keras").write_bytes(bytes(data))
    with pytest.raises(InputError, match="'model.weights.h5' has a bad local header") as caught:
        load(tmp_path / "bad.keras")
    assert caught.value.file == str(tmp_path / "bad.keras")


def test_lambda_layers_are_refused_never_executed(tmp_path):
    model = load(EXAMPLE)
    write_keras3(model, tmp_path / "plain.keras")
    with zipfile.ZipFile(tmp_path / "plain.keras") as archive:
        config = json.loads(archive.read("config.json"))
        members = {name: archive.read(name) for name in archive.namelist()}
    config["config"]["layers"].insert(2, {
        "module": "keras.layers", "class_name": "Lambda", "registered_name": None,
        "config": {"name": "boom", "function": {"class_name": "__lambda__", "config": {
            "code": "print('executed')"}}}})
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "lambda.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(NotExpressibleError) as caught:
        load(tmp_path / "lambda.keras")
    [problem] = caught.value.problems
    assert problem.layer == "boom" and "never executed" in problem.reason


def test_failed_conversion_leaves_no_temp_files(tfjs_folder, tmp_path):
    shard = next(tfjs_folder.glob("*.bin"))
    shard.write_bytes(shard.read_bytes() + b"extra")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli("convert", tfjs_folder, tmp_path / "out").returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_failure_while_writing_removes_the_staging_folder(tmp_path, monkeypatch):
    from tfjs_lstm.formats import tfjs_model

    destination = tmp_path / "out"
    destination.mkdir()
    (destination / "keep.txt").write_text("previous")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tfjs_model, "write_weights", broken)
    with pytest.raises(OSError, match="disk full"):
        convert(EXAMPLE, destination)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (destination / "keep.txt").read_text() == "previous"


def test_a_truncated_h5_is_exit_2_even_when_its_end_address_was_rewritten(tmp_path):
    """h5py notices a plain truncation; with the superblock's end-of-file address forged to
    match, it fails deeper, and that is still one line naming the file."""
    import struct

    convert(EXAMPLE, tmp_path / "m.h5")
    data = bytearray((tmp_path / "m.h5").read_bytes())
    cut = len(data) - 100
    assert struct.unpack("<Q", data[40:48]) == (len(data),)  # superblock v0 end of file
    data = data[:cut]
    data[40:48] = struct.pack("<Q", cut)
    (tmp_path / "cut.h5").write_bytes(bytes(data))
    for name in ("m.h5", "cut.h5"):
        if name == "m.h5":
            (tmp_path / name).write_bytes(bytes(data[:cut - 50]))
        done = cli("convert", tmp_path / name, tmp_path / f"{name}.out")
        assert done.returncode == 2, done.stderr
        assert name in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert not (tmp_path / f"{name}.out").exists()


def test_h5_weights_are_mapped_from_the_file_not_copied(tmp_path):
    convert(EXAMPLE, tmp_path / "m.h5")
    weights = load(tmp_path / "m.h5").weights
    arrays = [a for layer in weights.values() for a in layer.values()]
    assert arrays and all(isinstance(a, np.memmap) and not a.flags.writeable for a in arrays)
    import h5py

    stored = []
    with h5py.File(tmp_path / "m.h5") as h5:
        h5.visititems(lambda _, o: stored.append(o[()].tobytes())
                      if isinstance(o, h5py.Dataset) else None)
    assert sorted(a.tobytes() for a in arrays) == sorted(stored)
