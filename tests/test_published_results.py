"""Published results on linear iterations: Polyak's momentum phase diagram and Mandt–Hoffman–Blei's SGD covariance.

References: Polyak (1964) and Goh, "Why momentum really works" (Distill 2017) for the rates and
boundaries; Mandt, Hoffman & Blei (2017) for the stationary covariance of SGD, checked by Monte Carlo.
"""

from __future__ import annotations

import numpy as np
import pytest

import newtonopt as no
from newtonopt.analysis import momentum_rate, sgd_stationary_covariance
from newtonopt.potentials import LeastSquares, Quadratic


def test_momentum_rate_has_polyaks_closed_forms():
    # gradient descent (β = 0): |1 − lr·λ|
    assert momentum_rate(0.3, 0.0, 2.0) == pytest.approx(0.4, abs=1e-15)
    # complex roots: ρ = √β
    assert momentum_rate(1.0, 0.81, 1.0) == pytest.approx(0.9, abs=1e-15)
    # critical damping β = (1 − √(lr·λ))²: a double root √β
    h = 0.04
    assert momentum_rate(h, (1 - np.sqrt(h)) ** 2, 1.0) == pytest.approx(1 - np.sqrt(h), abs=1e-7)
    # the stability boundary lr·λ = 2 + 2β: ρ = 1 exactly there, below inside, above outside
    beta = np.linspace(0.0, 0.95, 20)
    np.testing.assert_allclose(momentum_rate(2 + 2 * beta, beta, 1.0), 1.0, atol=1e-12)
    assert np.all(momentum_rate(0.99 * (2 + 2 * beta), beta, 1.0) < 1.0)
    assert np.all(momentum_rate(1.01 * (2 + 2 * beta), beta, 1.0) > 1.0)


def test_momentum_rate_matches_measured_rates_on_a_grid():
    """The (lr·λ, β) phase diagram against the contraction measured from runs on V = x²/2."""
    V = Quadratic([1.0])
    grid = [(h, b) for h in (0.05, 0.3, 1.0, 1.8, 2.5, 3.5) for b in (0.0, 0.3, 0.6, 0.9)]
    for h, b in grid:
        run = no.simulate(V, no.HeavyBall(h, b), [1.0], n_steps=180, record="all")
        if run.status == "diverged":  # outside the stable region, and only there
            assert momentum_rate(h, b, 1.0) > 1.0, (h, b)
            continue
        x = np.abs(run.x[:, 0])
        # the envelope of |x_k| (its maximum over 30 steps, longer than any period here) goes like ρᵏ,
        # times k at a double root: (165/65)^(1/100) ≈ 1.009, inside the tolerance
        if x[50:80].max() == 0.0:  # lr·λ = 1, β = 0: the mode is killed in one step, ρ = 0
            assert momentum_rate(h, b, 1.0) == 0.0
            continue
        measured = (x[150:180].max() / x[50:80].max()) ** (1 / 100)
        assert measured == pytest.approx(momentum_rate(h, b, 1.0), rel=0.03), (h, b)


def test_sgd_covariance_matches_monte_carlo():
    """Minibatch SGD (with replacement) near the minimum of a least-squares loss: the spread of an
    ensemble of 4000 replicas after equilibration agrees with the discrete Lyapunov solution."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2)) * [1.0, 0.5]
    y = X @ np.array([1.0, -2.0]) + 0.5 * rng.standard_normal(200)
    L = LeastSquares(X, y)
    theta = L.minima[0].x
    A = L.hessian(theta)
    g = L.per_sample_gradients(theta)
    C = np.cov(g.T, bias=True)
    lr, S = 0.05, 4
    sigma = sgd_stationary_covariance(A, C, lr, S)
    batch = L.minibatch(S, seed=1, replace=True)
    run = no.simulate(batch, no.GradientDescent(lr), np.tile(theta, (4000, 1)), n_steps=400, record="final")
    measured = np.cov(run.x_final.T)
    # sampling error of a covariance from 4000 samples: about √(2/4000) ≈ 2.2 % of the diagonal
    np.testing.assert_allclose(np.diag(measured), np.diag(sigma), rtol=0.08)
    # the continuous-time answer differs by O(lr): here its relative gap is ≈ lr·λ/2 for each mode
    cont = sgd_stationary_covariance(A, C, lr, S, continuous=True)
    gap = np.abs(np.diag(cont) - np.diag(sigma)) / np.diag(sigma)
    assert 0.1 * lr * np.diag(A).min() < gap.max() < 2 * lr * np.diag(A).max()


def test_boltzmann_density_of_a_harmonic_well_is_gaussian():
    """V = kx²/2 at temperature T: p(x) = N(0, T/k) (equipartition)."""
    from scipy.stats import norm

    from newtonopt.analysis import boltzmann

    k, T = 4.0, 0.5
    x = np.linspace(-4.0, 4.0, 4001)
    p, _ = boltzmann(Quadratic([k]), T, [x])
    np.testing.assert_allclose(p, norm.pdf(x, scale=np.sqrt(T / k)), rtol=1e-6, atol=1e-12)


def test_boltzmann_weight_of_a_basin_matches_quadrature():
    """The share of the deeper well of a tilted double well, against scipy.integrate.quad."""
    from scipy.integrate import quad

    from newtonopt.analysis import boltzmann

    V = no.Potential.from_expression("(x**2 - 1)**2 + 0.3*x")
    T = 0.4
    x = np.linspace(-3.0, 3.0, 6001)
    p, _ = boltzmann(V, T, [x])
    from scipy.integrate import trapezoid

    left = trapezoid(np.where(x < 0, p, 0.0), x)
    f = lambda s: np.exp(-((s * s - 1) ** 2 + 0.3 * s) / T)  # noqa: E731
    expected = quad(f, -3, 0)[0] / quad(f, -3, 3)[0]
    assert left == pytest.approx(expected, abs=2e-4)
    assert V.counts["value"] == 0  # a diagnostic: nothing charged
