"""Figures checked, not assumed: each plot function renders to PNG with labels, legends and the right data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import newtonopt as no  # noqa: E402
from newtonopt import plot  # noqa: E402
from newtonopt.potentials import Quadratic  # noqa: E402

V2 = Quadratic([1.0, 10.0], [-1.0, 2.0], name="bowl")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def runs():
    return {"gradient descent": no.simulate(V2, no.GradientDescent(0.1), [2.0, 1.0], 100),
            "heavy ball": no.simulate(V2, no.HeavyBall(0.1, 0.6), [2.0, 1.0], 100)}


def saved(fig, tmp_path, name="fig.png"):
    path = tmp_path / name
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 5_000
    return path


def test_contour_draws_each_trajectory_from_its_start(tmp_path):
    trajs = runs()
    ax = plot.contour(V2, trajs)
    saved(ax.figure, tmp_path)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "bowl"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"gradient descent", "heavy ball", "known minimum"} <= set(labels)  # one minimum: singular
    lines = {line.get_label(): line for line in ax.get_lines()}
    for label, traj in trajs.items():
        xdata, ydata = lines[label].get_data()
        assert (xdata[0], ydata[0]) == (2.0, 1.0)  # the first point is where it started
        np.testing.assert_allclose(xdata[-1], traj.x_final[0])


def test_contour_levels_are_log_spaced_above_the_minimum():
    z = np.array([0.0, 1.0, 1e4])
    levels = plot.log_levels(z, 10)
    assert levels[0] == 0.0 and np.allclose(np.diff(np.log(levels[1:])), np.log(levels[2] / levels[1]))


def test_convergence_plots_gap_on_a_log_axis_for_each_method(tmp_path):
    ax = plot.convergence(runs(), x="gradient_evaluations")
    saved(ax.figure, tmp_path)
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "V − V*" and ax.get_xlabel() == "gradient evaluations"
    assert len(ax.get_legend().get_texts()) == 2
    with pytest.raises(ValueError, match="x must be"):
        plot.convergence(runs(), x="walltime")


def test_energy_ledger_figure_has_every_term(tmp_path):
    traj = no.simulate(Quadratic([1.0]), no.VelocityVerlet(0.1, friction=0.3), [1.0], 300)
    fig = plot.energy(traj)
    saved(fig, tmp_path)
    top = fig.axes[0]
    labels = {t.get_text() for t in top.get_legend().get_texts()}
    assert {"potential V", "kinetic K", "total E = V + K", "dissipated D"} <= labels
    e_plus_d = [line for line in top.get_lines() if line.get_label().startswith("E + D")][0].get_ydata()
    np.testing.assert_allclose(e_plus_d, 0.5 + traj.energy_error)  # the flat line is E0 + ε


def test_phase_portrait_is_a_closed_orbit_for_verlet(tmp_path):
    traj = no.simulate(Quadratic([1.0]), no.VelocityVerlet(0.05), [1.0], 126)  # one period 2π ≈ 126·0.05
    ax = plot.phase_portrait(traj)
    saved(ax.figure, tmp_path)
    path = ax.get_lines()[0].get_data()
    assert abs(path[0][-1] - 1.0) < 0.01 and abs(path[1][-1]) < 0.05
    with pytest.raises(ValueError, match="needs positions and momenta"):
        plot.phase_portrait(no.simulate(V2, no.GradientDescent(0.1), [1.0, 1.0], 5))


def test_stability_diagram_draws_the_analytic_boundary(tmp_path):
    ax = plot.stability_diagram(Quadratic([1.0, 10.0]), lr=np.linspace(0.01, 0.42, 12),
                                momentum=np.linspace(0.0, 0.9, 10), n_steps=200)
    saved(ax.figure, tmp_path)
    boundary = [line for line in ax.get_lines() if line.get_label() == "analytic stability limit"][0]
    lr, mom = boundary.get_data()
    np.testing.assert_allclose(lr, (2 + 2 * mom) / 10.0)  # lr·λ_max = 2 + 2·momentum
    assert ax.get_xlabel() == "lr" and ax.get_ylabel() == "momentum"



def test_a_sweep_map_draws_any_methods_own_stability_formula(tmp_path):
    # Velocity Verlet over (dt, friction): its limit dt < 2·√(m/λ_max) = 2/√10 does not depend on friction.
    result = no.sweep(Quadratic([1.0, 10.0]), no.VelocityVerlet, [1.0, 1.0], n_steps=100,
                      dt=np.linspace(0.1, 0.8, 8), friction=np.linspace(0.0, 2.0, 5))
    ax = result.plot(value="rate")
    saved(ax.figure, tmp_path)
    boundary = [line for line in ax.get_lines() if line.get_label() == "analytic stability limit"][0]
    dt, friction = boundary.get_data()
    np.testing.assert_allclose(dt, 2 / np.sqrt(10.0), rtol=1e-15)
    assert friction[0] == 0.0 and friction[-1] == 2.0

def test_basins_colours_every_start_by_its_minimum(tmp_path):
    def f(x):
        return (x[..., 0] ** 2 - 1) ** 2 + 0.5 * x[..., 1] ** 2

    def g(x):
        return np.stack([4 * x[..., 0] * (x[..., 0] ** 2 - 1), x[..., 1]], axis=-1)

    W = no.Potential.from_function(f, g, dim=2, bounds=[[-2, 2], [-1, 1]], minima=[([-1, 0], 0.0), ([1, 0], 0.0)])
    ax = plot.basins(W, no.GradientDescent(0.05), resolution=30, n_steps=500)
    saved(ax.figure, tmp_path)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == 2 and all("50% of starts" in s for s in labels)  # symmetric wells: half each


def test_surface_and_animation(tmp_path):
    ax = plot.surface(V2, runs())
    saved(ax.figure, tmp_path)
    path = plot.animate(V2, runs(), tmp_path / "roll.gif", max_frames=8)
    assert path.stat().st_size > 10_000 and path.read_bytes()[:6] in (b"GIF87a", b"GIF89a")


def test_sweep_plot_and_comparison_plot(tmp_path):
    result = no.sweep(V2, no.GradientDescent, [2.0, 1.0], n_steps=200, lr=np.linspace(0.01, 0.25, 12))
    ax = result.plot()
    saved(ax.figure, tmp_path, "sweep.png")
    assert ax.get_xlabel() == "lr"
    lines = {line.get_label(): line.get_xdata()[0] for line in ax.get_lines()}
    assert lines["stability limit 2/λ_max"] == pytest.approx(0.2)
    assert lines["optimal lr = 2/(λ_min + λ_max)"] == pytest.approx(2 / 11)  # λ = 1 and 10


def test_explorer_updates_when_its_widgets_are_driven(tmp_path):
    fig = plot.explore(V2, [2.0, 1.0], lr=1e-2, momentum=0.5, show=False)
    e = fig.explorer
    first = e.trajectory
    assert first.method == "HeavyBall" and first.params["lr"] == pytest.approx(1e-2)
    e.slider_lr.set_val(-1.5)
    assert e.trajectory.params["lr"] == pytest.approx(10**-1.5)
    e.radio.set_active(0)
    assert e.trajectory.method == "GradientDescent"

    class Click:
        inaxes, xdata, ydata = e.ax_map, -1.0, 0.5

    e._on_click(Click)
    np.testing.assert_array_equal(e.trajectory.x[0], [-1.0, 0.5])
    np.testing.assert_array_equal(e.path.get_data()[0], e.trajectory.x[:, 0])
    saved(fig, tmp_path)


def test_comparison_plot_uses_the_plot_functions(tmp_path):
    result = no.compare(V2, {"GD": no.GradientDescent(0.1), "CG": "CG"}, [2.0, 1.0], n_steps=500, gtol=1e-8)
    ax = result.plot()
    assert ax.get_yscale() == "log" and len(ax.get_legend().get_texts()) == 2
    ax = result.plot("contour")
    saved(ax.figure, tmp_path)
    assert {"GD", "CG"} <= {t.get_text() for t in ax.get_legend().get_texts()}
    with pytest.raises(ValueError, match="kind must be"):
        result.plot("bars")


def test_plot_is_an_attribute_and_import_stays_light():
    """`newtonopt.plot` works after `import newtonopt`, which itself does not load matplotlib."""
    import subprocess
    import sys

    code = ("import sys, newtonopt as no; assert 'matplotlib' not in sys.modules; "
            "assert callable(no.plot.energy) and 'matplotlib' in sys.modules")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0


def test_explore_does_not_block_unless_asked(monkeypatch):
    calls = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: calls.append(1))
    monkeypatch.setattr("matplotlib.get_backend", lambda: "qtagg")  # as if a display were there
    fig = plot.explore(no.potentials.Himmelblau(), [2.0, 1.0])
    assert calls == [] and fig.explorer is not None
    plt.close(fig)
