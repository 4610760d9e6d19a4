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


# ---------------------------------------------------------------- issue 14: figures that do not mislead
def test_convergence_draws_the_true_gap_without_a_clamp(tmp_path):
    # V = ½(x² + 10y²) has V* = 0 exactly, so V − V* is computed without cancellation down to ~1e-300.
    traj = no.simulate(Quadratic([1.0, 10.0]), no.GradientDescent(0.1), [1.0, 1.0], 300)
    ax = plot.convergence({"GD": traj})
    saved(ax.figure, tmp_path)
    line = [ln for ln in ax.get_lines() if ln.get_label() == "GD"][0]
    np.testing.assert_array_equal(line.get_ydata(), traj.gap)  # the plotted data is V − V* itself
    assert traj.gap[-1] < 1e-25  # 0.9^(2·300) ≈ 2e-28 · V0: far below the old silent floor at 1e-16
    assert not any("drawn here" in t.get_text() for t in ax.texts)  # no floor when nothing is ≤ 0


def test_convergence_marks_values_at_or_below_zero_on_an_explicit_floor(tmp_path):
    traj = no.simulate(Quadratic([1.0]), no.GradientDescent(0.5), [1.0], 60)
    traj.minimum_value = 1e-12  # as if V* were rounded up: the gap goes negative once V < 1e-12
    gap = traj.gap
    assert np.any(gap <= 0) and np.any(gap > 0)
    ax = plot.convergence({"GD": traj})
    saved(ax.figure, tmp_path)
    main = [ln for ln in ax.get_lines() if ln.get_label() == "GD"][0].get_ydata()
    assert np.all(np.isnan(main[gap <= 0])) and np.array_equal(main[gap > 0], gap[gap > 0])
    floor_texts = [t for t in ax.texts if "≤ 0 drawn here" in t.get_text()]
    assert len(floor_texts) == 1
    floor = ax.get_lines()[1].get_ydata()[gap <= 0]
    assert np.all(floor == floor[0]) and floor[0] < gap[gap > 0].min()  # one level, under every true value


def test_convergence_draws_a_large_ensemble_as_a_labelled_median_and_band(tmp_path):
    starts = np.random.default_rng(0).normal(size=(50, 2))
    traj = no.simulate(Quadratic([1.0, 10.0]), no.GradientDescent(0.1), starts, 100)
    ax = plot.convergence({"GD": traj})
    saved(ax.figure, tmp_path)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["GD: median of 50", "GD: 10–90 % of particles"]
    median = [ln for ln in ax.get_lines() if ln.get_label() == "GD: median of 50"][0].get_ydata()
    np.testing.assert_array_equal(median, np.median(traj.gap, axis=1))
    band = [c for c in ax.collections if c.get_label() == "GD: 10–90 % of particles"][0]
    lo, hi = np.quantile(traj.gap, [0.1, 0.9], axis=1)
    ys = band.get_paths()[0].vertices[:, 1]
    assert np.isclose(ys.min(), lo.min()) and np.isclose(ys.max(), hi.max())


def test_convergence_draws_a_small_ensemble_particle_by_particle():
    traj = no.simulate(Quadratic([1.0, 10.0]), no.GradientDescent(0.1), [[1.0, 1.0], [2.0, -1.0], [0.5, 0.5]], 50)
    ax = plot.convergence({"GD": traj, "again": traj})
    drawn = [ln for ln in ax.get_lines() if ln.get_color() == plot.method_colors(1)[0]]
    assert len(drawn) == 3
    for j, ln in enumerate(drawn):
        np.testing.assert_array_equal(ln.get_ydata(), traj.gap[:, j])
    assert "GD (3 particles)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_twelve_methods_get_twelve_colours_and_the_style_sets_line_widths():
    colors = plot.method_colors(12)
    assert len(set(colors)) == 12
    # Okabe & Ito (2008)'s colour-blind-safe set comes first.
    assert colors[:3] == ["#0072B2", "#D55E00", "#009E73"]
    assert plot.method_colors(13)[12] == colors[0] and plot.method_dashes(13)[12] != "-"
    before = matplotlib.rcParams["lines.linewidth"]
    with plot.style("talk"):
        ax = plot.convergence(runs())
        assert ax.get_lines()[0].get_linewidth() == pytest.approx(1.1 * plot.STYLES["talk"]["lines.linewidth"])
        assert ax.get_legend().get_texts()[0].get_fontsize() == plot.STYLES["talk"]["legend.fontsize"]
    assert matplotlib.rcParams["lines.linewidth"] == before
    with pytest.raises(ValueError, match="name must be one of"):
        with plot.style("poster"):
            pass


