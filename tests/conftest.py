"""Shared test fixtures: the real runtimes (Keras 3, tf-keras, TensorFlow.js in Node)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@pytest.fixture(scope="session")
def keras3():
    keras = pytest.importorskip("keras", reason="Keras 3 comes with the test extra")
    assert keras.__version__.startswith("3."), keras.__version__
    return keras


@pytest.fixture(scope="session")
def tf_keras():
    return pytest.importorskip("tf_keras", reason="tf-keras comes with the test extra")


@pytest.fixture(scope="session")
def tfjs():
    from node_harness import NodeHarness

    harness = NodeHarness.find()
    if harness is None:
        pytest.skip("Node and js/node_modules are needed: run `make test`, which installs them")
    return harness


@pytest.fixture(scope="session")
def tfjs_wasm(tfjs):
    from tfjs_lstm.node import missing_reason

    reason = missing_reason("wasm")
    if reason is not None:
        pytest.skip(f"the wasm backend is needed ({reason}): run `make test`")
    return tfjs


@pytest.fixture(scope="session")
def tfjs_browser():
    from tfjs_lstm.browser import BrowserHarness, missing_reason

    harness = BrowserHarness.find()
    if harness is None:
        pytest.skip(f"headless Chromium is needed ({missing_reason()}): run `make test`")
    return harness
