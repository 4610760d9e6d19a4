"""Data losses: gradients, exact minimizers, minibatches without replacement, samples as the unit of cost,
resumable randomness, SGD's temperature, and a real data set (Fisher's Iris)."""

import json
import warnings
from math import erf, sqrt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from newtonopt.potential import finite_difference_hessian
from newtonopt.potentials import MLP, LeastSquares, LogisticRegression, MinibatchView

X, Y, THETA = make_regression(120, 3, noise=0.1, seed=0)


def revealing(n):
    """A data set whose minibatch gradient names its batch: X = I, y = −1, so at θ = 0 the gradient of
    (1/2S)·Σ_{i∈B} (θᵢ + 1)² is e_B/S — its non-zero entries are the batch's indices."""
    return LeastSquares(np.eye(n), -np.ones(n))


def batch_of(view, particles=()):
    g = view.gradient(np.zeros(particles + (view.dim,)))
    return [np.flatnonzero(row).tolist() for row in g.reshape(-1, view.dim)]


# ---------------------------------------------------------------------------- the models
def test_least_squares_minimizer_is_the_normal_equations_solution_and_gd_reaches_it():
    V = LeastSquares(X, Y)
    lstsq = np.linalg.lstsq(X, Y, rcond=None)[0]  # numpy's least-squares solution
    normal = np.linalg.solve(X.T @ X, X.T @ Y)  # the normal equations XᵀXθ = Xᵀy (κ(XᵀX) ≈ 2: accurate)
    np.testing.assert_allclose(V.minima[0].x, lstsq, rtol=1e-12)
    np.testing.assert_allclose(V.minima[0].x, normal, rtol=1e-12)
    r = X @ lstsq - Y
    assert V.minimum_value == pytest.approx(r @ r / 240, rel=1e-12)  # (1/2n)|Xθ* − y|²
    ridge = LeastSquares(X, Y, l2=0.5)
    np.testing.assert_allclose(ridge.minima[0].x, np.linalg.solve(X.T @ X / 120 + 0.5 * np.eye(3), X.T @ Y / 120),
                               rtol=1e-12)
    lo, hi = V.curvature_bounds()
    np.testing.assert_allclose((lo, hi), np.linalg.eigvalsh(X.T @ X / 120)[[0, -1]], rtol=1e-12)
    traj = no.simulate(V, no.GradientDescent(2 / (lo + hi)), np.zeros(3), 5000, gtol=1e-12)
    assert traj.status == "converged"
    np.testing.assert_allclose(traj.x_final, lstsq, atol=1e-10)


def test_least_squares_with_more_parameters_than_samples_knows_only_the_minimum_value():
    # 3 equations, 5 unknowns: a plane of exact fits, V_min = 0, no unique minimizer.
    Xs = np.random.default_rng(1).standard_normal((3, 5))
    V = LeastSquares(Xs, [1.0, 2.0, 3.0])
    assert V.minima == [] and V.minimum_value == pytest.approx(0.0, abs=1e-28)
    assert V.curvature_bounds()[0] == pytest.approx(0.0, abs=1e-14)


def test_make_regression_is_recovered_within_its_standard_error():
    # y = Xθ + 0.1ξ with n = 2000: each coordinate of the fit has standard error ≈ 0.1/√2000 ≈ 2.2e-3.
    Xr, yr, theta = make_regression(2000, 4, noise=0.1, seed=3)
    np.testing.assert_allclose(LeastSquares(Xr, yr).minima[0].x, theta, atol=5 * 0.1 / np.sqrt(2000))


