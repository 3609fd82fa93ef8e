"""Numpy forward passes of Keras 3's LSTM, GRU and SimpleRNN layers at inference.

They reproduce Keras 3 (TensorFlow backend) semantics, masking included, so a converted model
can be checked against its source without TensorFlow: at a masked step the states keep their
previous values and the output repeats the previous step's output (zeros before the first
unmasked step), or is zero with `zero_output_for_mask`; `go_backwards` returns the sequence in
processed (reversed) order.

Speed: inside the time loop every array is [gate units, batch] (transposed), so each gate is a
contiguous block of rows and all elementwise work runs on contiguous memory, in place, in
preallocated buffers: numpy is several times slower on column slices. Each step does one
`U.T @ h` (two for GRU with `reset_after=False`). The input projection runs beforehand as a
few products over chunks of timesteps, small enough to stay in cache until their steps read
them. tanh and sigmoid (see `activations.tanh_form`) get their inner scale folded into the
weights (exact), so an LSTM step with both runs one in-place tanh over all four gates.
Weights in these layouts are made once per `prepared` dict (a `Runner` keeps one per layer).
An LSTM whose steps are large enough splits its units over the CPUs (`scan.unit_parts`,
`scan.parallel_scan`): each part runs its own rows of the weights on its own thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ..activations import tanh_form
from .scan import Part, parallel_scan, scan, unit_parts

Activation = Callable[[np.ndarray], np.ndarray]
# product(h, out): out[gates*units, batch] = U.T @ h for h [units, batch].
_Product = Callable[[np.ndarray, np.ndarray], object]
# What a kernel made from its weights (reordered, scaled, transposed copies), by name.
Prepared = dict[str, object]


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
    prepared: Prepared | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keras 3 `LSTM` forward: returns (output, h_last, c_last).

    x is [batch, time, features]; kernel [features, 4u], recurrent_kernel [u, 4u], bias [4u] or
    None, gates in Keras order i, f, c, o. mask is bool [batch, time]; initial_state is (h0, c0).
    `prepared` keeps the weights' layouts for the next call with the same weights.
    """
    x, kernel, recurrent_kernel = _cast(dtype, x, kernel, recurrent_kernel)
    u = _check_weights(x, kernel, recurrent_kernel, 4, "LSTM")
    batch = x.shape[0]
    if bias is not None:
        bias = _check_shape(_cast(dtype, bias)[0], (4 * u,), "LSTM bias")
    gate, cell = _InPlace(recurrent_activation), _InPlace(activation)
    made = _Maker(prepared, x.dtype, batch)
    scale = _gate_scale(x.dtype, (gate, 3 * u), (cell, u))
    states = _initial_states(initial_state, 2, batch, u, dtype, "LSTM")
    parts = [_lstm_part(rows, kernel, recurrent_kernel, bias, scale, gate, cell, made, batch)
             for rows in unit_parts(u, batch, 4)]
    if len(parts) > 1:
        output, (h_last, c_last) = parallel_scan(parts, x, states, mask, go_backwards,
                                                 return_sequences, zero_output_for_mask)
    else:
        output, (h_last, c_last) = scan(parts[0].step, x, parts[0].projection, states, mask,
                                        go_backwards, return_sequences, zero_output_for_mask)
    return output, h_last, c_last


