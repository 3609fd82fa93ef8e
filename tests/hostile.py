"""Helpers for the tests that feed hostile input to the command line."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "keras3_lstm.keras"


def cli(*args: object, timeout: float = 60, memory: int | None = None
        ) -> subprocess.CompletedProcess:
    """`tfjs-lstm ARGS` in a fresh process, as a user runs it; `memory` caps its address
    space (with one BLAS thread, the process starts near 160 MiB)."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"} if memory else None
    return subprocess.run([sys.executable, "-m", "tfjs_lstm", *map(str, args)], text=True,
                          capture_output=True, check=False, timeout=timeout, env=env,
                          preexec_fn=cap if memory else None)


def refused(done: subprocess.CompletedProcess, *needles: str, code: int = 2) -> str:
    """The command failed with `code` and one line on stderr holding every needle."""
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def keras_members(path: Path = EXAMPLE) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_keras(path: Path, members: dict[str, bytes | str | object],
                compression: int = zipfile.ZIP_STORED) -> Path:
    """A .keras zip of these members; JSON values other than bytes/str are dumped."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            if not isinstance(content, (bytes, str)):
                content = json.dumps(content)
            archive.writestr(name, content)
    return path
