"""Runs `tfjs-lstm` commands for the fuzz tests, each in a child process of its own.

The worker imports tfjs-lstm once, then for each request (one JSON line on stdin: argv, cwd,
memory cap, time limit) forks a child that caps its address space (RLIMIT_AS), runs the CLI's
`main` and exits with its status. The parent kills a child that outlives its time limit and
answers one JSON line: exit status or signal, hung or not, stdout and stderr. An exception that
escapes `main` is printed as Python prints it (a traceback), so the tests see what a user would.
Start it with OPENBLAS_NUM_THREADS=1: a forked child must not inherit BLAS threads.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback

import tfjs_lstm.convert
import tfjs_lstm.formats.keras3_file
import tfjs_lstm.formats.keras_h5
import tfjs_lstm.formats.tfjs_model
import tfjs_lstm.summary
import tfjs_lstm.validate  # noqa: F401 - imported once here, so each child starts warm
from tfjs_lstm.cli import main


def _virtual_size() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(argv: list[str], cwd: str, cap: int, out: int, err: int) -> None:
    code = 1
    try:
        os.chdir(cwd)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - lives until os._exit
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        code = main(argv)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - shown as Python would show it
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_case(request: dict) -> dict:
    """Run one command in a forked, capped child; report how it ended."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        cap = _virtual_size() + int(request["memory"])
        pid = os.fork()
        if pid == 0:
            _child(request["argv"], request["cwd"], cap, out.fileno(), err.fileno())
        deadline = time.monotonic() + float(request["timeout"])
        hung = False
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                hung = True
                break
            time.sleep(0.002)
        out.seek(0)
        err.seek(0)
        return {"exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                "hung": hung, "stdout": out.read().decode("utf-8", "replace"),
                "stderr": err.read().decode("utf-8", "replace")}


def serve() -> None:
    for line in sys.stdin:
        sys.stdout.write(json.dumps(run_case(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
