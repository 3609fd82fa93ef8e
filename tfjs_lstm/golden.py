"""Cross-runtime golden fixtures: made by the real runtimes, checked in any of them.

A case (`fixtures/<case>/`) is a small model with fixed weights and inputs: the model as a tfjs
layers-model folder (`model/`, absent when TensorFlow.js cannot compute it), the source file it
was born as in Keras (`source.keras` or `source.h5`), `inputs.npz`, the outputs each real runtime
computed (`keras3.npz`, `keras2.npz`, `tfjs.npz`) and `case.json` (what it covers, seed,
tolerance, input shapes and dtypes, predict calls, generator versions). A case with `calls` > 1
runs predict that many times on one model object, stateful layers carrying their states from
call to call, and stores the outputs of every call in order. `make` regenerates cases with
Keras 3, tf-keras and TensorFlow.js in Node; `check_cases` runs each case in each available
runtime and compares the outputs with every stored runtime's. Keras and TensorFlow are imported
only when a Keras runtime runs.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.metadata
import io
import json
import logging
import os
import shutil
import tempfile
import warnings
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import InputError, NotExpressibleError, TfjsLstmError

RUNTIMES = ("reference", "keras3", "keras2", "tfjs")
PRODUCERS = ("keras3", "keras2", "tfjs")
CASE_FILE = "case.json"
MODEL_DIR = "model"
INPUTS_FILE = "inputs.npz"
SOURCES = {"keras3": "source.keras", "keras2": "source.h5"}
DEFAULT_TOLERANCE = 1e-5
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

Outputs = list[np.ndarray]
Job = tuple[Path, list[np.ndarray]]


class GoldenError(TfjsLstmError):
    """Fixtures cannot be made here (a runtime is missing, or a runtime failed on a case)."""


# ---------------------------------------------------------------------------------------------
# Runtimes: each runs model files (converting to its own format when needed), batched.


@dataclass(frozen=True)
class NotRun:
    """Why a runtime produced no outputs: the model is not expressible there (n/a), or the
    runtime raised (`failed`, which a check reports as a failure)."""

    reason: str
    failed: bool = False


class Runtime(ABC):
    """A runtime that computes model outputs; `native` is the format it reads as is."""

    name = ""
    label = ""
    native = ""

    def missing(self) -> str | None:
        """Why this runtime is not installed here, or None."""
        return None

    @abstractmethod
    def run(self, jobs: Sequence[Job], calls: Sequence[int] = ()) -> list[Outputs | NotRun]:
        """Outputs (float32) of each (model path, inputs) job, in order: for a job with n
        `calls` (1 when not given) the outputs of n predicts on one model object, in order."""


def _counts(jobs: Sequence[Job], calls: Sequence[int]) -> list[int]:
    """Predict calls per job: `calls` when given (one per job), else one each."""
    counts = list(calls) or [1] * len(jobs)
    if len(counts) != len(jobs) or min(counts, default=1) < 1:
        raise ValueError(f"{len(jobs)} jobs need as many call counts >= 1, got {counts}")
    return counts


class ReferenceRuntime(Runtime):
    """tfjs-lstm's numpy runtime; reads every format."""

    name, label, native = "reference", "reference runtime", ""

    def run(self, jobs: Sequence[Job], calls: Sequence[int] = ()) -> list[Outputs | NotRun]:
        from .convert import load
        from .runtime.engine import Runner

        results: list[Outputs | NotRun] = []
        for (path, inputs), count in zip(jobs, _counts(jobs, calls), strict=True):
            try:
                runner = Runner(load(path))
                results.append([np.asarray(o, np.float32) for _ in range(count)
                                for o in runner.predict(inputs)])
            except TfjsLstmError as error:
                results.append(NotRun(f"reference runtime failed: {error}", failed=True))
        return results


class KerasRuntime(Runtime):
    """Keras 3 (`keras`) or tf-keras (`tf_keras`), run on a `.keras` or `.h5` file."""

    def __init__(self, name: str, label: str, distribution: str, module: str, major: str):
        self.name, self.label, self.native = name, label, name
        self.distribution, self.module_name, self.major = distribution, module, major

    def missing(self) -> str | None:
        try:
            version = importlib.metadata.version(self.distribution)
            importlib.metadata.version("tensorflow")  # the backend both Keras runtimes use here
        except importlib.metadata.PackageNotFoundError as error:
            return f"{error.name} is not installed (pip install 'tfjs-lstm[test]')"
        if not version.startswith(self.major):
            return f"{self.distribution} {version} is installed, not {self.label}"
        return None

    def module(self) -> Any:
        """The Keras module, imported on first use with the TensorFlow backend and quiet logs."""
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        return importlib.import_module(self.module_name)

    def run(self, jobs: Sequence[Job], calls: Sequence[int] = ()) -> list[Outputs | NotRun]:
        """Each job's predicts on one loaded model: neither Keras 3 nor tf-keras resets a
        stateful layer's states in predict, so a second call continues from the first."""
        keras = self.module()
        results: list[Outputs | NotRun] = []
        with tempfile.TemporaryDirectory() as tmp:
            for index, ((path, inputs), count) in enumerate(
                    zip(jobs, _counts(jobs, calls), strict=True)):
                suffix = Path(SOURCES[self.name]).suffix
                native = _in_format(path, self, Path(tmp) / f"{index}{suffix}")
                if isinstance(native, NotRun):
                    results.append(native)
                    continue
                feed = inputs[0] if len(inputs) == 1 else list(inputs)
                outputs: Outputs = []
                try:
                    model = keras.models.load_model(native, compile=False)
                    for _ in range(count):
                        out = model.predict(feed, verbose=0)
                        outputs += out if isinstance(out, (list, tuple)) else [out]
                except Exception as error:  # any failure of the foreign runtime is reported
                    results.append(NotRun(f"{self.label} failed: {error}", failed=True))
                    continue
                results.append([np.asarray(o, np.float32) for o in outputs])
        return results


