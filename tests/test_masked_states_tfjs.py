"""Which masked models with initial states TensorFlow.js 4.22 can predict (issue 13).

tfjs's `execute` shares one kwargs object between layers once a mask has appeared, and
`RNN.apply`/`Bidirectional.apply` leave a call's initial states in it: the next recurrent
call tfjs runs (in its depth-first order from each output, a layer once per tensor it needs)
throws. Everything else converts and agrees with tf-keras where the output mask keeps; each
refused model really throws in tfjs once the refusal is lifted. All tfjs runs share one Node
process.
"""

from __future__ import annotations

import numpy as np
import pytest
from outputs import randomize

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import NotExpressibleError
from tfjs_lstm.formats import refusals, tfjs_executor
from tfjs_lstm.runtime.engine import run

TOLERANCE = 1e-5
rng = np.random.default_rng(1341)
IDS = np.array([[3, 1, 0, 4, 1, 0], [2, 6, 0, 0, 0, 0], [0, 0, 7, 1, 8, 2],
                [7, 1, 8, 2, 8, 1]], np.int32)
DECODED = np.array([[5, 2, 2, 0, 0, 0], [1, 0, 3, 0, 0, 0], [4, 4, 4, 4, 4, 4],
                    [0, 0, 0, 0, 6, 1]], np.int32)


def seq2seq(keras, decoder_state: bool = False):
    """The encoder-decoder people train: masked encoder LSTM's states start a masked decoder
    LSTM; `decoder_state` also returns the decoder's states (an inference decoder)."""
    L = keras.layers
    source = keras.Input((6,), dtype="int32", name="source")
    target = keras.Input((6,), dtype="int32", name="target")
    _, h, c = L.LSTM(4, return_state=True, name="encoder")(
        L.Embedding(9, 3, mask_zero=True, name="source_embed")(source))
    decoded = L.LSTM(4, return_sequences=True, return_state=decoder_state, name="decoder")(
        L.Embedding(9, 3, mask_zero=True, name="target_embed")(target), initial_state=[h, c])
    if decoder_state:
        return keras.Model([source, target], decoded)
    return keras.Model([source, target], L.TimeDistributed(L.Dense(5), name="dense")(decoded))


def stated(keras, layer, count: int, masking: bool = False, after: str | None = None,
           other: str | None = None):
    """`layer` called with `count` initial states from Input layers on a masked sequence,
    then `after` ("dense" or "lstm"); `other` ("first" or "last") adds a masked LSTM on another
    input as the model's first or last output."""
    L = keras.layers
    if masking:
        x = keras.Input((6, 2), name="x")
        inputs, sequence = [x], L.Masking(name="masking")(x)
    else:
        x = keras.Input((6,), dtype="int32", name="x")
        inputs, sequence = [x], L.Embedding(9, 2, mask_zero=True, name="embed")(x)
    states = [keras.Input((3,), name=f"s{i}") for i in range(count)]
    y = layer(sequence, initial_state=states)
    if after == "dense":
        y = L.Dense(2, name="after")(y)
    elif after == "lstm":
        y = L.LSTM(2, return_sequences=True, name="after")(y)
    outputs = [y]
    if other:
        z = keras.Input((6,), dtype="int32", name="z")
        inputs.append(z)
        lstm = L.LSTM(2, name="other")(L.Embedding(9, 2, mask_zero=True, name="z_embed")(z))
        outputs = [lstm, y] if other == "first" else [y, lstm]
    return keras.Model(inputs + states, outputs)


def stale(keras, decoder: bool):
    """A recurrent call whose input carries no mask, run after a masked one: a masked
    encoder's last output repeated into an LSTM (`decoder` False), or a masked encoder's
    states starting an LSTM over unmasked float steps."""
    L = keras.layers
    ids = keras.Input((6,), dtype="int32", name="x")
    encoded = L.Embedding(9, 3, mask_zero=True, name="embed")(ids)
    if not decoder:
        repeated = L.RepeatVector(6, name="repeat")(L.LSTM(3, name="encoder")(encoded))
        return keras.Model(ids, L.LSTM(2, return_sequences=True, name="stated")(repeated))
    _, h, c = L.LSTM(3, return_state=True, name="encoder")(encoded)
    steps = keras.Input((6, 2), name="steps")
    return keras.Model([ids, steps], L.LSTM(3, return_sequences=True, name="stated")(
        steps, initial_state=[h, c]))


def models(keras):
    """name -> (tf-keras model, whether tfjs 4.22 throws on it, or "differs" from tf-keras,
    or hands a layer a "stale" mask)."""
    L = keras.layers
    return {
        "seq2seq": (seq2seq(keras), False),
        "bidi_gru_then_dense": (stated(keras, L.Bidirectional(L.GRU(
            3, reset_after=False), merge_mode="ave", name="stated"), 2, after="dense"), False),
        "backwards_gru_on_masking": (stated(keras, L.GRU(
            3, go_backwards=True, reset_after=False, name="stated"), 1, masking=True), False),
        "backwards_sequences": (stated(keras, L.SimpleRNN(
            3, go_backwards=True, return_sequences=True, name="stated"), 1), "differs"),
        "other_lstm_first": (stated(keras, L.LSTM(3, return_sequences=True, name="stated"), 2,
                                    other="first"), False),
        "other_lstm_last": (stated(keras, L.LSTM(3, return_sequences=True, name="stated"), 2,
                                   other="last"), True),
        "gru_then_lstm": (stated(keras, L.GRU(3, return_sequences=True, reset_after=False,
                                              name="stated"), 1, after="lstm"), True),
        "seq2seq_inference_decoder": (seq2seq(keras, decoder_state=True), True),
        "repeated_encoding": (stale(keras, decoder=False), "stale"),
        "float_decoder": (stale(keras, decoder=True), "stale"),
    }


