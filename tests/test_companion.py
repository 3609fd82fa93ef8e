"""The companion npm package (js/companion): Keras's default GRU (reset_after=True) converted
with `--companion` and judged by the real runtimes.

Keras 3 and tf-keras models are converted to tfjs folders, loaded from disk by TensorFlow.js
4.22 in Node with the package imported (one process for every case) and must predict what
Keras predicted; the folders go back to `.keras` and `.h5` and Keras must predict the same
again. Without the package tfjs cannot load them at all.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from outputs import as_list, assert_close, randomize

import tfjs_lstm
from tfjs_lstm.cli import main
from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError, NotExpressibleError
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.summary import render_tfjs
from tfjs_lstm.validate import validate_file

PACKAGE = Path(__file__).resolve().parent.parent / "js" / "companion"
rng = np.random.default_rng(13)


def padded_ids(batch: int, steps: int, vocabulary: int) -> np.ndarray:
    """Token ids with trailing zero padding of different lengths."""
    ids = rng.integers(1, vocabulary, (batch, steps))
    for row, length in enumerate((steps, 3, 1)[:batch]):
        ids[row, length:] = 0
    return ids.astype(np.int32)


def keras3_models(keras) -> dict:
    """name -> (model, inputs, predict calls): default GRUs in every position we convert."""
    L = keras.layers
    x = rng.normal(0, 1, (3, 5, 3)).astype(np.float32)
    models = {
        "alone": (keras.Sequential([keras.Input((5, 3)), L.GRU(4, return_sequences=True)]),
                  [x], 1),
        "stacked": (keras.Sequential([
            keras.Input((5, 3)), L.GRU(4, return_sequences=True),
            L.GRU(3, go_backwards=True, recurrent_activation="tanh", use_bias=False),
            L.Dense(2)]), [x], 1),
        "bidirectional": (keras.Sequential([
            keras.Input((5, 3)), L.Bidirectional(L.GRU(3, return_sequences=True)),
            L.Bidirectional(L.GRU(2), merge_mode="sum")]), [x], 1),
        "masked": (keras.Sequential([
            keras.Input((6,), dtype="int32"), L.Embedding(9, 4, mask_zero=True),
            L.GRU(3, return_sequences=True), L.Bidirectional(L.GRU(2))]),
            [padded_ids(3, 6, 9)], 1),
        "stateful": (keras.Sequential([
            keras.Input((5, 3), batch_size=2), L.GRU(3, stateful=True, return_sequences=True),
            L.GRU(2, stateful=True)]), [x[:2]], 2),
        "rnn_cell": (keras.Sequential([keras.Input((5, 3)), L.RNN(L.GRUCell(3))]), [x], 1),
    }
    seq, h0 = keras.Input((5, 3), name="seq"), keras.Input((4,), name="h0")
    out, state = L.GRU(4, return_sequences=True, return_state=True, name="enc")(
        seq, initial_state=h0)
    models["initial_state"] = (keras.Model([seq, h0], [out, state]),
                               [x, rng.normal(0, 1, (3, 4)).astype(np.float32)], 1)
    return models


def tf_keras_models(keras) -> dict:
    """tf-keras builds every GRU as a graph function: one small model costs seconds."""
    L = keras.layers
    return {
        "k2_masked_bidirectional": (keras.Sequential([
            L.Embedding(9, 4, mask_zero=True, input_length=6), L.Bidirectional(L.GRU(2))]),
            [padded_ids(3, 6, 9)], 1),
    }


def predicted(model, inputs: list, calls: int) -> list[np.ndarray]:
    """Keras's outputs of `calls` inference calls on one model, states carried, in order
    (eager calls: tracing `predict` for every tiny model costs seconds each)."""
    feed = inputs[0] if len(inputs) == 1 else inputs
    return [np.asarray(o) for _ in range(calls)
            for o in as_list(model(feed, training=False))]


@pytest.fixture(scope="module")
def converted(keras3, tf_keras, tfjs, tmp_path_factory):
    """Every model saved, converted with the companion classes and run by tfjs in one Node
    process: name -> (folder, source file, inputs, calls, Keras's outputs, tfjs's outputs)."""
    tmp = tmp_path_factory.mktemp("companion")
    cases = {}
    for models, suffix in ((keras3_models(keras3), ".keras"),
                           (tf_keras_models(tf_keras), ".h5")):
        for name, (model, inputs, calls) in models.items():
            randomize(model, rng)
            source = tmp / f"{name}{suffix}"
            model.save(source)
            folder = tmp / name
            convert(source, folder, companion=True)
            cases[name] = (folder, source, inputs, calls, predicted(model, inputs, calls))
    replies = tfjs.predict_folders([(c[0], c[2]) for c in cases.values()],
                                   calls=[c[3] for c in cases.values()], companion=True)
    return {name: (*case, reply) for (name, case), reply in zip(cases.items(), replies,
                                                                 strict=True)}


CASES = ("alone", "stacked", "bidirectional", "masked", "stateful", "rnn_cell",
         "initial_state", "k2_masked_bidirectional")


@pytest.mark.parametrize("name", CASES)
def test_tfjs_with_the_companion_predicts_what_keras_predicts(converted, name):
    folder, _, _, _, expected, theirs = converted[name]
    assert not isinstance(theirs, str), f"tfjs failed: {theirs}"
    assert_close(theirs, expected, f"tfjs with the companion, {name}")


@pytest.mark.parametrize("name", ("alone", "bidirectional", "masked", "initial_state",
                                  "k2_masked_bidirectional"))
def test_the_reference_runtime_reads_the_companion_folder_as_keras_gru(converted, name):
    folder, _, inputs, _, expected, _ = converted[name]
    model = load(folder)
    assert any(getattr(c, "reset_after", False) or getattr(getattr(c, "layer", None),
                                                            "reset_after", False)
               for c in model.layers.values())
    assert_close(run(model, inputs), expected, f"reference runtime, {name}")


def test_companion_folders_convert_back_and_keras_predicts_the_same(converted, keras3,
                                                                    tf_keras, tmp_path):
    for name in CASES:
        folder, _, inputs, calls, expected, _ = converted[name]
        convert(folder, tmp_path / f"{name}.keras")
        again = keras3.models.load_model(tmp_path / f"{name}.keras")
        assert_close(predicted(again, inputs, calls), expected, f"Keras 3 from tfjs, {name}")
    for name in ("stacked", "k2_masked_bidirectional"):  # tf-keras loads GRUs slowly
        folder, _, inputs, calls, expected, _ = converted[name]
        convert(folder, tmp_path / f"{name}.h5")
        again = tf_keras.models.load_model(tmp_path / f"{name}.h5")
        assert_close(predicted(again, inputs, calls), expected, f"tf-keras from tfjs, {name}")


def test_without_the_package_tfjs_cannot_load_them(converted, tfjs):
    names = ("alone", "bidirectional", "rnn_cell")
    replies = tfjs.load([converted[name][0] for name in names])
    assert "Unknown layer: TfjsLstmGRU." in replies[0]["error"]
    assert "Unknown layer: TfjsLstmGRU." in replies[1]["error"]
    assert "Unknown layer: TfjsLstmGRUCell." in replies[2]["error"]


def test_summary_and_validate_know_the_companion_class(converted, tfjs):
    folders = [converted[name][0] for name in ("stacked", "initial_state")]
    for folder, theirs in zip(folders, tfjs.summaries(folders, companion=True), strict=True):
        assert "(TfjsLstmGRU)" in theirs
        assert render_tfjs(load(folder)) == theirs, folder.name
        assert validate_file(folder / "model.json").ok


def test_without_the_flag_the_refusal_names_the_flag_and_the_package(converted, tmp_path,
                                                                     capsys):
    source = converted["bidirectional"][1]
    with pytest.raises(NotExpressibleError) as caught:
        convert(source, tmp_path / "out")
    [first, second] = caught.value.problems
    assert (first.key, second.key) == ("reset_after", "reset_after")
    assert "--companion" in first.reason and "tfjs-lstm-companion" in first.reason
    assert main(["convert", str(source), str(tmp_path / "out")]) == 1
    assert "--companion" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_validate_names_the_companion_for_a_tfjs_gru_with_reset_after_true(converted, tmp_path):
    folder = tmp_path / "own_class"
    shutil.copytree(converted["alone"][0], folder)
    text = (folder / "model.json").read_text()
    (folder / "model.json").write_text(text.replace('"TfjsLstmGRU"', '"GRU"'))
    [finding] = validate_file(folder / "model.json").findings
    assert finding.pointer.endswith("/config/reset_after")  # as the file spells it
    assert "--companion" in finding.message and "TfjsLstmGRU" in finding.message


def test_a_companion_class_with_reset_after_false_is_refused_on_reading(converted, tmp_path):
    folder = tmp_path / "changed"
    shutil.copytree(converted["alone"][0], folder)
    text = (folder / "model.json").read_text()
    (folder / "model.json").write_text(text.replace('"reset_after": true',
                                                    '"reset_after": false'))
    with pytest.raises(InputError, match="TfjsLstmGRU computes resetAfter=True only"):
        load(folder)


def test_companion_applies_to_tfjs_output_only(converted, tmp_path):
    with pytest.raises(InputError, match="tfjs output only"):
        convert(converted["alone"][1], tmp_path / "x.h5", companion=True)


def test_the_package_version_is_the_python_package_version():
    manifest = json.loads((PACKAGE / "package.json").read_text())
    assert manifest["version"] == tfjs_lstm.__version__
    assert manifest["peerDependencies"] == {"@tensorflow/tfjs": "^4.0.0"}
    assert f"export const VERSION = '{tfjs_lstm.__version__}';" in \
        (PACKAGE / "index.js").read_text()


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed")
def test_npm_pack_packs_the_module_and_its_readme():
    done = subprocess.run(["npm", "pack", "--dry-run", "--json"], cwd=PACKAGE, text=True,
                          capture_output=True, check=True)
    [packed] = json.loads(done.stdout)
    assert packed["name"] == "tfjs-lstm-companion"
    assert {f["path"] for f in packed["files"]} == {"index.js", "attention.js", "README.md",
                                                    "package.json"}
