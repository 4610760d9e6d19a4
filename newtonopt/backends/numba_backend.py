"""The compiled backend's Python side: what it supports, and a run's blocks of compiled steps.

:func:`encode_potential` turns a library potential (or a formula) into its parameter tuple (a named
tuple class per potential, :mod:`newtonopt.backends.numba_loops`); :func:`encode_method` reads a
method's per-step coefficients off the State its own ``_configure`` filled (so no coefficient is
derived twice) into its rule tuple. The pair of tuple classes picks the compiled kernel: numba
compiles :func:`newtonopt.backends.numba_loops.run_block` once per pair and caches it on disk per
pair (:func:`kernel_compiled`, :func:`kernel_cached`). :class:`CompiledRun` holds a run's arrays in
the compiled loop's layout and runs blocks of steps, between which ``simulate`` does its bookkeeping
(record rows to the recorder, stopping events to the watch, the callback, Ctrl-C).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import formula as _formula
from ..core import elementary as _elementary
from ..core.reductions import BLOCK
from ..integrators import (
    FIRE,
    Adagrad,
    Adam,
    ForwardEuler,
    GradientDescent,
    HamiltonianDescent,
    HeavyBall,
    Langevin,
    Nesterov,
    NesterovConvex,
    OverdampedLangevin,
    RelativisticGD,
    RMSprop,
    VelocityVerlet,
)
from ..integrators import hamiltonian_descent as _hd
from ..potential import ExpressionPotential
from ..potentials import Beale, DoubleWell, Himmelblau, LennardJones, MullerBrown, Quadratic, Rastrigin, Rosenbrock
from ..potentials.chemistry import _MB_A, _MB_X, _MB_Y, _MB_a, _MB_b, _MB_c
from . import numba_loops as L

if L.BLOCK != BLOCK:  # the compiled fold keeps its own copy of the block size
    raise ImportError(f"numba_loops.BLOCK = {L.BLOCK} but newtonopt.core.reductions.BLOCK = {BLOCK}")
# ... and of elementary's exp and ln constants, and of Hamiltonian descent's kinetic energies
if (L._LN2_HI, L._LN2_LO, L._SQRT_HALF, list(L._ATANH), list(L._EXP), L._INV_LN2) != (
        _elementary._LN2_HI, _elementary._LN2_LO, _elementary._SQRT_HALF, _elementary._ATANH, _elementary._EXP,
        _elementary._INV_LN2):
    raise ImportError("numba_loops' copy of newtonopt.core.elementary's constants is out of date")
if _hd.KINETIC != ("quadratic", "relativistic", "power"):
    raise ImportError(f"numba_loops knows the kinetic energies quadratic, relativistic, power, not {_hd.KINETIC}")

#: Library potentials the compiled evaluator knows (exact classes: a subclass may change the formula).
POTENTIALS = (Quadratic, Rosenbrock, Himmelblau, Beale, MullerBrown, LennardJones, DoubleWell, Rastrigin,
              ExpressionPotential)
#: Methods with a compiled rule: the named tuple class of each one's coefficients.
METHODS = {GradientDescent: L.GradientDescentRule, HeavyBall: L.HeavyBallRule, Nesterov: L.NesterovRule,
           VelocityVerlet: L.VelocityVerletRule, ForwardEuler: L.ForwardEulerRule, Adam: L.AdamRule,
           RMSprop: L.RMSpropRule, Adagrad: L.AdagradRule, FIRE: L.FIRERule, NesterovConvex: L.NesterovConvexRule,
           RelativisticGD: L.RelativisticRule, HamiltonianDescent: L.HamiltonianDescentRule,
           Langevin: L.LangevinRule, OverdampedLangevin: L.OverdampedLangevinRule}
#: Methods left to numpy, and why (none: every method of the package has a compiled rule).
NOT_COMPILED: dict = {}
#: Per-coordinate memory arrays of each method (by rule class), as the compiled loop's P, Q, R.
MEMORY = {L.HeavyBallRule: ("velocity",), L.NesterovRule: ("velocity",), L.VelocityVerletRule: ("p",),
          L.ForwardEulerRule: ("p",), L.AdamRule: ("m", "v", "vmax"),
          L.RMSpropRule: ("buffer", "square_avg", "grad_avg"), L.AdagradRule: ("sum",), L.FIRERule: ("v",),
          L.NesterovConvexRule: ("p",), L.RelativisticRule: ("p",), L.HamiltonianDescentRule: ("p",),
          L.LangevinRule: ("p", "xi"), L.OverdampedLangevinRule: ("grad_old", "xi", "dx")}
#: Entries of MEMORY that are the compiled loop's own buffers, not the memory's.
BUFFERS = ("dx",)
#: Methods whose noise is drawn by step number: the compiled loop's S[0] counts the steps.
STEPPED = (L.LangevinRule, L.OverdampedLangevinRule)
#: Methods whose memory counts steps (one count for the run), as the compiled loop's S[0]: the entry's name.
COUNTS = {L.AdamRule: "count", L.AdagradRule: "count", L.NesterovConvexRule: "k"}
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


def potential_class(potential):
    """The named tuple class that carries ``potential``'s parameters to the compiled loop, or None."""
    cls = type(potential)
    if cls is Quadratic:
        return L.QuadraticDiag if potential.diagonal else L.QuadraticDense
    return _POTENTIAL_CLASSES.get(cls)


