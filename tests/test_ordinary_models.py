"""The eight ordinary recurrent models of issue 12, each built in Keras 3 and in tf-keras and
judged by the real runtimes in every direction.

Each model is built once per Keras with random weights and saved in its own format (.keras,
.h5); that file converts to a tfjs folder (`companion` for the default GRU, the masked
classifier and Attention, which tfjs 4.22 cannot compute without the package), and the folder
converts to the other Keras's format. Every file predicts what the original model predicted in
the runtime that reads it (all tfjs folders in one Node process); the reference runtime agrees
on every file; `summary` is each runtime's own.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import as_list, assert_close, randomize_trained, summary_text

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.summary import render_keras2, render_keras3, render_tfjs

rng = np.random.default_rng(1212)
IDS = np.array([[3, 1, 4, 1, 5, 0, 0], [2, 6, 0, 0, 0, 0, 0], [0, 0, 7, 1, 8, 2, 8]], np.int32)
# tfjs's own classes refuse or differ there, or tfjs has none (Attention)
COMPANION = {"default_gru", "masked_classifier", "lstm_attention"}


def normal(*shape: int) -> np.ndarray:
    return rng.normal(0, 1, shape).astype(np.float32)


def ordinary_models(keras) -> dict:
    """name -> (model, input), the same eight models in either Keras."""
    L, td = keras.layers, keras.layers.TimeDistributed

    def seq(name, shape, layers, **kw):
        return keras.Sequential([keras.Input(shape, **kw), *layers], name=name)

    x = keras.Input((6, 3), name="x")
    h = L.LSTM(4, return_sequences=True, name="lstm")(x)
    attended = L.GlobalAveragePooling1D(name="pool")(L.Attention(name="att")([h, h]))
    models = {
        "conv_pool_lstm": seq("conv_pool_lstm", (12, 3), [
            L.Conv1D(4, 3, padding="same", activation="relu"), L.MaxPooling1D(2), L.LSTM(3)]),
        "lstm_global_max": seq("lstm_global_max", (7, 3), [
            L.LSTM(4, return_sequences=True), L.GlobalMaxPooling1D(), L.Dense(2)]),
        "lstm_layer_norm": seq("lstm_layer_norm", (6, 3), [
            L.LSTM(4, return_sequences=True), L.LayerNormalization(), L.LSTM(3)]),
        "lstm_batch_norm": seq("lstm_batch_norm", (6, 3), [
            L.LSTM(4, return_sequences=True), L.BatchNormalization(), L.LSTM(3)]),
        "lstm_attention": keras.Model(x, L.Dense(2, name="dense")(attended),
                                      name="lstm_attention"),
        "default_gru": seq("default_gru", (6, 3), [L.GRU(4), L.Dense(2)]),
        "masked_classifier": seq("masked_classifier", (IDS.shape[1],), [
            L.Embedding(9, 4, mask_zero=True), L.Bidirectional(L.LSTM(3)),
            L.Dense(2, activation="softmax")], dtype="int32"),
        "cnn_lstm": seq("cnn_lstm", (3, 6, 6, 2), [
            td(L.Conv2D(3, 3, padding="same", activation="relu")), td(L.MaxPooling2D()),
            td(L.Flatten()), L.LSTM(4), L.Dense(2)]),
    }
    inputs = {"conv_pool_lstm": normal(3, 12, 3), "lstm_global_max": normal(3, 7, 3),
              "lstm_layer_norm": normal(3, 6, 3), "lstm_batch_norm": normal(3, 6, 3),
              "lstm_attention": normal(3, 6, 3), "default_gru": normal(3, 6, 3),
              "masked_classifier": IDS, "cnn_lstm": normal(2, 3, 6, 6, 2)}
    return {name: (randomize_trained(model, rng), inputs[name]) for name, model in models.items()}


NAMES = ["conv_pool_lstm", "lstm_global_max", "lstm_layer_norm", "lstm_batch_norm",
         "lstm_attention", "default_gru", "masked_classifier", "cnn_lstm"]
KERASES = {"keras3": (".keras", ".h5"), "tf_keras": (".h5", ".keras")}  # own, other format


@pytest.fixture(scope="module")
def runs(keras3, tf_keras, tfjs, tmp_path_factory):
    """For each (Keras, model): the original's outputs, its file, the tfjs folder converted
    from it and that folder converted to the other Keras's format (the file itself where tfjs
    lacks a layer), what tfjs and the other Keras predict from them, each runtime's summary."""
    tmp = tmp_path_factory.mktemp("ordinary")
    kerases = {"keras3": keras3, "tf_keras": tf_keras}
    other = {"keras3": tf_keras, "tf_keras": keras3}
    found: dict = {}
    folders = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "80")
        for which, keras in kerases.items():
            own, theirs = KERASES[which]
            for name, (model, x) in ordinary_models(keras).items():
                base = tmp / f"{which}_{name}"
                case = found[which, name] = {"x": x, "own": base.with_suffix(own)}
                model.save(case["own"])
                case["expected"] = outputs_of(model, x)
                case["summary"] = (summary_text(model), render(load(case["own"]), which))
                case["folder"] = base
                convert(case["own"], base, companion=name in COMPANION)
                crossed = case["crossed"] = base.with_suffix(f".back{theirs}")
                convert(base, crossed)
                folders.append((which, name))
                case["crossed_predicts"] = outputs_of(
                    other[which].models.load_model(crossed, compile=False), x)
        predictions = tfjs.predict_folders([(found[key]["folder"], [found[key]["x"]])
                                            for key in folders], companion=True)
        summaries = tfjs.summaries([found[key]["folder"] for key in folders], companion=True)
        for key, predicted, printed in zip(folders, predictions, summaries, strict=True):
            found[key]["tfjs"] = predicted
            found[key]["tfjs_summary"] = (printed, render_tfjs(load(found[key]["folder"])))
    return found


