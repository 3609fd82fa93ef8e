"""The `tfjs-lstm` command line. Exit codes: 0 ok, 1 a check found a difference or an invalid
file (or the target cannot express the input exactly), 2 usage or unreadable input."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from typing import TYPE_CHECKING

import numpy as np

from . import __version__, dialects
from .errors import InputError, TfjsLstmError, naming, reading
from .formats.atomic import staged_file
from .formats.untrusted import load_npy
from .summary import STYLES

if TYPE_CHECKING:  # golden and validate (jsonschema) load only for the commands that use them
    from .golden import Row


def _cmd_map(args: argparse.Namespace) -> int:
    from .validate import load_json

    data = load_json(args.file)
    name = "<stdin>" if args.file == "-" else args.file
    with reading(name):
        return _map(args, data, name)


def _map(args: argparse.Namespace, data: object, name: str) -> int:
    if args.to == "canonical":
        notes: list[str] = []
        config = dialects.read(args.source, data, file=name, notes=notes)
        _print_json(dialects.to_json(config))
        _print_notes(notes, [])
        return 0
    result = dialects.convert(args.source, args.to, data, file=name)
    _print_json(result.config)
    _print_notes(result.notes, [t.describe() for t in result.transforms])
    return 0


def _print_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def _print_notes(notes: list[str], transforms: list[str]) -> None:
    for transform in transforms:
        print(f"weight transform: {transform}", file=sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .validate import validate_file

    worst = 0
    for path in args.files:
        report = validate_file(path, args.as_dialect)
        for warning in report.warnings:
            print(f"warning: {warning}")
        if report.ok and not (args.strict and report.warnings):
            print(f"{report.file}: ok, {report.kind}"
                  + (f", {len(report.warnings)} warning(s)" if report.warnings else ""))
            continue
        worst = 1
        for finding in report.findings:
            print(_one_line(str(finding)))
        print(f"{report.file}: {len(report.findings)} problem(s), {len(report.warnings)} "
              f"warning(s), {report.kind}")
    return worst


def _cmd_convert(args: argparse.Namespace) -> int:
    from .convert import compared, convert
    from .progress import Progress

    options = {"float16": args.quantize_float16, "uint8": args.quantize_uint8,
               "uint16": args.quantize_uint16}
    with naming(args.source):
        inputs = _check_inputs(args.source) if args.check else None
    if args.weight_shard_size_bytes is not None:
        options["shard_size_bytes"] = args.weight_shard_size_bytes
    if args.companion:
        options["companion"] = True
    with Progress("convert", unit="bytes", minimum=PROGRESS_BYTES) as bar, \
            naming(args.source):
        report = convert(args.source, args.destination, to=args.to, progress=bar.update,
                         **options)
    print(f"wrote {args.destination}: {report['layers']} layers, {report['params']:,} params, "
          f"{report['weights']} weights, {report['bytes']:,} bytes"
          + (f", shards {', '.join(report['shards'])}" if report.get("shards") else ""))
    _print_notes(report["notes"], report["transforms"])
    quantized = any(options[k] is not None for k in ("float16", "uint8", "uint16"))
    if args.check and quantized:
        return _check_quantized(args, inputs)
    if args.check:
        row = compared(args.source, args.destination, inputs, to=args.to,
                       tolerance=args.tolerance)
        difference = row.max_abs or 0.0
        verdict = "ok" if difference <= args.tolerance else "DIFFERENT"
        print(f"check: max abs difference {difference:.3g} on random inputs "
              f"(tolerance {args.tolerance:g}): {verdict}")
        if row.skipped:
            print(f"check: {row.note}")
        return 0 if difference <= args.tolerance else 1
    return 0


PROGRESS_BYTES = 32 << 20
TIME_RUNS = 10  # check --time: timed predicts per runtime, after one warm-up
"""Weights from this size on get a progress bar while they are written (on a terminal)."""


def _check_inputs(source: str) -> list[np.ndarray]:
    """The random inputs `--check` runs, drawn before anything is written, so a model too
    large to run here is refused with nothing left behind."""
    from .convert import load, random_inputs
    from .runtime.engine import require_run_memory

    model = load(source)
    inputs = random_inputs(model)
    require_run_memory(model, [array.shape for array in inputs])
    return inputs


def _check_quantized(args: argparse.Namespace, inputs: list[np.ndarray]) -> int:
    """Quantized weights cannot be exact: each must lie within the bound its encoding states."""
    from .convert import check, quantization_errors

    rows = quantization_errors(args.source, args.destination)
    worst = max(rows, key=lambda row: row[1] / row[2] if row[2] else 0.0)
    outside = [row for row in rows if row[1] > row[2]]
    print(f"check: {len(rows)} quantized weights, largest error {worst[1]:.3g} "
          f"(bound {worst[2]:.3g}, {worst[0]}); outputs moved by "
          f"{check(args.source, args.destination, inputs, to=args.to):.3g} on random inputs")
    for name, error, bound in outside:
        print(f"check: weight {name} is off by {error:.3g}, beyond its bound {bound:.3g}")
    return 1 if outside else 0


def _cmd_summary(args: argparse.Namespace) -> int:
    from .convert import load
    from .summary import as_json, render

    model = load(args.model)
    if args.json:
        _print_json(as_json(model))
    else:
        print(render(model, args.style))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .convert import load
    from .runtime.batches import predict_in_batches

    model = load(args.model)
    inputs = [load_npy(path) for path in args.inputs]
    with naming(args.model):
        states = dict(_initial_state(model, spec, inputs) for spec in args.initial_states)
        outputs = predict_in_batches(model, inputs, states, batch_size=args.batch_size,
                                     precision=args.precision)
    with staged_file(args.output) as stage:
        if len(outputs) == 1:
            with open(stage, "wb") as handle:
                np.save(handle, outputs[0])
        else:
            with open(stage, "wb") as handle:
                np.savez(handle, **{ref.layer: out for ref, out
                                    in zip(model.outputs, outputs, strict=True)})
    shapes = ", ".join(str(list(o.shape)) for o in outputs)
    print(f"wrote {args.output}: {len(outputs)} output(s) {shapes}")
    return 0


def _initial_state(model, spec: str, inputs: list[np.ndarray]) -> tuple[str, list[np.ndarray]]:
    """`LAYER=H.npy[,C.npy]` read and checked against the layer's states: count and shapes."""
    from .runtime.batches import checked_initial_states

    layer, _, paths = spec.partition("=")
    if not paths:
        raise InputError(f"--initial-state {spec!r}: expected LAYER=H.npy[,C.npy]")
    files = paths.split(",")
    arrays = [load_npy(path) for path in files]
    return layer, checked_initial_states(model, layer, arrays, inputs, files)


