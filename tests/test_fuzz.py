"""Malformed input, as an attacker would write it, through every command.

Hypothesis mutates real files (a .keras and an .h5 written by Keras 3 and tf-keras, a model.json
written by TensorFlow.js, folders, inputs and a layer config written by tfjs-lstm): JSON values
swapped for awkward ones (deep nesting, 5,000-digit integers, lone surrogates, wrong types,
paths out of the folder), bytes flipped, cut or inserted. Each command runs in a forked child
capped in memory and time (`fuzz_worker.py`). Every run must end with exit 0, 1 or 2; no
traceback and no internal error; on failure one line on stderr; a failed conversion leaves its
destination untouched; nothing from outside the model reaches an output. `make test` runs 300
fixed-seed cases; TFJS_LSTM_FUZZ_CASES=3000 runs a longer search and prints the counts.
"""

from __future__ import annotations

import collections
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfjs_lstm.convert import load, random_inputs

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CASES = int(os.environ.get("TFJS_LSTM_FUZZ_CASES", "300"))
MEMORY_CAP = 1 << 30
"""Address space a command may add to the worker's: far above what these tiny models need."""
TIME_LIMIT = 20.0
CANARY = b"tfjs-lstm canary: bytes from outside the model"

BASES = {
    "keras3": ROOT / "examples" / "keras3_lstm.keras",
    "keras3_bidirectional": FIXTURES / "k3_masking_bidirectional" / "source.keras",
    "tf_keras_h5": FIXTURES / "k2_embedding_gru" / "source.h5",
    "tfjs_saved": FIXTURES / "tfjs_defaults_bidirectional" / "model",
    "tfjs_converted": FIXTURES / "k2_embedding_gru" / "model",
    "tfjs_layer_config": ROOT / "examples" / "tfjs_lstm_layer.json",
}

AWKWARD = [None, True, False, -1, 0, 1, 7, 2**31, 2**63, 1e308, float("nan"), float("inf"),
           "", "a", "\ud800", "x" * 300, [], {}, [None], [0, 0, 0], {"class_name": None},
           {"class_name": "Lambda", "config": {}}, "../outside/secret.bin",
           "/proc/self/environ", "./group1-shard1of1.bin", "__HUGE_INT__", "__DEEP__",
           [["missing", 0, 0, {}]], [[["input", 5, 9, {}]]], "Model", "Sequential"]
"""Values a mutation puts in place of one in a JSON document. The two placeholders become a
5,000-digit integer and an array nested 100,000 deep, which json.dumps cannot write."""

REPORT = collections.Counter()