class TfjsRuntime(Runtime):
    """TensorFlow.js 4.22 in Node (js/harness.mjs): all jobs in one Node process."""

    name, label, native = "tfjs", "TensorFlow.js", "tfjs"

    def missing(self) -> str | None:
        from .node import missing_reason

        return missing_reason()

    def run(self, jobs: Sequence[Job], calls: Sequence[int] = ()) -> list[Outputs | NotRun]:
        from .node import NodeHarness

        harness = NodeHarness.find()
        if harness is None:
            raise GoldenError(f"TensorFlow.js cannot run: {self.missing()}")
        results: list[Outputs | NotRun] = []
        with tempfile.TemporaryDirectory() as tmp:
            ready = []
            for index, ((path, inputs), count) in enumerate(
                    zip(jobs, _counts(jobs, calls), strict=True)):
                folder = _in_format(path, self, Path(tmp) / str(index))
                results.append(folder if isinstance(folder, NotRun) else [])
                if not isinstance(folder, NotRun):
                    ready.append((index, folder, inputs, count))
            replies = harness.predict_folders([(f, x) for _, f, x, _ in ready],
                                              calls=[n for *_, n in ready]) if ready else []
            for (index, *_), reply in zip(ready, replies, strict=True):
                results[index] = (NotRun(f"TensorFlow.js failed: {reply}", failed=True)
                                  if isinstance(reply, str) else reply)
        return results


RUNTIME_TABLE: dict[str, Runtime] = {
    "reference": ReferenceRuntime(),
    "keras3": KerasRuntime("keras3", "Keras 3", "keras", "keras", "3."),
    "keras2": KerasRuntime("keras2", "tf-keras", "tf-keras", "tf_keras", "2."),
    "tfjs": TfjsRuntime(),
}


