"""MultiHeadAttention at inference, on (batch, steps, features) tensors.

Read in Keras 3.15 `keras/src/layers/attention/multi_head_attention.py` and tf-keras 2.21
`layers/attention/multi_head_attention.py`. Called as `mha(query, value[, key])`, key defaulting
to value; `use_causal_mask` is a call argument. Four EinsumDense projections, in build order:
query and key kernels `(features, num_heads, key_dim)`, value `(features, num_heads,
value_dim)`, biases `(num_heads, dim)`, and attention_output `(num_heads, value_dim, query
features)` with bias `(query features,)`. Keras 3 saves them under `query_dense`, `key_dense`,
`value_dense`, `output_dense`; tf-keras names them `query`, `key`, `value`, `attention_output`.
Scores are `key . (query / sqrt(key_dim))` per head, softmax over the value steps (hidden ones
get -1e9), combined with the values and projected back. value_dim defaults to
key_dim and attention_axes to the steps axis; tf-keras also writes the build shapes, which the
graph gives. Masks (`_compute_attention_mask`): query step t may attend to value step s where
the query mask keeps t, the value and key masks keep s (and, causally, s <= t); the output
carries the query's mask. Keras 3 (dropout 0: `dot_product_attention`) and tf-keras with
robust masking replace hidden scores by a large negative, tf-keras otherwise adds -1e9: a
kept query step gets the same weights either way, a fully hidden (padded) one the mean of
the values (equal while its scores stay below 32, whose rounding at 1e9 the sum drops). Keras
3 with dropout zeroes such rows instead, so a masked call with dropout is refused.
output_shape, Keras 3's use_gate and sliding_window are not supported. TensorFlow.js 4.22
and Keras 2.2.4 have no such layer; the companion npm package computes it
(`TfjsLstmMultiHeadAttention`, js/companion/attention.js), where tfjs writes value and key as
further entries of the node rather than in its kwargs. tfjs hands it the query's mask only, so
a masked call is written for tfjs where query, value and key are one tensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import kinds as k
from ...companion import Companion
from ...errors import InputError
from ...objects import INITIALIZERS, KERNEL_INITIALIZER_DEFAULTS
from ..base import Field, LayerConfig, LayerType, Weight, common_fields
from .attention import causal_mask

_BUILD_SHAPES = ("query_shape", "key_shape", "value_shape")


class _AttentionAxes(k.Kind):
    """attention_axes: null (the steps axis) or that axis, 1, as an integer or a list of one;
    canonically null or (1,)."""

    def read(self, family: str, value: Any, ctx: Any, key: str) -> Any:
        if value is None:
            return None
        items = value if isinstance(value, (list, tuple)) else [value]
        if list(items) != [1] or isinstance(items[0], bool):
            ctx.bad_input(key, f"only attention over the steps axis (null or [1]) is supported, "
                               f"found {value!r}")
        return (1,)

    def write(self, family: str, value: Any, ctx: Any, key: str) -> Any:
        return None if value is None else list(value)

    def to_json(self, value: Any) -> Any:
        return None if value is None else list(value)

    def schema(self, family: str, snake: bool) -> dict[str, Any]:
        return {"anyOf": [{"type": "null"}, {"const": 1}, {"const": [1]}]}


def _keras3_only(reason: str):
    return lambda c, n: reason


FIELDS = (
    Field("num_heads", k.UNITS, doc="number of attention heads"),
    Field("key_dim", k.UNITS, doc="size of each head's query and key"),
    Field("value_dim", k.LENGTH, None, doc="size of each head's value, null for key_dim"),
    Field("dropout", k.FRACTION, 0.0, doc="fraction of the scores dropped while training"),
    Field("use_bias", k.BOOLEAN, True),
    Field("use_gate", k.FALSE_ONLY, False, families=("keras3",),
          omit_reason=_keras3_only("the output gate is off")),
    Field("output_shape", k.NULL_ONLY, None, doc="null: the query's feature size"),
    Field("attention_axes", _AttentionAxes(), None),
    Field("sliding_window", k.NULL_ONLY, None, families=("keras3",),
          omit_reason=_keras3_only("no sliding window is set")),
    Field("kernel_initializer", k.INITIALIZER, KERNEL_INITIALIZER_DEFAULTS),
    Field("bias_initializer", k.INITIALIZER, INITIALIZERS.make("Zeros")),
    Field("kernel_regularizer", k.REGULARIZER, None),
    Field("bias_regularizer", k.REGULARIZER, None),
    Field("activity_regularizer", k.REGULARIZER, None),
    Field("kernel_constraint", k.CONSTRAINT, None),
    Field("bias_constraint", k.CONSTRAINT, None),
    Field("softmax_robust_masking", k.FALSE_ONLY, False, families=("keras2",),
          omit_reason=lambda c, n: "false: tf-keras adds -1e9 at hidden scores"),
    Field("seed", k.SEED, None, families=("keras3",),
          omit_reason=lambda c, n: "the seed only drives dropout while training"),
    *common_fields("multi_head_attention"),
)


def _adjust(values: dict, family: str) -> dict[str, str]:
    """Both Keras runtimes store value_dim as key_dim when it is not given."""
    if values.get("value_dim") is None and values.get("key_dim") is not None:
        values["value_dim"] = values["key_dim"]
    return {}


def _start_read(data: dict, family: str) -> dict:
    """tf-keras writes the build shapes; the model's graph gives them."""
    return {key: value for key, value in data.items() if key not in _BUILD_SHAPES}


def _finish_write(out: dict, family: str) -> dict:
    """tf-keras's from_config requires the build shapes; null builds at the first call."""
    return out | dict.fromkeys(_BUILD_SHAPES) if family == "keras2" else out


