"""The time loops of the recurrent forwards: input projections, Keras's masking rules, and the
split of a layer's units over threads.

A step reads the whole state h and writes the next one, so the units of one layer can be split
into parts that each run their own rows of the product and the gate arithmetic, and meet after
every step (numpy's products and ufuncs release the GIL). Each part does the arithmetic the
whole layer does for its units, on the same weights; only the last bits of a product can
differ, as BLAS blocks a product by its shape (the tests hold both to Keras within 1e-5).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .blas import controllable, one_blas_thread

# step(xw_t, states, new_states): reads the states, writes the next ones, all [units, batch].
# new_states may be the same arrays as states (updates in place).
Step = Callable[[np.ndarray, list[np.ndarray], list[np.ndarray]], None]

# Input projections are computed this many bytes at a time: large enough for efficient matrix
# products, small enough to still be in cache when the steps read them.
_PROJECTION_CHUNK_BYTES = 1 << 18
# A step's product (gates x units x units x batch multiply-adds) below this runs on one BLAS
# thread, because two BLAS threads wait on each other at every step when the machine has other
# work. `bench/runtime.py`, "ours" against "ours, BLAS threads", LSTM, 100 steps, medians of 5:
# beside two busy processes on 2 cores, in two runs, one thread took 0.20-0.46x the time of two
# at 16 x 256 units, 0.27-0.81x at 32 x 256, 0.57-0.90x at 1 x 1024 (GRU 0.42-0.58x from 16 to
# 64 x 256; at 8 x 256 the runs disagreed, 0.13x and 1.5x); idle, 1.3-1.6x (2.1-2.2x at 1 x
# 1024) on a Zen 4 machine, 0.93-1.13x below 2^22 on a Haswell machine. Our users' CI machines
# have other work, where two threads cost up to 8x; one costs at most 2.2x idle.
ONE_BLAS_THREAD_BELOW = 1 << 24
# From this size on, the units split over threads of their own, one BLAS thread in all
# (`parallel_scan`). Against the loop on two BLAS threads, on 2 idle Haswell cores: 2^22 (batch
# 16 x 256 units, batch 1 x 1024) 1.3x the time, 2^23 (32 x 256) 1.0-1.04x, 2^24 (64 x 256)
# 0.89x, 2^25 (32 x 512) 0.79-0.88x, 2^27 (128 x 512) 0.84-0.92x, with 15-20% less CPU time;
# on 2 idle Zen 4 cores 1.37x at 2^24, 1.21x at 2^25, 0.90x at 2^26 (256 x 256), 0.97x at
# 2^27; under load (two busy processes) 0.39x at 2^25 (Haswell), 0.54-0.74x from 2^24 to 2^26
# (Zen 4).
PARALLEL_MIN_PRODUCT = 1 << 24
# Each part keeps at least this many units.
_MIN_PART_UNITS = 32
THREADS_VARIABLE = "TFJS_LSTM_THREADS"
# The split is measured on 2 cores only: more threads by default would meet more often per step
# for less work each, untimed. $TFJS_LSTM_THREADS allows more.
DEFAULT_MAX_THREADS = 2


@dataclass(frozen=True)
class Part:
    """The units `rows` of a layer, with the step and input projection weights made for them."""

    rows: slice
    step: Step
    projection: np.ndarray


def threads() -> int:
    """Threads a layer may use: $TFJS_LSTM_THREADS (a positive integer) if set, else the CPUs
    this process may run on, at most DEFAULT_MAX_THREADS; 1 when BLAS cannot be held to one
    thread (`blas`)."""
    given = os.environ.get(THREADS_VARIABLE)
    if given is not None and not (given.strip().isdigit() and int(given) > 0):
        raise InputError(f"${THREADS_VARIABLE} must be a positive integer, got {given!r}")
    if not controllable():
        return 1
    if given is not None:
        return int(given)
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity else os.cpu_count() or 1
    return min(cpus, DEFAULT_MAX_THREADS)


def step_blas_threads(multiply_adds: int) -> contextlib.AbstractContextManager:
    """The BLAS threads of a loop whose step product has `multiply_adds`: one thread below
    ONE_BLAS_THREAD_BELOW or where one thread is all the loop may use, else BLAS's own."""
    small = multiply_adds < ONE_BLAS_THREAD_BELOW or threads() == 1
    return one_blas_thread() if small else contextlib.nullcontext()


