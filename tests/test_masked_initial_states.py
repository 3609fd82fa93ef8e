"""Masked recurrent layers called with initial states (issue 13).

Keras 3's Layer.__call__ fills `mask` only for a call on one tensor: a recurrent layer or
Bidirectional called with initial states runs over padded steps too, and its output still
carries the mask. tf-keras and tfjs skip padded steps. The reference runtime computes what each
file's own runtime computes; a conversion between Keras 3 and another family is refused, naming
the layer and the call argument. Without a mask all three agree and the model converts.
All tfjs runs share one Node process.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from outputs import as_list, randomize

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError, NotExpressibleError
from tfjs_lstm.runtime.engine import output_masks, run

TOLERANCE = 1e-5
rng = np.random.default_rng(1340)
# Trailing, inner and leading padding and a row without any: every direction sees a padded step
# before a kept one.
IDS = np.array([[3, 1, 0, 4, 1, 0, 0], [2, 6, 0, 0, 0, 0, 0], [0, 0, 0, 7, 1, 8, 2],
                [7, 1, 8, 2, 8, 1, 8]], np.int32)
KEPT = IDS != 0
STATED = ["lstm", "gru", "simple", "bidi_lstm", "bidi_gru"]


def stated(keras, mask_zero: bool = True, after: bool = True, kinds: tuple = tuple(STATED)):
    """Each recurrent kind called with initial states on an Embedding's output, every one
    followed (`after`) by an LSTM that sees the output mask the stated layer passes on."""
    L = keras.layers
    ids = keras.Input((IDS.shape[1],), dtype="int32", name="ids")
    embedded = L.Embedding(9, 4, mask_zero=mask_zero, name="embed")(ids)
    layers = {"lstm": (L.LSTM(3, return_sequences=True, name="lstm"), 2),
              "gru": (L.GRU(3, return_sequences=True, reset_after=False, name="gru"), 1),
              "simple": (L.SimpleRNN(3, return_sequences=True, name="simple"), 1),
              "bidi_lstm": (L.Bidirectional(L.LSTM(3, return_sequences=True),
                                            name="bidi_lstm"), 4),
              "bidi_gru": (L.Bidirectional(L.GRU(3, return_sequences=True, reset_after=False),
                                           merge_mode="sum",
                                           name="bidi_gru"), 2)}
    states, outputs = [], []
    for name in kinds:
        layer, count = layers[name]
        given = [keras.Input((3,), name=f"{name}_s{i}") for i in range(count)]
        states += given
        sequence = layer(embedded, initial_state=given)
        outputs.append(L.LSTM(2, return_sequences=True, name=f"after_{name}")(sequence)
                       if after else sequence)
    return keras.Model([ids, *states], outputs, name="stated")


def keras_outputs(model, inputs):
    out = model(inputs, training=False)
    out = out if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(o) for o in out], [np.asarray(o._keras_mask) for o in out]


@pytest.fixture(scope="module")
def runs(keras3, tf_keras, tfjs, tmp_path_factory):
    """Both Keras families' files, outputs and output masks; the unmasked Keras 3 file and a
    tf-keras file whose stated layers are the outputs, converted to tfjs and predicted there."""
    tmp = tmp_path_factory.mktemp("stated")
    found = {}
    new, old = randomize(stated(keras3), rng), stated(tf_keras)
    for layer in new.layers:  # the same weights in both families
        old.get_layer(layer.name).set_weights(layer.get_weights())
    inputs = [IDS, *(rng.normal(0, 1, (len(IDS), 3)).astype(np.float32)
                     for _ in new.inputs[1:])]
    for family, model, suffix in (("keras3", new, ".keras"), ("tf_keras", old, ".h5")):
        model.save(tmp / f"{family}{suffix}")
        found[family] = (tmp / f"{family}{suffix}", inputs, *keras_outputs(model, inputs))
    plain = stated(keras3, mask_zero=False, after=False)
    for layer in plain.layers:
        layer.set_weights(new.get_layer(layer.name).get_weights())
    plain.save(tmp / "unmasked.keras")
    found["unmasked"] = (tmp / "unmasked.keras", inputs, as_list(plain(inputs)), None)
    last = stated(tf_keras, after=False, kinds=("bidi_lstm",))  # tfjs runs only this case
    for layer in last.layers:
        layer.set_weights(new.get_layer(layer.name).get_weights())
    last.save(tmp / "last.h5")
    first = 1 + 2 + 1 + 1  # ids, then the states of lstm, gru and simple
    alone = [IDS, *inputs[first:first + 4]]
    found["last"] = (tmp / "last.h5", alone, *keras_outputs(last, alone))
    convert(found["last"][0], tmp / "from_tf_keras")
    convert(found["unmasked"][0], tmp / "from_unmasked")
    found["tfjs"] = tfjs.predict_folders([(tmp / "from_tf_keras", alone),
                                          (tmp / "from_unmasked", inputs)])
    found["tmp"] = tmp
    return found


def test_keras3_and_tf_keras_differ_at_kept_steps_and_keep_the_same_output_mask(runs):
    """The finding this file pins: same weights, same inputs; Keras 3's stated layers (then
    the LSTM after them) compute other numbers than tf-keras's, while both keep the mask."""
    ours, theirs = runs["keras3"][2:], runs["tf_keras"][2:]
    for name, *pair in zip(STATED, ours[0], theirs[0], ours[1], theirs[1], strict=True):
        assert np.abs(pair[0] - pair[1])[KEPT].max() > 1e-2, name
        assert np.array_equal(pair[2], KEPT) and np.array_equal(pair[3], KEPT), name


