"""Relativistic gradient descent (França, Sulam, Robinson & Vidal 2020) and Hamiltonian descent with a chosen
kinetic energy (Maddison, Paulin, Teh, O'Donoghue & Doucet 2018): the properties their papers prove, measured."""

from __future__ import annotations

import numpy as np
import pytest

import newtonopt as no
from newtonopt.integrators.hamiltonian_descent import kinetic_energy
from newtonopt.potentials import Quadratic
from newtonopt.simulate import prepare_start

V2 = Quadratic([1.0, 5.0], [0.3, -1.0])


def quartic(scale: float = 1.0) -> no.Potential:
    """V = scale·|x|⁴ in two dimensions (∇V = 4·scale·|x|²·x): no curvature at the minimum, steep far out."""
    return no.Potential.from_function(lambda x: scale * np.sum(x * x, -1) ** 2,
                                      lambda x: 4.0 * scale * np.sum(x * x, -1)[..., None] * x, dim=2, name="quartic")


# ------------------------------------------------------------------------------------------ relativistic
def _step_map(integrator, V, z):
    """One step as a map of phase space (x, p) → (x⁺, p⁺)."""
    d = z.size // 2
    state = integrator.init(V, prepare_start(V, np.array(z[:d])))
    state.memory.p[...] = z[d:]
    integrator.step(V, state)
    return np.concatenate([state.x, state.memory.p])


def test_one_step_contracts_phase_space_volume_by_exactly_exp_minus_d_gamma_dt():
    # Conformal symplecticity: det ∂(x⁺, p⁺)/∂(x, p) = e^(−d·γ·dt) (McLachlan & Perlmutter 2001; França et al.
    # 2020, §2), here d = 3. The Jacobian by central differences (h = 1e-6: truncation ~h² ≈ 1e-12 relative
    # on this smooth map); measured: 6e-11 relative.
    V = Quadratic([1.0, 3.0, 7.0], b=[0.2, -0.1, 0.3])
    dt, gamma = 0.1, 0.7
    rgd = no.RelativisticGD(dt, mass=1.3, friction=gamma, light_speed=0.8)  # |p| ~ mc: far from the classical limit
    z0 = np.array([0.5, -0.3, 0.2, 0.4, 0.9, -0.6])
    h = 1e-6
    jacobian = np.empty((6, 6))
    for j in range(6):
        e = np.zeros(6)
        e[j] = h
        jacobian[:, j] = (_step_map(rgd, V, z0 + e) - _step_map(rgd, V, z0 - e)) / (2 * h)
    assert np.linalg.det(jacobian) == pytest.approx(np.exp(-3 * gamma * dt), rel=1e-9)
    # Without friction the step is symplectic: volume kept.
    frictionless = no.RelativisticGD(dt, mass=1.3, light_speed=0.8)
    for j in range(6):
        e = np.zeros(6)
        e[j] = h
        jacobian[:, j] = (_step_map(frictionless, V, z0 + e) - _step_map(frictionless, V, z0 - e)) / (2 * h)
    assert np.linalg.det(jacobian) == pytest.approx(1.0, rel=1e-9)


def test_as_c_grows_the_iterates_tend_to_velocity_verlets_at_order_one_over_c_squared():
    # ẋ = c·p/√(|p|² + m²c²) = (p/m)·(1 − |p|²/(2m²c²) + …): the difference from velocity Verlet (the same
    # splitting with ẋ = p/m) is O(1/c²). Measured: c²·max|x − x_Verlet| = 17.7, 18.3, 18.4, 18.4 at c = 10…80.
    reference = no.simulate(V2, no.VelocityVerlet(0.1, friction=0.5), [1.0, -2.0], 100, record="all")
    scaled = []
    for c in (10.0, 20.0, 40.0, 80.0):
        run = no.simulate(V2, no.RelativisticGD(0.1, friction=0.5, light_speed=c), [1.0, -2.0], 100, record="all")
        scaled.append(c * c * np.max(np.abs(run.x - reference.x)))
    assert scaled[-1] > 1.0  # not identical: the relativistic correction is there
    assert np.ptp(scaled[1:]) < 0.02 * scaled[-1]  # c²·difference settles to a constant: order exactly 2