@pytest.fixture(scope="module")
def worker():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("fuzz_worker.py"))],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    yield process
    process.stdin.close()
    process.wait(timeout=30)
    if REPORT:
        print("\nfuzz:", ", ".join(f"{k} {v}" for k, v in sorted(REPORT.items())))


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Each base model and an input that runs it, in a folder of their own."""
    root = tmp_path_factory.mktemp("bases")
    made = {}
    for name, source in BASES.items():
        folder = root / name
        folder.mkdir()
        target = folder / source.name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
        x = folder / "x.npy"
        if target.suffix != ".json":
            np.save(x, random_inputs(load(target))[0])
        made[name] = (target, x)
    return made


def _ask(worker, argv: list[str], cwd: Path) -> dict:
    worker.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd), "memory": MEMORY_CAP,
                                   "timeout": TIME_LIMIT}) + "\n")
    worker.stdin.flush()
    return json.loads(worker.stdout.readline())


def _dumps(value: object) -> bytes:
    text = json.dumps(value)
    text = text.replace('"__HUGE_INT__"', "9" * 5000)
    text = text.replace('"__DEEP__"', "[" * 100_000 + "]" * 100_000)
    return text.encode("utf-8", "surrogatepass")


def _json_paths(value: object, path: tuple = ()) -> list[tuple]:
    paths = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            paths.extend(_json_paths(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths.extend(_json_paths(child, (*path, index)))
    return paths


@st.composite
def json_mutation(draw, data: bytes) -> bytes:
    """One value of the document replaced, deleted or wrapped; or its text damaged."""
    if draw(st.integers(0, 5)) == 0:
        return draw(byte_mutation(data))
    document = json.loads(data)
    paths = _json_paths(document)
    path = draw(st.sampled_from(paths))
    action = draw(st.sampled_from(["replace", "replace", "delete", "wrap"]))
    if not path:
        return _dumps(draw(st.sampled_from(AWKWARD)))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    elif action == "wrap":
        parent[path[-1]] = [parent[path[-1]]]
    else:
        parent[path[-1]] = draw(st.sampled_from(AWKWARD) | st.integers(-2**70, 2**70)
                                | st.text(max_size=5))
    return _dumps(document)


@st.composite
def byte_mutation(draw, data: bytes) -> bytes:
    """A bit flipped, the file cut, bytes inserted or overwritten."""
    data = bytearray(data)
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    action = draw(st.sampled_from(["flip", "flip", "cut", "insert", "overwrite"]))
    if action == "flip" and data:
        data[at] ^= 1 << draw(st.integers(0, 7))
    elif action == "cut":
        del data[at:]
    elif action == "insert":
        data[at:at] = draw(st.binary(min_size=1, max_size=16))
    else:
        junk = draw(st.binary(min_size=1, max_size=64))
        data[at:at + len(junk)] = junk
    return bytes(data)


@st.composite
def keras_member_mutation(draw, path: Path) -> bytes:
    """A .keras zip whose config.json or metadata.json is mutated, rewritten as a valid zip."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    name = draw(st.sampled_from(["config.json", "metadata.json"]))
    members[name] = draw(json_mutation(members[name]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return out.getvalue()


TARGETS = {
    # bases, file to mutate (in the base's folder; None: the model file), how, commands
    "model.json": (["tfjs_saved", "tfjs_converted"], "model/model.json", "json",
                   ["validate", "summary", "run", "convert"]),
    "shard": (["tfjs_saved", "tfjs_converted"], "model/group1-shard1of1.bin", "bytes",
              ["run", "convert"]),
    "keras zip": (["keras3", "keras3_bidirectional"], None, "bytes",
                  ["summary", "run", "convert"]),
    "keras config": (["keras3", "keras3_bidirectional"], None, "member",
                     ["summary", "run", "convert"]),
    "h5": (["tf_keras_h5"], None, "bytes", ["summary", "run", "convert"]),
    "h5 model_config": (["tf_keras_h5"], None, "h5 attribute", ["summary", "convert"]),
    "npy input": (["keras3", "tfjs_saved"], "x.npy", "bytes", ["run"]),
    "layer config": (["tfjs_layer_config"], None, "json", ["map", "validate"]),
}


def _command(command: str, model: Path, x: Path, out: Path) -> list[str]:
    return {
        "validate": ["validate", str(model / "model.json" if model.is_dir() else model)],
        "summary": ["summary", str(model)],
        "map": ["map", "--from", "tfjs", "--to", "keras3", str(model)],
        "run": ["run", str(model), "--input", str(x), "--output", str(out / "y.npy")],
        "convert": ["convert", str(model), str(out / ("converted.keras" if model.is_dir()
                                                     else "converted"))],
    }[command]


@st.composite
def cases(draw, bases: dict[str, tuple[Path, Path]]):
    target = draw(st.sampled_from(sorted(TARGETS)))
    names, relative, how, commands = TARGETS[target]
    base = draw(st.sampled_from(names))
    model, x = bases[base]
    path = model.parent / relative if relative else model
    original = path.read_bytes()
    if how == "json":
        mutated = draw(json_mutation(original))
    elif how == "member":
        mutated = draw(keras_member_mutation(path))
    elif how == "h5 attribute":
        mutated = draw(json_mutation(_h5_model_config(path)))
    else:
        mutated = draw(byte_mutation(original))
    return target, base, path.relative_to(model.parent), how, mutated, \
        draw(st.sampled_from(commands))


def _h5_model_config(path: Path) -> bytes:
    import h5py

    with h5py.File(path, "r") as h5:
        raw = h5.attrs["model_config"]
    return raw if isinstance(raw, bytes) else raw.encode()


def _materialize(tmp: Path, base: tuple[Path, Path], relative: Path, how: str,
                 mutated: bytes) -> tuple[Path, Path]:
    """A copy of the base with one file mutated; a canary file beside it."""
    model, x = base
    case = tmp / "case"
    shutil.rmtree(tmp, ignore_errors=True)
    case.mkdir(parents=True)
    (tmp / "outside").mkdir()
    (tmp / "outside" / "secret.bin").write_bytes(CANARY * 8)
    for item in model.parent.iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy)(item, case / item.name)
    target = case / relative
    if how == "h5 attribute":
        import h5py

        with h5py.File(target, "r+") as h5:
            h5.attrs["model_config"] = np.void(mutated) if b"\0" in mutated else mutated
    else:
        target.write_bytes(mutated)
    return case / model.name, case / x.name


def _check(result: dict, argv: list[str], out: Path) -> None:
    where = f"{' '.join(argv)}\nstderr: {result['stderr'][-2000:]}"
    assert not result["hung"], f"hung: {where}"
    assert result["signal"] is None, f"killed by signal {result['signal']}: {where}"
    assert result["exit"] in (0, 1, 2), f"exit {result['exit']}: {where}"
    assert "Traceback" not in result["stderr"], where
    assert "internal error" not in result["stderr"], where
    assert "MemoryError" not in result["stderr"], where
    if result["exit"]:
        assert len(result["stderr"].strip().splitlines()) <= 1, where
        assert not list(out.iterdir()), f"left {list(out.iterdir())}: {where}"
    for produced in out.rglob("*"):
        if produced.is_file():
            assert CANARY not in produced.read_bytes(), f"read outside the model: {where}"


def test_every_command_refuses_malformed_files_cleanly(worker, bases, tmp_path):
    @settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=cases(bases))
    def search(case):
        target, base, relative, how, mutated, command = case
        model, x = _materialize(tmp_path / "work", bases[base], relative, how, mutated)
        out = tmp_path / "work" / "out"
        out.mkdir()
        argv = _command(command, model, x, out)
        result = _ask(worker, argv, tmp_path / "work")
        _check(result, argv, out)
        REPORT["cases"] += 1
        REPORT[f"exit {result['exit']}"] += 1
        if "unexpected content" in result["stderr"]:
            REPORT["unspecific refusals"] += 1

    search()
