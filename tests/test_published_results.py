"""Published results, reproduced: modified equations, momentum limits, the momentum phase diagram, SGD's covariance.

References: Barrett & Dherin (2021) for gradient descent's modified equation; Kovachki & Stuart (2021)
for the heavy ball's rescaled gradient flow; Polyak (1964) and Goh, "Why momentum really works"
(Distill 2017) for the rates and boundaries; Mandt, Hoffman & Blei (2017) for the stationary
covariance of SGD, checked by Monte Carlo. Each has an example that draws it (examples/11_ to 14_).
"""

from __future__ import annotations

import numpy as np
import pytest

import newtonopt as no
from newtonopt.analysis import momentum_rate, sgd_stationary_covariance
from newtonopt.flows import gradient_flow
from newtonopt.potentials import LeastSquares, Quadratic, Rosenbrock


def _slope(x, y) -> float:
    """The least-squares slope of log y against log x: the measured order."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def test_gradient_descent_on_rosenbrock_follows_the_modified_flow_to_second_order():
    """Barrett & Dherin (2021), §3 (their Theorem 3.1 and figure 1): at a fixed time T, gradient descent is
    O(lr) from the gradient flow and O(lr²) from the flow of Ṽ = V + (lr/4)|∇V|². tests/test_flows.py
    checks it on a polynomial; here on Rosenbrock's curved valley from (−1.2, 1) to T = 3 (stiffness up
    to ~1300 at the start, so lr ≤ 2e-4, lr·λ ≤ 0.27). Slopes over lr = 2e-4, 1e-4, 5e-5: 1.05 and 2.02."""
    V = Rosenbrock()
    x0, T = np.array([-1.2, 1.0]), 3.0
    lrs = 2e-4 / 2.0 ** np.arange(3)
    reference = gradient_flow(V, x0, [0.0, T]).x[-1]
    plain, modified = [], []
    for lr in lrs:
        gd = no.simulate(V, no.GradientDescent(lr), x0, n_steps=int(round(T / lr)), record="final")
        plain.append(np.linalg.norm(gd.x_final - reference))
        modified.append(np.linalg.norm(gd.x_final - gradient_flow(V, x0, [0.0, T], modified=lr).x[-1]))
    assert _slope(lrs, plain) == pytest.approx(1.0, abs=0.1)
    assert _slope(lrs, modified) == pytest.approx(2.0, abs=0.15)


@pytest.mark.parametrize("beta", [0.5, 0.9])
def test_heavy_ball_with_fixed_momentum_is_a_rescaled_gradient_flow(beta):
    """Kovachki & Stuart (2021, JMLR 22, §3): with β fixed and lr → 0 the heavy ball follows, at t = k·lr,
    (1 − β)·ẋ = −∇V with an O(lr) error once the momentum's transient (~1/(1 − β) steps) has passed.

    The modified equation one order further (our Taylor match of the two-step map, docs/theory.md §8;
    Ghosh et al. 2023 find the same regularizer, (1 + β)/(1 − β) times gradient descent's at the same
    effective step lr/(1 − β)): (1 − β)·ẋ = −∇Ṽ, Ṽ = V + lr(1 + β)/(4(1 − β)²)·|∇V|², from
    x₀ + lr·β/(1 − β)²·∇V(x₀), the lag of a ball started from rest. Its error is O(lr²).
    Measured slopes (examples/12_): 1.00 and 2.00 at β = 0.5, 1.02 and 1.95 at β = 0.9."""
    V = no.Potential.from_expression("x**4/4 + x**2/2 + y**2 + x*y/2")
    x0 = np.array([1.0, -0.5])
    T = 2.0 * (1.0 - beta)  # flow time T/(1 − β) = 2 for both momenta
    lrs = 4e-3 * (1.0 - beta) / 2.0 ** np.arange(4)
    plain, modified = [], []
    for lr in lrs:
        run = no.simulate(V, no.HeavyBall(lr, beta), x0, n_steps=int(round(T / lr)), record="all")
        t = run.step * lr
        late = t >= T / 2  # after the transient
        flow = gradient_flow(V, x0, t, friction=1.0 - beta)
        start = x0 + lr * beta / (1.0 - beta) ** 2 * V.gradient(x0)
        better = gradient_flow(V, start, t, friction=1.0 - beta, modified=lr * (1.0 + beta) / (1.0 - beta) ** 2)
        plain.append(np.linalg.norm(run.x - flow.x, axis=1)[late].max())
        modified.append(np.linalg.norm(run.x - better.x, axis=1)[late].max())
    assert _slope(lrs, plain) == pytest.approx(1.0, abs=0.15)
    assert _slope(lrs, modified) == pytest.approx(2.0, abs=0.15)
    # the first-order error itself: |x − x_flow| ≈ C·lr with C the same to 10 % over the range
    assert np.ptp(np.array(plain) / lrs) < 0.1 * np.mean(np.array(plain) / lrs)


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
