"""Hypothesis strategies for canonical LSTM configs a given runtime family can express."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from tfjs_lstm import activations as act
from tfjs_lstm import kinds as k
from tfjs_lstm.layers import REGISTRY, LayerConfig
from tfjs_lstm.layers.base import REQUIRED
from tfjs_lstm.objects import CONSTRAINTS, INITIALIZERS, REGULARIZERS

# Multiples of 1/64: exact in float32, so no runtime's rounding hides a real difference.
EXACT = st.integers(1, 256).map(lambda n: n / 64)
SEEDS = st.none() | st.integers(0, 2**20)


def activations(family: str, *, gate: bool) -> st.SearchStrategy[str]:
    names = [a.name for a in act.ACTIVATIONS.values() if a.spellings[family]]
    if gate and act.hard_sigmoid_in(family):
        names += ["hard_sigmoid_keras2", "hard_sigmoid_keras3"]
    return st.sampled_from(sorted(set(names)))


def initializers(family: str) -> st.SearchStrategy:
    seeded = {"seed": SEEDS}
    choices = [
        st.just(INITIALIZERS.make("Zeros")),
        st.just(INITIALIZERS.make("Ones")),
        st.builds(lambda v: INITIALIZERS.make("Constant", value=v), EXACT),
        st.builds(lambda m, s, seed: INITIALIZERS.make("RandomNormal", mean=m, stddev=s,
                                                       seed=seed), EXACT, EXACT, SEEDS),
        st.builds(lambda m, s, seed: INITIALIZERS.make("TruncatedNormal", mean=m, stddev=s,
                                                       seed=seed), EXACT, EXACT, SEEDS),
        st.builds(lambda lo, hi, seed: INITIALIZERS.make("RandomUniform", minval=-lo, maxval=hi,
                                                         seed=seed), EXACT, EXACT, SEEDS),
        st.builds(lambda g, seed: INITIALIZERS.make("Orthogonal", gain=g, seed=seed),
                  EXACT, SEEDS),
    ]
    if family == "tfjs":
        distributions = ["uniform", "truncated_normal_uncorrected"]
    else:
        distributions = ["uniform", "truncated_normal", "untruncated_normal"]
        choices += [st.builds(lambda n, seed: INITIALIZERS.make(n, seed=seed), st.sampled_from(
            ["GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
             "LecunNormal"]), SEEDS)]
    if family != "keras3":  # Keras 3's Identity.get_config() loses the gain
        choices.append(st.builds(lambda g: INITIALIZERS.make("Identity", gain=g), EXACT))
    scale = st.sampled_from([0.5, 3.0, 1.5])  # never a named preset's scale (1 or 2)
    choices.append(st.builds(
        lambda s, m, d, **kw: INITIALIZERS.make("VarianceScaling", scale=s, mode=m,
                                                distribution=d, **kw),
        scale, st.sampled_from(["fan_in", "fan_out", "fan_avg"]), st.sampled_from(distributions),
        **seeded))
    return st.one_of(choices)


def regularizers(family: str) -> st.SearchStrategy:
    pair = st.builds(lambda a, b: REGULARIZERS.make("L1L2", l1=a, l2=b), EXACT, EXACT)
    if family in ("tfjs", "keras2.2"):
        return st.none() | pair
    return st.none() | pair | st.builds(lambda a: REGULARIZERS.make("L1", l1=a), EXACT) | \
        st.builds(lambda a: REGULARIZERS.make("L2", l2=a), EXACT)


def constraints(family: str) -> st.SearchStrategy:
    axis = st.sampled_from([0, 1])
    return st.none() | st.one_of(
        st.builds(lambda v, a: CONSTRAINTS.make("MaxNorm", max_value=v, axis=a), EXACT, axis),
        st.just(CONSTRAINTS.make("NonNeg")),
        st.builds(lambda a: CONSTRAINTS.make("UnitNorm", axis=a), axis),
        st.builds(lambda lo, hi, r, a: CONSTRAINTS.make("MinMaxNorm", min_value=lo,
                                                        max_value=lo + hi, rate=r, axis=a),
                  EXACT, EXACT, EXACT.filter(lambda r: r <= 1), axis),
    )


def _value(spec, layer, family: str) -> st.SearchStrategy:
    """Values a family can hold for one field, from the field's kind."""
    if family not in spec.families or family in spec.ignored_by:
        return st.just(spec.default_for(family))  # an ignored key reads as its default
    kind = spec.kind
    if kind is k.UNITS:
        return st.integers(1, 64)
    if kind is k.BOOLEAN:
        if spec.omit_reason is not None and spec.name in ("ragged", "optional"):
            return st.just(False)
        return st.booleans()
    if kind is k.FRACTION:
        return st.sampled_from([0.0, 0.25, 0.5])
    if kind is k.TEXT:
        return st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
    if kind is k.ACTIVATION:
        return activations(family, gate=_is_gate(layer, spec.name))
    if kind is k.INITIALIZER:
        return initializers(family)
    if kind is k.REGULARIZER:
        return regularizers(family)
    if kind is k.CONSTRAINT:
        return constraints(family)
    if kind is k.DTYPE or kind is k.DTYPE_STRING:
        return st.just("float32") if family == "tfjs" else st.sampled_from(["float32",
                                                                             "float64"])
    if kind is k.IMPLEMENTATION:
        return st.sampled_from([1, 2])
    if kind is k.SEED:
        return SEEDS
    if kind is k.LENGTH:
        return st.none() | st.integers(1, 20)
    if kind is k.NUMBER:
        return EXACT | EXACT.map(lambda v: -v) | st.just(0.0)
    if kind is k.NULL_ONLY:
        return st.none()
    if kind is k.DATA_FORMAT:
        return st.sampled_from(kind.values)
    if kind is k.AXIS:
        return st.sampled_from([-1, -2, 1, 2])
    if kind is k.NON_NEGATIVE:
        return EXACT | st.just(0.0)
    if kind is k.OPTIONAL_NON_NEGATIVE:
        return st.none() | EXACT | st.just(0.0)
    if kind is k.PAIR:
        return st.tuples(st.integers(0, 4), st.integers(0, 4))
    if kind is k.PERMUTATION:
        return st.sampled_from([(1, 2), (2, 1)])
    if kind is k.SIZES or kind is k.STRIDES:
        return st.integers(1, 4).map(lambda n: (n,))
    if kind is k.SIZES_2D or kind is k.STRIDES_2D:
        return st.tuples(st.integers(1, 3), st.integers(1, 3))
    if kind is k.GROUPS:
        return st.sampled_from([1, 2])
    if kind is k.AXES:
        axes = st.sampled_from([-1, -2, 1, 2])
        if layer.class_name == "BatchNormalization":
            return axes | axes.map(lambda a: (a,))
        return axes | st.sampled_from([(2,), (1, 2), (-2, -1)])
    if kind is k.TARGET_SHAPE:  # one size (or none) unknown
        return st.lists(st.integers(1, 6), min_size=1, max_size=3).flatmap(
            lambda dims: st.integers(-1, len(dims) - 1).map(
                lambda u: tuple(-1 if i == u else d for i, d in enumerate(dims))))
    if kind is k.SHAPE and layer.class_name in IMAGE_INPUT:
        # [batch, rows, columns, channels] (or channels first), every window fitting.
        shape = st.tuples(st.none() | st.integers(1, 8), st.integers(8, 10), st.integers(8, 10),
                          st.integers(1, 4).map(lambda n: 2 * n))
        return st.none() | shape
    if kind is k.SHAPE and layer.class_name == "ConvLSTM2D":
        # [batch, steps, rows, columns, channels] (or channels first), every window fitting.
        return st.none() | st.tuples(st.none() | st.integers(1, 4), st.none() | st.integers(1, 4),
                                     st.integers(7, 8), st.integers(7, 8), st.integers(7, 8))
    if kind is k.SHAPE and layer.class_name in STEPS_INPUT:
        # [batch, steps, channels], every window fitting, channels split into two groups.
        shape = st.tuples(st.none() | st.integers(1, 8), st.integers(16, 20),
                          st.integers(1, 4).map(lambda n: 2 * n))
        return st.none() | shape
    if kind is k.SHAPE:
        dims = (st.none() | st.integers(1, 20),) if layer.sequence_input else ()
        shape = st.tuples(st.none() | st.integers(1, 8), *dims, st.integers(1, 16))
        return shape if spec.default_for(family) is REQUIRED else st.none() | shape
    if spec.name == "axes" and layer.class_name == "Dot":  # tfjs counts no listed negatives
        return st.sampled_from([-1, 1, 2, (1, 1), (2, 1)] + [(-1, -2)] * (family != "tfjs"))
    if spec.name == "shared_axes":  # PReLU
        return st.none() | st.sampled_from([(1,), (2,), (1, 2)])
    if spec.name == "attention_axes":  # MultiHeadAttention over the steps axis
        return st.sampled_from([None, (1,)])
    if isinstance(kind, k.Choice):
        return st.sampled_from(kind.values)
    if isinstance(kind, k.NestedLayer):
        return st.none() if spec.name == "backward_layer" else _wrapped(layer, family)
    raise AssertionError(f"no strategy for {spec.name}")


