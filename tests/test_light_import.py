"""`import tfjs_lstm` and the CLI's light commands must not load TensorFlow, Keras or JAX."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("tensorflow", "keras", "jax", "tf_keras")


def _loaded_after(code: str) -> list[str]:
    probe = (f"{code}\nimport sys\n"
             f"sys.stderr.write('LOADED:' + ' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return done.stderr.rpartition("LOADED:")[2].split()


def test_import_tfjs_lstm_loads_no_heavy_framework():
    assert _loaded_after("import tfjs_lstm, tfjs_lstm.schema, tfjs_lstm.validate") == []


def test_map_and_validate_commands_load_no_heavy_framework(tmp_path):
    config = tmp_path / "layer.json"
    config.write_text('{"units": 4}')
    code = (f"from tfjs_lstm.cli import main\n"
            f"main(['map', '--from', 'tfjs', '--to', 'keras3', {str(config)!r}])\n"
            f"main(['validate', {str(config)!r}])")
    assert _loaded_after(code) == []
