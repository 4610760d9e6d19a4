"""A standard suite of test problems and a fair run of several methods over it, for performance profiles.

:func:`standard_suite` lists problems with their starts, all from fixed seeds: rotated (non
axis-aligned) ill-conditioned quadratics at several condition numbers, Rosenbrock's valley, Beale's
function and a logistic regression on a small synthetic data set. :func:`run_suite` runs a set of
methods over it with :func:`newtonopt.compare`'s protocol (the same budget of tuning trials for every
method, the same starts, the same stopping rule) and returns a :class:`SuiteResult` holding, per
(problem, start, method), the steps and the gradient evaluations to ``gtol`` (``inf`` for a failure):
what :func:`newtonopt.tuning.performance_profile` and :func:`newtonopt.plot.performance_profile` read.

Why the quadratics are rotated: on a diagonal quadratic the per-coordinate methods (Adagrad, RMSprop,
Adam) divide each coordinate by its own curvature scale, so they are handed the Hessian's eigenbasis
for free. The same spectrum rotated off the axes takes that away; methods that only use ∇V (gradient
descent, heavy ball, CG) do not notice the rotation. See ``docs/fair.md`` for the measured difference.

References
----------
Dolan, E. D. & Moré, J. J. (2002). Benchmarking optimization software with performance profiles.
Math. Program. 91, 201-213. Moré, J. J., Garbow, B. S. & Hillstrom, K. E. (1981). Testing
unconstrained optimization software. ACM Trans. Math. Softw. 7(1), 17-41 (Rosenbrock's start
(−1.2, 1) and Beale's function are problems 1 and 5 of their collection).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import _describe, as_int, positive
from .compare import _normalise, _run, _tuning_columns
from .datasets import add_intercept, make_blobs
from .integrators.base import Integrator
from .integrators.registry import find_method
from .potential import Potential
from .potentials import Beale, LogisticRegression, Rosenbrock
from .simulate import prepare_start
from .tuning import performance_profile, rotated_quadratic, tune

MEASURES = ("evaluations", "steps")

#: The scales of the logistic regression's four features (the suite does not standardize them, as data often is not).
FEATURE_SCALES = np.array([0.3, 1.0, 3.0, 10.0])


@dataclass(eq=False)
class Problem:
    """One problem of a suite: a potential and the starts every method runs from.

    Attributes
    ----------
    name : str
    potential : Potential
    starts : ndarray, shape (n_starts, dim)
    """

    name: str
    potential: Potential
    starts: np.ndarray

    def __post_init__(self):
        if not isinstance(self.potential, Potential):
            raise TypeError(f"potential must be a newtonopt Potential, got {_describe(self.potential)}")
        starts = np.array(prepare_start(self.potential, self.starts), dtype=np.float64)
        self.starts = starts.reshape(-1, self.potential.dim)

    @property
    def n_starts(self) -> int:
        return len(self.starts)


def _rng(seed: int, index: int) -> np.random.Generator:
    # One stream per problem: adding a problem to the suite leaves the others' starts unchanged.
    return np.random.default_rng([as_int("seed", seed, low=0), index])


def standard_suite(*, n_starts: int = 4, dim: int = 10, kappas=(10.0, 100.0, 1000.0), seed: int = 0) -> list[Problem]:
    """The standard suite: rotated quadratics at several κ, Rosenbrock, Beale and a logistic regression.

    Every matrix, data set and start comes from ``seed``, so two calls give the same suite bit for bit.

    Parameters
    ----------
    n_starts : int
        Starts per problem.
    dim : int
        Dimension of the quadratics (at least 2).
    kappas : sequence of float
        Condition numbers of the quadratics (each ≥ 1): eigenvalues log-spaced in [1, κ], rotated off the
        axes by a Haar-random rotation (:func:`newtonopt.tuning.rotated_quadratic`).
    seed : int
        The seed of every random choice.

    Returns
    -------
    list of Problem
        In order: the quadratics (starts standard normal), Rosenbrock (2-D; starts at Moré, Garbow &
        Hillstrom's (−1.2, 1) plus N(0, 0.2²) per coordinate), Beale (starts at (1, 1) plus N(0, 0.2²),
        inside the basin of its minimum at (3, 0.5)) and an l2-regularized logistic regression on two
        Gaussian blobs in 4-D whose features are scaled by :data:`FEATURE_SCALES`, with an intercept
        (200 samples, l2 = 10⁻², starts N(0, 1)).
    """
    n_starts = as_int("n_starts", n_starts, low=1)
    dim = as_int("dim", dim, low=2)
    kappas = np.asarray(kappas, dtype=np.float64).ravel()
    if kappas.size == 0 or not np.all(np.isfinite(kappas)) or np.any(kappas < 1):
        raise ValueError(f"kappas must be condition numbers ≥ 1, got {_describe(kappas)}")
    problems = []
    for i, kappa in enumerate(kappas):
        rng = _rng(seed, 10 + i)  # 10 + i: the quadratics' streams stay apart from the other problems'
        V = rotated_quadratic(np.logspace(0.0, np.log10(kappa), dim), seed=int(rng.integers(2**63)))
        problems.append(Problem(V.name, V, rng.standard_normal((n_starts, dim))))
    problems.append(Problem("Rosenbrock", Rosenbrock(),
                            np.array([-1.2, 1.0]) + 0.2 * _rng(seed, 0).standard_normal((n_starts, 2))))
    problems.append(Problem("Beale", Beale(),
                            np.array([1.0, 1.0]) + 0.2 * _rng(seed, 1).standard_normal((n_starts, 2))))
    rng = _rng(seed, 2)
    X, y = make_blobs(200, dim=4, separation=2.0, seed=rng)
    X = X * FEATURE_SCALES  # features in their own units, not standardized: κ ≈ 550 at the minimum (seed 0)
    data = LogisticRegression(add_intercept(X), y, l2=1e-2, name="logistic regression (l2 = 0.01)")
    problems.append(Problem(data.name, data, rng.standard_normal((n_starts, data.dim))))
    return problems


@dataclass
class SuiteResult:
    """What :func:`run_suite` measured: the cost of every method on every (problem, start).

    Attributes
    ----------
    methods : list of str
        The methods' labels, in the order of the columns.
    instances : list of (str, int)
        (problem name, start index) of each row.
    steps : ndarray, shape (n_instances, n_methods)
        Steps (scipy: iterations) to ‖∇V‖₂ ≤ gtol; ``inf`` where the run did not get there.
    evaluations : ndarray, shape (n_instances, n_methods)
        Gradient evaluations to gtol, the one at the start included (for data losses, in passes over the
        data); ``inf`` where the run did not get there.
    params : dict
        (problem name, label) → the parameters the method ran with (tuned or as given).
    tuning_evaluations : dict
        (problem name, label) → the gradient evaluations its tuning spent (0 when it was not tuned).
    budget, seed, n_steps, gtol
        The protocol.
    """

    methods: list
    instances: list
    steps: np.ndarray
    evaluations: np.ndarray
    params: dict = field(default_factory=dict)
    tuning_evaluations: dict = field(default_factory=dict)
    budget: int | None = None
    seed: int = 0
    n_steps: int = 0
    gtol: float = 0.0

    def times(self, measure: str = "evaluations") -> np.ndarray:
        """The cost table (instances × methods) of ``measure``: 'evaluations' or 'steps'."""
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
        return self.evaluations if measure == "evaluations" else self.steps

    def profile(self, measure: str = "evaluations", taus=None) -> tuple[np.ndarray, np.ndarray]:
        """Dolan & Moré's profile of ``measure``: ``(taus, rho)``, see :func:`newtonopt.tuning.performance_profile`."""
        return performance_profile(self.times(measure), taus)

    def table(self, measure: str = "evaluations") -> str:
        """One line per method: how often it is the fastest, how often it solves, its median ratio to the best."""
        t = self.times(measure)
        taus, rho = performance_profile(t, [1.0])
        best = np.min(t, axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            ratio = np.where(np.isfinite(best), t / best, np.inf)
        width = max(len("method"), *(len(m) for m in self.methods))
        lines = [f"{'method':<{width}}  {'fastest':>8}  {'solved':>8}  {'median ratio':>12}",
                 "-" * width + "  " + "  ".join("-" * w for w in (8, 8, 12))]
        for j, label in enumerate(self.methods):
            solved = float(np.mean(np.isfinite(t[:, j])))
            median = float(np.median(ratio[:, j]))
            lines.append(f"{label:<{width}}  {100 * rho[0, j]:>7.0f}%  {100 * solved:>7.0f}%  {median:>12.3g}")
        problems = len(dict.fromkeys(name for name, _ in self.instances))
        tuned = f"{self.budget} tuning trials per method and problem" if self.budget else "no tuning"
        lines.append(f"{len(self.instances)} runs ({problems} problems), cost = {measure} to ‖∇V‖ ≤ {self.gtol:g} "
                     f"within {self.n_steps} steps, {tuned}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def run_suite(methods, suite=None, *, budget: int | None = 16, seed: int = 0, n_steps: int = 5000,
              gtol: float = 1e-6, executor=None) -> SuiteResult:
    """Run ``methods`` over ``suite`` with :func:`newtonopt.compare`'s fair protocol and collect their costs.

    On every problem each newtonopt method is tuned by :func:`newtonopt.tune` with ``budget`` scrambled Sobol
    trials over its registry's default space, from the problem's starts, under the stopping rule
    ‖∇V‖₂ ≤ ``gtol`` within ``n_steps``, and its best trial's runs are its result (they are, bit for bit,
    the runs ``compare(..., tune=budget, seed=seed)`` makes). Methods without a default space (the
    thermostats) and scipy's methods run as given, from every start.

    Parameters
    ----------
    methods : mapping label → method, or list of methods
        As for :func:`newtonopt.compare`: newtonopt integrators, scipy method names (``"L-BFGS-B"``) or
        (name, options) pairs ('linear-cg' only in a suite of quadratics).
    suite : list of Problem, optional
        Default: :func:`standard_suite`. Problem names must differ (they key the result).
    budget : int or None
        Tuning trials per method and problem; None runs every method with the parameters it was given.
    seed : int
        Scrambles the Sobol points; with the suite's own seed, the whole result is reproducible bit for bit.
    n_steps : int
        The step budget of every run (scipy: the iteration budget).
    gtol : float
        The shared stopping rule.
    executor : concurrent.futures.Executor, optional
        Where the tuning trials run (see :func:`newtonopt.tune`); the result does not depend on it.

    Returns
    -------
    SuiteResult

    Notes
    -----
    Profile the evaluations rather than the steps when scipy's methods take part: one of their iterations
    may evaluate the gradient several times (line searches), one of newtonopt's steps evaluates it once.
    A start that already meets gtol costs 0 steps, which a profile cannot divide by; its evaluations are 1.
    """
    items = _normalise(methods)
    suite = standard_suite() if suite is None else list(suite)
    if not suite or not all(isinstance(p, Problem) for p in suite):
        raise TypeError(f"suite must be a non-empty list of Problem, got {_describe(suite)}")
    names = [p.name for p in suite]
    if len(set(names)) != len(names):
        raise ValueError(f"suite must name its problems differently, got {names}")
    budget = None if budget is None else as_int("budget", budget, low=1)
    n_steps = as_int("n_steps", n_steps, low=1)
    gtol = positive("gtol", gtol)
    instances = [(p.name, i) for p in suite for i in range(p.n_starts)]
    steps = np.full((len(instances), len(items)), np.inf)
    evaluations = np.full_like(steps, np.inf)
    params: dict = {}
    spent: dict = {}
    row = 0
    for problem in suite:
        rows = slice(row, row + problem.n_starts)
        for j, (label, method) in enumerate(items.items()):
            s, e, params[problem.name, label], spent[problem.name, label] = _measure(
                problem, method, budget, seed, n_steps, gtol, executor)
            steps[rows, j], evaluations[rows, j] = s, e
        row += problem.n_starts
    return SuiteResult(list(items), instances, steps, evaluations, params, spent, budget, seed, n_steps, gtol)


def _measure(problem: Problem, method, budget, seed, n_steps, gtol, executor):
    """Steps and gradient evaluations to gtol from each start (inf: not reached), the parameters, the tuning's cost."""
    V, starts = problem.potential, problem.starts
    if isinstance(method, Integrator):
        space = find_method(method).space if budget is not None else None
        if space is not None:
            result = tune(type(method), V, starts, space, budget=budget, seed=seed, n_steps=n_steps, gtol=gtol,
                          executor=executor)
            converged = result.steps[result.best]
            # one gradient per step and one at the start; counts are in samples for a data loss
            return (np.where(converged >= 0, converged, np.inf), np.where(converged >= 0, converged + 1.0, np.inf),
                    _tuning_columns(type(method)(**result.best_params), result)["params"],
                    result.counts["gradient"] // V.cost)
        traj = _run(V, method, starts, n_steps, gtol, "final", 1)
        converged = traj.converged_step.reshape(-1)
        return (np.where(converged >= 0, converged, np.inf), np.where(converged >= 0, converged + 1.0, np.inf),
                _tuning_columns(method, None)["params"], 0)
    s = np.full(problem.n_starts, np.inf)
    e = np.full(problem.n_starts, np.inf)
    for i, x0 in enumerate(starts):
        traj = _run(V, method, x0, n_steps, gtol, "final", 1)
        if traj.status == "converged" and float(traj.grad_norm_final) <= gtol:  # the shared rule, not scipy's own
            s[i], e[i] = traj.n_steps, traj.counts["gradient"] // V.cost
    return s, e, _tuning_columns(method, None)["params"], 0
