"""Data losses: gradients, exact minimizers, minibatches without replacement, samples as the unit of cost,
SGD's temperature, and a real data set (Fisher's Iris)."""

import numpy as np
import pytest

import newtonopt as no
from newtonopt.analysis import sgd_temperature
from newtonopt.datasets import (
    add_intercept,
    load_iris,
    make_blobs,
    make_moons,
    make_regression,
    standardize,
    train_test_split,
)
from newtonopt.potentials import MLP, LeastSquares, LogisticRegression

X, Y, THETA = make_regression(120, 3, noise=0.1, seed=0)


def test_least_squares_minimizer_is_the_normal_equations_solution_and_gd_reaches_it():
    V = LeastSquares(X, Y)
    lstsq = np.linalg.lstsq(X, Y, rcond=None)[0]  # numpy's least-squares solution
    np.testing.assert_allclose(V.minima[0].x, lstsq, rtol=1e-12)
    ridge = LeastSquares(X, Y, l2=0.5)
    np.testing.assert_allclose(ridge.minima[0].x, np.linalg.solve(X.T @ X / 120 + 0.5 * np.eye(3), X.T @ Y / 120))
    lo, hi = V.curvature_bounds()
    traj = no.simulate(V, no.GradientDescent(2 / (lo + hi)), np.zeros(3), 5000, gtol=1e-12)
    assert traj.status == "converged"
    np.testing.assert_allclose(traj.x_final, lstsq, atol=1e-10)


@pytest.mark.parametrize("make", [
    lambda: LeastSquares(X, Y, l2=0.1),
    lambda: LogisticRegression(*make_blobs(80, 3, seed=1), l2=0.01),
    lambda: MLP(X, Y, (3, 5, 1), activation="tanh"),
    lambda: MLP(X, Y, (3, 4, 4, 1), activation="relu"),
    lambda: MLP(*make_moons(60, seed=2), (2, 6, 2), activation="sigmoid", loss="cross_entropy", l2=1e-3),
], ids=["least_squares", "logistic", "mlp_tanh_mse", "mlp_relu_deep", "mlp_sigmoid_ce"])
def test_gradients_agree_with_finite_differences(make):
    V = make()
    rng = np.random.default_rng(3)
    theta = rng.standard_normal((2, V.dim)) * 0.5
    assert no.check_gradient(V, theta) < 1e-6


def test_analytic_hessians_of_the_linear_models():
    from newtonopt.potential import finite_difference_hessian

    for V in (LeastSquares(X, Y, l2=0.1), LogisticRegression(*make_blobs(50, 2, seed=4))):
        theta = np.random.default_rng(0).standard_normal(V.dim)
        np.testing.assert_allclose(V.hessian(theta), finite_difference_hessian(V.gradient, theta), atol=1e-7)


def test_full_batch_view_is_bitwise_the_full_gradient():
    V = LeastSquares(X, Y)
    theta = np.ones(3)
    np.testing.assert_array_equal(V.minibatch(120).gradient(theta), V.gradient(theta))


def test_an_epoch_uses_every_sample_once_and_its_gradients_average_to_the_full_gradient():
    # Least squares is linear in the data: the mean of the 6 batch gradients of an epoch (batches of 20
    # partitioning the 120 samples) is the full gradient at a fixed θ.
    V = LeastSquares(X, Y)
    mb = V.minibatch(20, seed=7)
    theta = np.array([0.3, -0.2, 0.5])
    grads = [mb.gradient(theta) for _ in range(6)]
    np.testing.assert_allclose(np.mean(grads, axis=0), V.gradient(theta), rtol=1e-12)
    assert mb.epochs == 1.0
    order = mb._order
    assert sorted(order.tolist()) == list(range(120))  # a permutation: without replacement


def test_same_seed_same_batches_and_state_resumes_bitwise():
    V = LeastSquares(X, Y)
    a, b = V.minibatch(8, seed=5), V.minibatch(8, seed=5)
    theta = np.zeros(3)
    np.testing.assert_array_equal([a.gradient(theta) for _ in range(40)], [b.gradient(theta) for _ in range(40)])
    state = a.get_state()
    after = [a.gradient(theta) for _ in range(20)]
    b.set_state(state)
    np.testing.assert_array_equal([b.gradient(theta) for _ in range(20)], after)


def test_a_minibatch_run_resumes_bitwise_from_its_trajectory(tmp_path):
    V = LeastSquares(X, Y)
    whole = no.simulate(V.minibatch(10, seed=1), no.HeavyBall(0.05, 0.5), np.zeros(3), 60)
    part = no.simulate(V.minibatch(10, seed=1), no.HeavyBall(0.05, 0.5), np.zeros(3), 25)
    part.save(tmp_path / "p.npz")
    rest = no.simulate(V.minibatch(10, seed=99), no.HeavyBall(0.05, 0.5), no.Trajectory.load(tmp_path / "p.npz"), 35)
    np.testing.assert_array_equal(no.Trajectory.join(part, rest).x, whole.x)


