"""The result of a run: recorded arrays, the energy ledger, status and counts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ._io import (
    ARRAY_FIELDS,
    FINAL_FIELDS,
    META_FIELDS,
    SINK_FIELDS,
    STATE_PREFIX,
    STATUSES,
    check_meta,
    check_parts,
    npz_path,
    read_npz,
    read_rows,
)

_ARRAY_FIELDS, _META_FIELDS, _STATE_PREFIX, _FINAL_FIELDS = ARRAY_FIELDS, META_FIELDS, STATE_PREFIX, FINAL_FIELDS


class Trajectory:
    """A recorded run of an integrator (or a scipy method) on a potential.

    Attributes
    ----------
    t : ndarray, shape (n_records,) (or (n_records, *particles) with per-particle time steps)
        Physical time of each record.
    step : ndarray of int, shape (n_records,)
        Step index of each record (0 is the start).
    x : ndarray, shape (n_records, *x0.shape), or None
        Positions; ``x[0]`` is x0. None when only scalars were recorded.
    p : ndarray or None
        Momenta (None for first-order methods, scipy methods, or scalar records).
    potential_energy, kinetic_energy, total_energy, dissipated, energy_error, grad_norm : ndarray
        Shape (n_records, *particles).
        The ledger per particle: V, K = |p|²/2m (zero for overdamped
        methods, NaN where not defined, e.g. scipy), E = V + K, the cumulative
        energy removed by friction D, the discretization error
        ε = E + D − E[0], and ‖∇V‖₂.
    status : str
        One of 'converged', 'max_steps', 'diverged', 'stopped', 'interrupted', 'failed'.
    message : str
        A sentence saying why the run ended.
    n_steps : int
        Steps taken.
    counts : dict
        Evaluations used by this run: 'value', 'gradient', 'hessian' (summed over particles).
    x_final : ndarray, shape x0.shape
        Each particle's state when it ended: at its first step with ‖∇V‖ ≤ gtol, when its
        divergence was detected, or at the last step. In an ensemble, particles that ended
        keep being stepped with the others, but their results are those at their end.
    value_final, grad_norm_final : ndarray, shape particles
        V and ‖∇V‖ of that state.
    particle_status : ndarray of str, shape particles
        Per-particle status.
    converged_step, diverged_step : ndarray of int, shape particles
        The first step at which each particle met the tolerance / diverged (−1: never).
    evaluations : ndarray of int or None
        Cumulative gradient evaluations at each record when the method's cost
        per step varies (see :attr:`gradient_evaluations`).
    sharpness : ndarray or None, shape (m, *particles) or (m, *particles, top)
        The largest Hessian eigenvalue(s) of each particle at the steps
        ``sharpness_step`` (``simulate(..., sharpness_every=k)``), else None.
    sharpness_step : ndarray of int or None, shape (m,)
    """

    def __init__(self, *, t, step, x, p, potential_energy, kinetic_energy, dissipated, grad_norm, status,
                 message, n_steps, counts, x_final, particle_status, converged_step, diverged_step,
                 method="", params=None, potential="", minimum_value=None, record="all", every=1,
                 evaluations=None, value_final=None, grad_norm_final=None, sharpness=None, sharpness_step=None):
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        self.t = np.asanyarray(t)
        self.step = np.asanyarray(step)
        self.x = None if x is None else np.asanyarray(x)
        self.p = None if p is None else np.asanyarray(p)
        self.potential_energy = np.asanyarray(potential_energy)
        self.kinetic_energy = np.asanyarray(kinetic_energy)
        self.dissipated = np.asanyarray(dissipated)
        self.grad_norm = np.asanyarray(grad_norm)
        self.status = status
        self.message = message
        self.n_steps = int(n_steps)
        self.counts = {k: int(v) for k, v in counts.items()}
        self.x_final = np.asarray(x_final)
        # Each particle as it was when it ended (met gtol or diverged); the last record for the rest.
        self.value_final = np.asarray(self.potential_energy[-1] if value_final is None else value_final)
        self.grad_norm_final = np.asarray(self.grad_norm[-1] if grad_norm_final is None else grad_norm_final)
        self.particle_status = np.asarray(particle_status)
        self.converged_step = np.asarray(converged_step)
        self.diverged_step = np.asarray(diverged_step)
        self.method = method
        self.params = {} if params is None else dict(params)
        self.potential = potential
        self.minimum_value = minimum_value
        self.record = record
        self.every = int(every)
        self.evaluations = None if evaluations is None else np.asarray(evaluations)
        self.sharpness = None if sharpness is None else np.asarray(sharpness)
        self.sharpness_step = None if sharpness_step is None else np.asarray(sharpness_step)
        self.final_state: dict | None = None  # set by simulate: the integrator's snapshot, for resuming
        self.resumable = False
        self.potential_state = None  # a stochastic potential's random state at the end (JSON-able)

    # ---------------------------------------------------------------- derived ledger
    @property
    def total_energy(self) -> np.ndarray:
        """E = V + K per record."""
        return self.potential_energy + self.kinetic_energy

    @property
    def energy_error(self) -> np.ndarray:
        """ε_k = E_k + D_k − E_0: the discretization error of the energy ledger."""
        total = self.total_energy
        return total + self.dissipated - total[0]

    @property
    def gradient_evaluations(self) -> np.ndarray:
        """Cumulative gradient evaluations at each record (all particles), the cost axis of fair plots.

        Stored by methods whose cost per step varies (scipy's line searches);
        for newtonopt's integrators it is (step + 1) × particles: one at x0, one per step.
        """
        if self.evaluations is not None:
            return self.evaluations
        return (self.step + 1) * max(1, int(np.prod(self.particle_status.shape)))

    @property
    def n_records(self) -> int:
        return len(self.step)

    @property
    def gap(self):
        """V − V* per record, where the potential's minimum value is known (else None)."""
        if self.minimum_value is None:
            return None
        return self.potential_energy - self.minimum_value

    def __len__(self) -> int:
        return self.n_records

    @property
    def status_counts(self) -> dict:
        """How many particles ended in each status, e.g. ``{'converged': 422, 'diverged': 78}`` (nonzero
        counts only, in the order of the statuses). For an ensemble, ``status`` is the run's end as a whole
        ('diverged' once every particle has ended and at least one diverged, 'converged' when every one
        converged); these counts, ``particle_status`` and ``message`` say what each particle did."""
        names, counts = np.unique(self.particle_status, return_counts=True)
        found = dict(zip(names.tolist(), counts.tolist()))
        return {name: found[name] for name in STATUSES if name in found}

    def __repr__(self) -> str:
        particles = "" if self.particle_status.ndim == 0 else " (" + ", ".join(
            f"{n} {name}" for name, n in self.status_counts.items()) + ")"
        return (f"<Trajectory {self.method or '?'} on {self.potential or '?'}: {self.status}{particles} after "
                f"{self.n_steps} steps, {self.n_records} records, counts={self.counts}>")

    # ---------------------------------------------------------------- tables
    _LEDGER = ("potential_energy", "kinetic_energy", "total_energy", "dissipated", "energy_error", "grad_norm")

    def to_dataframe(self):
        """The record as a pandas DataFrame: one row per record (and particle, for an ensemble).

        Columns: ``step``, ``t``, ``particle`` (ensembles; the flat particle index), the ledger
        (V, K, E, D, ε, ‖∇V‖ under their attribute names), and ``x0 … x{dim−1}`` when positions
        were recorded. pandas is optional (``pip install pandas``).
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Trajectory.to_dataframe needs pandas: pip install pandas") from None
        n = self.n_records
        particles = self.potential_energy.shape[1:]
        m = int(np.prod(particles)) if particles else 1
        t = self.t.reshape(n, -1) if self.t.ndim > 1 else self.t[:, None]  # per-particle clocks (FIRE) or one
        columns = {"step": np.repeat(self.step, m), "t": np.broadcast_to(t, (n, m)).reshape(-1)}
        if particles:
            columns["particle"] = np.tile(np.arange(m), n)
        for name in self._LEDGER:
            columns[name] = np.asarray(getattr(self, name)).reshape(-1)
        if self.x is not None:
            x = np.asarray(self.x).reshape(n * m, -1)
            for i in range(x.shape[1]):
                columns[f"x{i}"] = x[:, i]
        return pd.DataFrame(columns)

    def to_xarray(self):
        """The record as an xarray Dataset with dimensions ``step`` × ``particle`` × ``coordinate``.

        Data variables: the ledger (``step`` [× ``particle``]), ``x`` and ``p`` where recorded,
        ``t``; attributes: method, parameters, potential, status, message. xarray is optional
        (``pip install xarray``).
        """
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("Trajectory.to_xarray needs xarray: pip install xarray") from None
        particles = self.potential_energy.shape[1:]
        lead = ("step", "particle") if particles else ("step",)
        flat = (self.n_records, int(np.prod(particles))) if particles else (self.n_records,)
        data = {name: (lead, np.asarray(getattr(self, name)).reshape(flat)) for name in self._LEDGER}
        data["t"] = (lead if self.t.ndim > 1 else ("step",), self.t.reshape(flat) if self.t.ndim > 1 else self.t)
        for name in ("x", "p"):
            value = getattr(self, name)
            if value is not None:
                data[name] = (lead + ("coordinate",), np.asarray(value).reshape(flat + (-1,)))
        attrs = {"method": self.method, "potential": self.potential, "status": self.status, "message": self.message,
                 "params": repr(self.params)}
        return xr.Dataset(data, coords={"step": self.step}, attrs=attrs)

    # ---------------------------------------------------------------- joining
    @classmethod
    def join(cls, first: Trajectory, second: Trajectory) -> Trajectory:
        """One trajectory from a run and its continuation (``simulate(..., x0=first)``).

        The continuation's first record repeats ``first``'s last one and is dropped;
        counts add up; per-particle events keep the earliest step. The result equals,
        array for array, the record of the uninterrupted run.

        Parameters
        ----------
        first, second : Trajectory
            A run and its continuation.

        Returns
        -------
        Trajectory

        Raises
        ------
        ValueError
            When ``second`` does not continue ``first``: another potential (name or
            dimension), method or parameters, or a first
            record that is not, bit for bit, ``first``'s last one (step, time, position
            and ledger) and ``first``'s saved state.
        """
        _check_continues(first, second)

        def cat(a, b):
            return None if a is None or b is None else np.concatenate([a, b[1:]])

        def earliest(a, b):
            return np.where(a >= 0, a, b)

        ended = (first.converged_step >= 0) | (first.diverged_step >= 0)

        def at_end(a, b):
            return np.where(ended if ended.ndim == 0 else ended.reshape(ended.shape + (1,) * (a.ndim - ended.ndim)),
                            a, b)

        joined = cls(
            t=cat(first.t, second.t), step=cat(first.step, second.step), x=cat(first.x, second.x),
            p=cat(first.p, second.p), potential_energy=cat(first.potential_energy, second.potential_energy),
            kinetic_energy=cat(first.kinetic_energy, second.kinetic_energy),
            dissipated=cat(first.dissipated, second.dissipated), grad_norm=cat(first.grad_norm, second.grad_norm),
            status=second.status, message=second.message, n_steps=second.n_steps,
            counts={k: first.counts.get(k, 0) + second.counts.get(k, 0) for k in {**first.counts, **second.counts}},
            x_final=at_end(first.x_final, second.x_final), value_final=at_end(first.value_final, second.value_final),
            grad_norm_final=at_end(first.grad_norm_final, second.grad_norm_final),
            particle_status=np.where(ended, first.particle_status, second.particle_status),
            converged_step=earliest(first.converged_step, second.converged_step),
            diverged_step=earliest(first.diverged_step, second.diverged_step), method=second.method,
            params=second.params, potential=second.potential, minimum_value=second.minimum_value,
            record=second.record, every=second.every, **_joined_sharpness(first, second))
        joined.final_state, joined.resumable = second.final_state, second.resumable
        joined.potential_state = second.potential_state
        return joined

    # ---------------------------------------------------------------- persistence
    def _meta(self) -> dict:
        meta = {name: getattr(self, name) for name in _META_FIELDS}
        meta["params"] = {k: _jsonable(v) for k, v in self.params.items()}
        return meta

    def save(self, path) -> Path:
        """Write the trajectory to an ``.npz`` file (arrays plus JSON metadata; no pickle).

        Parameters
        ----------
        path : str or Path
            The file; ``.npz`` is appended when the name lacks it, as :func:`numpy.savez` does.

        Returns
        -------
        Path
            The path written.
        """
        path = npz_path(path)
        arrays = {name: np.asarray(getattr(self, name)) for name in _ARRAY_FIELDS if getattr(self, name) is not None}
        for name, value in (self.final_state or {}).items():
            arrays[_STATE_PREFIX + name] = value
        arrays["__meta__"] = np.array(json.dumps(self._meta()))
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
        return path

    @classmethod
    def load(cls, path, *, mmap: bool = False) -> Trajectory:
        """Read a trajectory written by :meth:`save` (an ``.npz``) or streamed by ``simulate(record_to=folder)``.

        Files are untrusted input: every dtype, shape, size and key is checked and nothing
        is unpickled or evaluated.

        Parameters
        ----------
        path : str or Path
            An ``.npz`` file (``path + '.npz'`` is tried when ``path`` does not exist), or a
            ``record_to`` folder.
        mmap : bool
            For a folder: map its files read-only instead of reading them into memory, for a
            record larger than memory. The folder must then not change while the Trajectory is
            in use (a file cut shorter under a memory map crashes the interpreter on the next read).

        Returns
        -------
        Trajectory
            A folder without ``final.npz`` (its run was killed, or its disk filled,
            before it finished) is read up to its last complete record and comes back with
            status 'interrupted', a message saying so, and no state to resume from.

        Raises
        ------
        ValueError
            When the file or folder is damaged or was not written by newtonopt: one
            message naming the file and what was expected.
        """
        path = Path(path)
        if path.is_dir():
            return RecordSink.load(path, mmap=mmap)
        if not path.exists() and npz_path(path).exists():
            path = npz_path(path)
        if not path.exists():
            raise FileNotFoundError(f"Trajectory.load: no file or folder {str(path)!r}")
        fields, meta, state = read_npz(path, _ARRAY_FIELDS)
        meta = check_meta(meta, path)
        check_parts(fields, state, meta, path)
        return cls._from_parts({name: fields.get(name) for name in _ARRAY_FIELDS}, meta, state)

    @classmethod
    def _from_parts(cls, fields: dict, meta: dict, state: dict) -> Trajectory:
        """A Trajectory from checked parts (see :mod:`newtonopt._io`)."""
        meta = dict(meta)
        resumable = meta.pop("resumable", False)
        potential_state = meta.pop("potential_state", None)
        traj = cls(**fields, **meta)
        traj.final_state = state or None
        traj.resumable = bool(resumable) and bool(state)
        traj.potential_state = potential_state
        return traj


def _joined_sharpness(first: Trajectory, second: Trajectory) -> dict:
    """The sharpness samples of both runs, the continuation's repeat of the last one dropped."""
    if first.sharpness is None or second.sharpness is None:
        return {"sharpness": first.sharpness if second.sharpness is None else second.sharpness,
                "sharpness_step": first.sharpness_step if second.sharpness is None else second.sharpness_step}
    keep = second.sharpness_step > first.sharpness_step[-1]
    return {"sharpness": np.concatenate([first.sharpness, second.sharpness[keep]]),
            "sharpness_step": np.concatenate([first.sharpness_step, second.sharpness_step[keep]])}


