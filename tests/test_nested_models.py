"""Nested models (a Sequential or functional model used as a layer), read from the files
Keras 3, tf-keras and TensorFlow.js 4.22 write, run, summarized and converted to every format,
judged by those runtimes within 1e-5 (one Node process for the module).

tfjs-lstm inlines a nested model's layers: the same function, which every format can hold, so
each writer writes the model flat. The masks made inside a nested model reach the layers after
it, as in each runtime.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from outputs import as_list, assert_close

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.summary import counts

TOKENS = np.array([[0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 2, 0, 0, 0, 0],
                   [1, 2, 3, 0, 0, 0], [4, 9, 2, 7, 5, 0]], np.int32)
# Written by tests/runtime_files/make_tfjs_files.mjs with tfjs 4.22's model.save().
TFJS_NESTED = Path(__file__).parent / "runtime_files" / "tfjs-recurrent_test-nested-model"
SOURCES = {"keras3": "keras3.keras", "tf_keras": "tf_keras.h5", "tfjs": TFJS_NESTED}


def build(K):
    """A functional model calling a nested Sequential (Embedding with mask_zero, LSTM) and a
    nested functional model (BatchNormalization, GRU): the mask crosses both."""
    inner = K.Sequential([K.Input((6,)), K.layers.Embedding(10, 4, mask_zero=True, name="emb"),
                          K.layers.LSTM(3, return_sequences=True, name="lstm")], name="inner")
    head_in = K.Input((6, 3))
    normalized = K.layers.BatchNormalization(name="bn")(head_in)
    head_out = K.layers.GRU(2, reset_after=False, name="gru")(normalized)
    head = K.Model(head_in, head_out, name="head")
    tokens = K.Input((6,))
    return K.Model(tokens, K.layers.Dense(1, name="out")(head(inner(tokens))), name="outer")


def seeded(model, rng: np.random.Generator):
    """Normal weights; a BatchNormalization's moving variance positive, as a variance is."""
    values = []
    for weight in model.weights:
        value = rng.normal(0, 0.5, tuple(weight.shape)).astype(np.float32)
        path = getattr(weight, "path", None) or weight.name
        values.append(np.abs(value) + 0.5 if "moving_variance" in path else value)
    model.set_weights(values)
    return model


@pytest.fixture(scope="module")
def nested(keras3, tf_keras, tfjs, tmp_path_factory):
    """Each source file, its own runtime's outputs, and every runtime's outputs on each
    conversion (keyed (source, target runtime))."""
    root = tmp_path_factory.mktemp("nested")
    rng = np.random.default_rng(5)
    models = {"keras3": seeded(build(keras3), rng), "tf_keras": seeded(build(tf_keras), rng)}
    sources = {name: root / file if name in models else file for name, file in SOURCES.items()}
    for name, model in models.items():
        model.save(sources[name])
    own = {name: as_list(model.predict(TOKENS, verbose=0)) for name, model in models.items()}
    for name, source in sources.items():
        for target in ("keras3.keras", "tf_keras.h5", "tfjs"):
            if not target.startswith(name):
                convert(source, root / f"{name}-to-{target}")
    folders = [sources["tfjs"], root / "keras3-to-tfjs", root / "tf_keras-to-tfjs"]
    in_tfjs = tfjs.predict_folders([(folder, [TOKENS]) for folder in folders])
    own["tfjs"] = in_tfjs[0]
    converted = {("keras3", "tfjs"): in_tfjs[1], ("tf_keras", "tfjs"): in_tfjs[2]}
    for name in sources:
        for target, module in (("keras3", keras3), ("tf_keras", tf_keras)):
            suffix = ".keras" if target == "keras3" else ".h5"
            if name != target:
                loaded = module.models.load_model(root / f"{name}-to-{target}{suffix}")
                converted[(name, target)] = as_list(loaded.predict(TOKENS, verbose=0))
    return sources, own, converted, models


def test_tfjs_nested_model_file_gives_the_numbers_of_tfjs_recurrent_test(nested):
    """tensorflow/tfjs tfjs-v4.22.0, tfjs-layers/src/layers/recurrent_test.ts,
    'With mask and a nested model': its expected outputs, from the file tfjs wrote."""
    sources, own, _, _ = nested
    expected = [np.array([[0], [2.283937], [2.891939], [2.9851441]], np.float32)]
    assert_close([run(load(sources["tfjs"]), [TOKENS[:4]])[0]], expected, "reference runtime")
    assert_close([own["tfjs"][0][:4]], expected, "tfjs itself")


@pytest.mark.parametrize("source", SOURCES)
def test_nested_model_file_runs_as_the_runtime_that_wrote_it(nested, source):
    sources, own, _, _ = nested
    assert not isinstance(own[source], str), own[source]
    assert_close(run(load(sources[source]), [TOKENS]), own[source], source)


@pytest.mark.parametrize("source", SOURCES)
def test_nested_model_converts_to_every_format_computing_the_same(nested, source):
    _, own, converted, _ = nested
    for (name, target), outputs in converted.items():
        if name == source:
            assert not isinstance(outputs, str), f"{source} -> {target}: {outputs}"
            assert_close(outputs, own[source], f"{source} -> {target}")


@pytest.mark.parametrize("source", ["keras3", "tf_keras"])
def test_summary_counts_a_nested_models_params_as_keras_does(nested, source):
    sources, _, _, models = nested
    assert sum(counts(load(sources[source]))) == models[source].count_params()


def test_a_layer_named_like_one_in_a_nested_model_is_refused(keras3, tmp_path):
    inner = keras3.Sequential([keras3.Input((3,)), keras3.layers.Dense(2, name="dense")])
    x = keras3.Input((3,))
    model = keras3.Model(x, keras3.layers.Dense(1, name="dense_1")(inner(x)))
    model.layers[-1].name = "dense"  # the clash a hand-edited or merged file can hold
    model.save(tmp_path / "clash.keras")
    with pytest.raises(InputError, match="nested model '.*' has a layer named 'dense'"):
        load(tmp_path / "clash.keras")
