"""Concatenate, Add, Multiply, Average, Flatten, Reshape and RepeatVector, whole models converted
and judged by the real runtimes.

Keras 3 models are saved as .keras, converted to tfjs folders, loaded from disk by TensorFlow.js
4.22 in Node (one process for every case) and must predict what Keras 3 predicted; so must the
reference runtime on both. Where tfjs combines masks differently, the test pins what it does.
tfjs-born Sequential models go the other way into Keras 3.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import as_list, assert_close, keras3_models_in_tfjs, randomize

from tfjs_lstm import dialects
from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError, NotExpressibleError
from tfjs_lstm.runtime.engine import run

rng = np.random.default_rng(31)


def normal(*shape: int) -> np.ndarray:
    return rng.normal(0, 1, shape).astype(np.float32)


def two_branches(keras, name: str, merge) -> tuple:
    """Two LSTM encoders of different inputs, merged, then a Dense head."""
    L = keras.layers
    a, b = keras.Input((5, 3), name="a"), keras.Input((5, 2), name="b")
    merged = merge([L.LSTM(4, name="enc_a")(a), L.LSTM(4, name="enc_b")(b)])
    model = keras.Model([a, b], L.Dense(3, name="head")(merged), name=name)
    return model, [normal(4, 5, 3), normal(4, 5, 2)]


def masked_branches(keras, name: str, merge) -> tuple:
    """Two masked sequences through LSTMs, merged into an LSTM that reads the merged mask.
    Sample 0 is masked alike in both inputs; samples 1 and 2 are masked differently."""
    L = keras.layers
    a, b = keras.Input((6, 3), name="a"), keras.Input((6, 3), name="b")
    x = L.LSTM(4, return_sequences=True, name="enc_a")(L.Masking(name="mask_a")(a))
    y = L.LSTM(4, return_sequences=True, name="enc_b")(L.Masking(name="mask_b")(b))
    model = keras.Model([a, b], L.LSTM(2, name="dec")(merge([x, y])), name=name)
    xa, xb = normal(3, 6, 3), normal(3, 6, 3)
    xa[0, 4:] = xb[0, 4:] = 0.0
    xa[1, :2] = 0.0
    xb[1, 3:] = 0.0
    xa[2, 3:] = 0.0
    return model, [xa, xb]


def keras3_models(keras) -> dict:
    """name -> (model, inputs): every new layer in a model Keras 3 and tfjs both run."""
    L = keras.layers
    models = {name: two_branches(keras, name, layer(name="merge")) for name, layer in (
        ("concatenate", L.Concatenate), ("add", L.Add), ("multiply", L.Multiply),
        ("average", L.Average))}
    a, b = keras.Input((5, 3), name="a"), keras.Input((3, 2), name="b")
    long = L.LSTM(4, return_sequences=True, name="enc_a")(a)
    short = L.LSTM(4, return_sequences=True, name="enc_b")(b)
    joined = L.Concatenate(axis=1, name="along_time")([long, short])
    models["concatenate_time_axis"] = (keras.Model([a, b], L.LSTM(2, name="dec")(joined)),
                                       [normal(3, 5, 3), normal(3, 3, 2)])
    x = keras.Input((6, 3), name="x")
    masked = L.Masking(name="mask")(x)
    shared = L.Concatenate(name="merge")([L.LSTM(3, return_sequences=True, name="l1")(masked),
                                          L.LSTM(2, return_sequences=True, name="l2")(masked)])
    padded = normal(3, 6, 3)
    padded[0, 4:] = 0.0
    padded[2, :3] = 0.0
    models["concatenate_one_mask"] = (keras.Model(x, L.LSTM(2, name="dec")(shared)), [padded])

    def seq(name, layers, inputs):
        models[name] = (keras.Sequential(layers, name=name), [inputs])

    seq("flatten_after_lstm", [keras.Input((6, 3)), L.LSTM(4, return_sequences=True),
                               L.Flatten(), L.Dense(2)], normal(3, 6, 3))
    seq("flatten_channels_first", [keras.Input((6, 3)), L.LSTM(4, return_sequences=True),
                                   L.Flatten(data_format="channels_first"), L.Dense(2)],
        normal(3, 6, 3))
    seq("flatten_drops_the_mask", [keras.Input((6, 3)), L.Masking(),
                                   L.LSTM(4, return_sequences=True), L.Flatten(), L.Dense(2)],
        padded)
    seq("reshape_between_lstms", [keras.Input((6, 3)), L.LSTM(4, return_sequences=True),
                                  L.Reshape((-1, 8)), L.LSTM(3)], normal(3, 6, 3))
    seq("reshape_unknown_last_size", [keras.Input((6, 3)), L.LSTM(4, return_sequences=True),
                                      L.Reshape((4, -1)), L.LSTM(3)], normal(3, 6, 3))
    seq("encoder_decoder", [keras.Input((6, 3)), L.LSTM(5), L.RepeatVector(4),
                            L.LSTM(3, return_sequences=True), L.Dense(2)], normal(3, 6, 3))
    for name, layer in (("masked_concatenate", L.Concatenate), ("masked_add", L.Add),
                        ("masked_multiply", L.Multiply)):
        models[name] = masked_branches(keras, name, layer(name="merge"))
    for model, _ in models.values():
        randomize(model, rng, 0.8)
    return models


MASKED_MERGES = ("masked_concatenate", "masked_add", "masked_multiply", "concatenate_one_mask")


def test_keras3_models_convert_to_tfjs_and_predict_the_same_in_node(keras3, tfjs, tmp_path):
    """Every merge and reshaping layer agrees; masked merges are refused (next test)."""
    models = keras3_models(keras3)
    keras3_models_in_tfjs(tfjs, {name: case for name, case in models.items()
                                 if name not in MASKED_MERGES}, tmp_path)


def test_masked_merges_are_refused_for_tfjs_and_the_reference_follows_keras(keras3, tmp_path):
    """Measured with tfjs 4.22: Concatenate ANDs differently masked inputs where Keras ORs them
    (0.15-0.19 apart), and Add/Multiply give the next LSTM a mask it cannot broadcast. So a
    merge that a mask reaches is refused for tfjs; the reference runtime agrees with Keras."""
    for name, (model, inputs) in keras3_models(keras3).items():
        if name not in MASKED_MERGES:
            continue
        source = tmp_path / f"{name}.keras"
        model.save(source)
        assert_close(run(load(source), inputs), as_list(model.predict(inputs, verbose=0)),
                     f"reference runtime, {name}")
        with pytest.raises(NotExpressibleError) as caught:
            convert(source, tmp_path / name)
        assert ("merge", "mask") in {(p.layer, p.key) for p in caught.value.problems}, name
        assert not (tmp_path / name).exists()


def test_tfjs_sequential_models_convert_to_keras3_and_predict_the_same(keras3, tfjs,
                                                                       tmp_path):
    specs = {
        "lstm_flatten_dense": ([
            {"className": "LSTM", "args": {"units": 4, "returnSequences": True,
                                           "inputShape": [5, 3]}},
            {"className": "Flatten", "args": {"dataFormat": "channelsFirst"}},
            {"className": "Dense", "args": {"units": 2}}], normal(3, 5, 3)),
        "encoder_decoder": ([
            {"className": "LSTM", "args": {"units": 4, "inputShape": [5, 3]}},
            {"className": "RepeatVector", "args": {"n": 3}},
            {"className": "LSTM", "args": {"units": 2, "returnSequences": True}}],
            normal(3, 5, 3)),
        "reshape_unknown_size": ([
            {"className": "Reshape", "args": {"targetShape": [-1, 4], "inputShape": [12]}},
            {"className": "LSTM", "args": {"units": 3}}], normal(3, 12)),
    }
    cases = []
    for name, (layers, inputs) in specs.items():
        tfjs.save(tmp_path / name, layers)
        cases.append((name, tmp_path / name, [inputs]))
    assert '"target_shape":[null,4]' in (tmp_path / "reshape_unknown_size" /
                                         "model.json").read_text()
    expected = tfjs.predict_folders([(folder, inputs) for _, folder, inputs in cases])
    for (name, folder, inputs), theirs in zip(cases, expected, strict=True):
        assert not isinstance(theirs, str), f"{name}: {theirs}"
        assert_close(run(load(folder), inputs), theirs, f"reference runtime, {name}")
        convert(folder, tmp_path / f"{name}.keras")
        model = keras3.models.load_model(tmp_path / f"{name}.keras")
        assert_close(as_list(model.predict(inputs, verbose=0)), theirs, f"Keras 3, {name}")


def test_functional_merge_models_go_back_to_keras3(keras3, tmp_path):
    model, inputs = two_branches(keras3, "back", keras3.layers.Concatenate(name="merge"))
    model.save(tmp_path / "a.keras")
    convert(tmp_path / "a.keras", tmp_path / "web")
    convert(tmp_path / "web", tmp_path / "b.keras")
    again = keras3.models.load_model(tmp_path / "b.keras")
    assert_close(as_list(again.predict(inputs, verbose=0)),
                 as_list(model.predict(inputs, verbose=0)), "round trip")


def test_reshape_spells_the_unknown_size_minus_one_in_keras_and_null_in_tfjs():
    config = dialects.read("tfjs", {"targetShape": [None, 4]}, class_name="Reshape")
    assert config.target_shape == (-1, 4)
    assert dialects.read("tfjs", {"targetShape": [-1, 4]}, class_name="Reshape") == config
    assert dialects.write("keras3", config).config["target_shape"] == [-1, 4]
    assert dialects.write("tfjs", config).config["targetShape"] == [None, 4]
    assert dialects.write("tfjs-json", config).config["target_shape"] == [None, 4]
    with pytest.raises(InputError, match="-1 for one unknown"):
        dialects.read("keras2", {"target_shape": [None, 4]}, class_name="Reshape")
    with pytest.raises(InputError, match="at most one"):
        dialects.read("keras3", {"target_shape": [-1, -1]}, class_name="Reshape")


def test_tfjs_spells_data_format_in_camel_case_and_silently_misreads_snake_case(tfjs):
    """tfjs's Flatten compares dataFormat with 'channelsFirst' only, so 'channels_first' runs as
    channels_last; the reader refuses it in the tfjs dialect."""
    from node_harness import tensor

    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    snake, camel = tfjs.predict([
        {"layers": [{"className": "Flatten", "args": {"dataFormat": spelling,
                                                      "inputShape": [2, 3]}}],
         "input": tensor(x)} for spelling in ("channels_first", "channelsFirst")])
    assert snake[0].tolist() == [[0, 1, 2, 3, 4, 5]]
    assert camel[0].tolist() == [[0, 3, 1, 4, 2, 5]]
    with pytest.raises(InputError, match="channelsFirst"):
        dialects.read("tfjs", {"dataFormat": "channels_first"}, class_name="Flatten")
    pythonic = {"data_format": "channels_first"}
    assert dialects.read("tfjs-json", pythonic, class_name="Flatten").data_format == \
        "channels_first"
