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

Modules: `runtimes` (one class per runtime), `files` (case folders, .npz), `rows` (comparison
and table), `check` (checking cases and pairs, timing a pair), `specs`, `cases` and
`family_cases` (the case matrix), `generate` (`make`).
"""

from .cases import ACTIVATION_PAIRS, CASES, MERGE_MODES, select
from .check import Timing, check_cases, check_pair, format_times, kept_masks, time_pair
from .files import (
    CASE_FILE,
    DEFAULT_TOLERANCE,
    INPUTS_FILE,
    MODEL_DIR,
    PRODUCERS,
    SOURCES,
    Case,
    Outputs,
    discover,
    load_case,
    model_for,
    read_npz,
    write_npz,
)
from .generate import generator_versions, make
from .rows import (
    HEADER,
    Row,
    compare,
    exit_status,
    format_table,
    steps_of,
    summary_line,
    table_cells,
)
from .runtimes import (
    BACKEND_TOLERANCE,
    RUNTIME_TABLE,
    RUNTIMES,
    TFJS_BACKENDS,
    GoldenError,
    Job,
    KerasRuntime,
    NotRun,
    ReferenceRuntime,
    Runtime,
    TfjsRuntime,
    Unavailable,
    parse_runtimes,
    run_all,
    tfjs_runtime,
)
from .specs import Feed, Spec

__all__ = [
    "ACTIVATION_PAIRS", "BACKEND_TOLERANCE", "CASES", "CASE_FILE", "Case", "DEFAULT_TOLERANCE",
    "Feed", "GoldenError", "HEADER", "INPUTS_FILE", "Job", "KerasRuntime", "MERGE_MODES",
    "MODEL_DIR", "NotRun", "Outputs", "PRODUCERS", "RUNTIMES", "RUNTIME_TABLE", "ReferenceRuntime",
    "Row", "Runtime", "SOURCES", "Spec", "TFJS_BACKENDS", "TfjsRuntime", "Timing", "Unavailable",
    "check_cases", "check_pair", "compare", "discover", "exit_status", "format_table",
    "format_times", "generator_versions", "kept_masks", "load_case", "make", "model_for",
    "parse_runtimes", "read_npz", "run_all", "select", "steps_of", "summary_line", "table_cells",
    "tfjs_runtime", "time_pair",
    "write_npz",
]
