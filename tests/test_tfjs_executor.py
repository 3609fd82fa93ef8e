"""TensorFlow.js 4.22's graph executor with its own layers (issue 13, `tfjs_executor`): it keeps
the last mask it handed a layer in the keyword arguments it passes on, so a recurrent layer or
Softmax with no mask in Keras runs on an earlier layer's mask; and it frees a tensor one layer
takes twice ([h, h]) before another layer reads it. Each refused model is written anyway (the
check bypassed) to show tfjs computing otherwise or failing; each allowed neighbour agrees with
Keras 3. All tfjs runs share one Node process.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import randomize

from tfjs_lstm.convert import convert
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.formats import tfjs_executor

TOLERANCE = 1e-5
rng = np.random.default_rng(1313)
IDS = np.array([[3, 1, 0, 0, 0], [2, 6, 4, 1, 5], [0, 0, 7, 1, 8]], np.int32)
X = rng.normal(0, 1, (3, 5, 2)).astype(np.float32)
H = rng.normal(0, 1, (3, 4)).astype(np.float32)


def two_branches(keras, masked_first: bool, merge: str = "Concatenate"):
    """ids -> Embedding(mask_zero) -> LSTM and x -> LSTM (no mask in Keras), merged; tfjs
    computes a merge's last input first."""
    L = keras.layers
    ids, x = keras.Input((5,), dtype="int32", name="ids"), keras.Input((5, 2), name="x")
    masked = L.LSTM(3, name="masked")(L.Embedding(9, 4, mask_zero=True, name="embed")(ids))
    plain = L.LSTM(3, name="plain")(x)
    merged = getattr(L, merge)(name="merge")([masked, plain] if masked_first else [plain, masked])
    return keras.Model([ids, x], L.Dense(2, name="head")(merged))


def softmax_branch(keras):
    """A Softmax over 5 values (no mask in Keras) computed after a masked [batch, 5] branch."""
    L = keras.layers
    ids, x = keras.Input((5,), dtype="int32", name="ids"), keras.Input((5,), name="v")
    masked = L.LSTM(3, name="masked")(L.Embedding(9, 4, mask_zero=True, name="embed")(ids))
    return keras.Model([ids, x], L.Concatenate()([L.Softmax(name="soft")(x), masked]))


def seq2seq(keras, mask_zero: bool):
    """The sequence autoencoder: an encoder LSTM's last output repeated to a decoder LSTM."""
    L = keras.layers
    ids = keras.Input((5,), dtype="int32", name="ids")
    code = L.LSTM(3, name="encoder")(L.Embedding(9, 4, mask_zero=mask_zero, name="embed")(ids))
    decoded = L.LSTM(2, return_sequences=True, name="decoder")(L.RepeatVector(5)(code))
    return keras.Model(ids, L.TimeDistributed(L.Dense(2), name="head")(decoded))


def unmasked_branches(keras):
    """A masked branch computed first (a merge's last input), then unmasked ones into Dense,
    TimeDistributed and GlobalAveragePooling1D, which tfjs computes without a mask."""
    L = keras.layers
    ids, x = keras.Input((5,), dtype="int32", name="ids"), keras.Input((5, 2), name="x")
    masked = L.LSTM(3, name="masked")(L.Embedding(9, 4, mask_zero=True, name="embed")(ids))
    dense = L.Dense(3, name="dense")(L.Flatten()(x))
    pooled = L.GlobalAveragePooling1D(name="pool")(L.TimeDistributed(L.Dense(3))(x))
    return keras.Model([ids, x], L.Concatenate(name="cat")([dense, pooled, masked]))


def sequential_seq2seq(keras):
    """The sequence autoencoder as a Sequential model (tfjs runs it through the same executor)."""
    L = keras.layers
    return keras.Sequential([keras.Input((5,), dtype="int32"), L.Embedding(9, 4, mask_zero=True),
                             L.LSTM(3), L.RepeatVector(5),
                             L.LSTM(2, return_sequences=True, name="decoder")])


def read_twice(keras, merge: str, outputs: str):
    """h taken twice by a merge and read by another Dense; `outputs` orders the fetches
    ("merge_first", "other_first") or makes h itself an output ("h_out")."""
    L = keras.layers
    x = keras.Input((4,), name="x")
    h = L.Dense(3, name="h")(x)
    both = getattr(L, merge)(name="twice")([h, h])
    other = L.Dense(2, name="other")(h)
    fetches = {"merge_first": [both, other], "other_first": [other, both],
               "h_out": [both, h]}[outputs]
    return keras.Model(x, fetches)


