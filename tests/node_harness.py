"""Drives js/harness.mjs: the real TensorFlow.js 4.22 in Node, one process per batch of work."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

JS = Path(__file__).resolve().parent.parent / "js"


@dataclass
class NodeHarness:
    node: str

    @classmethod
    def find(cls) -> NodeHarness | None:
        node = shutil.which("node")
        if node is None or not (JS / "node_modules" / "@tensorflow" / "tfjs").is_dir():
            return None
        return cls(node)

    def call(self, request: dict[str, Any]) -> list[Any]:
        done = subprocess.run(
            [self.node, str(JS / "harness.mjs")], input=json.dumps(request), text=True,
            capture_output=True, timeout=900, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"node harness failed: {done.stderr[-2000:]}")
        reply = json.loads(done.stdout)
        assert reply["tfjs"] == "4.22.0", reply["tfjs"]
        return reply["reply"]

    def configs(self, layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """getConfig() and the model.json form of each layer built from its args."""
        return self.call({"command": "configs", "layers": layers})

    def predict(self, cases: list[dict[str, Any]]) -> list[list[np.ndarray]]:
        """Outputs of Sequential models built from layer args with given weights and input."""
        replies = self.call({"command": "predict", "cases": cases})
        results = []
        for reply in replies:
            if "error" in reply:
                raise RuntimeError(reply["error"])
            results.append([np.asarray(o["data"], np.float32).reshape(o["shape"])
                            for o in reply["outputs"]])
        return results

    def save(self, folder: Path, layers: list[dict[str, Any]]) -> dict[str, Any]:
        """Save a Sequential model through tfjs's own model.save() into `folder`."""
        reply = self.call({"command": "save", "folder": str(folder), "layers": layers})
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply


    def predict_folders(self, cases: list[tuple[Path, list[np.ndarray]]]
                        ) -> list[list[np.ndarray] | str]:
        """Load each folder with tf.loadLayersModel and predict; an error string on failure."""
        replies = self.call({"command": "predictFolders", "cases": [
            {"folder": str(folder), "inputs": [tensor(x) for x in inputs]}
            for folder, inputs in cases]})
        return [reply["error"] if "error" in reply else
                [np.asarray(o["data"], np.float32).reshape(o["shape"]) for o in reply["outputs"]]
                for reply in replies]

    def summaries(self, folders: list[Path]) -> list[str]:
        """tfjs's own model.summary() text for each folder."""
        replies = self.call({"command": "summary", "folders": [str(f) for f in folders]})
        return ["\n".join(r["lines"]) if "lines" in r else f"error: {r['error']}"
                for r in replies]

    def load(self, folders: list[Path]) -> list[dict[str, Any]]:
        """tf.loadLayersModel on each folder: its layer classes, or the error tfjs raised."""
        return self.call({"command": "load", "folders": [str(f) for f in folders]})


def tensor(array: np.ndarray) -> dict[str, Any]:
    """An array as the harness reads it (float32 values survive JSON exactly)."""
    array = np.asarray(array, np.float32)
    return {"shape": list(array.shape), "data": [float(v) for v in array.ravel()]}
