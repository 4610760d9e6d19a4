"""Fair tuning: budgets counted exactly, trials equal hand-made runs, Sobol designs, performance profiles.

References: Polyak's (1964) optimal heavy-ball parameters and rate on a quadratic; the (0, m, 1)-net
property of a scrambled Sobol sequence (Owen 1998); Dolan & Moré's (2002) definition of the profile.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Quadratic
from newtonopt.tuning import LogUniform, Uniform, performance_profile, rotated_quadratic, sobol_points, tune


def test_sobol_points_fill_the_space_evenly_and_reproducibly():
    space = {"lr": LogUniform(1e-4, 1.0), "momentum": Uniform(0.0, 0.99)}
    points = sobol_points(space, 16, seed=3)
    assert len(points) == 16 and points == sobol_points(space, 16, seed=3) != sobol_points(space, 16, seed=4)
    lr = np.array([p["lr"] for p in points])
    mu = np.array([p["momentum"] for p in points])
    assert lr.min() >= 1e-4 and lr.max() <= 1.0 and mu.min() >= 0.0 and mu.max() <= 0.99
    # a (0, 4, 1)-net in each coordinate: one point in each sixteenth
    for u in (np.log(lr / 1e-4) / np.log(1e4), mu / 0.99):
        assert sorted(np.floor(16 * u).astype(int).tolist()) == list(range(16))


def test_each_trial_is_the_run_a_user_would_make_by_hand():
    V = rotated_quadratic(np.logspace(0, 2, 6), seed=1)
    starts = np.random.default_rng(0).standard_normal((3, 6))
    space = {"lr": LogUniform(1e-3, 0.03), "momentum": Uniform(0.0, 0.95)}
    result = tune(no.HeavyBall, V, starts, space, budget=12, n_steps=2000, gtol=1e-6)
    assert result.budget == 12 and result.steps.shape == (12, 3)
    spent = 0
    for i in range(12):
        by_hand = no.simulate(V, no.HeavyBall(**result.params[i]), starts, 2000, gtol=1e-6, record="final")
        np.testing.assert_array_equal(result.steps[i], by_hand.converged_step)
        np.testing.assert_array_equal(result.final_value[i], by_hand.value_final)
        spent += by_hand.counts["gradient"]
    assert result.counts["gradient"] == spent  # the tuning's cost, counted exactly


def test_tuning_finds_polyaks_rate_within_a_small_factor():
    """On a quadratic with κ = 100 Polyak's parameters converge at (√κ − 1)/(√κ + 1) = 9/11 per step;
    a budget of 64 Sobol trials must come within a factor 1.5 of their steps."""
    V = Quadratic(np.linspace(1.0, 100.0, 8))
    x0 = np.ones(8)
    polyak = no.simulate(V, no.HeavyBall.tuned(V, x0), x0, 1500, gtol=1e-8, record="final")
    space = {"lr": LogUniform(1e-4, 0.1), "momentum": Uniform(0.0, 0.99)}
    result = tune(no.HeavyBall, V, x0, space, budget=64, n_steps=1500, gtol=1e-8)
    assert result.best_objective <= 1.5 * int(polyak.converged_step)
    gd = tune(no.GradientDescent, V, x0, {"lr": LogUniform(1e-4, 0.1)}, budget=16, n_steps=1500, gtol=1e-8)
    assert gd.best_objective > 3 * result.best_objective  # momentum's √κ advantage survives tuning


def test_an_executor_does_not_change_the_result():
    V = Quadratic([1.0, 10.0, 30.0])
    space = {"lr": LogUniform(1e-3, 0.1)}
    here = tune(no.GradientDescent, V, [1.0, 1.0, 1.0], space, budget=8)
    with ThreadPoolExecutor(2) as pool:
        there = tune(no.GradientDescent, V, [1.0, 1.0, 1.0], space, budget=8, executor=pool)
    np.testing.assert_array_equal(here.objective, there.objective)
    assert here.params == there.params and here.counts == there.counts


def test_bad_tuning_arguments():
    V = Quadratic([1.0])
    with pytest.raises(ValueError, match="budget"):
        tune(no.GradientDescent, V, [1.0], {"lr": LogUniform(1e-3, 1.0)}, budget=0)
    with pytest.raises(ValueError, match="objective"):
        tune(no.GradientDescent, V, [1.0], {"lr": LogUniform(1e-3, 1.0)}, budget=4, objective="speed")
    with pytest.raises(TypeError, match="space"):
        tune(no.GradientDescent, V, [1.0], {"lr": (1e-3, 1.0)}, budget=4)
    with pytest.raises(ValueError, match="LogUniform"):
        LogUniform(0.0, 1.0)


def test_performance_profile_follows_dolan_and_more():
    times = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, np.inf], [4.0, 1.0]])
    taus, rho = performance_profile(times, taus=[1.0, 2.0, 4.0, 100.0])
    np.testing.assert_array_equal(rho[:, 0], [0.5, 0.75, 1.0, 1.0])   # best on p0, p2; within 2× on p1
    np.testing.assert_array_equal(rho[:, 1], [0.5, 0.75, 0.75, 0.75])  # never solves p2
    default_taus, _ = performance_profile(times)
    assert default_taus[0] == 1.0 and set(default_taus) == {1.0, 2.0, 4.0}


def test_rotation_costs_adam_and_not_gradient_descent():
    """A diagonal κ = 10³ quadratic flatters Adam (its preconditioner is the Hessian's diagonal); rotated,
    the same spectrum costs it many times the steps, while gradient descent does not see the rotation."""
    lam = np.logspace(0, 3, 10)
    diagonal, rotated = Quadratic(lam), rotated_quadratic(lam, seed=2)
    x0 = np.ones(10)
    steps = {}
    for name, V in (("diagonal", diagonal), ("rotated", rotated)):
        start = x0 if name == "diagonal" else np.linalg.eigh(V.A)[1] @ x0  # the same start in the eigenbasis
        adam = no.simulate(V, no.Adam(0.01), start, 40_000, gtol=1e-6, record="final")
        gd = no.simulate(V, no.GradientDescent(1.9e-3), start, 40_000, gtol=1e-6, record="final")
        steps[name] = (int(adam.converged_step), int(gd.converged_step))
    assert steps["rotated"][0] > 3 * steps["diagonal"][0]
    assert abs(steps["rotated"][1] - steps["diagonal"][1]) <= 2
    assert "κ = 1,000" in rotated.name


def test_compare_with_a_tuning_budget_is_fair_and_reproducible():
    """Every method gets the same budget over its registry space, the same starts and stopping rule; the
    table shows what each ended with; the same seed gives the same comparison bit for bit."""
    V = rotated_quadratic(np.logspace(0, 2, 5), seed=3)
    x0 = np.ones(5)
    methods = [no.GradientDescent(1e-3), no.HeavyBall(1e-3, 0.5), no.Adam(1e-3), "CG"]
    a = no.compare(V, methods, x0, n_steps=3000, gtol=1e-6, tune=16, seed=1)
    b = no.compare(V, methods, x0, n_steps=3000, gtol=1e-6, tune=16, seed=1)
    rows = {r["method"]: r for r in a.rows}
    assert rows["HeavyBall"]["tuned"] and not rows["CG"]["tuned"] and rows["CG"]["params"] == {}
    assert rows["HeavyBall"]["params"]["lr"] != 1e-3  # the hand-picked value was replaced by the tuned one
    for r, s in zip(a.rows, b.rows):
        assert r["params"] == s["params"] and r["steps"] == s["steps"] and r["final_V"] == s["final_V"]
    # the tuned heavy ball is at least as good as the best of its own trials, and beats tuned GD (√κ)
    assert rows["HeavyBall"]["steps"] < rows["GradientDescent"]["steps"]
    assert "tuned parameters" in a.table() and rows["Adam"]["tuning_grad_evals"] > 0