REFUSED = {  # name -> (build, inputs, layer named, key)
    "plain_lstm_after_masked_branch": (lambda k: two_branches(k, False), [IDS, X], "plain",
                                       "mask"),
    "plain_lstm_after_masked_branch_add": (lambda k: two_branches(k, False, "Add"), [IDS, X],
                                           "plain", "mask"),
    "softmax_after_masked_branch": (softmax_branch, [IDS, X[:, :, 0]], "soft", "mask"),
    "decoder_after_repeat_vector": (lambda k: seq2seq(k, True), [IDS], "decoder", "mask"),
    "sequential_decoder": (sequential_seq2seq, [IDS], "decoder", "mask"),
    "add_h_h_before_other_reader": (lambda k: read_twice(k, "Add", "merge_first"), [H],
                                    "twice", "inputs"),
    "multiply_h_h_before_other_reader": (lambda k: read_twice(k, "Multiply", "merge_first"),
                                         [H], "twice", "inputs"),
}
ALLOWED = {
    "plain_lstm_before_masked_branch": (lambda k: two_branches(k, True), [IDS, X]),
    "seq2seq_without_mask": (lambda k: seq2seq(k, False), [IDS]),
    "unmasked_branches": (unmasked_branches, [IDS, X]),
    "add_h_h_after_other_reader": (lambda k: read_twice(k, "Add", "other_first"),
                                   [H]),
    "add_h_h_with_h_an_output": (lambda k: read_twice(k, "Add", "h_out"),
                                 [H]),
}


@pytest.fixture(scope="module")
def runs(keras3, tfjs, tmp_path_factory):
    """Keras 3's outputs, the refusals, and tfjs's outputs (or error) for every model, the
    refused ones written with the executor check bypassed."""
    tmp = tmp_path_factory.mktemp("executor")
    expected, refusals, cases = {}, {}, []
    for name, (build, inputs, *_) in {**REFUSED, **ALLOWED}.items():
        model = randomize(build(keras3), rng)
        model.save(tmp / f"{name}.keras")
        out = model(inputs if len(inputs) > 1 else inputs[0], training=False)
        expected[name] = [np.asarray(o) for o in (out if isinstance(out, list) else [out])]
        if name in REFUSED:
            with pytest.raises(NotExpressibleError) as caught:
                convert(tmp / f"{name}.keras", tmp / name)
            refusals[name] = caught.value.problems
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(tfjs_executor, "stale_masks", lambda model: {})
                patch.setattr(tfjs_executor, "freed_problems", lambda model, dialect: [])
                convert(tmp / f"{name}.keras", tmp / name)
        else:
            convert(tmp / f"{name}.keras", tmp / name)
        cases.append((tmp / name, inputs))
    replies = tfjs.predict_folders(cases)
    return {"expected": expected, "refusals": refusals, "folders": dict(zip(
        [*REFUSED, *ALLOWED], [case[0] for case in cases], strict=True)),
            "tfjs": dict(zip([*REFUSED, *ALLOWED], replies, strict=True))}


@pytest.mark.parametrize("name", REFUSED)
def test_tfjs_computes_otherwise_or_fails_and_the_converter_refuses_naming_the_layer(runs,
                                                                                      name):
    got, expected = runs["tfjs"][name], runs["expected"][name]
    if isinstance(got, str):  # tfjs reads the freed tensor
        assert "Cannot read properties of undefined (reading 'backend')" in got
    else:
        assert max(np.abs(g - e).max() for g, e in zip(got, expected, strict=True)) > 1e-3
    layer, key = REFUSED[name][2:]
    assert [(p.layer, p.key) for p in runs["refusals"][name]] == [(layer, key)]
    assert "TensorFlow.js 4.22's predict" in runs["refusals"][name][0].reason


@pytest.mark.parametrize("name", ALLOWED)
def test_the_allowed_neighbour_converts_and_agrees_with_keras(runs, name):
    got = runs["tfjs"][name]
    assert not isinstance(got, str), got
    for g, e in zip(got, runs["expected"][name], strict=True):
        assert np.abs(g - e).max() < TOLERANCE


def test_reading_back_a_stale_mask_folder_is_refused_naming_the_layer(runs):
    folder = runs["folders"]["decoder_after_repeat_vector"]
    with pytest.raises(NotExpressibleError) as caught:
        convert(folder, folder.with_suffix(".back.keras"))
    assert [(p.layer, p.key) for p in caught.value.problems] == [("decoder", "mask")]
