"""Dot, Subtract, Maximum, Minimum, PReLU, ThresholdedReLU, UnitNormalization and
ActivityRegularization, whole models judged by the real runtimes.

Keras 3 models go to tfjs folders (TensorFlow.js 4.22 in Node, one process, must predict what
Keras predicted) and back to .keras (Keras 3 must predict it again); tfjs-born Sequential models
go to Keras. TensorFlow.js has no Subtract, UnitNormalization or ActivityRegularization and
Keras 3 no ThresholdedReLU: those go between the runtimes that have them, and are refused where
the layer does not exist.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import (
    as_list,
    assert_close,
    assert_tfjs_lacks,
    keras3_models_in_tfjs,
    randomize,
)

from tfjs_lstm import dialects
from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError, NotExpressibleError
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.summary import render_keras3, render_tfjs

rng = np.random.default_rng(47)


def normal(*shape: int) -> np.ndarray:
    return rng.normal(0, 1, shape).astype(np.float32)


def keras3_models(keras) -> dict:
    """name -> (model, inputs), every layer here that both Keras 3 and tfjs have."""
    L = keras.layers
    a, b = keras.Input((5, 3), name="a"), keras.Input((6, 3), name="b")
    x = L.LSTM(4, return_sequences=True, name="x")(a)
    y = L.LSTM(4, return_sequences=True, name="y")(b)
    last_x, last_y = L.LSTM(4, name="last_x")(a), L.LSTM(4, name="last_y")(b)
    heads = {
        "dot_steps": L.Flatten(name="flat")(L.Dot(axes=2, name="dot")([x, y])),
        "dot_axis_pair": L.Flatten(name="flat")(L.Dot(axes=[2, 1], name="dot")(
            [x, L.Dense(5, name="five")(L.Permute((2, 1), name="swap")(y))])),
        "dot_normalized": L.Dot(axes=1, normalize=True, name="dot")([last_x, last_y]),
        "extrema": L.Concatenate(name="both")([L.Maximum(name="max")([last_x, last_y]),
                                               L.Minimum(name="min")([last_x, last_y])]),
    }
    inputs = [normal(3, 5, 3), normal(3, 6, 3)]
    models = {name: (randomize(keras.Model([a, b], L.Dense(2, name="head")(h), name=name),
                               rng), inputs) for name, h in heads.items()}
    prelu = keras.Sequential([keras.Input((5, 3)), L.LSTM(4, return_sequences=True),
                              L.PReLU(shared_axes=[1]), L.LSTM(3), L.PReLU(), L.Dense(2)],
                             name="prelu")
    models["prelu"] = (randomize(prelu, rng, scale=1.5), [normal(3, 5, 3)])
    return models


def test_keras3_models_run_in_tfjs_and_come_back(keras3, tfjs, tmp_path, monkeypatch):
    """...and `summary` prints what Keras 3 and tfjs print for them."""
    monkeypatch.setenv("COLUMNS", "80")  # Keras sizes its table from the terminal
    models = keras3_models(keras3)
    in_tfjs = keras3_models_in_tfjs(tfjs, models, tmp_path)
    for name, (model, inputs) in models.items():
        convert(tmp_path / name, tmp_path / f"{name}_back.keras")
        back = keras3.models.load_model(tmp_path / f"{name}_back.keras")
        assert_close(as_list(back.predict(inputs, verbose=0)), in_tfjs[name], name)
        lines: list[str] = []
        model.summary(print_fn=lambda line, _lines=lines, **_: _lines.append(line))
        assert render_keras3(load(tmp_path / f"{name}.keras")) == \
            "\n".join(lines).rstrip("\n"), name
    folders = [tmp_path / name for name in models]
    for folder, theirs in zip(folders, tfjs.summaries(folders), strict=True):
        assert render_tfjs(load(folder)) == theirs, folder.name


def test_tfjs_born_prelu_and_thresholded_relu_go_to_keras(tfjs, keras3, tf_keras, tmp_path):
    lstm = {"className": "LSTM", "args": {"units": 4, "returnSequences": True,
                                          "inputShape": [5, 3]}}
    alphas = {"alphaInitializer": {"className": "RandomNormal",
                                   "config": {"mean": 0.5, "stddev": 1.0}}}
    specs = {
        "prelu": [lstm, {"className": "PReLU", "args": {"sharedAxes": 1, **alphas}},
                  {"className": "Dense", "args": {"units": 2}}],
        "thresholded": [lstm, {"className": "ThresholdedReLU", "args": {"theta": 0.125}},
                        {"className": "Dense", "args": {"units": 2}}],
    }
    for name, layers in specs.items():
        tfjs.save(tmp_path / name, layers)
    x = normal(3, 5, 3)
    theirs = dict(zip(specs, tfjs.predict_folders([(tmp_path / n, [x]) for n in specs]),
                      strict=True))
    for name, judge, suffix in (("prelu", keras3, ".keras"), ("prelu", tf_keras, ".h5"),
                                ("thresholded", tf_keras, ".h5")):
        assert not isinstance(theirs[name], str), theirs[name]
        assert_close(run(load(tmp_path / name), [x]), theirs[name], f"reference, {name}")
        convert(tmp_path / name, tmp_path / f"{name}{suffix}")
        model = judge.models.load_model(tmp_path / f"{name}{suffix}", compile=False)
        assert_close(as_list(model.predict(x, verbose=0)), theirs[name], f"{name}{suffix}")
    with pytest.raises(NotExpressibleError, match="keras3 has no ThresholdedReLU"):
        convert(tmp_path / "thresholded", tmp_path / "t.keras")


def test_keras_only_layers_go_between_keras_runtimes_and_are_refused_by_tfjs(
        keras3, tf_keras, tmp_path):
    """Subtract, UnitNormalization and ActivityRegularization: TensorFlow.js has none."""
    L = keras3.layers
    a, b = keras3.Input((5, 3)), keras3.Input((5, 3))
    unit = L.UnitNormalization(axis=[1, 2], name="unit")(
        L.LSTM(4, return_sequences=True, name="seq")(a))
    left = L.LSTM(4, name="l")(L.ActivityRegularization(l1=0.01, name="activity")(unit))
    diff = L.Subtract(name="diff")([left, L.LSTM(4, name="r")(b)])
    model = randomize(keras3.Model([a, b], L.Dense(2)(diff)), rng)
    inputs = [normal(3, 5, 3), normal(3, 5, 3)]
    expected = as_list(model.predict(inputs, verbose=0))
    model.save(tmp_path / "sub.keras")
    convert(tmp_path / "sub.keras", tmp_path / "sub.h5")
    assert_close(run(load(tmp_path / "sub.h5"), inputs), expected, "reference")
    again = tf_keras.models.load_model(tmp_path / "sub.h5", compile=False)
    assert_close(as_list(again.predict(inputs, verbose=0)), expected, "tf-keras")
    assert_tfjs_lacks(tmp_path / "sub.keras", [("diff", "Subtract"), ("unit", "UnitNormalization"),
                                               ("activity", "ActivityRegularization")])


def test_masks_reaching_maximum_are_refused(keras3, tmp_path):
    """Keras 3 fills masked entries from the other inputs, tf-keras does not."""
    L = keras3.layers
    x = keras3.Input((4, 2))
    masked = L.Masking()(x)
    both = L.Maximum(name="max")([L.LSTM(2, return_sequences=True)(masked),
                                  L.LSTM(2, return_sequences=True)(masked)])
    keras3.Model(x, L.LSTM(1)(both)).save(tmp_path / "m.keras")
    with pytest.raises(NotExpressibleError, match="layer 'max', key 'mask'"):
        convert(tmp_path / "m.keras", tmp_path / "m.h5")
    with pytest.raises(InputError, match="masks reaching Maximum"):
        run(load(tmp_path / "m.keras"), [normal(1, 4, 2)])


def test_tfjs_gets_no_negative_axis_in_a_dot_axis_pair():
    """tfjs's Dot.build reads shape[-1] (undefined) for a listed negative axis and throws."""
    config = dialects.read("keras3", {"axes": [2, -1]}, class_name="Dot")
    with pytest.raises(NotExpressibleError, match="non-negative"):
        dialects.write("tfjs", config)
    assert dialects.write("tfjs", config.replace(axes=-1)).config["axes"] == -1
