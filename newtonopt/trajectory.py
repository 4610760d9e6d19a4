"""The result of a run: recorded arrays, the energy ledger, status and counts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

_ARRAY_FIELDS = ("t", "step", "x", "p", "potential_energy", "kinetic_energy", "dissipated", "grad_norm",
                 "x_final", "particle_status", "converged_step", "diverged_step", "evaluations")
_META_FIELDS = ("status", "message", "n_steps", "counts", "method", "params", "potential", "minimum_value",
                "record", "every")

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
        The last state (for a particle that diverged in an ensemble, its state when that was detected).
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
                 evaluations=None):
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        self.t = np.asarray(t)
        self.step = np.asarray(step)
        self.x = None if x is None else np.asarray(x)
        self.p = None if p is None else np.asarray(p)
        self.potential_energy = np.asarray(potential_energy)
        self.kinetic_energy = np.asarray(kinetic_energy)
        self.dissipated = np.asarray(dissipated)
        self.grad_norm = np.asarray(grad_norm)
        self.status = status
        self.message = message
        self.n_steps = int(n_steps)
        self.counts = {k: int(v) for k, v in counts.items()}
        self.x_final = np.asarray(x_final)
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
    def value_final(self):
        """V at the last record, per particle."""
        return self.potential_energy[-1]

    @property
    def grad_norm_final(self):
        return self.grad_norm[-1]

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

    # ---------------------------------------------------------------- persistence
    def save(self, path) -> Path:
        """Write the trajectory to an ``.npz`` file (arrays plus JSON metadata; no pickle)."""
        path = Path(path)
        arrays = {name: getattr(self, name) for name in _ARRAY_FIELDS if getattr(self, name) is not None}
        meta = {name: getattr(self, name) for name in _META_FIELDS}
        meta["params"] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.params.items()}
        arrays["__meta__"] = np.array(json.dumps(meta))
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
        return path

    @classmethod
    def load(cls, path) -> Trajectory:
        """Read a trajectory written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            fields = {name: (np.array(data[name]) if name in data.files else None) for name in _ARRAY_FIELDS}
        meta["params"] = {k: (np.asarray(v) if isinstance(v, list) else v) for k, v in meta["params"].items()}
        return cls(**fields, **meta)