def _cmd_golden_make(args: argparse.Namespace) -> int:
    from .golden import make

    patterns = [p.strip() for p in args.cases.split(",") if p.strip()] or ["*"]
    for folder in make(args.out, patterns):
        print(f"wrote {folder}")
    return 0


def _cmd_golden_check(args: argparse.Namespace) -> int:
    from .golden import check_cases

    runtimes = _runtimes(args.runtimes, args.tfjs_backends, args.browser)
    _require_report(args.report)
    return _print_rows(check_cases(args.paths or ["fixtures"], runtimes), args.report,
                       "tfjs-lstm golden check")


def _cmd_check(args: argparse.Namespace) -> int:
    from .golden import check_pair

    runtimes = _runtimes(args.runtimes, args.tfjs_backends, args.browser)
    _require_report(args.report)
    inputs = [load_npy(path) for path in args.inputs] if args.inputs else None
    with naming(args.source):
        rows = check_pair(args.source, args.target, runtimes, inputs, args.tolerance)
    status = _print_rows(rows, args.report, f"tfjs-lstm check {args.source} {args.target}")
    if args.time:
        from .golden import format_times, time_pair

        print(format_times(time_pair(args.source, args.target, args.time, runtimes, inputs),
                           args.time))
    return status


def _runtimes(text: str | None, tfjs_backends: str, browser: bool) -> tuple[str, ...]:
    """--runtimes parsed (all of them when it is not given), tfjs once per --tfjs-backends
    (cpu and wasm in Chromium with --browser)."""
    from .golden import RUNTIMES, parse_runtimes

    return parse_runtimes(",".join(RUNTIMES) if text is None else text, tfjs_backends,
                          browser)


def _require_report(path: str | None) -> None:
    """Fail before any runtime starts when the report cannot be drawn."""
    if path is not None:
        from .report import require_matplotlib

        require_matplotlib()


def _print_rows(rows: list[Row], report: str | None, title: str) -> int:
    """The table and its summary line; the HTML report too when asked; the exit status."""
    from .golden import exit_status, format_table, summary_line

    print(format_table(rows))
    print(summary_line(rows))
    if report is not None:
        from .report import write_report

        write_report(report, rows, title)
        print(f"wrote {report}")
    return exit_status(rows)