def unit_parts(units: int, batch: int, gates: int) -> list[slice]:
    """How a layer's units split over threads: one slice (no split) for small steps or one
    thread."""
    count = min(threads(), units // _MIN_PART_UNITS)
    if count < 2 or gates * units * units * batch < PARALLEL_MIN_PRODUCT:
        return [slice(0, units)]
    bounds = [units * k // count for k in range(count + 1)]
    return [slice(start, stop) for start, stop in zip(bounds, bounds[1:], strict=False)]


def projections(x: np.ndarray, weights: np.ndarray, go_backwards: bool) -> Iterator[np.ndarray]:
    """weights' product with each timestep in processed order, as contiguous [G, batch].

    Each chunk of timesteps is projected into one reused buffer (each yielded array is valid
    until the next is requested): for batch 1 as one [steps, rows] @ [rows, G] product, whose
    rows are already the [G, 1] columns; otherwise as one stacked product. Rows past the
    features (the bias row) meet inputs fixed at 1.
    """
    batch, time, features = x.shape
    rows, width = weights.shape if batch == 1 else weights.shape[::-1]
    steps = x.transpose(1, 0, 2)
    if go_backwards:
        steps = steps[::-1]
    chunk = max(1, min(time, _PROJECTION_CHUNK_BYTES // (batch * width * x.itemsize)))
    buffer = np.empty((chunk, width, batch), dtype=x.dtype)
    inputs = np.ones((chunk, rows, batch), dtype=x.dtype)
    for start in range(0, time, chunk):
        count = min(chunk, time - start)
        block = buffer[:count]
        np.copyto(inputs[:count, :features], steps[start : start + count].transpose(0, 2, 1))
        if batch == 1:
            np.matmul(inputs[:count, :, 0], weights, out=block[:, :, 0])
        else:
            np.matmul(weights, inputs[:count], out=block)
        yield from block


def scan(
    step: Step,
    x: np.ndarray,
    projection: np.ndarray,
    states: list[np.ndarray],
    mask: ArrayLike | None,
    go_backwards: bool,
    return_sequences: bool,
    zero_output_for_mask: bool,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Run `step` over time on the input projections with Keras' masking rules; return (output,
    final states), both [batch, ...].

    The first state is the step's output. With return_sequences each step copies it, while it
    is still in cache, into the [batch, time, units] output in processed order, so no reversal
    or final transpose is needed. A step whose product is small runs on one BLAS thread, and
    every step does where one thread is allowed ($TFJS_LSTM_THREADS=1, or one CPU).
    """
    batch, time = x.shape[:2]
    width = projection.shape[1 if batch == 1 else 0]  # the gate columns: [G, rows] or [rows, G]
    with step_blas_threads(width * states[0].shape[0] * batch):
        xw = projections(x, projection, go_backwards)
        units = states[0].shape[0]
        seq = np.empty((batch, time, units), x.dtype) if return_sequences else None

        if mask is None:
            for t, xw_t in enumerate(xw):
                step(xw_t, states, states)
                if seq is not None:
                    seq[:, t] = states[0].T
            return outputs(seq, states)

        mask = _processed_mask(mask, batch, time, go_backwards)
        full = mask.all(axis=0)
        spare = [np.empty_like(s) for s in states]
        for t, xw_t in enumerate(xw):
            step(xw_t, states, spare)
            if full[t]:
                states, spare = spare, states
            else:
                for state, candidate in zip(states, spare, strict=True):
                    np.copyto(state, candidate, where=mask[:, t])
            if seq is not None:
                seq[:, t] = states[0].T

        return _masked_outputs(seq, states, mask, zero_output_for_mask)


def _processed_mask(mask: ArrayLike, batch: int, time: int, go_backwards: bool) -> np.ndarray:
    """The [batch, time] bool mask in processed order."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (batch, time):
        raise ValueError(f"mask has shape {mask.shape}, expected {(batch, time)}")
    return mask[:, ::-1] if go_backwards else mask


def _masked_outputs(seq: np.ndarray | None, states: list[np.ndarray], mask: np.ndarray,
                    zero_output_for_mask: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """`outputs`, with Keras' output at a masked step: zero (zero_output_for_mask) or the
    previous output, which is the state of the last unmasked step, or zero before any."""
    shown = mask if zero_output_for_mask else np.logical_or.accumulate(mask, axis=1)
    output, states = outputs(seq, states)
    if seq is None:
        output[~shown[:, -1]] = 0
    else:
        np.copyto(output, 0, where=~shown[:, :, None])
    return output, states


def outputs(
    seq: np.ndarray | None, states: list[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The output ([batch, time, units] or [batch, units]) and states back in [batch, units]."""
    states = [s.T.copy() for s in states]
    return (states[0].copy() if seq is None else seq), states


def parallel_scan(
    parts: Sequence[Part],
    x: np.ndarray,
    states: list[np.ndarray],
    mask: ArrayLike | None,
    go_backwards: bool,
    return_sequences: bool,
    zero_output_for_mask: bool,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """`scan`, each part on its own thread (the first on this one); returns (output, final
    states), both [batch, ...].

    The step output h lives in two buffers, read from one and written to the other in turn, so
    a part may write its rows of the next h while another still reads the current one; the parts
    meet after every step. BLAS is held to one thread meanwhile.
    """
    batch, time = x.shape[:2]
    buffers = [states[0], np.empty_like(states[0])]
    seq = np.empty((batch, time, buffers[0].shape[0]), x.dtype) if return_sequences else None
    if mask is not None:
        mask = _processed_mask(mask, batch, time, go_backwards)
        full, hidden = mask.all(axis=0), ~mask
    meeting = _Meeting(len(parts) - 1)

    def run(part: Part, meet: Callable[[], None]) -> None:
        own = [state[part.rows] for state in states[1:]]
        spare = [np.empty_like(state) for state in own]
        written = [buffers[1][part.rows], buffers[0][part.rows]]
        read = [buffers[0][part.rows], buffers[1][part.rows]]
        with one_blas_thread():
            for t, xw_t in enumerate(projections(x, part.projection, go_backwards)):
                h = written[t % 2]
                if mask is None or full[t]:
                    part.step(xw_t, [buffers[t % 2], *own], [h, *own])
                else:  # masked batch rows keep their states
                    part.step(xw_t, [buffers[t % 2], *own], [h, *spare])
                    np.copyto(h, read[t % 2], where=hidden[:, t])
                    for state, candidate in zip(own, spare, strict=True):
                        np.copyto(state, candidate, where=mask[:, t])
                if seq is not None:
                    seq[:, t, part.rows] = h.T
                meet()

    workers = [threading.Thread(target=meeting.work, args=(index, run, part), daemon=True)
               for index, part in enumerate(parts[1:])]
    for worker in workers:
        worker.start()
    try:
        run(parts[0], meeting.lead)
    finally:
        meeting.stop()
        for worker in workers:
            worker.join()
    final = [buffers[time % 2], *states[1:]]
    if mask is None:
        return outputs(seq, final)
    return _masked_outputs(seq, final, mask, zero_output_for_mask)


class _Stopped(Exception):
    """The lead stopped the loop: another part failed, or the lead itself did."""


class _Meeting:
    """Where the parts wait for each other after a step: the workers report to the lead (the
    calling thread), which lets them all go on once every one has arrived."""

    def __init__(self, workers: int) -> None:
        self.arrived: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
        self.go = [queue.SimpleQueue() for _ in range(workers)]

    def lead(self) -> None:
        for _ in self.go:
            failure = self.arrived.get()
            if failure is not None:
                raise failure
        for gate in self.go:
            gate.put(None)

    def work(self, index: int, run: Callable[[Part, Callable[[], None]], None],
             part: Part) -> None:
        """A worker thread's body: run the part, meeting the lead after each step."""

        def meet() -> None:
            self.arrived.put(None)
            if self.go[index].get() is not None:
                raise _Stopped

        try:
            run(part, meet)
        except _Stopped:
            return
        except BaseException as failure:  # handed to the lead, which raises it
            self.arrived.put(failure)

    def stop(self) -> None:
        """Release every worker still waiting, telling it to stop."""
        for gate in self.go:
            gate.put(_Stopped())
