"""Whole-process conversion time and peak memory: tfjs-lstm against the official converter.

The model is FACTS.md's 18.7M-parameter one (Embedding 20000x256, LSTM 1024, LSTM 1024,
Dense 10), saved by tf-keras as .h5, the input both tools read. The official converter
(tensorflowjs 4.22.0, with protobuf pinned so it imports) runs from its own virtual
environment, created on first use. Runs alternate A B A B after one unmeasured warm-up run
each; medians and ratios are printed. The tools run as installed packages do, with bytecode
caches (kept in a temporary PYTHONPYCACHEPREFIX, whatever PYTHONDONTWRITEBYTECODE says).

    python bench/convert.py [--runs 3] [--official-venv bench/.official-venv] [--ours-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build_model(path: Path) -> None:
    """Save the benchmark model with tf-keras (random weights: speed does not depend on them)."""
    code = f"""
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tf_keras as k
m = k.Sequential([k.layers.Embedding(20000, 256, input_length=100),
                  k.layers.LSTM(1024, return_sequences=True), k.layers.LSTM(1024),
                  k.layers.Dense(10)])
m.build((None, 100))
m.save({str(path)!r})
print(m.count_params())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    print(f"model: {path.stat().st_size / 2**20:.1f} MiB .h5, "
          f"{int(done.stdout.split()[-1]):,} params")


def ensure_official(venv: Path) -> Path:
    converter = venv / "bin" / "tensorflowjs_converter"
    if not converter.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = str(venv / "bin" / "pip")
        subprocess.run([pip, "install", "--quiet", "tensorflowjs==4.22.0"], check=True)
        # Its resolver picks a protobuf the package then fails to import with; the pin after
        # the install is what makes `import tensorflowjs` work (FACTS.md).
        subprocess.run([pip, "install", "--quiet", "protobuf==6.31.1"], check=True)
    return converter


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak resident MiB) of one whole child process, from wait4's rusage."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{command[0]} failed: {errors.read().decode()[-800:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--official-venv", type=Path, default=HERE / ".official-venv")
    parser.add_argument("--ours-only", action="store_true",
                        help="time tfjs-lstm alone (no official converter, no ratios)")
    args = parser.parse_args()
    ours_bin = Path(sys.executable).with_name("tfjs-lstm")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "model.h5"
        build_model(source)
        commands = {"tfjs-lstm": [str(ours_bin), "convert", str(source), f"{tmp}/ours"]}
        if not args.ours_only:
            commands["official"] = [str(ensure_official(args.official_venv)), "--input_format",
                                    "keras", str(source), f"{tmp}/official"]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = f"{tmp}/pycache"
        for command in commands.values():
            measure(command, env)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                results[name].append(measure(command, env))
    wall = {n: statistics.median(w for w, _ in r) for n, r in results.items()}
    peak = {n: statistics.median(m for _, m in r) for n, r in results.items()}
    print(f"| tool | wall s | peak MiB |  (medians of {args.runs} whole-process runs)")
    print("|---|---:|---:|")
    for name in commands:
        print(f"| {name} | {wall[name]:.2f} | {peak[name]:.0f} |")
    if "official" in commands:
        print(f"| ratio official / tfjs-lstm | {wall['official'] / wall['tfjs-lstm']:.1f}x | "
              f"{peak['official'] / peak['tfjs-lstm']:.1f}x |")


if __name__ == "__main__":
    main()
