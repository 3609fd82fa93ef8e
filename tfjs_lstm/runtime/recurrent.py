"""Numpy forward passes of Keras 3's LSTM, GRU and SimpleRNN layers at inference.

They reproduce Keras 3 (TensorFlow backend) semantics, masking included, so a converted model
can be checked against its source without TensorFlow: at a masked step the states keep their
previous values and the output repeats the previous step's output (zeros before the first
unmasked step), or is zero with `zero_output_for_mask`; `go_backwards` returns the sequence in
processed (reversed) order.

Speed comes from doing the input projection of all timesteps as one matrix product before the
time loop; each step then does one `h @ U` (two for GRU with `reset_after=False`) and
elementwise work in preallocated buffers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

Activation = Callable[[np.ndarray], np.ndarray]
# step(xw_t, states, new_states): reads the states, writes the next ones. new_states may be the
# same arrays as states (updates in place).
_Step = Callable[[np.ndarray, list[np.ndarray], list[np.ndarray]], None]


def lstm_forward(
    x: ArrayLike,
    kernel: ArrayLike,
    recurrent_kernel: ArrayLike,
    bias: ArrayLike | None,
    *,
    activation: Activation,
    recurrent_activation: Activation,
    mask: ArrayLike | None = None,
    initial_state: Sequence[ArrayLike] | None = None,
    go_backwards: bool = False,
    return_sequences: bool = False,
    zero_output_for_mask: bool = False,
    dtype: DTypeLike = np.float32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keras 3 `LSTM` forward: returns (output, h_last, c_last).

    x is [batch, time, features]; kernel [features, 4u], recurrent_kernel [u, 4u], bias [4u] or
    None, gates in Keras order i, f, c, o. mask is bool [batch, time]; initial_state is (h0, c0).
    """
    x, kernel, recurrent_kernel = _cast(dtype, x, kernel, recurrent_kernel)
    u = _check_weights(x, kernel, recurrent_kernel, 4, "LSTM")
    # Reorder gates to i, f, o, c so the recurrent activation runs once over one block.
    order = np.r_[0 : 2 * u, 3 * u : 4 * u, 2 * u : 3 * u]
    kernel, recurrent_kernel = kernel[:, order], recurrent_kernel[:, order]
    if bias is not None:
        bias = _check_shape(_cast(dtype, bias)[0], (4 * u,), "LSTM bias")[order]
    states = _initial_states(initial_state, 2, x.shape[0], u, dtype, "LSTM")
    z = np.empty((x.shape[0], 4 * u), dtype=x.dtype)
    activated_c = np.empty((x.shape[0], u), dtype=x.dtype)

    def step(xw_t: np.ndarray, old: list[np.ndarray], new: list[np.ndarray]) -> None:
        h, c = old
        np.matmul(h, recurrent_kernel, out=z)
        np.add(z, xw_t, out=z)
        gates = _call(recurrent_activation, z[:, : 3 * u])
        candidate = _call(activation, z[:, 3 * u :])
        np.multiply(gates[:, u : 2 * u], c, out=new[1])
        candidate *= gates[:, :u]
        new[1] += candidate
        np.multiply(gates[:, 2 * u :], _call(activation, new[1], activated_c), out=new[0])

    output, (h_last, c_last) = _scan(
        step, _project(x, kernel, bias), states, mask, go_backwards, return_sequences,
        zero_output_for_mask,
    )
    return output, h_last, c_last


