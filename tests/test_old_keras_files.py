"""`.h5` files as Keras 2.2.4 (TF 1.x) wrote them, with CuDNNLSTM and CuDNNGRU layers.

Keras 2.2.4 cannot be installed here (no TF 1.x for this Python), so the files are written with
h5py in the layout of its `keras/engine/saving.py` (`save_model`,
`save_weights_to_hdf5_group`) and configs of its `get_config`s. The CuDNN weights are made from
a tf-keras LSTM/GRU's by tf-keras's own `_convert_rnn_weights` (the function Keras 2.2.4 loads
them with), and that tf-keras model's predictions judge what tfjs-lstm reads, within 1e-5.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from outputs import as_list, assert_close, randomize

from tfjs_lstm.convert import convert, load
from tfjs_lstm.errors import InputError
from tfjs_lstm.runtime.engine import run

X = np.random.default_rng(3).normal(0, 1, (2, 5, 3)).astype(np.float32)
GLOROT = {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg",
                                                      "distribution": "uniform", "seed": None}}
NO_RULES = {key: None for key in ("kernel_regularizer", "bias_regularizer",
                                  "activity_regularizer", "kernel_constraint",
                                  "bias_constraint")}


def cudnn_config(class_name: str, name: str, units: int, **extra) -> dict:
    """A CuDNNLSTM/CuDNNGRU config as Keras 2.2.4's `get_config` writes it."""
    config = {"name": name, "trainable": True, "return_sequences": False,
              "return_state": False, "go_backwards": False, "stateful": False, "units": units,
              "kernel_initializer": GLOROT, "bias_initializer": {"class_name": "Zeros",
                                                                 "config": {}},
              "recurrent_initializer": {"class_name": "Orthogonal",
                                        "config": {"gain": 1.0, "seed": None}},
              "recurrent_regularizer": None, "recurrent_constraint": None, **NO_RULES, **extra}
    if class_name == "CuDNNLSTM":
        config["unit_forget_bias"] = True
    return {"class_name": class_name, "config": config}


def dense_config(name: str, units: int) -> dict:
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "units": units, "activation": "linear",
        "use_bias": True, "kernel_initializer": GLOROT,
        "bias_initializer": {"class_name": "Zeros", "config": {}}, **NO_RULES}}


def write_keras224_h5(path, layers: list[dict], weights: dict[str, list[tuple[str, np.ndarray]]],
                      version: bytes = b"2.2.4") -> None:
    """A Sequential model file in Keras 2.2.4's layout: root attributes, model_weights with
    layer_names, each layer's weight_names and datasets under the weights' own names."""
    with h5py.File(path, "w") as h5:
        h5.attrs["keras_version"] = version
        h5.attrs["backend"] = b"tensorflow"
        h5.attrs["model_config"] = json.dumps({"class_name": "Sequential",
                                               "config": layers}).encode()
        group = h5.create_group("model_weights")
        group.attrs["layer_names"] = [entry["config"]["name"].encode() for entry in layers]
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = version
        for entry in layers:
            name = entry["config"]["name"]
            layer_group = group.create_group(name)
            named = weights.get(name, [])
            layer_group.attrs["weight_names"] = [n.encode() for n, _ in named]
            for weight_name, array in named:
                layer_group.create_dataset(weight_name, data=array)


def as_cudnn(tf_keras, layer, class_name: str) -> list[np.ndarray]:
    """A tf-keras LSTM/GRU(reset_after=True)'s weights in the CuDNN layout, converted by
    tf-keras's own `_convert_rnn_weights` (it picks the direction from the target's class)."""
    from tf_keras.src.saving.legacy.hdf5_format import _convert_rnn_weights

    target = type(class_name, (), {"reset_after": True})()
    return _convert_rnn_weights(target, layer.get_weights())


