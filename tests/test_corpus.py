"""Real model.json topologies from public repositories (tests/corpus, sources in index.json),
each given seeded weights of its manifest's shapes and judged against TensorFlow.js 4.22.

Every file TensorFlow.js loads either passes `validate`, `summary` (the manifest's parameter
count) and `run` (tfjs's outputs within 1e-5), or is refused for the reason its index entry
gives, with one error naming the layer (or the weight) at fault. The Keras 3 exports tfjs
cannot load are repaired by `convert`, and tfjs computes on the repaired folder what Keras 3
computes on the original.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from outputs import as_list, assert_close

from tfjs_lstm.convert import convert, load, random_inputs
from tfjs_lstm.errors import InputError, NotExpressibleError
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.summary import counts
from tfjs_lstm.validate import validate_file

CORPUS = Path(__file__).parent / "corpus"
INDEX = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
BY_FILE = {entry["file"]: entry for entry in INDEX}
EXPECTS = ("pass", "repaired", "refused")


def files(*expects: str) -> list[str]:
    return [entry["file"] for entry in INDEX if entry["expect"] in expects]


def materialize(name: str, root: Path) -> Path:
    """The corpus file as a model folder: its model.json unchanged, its shards filled with
    seeded normal float32 weights of the manifest's shapes (spread 1/sqrt(fan-in) at most 0.3,
    as trained weights keep activations in range, so float32 rounding is not amplified; a
    BatchNormalization's moving variance positive, as a variance is), each stored as its entry
    says (a quantized weight as the nearest step of its min and scale, clipped to its integer
    type, or as float16), the group's bytes split evenly over the group's shard files."""
    document = json.loads((CORPUS / name).read_text(encoding="utf-8"))
    folder = root / name.removesuffix(".json")
    folder.mkdir()
    rng = np.random.default_rng(sum(name.encode()))
    for group in document["weightsManifest"]:
        data = b"".join(_stored(_values(rng, weight), weight.get("quantization"))
                        for weight in group["weights"])
        size = -(-len(data) // len(group["paths"]))
        for index, path in enumerate(group["paths"]):
            (folder / path).write_bytes(data[index * size:(index + 1) * size])
    (folder / "model.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


def _stored(values: np.ndarray, quantization: dict | None) -> bytes:
    if quantization is None:
        return values.astype("<f4").tobytes()
    if quantization["dtype"] == "float16":
        return values.astype("<f2").tobytes()
    steps = np.round((values - quantization["min"]) / quantization["scale"])
    kind = np.dtype(quantization["dtype"]).newbyteorder("<")
    return np.clip(steps, 0, np.iinfo(kind).max).astype(kind).tobytes()


def _values(rng: np.random.Generator, weight: dict) -> np.ndarray:
    values = rng.normal(0, _spread(weight["shape"]), weight["shape"])
    return np.abs(values) + 0.5 if weight["name"].endswith("moving_variance") else values


def _spread(shape: list[int]) -> float:
    return min(0.3, 1 / np.sqrt(shape[0])) if len(shape) > 1 else 0.3


def manifest_params(folder: Path) -> int:
    document = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    return sum(int(np.prod(w["shape"])) for group in document["weightsManifest"]
               for w in group["weights"])


@pytest.fixture(scope="module")
def corpus(tfjs, tmp_path_factory):
    """Every corpus folder, its inputs, and what tfjs made of each (and of each repaired
    copy), from one Node process."""
    root = tmp_path_factory.mktemp("corpus")
    folders = {name: materialize(name, root) for name in files(*EXPECTS)}
    inputs = {}
    for name in files("pass", "repaired"):
        inputs[name] = random_inputs(load(folders[name]), batch=1)
    for name in files("repaired"):
        convert(folders[name], root / f"repaired-{name}")
    in_tfjs = files("pass", "repaired")
    cases = [(folders[name], inputs[name]) for name in in_tfjs]
    cases += [(root / f"repaired-{name}", inputs[name]) for name in files("repaired")]
    loaded = dict(zip(files("refused"), tfjs.load([folders[n] for n in files("refused")]),
                      strict=True))
    results = tfjs.predict_folders(cases)
    tfjs_outputs = dict(zip(in_tfjs, results, strict=False))
    repaired = dict(zip(files("repaired"), results[len(in_tfjs):], strict=True))
    return folders, inputs, tfjs_outputs, repaired, loaded


def test_index_names_each_file_its_source_and_its_expected_verdict():
    stored = {path.name for path in CORPUS.glob("*.json")} - {"index.json"}
    assert stored == set(BY_FILE)
    assert len(INDEX) >= 20
    assert sum(path.stat().st_size for path in CORPUS.iterdir()) < 1_000_000
    for entry in INDEX:
        assert re.fullmatch(r"[0-9a-f]{40}", entry["commit"]), entry["file"]
        assert entry["repo"].count("/") == 1 and entry["path"].endswith(".json")
        assert entry["expect"] in EXPECTS
        assert entry["expect"] == "pass" or entry["reason"], entry["file"]
        assert entry["expect"] != "refused" or {"refused_match", "tfjs_loads"} <= set(entry)
        document = json.loads((CORPUS / entry["file"]).read_text(encoding="utf-8"))
        assert document["weightsManifest"], entry["file"]


@pytest.mark.parametrize("name", files("pass", "repaired"))
def test_corpus_file_validates_and_its_summary_counts_the_manifest_params(corpus, name):
    folders = corpus[0]
    report = validate_file(folders[name] / "model.json")
    assert report.ok, report.findings
    assert any("cannot load" in w.message for w in report.warnings) == \
        (BY_FILE[name]["expect"] == "repaired")
    assert sum(counts(load(folders[name]))) == manifest_params(folders[name])


@pytest.mark.parametrize("name", files("pass"))
def test_corpus_file_runs_as_tfjs_runs_it(corpus, name):
    folders, inputs, tfjs_outputs, _, _ = corpus
    outputs = run(load(folders[name]), inputs[name])
    assert not isinstance(tfjs_outputs[name], str), tfjs_outputs[name]
    assert_close(outputs, tfjs_outputs[name], name)


@pytest.mark.parametrize("name", files("repaired"))
def test_keras3_export_fails_in_tfjs_and_its_repair_computes_what_keras3_computes(
        corpus, keras3, name):
    folders, inputs, tfjs_outputs, repaired, _ = corpus
    assert isinstance(tfjs_outputs[name], str)
    assert not isinstance(repaired[name], str), repaired[name]
    assert_close(repaired[name], run(load(folders[name]), inputs[name]), name)
    document = json.loads((folders[name] / "model.json").read_text(encoding="utf-8"))
    topology = document["modelTopology"]["model_config"]
    builder = keras3.Sequential if topology["class_name"] == "Sequential" else keras3.Model
    model = builder.from_config(topology["config"])
    weights = load(folders[name]).weights
    for layer in model.layers:
        layer.set_weights(list(weights.get(layer.name, {}).values()))
    assert_close(repaired[name], as_list(model.predict(inputs[name], verbose=0)), "Keras 3")


@pytest.mark.parametrize("name", files("refused"))
def test_corpus_file_is_refused_cleanly_naming_the_layer_for_its_documented_reason(corpus,
                                                                                    name):
    folders, _, _, _, loaded = corpus
    entry = BY_FILE[name]
    assert ("error" not in loaded[name]) == entry["tfjs_loads"], loaded[name]
    with pytest.raises((InputError, NotExpressibleError)) as caught:
        load(folders[name])
    assert entry["refused_match"] in str(caught.value)
    assert re.search(r"(layer|weight) '[^']+'", str(caught.value))  # what is at fault
    findings = validate_file(folders[name] / "model.json").findings
    assert any(entry["refused_match"] in f.message for f in findings)