def _lstm_part(
    rows: slice, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray | None,
    scale: np.ndarray | None, gate: _InPlace, cell: _InPlace, made: _Maker, batch: int,
) -> Part:
    """The LSTM step over the units `rows` (its four gates' columns of the weights), reading
    the whole h and writing those rows of the next h and c."""
    u = recurrent_kernel.shape[0]
    units = np.arange(u)[rows]
    n = len(units)
    # Gates reordered to i, f, o, c so the recurrent activation runs once over one block.
    order = np.concatenate([units, u + units, 3 * u + units, 2 * u + units])
    part_scale = None if scale is None else scale[np.r_[0:3 * n, 3 * u:3 * u + n]]
    key = "" if n == u else f" units {rows.start}:{rows.stop}"
    product = made("product" + key, lambda: _recurrent_product(
        _gate_weights(recurrent_kernel, order, part_scale, batch > 1), batch))
    projection = made("projection" + key, lambda: _projection_weights(
        _gate_weights(kernel, order, part_scale),
        None if bias is None else _gate_weights(bias, order, part_scale), batch))
    z = np.empty((4 * n, batch), dtype=kernel.dtype)
    # Views and activations bound once: at batch 1 a slice or a method's branches inside the
    # step cost about as much as a small ufunc call.
    gates, input_gate, forget_gate, output_gate, candidate = (
        z[: 3 * n], z[:n], z[n : 2 * n], z[2 * n : 3 * n], z[3 * n :])
    blocks = (gate, gates), (cell, candidate)
    activate = _one_tanh(z, *blocks) or _each(*blocks)
    activated_c = np.empty((n, batch), dtype=kernel.dtype)
    cell_of = _unscaled(cell, activated_c)

    def step(xw_t: np.ndarray, old: list[np.ndarray], new: list[np.ndarray]) -> None:
        c = new[1]
        product(old[0], z)
        np.add(z, xw_t, out=z)
        activate()
        np.multiply(forget_gate, old[1], out=c)
        np.multiply(candidate, input_gate, out=candidate)
        np.add(c, candidate, out=c)
        np.multiply(output_gate, cell_of(c), out=new[0])

    return Part(rows, step, projection)


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
    prepared: Prepared | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Keras 3 `GRU` forward: returns (output, h_last).

    Gates in Keras order z, r, h; h_new = z*h + (1-z)*hh. With reset_after, bias is [2, 3u]
    (input bias, recurrent bias) and hh = act(x_h + r*(h@U_h + b_rec_h)); without, bias is [3u]
    and hh = act(x_h + (r*h)@U_h). initial_state is h0 [batch, u]. `prepared` keeps the
    weights' layouts for the next call with the same weights.
    """
    x, kernel, recurrent_kernel = _cast(dtype, x, kernel, recurrent_kernel)
    u = _check_weights(x, kernel, recurrent_kernel, 3, "GRU")
    batch = x.shape[0]
    gate, cell = _InPlace(recurrent_activation), _InPlace(activation)
    made = _Maker(prepared, x.dtype, batch)
    # Scaling the h columns of both the input and the recurrent side scales
    # x_h + r*(h@U_h + b_rec_h) and x_h + (r*h)@U_h alike.
    order = np.arange(3 * u)
    scale = _gate_scale(x.dtype, (gate, 2 * u), (cell, u))
    input_bias = recurrent_bias = None
    if bias is not None:
        bias = _check_shape(_cast(dtype, bias)[0], (2, 3 * u) if reset_after else (3 * u,),
                            "GRU bias")
        bias = made("bias", lambda: _gate_weights(bias, order, scale))
        input_bias, recurrent_bias = (bias[0], bias[1][:, None]) if reset_after else (bias, None)
    projection = made("projection", lambda: _projection_weights(
        _gate_weights(kernel, order, scale), input_bias, batch))
    recurrent_kernel = made("recurrent", lambda: _gate_weights(
        recurrent_kernel, order, scale, batch > 1))
    states = _initial_states(
        None if initial_state is None else [initial_state], 1, batch, u, dtype, "GRU"
    )
    keep = np.empty((u, batch), dtype=x.dtype)
    zr_pre = np.empty((2 * u, batch), dtype=x.dtype)
    hh = np.empty((u, batch), dtype=x.dtype)

    def blend(z: np.ndarray, hh: np.ndarray, h: np.ndarray, out: np.ndarray) -> None:
        # Keras' z*h + (1-z)*hh in that order; out may be h.
        np.subtract(1, z, out=keep)
        np.multiply(keep, hh, out=keep)
        np.multiply(z, h, out=out)
        out += keep

    if reset_after:
        product = made("product", lambda: _recurrent_product(recurrent_kernel, batch))
        inner = np.empty((3 * u, batch), dtype=x.dtype)

        def step(xw_t: np.ndarray, old: list[np.ndarray], new: list[np.ndarray]) -> None:
            h = old[0]
            product(h, inner)
            if recurrent_bias is not None:
                np.add(inner, recurrent_bias, out=inner)
            np.add(xw_t[: 2 * u], inner[: 2 * u], out=zr_pre)
            zr = gate(zr_pre)
            np.multiply(inner[2 * u :], zr[u:], out=hh)
            np.add(hh, xw_t[2 * u :], out=hh)
            blend(zr[:u], cell(hh), h, new[0])

    else:
        product_zr = made("product zr", lambda: _recurrent_product(
            recurrent_kernel, batch, slice(0, 2 * u)))
        product_h = made("product h", lambda: _recurrent_product(
            recurrent_kernel, batch, slice(2 * u, 3 * u)))
        reset_h = np.empty((u, batch), dtype=x.dtype)

        def step(xw_t: np.ndarray, old: list[np.ndarray], new: list[np.ndarray]) -> None:
            h = old[0]
            product_zr(h, zr_pre)
            np.add(zr_pre, xw_t[: 2 * u], out=zr_pre)
            zr = gate(zr_pre)
            np.multiply(zr[u:], h, out=reset_h)
            product_h(reset_h, hh)
            np.add(hh, xw_t[2 * u :], out=hh)
            blend(zr[:u], cell(hh), h, new[0])

    output, (h_last,) = scan(
        step, x, projection, states, mask, go_backwards, return_sequences, zero_output_for_mask
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
    prepared: Prepared | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Keras 3 `SimpleRNN` forward, h = act(x@W + b + h@U): returns (output, h_last).
    `prepared` keeps the weights' layouts for the next call with the same weights."""
    x, kernel, recurrent_kernel = _cast(dtype, x, kernel, recurrent_kernel)
    u = _check_weights(x, kernel, recurrent_kernel, 1, "SimpleRNN")
    batch = x.shape[0]
    cell = _InPlace(activation)
    made = _Maker(prepared, x.dtype, batch)
    order = np.arange(u)
    scale = _gate_scale(x.dtype, (cell, u))
    product = made("product", lambda: _recurrent_product(
        _gate_weights(recurrent_kernel, order, scale, batch > 1), batch))
    if bias is not None:
        bias = _check_shape(_cast(dtype, bias)[0], (u,), "SimpleRNN bias")
    projection = made("projection", lambda: _projection_weights(
        _gate_weights(kernel, order, scale),
        None if bias is None else _gate_weights(bias, order, scale), batch))
    states = _initial_states(
        None if initial_state is None else [initial_state], 1, batch, u, dtype, "SimpleRNN"
    )
    pre = np.empty((u, batch), dtype=x.dtype)

    def step(xw_t: np.ndarray, old: list[np.ndarray], new: list[np.ndarray]) -> None:
        product(old[0], pre)
        np.add(pre, xw_t, out=pre)
        result = cell(pre, new[0])
        if result is not new[0]:
            np.copyto(new[0], result)

    output, (h_last,) = scan(
        step, x, projection, states, mask, go_backwards, return_sequences, zero_output_for_mask
    )
    return output, h_last