CASES = {
    "least_squares": lambda: LeastSquares(X, Y, l2=0.1),
    "logistic": lambda: LogisticRegression(*make_blobs(80, 3, seed=1), l2=0.01),
    "mlp_tanh_mse": lambda: MLP(X, Y, (3, 5, 1), activation="tanh"),
    "mlp_relu_mse_deep": lambda: MLP(X, Y, (3, 4, 4, 1), activation="relu"),
    "mlp_sigmoid_mse_2out": lambda: MLP(X, np.column_stack([Y, -Y]), (3, 5, 2), activation="sigmoid", l2=1e-3),
    "mlp_tanh_ce": lambda: MLP(*make_moons(60, seed=2), (2, 6, 2), loss="cross_entropy", l2=1e-3),
    "mlp_relu_ce": lambda: MLP(*make_moons(60, seed=2), (2, 6, 2), activation="relu", loss="cross_entropy"),
    "mlp_sigmoid_ce": lambda: MLP(*make_moons(60, seed=2), (2, 6, 2), activation="sigmoid", loss="cross_entropy"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_agree_with_finite_differences(name):
    # check_gradient: central differences of V; a correct gradient gives ~1e-8, a wrong one O(1).
    V = CASES[name]()
    theta = np.random.default_rng(3).standard_normal((2, V.dim)) * 0.5
    assert no.check_gradient(V, theta) < 1e-6


@pytest.mark.parametrize("name", list(CASES))
def test_an_ensemble_is_the_particles_one_by_one(name):
    # x of shape (m, dim) in Fortran order (as simulate passes it): the same values and gradients as m calls.
    V = CASES[name]()
    theta = np.asfortranarray(np.random.default_rng(4).standard_normal((3, V.dim)) * 0.5)
    value, grad = V.value_and_gradient(theta)
    for k in range(3):
        vk, gk = V.value_and_gradient(theta[k])
        np.testing.assert_allclose(value[k], vk, rtol=1e-13)
        np.testing.assert_allclose(grad[k], gk, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(CASES))
def test_per_sample_gradients_average_to_the_gradient(name):
    # V = mean of the per-sample losses + ½·l2·|θ|², so ∇V = mean of the per-sample gradients + l2·θ.
    V = CASES[name]()
    theta = np.random.default_rng(5).standard_normal(V.dim) * 0.5
    np.testing.assert_allclose(V.per_sample_gradients(theta).mean(axis=0) + V.l2 * theta, V.gradient(theta),
                               rtol=1e-10, atol=1e-14)


def test_analytic_hessians_and_hessian_vector_products_of_the_linear_models():
    # Against central differences of the analytic gradient (checked above); hvp against the Hessian's product.
    rng = np.random.default_rng(0)
    for V in (LeastSquares(X, Y, l2=0.1), LogisticRegression(*make_blobs(50, 2, seed=4), l2=0.1)):
        theta = rng.standard_normal(V.dim)
        H = V.hessian(theta)
        np.testing.assert_allclose(H, finite_difference_hessian(V.gradient, theta), atol=1e-7)
        v = rng.standard_normal((2, V.dim))
        np.testing.assert_allclose(V.hvp(np.stack([theta, theta]), v), v @ H, rtol=1e-12)


def test_logistic_regression_is_stable_for_huge_logits():
    # At |z| ~ 1e4, log(1 + e^z) overflows if computed naively; softplus(z) − yz → max(z, 0) − yz exactly.
    Xb, yb = make_blobs(40, 2, seed=5)
    V = LogisticRegression(Xb, yb)
    theta = np.array([1e4, -1e4])
    z = Xb @ theta
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = V.value_and_gradient(theta)
        assert np.all(np.isfinite(grad))
    assert value == pytest.approx(np.mean(np.maximum(z, 0) - yb * z), rel=1e-12)


def test_sigmoid_keeps_full_relative_precision_in_both_tails():
    # σ(z) = 1/(1 + e^{−z}): σ(−40) = e^{−40}/(1 + e^{−40}) ≈ 4.248e-18, not 0 (0.5·(1 + tanh(−20)) rounds to 0).
    V = LogisticRegression(np.ones((2, 1)), [0, 1])
    z = np.array([[-40.0], [-700.0], [0.0], [40.0], [800.0]])
    np.testing.assert_allclose(V.predict_proba(np.ones(1), z), 1 / (1 + np.exp(-z[:, 0])), rtol=1e-15)  # e^{−z} < 1e305
    np.testing.assert_array_equal(V.predict_proba(np.ones(1), [[-1e4], [1e4]]), [0.0, 1.0])


def test_logistic_regression_separates_blobs():
    # Two unit Gaussians 4 apart: the Bayes error is Φ(−2) ≈ 2.3%, so the best accuracy is ≈ 0.977.
    Xb, yb = make_blobs(400, 2, separation=4.0, seed=2)
    V = LogisticRegression(add_intercept(Xb), yb, l2=1e-3)
    traj = no.simulate(V, no.GradientDescent(1.0), np.zeros(3), 2000, gtol=1e-8)
    assert traj.status == "converged"
    bayes = 1 - 0.5 * (1 + erf(-2 / sqrt(2)))
    assert bayes - 0.03 < V.accuracy(traj.x_final) <= 1.0
    assert V.accuracy(np.stack([traj.x_final, -traj.x_final])).tolist() == pytest.approx(
        [V.accuracy(traj.x_final), 1 - V.accuracy(traj.x_final)])


def test_mlp_layout_initialization_and_prediction():
    net = MLP(X, Y, (3, 5, 2, 1), activation="tanh", seed=11)
    assert net.dim == 3 * 5 + 5 + 5 * 2 + 2 + 2 * 1 + 1
    theta = net.initial_parameters()
    np.testing.assert_array_equal(theta, net.initial_parameters(11))  # the constructor's seed by default
    (W1, b1), (W2, b2), (W3, b3) = net.unflatten(theta)
    assert W1.shape == (3, 5) and b2.shape == (2,) and W3.shape == (2, 1)
    assert np.all(b1 == 0) and np.all(b2 == 0) and np.all(b3 == 0)
    assert np.max(np.abs(W1)) <= np.sqrt(6 / 8) and np.max(np.abs(W2)) <= np.sqrt(6 / 7)  # Glorot's bound
    W1[0, 0] = 7.0
    assert theta[0] == 7.0  # unflatten gives views into θ
    # The forward pass by hand: tanh hidden layers, linear output.
    expected = np.tanh(np.tanh(X @ W1 + b1) @ W2 + b2) @ W3 + b3
    np.testing.assert_allclose(net.predict(theta), expected, rtol=1e-13)
    ens = net.initial_parameters(0, shape=(4,))
    assert ens.shape == (4, net.dim) and net.predict(ens).shape == (4, 120, 1)
    np.testing.assert_allclose(net.value(ens), 0.5 * np.mean((net.predict(ens)[..., 0] - Y) ** 2, axis=-1))


@pytest.mark.parametrize("activation, loss", [("tanh", "mse"), ("relu", "mse"), ("sigmoid", "cross_entropy"),
                                              ("tanh", "cross_entropy")])
def test_mlp_loss_and_backprop_match_torch_autograd(activation, loss):
    # Peer: the same network written with torch.nn.functional, differentiated by torch.autograd (float64).
    torch = pytest.importorskip("torch")
    if loss == "mse":
        Xd, yd, layers = X, np.column_stack([Y, Y**2]), (3, 5, 4, 2)
    else:
        (Xd, yd), layers = make_moons(40, seed=1), (2, 5, 4, 2)
    net = MLP(Xd, yd, layers, activation=activation, loss=loss, l2=0.03)
    theta = net.initial_parameters(3) + 0.1 * np.random.default_rng(0).standard_normal(net.dim)
    value, grad = net.value_and_gradient(theta)
    t = torch.tensor(theta, requires_grad=True)
    h, offset = torch.tensor(Xd), 0
    for i, (fan_in, fan_out) in enumerate(zip(layers[:-1], layers[1:])):  # the documented layout: W row-major, b
        W = t[offset:offset + fan_in * fan_out].reshape(fan_in, fan_out)
        offset += fan_in * fan_out
        h = h @ W + t[offset:offset + fan_out]
        offset += fan_out
        if i < len(layers) - 2:
            h = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[activation](h)
    assert offset == net.dim
    if loss == "mse":
        L = 0.5 * ((h - torch.tensor(yd)) ** 2).sum(dim=1).mean()
    else:
        L = torch.nn.functional.cross_entropy(h, torch.tensor(yd))
    L = L + 0.5 * 0.03 * (t * t).sum()
    L.backward()
    assert value == pytest.approx(L.item(), rel=1e-13)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_mlp_cross_entropy_is_the_log_softmax_and_stable():
    Xm, ym = make_moons(30, seed=1)
    net = MLP(Xm, ym, (2, 4, 2), loss="cross_entropy")
    theta = net.initial_parameters(0)
    logits = net.predict(theta)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert net.value(theta) == pytest.approx(-np.mean(np.log(p[np.arange(30), ym])), rel=1e-13)
    big = theta * 1e3  # logits ~ 1e3: exp overflows unless shifted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = net.value_and_gradient(big)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


# ---------------------------------------------------------------------------- minibatches
def test_full_batch_view_is_bitwise_the_full_gradient():
    V = LeastSquares(X, Y)
    theta = np.ones(3)
    mb = V.minibatch(120)
    np.testing.assert_array_equal(mb.gradient(theta), V.gradient(theta))
    np.testing.assert_array_equal(mb.value_and_gradient(theta)[0], V.value(theta))


@pytest.mark.parametrize("make", [lambda: LeastSquares(X, Y),
                                  lambda: MLP(X, Y, (3, 4, 1), l2=0.01)], ids=["least_squares", "mlp"])
def test_an_epochs_batch_gradients_average_to_the_full_gradient(make):
    # Six batches of 20 partition the 120 samples; a mean of equal-sized batch means is the full mean, for any loss.
    V = make()
    mb = V.minibatch(20, seed=7)
    theta = np.random.default_rng(1).standard_normal(V.dim) * 0.5
    grads = [mb.gradient(theta) for _ in range(6)]
    np.testing.assert_allclose(np.mean(grads, axis=0), V.gradient(theta), rtol=1e-12, atol=1e-15)
    assert not np.allclose(grads[0], grads[1])
    assert mb.epochs == 1.0 and mb.samples_seen == 120


def test_an_epoch_uses_every_sample_once_and_drops_the_remainder():
    # n = 10, batches of 3: three batches per epoch use 9 distinct samples; the 10th waits for the next epoch.
    view = revealing(10).minibatch(3, seed=0)
    assert view.batches_per_epoch == 3
    for _ in range(50):
        epoch = [i for _ in range(3) for i in batch_of(view)[0]]
        assert len(epoch) == 9 and len(set(epoch)) == 9


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 25), data=st.data(), particles=st.sampled_from([(), (2,)]), shared=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_every_epoch_is_floor_n_over_s_disjoint_batches_of_s(n, data, particles, shared, seed):
    # For any n, S and seed: an epoch is ⌊n/S⌋ batches of exactly S distinct samples, no sample twice.
    S = data.draw(st.integers(1, n))
    view = revealing(n).minibatch(S, seed=seed, shared=shared)
    for _ in range(2):
        epoch = [batch_of(view, particles) for _ in range(n // S)]
        for k in range(particles[0] if particles else 1):
            used = [i for step in epoch for i in step[k]]
            assert all(len(step[k]) == S for step in epoch)
            assert len(used) == (n // S) * S == len(set(used))


def test_no_sample_is_favoured_by_dropping_the_remainder():
    # Each epoch drops a uniformly random sample (n mod S = 1 of n = 10), so over 1000 epochs a sample is used
    # Binomial(1000, 0.9) times: mean 900, standard deviation 9.5; 5σ bounds.
    view = revealing(10).minibatch(3, seed=1)
    g = np.array([view.gradient(np.zeros(10)) for _ in range(3000)])
    uses = np.round(g * 3).sum(axis=0)
    assert uses.sum() == 9000
    assert np.all(np.abs(uses - 900) < 5 * 9.5)


def test_with_replacement_batches_are_independent_draws():
    # With replacement, a batch of 3 out of 10 repeats a sample with probability 1 − (10·9·8)/10³ = 0.28.
    view = revealing(10).minibatch(3, seed=2, replace=True)
    g = np.array([view.gradient(np.zeros(10)) for _ in range(2000)])
    repeats = np.mean(np.max(np.round(g * 3), axis=1) > 1)
    assert abs(repeats - 0.28) < 5 * np.sqrt(0.28 * 0.72 / 2000)


@pytest.mark.parametrize("replace", [False, True])
def test_minibatch_noise_covariance_is_c_over_s_with_the_finite_population_correction(replace):
    # The mean of S of n values drawn without replacement has covariance (C/S)·(n − S)/(n − 1), C the population
    # covariance (1/n) of the values (Cochran, Sampling Techniques, 3rd ed. 1977, thm 2.2); with replacement C/S.
    # n = 10, S = 4: the correction is 6/9, far outside the 5σ ≈ 5·√(2/20000) ≈ 5% sampling error of a variance
    # estimated from 20,000 independent particles' first batches.
    rng = np.random.default_rng(0)
    V = LeastSquares(rng.standard_normal((10, 2)), rng.standard_normal(10))
    theta = np.array([0.3, -0.2])
    grads = V.per_sample_gradients(theta)
    C = (grads - grads.mean(axis=0)).T @ (grads - grads.mean(axis=0)) / 10
    expected = C / 4 * (1.0 if replace else 6 / 9)
    g = V.minibatch(4, seed=1, replace=replace).gradient(np.tile(theta, (20000, 1)))
    assert np.all(np.abs(g.mean(axis=0) - V.gradient(theta)) < 5 * np.sqrt(np.diag(expected) / 20000))  # E[ξ] = 0
    np.testing.assert_allclose(np.diag(np.cov(g.T)), np.diag(expected), rtol=5 * np.sqrt(2 / 20000))


def test_particles_draw_their_own_batches_unless_shared():
    V = revealing(12)
    own = V.minibatch(4, seed=0)
    batches = [batch_of(own, (3,)) for _ in range(3)]  # one epoch for each of 3 particles
    for k in range(3):
        assert sorted(i for step in batches for i in step[k]) == list(range(12))  # each particle: a permutation
    assert batches[0][0] != batches[0][1] or batches[0][1] != batches[0][2]  # independent streams
    shared = V.minibatch(4, seed=0, shared=True)
    single = V.minibatch(4, seed=0)
    for _ in range(5):
        b = batch_of(shared, (3,))
        assert b[0] == b[1] == b[2] == batch_of(single)[0]  # one data stream: the single-particle one


def test_same_seed_same_batches_and_state_resumes_bitwise_through_json():
    V = LeastSquares(X, Y)
    theta = np.zeros(3)
    a, b = V.minibatch(8, seed=5), V.minibatch(8, seed=np.random.default_rng(5))
    np.testing.assert_array_equal([a.gradient(theta) for _ in range(40)], [b.gradient(theta) for _ in range(40)])
    for particles in ((), (3,)):
        for kwargs in ({}, {"replace": True}, {"shared": True}):
            view = V.minibatch(8, seed=6, **kwargs)
            x = np.zeros(particles + (3,))
            for _ in range(19):  # mid-epoch: 120 // 8 = 15 batches per epoch
                view.gradient(x)
            state = json.loads(json.dumps(view.get_state()))
            after = [view.gradient(x) for _ in range(20)]
            fresh = V.minibatch(8, seed=123, **kwargs)
            fresh.set_state(state)
            again = V.minibatch(8, seed=321, **kwargs)
            again.set_state(fresh.get_state())  # a resumed view's state resumes too
            np.testing.assert_array_equal([fresh.gradient(x) for _ in range(20)], after)
            np.testing.assert_array_equal([again.gradient(x) for _ in range(20)], after)
            assert fresh.epochs == again.epochs == view.epochs


@pytest.mark.parametrize("kwargs", [{}, {"replace": True}, {"shared": True}], ids=["epochs", "replace", "shared"])
@pytest.mark.parametrize("particles", [(), (3,)], ids=["one", "ensemble"])
def test_a_minibatch_run_resumes_bitwise_from_its_trajectory(tmp_path, kwargs, particles):
    # 25 + 35 steps (split mid-epoch: 12 batches of 10 per epoch) give bitwise the 60-step run; the resumed view's
    # own seed (99) is overwritten by the saved state.
    V = LeastSquares(X, Y)
    x0 = np.zeros(particles + (3,))
    whole = no.simulate(V.minibatch(10, seed=1, **kwargs), no.HeavyBall(0.05, 0.5), x0, 60)
    part = no.simulate(V.minibatch(10, seed=1, **kwargs), no.HeavyBall(0.05, 0.5), x0, 25)
    part.save(tmp_path / "p.npz")
    rest = no.simulate(V.minibatch(10, seed=99, **kwargs), no.HeavyBall(0.05, 0.5),
                       no.Trajectory.load(tmp_path / "p.npz"), 35)
    np.testing.assert_array_equal(no.Trajectory.join(part, rest).x, whole.x)


def test_a_state_that_does_not_fit_leaves_the_view_unchanged():
    view = LeastSquares(X, Y).minibatch(8, seed=0)
    view.gradient(np.zeros(3))
    before = view.get_state()
    bad = dict(before, rng={"bit_generator": "MT19937", "state": {"key": [0], "pos": 0}})
    with pytest.raises(ValueError, match="state\\['rng'\\] is not a state of this view's PCG64 generator"):
        view.set_state(bad)
    assert view.get_state() == before


def test_counts_are_in_samples():
    V = LeastSquares(X, Y)
    traj = no.simulate(V, no.GradientDescent(0.01), np.zeros(3), 10)
    assert traj.counts["gradient"] == 11 * 120  # 11 evaluations (x0 and 10 steps) × n = 120 samples
    mb = V.minibatch(12, seed=0)
    traj = no.simulate(mb, no.GradientDescent(0.01), np.zeros((4, 3)), 10)
    assert traj.counts["gradient"] == 11 * 12 * 4  # × batch 12 × 4 particles
    assert mb.epochs == pytest.approx(11 * 12 / 120)
    mb.reset_counts()
    mb.full_value(np.zeros((4, 3)))
    assert mb.counts["value"] == 0  # the diagnostic is free
    mb.value(np.zeros((4, 3)))
    assert mb.counts["value"] == 4 * 120  # the full-data loss costs n per particle
    V.reset_counts()
    V.hessian(np.zeros((2, 3)))
    V.hvp(np.zeros(3), np.ones(3))
    assert V.counts["hessian"] == 3 * 120


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


# ---------------------------------------------------------------------------- Fisher's Iris
def test_iris_is_fishers_table():
    # Reference values: R's datasets::iris (Fisher 1936), colMeans = 5.843333, 3.057333, 3.758000, 1.199333;
    # samples 35 and 38 as in Fisher's paper (the UCI file has 4.9,3.1,1.5,0.1 for both).
    Xi, yi, names, classes = load_iris()
    assert Xi.shape == (150, 4) and yi.dtype == np.int64
    assert classes == ["setosa", "versicolor", "virginica"]
    assert names == ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
    assert np.bincount(yi).tolist() == [50, 50, 50] and np.all(np.diff(yi) >= 0)
    np.testing.assert_allclose(Xi.mean(axis=0), [5.843333, 3.057333, 3.758000, 1.199333], atol=5e-7)
    np.testing.assert_array_equal(Xi[34], [4.9, 3.1, 1.5, 0.2])
    np.testing.assert_array_equal(Xi[37], [4.9, 3.6, 1.4, 0.1])
    np.testing.assert_array_equal(Xi.min(axis=0), [4.3, 2.0, 1.0, 0.1])
    np.testing.assert_array_equal(Xi.max(axis=0), [7.9, 4.4, 6.9, 2.5])


def test_mlp_learns_iris_with_minibatch_sgd():
    # Setting: 70/30 split (seed 0), features standardized on the training set, a (4, 16, 3) tanh network with
    # cross-entropy, Glorot init (seed 0), heavy ball lr = 0.05, momentum 0.9, batches of 16 (6 steps per
    # epoch of 105 samples), 300 steps (50 epochs). Expected: held-out accuracy > 0.9 (the classes are nearly
    # linearly separable: Fisher's linear discriminant misclassifies 3 of the 150 flowers, 98% — computed with
    # numpy, LDA with pooled covariance) and the training loss more than halved from its start near log 3 ≈ 1.1.
    Xi, yi, _, _ = load_iris()
    Xtr, Xte, ytr, yte = train_test_split(Xi, yi, 0.3, seed=0)
    Xtr, Xte = standardize(Xtr, Xte)
    net = MLP(Xtr, ytr, (4, 16, 3), loss="cross_entropy", seed=0)
    theta0 = net.initial_parameters()
    traj = no.simulate(net.minibatch(16, seed=0), no.HeavyBall(0.05, 0.9), theta0, 300)
    assert traj.counts["gradient"] == 301 * 16
    assert net.full_value(traj.x_final) < 0.5 * net.full_value(theta0)
    assert net.accuracy(traj.x_final, Xte, yte) > 0.9


# ---------------------------------------------------------------------------- data helpers
def test_generators_are_seeded_and_helpers_split_and_scale():
    for make in (lambda s: make_regression(50, 3, seed=s), lambda s: make_blobs(50, 3, seed=s),
                 lambda s: make_moons(50, seed=s)):
        for a, b in zip(make(4), make(4)):
            np.testing.assert_array_equal(a, b)
        assert not np.array_equal(make(4)[0], make(5)[0])
    Xtr, Xte, ytr, yte = train_test_split(X, np.arange(120), 0.25, seed=0)
    assert len(Xte) == 30 and sorted(np.concatenate([ytr, yte]).tolist()) == list(range(120))
    np.testing.assert_array_equal(Xte, X[yte])
    Str, Ste = standardize(Xtr, Xte)
    np.testing.assert_allclose(Str.mean(axis=0), 0, atol=1e-14)
    np.testing.assert_allclose(Str.std(axis=0), 1, rtol=1e-14)
    np.testing.assert_allclose(Ste, (Xte - Xtr.mean(axis=0)) / Xtr.std(axis=0), rtol=1e-14)
    np.testing.assert_array_equal(add_intercept(X)[:, -1], 1.0)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, exc, match", [
    (lambda: LeastSquares(np.ones((3, 2)), np.ones(4)), ValueError, r"len\(X\) = 3 and len\(y\) = 4"),
    (lambda: LeastSquares(np.array([[1.0, np.nan]]), [1.0]), ValueError, r"X must be finite, got nan at index \(0, 1"),
    (lambda: LeastSquares(np.ones((2, 1)), [1.0, np.inf]), ValueError, r"y must be finite, got inf at index \(1,\)"),
    (lambda: LeastSquares(np.ones(3), np.ones(3)), ValueError, r"X must be a non-empty 2-D array .* shape \(3,\)"),
    (lambda: LeastSquares(np.array([["a"]]), [1.0]), TypeError, "X must hold real numbers, got dtype <U1"),
    (lambda: LeastSquares(X, Y, l2=-1.0), ValueError, "l2 must be finite and >= 0.0, got -1.0"),
    (lambda: LogisticRegression(np.ones((2, 2)), [0, 2]), ValueError, r"y must hold the labels 0 and 1, got \[0 2\]"),
    (lambda: LeastSquares(X, Y).minibatch(0), ValueError, "batch_size must be >= 1, got 0"),
    (lambda: LeastSquares(X, Y).minibatch(500), ValueError, "batch_size must be at most .* n = 120, got 500"),
    (lambda: LeastSquares(X, Y).minibatch(2.5), TypeError, "batch_size must be an integer, got 2.5"),
    (lambda: LeastSquares(X, Y).minibatch(4, seed=1.5), TypeError, "seed must be an int, a numpy Generator or None"),
    (lambda: LeastSquares(X, Y).minibatch(4, seed=-3), ValueError, "seed must be >= 0, got -3"),
    (lambda: LeastSquares(X, Y).minibatch(4).set_state({"rng": {}, "position": 0}), ValueError,
     r"state must be a dict from get_state\(\), got one without the keys \['n', "),
    (lambda: LeastSquares(X, Y).minibatch(4).set_state(dict(LeastSquares(X, Y).minibatch(4).get_state(), position=99)),
     ValueError, r"state\['position'\] must be at most 30 .* got 99"),
    (lambda: LeastSquares(X, Y).predict(np.ones(3), np.ones((2, 4))), ValueError, r"X must have shape \(samples, 3\)"),
    (lambda: MLP(X, Y, (3, 2, 1)).initial_parameters(0, shape=(2.5,)), TypeError, r"shape\[0\] must be an integer"),
    (lambda: MinibatchView("data", 4), TypeError, "parent must be a data loss"),
    (lambda: LeastSquares(X, Y).minibatch(4).set_state(LeastSquares(X, Y).minibatch(5).get_state()), ValueError,
     "state belongs to a view with .*'batch_size': 5"),
    (lambda: MLP(X, Y, (4, 3, 1)), ValueError, r"layers\[0\] = 4 must equal the number of features X.shape\[1\] = 3"),
    (lambda: MLP(X, Y, (3,)), ValueError, "layers must list at least the input and output widths, got \\(3,\\)"),
    (lambda: MLP(X, Y, (3, 0, 1)), ValueError, r"layers\[1\] must be >= 1, got 0"),
    (lambda: MLP(X, Y, (3, 2, 1), activation="swish"), ValueError, "activation must be one of .* got 'swish'"),
    (lambda: MLP(X, Y, (3, 2, 1), loss="hinge"), ValueError, "loss must be one of .* got 'hinge'"),
    (lambda: MLP(X, Y, (3, 2, 2)), ValueError, r"y must have shape \(n, 2\) .* got shape \(120,\)"),
    (lambda: MLP(X, np.arange(120) % 4, (3, 2, 3), loss="cross_entropy"), ValueError, "class label 3"),
    (lambda: MLP(X, Y, (3, 2, 3), loss="cross_entropy"), ValueError, "y must hold non-negative integer class labels"),
    (lambda: train_test_split(X, Y, 1.5), ValueError, r"test_fraction must be finite and in \(0.0, 1.0\), got 1.5"),
    (lambda: train_test_split(X, Y[:5]), ValueError, r"same number of samples, got shapes \(120, 3\) and \(5,\)"),
    (lambda: make_regression(0), ValueError, "n must be >= 1, got 0"),
    (lambda: make_moons(10, noise=-1), ValueError, "noise must be finite and >= 0.0, got -1"),
])
def test_bad_arguments_name_themselves_and_the_value(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
