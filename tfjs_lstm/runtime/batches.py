"""Running a model over many samples, as Keras's `predict(x, batch_size=N)` does: `batch_size`
samples at a time, stateful layers carrying their states from one batch to the next, and
initial states given per recurrent layer, checked against the states that layer has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..model import Model
from .engine import Runner, shapes_for_inputs


def checked_initial_states(model: Model, layer: str, arrays: Sequence[np.ndarray],
                           inputs: Sequence[np.ndarray],
                           sources: Sequence[str] = ()) -> list[np.ndarray]:
    """`arrays` as the initial states of the recurrent `layer` for these inputs, refused unless
    their count and shapes are the layer's (h for GRU and SimpleRNN, h and c for LSTM); an
    array's error names its source (a file) when `sources` gives one."""
    from ..layers import REGISTRY

    def recurrent(config) -> bool:
        return REGISTRY[config.class_name].cell_name is not None

    config = model.layers.get(layer)
    if config is None or not recurrent(config):
        known = [n for n, c in model.layers.items() if recurrent(c)]
        raise InputError(f"--initial-state: layer '{layer}' is not a recurrent layer of the "
                         f"model (recurrent layers: {', '.join(known) or 'none'})")
    if config.stateful:
        raise InputError(f"--initial-state: layer '{layer}' is stateful; it carries its own "
                         "states from batch to batch")
    call = model.layer_calls(layer)[0]
    shapes = shapes_for_inputs(model, [array.shape for array in inputs])
    described = REGISTRY[config.class_name]
    wanted = described.output_shape(config.replace(return_state=True),
                                    described.shape_argument([shapes[r] for r in call.inputs]))
    wanted = [tuple(shape) for shape in wanted[1:]]
    if len(arrays) != len(wanted):
        raise InputError(f"--initial-state: layer '{layer}' has {len(wanted)} state(s) "
                         f"{_shapes_text(wanted)}, got {len(arrays)} file(s)")
    for index, (array, shape) in enumerate(zip(arrays, wanted, strict=True)):
        if array.shape != shape:
            raise InputError(f"--initial-state: layer '{layer}' takes states of shape "
                             f"{_shapes_text([shape])}, got {list(array.shape)}",
                             file=sources[index] if index < len(sources) else None)
    return list(arrays)


def predict_in_batches(model: Model, inputs: Sequence[np.ndarray],
                       initial_states: Mapping[str, Sequence[np.ndarray]] | None = None, *,
                       batch_size: int | None = None,
                       precision: str = "float32") -> list[np.ndarray]:
    """The model's outputs for `inputs`, computed `batch_size` samples at a time (all at once
    by default) and joined along axis 0, with a progress bar on a terminal.

    Stateful layers carry their states from one batch to the next, so every batch must be the
    size they were built for.
    """
    from ..progress import Progress

    states = dict(initial_states or {})
    samples = {len(array) for array in inputs}
    if batch_size is None or not inputs:
        batch_size = max(samples, default=0) or 1
    if len(samples) > 1:
        raise InputError(f"the inputs hold different numbers of samples: {sorted(samples)}")
    count = samples.pop() if samples else 0
    declared = model.layers[model.inputs[0].layer].batch_input_shape if model.inputs else None
    for name, config in model.layers.items():
        built = (getattr(config, "batch_input_shape", None) or declared or (None,))[0]
        if getattr(config, "stateful", False) and (batch_size != (built or batch_size)
                                                   or count % batch_size):
            raise InputError(f"stateful layer '{name}' carries its states from batch to batch, "
                             f"so every batch must hold {built or batch_size} samples (got "
                             f"{count} samples in batches of {batch_size}): use --batch-size")
    runner = Runner(model, precision=precision)
    starts = range(0, max(count, 1), batch_size)
    pieces = []
    with Progress("run", unit="batches", minimum=2) as bar:
        for number, start in enumerate(starts, 1):
            chunk = [array[start:start + batch_size] for array in inputs]
            chunk_states = {layer: [s[start:start + batch_size] for s in arrays]
                            for layer, arrays in states.items()}
            pieces.append(runner.predict(chunk, initial_states=chunk_states))
            bar.update(number, len(starts))
    return [np.concatenate(parts) for parts in zip(*pieces, strict=True)]


def _shapes_text(shapes: Sequence[tuple]) -> str:
    return " ".join(str(list(shape)) for shape in shapes)
