"""Su, Boyd & Candès (2016), "A differential equation for modeling Nesterov's accelerated gradient method"
(JMLR 17(153)): the ODE Ẍ + (3/t)·Ẋ + ∇V(X) = 0, its closed form on a quadratic, its Lyapunov energy, and the
convex Nesterov scheme x_k = y_{k−1} − s·∇V(y_{k−1}), y_k = x_k + (k − 1)/(k + 2)·(x_k − x_{k−1}) converging to it
at t = k·√s."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import j1

import newtonopt as no
from newtonopt.flows import compare_with_flow, nesterov_flow
from newtonopt.integrators.nesterov_convex import momentum
from newtonopt.potentials import Quadratic


def bessel_solution(lam, x0, t):
    """X(t) = 2·x₀·J₁(√λ·t)/(√λ·t) per coordinate: the ODE's solution on V = Σ λᵢ·xᵢ²/2 from rest
    (Su, Boyd & Candès 2016, §3.1, eq. (8)), with its limit x₀ at t = 0."""
    u = np.sqrt(np.asarray(lam, float))[None, :] * np.asarray(t, float)[:, None]
    ratio = np.ones_like(u)
    ratio[u > 0] = 2.0 * j1(u[u > 0]) / u[u > 0]
    return np.asarray(x0, float)[None, :] * ratio


def plain_nesterov(V, x0, s, n):
    """The scheme as the paper writes it (eq. (3)), with arrays: x_k and y_k for k = 0…n."""
    x_prev = y = np.array(x0, float)
    xs, ys = [y.copy()], [y.copy()]
    for k in range(1, n + 1):
        x = y - s * V.gradient(y)
        y = x + (k - 1) / (k + 2) * (x - x_prev)
        x_prev = x
        xs.append(x)
        ys.append(y)
    return np.array(xs), np.array(ys)


def iterates(run, s):
    """x_k from a run of NesterovConvex: its position is y_k, and x_k = y_k − β_k·√s·p_k."""
    beta = np.array([momentum(int(k)) for k in run.step])
    return run.x - (beta * np.sqrt(s))[:, None] * run.p


LAM = np.array([2.0])
V1 = Quadratic(LAM)


def test_nesterov_flow_is_the_bessel_solution_on_a_quadratic():
    # Measured: 5.7e-11 over t ∈ [0, 10] at the flow's default tolerances.
    V = Quadratic([0.5, 2.0, 7.0])
    x0 = [1.0, -0.5, 0.3]
    t = np.linspace(0.0, 10.0, 201)
    flow = nesterov_flow(V, x0, t)
    assert np.max(np.abs(flow.x - bessel_solution([0.5, 2.0, 7.0], x0, t))) < 1e-8


def test_the_method_is_the_papers_scheme():
    V = Quadratic([1.0, 10.0], b=[0.5, -1.0])
    s, n = 0.05, 300
    run = no.simulate(V, no.NesterovConvex(s), [1.0, 1.0], n, gtol=None, record="all")
    xs, ys = plain_nesterov(V, [1.0, 1.0], s, n)
    np.testing.assert_allclose(run.x, ys, rtol=0, atol=1e-12)       # the run's position is y_k
    np.testing.assert_allclose(iterates(run, s), xs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(run.t, np.arange(n + 1) * np.sqrt(s), rtol=1e-14)  # t = k·√s


def test_the_iterates_approach_the_ode_as_the_square_root_of_s():
    # max over t = k·√s ∈ [0, 10] of |x_k − X(t)|, s = 1e-2 … 1e-5 (the paper's Theorem 2 gives convergence as
    # s → 0; the scheme is first order in the time step √s). Measured: 0.1036, 0.0334, 0.01064, 0.00337, a slope
    # of 0.49-0.50 per decade of s.
    T = 10.0
    steps = np.array([1e-2, 1e-3, 1e-4, 1e-5])
    errors = []
    for s in steps:
        run = no.simulate(V1, no.NesterovConvex(s), [1.0], int(round(T / np.sqrt(s))), gtol=None, record="all")
        errors.append(np.max(np.abs(iterates(run, s) - bessel_solution(LAM, [1.0], run.t))))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert slope == pytest.approx(0.5, abs=0.03)
    # and the same through the method's stated limit (the run's position y_k, also O(√s) away)
    run = no.simulate(V1, no.NesterovConvex(1e-4), [1.0], 1000, gtol=None, record="all")
    limit = no.NesterovConvex(1e-4).continuous_limit()
    assert (limit.flow, limit.params, limit.time_per_step) == ("nesterov_flow", {"r": 3.0}, 0.01)
    assert compare_with_flow(run, V1).distance.max() < 0.02  # measured 0.0155


def test_the_lyapunov_energy_never_increases_along_the_flow():
    # E(t) = t²·(V − V*) + 2·|X + (t/2)·Ẋ − x*|² has dE/dt = 2t·(V − V* − ⟨X − x*, ∇V⟩) ≤ 0 for convex V
    # (Su, Boyd & Candès 2016, Theorem 3), which gives V(X(t)) − V* ≤ 2|x₀ − x*|²/t².
    V = Quadratic([[2.0, 0.6], [0.6, 0.5]], b=[1.0, -0.5])  # dense, κ ≈ 7, minimum off the origin
    x_star = np.linalg.solve([[2.0, 0.6], [0.6, 0.5]], [-1.0, 0.5])
    x0 = np.array([2.0, 1.5])
    t = np.linspace(0.0, 30.0, 3001)
    flow = nesterov_flow(V, x0, t)
    gap = flow.potential_energy - V.value(x_star)
    lyapunov = t ** 2 * gap + 2.0 * np.sum((flow.x + 0.5 * t[:, None] * flow.p - x_star) ** 2, axis=-1)
    assert lyapunov[0] == pytest.approx(2.0 * np.sum((x0 - x_star) ** 2))
    assert np.all(np.diff(lyapunov) <= 1e-9 * lyapunov[0])
    assert lyapunov[-1] < 0.5 * lyapunov[0]  # it does decrease (strictly, on a quadratic)
    assert np.all(gap[1:] <= 2.0 * np.sum((x0 - x_star) ** 2) / t[1:] ** 2)


def test_the_discrete_rate_bound_holds():
    # V(x_k) − V* ≤ 2|x₀ − x*|²/(s·(k + 1)²) for s ≤ 1/L (Su, Boyd & Candès 2016, Theorem 6), on an
    # ill-conditioned quadratic (κ = 1000) at s = 1/L.
    lam = np.geomspace(1e-3, 1.0, 6)
    V = Quadratic(lam, b=-lam)  # minimum at x* = (1, …, 1), V* = −Σλ/2
    x_star, v_star = np.ones(6), -0.5 * lam.sum()
    x0 = np.zeros(6)
    s = 1.0
    run = no.simulate(V, no.NesterovConvex(s), x0, 2000, gtol=None, record="all")
    xk = iterates(run, s)
    gap = V.value(xk) - v_star
    k = run.step
    assert np.all(gap <= 2.0 * np.sum((x0 - x_star) ** 2) / (s * (k + 1.0) ** 2) + 1e-15)


def test_the_ledger_books_the_friction_and_its_error_falls_as_the_square_root_of_s():
    # E = V(y) + |v|²/2, the friction step v ← β_k·v books (1 − β_k²)·|v|²/2; the rest is the scheme's O(√s)
    # error. Measured max |E + D − E₀| on λ = 2 from x₀ = 1 over t ≤ 10: 0.221, 0.0841, 0.0283 at s = 1e-2…1e-4.
    errors = []
    for s in (1e-2, 1e-3, 1e-4):
        run = no.simulate(V1, no.NesterovConvex(s), [1.0], int(round(10 / np.sqrt(s))), gtol=None, record="all")
        np.testing.assert_allclose(run.kinetic_energy, 0.5 * np.sum(run.p ** 2, -1), rtol=1e-14)
        assert run.dissipated[-1] == pytest.approx(run.potential_energy[0], rel=0.3)  # nearly all of E₀ = 1
        errors.append(np.max(np.abs(run.energy_error)))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 2.5) & (ratios < 3.5))  # √10 ≈ 3.16 per decade of s


def test_nesterov_convex_parameters_are_checked():
    with pytest.raises(ValueError, match="lr must be finite and > 0.0, got -1.0"):
        no.NesterovConvex(-1.0)
    with pytest.raises(ValueError, match="lr must be one number for a continuous limit"):
        no.NesterovConvex(np.array([0.1, 0.2])).continuous_limit()
