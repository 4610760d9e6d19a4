"""The run loop: step an integrator on a potential, stop by rule, record a Trajectory.

The loop owns everything but the step: stopping rules (steps, gradient
tolerance, divergence, a callback, Ctrl-C), the recording policy, and the
per-particle bookkeeping of an ensemble. It never raises mid-run: whatever
ends a run, everything recorded so far comes back in the Trajectory with a
status and a message.
"""

from __future__ import annotations

import math
import numbers
import signal
import struct
import threading
import warnings
from pathlib import Path

import numpy as np

from ._io import block_rows, check_state
from ._validation import _describe, as_int, positive
from .backends import check_backend
from .backends import select as select_backend
from .integrators.base import Integrator, State, saved_entries
from .potential import Potential
from .trajectory import RecordSink, Trajectory

RECORD_MODES = ("all", "scalars", "final")

# A particle has diverged when V is non-finite or leaves [min V0 − R, max V0 + R]
# with R = DIVERGENCE_FACTOR·(1 + max |V0|): far beyond anything a stable run reaches.
DIVERGENCE_FACTOR = 1e10


def prepare_start(potential: Potential, x0) -> np.ndarray:
    """Validate x0 and return a private float copy; ensembles in Fortran order (contiguous columns)."""
    if isinstance(x0, numbers.Real) and not isinstance(x0, bool):
        x0 = np.array([x0], dtype=np.float64)
    try:
        arr = np.asarray(x0)
    except ValueError:  # numpy refuses a ragged nest of sequences
        lengths = [len(row) if hasattr(row, "__len__") else "a number" for row in list(x0)[:6]]
        raise ValueError(f"x0 must be a rectangular array of shape ({potential.dim},) or (n, {potential.dim}) for "
                         f"{potential.name}, got a ragged sequence whose rows have lengths {lengths}"
                         + (" ..." if len(x0) > 6 else "")) from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"x0 must be an array of real numbers, got {_describe(x0)}")
    dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    if arr.ndim == 0 and potential.dim == 1:
        arr = arr.reshape(1)
    if arr.ndim == 0 or arr.shape[-1] != potential.dim or 0 in arr.shape:
        raise ValueError(f"x0 must have shape ({potential.dim},) or (n, {potential.dim}) for "
                         f"{potential.name}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"x0 must be finite, got {_describe(arr[bad])} at index {bad}")
    return np.array(arr, dtype=dtype, order="F" if arr.ndim > 1 else "C", copy=True)


def _row_bytes(fields: dict) -> int:
    return sum(8 * int(np.prod(shp)) for shp, _ in fields.values())


def _block_rows(fields: dict, max_rows: int) -> int:
    """Rows per streamed block of records: about 4 MiB, at least 16, at most what the run can make."""
    return block_rows(_row_bytes(fields), max_rows)


class _RecordWriteError(Exception):
    """The disk refused a block of records; the recorder has kept it (and the current row) in memory."""


def _with_disk_rows(sink: RecordSink, memory: dict) -> dict:
    """The rows a failed sink wrote whole, followed by those kept in memory (one array per field)."""
    disk = sink.arrays()
    if not disk:
        return memory
    return {name: None if memory[name] is None else np.concatenate([disk[name], memory[name]]) for name in memory}


def _record_fields(integrator: Integrator, state: State, mode: str) -> dict:
    """name -> (row shape, dtype) of what the recording policy keeps."""
    shape, xshape = state.particle_shape, state.x.shape
    fields = {"step": ((), np.int64), "t": (np.shape(state.t), np.float64), "V": (shape, np.float64),
              "K": (shape, np.float64), "D": (shape, np.float64), "g": (shape, np.float64)}
    if mode in ("all", "final"):
        fields["x"] = (xshape, state.x.dtype)
        if integrator.order == 2:
            fields["p"] = (xshape, state.x.dtype)
    return fields


class _Recorder:
    """Collects the records of an ensemble according to the recording policy, into one preallocated block.

    Without a sink the block is the record itself: it starts at up to 64 MiB (or the rows the
    run can make) and grows in place (``ndarray.resize``, a realloc) when full, and is trimmed
    in place at the end, so the peak memory is the record's size, not twice it as when blocks
    were concatenated. With a sink the block holds about 4 MiB and is streamed and reused.
    """

    def __init__(self, mode: str, every: int, integrator: Integrator, state: State, n_steps: int,
                 sink: RecordSink | None = None):
        self.mode, self.integrator, self.sink = mode, integrator, sink
        self.fields = _record_fields(integrator, state, mode)
        self.max_rows = 2 if mode == "final" else n_steps // every + 2
        self.capacity = (_block_rows(self.fields, self.max_rows) if sink is not None else
                         int(min(self.max_rows, max(16, (64 << 20) // max(_row_bytes(self.fields), 1)))))
        self.block = {name: np.empty((self.capacity,) + shp, dtype=dt) for name, (shp, dt) in self.fields.items()}
        self.filled = 0  # rows used in the block
        self.failed: RecordSink | None = None  # the sink, once the disk refused a block
        self._unreported = False
        self.last_step = -1
        self.first_order = integrator.order == 1

    def _resize(self, rows: int) -> None:
        for a in self.block.values():  # no view of the block outlives a row's assignment
            a.resize((rows,) + a.shape[1:], refcheck=False)
        self.capacity = rows

    def _make_room(self) -> None:
        """The block is full: stream it (and reuse it), or grow it when there is no sink or the disk refused."""
        if self.sink is not None and self.sink.write(self.block, self.filled):
            self.filled = 0  # streamed: reuse the block
        else:
            if self.sink is not None:  # the disk refused the block: keep it, end the run after this row
                self.failed, self.sink, self._unreported = self.sink, None, True
            self._resize(max(self.filled + 1, min(self.max_rows, 2 * self.capacity)))

    def _row(self) -> int:
        if self.mode == "final" and self.filled == 2:
            self.filled = 1  # overwrite the previous final row
        elif self.filled == self.capacity:
            self._make_room()
        i = self.filled
        self.filled += 1
        return i

    def record_rows(self, rows: dict, n: int) -> None:
        """Append ``n`` rows made elsewhere (a compiled block), as ``n`` calls of :meth:`record` would."""
        done = 0
        while done < n:
            if self.filled == self.capacity:
                self._make_room()
            m = min(n - done, self.capacity - self.filled)
            for name, a in self.block.items():
                a[self.filled:self.filled + m] = rows[name][done:done + m]
            self.filled += m
            done += m
        if n:
            self.last_step = int(rows["step"][n - 1])
        if self._unreported:
            self._unreported = False
            raise _RecordWriteError

    def record(self, state: State) -> None:
        i = self._row()
        block = self.block
        block["step"][i] = state.step
        block["t"][i] = state.t
        block["V"][i] = state.value
        block["K"][i] = 0.0 if self.first_order else state.kinetic
        block["D"][i] = state.dissipated
        np.sqrt(state.grad_sq(), out=block["g"][i])
        if "x" in block:
            block["x"][i] = state.x
            if "p" in block:
                block["p"][i] = self.integrator.physical_momentum(state)
        self.last_step = state.step
        if self._unreported:
            self._unreported = False
            raise _RecordWriteError

    def arrays(self) -> dict:
        if self.sink is not None:
            if self.sink.write(self.block, self.filled):
                return self.sink.arrays()
            self.failed, self.sink = self.sink, None
        self._resize(self.filled)  # in place: the block becomes the record
        out = {name: self.block.get(name) for name in ("step", "t", "V", "K", "D", "g", "x", "p")}
        return out if self.failed is None else _with_disk_rows(self.failed, out)


class _ParticleRecorder:
    """Collects the records of a single particle into growing byte buffers.

    A row is one ``struct`` pack of (step, t, V, K, D, ‖∇V‖) and one copy of x's bytes, about
    0.2 µs, where eight numpy item assignments cost about 1 µs: a sixth of a step of a 2-D
    problem. The buffers hold raw values (as compact as numpy blocks) and become arrays without a
    copy at the end; with a sink they are flushed every ``block_rows`` rows.
    """

    ROW = np.dtype([("step", "=i8"), ("t", "=f8"), ("V", "=f8"), ("K", "=f8"), ("D", "=f8"), ("g", "=f8")])
    _pack = struct.Struct("=q5d").pack  # the same layout as ROW

    def __init__(self, mode: str, every: int, integrator: Integrator, state: State, n_steps: int,
                 sink: RecordSink | None = None):
        self.mode, self.integrator, self.sink = mode, integrator, sink
        self.fields = _record_fields(integrator, state, mode)
        self.block_rows = _block_rows(self.fields, 2 if mode == "final" else n_steps // every + 2)
        self.dim, self.dtype = state.x.shape[-1], state.x.dtype
        self.scalars = bytearray()
        self.xs = bytearray() if "x" in self.fields else None
        self.ps = bytearray() if "p" in self.fields else None
        self._x_source = self._x_bytes = None
        self.rows = 0
        self.failed: RecordSink | None = None  # the sink, once the disk refused a block
        self.last_step = -1
        self.first_order = integrator.order == 1

    def record(self, state: State) -> None:
        if self.rows == 2 and self.mode == "final":
            self._truncate(1)  # keep the first record; this one replaces the previous final record
        elif self.sink is not None and self.rows == self.block_rows and not self._flush():
            self.record(state)  # the disk refused the block: keep it and this row in memory, then end the run
            raise _RecordWriteError
        self.scalars += self._pack(state.step, state.t, state.value, 0.0 if self.first_order else state.kinetic,
                                   state.dissipated, math.sqrt(state.grad_sq()))
        if self.xs is not None:
            if state.x is not self._x_source:  # a byte view of x, made once: x is updated in place
                self._x_source, self._x_bytes = state.x, memoryview(state.x).cast("B")
            self.xs += self._x_bytes
            if self.ps is not None:
                self.ps += memoryview(self.integrator.physical_momentum(state)).cast("B")
        self.rows += 1
        self.last_step = state.step

    def record_rows(self, rows: dict, n: int) -> None:
        """Append ``n`` rows made elsewhere (a compiled block), as ``n`` calls of :meth:`record` would."""
        done = 0
        while done < n:
            if self.sink is not None and self.rows == self.block_rows and not self._flush():
                self._append(rows, done, n)  # the disk refused the block: keep everything in memory, end the run
                raise _RecordWriteError
            m = n - done if self.sink is None else min(n - done, self.block_rows - self.rows)
            self._append(rows, done, done + m)
            done += m

    def _append(self, rows: dict, start: int, stop: int) -> None:
        if stop <= start:
            return
        packed = np.empty(stop - start, dtype=self.ROW)
        for name in self.ROW.names:
            packed[name] = rows[name][start:stop]
        self.scalars += packed.tobytes()
        for name, buf in (("x", self.xs), ("p", self.ps)):
            if buf is not None:
                buf += np.ascontiguousarray(rows[name][start:stop], dtype=self.dtype).tobytes()
        self.rows += stop - start
        self.last_step = int(rows["step"][stop - 1])

    def _truncate(self, rows: int) -> None:
        del self.scalars[rows * self.ROW.itemsize:]
        for buf in (self.xs, self.ps):
            if buf is not None:
                del buf[rows * self.dim * self.dtype.itemsize:]
        self.rows = rows

    def _block(self, copy: bool) -> dict:
        """The rows as arrays: views of the buffers, or copies when the buffers will be reused."""
        rows = np.frombuffer(self.scalars, dtype=self.ROW)
        block = {name: rows[name].copy() for name in self.ROW.names}  # contiguous columns
        for name, buf in (("x", self.xs), ("p", self.ps)):
            if buf is not None:
                view = np.frombuffer(buf, dtype=self.dtype).reshape(self.rows, self.dim)
                block[name] = view.copy() if copy else view
        return block

    def _flush(self) -> bool:
        """Stream the rows and empty the buffers; False (rows kept, sink dropped) when the disk refused them."""
        if self.sink.write(self._block(copy=True), self.rows):
            self._truncate(0)
            return True
        self.failed, self.sink = self.sink, None
        return False

    def arrays(self) -> dict:
        if self.sink is not None and self._flush():
            return self.sink.arrays()
        out = {"x": None, "p": None, **self._block(copy=False)}
        return out if self.failed is None else _with_disk_rows(self.failed, out)


class _Watch:
    """Per-particle stopping bookkeeping.

    Each particle's fate is decided by its own first event — ‖∇V‖ ≤ gtol (converged) or
    V leaving [V0 − R, V0 + R] / turning non-finite (diverged), R = DIVERGENCE_FACTOR·(1 + |V0|) —
    and its state at that event is kept. A particle's result therefore does not depend on which
    other particles run beside it; later steps of an ended particle are ignored.
    """

    def __init__(self, state: State, gtol):
        value = np.array(state.value, dtype=np.float64)
        self.single = value.ndim == 0
        span = DIVERGENCE_FACTOR * (1.0 + np.abs(value))
        self.lo, self.hi = value - span, value + span
        # Fast path: no particle can be out of its own bounds while every V lies in [max lo, min hi].
        self.lo_any, self.hi_any = float(np.max(self.lo)), float(np.min(self.hi))
        self.gtol2 = None if gtol is None else gtol * gtol
        shape = value.shape
        self.converged_step = np.full(shape, -1, dtype=np.int64)
        self.diverged_step = np.full(shape, -1, dtype=np.int64)
        self.snapshots = []  # (index, x rows, V, ‖∇V‖) of particles at their end events
        if not self.single:
            self.done = np.zeros(shape, dtype=bool)
            self.hit = np.empty(shape, dtype=bool)
        self.n_done = 0
        self.n = int(np.prod(shape)) if shape else 1

    def _end(self, state: State, mask: np.ndarray, steps: np.ndarray) -> None:
        idx = np.nonzero(mask)
        steps[idx] = state.step
        gsq = state.grad_sq()
        self.snapshots.append((idx, np.array(state.x[idx]), np.array(state.value[idx], dtype=np.float64),
                               np.sqrt(np.asarray(gsq)[idx])))
        self.done |= mask
        self.n_done += len(idx[0])

    def check(self, state: State) -> bool:
        """Update the per-particle events after a step; return True when every particle has ended."""
        if self.single:
            v = float(state.value)
            if not (self.lo_any <= v <= self.hi_any):  # Python floats: the cheapest comparison
                self.diverged_step[()] = state.step
                return True
            if self.gtol2 is not None and state.grad_sq() <= self.gtol2:
                self.converged_step[()] = state.step
                return True
            return False
        value = state.value
        vmin, vmax = value.min(), value.max()  # NaN propagates, failing both tests
        if not (vmin >= self.lo_any and vmax <= self.hi_any):
            new = ~((value >= self.lo) & (value <= self.hi)) & ~self.done
            if new.any():
                self._end(state, new, self.diverged_step)
        if self.gtol2 is not None:
            np.less_equal(state.grad_sq(), self.gtol2, out=self.hit)
            self.hit &= ~self.done
            if self.hit.any():
                self._end(state, self.hit, self.converged_step)
        return self.n_done >= self.n


class _DeferredInterrupt:
    """Turn the first Ctrl-C into a flag checked between steps, so the state stays consistent (resumable).

    A second Ctrl-C raises KeyboardInterrupt at once. Only in the main thread, where signals are delivered.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    self._previous = signal.signal(signal.SIGINT, self._handler)
            except (ValueError, OSError):  # pragma: no cover - embedded interpreters
                self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def simulate(potential: Potential, integrator: Integrator, x0, n_steps: int = 1000, *, gtol: float | None = None,
             record: str = "all", every: int = 1, callback=None, record_to=None, backend: str = "numpy",
             workers: int | None = None) -> Trajectory:
    """Run ``integrator`` on ``potential`` from ``x0`` and record the trajectory.

    Parameters
    ----------
    potential : Potential
        The landscape V(x).
    integrator : Integrator
        The method (GradientDescent, HeavyBall, Nesterov, VelocityVerlet, ...).
    x0 : array_like, shape (dim,) or (n, dim), or Trajectory
        The start; a 2-D x0 is an ensemble of independent particles run together,
        vectorized (a scalar is accepted when dim = 1). A Trajectory continues
        that run from its last state (momenta, adaptive memory, step count,
        noise streams, a minibatch potential's random state): the continuation
        equals, bitwise, the uninterrupted run (see :meth:`Trajectory.join`).
    n_steps : int
        The most steps to take (status 'max_steps' when reached); when
        resuming, the number of further steps.
    gtol : float, optional
        Stop when ‖∇V‖₂ ≤ gtol for every particle (status 'converged'); each
        particle's first such step is in ``converged_step``.
    record : {'all', 'scalars', 'final'}
        'all' keeps x (and p) at every record; 'scalars' keeps only the
        per-particle ledger and gradient norms, so memory does not grow with
        dim; 'final' keeps the first and the last record only.
    every : int
        Record every ``every``-th step (the last step is always recorded).
    callback : callable, optional
        ``callback(state)`` after each step; returning True or raising
        StopIteration (scipy's convention) stops the run (status 'stopped').
    record_to : path, optional
        Stream the record to this folder as it is made (one raw binary file per
        field plus JSON metadata; no pickle), so a record larger than memory is
        kept whole; the returned Trajectory reads it back lazily (memory maps),
        and so does :meth:`Trajectory.load` on the folder. If a write fails (a
        full disk), the run ends there with status 'failed' and a message saying
        so, keeps every record (in memory) and stays resumable; the folder is
        cut back to the blocks written whole and reads as an unfinished run.
    backend : {'numpy', 'numba', 'auto'}
        Who takes the steps. 'numpy' (the default) runs the methods' own
        ``step``: the readable reference. 'numba' runs the whole step loop
        compiled (``pip install 'newtonopt[fast]'``) for GradientDescent,
        HeavyBall, Nesterov and VelocityVerlet on the library's Quadratic,
        Rosenbrock, Himmelblau, Beale, Müller–Brown, Lennard-Jones, DoubleWell,
        Rastrigin and on formulas, returning to Python only between blocks
        of steps (so callbacks, Ctrl-C, streaming and resume work as with
        numpy); it refuses anything else with a ValueError (a Python
        function is not compiled). 'auto' uses numba where it can and where
        it is ready or the run is long enough to repay its compile, numpy
        otherwise, quietly. On potentials built from + − × ÷ √ both give the
        same bits; where exp, sin… enter, numba's are the C library's and
        numpy's its SIMD kernels, which can differ in the last bit.
    workers : int, optional
        Threads over which the compiled backend splits an ensemble's
        particles (default 1); bitwise the same result for any number.

    Returns
    -------
    Trajectory
        Never raises once started: divergence (non-finite or exploding V),
        Ctrl-C (status 'interrupted': the first Ctrl-C ends the run after the
        current step, a second one at once), errors raised by the potential
        or the callback and failed writes to ``record_to`` (status 'failed',
        with a warning) all return what was recorded.

    Raises
    ------
    TypeError, ValueError
        Before the run starts, for a bad argument: a ragged or non-finite x0,
        or a Trajectory x0 that cannot be continued (no saved state, recorded
        by another method or on a potential of another dimension, or a saved
        state whose shapes do not fit), each with a message saying what was
        expected.

    Notes
    -----
    Each step costs one evaluation of V and ∇V per particle (plus the one at
    x0); the counts are in ``Trajectory.counts``.
    """
    if not isinstance(potential, Potential):
        raise TypeError(f"potential must be a newtonopt Potential, got {_describe(potential)}")
    if not isinstance(integrator, Integrator):
        raise TypeError(f"integrator must be a newtonopt Integrator, got {_describe(integrator)}")
    n_steps = as_int("n_steps", n_steps, low=0)
    gtol = None if gtol is None else positive("gtol", gtol)
    if record not in RECORD_MODES:
        raise ValueError(f"record must be one of {RECORD_MODES}, got {record!r}")
    every = as_int("every", every, low=1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {_describe(callback)}")
    backend, workers = check_backend(backend, workers)
    resumed_from = x0 if isinstance(x0, Trajectory) else None
    if resumed_from is None:
        x = prepare_start(potential, x0)
        start = x
    else:
        _check_resume(potential, integrator, resumed_from)
        start = np.asarray(resumed_from.final_state["x"])
    compiled = select_backend(backend, workers, potential, integrator, start.dtype, start.size, n_steps)
    sink = None if record_to is None else RecordSink(Path(record_to))

    counts_before = dict(potential.counts)
    with np.errstate(all="ignore"), _DeferredInterrupt() as ctrl_c:
        if resumed_from is None:
            state = integrator.init(potential, x)
        else:
            state = integrator.resume(potential, resumed_from.final_state)
            if resumed_from.potential_state is not None and hasattr(potential, "set_state"):
                potential.set_state(resumed_from.potential_state)
        first = state.step
        recorder_type = _ParticleRecorder if state.x.ndim == 1 else _Recorder  # x is C-contiguous (prepare_start)
        recorder = recorder_type(record, every, integrator, state, n_steps, sink)
        watch = _Watch(state, gtol)
        recorder.record(state)
        status, message = None, ""

        def stop_reason(k: int, finished: bool) -> tuple | None:
            """(status, message) when the run ends after step k, else None; one rule for both loops."""
            if finished:
                return ("diverged" if (watch.diverged_step >= 0).any() else "converged"), message
            if callback is not None and callback(state):
                return "stopped", f"stopped by the callback at step {k}"
            if ctrl_c.requested:
                return "interrupted", f"interrupted by Ctrl-C after step {k}"
            return None

        k = first  # the step being taken: the state is consistent (resumable) when state.step == k
        try:
            if gtol is not None and watch.check(state):
                status = "diverged" if (watch.diverged_step >= 0).any() else "converged"
            scheduled = integrator.scheduled
            stepper = integrator
            step, check, record_row = stepper.step, watch.check, recorder.record  # bound once: a hot loop
            next_record = (first // every + 1) * every if record != "final" else -1  # multiples of every
            if compiled is not None:  # blocks of compiled steps; between them, the same bookkeeping as below
                run = compiled.CompiledRun(potential, integrator, state, watch, record, workers)
                last = first + n_steps if status is None else first
                while k < last:
                    steps = run.block_steps(k, last, every, per_step=callback is not None)
                    k, next_record, finished = run.advance(k, steps, every, next_record)
                    if run.rows:
                        recorder.record_rows(run.rows_block(), run.rows)
                    ended = stop_reason(k, finished)
                    if ended is not None:
                        status, message = ended
                        break
            for k in range(first + 1, first + n_steps + 1 if status is None and compiled is None else first + 1):
                if scheduled:  # hyperparameters of this step, from their schedules
                    stepper = integrator.at_step(k - 1)
                    stepper._configure(state)
                    step = stepper.step
                step(potential, state)
                state.step = k
                finished = check(state)
                if k == next_record:
                    record_row(state)
                    next_record += every
                if finished or callback is not None or ctrl_c.requested:
                    ended = stop_reason(k, finished)
                    if ended is not None:
                        status, message = ended
                        break
        except KeyboardInterrupt:
            status = "interrupted"
            message = (f"interrupted after step {state.step} (KeyboardInterrupt)" if state.step == k else
                       f"interrupted during step {state.step + 1} (KeyboardInterrupt); the state may be partly "
                       "updated")
        except StopIteration:
            if state.step == k:  # raised after the step (by the callback): scipy's way of asking to stop
                status, message = "stopped", f"stopped by the callback (StopIteration) at step {k}"
            else:  # raised inside the step (say, an exhausted data iterator): the state may be partly updated
                status, message = "failed", f"step {k} raised StopIteration"
                _warn_failed(message, state.step)
        except _RecordWriteError:  # the row is recorded and the state consistent: the run ends here
            status, message = "failed", ""
        except Exception as exc:  # a failing potential or callback must not lose the run
            status = "failed"
            message = f"step {max(k, first + 1)} raised {type(exc).__name__}: {exc}"
            _warn_failed(message, state.step)
        consistent = state.step == k
        if recorder.last_step != state.step:
            try:
                recorder.record(state)
            except _RecordWriteError:
                pass  # reported below, from the sink's error
    if status is None:
        status = "max_steps"
    rows = recorder.arrays()  # a last write to the sink, which may fail too
    if sink is not None and sink.error is not None:
        status, message = "failed", _write_failure(sink, state.step, status, message)
        warnings.warn(f"simulate: {message}", RuntimeWarning, stacklevel=2)
    traj = _build(potential, integrator, state, rows, watch, status, message, counts_before, record, every)
    traj.final_state = integrator.snapshot(state)
    traj.resumable = consistent
    traj.potential_state = potential.get_state() if hasattr(potential, "get_state") else None
    if sink is not None and sink.error is None and not sink.finish(traj):
        traj.message = _write_failure(sink, state.step, traj.status, traj.message, final=True)
        traj.status = "failed"
        warnings.warn(f"simulate: {traj.message}", RuntimeWarning, stacklevel=2)
    return traj


def _warn_failed(message: str, steps: int) -> None:
    warnings.warn(f"simulate: {message}; returning the {steps} steps recorded so far", RuntimeWarning, stacklevel=3)


def _write_failure(sink: RecordSink, step: int, status: str, message: str, final: bool = False) -> str:
    """The message of a run whose record_to folder could not be written (a full disk)."""
    err = f"{type(sink.error).__name__}: {sink.error}"
    if final:
        return (f"{message}; but writing final.npz to {str(sink.folder)!r} failed ({err}): the folder reads as an "
                "unfinished run and this Trajectory cannot be resumed from it; save it elsewhere with "
                "Trajectory.save, or resume from this Trajectory itself")
    ended = "" if status == "failed" and not message else f" (the run had ended: {status}"
    ended += f", {message})" if ended and message else (")" if ended else "")
    return (f"writing the record to {str(sink.folder)!r} failed at step {step} ({err}){ended}: the run stopped "
            f"there; every record is in this Trajectory (in memory), the folder holds the first {sink.rows} whole; "
            "free some space and resume with simulate(..., x0=this Trajectory, record_to=a new folder)")


def _check_resume(potential: Potential, integrator: Integrator, traj: Trajectory) -> None:
    """Refuse, with a message saying why, a Trajectory that cannot be continued on ``potential`` by ``integrator``."""
    if traj.final_state is None:
        why = traj.message if traj.status == "interrupted" else "it was not made by simulate"
        raise ValueError(f"x0: this Trajectory has no final state to resume from ({why})")
    if not traj.resumable:
        raise ValueError(f"x0: this Trajectory cannot be resumed bitwise: {traj.message}")
    if traj.method != type(integrator).__name__:
        raise ValueError(f"x0 was recorded by {traj.method}, but the integrator is {type(integrator).__name__}")
    snap = traj.final_state
    x = np.asarray(snap.get("x"))
    if x.ndim == 0 or x.dtype.kind != "f":
        raise ValueError(f"x0: the saved state's positions must be a float array of shape (..., dim), got "
                         f"{_describe(snap.get('x'))}")
    if x.shape[-1] != potential.dim:
        raise ValueError(f"x0: the Trajectory's positions have shape {x.shape} (dim {x.shape[-1]}), but "
                         f"{potential.name} has dim {potential.dim}: resume on the potential the run was recorded on")
    check_state(snap, x.shape, "x0")
    for name, shape in _state_shapes(integrator, x).items():
        saved = np.shape(snap[name])
        if saved != shape:
            raise ValueError(f"x0: the saved state's {name!r} has shape {saved}, but {type(integrator).__name__} "
                             f"on positions of shape {x.shape} keeps it with shape {shape}")


def _state_shapes(integrator: Integrator, x: np.ndarray) -> dict:
    """The shape of each saved entry of the integrator's memory for positions like ``x``.

    Found from the memory of a probe with one coordinate per particle (so it costs one value per
    particle): an entry shaped like the probe's positions is per coordinate, one shaped like its
    particles is per particle, anything else has a fixed shape.
    """
    probe_x = np.zeros(x.shape[:-1] + (1,), dtype=x.dtype)
    memory = integrator.init_memory(probe_x)
    shapes = {}
    for name in saved_entries(memory):
        shape = np.shape(getattr(memory, name))
        shapes[name] = x.shape if shape == probe_x.shape else shape
    return shapes


def _divergence_cause(potential: Potential, integrator: Integrator, x0_first) -> str:
    bounds = potential.curvature_bounds()
    if bounds is None and potential._overrides("_hessian") and potential.dim <= 200:
        try:
            lam = np.linalg.eigvalsh(potential._hessian(np.asarray(x0_first, dtype=np.float64)))
            bounds = (float(lam[0]), float(lam[-1]))
            where = " at x0"
        except Exception:  # pragma: no cover - a potential without a usable Hessian
            bounds = None
    else:
        where = ""
    if bounds is not None and bounds[1] > 0:
        hint = integrator.stability_message(bounds[1])
        if hint:
            return hint + (f" (curvature measured{where})" if where else "")
    return "the step is probably too large for the curvature: try a smaller lr or dt"


def _build(potential, integrator, state, rows, watch, status, message, counts_before, record, every):
    shape = state.particle_shape
    div, conv = watch.diverged_step, watch.converged_step
    particle_status = np.full(shape, status if status in ("stopped", "interrupted", "failed") else "max_steps",
                              dtype="<U11")
    particle_status[conv >= 0] = "converged"
    particle_status[div >= 0] = "diverged"
    x_final = state.x if state.x.ndim == 1 else np.array(state.x, order="C")  # the state is ours to hand over
    value_final = np.array(state.value, dtype=np.float64)
    grad_norm_final = np.sqrt(np.asarray(state.grad_sq(), dtype=np.float64))
    for idx, x_rows, values, gnorms in watch.snapshots:  # each particle as it was at its own end
        x_final[idx] = x_rows
        value_final[idx] = values
        grad_norm_final[idx] = gnorms
    x0_first = rows["x"][0].reshape(-1, potential.dim)[0] if rows["x"] is not None else x_final.reshape(
        -1, potential.dim)[0]
    n = watch.n
    n_div, n_conv = int((div >= 0).sum()), int((conv >= 0).sum())
    if not message:
        if status == "converged":
            message = (f"‖∇V‖ ≤ gtol reached at step {int(conv)}" if not shape else
                       f"all {n} particles reached ‖∇V‖ ≤ gtol by step {state.step}")
        elif status == "diverged":
            cause = _divergence_cause(potential, integrator.at_step(state.step), x0_first)
            message = (f"diverged at step {int(div)}: V left the finite range; {cause}" if not shape else
                       f"{n_div} of {n} particles diverged ({n_conv} converged); {cause}")
        else:
            message = f"reached n_steps = {state.step} without meeting the tolerance"
            if shape:
                message += f" ({n_conv} of {n} particles converged, {n_div} diverged)"
    elif shape and (n_div or n_conv):
        message += f" ({n_conv} of {n} particles converged, {n_div} diverged)"
    counts = {key: potential.counts[key] - counts_before.get(key, 0) for key in potential.counts}
    return Trajectory(
        t=rows["t"], step=rows["step"], x=rows["x"], p=rows["p"],
        potential_energy=rows["V"], kinetic_energy=rows["K"],
        dissipated=rows["D"], grad_norm=rows["g"], status=status, message=message,
        n_steps=state.step, counts=counts, x_final=x_final, value_final=value_final,
        grad_norm_final=grad_norm_final, particle_status=particle_status,
        converged_step=conv, diverged_step=div, method=type(integrator).__name__,
        params=integrator.params(), potential=potential.name, minimum_value=potential.minimum_value,
        record=record, every=every)
