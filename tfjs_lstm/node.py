"""Drives js/harness.mjs: the real TensorFlow.js 4.22 in Node, one process per batch of work.

The harness lives in the source tree (`js/`, after `npm ci --prefix js`); set `TFJS_LSTM_JS` to
use another copy. Nothing here imports a Python ML framework.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import TfjsLstmError

TFJS_VERSION = "4.22.0"
JS = Path(__file__).resolve().parent.parent / "js"
# The tfjs backends the harness runs a model on, and the npm package each needs beyond tfjs.
BACKENDS = {"cpu": "@tensorflow/tfjs", "wasm": "@tensorflow/tfjs-backend-wasm"}


class NodeError(TfjsLstmError, RuntimeError):
    """The Node harness failed as a whole (not one case: those come back as error strings)."""


class BackendUnavailable(NodeError):
    """The harness runs, but the requested tfjs backend could not start in it."""


def js_folder() -> Path:
    """Where harness.mjs and its node_modules are: $TFJS_LSTM_JS, else the source tree's js/."""
    return Path(os.environ.get("TFJS_LSTM_JS") or JS)


def missing_reason(backend: str = "cpu") -> str | None:
    """Why TensorFlow.js (on `backend`) cannot run here, or None when Node, the harness and the
    backend's package are in place."""
    if shutil.which("node") is None:
        return "Node.js not found on PATH"
    folder = js_folder()
    if not (folder / "harness.mjs").is_file() or not (
            folder / "node_modules" / "@tensorflow" / "tfjs").is_dir():
        return f"TensorFlow.js harness not installed in {folder} (run `npm ci --prefix js`)"
    if not (folder / "node_modules" / BACKENDS[backend]).is_dir():
        return f"{BACKENDS[backend]} not installed in {folder} (run `npm ci --prefix js`)"
    return None


