"""The `tfjs-lstm` command line. Exit codes: 0 ok, 1 a check found a difference or an invalid
file (or the target cannot express the input exactly), 2 usage or unreadable input."""

from __future__ import annotations

import argparse
import json
import sys
import traceback

from . import __version__, dialects
from .errors import TfjsLstmError
from .validate import load_json, validate_file


def _cmd_map(args: argparse.Namespace) -> int:
    data = load_json(args.file)
    name = "<stdin>" if args.file == "-" else args.file
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
    worst = 0
    for path in args.files:
        report = validate_file(path, args.as_dialect)
        if report.ok:
            print(f"{report.file}: ok, {report.kind}")
            continue
        worst = 1
        for finding in report.findings:
            print(finding)
        print(f"{report.file}: {len(report.findings)} problem(s), {report.kind}")
    return worst


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
        description="Print one line per problem (file:pointer: message). Exit 0 when all are "
                    "valid, 1 when any is invalid, 2 when a file cannot be read.")
    validator.add_argument("files", nargs="+")
    validator.add_argument("--as", dest="as_dialect", choices=dialects.DIALECTS,
                           help="the dialect of layer configs (default: detect)")
    validator.set_defaults(run=_cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except TfjsLstmError as error:
        if args.debug:
            traceback.print_exc()
        print(f"tfjs-lstm: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
