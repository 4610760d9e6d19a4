"""FIRE: molecular dynamics with a friction that steers the velocity along the force."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import _describe, as_int, as_parameter, positive
from ..potential import Potential
from .base import Fields, Integrator, State


@dataclasses.dataclass
class FireMemory:
    v: np.ndarray             # the velocity (unit mass), per coordinate
    fire_dt: np.ndarray       # each particle's adaptive time step
    fire_a: np.ndarray        # each particle's mixing parameter α
    fire_n: np.ndarray        # each particle's downhill steps since its last reset
    fire_started: np.ndarray  # False before the first step (nothing to mix then)


@dataclasses.dataclass(frozen=True)
class FireCoefficients:
    maxstep: float | np.ndarray
    dtmax: float | np.ndarray
    Nmin: int
    finc: float | np.ndarray
    fdec: float | np.ndarray
    astart: float | np.ndarray
    fa: float | np.ndarray


def _check_not_above(name: str, value, limit_name: str, limit) -> None:
    """``value <= limit`` element-wise (scalars or per-particle arrays; schedules are left to their use)."""
    if not all(isinstance(v, (float, np.ndarray)) for v in (value, limit)):
        return
    try:
        bad = np.asarray(value) > np.asarray(limit)
    except ValueError:  # two arrays that do not broadcast; the ensemble check names them at the start
        return
    if not np.any(bad):
        return
    if bad.ndim == 0:
        raise ValueError(f"{name} must be <= {limit_name}, got {name}={_describe(value)}, {limit_name}="
                         f"{_describe(limit)}")
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    v = np.broadcast_to(value, bad.shape)[index]
    lim = np.broadcast_to(limit, bad.shape)[index]
    raise ValueError(f"{name} must be <= {limit_name} for every particle, got {name}={_describe(v)}, "
                     f"{limit_name}={_describe(lim)} at index {index}")


class FIRE(Integrator):
    r"""The Fast Inertial Relaxation Engine (Bitzek et al. 2006), step for step as ASE's ``FIRE``.

    Physics (unit mass, F = −∇V; each particle of an ensemble is its own system with its own dt, a
    and step counter)::

        if it is not the first step:
            if P = F·v > 0:   v ← (1 − a)·v + a·|v|·F/|F|      (steer the velocity towards the force)
                              if N > Nmin: dt ← min(dt·finc, dtmax), a ← a·fa
                              N ← N + 1
            else:             v ← 0, a ← astart, dt ← dt·fdec, N ← 0   (uphill: stop dead)
        v ← v + dt·F
        Δx = dt·v, shortened to length maxstep if longer
        x ← x + Δx

    Machine learning: a momentum method whose friction is adaptive — almost none while the motion
    goes downhill, total as soon as it goes uphill — with a growing time step: the standard
    structural relaxer of computational physics.

    Parameters
    ----------
    dt, maxstep, dtmax, Nmin, finc, fdec, astart, fa, a
        ASE's names and defaults: 0.1, 0.2, 1.0, 5, 1.1, 0.5, 0.1, 0.99 and the initial mixing a = 0.1.
        Each is checked against its meaning, for scalars and per-particle arrays alike: dt, maxstep,
        dtmax > 0 with dt ≤ dtmax (the step starts at dt and grows up to dtmax); Nmin an integer ≥ 0;
        finc > 1 (grow the step) and 0 < fdec < 1 (cut it); 0 < fa < 1 (the mixing decays);
        0 < astart ≤ 1 and 0 ≤ a ≤ 1 (mixing fractions).

    Notes
    -----
    Energy ledger (K = |v|²/2): the mixing cannot raise |v| and the reset removes all of K; both are
    friction, and the kinetic energy they remove is booked in ``dissipated``. The maxstep cap shows
    in ``energy_error``.

    References
    ----------
    Bitzek, E., Koskinen, P., Gähler, F., Moseley, M. & Gumbsch, P. (2006). Structural relaxation
    made simple. Phys. Rev. Lett. 97, 170201. ASE: Larsen, A. H. et al. (2017). The atomic simulation
    environment. J. Phys.: Condens. Matter 29, 273002.
    """

    order = 2
    step_parameter = "dt"

    def __init__(self, dt=0.1, maxstep=0.2, dtmax=1.0, Nmin=5, finc=1.1, fdec=0.5, astart=0.1, fa=0.99, a=0.1):
        self.dt = positive("dt", dt)
        self.maxstep = positive("maxstep", maxstep)
        self.dtmax = positive("dtmax", dtmax)
        self.Nmin = as_int("Nmin", Nmin, low=0)
        # A factor on the wrong side of 1 turns FIRE's feedback around (fdec = 2 grows the step on every
        # uphill move until it overflows), so each is held to its meaning.
        self.finc = as_parameter("finc", finc, low=1.0, low_open=True)
        self.fdec = as_parameter("fdec", fdec, low=0.0, high=1.0, low_open=True, high_open=True)
        self.astart = as_parameter("astart", astart, low=0.0, high=1.0, low_open=True)
        self.fa = as_parameter("fa", fa, low=0.0, high=1.0, low_open=True, high_open=True)
        self.a = as_parameter("a", a, low=0.0, high=1.0)
        _check_not_above("dt", self.dt, "dtmax", self.dtmax)

    @property
    def time_step(self):
        return self.dt

    def params(self) -> dict:
        return {"dt": self.dt, "maxstep": self.maxstep, "dtmax": self.dtmax, "Nmin": self.Nmin, "finc": self.finc,
                "fdec": self.fdec, "astart": self.astart, "fa": self.fa, "a": self.a}

    def init_memory(self, x: np.ndarray) -> FireMemory:
        shape = x.shape[:-1]
        dt = np.array(self.dt, dtype=np.float64) if np.ndim(self.dt) else np.full(shape, float(self.dt))
        return FireMemory(v=np.zeros_like(x), fire_dt=dt,
                          fire_a=np.broadcast_to(np.asarray(self.a, dtype=np.float64), shape).copy(),
                          fire_n=np.zeros(shape, dtype=np.int64), fire_started=np.array(False))

    def coefficients(self, particles: tuple, dtype) -> FireCoefficients:
        return FireCoefficients(maxstep=self.maxstep, dtmax=self.dtmax, Nmin=self.Nmin, finc=self.finc,
                                fdec=self.fdec, astart=self.astart, fa=self.fa)

    def per_particle_clock(self, state: State) -> bool:
        return bool(state.particle_shape)  # each particle's clock advances by its own adaptive step

    def physical_momentum(self, state: State):
        return state.memory.v.copy()

    def update(self, c: FireCoefficients, s: State, f: Fields, potential: Potential) -> None:
        m = s.memory
        dt, a, n = m.fire_dt, m.fire_a, m.fire_n
        if m.fire_started:
            power = -s.dot(f.grad, f.v)              # P = F·v
            f2, v2 = s.sq_norm(f.grad), s.sq_norm(f.v)
            downhill = np.asarray(power > 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                steer = np.where(downhill, a * np.sqrt(v2) / np.sqrt(np.where(f2 > 0, f2, 1.0)), 0.0)
            keep = np.where(downhill, 1.0 - a, 0.0)
            # v ← (1 − α)·v + α·|v|·F/|F| downhill; v ← 0 uphill (the reset)
            f.v[...] = keep * f.v - steer * f.grad
            s.dissipated += 0.5 * (v2 - s.sq_norm(f.v))  # friction removed K_before − K_after
            grow = downhill & (n > c.Nmin)
            dt[...] = np.where(grow, np.minimum(dt * c.finc, c.dtmax), np.where(downhill, dt, dt * c.fdec))
            a[...] = np.where(grow, a * c.fa, np.where(downhill, a, c.astart))
            n[...] = np.where(downhill, n + 1, 0)
        m.fire_started = np.array(True)
        f.v -= dt * f.grad                           # v ← v + dt·F
        dx = s.displacement(dt * f.v)                # Δx = dt·v, at most maxstep long
        length = np.sqrt(s.sq_norm(dx))
        with np.errstate(invalid="ignore", divide="ignore"):
            dx *= np.where(length > c.maxstep, c.maxstep / np.where(length > 0, length, 1.0), 1.0)
        f.x += dx
        s.evaluate(potential)
        s.kinetic = 0.5 * s.sq_norm(f.v)             # K = |v|²/2
        s.t += dt
