"""Case folders on disk: the file names, reading a case (case.json, inputs, stored outputs),
finding cases, and .npz files written byte-identically for equal arrays."""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..formats.untrusted import expect, load_json_file, load_npz

PRODUCERS = ("keras3", "keras2", "tfjs")
CASE_FILE = "case.json"
MODEL_DIR = "model"
INPUTS_FILE = "inputs.npz"
SOURCES = {"keras3": "source.keras", "keras2": "source.h5"}
DEFAULT_TOLERANCE = 1e-5
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

Outputs = list[np.ndarray]


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
    info = load_json_file(folder / CASE_FILE, CASE_FILE)
    if not isinstance(info, dict):
        raise InputError("case.json must hold an object", file=where)
    _check_info(info, where)
    inputs = read_npz(folder / INPUTS_FILE)
    _check_recorded_inputs(info, inputs, where)
    expected = {name: read_npz(folder / f"{name}.npz") for name in PRODUCERS
                if (folder / f"{name}.npz").is_file()}
    return Case(folder, info, inputs, expected)


MAX_CALLS = 100
"""Most predict calls a case may ask for: the fixtures make one or two."""


def _check_info(info: dict[str, Any], where: str) -> None:
    """The keys a check reads are of the types it reads them as: `inputs` an object of
    lists, `tolerance` a finite number >= 0, `calls` a count up to MAX_CALLS, `case` text."""
    expect(info.get("case", ""), str, where, "/case", "the case name (a string)")
    recorded = expect(info.get("inputs", {}), dict, where, "/inputs",
                      "an object recording the inputs")
    for key in ("shapes", "dtypes"):
        expect(recorded.get(key, []), list, where, f"/inputs/{key}", f"a list of {key}")
    tolerance = info.get("tolerance", DEFAULT_TOLERANCE)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) \
            or not 0 <= tolerance < math.inf:
        raise InputError(f"expected the tolerance (a finite number >= 0), found "
                         f"{json.dumps(tolerance)[:40]}", file=where, pointer="/tolerance")
    calls = info.get("calls", 1)
    if isinstance(calls, bool) or not isinstance(calls, int) or not 1 <= calls <= MAX_CALLS:
        raise InputError(f"'calls' must be a whole number from 1 to {MAX_CALLS}, got "
                         f"{json.dumps(calls)[:40]}", file=where, pointer="/calls")


def _check_recorded_inputs(info: dict[str, Any], inputs: Sequence[np.ndarray],
                           where: str) -> None:
    """inputs.npz must hold what case.json records (shapes, dtypes when recorded: older files
    have none), so a check reruns the case as it was made."""
    recorded = info.get("inputs", {})
    shapes = recorded.get("shapes", [list(np.shape(x)) for x in inputs])
    dtypes = recorded.get("dtypes", [str(np.asarray(x).dtype) for x in inputs])
    found = ([list(np.shape(x)) for x in inputs], [str(np.asarray(x).dtype) for x in inputs])
    if (shapes, dtypes) != found:
        raise InputError(f"{INPUTS_FILE} holds shapes {found[0]} and dtypes {found[1]}, "
                         f"case.json records {shapes} and {dtypes}", file=where)


def write_npz(path: Path, arrays: Sequence[np.ndarray], prefix: str) -> None:
    """An .npz numpy reads, byte-identical for equal arrays (fixed zip dates, fixed order)."""
    with zipfile.ZipFile(path, "w") as archive:
        for index, array in enumerate(arrays):
            data = io.BytesIO()
            np.lib.format.write_array(data, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{prefix}_{index}.npy", ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data.getvalue())


def read_npz(path: Path) -> list[np.ndarray]:
    """The arrays of an .npz written by write_npz, in the order of their `_<index>` names."""
    arrays = load_npz(path)

    def index(name: str) -> int:
        number = name.rpartition("_")[2]
        if not (number.isascii() and number.isdigit()) or len(number) > 9:
            raise InputError(f"member {name!r} is not named <prefix>_<index>.npy",
                             file=str(path))
        return int(number)

    return [arrays[name] for name in sorted(arrays, key=index)]