# Layers that take [batch, steps, channels].
STEPS_INPUT = {"Conv1D", "SeparableConv1D", "DepthwiseConv1D", "MaxPooling1D",
               "AveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D",
               "LayerNormalization", "BatchNormalization", "Softmax",
               "Permute", "ZeroPadding1D", "Cropping1D", "UpSampling1D"}

# Layers that take [batch, rows, columns, channels].
IMAGE_INPUT = {"Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D",
               "GlobalAveragePooling2D"}

# The layers people wrap in TimeDistributed: per frame or per step, in every family that has them.
_WRAPPED = {"Bidirectional": ("LSTM", "GRU", "SimpleRNN"),
            "TimeDistributed": ("Dense", "Conv1D", "Conv2D", "MaxPooling1D", "AveragePooling1D",
                                "MaxPooling2D", "AveragePooling2D", "Flatten",
                                "GlobalMaxPooling1D", "GlobalAveragePooling1D",
                                "GlobalMaxPooling2D", "GlobalAveragePooling2D", "Dropout",
                                "BatchNormalization", "LayerNormalization", "Activation"),
            "RNN": ("LSTMCell", "GRUCell", "SimpleRNNCell")}


def _wrapped(wrapper, family: str) -> st.SearchStrategy[LayerConfig]:
    """An inner layer as the wrapper holds it: no shape of its own, forward in time, and for
    Keras's Bidirectional zero_output_for_mask forced to return_sequences."""

    def settle(config: LayerConfig) -> LayerConfig:
        if wrapper.class_name == "RNN":
            return config  # a cell has no shape and no direction of its own
        changes = {"batch_input_shape": None}
        if wrapper.class_name == "Bidirectional":
            changes.update(go_backwards=False, time_major=False, return_state=False, stateful=False,
                           zero_output_for_mask=family != "tfjs" and config.return_sequences)
        return config.replace(**changes)

    names = [name for name in _WRAPPED[wrapper.class_name] if family in REGISTRY[name].families]
    return st.sampled_from(names).flatmap(
        lambda name: layer_configs(REGISTRY[name], family)).map(settle)


