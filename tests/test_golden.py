"""Golden fixtures: every case agrees in the reference runtime, Keras 3, tf-keras and
TensorFlow.js with the outputs those real runtimes stored; a perturbed weight is caught at the
right case and timestep; `golden make` is byte-identical twice; `check` and the pytest helper.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

from tfjs_lstm import golden
from tfjs_lstm.cli import main
from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError
from tfjs_lstm.runtime.engine import run
from tfjs_lstm.testing import assert_same_outputs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HEAVY = ("tensorflow", "keras", "jax", "tf_keras")


def perturbed_copy(tmp_path: Path, case: str = "k3_stacked", weight: str = "lstm_b/bias",
                   index: int = 12, delta: float = 1e-3, others: tuple[str, ...] = ()) -> Path:
    """A copy of some fixture cases where one weight of `case`'s tfjs folder moved by `delta`."""
    root = tmp_path / "fixtures"
    for name in (case, *others):
        shutil.copytree(FIXTURES / name, root / name)
    folder = root / case / "model"
    [group] = json.loads((folder / "model.json").read_text())["weightsManifest"]
    offset = 0
    for spec in group["weights"]:
        if spec["name"] == weight:
            break
        offset += 4 * int(np.prod(spec["shape"]))
    else:
        raise AssertionError(f"no weight {weight}")
    shard = folder / group["paths"][0]
    data = np.frombuffer(shard.read_bytes(), "<f4").copy()
    data[offset // 4 + index] += np.float32(delta)
    shard.write_bytes(data.tobytes())
    return root


def table_lines(text: str, case: str) -> dict[str, list[str]]:
    """Printed rows of one case: pair -> the other columns, split on whitespace."""
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == case and len(parts) > 4 and parts[2] == "vs":
            rows[" ".join(parts[1:4])] = parts[4:]
    return rows


def test_the_fixtures_cover_the_matrix_and_stay_small():
    folders = golden.discover([FIXTURES])
    assert sorted(f.name for f in folders) == sorted(spec.name for spec in golden.CASES)
    assert sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file()) < 5 * 2**20
    born = set()
    for folder in folders:
        info = json.loads((folder / "case.json").read_text())
        assert set(info["generator"]) == {"keras", "tensorflow", "tf_keras", "tensorflowjs",
                                          "tfjs_lstm"}
        assert info["tolerance"] > 0 and isinstance(info["seed"], int) and info["covers"]
        stored = {name for name in golden.PRODUCERS if (folder / f"{name}.npz").is_file()}
        assert stored == set(info["expected"]) and stored | set(info["not_computable"]) == set(
            golden.PRODUCERS), folder.name
        assert (folder / "model").is_dir() == ("tfjs" in stored), folder.name
        born.add(info["born_in"])
        assert (folder / info["source"]).exists()
        if info["born_in"] == "tfjs":
            document = json.loads((folder / "model" / "model.json").read_text())
            assert document["generatedBy"] == "TensorFlow.js tfjs-layers v4.22.0"
            assert "convertedBy" not in document or document["convertedBy"] is None
    assert born == {"keras3", "keras2", "tfjs"}
    seed = json.loads((FIXTURES / "tfjs_seed_lstm32" / "model" / "model.json").read_text())
    [lstm] = seed["modelTopology"]["config"]["layers"]
    assert (lstm["config"]["units"], lstm["config"]["batch_input_shape"],
            lstm["config"]["return_sequences"]) == (32, [None, 10, 8], True)
    infos = [json.loads((f / "case.json").read_text()) for f in folders]
    steps = {info["inputs"]["shapes"][0][1] for info in infos}
    batches = {info["inputs"]["shapes"][0][0] for info in infos}
    assert {1, 500} <= steps and 1 in batches and max(batches) > 1
    assert {info["calls"] for info in infos} == {1, 2}
    assert {d for info in infos for d in info["inputs"]["dtypes"]} == {"float32", "int32"}
    assert max(len(info["inputs"]["shapes"]) for info in infos) == 3  # x, h0, c0
    reasons = " ".join(r for info in infos for r in info["not_computable"].values())
    assert all(key in reasons for key in ("reset_after", "backward_layer"))
    modes = {name.rpartition("_")[2] for name in (f.name for f in folders)
             if name.startswith("k3_bidirectional_")}
    assert modes == {"concat", "sum", "mul", "ave", "none"}


