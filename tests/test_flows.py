"""Continuous-time references against closed-form solutions and the published orders.

References: the exact solutions of linear ODEs (x(t) = x₀·e^{−λt/γ}; the damped oscillator), Su, Boyd &
Candès (2016) §3.1 for the Bessel solution of their ODE on a quadratic and Theorem 3's Lyapunov
energy, Barrett & Dherin (2021) for the orders of gradient descent against the two flows.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import j1

import newtonopt as no
from newtonopt.flows import gradient_flow, nesterov_flow, newtonian_flow
from newtonopt.potentials import Quadratic


def test_gradient_flow_is_the_exponential_on_a_quadratic():
    lam, gamma = np.array([1.0, 10.0]), 2.0
    V = Quadratic(lam)
    t = np.linspace(0.0, 3.0, 31)
    flow = gradient_flow(V, [1.0, -0.5], t, friction=gamma)
    exact = np.array([1.0, -0.5]) * np.exp(-np.outer(t, lam) / gamma)
    np.testing.assert_allclose(flow.x, exact, rtol=1e-9, atol=1e-11)  # solve_ivp: rtol 1e-10, atol 1e-12
    # D = ∫ γ|ẋ|² dt = V₀ − V(t) exactly for a gradient flow: the ledger closes to the tolerance
    assert np.abs(flow.energy_error).max() < 1e-9 and flow.status == "max_steps"
    assert flow.kinetic_energy.max() == 0.0 and flow.p is None


def test_an_ensemble_flows_as_its_particles():
    V = no.potentials.Rosenbrock()
    X0 = np.array([[-1.2, 1.0], [0.5, 0.5], [1.5, 2.0]])
    t = np.linspace(0.0, 0.5, 6)
    together = gradient_flow(V, X0, t)
    for i in range(3):
        alone = gradient_flow(V, X0[i], t)
        np.testing.assert_allclose(alone.x, together.x[:, i], rtol=1e-8, atol=1e-10)
    assert together.potential_energy.shape == (6, 3) and together.dissipated.shape == (6, 3)


def test_newtonian_flow_is_the_damped_oscillator():
    k, m, gamma, x0, v0 = 4.0, 2.0, 0.6, 1.0, 0.5
    V = Quadratic([k])
    t = np.linspace(0.0, 10.0, 101)
    flow = newtonian_flow(V, [x0], t, mass=m, friction=gamma, v0=[v0])
    decay, wd = gamma / (2 * m), np.sqrt(k / m - (gamma / (2 * m)) ** 2)
    exact = np.exp(-decay * t) * (x0 * np.cos(wd * t) + (v0 + decay * x0) / wd * np.sin(wd * t))
    np.testing.assert_allclose(flow.x[:, 0], exact, atol=1e-9)
    assert np.abs(flow.energy_error).max() < 1e-9
    undamped = newtonian_flow(V, [x0], t, mass=m)
    E = undamped.total_energy
    assert np.abs(E - E[0]).max() < 1e-9 and undamped.dissipated.max() == 0.0


@pytest.mark.parametrize("lam", [1.0, 7.0])
def test_nesterov_flow_is_su_boyd_candes_bessel_solution(lam):
    """On V = λx²/2 with r = 3, X(t) = 2x₀·J₁(√λ t)/(√λ t) (Su, Boyd & Candès 2016, §3.1)."""
    V = Quadratic([lam])
    t = np.linspace(0.0, 20.0, 201)
    flow = nesterov_flow(V, [1.5], t)
    s = np.sqrt(lam) * t
    exact = np.where(s > 0, 2.0 * 1.5 * j1(np.where(s > 0, s, 1.0)) / np.where(s > 0, s, 1.0), 1.5)
    np.testing.assert_allclose(flow.x[:, 0], exact, atol=1e-8)
    assert flow.x[0, 0] == 1.5 and flow.p[0, 0] == 0.0


def test_nesterov_flow_lyapunov_energy_does_not_increase():
    """E(t) = t²(V − V*) + 2|x + (t/2)ẋ − x*|² is non-increasing for convex V and r = 3 (SBC Theorem 3)."""
    V = Quadratic([1.0, 30.0], b=[1.0, -2.0])
    xstar, vstar = V.global_minimum
    t = np.linspace(0.0, 15.0, 601)
    flow = nesterov_flow(V, [2.0, 1.0], t)
    z = flow.x + 0.5 * t[:, None] * flow.p - xstar
    energy = t**2 * (flow.potential_energy - vstar) + 2.0 * np.sum(z * z, axis=1)
    assert np.all(np.diff(energy) <= 1e-9 * energy[0])
    assert energy[-1] < 0.99 * energy[0]


def test_gradient_descent_tracks_the_flow_to_first_order_and_the_modified_flow_to_second():
    """Barrett & Dherin (2021): at fixed time T, |x_GD − x_flow| = O(lr) and |x_GD − x_modified| = O(lr²)."""
    V = no.Potential.from_expression("x**4/4 + x**2/2 + y**2 + x*y/2 + y**4/8")
    x0, T = np.array([1.2, -0.8]), 1.0
    lrs = np.array([0.04, 0.02, 0.01, 0.005])
    plain, modified = [], []
    for lr in lrs:
        steps = int(round(T / lr))
        gd = no.simulate(V, no.GradientDescent(lr), x0, n_steps=steps, record="final")
        plain.append(np.linalg.norm(gd.x_final - gradient_flow(V, x0, [0.0, T]).x[-1]))
        modified.append(np.linalg.norm(gd.x_final - gradient_flow(V, x0, [0.0, T], modified=lr).x[-1]))
    slope_plain = np.polyfit(np.log(lrs), np.log(plain), 1)[0]
    slope_modified = np.polyfit(np.log(lrs), np.log(modified), 1)[0]
    assert abs(slope_plain - 1.0) < 0.1 and abs(slope_modified - 2.0) < 0.15
    assert modified[-1] < 0.02 * plain[-1]


@pytest.mark.parametrize("bad", [dict(t_eval=[1.0, 0.5]), dict(t_eval=[]), dict(t_eval=[-1.0, 1.0]),
                                 dict(friction=0.0), dict(friction="1"), dict(modified=-0.1)])
def test_bad_arguments_name_the_parameter(bad):
    V = Quadratic([1.0])
    kwargs = {"t_eval": [0.0, 1.0], **bad}
    name = next(iter(bad))
    with pytest.raises((ValueError, TypeError), match=name):
        gradient_flow(V, [1.0], **kwargs)


def test_each_method_states_its_limit_and_the_runs_approach_it_at_the_right_order():
    """Distance to the flow at a fixed time T: O(lr) for gradient descent and the heavy ball (first-order
    maps), O(dt²) for velocity Verlet (Hairer, Lubich & Wanner 2006, ch. I); measured as the ratio when
    the step is halved."""
    from newtonopt.flows import compare_with_flow

    V = no.Potential.from_expression("x**4/4 + x**2/2 + y**2 + x*y/2")
    x0, T = [1.0, -0.5], 2.0

    def error(method, steps):
        run = no.simulate(V, method, x0, n_steps=steps, record="all")
        return compare_with_flow(run, V).distance[-1]

    gd = [error(no.GradientDescent(h), int(round(T / h))) for h in (0.02, 0.01)]
    assert gd[0] / gd[1] == pytest.approx(2.0, rel=0.05)
    hb = [error(no.HeavyBall.from_physics(dt=h, friction=1.5), int(round(T / h))) for h in (0.02, 0.01)]
    assert hb[0] / hb[1] == pytest.approx(2.0, rel=0.1)
    vv = [error(no.VelocityVerlet(dt=h, friction=1.5), int(round(T / h))) for h in (0.02, 0.01)]
    assert vv[0] / vv[1] == pytest.approx(4.0, rel=0.1)
    comparison = compare_with_flow(no.simulate(V, no.GradientDescent(0.01), x0, n_steps=200), V)
    assert comparison.limit.flow == "gradient_flow" and comparison.t[-1] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="no continuous-time limit"):
        compare_with_flow(no.simulate(V, no.Adam(0.01), x0, n_steps=5), V)