class _Maker:
    """Makes a kernel's weight layouts, or takes them from `prepared` where an earlier call
    with the same weights, dtype and batch layout (1 or more) left them."""

    def __init__(self, prepared: Prepared | None, dtype: np.dtype, batch: int) -> None:
        self.prepared = prepared
        self.suffix = f" {np.dtype(dtype).str} {'row' if batch == 1 else 'columns'}"

    def __call__(self, name: str, make: Callable[[], object]) -> object:
        if self.prepared is None:
            return make()
        key = name + self.suffix
        if key not in self.prepared:
            self.prepared[key] = make()
        return self.prepared[key]


class _InPlace:
    """One activation, run in place where it can be.

    A tanh form outer*tanh(inner*x) + shift expects its input already multiplied by `inner`
    (folded into the weights, see `_gate_scale`) unless called with scaled=False; a numpy ufunc
    writes into the buffer; any other function returns a new array.
    """

    def __init__(self, fn: Activation) -> None:
        self.fn = fn
        form = tanh_form(fn)
        self.is_tanh = form is not None
        self.inner, self.outer, self.shift = form or (1.0, 1.0, 0.0)

    def __call__(
        self, x: np.ndarray, out: np.ndarray | None = None, scaled: bool = True
    ) -> np.ndarray:
        """The activation of x, written into `out` (default: x) when possible."""
        out = x if out is None else out
        if not self.is_tanh:
            if isinstance(self.fn, np.ufunc):
                return self.fn(x, out=out)
            return self.fn(x)
        if not scaled and self.inner != 1:
            x = np.multiply(x, self.inner, out=out)
        return self.affine(np.tanh(x, out=out))

    def affine(self, t: np.ndarray) -> np.ndarray:
        """outer*t + shift in place, for t = tanh(inner*x)."""
        if self.outer != 1:
            t *= self.outer
        if self.shift:
            t += self.shift
        return t


