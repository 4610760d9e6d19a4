"""Trajectory.to_dataframe and to_xarray: the same numbers as the arrays, laid out as a physicist expects."""

from __future__ import annotations

import numpy as np
import pytest

import newtonopt as no


@pytest.fixture(scope="module")
def runs():
    V = no.potentials.Rosenbrock()
    one = no.simulate(V, no.HeavyBall(1e-3, 0.9), [-1.2, 1.0], n_steps=20)
    many = no.simulate(V, no.FIRE(dt=0.01), np.array([[-1.2, 1.0], [0.0, 0.0], [1.5, 2.0]]), n_steps=20)
    return one, many


def test_dataframe_of_one_particle_and_of_an_ensemble(runs):
    pd = pytest.importorskip("pandas")
    one, many = runs
    df = one.to_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == one.n_records
    np.testing.assert_array_equal(df["energy_error"], one.energy_error)
    np.testing.assert_array_equal(df[["x0", "x1"]].to_numpy(), one.x)
    dm = many.to_dataframe()
    assert len(dm) == 3 * many.n_records and list(dm["particle"][:4]) == [0, 1, 2, 0]
    np.testing.assert_array_equal(dm["potential_energy"].to_numpy().reshape(-1, 3), many.potential_energy)
    np.testing.assert_array_equal(dm["t"].to_numpy().reshape(-1, 3), many.t)  # FIRE: a clock per particle


def test_xarray_has_step_particle_coordinate(runs):
    pytest.importorskip("xarray")
    one, many = runs
    ds = many.to_xarray()
    assert ds["x"].dims == ("step", "particle", "coordinate") and ds["x"].shape == (many.n_records, 3, 2)
    np.testing.assert_array_equal(ds["grad_norm"].values, many.grad_norm)
    assert ds.attrs["method"] == "FIRE" and ds.attrs["status"] == many.status
    d1 = one.to_xarray()
    assert d1["potential_energy"].dims == ("step",) and d1["p"].dims == ("step", "coordinate")


def test_missing_pandas_is_named(runs, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        runs[0].to_dataframe()
