"""The tests' name for the Node driver, which now lives in the package (tfjs_lstm.node)."""

from __future__ import annotations

from tfjs_lstm.node import JS, NodeError, NodeHarness, tensor

__all__ = ["JS", "NodeError", "NodeHarness", "tensor"]
