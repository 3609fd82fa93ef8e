"""What a target runtime computes otherwise than the model's own runtime, or cannot run: the
problems a writer raises before anything is written (and a reader of such a file, where the
file then means another computation). Masks, initial states, and tfjs 4.22's executor
(freed tensors, stateful layers applied more than once)."""

from __future__ import annotations

from .. import dialects
from ..errors import Problem
from ..model import KERAS3_STATES, Model, mask_flow, masked_layers, masked_with_states
from . import tfjs_executor


def target_problems(model: Model, dialect: str, companion: bool = False) -> list[Problem]:
    """Every problem writing `model` in `dialect` meets (with the companion package's classes
    when `companion`)."""
    problems = mask_problems(model, dialect) + state_problems(model, dialect)
    if dialects.FAMILY_OF[dialect] == "tfjs":
        problems += tfjs_executor.freed_problems(model, dialect)
        problems += tfjs_executor.repeated_state_problems(model, dialect)
        if companion:
            problems += first_mask_problems(model, dialect)
            problems += call_argument_problems(model, dialect)
    return problems


def mask_problems(model: Model, dialect: str) -> list[Problem]:
    """One problem per layer a mask reaches that `dialect`'s runtime computes otherwise than
    Keras (`LayerType.refuse_masked`): such a model cannot be written there, nor read from there
    as the same computation."""
    family = dialects.FAMILY_OF[dialect]
    problems = []
    for name in sorted(masked_layers(model)):
        config = model.layers[name]
        refusals = dialects.REGISTRY[config.class_name].masked_refusals(config)
        if family in refusals:
            problems.append(Problem(name, "mask", dialect, refusals[family]))
    return problems


FIRST_MASK = "TensorFlow.js 4.22's executor hands a layer its first input's mask only: {}"


def first_mask_problems(model: Model, dialect: str) -> list[Problem]:
    """Masked calls of companion classes that see only tfjs's one mask (`Companion.first_mask`)
    on different tensors: the value's mask is lost (a stale mask handed to an unmasked call is
    `tfjs_executor`'s)."""
    carries = mask_flow(model)[0]
    problems = []
    for call in model.calls:
        companion = dialects.REGISTRY[model.layers[call.layer].class_name].companion
        if (companion and companion.first_mask and len(set(call.inputs)) > 1
                and any(ref in carries for ref in call.inputs)):
            why = "the companion class computes masks where query and value are one tensor"
            problems.append(Problem(call.layer, "mask", dialect, FIRST_MASK.format(why)))
    return problems


def call_argument_problems(model: Model, dialect: str) -> list[Problem]:
    """Companion classes of layers called with different call arguments (use_causal_mask):
    tfjs's predict passes none, so the class keeps what its call in the graph gave."""
    problems = []
    for name, config in model.layers.items():
        companion = dialects.REGISTRY[config.class_name].companion
        called = {call.kwargs for call in model.layer_calls(name)}
        if companion is not None and companion.always and len(called) > 1:
            keys = sorted({key for kwargs in called for key, _ in kwargs})
            problems.append(Problem(name, keys[0], dialect, (
                "tfjs's predict passes no call arguments, so the companion class keeps those "
                "its call in the graph gave, and this layer's calls differ")))
    return problems


def state_problems(model: Model, dialect: str) -> list[Problem]:
    """One problem per recurrent layer a mask reaches that is called with initial states,
    where `dialect`'s runtime computes it otherwise than the model's own (Keras 3 against the
    others, `KERAS3_STATES`); for tfjs, one per layer whose initial states make 4.22's predict
    throw or differ, and one per layer it hands a stale mask (`tfjs_executor`)."""
    source, target = model.family == "keras3", dialects.FAMILY_OF[dialect] == "keras3"
    if source != target:
        why = f"called on masked steps with initial states: {KERAS3_STATES}; " + (
            "the target skips masked steps" if source else "this file's runtime skips them")
        problems = [Problem(name, "initial_state", dialect, why)
                    for name in masked_with_states(model)]
        if dialects.FAMILY_OF[dialect] == "tfjs":  # a Keras 3 model to tfjs
            problems += tfjs_executor.stale_problems(model, dialect)
        return problems
    if dialects.FAMILY_OF[dialect] != "tfjs":
        return []
    return tfjs_executor.problems(model, dialect)
