"""When a run stops: each particle's own convergence and divergence events."""

from __future__ import annotations

import numpy as np

from ..integrators.base import State

# A particle has diverged when V is non-finite or leaves [V0 − R, V0 + R] with R = DIVERGENCE_FACTOR·(1 + |V0|):
# far beyond anything a stable run reaches.
DIVERGENCE_FACTOR = 1e10
# Upwards a deterministic method is held to a much tighter bound, by its energy ledger: from rest,
# V ≤ E = E0 − D + ε with D ≥ 0, so V − V0 > GROWTH_FACTOR·(1 + |V0|) means the discretization error ε
# is a thousand times the scale of the start — the step is past its stability limit. (A heat bath can
# raise V legitimately, and the adaptive methods book work, not a Hamiltonian's friction: they keep the
# wide bound; see Integrator.energy_bounded.) Gradient descent just past 2/L is caught
# when |x − x*| has grown about 30-fold, not 10⁵-fold.
GROWTH_FACTOR = 1e3


class Watch:
    """Per-particle stopping bookkeeping.

    Each particle's fate is decided by its own first event — ‖∇V‖ ≤ gtol (converged) or
    V leaving its bounds (see GROWTH_FACTOR and DIVERGENCE_FACTOR) or turning non-finite (diverged) —
    and its state at that event is kept. A particle's result therefore does not depend on which
    other particles run beside it; later steps of an ended particle are ignored.
    """

    def __init__(self, state: State, gtol, energy_bounded: bool = False):
        value = np.array(state.value, dtype=np.float64)
        self.single = value.ndim == 0
        scale = 1.0 + np.abs(value)
        self.lo = value - DIVERGENCE_FACTOR * scale
        if energy_bounded:  # V ≤ E0 + ε: the bound is E0 = V0 + K0 (a resumed run may be moving)
            kinetic = 0.0 if state.kinetic is None else np.array(state.kinetic, dtype=np.float64)
            self.hi = value + kinetic + GROWTH_FACTOR * (scale + kinetic)
        else:
            self.hi = value + DIVERGENCE_FACTOR * scale
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