def test_counts_are_in_samples():
    V = LeastSquares(X, Y)
    traj = no.simulate(V, no.GradientDescent(0.01), np.zeros(3), 10)
    assert traj.counts["gradient"] == 11 * 120
    mb = V.minibatch(12, seed=0)
    traj = no.simulate(mb, no.GradientDescent(0.01), np.zeros((4, 3)), 10)
    assert traj.counts["gradient"] == 11 * 12 * 4 and mb.epochs == pytest.approx(11 * 12 / 120)


def test_particles_of_an_ensemble_draw_their_own_batches():
    mb = LeastSquares(X, Y).minibatch(4, seed=0)
    g = mb.gradient(np.zeros((2, 3)))
    assert not np.allclose(g[0], g[1])  # same θ, different batches: independent thermal noise


def test_sgd_stationary_spread_matches_the_lyapunov_prediction():
    # Mandt, Hoffman & Blei (2017): near θ*, SGD's iterates have stationary covariance Σ with
    # AΣ + ΣA = (lr/S)·C. An ensemble of 4,000 independent replicas gives 4,000 independent samples: the
    # variance's standard error is √(2/4000) ≈ 2.2%; the discrete step adds a bias ≤ lr·λ_max/2 ≈ 2.6%.
    rng = np.random.default_rng(0)
    Xs = rng.standard_normal((4000, 2)) * np.array([1.0, 0.5])
    ys = Xs @ np.array([1.0, -2.0]) + 0.5 * rng.standard_normal(4000)
    V = LeastSquares(Xs, ys)
    lr, S, m = 0.05, 4, 4000
    mb = V.minibatch(S, seed=1, replace=True)
    prediction = sgd_temperature(mb, lr, S)
    theta_star = V.minima[0].x
    traj = no.simulate(mb, no.GradientDescent(lr), np.tile(theta_star, (m, 1)), 600, record="final")
    dev = traj.x_final - theta_star
    measured = np.diag(dev.T @ dev / m)
    predicted = np.diag(prediction.covariance)
    tolerance = 5 * np.sqrt(2 / m) + lr * V.curvature_bounds()[1] / 2
    np.testing.assert_allclose(measured, predicted, rtol=tolerance)
    assert prediction.temperature > 0


def test_logistic_regression_separates_blobs():
    Xb, yb = make_blobs(400, 2, separation=4.0, seed=2)
    V = LogisticRegression(add_intercept(Xb), yb, l2=1e-3)
    traj = no.simulate(V, no.GradientDescent(1.0), np.zeros(3), 2000, gtol=1e-8)
    # Two unit Gaussians 4 apart: the Bayes error is Φ(−2) ≈ 2.3%, so accuracy ≈ 0.977.
    assert V.accuracy(traj.x_final) > 0.95


def test_mlp_learns_iris_with_minibatch_sgd():
    # Fisher's Iris: a (4, 16, 3) tanh network reaches > 90% test accuracy (the classes are nearly separable).
    Xi, yi, names, classes = load_iris()
    assert Xi.shape == (150, 4) and classes == ["setosa", "versicolor", "virginica"] and len(names) == 4
    assert np.bincount(yi).tolist() == [50, 50, 50]
    Xtr, Xte, ytr, yte = train_test_split(Xi, yi, 0.3, seed=0)
    Xtr, Xte = standardize(Xtr, Xte)
    net = MLP(Xtr, ytr, (4, 16, 3), loss="cross_entropy", seed=0)
    theta0 = net.initial_parameters()
    traj = no.simulate(net.minibatch(16, seed=0), no.HeavyBall(0.05, 0.9), theta0, 1000)
    assert net.full_value(traj.x_final) < 0.5 * net.full_value(theta0)
    assert net.accuracy(traj.x_final, Xte, yte) > 0.9


@pytest.mark.parametrize("call, exc, match", [
    (lambda: LeastSquares(np.ones((3, 2)), np.ones(4)), ValueError, "len\\(X\\) = 3 and len\\(y\\) = 4"),
    (lambda: LeastSquares(np.array([[1.0, np.nan]]), [1.0]), ValueError, "X must be finite, got nan"),
    (lambda: LeastSquares(np.ones(3), np.ones(3)), ValueError, "X must be a non-empty 2-D array"),
    (lambda: LogisticRegression(np.ones((2, 2)), [0, 2]), ValueError, "y must hold the labels 0 and 1"),
    (lambda: LeastSquares(X, Y).minibatch(0), ValueError, "batch_size must be >= 1, got 0"),
    (lambda: LeastSquares(X, Y).minibatch(500), ValueError, "batch_size must be at most the number of samples 120"),
    (lambda: MLP(X, Y, (4, 3, 1)), ValueError, "layers\\[0\\] = 4 must equal the number of features"),
    (lambda: MLP(X, Y, (3, 2, 1), activation="swish"), ValueError, "activation must be one of"),
    (lambda: LeastSquares(X, Y, l2=-1.0), ValueError, "l2 must be finite and >= 0.0, got -1.0"),
])
def test_bad_data_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
