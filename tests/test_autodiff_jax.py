"""Potentials from JAX autodiff, checked against the library's analytic Rosenbrock and against torch's."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Rosenbrock
from newtonopt.potentials.autodiff import potential_from_jax

jax = pytest.importorskip("jax")
jnp = jax.numpy


def rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@pytest.mark.parametrize("dim", [2, 6])
def test_rosenbrock_in_jax_equals_the_library_in_float64(dim):
    V, R = potential_from_jax(rosenbrock, dim), Rosenbrock(dim)
    x = np.random.default_rng(dim).uniform(-1.5, 1.5, (4, 3, dim))
    v = np.random.default_rng(2).standard_normal(x.shape)
    np.testing.assert_allclose(V.value(x), R.value(x), rtol=1e-14)
    np.testing.assert_allclose(V.gradient(x), R.gradient(x), rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(V.hessian(x), R.hessian(x), rtol=1e-13, atol=1e-11)
    np.testing.assert_allclose(V.hvp(x, v), np.einsum("...ij,...j->...i", R.hessian(x), v), rtol=1e-12, atol=1e-10)
    assert V.value(x).dtype == np.float64


def test_the_users_jax_config_is_left_alone():
    before = jax.config.jax_enable_x64
    V = potential_from_jax(rosenbrock, 2)
    V.gradient([0.3, 0.4])
    assert jax.config.jax_enable_x64 == before


def test_a_run_matches_the_analytic_potential():
    a = no.simulate(potential_from_jax(rosenbrock, 2), no.Nesterov(1e-3, 0.9), [-1.2, 1.0], n_steps=300)
    b = no.simulate(Rosenbrock(2), no.Nesterov(1e-3, 0.9), [-1.2, 1.0], n_steps=300)
    np.testing.assert_allclose(a.x, b.x, rtol=1e-11, atol=1e-13)


def test_bad_functions_and_a_missing_jax(monkeypatch):
    with pytest.raises(ValueError, match="to a scalar"):
        potential_from_jax(lambda x: 2 * x, 3)
    monkeypatch.setitem(sys.modules, "jax", None)
    with pytest.raises(ImportError, match=r"pip install 'newtonopt\[jax\]'"):
        potential_from_jax(rosenbrock, 2)
