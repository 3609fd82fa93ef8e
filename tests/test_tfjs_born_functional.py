"""Functional models TensorFlow.js builds and saves itself, with its default arguments: merge
layers over LSTM branches, a two-input Bidirectional text model and a GRU head. tfjs's own
predictions (one Node process for all) are what the reference runtime computes from its folder
and what Keras 3 and tf-keras compute from the conversions to .keras and .h5.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import as_list, assert_close

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError
from tfjs_lstm.runtime.engine import run

rng = np.random.default_rng(12)
MERGES = {"Add": {}, "Concatenate": {}, "Multiply": {}, "Average": {}, "Maximum": {},
          "Minimum": {}, "Dot": {"axes": 1}}


def layer(name: str, class_name: str, inbound: list[str], **args) -> dict:
    """One layer of a harness model description: tfjs's className, its args, its inputs."""
    return {"name": name, "className": class_name, "args": args, "inbound": inbound}


def lstm_branches_merged() -> dict:
    """Two [5, 3] sequences, an LSTM on each, merged by every merge layer (each merge an
    output); a Dot over the steps of two sequence-returning LSTMs; a Dense on the Add."""
    names = {name: f"{name.lower()}ed" for name in MERGES}
    layers = [layer("left", "LSTM", ["a"], units=4), layer("right", "LSTM", ["b"], units=4),
              *[layer(names[name], name, ["left", "right"], **args)
                for name, args in MERGES.items()],
              layer("head", "Dense", ["added"], units=2),
              layer("left_steps", "LSTM", ["a"], units=4, returnSequences=True),
              layer("right_steps", "LSTM", ["b"], units=4, returnSequences=True),
              layer("step_dot", "Dot", ["left_steps", "right_steps"], axes=2)]
    return {"inputs": [{"name": "a", "shape": [5, 3]}, {"name": "b", "shape": [5, 3]}],
            "layers": layers, "outputs": [*names.values(), "head", "step_dot"],
            "data": [rng.normal(0, 1, (3, 5, 3)), rng.normal(0, 1, (3, 5, 3))]}


def dot_without_axes() -> dict:
    """A Dot of two LSTMs given no axes, which tfjs builds and saves."""
    return {"inputs": [{"name": "a", "shape": [5, 3]}, {"name": "b", "shape": [5, 3]}],
            "layers": [layer("left", "LSTM", ["a"], units=4),
                       layer("right", "LSTM", ["b"], units=4),
                       layer("merged", "Dot", ["left", "right"])],
            "outputs": ["merged"],
            "data": [rng.normal(0, 1, (3, 5, 3)), rng.normal(0, 1, (3, 5, 3))]}


def text_model() -> dict:
    """Two token inputs, each embedded and read by a Bidirectional LSTM, concatenated."""
    layers = []
    for side in ("q", "d"):
        layers += [layer(f"{side}_embed", "Embedding", [side], inputDim=9, outputDim=4),
                   layer(f"{side}_read", "Bidirectional", [f"{side}_embed"],
                         layer={"className": "LSTM", "config": {"units": 3}})]
    layers += [layer("both", "Concatenate", ["q_read", "d_read"]),
               layer("score", "Dense", ["both"], units=1, activation="sigmoid")]
    return {"inputs": [{"name": "q", "shape": [6], "dtype": "int32"},
                       {"name": "d", "shape": [7], "dtype": "int32"}],
            "layers": layers, "outputs": ["score"],
            "data": [rng.integers(0, 9, (2, 6)), rng.integers(0, 9, (2, 7))]}


def gru_dense() -> dict:
    """tfjs's GRU (reset_after false by default) and a Dense on its last output."""
    return {"inputs": [{"name": "x", "shape": [6, 3]}],
            "layers": [layer("gru", "GRU", ["x"], units=4), layer("head", "Dense", ["gru"],
                                                                  units=2)],
            "outputs": ["head"], "data": [rng.normal(0, 1, (3, 6, 3))]}


@pytest.fixture(scope="module")
def saved(tfjs, tmp_path_factory) -> tuple:
    """Every model built and saved by tfjs in one Node process: (folder, description,
    tfjs's outputs or error) by name."""
    tmp_path = tmp_path_factory.mktemp("tfjs_born")
    models = {"merges": lstm_branches_merged(), "dot_without_axes": dot_without_axes(),
              "two_input_text": text_model(), "gru_dense": gru_dense()}
    for seed, (name, model) in enumerate(models.items()):
        model |= {"folder": str(tmp_path / name), "seed": 100 * seed}
    results = tfjs.save_functional(list(models.values()))
    return {name: (tmp_path / name, model, theirs)
            for (name, model), theirs in zip(models.items(), results, strict=True)}


def test_tfjs_born_functional_models_with_default_arguments_convert_exactly(
        saved, keras3, tf_keras):
    for name, (folder, model, theirs) in saved.items():
        if name == "dot_without_axes":
            continue
        assert not isinstance(theirs, str), f"{name}: tfjs failed: {theirs}"
        inputs = model["data"]
        assert_close(run(load(folder), inputs), theirs, f"reference, {name}")
        for keras, suffix in ((keras3, ".keras"), (tf_keras, ".h5")):
            target = folder.parent / f"{name}{suffix}"
            convert(folder, target)
            again = keras.models.load_model(target, compile=False)
            assert_close(as_list(again.predict(inputs, verbose=0)), theirs,
                         f"{keras.__name__}, {name}{suffix}")


def test_a_tfjs_dot_saved_without_axes_is_refused_naming_the_layer_and_key(saved):
    """tfjs builds a Dot with no axes (and predicts a scalar); Keras has no such Dot."""
    folder, _, _ = saved["dot_without_axes"]
    with pytest.raises(InputError, match=r"layers/4/config/axes: layer 'merged'.*'axes' is req"):
        convert(folder, folder.parent / "dot.keras")
    assert not (folder.parent / "dot.keras").exists()
