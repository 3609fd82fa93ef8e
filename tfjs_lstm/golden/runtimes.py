"""Runtimes: each runs model files (converting to its own format when needed), a batch of jobs
at a time. A new runtime is one `Runtime` subclass here, registered in `RUNTIME_TABLE`."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import logging
import os
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import companion
from ..browser import BACKENDS as BROWSER_BACKENDS
from ..errors import InputError, NotExpressibleError, TfjsLstmError
from ..node import BACKENDS as NODE_BACKENDS
from .files import SOURCES, Outputs

RUNTIMES = ("reference", "keras3", "keras2", "tfjs")

Job = tuple[Path, list[np.ndarray]]


class GoldenError(TfjsLstmError):
    """Fixtures cannot be made here (a runtime is missing, or a runtime failed on a case)."""


class Unavailable(GoldenError):
    """A runtime that is installed could not start here (a tfjs backend that cannot start)."""


@dataclass(frozen=True)
class NotRun:
    """Why a runtime produced no outputs: the model is not expressible there (n/a), or the
    runtime raised (`failed`, which a check reports as a failure)."""

    reason: str
    failed: bool = False


class Runtime(ABC):
    """A runtime that computes model outputs; `native` is the format it reads as is;
    `tolerance` the least max abs error its float noise lets a pair with it be held to."""

    name = ""
    label = ""
    native = ""
    tolerance = 0.0

    def missing(self) -> str | None:
        """Why this runtime is not installed here, or None."""
        return None

    @abstractmethod
    def run(self, jobs: Sequence[Job], calls: Sequence[int] = ()) -> list[Outputs | NotRun]:
        """Outputs (float32) of each (model path, inputs) job, in order: for a job with n
        `calls` (1 when not given) the outputs of n predicts on one model object, in order."""

    @abstractmethod
    def time(self, jobs: Sequence[Job], runs: int) -> list[list[float] | NotRun]:
        """Seconds each of `runs` predicts of each job took, after one untimed warm-up predict
        (which pays for loading, tracing and compiling shaders)."""


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
        from ..convert import load
        from ..runtime.engine import Runner

        results: list[Outputs | NotRun] = []
        for (path, inputs), count in zip(jobs, _counts(jobs, calls), strict=True):
            try:
                runner = Runner(load(path))
                results.append([np.asarray(o, np.float32) for _ in range(count)
                                for o in runner.predict(inputs)])
            except TfjsLstmError as error:
                results.append(NotRun(f"reference runtime failed: {error}", failed=True))
        return results

    def time(self, jobs: Sequence[Job], runs: int) -> list[list[float] | NotRun]:
        from ..convert import load
        from ..runtime.engine import Runner

        results: list[list[float] | NotRun] = []
        for path, inputs in jobs:
            try:
                results.append(_timed(Runner(load(path)).predict, inputs, runs))
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
        def predicts(model: Any, feed: Any, count: int) -> Outputs:
            outputs: Outputs = []
            for _ in range(count):
                out = model.predict(feed, verbose=0)
                outputs += out if isinstance(out, (list, tuple)) else [out]
            return [np.asarray(o, np.float32) for o in outputs]

        return self._each(jobs, _counts(jobs, calls), predicts)

    def time(self, jobs: Sequence[Job], runs: int) -> list[list[float] | NotRun]:
        """model.predict timed, as users call it (its per-call overhead included)."""
        return self._each(jobs, [runs] * len(jobs), lambda model, feed, count: _timed(
            functools.partial(model.predict, verbose=0), feed, count))

    def _each(self, jobs: Sequence[Job], counts: list[int], use: Any) -> list[Any]:
        """`use(model, feed, count)` for each job's model loaded in this Keras (converted to its
        format when needed), or why it did not run."""
        keras = self.module()
        results: list[Any] = []
        with tempfile.TemporaryDirectory() as tmp:
            for index, ((path, inputs), count) in enumerate(zip(jobs, counts, strict=True)):
                suffix = Path(SOURCES[self.name]).suffix
                native = _in_format(path, self, Path(tmp) / f"{index}{suffix}")
                if isinstance(native, NotRun):
                    results.append(native)
                    continue
                feed = inputs[0] if len(inputs) == 1 else list(inputs)
                try:
                    model = keras.models.load_model(native, compile=False)
                    results.append(use(model, feed, count))
                except Exception as error:  # any failure of the foreign runtime is reported
                    results.append(NotRun(f"{self.label} failed: {error}", failed=True))
        return results


def _timed(predict: Any, feed: Any, runs: int) -> list[float]:
    """Seconds each of `runs` calls of predict(feed) took, after one untimed warm-up call."""
    predict(feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        predict(feed)
        times.append(time.perf_counter() - start)
    return times


# Each tfjs backend's tolerance, from the largest max abs error it shows against Keras 3 over all
# golden cases (`tfjs-lstm golden check fixtures --runtimes tfjs --tfjs-backends
# cpu,wasm,webgl,webgl-f16`): cpu 7.2e-7, wasm 9.5e-7, webgl 3.2e-6 (SwiftShader), webgl-f16
# 5.4e-3. The cases' 1e-5 holds the first three with a 3x margin or more; f16 gets 2e-2 (4x).
BACKEND_TOLERANCE = {"cpu": 1e-5, "wasm": 1e-5, "webgl": 1e-5, "webgl-f16": 2e-2}
TFJS_BACKENDS = (*NODE_BACKENDS, *BROWSER_BACKENDS)  # in Node, then in headless Chromium


def tfjs_runtime(backend: str, browser: bool = False) -> str:
    """The runtime name of TensorFlow.js on a backend: `tfjs` for cpu, else `tfjs-<backend>`;
    with `browser`, a backend Node also runs (cpu, wasm) in Chromium: `tfjs-<backend>-browser`."""
    if browser and backend in NODE_BACKENDS:
        return f"tfjs-{backend}-browser"
    return "tfjs" if backend == "cpu" else f"tfjs-{backend}"


class TfjsRuntime(Runtime):
    """TensorFlow.js 4.22 on one backend, all jobs in one Node process (js/harness.mjs) or one
    headless Chromium page (js/browser.js; webgl always, cpu and wasm with `browser`). The cpu
    backend in Node is the runtime `tfjs` (the one fixtures store); see `tfjs_runtime`."""

    native = "tfjs"

    def __init__(self, backend: str = "cpu", browser: bool = False):
        self.backend = backend
        self.browser = browser or backend in BROWSER_BACKENDS
        self.name = tfjs_runtime(backend, browser)
        where = ", in Chromium" if browser else ""
        self.label = ("TensorFlow.js" if backend == "cpu" and not browser
                      else f"TensorFlow.js ({backend}{where})")
        self.tolerance = BACKEND_TOLERANCE[backend]

    def missing(self) -> str | None:
        from .. import browser, node

        if self.browser:
            return browser.missing_reason(self.backend)
        return node.missing_reason(self.backend)

    def run(self, jobs: Sequence[Job], calls: Sequence[int] = ()) -> list[Outputs | NotRun]:
        return self._each(jobs, lambda harness, ready: harness.predict_folders(
            [(f, x) for _, f, x, _ in ready], calls=[n for *_, n in ready],
            backend=self.backend, **self._options(ready)), _counts(jobs, calls))

    def time(self, jobs: Sequence[Job], runs: int) -> list[list[float] | NotRun]:
        """model.predict with its outputs read back (dataSync in the browser), timed in the
        harness with performance.now()."""
        return self._each(jobs, lambda harness, ready: harness.time_folders(
            [(f, x) for _, f, x, _ in ready], runs, backend=self.backend,
            **self._options(ready)), [1] * len(jobs))

    def _options(self, ready: list) -> dict[str, Any]:
        """Node or the page imports the companion package when a folder uses its classes."""
        return {"companion": any(companion.used_in(folder) for _, folder, _, _ in ready)}

    def _each(self, jobs: Sequence[Job], send: Any, counts: list[int]) -> list[Any]:
        """`send(harness, ready)`'s reply for each job converted to a tfjs folder (one process
        or page for all), or why the job did not run."""
        from ..browser import BrowserHarness
        from ..node import BackendUnavailable, NodeHarness

        harness = BrowserHarness.find() if self.browser else NodeHarness.find()
        if harness is None:
            raise GoldenError(f"TensorFlow.js cannot run: {self.missing()}")
        results: list[Any] = []
        with tempfile.TemporaryDirectory() as tmp:
            ready = []
            for index, ((path, inputs), count) in enumerate(zip(jobs, counts, strict=True)):
                folder = _in_format(path, self, Path(tmp) / str(index))
                results.append(folder if isinstance(folder, NotRun) else [])
                if not isinstance(folder, NotRun):
                    ready.append((index, folder, inputs, count))
            try:
                replies = send(harness, ready) if ready else []
            except BackendUnavailable as error:
                raise Unavailable(str(error)) from None
            for (index, *_), reply in zip(ready, replies, strict=True):
                results[index] = (NotRun(f"{self.label} failed: {reply}", failed=True)
                                  if isinstance(reply, str) else reply)
        return results


RUNTIME_TABLE: dict[str, Runtime] = {
    "reference": ReferenceRuntime(),
    "keras3": KerasRuntime("keras3", "Keras 3", "keras", "keras", "3."),
    "keras2": KerasRuntime("keras2", "tf-keras", "tf-keras", "tf_keras", "2."),
    **{tfjs_runtime(backend): TfjsRuntime(backend) for backend in TFJS_BACKENDS},
    **{tfjs_runtime(backend, True): TfjsRuntime(backend, True) for backend in NODE_BACKENDS},
}


def _names(text: str, known: Sequence[str], what: str) -> list[str]:
    """The comma-separated names in `text`, in `known`'s order; unknown or no names fail."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(known))
    if unknown or not names:
        raise InputError(f"unknown {what}(s) {', '.join(unknown) or '(none given)'} "
                         f"(known: {', '.join(known)})")
    return [name for name in known if name in names]