def parse_runtimes(text: str) -> tuple[str, ...]:
    """'reference,tfjs' -> ('reference', 'tfjs'), in the canonical order; unknown names fail."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(RUNTIMES))
    if unknown or not names:
        raise InputError(f"unknown runtime(s) {', '.join(unknown) or '(none given)'} "
                         f"(known: {', '.join(RUNTIMES)})")
    return tuple(name for name in RUNTIMES if name in names)


def _in_format(path: Path, runtime: Runtime, destination: Path) -> Path | NotRun:
    """`path` itself when the runtime reads it natively, else a converted copy (or why not)."""
    from .convert import convert, detect_format

    if detect_format(path) == runtime.native:
        if runtime.native != "tfjs" or path.is_dir():
            return path
        if path.name == "model.json":  # the harness loads folders
            return path.parent
    try:
        convert(path, destination, to=runtime.native)
    except NotExpressibleError as error:
        return NotRun(f"{runtime.label} cannot compute it: " + "; ".join(
            f"layer '{p.layer}' {p.key}" for p in error.problems))
    return destination


# ---------------------------------------------------------------------------------------------
# Comparing outputs.


@dataclass(frozen=True)
class Row:
    """One line of the table: a runtime pair on a case, or why the pair did not run."""

    case: str
    pair: str
    status: str  # "pass", "FAIL", "skipped" (runtime not installed), "n/a" (not expressible)
    tolerance: float
    max_abs: float | None = None
    max_rel: float | None = None
    worst_step: int | None = None
    worst_output: int | None = None
    outputs: int = 1
    final_only: bool = False
    note: str = ""
    per_step: tuple[float, ...] = ()

    @property
    def compared(self) -> bool:
        return self.max_abs is not None

    def worst_text(self) -> str:
        """Where the largest error is: 't=12', 'last (t=9)' for an output without time axis."""
        if self.worst_step is None:
            return "-"
        where = f"last (t={self.worst_step})" if self.final_only else f"t={self.worst_step}"
        return f"out{self.worst_output} {where}" if self.outputs > 1 else where


def compare(case: str, pair: str, a: Outputs, b: Outputs, tolerance: float,
            steps: int) -> Row:
    """Max abs and relative error, the worst timestep and the error per timestep of a vs b.

    Outputs with a time axis (`[batch, steps, ...]`) are measured per step; an output without one
    (the last step's output, or a state) counts at the last step; `per_step` is NaN at steps no
    output shows. Relative error is
    |a - b| / max(|a|, |b|, tolerance). NaN on one side only counts as an infinite error.
    """
    if len(a) != len(b):
        return Row(case, pair, "FAIL", tolerance, note=f"{len(a)} outputs against {len(b)}")
    per_step = np.full(max(steps, 1), np.nan)
    worst = (-1.0, 0, 0, False)
    max_rel = 0.0
    for index, (x, y) in enumerate(zip(a, b, strict=True)):
        if x.shape != y.shape:
            return Row(case, pair, "FAIL", tolerance, outputs=len(a),
                       note=f"output {index}: shape {list(x.shape)} against {list(y.shape)}")
        x, y = x.astype(np.float64), y.astype(np.float64)
        error = np.where(np.isnan(x) & np.isnan(y), 0.0, np.abs(x - y))
        error = np.where(np.isnan(error), np.inf, error)
        scale = np.maximum(np.maximum(np.abs(np.nan_to_num(x)), np.abs(np.nan_to_num(y))),
                           tolerance)
        max_rel = max(max_rel, float((error / scale).max(initial=0.0)))
        timed = error.ndim >= 3 and error.shape[1] == steps
        if timed:
            step_error = error.max(axis=tuple(i for i in range(error.ndim) if i != 1))
            per_step = np.fmax(per_step, step_error)
            step = int(np.argmax(step_error))
            value = float(step_error[step])
        else:
            step, value = len(per_step) - 1, float(error.max(initial=0.0))
            per_step[step] = np.fmax(per_step[step], value)
        if value > worst[0]:
            worst = (value, step, index, not timed)
    max_abs, step, output, final_only = worst
    status = "pass" if max_abs <= tolerance else "FAIL"
    where = (step, output) if max_abs > 0 else (None, None)
    return Row(case, pair, status, tolerance, max_abs, max_rel, *where, len(a), final_only,
               per_step=tuple(float(e) for e in per_step))


def _steps(inputs: Sequence[np.ndarray]) -> int:
    """Timesteps of the first input: axis 1 of [batch, steps, features], or of integer tokens
    [batch, steps] (an Embedding's input)."""
    first = np.asarray(inputs[0]) if inputs else np.zeros((1,))
    timed = first.ndim >= 3 or (first.ndim == 2 and first.dtype.kind in "iu")
    return int(first.shape[1]) if timed else 1


# ---------------------------------------------------------------------------------------------
# Cases on disk.


@dataclass
class Case:
    """One fixture folder, loaded: its description, inputs and stored outputs."""

    folder: Path
    info: dict[str, Any]
    inputs: list[np.ndarray]
    expected: dict[str, Outputs]

    @property
    def name(self) -> str:
        return str(self.info.get("case", self.folder.name))

    @property
    def tolerance(self) -> float:
        return float(self.info.get("tolerance", DEFAULT_TOLERANCE))

    @property
    def calls(self) -> int:
        """Predict calls per run (states carried between them); 1 in older case.json files."""
        return int(self.info.get("calls", 1))

    def model_for(self, runtime: str) -> Path:
        return model_for(self.folder, runtime)


def model_for(folder: Path, runtime: str) -> Path:
    """The file a runtime runs for a case: its native file when the case has one, else the
    Keras source, else the tfjs folder (the reference runtime prefers the tfjs folder)."""
    native = folder / (MODEL_DIR if runtime in ("tfjs", "reference") else SOURCES[runtime])
    if native.exists():
        return native
    for name in (*SOURCES.values(), MODEL_DIR):
        if (folder / name).exists():
            return folder / name
    raise InputError("the case has no model (model/, source.keras or source.h5)",
                     file=str(folder))


def discover(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Case folders: each path is a case (holds case.json) or a folder of cases."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if (path / CASE_FILE).is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p.parent for p in path.glob(f"*/{CASE_FILE}")))
        else:
            raise InputError("no such case or folder of cases", file=str(path))
    if not found:
        raise InputError(f"no golden cases (folders with {CASE_FILE}) under "
                         f"{', '.join(str(p) for p in paths)}")
    return found


def load_case(folder: Path) -> Case:
    """Read case.json, inputs.npz and every stored runtime's outputs."""
    where = str(folder / CASE_FILE)
    try:
        info = json.loads((folder / CASE_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"cannot read the case: {error}", file=where) from None
    if not isinstance(info, dict):
        raise InputError("case.json must hold an object", file=where)
    inputs = read_npz(folder / INPUTS_FILE)
    _check_recorded_inputs(info, inputs, where)
    expected = {name: read_npz(folder / f"{name}.npz") for name in PRODUCERS
                if (folder / f"{name}.npz").is_file()}
    return Case(folder, info, inputs, expected)


def _check_recorded_inputs(info: dict[str, Any], inputs: Sequence[np.ndarray],
                           where: str) -> None:
    """inputs.npz must hold what case.json records (shapes, dtypes when recorded: older files
    have none) and `calls` must be a count, so a check reruns the case as it was made."""
    recorded = info.get("inputs", {})
    shapes = recorded.get("shapes", [list(np.shape(x)) for x in inputs])
    dtypes = recorded.get("dtypes", [str(np.asarray(x).dtype) for x in inputs])
    found = ([list(np.shape(x)) for x in inputs], [str(np.asarray(x).dtype) for x in inputs])
    if (shapes, dtypes) != found:
        raise InputError(f"{INPUTS_FILE} holds shapes {found[0]} and dtypes {found[1]}, "
                         f"case.json records {shapes} and {dtypes}", file=where)
    calls = info.get("calls", 1)
    if not isinstance(calls, int) or isinstance(calls, bool) or calls < 1:
        raise InputError(f"'calls' must be a whole number >= 1, got {calls!r}", file=where)


def write_npz(path: Path, arrays: Sequence[np.ndarray], prefix: str) -> None:
    """An .npz numpy reads, byte-identical for equal arrays (fixed zip dates, fixed order)."""
    with zipfile.ZipFile(path, "w") as archive:
        for index, array in enumerate(arrays):
            data = io.BytesIO()
            np.lib.format.write_array(data, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{prefix}_{index}.npy", _ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data.getvalue())


def read_npz(path: Path) -> list[np.ndarray]:
    """The arrays of an .npz written by write_npz, in order."""
    try:
        with np.load(path, allow_pickle=False) as data:
            names = sorted(data.files, key=lambda n: int(n.rpartition("_")[2]))
            return [data[name] for name in names]
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise InputError(f"cannot read the arrays: {error}", file=str(path)) from None


# ---------------------------------------------------------------------------------------------
# Checking.


def run_all(jobs_by_runtime: dict[str, list[Job]], calls: Sequence[int] = ()
            ) -> dict[str, list[Outputs | NotRun] | str]:
    """Each runtime's results for its jobs (`calls`: predicts per job, the same list for every
    runtime), or the reason it is not installed."""
    results: dict[str, list[Outputs | NotRun] | str] = {}
    for name, jobs in jobs_by_runtime.items():
        runtime = RUNTIME_TABLE[name]
        reason = runtime.missing()
        results[name] = (f"{runtime.label} not installed: {reason}" if reason
                         else runtime.run(jobs, calls))
    return results


def check_cases(paths: Sequence[str | os.PathLike],
                runtimes: Sequence[str] = RUNTIMES) -> list[Row]:
    """Run every case in every runtime and compare with every stored runtime's outputs."""
    cases = [load_case(folder) for folder in discover(paths)]
    results = run_all({name: [(case.model_for(name), case.inputs) for case in cases]
                       for name in runtimes}, [case.calls for case in cases])
    rows = []
    for index, case in enumerate(cases):
        steps = _steps(case.inputs)
        for name in runtimes:
            result = results[name]
            if isinstance(result, str):
                rows.append(Row(case.name, name, "skipped", case.tolerance, note=result))
                continue
            outputs = result[index]
            if isinstance(outputs, NotRun):
                rows.append(Row(case.name, name, "FAIL" if outputs.failed else "n/a",
                                case.tolerance, note=outputs.reason))
                continue
            for stored, expected in case.expected.items():
                rows.append(compare(case.name, f"{name} vs {stored}.npz", outputs, expected,
                                    case.tolerance, steps))
    return rows


def check_pair(source: str | os.PathLike, target: str | os.PathLike,
               runtimes: Sequence[str] = RUNTIMES, inputs: list[np.ndarray] | None = None,
               tolerance: float = DEFAULT_TOLERANCE) -> list[Row]:
    """A user's pair (a model and its conversion): each file in the reference runtime and in
    its own runtime (Keras 3, tf-keras or TensorFlow.js), every pair of those compared."""
    from .convert import detect_format, load, random_inputs

    files = {"source": Path(source), "target": Path(target)}
    model = load(files["source"])
    inputs = random_inputs(model) if inputs is None else inputs
    _check_inputs(model, inputs, str(files["source"]))
    wanted = [(name, role) for role in files for name in RUNTIMES
              if name in runtimes and name in ("reference", detect_format(files[role]))]
    results = run_all({name: [(files[role], inputs) for n, role in wanted if n == name]
                       for name in dict.fromkeys(name for name, _ in wanted)})
    case = f"{files['source'].name}->{files['target'].name}"
    done: list[tuple[str, Outputs]] = []
    rows = []
    seen: dict[str, int] = {}
    for name, role in wanted:
        result = results[name]
        label = f"{name}({role})"
        if isinstance(result, str):
            rows.append(Row(case, label, "skipped", tolerance, note=result))
            continue
        outputs = result[seen.get(name, 0)]
        seen[name] = seen.get(name, 0) + 1
        if isinstance(outputs, NotRun):
            rows.append(Row(case, label, "FAIL", tolerance, note=outputs.reason))
            continue
        for other, other_outputs in done:
            rows.append(compare(case, f"{other} vs {label}", other_outputs, outputs, tolerance,
                                _steps(inputs)))
        done.append((label, outputs))
    return rows


def _check_inputs(model: Any, inputs: Sequence[np.ndarray], file: str) -> None:
    """Inputs must match the model's declared input shapes before any runtime sees them."""
    if len(inputs) != len(model.inputs):
        raise InputError(f"the model takes {len(model.inputs)} input(s), got {len(inputs)}",
                         file=file)
    for ref, array in zip(model.inputs, inputs, strict=True):
        declared = model.layers[ref.layer].batch_input_shape
        shape = np.shape(array)
        if len(declared) != len(shape) or any(d not in (None, n)
                                               for d, n in zip(declared, shape, strict=True)):
            text = ", ".join("null" if d is None else str(d) for d in declared)
            raise InputError(f"input '{ref.layer}' expects shape [{text}], got {list(shape)}",
                             file=file)


def exit_status(rows: Sequence[Row]) -> int:
    """1 when a pair failed or nothing at all was compared, else 0."""
    failed = any(row.status == "FAIL" for row in rows)
    return 1 if failed or not any(row.compared for row in rows) else 0


def summary_line(rows: Sequence[Row]) -> str:
    """'12 passed, 1 failed, 14 skipped, 2 n/a' (and a warning when nothing was compared)."""
    counts = {status: sum(row.status == status for row in rows)
              for status in ("pass", "FAIL", "skipped", "n/a")}
    text = (f"{counts['pass']} passed, {counts['FAIL']} failed, {counts['skipped']} skipped "
            f"(runtime not installed), {counts['n/a']} n/a (runtime cannot compute the model)")
    if not any(row.compared for row in rows):
        text += "; nothing was compared"
    return text


HEADER = ("case", "runtime pair", "max abs err", "max rel err", "worst timestep", "tolerance",
          "result")


def table_cells(row: Row) -> tuple[str, ...]:
    """The row as the table shows it (the report uses the same text)."""
    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.3g}"

    result = row.status if not row.note else f"{row.status}: {row.note}"
    return (row.case, row.pair, number(row.max_abs), number(row.max_rel), row.worst_text(),
            f"{row.tolerance:g}", result)


def format_table(rows: Sequence[Row]) -> str:
    """A plain-text table, one line per row, columns aligned."""
    cells = [HEADER, *(table_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER) - 1)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)),
                                line[-1]]).rstrip() for line in cells)


