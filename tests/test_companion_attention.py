"""The companion package's attention classes (js/companion/attention.js): Keras's Attention,
AdditiveAttention and MultiHeadAttention, which TensorFlow.js 4.22 lacks, converted with
`--companion` and judged by the real runtimes.

Keras 3 and tf-keras models are converted to tfjs folders, loaded from disk by TensorFlow.js
4.22 in Node with the package imported (one process for every case) and must predict what
Keras predicted; the folders go back to `.keras` / `.h5` and Keras must predict the same again.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from outputs import TOLERANCE, as_list, assert_close, randomize

from tfjs_lstm.cli import main
from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.golden.runtimes import BACKEND_TOLERANCE
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.summary import render_tfjs
from tfjs_lstm.validate import validate_file

rng = np.random.default_rng(12)


# Token ids with trailing zero padding of three lengths.
IDS = np.array([[3, 1, 4, 1, 5, 2], [2, 7, 1, 0, 0, 0], [8, 0, 0, 0, 0, 0]], np.int32)
# The same with a row of leading padding.
LEAD = np.concatenate([IDS, [[0, 0, 6, 2, 5, 1]]]).astype(np.int32)


def masked_mha(keras, lstm: bool = False, causal: bool = False):
    """Embedding(mask_zero) (+ LSTM) + MultiHeadAttention(h, h) + LSTM + Dense (tfjs's
    GlobalAveragePooling1D averages masked steps too)."""
    L = keras.layers
    tokens = keras.Input((6,), dtype="int32")
    h = L.Embedding(9, 4, mask_zero=True)(tokens)
    h = L.LSTM(4, return_sequences=True)(h) if lstm else h
    attended = L.MultiHeadAttention(2, 3)(h, h, use_causal_mask=causal)
    return keras.Model(tokens, L.Dense(2)(L.LSTM(3)(attended)))


def pooled(keras, layer, causal: bool = False):
    """LSTM(return_sequences) + layer([h, h]) + GlobalAveragePooling1D + Dense."""
    L = keras.layers
    x = keras.Input((5, 3))
    h = L.LSTM(4, return_sequences=True)(x)
    attended = layer([h, h], use_causal_mask=True) if causal else layer([h, h])
    return keras.Model(x, L.Dense(2)(L.GlobalAveragePooling1D()(attended)))


def keras3_models(keras) -> dict:
    """name -> (model, inputs): each attention class, its options, masks, a key, MHA."""
    L = keras.layers
    x = rng.normal(0, 1, (3, 5, 3)).astype(np.float32)
    models = {
        "dot": (pooled(keras, L.Attention()), [x]),
        "additive": (pooled(keras, L.AdditiveAttention()), [x]),
        "scale_concat": (pooled(keras, L.Attention(use_scale=True, score_mode="concat")), [x]),
        "causal": (pooled(keras, L.Attention(use_scale=True), causal=True), [x]),
        "additive_causal": (pooled(keras, L.AdditiveAttention(use_scale=False), causal=True),
                            [x]),
    }
    tokens = keras.Input((6,), dtype="int32")
    h = L.LSTM(4, return_sequences=True)(L.Embedding(9, 4, mask_zero=True)(tokens))
    attended = L.Attention(use_scale=True)([h, h], use_causal_mask=True)
    models["masked"] = (keras.Model(tokens, L.Dense(2)(L.LSTM(3)(attended))), [IDS])
    tokens = keras.Input((6,), dtype="int32")
    h = L.LSTM(4, return_sequences=True)(L.Embedding(9, 4, mask_zero=True)(tokens))
    models["masked_additive"] = (keras.Model(tokens, L.AdditiveAttention()([h, h])), [IDS])
    seq = keras.Input((5, 3))
    q = L.LSTM(4, return_sequences=True)(seq)
    v, k = L.Dense(2)(seq), L.Dense(4)(seq)
    models["key"] = (keras.Model(seq, L.Attention()([q, v, k])), [x])
    seq = keras.Input((5, 3))
    h = L.LSTM(4, return_sequences=True)(seq)
    attended = L.MultiHeadAttention(2, 3)(h, h)
    models["mha_self"] = (keras.Model(seq, L.Dense(2)(L.GlobalAveragePooling1D()(attended))),
                          [x])
    seq = keras.Input((5, 3))
    h = L.LSTM(4, return_sequences=True)(seq)
    v, k = L.Dense(2)(seq), L.Dense(3)(seq)
    models["mha_key_causal"] = (keras.Model(seq, L.MultiHeadAttention(
        2, 3, value_dim=2, use_bias=False)(h, v, key=k, use_causal_mask=True)), [x])
    seq = keras.Input((5, 3))
    h = L.LSTM(4, return_sequences=True)(seq)
    h = L.Add()([h, L.Attention()([h, h], use_causal_mask=True)])
    h = L.LayerNormalization()(L.Add()([h, L.MultiHeadAttention(2, 2)(h, h)]))
    models["residual"] = (keras.Model(seq, L.Dense(2)(L.GlobalAveragePooling1D()(h))), [x])
    models["mha_masked"] = (masked_mha(keras), [LEAD])
    models["mha_masked_lstm_causal"] = (masked_mha(keras, lstm=True, causal=True), [LEAD])
    return models


def tf_keras_models(keras) -> dict:
    """tf-keras writes MultiHeadAttention's value and key in the node's kwargs; one masked."""
    L = keras.layers
    seq = keras.Input((5, 3))
    h = L.LSTM(4, return_sequences=True)(seq)
    v = L.Dense(2)(seq)
    out = L.MultiHeadAttention(2, 3)(h, v, key=h, use_causal_mask=True)
    scored = L.Attention(use_scale=True)([out, out], use_causal_mask=True)
    return {"k2_mha_attention": (keras.Model(seq, scored),
                                 [rng.normal(0, 1, (3, 5, 3)).astype(np.float32)]),
            "k2_mha_masked": (masked_mha(keras, lstm=True), [LEAD])}


@pytest.fixture(scope="module")
def converted(keras3, tf_keras, tfjs, tmp_path_factory):
    """Every model saved, converted with the companion classes and run by tfjs in one Node
    process: name -> (folder, source file, inputs, Keras's outputs, tfjs's outputs)."""
    tmp = tmp_path_factory.mktemp("attention")
    cases = {}
    for models, suffix in ((keras3_models(keras3), ".keras"),
                           (tf_keras_models(tf_keras), ".h5")):
        for name, (model, inputs) in models.items():
            randomize(model, rng)
            source = tmp / f"{name}{suffix}"
            model.save(source)
            folder = tmp / name
            convert(source, folder, companion=True)
            feed = inputs[0] if len(inputs) == 1 else inputs
            cases[name] = (folder, source, inputs, as_list(model(feed, training=False)))
    replies = tfjs.predict_folders([(c[0], c[2]) for c in cases.values()], companion=True)
    return {name: (*case, reply) for (name, case), reply in zip(cases.items(), replies,
                                                                 strict=True)}


CASES = ("dot", "additive", "scale_concat", "causal", "additive_causal", "masked",
         "masked_additive", "key", "mha_self", "mha_key_causal", "residual", "k2_mha_attention",
         "mha_masked", "mha_masked_lstm_causal", "k2_mha_masked")


@pytest.mark.parametrize("name", CASES)
def test_tfjs_with_the_companion_predicts_what_keras_predicts(converted, name):
    _, _, inputs, expected, theirs = converted[name]
    assert not isinstance(theirs, str), f"tfjs failed: {theirs}"
    assert_close(theirs, expected, f"tfjs with the companion, {name}")


@pytest.mark.parametrize("backend", ["webgl", "webgl-f16"])
def test_the_companion_classes_run_in_the_browser(converted, tfjs_browser, backend):
    """Every case in one Chromium page importing the package, as Node does. With float16 textures
    the classes take Keras's float16 masking constants (1e9 is NaN there); the measured bound of
    that backend applies (2e-2)."""
    replies = tfjs_browser.predict_folders([(c[0], c[2]) for c in converted.values()],
                                           backend=backend, companion=True)
    tolerance = max(TOLERANCE, BACKEND_TOLERANCE[backend])
    for (name, case), reply in zip(converted.items(), replies, strict=True):
        assert not isinstance(reply, str), f"{name} on {backend}: {reply}"
        for got, want in zip(reply, case[3], strict=True):
            assert got.shape == want.shape, name
            assert np.abs(got - want).max() < tolerance, (name, float(np.abs(got - want).max()))


@pytest.mark.parametrize("name", ("masked", "mha_key_causal", "residual", "k2_mha_attention",
                                  "mha_masked_lstm_causal", "k2_mha_masked"))
def test_the_reference_runtime_agrees_on_the_companion_folder(converted, name):
    folder, _, inputs, expected, _ = converted[name]
    assert_close(run(load(folder), inputs), expected, f"reference runtime, {name}")


def test_companion_folders_convert_back_and_keras_predicts_the_same(converted, keras3,
                                                                    tf_keras, tmp_path):
    for name in ("scale_concat", "additive_causal", "masked", "key", "mha_key_causal",
                 "residual", "mha_masked", "mha_masked_lstm_causal"):
        folder, _, inputs, expected, _ = converted[name]
        convert(folder, tmp_path / f"{name}.keras")
        again = keras3.models.load_model(tmp_path / f"{name}.keras")
        feed = inputs[0] if len(inputs) == 1 else inputs
        assert_close(as_list(again(feed, training=False)), expected,
                     f"Keras 3 from tfjs, {name}")
    for name in ("k2_mha_attention", "k2_mha_masked"):
        folder, _, inputs, expected, _ = converted[name]
        convert(folder, tmp_path / f"{name}.h5")
        again = tf_keras.models.load_model(tmp_path / f"{name}.h5")
        assert_close(as_list(again(inputs[0], training=False)), expected,
                     f"tf-keras from tfjs, {name}")


def test_without_the_package_tfjs_cannot_load_them(converted, tfjs):
    classes = {"mha_self": "TfjsLstmMultiHeadAttention", "dot": "TfjsLstmAttention",
               "additive": "TfjsLstmAdditiveAttention"}
    replies = tfjs.load([converted[name][0] for name in classes])
    for (name, class_name), reply in zip(classes.items(), replies, strict=True):
        assert f"Unknown layer: {class_name}." in reply["error"], name


def test_summary_and_validate_know_the_companion_classes(converted, tfjs):
    folders = [converted[name][0] for name in ("masked", "key", "residual")]
    for folder, theirs in zip(folders, tfjs.summaries(folders, companion=True), strict=True):
        assert render_tfjs(load(folder)) == theirs, folder.name
        assert validate_file(folder / "model.json").ok


def test_without_the_flag_the_refusal_names_the_flag_and_the_package(converted, tmp_path,
                                                                     capsys):
    source = converted["mha_self"][1]
    with pytest.raises(NotExpressibleError) as caught:
        convert(source, tmp_path / "out")
    [problem] = caught.value.problems
    assert problem.key == "class_name"
    assert "TfjsLstmMultiHeadAttention" in problem.reason and "tfjs-lstm-companion" in \
        problem.reason and "--companion" in problem.reason
    assert main(["convert", str(source), str(tmp_path / "out")]) == 1
    assert "--companion" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_mask_the_companion_cannot_see_is_refused_naming_the_layer(keras3, tmp_path):
    """tfjs hands a layer its first input's mask only: a masked query over another tensor
    (whose mask is lost), and an unmasked call after a masked layer (which sees a stale one)."""
    L = keras3.layers
    tokens = keras3.Input((6,), dtype="int32")
    h = L.LSTM(4, return_sequences=True)(L.Embedding(9, 4, mask_zero=True)(tokens))
    last = L.RepeatVector(6)(L.LSTM(4)(h))
    out = L.Attention(name="cross")([h, L.Dense(4)(h)])
    out = L.Concatenate()([out, L.Attention(name="after")([last, last]),
                           L.MultiHeadAttention(1, 2, name="mha_cross")(h, L.Dense(3)(h))])
    keras3.Model(tokens, out).save(tmp_path / "m.keras")
    with pytest.raises(NotExpressibleError) as caught:
        convert(tmp_path / "m.keras", tmp_path / "out", companion=True)
    found = {(p.layer, p.key) for p in caught.value.problems}
    assert {("cross", "mask"), ("after", "mask"), ("mha_cross", "mask")} <= found
    assert not (tmp_path / "out").exists()


def test_a_companion_folder_without_the_class_reads_as_the_missing_layer(converted, tmp_path):
    folder = tmp_path / "own_class"
    shutil.copytree(converted["dot"][0], folder)
    text = (folder / "model.json").read_text()
    (folder / "model.json").write_text(text.replace('"TfjsLstmAttention"', '"Attention"'))
    [finding] = validate_file(folder / "model.json").findings
    assert "TensorFlow.js 4.22 has no Attention layer" in finding.message
    assert "--companion" in finding.message


def test_self_attention_names_its_tensor_once_for_tfjs(converted):
    """tfjs's executor frees a tensor a layer takes twice before other layers read it: a call
    on [h, h] is written as a call on h, which the companion class takes as [h, h]."""
    document = json.loads((converted["residual"][0] / "model.json").read_text())
    nodes = {layer["class_name"]: layer["inbound_nodes"]
             for layer in document["modelTopology"]["config"]["layers"]}
    assert [len(node) for node in nodes["TfjsLstmAttention"]] == [1]
    assert [len(node) for node in nodes["TfjsLstmMultiHeadAttention"]] == [1]


def test_a_tensor_taken_twice_with_another_and_read_elsewhere_is_refused(keras3, tmp_path):
    """[h, v, h] cannot be written as one tensor: tfjs would free h before Add reads it."""
    L = keras3.layers
    x = keras3.Input((5, 3))
    h = L.LSTM(4, return_sequences=True)(x)
    out = L.Add(name="residual")([h, L.Attention(name="self")([h, L.Dense(4)(x), h])])
    keras3.Model(x, out).save(tmp_path / "m.keras")
    with pytest.raises(NotExpressibleError) as caught:
        convert(tmp_path / "m.keras", tmp_path / "out", companion=True)
    [problem] = caught.value.problems
    assert (problem.layer, problem.key) == ("self", "inputs")
    assert "'residual'" in problem.reason


def test_a_shared_layer_called_with_and_without_the_causal_mask_is_refused(keras3, tmp_path):
    """tfjs's predict passes no call arguments: the class keeps its graph call's."""
    L = keras3.layers
    x = keras3.Input((5, 3))
    h = L.LSTM(4, return_sequences=True)(x)
    shared = L.Attention(name="shared")
    out = L.Concatenate()([shared([h, h]), shared([h, h], use_causal_mask=True)])
    keras3.Model(x, out).save(tmp_path / "m.keras")
    with pytest.raises(NotExpressibleError) as caught:
        convert(tmp_path / "m.keras", tmp_path / "out", companion=True)
    assert ("shared", "use_causal_mask") in {(p.layer, p.key) for p in caught.value.problems}