def parse_runtimes(text: str, tfjs_backends: str = "cpu", browser: bool = False
                   ) -> tuple[str, ...]:
    """'reference,tfjs' -> ('reference', 'tfjs'), in the canonical order, `tfjs` standing for
    one runtime per backend in `tfjs_backends` ('cpu,wasm' -> tfjs, tfjs-wasm; with `browser`,
    tfjs-cpu-browser, tfjs-wasm-browser); unknown names fail."""
    tfjs = [tfjs_runtime(b, browser)
            for b in _names(tfjs_backends, TFJS_BACKENDS, "tfjs backend")]
    return tuple(runtime for name in _names(text, RUNTIMES, "runtime")
                 for runtime in (tfjs if name == "tfjs" else [name]))


def _in_format(path: Path, runtime: Runtime, destination: Path) -> Path | NotRun:
    """`path` itself when the runtime reads it natively, else a converted copy (or why not)."""
    from ..convert import convert, detect_format

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


def run_all(jobs_by_runtime: dict[str, list[Job]], calls: Sequence[int] = ()
            ) -> dict[str, list[Outputs | NotRun] | str]:
    """Each runtime's results for its jobs (`calls`: predicts per job, the same list for every
    runtime), or the reason it is not installed or cannot start."""
    results: dict[str, list[Outputs | NotRun] | str] = {}
    for name, jobs in jobs_by_runtime.items():
        runtime = RUNTIME_TABLE[name]
        reason = runtime.missing()
        if reason:
            results[name] = f"{runtime.label} not installed: {reason}"
            continue
        try:
            results[name] = runtime.run(jobs, calls)
        except Unavailable as error:
            results[name] = str(error)
    return results