def test_every_fixture_passes_in_the_reference_runtime():
    rows = golden.check_cases([FIXTURES], ("reference",))
    assert [r for r in rows if r.status != "pass"] == []
    assert {r.case for r in rows} == {spec.name for spec in golden.CASES}
    assert all(r.max_abs is not None and r.max_abs <= r.tolerance for r in rows)


def test_every_fixture_passes_in_keras3_tf_keras_and_tfjs(keras3, tf_keras, tfjs):
    rows = golden.check_cases([FIXTURES])
    assert [r for r in rows if r.status in ("FAIL", "skipped")] == []
    for row in rows:
        if row.status == "n/a":
            info = json.loads((FIXTURES / row.case / "case.json").read_text())
            assert row.pair in info["not_computable"], row
    live = {(r.case, r.pair.split(" vs ")[0]) for r in rows if r.compared}
    not_computable = sum(len(json.loads((folder / "case.json").read_text())["not_computable"])
                         for folder in golden.discover([FIXTURES]))
    assert len(live) == 4 * len(golden.CASES) - not_computable
    assert max(r.max_abs for r in rows if r.compared) < 2e-6  # noise (9.5e-7) << tolerance


def test_every_fixture_passes_on_the_wasm_backend_within_its_measured_noise(tfjs_wasm):
    rows = golden.check_cases([FIXTURES], ("tfjs-wasm",))
    assert [r for r in rows if r.status in ("FAIL", "skipped")] == []
    not_computable = {folder.name for folder in golden.discover([FIXTURES]) if "tfjs" in
                      json.loads((folder / "case.json").read_text())["not_computable"]}
    assert {r.case for r in rows if r.status == "n/a"} == not_computable
    compared = [r for r in rows if r.compared]
    assert {r.pair for r in compared} == {"tfjs-wasm vs keras3.npz", "tfjs-wasm vs keras2.npz",
                                          "tfjs-wasm vs tfjs.npz"}
    assert {r.case for r in compared} == {f.name for f in golden.discover([FIXTURES])
                                          } - not_computable
    assert max(r.max_abs for r in compared) < 2e-6  # measured 9.5e-7 (README) << 1e-5


# The cases whose tfjs folders use the companion package, which the page imports as Node does.
COMPANION_CASES = ("k3_gru_companion", "k3_attention")


@pytest.mark.parametrize(("backends", "browser", "needs", "delta", "more"), [
    ("cpu,wasm", False, "tfjs_wasm", 1e-3, ()),
    ("cpu,wasm", True, "tfjs_browser", 1e-3, COMPANION_CASES),
    ("webgl,webgl-f16", False, "tfjs_browser", 0.5,
     ("k3_500_steps_batch1", "k3_bidirectional_concat", *COMPANION_CASES))])
def test_a_drifted_weight_fails_on_every_backend_and_the_other_cases_pass(
        request, tmp_path, capsys, backends, browser, needs, delta, more):
    """In the browser, a GRU over 500 steps, a Bidirectional and the companion package's layers
    (masked GRU and Bidirectional, Attention with a causal mask, MultiHeadAttention) pass too
    (every case runs on cpu and wasm in Node in the tests above); `--browser` runs cpu and wasm
    in Chromium."""
    request.getfixturevalue(needs)
    others = ("tfjs_defaults_dense", "k3_stateful_two_calls", *more)
    root = perturbed_copy(tmp_path, "k3_stacked", delta=delta, others=others)
    assert main(["golden", "check", str(root), "--runtimes", "tfjs", "--tfjs-backends", backends,
                 *(["--browser"] if browser else [])]) == 1
    out = capsys.readouterr().out
    runtimes = [golden.tfjs_runtime(backend, browser) for backend in backends.split(",")]
    failing = {tuple(line.split()[:2]) for line in out.splitlines() if " FAIL" in line}
    assert failing == {("k3_stacked", runtime) for runtime in runtimes}
    for runtime in runtimes:  # each backend's measured tolerance (f16: 2e-2)
        tolerance = max(1e-5, golden.RUNTIME_TABLE[runtime].tolerance)
        columns = table_lines(out, "k3_stacked")[f"{runtime} vs keras3.npz"]
        assert float(columns[0]) > tolerance and columns[4:] == [f"{tolerance:g}", "FAIL"]
    for case in others:
        assert {columns[-1] for columns in table_lines(out, case).values()} == {"pass"}, case


