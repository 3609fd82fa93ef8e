"""`summary` against the real thing: Keras 3's and tfjs's own `model.summary()` text, and the
parameter counts the seeds state."""

from __future__ import annotations

import pytest

from tfjs_lstm.convert import convert, load
from tfjs_lstm.summary import as_json, render_keras2, render_keras3, render_tfjs


def keras_models(keras):
    L = keras.layers
    inp = keras.Input((6, 3), name="seq_in")
    out, h, c = L.LSTM(4, return_state=True, name="enc")(inp)
    words, tags = keras.Input((5, 3), name="words"), keras.Input((5, 2), name="tags")
    joined = L.Concatenate(name="joined")([L.LSTM(3, name="left")(words),
                                           L.LSTM(3, name="right")(tags)])
    return {
        "seed_003": keras.Sequential([keras.Input((28, 28)), L.LSTM(75), L.Dense(10)],
                                     name="mnist_rows"),
        "chain": keras.Sequential([keras.Input((7, 4)), L.LSTM(6, return_sequences=True),
                                   L.LSTM(5, trainable=False), L.Dense(2)], name="chain"),
        "return_state": keras.Model(inp, [L.Dense(2, name="head")(out), h, c], name="states"),
        "two_inputs": keras.Model([words, tags], L.Dense(1, name="score")(joined),
                                  name="two_inputs"),
    }


@pytest.fixture
def keras_columns(monkeypatch):
    """Keras sizes its table from the terminal: fix it as a non-terminal run sees it."""
    monkeypatch.setenv("COLUMNS", "80")


def test_keras3_layout_matches_keras3_summary(keras3, keras_columns, tmp_path):
    for name, model in keras_models(keras3).items():
        path = tmp_path / f"{name}.keras"
        model.save(path)
        lines: list[str] = []
        model.summary(print_fn=lambda line, _lines=lines, **_: _lines.append(line))
        assert render_keras3(load(path)) == "\n".join(lines).rstrip("\n"), name


def test_tfjs_layout_matches_tfjs_summary(keras3, tfjs, tmp_path):
    folders = []
    for name, model in keras_models(keras3).items():
        model.save(tmp_path / f"{name}.keras")
        convert(tmp_path / f"{name}.keras", tmp_path / name)
        folders.append(tmp_path / name)
    for folder, theirs in zip(folders, tfjs.summaries(folders), strict=True):
        assert render_tfjs(load(folder)) == theirs, folder.name


def test_seed_counts_match_keras_count_params(keras3):
    models = keras_models(keras3)
    assert models["seed_003"].layers[0].count_params() == 31_200
    assert models["seed_003"].layers[1].count_params() == 760


def test_seed_numbers_from_configs_alone(tmp_path, tfjs):
    tfjs.save(tmp_path / "seed_002", [{"className": "LSTM", "args": {
        "units": 32, "inputShape": [10, 8], "returnSequences": True}}])
    summary = as_json(load(tmp_path / "seed_002"))
    assert summary["layers"][0]["output_shape"] == [None, 10, 32]
    assert summary["total_params"] == 5_248
    fast = {"recurrentInitializer": "zeros"}  # tfjs's Orthogonal takes minutes at this size
    tfjs.save(tmp_path / "seed_001", [
        {"className": "LSTM", "args": {"units": 128, "inputShape": [5, 64],
                                       "returnSequences": True, **fast}},
        {"className": "LSTM", "args": {"units": 256, **fast}}])
    params = [layer["params"] for layer in as_json(load(tmp_path / "seed_001"))["layers"]]
    assert params == [98_816, 394_240]


def test_keras2_layout_matches_tf_keras_summary(tf_keras, tmp_path):
    for name, model in keras_models(tf_keras).items():
        path = tmp_path / f"{name}.h5"
        model.save(path)
        lines: list[str] = []
        model.summary(print_fn=lambda line, _lines=lines, **_: _lines.append(line))
        assert render_keras2(load(path)) == "\n".join(lines), name
