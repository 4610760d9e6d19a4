"""The compiled backend's Python side: what it supports, and a run's blocks of compiled steps.

:func:`encode_potential` turns a library potential (or a formula) into the numbers the compiled
evaluator reads; :func:`encode_method` reads a method's per-step coefficients off the State its
own ``_configure`` filled (so no coefficient is derived twice). :class:`CompiledRun` holds a run's
arrays in the compiled loop's layout and runs blocks of steps with
:func:`newtonopt.backends.numba_loops.run_block`, between which ``simulate`` does its bookkeeping
(record rows to the recorder, stopping events to the watch, the callback, Ctrl-C).
"""

from __future__ import annotations

import os

import numba
import numpy as np

from .. import formula as _formula
from ..core.reductions import BLOCK
from ..integrators import (
    FIRE,
    Adagrad,
    Adam,
    ForwardEuler,
    GradientDescent,
    HeavyBall,
    Langevin,
    Nesterov,
    OverdampedLangevin,
    RMSprop,
    VelocityVerlet,
)
from ..potential import ExpressionPotential
from ..potentials import Beale, DoubleWell, Himmelblau, LennardJones, MullerBrown, Quadratic, Rastrigin, Rosenbrock
from ..potentials.chemistry import _MB_A, _MB_X, _MB_Y, _MB_a, _MB_b, _MB_c
from . import numba_loops as L

if L.BLOCK != BLOCK:  # the compiled fold keeps its own copy of the block size
    raise ImportError(f"numba_loops.BLOCK = {L.BLOCK} but newtonopt.core.reductions.BLOCK = {BLOCK}")

#: Library potentials the compiled evaluator knows (exact classes: a subclass may change the formula).
POTENTIALS = (Quadratic, Rosenbrock, Himmelblau, Beale, MullerBrown, LennardJones, DoubleWell, Rastrigin,
              ExpressionPotential)
#: Methods with a compiled rule.
METHODS = {GradientDescent: L.GD, HeavyBall: L.HEAVY_BALL, Nesterov: L.NESTEROV, VelocityVerlet: L.VERLET,
           ForwardEuler: L.FORWARD_EULER, Adam: L.ADAM, RMSprop: L.RMSPROP, Adagrad: L.ADAGRAD, FIRE: L.FIRE}
#: Methods left to numpy, and why.
NOT_COMPILED = {
    Langevin: "its noise (newtonopt.noise.CounterNormal, with the package's own ln and sin/cos) is not ported "
              "to the compiled loop",
    OverdampedLangevin: "its noise (newtonopt.noise.CounterNormal, with the package's own ln and sin/cos) is not "
                        "ported to the compiled loop",
}
#: Per-coordinate memory arrays of each method, as the compiled loop's P, Q, R.
MEMORY = {L.HEAVY_BALL: ("velocity",), L.NESTEROV: ("velocity",), L.VERLET: ("p",), L.FORWARD_EULER: ("p",),
          L.ADAM: ("m", "v", "vmax"), L.RMSPROP: ("buffer", "square_avg", "grad_avg"), L.ADAGRAD: ("sum",),
          L.FIRE: ("v",)}
#: Potentials whose arithmetic is + − × ÷ √ only: the compiled run equals numpy's bit for bit.
EXACT = (Quadratic, Rosenbrock, Himmelblau, Beale, LennardJones, DoubleWell)
#: Roughly how many coordinate-steps a block takes (~20-50 ms), so Ctrl-C is answered promptly.
BLOCK_WORK = 1 << 24
#: The most record rows a block collects before handing them to the recorder.
BLOCK_ROWS = 1 << 14

_EMPTY_F = np.zeros(0)
_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_M = np.zeros((0, 0))


def _formula_tape(potential: ExpressionPotential, single: bool):
    """The formula's straight-line code (value, then each ∂V/∂xₖ) as integer and float arrays.

    Only the package's own node ops and their float values are read: the text was parsed by
    :mod:`newtonopt.formula`, and nothing is generated from it.
    """
    program = _formula.Program([potential.formula.root, *potential.gradient_nodes])
    code = program.code
    ip = [len(code), len(program.result_slots)]
    fp = np.zeros(len(code))
    for k, (op, args, value) in enumerate(code):
        a = args[0] if len(args) > 0 else -1
        b = args[1] if len(args) > 1 else -1
        ivalue = 0
        if op == "const":
            fp[k] = value
        elif op in ("var", "ipow"):
            ivalue = int(value)
        ip += [L.OPS.index(op), a, b, ivalue]
    ip += program.result_slots
    return fp, np.array(ip, dtype=np.int64), len(code)


