"""What a run keeps: the recording policy, into memory or streamed to a folder.

The record's fields, their names and dtypes are :data:`newtonopt._io.SINK_FIELDS` and
:data:`newtonopt._io.SINK_DTYPES` (defined once, beside the readers that check them);
:func:`record_fields` gives their shapes for a run.
"""

from __future__ import annotations

import math
import os
import struct

import numpy as np

from .._io import SINK_DTYPES, block_rows
from ..integrators.base import Integrator, State
from ..trajectory import RecordSink

RECORD_MODES = ("all", "scalars", "final")


def _row_bytes(fields: dict) -> int:
    return sum(8 * math.prod(shp) for shp, _ in fields.values())


def _block_rows(fields: dict, max_rows: int) -> int:
    """Rows per streamed block of records: about 4 MiB, at least 16, at most what the run can make."""
    return block_rows(_row_bytes(fields), max_rows)


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: assume little
        return 1 << 30


def _memory_rows(max_rows: int, row_bytes: int) -> int:
    """Rows of an in-memory block: all the run can make if they fit in an eighth of the memory, else 64 MiB's."""
    row_bytes = max(row_bytes, 1)
    if max_rows * row_bytes <= _physical_memory() // 8:
        return max_rows
    return int(min(max_rows, max(16, (64 << 20) // row_bytes)))


class RecordWriteError(Exception):
    """The disk refused a block of records; the recorder has kept it (and the current row) in memory."""


def _with_disk_rows(sink: RecordSink, memory: dict) -> dict:
    """The rows a failed sink wrote whole, followed by those kept in memory (one array per field)."""
    disk = sink.arrays()
    if not disk:
        return memory
    return {name: None if memory[name] is None else np.concatenate([disk[name], memory[name]]) for name in memory}


def record_fields(integrator: Integrator, state: State, mode: str) -> dict:
    """name -> (row shape, dtype) of what the recording policy keeps."""
    shape, xshape = state.particle_shape, state.x.shape
    fields = {"step": ((), np.int64), "t": (np.shape(state.t), np.float64), "V": (shape, np.float64),
              "K": (shape, np.float64), "D": (shape, np.float64), "g": (shape, np.float64)}
    if mode in ("all", "final"):
        fields["x"] = (xshape, state.x.dtype)
        if integrator.order == 2:
            fields["p"] = (xshape, state.x.dtype)
    return fields


class Recorder:
    """Collects the records of an ensemble (or of a compiled run) according to the recording policy, into
    one preallocated block.

    Without a sink the block is the record itself: it is made for every row the run can make
    when they fit in an eighth of the machine's memory (``np.empty`` reserves address space; the
    pages are used as rows are written), else for 64 MiB of rows, growing in place
    (``ndarray.resize``, a realloc that also zeroes the new rows) when full. It is trimmed in
    place at the end, so the peak memory is the record's size, not twice it as when blocks were
    concatenated. With a sink the block holds about 4 MiB and is streamed and reused.
    """

    def __init__(self, mode: str, every: int, integrator: Integrator, state: State, n_steps: int,
                 sink: RecordSink | None = None):
        self.mode, self.integrator, self.sink = mode, integrator, sink
        self.fields = record_fields(integrator, state, mode)
        self.max_rows = 2 if mode == "final" else n_steps // every + 2
        self.capacity = (_block_rows(self.fields, self.max_rows) if sink is not None else
                         _memory_rows(self.max_rows, _row_bytes(self.fields)))
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
            raise RecordWriteError

    def free_rows(self) -> dict:
        """Views of the block's unused rows (at least one), for a compiled block to write its rows into
        directly, followed by :meth:`commit`. The block is streamed, or grown, first when it is full;
        the views are valid until the next call that adds rows."""
        if self.filled == self.capacity:
            self._make_room()
        return {name: a[self.filled:] for name, a in self.block.items()}

    def commit(self, n: int) -> None:
        """Count ``n`` rows written into :meth:`free_rows`' views as recorded."""
        self.filled += n
        if n:
            self.last_step = int(self.block["step"][self.filled - 1])
        if self._unreported:
            self._unreported = False
            raise RecordWriteError

    def record(self, state: State) -> None:
        i = self._row()
        block = self.block
        block["step"][i] = state.step
        block["t"][i] = state.t
        block["V"][i] = state.value
        block["K"][i] = 0.0 if self.first_order else state.kinetic
        block["D"][i] = state.dissipated
        block["g"][i] = np.sqrt(state.grad_sq())  # (one particle's row is a scalar, not a view)
        if "x" in block:
            block["x"][i] = state.x
            if "p" in block:
                block["p"][i] = self.integrator.physical_momentum(state)
        self.last_step = state.step
        if self._unreported:
            self._unreported = False
            raise RecordWriteError

    def arrays(self) -> dict:
        if self.sink is not None:
            if self.sink.write(self.block, self.filled):
                return self.sink.arrays()
            self.failed, self.sink = self.sink, None
        self._resize(self.filled)  # in place: the block becomes the record
        out = {name: self.block.get(name) for name in ("step", "t", "V", "K", "D", "g", "x", "p")}
        return out if self.failed is None else _with_disk_rows(self.failed, out)


class ParticleRecorder:
    """Collects the records of a single particle into growing byte buffers.

    A row is one ``struct`` pack of (step, t, V, K, D, ‖∇V‖) and one copy of x's bytes, about
    0.2 µs, where eight numpy item assignments cost about 1 µs: a sixth of a step of a 2-D
    problem. The buffers hold raw values (as compact as numpy blocks) and become arrays without a
    copy at the end; with a sink they are flushed every ``block_rows`` rows.
    """

    ROW = np.dtype(list(SINK_DTYPES.items()))  # step, t, V, K, D, g: the record's scalars, little-endian
    _pack = struct.Struct("<q5d").pack  # the same layout as ROW

    def __init__(self, mode: str, every: int, integrator: Integrator, state: State, n_steps: int,
                 sink: RecordSink | None = None):
        self.mode, self.integrator, self.sink = mode, integrator, sink
        self.fields = record_fields(integrator, state, mode)
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
            raise RecordWriteError
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
                raise RecordWriteError
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