def _check_continues(first: Trajectory, second: Trajectory) -> None:
    """Raise a ValueError saying how ``second`` fails to continue ``first`` (see :meth:`Trajectory.join`)."""
    def refuse(what):
        raise ValueError(f"second does not continue first: {what}")

    for name in ("first", "second"):
        if not isinstance(locals()[name], Trajectory):
            raise TypeError(f"{name} must be a Trajectory, got {type(locals()[name]).__name__}")
    if int(second.step[0]) != int(first.step[-1]):
        refuse(f"second starts at step {int(second.step[0])}, but first ends at step {int(first.step[-1])}")
    if first.potential != second.potential or first.x_final.shape != second.x_final.shape:
        refuse(f"first ran on {first.potential!r} with positions of shape {first.x_final.shape}, second on "
               f"{second.potential!r} with {second.x_final.shape}")
    if first.method != second.method:
        refuse(f"first was run by {first.method!r}, second by {second.method!r}")
    a, b = _jsonable_params(first.params), _jsonable_params(second.params)
    if a != b:
        diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        refuse(f"the parameters differ: {diff[0]} = {a.get(diff[0])!r} in first, {b.get(diff[0])!r} in second")
    # Not p: it is derived from the step's coefficients, which a scheduled method configures anew at the seam.
    for name in ("t", "x", "potential_energy", "kinetic_energy", "dissipated", "grad_norm"):
        u, v = getattr(first, name), getattr(second, name)
        if u is not None and v is not None and not _same_bits(u[-1], v[0]):
            refuse(f"second's first record differs from first's last one in {name!r}: it did not start from "
                   "first's final state")
    state = first.final_state or {}
    if "x" in state and second.x is not None and not _same_bits(state["x"], second.x[0]):
        refuse("second's first position is not first's saved state")