def test_stable_on_a_steep_quartic_where_the_heavy_ball_and_verlet_diverge():
    # V = |x|⁴ from (5, 3): curvature ~12|x|² ≈ 400 at the start, so dt·ω ≈ 4 > 2 for the classical steps,
    # which diverge within a few steps; the relativistic drift is at most c·dt and the run settles.
    # Measured: heavy ball diverges at step 2, RGD ends at V = 4e-8 after 3000 steps, speed ≤ 0.99999 c.
    W = quartic()
    x0 = [5.0, 3.0]
    dt, gamma, c = 0.2, 1.0, 1.0
    assert no.simulate(W, no.HeavyBall.from_physics(dt, 1.0, friction=gamma), x0, 3000).status == "diverged"
    assert no.simulate(W, no.VelocityVerlet(dt, friction=gamma), x0, 3000).status == "diverged"
    run = no.simulate(W, no.RelativisticGD(dt, friction=gamma, light_speed=c), x0, 3000, record="all")
    assert run.status != "diverged" and run.potential_energy[-1] < 1e-6
    speed = np.linalg.norm(np.diff(run.x, axis=0), axis=-1) / dt
    assert speed.max() < c
    # the ledger closes to the leapfrog's error: E₀ = 1156, measured max |ε| = 0.89
    assert np.max(np.abs(run.energy_error)) < 1e-3 * run.potential_energy[0]


def test_the_speed_never_exceeds_c_in_an_ensemble_with_per_particle_c():
    c = np.array([0.1, 1.0, 3.0])
    run = no.simulate(quartic(), no.RelativisticGD(0.05, friction=0.5, light_speed=c),
                      np.array([[4.0, -3.0], [2.0, 2.0], [-3.0, 1.0]]), 400, record="all")
    speed = np.linalg.norm(np.diff(run.x, axis=0), axis=-1) / 0.05
    assert np.all(speed < c) and np.all(speed.max(axis=0) > 0.9 * c)  # each particle reaches near its own c


def test_relativistic_ledger_books_the_exact_relativistic_kinetic_energy_and_friction():
    # K = c·√(|p|² + m²c²) − m·c² from the recorded p, and E + D − E₀ shrinks as dt² (a leapfrog):
    # measured max |ε| ratio 4.0 when dt halves.
    m, c = 2.0, 0.7
    errors = []
    for dt in (0.04, 0.02):
        run = no.simulate(V2, no.RelativisticGD(dt, mass=m, friction=0.8, light_speed=c), [1.0, -2.0],
                          int(4 / dt), record="all")
        p_sq = np.sum(run.p ** 2, axis=-1)
        np.testing.assert_allclose(run.kinetic_energy, c * np.sqrt(p_sq + (m * c) ** 2) - m * c * c,
                                   rtol=1e-12, atol=1e-15)
        assert run.dissipated[-1] > 0.5 * run.potential_energy[0]  # friction took most of the energy
        errors.append(np.max(np.abs(run.energy_error)))
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.1)


def test_relativistic_parameters_are_checked():
    with pytest.raises(ValueError, match="light_speed must be finite and > 0.0, got 0.0"):
        no.RelativisticGD(0.1, light_speed=0.0)
    assert no.RelativisticGD(0.1).continuous_limit() is None


# ---------------------------------------------------------------------------------- Hamiltonian descent
def _window_ratios(V, width):
    """(V_{i+w}/V_i)^(1/w) over consecutive windows of ``width`` steps after the first: the mean ratio V_{k+1}/V_k."""
    starts = range(width, len(V) - width, width)
    return np.array([(V[i + width] / V[i]) ** (1.0 / width) for i in starts])