def _shapes(config: LayerConfig, input_shapes: list[tuple]) -> tuple[tuple, tuple, tuple]:
    if not 2 <= len(input_shapes) <= 3 or any(len(s) != 3 for s in input_shapes):
        raise InputError(f"layer '{config.name}' takes a query, a value and maybe a key of "
                         f"shape (batch, steps, features), got "
                         f"{[list(s) for s in input_shapes]}")
    query, value = input_shapes[:2]
    key = input_shapes[2] if len(input_shapes) > 2 else value
    return query, value, key


def _value_dim(config: LayerConfig) -> int:
    return config.value_dim or config.key_dim


def _weights(config: LayerConfig, input_shapes: list[tuple]) -> list[Weight]:
    query, value, key = _shapes(config, input_shapes)
    heads, value_dim = config.num_heads, _value_dim(config)
    weights = []
    for name, features, size in (("query", query[-1], config.key_dim),
                                 ("key", key[-1], config.key_dim),
                                 ("value", value[-1], value_dim)):
        weights.append(Weight(f"{name}/kernel", (features, heads, size)))
        if config.use_bias:
            weights.append(Weight(f"{name}/bias", (heads, size)))
    weights.append(Weight("attention_output/kernel", (heads, value_dim, query[-1])))
    if config.use_bias:
        weights.append(Weight("attention_output/bias", (query[-1],)))
    return weights


def _keras3_paths(config: LayerConfig, count: int) -> list[str]:
    per = 2 if config.use_bias else 1
    return [f"{dense}_dense/vars/{i}" for dense in ("query", "key", "value", "output")
            for i in range(per)]


def _output_shape(config: LayerConfig, input_shapes: list[tuple]) -> tuple:
    return _shapes(config, input_shapes)[0]


def _project(x: np.ndarray, weights: dict, name: str, use_bias: bool, dtype) -> np.ndarray:
    """[batch, steps, features] through an EinsumDense kernel [features, heads, size] ->
    [batch, heads, steps, size], as one BLAS product."""
    kernel = np.asarray(weights[f"{name}/kernel"], dtype)
    y = (x @ kernel.reshape(kernel.shape[0], -1)).reshape(*x.shape[:2], *kernel.shape[1:])
    if use_bias:
        y += np.asarray(weights[f"{name}/bias"], dtype)
    return y.transpose(0, 2, 1, 3)


def _keep(config: LayerConfig, masks: list, rows: int, cols: int) -> np.ndarray | None:
    """Which [batch, 1, query step, value step] scores count: Keras's query, value and key
    masks and the causal mask, ANDed; None where nothing is hidden."""
    keep = None
    for index, mask in enumerate(masks):
        if mask is not None:
            mask = np.asarray(mask, bool)
            part = mask[:, None, :, None] if index == 0 else mask[:, None, None, :]
            keep = part if keep is None else keep & part
    if config.use_causal_mask:
        causal = causal_mask(rows, cols)
        keep = causal if keep is None else keep & causal
    return keep


def _forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
    if config.dropout and any(mask is not None for mask in masks):
        raise InputError(f"layer '{config.name}': {_MASKED_DROPOUT}")
    arrays = [np.asarray(x, dtype) for x in inputs]
    query, value = arrays[:2]
    key = arrays[2] if len(arrays) > 2 else value
    _shapes(config, [x.shape for x in arrays])
    q = _project(query, weights, "query", config.use_bias, dtype)
    q = q * dtype(1.0 / np.sqrt(float(config.key_dim)))
    k_ = _project(key, weights, "key", config.use_bias, dtype)
    v = _project(value, weights, "value", config.use_bias, dtype)
    scores = q @ k_.transpose(0, 1, 3, 2)  # [batch, heads, query steps, value steps]
    keep = _keep(config, list(masks) + [None] * (3 - len(masks)), *scores.shape[-2:])
    if keep is not None:
        scores = np.where(keep, scores, dtype(-1e9))
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores = scores / scores.sum(axis=-1, keepdims=True)
    combined = (scores @ v).transpose(0, 2, 1, 3)  # [batch, query steps, heads, size]
    out_kernel = np.asarray(weights["attention_output/kernel"], dtype)
    output = combined.reshape(*combined.shape[:2], -1) @ out_kernel.reshape(
        -1, out_kernel.shape[-1])
    if config.use_bias:
        output = output + np.asarray(weights["attention_output/bias"], dtype)
    return [output.astype(dtype)], [masks[0] if masks else None]


_MASKED_DROPOUT = ("a mask reaching MultiHeadAttention with dropout is not supported: Keras 3 "
                   "then zeroes the weights of padded query steps, tf-keras averages the values")


def _refuse_masked(config: LayerConfig) -> dict[str, str]:
    """A masked call is computed without dropout only (`_MASKED_DROPOUT`)."""
    return dict.fromkeys(("keras3", "keras2", "tfjs"), _MASKED_DROPOUT) if config.dropout \
        else {}

MULTI_HEAD_ATTENTION = LayerType(
    class_name="MultiHeadAttention",
    fields=FIELDS,
    weights=_weights,
    output_shape=_output_shape,
    forward=_forward,
    adjust=_adjust,
    multi_input=True,
    families=("keras3", "keras2"),
    keras3_weight_paths=_keras3_paths,
    start_read=_start_read,
    finish_write=_finish_write,
    extra_keys=lambda family: _BUILD_SHAPES if family == "keras2" else (),
    refuse_masked=_refuse_masked,
    call_kwargs={"use_causal_mask": False},
    input_names=("query", "value", "key"),
    companion=Companion("TfjsLstmMultiHeadAttention", always=True, first_mask=True),
    doc="Multi-head dot-product attention of a query over a value (and key).",
)
