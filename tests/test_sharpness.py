"""Sharpness tracked along a run: simulate(..., sharpness_every=k) and plot.sharpness.

Reference values are analytic Hessian eigenvalues: a quadratic's are its own; Rosenbrock's at its
minimum (1, 1) are those of [[802, −400], [−400, 200]], i.e. 501 ± √(301² + 400²); a separable
quartic Σ cᵢxᵢ⁴/4 has the diagonal Hessian 3cᵢxᵢ².
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

import newtonopt as no
from newtonopt.curvature import top_eigenvalues
from newtonopt.potentials import Quadratic, Rosenbrock

matplotlib.use("Agg")


def test_a_quadratics_sharpness_is_its_top_eigenvalue_at_every_sample():
    V = Quadratic([1.0, 4.0, 9.0])
    traj = no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0, 1.0], n_steps=50, sharpness_every=10)
    assert traj.sharpness_step.tolist() == [0, 10, 20, 30, 40, 50]
    assert np.all(traj.sharpness == 9.0)


def test_rosenbrock_sharpness_at_the_minimum_matches_the_analytic_hessian():
    V = Rosenbrock()
    traj = no.simulate(V, no.HeavyBall(1e-3, 0.9), [0.99, 0.98], n_steps=4000, gtol=1e-10, sharpness_every=100,
                       sharpness_top=2)
    expected = [501.0 + math.hypot(301.0, 400.0), 501.0 - math.hypot(301.0, 400.0)]
    np.testing.assert_allclose(traj.sharpness[-1], expected, rtol=1e-6)  # x is within ~1e-8 of (1, 1)


def test_lanczos_on_finite_difference_hvps_in_many_dimensions():
    dim = 80
    c = np.linspace(1.0, 3.0, dim)
    V = no.Potential.from_function(lambda x: np.sum(c * x**4, axis=-1) / 4.0, lambda x: c * x**3, dim=dim)
    x = np.linspace(0.5, 1.5, dim)
    expected = np.sort(3.0 * c * x**2)[::-1][:3]
    np.testing.assert_allclose(top_eigenvalues(V, x, 3), expected, rtol=1e-6)  # central differences: ~1e-8


def test_tracking_changes_neither_the_run_nor_its_counts():
    V = Rosenbrock()
    plain = no.simulate(V, no.GradientDescent(1e-3), [[-1.2, 1.0], [0.0, 0.5]], n_steps=300)
    tracked = no.simulate(V, no.GradientDescent(1e-3), [[-1.2, 1.0], [0.0, 0.5]], n_steps=300, sharpness_every=7)
    assert plain.x.tobytes() == tracked.x.tobytes()
    assert plain.counts == tracked.counts
    assert tracked.sharpness.shape == (len(range(0, 301, 7)), 2)
    for i, step in enumerate(tracked.sharpness_step):  # each particle's own Hessian at that step
        for p in range(2):
            lam = np.linalg.eigvalsh(V.hessian(tracked.x[step, p]))[-1]
            assert tracked.sharpness[i, p] == pytest.approx(lam, rel=1e-12)


def test_sharpness_survives_save_load_and_join(tmp_path):
    V = Rosenbrock()
    whole = no.simulate(V, no.GradientDescent(1e-3), [-1.2, 1.0], n_steps=400, sharpness_every=50)
    first = no.simulate(V, no.GradientDescent(1e-3), [-1.2, 1.0], n_steps=200, sharpness_every=50)
    second = no.simulate(V, no.GradientDescent(1e-3), first, n_steps=200, sharpness_every=50)
    joined = no.Trajectory.join(first, second)
    assert joined.sharpness.tobytes() == whole.sharpness.tobytes()
    assert joined.sharpness_step.tolist() == whole.sharpness_step.tolist()
    whole.save(tmp_path / "run")
    back = no.Trajectory.load(tmp_path / "run.npz")
    assert back.sharpness.tobytes() == whole.sharpness.tobytes()


def test_sharpness_with_the_compiled_backend_equals_numpy():
    pytest.importorskip("numba")
    V = Rosenbrock()
    args = (V, no.HeavyBall(1e-3, 0.5), [-1.2, 1.0])
    a = no.simulate(*args, n_steps=500, sharpness_every=33)
    b = no.simulate(*args, n_steps=500, sharpness_every=33, backend="numba")
    assert a.sharpness_step.tolist() == b.sharpness_step.tolist()
    assert a.sharpness.tobytes() == b.sharpness.tobytes()


@pytest.mark.parametrize("kwargs, match", [({"sharpness_every": 0}, "sharpness_every"),
                                           ({"sharpness_every": 1.5}, "sharpness_every"),
                                           ({"sharpness_every": 5, "sharpness_top": 3}, "sharpness_top")])
def test_bad_sharpness_arguments_name_the_parameter(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        no.simulate(Rosenbrock(), no.GradientDescent(1e-3), [0.0, 0.0], n_steps=5, **kwargs)


def test_the_figure_draws_the_stability_threshold():
    from newtonopt import plot
    V = Quadratic([1.0, 4.0])
    gd = no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], n_steps=20, sharpness_every=5)
    ax = plot.sharpness(gd)
    levels = [line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert levels == [pytest.approx(2.0 / 0.1)]  # gradient descent: 2/lr
    hb = no.simulate(V, no.HeavyBall(0.1, 0.5), [1.0, 1.0], n_steps=20, sharpness_every=5)
    ax = plot.sharpness(hb)
    levels = [line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert levels == [pytest.approx((2.0 + 2.0 * 0.5) / 0.1)]  # the heavy ball: (2 + 2μ)/lr
    with pytest.raises(ValueError, match="sharpness_every"):
        plot.sharpness(no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], n_steps=3))
    matplotlib.pyplot.close("all")
