"""CuDNNLSTM and CuDNNGRU in Keras 2.0-2.3 `.h5` files, read as the LSTM and GRU they compute.

Read in Keras 2.2.4 `keras/layers/cudnn_recurrent.py` (the config: the RNN's four sequence
keys, units, initializers, regularizers, constraints, LSTM's unit_forget_bias; activations
fixed to tanh and sigmoid, a bias always) and `keras/engine/saving.py` `_convert_rnn_weights`
(the weights: each gate's input kernel block in Fortran order, each recurrent block transposed,
biases for input and recurrent kernels both kept). A CuDNNLSTM is an LSTM whose bias is the
sum of both; a CuDNNGRU is a GRU with reset_after=True whose bias rows are the two biases.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CUDNN = {"CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU"}
GATES = {"LSTM": 4, "GRU": 3}
_SEQUENCE_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful")
_CELL_KEYS = ("units", "kernel_initializer", "recurrent_initializer", "bias_initializer",
              "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
              "bias_regularizer", "activity_regularizer", "kernel_constraint",
              "recurrent_constraint", "bias_constraint")
_LAYER_KEYS = ("name", "trainable", "dtype", "batch_input_shape")


def as_native(value: Any, found: dict[str, str] | None = None,
              owner: str | None = None) -> tuple[Any, dict[str, str]]:
    """The config with every CuDNN layer written as its LSTM/GRU (a copy), and the layers whose
    weights are in CuDNN layout: layer name -> 'LSTM' or 'GRU' (for a CuDNN layer inside
    Bidirectional or TimeDistributed, the wrapper's name: `owner`)."""
    found = {} if found is None else found
    if isinstance(value, list):
        return [as_native(item, found, owner)[0] for item in value], found
    if not isinstance(value, dict):
        return value, found
    if "class_name" not in value:
        return {key: as_native(item, found, owner)[0] for key, item in value.items()}, found
    config = value.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    if value["class_name"] in CUDNN and isinstance(config, dict):
        kind = CUDNN[value["class_name"]]
        found[owner or str(name)] = kind
        native = {key: config[key] for key in (*_LAYER_KEYS, *_SEQUENCE_KEYS, *_CELL_KEYS)
                  if key in config and (key != "unit_forget_bias" or kind == "LSTM")}
        native.update(activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                      dropout=0.0, recurrent_dropout=0.0)
        if kind == "GRU":
            native["reset_after"] = True
        return {**value, "class_name": kind, "config": native}, found
    inner = (owner or name) if value["class_name"] in ("Bidirectional", "TimeDistributed") \
        else None
    return {key: as_native(item, found, inner)[0] for key, item in value.items()}, found


def from_cudnn(kind: str, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A layer's weights (each prefix's kernel, recurrent_kernel, bias) from CuDNN layout to
    the LSTM/GRU layout, as Keras 2.2.4's `_convert_rnn_weights` converts them."""
    gates = GATES[kind]
    out = dict(weights)
    for name in weights:
        if not name.endswith("kernel") or name.endswith("recurrent_kernel"):
            continue
        prefix = name[:-len("kernel")]
        kernel = weights[name]
        out[name] = np.hstack([block.T.reshape(block.shape, order="F")
                               for block in np.hsplit(kernel, gates)])
        recurrent = weights[f"{prefix}recurrent_kernel"]
        out[f"{prefix}recurrent_kernel"] = np.hstack([block.T for block in
                                                      np.hsplit(recurrent, gates)])
        bias = np.asarray(weights[f"{prefix}bias"]).reshape(2, -1)
        out[f"{prefix}bias"] = bias.sum(axis=0, dtype=np.float32) if kind == "LSTM" else bias
    return out