def _same_bits(u, v) -> bool:
    u, v = np.asarray(u), np.asarray(v)
    return u.shape == v.shape and u.dtype == v.dtype and u.tobytes() == v.tobytes()


def _jsonable_params(params: dict) -> dict:
    """The parameters as saved (JSON: tuples and arrays become lists), so a loaded run compares equal."""
    params = {k: _jsonable(v) for k, v in params.items()}
    try:
        return json.loads(json.dumps(params))
    except (TypeError, ValueError):  # a parameter JSON cannot hold: compare it as it is
        return params


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "params") and callable(value.params):  # a Schedule
        return {"__schedule__": type(value).__name__, **value.params()}
    return value


class RecordSink:
    """Streams a run's records to a folder as they are made: a raw little-endian file per field.

    ``layout.json`` (written first, atomically) gives each field's dtype and row shape, so the
    rows written so far can be read back even if the run never finished; ``final.npz``
    (written last, atomically) holds the rest of the Trajectory. No pickle anywhere.

    A write that fails (a full disk) never raises: :meth:`write` returns False, the files are
    cut back to the last block written whole (so the folder reads as a run stopped there),
    ``error`` keeps the exception, and every later write is skipped.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"record_to must be a folder path, got the file {str(folder)!r}")
        if self.folder.exists() and any(self.folder.iterdir()):
            raise ValueError(f"record_to folder {str(folder)!r} is not empty; choose a new folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.layout: dict | None = None
        self.rows = 0  # rows written whole to every file
        self.error: OSError | None = None

    @staticmethod
    def _append(path: Path, data: np.ndarray) -> None:
        """Append ``data``'s bytes to ``path`` (the one place bytes reach the disk)."""
        with open(path, "ab") as fh:
            data.tofile(fh)

    def write(self, block: dict, rows: int) -> bool:
        """Append the first ``rows`` rows of each field of ``block``; False when the disk refused them."""
        if self.error is not None:
            return False
        try:
            if self.layout is None:
                layout = {name: {"dtype": np.dtype(a.dtype).newbyteorder("<").str, "row_shape": list(a.shape[1:])}
                          for name, a in block.items()}
                tmp = self.folder / "layout.tmp"
                tmp.write_text(json.dumps(layout))
                tmp.replace(self.folder / "layout.json")
                self.layout = layout
            for name, a in block.items():
                self._append(self.folder / f"{name}.bin",
                             np.ascontiguousarray(a[:rows], dtype=self.layout[name]["dtype"]))
        except OSError as exc:
            self.error = exc.with_traceback(None)  # its frames would keep the refused block alive
            self._cut_back()
            return False
        self.rows += rows
        return True

    def _cut_back(self) -> None:
        """After a failed write, cut every file back to the rows written whole (truncation needs no space)."""
        for name in (self.layout or {}):
            path = self.folder / f"{name}.bin"
            spec = self.layout[name]
            row_bytes = np.dtype(spec["dtype"]).itemsize * int(np.prod(spec["row_shape"], dtype=np.int64))
            try:
                if path.exists():
                    os.truncate(path, self.rows * row_bytes)
            except OSError:  # pragma: no cover - then the loader reads the complete rows only
                pass
        for tmp in ("layout.tmp", "final.tmp"):
            try:
                (self.folder / tmp).unlink(missing_ok=True)
            except OSError:  # pragma: no cover
                pass

    def arrays(self) -> dict:
        """The rows written whole, as read-only memory maps (the run's own folder, which it just wrote)."""
        if self.layout is None or self.rows == 0:  # nothing reached the disk whole
            return {}
        return read_rows(self.folder, finished=True, mmap=True)[0]

    def finish(self, traj: Trajectory) -> bool:
        """Write ``final.npz``; False (and ``error`` set, the folder left unfinished) when the disk refused it."""
        if self.error is not None:
            return False
        arrays = {name: np.asarray(getattr(traj, name)) for name in _FINAL_FIELDS}
        for name, value in (traj.final_state or {}).items():
            arrays[_STATE_PREFIX + name] = value
        arrays["__meta__"] = np.array(json.dumps(traj._meta()))
        tmp = self.folder / "final.tmp"
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
            tmp.replace(self.folder / "final.npz")
        except OSError as exc:
            self.error = exc.with_traceback(None)  # its frames would keep the refused block alive
            self._cut_back()
            return False
        return True

    @staticmethod
    def load(folder: Path, *, mmap: bool = False) -> Trajectory:
        """Read a ``record_to`` folder, checked against its layout (see :meth:`Trajectory.load`)."""
        folder = Path(folder)
        final = folder / "final.npz"
        finished = final.is_file()
        if not finished and (final.exists() or final.is_symlink()):
            raise ValueError(f"{final}: is not a regular file: expected the final state newtonopt writes")
        rows, note = read_rows(folder, finished=finished, mmap=mmap)
        fields = {SINK_FIELDS[k]: v for k, v in rows.items()}
        if not finished:  # the run was stopped before its end: keep every row that reached the disk
            n = len(rows["step"])
            shape = rows["V"].shape[1:]
            x_last = np.array(rows["x"][-1]) if rows.get("x") is not None else np.full(shape + (0,), np.nan)
            last = {"x_final": x_last, "particle_status": np.full(shape, "interrupted"),
                    "converged_step": np.full(shape, -1), "diverged_step": np.full(shape, -1)}
            message = (f"{folder} has no final.npz: its run was stopped (killed, or its disk filled) before it "
                       f"finished, so the integrator's state after step {int(rows['step'][-1])} was never saved "
                       f"and the run cannot be resumed from here; {note}")
            meta = {"status": "interrupted", "message": message, "n_steps": int(rows["step"][-1]) if n else 0,
                    "counts": {}, "params": {}}
            return Trajectory._from_parts({**fields, **last}, meta, {})
        final_fields, meta, state = read_npz(final, _FINAL_FIELDS)
        meta = check_meta(meta, final)
        fields.update(final_fields)
        check_parts(fields, state, meta, final)
        if rows["x"] is not None and rows["x"].dtype != fields["x_final"].dtype.newbyteorder("<"):
            raise ValueError(f"{final}: 'x_final' has dtype {fields['x_final'].dtype.str}, but layout.json says "
                             f"x.bin holds {rows['x'].dtype.str}: the files disagree")
        return Trajectory._from_parts(fields, meta, state)