def _positive_int(text: str) -> int:
    """An option that counts something: a whole number above zero."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 or len(text) > 19:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfjs-lstm",
        description="Move recurrent Keras models to TensorFlow.js and back, exactly.")
    parser.add_argument("--version", action="version", version=f"tfjs-lstm {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)

    mapper = commands.add_parser(
        "map", help="map one layer config between dialects",
        description="Read a layer config in one dialect and print it in another. Weight "
                    "transforms the target needs (hard_sigmoid rescale) and notes go to stderr.")
    mapper.add_argument("--from", dest="source", required=True, choices=dialects.DIALECTS)
    mapper.add_argument("--to", required=True, choices=(*dialects.DIALECTS, "canonical"))
    mapper.add_argument("file", help="a JSON file, or - for standard input")
    mapper.set_defaults(run=_cmd_map)

    validator = commands.add_parser(
        "validate", help="check model.json files and layer configs against the schemas",
        description="Print one line per problem (file:pointer: message) and per warning "
                    "(warning: file:pointer: message). Exit 0 when all are valid (warnings "
                    "allowed unless --strict), 1 when any is invalid, 2 when a file cannot be "
                    "read.")
    validator.add_argument("files", nargs="+")
    validator.add_argument("--as", dest="as_dialect", choices=dialects.DIALECTS,
                           help="the dialect of layer configs (default: detect)")
    validator.add_argument("--strict", action="store_true",
                           help="fail on warnings too (keys a runtime ignores, topologies "
                                "TensorFlow.js cannot load that tfjs-lstm can repair)")
    validator.set_defaults(run=_cmd_validate)

    converter = commands.add_parser(
        "convert", help="convert a model: .keras / .h5 <-> tfjs layers-model folder",
        description="Convert exactly or not at all: a layer the target cannot compute exactly "
                    "stops the conversion before anything is written.")
    converter.add_argument("source", help="a .keras or .h5 file, or a tfjs folder/model.json")
    converter.add_argument("destination", help="a folder for tfjs, or a .keras or .h5 file")
    converter.add_argument("--to", choices=("tfjs", "keras3", "keras2"),
                           help="the target format (default: from DESTINATION)")
    converter.add_argument("--weight_shard_size_bytes", type=_positive_int, default=None,
                           help="shard size for tfjs output (default 4194304)")
    for method in ("float16", "uint8", "uint16"):
        converter.add_argument(f"--quantize_{method}", nargs="?", const="*", default=None,
                               metavar="PATTERNS",
                               help=f"store weights as {method} (all, or comma-separated "
                                    "patterns over tfjs weight names such as '*/kernel')")
    converter.add_argument("--companion", action="store_true",
                           help="tfjs output: write the classes of the npm package "
                                "tfjs-lstm-companion where tfjs's own cannot compute a layer "
                                "(GRU with reset_after=True)")
    converter.add_argument("--check", action="store_true",
                           help="run both models on random inputs and compare")
    converter.add_argument("--tolerance", type=float, default=1e-5)
    converter.set_defaults(run=_cmd_convert)

    summary = commands.add_parser("summary", help="layers, output shapes and parameter counts")
    summary.add_argument("model")
    summary.add_argument("--style", choices=STYLES, default="keras3")
    summary.add_argument("--json", action="store_true")
    summary.set_defaults(run=_cmd_summary)

    runner = commands.add_parser("run", help="run a model in the numpy reference runtime")
    runner.add_argument("model")
    runner.add_argument("--input", dest="inputs", action="append", required=True,
                        help="a .npy file per model input, in order")
    runner.add_argument("--output", required=True, help=".npy (one output) or .npz")
    runner.add_argument("--precision", choices=("float32", "float64"), default="float32")
    runner.add_argument("--batch-size", type=_positive_int, default=None, metavar="N",
                        help="run N samples at a time and join the outputs (default: all at "
                             "once); stateful models need the batch size they were built for")
    runner.add_argument("--initial-state", dest="initial_states", action="append", default=[],
                        metavar="LAYER=H.npy[,C.npy]",
                        help="initial states of a recurrent layer, by name (repeatable)")
    runner.set_defaults(run=_cmd_run)

    runtimes_help = ("comma-separated runtimes among reference, keras3, keras2, tfjs (default: "
                     "all); one not installed is reported as skipped")
    backends_help = ("comma-separated TensorFlow.js backends among cpu, wasm (in Node), webgl, "
                     "webgl-f16 (in headless Chromium), each its own runtime (tfjs, tfjs-wasm, "
                     "tfjs-webgl, ...) (default: cpu); one that cannot start is reported as "
                     "skipped")
    browser_help = ("run cpu and wasm in headless Chromium instead of Node (runtimes "
                    "tfjs-cpu-browser, tfjs-wasm-browser); webgl always runs there")
    golden = commands.add_parser(
        "golden", help="cross-runtime golden fixtures: make them, check them",
        description="Fixtures hold small models with the outputs Keras 3, tf-keras and "
                    "TensorFlow.js computed for them.")
    golden_commands = golden.add_subparsers(dest="golden_command", required=True)
    maker = golden_commands.add_parser(
        "make", help="regenerate fixtures with the real runtimes",
        description="Needs the test extra (TensorFlow, Keras 3, tf-keras) and Node with "
                    "js/node_modules. Running it twice gives byte-identical files.")
    maker.add_argument("--cases", default="*",
                       help="comma-separated fnmatch patterns over case names (default: all)")
    maker.add_argument("--out", default="fixtures", help="the fixtures folder (default: "
                                                         "fixtures)")
    maker.set_defaults(run=_cmd_golden_make)
    golden_check = golden_commands.add_parser(
        "check", help="run the fixtures in each runtime and compare every pair",
        description="Prints case, runtime pair, max abs and relative error, worst timestep, "
                    "first timestep over the tolerance and pass/fail against each case's "
                    "tolerance. Exit 1 on any failure.")
    golden_check.add_argument("paths", nargs="*",
                              help="case folders or folders of cases (default: fixtures)")
    golden_check.add_argument("--runtimes", help=runtimes_help)
    golden_check.add_argument("--tfjs-backends", default="cpu", help=backends_help)
    golden_check.add_argument("--browser", action="store_true", help=browser_help)
    golden_check.add_argument("--report", metavar="HTML",
                              help="also write a self-contained HTML report (needs matplotlib)")
    golden_check.set_defaults(run=_cmd_golden_check)

    checker = commands.add_parser(
        "check", help="compare a model and its conversion in every available runtime",
        description="Runs SOURCE and TARGET each in the reference runtime and in its own "
                    "runtime (Keras 3, tf-keras or TensorFlow.js) and compares every pair. "
                    "Exit 1 on any difference above the tolerance.")
    checker.add_argument("source", help="a .keras or .h5 file, or a tfjs folder/model.json")
    checker.add_argument("target", help="its conversion, in any of those formats")
    checker.add_argument("--input", dest="inputs", action="append",
                         help="a .npy file per model input, in order (default: random inputs "
                              "of the model's input shapes)")
    checker.add_argument("--runtimes", help=runtimes_help)
    checker.add_argument("--tfjs-backends", default="cpu", help=backends_help)
    checker.add_argument("--browser", action="store_true", help=browser_help)
    checker.add_argument("--tolerance", type=float,
                         help="max abs error allowed (default: 1e-5, or a runtime's own when "
                              "its float noise needs more)")
    checker.add_argument("--time", type=_positive_int, nargs="?", const=TIME_RUNS,
                         metavar="RUNS", help="also print each runtime's median predict time "
                         f"over RUNS predicts (default {TIME_RUNS}) after one warm-up predict")
    checker.add_argument("--report", metavar="HTML",
                         help="also write a self-contained HTML report (needs matplotlib)")
    checker.set_defaults(run=_cmd_check)
    return parser


def _one_line(text: str) -> str:
    """A message quoting file content, its control characters escaped: one line on a
    terminal whatever the file held."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except TfjsLstmError as error:
        if args.debug:
            traceback.print_exc()
        print(f"tfjs-lstm: error: {_one_line(str(error))}", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        if args.debug:
            traceback.print_exc()
        where = f"{error.filename}: " if getattr(error, "filename", None) else ""
        print(f"tfjs-lstm: error: {_one_line(f'{where}{error.strerror or error}')}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - the last boundary: one line, never a traceback
        if args.debug:
            traceback.print_exc()
        print(f"tfjs-lstm: internal error: {type(error).__name__}: "
              f"{_one_line(str(error)[:200])} (a bug in tfjs-lstm; run with --debug for the "
              "traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