def test_the_matched_kinetic_energy_converges_linearly_on_a_quartic_and_the_quadratic_one_sublinearly():
    # Maddison et al. (2018), §2-3: on V = |x|^b/b, k(p) = |p|^a/a with 1/a + 1/b = 1 (a = 4/3 for b = 4)
    # converges linearly; the quadratic k(p) = |p|²/2 does not (V is not strongly convex at 0).
    # Measured (ε = 0.1, γ = 4, 1000 steps from (1, 0.5), windows of 200 steps): power 0.711, 0.704, 0.713, 0.729;
    # quadratic 0.99362, 0.99615, 0.99724, 0.99784.
    W = quartic(0.25)
    x0 = [1.0, 0.5]
    power = no.simulate(W, no.HamiltonianDescent(0.1, friction=4.0, kinetic="power", power=4 / 3), x0, 1000,
                        gtol=None, record="all")
    quadratic = no.simulate(W, no.HamiltonianDescent(0.1, friction=4.0, kinetic="quadratic"), x0, 1000,
                            gtol=None, record="all")
    linear = _window_ratios(power.potential_energy, 200)
    assert np.all(linear < 0.8) and linear.max() / linear.min() < 1.05  # a steady ratio well below 1
    sublinear = _window_ratios(quadratic.potential_energy, 200)
    assert np.all(np.diff(sublinear) > 0) and sublinear[-1] > 0.997  # the ratio creeps up to 1
    assert power.potential_energy[-1] < 1e-100 < 1e-5 < quadratic.potential_energy[-1]


@pytest.mark.parametrize("kinetic, power", [("quadratic", 2.0), ("relativistic", 2.0), ("power", 4 / 3),
                                            ("power", 3.0)])
def test_hamiltonian_descent_ledger_closes_to_the_euler_error(kinetic, power):
    # E = V + k(p) with k from the recorded p; the friction step's k(p) − k(δ·p) is booked, so what is left is
    # symplectic Euler's O(ε) error, without drift: measured max |ε| ratio ≈ 2 when ε halves.
    errors = []
    for dt in (0.02, 0.01):
        run = no.simulate(V2, no.HamiltonianDescent(dt, friction=0.5, kinetic=kinetic, power=power), [1.0, -2.0],
                          int(6 / dt), record="all")
        np.testing.assert_allclose(run.kinetic_energy, kinetic_energy(kinetic, np.sum(run.p ** 2, -1), power),
                                   rtol=1e-12, atol=1e-300)
        assert run.dissipated[-1] > 0.2 * run.potential_energy[0]
        errors.append(np.max(np.abs(run.energy_error)))
    assert 1.6 < errors[0] / errors[1] < 2.4


def test_the_quadratic_kinetic_energy_is_the_heavy_ball_with_a_scaled_gradient():
    # p⁺ = δ·(p − ε·∇V), x⁺ = x + ε·p⁺ is the heavy ball with lr = δ·ε², momentum δ (v = −p/(δ·ε)).
    dt, gamma = 0.05, 2.0
    delta = 1.0 / (1.0 + gamma * dt)
    hd = no.simulate(V2, no.HamiltonianDescent(dt, friction=gamma, kinetic="quadratic"), [1.0, -2.0], 200)
    hb = no.simulate(V2, no.HeavyBall(delta * dt * dt, delta), [1.0, -2.0], 200)
    np.testing.assert_allclose(hd.x, hb.x, rtol=0, atol=1e-12)


def test_hamiltonian_descent_parameters_are_checked():
    known = r"\('quadratic', 'relativistic', 'power'\)"
    with pytest.raises(ValueError, match=rf"kinetic must be one of {known}, got 'cubic'"):
        no.HamiltonianDescent(0.1, kinetic="cubic")
    with pytest.raises(TypeError, match="kinetic must be one of"):
        no.HamiltonianDescent(0.1, kinetic=("power", 1.5))
    with pytest.raises(ValueError, match="power must be finite and > 1.0, got 1.0"):
        no.HamiltonianDescent(0.1, kinetic="power", power=1.0)
