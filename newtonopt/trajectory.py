"""The result of a run: recorded arrays, the energy ledger, status and counts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

_ARRAY_FIELDS = ("t", "step", "x", "p", "potential_energy", "kinetic_energy", "dissipated", "grad_norm",
                 "x_final", "value_final", "grad_norm_final", "particle_status", "converged_step", "diverged_step",
                 "evaluations")
_META_FIELDS = ("status", "message", "n_steps", "counts", "method", "params", "potential", "minimum_value",
                "record", "every", "resumable", "potential_state")
_STATE_PREFIX = "state__"

STATUSES = ("converged", "max_steps", "diverged", "stopped", "interrupted", "failed")


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
    """

    def __init__(self, *, t, step, x, p, potential_energy, kinetic_energy, dissipated, grad_norm, status,
                 message, n_steps, counts, x_final, particle_status, converged_step, diverged_step,
                 method="", params=None, potential="", minimum_value=None, record="all", every=1,
                 evaluations=None, value_final=None, grad_norm_final=None):
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
        self.final_state: dict | None = None  # set by simulate: the integrator's snapshot, for resuming
        self.resumable = False
        self.potential_state = None  # a stochastic potential's random state at the end (JSON-able)
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

    def __repr__(self) -> str:
        return (f"<Trajectory {self.method or '?'} on {self.potential or '?'}: {self.status} after "
                f"{self.n_steps} steps, {self.n_records} records, counts={self.counts}>")

    # ---------------------------------------------------------------- joining
    @classmethod
    def join(cls, first: Trajectory, second: Trajectory) -> Trajectory:
        """One trajectory from a run and its continuation (``simulate(..., x0=first)``).

        The continuation's first record repeats ``first``'s last one and is dropped;
        counts add up; per-particle events keep the earliest step. The result equals,
        array for array, the record of the uninterrupted run.
        """
        if int(second.step[0]) != int(first.step[-1]):
            raise ValueError(f"second starts at step {int(second.step[0])}, but first ends at step "
                             f"{int(first.step[-1])}: it is not its continuation")

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
            record=second.record, every=second.every)
        joined.final_state, joined.resumable = second.final_state, second.resumable
        joined.potential_state = second.potential_state
        return joined

    # ---------------------------------------------------------------- persistence
    def _meta(self) -> dict:
        meta = {name: getattr(self, name) for name in _META_FIELDS}
        meta["params"] = {k: _jsonable(v) for k, v in self.params.items()}
        return meta

    def save(self, path) -> Path:
        """Write the trajectory to an ``.npz`` file (arrays plus JSON metadata; no pickle)."""
        path = Path(path)
        arrays = {name: np.asarray(getattr(self, name)) for name in _ARRAY_FIELDS if getattr(self, name) is not None}
        for name, value in (self.final_state or {}).items():
            arrays[_STATE_PREFIX + name] = value
        arrays["__meta__"] = np.array(json.dumps(self._meta()))
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
        return path

    @classmethod
    def load(cls, path) -> Trajectory:
        """Read a trajectory written by :meth:`save` (an ``.npz``) or streamed by ``simulate(record_to=folder)``.

        A streamed folder is read lazily: its arrays are memory maps of the files.
        """
        path = Path(path)
        if path.is_dir():
            return RecordSink.load(path)
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            fields = {name: (np.array(data[name]) if name in data.files else None) for name in _ARRAY_FIELDS}
            state = {k[len(_STATE_PREFIX):]: np.array(data[k]) for k in data.files if k.startswith(_STATE_PREFIX)}
        return cls._from_parts(fields, meta, state)

    @classmethod
    def _from_parts(cls, fields: dict, meta: dict, state: dict) -> Trajectory:
        meta = dict(meta)
        resumable = meta.pop("resumable", False)
        potential_state = meta.pop("potential_state", None)
        meta["params"] = {k: _from_json(v) for k, v in meta.get("params", {}).items()}
        traj = cls(**fields, **meta)
        traj.final_state = state or None
        traj.resumable = bool(resumable) and bool(state)
        traj.potential_state = potential_state
        return traj


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "params") and callable(value.params):  # a Schedule
        return {"__schedule__": type(value).__name__, **value.params()}
    return value