def encode_potential(potential, single: bool):
    """``(kind, FP, IP, M, scratch length)`` for the compiled evaluator, or None if it has none."""
    cls = type(potential)
    dim = potential.dim
    if cls is Quadratic:
        b = np.zeros(dim) if potential.b is None else potential.b
        head = [potential.c, 0.0 if potential.b is None else 1.0]
        if potential.diagonal:
            return L.QUAD_DIAG, np.concatenate([head, b, potential.A]), _EMPTY_I, _EMPTY_M, dim
        return L.QUAD_DENSE, np.concatenate([head, b]), _EMPTY_I, np.ascontiguousarray(potential.A), dim
    if cls is Rosenbrock:
        return L.ROSENBROCK, np.array([potential.a, potential.b]), _EMPTY_I, _EMPTY_M, dim
    if cls is Himmelblau:
        return L.HIMMELBLAU, _EMPTY_F, _EMPTY_I, _EMPTY_M, dim
    if cls is Beale:
        return L.BEALE, _EMPTY_F, _EMPTY_I, _EMPTY_M, dim
    if cls is MullerBrown:
        fp = np.array([v for term in zip(_MB_A, _MB_a, _MB_b, _MB_c, _MB_X, _MB_Y) for v in term])
        return L.MULLER_BROWN, fp, np.array([1 if single else 0], dtype=np.int64), _EMPTY_M, dim
    if cls is LennardJones:
        n, i, j = potential.n_atoms, potential._i, potential._j
        pair = np.zeros((n, n), dtype=np.int64)
        pair[i, j] = pair[j, i] = np.arange(len(i))
        ip = np.concatenate([[n, len(i)], i, j, pair.ravel()]).astype(np.int64)
        return L.LENNARD_JONES, _EMPTY_F, ip, _EMPTY_M, 4 * len(i) + n
    if cls is DoubleWell:
        return L.DOUBLE_WELL, np.array([potential.barrier, potential.tilt, potential.stiffness]), _EMPTY_I, \
            _EMPTY_M, dim
    if cls is Rastrigin:
        return L.RASTRIGIN, np.array([potential.A]), _EMPTY_I, _EMPTY_M, dim
    if cls is ExpressionPotential:
        fp, ip, n_code = _formula_tape(potential, single)
        return L.FORMULA, fp, ip, _EMPTY_M, max(n_code, dim)
    return None


def unsupported(potential, integrator, x_dtype) -> str | None:
    """Why the compiled loop cannot run this pair (a sentence), or None when it can."""
    if type(integrator) not in METHODS:
        names = ", ".join(c.__name__ for c in METHODS)
        reason = NOT_COMPILED.get(type(integrator))
        because = f": {reason}" if reason else ""
        return f"the compiled backend has no rule for {type(integrator).__name__}{because} (it has {names})"
    if integrator.scheduled:
        return "the compiled backend does not run scheduled hyperparameters"
    if type(potential) not in POTENTIALS:
        return (f"the compiled backend evaluates the library potentials and formulas, not "
                f"{type(potential).__name__} {potential.name!r} (a Python function cannot be compiled)")
    if np.dtype(x_dtype) != np.float64:
        return f"the compiled backend runs float64 positions, got {np.dtype(x_dtype)}"
    return None