@dataclass
class NodeHarness:
    """One `node harness.mjs` process per call; each call carries a whole batch of work."""

    node: str
    folder: Path = JS

    @classmethod
    def find(cls) -> NodeHarness | None:
        """The harness when Node and js/node_modules are installed, else None."""
        if missing_reason() is not None:
            return None
        return cls(str(shutil.which("node")), js_folder())

    def call(self, request: dict[str, Any], backend: str = "cpu") -> Any:
        """Send one request to a process running tfjs on `backend`, return the reply;
        BackendUnavailable when that backend cannot start, NodeError when the process fails."""
        done = subprocess.run(
            [self.node, str(self.folder / "harness.mjs")],
            input=json.dumps({**request, "backend": backend}), text=True, capture_output=True,
            timeout=900, check=False)
        if done.returncode != 0:
            raise NodeError(f"node harness failed: {done.stderr[-2000:]}")
        return unwrap(json.loads(done.stdout), backend)

    def configs(self, layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """getConfig() and the model.json form of each layer built from its args."""
        return self.call({"command": "configs", "layers": layers})

    def predict(self, cases: list[dict[str, Any]]) -> list[list[np.ndarray]]:
        """Outputs of Sequential models built from layer args with given weights and input."""
        replies = self.call({"command": "predict", "cases": cases})
        results = []
        for reply in replies:
            if "error" in reply:
                raise NodeError(reply["error"])
            results.append(_arrays(reply["outputs"]))
        return results

    def save(self, folder: Path, layers: list[dict[str, Any]]) -> dict[str, Any]:
        """Save a Sequential model through tfjs's own model.save() into `folder`."""
        reply = self.call({"command": "save", "folder": str(folder), "layers": layers})
        if "error" in reply:
            raise NodeError(reply["error"])
        return reply

    def save_functional(self, models: list[dict[str, Any]]) -> list[list[np.ndarray] | str]:
        """Build functional models with tfjs's own API (inputs, layers with inbound names,
        outputs; weights uniform(-0.5, 0.5) from each model's seed), model.save() each into its
        folder and predict it on its "data" arrays: the outputs, or the error string. One
        process for all."""
        return outputs_or_errors(self.call({"command": "saveFunctional", "models": [
            {**m, "data": input_tensors(m["data"])} for m in models]}))

    def predict_folders(self, cases: list[tuple[Path, list[np.ndarray]]],
                        calls: list[int] | None = None, backend: str = "cpu", *,
                        companion: bool = False) -> list[list[np.ndarray] | str]:
        """Load each folder with tf.loadLayersModel and predict `calls[i]` times (default once)
        on that one model, stateful layers carrying their states: the outputs of every call
        in order, or an error string. Integer inputs go as int32 tensors (Embedding tokens).
        All cases run in one process on `backend`; `companion` imports the companion package
        (js/companion) before loading."""
        return outputs_or_errors(self._predict(cases, calls, backend, 0, companion))

    def time_folders(self, cases: list[tuple[Path, list[np.ndarray]]], runs: int,
                     backend: str = "cpu", *, companion: bool = False
                     ) -> list[list[float] | str]:
        """Seconds each of `runs` predicts of each folder took (outputs read back), after one
        untimed warm-up predict; or its error string (`companion` as in predict_folders)."""
        return times_or_errors(self._predict(cases, None, backend, runs, companion))

    def _predict(self, cases: list[tuple[Path, list[np.ndarray]]], calls: list[int] | None,
                 backend: str, runs: int, companion: bool) -> list[dict[str, Any]]:
        counts = [1] * len(cases) if calls is None else calls
        return self.call({"command": "predictFolders", "companion": companion, "cases": [
            {"folder": str(folder), "calls": count, "inputs": input_tensors(inputs),
             "timeRuns": runs} for (folder, inputs), count in zip(cases, counts, strict=True)]},
            backend)

    def summaries(self, folders: list[Path], *, companion: bool = False) -> list[str]:
        """tfjs's own model.summary() text for each folder (`companion`: package imported)."""
        replies = self.call({"command": "summary", "companion": companion,
                             "folders": [str(f) for f in folders]})
        return ["\n".join(r["lines"]) if "lines" in r else f"error: {r['error']}"
                for r in replies]

    def load(self, folders: list[Path], *, companion: bool = False) -> list[dict[str, Any]]:
        """tf.loadLayersModel on each folder: its layer classes, or the error tfjs raised
        (`companion`: the companion package imported first)."""
        return self.call({"command": "load", "companion": companion,
                          "folders": [str(f) for f in folders]})


def unwrap(reply: dict[str, Any], backend: str) -> Any:
    """The reply inside a harness's answer, once it is from TensorFlow.js 4.22 on `backend`;
    BackendUnavailable when that backend could not start."""
    if reply["tfjs"] != TFJS_VERSION:
        raise NodeError(f"TensorFlow.js {reply['tfjs']} found, {TFJS_VERSION} expected")
    if "backendError" in reply:
        raise BackendUnavailable(f"tfjs backend '{backend}' cannot start: "
                                 f"{reply['backendError']}")
    if reply["backend"] != backend:
        raise NodeError(f"tfjs ran on '{reply['backend']}', '{backend}' was asked for")
    return reply["reply"]


def input_tensors(inputs: list[np.ndarray]) -> list[dict[str, Any]]:
    """A case's inputs as a harness reads them: integer arrays as int32 (Embedding tokens)."""
    return [{**tensor(x), "dtype": "int32"} if np.asarray(x).dtype.kind in "iu" else tensor(x)
            for x in inputs]


def outputs_or_errors(replies: list[dict[str, Any]]) -> list[list[np.ndarray] | str]:
    """Each predicted case's outputs as float32 arrays, or its error string."""
    return [reply["error"] if "error" in reply else _arrays(reply["outputs"])
            for reply in replies]


def times_or_errors(replies: list[dict[str, Any]]) -> list[list[float] | str]:
    """Each timed case's predict times in seconds, or its error string."""
    return [reply["error"] if "error" in reply else [t / 1000 for t in reply["times"]]
            for reply in replies]


def _arrays(outputs: list[dict[str, Any]]) -> list[np.ndarray]:
    return [np.asarray(o["data"], np.float32).reshape(o["shape"]) for o in outputs]


def tensor(array: np.ndarray) -> dict[str, Any]:
    """An array as the harness reads it (float32 values survive JSON exactly)."""
    array = np.asarray(array, np.float32)
    return {"shape": list(array.shape), "data": [float(v) for v in array.ravel()]}
