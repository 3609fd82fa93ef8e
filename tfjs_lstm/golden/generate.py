"""Making fixtures (`golden make`): each case born in its runtime with seeded weights, its
outputs computed by Keras 3, tf-keras and TensorFlow.js, written deterministically."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import NotExpressibleError
from .cases import select
from .check import kept_masks
from .files import (
    CASE_FILE,
    INPUTS_FILE,
    MODEL_DIR,
    PRODUCERS,
    SOURCES,
    ZIP_DATE,
    Outputs,
    model_for,
    read_npz,
    write_npz,
)
from .rows import compare
from .runtimes import RUNTIME_TABLE, GoldenError, NotRun
from .specs import Spec


def generator_versions() -> dict[str, str]:
    """The versions of everything that computed a fixture's numbers or files."""
    from ..node import TFJS_VERSION

    return {"keras": importlib.metadata.version("keras"),
            "tensorflow": importlib.metadata.version("tensorflow"),
            "tf_keras": importlib.metadata.version("tf-keras"),
            "tensorflowjs": TFJS_VERSION,
            "tfjs_lstm": __version__}


def make(out: str | os.PathLike, patterns: Sequence[str] = ("*",)) -> list[Path]:
    """Regenerate the selected cases under `out` with the real runtimes; deterministic."""
    specs = select(patterns)
    missing = {name: RUNTIME_TABLE[name].missing() for name in PRODUCERS}
    if any(missing.values()):
        raise GoldenError("golden make needs Keras 3, tf-keras and TensorFlow.js in Node: " +
                          "; ".join(f"{n}: {r}" for n, r in missing.items() if r))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".golden-make.", dir=out))
    try:
        births = [_birth(spec, stage / spec.name) for spec in specs]
        folders = [folder for folder, _ in births]
        results = {name: RUNTIME_TABLE[name].run(
            [(model_for(folder, name), read_npz(folder / INPUTS_FILE)) for folder in folders],
            [spec.calls for spec in specs]) for name in PRODUCERS}
        versions = generator_versions()
        written = []
        for index, (spec, (folder, weights)) in enumerate(zip(specs, births, strict=True)):
            _finish(spec, folder, {name: results[name][index] for name in PRODUCERS}, versions,
                    weights)
            destination = out / spec.name
            if destination.exists():
                shutil.rmtree(destination)
            os.replace(folder, destination)
            written.append(destination)
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _draw(rng: np.random.Generator, shape: Sequence[int], name: str = "") -> np.ndarray:
    """Seeded weights at a scale that keeps the gates off saturation: N(0, 1/fan_in); a
    variance (BatchNormalization's moving_variance) |N(0, 0.5)| + 0.5, so it stays positive."""
    std = 1.0 / np.sqrt(shape[0]) if len(shape) == 2 else 0.5
    values = rng.normal(0.0, std, tuple(shape)).astype(np.float32)
    return np.abs(values) + np.float32(0.5) if name.endswith("variance") else values


def _name(weight: Any) -> str:
    """A Keras weight's own name: `moving_variance` (Keras 3's `name`, tf-keras's
    `bn/moving_variance:0`)."""
    return str(weight.name).rpartition("/")[2].partition(":")[0]


WEIGHTS = ("normal(0, 1/sqrt(fan_in)) for matrices, normal(0, 0.5) for biases, float32, drawn "
           "layer by layer before the inputs")


def _birth(spec: Spec, folder: Path) -> tuple[Path, str]:
    """Create the model in the runtime it is born in, with seeded weights; write its source,
    its tfjs folder (when TensorFlow.js can compute it) and the inputs. Returns the folder and
    how its weights were drawn."""
    from ..convert import convert

    weights = WEIGHTS
    folder.mkdir(parents=True)
    rng = np.random.default_rng(spec.seed)
    if spec.born == "tfjs":
        _tfjs_birth(spec, folder / MODEL_DIR, rng)
    else:
        keras = RUNTIME_TABLE[spec.born].module()
        assert callable(spec.build)
        model = spec.build(keras)
        for layer in model.layers:
            layer.set_weights([_draw(rng, w.shape, _name(w)) for w in layer.weights])
            if any(_name(w).endswith("variance") for w in layer.weights):
                weights = f"{WEIGHTS}; moving_variance |normal(0, 0.5)| + 0.5"
        source = folder / SOURCES[spec.born]
        if spec.born == "keras3":
            raw = folder / "raw.keras"
            model.save(raw)
            _normalized_keras_zip(raw, source)
            raw.unlink()
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tf-keras calls .h5 legacy: it is the point
                model.save(source)
        try:
            convert(source, folder / MODEL_DIR, companion=spec.companion)
            (folder / MODEL_DIR).chmod(0o755)
        except NotExpressibleError:
            pass  # recorded in case.json from the tfjs runtime's own reason
    write_npz(folder / INPUTS_FILE, [feed.draw(rng) for feed in spec.inputs], "input")
    return folder, weights


