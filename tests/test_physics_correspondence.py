"""The dictionary between machine learning and physics, proven on examples.

Each expected number is an analytic result for a quadratic or a harmonic
oscillator, derived in the comment beside it.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import newtonopt as no
from newtonopt.potentials import Quadratic

from .conftest import random_spd

seeds = st.integers(min_value=0, max_value=2**32 - 1)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, dim=st.integers(1, 6), frac=st.floats(0.05, 1.0))
def test_gradient_descent_with_lr_at_most_one_over_L_never_increases_V(seed, dim, frac):
    # Descent lemma: V(x − η∇V) ≤ V(x) − η(1 − ηL/2)|∇V|², non-increasing for η ≤ 2/L; the issue asks η ≤ 1/L.
    rng = np.random.default_rng(seed)
    A, lam = random_spd(rng, dim)
    V = Quadratic(A, rng.standard_normal(dim))
    traj = no.simulate(V, no.GradientDescent(frac / lam.max()), rng.standard_normal(dim) * 5, n_steps=200)
    v = traj.potential_energy
    assert np.all(np.diff(v) <= 1e-12 * (1 + np.abs(v[:-1])))


@settings(max_examples=40, deadline=None)
@given(seed=seeds, dim=st.integers(1, 6), frac=st.floats(0.05, 1.9))
def test_gradient_descent_contracts_by_max_abs_one_minus_lr_lambda(seed, dim, frac):
    # e⁺ = (I − ηA)e, so ‖e⁺‖ ≤ ρ‖e‖ with ρ = max|1 − ηλ|, with equality along the eigenvector attaining ρ.
    rng = np.random.default_rng(seed)
    A, _ = random_spd(rng, dim)
    lam, vecs = np.linalg.eigh(A)
    lr = frac / lam.max()
    factors = np.abs(1 - lr * lam)
    rho = factors.max()
    assume(rho > 1e-3)  # ρ = 0 (one step to the minimizer) leaves no ratio to measure
    V = Quadratic(A)
    traj = no.simulate(V, no.GradientDescent(lr), rng.standard_normal(dim), n_steps=30)
    norms = np.linalg.norm(traj.x, axis=1)
    assert np.all(norms[1:] <= rho * norms[:-1] * (1 + 1e-10) + 1e-300)
    worst = vecs[:, np.argmax(factors)]
    traj = no.simulate(V, no.GradientDescent(lr), worst, n_steps=10)
    norms = np.linalg.norm(traj.x, axis=1)
    np.testing.assert_allclose(norms[1:] / norms[:-1], rho, rtol=1e-8)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, dim=st.integers(1, 5), dt=st.floats(0.01, 0.5), mass=st.floats(0.3, 3.0),
       damping=st.floats(0.01, 1.0))
def test_heavy_ball_is_symplectic_euler_of_damped_newton(seed, dim, dt, mass, damping):
    # DESIGN.md: p⁺ = (1 − γ·dt/m)·p + dt·F(x), x⁺ = x + dt·p⁺/m with η = dt²/m, β = 1 − γ·dt/m.
    rng = np.random.default_rng(seed)
    A, _ = random_spd(rng, dim, 0.1, 2.0)
    b = rng.standard_normal(dim)
    V = Quadratic(A, b)
    friction = damping * mass / dt  # γ·dt/m = damping ∈ (0, 1]
    hb = no.HeavyBall.from_physics(dt, mass, friction=friction)
    np.testing.assert_allclose([hb.lr, hb.momentum], [dt * dt / mass, 1 - damping], rtol=1e-14, atol=1e-14)
    back = hb.physics()
    np.testing.assert_allclose([back["dt"], back["mass"], back["friction"]], [dt, mass, friction], rtol=1e-12)

    x0 = rng.standard_normal(dim)
    n = 60
    traj = no.simulate(V, hb, x0, n_steps=n)
    x, p = x0.copy(), np.zeros(dim)
    xs, ps = [x.copy()], [p.copy()]
    for _ in range(n):
        p = (1 - friction * dt / mass) * p + dt * -(A @ x + b)
        x = x + dt * p / mass
        xs.append(x)
        ps.append(p)
    scale = 1 + np.max(np.abs(xs))
    np.testing.assert_allclose(traj.x, xs, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(traj.p, ps, rtol=0, atol=1e-12 * (1 + np.max(np.abs(ps))))
    # The from_physics twin and the machine-learning constructor run identically.
    twin = no.simulate(V, no.HeavyBall(hb.lr, hb.momentum, mass=mass), x0, n_steps=n)
    np.testing.assert_allclose(twin.x, traj.x, rtol=0, atol=1e-14 * scale)


def test_heavy_ball_with_zero_momentum_is_gradient_descent(seed_2d):
    # β = 0: fully damped each step, x⁺ = x − η∇V.
    a = no.simulate(seed_2d, no.HeavyBall(0.03, 0.0), [0.0, 0.0], n_steps=50)
    b = no.simulate(seed_2d, no.GradientDescent(0.03), [0.0, 0.0], n_steps=50)
    np.testing.assert_array_equal(a.x, b.x)


def test_gradient_descent_is_explicit_euler_of_overdamped_flow():
    # γ·ẋ = −∇V with step dt is x⁺ = x − (dt/γ)∇V: lr = dt/γ, and the clock advances by dt per step.
    gd = no.GradientDescent.from_physics(dt=0.2, friction=4.0)
    assert gd.lr == 0.05 and gd.physics() == {"dt": 0.2, "friction": 4.0}
    traj = no.simulate(Quadratic([1.0, 3.0]), gd, [1.0, 1.0], n_steps=5)
    np.testing.assert_allclose(traj.t, 0.2 * np.arange(6), rtol=1e-14)
    np.testing.assert_allclose(traj.x[1], [1 - 0.05, 1 - 0.15], rtol=1e-15)


def test_gradient_descent_ledger_error_is_the_euler_remainder():
    # V(x − ηg) − V(x) + η|g|² = ½η²·gᵀAg exactly on a quadratic, and the ledger books D = Σ η|g|².
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    V = Quadratic(A, [1.0, -1.0])
    lr = 0.1
    traj = no.simulate(V, no.GradientDescent(lr), [2.0, -1.0], n_steps=20)
    g = traj.x @ A + np.array([1.0, -1.0])
    increments = 0.5 * lr**2 * np.einsum("ki,ij,kj->k", g[:-1], A, g[:-1])
    np.testing.assert_allclose(traj.energy_error[1:], np.cumsum(increments), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(traj.dissipated[1:], np.cumsum(lr * np.sum(g[:-1] ** 2, axis=1)), rtol=1e-12)
    np.testing.assert_array_equal(traj.kinetic_energy, 0.0)
    assert traj.p is None


def harmonic(omega=1.0):
    return Quadratic([omega**2])


def test_velocity_verlet_energy_error_is_bounded_for_100k_steps_while_forward_euler_grows():
    # Velocity Verlet on ẍ = −ω²x conserves Ĥ = ½p² + ½ω²(1 − (ωh)²/4)x², so from x0 = 1, p0 = 0 the energy
    # error lies in [−(ωh)²/4·E0, 0] for ever. Forward Euler multiplies E by exactly 1 + (ωh)² per step.
    h, n = 0.05, 100_000
    e0 = 0.5
    verlet = no.simulate(harmonic(), no.VelocityVerlet(h), [1.0], n_steps=n, record="scalars")
    err = verlet.energy_error
    bound = (h**2 / 4) * e0
    assert np.max(np.abs(err)) <= bound * (1 + 1e-8)
    assert np.max(np.abs(err)) >= 0.99 * bound  # the bound is attained: it is the right number
    first, last = np.max(np.abs(err[: n // 2])), np.max(np.abs(err[n // 2:]))
    np.testing.assert_allclose(last, first, rtol=1e-3)  # no secular drift
    euler = no.simulate(harmonic(), no.ForwardEuler(h), [1.0], n_steps=1000, record="scalars")
    np.testing.assert_allclose(euler.total_energy, e0 * (1 + h**2) ** np.arange(1001), rtol=1e-10)
    assert euler.energy_error[-1] > 100 * bound


def test_halving_dt_divides_verlet_energy_error_by_four():
    # From the invariant above: max |ε| = (ωh)²/4·E0, so halving h divides it by 4 (second order).
    errs = []
    for h in (0.1, 0.05, 0.025):
        traj = no.simulate(harmonic(2.0), no.VelocityVerlet(h), [1.0], n_steps=int(40 / h), record="scalars")
        errs.append(np.max(np.abs(traj.energy_error)))
    np.testing.assert_allclose(np.array(errs[:-1]) / errs[1:], 4.0, rtol=0.02)


def test_velocity_verlet_positions_are_second_order_accurate():
    # Global error at fixed time T = 10 against x(t) = cos(ωt): O(h²), so halving h divides it by ~4.
    errors = []
    for h in (0.02, 0.01, 0.005):
        n = int(round(10 / h))
        traj = no.simulate(harmonic(1.0), no.VelocityVerlet(h), [1.0], n_steps=n, record="final")
        errors.append(abs(traj.x_final[0] - np.cos(10.0)))
    np.testing.assert_allclose(np.array(errors[:-1]) / errors[1:], 4.0, rtol=0.02)


def test_verlet_with_friction_books_the_exact_friction_and_keeps_second_order_ledger():
    # Conformal-symplectic splitting: the friction flows are exact, so ε stays the O(h²) Verlet error.
    errs = []
    for h in (0.04, 0.02, 0.01):
        traj = no.simulate(harmonic(1.0), no.VelocityVerlet(h, friction=0.3), [1.0], n_steps=int(20 / h),
                           record="scalars")
        assert np.all(np.diff(traj.dissipated) >= 0)
        assert traj.total_energy[-1] < 0.1 * traj.total_energy[0]
        errs.append(np.max(np.abs(traj.energy_error)))
    np.testing.assert_allclose(np.array(errs[:-1]) / errs[1:], 4.0, rtol=0.05)


def test_heavy_ball_ledger_books_the_friction_step():
    # The friction step p ← β·p removes (1 − β²)·K; symplectic Euler's ledger error is first order in dt.
    mu = 0.9
    traj = no.simulate(harmonic(1.0), no.HeavyBall(0.01, mu), [1.0], n_steps=200)
    np.testing.assert_allclose(np.diff(traj.dissipated), (1 - mu**2) * traj.kinetic_energy[:-1], rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(traj.kinetic_energy, traj.p[:, 0] ** 2 / 2, rtol=1e-12, atol=1e-16)
    errs = []
    for dt in (0.02, 0.01, 0.005):
        hb = no.HeavyBall.from_physics(dt, 1.0, friction=0.5)
        t = no.simulate(harmonic(1.0), hb, [1.0], n_steps=int(10 / dt), record="scalars")
        errs.append(np.max(np.abs(t.energy_error)))
    np.testing.assert_allclose(np.array(errs[:-1]) / errs[1:], 2.0, rtol=0.05)


@pytest.mark.parametrize("method", ["GradientDescent", "HeavyBall", "Nesterov", "VelocityVerlet", "ForwardEuler"])
def test_a_batched_run_equals_its_particles_run_one_by_one(method):
    rng = np.random.default_rng(7)
    A, _ = random_spd(rng, 3, 0.5, 3.0)
    V = Quadratic(A, rng.standard_normal(3))
    integ = {"GradientDescent": no.GradientDescent(0.2), "HeavyBall": no.HeavyBall(0.1, 0.7),
             "Nesterov": no.Nesterov(0.1, 0.7), "VelocityVerlet": no.VelocityVerlet(0.2, friction=0.4),
             "ForwardEuler": no.ForwardEuler(0.05, friction=0.4)}[method]
    x0 = rng.standard_normal((4, 3))
    batch = no.simulate(V, integ, x0, n_steps=40)
    for i in range(4):
        single = no.simulate(V, integ, x0[i], n_steps=40)
        np.testing.assert_allclose(batch.x[:, i], single.x, rtol=0, atol=1e-14)
        np.testing.assert_allclose(batch.energy_error[:, i], single.energy_error, rtol=0, atol=1e-12)
        np.testing.assert_allclose(batch.grad_norm[:, i], single.grad_norm, rtol=0, atol=1e-13)


def test_per_particle_hyperparameters_equal_scalar_runs():
    rng = np.random.default_rng(3)
    V = Quadratic([1.0, 4.0, 9.0])
    x0 = rng.standard_normal((3, 3))
    lrs, mus = np.array([0.01, 0.05, 0.1]), np.array([0.0, 0.5, 0.9])
    batch = no.simulate(V, no.HeavyBall(lrs, mus), x0, n_steps=30)
    for i in range(3):
        single = no.simulate(V, no.HeavyBall(lrs[i], mus[i]), x0[i], n_steps=30)
        np.testing.assert_allclose(batch.x[:, i], single.x, rtol=0, atol=1e-15)
        np.testing.assert_allclose(batch.t[:, i], single.t, rtol=1e-15)
