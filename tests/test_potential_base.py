"""The Potential interface: batching, counts, finite differences, check_gradient, Quadratic."""

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Quadratic

from .conftest import random_spd


def test_from_function_without_gradient_uses_central_differences():
    # V = sin(x)·y², ∇V = (cos(x)·y², 2·sin(x)·y); central differences are accurate to ~1e-10 here.
    V = no.Potential.from_function(lambda x: np.sin(x[..., 0]) * x[..., 1] ** 2, dim=2)
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    exact = np.stack([np.cos(x[:, 0]) * x[:, 1] ** 2, 2 * np.sin(x[:, 0]) * x[:, 1]], axis=-1)
    np.testing.assert_allclose(V.gradient(x), exact, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(V.force(x[0]), -exact[0], rtol=1e-9)
    # Hessian and hvp by differences of the (finite-difference) gradient.
    H = V.hessian(x[0])
    s, c, y = np.sin(0.3), np.cos(0.3), -1.2
    np.testing.assert_allclose(H, [[-s * y * y, 2 * c * y], [2 * c * y, 2 * s]], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(V.hvp(x[0], [1.0, 0.0]), H[:, 0], rtol=1e-5, atol=1e-5)


def test_counts_are_per_particle():
    V = Quadratic([1.0, 2.0])
    V.value(np.zeros((4, 2)))
    V.gradient(np.zeros(2))
    V.value_and_gradient(np.zeros((3, 5, 2)))
    V.hvp(np.zeros(2), [1.0, 0.0])
    V.hessian(np.zeros((2, 2)))
    assert V.counts == {"value": 4 + 15, "gradient": 1 + 15, "hessian": 1 + 2}
    V.reset_counts()
    assert V.counts == {"value": 0, "gradient": 0, "hessian": 0}



def test_evaluate_into_is_the_run_loops_contract():
    # V = ½·xᵀAx − ... with A = diag(1, 2), b = 0: at (1, 1) and (2, −1) the values are 1.5 and 3,
    # the gradients Ax = (1, 2) and (2, −2); the counts are two particles' worth, booked when read.
    V = Quadratic([1.0, 2.0])
    x = np.array([[1.0, 1.0], [2.0, -1.0]])
    out = np.full_like(x, np.nan)
    value = V.evaluate_into(x, out)
    np.testing.assert_array_equal(value, [1.5, 3.0])
    np.testing.assert_array_equal(out, [[1.0, 2.0], [2.0, -2.0]])  # the gradient lands in out
    assert V._pending_coordinates == 4  # not yet in counts: booked lazily ...
    assert V.counts == {"value": 2, "gradient": 2, "hessian": 0}  # ... and exact whenever read
    assert V._pending_coordinates == 0


def test_the_old_private_name_still_works_and_says_it_is_deprecated():
    V = Quadratic([1.0, 2.0])
    out = np.empty(2)
    with pytest.warns(DeprecationWarning, match=r"call Potential.evaluate_into\(x, out\)"):
        value = V._counted_value_and_gradient(np.array([1.0, 1.0]), out)
    assert float(value) == 1.5 and out.tolist() == [1.0, 2.0]
    assert V.counts["gradient"] == 1

def test_check_gradient_detects_a_wrong_gradient():
    f = lambda x: np.sum(x**3, axis=-1)  # noqa: E731
    good = no.Potential.from_function(f, lambda x: 3 * x**2, dim=3)
    bad = no.Potential.from_function(f, lambda x: 3.3 * x**2, dim=3)  # 10% too large
    x = np.array([0.5, -1.0, 2.0])
    assert no.check_gradient(good, x) < 1e-8
    assert no.check_gradient(bad, x) == pytest.approx(0.1 / 1.1, rel=1e-6)  # |3.3−3|/3.3 at the largest component
    assert good.counts == {"value": 0, "gradient": 0, "hessian": 0}  # checks are not billed to a run


def test_quadratic_formulas_and_minimum():
    rng = np.random.default_rng(0)
    A, lam = random_spd(rng, 4)
    b, c = rng.standard_normal(4), 1.5
    V = Quadratic(A, b, c)
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(V.value(x), 0.5 * np.einsum("ki,ij,kj->k", x, A, x) + x @ b + c, rtol=1e-13)
    np.testing.assert_allclose(V.gradient(x), x @ A + b, rtol=1e-13)
    np.testing.assert_allclose(V.hessian(x[0]), A)
    np.testing.assert_allclose(V.hvp(x, x), x @ A, rtol=1e-13)
    xstar = -np.linalg.solve(A, b)
    np.testing.assert_allclose(V.global_minimum.x, xstar, rtol=1e-12)
    np.testing.assert_allclose(V.minimum_value, c - 0.5 * b @ np.linalg.solve(A, b), rtol=1e-12)
    np.testing.assert_allclose(V.curvature_bounds(), (lam.min(), lam.max()), rtol=1e-12)
    assert no.check_gradient(V, x) < 1e-8


def test_diagonal_quadratic_is_diag_of_its_1d_A():
    d = Quadratic([1.0, 10.0, 100.0], [1.0, 0.0, -1.0])
    full = Quadratic(np.diag([1.0, 10.0, 100.0]), [1.0, 0.0, -1.0])
    x = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_allclose(d.value(x), full.value(x), rtol=1e-14)
    np.testing.assert_allclose(d.gradient(x), full.gradient(x), rtol=1e-14)
    np.testing.assert_allclose(d.hessian(x[0]), full.hessian(x[0]))


def test_finite_difference_hessian_of_an_analytic_gradient():
    rng = np.random.default_rng(2)
    A, _ = random_spd(rng, 3)
    V = no.Potential.from_function(lambda x: 0.5 * np.einsum("...i,ij,...j->...", x, A, x), lambda x: x @ A, dim=3)
    np.testing.assert_allclose(V.hessian(rng.standard_normal(3)), A, rtol=1e-7, atol=1e-8)


def test_nearest_minimum():
    V = Quadratic([1.0, 1.0], [-1.0, -2.0])
    index, dist = V.nearest_minimum(np.array([[1.0, 2.0], [4.0, 6.0]]))
    np.testing.assert_array_equal(index, [0, 0])
    np.testing.assert_allclose(dist, [0.0, 5.0])


@pytest.mark.parametrize("call, exc, match", [
    (lambda: Quadratic([[1.0, 2.0], [0.0, 1.0]]), ValueError, "A must be symmetric"),
    (lambda: Quadratic(np.ones((2, 3))), ValueError, r"got shape \(2, 3\)"),
    (lambda: Quadratic([1.0, np.nan]), ValueError, "A must be finite"),
    (lambda: Quadratic([1.0, 2.0], b=[1.0]), ValueError, r"b must be a finite array of shape \(2,\)"),
    (lambda: Quadratic([1.0]).value(np.zeros(2)), ValueError, r"x must have shape \(\.\.\., 1\).*got shape \(2,\)"),
    (lambda: Quadratic([1.0]).value(np.array(["a"])), TypeError, "x must be an array of real numbers"),
    (lambda: no.Potential.from_function(3, dim=2), TypeError, "f must be callable, got 3"),
    (lambda: no.Potential.from_function(np.sum, dim=0), ValueError, "dim must be >= 1, got 0"),
    (lambda: no.Potential(2, bounds=[[1, 0], [0, 1]]), ValueError, "bounds must have shape"),
])
def test_bad_potential_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
