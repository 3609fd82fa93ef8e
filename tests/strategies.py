"""Hypothesis strategies for canonical LSTM configs a given runtime family can express."""

from __future__ import annotations

from hypothesis import strategies as st

from tfjs_lstm import activations as act
from tfjs_lstm.layers import REGISTRY, LayerConfig
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


@st.composite
def lstm_configs(draw, family: str) -> LayerConfig:
    """A canonical LSTM config; `family` limits it to what that runtime can express."""
    layer = REGISTRY["LSTM"]
    values = {spec.name: spec.default_for(family) for spec in layer.fields}
    flag = st.booleans()
    values.update(
        units=draw(st.integers(1, 64)),
        activation=draw(activations(family, gate=False)),
        recurrent_activation=draw(activations(family, gate=True)),
        use_bias=draw(flag),
        unit_forget_bias=draw(flag),
        dropout=draw(st.sampled_from([0.0, 0.25, 0.5])),
        recurrent_dropout=draw(st.sampled_from([0.0, 0.125])),
        return_sequences=draw(flag),
        return_state=draw(flag),
        go_backwards=draw(flag),
        stateful=draw(flag),
        unroll=draw(flag),
        name=draw(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)),
        trainable=draw(flag),
    )
    for name in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
        values[name] = draw(initializers(family))
    for name in ("kernel", "recurrent", "bias", "activity"):
        values[f"{name}_regularizer"] = draw(regularizers(family))
    for name in ("kernel", "recurrent", "bias"):
        values[f"{name}_constraint"] = draw(constraints(family))
    if family in ("keras2", "keras2.2", "tfjs"):
        values["implementation"] = draw(st.sampled_from([1, 2]))
        values["batch_input_shape"] = draw(st.none() | st.tuples(
            st.none() | st.integers(1, 8), st.none() | st.integers(1, 20), st.integers(1, 16)))
    if family == "keras2":
        values["time_major"] = draw(flag)
    if family == "keras3":
        values["zero_output_for_mask"] = draw(flag)
        values["seed"] = draw(SEEDS)
    if family != "tfjs":
        values["dtype"] = draw(st.sampled_from(["float32", "float64"]))
    return LayerConfig("LSTM", tuple((spec.name, values[spec.name]) for spec in layer.fields))
