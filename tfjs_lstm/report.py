"""A self-contained HTML report of a check: the table, and per drifting case a plot of the abs
error per timestep of each runtime pair (PNG, base64-embedded).

matplotlib is an optional extra (`pip install 'tfjs-lstm[report]'`), imported only here.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence

from .errors import TfjsLstmError
from .golden import HEADER, Row, summary_line, table_cells

INSTALL_HINT = "pip install 'tfjs-lstm[report]'"
HEADER_COLOR = "#1d3557"
STATUS_COLORS = {"pass": "#e9f5ec", "FAIL": "#f8d7da", "skipped": "#eeeeee", "n/a": "#fff6d6"}
PAIR_COLORS = ("#2a9d8f", "#e76f51", "#6a4c93", "#f4a261", "#264653", "#8ab17d", "#b5179e",
               "#457b9d", "#e9c46a", "#9c6644", "#43aa8b", "#577590")
FLOOR = 1e-10  # a log axis cannot show 0: bit-identical steps sit here


class ReportUnavailable(TfjsLstmError):
    """The report needs matplotlib, which is not installed."""


def require_matplotlib() -> None:
    """Raise ReportUnavailable, saying how to install it, when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ReportUnavailable(f"--report needs matplotlib: {INSTALL_HINT}") from None


def drifting(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """Case -> its compared rows, for cases where any pair is not bit-identical."""
    cases: dict[str, list[Row]] = {}
    for row in rows:
        if row.compared:
            cases.setdefault(row.case, []).append(row)
    return {case: found for case, found in cases.items()
            if any(row.max_abs or row.status == "FAIL" for row in found)}


def plot_png(case: str, rows: Sequence[Row]) -> bytes:
    """The abs error per timestep of each pair that is not bit-identical, on a log axis, with a
    cross where it first exceeds its tolerance; an output without a time axis shows as one
    point at the last step. Pairs with the same curve share a line (and a legend entry)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.0, 3.4), dpi=90)
    axes = figure.add_subplot()
    curves: dict[tuple[float, ...], list[Row]] = {}
    for row in rows:
        if row.per_step and row.max_abs:  # pairs with the same curve share one line
            curves.setdefault(tuple(-1.0 if v != v else v for v in row.per_step), []).append(row)
    for index, same in enumerate(curves.values()):
        values = [max(v, FLOOR) for v in same[0].per_step]  # NaN (step not observed) stays NaN
        shown = sum(v == v for v in values)
        label = "\n".join(f"{row.pair} ({row.status}" + (
            f", over tolerance from t={row.first_over})" if row.first_over is not None
            else ")") for row in same)
        width = 1.5 + 3.0 * (len(curves) - 1 - index) / max(len(curves) - 1, 1)
        color = PAIR_COLORS[index % len(PAIR_COLORS)]
        axes.plot(range(len(values)), values, color=color, linewidth=width,
                  marker="o" if shown <= 30 else None, markersize=2 * width,
                  label=label)  # earlier lines wider: lines that coincide stay visible
        first = same[0].first_over
        if first is not None:  # where this pair's error first crosses its tolerance
            axes.plot([first], [values[first]], color=color, marker="X", markersize=11,
                      markeredgecolor="#000", linestyle="none")
    for tolerance in sorted({row.tolerance for row in rows}):  # a backend may have its own
        axes.axhline(tolerance, color="#c1121f", linestyle="--", linewidth=1.2,
                     label=f"tolerance {tolerance:g}")
    axes.set_yscale("log")
    axes.set_xlabel("timestep")
    axes.set_ylabel("max abs error")
    axes.set_title(f"{case}: abs error per timestep", fontsize=11)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def render(rows: Sequence[Row], title: str) -> str:
    """The whole page as one HTML string, nothing loaded from elsewhere."""
    require_matplotlib()
    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p class='summary'>{html.escape(summary_line(rows))}</p>", "<table>", "<thead><tr>",
            *(f"<th>{html.escape(name)}</th>" for name in HEADER), "</tr></thead><tbody>"]
    for row in rows:
        cells = "".join(f"<td>{html.escape(cell)}</td>" for cell in table_cells(row))
        body.append(f"<tr class='{_css(row.status)}'>{cells}</tr>")
    body.append("</tbody></table>")
    cases = drifting(rows)
    body.append(f"<h2>Abs error per timestep ({len(cases)} case(s) not bit-identical)</h2>")
    body.append("<p>A step with no error is drawn at 1e-10; an output without a time axis (the "
                "last step's output, a state) is one point at the last step.</p>")
    for case, found in cases.items():
        png = base64.b64encode(plot_png(case, found)).decode("ascii")
        same = [row.pair for row in found if not row.max_abs]
        note = f"<p>bit-identical: {html.escape(', '.join(same))}</p>" if same else ""
        body.append(f"<section id='{html.escape(case)}'><h3>{html.escape(case)}</h3>{note}"
                    f"<img alt='abs error per timestep for {html.escape(case)}' "
                    f"src='data:image/png;base64,{png}'></section>")
    return _PAGE.format(title=html.escape(title), body="\n".join(body), **_STYLE)


def write_report(path: str | os.PathLike, rows: Sequence[Row], title: str) -> None:
    """Write the report to `path`."""
    from .formats.atomic import staged_file

    page = render(rows, title)
    with staged_file(path) as stage:
        stage.write_text(page, encoding="utf-8")
        stage.chmod(0o644)


def _css(status: str) -> str:
    return {"pass": "pass", "FAIL": "fail", "skipped": "skipped", "n/a": "na"}[status]


_STYLE = {"header": HEADER_COLOR, **{_css(k): v for k, v in STATUS_COLORS.items()}}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th {{ background: {header}; color: #fff; text-align: left; padding: 6px 10px; }}
td {{ padding: 3px 10px; border-bottom: 1px solid #ddd; font-family: monospace; }}
td:nth-child(-n+5) {{ white-space: nowrap; }}
tr.pass td {{ background: {pass}; }} tr.fail td {{ background: {fail}; font-weight: bold; }}
tr.skipped td {{ background: {skipped}; color: #666; }} tr.na td {{ background: {na}; }}
section {{ margin: 18px 0; }} img {{ max-width: 100%; border: 1px solid #ccc; }}
</style></head>
<body>
{body}
</body></html>
"""
