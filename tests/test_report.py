"""The HTML report: self-contained, the table and a plot per drifting case, seen in headless
Chromium; without matplotlib the command says how to install it."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_golden import FIXTURES, perturbed_copy

from tfjs_lstm import golden, report
from tfjs_lstm.cli import main


def test_without_matplotlib_the_report_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    page = tmp_path / "report.html"
    code = main(["golden", "check", str(FIXTURES / "k3_stacked"), "--runtimes", "reference",
                 "--report", str(page)])
    assert code == 2
    assert "--report needs matplotlib: pip install 'tfjs-lstm[report]'" in capsys.readouterr().err
    assert not page.exists()


def identical_outputs(case: Path) -> None:
    """Store the reference runtime's own outputs as every runtime's: a case that does not drift."""
    [outputs] = golden.RUNTIME_TABLE["reference"].run(
        [(golden.model_for(case, "reference"), golden.read_npz(case / golden.INPUTS_FILE))])
    for stored in case.glob("*.npz"):
        if stored.name != golden.INPUTS_FILE:
            golden.write_npz(stored, outputs, "output")


def test_the_report_holds_the_table_and_one_embedded_plot_per_drifting_case(tmp_path, capsys):
    root = perturbed_copy(tmp_path, others=("k3_options_batch1", "k3_hard_sigmoid_cell"))
    identical_outputs(root / "k3_options_batch1")
    page = tmp_path / "report.html"
    assert main(["golden", "check", str(root), "--runtimes", "reference",
                 "--report", str(page)]) == 1
    assert f"wrote {page}" in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    rows = golden.check_cases([root], ("reference",))
    assert text.count("<tr class=") == len(rows) == 7
    assert text.count("<tr class='fail'>") == 3
    # k3_options_batch1 is bit-identical in the reference runtime now: no plot for it.
    assert {r.case for r in rows if r.max_abs == 0} == {"k3_options_batch1"}
    sections = re.findall(r"<section id='([^']+)'>", text)
    assert sections == ["k3_hard_sigmoid_cell", "k3_stacked"]
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    assert len(images) == 2
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    assert not re.search(r"(src|href)=['\"]?(https?:|//|file:)", text)


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is needed: `make test` installs it")
def test_headless_chromium_shows_the_table_and_a_plot(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    root = perturbed_copy(tmp_path, others=("k3_options_batch1",))
    page = tmp_path / "report.html"
    report.write_report(page, golden.check_cases([root], ("reference",)), "screenshot test")
    shot = tmp_path / "screenshot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    "--window-size=1200,1000", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    pixels = (image.imread(shot)[..., :3] * 255).round()

    def count(color: str) -> int:
        rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
        return int((abs(pixels - rgb).max(axis=-1) <= 6).sum())

    assert count(report.HEADER_COLOR) > 5000, "the table header is not on screen"
    assert count(report.STATUS_COLORS["FAIL"]) > 5000, "the failing rows are not on screen"
    assert count(report.STATUS_COLORS["pass"]) > 5000, "the passing rows are not on screen"
    assert count(report.PAIR_COLORS[0]) > 100, "the plot's first line is not on screen"