def gru_forward(
    x: ArrayLike,
    kernel: ArrayLike,
    recurrent_kernel: ArrayLike,
    bias: ArrayLike | None,
    *,
    activation: Activation,
    recurrent_activation: Activation,
    reset_after: bool,
    mask: ArrayLike | None = None,
    initial_state: ArrayLike | None = None,
    go_backwards: bool = False,
    return_sequences: bool = False,
    zero_output_for_mask: bool = False,
    dtype: DTypeLike = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Keras 3 `GRU` forward: returns (output, h_last).

    Gates in Keras order z, r, h; h_new = z*h + (1-z)*hh. With reset_after, bias is [2, 3u]
    (input bias, recurrent bias) and hh = act(x_h + r*(h@U_h + b_rec_h)); without, bias is [3u]
    and hh = act(x_h + (r*h)@U_h). initial_state is h0 [batch, u].
    """
    x, kernel, recurrent_kernel = _cast(dtype, x, kernel, recurrent_kernel)
    u = _check_weights(x, kernel, recurrent_kernel, 3, "GRU")
    input_bias = recurrent_bias = None
    if bias is not None:
        bias = _cast(dtype, bias)[0]
        if reset_after:
            input_bias, recurrent_bias = _check_shape(bias, (2, 3 * u), "GRU bias")
        else:
            input_bias = _check_shape(bias, (3 * u,), "GRU bias")
    states = _initial_states(
        None if initial_state is None else [initial_state], 1, x.shape[0], u, dtype, "GRU"
    )
    batch = x.shape[0]
    keep = np.empty((batch, u), dtype=x.dtype)

    def blend(z: np.ndarray, hh: np.ndarray, h: np.ndarray, out: np.ndarray) -> None:
        # Keras' z*h + (1-z)*hh in that order; out may be h.
        np.subtract(1, z, out=keep)
        np.multiply(keep, hh, out=keep)
        np.multiply(z, h, out=out)
        out += keep

    if reset_after:
        inner = np.empty((batch, 3 * u), dtype=x.dtype)
        zr_pre = np.empty((batch, 2 * u), dtype=x.dtype)

        def step(xw_t: np.ndarray, old: list[np.ndarray], new: list[np.ndarray]) -> None:
            h = old[0]
            np.matmul(h, recurrent_kernel, out=inner)
            if recurrent_bias is not None:
                np.add(inner, recurrent_bias, out=inner)
            np.add(xw_t[:, : 2 * u], inner[:, : 2 * u], out=zr_pre)
            zr = _call(recurrent_activation, zr_pre)
            hh = inner[:, 2 * u :]
            np.multiply(hh, zr[:, u:], out=hh)
            np.add(hh, xw_t[:, 2 * u :], out=hh)
            blend(zr[:, :u], _call(activation, hh), h, new[0])

    else:
        kernel_zr = np.ascontiguousarray(recurrent_kernel[:, : 2 * u])
        kernel_h = np.ascontiguousarray(recurrent_kernel[:, 2 * u :])
        zr_pre = np.empty((batch, 2 * u), dtype=x.dtype)
        reset_h = np.empty((batch, u), dtype=x.dtype)
        hh = np.empty((batch, u), dtype=x.dtype)

        def step(xw_t: np.ndarray, old: list[np.ndarray], new: list[np.ndarray]) -> None:
            h = old[0]
            np.matmul(h, kernel_zr, out=zr_pre)
            np.add(zr_pre, xw_t[:, : 2 * u], out=zr_pre)
            zr = _call(recurrent_activation, zr_pre)
            np.multiply(zr[:, u:], h, out=reset_h)
            np.matmul(reset_h, kernel_h, out=hh)
            np.add(hh, xw_t[:, 2 * u :], out=hh)
            blend(zr[:, :u], _call(activation, hh), h, new[0])

    output, (h_last,) = _scan(
        step, _project(x, kernel, input_bias), states, mask, go_backwards, return_sequences,
        zero_output_for_mask,
    )
    return output, h_last


def simple_rnn_forward(
    x: ArrayLike,
    kernel: ArrayLike,
    recurrent_kernel: ArrayLike,
    bias: ArrayLike | None,
    *,
    activation: Activation,
    mask: ArrayLike | None = None,
    initial_state: ArrayLike | None = None,
    go_backwards: bool = False,
    return_sequences: bool = False,
    zero_output_for_mask: bool = False,
    dtype: DTypeLike = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Keras 3 `SimpleRNN` forward, h = act(x@W + b + h@U): returns (output, h_last)."""
    x, kernel, recurrent_kernel = _cast(dtype, x, kernel, recurrent_kernel)
    u = _check_weights(x, kernel, recurrent_kernel, 1, "SimpleRNN")
    if bias is not None:
        bias = _check_shape(_cast(dtype, bias)[0], (u,), "SimpleRNN bias")
    states = _initial_states(
        None if initial_state is None else [initial_state], 1, x.shape[0], u, dtype, "SimpleRNN"
    )
    pre = np.empty((x.shape[0], u), dtype=x.dtype)

    def step(xw_t: np.ndarray, old: list[np.ndarray], new: list[np.ndarray]) -> None:
        np.matmul(old[0], recurrent_kernel, out=pre)
        np.add(pre, xw_t, out=pre)
        result = _call(activation, pre, new[0])
        if result is not new[0]:
            np.copyto(new[0], result)

    output, (h_last,) = _scan(
        step, _project(x, kernel, bias), states, mask, go_backwards, return_sequences,
        zero_output_for_mask,
    )
    return output, h_last


def _call(fn: Activation, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """fn(x); a numpy ufunc writes into `out` (default: x itself) instead of allocating."""
    if isinstance(fn, np.ufunc):
        return fn(x, out=x if out is None else out)
    return fn(x)


def _cast(dtype: DTypeLike, *arrays: ArrayLike) -> list[np.ndarray]:
    return [np.asarray(a, dtype=dtype) for a in arrays]


def _check_shape(array: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    if array.shape != shape:
        raise ValueError(f"{what} has shape {array.shape}, expected {shape}")
    return array


def _check_weights(
    x: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, gates: int, layer: str
) -> int:
    """Validate x and the kernels; return the number of units."""
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(f"{layer} input must be [batch, time>0, features], got {x.shape}")
    units = recurrent_kernel.shape[0]
    _check_shape(kernel, (x.shape[2], gates * units), f"{layer} kernel")
    _check_shape(recurrent_kernel, (units, gates * units), f"{layer} recurrent kernel")
    return units


def _initial_states(
    given: Sequence[ArrayLike] | None, count: int, batch: int, units: int, dtype: DTypeLike,
    layer: str,
) -> list[np.ndarray]:
    """Fresh (writable) state arrays: copies of the given ones, or zeros."""
    if given is None:
        return [np.zeros((batch, units), dtype=dtype) for _ in range(count)]
    if len(given) != count:
        raise ValueError(f"{layer} takes {count} initial state array(s), got {len(given)}")
    return [
        _check_shape(np.array(s, dtype=dtype), (batch, units), f"{layer} initial state")
        for s in given
    ]


def _project(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """x @ kernel + bias for every timestep at once: [batch, time, gates*units]."""
    batch, time, features = x.shape
    xw = np.matmul(x.reshape(batch * time, features), kernel)
    if bias is not None:
        xw += bias
    return xw.reshape(batch, time, -1)


def _scan(
    step: _Step,
    xw: np.ndarray,
    states: list[np.ndarray],
    mask: ArrayLike | None,
    go_backwards: bool,
    return_sequences: bool,
    zero_output_for_mask: bool,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Run `step` over time with Keras' masking rules; return (output, final states).

    The first state is the step's output. The sequence buffer is [batch, time, units] and
    written in processed order, so no transpose or reversal of the result is needed.
    """
    batch, time = xw.shape[:2]
    if go_backwards:
        xw = xw[:, ::-1]
    seq = np.empty((batch, time, states[0].shape[1]), xw.dtype) if return_sequences else None

    if mask is None:
        for t in range(time):
            new = states if seq is None else [seq[:, t], *states[1:]]
            step(xw[:, t], states, new)
            states = new
        if seq is None:
            return states[0].copy(), states
        return seq, [states[0].copy(), *states[1:]]

    mask = _check_shape(np.asarray(mask, dtype=bool), (batch, time), "mask")
    if go_backwards:
        mask = mask[:, ::-1]
    full = mask.all(axis=0)
    step_mask = mask[:, :, None]
    spare = [np.empty_like(s) for s in states]
    for t in range(time):
        step(xw[:, t], states, spare)
        if full[t]:
            states, spare = spare, states
        else:
            for state, candidate in zip(states, spare, strict=True):
                np.copyto(state, candidate, where=step_mask[:, t])
        if seq is not None:
            seq[:, t] = states[0]

    # Keras' output at a masked step is zero (zero_output_for_mask) or the previous output, which
    # is the state of the last unmasked step, or zero before any unmasked step.
    shown = mask if zero_output_for_mask else np.logical_or.accumulate(mask, axis=1)
    if seq is None:
        output = states[0].copy()
        output[~shown[:, -1]] = 0
    else:
        output = seq
        np.copyto(output, 0, where=~shown[:, :, None])
    return output, states
