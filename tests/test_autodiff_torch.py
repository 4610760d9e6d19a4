"""Potentials from torch autodiff, checked against the package's analytic potentials and finite differences.

The references: newtonopt.potentials.Rosenbrock and LennardJones (hand-derived gradients and Hessians,
themselves tested against scipy.optimize.rosen_der/rosen_hess and ASE), and central differences.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import LennardJones, Rosenbrock
from newtonopt.potentials.autodiff import potential_from_torch  # also Potential.from_torch

torch = pytest.importorskip("torch")
# torch.func itself calls the deprecated torch.jit.script on import of some transforms; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def rosenbrock(x):
    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def lennard_jones(x):
    pos = x.reshape(-1, 3)
    i, j = torch.triu_indices(len(pos), len(pos), offset=1)
    r2 = ((pos[i] - pos[j]) ** 2).sum(-1)
    inv6 = 1.0 / r2**3
    return (4.0 * (inv6 * inv6 - inv6)).sum()


@pytest.mark.parametrize("dim", [2, 5])
def test_rosenbrock_in_torch_equals_the_library_to_round_off(dim):
    V, R = potential_from_torch(rosenbrock, dim), Rosenbrock(dim)
    x = np.random.default_rng(dim).uniform(-1.5, 1.5, (3, 4, dim))
    v = np.random.default_rng(1).standard_normal(x.shape)
    np.testing.assert_allclose(V.value(x), R.value(x), rtol=1e-14)
    np.testing.assert_allclose(V.gradient(x), R.gradient(x), rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(V.hessian(x), R.hessian(x), rtol=1e-13, atol=1e-11)
    np.testing.assert_allclose(V.hvp(x, v), np.einsum("...ij,...j->...i", R.hessian(x), v), rtol=1e-12, atol=1e-10)
    counted = potential_from_torch(rosenbrock, dim)
    assert counted.value(x).shape == (3, 4) and counted.counts["value"] == 12
    counted.hvp(x, v)
    assert counted.counts["hessian"] == 12  # an hvp counts as a Hessian evaluation, as scipy's nhev


def test_lennard_jones_in_torch_equals_the_library():
    L = LennardJones(4)
    V = potential_from_torch(lennard_jones, 12)
    x = np.stack([L.initial_positions(seed=s) for s in range(3)])
    np.testing.assert_allclose(V.value(x), L.value(x), rtol=1e-13)
    np.testing.assert_allclose(V.gradient(x), L.gradient(x), rtol=1e-11, atol=1e-11)
    assert no.check_gradient(V, x[0]) < 1e-7


def test_a_run_on_the_torch_potential_matches_the_analytic_one():
    V, R = potential_from_torch(rosenbrock, 2), Rosenbrock(2)
    a = no.simulate(V, no.HeavyBall(1e-3, 0.9), [-1.2, 1.0], n_steps=300)
    b = no.simulate(R, no.HeavyBall(1e-3, 0.9), [-1.2, 1.0], n_steps=300)
    np.testing.assert_allclose(a.x, b.x, rtol=1e-11, atol=1e-13)  # not chaotic at this step: round-off stays small
    assert a.counts == b.counts


def test_float32_evaluation():
    V = potential_from_torch(rosenbrock, 2, dtype=torch.float32)
    g = V.gradient(np.array([0.5, 0.5], dtype=np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, Rosenbrock(2).gradient([0.5, 0.5]), rtol=1e-6)


def test_bad_functions_and_a_missing_torch(monkeypatch):
    with pytest.raises(ValueError, match="scalar tensor"):
        potential_from_torch(lambda x: x * 2, 3)
    with pytest.raises(TypeError, match="fn must be callable"):
        potential_from_torch("x**2", 1)
    with pytest.raises(TypeError, match="dtype"):
        potential_from_torch(rosenbrock, 2, dtype=torch.int64)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"pip install 'newtonopt\[torch\]'"):
        potential_from_torch(rosenbrock, 2)


# ---------------------------------------------------------------------------------------------- nn.Module
def _regression(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)


def test_a_linear_module_is_least_squares():
    """nn.Linear without bias and half the mean squared error is LeastSquares (V = (1/2n)·|Xθ − y|²)."""
    from newtonopt.potentials import LeastSquares
    from newtonopt.potentials.autodiff import potential_from_torch_module

    X, y = _regression()
    model = torch.nn.Linear(4, 1, bias=False)
    V = potential_from_torch_module(model, lambda out, t: 0.5 * torch.mean((out[..., 0] - t) ** 2), (X, y))
    L = LeastSquares(X, y)
    theta = np.random.default_rng(3).standard_normal((5, 4))
    np.testing.assert_allclose(V.value(theta), L.value(theta), rtol=1e-13)
    np.testing.assert_allclose(V.gradient(theta), L.gradient(theta), rtol=1e-12, atol=1e-13)
    assert V.counts["gradient"] == 5 * 60  # in samples, as the package's data losses
    np.testing.assert_array_equal(V.initial_parameters(), model.weight.detach().numpy().reshape(-1))


def test_a_logistic_module_is_logistic_regression_and_minibatches_follow_the_same_rules():
    from newtonopt.potentials import LogisticRegression
    from newtonopt.potentials.autodiff import potential_from_torch_module

    X, y = _regression(seed=1)
    labels = (y > 0).astype(np.float64)
    model = torch.nn.Linear(4, 1, bias=False)
    loss = torch.nn.BCEWithLogitsLoss()
    full = potential_from_torch_module(model, lambda out, t: loss(out[..., 0], t), (X, labels))
    ref = LogisticRegression(X, labels)
    theta = np.random.default_rng(4).standard_normal(4)
    np.testing.assert_allclose(full.gradient(theta), ref.gradient(theta), rtol=1e-12, atol=1e-14)
    # the same minibatch sampling (seed, without replacement, per-particle batches) gives the same SGD run
    mine = potential_from_torch_module(model, lambda out, t: loss(out[..., 0], t), (X, labels), batch_size=8, seed=5)
    theirs = ref.minibatch(8, seed=5)
    X0 = np.random.default_rng(6).standard_normal((3, 4))
    a = no.simulate(mine, no.GradientDescent(0.5), X0, n_steps=40)
    b = no.simulate(theirs, no.GradientDescent(0.5), X0, n_steps=40)
    np.testing.assert_allclose(a.x, b.x, rtol=1e-11, atol=1e-12)


def test_a_classifier_with_cross_entropy_trains():
    from newtonopt.datasets import load_iris
    from newtonopt.potentials.autodiff import potential_from_torch_module

    X, y, _, _ = load_iris()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    V = potential_from_torch_module(model, torch.nn.CrossEntropyLoss(), (X, y))
    theta0 = V.initial_parameters()
    assert V.dim == 4 * 8 + 8 + 8 * 3 + 3 and no.check_gradient(V, theta0) < 1e-6
    run = no.simulate(V, no.Adam(0.05), theta0, n_steps=200)
    assert run.potential_energy[-1] < 0.25 * run.potential_energy[0]


def test_the_constructors_on_potential():
    V = no.Potential.from_torch(rosenbrock, 2)
    assert V.gradient([0.0, 0.0]).tolist() == [-2.0, 0.0]
    X, y = _regression()
    M = no.Potential.from_torch_module(torch.nn.Linear(4, 1), lambda o, t: torch.mean((o[..., 0] - t) ** 2),
                                       (X, y), batch_size=10)
    assert M.dim == 5 and M.batch_size == 10