def encode_method(integrator, state, particles: tuple):
    """``(method, damped, C)``: the method's code and its coefficients per particle, from the coefficients
    the method derived (so none is derived twice), with the products its rule forms written as it writes them."""
    method = METHODS[type(integrator)]
    c = state.coefficients
    if method == L.GD:
        rows = [c.lr]
    elif method in (L.HEAVY_BALL, L.NESTEROV):
        rows = [c.lr, c.momentum, 1.0 - c.momentum * c.momentum, 0.5 * c.lr, -np.asarray(c.dt)]
    elif method == L.VERLET:
        rows = [c.damping, 1.0 - c.damping * c.damping, c.damping * c.damping, c.half_dt, c.dt_over_m, c.half_inv_m]
    elif method == L.FORWARD_EULER:
        rows = [c.dt, c.dt_over_m, c.keep, c.friction_loss, c.half_inv_m]
    elif method == L.ADAM:  # 1 − β as the rule writes it, (1.0 - c.beta1)
        rows = [c.lr, c.beta1, c.beta2, 1.0 - np.asarray(c.beta1), 1.0 - np.asarray(c.beta2), c.eps,
                c.weight_decay, float(c.decays), float(integrator.amsgrad)]
    elif method == L.RMSPROP:
        rows = [c.lr, c.alpha, c.one_minus_alpha, c.eps, c.momentum, c.weight_decay, float(c.decays),
                float(integrator.centered), float(state.memory.buffer.size > 0)]
    elif method == L.ADAGRAD:
        rows = [c.lr, c.lr_decay, c.eps, c.weight_decay, float(c.decays)]
    else:  # FIRE
        rows = [c.maxstep, c.dtmax, float(c.Nmin), c.finc, c.fdec, c.astart, c.fa]
    C = np.stack([_per_particle(r, particles) for r in rows])
    return method, bool(getattr(c, "damped", False)), C