@pytest.fixture(scope="module")
def lstm_file(tf_keras, tmp_path_factory):
    """CuDNNLSTM -> Dense, and the tf-keras LSTM(sigmoid) model it was made from."""
    K = tf_keras
    model = randomize(K.Sequential([K.Input((5, 3)), K.layers.LSTM(4, name="lstm"),
                                    K.layers.Dense(2, name="dense")]),
                      np.random.default_rng(4), 0.5)
    kernel, recurrent, bias = as_cudnn(K, model.layers[0], "CuDNNLSTM")
    path = tmp_path_factory.mktemp("old") / "cudnn_lstm.h5"
    lstm = cudnn_config("CuDNNLSTM", "cu_dnnlstm_1", 4, batch_input_shape=[None, 5, 3],
                        dtype="float32")
    write_keras224_h5(path, [lstm, dense_config("dense_1", 2)], {
        "cu_dnnlstm_1": [("cu_dnnlstm_1/kernel:0", kernel),
                         ("cu_dnnlstm_1/recurrent_kernel:0", recurrent),
                         ("cu_dnnlstm_1/bias:0", bias)],
        "dense_1": [("dense_1/kernel:0", model.layers[1].get_weights()[0]),
                    ("dense_1/bias:0", model.layers[1].get_weights()[1])]})
    assert bias.shape == (32,)  # input and recurrent biases both kept
    return path, as_list(model.predict(X, verbose=0))


def test_cudnn_lstm_reads_as_the_lstm_it_computes(lstm_file):
    path, expected = lstm_file
    model = load(path)
    assert model.layers["cu_dnnlstm_1"].class_name == "LSTM"
    assert model.layers["cu_dnnlstm_1"].recurrent_activation == "sigmoid"
    assert_close(run(model, [X]), expected, "reference runtime")


def test_cudnn_lstm_converts_to_tfjs_and_keras3_computing_the_same(lstm_file, tfjs, keras3):
    path, expected = lstm_file
    convert(path, path.parent / "lstm-tfjs")
    convert(path, path.parent / "lstm.keras")
    [in_tfjs] = tfjs.predict_folders([(path.parent / "lstm-tfjs", [X])])
    assert not isinstance(in_tfjs, str), in_tfjs
    assert_close(in_tfjs, expected, "tfjs")
    in_keras3 = keras3.models.load_model(path.parent / "lstm.keras", compile=False)(X)
    assert_close(as_list(in_keras3), expected, "Keras 3")


def test_bidirectional_cudnn_gru_reads_as_gru_reset_after_and_converts_to_keras3(
        tf_keras, keras3, tmp_path):
    K = tf_keras
    model = randomize(K.Sequential([K.Input((5, 3)), K.layers.Bidirectional(
        K.layers.GRU(3, reset_after=True, return_sequences=True), name="bidi")]),
        np.random.default_rng(6), 0.5)
    weights = model.layers[0].get_weights()
    forward = as_cudnn(K, model.layers[0].forward_layer, "CuDNNGRU")
    backward = as_cudnn(K, model.layers[0].backward_layer, "CuDNNGRU")
    assert forward[2].shape == (18,) and len(weights) == 6
    bidi = {"class_name": "Bidirectional", "config": {
        "name": "bidirectional_1", "trainable": True, "batch_input_shape": [None, 5, 3],
        "dtype": "float32", "merge_mode": "concat",
        "layer": cudnn_config("CuDNNGRU", "cu_dnngru_1", 3, return_sequences=True)}}
    names = [f"bidirectional_1/{side}_cu_dnngru_1/{w}:0" for side in ("forward", "backward")
             for w in ("kernel", "recurrent_kernel", "bias")]
    write_keras224_h5(tmp_path / "bidi.h5", [bidi], {
        "bidirectional_1": list(zip(names, [*forward, *backward], strict=True))})
    expected = as_list(model.predict(X, verbose=0))
    assert_close(run(load(tmp_path / "bidi.h5"), [X]), expected, "reference runtime")
    convert(tmp_path / "bidi.h5", tmp_path / "bidi.keras")
    in_keras3 = keras3.models.load_model(tmp_path / "bidi.keras", compile=False)(X)
    assert_close(as_list(in_keras3), expected, "Keras 3")


