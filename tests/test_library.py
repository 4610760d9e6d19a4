"""The potential library: gradients and Hessians against finite differences, batching, reference minima."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import newtonopt as no
from newtonopt.potential import finite_difference_hessian
from newtonopt.potentials import Beale, DoubleWell, Himmelblau, LennardJones, MullerBrown, Rastrigin, Rosenbrock

LIBRARY = {
    "rosenbrock": lambda: Rosenbrock(),
    "rosenbrock5": lambda: Rosenbrock(dim=5, a=1.5, b=50.0),
    "himmelblau": Himmelblau,
    "beale": Beale,
    "rastrigin": lambda: Rastrigin(dim=3),
    "muller_brown": MullerBrown,
    "double_well": DoubleWell,
    "lennard_jones": lambda: LennardJones(4),
}


def sample(V, rng, n=None):
    if isinstance(V, LennardJones):
        base = V.initial_positions(seed=int(rng.integers(1 << 30)))
        return base if n is None else base + 0.05 * rng.standard_normal((n, V.dim))
    box = V.bounds if V.bounds is not None else np.array([[-2.0, 2.0]] * V.dim)
    shape = (V.dim,) if n is None else (n, V.dim)
    return rng.uniform(box[:, 0], box[:, 1], size=shape)


@pytest.mark.parametrize("name", list(LIBRARY))
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_gradient_agrees_with_finite_differences(name, seed):
    # Central differences with h ~ ε^(1/3) are accurate to ~1e-10 relative on smooth functions.
    V = LIBRARY[name]()
    x = sample(V, np.random.default_rng(seed), n=3)
    assert no.check_gradient(V, x) < 1e-6


@pytest.mark.parametrize("name", [n for n in LIBRARY if n != "lennard_jones"])
def test_analytic_hessian_agrees_with_differences_of_the_gradient(name):
    V = LIBRARY[name]()
    x = sample(V, np.random.default_rng(0), n=4)
    fd = finite_difference_hessian(lambda y: V.gradient(y), x)
    scale = 1.0 + np.max(np.abs(fd))
    np.testing.assert_allclose(V.hessian(x), fd, rtol=0, atol=1e-6 * scale)


@pytest.mark.parametrize("name", list(LIBRARY))
def test_batched_evaluation_equals_one_by_one(name):
    V = LIBRARY[name]()
    x = sample(V, np.random.default_rng(1), n=5)
    xf = np.asfortranarray(x)  # the layout simulate() uses for ensembles
    values, grads = V.value_and_gradient(xf)
    for i in range(5):
        v, g = V.value_and_gradient(x[i])
        np.testing.assert_allclose(values[i], v, rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(grads[i], g, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(V.value(x), values, rtol=1e-13, atol=1e-12)
    grid = np.stack([x, x])  # two leading axes
    assert V.value(grid).shape == (2, 5) and V.gradient(grid).shape == (2, 5, V.dim)


@pytest.mark.parametrize("name", [n for n in LIBRARY if n != "lennard_jones"])
def test_known_minima_are_stationary_with_their_values(name):
    V = LIBRARY[name]()
    for m in V.minima:
        g = V.gradient(m.x)
        assert np.max(np.abs(g)) < 1e-9 * (1 + abs(m.value))
        assert V.value(m.x) == pytest.approx(m.value, abs=1e-12)
        assert np.all(np.linalg.eigvalsh(V.hessian(m.x)) > 0)  # a minimum, not a saddle


def test_reference_minima_values():
    # Rosenbrock (1960), Himmelblau (1972), Beale (1958), Rastrigin (1974): global minimum 0.
    assert Rosenbrock().minima[0].value == 0.0 and np.array_equal(Rosenbrock().minima[0].x, [1.0, 1.0])
    assert Rosenbrock(a=2.0).minima[0].x.tolist() == [2.0, 4.0]
    him = Himmelblau()
    assert len(him.minima) == 4 and max(m.value for m in him.minima) < 1e-25
    literature = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]])
    found = np.array([m.x for m in him.minima])
    assert all(np.min(np.linalg.norm(found - p, axis=1)) < 1e-5 for p in literature)
    assert Beale().value(np.array([3.0, 0.5])) == 0.0
    assert Rastrigin(dim=4).value(np.zeros(4)) == 0.0


def test_muller_brown_matches_the_literature():
    # Müller & Brown (1979): minima −146.70, −108.17, −80.77; saddles −40.66 and −72.25.
    V = MullerBrown()
    np.testing.assert_allclose([m.value for m in V.minima], [-146.6995, -108.1667, -80.7678], rtol=1e-5)
    np.testing.assert_allclose(V.minima[0].x, [-0.558224, 1.441726], atol=1e-5)
    np.testing.assert_allclose(sorted(v for _, v in V.saddles), [-72.2489, -40.6648], rtol=1e-5)
    for s, _ in V.saddles:
        assert np.max(np.abs(V.gradient(s))) < 1e-9
        lam = np.linalg.eigvalsh(V.hessian(s))
        assert lam[0] < 0 < lam[1]  # first-order saddle: one unstable direction


def test_lennard_jones_pair_and_triangle():
    # V(r) = 4(r⁻¹² − r⁻⁶) has its minimum −1 at r = 2^(1/6); the equilateral triangle of that side gives −3.
    r = 2 ** (1 / 6)
    two = LennardJones(2)
    assert two.value(np.array([0, 0, 0, r, 0, 0.0])) == pytest.approx(-1.0, abs=1e-14)
    assert np.max(np.abs(two.gradient(np.array([0, 0, 0, r, 0, 0.0])))) < 1e-12
    tri = np.array([0, 0, 0, r, 0, 0, r / 2, r * np.sqrt(3) / 2, 0.0])
    assert LennardJones(3).value(tri) == pytest.approx(-3.0, abs=1e-13)
    assert LennardJones(13).minimum_value == -44.326801  # Cambridge Cluster Database
    start = LennardJones(13).initial_positions(seed=0).reshape(13, 3)
    d = np.linalg.norm(start[:, None] - start[None], axis=-1)[np.triu_indices(13, 1)]
    assert d.min() > 0.8  # no overlapping atoms in the start


def test_double_well_minima_solve_the_cubic_and_the_deep_one_is_lower():
    V = DoubleWell(barrier=1.0, tilt=0.25)
    deep, shallow = V.minima
    for m in (deep, shallow):
        assert 4 * m.x[0] * (m.x[0] ** 2 - 1) + 0.25 == pytest.approx(0.0, abs=1e-12)
    assert deep.x[0] < 0 < shallow.x[0] and deep.value < shallow.value
    b = V.barriers()
    assert b["deep"] > b["shallow"] > 0
    assert b["deep"] - b["shallow"] == pytest.approx(shallow.value - deep.value)


@pytest.mark.parametrize("call, match", [
    (lambda: Rosenbrock(dim=1), "dim must be >= 2, got 1"),
    (lambda: Rosenbrock(b=0.0), "b must be finite and > 0.0, got 0.0"),
    (lambda: Rastrigin(dim=0), "dim must be >= 1, got 0"),
    (lambda: LennardJones(1), "n_atoms must be >= 2, got 1"),
    (lambda: DoubleWell(tilt=2.0), "tilt must be below"),
    (lambda: DoubleWell(barrier=-1.0), "barrier must be finite and > 0.0, got -1.0"),
])
def test_bad_constructor_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_gradient_descent_finds_each_himmelblau_minimum_from_its_quadrant():
    V = Himmelblau()
    starts = np.array([[4.0, 4.0], [-4.0, 4.0], [-4.0, -4.0], [4.0, -4.0]])
    traj = no.simulate(V, no.GradientDescent(0.005), starts, n_steps=5000, gtol=1e-8)
    index, dist = V.nearest_minimum(traj.x_final)
    assert sorted(index.tolist()) == [0, 1, 2, 3] and np.all(dist < 1e-6)
