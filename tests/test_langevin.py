"""Temperature: Langevin dynamics sample Boltzmann's distribution.

Statistical tolerances: an ensemble of n independent particles is run to
equilibrium and its final states are n independent samples. The sample variance
of n normal samples has relative standard error √(2/(n−1)); a fraction p has
standard error √(p(1−p)/n). Every check allows 5 standard errors.
"""

import numpy as np
import pytest
from scipy import integrate

import newtonopt as no
from newtonopt.potentials import Quadratic
from newtonopt.schedules import Exponential

N = 20_000
Z5 = 5.0


def test_baoab_samples_the_harmonic_boltzmann_distribution_exactly_in_x():
    # BAOAB is exact in configuration on a harmonic well: ⟨x_i²⟩ = T/k_i for any stable dt, while the momenta
    # at step boundaries have ⟨p_i²⟩ = mT(1 − (ω_i·dt/2)²) (Leimkuhler & Matthews 2013, §4).
    k, T, dt = np.array([2.0, 0.5]), 0.3, 0.2
    traj = no.simulate(Quadratic(k), no.Langevin(dt, friction=1.0, temperature=T, seed=11), np.zeros((N, 2)),
                       n_steps=400, record="final")
    var = traj.x_final.var(axis=0)
    np.testing.assert_allclose(var, T / k, rtol=Z5 * np.sqrt(2 / (N - 1)))
    expected_K = 0.5 * T * np.sum(1 - k * dt**2 / 4)
    # K is a sum of two independent (T/2)(1 − ...)·χ²₁ terms: its standard deviation is about T/√2.
    assert abs(traj.kinetic_energy[-1].mean() - expected_K) < Z5 * (T / np.sqrt(2)) / np.sqrt(N)


def test_overdamped_langevin_stationary_variance_of_euler_maruyama():
    # x⁺ = (1 − lr·k)x + √(2·lr·T)ξ has stationary variance T / (k(1 − lr·k/2)): the O(lr) bias of the method.
    k, T, lr = np.array([4.0, 1.0]), 0.5, 0.05
    traj = no.simulate(Quadratic(k), no.OverdampedLangevin(lr, temperature=T, seed=5), np.zeros((N, 2)),
                       n_steps=400, record="final")
    expected = T / (k * (1 - lr * k / 2))
    np.testing.assert_allclose(traj.x_final.var(axis=0), expected, rtol=Z5 * np.sqrt(2 / (N - 1)))


def double_well(h=1.0, tilt=0.25):
    def f(x):
        return h * (x[..., 0] ** 2 - 1) ** 2 + tilt * x[..., 0] + 0.5 * x[..., 1] ** 2

    def g(x):
        return np.stack([4 * h * x[..., 0] * (x[..., 0] ** 2 - 1) + tilt, x[..., 1]], axis=-1)

    return no.Potential.from_function(f, g, dim=2, name="double well")


def test_double_well_occupation_follows_boltzmann():
    # P(right well)/P(left well) = ∫_{x>x_b} e^{−V/T} / ∫_{x<x_b} e^{−V/T} (the y factor cancels), with x_b the
    # barrier top; to leading order in T this is exp(−ΔV/T)·√(V''_L/V''_R) (Boltzmann with harmonic wells).
    h, tilt, T = 1.0, 0.25, 0.5
    V = double_well(h, tilt)
    roots = np.sort(np.roots([4 * h, 0.0, -4 * h, tilt]).real)
    x_left, x_barrier, x_right = roots

    def weight(x):
        return np.exp(-(h * (x * x - 1) ** 2 + tilt * x) / T)

    right = integrate.quad(weight, x_barrier, 6)[0]
    left = integrate.quad(weight, -6, x_barrier)[0]
    p_right = right / (left + right)
    traj = no.simulate(V, no.Langevin(0.05, friction=1.0, temperature=T, seed=3), np.zeros((N, 2)), n_steps=4000,
                       record="final")
    frac = np.mean(traj.x_final[:, 0] > x_barrier)
    assert abs(frac - p_right) < Z5 * np.sqrt(p_right * (1 - p_right) / N)
    # The Boltzmann factor of the two minima sets the ratio up to the curvature (entropy) factor.
    dV = (h * (x_right**2 - 1) ** 2 + tilt * x_right) - (h * (x_left**2 - 1) ** 2 + tilt * x_left)
    curv = np.sqrt((12 * h * x_left**2 - 4 * h) / (12 * h * x_right**2 - 4 * h))
    assert frac / (1 - frac) == pytest.approx(np.exp(-dV / T) * curv, rel=0.25)


