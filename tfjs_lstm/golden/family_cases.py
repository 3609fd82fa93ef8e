"""Cases for the layer families beside the recurrent ones (convolution, pooling, normalization,
activation, merging, reshaping and attention layers), each next to an LSTM: one tiny model per
family."""

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


def _k3_merging(K: Any) -> Any:
    L = K.layers
    x = K.Input((5, 3), name="x")
    a = L.LSTM(4, return_sequences=True, name="lstm_a")(x)
    b = L.LSTM(4, return_sequences=True, name="lstm_b")(x)
    return K.Model(x, [L.Maximum(name="max")([a, b]),
                       L.Permute((2, 1), name="permute")(L.Minimum(name="min")([a, b])),
                       L.Dot(axes=2, name="dot")([a, b])], name="merging")


def _k3_steps_reshaping(K: Any) -> Any:
    L = K.layers
    x = K.Input((5, 3), name="x")
    a = L.LSTM(4, return_sequences=True, name="lstm_a")(x)
    b = L.LSTM(4, return_sequences=True, name="lstm_b")(x)
    steps = L.Subtract(name="subtract")([a, b])
    for layer in (L.ZeroPadding1D((1, 2), name="pad"), L.Cropping1D((2, 1), name="crop"),
                  L.UpSampling1D(2, name="repeat"), L.LSTM(3, name="lstm_c")):
        steps = layer(steps)
    return K.Model(x, steps, name="steps_reshaping")


def _k3_conv2d_pooling(K: Any) -> Any:
    L = K.layers
    td = L.TimeDistributed
    return K.Sequential([
        K.Input((3, 6, 6, 2), name="frames"),
        td(L.Conv2D(3, 3, padding="same", activation="relu"), name="conv_same"),
        td(L.MaxPooling2D(2), name="max_pool"),
        td(L.Conv2D(2, 2), name="conv_valid"),
        td(L.AveragePooling2D(2, padding="same"), name="average_pool"),
        td(L.GlobalMaxPooling2D(), name="global_max"),
        L.LSTM(3, name="lstm")], name="conv2d_pooling")
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
    Spec("k3_merging", "two LSTMs returning sequences merged by Maximum, Minimum (then "
         "Permute((2, 1))) and Dot(axes=2): three outputs", "keras3", _k3_merging,
         (Feed((2, 5, 3)),), 144),
    Spec("k3_steps_reshaping", "Subtract of two LSTMs returning sequences, then ZeroPadding1D, "
         "Cropping1D and UpSampling1D before an LSTM (TensorFlow.js 4.22 has none of the four)",
         "keras3", _k3_steps_reshaping, (Feed((2, 5, 3)),), 145),
    Spec("k3_conv2d_pooling", "over 3 frames of 6x6x2 in TimeDistributed: Conv2D (same, relu), "
         "MaxPooling2D, Conv2D (valid), AveragePooling2D (same), GlobalMaxPooling2D; then an "
         "LSTM", "keras3", _k3_conv2d_pooling, (Feed((2, 3, 6, 6, 2)),), 146),
    Spec("k3_attention", "Attention(use_scale) with a causal mask over an LSTM's sequence, then "
         "MultiHeadAttention (2 heads) self-attention, Dense: tfjs runs the companion package's "
         "classes", "keras3", _k3_attention, (Feed((2, 6, 3)),), 144, companion=True),
)
