"""Cases for the layer families beside the recurrent ones (convolution, pooling, normalization,
activation layers, attention), each next to an LSTM: one tiny model per family."""

from __future__ import annotations

from typing import Any

from .specs import Feed, Spec


def _k3_conv1d_pooling(K: Any) -> Any:
    L = K.layers
    return K.Sequential([
        K.Input((12, 3), name="x"),
        L.Conv1D(4, 3, padding="same", activation="relu", name="conv"),
        L.MaxPooling1D(2, name="pool"),
        L.LSTM(3, return_sequences=True, name="lstm"),
        L.Conv1D(2, 2, padding="valid", name="conv_head")], name="conv1d_pooling")


def _k3_global_pooling(K: Any) -> Any:
    L = K.layers
    x = K.Input((7, 3), name="x")
    sequence = L.LSTM(4, return_sequences=True, name="lstm")(x)
    return K.Model(x, [L.GlobalMaxPooling1D(name="max")(sequence),
                       L.GlobalAveragePooling1D(name="average")(sequence)],
                   name="global_pooling")


def _k3_normalization(K: Any) -> Any:
    L = K.layers
    return K.Sequential([
        K.Input((6, 3), name="x"),
        L.LSTM(4, return_sequences=True, name="lstm_a"),
        L.LayerNormalization(name="layer_norm"),
        L.LSTM(3, return_sequences=True, name="lstm_b"),
        L.BatchNormalization(name="batch_norm")], name="normalization")


def _k3_activation_layers(K: Any) -> Any:
    L = K.layers
    return K.Sequential([
        K.Input((6, 3), name="x"),
        L.LSTM(4, return_sequences=True, name="lstm"),
        L.ReLU(max_value=0.5, name="relu"),
        L.Dense(4, name="dense_a"),
        L.LeakyReLU(negative_slope=0.2, name="leaky"),
        L.Dense(4, name="dense_b"),
        L.ELU(name="elu"),
        L.Dense(3, name="dense_c"),
        L.Softmax(name="softmax")], name="activation_layers")


def _k3_attention(K: Any) -> Any:
    L = K.layers
    x = K.Input((6, 3), name="x")
    sequence = L.LSTM(4, return_sequences=True, name="lstm")(x)
    attended = L.Attention(use_scale=True, name="attention")([sequence, sequence],
                                                            use_causal_mask=True)
    heads = L.MultiHeadAttention(2, 2, name="mha")(attended, attended)
    return K.Model(x, L.Dense(2, name="dense")(heads), name="attention")


FAMILY_CASES: tuple[Spec, ...] = (
    Spec("k3_conv1d_pooling", "Conv1D (padding same, relu) then MaxPooling1D(2) before an LSTM "
         "returning sequences, then Conv1D (padding valid): 12 steps in, 5 out", "keras3",
         _k3_conv1d_pooling, (Feed((2, 12, 3)),), 140),
    Spec("k3_global_pooling", "LSTM returning sequences, then GlobalMaxPooling1D and "
         "GlobalAveragePooling1D: two outputs", "keras3", _k3_global_pooling,
         (Feed((2, 7, 3)),), 141),
    Spec("k3_normalization", "LayerNormalization between two LSTMs returning sequences, then "
         "BatchNormalization (inference: moving mean and variance)", "keras3",
         _k3_normalization, (Feed((3, 6, 3)),), 142),
    Spec("k3_activation_layers", "activation layers after an LSTM returning sequences: "
         "ReLU(max_value=0.5), LeakyReLU(0.2), ELU, Softmax, with Dense layers between",
         "keras3", _k3_activation_layers, (Feed((2, 6, 3)),), 143),
    Spec("k3_attention", "Attention(use_scale) with a causal mask over an LSTM's sequence, then "
         "MultiHeadAttention (2 heads) self-attention, Dense: tfjs runs the companion package's "
         "classes", "keras3", _k3_attention, (Feed((2, 6, 3)),), 144, companion=True),
)