def test_colour_bar_of_a_negative_potential_reads_round_distinct_decades(tmp_path):
    # V* = 3 − 6 − 49/9 = −8.444…: the old ticks were V itself, −8.44 printed twice.
    V = Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0, bounds=[[-1.5, 3.0], [-1.2, 2.6]])
    ax = plot.contour(V)
    saved(ax.figure, tmp_path)
    bar = ax.figure.axes[-1]
    labels = [t.get_text() for t in bar.get_yticklabels()]
    assert len(labels) == len(set(labels)) >= 4
    offsets = bar.get_yticks() - V.minimum_value
    offsets = offsets[offsets > 1e-12]  # the bar's bottom, V = V*, when labelled "0"
    np.testing.assert_allclose(offsets, 10.0 ** np.round(np.log10(offsets)), rtol=1e-9)
    assert bar.yaxis.get_label().get_text().startswith("V − V*") and bar.yaxis.get_label_position() == "left"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["known minimum"]


def test_energy_on_a_log_time_axis_with_a_caption(tmp_path):
    traj = no.simulate(Quadratic([1.0]), no.VelocityVerlet(0.1, friction=0.3), [1.0], 300)
    fig = plot.energy(traj, logx=True, caption="ε stays small: ω·dt = 0.1")
    saved(fig, tmp_path)
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_lines()[0].get_xdata().min() > 0
    assert any(t.get_text() == "ε stays small: ω·dt = 0.1" for t in fig.texts)


def test_sweep_map_on_a_log_axis_labels_no_minor_ticks(tmp_path):
    result = no.sweep(V2, no.HeavyBall, [2.0, 1.0], n_steps=100, lr=np.logspace(-3, -1.5, 6),
                      momentum=np.linspace(0.5, 0.9, 4))
    ax = result.plot("steps")
    saved(ax.figure, tmp_path)
    ax.figure.canvas.draw()
    assert all(t.get_text() == "" for t in ax.xaxis.get_minorticklabels())


def test_boltzmann_histogram_matches_the_harmonic_density_within_sampling_error(tmp_path):
    # V = 2x² (k = 4) at T = 0.5: the Boltzmann density is the Gaussian of variance T/k = 0.125.
    # BAOAB samples a harmonic well's positions exactly (Leimkuhler & Matthews 2013), so the bars may
    # differ from the density only by sampling error, √(p(1 − p)/N)/width per bar.
    k, T, n = 4.0, 0.5, 6000
    V = Quadratic([k], name="harmonic well")
    traj = no.simulate(V, no.Langevin(0.05, friction=1.0, temperature=T, seed=0), np.zeros((n, 1)), 1500,
                       record="final")
    ax = plot.boltzmann_histogram(traj, T, V, bins=30)
    saved(ax.figure, tmp_path)
    edges, heights, _, expected = ax.boltzmann
    width = np.diff(edges)
    p = expected * width
    sigma = np.sqrt(p * (1 - p) / n) / width
    assert np.all(np.abs(heights - expected) <= 4.5 * sigma + 1e-12)
    curve = [ln for ln in ax.get_lines() if ln.get_label() == "exp(−V/T)/Z"][0]
    x, y = curve.get_data()
    np.testing.assert_allclose(y, np.exp(-x**2 / (2 * T / k)) / np.sqrt(2 * np.pi * T / k), rtol=2e-3, atol=1e-6)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        plot.boltzmann_histogram(traj, 0.0, V)


def test_boltzmann_histogram_of_a_2d_potential_draws_the_marginal():
    # V = x² + 2y² at T = 1: the marginal along x is the Gaussian of variance T/2.
    V = Quadratic([2.0, 4.0], bounds=[[-4, 4], [-4, 4]])
    traj = no.simulate(V, no.Langevin(0.05, temperature=1.0, seed=1), np.zeros((400, 2)), 400, record="final")
    ax = plot.boltzmann_histogram(traj, 1.0, V, coordinate=0)
    x, y = [ln for ln in ax.get_lines() if "marginal" in ln.get_label()][0].get_data()
    np.testing.assert_allclose(y, np.exp(-x**2) / np.sqrt(np.pi), atol=1e-4)
