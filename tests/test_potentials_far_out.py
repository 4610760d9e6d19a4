"""Library potentials far outside their domain (issue 10, §4): quiet, and V = +inf where it overflows.

Each evaluation runs with warnings as errors: before the fix x = ±1e200 leaked numpy's overflow,
divide and invalid RuntimeWarnings, and Müller–Brown and Lennard-Jones returned NaN for V = +inf.
"""

import warnings

import numpy as np
import pytest

import newtonopt.potentials as P

_rng = np.random.default_rng(0)
_X = _rng.normal(size=(20, 3))
_Y = _X @ np.array([1.0, -2.0, 0.5])

LIBRARY = {
    "Quadratic": lambda: P.Quadratic([1.0, 100.0]),
    "Quadratic (full A)": lambda: P.Quadratic([[2.0, 1.0], [1.0, 3.0]], [1.0, -1.0], 2.0),
    "Rosenbrock": P.Rosenbrock,
    "Himmelblau": P.Himmelblau,
    "Beale": P.Beale,
    "Rastrigin": P.Rastrigin,
    "MullerBrown": P.MullerBrown,
    "LennardJones": lambda: P.LennardJones(3),
    "DoubleWell": P.DoubleWell,
    "LeastSquares": lambda: P.LeastSquares(_X, _Y),
    "LogisticRegression": lambda: P.LogisticRegression(_X, (_Y > 0).astype(float)),
    "MLP": lambda: P.MLP(_X, _Y, [3, 4, 1], seed=0),
    "MinibatchView": lambda: P.LeastSquares(_X, _Y).minibatch(5, seed=0),
}


def test_every_exported_potential_is_covered_and_quiet():
    from newtonopt.potentials._base import LibraryPotential

    exported = {name for name in P.__all__ if name != "EmpiricalRisk"}
    assert exported == {name.split(" ")[0] for name in LIBRARY}
    assert all(issubclass(getattr(P, name), LibraryPotential) for name in P.__all__)


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("name", list(LIBRARY))
def test_far_out_evaluations_are_quiet_and_overflow_to_inf(name, sign):
    V = LIBRARY[name]()
    x = np.full(V.dim, sign * 1e200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = V.value(x)
        grad = V.gradient(x)
        both = V.value_and_gradient(x)
        V.hessian(x)
        V.hvp(x, np.ones(V.dim))
        V.force(x)
    assert grad.shape == (V.dim,) and both[1].shape == (V.dim,)
    if name == "LogisticRegression":
        # The cross-entropy grows linearly, |θ·xᵢ| ≈ 1e200 per misclassified sample: finite.
        assert np.isfinite(value) and 1e199 < value < 1e201
    else:
        # Each of these grows at least quadratically (LJ: the three atoms coincide, r = 0): V = +inf.
        assert value == np.inf and both[0] == np.inf


def test_the_right_ieee_values_where_the_formula_is_exact():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # ∂V/∂x = −4b·x(y − x²) − 2(a − x) = +inf and ∂V/∂y = 2b(y − x²) = −inf at (1e200, 1e200).
        np.testing.assert_array_equal(P.Rosenbrock().gradient([1e200, 1e200]), [np.inf, -np.inf])
        np.testing.assert_array_equal(P.Quadratic([1.0, 100.0]).gradient([-1e200, 1e200]), [-1e200, 1e202])


@pytest.mark.parametrize("name", ["MullerBrown", "LennardJones"])
def test_an_ensemble_keeps_its_ordinary_values_and_nan_inputs_stay_nan(name):
    V = LIBRARY[name]()
    near = V.global_minimum.x if V.minima else np.array([0, 0, 0, 1.12, 0, 0, 0, 1.12, 0.0])
    x = np.stack([near, np.full(V.dim, 1e200), np.full(V.dim, np.nan)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = V.value(x)
        alone = V.value(near)
    assert values[0] == alone and np.isfinite(alone)  # bitwise the value it had
    assert values[1] == np.inf
    assert np.isnan(values[2])  # a NaN position is not an overflow: it stays NaN