def encode_potential(potential, single: bool):
    """``(parameters, scratch length)``: the potential's parameter tuple for the compiled evaluator and the
    scratch it needs, or None if it has none."""
    cls = type(potential)
    dim = potential.dim
    if cls is Quadratic:
        b = np.zeros(dim) if potential.b is None else np.ascontiguousarray(potential.b, dtype=np.float64)
        has_b = potential.b is not None
        if potential.diagonal:
            A = np.ascontiguousarray(potential.A, dtype=np.float64)
            return L.QuadraticDiag(float(potential.c), has_b, b, A), dim
        A = np.ascontiguousarray(potential.A, dtype=np.float64)
        return L.QuadraticDense(float(potential.c), has_b, b, A), dim
    if cls is Rosenbrock:
        return L.RosenbrockParams(float(potential.a), float(potential.b)), dim
    if cls is Himmelblau:
        return L.HimmelblauParams(dim), dim
    if cls is Beale:
        return L.BealeParams(dim), dim
    if cls is MullerBrown:
        fp = np.array([v for term in zip(_MB_A, _MB_a, _MB_b, _MB_c, _MB_X, _MB_Y) for v in term], dtype=np.float64)
        return L.MullerBrownParams(fp), dim
    if cls is LennardJones:
        n, i, j = potential.n_atoms, potential._i, potential._j
        pair = np.zeros((n, n), dtype=np.int64)
        pair[i, j] = pair[j, i] = np.arange(len(i))
        ip = np.concatenate([[n, len(i)], i, j, pair.ravel()]).astype(np.int64)
        return L.LennardJonesPairs(ip), 4 * len(i) + n
    if cls is DoubleWell:
        return L.DoubleWellParams(float(potential.barrier), float(potential.tilt), float(potential.stiffness)), dim
    if cls is Rastrigin:
        return L.RastriginParams(float(potential.A)), dim
    if cls is ExpressionPotential:
        fp, ip, n_code = _formula_tape(potential, single)
        return L.Formula(fp, ip), max(n_code, dim)
    return None


_POTENTIAL_CLASSES = {Rosenbrock: L.RosenbrockParams, Himmelblau: L.HimmelblauParams, Beale: L.BealeParams,
                      MullerBrown: L.MullerBrownParams, LennardJones: L.LennardJonesPairs,
                      DoubleWell: L.DoubleWellParams, Rastrigin: L.RastriginParams, ExpressionPotential: L.Formula}


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
    """The method's rule tuple: its coefficients per particle, from the coefficients the method derived (so
    none is derived twice), with the products its rule forms written as it writes them."""
    rule = METHODS[type(integrator)]
    c = state.coefficients

    def per(value):
        return _per_particle(value, particles)

    damped = bool(getattr(c, "damped", False))
    if rule is L.GradientDescentRule:
        return rule(per(c.lr))
    if rule in (L.HeavyBallRule, L.NesterovRule):
        return rule(per(c.lr), per(c.momentum), per(1.0 - c.momentum * c.momentum), per(0.5 * c.lr),
                    per(-np.asarray(c.dt)))
    if rule is L.VelocityVerletRule:
        return rule(per(c.damping), per(1.0 - c.damping * c.damping), per(c.damping * c.damping), per(c.half_dt),
                    per(c.dt_over_m), per(c.half_inv_m), damped)
    if rule is L.ForwardEulerRule:
        return rule(per(c.dt), per(c.dt_over_m), per(c.keep), per(c.friction_loss), per(c.half_inv_m), damped)
    if rule is L.AdamRule:  # 1 − β as the rule writes it, (1.0 - c.beta1)
        return rule(per(c.lr), per(c.beta1), per(c.beta2), per(1.0 - np.asarray(c.beta1)),
                    per(1.0 - np.asarray(c.beta2)), per(c.eps), per(c.weight_decay), bool(c.decays),
                    bool(integrator.amsgrad))
    if rule is L.RMSpropRule:
        return rule(per(c.lr), per(c.alpha), per(c.one_minus_alpha), per(c.eps), per(c.momentum),
                    per(c.weight_decay), bool(c.decays), bool(integrator.centered), bool(state.memory.buffer.size > 0))
    if rule is L.AdagradRule:
        return rule(per(c.lr), per(c.lr_decay), per(c.eps), per(c.weight_decay), bool(c.decays))
    if rule is L.NesterovConvexRule:
        return rule(per(c.lr), per(c.dt))
    if rule is L.RelativisticRule:
        return rule(per(c.damping), per(c.half_dt), per(c.dt_c), per(c.c), per(c.mc), per(c.m2c2), bool(c.damped))
    if rule is L.LangevinRule:
        return rule(per(c.half_dt), per(c.half_dt_over_m), per(c.damping), per(c.sigma), per(c.half_inv_m),
                    _keys(state, particles))
    if rule is L.OverdampedLangevinRule:
        return rule(per(c.lr), per(c.noise_scale), _keys(state, particles))
    if rule is L.HamiltonianDescentRule:
        return rule(per(c.dt), per(c.damping), _hd.KINETIC.index(c.kinetic), float(c.power))
    # FIRE
    return rule(per(c.maxstep), per(c.dtmax), per(float(c.Nmin)), per(c.finc), per(c.fdec), per(c.astart), per(c.fa))


