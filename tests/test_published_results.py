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
from newtonopt.analysis import measured_rate, momentum_rate, sgd_stationary_covariance
from newtonopt.flows import gradient_flow
from newtonopt.potentials import LeastSquares, Quadratic, Rosenbrock


def _slope(x, y) -> float:
    """The least-squares slope of log y against log x: the measured order."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def test_gradient_descent_on_rosenbrock_follows_the_modified_flow_to_second_order():
    """Barrett & Dherin (2021, ICLR; their modified loss): at a fixed time T, gradient descent is
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
    """Kovachki & Stuart (2021, JMLR 22(17)): with β fixed and lr → 0 the heavy ball follows, at t = k·lr,
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


def _dominant_angle(h, beta):
    """θ ∈ [0, π] of the heavy ball's dominant root on a mode (lr·λ = h): z² − (1 + β − h)z + β = 0.
    Complex roots: cos θ = (1 + β − h)/(2√β); real roots: 0 if the larger one is positive, π if negative."""
    trace = 1 + beta - h
    disc = trace**2 - 4 * beta
    with np.errstate(invalid="ignore", divide="ignore"):
        complex_angle = np.arccos(np.clip(trace / (2 * np.sqrt(beta)), -1, 1))
    return np.where(disc < 0, complex_angle, np.where(trace >= 0, 0.0, np.pi))


def test_momentum_phase_diagram_measured_on_a_dense_grid():
    """Goh (2017, "Why momentum really works", Distill: its (α, β) diagram of the rate) and Polyak
    (1964): 600 heavy balls on V = x²/2, one per (lr·λ, β) point of a 30 × 20 grid across the stable and
    unstable regions, in one vectorized run. The rate measured from the iterates (exp of the fitted
    slope of log|(x_k, x_{k−1})|, analysis.measured_rate) is momentum_rate's spectral radius to 1 %
    (measured: 2e-4 at worst), growth rates beyond 2 + 2β included; and the iterates change sign θ/π
    of the steps, θ the argument of the dominant root: never in the over-damped region below the
    lower critical branch, every step beyond the upper one (a negative real root), in between at the
    rotation frequency of complex roots of modulus √β."""
    H, B = np.meshgrid(np.linspace(0.05, 4.4, 30), np.linspace(0.0, 0.95, 20), indexing="ij")
    h, b = H.ravel(), B.ravel()
    K = 400
    run = no.simulate(Quadratic([1.0]), no.HeavyBall(h, b), np.ones((h.size, 1)), n_steps=K, record="all")
    measured = measured_rate(run.x, skip=30)
    np.testing.assert_allclose(measured, momentum_rate(h, b, 1.0), rtol=0.01)
    beyond = h > 1.01 * (2 + 2 * b)  # the unstable region is covered (a few points sit on its edge, ρ = 1)
    assert beyond.sum() > 50 and np.all(measured[beyond] > 1)
    # sign changes per step, over the steps where x is representable
    x = run.x[:, :, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        usable = np.isfinite(x) & (np.abs(x) > 1e-250) & (np.abs(x) < 1e250)
        flips = (np.sign(x[1:]) != np.sign(x[:-1])) & usable[1:] & usable[:-1]
    pairs = (usable[1:] & usable[:-1])[30:].sum(axis=0)
    frequency = flips[30:].sum(axis=0) / pairs
    # a cosine of angular frequency θ changes sign θ/π times per step, give or take 1.5 changes in the window
    assert np.all(np.abs(frequency - _dominant_angle(h, b) / np.pi) <= 1.5 / pairs + 1e-12)


@pytest.mark.parametrize("h", [0.04, 0.25, 0.64, 1.44, 2.25, 3.24])
def test_critical_damping_has_two_branches(h):
    """The roots of z² − (1 + β − h)z + β meet where (1 + β − h)² = 4β, i.e. h = (1 ∓ √β)²: β = (1 − √h)²
    for h < 1 (a double root √β > 0, the over-damped/under-damped boundary) and for 1 < h < 4 (a double
    root −√β < 0: beyond it the iterates flip sign every step). On both branches ρ = |1 − √h| (Polyak 1964;
    Goh 2017, whose diagram draws both), and a run's measured rate agrees to 1 % (its k·ρᵏ factor biases
    the fit by ~log(400/30)/370 ≈ 0.7 %)."""
    beta = (1 - np.sqrt(h)) ** 2
    rho = abs(1 - np.sqrt(h))
    assert momentum_rate(h, beta, 1.0) == pytest.approx(rho, abs=1e-7)
    # inside the complex region ρ = √β; across the branch the roots are real and the larger one exceeds √β
    inside_h = h * (1.02 if h < 1 else 0.98)
    outside_h = h * (0.98 if h < 1 else 1.02)
    assert momentum_rate(inside_h, beta, 1.0) == pytest.approx(np.sqrt(beta), abs=1e-15)
    assert momentum_rate(outside_h, beta, 1.0) > np.sqrt(beta) + 1e-3
    run = no.simulate(Quadratic([1.0]), no.HeavyBall(h, beta), [1.0], n_steps=400, record="all")
    assert measured_rate(run.x, skip=30) == pytest.approx(rho, rel=0.01)
    late = np.sign(run.x[30:200, 0])
    assert np.all(late == late[0]) if h < 1 else np.all(late[1:] == -late[:-1])


def test_measured_rate_checks_its_arguments():
    with pytest.raises(ValueError, match="x"):
        measured_rate(np.ones(2))
    with pytest.raises(ValueError, match="skip"):
        measured_rate(np.ones((50, 1)), skip=60)
    # an exact geometric sequence: ρ to round-off; too few representable steps: nan
    assert measured_rate(0.9 ** np.arange(200.0)[:, None], skip=10) == pytest.approx(0.9, rel=1e-12)
    # coordinates are the last axis: a 2-D particle's rate is that of its norm; particles keep their axis
    two = np.stack([0.5 ** np.arange(100.0), 0.8 ** np.arange(100.0)], axis=-1)
    assert measured_rate(two) == pytest.approx(0.8, rel=1e-9)
    assert measured_rate(np.stack([two, 2 * two], axis=1)).shape == (2,)
    assert np.isnan(measured_rate(np.r_[1.0, np.zeros(40)], skip=0))


def _iris_regression():
    """Petal width on sepal length and petal length (standardized Iris): a tilted, elongated bowl."""
    from newtonopt.datasets import load_iris, standardize

    Z = standardize(load_iris()[0])
    features = Z[:, [0, 2]]
    loss = LeastSquares(features, Z[:, 3])
    theta = loss.minima[0].x
    C = np.cov(loss.per_sample_gradients(theta).T, bias=True)
    return loss, theta, loss.hessian(theta), C, np.einsum("ni,nj->nij", features, features)


def test_sgd_covariance_at_a_large_step_matches_monte_carlo_within_its_standard_error():
    """Mandt, Hoffman & Blei (2017) at lr·λ_max ≈ 0.94, S = 4, on Iris: 20,000 independent replicas (batches
    with replacement) started at the minimizer, past relaxation (the soft mode's variance relaxes like
    (1 − lr·λ_min)^(2k), e^(−12) after 100 steps).

    Error model: the replicas are independent and E[θ − θ*] = 0 exactly (a linear map from θ*), so each
    entry of the measured Σ is a mean of N i.i.d. products e_i·e_j, with standard error
    std(e_i·e_j)/√N (≈ 1.2 % here) estimated from the same samples. The exact recursion of the iterates'
    second moment (discrete, with each batch's own Hessian; analysis.sgd_stationary_covariance
    (hessians=...)) is within 4 standard errors of every entry (measured |z| ≤ 1.1). The additive-noise
    discrete Lyapunov (measured z = 6.5 off the diagonal, 17 and 20 on it) and the continuous one
    (z = 33 to 41) are not: at this step
    the sampling error resolves their O(lr/S) and O(lr) corrections."""
    loss, theta, A, C, hessians = _iris_regression()
    lr, S, N = 0.5, 4, 20_000
    run = no.simulate(loss.minibatch(S, seed=1, replace=True), no.GradientDescent(lr), np.tile(theta, (N, 1)),
                      n_steps=100, record="final")
    e = run.x_final - theta
    products = np.einsum("ni,nj->nij", e, e)
    measured, se = products.mean(axis=0), products.std(axis=0) / np.sqrt(N)
    exact = sgd_stationary_covariance(A, C, lr, S, hessians=hessians)
    assert np.all(np.abs(measured - exact) < 4 * se)
    additive = sgd_stationary_covariance(A, C, lr, S)
    continuous = sgd_stationary_covariance(A, C, lr, S, continuous=True)
    assert np.all(np.diag(np.abs(measured - additive) / se) > 8)
    assert np.all(np.abs(measured - continuous) / se > 20)


def test_sgd_covariance_corrections_have_the_stated_orders():
    """The continuous-time Lyapunov solution (AΣ + ΣA = lr·C/S, Mandt et al. 2017 eq. 12) drops the lr²·AΣA
    term of the discrete one, a relative change O(lr) (slope 1 ± 0.1, measured 1.03 over lr = 0.2 … 0.025);
    the minibatch Hessian's term is lr²/S·E[δh·Σ·δh], O(lr/S) relative: halving S halves it (ratio 2 ± 5 %),
    halving lr nearly so (slope 1.08 over the same range).
    Orders of the formulas, on Iris (λ = 0.128, 1.87)."""
    _, _, A, C, hessians = _iris_regression()
    S = 4
    lrs = 0.2 / 2.0 ** np.arange(4)

    def rel(a, b):
        return np.linalg.norm(a - b) / np.linalg.norm(b)

    gap = [rel(sgd_stationary_covariance(A, C, lr, S, continuous=True), sgd_stationary_covariance(A, C, lr, S))
           for lr in lrs]
    assert _slope(lrs, gap) == pytest.approx(1.0, abs=0.1)
    # the leading term: (lr/2)·(A-weighted) — between lr·λ_min/2 and lr·λ_max/2 of relative change
    assert lrs[-1] * 0.128 / 2 < gap[-1] < lrs[-1] * 1.872 / 2
    mult = [rel(sgd_stationary_covariance(A, C, 0.2, s), sgd_stationary_covariance(A, C, 0.2, s, hessians=hessians))
            for s in (4, 8, 16)]
    assert mult[0] / mult[1] == pytest.approx(2.0, rel=0.05) and mult[1] / mult[2] == pytest.approx(2.0, rel=0.05)
    assert _slope(lrs, [rel(sgd_stationary_covariance(A, C, lr, S),
                            sgd_stationary_covariance(A, C, lr, S, hessians=hessians)) for lr in lrs]) == \
        pytest.approx(1.0, abs=0.1)


def test_sgd_covariance_hessians_checks_its_arguments():
    A, C = np.eye(2), np.eye(2)
    with pytest.raises(ValueError, match="hessians"):
        sgd_stationary_covariance(A, C, 0.1, 4, hessians=np.ones((3, 2)))
    with pytest.raises(ValueError, match="hessians"):
        sgd_stationary_covariance(A, C, 0.1, 4, continuous=True, hessians=np.ones((3, 2, 2)))
    # one sample: no spread, the additive answer exactly
    np.testing.assert_allclose(sgd_stationary_covariance(A, C, 0.1, 4, hessians=A[None]),
                               sgd_stationary_covariance(A, C, 0.1, 4), rtol=1e-12)
    # a spread so large the second moment grows: no stationary covariance
    wild = np.stack([np.diag([40.0, 1.0]), np.diag([-38.0, 1.0])])
    with pytest.raises(ValueError, match="lr"):
        sgd_stationary_covariance(A, C, 0.5, 1, hessians=wild)


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