def inputs_for(model) -> list[np.ndarray]:
    fed = []
    for tensor in model.inputs:
        name = tensor.name.split(":")[0]
        if name == "target":
            fed.append(DECODED)
        elif tensor.dtype == "int32":
            fed.append(IDS)
        elif name == "steps":
            fed.append(rng.normal(0, 1, (4, 6, 2)).astype(np.float32))
        elif len(tensor.shape) == 3:  # Masking's input: zero rows where IDS pads
            fed.append(rng.normal(0, 1, (4, 6, 2)).astype(np.float32) * (IDS != 0)[..., None])
        else:
            fed.append(rng.normal(0, 1, (4, tensor.shape[1])).astype(np.float32))
    return fed


@pytest.fixture(scope="module")
def runs(tf_keras, tfjs, tmp_path_factory):
    """Each model saved by tf-keras with its outputs and output masks; the ones tfjs can run
    converted as usual, the refused ones converted with the refusal lifted, and all predicted
    in one Node process."""
    tmp = tmp_path_factory.mktemp("stated_tfjs")
    found, cases = {}, []
    for name, (model, throws) in models(tf_keras).items():
        randomize(model, rng)
        inputs = inputs_for(model)
        out = model(inputs, training=False)
        out = out if isinstance(out, (list, tuple)) else [out]
        masks = [getattr(o, "_keras_mask", None) for o in out]
        source = tmp / f"{name}.h5"
        model.save(source)
        found[name] = (source, inputs, [np.asarray(o) for o in out],
                       [None if m is None else np.asarray(m) for m in masks], throws)
        cases.append((tmp / name, inputs))
    for name, (source, *_, throws) in found.items():
        if not throws:
            convert(source, tmp / name)
    lifted = refusals.state_problems
    refusals.state_problems = lambda model, dialect: []
    try:
        for name, (source, *_, throws) in found.items():
            if throws:
                convert(source, tmp / name)
    finally:
        refusals.state_problems = lifted
    predicted = tfjs.predict_folders(cases)
    return {name: (*found[name], js) for name, js in zip(found, predicted, strict=True)}


CONVERTING = ["seq2seq", "bidi_gru_then_dense", "backwards_gru_on_masking", "other_lstm_first"]
THROWING = ["other_lstm_last", "gru_then_lstm", "seq2seq_inference_decoder"]


def kept_gap(mine: np.ndarray, theirs: np.ndarray, mask: np.ndarray | None) -> float:
    """Largest difference where the output mask keeps (everywhere without one)."""
    gap = np.abs(mine - theirs)
    return float(gap[mask].max() if mask is not None else gap.max())


@pytest.mark.parametrize("name", CONVERTING)
def test_tfjs_and_the_reference_runtime_agree_with_tf_keras_where_the_mask_keeps(runs, name):
    source, inputs, expected, masks, _, js = runs[name]
    assert not isinstance(js, str), js
    mine = run(load(source), inputs)
    for index, (theirs, mask) in enumerate(zip(expected, masks, strict=True)):
        assert kept_gap(js[index], theirs, mask) < TOLERANCE, (name, index)
        assert kept_gap(mine[index], theirs, mask) < TOLERANCE, (name, index)


@pytest.mark.parametrize("name", [*THROWING, "backwards_sequences"])
def test_a_call_tfjs_cannot_run_with_initial_states_is_refused_naming_it(runs, name,
                                                                        tmp_path):
    with pytest.raises(NotExpressibleError) as caught:
        convert(runs[name][0], tmp_path / "refused")
    [problem] = caught.value.problems
    expected = "decoder" if name.startswith("seq2seq") else "stated"
    assert (problem.layer, problem.key) == (expected, "initial_state")
    why = tfjs_executor.TFJS_ERROR if name in THROWING else tfjs_executor.BACKWARDS
    assert why in problem.reason
    assert not (tmp_path / "refused").exists()


@pytest.mark.parametrize("name", THROWING)
def test_each_refused_model_really_throws_in_tfjs_with_that_error(runs, name):
    js = runs[name][-1]
    assert isinstance(js, str) and tfjs_executor.TFJS_ERROR in js, js


def test_a_refused_backwards_sequence_really_differs_where_the_mask_keeps(runs):
    """tfjs runs it, with its initial state where tf-keras has zeros; the reference runtime
    computes tf-keras's numbers."""
    source, inputs, [theirs], [mask], _, [js] = runs["backwards_sequences"]
    assert kept_gap(js, theirs, mask) > 1e-2
    assert kept_gap(run(load(source), inputs)[0], theirs, mask) < TOLERANCE


@pytest.mark.parametrize("name", ["repeated_encoding", "float_decoder"])
def test_a_recurrent_call_tfjs_hands_an_earlier_calls_mask_is_refused_and_differs(runs, name,
                                                                                tmp_path):
    """tfjs's execute keeps the last mask it set for calls whose inputs carry none."""
    source, inputs, [theirs], [mask], _, [js] = runs[name]
    with pytest.raises(NotExpressibleError) as caught:
        convert(source, tmp_path / "refused")
    [problem] = caught.value.problems
    assert (problem.layer, problem.key) == ("stated", "mask")
    assert "mask that reached layer 'encoder'" in problem.reason
    assert mask is None and np.abs(js - theirs).max() > 1e-2
    assert np.abs(run(load(source), inputs)[0] - theirs).max() < TOLERANCE
