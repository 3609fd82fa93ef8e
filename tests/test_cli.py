"""The `tfjs-lstm` command line: output streams, exit codes, one-line errors, --debug."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tfjs_lstm.cli import main
from tfjs_lstm.progress import Progress, render

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "keras3_lstm.keras"

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


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


def _saved(folder: Path, **arrays: np.ndarray) -> dict[str, str]:
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array)
    return {name: str(folder / f"{name}.npy") for name in arrays}


def test_run_in_batches_agrees_with_one_batch_within_float32_rounding(tmp_path, capsys):
    """BLAS blocks a product by its shape, so a batch of 3 and one of 10 may round the last
    bit differently (2.98e-8 measured on one machine): the claim is 1e-6, not bit-equality."""
    x = np.random.default_rng(3).normal(0, 1, (10, 8, 4)).astype(np.float32)
    files = _saved(tmp_path, x=x)
    model = str(FIXTURES / "k3_stacked" / "source.keras")
    assert main(["run", model, "--input", files["x"], "--output", str(tmp_path / "a.npy")]) == 0
    assert main(["run", model, "--input", files["x"], "--output", str(tmp_path / "b.npy"),
                 "--batch-size", "3"]) == 0
    whole, batched = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert whole.shape == batched.shape and whole.shape[0] == 10
    assert np.abs(whole - batched).max() <= 1e-6
    assert capsys.readouterr().err == ""  # not a terminal: no progress bar


def test_initial_state_changes_the_output_as_keras3_does(keras3, tmp_path):
    L = keras3.layers
    rng = np.random.default_rng(5)
    x, h, c = keras3.Input((6, 3)), keras3.Input((4,)), keras3.Input((4,))
    encoder, head = L.LSTM(4, name="enc"), L.Dense(2, name="head")
    plain = keras3.Model(x, head(encoder(x)))
    with_state = keras3.Model([x, h, c], head(encoder(x, initial_state=[h, c])))
    plain.save(tmp_path / "m.keras")
    arrays = {"x": rng.normal(0, 1, (5, 6, 3)), "h0": rng.normal(0, 1, (5, 4)),
              "c0": rng.normal(0, 1, (5, 4))}
    files = _saved(tmp_path, **{k: v.astype(np.float32) for k, v in arrays.items()})
    expected = with_state.predict([np.load(files[k]) for k in ("x", "h0", "c0")], verbose=0)
    out = str(tmp_path / "out.npy")
    assert main(["run", str(tmp_path / "m.keras"), "--input", files["x"], "--output", out,
                 "--initial-state", f"enc={files['h0']},{files['c0']}",
                 "--batch-size", "2"]) == 0
    assert np.abs(np.load(out) - expected).max() < 1e-5
    assert np.abs(plain.predict(np.load(files["x"]), verbose=0) - expected).max() > 1e-2


@pytest.mark.parametrize(("spec", "message"), [
    ("head={h}", "layer 'head' is not a recurrent layer"),
    ("nope={h}", "layer 'nope' is not a recurrent layer"),
    ("lstm_b={h}", "layer 'lstm_b' has 2 state(s) [3, 5] [3, 5], got 1 file(s)"),
    ("lstm_b={h},{h}", "layer 'lstm_b' takes states of shape [3, 5], got [3, 4]"),
])
def test_a_bad_initial_state_exits_2_naming_the_layer(tmp_path, capsys, spec, message):
    files = _saved(tmp_path, x=np.zeros((3, 8, 4), np.float32), h=np.zeros((3, 4), np.float32))
    code = main(["run", str(FIXTURES / "k3_stacked" / "source.keras"), "--input", files["x"],
                 "--output", str(tmp_path / "out.npy"),
                 "--initial-state", spec.format(h=files["h"])])
    assert code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert message in line
    assert not (tmp_path / "out.npy").exists()


def test_stateful_models_run_batch_after_batch_as_keras3_predicts(keras3, tmp_path, capsys):
    L = keras3.layers
    model = keras3.Sequential([keras3.Input(batch_shape=(2, 5, 3)),
                               L.LSTM(4, stateful=True, name="carry"), L.Dense(2)])
    model.save(tmp_path / "s.keras")
    x = np.random.default_rng(8).normal(0, 1, (6, 5, 3)).astype(np.float32)
    expected = model.predict(x, batch_size=2, verbose=0)
    files = _saved(tmp_path, x=x)
    out = str(tmp_path / "out.npy")
    args = ["run", str(tmp_path / "s.keras"), "--input", files["x"], "--output", out]
    assert main([*args, "--batch-size", "2"]) == 0
    assert np.abs(np.load(out) - expected).max() < 1e-5
    capsys.readouterr()
    assert main([*args, "--batch-size", "3"]) == 2
    assert "stateful layer 'carry'" in capsys.readouterr().err


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_draws_in_place_on_a_terminal_and_ends_its_line():
    stream = FakeTerminal()
    with Progress("run", unit="batches", minimum=2, stream=stream) as bar:
        for done in range(1, 5):
            bar.update(done, 4)
            bar.update(done, 4)  # unchanged text is not drawn again
    assert stream.getvalue() == "".join(
        "\r" + render("run", done, 4, "batches") for done in range(1, 5)) + "\n"
    assert render("run", 1, 4, "batches") == f"run [{'#' * 7}{'-' * 23}]  25% 1/4 batches"
    assert render("convert", 3 << 19, 3 << 20, "bytes").endswith(" 50% 1.5/3.0 MiB")


def test_the_progress_bar_is_silent_off_a_terminal_and_under_its_minimum():
    quiet, small = io.StringIO(), FakeTerminal()
    for stream, total in ((quiet, 100), (small, 1)):
        with Progress("run", unit="batches", minimum=2, stream=stream) as bar:
            bar.update(total, total)
        assert stream.getvalue() == ""


@pytest.mark.parametrize(("terminal", "minimum", "drawn"), [
    (True, 1, True), (True, None, False), (False, 1, False)])
def test_convert_draws_a_bar_only_on_a_terminal_for_big_weights(tmp_path, monkeypatch,
                                                                terminal, minimum, drawn):
    from tfjs_lstm import cli

    stream = FakeTerminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    if minimum is not None:
        monkeypatch.setattr(cli, "PROGRESS_BYTES", minimum)
    example = FIXTURES.parent / "examples" / "keras3_lstm.keras"
    assert main(["convert", str(example), str(tmp_path / "out")]) == 0
    written = sum(p.stat().st_size for p in (tmp_path / "out").glob("*.bin"))
    bar = "\r" + render("convert", written, written, "bytes") + "\n"
    assert (bar in stream.getvalue()) is drawn
    assert ("\r" in stream.getvalue()) is drawn


def test_convert_check_reads_the_destination_in_the_format_to_names(tmp_path, capsys):
    """`--to keras3` with a destination that does not end in .keras: --check reads it back
    as Keras 3, as it was written."""
    destination = tmp_path / "out.bin"
    assert main(["convert", str(EXAMPLE), str(destination), "--to", "keras3", "--check"]) == 0
    assert "check: max abs difference" in capsys.readouterr().out
    assert zipfile.is_zipfile(destination)