def _is_gate(layer, field_name: str) -> bool:
    """Fields whose hard sigmoid a writer can reach by rescaling weights."""
    probe = LayerConfig(layer.class_name, (("name", "probe"),))
    return layer.gate_rescale is not None and \
        layer.gate_rescale(probe, field_name, 1.0) is not None


@st.composite
def layer_configs(draw, layer, family: str) -> LayerConfig:
    """A canonical config of `layer` that `family`'s runtime can express."""
    values = {spec.name: draw(_value(spec, layer, family)) for spec in layer.fields}
    if family == "keras3" and "implementation" in values:
        # Keras 3 never writes it back
        values["implementation"] = layer.field("implementation").default_for(family)
    if values.get("input_length") is not None and values.get("batch_input_shape"):
        # Keras 2 and tfjs refuse an input_length that contradicts the input shape.
        values["input_length"] = values["batch_input_shape"][1]
    if layer.class_name in ("Conv1D", "Conv2D", "SeparableConv1D", "DepthwiseConv1D"):
        # Every runtime refuses strided dilation and filters that groups cannot split.
        if max(values["strides"]) > 1:
            values["dilation_rate"] = (1,) * len(values["strides"])
        if "filters" in values:
            values["filters"] += -values["filters"] % values["groups"]
        if values["padding"] == "causal" and (
                family == "tfjs" or (layer.class_name == "SeparableConv1D" and family != "keras2")):
            values["padding"] = "same"  # only tf-keras's SeparableConv1D and Keras's Conv1D have it
    if layer.class_name == "ConvLSTM2D" and max(values["strides"]) > 1:
        values["dilation_rate"] = (1, 1)  # every runtime refuses strided dilation
    if layer.class_name == "ELU" and family == "tfjs":
        values["alpha"] = 1.0  # tfjs's ELU throws on any other alpha
    if layer.class_name == "Softmax" and family == "tfjs" and \
            not (isinstance(values["axis"], tuple) and len(values["axis"]) > 1):
        values["axis"] = -1  # tfjs-core's softmax takes one axis only when it is the last
    shape = values.get("batch_input_shape")
    if shape and layer.multi_input:
        values["batch_input_shape"] = None  # built on a list of inputs, never on one
    elif shape and layer.class_name == "Flatten":
        # tfjs builds a Flatten only on rank >= 3 with every size known.
        values["batch_input_shape"] = (shape[0], draw(st.integers(1, 6)), shape[-1])
    elif shape and layer.class_name == "TimeDistributed":
        # [batch, steps, *one step's input], every window of the wrapped layer fitting.
        inner = values["layer"].class_name
        step = (st.integers(8, 10), st.integers(8, 10)) if inner in IMAGE_INPUT else \
            (st.integers(16, 20),)
        values["batch_input_shape"] = (shape[0], shape[1], *draw(st.tuples(
            *step, st.integers(2, 4).map(lambda n: 2 * n))))
    elif shape and "target_shape" in values:
        # Every runtime refuses a target whose total size differs from the input's.
        target = values["target_shape"]
        size = math.prod(d for d in target if d != -1) * (2 if -1 in target else 1)
        values["batch_input_shape"] = (shape[0], size)
    return LayerConfig(layer.class_name, tuple((spec.name, values[spec.name])
                                               for spec in layer.fields))


def lstm_configs(family: str) -> st.SearchStrategy[LayerConfig]:
    return layer_configs(REGISTRY["LSTM"], family)