@pytest.mark.parametrize("family", ["keras3", "tf_keras"])
def test_the_reference_runtime_computes_what_the_files_own_keras_computes(runs, family):
    source, inputs, expected, masks = runs[family]
    model = load(source)
    for name, mine, theirs in zip(STATED, run(model, inputs), expected, strict=True):
        assert np.abs(mine - theirs).max() < TOLERANCE, name
    for name, mine, theirs in zip(STATED, output_masks(model, inputs), masks, strict=True):
        assert np.array_equal(mine, theirs), name


def test_tfjs_agrees_with_tf_keras_on_a_masked_bidirectional_with_initial_states(runs):
    """Where the output mask keeps; tfjs writes other values at padded steps (see
    test_masked_classifier.py)."""
    [converted, _] = runs["tfjs"]
    assert not isinstance(converted, str), converted
    [mine], [theirs] = converted, runs["last"][2]
    assert np.abs(mine - theirs)[KEPT].max() < TOLERANCE


def test_tfjs_is_refused_where_another_layer_takes_a_stated_layers_mask(runs):
    """tfjs 4.22 throws on predict there: a finding of this file's first version."""
    with pytest.raises(NotExpressibleError) as caught:
        convert(runs["tf_keras"][0], runs["tmp"] / "refused")
    problems = caught.value.problems
    assert sorted(p.layer for p in problems) == sorted(STATED)
    assert all(p.key == "initial_state" and "TensorFlow.js 4.22 fails" in p.reason
               for p in problems)


def test_without_a_mask_initial_states_convert_from_keras3_and_tfjs_agrees(runs):
    [_, converted] = runs["tfjs"]
    assert not isinstance(converted, str), converted
    _, inputs, expected, _ = runs["unmasked"]
    mine = run(load(runs["unmasked"][0]), inputs)
    for name, js, ref, theirs in zip(STATED, converted, mine, expected, strict=True):
        assert np.abs(js - theirs).max() < TOLERANCE, name
        assert np.abs(ref - theirs).max() < TOLERANCE, name


@pytest.mark.parametrize("source, target", [
    ("keras3", "web"), ("keras3", "back.h5"), ("tf_keras", "back.keras"),
    ("last", "back.keras"), ("from_tf_keras", "back.keras")])
def test_between_keras3_and_another_family_each_stated_layer_is_refused(runs, source, target):
    path = runs[source][0] if source in runs else runs["tmp"] / source
    destination = runs["tmp"] / f"{source}_{target}"
    with pytest.raises(NotExpressibleError) as caught:
        convert(path, destination)
    problems = caught.value.problems
    alone = source in ("last", "from_tf_keras")
    assert sorted(p.layer for p in problems) == (["bidi_lstm"] if alone else sorted(STATED))
    assert all(p.key == "initial_state" and "runs over padded steps" in p.reason
               for p in problems), problems
    assert not destination.exists()


def test_a_keras3_file_converts_to_keras3_and_keras3_computes_the_same(runs, keras3):
    source, inputs, expected, _ = runs["keras3"]
    convert(source, runs["tmp"] / "again.keras")
    again = keras3.models.load_model(runs["tmp"] / "again.keras")
    for name, mine, theirs in zip(STATED, keras_outputs(again, inputs)[0], expected,
                                  strict=True):
        assert np.abs(mine - theirs).max() < TOLERANCE, name



def test_an_explicit_mask_beside_initial_states_in_a_keras3_file_is_refused(runs, tmp_path):
    """Keras 3 applies a mask passed as mask=, which the file's other stated calls lack."""
    with zipfile.ZipFile(runs["keras3"][0]) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    [lstm] = [layer for layer in config["config"]["layers"] if layer["name"] == "lstm"]
    node = lstm["inbound_nodes"][0]
    node["kwargs"]["mask"] = node["args"][0]
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "explicit.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(InputError, match="layer 'lstm' gets an explicit mask= and initial"):
        load(tmp_path / "explicit.keras")