def outputs_of(model, x: np.ndarray) -> list[np.ndarray]:
    """A Keras model's inference outputs from one eager call (cheaper than predict)."""
    return as_list(model(x, training=False))


def render(model, which: str) -> str:
    return render_keras3(model) if which == "keras3" else render_keras2(model)


CASES = [(which, name) for which in KERASES for name in NAMES]
IDS_OF = [f"{which}-{name}" for which, name in CASES]


@pytest.mark.parametrize("which, name", CASES, ids=IDS_OF)
def test_the_other_keras_predicts_the_same_from_the_converted_file(runs, which, name):
    case = runs[which, name]
    assert_close(case["crossed_predicts"], case["expected"], case["crossed"].name)


@pytest.mark.parametrize("which, name", CASES, ids=IDS_OF)
def test_the_reference_runtime_agrees_with_keras_on_every_file(runs, which, name):
    case = runs[which, name]
    for key in ("own", "folder", "crossed"):
        if key in case:
            assert_close(run(load(case[key]), [case["x"]]), case["expected"],
                         f"reference runtime on {case[key].name}")


@pytest.mark.parametrize("which, name", CASES, ids=IDS_OF)
def test_tfjs_in_node_predicts_what_keras_predicts(runs, which, name):
    case = runs[which, name]
    assert not isinstance(case["tfjs"], str), f"tfjs failed to load or run: {case['tfjs']}"
    assert_close(case["tfjs"], case["expected"], f"tfjs, {which} {name}")


@pytest.mark.parametrize("which, name", CASES, ids=IDS_OF)
def test_summary_is_each_runtimes_own(runs, which, name):
    case = runs[which, name]
    keras_text, ours = case["summary"]
    assert ours == (keras_text.rstrip("\n") if which == "keras3" else keras_text)
    if "tfjs_summary" in case:
        theirs, ours = case["tfjs_summary"]
        assert ours == theirs


def test_attention_without_the_companion_is_refused_naming_the_layer(runs, tmp_path):
    for which in KERASES:
        with pytest.raises(NotExpressibleError) as caught:
            convert(runs[which, "lstm_attention"]["own"], tmp_path / which)
        assert [(p.layer, p.key) for p in caught.value.problems] == [("att", "class_name")]
        assert "--companion" in caught.value.problems[0].reason
        assert not (tmp_path / which).exists()

