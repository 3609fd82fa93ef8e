"""Numpy inference runtimes for recurrent layers, to check converted models without TensorFlow.

Imports numpy only.
"""

from __future__ import annotations

from .recurrent import gru_forward, lstm_forward, simple_rnn_forward

__all__ = ["gru_forward", "lstm_forward", "simple_rnn_forward"]