def _per_particle(value, particles: tuple) -> np.ndarray:
    """A coefficient (scalar, per-particle, or per-particle with a trailing axis) as a flat float64 array."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == len(particles) + 1:
        a = a[..., 0]
    return np.array(np.broadcast_to(a, particles).reshape(-1, order="F"), copy=True)  # writable: one signature


def _flat(a: np.ndarray) -> np.ndarray:
    """A per-particle array (Fortran order) as a flat view."""
    v = a.reshape(-1, order="F")
    assert np.shares_memory(v, a) or a.size <= 1
    return v


def _unflatten(a: np.ndarray, particles: tuple) -> np.ndarray:
    """Rows (R, n, ...) with particles in Fortran order as (R, *particles, ...)."""
    rows, rest = a.shape[0], a.shape[2:]
    p = len(particles)
    b = a.reshape((rows,) + particles[::-1] + rest)
    return b.transpose((0,) + tuple(range(p, 0, -1)) + tuple(range(p + 1, p + 1 + len(rest))))


class CompiledRun:
    """A run's state in the compiled loop's layout, advanced block by block.

    The positions, gradients and momenta are the State's own arrays (seen as (dim, n) views, so
    the State is always current); per-particle V, K, D and clocks live in flat arrays here and are
    copied onto the State after each block.
    """

    def __init__(self, potential, integrator, state, watch, record: str, workers: int):
        x = state.x
        self.state, self.watch, self.potential = state, watch, potential
        self.particles = x.shape[:-1]
        self.single = x.ndim == 1
        self.n = int(np.prod(self.particles)) if self.particles else 1
        dim = x.shape[-1]
        kind, self.FP, self.IP, self.M, scratch = encode_potential(potential, self.single)
        self.kind = kind
        self.method, self.damped, self.C = encode_method(integrator, state, self.particles)
        self.X = self._columns("x")
        self.G = self._columns("grad")
        memory = MEMORY.get(self.method, ())
        self.P, self.Q, self.R = (self._columns(memory[j]) if j < len(memory) and
                                  getattr(state.memory, memory[j]).size else _EMPTY_M for j in range(3))
        self.fire = self.method == L.FIRE
        self.counted = self.method in (L.ADAM, L.ADAGRAD)
        m = state.memory
        if self.counted:
            self.S = np.full((1, self.n), float(m.count))
        elif self.fire:
            self.S = np.stack([_per_particle(m.fire_a, self.particles), _per_particle(m.fire_n, self.particles),
                               np.full(self.n, 1.0 if bool(m.fire_started) else 0.0)])
        else:
            self.S = _EMPTY_M
        self.V = self._scalars(state.value)
        self.K = self._scalars(0.0 if state.kinetic is None else state.kinetic)
        self.D = self._scalars(state.dissipated)
        self.GSQ = self._scalars(state.grad_sq())
        self.per_particle_clock = np.ndim(state.t) > 0
        self.T = self._scalars(state.t) if self.per_particle_clock else np.array([float(state.t)])
        if self.fire:  # each particle's adaptive step, updated by the loop (the clocks advance by it)
            self.DT = _per_particle(m.fire_dt, self.particles)
        else:
            dt = state.coefficients.dt
            self.DT = _per_particle(dt, self.particles) if self.per_particle_clock else np.array([float(dt)])
        self.LO = _per_particle(watch.lo, self.particles)
        self.HI = _per_particle(watch.hi, self.particles)
        self.gtol2 = -np.inf if watch.gtol2 is None else float(watch.gtol2)
        self.CONV = np.ascontiguousarray(watch.converged_step.reshape(-1, order="F"))
        self.DIV = np.ascontiguousarray(watch.diverged_step.reshape(-1, order="F"))
        ensemble = not self.single
        self.SNAPX = np.empty((dim, self.n)) if ensemble else _EMPTY_M
        self.SNAPV = np.empty(self.n) if ensemble else _EMPTY_F
        self.SNAPG = np.empty(self.n) if ensemble else _EMPTY_F
        self.workers = max(1, min(int(workers), self.n))
        # Scratch per thread: the evaluator's, the fold's (one place a coordinate) and the block sums of
        # the one-pass diagonal quadratic; rows padded apart so that two threads never share a cache line.
        need = max(scratch, dim, 1) + 4 * (min(dim, L.BLOCK) // 2 + 1) + 4 * (dim // L.BLOCK + 1)
        self.SCR = np.empty((self.workers, (need + 7) // 8 * 8 + 8))
        self.record_x = record in ("all", "final")
        self.record_p = self.record_x and integrator.order == 2
        self.rows_cap = 0
        self.rows = 0
        self._buffers(1)

    def _columns(self, name: str) -> np.ndarray:
        """The State's array ``name`` as a (dim, n) C-contiguous view (Fortran-ordered ensembles)."""
        a = getattr(self.state, name) if name in ("x", "grad") else getattr(self.state.memory, name)
        if a.ndim > 1 and not a.flags.f_contiguous:
            raise ValueError(f"the compiled backend needs {name} in Fortran order (contiguous columns)")
        view = a.reshape(a.shape[-1], 1) if a.ndim == 1 else a.reshape(-1, a.shape[-1], order="F").T
        assert np.shares_memory(view, a) and view.flags.c_contiguous
        return view

    def _scalars(self, value) -> np.ndarray:
        return np.array(np.broadcast_to(np.asarray(value, dtype=np.float64), self.particles).reshape(-1, order="F"),
                        copy=True)

    def _buffers(self, rows: int) -> None:
        if rows <= self.rows_cap:
            return
        n, dim, nt = self.n, self.X.shape[0], self.T.shape[0]
        self.RSTEP = np.empty(rows, dtype=np.int64)
        self.RT = np.empty((rows, nt))
        self.RV, self.RK, self.RD, self.RG = (np.empty((rows, n)) for _ in range(4))
        self.RX = np.empty((rows, n, dim)) if self.record_x else np.empty((0, n, dim))
        self.RP = np.empty((rows, n, dim)) if self.record_p else np.empty((0, n, dim))
        self.rows_cap = rows

    def block_steps(self, k: int, last: int, every: int, per_step: bool) -> int:
        """How many steps the next block may take: one when the caller must see every step, else a
        bounded amount of work, at most ``BLOCK_ROWS`` record rows."""
        if per_step:
            return 1
        steps = min(last - k, max(1, BLOCK_WORK // (self.n * self.X.shape[0])))
        return max(1, steps)

    def advance(self, k: int, steps: int, every: int, next_record: int) -> tuple:
        """Run ``steps`` steps after step ``k`` (fewer if every particle ends or the rows fill up).

        Returns ``(new step, next_record, every particle ended)``; the State is current.
        """
        rows = 0 if next_record < 0 else min(BLOCK_ROWS, (k + steps) // every - k // every)
        self._buffers(max(rows, 1))
        if self.workers > 1:
            numba.set_num_threads(min(self.workers, numba.config.NUMBA_NUM_THREADS))
        before = (self.CONV >= 0) | (self.DIV >= 0)
        kernel = L.run_block_parallel if self.workers > 1 else L.run_block
        taken, self.rows, next_record, n_done = kernel(
            self.method, self.damped, self.kind, self.FP, self.IP, self.M, self.X, self.G, self.P, self.Q, self.R,
            self.S, self.V, self.K,
            self.D, self.GSQ, self.T, self.DT, self.C, self.LO, self.HI, self.gtol2, self.CONV, self.DIV,
            self.SNAPX, self.SNAPV, self.SNAPG, k, steps, every, next_record, self.RSTEP[:max(rows, 0)], self.RT,
            self.RV, self.RK, self.RD, self.RG, self.RX, self.RP, self.SCR)
        k += taken
        self._sync(k, taken, before)
        return k, next_record, n_done == self.n

    def _sync(self, k: int, taken: int, before: np.ndarray) -> None:
        """Copy the block's outcome onto the State and the watch; book the evaluations."""
        s, shape = self.state, self.particles
        s.step = k
        if self.single:
            s.value = np.float64(self.V[0])
            if s.kinetic is not None:
                s.kinetic = float(self.K[0])
            s.dissipated = float(self.D[0])
            s.t = float(self.T[0])
        else:
            s.value = self.V.reshape(shape, order="F").copy()
            if s.kinetic is not None:
                s.kinetic = self.K.reshape(shape, order="F").copy()
            s.dissipated = self.D.reshape(shape, order="F").copy()
            s.t = self.T.reshape(shape, order="F").copy() if self.per_particle_clock else float(self.T[0])
        s._gsq_step = -1  # |∇V|² is recomputed (in the same order) if someone asks
        m = s.memory
        if self.counted:
            m.count = int(self.S[0, 0])
        elif self.fire:
            m.fire_dt[...] = self.DT.reshape(shape, order="F")
            m.fire_a[...] = self.S[0].reshape(shape, order="F")
            m.fire_n[...] = self.S[1].reshape(shape, order="F")
            if taken:
                m.fire_started = np.array(True)
        w = self.watch
        w.converged_step[...] = self.CONV.reshape(w.converged_step.shape, order="F")
        w.diverged_step[...] = self.DIV.reshape(w.diverged_step.shape, order="F")
        if not self.single:
            new = ((self.CONV >= 0) | (self.DIV >= 0)) & ~before
            if new.any():
                flat = np.nonzero(new)[0]
                idx = np.unravel_index(flat, shape, order="F")
                w.snapshots.append((idx, self.SNAPX[:, flat].T.copy(), self.SNAPV[flat].copy(),
                                    self.SNAPG[flat].copy()))
                w.done[idx] = True
                w.n_done += len(flat)
        counts = self.potential.counts
        evaluations = taken * self.n * self.potential.cost
        counts["value"] += evaluations
        counts["gradient"] += evaluations

    def rows_block(self) -> dict:
        """The rows of the last block, shaped as the recorder keeps them."""
        r, shape = self.rows, self.particles
        per = (lambda a: a[:r, 0]) if self.single else (lambda a: _unflatten(a[:r], shape))
        block = {"step": self.RSTEP[:r], "V": per(self.RV), "K": per(self.RK), "D": per(self.RD),
                 "g": per(self.RG),
                 "t": (self.RT[:r, 0] if not self.per_particle_clock else per(self.RT))}
        if self.record_x:
            block["x"] = self.RX[:r, 0] if self.single else _unflatten(self.RX[:r], shape)
            if self.record_p:
                block["p"] = self.RP[:r, 0] if self.single else _unflatten(self.RP[:r], shape)
        return block


def kernel_compiled() -> bool:
    """True when the compiled loop is ready in this process (no compile or cache load to wait for)."""
    return len(L.run_block.signatures) > 0


def kernel_cached() -> bool:
    """True when the compiled loop is on disk (numba's cache index exists), so loading it is quick."""
    try:
        index = L.run_block._cache._cache_file._index_path  # numba's own cache layout
    except AttributeError:  # numba's internals moved: assume a compile
        return False
    return os.path.exists(index)
