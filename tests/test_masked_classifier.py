"""The masked Bidirectional text classifier (issue 13): Embedding(mask_zero=True), then
Bidirectional(LSTM returning sequences) in each merge mode, then TimeDistributed(Dense) or a
second LSTM.

Keras forces zero_output_for_mask inside Bidirectional; tfjs repeats each direction's previous
output at padded steps. Those values stay masked to the output, so the model converts for
vanilla tfjs and agrees with Keras 3 where the output mask keeps; with `--companion` the
package's TfjsLstmBidirectional zeroes them as Keras does and tfjs agrees everywhere. Where a
padded step's value reaches an unmasked output the converter refuses, naming the layer.
All tfjs runs share two Node processes (predicting with the package, loading without it).
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import randomize

from tfjs_lstm.cli import main
from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.golden import compare
from tfjs_lstm.runtime.engine import output_masks, run
from tfjs_lstm.testing import assert_same_outputs

TOLERANCE = 1e-5
MERGE_MODES = ("concat", "sum", "mul", "ave")
rng = np.random.default_rng(1313)
# Trailing padding of different lengths, leading padding (pad_sequences' default), a padding
# token inside a row (only there do both directions of tfjs repeat a nonzero output, which
# merge_mode="mul" shows) and a row with no padding at all.
IDS = np.array([[3, 1, 0, 4, 1, 5, 0], [2, 6, 0, 0, 0, 0, 0], [0, 0, 0, 7, 1, 8, 2],
                [7, 1, 8, 2, 8, 1, 8]], np.int32)
KEPT = IDS != 0


def classifiers(keras):
    """Every merge mode, each followed by TimeDistributed(Dense) and by a second LSTM, as the
    outputs of one model (one file, one load per runtime)."""
    L = keras.layers
    ids = keras.Input((IDS.shape[1],), dtype="int32", name="ids")
    embedded = L.Embedding(9, 4, mask_zero=True, name="embed")(ids)
    outputs = []
    for mode in MERGE_MODES:
        both = L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=mode,
                               name=f"bidi_{mode}")(embedded)
        outputs += [L.TimeDistributed(L.Dense(2), name=f"dense_{mode}")(both),
                    L.LSTM(2, return_sequences=True, name=f"lstm_{mode}")(both)]
    return keras.Model(ids, outputs, name="classifiers")


def wrapper_options(keras):
    """The zeroing wrapper with what the built-in one handles: merge_mode None (two sequences,
    the backward one run with go_backwards), return_state and a stateful copy (batch fixed).
    Keras 3.15 cannot reload a Bidirectional whose wrapped layer has go_backwards=True (both
    copies come back going backwards). Initial states are in test_masked_initial_states.py
    (with a mask, Keras 3 runs the layer over padded steps)."""
    L = keras.layers
    ids = keras.Input(batch_shape=IDS.shape, dtype="int32", name="ids")
    embedded = L.Embedding(9, 4, mask_zero=True, name="embed")(ids)
    states = L.Bidirectional(L.LSTM(2, return_sequences=True, return_state=True),
                             merge_mode=None, name="bidi_states")(embedded)
    stateful = L.Bidirectional(L.LSTM(2, return_sequences=True, stateful=True),
                               name="bidi_stateful")(embedded)
    return keras.Model(ids, [*states, stateful], name="options")


NAMES = [f"{head}_{mode}" for mode in MERGE_MODES for head in ("dense", "lstm")]
OPTIONS = ["forward", "backward", "h_forward", "c_forward", "h_backward", "c_backward",
           "stateful"]


@pytest.fixture(scope="module")
def runs(keras3, tfjs, tmp_path_factory):
    """Keras 3's outputs and masks, tfjs's outputs from the vanilla and the companion folder,
    the folders and the source file."""
    tmp = tmp_path_factory.mktemp("classifier")
    model = randomize(classifiers(keras3), rng)
    model.save(tmp / "classifiers.keras")
    plain, zeroing = tmp / "plain", tmp / "companion"
    convert(tmp / "classifiers.keras", plain)
    convert(tmp / "classifiers.keras", zeroing, companion=True)
    out = model(IDS, training=False)
    expected = [np.asarray(o) for o in out]
    masks = [np.asarray(o._keras_mask) for o in out]
    options = randomize(wrapper_options(keras3), rng)
    options.save(tmp / "options.keras")
    convert(tmp / "options.keras", tmp / "options", companion=True)
    twice = [np.asarray(o) for _ in range(2) for o in options(IDS, training=False)]
    # One process: the package only registers classes of its own, the vanilla folder uses none.
    ours, theirs, both = tfjs.predict_folders(
        [(plain, [IDS]), (zeroing, [IDS]), (tmp / "options", [IDS])], calls=[1, 1, 2],
        companion=True)
    return {"expected": expected, "masks": masks, "plain": ours, "companion": theirs,
            "folders": (plain, zeroing), "source": tmp / "classifiers.keras",
            "options": (twice, both)}


@pytest.mark.parametrize("index", range(len(NAMES)), ids=NAMES)
def test_vanilla_tfjs_agrees_with_keras_where_the_output_mask_keeps(runs, index):
    expected, plain = runs["expected"][index], runs["plain"]
    assert not isinstance(plain, str), plain
    assert np.array_equal(runs["masks"][index], KEPT)
    assert np.abs(plain[index] - expected)[KEPT].max() < TOLERANCE
    if NAMES[index].startswith("dense"):
        # Keras writes zeros at padded steps, tfjs repeats the previous output: the Dense
        # head shows it; a second LSTM repeats its own previous output in both runtimes.
        assert np.abs(plain[index] - expected)[~KEPT].max() > 1e-3


@pytest.mark.parametrize("index", range(len(NAMES)), ids=NAMES)
def test_with_the_companion_tfjs_agrees_with_keras_on_every_position(runs, index):
    zeroing = runs["companion"]
    assert not isinstance(zeroing, str), zeroing
    assert np.abs(zeroing[index] - runs["expected"][index]).max() < TOLERANCE


@pytest.mark.parametrize("index", range(2 * len(OPTIONS)),
                         ids=[f"{name}_call{call}" for call in (1, 2) for name in OPTIONS])
def test_the_zeroing_wrapper_handles_states_and_stateful_calls_like_keras(runs,
                                                                                     index):
    expected, theirs = runs["options"]
    assert not isinstance(theirs, str), theirs
    assert np.abs(theirs[index] - expected[index]).max() < TOLERANCE


def test_without_the_package_tfjs_cannot_load_the_companion_folder(runs, tfjs):
    [reply] = tfjs.load([runs["folders"][1]])
    assert "Unknown layer: TfjsLstmBidirectional." in reply["error"]


def test_the_companion_folder_reads_back_as_keras_and_converts_back_exactly(runs, keras3,
                                                                           tmp_path):
    model = load(runs["folders"][1])
    assert all(model.layers[f"bidi_{mode}"].layer.zero_output_for_mask for mode in MERGE_MODES)
    for mine, theirs in zip(run(model, [IDS]), runs["expected"], strict=True):
        assert np.abs(mine - theirs).max() < TOLERANCE, "reference runtime"
    convert(runs["folders"][1], tmp_path / "back.keras")
    again = keras3.models.load_model(tmp_path / "back.keras")
    for mine, theirs in zip(again(IDS, training=False), runs["expected"], strict=True):
        assert np.abs(np.asarray(mine) - theirs).max() < TOLERANCE, "Keras 3"


def test_the_vanilla_folder_converts_back_to_the_same_keras_model(runs, keras3, tmp_path):
    """tfjs's Bidirectional read back is Keras's (Keras forces the zeros again): exact."""
    convert(runs["folders"][0], tmp_path / "back.keras")
    again = keras3.models.load_model(tmp_path / "back.keras")
    for mine, theirs in zip(again(IDS, training=False), runs["expected"], strict=True):
        assert np.abs(np.asarray(mine) - theirs).max() < TOLERANCE


def test_check_and_assert_same_outputs_skip_the_masked_positions_and_say_so(runs, capsys,
                                                                            tmp_path):
    padded = len(NAMES) * int((~KEPT).sum())
    row = assert_same_outputs(load(runs["source"]), load(runs["folders"][0]), [IDS])
    assert row.skipped == padded and f"{padded} of {len(NAMES) * KEPT.size} positions" \
        in row.note
    assert main(["convert", str(runs["source"]), str(tmp_path / "web"), "--check"]) == 0
    assert "positions skipped: the output mask marks them padding" in capsys.readouterr().out
    masks = output_masks(load(runs["folders"][0]), [IDS])
    assert all(np.array_equal(mask, KEPT) for mask in masks)
    unmasked = compare("c", "p", runs["plain"], runs["expected"], TOLERANCE, IDS.shape[1])
    assert unmasked.status == "FAIL" and unmasked.skipped == 0


def test_assert_same_outputs_takes_the_mask_from_a_keras_model(keras3):
    """Two Keras models that differ only in the padding token's embedding: their outputs
    differ only where the mask drops, so they are the same model."""
    L = keras3.layers
    models = [randomize(keras3.Sequential([
        keras3.Input((IDS.shape[1],), dtype="int32"), L.Embedding(9, 3, mask_zero=True),
        L.Dense(2)]), np.random.default_rng(5)) for _ in range(2)]
    table, bias = models[1].layers[0].get_weights()[0], models[1].layers[1].get_weights()
    models[1].layers[0].set_weights([np.concatenate([table[:1] + 1.0, table[1:]])])
    models[1].layers[1].set_weights(bias)
    row = assert_same_outputs(models[0], models[1], [IDS])
    assert row.skipped == int((~KEPT).sum()) and row.max_abs < TOLERANCE
    padded = [np.asarray(model(IDS, training=False))[~KEPT] for model in models]
    assert np.abs(padded[0] - padded[1]).max() > 0.1


def test_compare_fails_on_a_kept_position_and_ignores_masked_ones():
    a = rng.normal(0, 1, (2, 3, 2)).astype(np.float32)
    b = a.copy()
    b[0, 2] += 1.0  # masked
    mask = np.array([[True, True, False], [True, True, True]])
    row = compare("c", "p", [a], [b], TOLERANCE, 3, [mask])
    assert (row.status, row.skipped, row.max_abs) == ("pass", 1, 0.0)
    b[1, 2] += 1e-3  # kept
    row = compare("c", "p", [a], [b], TOLERANCE, 3, [mask])
    assert row.status == "FAIL" and row.worst_step == 2


@pytest.mark.parametrize("tail, culprit", [
    ("flatten", "'flatten' (Flatten) drops the mask"),
    ("max", "'pool' (GlobalMaxPooling1D) drops the mask"),
    ("masking", "'remask' (Masking) computes a new mask"),
    ("norm", "'norm' (LayerNormalization) mixes them"),
])
def test_a_padded_steps_value_reaching_an_unmasked_output_is_refused_naming_the_layer(
        keras3, tmp_path, tail, culprit):
    L = keras3.layers
    after = {"flatten": [L.Flatten(name="flatten"), L.Dense(2)],
             "max": [L.GlobalMaxPooling1D(name="pool")],
             "masking": [L.Masking(name="remask"), L.LSTM(2)],
             "norm": [L.LayerNormalization(axis=(1, 2), name="norm")]}[tail]
    model = keras3.Sequential([
        keras3.Input((IDS.shape[1],), dtype="int32"), L.Embedding(9, 4, mask_zero=True),
        L.Bidirectional(L.LSTM(3, return_sequences=True), name="bidi"), *after])
    model.save(tmp_path / "m.keras")
    with pytest.raises(NotExpressibleError) as caught:
        convert(tmp_path / "m.keras", tmp_path / "out")
    [problem] = caught.value.problems
    assert problem.layer.startswith("bidi/") and culprit in problem.reason
    assert "--companion" in problem.reason
    convert(tmp_path / "m.keras", tmp_path / "zeroing", companion=True)
    assert not (tmp_path / "out").exists()



def test_a_masked_bidirectional_whose_direction_comes_back_reversed_is_refused_for_tfjs(
        tf_keras, tfjs, tmp_path, monkeypatch):
    """With go_backwards=True on the wrapped layer, Keras returns both directions' sequences
    reversed: the zeros of masked steps land at kept positions, where tfjs repeats outputs (and
    the companion class would zero the unreversed steps). Refused either way; written anyway,
    tfjs computes other numbers there; the reference runtime agrees with tf-keras."""
    L = tf_keras.layers
    model = randomize(tf_keras.Sequential([
        tf_keras.Input((IDS.shape[1],), dtype="int32"), L.Embedding(9, 4, mask_zero=True),
        L.Bidirectional(L.LSTM(3, go_backwards=True, return_sequences=True), name="bidi")]),
        rng)
    model.save(tmp_path / "m.h5")
    out = model(IDS, training=False)
    expected, kept = np.asarray(out), np.asarray(out._keras_mask)
    for companion in (False, True):
        with pytest.raises(NotExpressibleError) as caught:
            convert(tmp_path / "m.h5", tmp_path / "out", companion=companion)
        assert [(p.layer, p.key) for p in caught.value.problems] == [("bidi", "mask")]
        assert "reversed" in caught.value.problems[0].reason
        assert not (tmp_path / "out").exists()
    np.testing.assert_allclose(run(load(tmp_path / "m.h5"), [IDS])[0][kept], expected[kept],
                               atol=TOLERANCE)
    monkeypatch.setattr("tfjs_lstm.formats.refusals.mask_problems", lambda model, dialect: [])
    convert(tmp_path / "m.h5", tmp_path / "anyway")
    [[predicted]] = tfjs.predict_folders([(tmp_path / "anyway", [IDS])])
    assert np.abs(predicted - expected)[kept].max() > 1e-2
