"""Malformed and mistyped JSON in model.json files, .keras configs and layer configs: one line
naming the file and the JSON pointer, exit 2, whatever the bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hostile import ROOT, cli, keras_members, refused, write_keras

FUNCTIONAL = ROOT / "fixtures" / "k3_return_state" / "model"


@pytest.fixture
def folder(tmp_path) -> Path:
    """A copy of a functional tfjs folder (three outputs) to damage."""
    shutil.copytree(FUNCTIONAL, tmp_path / "model")
    return tmp_path / "model"


def _edit(folder: Path, change) -> Path:
    document = json.loads((folder / "model.json").read_text())
    change(document)
    (folder / "model.json").write_text(json.dumps(document))
    return folder


def _layers(document: dict) -> list:
    return document["modelTopology"]["config"]["layers"]


@pytest.mark.parametrize("text, needle, commands", [
    ("[" * 200_000 + "]" * 200_000, "nested deeper than", ("summary", "validate")),
    ('{"modelTopology": {"x": ' + "9" * 5000 + "}}", "integer of 5000 digits",
     ("summary", "validate")),
    ('{"modelTopology": {"class_name": "' + "\udcff" + '"}}', "not UTF-8",
     ("summary", "validate")),
    ('{"modelTopology": {"class_name": "\\ud800"}}', "lone surrogate", ("summary", "validate")),
    ("[1, 2", "malformed JSON at line 1", ("summary", "validate")),
    ("3", "no modelTopology object", ("summary",)),  # validate reads it as a layer config
    ('{"modelTopology": [1, 2]}', "modelTopology", ("summary",)),
])
def test_unreadable_model_json_is_one_line(folder, text, needle, commands):
    (folder / "model.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    for command in commands:
        target = folder if command == "summary" else folder / "model.json"
        refused(cli(command, target), "model.json", needle)


@pytest.mark.parametrize("change, pointer", [
    (lambda d: _layers(d)[1].update(config=7), "/modelTopology/config/layers/1/config"),
    (lambda d: _layers(d)[1].update(class_name=["LSTM"]),
     "/modelTopology/config/layers/1/class_name"),
    (lambda d: _layers(d)[1].update(class_name=None), "/modelTopology/config/layers/1/class_name"),
    (lambda d: _layers(d)[1].update(inbound_nodes=3),
     "/modelTopology/config/layers/1/inbound_nodes"),
    (lambda d: d["modelTopology"].update(class_name=None), "/modelTopology/class_name"),
    (lambda d: d["modelTopology"].update(config="layers"), "/modelTopology/config"),
])
def test_wrong_types_are_named_by_pointer(folder, change, pointer):
    _edit(folder, change)
    refused(cli("summary", folder), f"model.json:{pointer}:")


@pytest.mark.parametrize("value", [None, "a", float("nan"), 1e999, 2**63, -1, True])
def test_bad_node_indices_are_named_by_pointer(folder, value):
    _edit(folder, lambda d: _layers(d)[1]["inbound_nodes"][0][0].__setitem__(1, value))
    refused(cli("run", folder, "--input", "x.npy", "--output", "y.npy"),
            "model.json:/modelTopology/config/layers/1/inbound_nodes/0/0/1:", "node index")


@pytest.mark.parametrize("nodes", [[[["encoder", 0, 0, {}]]], [[["head", 0, 0, {}]]],
                                   [[["encoder", 3, 0, {}]]]])
def test_self_referencing_cyclic_or_dangling_nodes_are_refused(folder, nodes):
    """encoder on itself, encoder on head (which is called on encoder), a node never made."""
    _edit(folder, lambda d: _layers(d)[1].update(inbound_nodes=nodes))
    refused(cli("summary", folder), "model.json", "layer 'encoder' is called on tensor")


def test_a_tensor_index_beyond_what_a_layer_returns_is_refused(folder):
    _edit(folder, lambda d: _layers(d)[2]["inbound_nodes"][0][0].__setitem__(2, 5))
    refused(cli("summary", folder), "model.json", "tensor ['encoder', 0, 5]",
            "does not return")


def test_an_unknown_layer_class_is_named_with_the_file(folder):
    _edit(folder, lambda d: _layers(d)[1].update(class_name="Mystery"))
    line = refused(cli("summary", folder), "model.json", "cannot be read", "layer 'encoder'",
                   "Mystery: this layer type is not supported", code=1)
    assert "expressed" not in line


@pytest.mark.parametrize("member, content, needle", [
    ("metadata.json", 3, None),
    ("config.json", "Infinity", "/: expected a model config object"),
    ("config.json", {"class_name": "Sequential", "config": {"layers": 7}},
     "/config/layers: expected a list of layers"),
    ("config.json", '{"a": "\\ud800"}', "lone surrogate"),
])
def test_mistyped_keras_members_are_one_line(tmp_path, member, content, needle):
    members = keras_members()
    members[member] = content
    path = write_keras(tmp_path / "m.keras", members)
    done = cli("summary", path)
    if needle is None:  # a metadata.json of the wrong type only loses the version note
        assert done.returncode == 0, done.stderr
        return
    refused(done, f"m.keras!{member}", needle)


def test_a_keras3_functional_config_named_model_reads_like_functional(tmp_path):
    """Keras 3 writes class_name "Model" for models built with keras.Model(inputs, outputs)
    in some versions; it used to end in an IndexError in summary."""
    members = keras_members(ROOT / "fixtures" / "k3_return_state" / "source.keras")
    config = json.loads(members["config.json"])
    config["class_name"] = "Model"
    members["config.json"] = config
    done = cli("summary", write_keras(tmp_path / "m.keras", members))
    assert done.returncode == 0, done.stderr
    assert "encoder (LSTM)" in done.stdout


@pytest.mark.parametrize("content, needle", [
    ('{"units": ' + "9" * 5000 + "}", "integer of 5000 digits"),
    ('{"units": 4, "name": "\\ud800"}', "lone surrogate"),
    ('{"class_name": null, "config": {}}', "class"),
    ("[" * 100_000 + "]" * 100_000, "nested deeper than"),
])
def test_map_and_validate_refuse_bad_layer_configs_in_one_line(tmp_path, content, needle):
    (tmp_path / "layer.json").write_text(content)
    refused(cli("map", "--from", "tfjs", "--to", "keras3", tmp_path / "layer.json"),
            "layer.json", needle)


@pytest.mark.parametrize("change, text, needle", [
    (lambda d: d.update(tolerance="a"), None, "case.json:/tolerance: expected the tolerance"),
    (lambda d: d.update(tolerance=float("nan")), None, "case.json:/tolerance"),
    (lambda d: d.update(inputs=True), None, "case.json:/inputs: expected an object"),
    (lambda d: d["inputs"].update(shapes=3), None, "case.json:/inputs/shapes: expected"),
    (lambda d: d.update(calls=2**31), None, "case.json:/calls: 'calls' must be"),
    (None, "[" * 100_000 + "]" * 100_000, "case.json: JSON nested deeper than"),
    (None, '{"case": "\xe9"}'.encode("latin-1"), "case.json: not UTF-8 text"),
])
def test_golden_case_json_is_read_within_bounds_and_by_pointer(tmp_path, change, text, needle):
    """case.json was read with json.loads and trusted: a wrong type ended in an internal
    error, calls=2**31 ran for ever, deep nesting overflowed the recursion limit."""
    case = tmp_path / "case"
    shutil.copytree(ROOT / "fixtures" / "k2_embedding_gru", case)
    if change is not None:
        document = json.loads((case / "case.json").read_text())
        change(document)
        text = json.dumps(document)
    (case / "case.json").write_bytes(text if isinstance(text, bytes) else text.encode())
    refused(cli("golden", "check", case, "--runtimes", "reference", timeout=60), needle)


def test_a_long_json_array_is_checked_without_a_pointer_per_element():
    """The string and depth check pushed (item, JSON pointer, depth) for every element: a
    15 MB model.json holding one long list took 1 GB, a 250 MB one ran out of memory."""
    import tracemalloc

    from tfjs_lstm.formats.untrusted import parse_json

    data = b"[" + b'"",' * 999_999 + b'""]'
    tracemalloc.start()
    try:
        assert len(parse_json(data, "long.json")) == 1_000_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20, peak  # the parsed list is 8 MB; a pointer each made it 130 MB


def test_a_recurrent_layer_on_a_rank_2_input_is_refused_when_read(tmp_path):
    """An LSTM fed another's last step (return_sequences false): summary printed it and run
    ended in an internal error from the LSTM kernel."""
    folder = tmp_path / "model"
    shutil.copytree(ROOT / "fixtures" / "k3_stacked" / "model", folder)
    _edit(folder, lambda d: _layers(d)[0]["config"].update(return_sequences=False))
    for command in (("summary", folder), ("check", folder, folder, "--runtimes", "reference")):
        refused(cli(*command), "model.json", "layer 'lstm_b': a recurrent layer takes "
                "[batch, steps, features], got an input of rank 2")


def test_windows_that_leave_no_positions_run_as_tensorflow_reduces_them(tmp_path):
    """A stride of 2**31 - 1 leaves a max pooling no positions: the next convolution's reshape
    could not infer a size from nothing and the global max pooling reduced an empty array
    (internal errors); TensorFlow reduces no positions to its identity, -inf."""
    import numpy as np

    folder = tmp_path / "model"
    shutil.copytree(ROOT / "fixtures" / "k3_conv2d_pooling" / "model", folder)
    _edit(folder, lambda d: _layers(d)[0]["config"]["layer"]["config"].update(
        strides=[2**31 - 1, 1]))
    np.save(tmp_path / "x.npy", np.ones((2, 3, 6, 6, 2), np.float32))
    done = cli("run", folder, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    assert done.returncode == 0 and "internal error" not in done.stderr, done.stderr
    assert np.load(tmp_path / "y.npy").shape == (2, 3)


@pytest.mark.parametrize("strides", [2**31, 2**63, [1, 2**63]])
def test_window_sizes_beyond_int32_are_refused_by_pointer(folder, strides):
    """A stride of 2**63 read fine and overflowed numpy's index arithmetic at run time."""
    path = ROOT / "fixtures" / "k3_conv2d_pooling" / "model"
    shutil.rmtree(folder)
    shutil.copytree(path, folder)
    _edit(folder, lambda d: _layers(d)[0]["config"]["layer"]["config"].update(strides=strides))
    refused(cli("summary", folder), "model.json:/modelTopology/config/layers/0/config/layer/"
            "config/strides", "below 2**31")
