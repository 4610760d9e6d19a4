"""Sweeps: per-particle hyperparameter grids, executors, the measured stability map against the analytic one."""

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Quadratic
from newtonopt.sweep import sweep

# λ ∈ {1, …, 10}: heavy ball is stable iff lr·λ_max < 2 + 2μ (and lr·λ > 0); GD iff lr·λ_max < 2.
V = Quadratic(np.linspace(1.0, 10.0, 5))
X0 = np.ones(5)
LRS = np.linspace(0.01, 0.5, 25)
MUS = np.linspace(0.0, 0.95, 20)


def heavy_ball_sweep(**kw):
    return sweep(V, no.HeavyBall, X0, n_steps=300, gtol=1e-8, lr=LRS, momentum=MUS, **kw)


def test_sweep_grid_points_equal_single_runs():
    result = sweep(V, no.HeavyBall, X0, n_steps=200, gtol=1e-8, lr=[0.05, 0.1, 0.3], momentum=[0.0, 0.5])
    assert result.shape == (3, 2) and list(result.axes) == ["lr", "momentum"]
    for i, lr in enumerate([0.05, 0.1, 0.3]):
        for j, mu in enumerate([0.0, 0.5]):
            single = no.simulate(V, no.HeavyBall(lr, mu), X0, n_steps=200, gtol=1e-8, record="final")
            assert result.steps[i, j] == int(single.converged_step)
            assert result.final_value[i, j] == float(single.value_final)
            assert result.status[i, j] == single.status


def test_measured_stability_map_matches_the_analytic_region():
    result = heavy_ball_sweep()
    ratio = LRS[:, None] * 10.0 / (2 + 2 * MUS[None, :])  # lr·λ_max / (2 + 2μ)
    stable, unstable = ratio < 0.9, ratio > 1.1  # away from the boundary
    assert np.all(result.rate[stable] < 1.0)
    assert np.all(result.status[unstable] == "diverged")
    assert stable.sum() > 100 and unstable.sum() > 50


def test_gradient_descent_stability_limit_two_over_lambda_max():
    lrs = np.linspace(0.02, 0.4, 39)
    result = sweep(V, no.GradientDescent, X0, n_steps=400, gtol=1e-8, lr=lrs)
    assert np.all(result.rate[lrs < 0.9 * 0.2] < 1.0)
    assert np.all(result.status[lrs > 1.1 * 0.2] == "diverged")


def test_several_starts_make_a_grid_axis_and_best_is_the_fastest():
    starts = np.array([[1.0] * 5, [-2.0] * 5])
    result = sweep(V, no.GradientDescent, starts, n_steps=500, gtol=1e-6, lr=[0.05, 0.1, 0.18])
    assert result.shape == (3, 2) and "x0" in result.axes
    best = result.best()
    # GD's optimal constant step is 2/(λ_min + λ_max) = 2/11 ≈ 0.18: the largest lr on this grid wins.
    assert best["lr"] == 0.18 and best["steps"] == result.steps.min()
    frame = result.to_dataframe()
    assert len(frame) == 6 and set(frame.columns) >= {"lr", "x0", "steps", "status"}


def test_chunking_and_a_process_pool_give_bitwise_the_same_result():
    reference = heavy_ball_sweep()
    chunked = heavy_ball_sweep(chunk_size=37)
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = heavy_ball_sweep(executor=pool, chunk_size=100)
    for other in (chunked, pooled):
        for name in ("steps", "final_value", "grad_norm", "rate", "status"):
            np.testing.assert_array_equal(getattr(other, name), getattr(reference, name))


def test_the_compiled_backend_sweeps_the_same_bits_on_any_number_of_threads():
    pytest.importorskip("numba")
    reference = heavy_ball_sweep()
    for workers in (1, 2):
        compiled = heavy_ball_sweep(backend="numba", workers=workers, chunk_size=200)
        for name in ("steps", "final_value", "grad_norm", "rate", "status"):
            np.testing.assert_array_equal(getattr(compiled, name), getattr(reference, name), err_msg=name)


def test_a_sweep_the_compiled_backend_cannot_run_is_refused_before_any_chunk():
    pytest.importorskip("numba")
    V_py = no.Potential.from_function(lambda x: (x * x).sum(-1), lambda x: 2 * x, dim=5)
    with pytest.raises(ValueError, match="a Python function cannot be compiled"):
        sweep(V_py, no.GradientDescent, X0, n_steps=10, lr=LRS, backend="numba")
    with pytest.raises(ValueError, match="backend must be one of"):
        heavy_ball_sweep(backend="fortran")


def test_stochastic_sweeps_take_seeds_from_the_grid_point_not_the_chunk():
    kw = dict(n_steps=100, gtol=None, dt=[0.01, 0.05, 0.1], temperature=[0.1, 1.0], seed=3)
    a = sweep(V, no.OverdampedLangevin, X0, **kw)
    b = sweep(V, no.OverdampedLangevin, X0, chunk_size=1, **kw)
    np.testing.assert_array_equal(a.final_value, b.final_value)
    assert len(np.unique(a.final_value)) == 6


def test_a_failing_chunk_is_reported_and_the_others_kept():
    def picky(lr):
        if np.any(lr > 0.3):
            raise RuntimeError("no large steps here")
        return no.GradientDescent(lr)

    result = sweep(V, picky, X0, n_steps=500, gtol=1e-3, chunk_size=2, lr=[0.05, 0.1, 0.2, 0.4])
    assert len(result.errors) == 1 and "no large steps here" in result.errors[0]["error"]
    assert list(result.status[-2:]) == ["failed", "failed"] and result.steps[0] > 0


def test_bad_sweep_arguments():
    with pytest.raises(ValueError, match="at least one grid"):
        sweep(V, no.GradientDescent, X0, lr=0.1)
    with pytest.raises(ValueError, match="grid lr must be a non-empty 1-D array"):
        sweep(V, no.GradientDescent, X0, lr=[])
    with pytest.raises(ValueError, match="lr must be finite and > 0.0 for every particle, got -0.1 at index"):
        sweep(V, no.GradientDescent, X0, lr=[0.1, -0.1])
    with pytest.raises(ValueError, match="takes no seed"):
        sweep(V, no.GradientDescent, X0, lr=[0.1], seed=1)


def test_sweep_on_a_dask_local_cluster_equals_the_in_process_sweep():
    distributed = pytest.importorskip("distributed")
    reference = heavy_ball_sweep()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster, distributed.Client(cluster) as client:
        remote = heavy_ball_sweep(executor=client.get_executor(), chunk_size=150)
    for name in ("steps", "final_value", "rate", "status"):
        np.testing.assert_array_equal(getattr(remote, name), getattr(reference, name))


def test_sweep_counts_every_evaluation_of_every_chunk():
    # Without a tolerance every particle runs all 50 steps: one evaluation at its start and one per
    # step, 3 particles × 51 = 153, however the grid is chunked.
    for chunk_size in (1, 2, 3):
        result = sweep(V, no.GradientDescent, X0, n_steps=50, gtol=None, chunk_size=chunk_size, lr=[0.05, 0.1, 0.15])
        assert result.counts == {"value": 153, "gradient": 153, "hessian": 0}
