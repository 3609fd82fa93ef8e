"""Attention, AdditiveAttention and MultiHeadAttention, whole models judged by the real runtimes.

Each model is built in Keras 3 and in tf-keras, given random weights, saved (.keras, .h5) and
converted to the other format, and each file must predict what the original
predicted in the Keras that reads it (.keras Keras 3, .h5 tf-keras); the reference runtime must
agree. TensorFlow.js 4.22 has none
of these layers: writing one there is refused, naming the layer.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import as_list, assert_close, randomize

from tfjs_lstm import dialects
from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError, NotExpressibleError
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.summary import render_keras2, render_keras3

rng = np.random.default_rng(12)


def normal(*shape: int) -> np.ndarray:
    return rng.normal(0, 1, shape).astype(np.float32)


def attention_models(keras) -> dict:
    """name -> model, the same models in either Keras: the LSTM + Attention model, one with
    every other attention setting side by side, and one a mask runs through."""
    L = keras.layers
    x = keras.Input((5, 3), name="x")
    h = L.LSTM(4, return_sequences=True, name="lstm")(x)
    pooled = L.GlobalAveragePooling1D(name="pool")(L.Attention(name="att")([h, h]))
    models = {"luong": keras.Model(x, L.Dense(2, name="dense")(pooled), name="luong")}

    q = L.LSTM(4, return_sequences=True, name="q")(x)
    y = keras.Input((6, 3), name="y")
    v = L.LSTM(4, return_sequences=True, name="v")(y)
    k = L.Dense(4, name="k")(v)
    branches = [
        L.Attention(use_scale=True, score_mode="concat", name="concat")(
            [q, v, k], use_causal_mask=True),
        L.AdditiveAttention(name="additive")([q, q], use_causal_mask=True),
        L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")(q, q),
        L.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, use_bias=False,
                             name="mha_key")(q, v, L.Dense(5, name="k5")(v),
                                             use_causal_mask=True),
    ]
    joined = L.Concatenate(name="joined")([L.GlobalAveragePooling1D(name=f"pool_{i}")(b)
                                           for i, b in enumerate(branches)])
    models["settings"] = keras.Model([x, y], L.Dense(2, name="head")(joined), name="settings")

    words = keras.Input((6,), name="words")
    embedded = L.Embedding(10, 3, mask_zero=True, name="embed")(words)
    h = L.LSTM(4, return_sequences=True, name="lstm")(embedded)
    reader = L.LSTM(3, name="reader")(L.Attention(name="att")([h, h]))
    models["masked"] = keras.Model(words, L.Dense(2, name="dense")(reader), name="masked")

    words = keras.Input((6,), name="words")
    embedded = L.Embedding(10, 4, mask_zero=True, name="embed")(words)
    h = L.LSTM(4, return_sequences=True, name="lstm")(embedded)
    branches = [L.MultiHeadAttention(2, 3, name="mha")(embedded, embedded),
                L.MultiHeadAttention(1, 2, name="mha_causal")(h, h, use_causal_mask=True)]
    joined = L.Concatenate(name="joined")([L.GlobalAveragePooling1D(name=f"pool_{i}")(b)
                                           for i, b in enumerate(branches)])
    models["masked_mha"] = keras.Model(words, L.Dense(2, name="dense")(joined),
                                       name="masked_mha")
    return {name: randomize(model, rng) for name, model in models.items()}


def inputs_for(model) -> list[np.ndarray]:
    """Random inputs; the word ids are padded with zeros at different lengths, one row
    leading."""
    if model.name.startswith("masked"):
        ids = rng.integers(1, 10, (4, 6))
        ids[0, 4:] = 0
        ids[1, 1:] = 0
        ids[3, :2] = 0
        return [ids.astype(np.int32)]
    return [normal(3, *tensor.shape[1:]) for tensor in model.inputs]


@pytest.mark.parametrize("born", ["keras3", "tf_keras"])
def test_attention_models_convert_both_ways_exactly(born, keras3, tf_keras, tmp_path,
                                                     monkeypatch):
    """...and `summary` prints what the Keras that built the model prints."""
    monkeypatch.setenv("COLUMNS", "80")  # Keras sizes its table from the terminal
    keras = keras3 if born == "keras3" else tf_keras
    suffix = ".keras" if born == "keras3" else ".h5"
    for name, model in attention_models(keras).items():
        if name.startswith("masked") and born == "tf_keras":
            continue  # tf-keras judges the masked model's .h5 converted from Keras 3
        inputs = inputs_for(model)
        expected = as_list(model.predict(inputs, verbose=0))
        original = tmp_path / f"{name}{suffix}"
        model.save(original)
        if not name.startswith("masked") or born == "tf_keras":  # Keras 3 lists mask ops
            lines: list[str] = []
            model.summary(print_fn=lambda line, _lines=lines, **_: _lines.append(line))
            theirs = "\n".join(lines)
            if born == "keras3":
                assert render_keras3(load(original)) == theirs.rstrip("\n"), name
            else:
                assert render_keras2(load(original)) == theirs, name
        assert_close(run(load(original), inputs), expected, f"{name}: reference runtime")
        for target in (".h5",) if born == "keras3" else (".keras",):
            converted = tmp_path / f"{name}_out{target}"
            convert(original, converted)
            assert_close(run(load(converted), inputs), expected, f"{name}{target}: ours")
            judge = keras3 if target == ".keras" else tf_keras
            loaded = judge.models.load_model(converted, compile=False)
            assert_close(as_list(loaded.predict(inputs, verbose=0)), expected,
                         f"{name}{target} in {judge.__name__}")


def test_tfjs_refuses_each_attention_layer_by_name(keras3, tmp_path):
    models = attention_models(keras3)
    for name, layers in (("luong", ["att"]),
                         ("settings", ["concat", "additive", "mha", "mha_key"])):
        models[name].save(tmp_path / f"{name}.keras")
        with pytest.raises(NotExpressibleError) as refused:
            convert(tmp_path / f"{name}.keras", tmp_path / name)
        for layer in layers:
            assert f"layer '{layer}', key 'class_name'" in str(refused.value)
        assert "TensorFlow.js 4.22 has no" in str(refused.value)
        assert not (tmp_path / name).exists()


def test_returned_attention_scores_are_refused(keras3, tmp_path):
    L = keras3.layers
    x = keras3.Input((5, 3))
    h = L.LSTM(4, return_sequences=True)(x)
    out, scores = L.Attention(name="att")([h, h], return_attention_scores=True)
    keras3.Model(x, [out, scores]).save(tmp_path / "scores.keras")
    with pytest.raises(InputError, match="return_attention_scores"):
        load(tmp_path / "scores.keras")


def test_a_mask_reaching_multi_head_attention_with_dropout_is_refused(keras3, tmp_path):
    """Keras 3 then zeroes padded query steps' weights where tf-keras averages the values."""
    L = keras3.layers
    words = keras3.Input((4,))
    h = L.LSTM(2, return_sequences=True)(L.Embedding(5, 2, mask_zero=True)(words))
    mha = L.MultiHeadAttention(1, 2, dropout=0.1, name="mha")
    keras3.Model(words, mha(h, h)).save(tmp_path / "m.keras")
    with pytest.raises(InputError, match="MultiHeadAttention with dropout"):
        run(load(tmp_path / "m.keras"), [np.ones((1, 4), np.int32)])
    with pytest.raises(NotExpressibleError, match="mha"):
        convert(tmp_path / "m.keras", tmp_path / "m.h5")


def test_tf_keras_legacy_causal_key_is_read_only_when_false():
    """tf-keras 2.21 still honours `causal` in an Attention config (Keras 3 rejects the key)."""
    assert dialects.read("keras2", {"causal": False}, class_name="Attention") == \
        dialects.read("keras2", {}, class_name="Attention")
    with pytest.raises(InputError, match="causal"):
        dialects.read("keras2", {"causal": True}, class_name="Attention")
    with pytest.raises(InputError, match="causal"):
        dialects.read("keras3", {"causal": False}, class_name="Attention")