def test_a_mask_reaching_a_cudnn_layer_is_refused_naming_it(tmp_path):
    embedding = {"class_name": "Embedding", "config": {
        "name": "embedding_1", "trainable": True, "batch_input_shape": [None, 5],
        "dtype": "float32", "input_dim": 10, "output_dim": 3, "mask_zero": True,
        "embeddings_initializer": GLOROT, "embeddings_regularizer": None,
        "activity_regularizer": None, "embeddings_constraint": None, "input_length": 5}}
    write_keras224_h5(tmp_path / "masked.h5",
                      [embedding, cudnn_config("CuDNNLSTM", "cu_dnnlstm_1", 2)], {})
    with pytest.raises(InputError, match="layer 'cu_dnnlstm_1': a CuDNN layer does not support"):
        load(tmp_path / "masked.h5")


def test_keras1_keys_are_refused_naming_keras2s_key(tmp_path):
    lstm = {"class_name": "LSTM", "config": {"name": "lstm_1", "output_dim": 4,
                                             "inner_activation": "hard_sigmoid",
                                             "batch_input_shape": [None, 5, 3]}}
    write_keras224_h5(tmp_path / "keras1.h5", [lstm], {})
    with pytest.raises(InputError, match="a Keras 1 key, Keras 2's"):
        load(tmp_path / "keras1.h5")


def test_keras_2_1_gru_without_reset_after_reads_as_that_kerass_gru(tf_keras, tmp_path):
    """Keras 2.0-2.1.2's GRU had no reset_after key: its GRU is reset_after=False (as
    standalone Keras 2.2's default), not tf.keras 2's True."""
    K = tf_keras
    model = randomize(K.Sequential([K.Input((5, 3)), K.layers.GRU(
        3, reset_after=False, recurrent_activation="hard_sigmoid", name="gru")]),
        np.random.default_rng(8), 0.5)
    config = cudnn_config("CuDNNGRU", "gru_1", 3, batch_input_shape=[None, 5, 3],
                          dtype="float32")["config"]
    config.update(activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                  dropout=0.0, recurrent_dropout=0.0, implementation=1, unroll=False)
    kernel, recurrent, bias = model.layers[0].get_weights()
    write_keras224_h5(tmp_path / "gru.h5", [{"class_name": "GRU", "config": config}],
                      {"gru_1": [("gru_1/kernel:0", kernel),
                                 ("gru_1/recurrent_kernel:0", recurrent),
                                 ("gru_1/bias:0", bias)]}, version=b"2.1.2")
    assert_close(run(load(tmp_path / "gru.h5"), [X]), as_list(model(X)), "tf-keras")


