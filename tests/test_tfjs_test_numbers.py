"""TensorFlow.js's own wrapper tests, reproduced on the files tfjs writes: each folder in
tests/runtime_files was saved by tfjs 4.22's model.save() (make_tfjs_files.mjs) from the model
of a test in tensorflow/tfjs tfjs-v4.22.0 `tfjs-layers/src/layers/wrappers_test.ts`, with the
weights its initializers made. tfjs-lstm reads and runs it; the outputs must be the test's own
numbers, and tfjs in Node (one process) computes them from the same folder. The tests of
recurrent_test.ts (nested model, StackedRNNCells) are in test_nested_layers.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from outputs import assert_close

from tfjs_lstm.convert import load
from tfjs_lstm.runtime.engine import run

FILES = Path(__file__).parent / "runtime_files"
STEPS = np.array([[[0.05, 0.05], [-0.05, -0.05], [0.1, 0.1], [-0.1, -0.1]]], np.float32)
TOKENS = np.array([[0, 1], [0, 2], [0, 0], [1, 2]], np.int32)
# (folder, test name, input, expected)
CASES = [
    ("tfjs-wrappers_test-bidirectional-concat",
     "Bidirectional Layer: Tensor / No returnState, mergeMode=concat", STEPS,
     np.array([[0.9440416] * 3 + [-0.9842659] * 3], np.float32)),
    ("tfjs-wrappers_test-bidirectional-mul",
     "Bidirectional Layer: Tensor / No returnState, mergeMode=mul", STEPS,
     np.array([[-0.929188] * 3], np.float32)),
    ("tfjs-wrappers_test-bidirectional-masking-simple-rnn",
     "Bidirectional with masking / Inference simpleRNN", TOKENS,
     np.array([[7.960438], [7.960438], [0], [7.9999857]], np.float32)),
    ("tfjs-wrappers_test-bidirectional-masking-lstm",
     "Bidirectional with masking / Inference lstm", TOKENS,
     np.array([[6.076076], [6.076076], [0], [7.709405]], np.float32)),
]


@pytest.fixture(scope="module")
def in_tfjs(tfjs):
    return dict(zip([case[0] for case in CASES],
                    tfjs.predict_folders([(FILES / folder, [x]) for folder, _, x, _ in CASES]),
                    strict=True))


@pytest.mark.parametrize(("folder", "test", "x", "expected"), CASES,
                         ids=[case[0] for case in CASES])
def test_tfjs_wrappers_test_numbers(in_tfjs, folder, test, x, expected):
    assert_close(run(load(FILES / folder), [x]), [expected], f"wrappers_test.ts '{test}'")
    assert not isinstance(in_tfjs[folder], str), in_tfjs[folder]
    assert_close(in_tfjs[folder], [expected], f"tfjs itself, '{test}'")