def js_folder_without_wasm(tmp_path: Path, broken: bool) -> Path:
    """A copy of the harness whose node_modules lack the wasm backend, or hold one that throws
    when loaded (a backend that is installed but cannot start)."""
    from tfjs_lstm.node import JS

    folder = tmp_path / "js"
    (folder / "node_modules" / "@tensorflow").mkdir(parents=True)
    shutil.copy(JS / "harness.mjs", folder)
    for package in (JS / "node_modules").iterdir():
        if package.name != "@tensorflow":
            (folder / "node_modules" / package.name).symlink_to(package)
    for package in (JS / "node_modules" / "@tensorflow").iterdir():
        if package.name != "tfjs-backend-wasm":
            (folder / "node_modules" / "@tensorflow" / package.name).symlink_to(package)
    if broken:
        fake = folder / "node_modules" / "@tensorflow" / "tfjs-backend-wasm"
        fake.mkdir()
        (fake / "package.json").write_text('{"name": "@tensorflow/tfjs-backend-wasm", '
                                           '"type": "module", "main": "index.js"}')
        (fake / "index.js").write_text("throw new Error('no wasm binary here');\n")
    return folder


def unstartable(how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave a tfjs backend missing or unable to start: the wasm package absent or throwing
    when loaded, Chromium absent or exiting without a page."""
    if how in ("no wasm", "broken wasm"):
        folder = js_folder_without_wasm(tmp_path, broken=how == "broken wasm")
        monkeypatch.setenv("TFJS_LSTM_JS", str(folder))
        return
    browser = tmp_path / "chromium"
    if how == "failing chromium":
        browser.write_text("#!/bin/sh\necho 'no display here' >&2\nexit 1\n")
        browser.chmod(0o755)
    monkeypatch.setenv("TFJS_LSTM_CHROMIUM", str(browser))


@pytest.mark.parametrize(("backend", "how", "reason"), [
    ("wasm", "no wasm",
     "TensorFlow.js (wasm) not installed: @tensorflow/tfjs-backend-wasm not installed"),
    ("wasm", "broken wasm", "tfjs backend 'wasm' cannot start: no wasm binary here"),
    ("webgl", "no chromium", "TensorFlow.js (webgl) not installed: Chromium not found on PATH"),
    ("webgl", "failing chromium", "headless Chromium gave no reply: no display here")])
def test_a_tfjs_backend_missing_or_failing_to_start_is_skipped_never_passed(
        tfjs, tmp_path, monkeypatch, capsys, backend, how, reason):
    unstartable(how, tmp_path, monkeypatch)
    case = str(FIXTURES / "tfjs_defaults_dense")
    assert main(["golden", "check", case, "--runtimes", "tfjs",
                 "--tfjs-backends", f"cpu,{backend}"]) == 0
    out = capsys.readouterr().out
    [skipped] = [line for line in out.splitlines() if "skipped:" in line]
    assert skipped.split()[:2] == ["tfjs_defaults_dense", f"tfjs-{backend}"] and reason in skipped
    assert "3 passed, 0 failed, 1 skipped" in out
    assert main(["golden", "check", case, "--runtimes", "tfjs",
                 "--tfjs-backends", backend]) == 1
    assert "nothing was compared" in capsys.readouterr().out


def test_a_weight_perturbed_by_1e_3_fails_at_its_case_and_worst_timestep(tfjs, tmp_path,
                                                                         capsys):
    case = "k3_500_steps"
    root = perturbed_copy(tmp_path, case, "lstm_long/recurrent_kernel", 4,
                          others=("k3_stacked", "tfjs_defaults_dense"))
    assert main(["golden", "check", str(root), "--runtimes", "reference,tfjs"]) == 1
    out = capsys.readouterr().out
    failing = {line.split()[0] for line in out.splitlines() if " FAIL" in line}
    assert failing == {case}
    printed = table_lines(out, case)
    folder = root / case
    inputs = golden.read_npz(folder / "inputs.npz")
    [keras_out] = golden.read_npz(folder / "keras3.npz")
    [[tfjs_out]] = tfjs.predict_folders([(folder / "model", inputs)])
    [reference_out] = run(load(folder / "model"), inputs)
    for runtime, got in (("tfjs", tfjs_out), ("reference", reference_out)):
        error = np.abs(got.astype(np.float64) - keras_out)
        assert error.max() > 1e-5
        per_step = error.max(axis=(0, 2))
        worst, first = int(np.argmax(per_step)), int(np.argmax(per_step > 1e-5))
        columns = printed[f"{runtime} vs keras3.npz"]
        assert columns[0] == f"{error.max():.3g}" and columns[2] == f"t={worst}", columns
        assert columns[3] == f"t={first}" and first < worst and columns[5] == "FAIL", columns


def test_runtimes_not_installed_are_reported_as_skipped_never_passed(monkeypatch, tmp_path,
                                                                      capsys):
    monkeypatch.setenv("TFJS_LSTM_JS", str(tmp_path / "no_harness"))
    case = str(FIXTURES / "k3_one_step_batch4")
    assert main(["golden", "check", case, "--runtimes", "reference,tfjs"]) == 0
    out = capsys.readouterr().out
    [skipped] = [line for line in out.splitlines() if "skipped:" in line]
    assert skipped.split()[:2] == ["k3_one_step_batch4", "tfjs"]
    assert "harness not installed" in skipped
    assert "3 passed, 0 failed, 1 skipped" in out
    assert main(["golden", "check", case, "--runtimes", "tfjs"]) == 1
    assert "nothing was compared" in capsys.readouterr().out


def test_unknown_runtimes_and_missing_cases_are_usage_errors(tmp_path, capsys):
    assert main(["golden", "check", str(FIXTURES), "--runtimes", "reference,onnx"]) == 2
    assert "unknown runtime(s) onnx" in capsys.readouterr().err
    assert main(["golden", "check", str(tmp_path)]) == 2
    assert "no golden cases" in capsys.readouterr().err
    assert main(["golden", "check", str(FIXTURES), "--tfjs-backends", "cpu,webgpu"]) == 2
    assert ("unknown tfjs backend(s) webgpu (known: cpu, wasm, webgl, webgl-f16)"
            in capsys.readouterr().err)


# What another machine's BLAS may move in a re-made output: the largest difference measured
# between any two runtimes over all the cases (9.5e-7, README), well under each case's 1e-5.
REMADE_OUTPUT_NOISE = 1e-6
OUTPUT_FILES = tuple(f"{name}.npz" for name in golden.PRODUCERS)


def without_measured_noise(data: bytes) -> dict:
    """case.json without the noise figure measured when it was made (machine-dependent)."""
    info = json.loads(data)
    info["tolerance_note"] = re.sub(r"differ by at most \S+ here", "differ by at most ... here",
                                    info["tolerance_note"])
    return info


def assert_same_fixture_files(made: dict[str, bytes], committed: dict[str, bytes]) -> None:
    """Structural files byte for byte, outputs within REMADE_OUTPUT_NOISE, case.json but for
    its measured noise: what `golden make` writes on any CPU equals the committed fixtures."""
    assert sorted(made) == sorted(committed)
    for name, data in made.items():
        if name.endswith(OUTPUT_FILES):
            with tempfile.TemporaryDirectory() as folder:
                (Path(folder) / "ours.npz").write_bytes(data)
                (Path(folder) / "theirs.npz").write_bytes(committed[name])
                ours, theirs = (golden.read_npz(Path(folder) / f"{who}.npz")
                                for who in ("ours", "theirs"))
            assert [(x.shape, x.dtype) for x in ours] == [(y.shape, y.dtype) for y in theirs]
            for x, y in zip(ours, theirs, strict=True):
                np.testing.assert_allclose(x, y, rtol=0, atol=REMADE_OUTPUT_NOISE, err_msg=name)
        elif name.endswith(golden.CASE_FILE):
            assert without_measured_noise(data) == without_measured_noise(committed[name]), name
        else:
            assert data == committed[name], f"{name} differs: run `tfjs-lstm golden make`"


def test_golden_make_twice_gives_byte_identical_files_equal_to_the_fixtures(
        keras3, tf_keras, tfjs, tmp_path):
    cases = "k3_return_state,k2_hard_sigmoid_cell,tfjs_defaults_dense"
    for out in ("a", "b"):
        assert main(["golden", "make", "--cases", cases, "--out", str(tmp_path / out)]) == 0

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file()}

    first, second = files(tmp_path / "a"), files(tmp_path / "b")
    # 8 files with source.keras, 7 without keras3.npz (k2_hard_sigmoid_cell), 7 without source
    assert len(first) == 8 + 7 + 7 and first == second
    committed = {name: data for name, data in files(FIXTURES).items()
                 if name.split("/")[0] in cases.split(",")}
    made_with = json.loads(committed["k3_return_state/case.json"])["generator"]
    if made_with != golden.generator_versions():
        warnings.warn(f"fixtures were made with {made_with}, this machine has "
                      f"{golden.generator_versions()}: not compared", stacklevel=1)
        return
    assert_same_fixture_files(first, committed)


def test_remade_fixtures_may_differ_by_float_noise_but_not_by_more(tmp_path):
    names = ("k3_return_state/keras3.npz", "k3_return_state/case.json",
             "k3_return_state/inputs.npz")
    committed = {name: (FIXTURES / name).read_bytes() for name in names}
    outputs = golden.read_npz(FIXTURES / names[0])
    info = json.loads(committed[names[1]])

    def remade(delta: float, note: str, inputs_delta: float = 0.0) -> dict[str, bytes]:
        moved = [x.copy() for x in outputs]
        moved[1][1, 2] += np.float32(delta)
        golden.write_npz(tmp_path / "out.npz", moved, "output")
        inputs = [x + np.float32(inputs_delta) for x in golden.read_npz(FIXTURES / names[2])]
        golden.write_npz(tmp_path / "in.npz", inputs, "input")
        case = json.dumps({**info, "tolerance_note": info["tolerance_note"].replace(
            "5.96e-08", note)}, indent=2, sort_keys=True) + "\n"
        return {names[0]: (tmp_path / "out.npz").read_bytes(), names[1]: case.encode(),
                names[2]: (tmp_path / "in.npz").read_bytes()}

    assert_same_fixture_files(remade(0.0, "5.96e-08"), committed)
    assert_same_fixture_files(remade(2e-7, "2.2e-07"), committed)  # another CPU's rounding
    with pytest.raises(AssertionError, match="keras3.npz"):
        assert_same_fixture_files(remade(5e-6, "5e-06"), committed)
    with pytest.raises(AssertionError, match="inputs.npz differs"):
        assert_same_fixture_files(remade(0.0, "5.96e-08", inputs_delta=1e-7), committed)
    reseeded = committed[names[1]].replace(b'"seed": 103', b'"seed": 104')
    with pytest.raises(AssertionError, match="case.json"):
        assert_same_fixture_files({**remade(0.0, "1e-07"), names[1]: reseeded}, committed)


def test_check_compares_a_users_model_and_its_conversion(keras3, tfjs, tmp_path, capsys):
    folder = FIXTURES / "k3_hard_sigmoid_gates"
    assert main(["check", str(folder / "source.keras"), str(folder / "model")]) == 0
    out = capsys.readouterr().out
    pairs = [line.split()[1:4] for line in out.splitlines()[1:] if " vs " in line]
    assert ["keras3(source)", "vs", "tfjs(target)"] in pairs and len(pairs) == 6
    assert "6 passed, 0 failed" in out
    assert main(["check", str(folder / "source.keras"), str(folder / "model"),
                 "--runtimes", "keras3,tfjs", "--tfjs-backends", "cpu,wasm"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[1:4] for line in out.splitlines()[1:] if " vs " in line] == [
        ["keras3(source)", "vs", "tfjs(target)"], ["keras3(source)", "vs", "tfjs-wasm(target)"],
        ["tfjs(target)", "vs", "tfjs-wasm(target)"]]
    back = tmp_path / "back.keras"
    convert(FIXTURES / "tfjs_seed_lstm32" / "model", back)
    seed = [str(FIXTURES / "tfjs_seed_lstm32" / "model"), str(back)]
    np.save(tmp_path / "x.npy", np.full((1, 10, 8), 0.5, np.float32))
    assert main(["check", *seed, "--input", str(tmp_path / "x.npy"),
                 "--runtimes", "tfjs,keras3"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[1:] for line in out.splitlines() if " vs " in line] == [
        ["tfjs(source)", "vs", "keras3(target)", *line.split()[4:]]
        for line in out.splitlines() if " vs " in line]
    assert "1 passed, 0 failed" in out
    np.save(tmp_path / "x.npy", np.full((1, 9, 8), 0.5, np.float32))
    assert main(["check", *seed, "--input", str(tmp_path / "x.npy")]) == 2
    assert "expects shape [null, 10, 8], got [1, 9, 8]" in capsys.readouterr().err
    root = perturbed_copy(tmp_path, case="k3_hard_sigmoid_gates", weight="head/bias", index=1)
    target = root / "k3_hard_sigmoid_gates" / "model"
    assert main(["check", str(folder / "source.keras"), str(target),
                 "--runtimes", "reference,keras3"]) == 1
    out = capsys.readouterr().out
    failed = [line.split()[1:4] for line in out.splitlines() if " FAIL" in line]
    assert failed == [["reference(source)", "vs", "reference(target)"],
                      ["keras3(source)", "vs", "reference(target)"]]


def test_assert_same_outputs_passes_on_paths_and_models_and_fails_with_the_row(keras3,
                                                                             tmp_path):
    folder = FIXTURES / "k3_stacked"
    inputs = golden.read_npz(folder / "inputs.npz")
    row = assert_same_outputs(folder / "source.keras", load(folder / "model"))
    assert row.status == "pass" and row.pair == "keras3 vs reference"
    keras_model = keras3.models.load_model(folder / "source.keras")
    assert assert_same_outputs(keras_model, load(folder / "model"), inputs[0]).max_abs <= 1e-5
    perturbed = perturbed_copy(tmp_path) / "k3_stacked" / "model"
    with pytest.raises(AssertionError) as caught:
        assert_same_outputs(keras_model, load(perturbed), inputs=inputs)
    message = str(caught.value)
    assert "outputs differ beyond atol=1e-05" in message
    [line] = [x for x in message.splitlines() if "FAIL" in x]
    assert line.split()[:6] == ["stacked", "/", "stacked", "keras3", "vs", "reference"]
    assert " t=" in line


def test_assert_same_outputs_falls_back_to_the_reference_runtime_with_a_warning(monkeypatch,
                                                                              tmp_path):
    monkeypatch.setenv("TFJS_LSTM_JS", str(tmp_path / "no_harness"))
    folder = FIXTURES / "tfjs_defaults_dense"
    with pytest.warns(UserWarning, match="TensorFlow.js is not installed .* reference runtime"):
        row = assert_same_outputs(folder / "model", load(folder / "model"))
    assert row.pair == "reference vs reference" and row.max_abs == 0.0


def test_feeds_draw_tokens_and_masked_rows_on_padded_tails():
    rng = np.random.default_rng(0)
    tokens = golden.Feed((3, 7), vocab=10).draw(rng)
    assert tokens.dtype == np.int32 and tokens.min() >= 0 and tokens.max() < 10
    assert [int((row[7 - tail:] == 0).all()) for row, tail in zip(tokens, (0, 2, 4),
                                                                  strict=True)] == [1, 1, 1]
    rows = golden.Feed((2, 6, 3), mask_value=-1.0).draw(rng)
    masked = (rows == -1.0).all(axis=2)
    assert rows.dtype == np.float32 and masked.tolist() == [[False] * 6, [False] * 3 + [True] * 3]
    assert golden.Feed((2, 4)).describe() == "normal(0, 1) float32"


def copied_case(tmp_path: Path, case: str, **changes: object) -> Path:
    """A copy of a fixture case whose case.json has some keys changed (None deletes one)."""
    folder = tmp_path / case
    shutil.copytree(FIXTURES / case, folder)
    info = json.loads((folder / "case.json").read_text())
    for key, value in changes.items():
        target = info["inputs"] if key in ("shapes", "dtypes") else info
        if value is None:
            del target[key]
        else:
            target[key] = value
    (folder / "case.json").write_text(json.dumps(info))
    return folder


def test_a_stateful_case_reruns_both_calls_with_the_states_carried(tmp_path):
    case = golden.load_case(FIXTURES / "k3_stateful_two_calls")
    assert case.calls == 2 and [x.shape for x in case.inputs] == [(2, 5, 3)]
    first, second = case.expected["keras3"]  # one output per call, in order
    assert np.abs(first - second).max() > 1e-2  # the second call starts from carried states
    [fresh] = run(load(case.model_for("reference")), case.inputs)
    assert np.abs(fresh - first).max() <= 1e-5
    rows = golden.check_cases([case.folder], ("reference",))
    assert [(r.status, r.outputs) for r in rows] == [("pass", 2)] * 3
    once = copied_case(tmp_path, "k3_stateful_two_calls", calls=1)
    assert {r.note for r in golden.check_cases([once], ("reference",))} == {
        "1 outputs against 2"}
    with pytest.raises(InputError, match="'calls' must be a whole number from 1 to 100, got 0"):
        golden.load_case(copied_case(tmp_path / "zero", "k3_stateful_two_calls", calls=0))


def test_cases_with_several_inputs_and_integer_tokens_run_as_recorded(tmp_path):
    initial = golden.load_case(FIXTURES / "k3_initial_state")
    assert [x.shape for x in initial.inputs] == [(2, 6, 3), (2, 4), (2, 4)]
    tokens = golden.load_case(FIXTURES / "k3_embedding_mask_zero")
    assert tokens.inputs[0].dtype == np.int32 and (tokens.inputs[0] == 0).any()
    rows = golden.check_cases([initial.folder, tokens.folder], ("reference",))
    assert {r.status for r in rows} == {"pass"}
    assert {len(r.per_step) for r in rows if r.case == tokens.name} == {7}  # token steps
    old_style = copied_case(tmp_path, "k3_stacked", dtypes=None, calls=None)
    assert golden.load_case(old_style).calls == 1
    wrong = copied_case(tmp_path / "wrong", "k3_embedding_mask_zero", dtypes=["float32"])
    with pytest.raises(InputError, match=r"dtypes \['int32'\], case.json records .*float32"):
        golden.load_case(wrong)


def test_compare_reports_the_worst_output_and_timestep():
    a = [np.zeros((2, 5, 3), np.float32), np.zeros((2, 4), np.float32)]
    b = [np.zeros((2, 5, 3), np.float32), np.zeros((2, 4), np.float32)]
    b[0][1, 3, 2] = 2e-5
    b[0][0, 1, 0] = -1e-6
    row = golden.compare("c", "x vs y", a, b, 1e-5, 5)
    assert (row.status, row.worst_output, row.worst_step, row.worst_text()) == (
        "FAIL", 0, 3, "out0 t=3")
    assert row.max_abs == pytest.approx(2e-5) and row.per_step[1] == pytest.approx(1e-6)
    assert row.per_step[0] == 0.0
    b[1][0, 2] = 5e-5
    row = golden.compare("c", "x vs y", a, b, 1e-5, 5)
    assert row.worst_text() == "out1 last (t=4)" and row.per_step[4] == pytest.approx(5e-5)
    b[1][0, 0] = np.nan
    assert golden.compare("c", "x vs y", a, b, 1e-5, 5).max_abs == np.inf
    assert golden.compare("c", "x vs y", a[:1], b, 1e-5, 5).note == "1 outputs against 2"
    identical = golden.compare("c", "x vs x", a, a, 1e-5, 5)
    assert (identical.status, identical.max_abs, identical.worst_text()) == ("pass", 0.0, "-")


def test_golden_check_and_the_helpers_import_no_heavy_framework():
    code = ("import sys\nfrom tfjs_lstm.cli import main\n"
            "import tfjs_lstm.golden, tfjs_lstm.testing, tfjs_lstm.report, tfjs_lstm.node\n"
            f"code = main(['golden', 'check', {str(FIXTURES)!r}, '--runtimes', 'reference'])\n"
            f"sys.stderr.write('LOADED:' + ' '.join(m for m in {HEAVY!r} if m in sys.modules)"
            " + ' EXIT:' + str(code))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stderr.rpartition("LOADED:")[2].split() == ["EXIT:0"]
