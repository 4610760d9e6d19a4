"""The seeds' worked examples, computed by hand."""

import numpy as np

import newtonopt as no


def test_one_step_of_gradient_descent_matches_the_hand_computation(seed_1d):
    # V'(x) = 12x − 12; at x0 = −0.9: V' = −22.8, so x1 = −0.9 − 0.03·(−22.8) = −0.216.
    traj = no.simulate(seed_1d, no.GradientDescent(lr=0.03), -0.9, n_steps=1)
    assert traj.x[1, 0] == np.float64(-0.9) - 0.03 * (12 * np.float64(-0.9) - 12)
    np.testing.assert_allclose(traj.x[1, 0], -0.216, rtol=1e-14)


def test_gradient_descent_reaches_the_minimum_x_equals_1(seed_1d):
    # The error contracts by |1 − 0.03·12| = 0.64 per step; the minimizer of 6x² − 12x + 3 is x = 1, V = −3.
    traj = no.simulate(seed_1d, no.GradientDescent(lr=0.03), -0.9, n_steps=1000, gtol=1e-12)
    assert traj.status == "converged"
    np.testing.assert_allclose(traj.x_final, [1.0], atol=1e-13)
    np.testing.assert_allclose(traj.potential_energy[-1], -3.0, atol=1e-12)
    errors = np.abs(traj.x[:, 0] - 1.0)
    np.testing.assert_allclose(errors[1:20] / errors[:19], 0.64, rtol=1e-9)


def test_two_dimensional_seed_example_converges_to_its_minimizer(seed_2d):
    # ∇V = (12x − 12, 18y − 14) = 0 at (1, 7/9).
    traj = no.simulate(seed_2d, no.GradientDescent(lr=0.05), [0.0, 0.0], n_steps=2000, gtol=1e-10)
    assert traj.status == "converged"
    np.testing.assert_allclose(traj.x_final, [1.0, 7.0 / 9.0], atol=1e-11)
