"""What the tests share: seeded weights for Keras models, and comparing model outputs across
runtimes (one array or a list) within 1e-5."""

from __future__ import annotations

from pathlib import Path

import numpy as np

TOLERANCE = 1e-5


def randomize(model, rng: np.random.Generator, scale: float = 0.7):
    """Give every weight of a Keras model normal(0, scale) float32 values, layer by layer."""
    for layer in model.layers:
        layer.set_weights([rng.normal(0, scale, w.shape).astype(np.float32)
                           for w in layer.get_weights()])
    return model


def randomize_trained(model, rng: np.random.Generator, scale: float = 0.6):
    """`randomize`, with BatchNormalization's moving variances (wrapped in TimeDistributed
    too) kept positive as training leaves them."""
    randomize(model, rng, scale)
    for layer in model.layers:
        if type(getattr(layer, "layer", layer)).__name__ == "BatchNormalization":
            weights = layer.get_weights()
            weights[-1] = np.abs(weights[-1]) + 0.1
            layer.set_weights(weights)
    return model


def as_list(outputs) -> list[np.ndarray]:
    """Keras's predict output (one array or a list) as a list of arrays."""
    return [np.asarray(o) for o in (outputs if isinstance(outputs, list) else [outputs])]


def assert_close(got: list, expected: list, what: str) -> None:
    """Same number of outputs, same shapes, values within TOLERANCE."""
    assert len(got) == len(expected), what
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.shape == theirs.shape, what
        assert np.abs(mine - theirs).max() < TOLERANCE, what


def assert_tfjs_folder_converts_to_keras3(tfjs, keras3, folder: Path, x: np.ndarray) -> None:
    """tfjs's own predictions for a folder are what the reference runtime computes from it and
    what Keras 3 computes from its conversion to `.keras`."""
    from tfjs_lstm.convert import convert, load
    from tfjs_lstm.runtime.engine import run

    [theirs] = tfjs.predict_folders([(folder, [x])])
    assert not isinstance(theirs, str), theirs
    assert_close(run(load(folder), [x]), theirs, "reference on the tfjs folder")
    target = folder.parent / f"{folder.name}.keras"
    convert(folder, target)
    model = keras3.models.load_model(target)
    assert_close(as_list(model.predict(x, verbose=0)), theirs, "Keras 3")


def keras3_models_in_tfjs(tfjs, models: dict, tmp_path: Path) -> dict[str, list[np.ndarray]]:
    """Save each Keras 3 (model, inputs), convert it to a tfjs folder and check the reference
    runtime on both files and TensorFlow.js in Node (one process for all) against Keras's own
    predictions; returns tfjs's outputs by name."""
    from tfjs_lstm.convert import convert, load
    from tfjs_lstm.runtime.engine import run

    expected = {}
    for name, (model, inputs) in models.items():
        source = tmp_path / f"{name}.keras"
        model.save(source)
        expected[name] = as_list(model.predict(inputs, verbose=0))
        convert(source, tmp_path / name)
        assert_close(run(load(source), inputs), expected[name], f"reference runtime, {name}")
        assert_close(run(load(tmp_path / name), inputs), expected[name],
                     f"reference runtime on the tfjs folder, {name}")
    results = tfjs.predict_folders([(tmp_path / name, inputs)
                                    for name, (_, inputs) in models.items()])
    for name, got in zip(models, results, strict=True):
        assert not isinstance(got, str), f"{name}: tfjs failed to load or run: {got}"
        assert_close(got, expected[name], f"tfjs, {name}")
    return dict(zip(models, results, strict=True))


def summary_text(model) -> str:
    """A Keras model's own `summary()` text."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, _lines=lines, **_: _lines.append(line))
    return "\n".join(lines)


def assert_summaries_are_each_runtimes_own(keras3_model, tf_keras_model, tfjs,
                                           tmp_path: Path) -> str:
    """`summary` of the saved .keras, .h5 and converted tfjs folder is each runtime's own
    text (run with COLUMNS=80); returns the Keras 3 rendering."""
    from tfjs_lstm.convert import convert, load
    from tfjs_lstm.summary import render_keras2, render_keras3, render_tfjs

    name = keras3_model.name
    keras3_model.save(tmp_path / f"{name}.keras")
    ours = render_keras3(load(tmp_path / f"{name}.keras"))
    assert ours == summary_text(keras3_model).rstrip("\n")
    tf_keras_model.save(tmp_path / f"{name}.h5")
    assert render_keras2(load(tmp_path / f"{name}.h5")) == summary_text(tf_keras_model)
    convert(tmp_path / f"{name}.keras", tmp_path / name)
    [theirs] = tfjs.summaries([tmp_path / name])
    assert render_tfjs(load(tmp_path / name)) == theirs
    return ours


def tfjs_folders_in_keras(tfjs, keras3, tf_keras, cases: list, skip_keras=()) -> None:
    """tfjs's predictions for each (folder, inputs) (one Node process) are what the reference
    runtime computes and what Keras 3 and tf-keras compute from the conversions to .keras and
    .h5 (except for the folders named in `skip_keras`, which are only converted and loaded)."""
    from tfjs_lstm.convert import convert, load
    from tfjs_lstm.runtime.engine import run

    for (folder, inputs), theirs in zip(cases, tfjs.predict_folders(cases), strict=True):
        assert not isinstance(theirs, str), theirs
        assert_close(run(load(folder), inputs), theirs, f"reference, {folder.name}")
        for keras, suffix in ((keras3, ".keras"), (tf_keras, ".h5")):
            convert(folder, folder.parent / f"{folder.name}{suffix}")
            model = keras.models.load_model(folder.parent / f"{folder.name}{suffix}")
            if folder.name not in skip_keras:
                assert_close(as_list(model.predict(inputs, verbose=0)), theirs,
                             f"{keras.__name__}, {folder.name}")


def assert_h5_runs_as_keras_runs_it(model, x: np.ndarray, tmp_path: Path) -> None:
    """The reference runtime on the model's tf-keras .h5 computes what the model computes."""
    from tfjs_lstm.convert import load
    from tfjs_lstm.runtime.engine import run

    model.save(tmp_path / f"{model.name}.h5")
    assert_close(run(load(tmp_path / f"{model.name}.h5"), [x]),
                 as_list(model.predict(x, verbose=0)), model.name)


def assert_tfjs_lacks(source: Path, layers: list[tuple[str, str]]) -> None:
    """Converting `source` to a tfjs folder is refused before anything is written, naming each
    (layer, class name) TensorFlow.js has no class for."""
    import pytest

    from tfjs_lstm.convert import convert
    from tfjs_lstm.errors import NotExpressibleError

    with pytest.raises(NotExpressibleError) as refused:
        convert(source, source.parent / "web")
    for layer, class_name in layers:
        assert f"layer '{layer}', key 'class_name' (tfjs-json): TensorFlow.js 4.22 has no " \
            f"{class_name} layer" in str(refused.value)
    assert not (source.parent / "web").exists()
