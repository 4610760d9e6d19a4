"""Linear conjugate gradient on quadratics: at most dim steps (Hestenes & Stiefel 1952), within the
κ-bound of Nocedal & Wright (2006, eq. 5.36), and offered by compare beside scipy's nonlinear CG."""

from __future__ import annotations

import numpy as np
import pytest

import newtonopt as no
from newtonopt.analysis import cg_bound
from newtonopt.conjugate_gradient import linear_cg
from newtonopt.potentials import Quadratic
from newtonopt.tuning import rotated_quadratic


def test_linear_cg_solves_a_50_dim_quadratic_in_at_most_50_steps():
    V = Quadratic(np.linspace(1.0, 100.0, 50), b=np.linspace(-1.0, 1.0, 50))
    run = linear_cg(V, np.zeros(50), gtol=1e-8)
    assert run.status == "converged" and run.n_steps <= 50
    np.testing.assert_allclose(run.x_final, V.global_minimum.x, rtol=1e-8, atol=1e-10)
    assert np.all(np.diff(run.potential_energy) <= 1e-12)  # each step minimizes V along its direction
    assert run.counts["hessian"] == run.n_steps  # one Hessian–vector product a step


def test_linear_cg_obeys_the_condition_number_bound():
    V = rotated_quadratic(np.logspace(0, 3, 40), seed=4)
    x0 = np.random.default_rng(0).standard_normal(40)
    run = linear_cg(V, x0, gtol=None, maxiter=25)
    err0 = V.value(x0) - V.minimum_value
    # ‖e_k‖_A² = 2(V − V*), so the bound on ‖e_k‖_A/‖e_0‖_A squares
    for k in (5, 10, 20):
        assert run.potential_energy[k] - V.minimum_value <= cg_bound(1e3, k) ** 2 * err0 * (1 + 1e-9)


def test_compare_offers_linear_cg_and_scipy_options():
    V = Quadratic(np.linspace(1.0, 100.0, 50), b=np.linspace(-1.0, 1.0, 50))
    table = no.compare(V, ["linear-cg", "CG", ("CG", {"c2": 0.01})], np.zeros(50), gtol=1e-6, n_steps=5000)
    rows = {r["method"]: r for r in table.rows}
    assert rows["linear-cg"]["status"] == "converged" and rows["linear-cg"]["steps"] <= 50
    assert rows["CG"]["steps"] > rows["linear-cg"]["steps"]   # scipy's CG is the nonlinear method
    assert table.rows[2]["params"] == {"c2": 0.01}


def test_linear_cg_refuses_what_it_cannot_do():
    with pytest.raises(TypeError, match="Quadratic"):
        linear_cg(no.potentials.Rosenbrock(), [0.0, 0.0])
    run = linear_cg(Quadratic([1.0, -1.0]), [1.0, 1.0])
    assert run.status == "failed" and "not positive definite" in run.message