def conv_lstm2d_config(name: str, filters: int, **extra) -> dict:
    """A ConvLSTM2D config as Keras 2.2.4's `get_config` writes it (RNN keys, then the cell's)."""
    return {"class_name": "ConvLSTM2D", "config": {
        "name": name, "trainable": True, "return_sequences": False, "return_state": False,
        "go_backwards": False, "stateful": False, "unroll": False, "filters": filters,
        "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
        "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "tanh",
        "recurrent_activation": "hard_sigmoid", "use_bias": True, "kernel_initializer": GLOROT,
        "recurrent_initializer": {"class_name": "Orthogonal",
                                  "config": {"gain": 1.0, "seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "unit_forget_bias": True,
        "recurrent_regularizer": None, "recurrent_constraint": None, **NO_RULES,
        "dropout": 0.0, "recurrent_dropout": 0.0, **extra}}


def separable_conv1d_config(name: str, filters: int, **extra) -> dict:
    """A SeparableConv1D config as Keras 2.2.4's `get_config` writes it (no kernel_* keys)."""
    rules = {key: value for key, value in NO_RULES.items() if not key.startswith("kernel")}
    return {"class_name": "SeparableConv1D", "config": {
        "name": name, "trainable": True, "filters": filters, "kernel_size": [3],
        "strides": [2], "padding": "valid", "data_format": "channels_last",
        "dilation_rate": [1], "activation": "relu", "use_bias": True,
        "bias_initializer": {"class_name": "Zeros", "config": {}}, **rules,
        "depth_multiplier": 2, "depthwise_initializer": GLOROT, "pointwise_initializer": GLOROT,
        "depthwise_regularizer": None, "pointwise_regularizer": None,
        "depthwise_constraint": None, "pointwise_constraint": None, **extra}}


def test_keras224_conv_lstm2d_and_separable_conv1d_read_as_tf_keras_computes_them(
        tf_keras, keras3, tmp_path):
    """Keras 2.2.4's ConvLSTM2D (hard_sigmoid gates) and SeparableConv1D, weights from the
    tf-keras model that judges them; the file converts to .keras for Keras 3."""
    K = tf_keras
    model = randomize(K.Sequential([
        K.Input((3, 5, 5, 2)), K.layers.ConvLSTM2D(2, 3, padding="same", name="conv_lstm"),
        K.layers.Reshape((25, 2), name="steps"),
        K.layers.SeparableConv1D(3, 3, strides=2, depth_multiplier=2, activation="relu",
                                 name="separable"),
        K.layers.Dense(2, name="dense")]), np.random.default_rng(9), 0.5)
    assert model.layers[0].get_config()["recurrent_activation"] == "hard_sigmoid"
    reshape = {"class_name": "Reshape", "config": {"name": "reshape_1", "trainable": True,
                                                   "target_shape": [25, 2]}}
    layers = [conv_lstm2d_config("conv_lst_m2d_1", 2, batch_input_shape=[None, 3, 5, 5, 2],
                                 dtype="float32"), reshape,
              separable_conv1d_config("separable_conv1d_1", 3), dense_config("dense_1", 2)]
    names = {"conv_lst_m2d_1": ("kernel", "recurrent_kernel", "bias"),
             "separable_conv1d_1": ("depthwise_kernel", "pointwise_kernel", "bias"),
             "dense_1": ("kernel", "bias")}
    weights = {name: [(f"{name}/{w}:0", array) for w, array in
                      zip(names[name], layer.get_weights(), strict=True)]
               for name, layer in zip(names, (model.layers[0], *model.layers[2:]), strict=True)}
    write_keras224_h5(tmp_path / "conv.h5", layers, weights)
    x = np.random.default_rng(10).normal(0, 1, (2, 3, 5, 5, 2)).astype(np.float32)
    expected = as_list(model(x))
    read = load(tmp_path / "conv.h5")
    assert read.layers["conv_lst_m2d_1"].recurrent_activation == "hard_sigmoid_keras2"
    assert_close(run(read, [x]), expected, "reference runtime")
    convert(tmp_path / "conv.h5", tmp_path / "conv.keras")
    in_keras3 = keras3.models.load_model(tmp_path / "conv.keras", compile=False)(x)
    assert_close(as_list(in_keras3), expected, "Keras 3")


def test_keras224_fills_its_own_defaults_for_conv_lstm2d_and_separable_conv1d():
    """Keras 2.2.4's signatures: ConvLSTM2D gates are hard_sigmoid with unit_forget_bias,
    data_format None resolves to channels_last; SeparableConv1D pads 'valid'."""
    from tfjs_lstm import dialects

    conv = dialects.read("keras2.2", {"filters": 2, "kernel_size": 3}, class_name="ConvLSTM2D")
    assert (conv.recurrent_activation, conv.unit_forget_bias, conv.data_format) == \
        ("hard_sigmoid_keras2", True, "channels_last")
    separable = dialects.read("keras2.2", {"filters": 2, "kernel_size": 3},
                              class_name="SeparableConv1D")
    assert (separable.padding, separable.depth_multiplier, separable.activation) == \
        ("valid", 1, "linear")


def test_a_keras224_causal_separable_conv1d_is_refused_naming_layer(tmp_path):
    """Keras 2.2.4 builds it, then its backend's separable_conv1d throws on 'causal'."""
    layer = separable_conv1d_config("separable_conv1d_1", 2, padding="causal",
                                    batch_input_shape=[None, 7, 2], dtype="float32")
    write_keras224_h5(tmp_path / "causal.h5", [layer], {})
    with pytest.raises(InputError, match="layer 'separable_conv1d_1': Keras 2.2.4's "
                                         "separable_conv1d throws on causal padding"):
        load(tmp_path / "causal.h5")