def _one_tanh(z: np.ndarray, *pairs: tuple[_InPlace, np.ndarray]) -> Callable[[], None] | None:
    """When the activations of the (activation, view) blocks covering `z` are all tanh forms:
    one in-place tanh over z, then each block's affine map; else None."""
    if not all(activation.is_tanh for activation, _ in pairs):
        return None
    affine = [(activation.affine, view) for activation, view in pairs
              if activation.outer != 1 or activation.shift]

    def activate() -> None:
        np.tanh(z, out=z)
        for apply, view in affine:
            apply(view)

    return activate


def _each(*pairs: tuple[_InPlace, np.ndarray]) -> Callable[[], None]:
    """Each activation over its view (already scaled), the result left in the view."""

    def activate() -> None:
        for activation, view in pairs:
            result = activation(view)
            if result is not view:
                np.copyto(view, result)

    return activate


def _unscaled(activation: _InPlace, out: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The activation of an unscaled input written into `out`: plain np.tanh when it is tanh."""
    if activation.is_tanh and (activation.inner, activation.outer, activation.shift) == (1, 1, 0):
        return functools.partial(np.tanh, out=out)
    return functools.partial(activation, out=out, scaled=False)


def _gate_scale(dtype: DTypeLike, *blocks: tuple[_InPlace, int]) -> np.ndarray | None:
    """Per gate column factor for the weights: each block of columns gets its activation's
    inner scale (a power of two, so the scaled products are exact). None when all are 1."""
    if all(activation.inner == 1 for activation, _ in blocks):
        return None
    return np.concatenate([np.full(width, a.inner, dtype) for a, width in blocks])


def _gate_weights(
    array: np.ndarray, order: np.ndarray, scale: np.ndarray | None, transpose: bool = False
) -> np.ndarray:
    """A fresh contiguous copy of weights whose last axis is the gate columns: reordered by
    `order`, times `scale`, and as [columns, rows] when `transpose`. The input is untouched."""
    out = np.take(array.T, order, axis=0) if transpose else np.take(array, order, axis=-1)
    if scale is not None:
        out *= scale[:, None] if transpose else scale
    return out


def _recurrent_product(
    kernel: np.ndarray, batch: int, columns: slice = slice(None)
) -> _Product:
    """The step's product with the recurrent kernel's gate `columns`, from `_gate_weights`.

    kernel is [u, G] for batch 1, where h.T @ U is a vector-matrix product (BLAS gemv, faster
    than a one-column gemm), and [G, u] (transposed) otherwise.
    """
    if batch == 1:
        row_kernel = np.ascontiguousarray(kernel[:, columns])
        return lambda h, out: np.matmul(h.T, row_kernel, out=out.T)
    kernel_t = np.ascontiguousarray(kernel[columns])
    return lambda h, out: np.matmul(kernel_t, h, out=out)


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
    """Fresh (writable) state arrays, [units, batch]: copies of the given ones, or zeros."""
    if given is None:
        return [np.zeros((units, batch), dtype=dtype) for _ in range(count)]
    if len(given) != count:
        raise ValueError(f"{layer} takes {count} initial state array(s), got {len(given)}")
    return [
        _check_shape(np.asarray(s, dtype=dtype), (batch, units), f"{layer} initial state").T.copy()
        for s in given
    ]


def _projection_weights(kernel: np.ndarray, bias: np.ndarray | None, batch: int) -> np.ndarray:
    """The input projection's weights: the kernel with the bias as a last row (it rides in the
    product as an input feature fixed at 1, which saves a pass over the result), as [G, rows]
    for batch > 1."""
    weights = kernel if bias is None else np.concatenate([kernel, bias[None]])
    return weights if batch == 1 else np.ascontiguousarray(weights.T)