def _from_json(value):
    if isinstance(value, list):
        return np.asarray(value)
    if isinstance(value, dict) and "__schedule__" in value:
        from .schedules import SCHEDULES

        kwargs = dict(value)
        return SCHEDULES[kwargs.pop("__schedule__")](**kwargs)
    return value


_FINAL_FIELDS = ("x_final", "value_final", "grad_norm_final", "particle_status", "converged_step", "diverged_step")
_SINK_FIELDS = {"step": "step", "t": "t", "V": "potential_energy", "K": "kinetic_energy", "D": "dissipated",
                "g": "grad_norm", "x": "x", "p": "p"}


class RecordSink:
    """Streams a run's records to a folder as they are made: a raw little-endian file per field.

    ``layout.json`` (written first) gives each field's dtype and row shape, so the rows
    written so far can be read back even if the run never finished; ``final.npz``
    (written last) holds the rest of the Trajectory. No pickle anywhere.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"record_to must be a folder path, got the file {str(folder)!r}")
        if self.folder.exists() and any(self.folder.iterdir()):
            raise ValueError(f"record_to folder {str(folder)!r} is not empty; choose a new folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.layout: dict | None = None

    def write(self, block: dict, rows: int) -> None:
        if self.layout is None:
            self.layout = {name: {"dtype": np.dtype(a.dtype).newbyteorder("<").str, "row_shape": list(a.shape[1:])}
                           for name, a in block.items()}
            (self.folder / "layout.json").write_text(json.dumps(self.layout))
        for name, a in block.items():
            with open(self.folder / f"{name}.bin", "ab") as fh:
                np.ascontiguousarray(a[:rows], dtype=self.layout[name]["dtype"]).tofile(fh)

    def arrays(self) -> dict:
        return _read_layout(self.folder)

    def finish(self, traj: Trajectory) -> None:
        arrays = {name: np.asarray(getattr(traj, name)) for name in _FINAL_FIELDS}
        for name, value in (traj.final_state or {}).items():
            arrays[_STATE_PREFIX + name] = value
        arrays["__meta__"] = np.array(json.dumps(traj._meta()))
        tmp = self.folder / "final.tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        tmp.replace(self.folder / "final.npz")

    @staticmethod
    def load(folder: Path) -> Trajectory:
        rows = _read_layout(folder)
        fields = {_SINK_FIELDS[k]: v for k, v in rows.items()}
        final = folder / "final.npz"
        if not final.exists():  # the run never finished: keep every row that reached the disk
            n = len(rows["step"])
            shape = rows["V"].shape[1:]
            x_last = rows["x"][-1] if rows.get("x") is not None and n else np.full(shape + (0,), np.nan)
            last = {"x_final": x_last, "particle_status": np.full(shape, "interrupted"),
                    "converged_step": np.full(shape, -1), "diverged_step": np.full(shape, -1)}
            meta = {"status": "interrupted", "message": f"the run ended before it finished writing; {n} records kept",
                    "n_steps": int(rows["step"][-1]) if n else 0, "counts": {}, "params": {}}
            return Trajectory._from_parts({**fields, **last}, meta, {})
        with np.load(final, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            for name in _FINAL_FIELDS:
                if name in data.files:
                    fields[name] = np.array(data[name])
            state = {k[len(_STATE_PREFIX):]: np.array(data[k]) for k in data.files if k.startswith(_STATE_PREFIX)}
        return Trajectory._from_parts(fields, meta, state)


def _read_layout(folder: Path) -> dict:
    layout = json.loads((folder / "layout.json").read_text())
    out = {}
    for name, spec in layout.items():
        dtype, row_shape = np.dtype(spec["dtype"]), tuple(spec["row_shape"])
        path = folder / f"{name}.bin"
        row_bytes = dtype.itemsize * int(np.prod(row_shape, dtype=np.int64))
        n = path.stat().st_size // row_bytes if path.exists() else 0
        out[name] = (np.memmap(path, dtype=dtype, mode="r", shape=(n,) + row_shape) if n
                     else np.empty((0,) + row_shape, dtype=dtype))
    for name in ("x", "p"):
        out.setdefault(name, None)
    return out