def _tfjs_birth(spec: Spec, folder: Path, rng: np.random.Generator) -> None:
    """tfjs's own model.save() of the layers, then its shard refilled with seeded weights in
    manifest order (the harness saves tfjs's unseeded initial weights)."""
    from ..node import NodeHarness

    harness = NodeHarness.find()
    assert harness is not None and not callable(spec.build)
    harness.save(folder, list(spec.build))
    document = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    [group] = document["weightsManifest"]
    [shard] = group["paths"]
    data = b"".join(_draw(rng, w["shape"]).astype("<f4").tobytes() for w in group["weights"])
    if len(data) != (folder / shard).stat().st_size:
        raise GoldenError(f"{spec.name}: tfjs saved a shard of another size than its manifest")
    (folder / shard).write_bytes(data)


def _tolerance_note(spec: Spec, stored: dict[str, Outputs], masks: list) -> str:
    """What the tolerance bounds, with the largest difference measured between the runtimes
    that computed the case where the output masks keep: the real noise (float32 rounding in
    another order) shows the margin the tolerance leaves."""
    text = "max abs difference allowed between two runtimes' outputs; "
    if len(stored) < 2:
        return text + "one runtime computes this case: the others are checked against it"
    names = sorted(stored)
    spread = max(compare(spec.name, "", stored[a], stored[b], spec.tolerance, 1, masks).max_abs
                 or 0.0 for i, a in enumerate(names) for b in names[i + 1:])
    return text + f"{', '.join(names)} differ by at most {spread:.3g} here" + (
        " where the output mask keeps" if any(m is not None for m in masks) else "")


def _normalized_keras_zip(raw: Path, destination: Path) -> None:
    """Keras's .keras without what changes between saves: the save date, Python object ids
    (`shared_object_id`, renumbered in order of appearance) and zip member dates."""
    with zipfile.ZipFile(raw) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(destination, "w") as archive:
        for name, data in members:
            if name == "config.json":
                data = json.dumps(_renumber_ids(json.loads(data), {})).encode()
            elif name == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata).encode()
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def _renumber_ids(value: Any, ids: dict[int, int]) -> Any:
    if isinstance(value, dict):
        return {k: (ids.setdefault(v, len(ids) + 1) if k == "shared_object_id"
                    else _renumber_ids(v, ids)) for k, v in value.items()}
    if isinstance(value, list):
        return [_renumber_ids(v, ids) for v in value]
    return value


def _finish(spec: Spec, folder: Path, results: dict[str, Outputs | NotRun],
            versions: dict[str, str], weights: str) -> None:
    """Write each runtime's outputs and case.json; a runtime that failed stops the make."""
    expected, not_computable = {}, {}
    for name, outputs in results.items():
        if isinstance(outputs, NotRun):
            if outputs.failed:
                raise GoldenError(f"{spec.name}: {outputs.reason}")
            not_computable[name] = outputs.reason
            continue
        write_npz(folder / f"{name}.npz", outputs, "output")
        ran = model_for(folder, name)
        how = f"{RUNTIME_TABLE[name].label} ran {ran.name}{'/' if ran.is_dir() else ''}"
        if ran.name != (MODEL_DIR if name == "tfjs" else SOURCES[name]):
            how += f", converted by tfjs-lstm {__version__}"
        expected[name] = how
    info = {
        "case": spec.name,
        "covers": spec.covers,
        "born_in": spec.born,
        "source": MODEL_DIR if spec.born == "tfjs" else SOURCES[spec.born],
        "model": MODEL_DIR if (folder / MODEL_DIR).is_dir() else None,
        "inputs": {"file": INPUTS_FILE, "shapes": [list(feed.shape) for feed in spec.inputs],
                   "dtypes": [feed.dtype for feed in spec.inputs],
                   "distribution": [feed.describe() for feed in spec.inputs]},
        "calls": spec.calls,
        "weights": weights,
        "seed": spec.seed,
        "tolerance": spec.tolerance,
        "tolerance_note": _tolerance_note(
            spec, {name: outputs for name, outputs in results.items() if name in expected},
            kept_masks(model_for(folder, "reference"), read_npz(folder / INPUTS_FILE),
                       spec.calls)),
        "expected": expected,
        "not_computable": not_computable,
        "generator": versions,
    }
    if spec.companion:
        info["companion"] = "model/ uses the companion npm package's classes (--companion)"
    (folder / CASE_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8")
