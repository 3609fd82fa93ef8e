"""Attention (Luong, dot or concat scores) and AdditiveAttention (Bahdanau) at inference.

Read in Keras 3.15 `keras/src/layers/attention/{attention,additive_attention}.py` and tf-keras
2.21 `layers/attention/`: called on [query, value] or [query, value, key] (key defaults to
value); dropout acts only while training; `use_causal_mask` is a call argument (recorded in
the node's kwargs). Scores `(batch, Tq, Tv)`: Attention's dot `q @ k^T` (times the scalar
`scale` when use_scale), or concat `concat_score_weight * sum(tanh(scale * (q + k)))`;
AdditiveAttention's `sum(scale * tanh(q + k))` with a `scale` vector (use_scale on by default).
Positions the value mask or the causal mask hide get `scores - 1e9`, then softmax over Tv,
times value; query-masked rows are zeroed and the query mask is the output's mask. tf-keras
2.21 drops a legacy `causal` config key into the same causal masking; only false is read here.
TensorFlow.js 4.22 and Keras 2.2.4 have neither layer; the companion npm package computes
both (`TfjsLstmAttention`, `TfjsLstmAdditiveAttention`, js/companion/attention.js).
"""

from __future__ import annotations

import numpy as np

from ... import kinds as k
from ...companion import Companion
from ...errors import InputError
from ..base import Field, LayerConfig, LayerType, Weight, common_fields

KERAS = ("keras3", "keras2")


def _shared_fields(use_scale: bool) -> tuple[Field, ...]:
    return (
        Field("use_scale", k.BOOLEAN, use_scale, doc="learn a scale for the scores"),
        Field("dropout", k.FRACTION, 0.0, doc="fraction of the scores dropped while training"),
        Field("seed", k.SEED, None, families=("keras3",),
              omit_reason=lambda c, n: "the seed only drives dropout while training"),
        Field("causal", k.FALSE_ONLY, False, families=(), accepted_by=("keras2",),
              omit_reason=lambda c, n: "causal masking is off",
              doc="tf-keras's legacy causal masking; pass use_causal_mask to the call"),
    )


def _check_inputs(config: LayerConfig, input_shapes: list[tuple]) -> None:
    if not 2 <= len(input_shapes) <= 3:
        raise InputError(f"layer '{config.name}' is called on [query, value] or [query, value, "
                         f"key], got {len(input_shapes)} tensors")
    if any(len(shape) < 3 for shape in input_shapes):
        raise InputError(f"layer '{config.name}' takes tensors of shape (batch, steps, dim), "
                         f"got {[list(s) for s in input_shapes]}")


def _output_shape(config: LayerConfig, input_shapes: list[tuple]) -> tuple:
    """Keras 3's: the query's shape with the value's last size."""
    _check_inputs(config, input_shapes)
    return (*input_shapes[0][:-1], input_shapes[1][-1])


def _attention_weights(config: LayerConfig, input_shapes: list[tuple]) -> list[Weight]:
    _check_inputs(config, input_shapes)
    weights = [Weight("scale", ())] if config.use_scale else []
    if config.score_mode == "concat":
        weights.append(Weight("concat_score_weight", ()))
    return weights


def _additive_weights(config: LayerConfig, input_shapes: list[tuple]) -> list[Weight]:
    _check_inputs(config, input_shapes)
    return [Weight("scale", (input_shapes[0][-1],))] if config.use_scale else []


def _dot_scores(config: LayerConfig, weights: dict, query, key, dtype) -> np.ndarray:
    if config.score_mode == "dot":
        scores = query @ np.swapaxes(key, -2, -1)
        return scores * np.asarray(weights["scale"], dtype) if config.use_scale else scores
    summed = query[..., :, None, :] + key[..., None, :, :]
    if config.use_scale:
        summed = np.asarray(weights["scale"], dtype) * summed
    return np.asarray(weights["concat_score_weight"], dtype) * np.tanh(summed).sum(axis=-1)


def _additive_scores(config: LayerConfig, weights: dict, query, key, dtype) -> np.ndarray:
    tanh = np.tanh(query[..., :, None, :] + key[..., None, :, :])
    if config.use_scale:
        tanh = np.asarray(weights["scale"], dtype) * tanh
    return tanh.sum(axis=-1)


def causal_mask(rows: int, cols: int) -> np.ndarray:
    """Where query step i may attend to value step j: j <= i, as every Keras builds it."""
    return np.arange(rows)[:, None] >= np.arange(cols)[None, :]


def _forward(scores_of):
    def forward(config: LayerConfig, weights: dict, inputs: list, masks: list, dtype) -> tuple:
        query, value = (np.asarray(x, dtype) for x in inputs[:2])
        key = np.asarray(inputs[2], dtype) if len(inputs) > 2 else value
        _check_inputs(config, [x.shape for x in (query, value, key)][:len(inputs)])
        scores = scores_of(config, weights, query, key, dtype)
        keep = None
        if masks[1] is not None:
            keep = np.asarray(masks[1], bool)[..., None, :]
        if config.use_causal_mask:
            causal = causal_mask(*scores.shape[-2:])
            keep = causal if keep is None else keep & causal
        if keep is not None:
            scores = np.where(keep, scores, scores - dtype(1e9))
        scores = scores - scores.max(axis=-1, keepdims=True)
        exps = np.exp(scores)
        output = (exps / exps.sum(axis=-1, keepdims=True)) @ value
        if masks[0] is not None:
            output = np.where(np.asarray(masks[0], bool)[..., None], output, dtype(0))
        return [output.astype(dtype)], [masks[0]]
    return forward


def _attention_type(class_name: str, fields: tuple[Field, ...], weights, scores_of,
                    doc: str) -> LayerType:
    return LayerType(class_name=class_name, fields=(*fields, *common_fields(
        "attention" if class_name == "Attention" else "additive_attention")),
        weights=weights, output_shape=_output_shape, forward=_forward(scores_of),
        multi_input=True, families=KERAS, reads_mask=True, call_kwargs={"use_causal_mask": False},
        companion=Companion(f"TfjsLstm{class_name}", always=True, first_mask=True), doc=doc)


ATTENTION = _attention_type(
    "Attention",
    (*_shared_fields(False), Field("score_mode", k.Choice(("dot", "concat")), "dot",
                                   doc="dot product of query and key, or tanh of their sum")),
    _attention_weights, _dot_scores, "Dot-product (Luong) attention of a query over values.")

ADDITIVE_ATTENTION = _attention_type(
    "AdditiveAttention", _shared_fields(True), _additive_weights, _additive_scores,
    "Additive (Bahdanau) attention of a query over values.")
