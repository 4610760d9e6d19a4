"""Fair tuning: the budget of hyperparameter trials is part of the method.

A method compared with hand-picked hyperparameters is compared with the person who picked them.
:func:`tune` gives every method the same protocol instead: a declared search space, a number of
trials counted exactly, the same starts and the same stopping rule. Trials are the points of a
scrambled Sobol sequence (a low-discrepancy design, Sobol' 1967; Owen 1998) mapped into the space,
so a budget of 16 covers a 2-D space far more evenly than 16 random draws, and a fixed ``seed`` makes
the whole tuning reproducible bit for bit.

All trials × all starts run as one vectorized ensemble with per-particle hyperparameters, so a
trial's runs are bitwise the runs a user would make by hand with its parameters.

References
----------
Sobol', I. M. (1967). On the distribution of points in a cube and the approximate evaluation of
integrals. USSR Comput. Math. Math. Phys. 7(4), 86-112. Owen, A. B. (1998). Scrambling Sobol' and
Niederreiter–Xing points. J. Complexity 14(4), 466-489. Bergstra, J. & Bengio, Y. (2012). Random
search for hyper-parameter optimization. JMLR 13, 281-305.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import qmc

from ._validation import _describe, as_int, positive
from .core.space import LogUniform, Uniform
from .potential import Potential
from .potentials import Quadratic
from .simulate import prepare_start, simulate

OBJECTIVES = ("steps_to_gtol", "final_value")


@dataclass
class TuneResult:
    """Every trial of :func:`tune` and the best.

    Attributes
    ----------
    method : str
        The method's class name.
    params : list of dict
        Each trial's hyperparameters, in trial order.
    objective : ndarray, shape (budget,)
        Each trial's objective (lower is better): the mean over starts of the steps to ``gtol``
        (a start that did not converge counts ``2·n_steps``) or of the final V (a diverged start
        counts +inf).
    steps : ndarray of int, shape (budget, n_starts)
        Steps to gtol per trial and start (−1: did not converge).
    final_value : ndarray, shape (budget, n_starts)
    status : ndarray of str, shape (budget, n_starts)
    best : int
        Index of the best trial (the first of equals).
    counts : dict
        Evaluations spent on the whole tuning.
    """

    method: str
    params: list
    objective: np.ndarray
    steps: np.ndarray
    final_value: np.ndarray
    status: np.ndarray
    best: int
    counts: dict = field(default_factory=dict)

    @property
    def budget(self) -> int:
        """The number of trials run."""
        return len(self.params)

    @property
    def best_params(self) -> dict:
        return dict(self.params[self.best])

    @property
    def best_objective(self) -> float:
        return float(self.objective[self.best])

    def __repr__(self) -> str:
        return (f"<TuneResult {self.method}: {self.budget} trials, best {self.best_params} "
                f"(objective {self.best_objective:.6g})>")


def sobol_points(space: dict, budget: int, seed: int = 0) -> list[dict]:
    """``budget`` points of a scrambled Sobol sequence mapped into ``space`` (name → LogUniform/Uniform)."""
    budget = as_int("budget", budget, low=1)
    if not space:
        return [{} for _ in range(budget)]
    sampler = qmc.Sobol(d=len(space), scramble=True, seed=seed)
    with warnings.catch_warnings():  # a budget that is not a power of 2 loses some balance; it is still a design
        warnings.simplefilter("ignore", UserWarning)
        u = sampler.random(budget)
    columns = {name: dist.map(u[:, j]) for j, (name, dist) in enumerate(space.items())}
    return [{name: float(columns[name][i]) for name in space} for i in range(budget)]


def tune(method: Callable, potential: Potential, x0, space: dict, *, budget: int, seed: int = 0,
         objective: str = "steps_to_gtol", n_steps: int = 1000, gtol: float = 1e-6, fixed: dict | None = None,
         executor=None) -> TuneResult:
    """Tune ``method`` on ``potential`` within a budget of trials, from the starts ``x0``.

    Parameters
    ----------
    method : Integrator class
        Called as ``method(**fixed, **trial)`` with per-particle arrays.
    potential : Potential
    x0 : array_like, shape (dim,) or (n_starts, dim)
        The starts every trial runs from.
    space : dict
        Name → :class:`LogUniform` or :class:`Uniform`, e.g. ``{'lr': LogUniform(1e-4, 1),
        'momentum': Uniform(0, 0.99)}``.
    budget : int
        The number of trials, counted exactly.
    seed : int
        Scrambles the Sobol points (and seeds stochastic methods through ``fixed``, if given there).
    objective : {'steps_to_gtol', 'final_value'}
        What a trial is judged by (lower is better); see :class:`TuneResult`.
    n_steps, gtol
        The stopping rule of every run.
    fixed : dict, optional
        Hyperparameters held fixed.
    executor : concurrent.futures.Executor, optional
        Runs each trial's ensemble there (None: in this process); the result does not depend on it.

    Returns
    -------
    TuneResult
    """
    if not isinstance(potential, Potential):
        raise TypeError(f"potential must be a newtonopt Potential, got {_describe(potential)}")
    if not callable(method):
        raise TypeError(f"method must be an integrator class, got {_describe(method)}")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if not isinstance(space, dict) or not all(isinstance(d, (LogUniform, Uniform)) for d in space.values()):
        raise TypeError(f"space must map names to LogUniform or Uniform, got {_describe(space)}")
    n_steps = as_int("n_steps", n_steps, low=1)
    gtol = positive("gtol", gtol)
    fixed = dict(fixed or {})
    starts = prepare_start(potential, x0)
    starts = starts.reshape(-1, potential.dim)
    trials = sobol_points(space, budget, seed)
    jobs = [(method, potential, fixed, trial, starts, n_steps, gtol) for trial in trials]
    outcomes = list(map(_run_trial, *zip(*jobs))) if executor is None else list(executor.map(_run_trial, *zip(*jobs)))
    steps = np.array([o["steps"] for o in outcomes])
    final = np.array([o["final_value"] for o in outcomes])
    status = np.array([o["status"] for o in outcomes])
    diverged = status == "diverged"
    if objective == "steps_to_gtol":
        score = np.where(steps >= 0, steps, 2 * n_steps).mean(axis=1).astype(np.float64)
    else:
        score = np.where(diverged, np.inf, final).mean(axis=1)
    counts: dict = {}
    for o in outcomes:
        for k, v in o["counts"].items():
            counts[k] = counts.get(k, 0) + v
    best = int(np.argmin(np.where(np.isnan(score), np.inf, score)))
    return TuneResult(getattr(method, "__name__", str(method)), trials, score, steps, final, status, best, counts)


def _run_trial(method, potential, fixed, trial, starts, n_steps, gtol) -> dict:
    """One trial from every start, as one ensemble (picklable, for any executor).

    Each trial runs on its own copy of the potential: its evaluation counts are its own even when
    trials share a process, and a minibatch loss starts every trial from the same random state, so
    every trial sees the same batches whatever ran before it.
    """
    potential = copy.deepcopy(potential)
    potential.counts = {key: 0 for key in potential.counts}
    traj = simulate(potential, method(**fixed, **trial), starts, n_steps, gtol=gtol, record="final", progress=False)
    return {"steps": traj.converged_step.astype(np.int64), "final_value": traj.value_final,
            "status": traj.particle_status.astype(str), "counts": traj.counts}


def performance_profile(times: np.ndarray, taus=None) -> tuple[np.ndarray, np.ndarray]:
    """Dolan & Moré's performance profiles: for each solver, the fraction of problems it solves within
    a factor τ of the best solver on that problem.

    Parameters
    ----------
    times : array_like, shape (n_problems, n_solvers)
        The cost of each solver on each problem (steps, evaluations, seconds); ``inf`` or ``nan`` for a
        failure.
    taus : array_like, optional
        The factors τ ≥ 1 (default: every ratio that occurs, plus 1).

    Returns
    -------
    taus : ndarray, shape (m,)
    rho : ndarray, shape (m, n_solvers)
        ρ_s(τ) = |{p : r_{p,s} ≤ τ}| / n_problems with r_{p,s} = t_{p,s} / min_s t_{p,s}. ρ_s(1) is the
        fraction of problems on which s is (one of) the best; ρ_s(∞) the fraction it solves at all.

    References
    ----------
    Dolan, E. D. & Moré, J. J. (2002). Benchmarking optimization software with performance profiles.
    Math. Program. 91, 201-213.
    """
    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 2 or t.size == 0:
        raise ValueError(f"times must be a 2-D array (problems × solvers), got shape {t.shape}")
    t = np.where(np.isnan(t), np.inf, t)
    if np.any(t <= 0):
        raise ValueError("times must be positive (a cost), with inf or nan for failures")
    best = np.min(t, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where(np.isfinite(best), t / best, np.inf)
    if taus is None:
        finite = ratios[np.isfinite(ratios)]
        taus = np.unique(np.concatenate([[1.0], finite]))
    taus = np.asarray(taus, dtype=np.float64)
    if taus.ndim != 1 or taus.size == 0 or np.any(np.isnan(taus)) or np.any(taus < 1):
        raise ValueError(f"taus must be factors τ ≥ 1 (a 1-D array), got {_describe(taus)}")
    # A failure is never within any factor, not even τ = inf: ρ_s(inf) is the fraction s solves.
    within = (ratios[None, :, :] <= taus[:, None, None]) & np.isfinite(ratios)[None, :, :]
    rho = within.mean(axis=1)
    return taus, rho


def rotated_quadratic(eigenvalues, seed: int = 0):
    """V(x) = ½·xᵀ(QΛQᵀ)x with Q a random rotation (Haar, from ``seed``): the spectrum ``eigenvalues`` off
    the coordinate axes. A diagonal quadratic flatters per-coordinate methods (Adagrad, RMSprop, Adam),
    whose preconditioner then equals the Hessian's diagonal; rotated, it does not."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size < 1 or not np.all(np.isfinite(lam)):
        raise ValueError(f"eigenvalues must be a finite 1-D array, got {_describe(eigenvalues)}")
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((lam.size, lam.size)))
    q = q * np.sign(np.diag(r))  # Haar measure (Mezzadri 2007)
    A = (q * lam) @ q.T
    kappa = lam.max() / lam.min() if lam.min() > 0 else math.inf
    shown = f"{kappa:,.0f}" if 10 <= kappa < math.inf else f"{kappa:.3g}"
    return Quadratic(0.5 * (A + A.T), name=f"rotated quadratic (κ = {shown})")
