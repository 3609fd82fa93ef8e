"""TensorFlow.js backends beyond the table: `check --time` (each runtime's median predict time),
`assert_same_outputs` on a backend list, and where a drift first crosses the tolerance."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from test_golden import FIXTURES, perturbed_copy

from tfjs_lstm import golden
from tfjs_lstm.cli import main
from tfjs_lstm.convert import load
from tfjs_lstm.errors import InputError
from tfjs_lstm.testing import assert_same_outputs


def timing_lines(text: str) -> dict[str, list[str]]:
    """The lines `check --time` prints after its heading: label -> the other words."""
    _, _, tail = text.partition("median predict time over ")
    return {line.split()[0]: line.split()[1:] for line in tail.splitlines()[1:] if line.strip()}


def test_check_time_prints_each_runtimes_median_predict_time_on_each_side(tfjs, tmp_path,
                                                                          capsys):
    source = FIXTURES / "tfjs_defaults_gru" / "model"
    target = shutil.copytree(source, tmp_path / "copy")
    assert main(["check", str(source), str(target), "--runtimes", "reference,tfjs",
                 "--time", "3"]) == 0
    out = capsys.readouterr().out
    assert "median predict time over 3 runs after 1 warm-up run:" in out
    lines = timing_lines(out)
    assert list(lines) == [f"{runtime}({side})" for side in ("source", "target")
                           for runtime in ("reference", "tfjs")]
    for label, words in lines.items():
        assert float(words[0]) > 0 and words[1] in ("ms", "s"), (label, words)
        relative = " ".join(words[2:]).endswith("x the reference runtime)")
        assert relative != label.startswith("reference"), (label, words)


def test_check_time_says_why_a_runtime_has_no_time(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TFJS_LSTM_JS", str(tmp_path / "no_harness"))
    model = FIXTURES / "tfjs_defaults_dense" / "model"
    assert main(["check", str(model), str(model), "--runtimes", "reference,tfjs",
                 "--time"]) == 0
    lines = timing_lines(capsys.readouterr().out)
    assert lines["tfjs(source)"][:4] == ["-", "TensorFlow.js", "not", "installed:"]
    assert float(lines["reference(target)"][0]) > 0
    with pytest.raises(SystemExit, match="2"):
        main(["check", str(model), str(model), "--time", "0"])


def test_timed_predicts_grow_with_the_sequence_and_refused_models_are_not_timed(tfjs):
    """Each runtime returns one time per run; 500 steps take far longer than one."""
    jobs = [(FIXTURES / case / "model", golden.read_npz(FIXTURES / case / "inputs.npz"))
            for case in ("k3_one_step_batch4", "k3_500_steps")]
    refused = FIXTURES / "k3_gru_reset_after"
    for name in ("reference", "tfjs"):
        short, long, *rest = golden.RUNTIME_TABLE[name].time(
            [*jobs, (refused / "source.keras", golden.read_npz(refused / "inputs.npz"))], 3)
        assert len(short) == len(long) == 3 and min(short) > 0, name
        assert min(long) > 5 * min(short), (name, short, long)  # ~30x measured
        if name == "tfjs":
            [not_run] = rest
            assert isinstance(not_run, golden.NotRun) and "reset_after" in not_run.reason


def test_assert_same_outputs_runs_a_tfjs_folder_on_every_backend_named(tfjs_wasm, tmp_path):
    folder = FIXTURES / "k3_stacked"
    model = load(folder / "model")
    drifted = perturbed_copy(tmp_path) / "k3_stacked" / "model"
    with pytest.raises(AssertionError) as caught:
        assert_same_outputs(model, drifted, tfjs_backends=("cpu", "wasm"))
    failed = [line.split()[3:6] for line in str(caught.value).splitlines() if "FAIL" in line]
    assert failed == [["reference", "vs", "tfjs"], ["reference", "vs", "tfjs-wasm"]]
    assert "beyond atol=1e-05" in str(caught.value)
    with pytest.raises(InputError, match="unknown tfjs backend"):
        assert_same_outputs(model, folder / "model", tfjs_backends=("webgpu",))


def test_the_first_step_over_the_tolerance_is_where_the_drift_starts():
    a = [np.zeros((1, 6, 2), np.float32)]
    b = [a[0].copy()]
    b[0][0, 2:, 0] = [2e-5, 1e-6, 3e-5, 9e-5]
    row = golden.compare("c", "x vs y", a, b, 1e-5, 6)
    assert (row.first_over, row.worst_step) == (2, 5)
    assert golden.table_cells(row)[4:6] == ("t=5", "t=2")
    loose = golden.compare("c", "x vs y", a, b, 5e-5, 6)
    assert (loose.first_over, golden.table_cells(loose)[5]) == (5, "t=5")
    assert golden.compare("c", "x vs y", a, b, 1e-4, 6).first_over is None


def test_the_report_table_shows_where_each_pair_first_crosses_its_tolerance():
    pytest.importorskip("matplotlib")
    from tfjs_lstm import report

    a = [np.zeros((1, 6, 2), np.float32)]
    b = [a[0].copy()]
    b[0][0, :, 0] = [1e-6, 2e-6, 3e-3, 1e-3, 5e-2, 1e-2]
    rows = [golden.compare("c", "x vs tfjs-webgl-f16", a, b, 2e-2, 6),
            golden.compare("c", "x vs tfjs", a, b, 1e-5, 6)]
    page = report.render(rows, "t")
    assert "<td>t=4</td><td>0.02</td>" in page and "<td>t=2</td><td>1e-05</td>" in page



def test_batch_normalization_cases_get_a_positive_moving_variance_and_say_so():
    info = golden.load_case(FIXTURES / "k3_normalization").info
    assert info["weights"].endswith("; moving_variance |normal(0, 0.5)| + 0.5")
    assert "variance" not in golden.load_case(FIXTURES / "k3_stacked").info["weights"]
    weights = load(FIXTURES / "k3_normalization" / "model").weights["batch_norm"]
    assert weights["moving_variance"].min() >= 0.5 and weights["moving_mean"].min() < 0
