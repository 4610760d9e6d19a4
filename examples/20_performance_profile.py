"""Performance profiles: several methods, tuned with the same budget, over a standard suite of problems.
=====================================================================================================

Each method is tuned on each problem with the same number of Sobol trials over its default search space,
from the same starts, with the same stopping rule ‖∇V‖ ≤ 10⁻⁶ (compare()'s protocol); its cost on each
(problem, start) is the gradient evaluations it needed, ∞ if it never got there. Dolan & Moré's profile
ρ_s(τ) is the fraction of runs on which method s is within a factor τ of the best method: the height at
τ = 1 is how often s is the fastest, the height at the right edge how often it gets there at all.
The quadratics are rotated off the coordinate axes: on diagonal ones Adam, RMSprop and Adagrad would be
handed the Hessian's eigenbasis for free (measured below on one κ = 10³ spectrum).
"""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt import plot
from newtonopt.integrators.registry import find_method
from newtonopt.suite import run_suite, standard_suite
from newtonopt.tuning import rotated_quadratic


def rotation_costs_adam(budget: int, n_steps: int) -> None:
    """Adam tuned with the same budget on one spectrum (κ = 10³), diagonal and rotated, the same starts."""
    lam = np.logspace(0, 3, 10)
    diagonal, rotated = no.potentials.Quadratic(lam), rotated_quadratic(lam, seed=2)
    Q = np.linalg.eigh(rotated.A)[1]
    starts = np.random.default_rng(0).standard_normal((2, 10))
    for name, V, x0 in (("diagonal", diagonal, starts), ("rotated", rotated, starts @ Q.T)):
        result = no.tune(no.Adam, V, x0, find_method(no.Adam).space, budget=budget, seed=0, n_steps=n_steps)
        print(f"Adam, κ = 10³ {name:8s}: steps {result.steps[result.best].tolist()} "
              f"(lr = {result.best_params['lr']:.3g})")


def main() -> None:
    out, small = setup(__doc__)
    if small:
        methods = {"gradient descent": no.GradientDescent(1e-3), "heavy ball": no.HeavyBall(1e-3, 0.9),
                   "Adam": no.Adam(1e-3), "BFGS (scipy)": "BFGS"}
        n_starts, budget, n_steps = 2, 8, 1000
    else:
        methods = {"gradient descent": no.GradientDescent(1e-3), "heavy ball": no.HeavyBall(1e-3, 0.9),
                   "Nesterov": no.Nesterov(1e-3, 0.9), "Adam": no.Adam(1e-3), "RMSprop": no.RMSprop(1e-3),
                   "Adagrad": no.Adagrad(0.1), "CG (scipy)": "CG", "BFGS (scipy)": "BFGS"}
        n_starts, budget, n_steps = 4, 16, 4000
    suite = standard_suite(n_starts=n_starts)
    print(f"{len(suite)} problems × {n_starts} starts: " + "; ".join(p.name for p in suite))

    t0 = time.perf_counter()
    if small:
        result = run_suite(methods, suite, budget=budget, seed=0, n_steps=n_steps)
    else:
        # The trials in two worker processes (spawned: forking a process with threads can deadlock); the
        # result does not depend on where they run.
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            result = run_suite(methods, suite, budget=budget, seed=0, n_steps=n_steps, executor=pool)
    print(f"ran in {time.perf_counter() - t0:.1f} s")
    print(result.table())
    taus, rho = result.profile()
    for label, r in zip(result.methods, rho.T):
        within_4 = r[np.searchsorted(taus, 4.0, side="right") - 1]
        print(f"  {label:18s} ρ(1) = {r[0]:.2f}   ρ(4) = {within_4:.2f}   solved {r[-1]:.2f}")

    rotation_costs_adam(budget, n_steps)

    ax = plot.performance_profile(result)
    save(ax.figure, out, "20_performance_profile.png")


if __name__ == "__main__":  # the spawned workers import this file again
    main()
