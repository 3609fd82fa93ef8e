"""Layers that hold layers: nested models (a Sequential or functional model used as a layer)
and RNN over StackedRNNCells, read from the files Keras 3, tf-keras and TensorFlow.js 4.22
write, run, summarized and converted to every format, judged by those runtimes within 1e-5
(one Node process for the module).

tfjs-lstm inlines a nested model's layers, and reads a stack of cells as the chain of
single-cell RNN layers it computes: the same functions, which every format can hold, so each
writer writes them flat. The masks made inside a nested model reach the layers after it, and
a mask reaches every cell of a stack, as in each runtime.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from outputs import assert_close

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError, NotExpressibleError
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.summary import counts, render_keras2, render_keras3, render_tfjs
from tfjs_lstm.validate import validate_file

TOKENS = np.array([[0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 2, 0, 0, 0, 0],
                   [1, 2, 3, 0, 0, 0], [4, 9, 2, 7, 5, 0]], np.int32)
# recurrent_test.ts 'StackedRNNCells Tensor' / 'Forward pass' input.
STEPS = np.array([[[0.1, -0.1, 0.2, -0.2], [-0.1, 0.1, -0.2, 0.2], [0.1, 0.1, -0.2, -0.2]],
                  [[0.05, -0.05, 0.1, -0.1], [-0.05, 0.05, -0.1, 0.1], [0, 0, 0, 0]]],
                 np.float32)
# Written by tests/runtime_files/make_tfjs_files.mjs with tfjs 4.22's model.save().
RUNTIME_FILES = Path(__file__).parent / "runtime_files"
TFJS_FILES = {"nested": RUNTIME_FILES / "tfjs-recurrent_test-nested-model",
              "stacked": RUNTIME_FILES / "tfjs-recurrent_test-stacked-rnn-cells"}
SOURCES = ("keras3", "tf_keras", "tfjs")
TARGETS = {"keras3": "keras3.keras", "tf_keras": "tf_keras.h5", "tfjs": "tfjs"}
CASES = [(case, source) for case in TFJS_FILES for source in SOURCES]


def build_nested(K):
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


def build_stacked(K):
    """RNN over [LSTMCell, GRUCell, SimpleRNNCell] after Masking: the mask reaches each cell."""
    cells = [K.layers.LSTMCell(4), K.layers.GRUCell(3, reset_after=False),
             K.layers.SimpleRNNCell(2)]
    return K.Sequential([K.Input((3, 4)), K.layers.Masking(0.0),
                         K.layers.RNN(cells, return_sequences=True)])


BUILDS = {"nested": (build_nested, TOKENS), "stacked": (build_stacked, STEPS)}


def outputs(model, x: np.ndarray) -> list[np.ndarray]:
    """A Keras model's outputs, called eagerly (predict's graph tracing costs seconds)."""
    result = model(x, training=False)
    return [np.asarray(r) for r in (result if isinstance(result, (list, tuple)) else [result])]


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
def files(keras3, tf_keras, tfjs, tmp_path_factory):
    """Each (case, source) file, its own runtime's outputs, every runtime's outputs on each
    conversion (keyed (case, source, target)), and the Keras models."""
    root = tmp_path_factory.mktemp("nested")
    rng = np.random.default_rng(5)
    sources, own, models = {}, {}, {}
    for case, (build, x) in BUILDS.items():
        for name, module in (("keras3", keras3), ("tf_keras", tf_keras)):
            models[(case, name)] = seeded(build(module), rng)
            sources[(case, name)] = root / f"{case}-{TARGETS[name]}"
            models[(case, name)].save(sources[(case, name)])
            own[(case, name)] = outputs(models[(case, name)], x)
        sources[(case, "tfjs")] = TFJS_FILES[case]
    for (case, name), source in sources.items():
        for target, file in TARGETS.items():
            if target != name:
                convert(source, root / f"{case}-{name}-to-{file}")
    folders = [((case, "tfjs"), sources[(case, "tfjs")]) for case in BUILDS]
    folders += [((case, name, "tfjs"), root / f"{case}-{name}-to-tfjs")
                for case in BUILDS for name in ("keras3", "tf_keras")]
    results = tfjs.predict_folders([(folder, [BUILDS[key[0]][1]]) for key, folder in folders])
    converted = {}
    for (key, _), result in zip(folders, results, strict=True):
        (own if len(key) == 2 else converted)[key] = result
    for case, source in CASES:
        for target, module in (("keras3", keras3), ("tf_keras", tf_keras)):
            if source != target:
                loaded = module.models.load_model(
                    root / f"{case}-{source}-to-{TARGETS[target]}", compile=False)
                converted[(case, source, target)] = outputs(loaded, BUILDS[case][1])
    return sources, own, converted, models


def test_tfjs_nested_model_file_gives_the_numbers_of_tfjs_recurrent_test(files):
    """tensorflow/tfjs tfjs-v4.22.0, tfjs-layers/src/layers/recurrent_test.ts,
    'With mask and a nested model': its expected outputs, from the file tfjs wrote."""
    sources, own, _, _ = files
    expected = [np.array([[0], [2.283937], [2.891939], [2.9851441]], np.float32)]
    got = run(load(sources[("nested", "tfjs")]), [TOKENS[:4]])
    assert_close(got, expected, "reference runtime")
    assert_close([own[("nested", "tfjs")][0][:4]], expected, "tfjs itself")


def test_tfjs_stacked_rnn_cells_file_gives_the_numbers_of_tfjs_recurrent_test(files):
    """tensorflow/tfjs tfjs-v4.22.0, tfjs-layers/src/layers/recurrent_test.ts,
    'StackedRNNCells Tensor' / 'Forward pass' (SimpleRNNCell, GRUCell, LSTMCell; ones)."""
    x = STEPS.copy()
    x[1, 2] = [0.05, 0.05, -0.1, -0.1]  # the test's own last step
    expected = [np.array([[-0.07715216], [-0.05906887]], np.float32)]
    assert_close(run(load(files[0][("stacked", "tfjs")]), [x]), expected, "reference runtime")


@pytest.mark.parametrize("case", TFJS_FILES)
def test_files_tfjs_wrote_validate(case):
    report = validate_file(TFJS_FILES[case] / "model.json")
    assert report.ok, report.findings


@pytest.mark.parametrize(("case", "source"), CASES)
def test_file_runs_as_the_runtime_that_wrote_it(files, case, source):
    sources, own, _, _ = files
    assert not isinstance(own[(case, source)], str), own[(case, source)]
    assert_close(run(load(sources[(case, source)]), [BUILDS[case][1]]), own[(case, source)],
                 f"{case} from {source}")


@pytest.mark.parametrize(("case", "source"), CASES)
def test_converts_to_every_format_computing_the_same(files, case, source):
    _, own, converted, _ = files
    for target in TARGETS:
        if target != source:
            outputs = converted[(case, source, target)]
            assert not isinstance(outputs, str), f"{case}: {source} -> {target}: {outputs}"
            assert_close(outputs, own[(case, source)], f"{case}: {source} -> {target}")


@pytest.mark.parametrize(("case", "source"), [c for c in CASES if c[1] != "tfjs"])
def test_summary_shows_one_row_per_nested_model_as_keras_does(files, case, source,
                                                              monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # Keras sizes its table from the terminal
    sources, _, _, models = files
    model = load(sources[(case, source)])
    assert sum(counts(model)) == models[(case, source)].count_params()
    lines: list[str] = []
    models[(case, source)].summary(print_fn=lambda line, **_: lines.append(line))
    render = render_keras3 if source == "keras3" else render_keras2
    assert render(model) == "\n".join(lines).rstrip("\n" if source == "keras3" else "")


def test_summary_of_the_files_tfjs_wrote_is_tfjs_own(tfjs):
    folders = list(TFJS_FILES.values())
    for folder, theirs in zip(folders, tfjs.summaries(folders), strict=True):
        assert render_tfjs(load(folder)) == theirs, folder.name


def test_stacked_cells_returning_their_states_are_refused_naming_the_layer(keras3, tmp_path):
    cells = [keras3.layers.LSTMCell(2), keras3.layers.GRUCell(2)]
    x = keras3.Input((3, 4))
    model = keras3.Model(x, keras3.layers.RNN(cells, return_state=True, name="stack")(x))
    model.save(tmp_path / "states.keras")
    with pytest.raises(NotExpressibleError, match="'stack'.*return_state"):
        load(tmp_path / "states.keras")


def test_a_layer_named_like_one_in_a_nested_model_is_refused(keras3, tmp_path):
    inner = keras3.Sequential([keras3.Input((3,)), keras3.layers.Dense(2, name="dense")])
    x = keras3.Input((3,))
    model = keras3.Model(x, keras3.layers.Dense(1, name="dense_1")(inner(x)))
    model.layers[-1].name = "dense"  # the clash a hand-edited or merged file can hold
    model.save(tmp_path / "clash.keras")
    with pytest.raises(InputError, match="nested model '.*' has a layer named 'dense'"):
        load(tmp_path / "clash.keras")


def test_a_nested_models_call_settings_survive_inlining(keras3, tmp_path):
    """A causal Attention inside a nested model keeps its use_causal_mask call argument when
    the nested model's layers are inlined: Keras 3 judges the .keras file and its .h5."""
    K = keras3
    steps = K.Input((5, 3))
    causal = K.layers.Attention(name="att")([steps, steps], use_causal_mask=True)
    inner = K.Model(steps, causal, name="inner")
    x = K.Input((5, 3))
    outer = K.Model(x, K.layers.Dense(2, name="out")(inner(x)), name="outer")
    source = tmp_path / "nested-causal.keras"
    outer.save(source)
    inputs = np.random.default_rng(3).normal(size=(2, 5, 3)).astype(np.float32)
    expected = outer.predict(inputs, verbose=0)
    assert_close(run(load(source), [inputs]), [expected], "reference runtime")
    convert(source, tmp_path / "flat.keras")
    flat = K.saving.load_model(tmp_path / "flat.keras")
    assert_close([flat.predict(inputs, verbose=0)], [expected], "Keras 3 on the flat .keras")