def _keys(state, particles: tuple) -> np.ndarray:
    """Each particle's noise stream key (uint64), flat in the compiled loop's particle order."""
    keys = np.asarray(state.memory.noise.keys, dtype=np.uint64)
    return np.array(np.broadcast_to(keys, particles).reshape(-1, order="F"), dtype=np.uint64, copy=True)


def _per_particle(value, particles: tuple) -> np.ndarray:
    """A coefficient (scalar, per-particle, or per-particle with a trailing axis) as a flat float64 array."""
    if not particles and isinstance(value, float):  # one particle's float coefficient: the common case, quickly
        return np.array([value])
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
        self.pot, scratch = encode_potential(potential, self.single)
        self.rule = encode_method(integrator, state, self.particles)
        self.method = type(self.rule)
        if one_pass(self.pot, self.rule, self.n, dim):
            self.pot = L.QuadraticDiagOnePass(*self.pot)
        self.X = self._columns("x")
        self.G = self._columns("grad")
        memory = MEMORY.get(self.method, ())
        self.P, self.Q, self.R = (_EMPTY_M if j >= len(memory) else np.zeros((dim, self.n)) if memory[j] in BUFFERS
                                  else self._columns(memory[j]) if getattr(state.memory, memory[j]).size
                                  else _EMPTY_M for j in range(3))
        self.fire = self.method is L.FIRERule
        self.counted = COUNTS.get(self.method)
        m = state.memory
        if self.counted:
            self.S = np.full((1, self.n), float(getattr(m, self.counted)))
        elif self.method in STEPPED:
            self.S = np.full((1, self.n), float(state.step))
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
        self.bounds = [(w * self.n // self.workers, (w + 1) * self.n // self.workers) for w in range(self.workers)]
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
        if self.single:
            return np.array([float(value)])
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

    @property
    def writes_in_place(self) -> bool:
        """True when the kernel's record rows can be the recorder's own rows (one particle, or particles
        along one axis: the loop's particle order is the record's); else they are copied over after
        each block (:meth:`rows_block`)."""
        return len(self.particles) <= 1

    def _rows_into(self, out: dict) -> int:
        """Make the recorder's free rows ``out`` (:meth:`Recorder.free_rows`) the kernel's row arrays, as
        views in the kernel's layout (the same compiled signature); returns how many rows they hold."""
        cap, n, dim = out["step"].shape[0], self.n, self.X.shape[0]

        def rows(a, shape):
            return np.reshape(a, shape, copy=False)  # a view, or an error: never a silent copy

        self.RSTEP = out["step"]
        self.RT = rows(out["t"], (cap, self.T.shape[0]))
        self.RV, self.RK, self.RD, self.RG = (rows(out[name], (cap, n)) for name in ("V", "K", "D", "g"))
        self.RX = rows(out["x"], (cap, n, dim)) if self.record_x else np.empty((0, n, dim))
        self.RP = rows(out["p"], (cap, n, dim)) if self.record_p else np.empty((0, n, dim))
        self.rows_cap = 0  # the next block without ``out`` makes buffers of its own again
        return cap

    def advance(self, k: int, steps: int, every: int, next_record: int, out: dict | None = None) -> tuple:
        """Run ``steps`` steps after step ``k`` (fewer if every particle ends or the rows fill up).

        ``out``: the recorder's free rows, written in place (when :attr:`writes_in_place`); else the
        rows go to buffers of this run's, read with :meth:`rows_block`. Returns ``(new step,
        next_record, every particle ended)``; the State is current.
        """
        rows = 0 if next_record < 0 else (k + steps) // every - k // every
        if out is not None and rows > 0:
            rows = min(rows, self._rows_into(out))
        else:
            rows = min(rows, BLOCK_ROWS)
            self._buffers(max(rows, 1))
        before = (self.CONV >= 0) | (self.DIV >= 0)
        if self.workers > 1:
            taken, self.rows, next_record, n_done = self._advance_chunks(k, steps, every, next_record, rows)
        else:
            taken, self.rows, next_record, n_done = L.run_block(
                self.rule, self.pot, self.X, self.G, self.P, self.Q, self.R, self.S, self.V, self.K,
                self.D, self.GSQ, self.T, self.DT, self.LO, self.HI, self.gtol2, self.CONV, self.DIV,
                self.SNAPX, self.SNAPV, self.SNAPG, k, steps, every, next_record, self.RSTEP[:max(rows, 0)], self.RT,
                self.RV, self.RK, self.RD, self.RG, self.RX, self.RP, 0, 0, self.SCR, self.n)
        k += taken
        self._sync(k, taken, before)
        return k, next_record, n_done == self.n

    def _advance_chunks(self, k: int, steps: int, every: int, next_record: int, rows: int) -> tuple:
        """:meth:`advance`'s block with the particles split into ``workers`` chunks, one per thread.

        Each chunk runs the one-thread kernel on C-contiguous copies of its columns (so the same compiled
        signature serves, and no second kernel is compiled for threads) and writes its own record rows;
        particles share no arithmetic, so any split gives the same bits. A chunk whose particles all end
        early is carried on to the block's end (its particles keep being stepped, as in one thread, where
        the block ends only when every particle has). Copies cost O(n·dim) a block, against a block's
        ~2²⁴ coordinate-steps of work; threads meet once a block, not once a step.
        """
        chunks = [_Chunk(self, w, lo, hi, rows) for w, (lo, hi) in enumerate(self.bounds)]
        results = list(_pool(len(chunks)).map(lambda chunk: chunk.run(k, steps, every, next_record), chunks))
        taken = max(r[0] for r in results)
        for chunk, (took, _, _, _) in zip(chunks, results):
            if took < taken:  # every particle of this chunk ended before the others': keep pace
                chunk.carry_on(k + took, taken - took)
        if len({chunk.rows for chunk in chunks}) != 1:  # rows are a function of the steps alone
            raise RuntimeError("the chunks of a compiled block recorded different numbers of rows")
        for chunk in chunks:
            chunk.write_back()
        return taken, chunks[0].rows, chunks[0].next_record, sum(chunk.n_done for chunk in chunks)

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
            setattr(m, self.counted, int(self.S[0, 0]))
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


def one_pass(pot, rule, n: int, dim: int) -> bool:
    """True when the run takes the one-pass route of a diagonal quadratic (its own kernel)."""
    return (isinstance(pot, L.QuadraticDiag) and n == 1 and dim >= L.ONE_PASS_MIN_DIM
            and type(rule) in L.ONE_PASS_RULES)


def _kernel(workers: int):
    return L.run_block  # several workers run it on chunks of particles: the same kernel


_POOLS: dict = {}


def _pool(workers: int) -> ThreadPoolExecutor:
    """A thread pool per number of workers, kept for the process (the kernel releases the GIL)."""
    pool = _POOLS.get(workers)
    if pool is None:
        pool = _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="newtonopt-chunk")
    return pool


def _columns_of(a: np.ndarray, lo: int, hi: int, n: int) -> np.ndarray:
    """Particles lo..hi−1 of a per-particle array: a view of a 1-D one, a C-contiguous copy of the columns
    of a (rows, n) one; an array without a particle axis (an unused slot, a shared clock) as it is."""
    if a.ndim == 1:
        return a[lo:hi] if a.shape[0] == n else a
    return np.ascontiguousarray(a[:, lo:hi]) if a.ndim == 2 and a.shape[1] == n else a


class _Chunk:
    """Particles lo..hi−1 of a :class:`CompiledRun`, in arrays of their own, for one thread's kernel calls."""

    def __init__(self, run: CompiledRun, w: int, lo: int, hi: int, rows: int):
        n, m = run.n, hi - lo
        self.owner, self.lo, self.hi, self.m = run, lo, hi, m

        def cut(a):
            return _columns_of(a, lo, hi, n)

        rule = type(run.rule)(*(v[lo:hi] if isinstance(v, np.ndarray) and v.ndim == 1 and v.shape[0] == n else v
                                for v in run.rule))
        # A shared clock: each chunk advances a copy of its own (all equal at the end; the first one is kept).
        self.T = cut(run.T) if run.per_particle_clock else run.T.copy()
        # The record rows: each chunk writes its own columns (from lo) of the run's rows (the recorder's
        # own, when they are written in place); the step numbers and a shared clock, the first chunk only.
        first = w == 0
        self.RSTEP = run.RSTEP[:max(rows, 0)] if first else np.empty(max(rows, 0), dtype=np.int64)
        self.RT = run.RT if first or run.per_particle_clock else np.empty((max(rows, 1), 1))
        self.t0 = lo if run.per_particle_clock else 0
        self.arrays = [cut(a) for a in (run.X, run.G, run.P, run.Q, run.R, run.S, run.SNAPX)]
        X, G, P, Q, R, S, SNAPX = self.arrays
        self.head = (rule, run.pot, X, G, P, Q, R, S, cut(run.V), cut(run.K), cut(run.D), cut(run.GSQ), self.T,
                     cut(run.DT), cut(run.LO), cut(run.HI), run.gtol2, cut(run.CONV), cut(run.DIV), SNAPX,
                     cut(run.SNAPV), cut(run.SNAPG))
        self.scr = run.SCR[w:w + 1]
        self.rows, self.next_record, self.n_done, self.every = 0, -1, 0, 1

    def _call(self, k: int, steps: int, next_record: int, n_stop: int) -> tuple:
        r, run = self.rows, self.owner
        return L.run_block(*self.head, k, steps, self.every, next_record, self.RSTEP[r:], self.RT[r:], run.RV[r:],
                           run.RK[r:], run.RD[r:], run.RG[r:], run.RX[r:], run.RP[r:], self.lo, self.t0, self.scr,
                           n_stop)

    def run(self, k: int, steps: int, every: int, next_record: int) -> tuple:
        self.every = every
        result = self._call(k, steps, next_record, self.m)
        self.rows, self.next_record, self.n_done = result[1], result[2], result[3]
        return result

    def carry_on(self, k: int, steps: int) -> None:
        """``steps`` more steps after step ``k`` with no early end (every particle here has ended)."""
        took, rows, self.next_record, self.n_done = self._call(k, steps, self.next_record, self.m + 1)
        if took != steps:
            raise RuntimeError(f"a chunk carried on for {took} steps, not {steps}")
        self.rows += rows

    def write_back(self) -> None:
        """The chunk's columns and a shared clock into the run's arrays (its record rows are there already)."""
        run, lo, hi = self.owner, self.lo, self.hi
        for mine, theirs in zip(self.arrays, (run.X, run.G, run.P, run.Q, run.R, run.S, run.SNAPX)):
            if theirs.ndim == 2 and theirs.shape[1] == run.n:
                theirs[:, lo:hi] = mine
        if not run.per_particle_clock and lo == 0:
            run.T[:] = self.T


def _pair(integrator, potential) -> tuple:
    """The (rule class, parameter class) of a run: which compiled kernel it needs."""
    rule, pot = METHODS.get(type(integrator)), potential_class(potential)
    if pot is L.QuadraticDiag and rule in L.ONE_PASS_RULES and potential.dim >= L.ONE_PASS_MIN_DIM:
        pot = L.QuadraticDiagOnePass  # (for one particle; an ensemble's is the general kernel)
    return rule, pot


def _matches(signature, pair: tuple) -> bool:
    return tuple(getattr(t, "instance_class", None) for t in signature[:2]) == pair


def kernel_compiled(integrator, potential, workers: int = 1) -> bool:
    """True when the kernel of this (method, potential) pair is ready in this process (no compile or cache
    load to wait for)."""
    pair = _pair(integrator, potential)
    return any(_matches(sig, pair) for sig in _kernel(workers).signatures)


def kernel_cached(integrator, potential, workers: int = 1) -> bool:
    """True when the kernel of this (method, potential) pair is on disk (in numba's cache index, for this
    version of the source), so loading it is quick."""
    pair = _pair(integrator, potential)
    try:
        index = _kernel(workers)._cache._cache_file._load_index()  # numba's own cache layout: {(sig, …): file}
    except (AttributeError, OSError, EOFError, ValueError):  # numba's internals moved or a torn file: assume a compile
        return False
    return any(_matches(key[0], pair) for key in index)
