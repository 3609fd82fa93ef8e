"""Drives js/browser.js: TensorFlow.js 4.22 in headless Chromium, for the backends Node lacks.

webgl runs on SwiftShader (Chromium's CPU implementation of the GPU), `webgl-f16` the same with
float16 textures forced, as on devices without float32 render targets. One page per batch of
work: the request (model files inlined) is written into the page, the reply read from the DOM
Chromium dumps. Set `TFJS_LSTM_CHROMIUM` to use another browser binary.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .node import (
    BackendUnavailable,
    input_tensors,
    js_folder,
    outputs_or_errors,
    times_or_errors,
    unwrap,
)

BACKENDS = ("webgl", "webgl-f16")
BUNDLE = Path("node_modules/@tensorflow/tfjs/dist/tf.min.js")
WASM_DIST = Path("node_modules/@tensorflow/tfjs-backend-wasm/dist")  # bundle and .wasm files
FLAGS = ("--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
         "--allow-file-access-from-files", "--virtual-time-budget=3600000", "--dump-dom")
# The companion package imports '@tensorflow/tfjs' as an ES module: the page maps that name to a
# module re-exporting the page's one tfjs (tf.min.js's global), so the classes it registers are
# the ones tf.loadLayersModel finds.
TFJS_MODULE = "tfjs-global.mjs"
PAGE = """<!doctype html>
<meta charset="utf-8">
<pre id="reply"></pre>
<script id="request" type="application/json">{request}</script>
<script type="importmap">{{"imports": {{"@tensorflow/tfjs": "./{module}"}}}}</script>
<script src="{bundle}"></script>
{wasm}<script src="{script}"></script>
"""


def chromium() -> str | None:
    """The browser binary: $TFJS_LSTM_CHROMIUM, else Debian's `chromium`, when on PATH."""
    return shutil.which(os.environ.get("TFJS_LSTM_CHROMIUM") or "chromium")


def missing_reason(backend: str = "webgl") -> str | None:
    """Why TensorFlow.js (on `backend`) cannot run in a browser here, or None."""
    if chromium() is None:
        return "Chromium not found on PATH (`make test` installs Debian's chromium)"
    folder = js_folder()
    if not (folder / "browser.js").is_file() or not (folder / BUNDLE).is_file():
        return f"TensorFlow.js browser harness not installed in {folder} (run `npm ci --prefix js`)"
    if backend == "wasm" and not (folder / WASM_DIST / "tf-backend-wasm.min.js").is_file():
        return f"@tensorflow/tfjs-backend-wasm not installed in {folder} (run `npm ci --prefix js`)"
    return None


@dataclass
class BrowserHarness:
    """One headless Chromium page per call; each call carries a whole batch of work."""

    chromium: str
    folder: Path

    @classmethod
    def find(cls) -> BrowserHarness | None:
        """The harness when Chromium and js/node_modules are installed, else None."""
        binary = chromium()
        if binary is None or missing_reason() is not None:
            return None
        return cls(binary, js_folder())

    def predict_folders(self, cases: list[tuple[Path, list[np.ndarray]]],
                        calls: list[int] | None = None, backend: str = "webgl", *,
                        companion: bool = False) -> list[list[np.ndarray] | str]:
        """As NodeHarness.predict_folders, in one page on a browser backend (`companion`: the
        page imports the companion package first)."""
        return outputs_or_errors(self._predict(cases, calls, backend, 0, companion))

    def time_folders(self, cases: list[tuple[Path, list[np.ndarray]]], runs: int,
                     backend: str = "webgl", *, companion: bool = False
                     ) -> list[list[float] | str]:
        """As NodeHarness.time_folders, in one page on a browser backend."""
        return times_or_errors(self._predict(cases, None, backend, runs, companion))

    def _predict(self, cases: list[tuple[Path, list[np.ndarray]]], calls: list[int] | None,
                 backend: str, runs: int, companion: bool) -> list[dict[str, Any]]:
        counts = [1] * len(cases) if calls is None else calls
        wasm = self.folder / WASM_DIST
        package = self.folder / "companion" / "index.js"
        request = {"backend": backend, "wasmPaths": wasm.as_uri() + "/",
                   "companion": package.as_uri() if companion else None, "cases": [
            {"model": _inlined(folder), "calls": count, "inputs": input_tensors(inputs),
             "timeRuns": runs} for (folder, inputs), count in zip(cases, counts, strict=True)]}
        with tempfile.TemporaryDirectory() as tmp:
            page = Path(tmp) / "page.html"
            (Path(tmp) / TFJS_MODULE).write_text(_tfjs_module(package.parent), encoding="utf-8")
            page.write_text(PAGE.format(
                request=json.dumps(request).replace("</", "<\\/"), module=TFJS_MODULE,
                bundle=(self.folder / BUNDLE).as_uri(),
                wasm=(f'<script src="{(wasm / "tf-backend-wasm.min.js").as_uri()}"></script>\n'
                      if backend == "wasm" else ""),
                script=(self.folder / "browser.js").as_uri()), encoding="utf-8")
            done = subprocess.run(
                [self.chromium, *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
                 page.as_uri()], capture_output=True, text=True, timeout=900, check=False)
        found = re.search(r'<pre id="reply">(.+?)</pre>', done.stdout, re.DOTALL)
        if done.returncode != 0 or found is None:
            raise BackendUnavailable(f"headless Chromium gave no reply: {done.stderr[-500:]}")
        return unwrap(json.loads(html.unescape(found.group(1))), backend)


def _tfjs_module(package: Path) -> str:
    """An ES module exporting, from the page's global tf, every name the companion package's
    sources read from it (`tf.name`)."""
    names = sorted({name for source in sorted(package.glob("*.js"))
                    for name in re.findall(r"\btf\.(\w+)", source.read_text(encoding="utf-8"))})
    return "export const {" + ", ".join(names) + "} = globalThis.tf;\n"


def _inlined(folder: Path) -> dict[str, Any]:
    """A tfjs folder as the page loads it: model.json, and its shards in manifest order."""
    document = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    shards = b"".join((folder / path).read_bytes() for group in document["weightsManifest"]
                      for path in group["paths"])
    return {"modelJson": document, "weights": base64.b64encode(shards).decode("ascii")}
