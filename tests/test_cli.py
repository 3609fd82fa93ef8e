"""The `tfjs-lstm` command line: output streams, exit codes, one-line errors, --debug."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from tfjs_lstm.cli import main


def run(args: list[str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tfjs_lstm", *args], input=stdin, text=True,
                          capture_output=True, check=False)


def test_map_prints_json_on_stdout_and_the_transform_on_stderr(tmp_path):
    source = tmp_path / "layer.json"
    source.write_text(json.dumps({"units": 4, "inputShape": [3, 2]}))
    done = run(["map", "--from", "tfjs", "--to", "keras3", str(source)])
    assert done.returncode == 0
    assert json.loads(done.stdout)["recurrent_activation"] == "hard_sigmoid"
    assert "weight transform: layer 'lstm'" in done.stderr
    assert "by 1.2" in done.stderr


def test_map_reads_standard_input_and_prints_the_canonical_form():
    done = run(["map", "--from", "keras3", "--to", "canonical", "-"], stdin='{"units": 2}')
    assert done.returncode == 0
    assert json.loads(done.stdout)["config"]["recurrent_activation"] == "sigmoid"


def test_map_refusal_exits_1_with_one_line_naming_layer_and_key():
    done = run(["map", "--from", "keras3", "--to", "tfjs", "-"],
               stdin='{"units": 2, "name": "enc", "activation": "hard_sigmoid"}')
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "layer 'enc', key 'activation'" in line


def test_bad_input_exits_2_without_traceback_unless_debug():
    done = run(["map", "--from", "tfjs", "--to", "keras3", "-"], stdin='{"units": "many"}')
    assert done.returncode == 2
    assert "<stdin>:/units" in done.stderr
    assert "Traceback" not in done.stderr
    debug = run(["--debug", "map", "--from", "tfjs", "--to", "keras3", "-"],
                stdin='{"units": "many"}')
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr


def test_unknown_dialect_is_a_usage_error(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("{}"))
    with pytest.raises(SystemExit) as stop:
        main(["map", "--from", "caffe", "--to", "tfjs", "-"])
    assert stop.value.code == 2