# ---------------------------------------------------------------------------------------------
# The case matrix: tiny models covering the LSTM options, born in each runtime.


@dataclass(frozen=True)
class Feed:
    """One model input of a case: its shape, dtype and which steps are padding a mask hides."""

    shape: tuple[int, ...]
    vocab: int = 0  # > 0: int32 tokens in [0, vocab), 0 being what Embedding(mask_zero) masks
    mask_value: float | None = None  # float rows Masking masks, written on the padded tails

    @property
    def dtype(self) -> str:
        return "int32" if self.vocab else "float32"

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """Seeded values; with a mask, sample b's last b * steps // batch steps are padding
        (token 0, or rows all mask_value), so each batch mixes padded and full samples."""
        if self.vocab:
            values = rng.integers(0, self.vocab, self.shape).astype(np.int32)
        else:
            values = rng.normal(0.0, 1.0, self.shape).astype(np.float32)
        pad = 0 if self.vocab else self.mask_value
        if pad is not None:
            batch, steps = self.shape[:2]
            for sample in range(batch):
                values[sample, steps - sample * steps // batch:] = pad
        return values

    def describe(self) -> str:
        """How the values are drawn, for case.json."""
        tail = "sample b's last b*steps//batch steps"
        if self.vocab:
            return (f"int32 tokens uniform in [0, {self.vocab}), {tail} 0 (0 is masked by "
                    "mask_zero)")
        if self.mask_value is None:
            return "normal(0, 1) float32"
        return f"normal(0, 1) float32, {tail} all {self.mask_value:g} (masked by Masking)"


@dataclass(frozen=True)
class Spec:
    """How to make one case: where the model is born, its inputs, how many predict calls
    (states carried between them), seed and what it covers."""

    name: str
    covers: str
    born: str  # "keras3", "keras2" or "tfjs"
    build: Callable[[Any], Any] | tuple[dict[str, Any], ...]
    inputs: tuple[Feed, ...]
    seed: int
    calls: int = 1
    tolerance: float = DEFAULT_TOLERANCE


def _sequential(K: Any, name: str, steps: int, features: int, layers: list,
                batch: int | None = None) -> Any:
    return K.Sequential([K.Input((steps, features), batch_size=batch, name="x"), *layers],
                        name=name)


def _k3_stacked(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "stacked", 8, 4, [
        L.LSTM(6, return_sequences=True, name="lstm_a"),
        L.LSTM(5, return_sequences=True, name="lstm_b"),
        L.Dense(3, activation="tanh", name="head")])


def _k3_options(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "options", 6, 3, [
        L.LSTM(5, go_backwards=True, use_bias=False, unit_forget_bias=False,
               return_sequences=True, dropout=0.25, recurrent_dropout=0.1, unroll=True,
               kernel_regularizer=K.regularizers.L1L2(l2=1e-3),
               kernel_constraint=K.constraints.MaxNorm(3.0), name="lstm_opts"),
        L.LSTM(4, unit_forget_bias=False, bias_initializer="ones", name="lstm_last"),
        L.Dense(2, name="head")])


def _k3_options_state(K: Any) -> Any:
    x = K.Input((6, 3), name="x")
    regularizer = K.regularizers.L2(1e-3)
    last, h, c = K.layers.LSTM(
        4, return_state=True, go_backwards=True, recurrent_regularizer=regularizer,
        bias_regularizer=K.regularizers.L1(1e-3), activity_regularizer=regularizer,
        kernel_initializer="he_uniform", recurrent_initializer="identity",
        bias_initializer="zeros", seed=7, use_cudnn=False, name="lstm_state")(x)
    return K.Model(x, [last, h, c], name="options_state")


def _k3_rnn_cells(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "rnn_cells", 6, 3, [
        L.RNN(L.LSTMCell(4, name="lstm_cell"), return_sequences=True, name="rnn_lstm"),
        L.RNN(L.GRUCell(3, reset_after=False, name="gru_cell"), go_backwards=True,
              return_sequences=True, name="rnn_gru"),
        L.RNN(L.SimpleRNNCell(2, name="simple_cell"), name="rnn_simple")])


def _k3_constraints(K: Any) -> Any:
    L, C = K.layers, K.constraints
    return _sequential(K, "constraints", 5, 3, [
        L.LSTM(4, kernel_constraint=C.MaxNorm(0.5), recurrent_constraint=C.UnitNorm(),
               bias_constraint=C.NonNeg(), return_sequences=True, name="lstm_constrained"),
        L.Dense(2, kernel_constraint=C.MinMaxNorm(0.2, 0.4), name="head")])


def _k3_custom_backward(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "custom_backward", 6, 3, [
        L.Bidirectional(L.LSTM(3, return_sequences=True, name="fw"),
                        backward_layer=L.LSTM(2, activation="relu", go_backwards=True,
                                              return_sequences=True, name="bw"),
                        name="bidi_custom")])


def _k3_return_state(K: Any) -> Any:
    x = K.Input((7, 3), name="x")
    sequence, h, c = K.layers.LSTM(4, return_sequences=True, return_state=True,
                                   name="encoder")(x)
    head = K.layers.Dense(2, activation="softsign", name="head")(sequence)
    return K.Model(x, [head, h, c], name="return_state")


ACTIVATION_PAIRS = (
    ("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("softsign", "tanh"), ("linear", "sigmoid"),
    ("elu", "softsign"), ("selu", "hard_sigmoid"), ("softplus", "relu6"), ("gelu", "sigmoid"),
    ("mish", "softplus"), ("silu", "tanh"), ("sigmoid", "relu"), ("relu6", "elu"))


def _k3_activation_pairs(K: Any) -> Any:
    x = K.Input((6, 3), name="x")
    outputs = [K.layers.LSTM(3, activation=a, recurrent_activation=r, return_sequences=True,
                             name=f"{a}__{r}")(x) for a, r in ACTIVATION_PAIRS]
    return K.Model(x, outputs, name="activation_pairs")


def _k3_hard_sigmoid_gates(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "hard_sigmoid_gates", 9, 3, [
        L.LSTM(5, recurrent_activation="hard_sigmoid", return_sequences=True, name="lstm_hs"),
        L.Dense(3, activation="hard_sigmoid", name="head")])


def _k3_hard_sigmoid_cell(K: Any) -> Any:
    return _sequential(K, "hard_sigmoid_cell", 5, 2, [
        K.layers.LSTM(4, activation="hard_sigmoid", return_sequences=True, name="lstm_cell_hs")])


def _k3_one_step(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "one_step", 1, 3, [L.LSTM(4, name="lstm_1step"),
                                             L.Dense(2, name="head")])


def _k3_long(K: Any) -> Any:
    return _sequential(K, "long", 500, 2, [
        K.layers.LSTM(3, return_sequences=True, name="lstm_long")])


def _k3_long_gru_batch1(K: Any) -> Any:
    return _sequential(K, "long_gru", 500, 2, [
        K.layers.GRU(3, reset_after=False, return_sequences=True, name="gru_long")], batch=1)


def _gru(reset_after: bool) -> Callable[[Any], Any]:
    """A GRU returning its sequence, then one returning its last step backwards, and a Dense."""
    def build(K: Any) -> Any:
        L = K.layers
        return _sequential(K, f"gru_reset_after_{reset_after}".lower(), 7, 3, [
            L.GRU(4, reset_after=reset_after, return_sequences=True, name="gru_a"),
            L.GRU(3, reset_after=reset_after, go_backwards=True, name="gru_b"),
            L.Dense(2, name="head")])
    return build


def _k3_simple_rnn(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "simple_rnn", 6, 3, [
        L.SimpleRNN(5, return_sequences=True, name="rnn_a"),
        L.SimpleRNN(3, activation="relu", go_backwards=True, name="rnn_b"),
        L.Dense(2, name="head")])


def _bidirectional(mode: str | None, recurrent_activation: str = "sigmoid"
                   ) -> Callable[[Any], Any]:
    """Bidirectional(LSTM returning sequences) in one merge mode; None gives two outputs."""
    def build(K: Any) -> Any:
        x = K.Input((5, 3), name="x")
        lstm = K.layers.LSTM(3, recurrent_activation=recurrent_activation,
                             return_sequences=True, name="lstm")
        merged = K.layers.Bidirectional(lstm, merge_mode=mode, name="bi")(x)
        return K.Model(x, merged, name=f"bidirectional_{mode}".lower())
    return build


def _k3_time_distributed(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "time_distributed", 6, 3, [
        L.LSTM(4, return_sequences=True, name="lstm"),
        L.TimeDistributed(L.Dense(2, activation="tanh", name="dense"), name="per_step")])


def _embedding(recurrent: str) -> Callable[[Any], Any]:
    """Embedding(mask_zero) feeding a recurrent layer returning sequences, then an LSTM."""
    def build(K: Any) -> Any:
        L = K.layers
        first = (L.GRU(4, reset_after=False, return_sequences=True, name="gru")
                 if recurrent == "GRU" else L.LSTM(4, return_sequences=True, name="lstm_a"))
        return K.Sequential([K.Input((7,), dtype="int32", name="tokens"),
                             L.Embedding(10, 3, mask_zero=True, name="embed"), first,
                             L.LSTM(3, name="lstm_last")], name="embedding_mask_zero")
    return build


def _masking(mask_value: float, bidirectional: bool = False) -> Callable[[Any], Any]:
    """Masking then an LSTM returning its sequence (inside Bidirectional when asked)."""
    def build(K: Any) -> Any:
        L = K.layers
        lstm = L.LSTM(4, return_sequences=True, name="lstm")
        return _sequential(K, "masking", 6, 3, [
            L.Masking(mask_value, name="mask"),
            L.Bidirectional(lstm, name="bi") if bidirectional else lstm])
    return build


def _k3_stateful(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "stateful", 5, 3, [
        L.LSTM(4, stateful=True, return_sequences=True, name="lstm"),
        L.GRU(3, stateful=True, reset_after=False, name="gru")], batch=2)


def _k3_initial_state(K: Any) -> Any:
    x = K.Input((6, 3), name="x")
    h0, c0 = K.Input((4,), name="h0"), K.Input((4,), name="c0")
    sequence = K.layers.LSTM(4, return_sequences=True, name="lstm")(x, initial_state=[h0, c0])
    return K.Model([x, h0, c0], K.layers.Dense(2, name="head")(sequence), name="initial_state")


def _k2_stacked_hard_sigmoid(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "k2_stacked", 7, 3, [
        L.LSTM(5, recurrent_activation="hard_sigmoid", implementation=1, return_sequences=True,
               name="enc"),
        L.LSTM(4, go_backwards=True, name="dec"),
        L.Dense(2, activation="hard_sigmoid", name="head")])


def _k2_hard_sigmoid_cell(K: Any) -> Any:
    return _sequential(K, "k2_hard_sigmoid_cell", 6, 2, [
        K.layers.LSTM(4, activation="hard_sigmoid", recurrent_activation="hard_sigmoid",
                      return_sequences=True, name="lstm_hs")])


def _tfjs(class_name: str, **args: Any) -> dict[str, Any]:
    return {"className": class_name, "args": args}


def _x(batch: int, steps: int, features: int, mask_value: float | None = None
       ) -> tuple[Feed, ...]:
    """The one float input [batch, steps, features] most cases take."""
    return (Feed((batch, steps, features), mask_value=mask_value),)


MERGE_MODES = ("concat", "sum", "mul", "ave", None)

CASES: tuple[Spec, ...] = (
    Spec("k3_stacked", "stacked LSTMs returning sequences, Dense on every step, default "
         "activations, batch 3", "keras3", _k3_stacked, _x(3, 8, 4), 101),
    Spec("k3_options_batch1", "go_backwards, use_bias=False, unit_forget_bias=False, dropout "
         "and recurrent_dropout (inference: no effect), unroll, regularizer, constraint, a "
         "second LSTM returning its last step; batch 1", "keras3", _k3_options, _x(1, 6, 3),
         102),
    Spec("k3_return_state", "return_sequences with return_state: three outputs (Dense on the "
         "sequence, h, c)", "keras3", _k3_return_state, _x(2, 7, 3), 103),
    Spec("k3_activation_pairs", "one LSTM branch per (activation, recurrent_activation) pair: "
         + ", ".join(f"{a}/{r}" for a, r in ACTIVATION_PAIRS) + " (hard_sigmoid in Keras 3's "
         "sense, x/6 + 0.5)", "keras3", _k3_activation_pairs, _x(2, 6, 3), 104),
    Spec("k3_hard_sigmoid_gates", "Keras 3's hard_sigmoid (x/6 + 0.5) on the gates and on a "
         "Dense: tfjs and tf-keras get rescaled weights", "keras3", _k3_hard_sigmoid_gates,
         _x(2, 9, 3), 105),
    Spec("k3_hard_sigmoid_cell", "Keras 3's hard_sigmoid as the cell activation: no other "
         "runtime can compute it", "keras3", _k3_hard_sigmoid_cell, _x(2, 5, 2), 106),
    Spec("k3_one_step_batch4", "a single timestep, batch 4", "keras3", _k3_one_step,
         _x(4, 1, 3), 107),
    Spec("k3_500_steps", "500 timesteps, 3 units, the whole sequence returned", "keras3",
         _k3_long, _x(2, 500, 2), 108),
    Spec("k3_options_state", "more LSTM options: return_state without return_sequences, "
         "go_backwards, recurrent/bias/activity regularizers, non-default initializers, seed, "
         "use_cudnn=False (none changes inference); outputs last, h, c", "keras3",
         _k3_options_state, _x(2, 6, 3), 109),
    Spec("k3_gru_reset_after", "Keras 3's default GRU (reset_after=True), stacked, go_backwards "
         "on the second: TensorFlow.js cannot compute reset_after, so the converter refuses it",
         "keras3", _gru(True), _x(2, 7, 3), 110),
    Spec("k3_gru_reset_before", "GRU with reset_after=False (the one TensorFlow.js computes), "
         "stacked, go_backwards on the second, batch 3", "keras3", _gru(False), _x(3, 7, 3),
         111),
    Spec("k3_simple_rnn", "SimpleRNN returning sequences (tanh), then one with relu and "
         "go_backwards returning its last step, Dense", "keras3", _k3_simple_rnn, _x(2, 6, 3),
         112),
    *(Spec(f"k3_bidirectional_{str(mode).lower()}", f"Bidirectional(LSTM returning sequences) "
           f"with merge_mode={mode!r}" + (": two outputs, forward and backward"
                                          if mode is None else ""),
           "keras3", _bidirectional(mode), _x(2, 5, 3), 113 + index)
      for index, mode in enumerate(MERGE_MODES)),
    Spec("k3_time_distributed", "LSTM returning sequences, then TimeDistributed(Dense tanh)",
         "keras3", _k3_time_distributed, _x(2, 6, 3), 119),
    Spec("k3_embedding_mask_zero", "int32 tokens into Embedding(mask_zero=True), LSTM returning "
         "sequences, LSTM returning its last step: zeros at random steps and on padded tails "
         "are masked; batch 3", "keras3", _embedding("LSTM"), (Feed((3, 7), vocab=10),), 120),
    Spec("k3_masking", "Masking(mask_value=-1) then LSTM returning sequences: padded tails of "
         "rows all -1 are masked", "keras3", _masking(-1.0), _x(2, 6, 3, -1.0), 121),
    Spec("k3_masking_bidirectional", "Masking then Bidirectional(LSTM returning sequences): "
         "Keras forces zero_output_for_mask inside Bidirectional, which TensorFlow.js does not "
         "compute, so the converter refuses tfjs", "keras3", _masking(0.0, bidirectional=True),
         _x(2, 6, 3, 0.0), 122),
    Spec("k3_stateful_two_calls", "stateful LSTM returning sequences, then a stateful GRU "
         "(reset_after=False), batch fixed at 2: predict twice on one model, the second call "
         "continues from the states the first left", "keras3", _k3_stateful, _x(2, 5, 3), 123,
         calls=2),
    Spec("k3_initial_state", "functional model with inputs x, h0, c0: LSTM(x, "
         "initial_state=[h0, c0]) returning sequences, Dense", "keras3", _k3_initial_state,
         (Feed((2, 6, 3)), Feed((2, 4)), Feed((2, 4))), 124),
    Spec("k3_500_steps_batch1", "500 timesteps, batch 1: GRU (reset_after=False) returning "
         "the whole sequence, batch size fixed in the input", "keras3", _k3_long_gru_batch1,
         _x(1, 500, 2), 125),
    Spec("k3_rnn_cells", "RNN over LSTMCell, GRUCell (reset_after=False, go_backwards) and "
         "SimpleRNNCell, stacked", "keras3", _k3_rnn_cells, _x(2, 6, 3), 130),
    Spec("k3_constraints", "weight constraints (MaxNorm, UnitNorm, NonNeg, MinMaxNorm) the "
         "seeded weights break: Keras ignores them at inference, TensorFlow.js would apply "
         "them when loading, so the tfjs folder is written without them", "keras3",
         _k3_constraints, _x(2, 5, 3), 131),
    Spec("k3_custom_backward_layer", "Bidirectional with its own backward_layer (2 "
         "relu units against 3 tanh forward): Keras 3 and tf-keras only, TensorFlow.js "
         "always copies the forward layer", "keras3", _k3_custom_backward, _x(2, 6, 3), 132),
    Spec("k2_stacked_hard_sigmoid", "tf-keras: hard_sigmoid in Keras 2's sense (0.2x + 0.5) on "
         "gates and Dense, implementation=1, go_backwards on the second LSTM; Keras 3 gets "
         "rescaled weights", "keras2", _k2_stacked_hard_sigmoid, _x(3, 7, 3), 201),
    Spec("k2_hard_sigmoid_cell", "tf-keras: Keras 2's hard_sigmoid as cell and recurrent "
         "activation (TensorFlow.js computes it; Keras 3 cannot), batch 1", "keras2",
         _k2_hard_sigmoid_cell, _x(1, 6, 2), 202),
    Spec("k2_gru_reset_before", "tf-keras: GRU with reset_after=False, stacked, go_backwards on "
         "the second", "keras2", _gru(False), _x(2, 7, 3), 203),
    Spec("k2_bidirectional_ave_hard_sigmoid", "tf-keras: Bidirectional(LSTM with Keras 2's "
         "hard_sigmoid gates) with merge_mode='ave'; Keras 3 gets rescaled weights", "keras2",
         _bidirectional("ave", "hard_sigmoid"), _x(2, 5, 3), 204),
    Spec("k2_masking", "tf-keras: Masking(mask_value=0) then LSTM returning sequences: padded "
         "tails of zero rows are masked", "keras2", _masking(0.0), _x(3, 6, 3, 0.0), 205),
    Spec("k2_embedding_gru", "tf-keras: int32 tokens into Embedding(mask_zero=True), GRU "
         "(reset_after=False) returning sequences, LSTM returning its last step", "keras2",
         _embedding("GRU"), (Feed((2, 7), vocab=10),), 206),
    Spec("tfjs_seed_lstm32", "born in TensorFlow.js: tf.layers.lstm({units: 32, "
         "inputShape: [10, 8], returnSequences: true}), defaults otherwise (hardSigmoid gates, "
         "no unit forget bias)", "tfjs",
         (_tfjs("LSTM", units=32, inputShape=[10, 8], returnSequences=True),), _x(2, 10, 8),
         301),
    Spec("tfjs_defaults_dense", "born in TensorFlow.js with default arguments: lstm({units: 4}) "
         "then dense({units: 2}); batch 1", "tfjs",
         (_tfjs("LSTM", units=4, inputShape=[6, 3]), _tfjs("Dense", units=2)), _x(1, 6, 3),
         302),
    Spec("tfjs_defaults_stacked_1step", "born in TensorFlow.js with default arguments: two "
         "stacked LSTMs on a single timestep, batch 3", "tfjs",
         (_tfjs("LSTM", units=5, inputShape=[1, 4], returnSequences=True),
          _tfjs("LSTM", units=3)), _x(3, 1, 4), 303),
    Spec("tfjs_defaults_gru", "born in TensorFlow.js with default arguments: gru({units: 4}) "
         "(hardSigmoid gates, resetAfter false)", "tfjs",
         (_tfjs("GRU", units=4, inputShape=[6, 3]),), _x(2, 6, 3), 304),
    Spec("tfjs_defaults_simple_rnn", "born in TensorFlow.js with default arguments: "
         "simpleRNN({units: 4}); batch 1", "tfjs",
         (_tfjs("SimpleRNN", units=4, inputShape=[5, 2]),), _x(1, 5, 2), 305),
    Spec("tfjs_defaults_bidirectional", "born in TensorFlow.js with default arguments: "
         "bidirectional({layer: lstm({units: 3})}) (concat, hardSigmoid gates); batch 3",
         "tfjs", (_tfjs("Bidirectional", layer={"className": "LSTM", "config": {"units": 3}},
                        inputShape=[5, 2]),), _x(3, 5, 2), 306),
)


# ---------------------------------------------------------------------------------------------
# Making fixtures.


def select(patterns: Sequence[str]) -> list[Spec]:
    """The cases whose names match any fnmatch pattern; no match is an error."""
    chosen = [spec for spec in CASES if any(fnmatch.fnmatchcase(spec.name, p) for p in patterns)]
    if not chosen:
        raise InputError(f"no case matches {', '.join(patterns)} (cases: "
                         f"{', '.join(spec.name for spec in CASES)})")
    return chosen


def generator_versions() -> dict[str, str]:
    """The versions of everything that computed a fixture's numbers or files."""
    from .node import TFJS_VERSION

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
        folders = [_birth(spec, stage / spec.name) for spec in specs]
        results = {name: RUNTIME_TABLE[name].run(
            [(model_for(folder, name), read_npz(folder / INPUTS_FILE)) for folder in folders],
            [spec.calls for spec in specs]) for name in PRODUCERS}
        versions = generator_versions()
        written = []
        for index, (spec, folder) in enumerate(zip(specs, folders, strict=True)):
            _finish(spec, folder, {name: results[name][index] for name in PRODUCERS}, versions)
            destination = out / spec.name
            if destination.exists():
                shutil.rmtree(destination)
            os.replace(folder, destination)
            written.append(destination)
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _draw(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    """Seeded weights at a scale that keeps the gates off saturation: N(0, 1/fan_in)."""
    std = 1.0 / np.sqrt(shape[0]) if len(shape) == 2 else 0.5
    return rng.normal(0.0, std, tuple(shape)).astype(np.float32)


def _birth(spec: Spec, folder: Path) -> Path:
    """Create the model in the runtime it is born in, with seeded weights; write its source,
    its tfjs folder (when TensorFlow.js can compute it) and the inputs."""
    from .convert import convert

    folder.mkdir(parents=True)
    rng = np.random.default_rng(spec.seed)
    if spec.born == "tfjs":
        _tfjs_birth(spec, folder / MODEL_DIR, rng)
    else:
        keras = RUNTIME_TABLE[spec.born].module()
        assert callable(spec.build)
        model = spec.build(keras)
        for layer in model.layers:
            layer.set_weights([_draw(rng, w.shape) for w in layer.get_weights()])
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
            convert(source, folder / MODEL_DIR)
            (folder / MODEL_DIR).chmod(0o755)
        except NotExpressibleError:
            pass  # recorded in case.json from the tfjs runtime's own reason
    write_npz(folder / INPUTS_FILE, [feed.draw(rng) for feed in spec.inputs], "input")
    return folder


def _tfjs_birth(spec: Spec, folder: Path, rng: np.random.Generator) -> None:
    """tfjs's own model.save() of the layers, then its shard refilled with seeded weights in
    manifest order (the harness saves tfjs's unseeded initial weights)."""
    from .node import NodeHarness

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


def _tolerance_note(spec: Spec, stored: dict[str, Outputs]) -> str:
    """What the tolerance bounds, with the largest difference measured between the runtimes
    that computed the case: the real noise (float32 rounding in another order) shows the
    margin the tolerance leaves."""
    text = "max abs difference allowed between two runtimes' outputs; "
    if len(stored) < 2:
        return text + "one runtime computes this case: the others are checked against it"
    names = sorted(stored)
    spread = max(float(np.max(np.abs(x.astype(np.float64) - y), initial=0.0))
                 for i, a in enumerate(names) for b in names[i + 1:]
                 for x, y in zip(stored[a], stored[b], strict=True))
    return text + f"{', '.join(names)} differ by at most {spread:.3g} here"


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
            info = zipfile.ZipInfo(name, _ZIP_DATE)
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
            versions: dict[str, str]) -> None:
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
        "weights": "normal(0, 1/sqrt(fan_in)) for matrices, normal(0, 0.5) for biases, "
                   "float32, drawn layer by layer before the inputs",
        "seed": spec.seed,
        "tolerance": spec.tolerance,
        "tolerance_note": _tolerance_note(spec, {name: outputs for name, outputs in
                                                 results.items() if name in expected}),
        "expected": expected,
        "not_computable": not_computable,
        "generator": versions,
    }
    (folder / CASE_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8")