def test_same_seed_is_bitwise_the_same_and_particles_have_their_own_streams():
    V = Quadratic([1.0, 3.0])
    x0 = np.ones((3, 2))
    a = no.simulate(V, no.Langevin(0.1, temperature=0.2, seed=42), x0, n_steps=50)
    b = no.simulate(V, no.Langevin(0.1, temperature=0.2, seed=42), x0, n_steps=50)
    c = no.simulate(V, no.Langevin(0.1, temperature=0.2, seed=43), x0, n_steps=50)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    assert not np.array_equal(a.x[:, 0], a.x[:, 1])  # same start, different noise per particle
    # An array of seeds makes particle i's run that of a single run with seed[i].
    seeds = np.array([7, 8, 9])
    batch = no.simulate(V, no.OverdampedLangevin(0.05, temperature=0.3, seed=seeds), x0, n_steps=40)
    for i in range(3):
        single = no.simulate(V, no.OverdampedLangevin(0.05, temperature=0.3, seed=int(seeds[i])), x0[i], n_steps=40)
        np.testing.assert_array_equal(batch.x[:, i], single.x)


def test_langevin_ledger_books_the_heat_and_keeps_the_discretization_error_second_order():
    # The O step is exact and fully booked, so ε = E + D − E₀ is BAOAB's O(dt²) error: halving dt divides the
    # mean |ε| (over the ensemble) at a fixed time by about 4.
    V = Quadratic([1.0, 4.0])
    errs = []
    for dt in (0.1, 0.05):
        traj = no.simulate(V, no.Langevin(dt, friction=0.5, temperature=0.5, seed=1), np.ones((4000, 2)),
                           n_steps=int(10 / dt), record="final")
        errs.append(np.mean(np.abs(traj.energy_error[-1])))
        assert np.mean(np.abs(traj.dissipated[-1])) > 20 * errs[-1]
    assert 3.0 < errs[0] / errs[1] < 5.5


def test_overdamped_ledger_is_exact_on_a_quadratic():
    # Stratonovich heat −½(∇V(x) + ∇V(x⁺))·Δx equals −ΔV exactly for a quadratic (the trapezoid rule is exact).
    traj = no.simulate(Quadratic([1.0, 4.0], [0.5, -1.0]), no.OverdampedLangevin(0.05, temperature=0.7, seed=2),
                       np.ones((10, 2)), n_steps=300)
    assert np.max(np.abs(traj.energy_error)) < 1e-12


def test_annealing_with_a_temperature_schedule_cools_the_ensemble():
    V = Quadratic([1.0, 1.0])
    cooling = Exponential(1.0, 0.99)  # T_k = 0.99^k: T ≈ 2.6e-5 after 1,050 steps
    traj = no.simulate(V, no.Langevin(0.1, temperature=cooling, seed=4), np.zeros((2000, 2)), n_steps=1050,
                       record="final")
    # At the final temperature ⟨|x|²⟩ = 2T ≈ 5e-5 if the ensemble kept up; allow the lag of cooling.
    assert np.mean(np.sum(traj.x_final**2, axis=1)) < 1e-3


@pytest.mark.parametrize("make, exc, match", [
    (lambda: no.Langevin(0.1, temperature=-1.0), ValueError, "temperature must be finite and >= 0.0, got -1.0"),
    (lambda: no.OverdampedLangevin(0.1, temperature=-0.5), ValueError, "temperature .* got -0.5"),
    (lambda: no.Langevin(0.1, seed=1.5), TypeError, "seed must be an int"),
    (lambda: no.Langevin(0.0), ValueError, "dt must be finite and > 0.0, got 0.0"),
    (lambda: no.OverdampedLangevin(0.1, friction=0.0), ValueError, "friction must be finite and > 0.0, got 0.0"),
])
def test_bad_thermostat_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_negative_seed_is_rejected_when_the_run_starts():
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -3"):
        no.simulate(Quadratic([1.0]), no.Langevin(0.1, seed=-3), [0.0], n_steps=1)
