"""The case matrix: tiny models covering the LSTM options, born in each runtime, and
selecting cases by name."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InputError
from .family_cases import FAMILY_CASES
from .specs import Feed, Spec


def _sequential(K: Any, name: str, steps: int, features: int, layers: list,
                batch: int | None = None) -> Any:
    return K.Sequential([K.Input((steps, features), batch_size=batch, name="x"), *layers],
                        name=name)


def _k3_stacked(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "stacked", 8, 4, [
        L.LSTM(6, return_sequences=True, name="lstm_a"),
        L.LSTM(5, return_sequences=True, name="lstm_b"),
        L.Dense(3, activation="tanh", name="head")])


def _k3_options(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "options", 6, 3, [
        L.LSTM(5, go_backwards=True, use_bias=False, unit_forget_bias=False,
               return_sequences=True, dropout=0.25, recurrent_dropout=0.1, unroll=True,
               kernel_regularizer=K.regularizers.L1L2(l2=1e-3),
               kernel_constraint=K.constraints.MaxNorm(3.0), name="lstm_opts"),
        L.LSTM(4, unit_forget_bias=False, bias_initializer="ones", name="lstm_last"),
        L.Dense(2, name="head")])


def _k3_options_state(K: Any) -> Any:
    x = K.Input((6, 3), name="x")
    regularizer = K.regularizers.L2(1e-3)
    last, h, c = K.layers.LSTM(
        4, return_state=True, go_backwards=True, recurrent_regularizer=regularizer,
        bias_regularizer=K.regularizers.L1(1e-3), activity_regularizer=regularizer,
        kernel_initializer="he_uniform", recurrent_initializer="identity",
        bias_initializer="zeros", seed=7, use_cudnn=False, name="lstm_state")(x)
    return K.Model(x, [last, h, c], name="options_state")


def _k3_rnn_cells(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "rnn_cells", 6, 3, [
        L.RNN(L.LSTMCell(4, name="lstm_cell"), return_sequences=True, name="rnn_lstm"),
        L.RNN(L.GRUCell(3, reset_after=False, name="gru_cell"), go_backwards=True,
              return_sequences=True, name="rnn_gru"),
        L.RNN(L.SimpleRNNCell(2, name="simple_cell"), name="rnn_simple")])


def _k3_constraints(K: Any) -> Any:
    L, C = K.layers, K.constraints
    return _sequential(K, "constraints", 5, 3, [
        L.LSTM(4, kernel_constraint=C.MaxNorm(0.5), recurrent_constraint=C.UnitNorm(),
               bias_constraint=C.NonNeg(), return_sequences=True, name="lstm_constrained"),
        L.Dense(2, kernel_constraint=C.MinMaxNorm(0.2, 0.4), name="head")])


def _k3_custom_backward(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "custom_backward", 6, 3, [
        L.Bidirectional(L.LSTM(3, return_sequences=True, name="fw"),
                        backward_layer=L.LSTM(2, activation="relu", go_backwards=True,
                                              return_sequences=True, name="bw"),
                        name="bidi_custom")])


def _k3_return_state(K: Any) -> Any:
    x = K.Input((7, 3), name="x")
    sequence, h, c = K.layers.LSTM(4, return_sequences=True, return_state=True,
                                   name="encoder")(x)
    head = K.layers.Dense(2, activation="softsign", name="head")(sequence)
    return K.Model(x, [head, h, c], name="return_state")


ACTIVATION_PAIRS = (
    ("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("softsign", "tanh"), ("linear", "sigmoid"),
    ("elu", "softsign"), ("selu", "hard_sigmoid"), ("softplus", "relu6"), ("gelu", "sigmoid"),
    ("mish", "softplus"), ("silu", "tanh"), ("sigmoid", "relu"), ("relu6", "elu"))


def _k3_activation_pairs(K: Any) -> Any:
    x = K.Input((6, 3), name="x")
    outputs = [K.layers.LSTM(3, activation=a, recurrent_activation=r, return_sequences=True,
                             name=f"{a}__{r}")(x) for a, r in ACTIVATION_PAIRS]
    return K.Model(x, outputs, name="activation_pairs")


def _k3_hard_sigmoid_gates(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "hard_sigmoid_gates", 9, 3, [
        L.LSTM(5, recurrent_activation="hard_sigmoid", return_sequences=True, name="lstm_hs"),
        L.Dense(3, activation="hard_sigmoid", name="head")])


def _k3_hard_sigmoid_cell(K: Any) -> Any:
    return _sequential(K, "hard_sigmoid_cell", 5, 2, [
        K.layers.LSTM(4, activation="hard_sigmoid", return_sequences=True, name="lstm_cell_hs")])


def _k3_one_step(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "one_step", 1, 3, [L.LSTM(4, name="lstm_1step"),
                                             L.Dense(2, name="head")])


def _k3_long(K: Any) -> Any:
    return _sequential(K, "long", 500, 2, [
        K.layers.LSTM(3, return_sequences=True, name="lstm_long")])


def _k3_long_gru_batch1(K: Any) -> Any:
    return _sequential(K, "long_gru", 500, 2, [
        K.layers.GRU(3, reset_after=False, return_sequences=True, name="gru_long")], batch=1)


def _gru(reset_after: bool) -> Callable[[Any], Any]:
    """A GRU returning its sequence, then one returning its last step backwards, and a Dense."""
    def build(K: Any) -> Any:
        L = K.layers
        return _sequential(K, f"gru_reset_after_{reset_after}".lower(), 7, 3, [
            L.GRU(4, reset_after=reset_after, return_sequences=True, name="gru_a"),
            L.GRU(3, reset_after=reset_after, go_backwards=True, name="gru_b"),
            L.Dense(2, name="head")])
    return build


def _k3_simple_rnn(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "simple_rnn", 6, 3, [
        L.SimpleRNN(5, return_sequences=True, name="rnn_a"),
        L.SimpleRNN(3, activation="relu", go_backwards=True, name="rnn_b"),
        L.Dense(2, name="head")])


def _bidirectional(mode: str | None, recurrent_activation: str = "sigmoid"
                   ) -> Callable[[Any], Any]:
    """Bidirectional(LSTM returning sequences) in one merge mode; None gives two outputs."""
    def build(K: Any) -> Any:
        x = K.Input((5, 3), name="x")
        lstm = K.layers.LSTM(3, recurrent_activation=recurrent_activation,
                             return_sequences=True, name="lstm")
        merged = K.layers.Bidirectional(lstm, merge_mode=mode, name="bi")(x)
        return K.Model(x, merged, name=f"bidirectional_{mode}".lower())
    return build


def _k3_time_distributed(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "time_distributed", 6, 3, [
        L.LSTM(4, return_sequences=True, name="lstm"),
        L.TimeDistributed(L.Dense(2, activation="tanh", name="dense"), name="per_step")])


def _embedding(recurrent: str) -> Callable[[Any], Any]:
    """Embedding(mask_zero) feeding a recurrent layer returning sequences, then an LSTM."""
    def build(K: Any) -> Any:
        L = K.layers
        first = (L.GRU(4, reset_after=False, return_sequences=True, name="gru")
                 if recurrent == "GRU" else L.LSTM(4, return_sequences=True, name="lstm_a"))
        return K.Sequential([K.Input((7,), dtype="int32", name="tokens"),
                             L.Embedding(10, 3, mask_zero=True, name="embed"), first,
                             L.LSTM(3, name="lstm_last")], name="embedding_mask_zero")
    return build


def _masking(mask_value: float, bidirectional: bool = False) -> Callable[[Any], Any]:
    """Masking then an LSTM returning its sequence (inside Bidirectional when asked)."""
    def build(K: Any) -> Any:
        L = K.layers
        lstm = L.LSTM(4, return_sequences=True, name="lstm")
        return _sequential(K, "masking", 6, 3, [
            L.Masking(mask_value, name="mask"),
            L.Bidirectional(lstm, name="bi") if bidirectional else lstm])
    return build


def _k3_gru_companion(K: Any) -> Any:
    """Keras 3's default GRUs (reset_after=True) under a mask: Bidirectional returning its
    sequence, then a GRU returning its last step."""
    L = K.layers
    return _sequential(K, "gru_companion", 6, 3, [
        L.Masking(0.0, name="mask"),
        L.Bidirectional(L.GRU(4, return_sequences=True, name="gru"), name="bi"),
        L.GRU(3, name="gru_last")])


def _k3_stateful(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "stateful", 5, 3, [
        L.LSTM(4, stateful=True, return_sequences=True, name="lstm"),
        L.GRU(3, stateful=True, reset_after=False, name="gru")], batch=2)


def _k3_initial_state(K: Any) -> Any:
    x = K.Input((6, 3), name="x")
    h0, c0 = K.Input((4,), name="h0"), K.Input((4,), name="c0")
    sequence = K.layers.LSTM(4, return_sequences=True, name="lstm")(x, initial_state=[h0, c0])
    return K.Model([x, h0, c0], K.layers.Dense(2, name="head")(sequence), name="initial_state")


def _k2_stacked_hard_sigmoid(K: Any) -> Any:
    L = K.layers
    return _sequential(K, "k2_stacked", 7, 3, [
        L.LSTM(5, recurrent_activation="hard_sigmoid", implementation=1, return_sequences=True,
               name="enc"),
        L.LSTM(4, go_backwards=True, name="dec"),
        L.Dense(2, activation="hard_sigmoid", name="head")])


def _k2_hard_sigmoid_cell(K: Any) -> Any:
    return _sequential(K, "k2_hard_sigmoid_cell", 6, 2, [
        K.layers.LSTM(4, activation="hard_sigmoid", recurrent_activation="hard_sigmoid",
                      return_sequences=True, name="lstm_hs")])


def _tfjs(class_name: str, **args: Any) -> dict[str, Any]:
    return {"className": class_name, "args": args}


def _x(batch: int, steps: int, features: int, mask_value: float | None = None
       ) -> tuple[Feed, ...]:
    """The one float input [batch, steps, features] most cases take."""
    return (Feed((batch, steps, features), mask_value=mask_value),)


MERGE_MODES = ("concat", "sum", "mul", "ave", None)

CASES: tuple[Spec, ...] = (
    Spec("k3_stacked", "stacked LSTMs returning sequences, Dense on every step, default "
         "activations, batch 3", "keras3", _k3_stacked, _x(3, 8, 4), 101),
    Spec("k3_options_batch1", "go_backwards, use_bias=False, unit_forget_bias=False, dropout "
         "and recurrent_dropout (inference: no effect), unroll, regularizer, constraint, a "
         "second LSTM returning its last step; batch 1", "keras3", _k3_options, _x(1, 6, 3),
         102),
    Spec("k3_return_state", "return_sequences with return_state: three outputs (Dense on the "
         "sequence, h, c)", "keras3", _k3_return_state, _x(2, 7, 3), 103),
    Spec("k3_activation_pairs", "one LSTM branch per (activation, recurrent_activation) pair: "
         + ", ".join(f"{a}/{r}" for a, r in ACTIVATION_PAIRS) + " (hard_sigmoid in Keras 3's "
         "sense, x/6 + 0.5)", "keras3", _k3_activation_pairs, _x(2, 6, 3), 104),
    Spec("k3_hard_sigmoid_gates", "Keras 3's hard_sigmoid (x/6 + 0.5) on the gates and on a "
         "Dense: tfjs and tf-keras get rescaled weights", "keras3", _k3_hard_sigmoid_gates,
         _x(2, 9, 3), 105),
    Spec("k3_hard_sigmoid_cell", "Keras 3's hard_sigmoid as the cell activation: no other "
         "runtime can compute it", "keras3", _k3_hard_sigmoid_cell, _x(2, 5, 2), 106),
    Spec("k3_one_step_batch4", "a single timestep, batch 4", "keras3", _k3_one_step,
         _x(4, 1, 3), 107),
    Spec("k3_500_steps", "500 timesteps, 3 units, the whole sequence returned", "keras3",
         _k3_long, _x(2, 500, 2), 108),
    Spec("k3_options_state", "more LSTM options: return_state without return_sequences, "
         "go_backwards, recurrent/bias/activity regularizers, non-default initializers, seed, "
         "use_cudnn=False (none changes inference); outputs last, h, c", "keras3",
         _k3_options_state, _x(2, 6, 3), 109),
    Spec("k3_gru_reset_after", "Keras 3's default GRU (reset_after=True), stacked, go_backwards "
         "on the second: TensorFlow.js cannot compute reset_after, so the converter refuses it",
         "keras3", _gru(True), _x(2, 7, 3), 110),
    Spec("k3_gru_companion", "Masking, Bidirectional(GRU returning sequences), GRU: Keras 3's "
         "default reset_after=True under a mask; tfjs runs the companion package's "
         "TfjsLstmGRU and TfjsLstmBidirectional", "keras3", _k3_gru_companion,
         _x(2, 6, 3, 0.0), 147, companion=True),
    Spec("k3_gru_reset_before", "GRU with reset_after=False (the one TensorFlow.js computes), "
         "stacked, go_backwards on the second, batch 3", "keras3", _gru(False), _x(3, 7, 3),
         111),
    Spec("k3_simple_rnn", "SimpleRNN returning sequences (tanh), then one with relu and "
         "go_backwards returning its last step, Dense", "keras3", _k3_simple_rnn, _x(2, 6, 3),
         112),
    *(Spec(f"k3_bidirectional_{str(mode).lower()}", f"Bidirectional(LSTM returning sequences) "
           f"with merge_mode={mode!r}" + (": two outputs, forward and backward"
                                          if mode is None else ""),
           "keras3", _bidirectional(mode), _x(2, 5, 3), 113 + index)
      for index, mode in enumerate(MERGE_MODES)),
    Spec("k3_time_distributed", "LSTM returning sequences, then TimeDistributed(Dense tanh)",
         "keras3", _k3_time_distributed, _x(2, 6, 3), 119),
    Spec("k3_embedding_mask_zero", "int32 tokens into Embedding(mask_zero=True), LSTM returning "
         "sequences, LSTM returning its last step: zeros at random steps and on padded tails "
         "are masked; batch 3", "keras3", _embedding("LSTM"), (Feed((3, 7), vocab=10),), 120),
    Spec("k3_masking", "Masking(mask_value=-1) then LSTM returning sequences: padded tails of "
         "rows all -1 are masked", "keras3", _masking(-1.0), _x(2, 6, 3, -1.0), 121),
    Spec("k3_masking_bidirectional", "Masking then Bidirectional(LSTM returning sequences): "
         "Keras forces zero_output_for_mask inside Bidirectional, TensorFlow.js repeats the "
         "previous output at masked steps; the output mask covers them, so the runtimes are "
         "compared where it keeps", "keras3", _masking(0.0, bidirectional=True),
         _x(2, 6, 3, 0.0), 122),
    Spec("k3_stateful_two_calls", "stateful LSTM returning sequences, then a stateful GRU "
         "(reset_after=False), batch fixed at 2: predict twice on one model, the second call "
         "continues from the states the first left", "keras3", _k3_stateful, _x(2, 5, 3), 123,
         calls=2),
    Spec("k3_initial_state", "functional model with inputs x, h0, c0: LSTM(x, "
         "initial_state=[h0, c0]) returning sequences, Dense", "keras3", _k3_initial_state,
         (Feed((2, 6, 3)), Feed((2, 4)), Feed((2, 4))), 124),
    Spec("k3_500_steps_batch1", "500 timesteps, batch 1: GRU (reset_after=False) returning "
         "the whole sequence, batch size fixed in the input", "keras3", _k3_long_gru_batch1,
         _x(1, 500, 2), 125),
    Spec("k3_rnn_cells", "RNN over LSTMCell, GRUCell (reset_after=False, go_backwards) and "
         "SimpleRNNCell, stacked", "keras3", _k3_rnn_cells, _x(2, 6, 3), 130),
    Spec("k3_constraints", "weight constraints (MaxNorm, UnitNorm, NonNeg, MinMaxNorm) the "
         "seeded weights break: Keras ignores them at inference, TensorFlow.js would apply "
         "them when loading, so the tfjs folder is written without them", "keras3",
         _k3_constraints, _x(2, 5, 3), 131),
    Spec("k3_custom_backward_layer", "Bidirectional with its own backward_layer (2 "
         "relu units against 3 tanh forward): Keras 3 and tf-keras only, TensorFlow.js "
         "always copies the forward layer", "keras3", _k3_custom_backward, _x(2, 6, 3), 132),
    *FAMILY_CASES,
    Spec("k2_stacked_hard_sigmoid", "tf-keras: hard_sigmoid in Keras 2's sense (0.2x + 0.5) on "
         "gates and Dense, implementation=1, go_backwards on the second LSTM; Keras 3 gets "
         "rescaled weights", "keras2", _k2_stacked_hard_sigmoid, _x(3, 7, 3), 201),
    Spec("k2_hard_sigmoid_cell", "tf-keras: Keras 2's hard_sigmoid as cell and recurrent "
         "activation (TensorFlow.js computes it; Keras 3 cannot), batch 1", "keras2",
         _k2_hard_sigmoid_cell, _x(1, 6, 2), 202),
    Spec("k2_gru_reset_before", "tf-keras: GRU with reset_after=False, stacked, go_backwards on "
         "the second", "keras2", _gru(False), _x(2, 7, 3), 203),
    Spec("k2_bidirectional_ave_hard_sigmoid", "tf-keras: Bidirectional(LSTM with Keras 2's "
         "hard_sigmoid gates) with merge_mode='ave'; Keras 3 gets rescaled weights", "keras2",
         _bidirectional("ave", "hard_sigmoid"), _x(2, 5, 3), 204),
    Spec("k2_masking", "tf-keras: Masking(mask_value=0) then LSTM returning sequences: padded "
         "tails of zero rows are masked", "keras2", _masking(0.0), _x(3, 6, 3, 0.0), 205),
    Spec("k2_embedding_gru", "tf-keras: int32 tokens into Embedding(mask_zero=True), GRU "
         "(reset_after=False) returning sequences, LSTM returning its last step", "keras2",
         _embedding("GRU"), (Feed((2, 7), vocab=10),), 206),
    Spec("tfjs_seed_lstm32", "born in TensorFlow.js: tf.layers.lstm({units: 32, "
         "inputShape: [10, 8], returnSequences: true}), defaults otherwise (hardSigmoid gates, "
         "no unit forget bias)", "tfjs",
         (_tfjs("LSTM", units=32, inputShape=[10, 8], returnSequences=True),), _x(2, 10, 8),
         301),
    Spec("tfjs_defaults_dense", "born in TensorFlow.js with default arguments: lstm({units: 4}) "
         "then dense({units: 2}); batch 1", "tfjs",
         (_tfjs("LSTM", units=4, inputShape=[6, 3]), _tfjs("Dense", units=2)), _x(1, 6, 3),
         302),
    Spec("tfjs_defaults_stacked_1step", "born in TensorFlow.js with default arguments: two "
         "stacked LSTMs on a single timestep, batch 3", "tfjs",
         (_tfjs("LSTM", units=5, inputShape=[1, 4], returnSequences=True),
          _tfjs("LSTM", units=3)), _x(3, 1, 4), 303),
    Spec("tfjs_defaults_gru", "born in TensorFlow.js with default arguments: gru({units: 4}) "
         "(hardSigmoid gates, resetAfter false)", "tfjs",
         (_tfjs("GRU", units=4, inputShape=[6, 3]),), _x(2, 6, 3), 304),
    Spec("tfjs_defaults_simple_rnn", "born in TensorFlow.js with default arguments: "
         "simpleRNN({units: 4}); batch 1", "tfjs",
         (_tfjs("SimpleRNN", units=4, inputShape=[5, 2]),), _x(1, 5, 2), 305),
    Spec("tfjs_defaults_bidirectional", "born in TensorFlow.js with default arguments: "
         "bidirectional({layer: lstm({units: 3})}) (concat, hardSigmoid gates); batch 3",
         "tfjs", (_tfjs("Bidirectional", layer={"className": "LSTM", "config": {"units": 3}},
                        inputShape=[5, 2]),), _x(3, 5, 2), 306),
)



def select(patterns: Sequence[str]) -> list[Spec]:
    """The cases whose names match any fnmatch pattern; no match is an error."""
    chosen = [spec for spec in CASES if any(fnmatch.fnmatchcase(spec.name, p) for p in patterns)]
    if not chosen:
        raise InputError(f"no case matches {', '.join(patterns)} (cases: "
                         f"{', '.join(spec.name for spec in CASES)})")
    return chosen
