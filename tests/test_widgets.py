"""The notebook explorer (newtonopt.widgets) driven without a browser: widget values set from Python.

The reference for every run is a direct ``newtonopt.simulate`` call with the method written out by hand
(or, for the methods of physics set up from lr and momentum, by the registry's ``build``), compared
bitwise; the two notations are checked against the dictionary lr = dt²/m, μ = 1 − γ·dt/m (heavy ball)
and lr = dt/γ (gradient descent).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import numpy as np
import pytest

import newtonopt as no
from newtonopt.integrators.registry import METHODS, find_method

HAVE_IPYWIDGETS = importlib.util.find_spec("ipywidgets") is not None
if HAVE_IPYWIDGETS:
    from newtonopt.widgets import Explorer, ml_parameters, notations, physics_parameters

needs_ipywidgets = pytest.mark.skipif(not HAVE_IPYWIDGETS, reason="ipywidgets is not installed (the notebook extra)")

LEDGER = ("t", "x", "p", "potential_energy", "kinetic_energy", "dissipated", "grad_norm")


def _same_run(a, b) -> None:
    assert (a.status, a.n_steps) == (b.status, b.n_steps)
    for name in LEDGER:
        left, right = getattr(a, name), getattr(b, name)
        if left is None or right is None:
            assert left is None and right is None, name
        else:
            assert np.array_equal(left, right), name


@pytest.fixture
def V():
    return no.potentials.Himmelblau()


def _set(explorer, **values) -> None:
    with explorer.batch():  # one run for all the values
        for name, value in values.items():
            explorer.controls[name].value = value


def test_importing_without_ipywidgets_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # what `import ipywidgets` meets when it is absent
    monkeypatch.delitem(sys.modules, "newtonopt.widgets", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'newtonopt\[notebook\]'"):
        importlib.import_module("newtonopt.widgets")


@needs_ipywidgets
def test_the_picker_offers_every_registry_method_and_each_runs(V):
    explorer = Explorer(V, [0.0, 0.0], n_steps=60, interactive=False)
    assert [value for _, value in explorer.controls["method"].options] == [m.name for m in METHODS]
    for entry in METHODS:
        notations_offered = [n for n, names in (("machine learning", ml_parameters(entry)),
                                                ("physics", physics_parameters(entry))) if names]
        assert notations_offered, entry.name
        for notation in notations_offered:
            _set(explorer, method=entry.name, notation=notation)
            assert explorer.controls["notation"].options == tuple(notations_offered)
            assert isinstance(explorer.integrator, entry.cls), (entry.name, notation, explorer.message)
            direct = no.simulate(V, explorer.build(), [0.0, 0.0], 60, gtol=1e-6)
            _same_run(explorer.trajectory, direct)


@needs_ipywidgets
def test_the_explorer_runs_are_not_counted(V):
    explorer = Explorer(V, interactive=False)
    _set(explorer, method="adam", lr=0.05)
    explorer.set_start([1.0, 1.0])
    assert explorer.trajectory.n_steps > 0
    assert V.counts["value"] == 0 and V.counts["gradient"] == 0  # nobody's budget


@needs_ipywidgets
def test_the_thermostats_show_a_temperature_and_a_seed(V):
    explorer = Explorer(V, method="langevin", interactive=False)
    shown = {n for n, w in explorer.controls.items() if w.layout.display != "none"}
    assert {"temperature", "seed"} <= shown
    explorer.controls["method"].value = "heavyball"
    shown = {n for n, w in explorer.controls.items() if w.layout.display != "none"}
    assert not {"temperature", "seed"} & shown


@needs_ipywidgets
def test_machine_learning_sliders_run_what_simulate_runs(V):
    x0 = [-1.0, 2.5]
    explorer = Explorer(V, x0, interactive=False)
    _set(explorer, method="heavyball", lr=0.02, momentum=0.75, gtol=1e-8, n_steps=700)
    _same_run(explorer.trajectory, no.simulate(V, no.HeavyBall(lr=0.02, momentum=0.75), x0, 700, gtol=1e-8))
    _set(explorer, method="nesterov")
    _same_run(explorer.trajectory, no.simulate(V, no.Nesterov(lr=0.02, momentum=0.75), x0, 700, gtol=1e-8))
    _set(explorer, method="gd", lr=0.005)
    _same_run(explorer.trajectory, no.simulate(V, no.GradientDescent(lr=0.005), x0, 700, gtol=1e-8))
    _set(explorer, method="adam", lr=0.05)  # the slider is Adam's own lr (the registry's default is 0.01)
    _same_run(explorer.trajectory, no.simulate(V, no.Adam(lr=0.05), x0, 700, gtol=1e-8))
    # Velocity Verlet from lr and momentum: the registry's settings (dt = √lr, e^(−γ·dt) = μ).
    _set(explorer, method="verlet", lr=0.01, momentum=0.9)
    reference = find_method("verlet").build(0.01, 0.9)
    _same_run(explorer.trajectory, no.simulate(V, reference, x0, 700, gtol=1e-8))
    assert explorer.integrator.dt == pytest.approx(0.1) and np.exp(-0.1 * explorer.integrator.friction) == \
        pytest.approx(0.9)


@needs_ipywidgets
def test_physical_sliders_run_what_simulate_runs(V):
    x0 = [0.5, -0.5]
    explorer = Explorer(V, x0, interactive=False)
    _set(explorer, method="heavyball", notation="physics", dt=0.05, mass=2.0, friction=3.0, n_steps=400)
    _same_run(explorer.trajectory, no.simulate(V, no.HeavyBall.from_physics(0.05, 2.0, friction=3.0), x0, 400,
                                               gtol=1e-6))
    _set(explorer, method="verlet")  # the same dt, m and γ, now integrated by velocity Verlet
    _same_run(explorer.trajectory, no.simulate(V, no.VelocityVerlet(dt=0.05, mass=2.0, friction=3.0), x0, 400,
                                               gtol=1e-6))
    _set(explorer, method="langevin", temperature=0.2, seed=7)
    reference = no.Langevin(dt=0.05, mass=2.0, friction=3.0, temperature=0.2, seed=7)
    _same_run(explorer.trajectory, no.simulate(V, reference, x0, 400, gtol=1e-6))
    _set(explorer, method="overdamped-langevin")
    reference = no.OverdampedLangevin(dt=0.05, friction=3.0, temperature=0.2, seed=7)
    _same_run(explorer.trajectory, no.simulate(V, reference, x0, 400, gtol=1e-6))
    _set(explorer, method="gd")
    _same_run(explorer.trajectory, no.simulate(V, no.GradientDescent.from_physics(0.05, 3.0), x0, 400, gtol=1e-6))


@needs_ipywidgets
def test_both_notations_are_shown_and_the_toggle_keeps_the_motion(V):
    explorer = Explorer(V, [0.0, 0.0], lr=0.01, momentum=0.9, interactive=False)
    # lr = dt²/m and μ = 1 − γ·dt/m with m = 1: dt = 0.1, γ = (1 − 0.9)/0.1 = 1.
    assert "lr = 0.01, momentum = 0.9" in explorer.readout.value
    assert "dt = 0.1, m = 1, γ = 1" in explorer.readout.value
    before = explorer.trajectory
    explorer.controls["notation"].value = "physics"
    assert explorer.controls["dt"].value == pytest.approx(0.1)
    assert explorer.controls["mass"].value == 1.0
    assert explorer.controls["friction"].value == pytest.approx(1.0)
    np.testing.assert_allclose(explorer.trajectory.x, before.x, rtol=1e-9, atol=1e-9)  # round-off apart
    explorer.controls["dt"].value = 0.2  # back in lr: 0.2² = 0.04, 1 − 1·0.2/1 = 0.8
    explorer.controls["notation"].value = "machine learning"
    assert explorer.controls["lr"].value == pytest.approx(0.04)
    assert explorer.controls["momentum"].value == pytest.approx(0.8)


@needs_ipywidgets
def test_notations_of_single_methods():
    assert notations(no.HeavyBall(lr=0.01, momentum=0.9)) == ("lr = 0.01, momentum = 0.9", "dt = 0.1, m = 1, γ = 1")
    assert notations(no.GradientDescent(lr=0.02, friction=2.0)) == ("lr = 0.02", "dt = 0.04, γ = 2")
    ml, phys = notations(no.VelocityVerlet(dt=0.1, mass=2.0, friction=4.0))
    assert ml == "as a heavy ball: lr = dt²/m = 0.005, momentum = 1 − γ·dt/m = 0.8"  # 0.01/2, 1 − 0.4/2
    assert phys == "dt = 0.1, m = 2, γ = 4"
    assert notations(no.OverdampedLangevin(dt=0.03, friction=3.0, temperature=0.5)) == (
        "lr = dt/γ = 0.01", "dt = 0.03, γ = 3, T = 0.5")
    assert notations(no.Adam(lr=1e-3)) == ("lr = 0.001", "—")


@needs_ipywidgets
def test_which_sliders_set_which_method():
    assert ml_parameters(find_method("gd")) == ("lr",)
    assert ml_parameters(find_method("verlet")) == ("lr", "momentum")  # read by the registry's settings
    assert ml_parameters(find_method("fire")) == ()
    assert physics_parameters(find_method("heavyball")) == ("dt", "mass", "friction")  # from_physics
    assert physics_parameters(find_method("langevin")) == ("dt", "mass", "friction", "temperature")
    assert physics_parameters(find_method("adam")) == ()


@needs_ipywidgets
def test_an_impossible_setting_is_reported_not_raised(V):
    explorer = Explorer(V, interactive=False)
    _set(explorer, notation="physics", dt=0.5, mass=1.0, friction=3.0)  # γ·dt/m = 1.5: momentum would be < 0
    assert explorer.integrator is None and explorer.trajectory is None
    assert "friction·dt/mass must be at most 1" in explorer.message
    explorer.controls["friction"].value = 1.0
    assert explorer.trajectory is not None


def _click(explorer, ax, x: float, y: float) -> None:
    from matplotlib.backend_bases import MouseEvent

    canvas = explorer.figure.canvas
    canvas.draw()  # the transforms of a laid-out figure
    px, py = ax.transData.transform((x, y))
    canvas.callbacks.process("button_press_event", MouseEvent("button_press_event", canvas, px, py, button=1))


@needs_ipywidgets
@pytest.mark.parametrize("interactive", [False, True])
def test_a_click_on_the_map_moves_the_start(V, interactive):
    if interactive:
        pytest.importorskip("ipympl")
    explorer = Explorer(V, [0.0, 0.0], n_steps=200, interactive=interactive)
    assert explorer.interactive is interactive
    _click(explorer, explorer.ax_map, 1.5, -2.0)
    np.testing.assert_allclose(explorer.x0, [1.5, -2.0], atol=1e-9)
    assert np.array_equal(explorer.trajectory.x[0], explorer.x0)
    _same_run(explorer.trajectory, no.simulate(V, no.HeavyBall(0.01, 0.9), explorer.x0, 200, gtol=1e-6))
    _click(explorer, explorer.ax_energy, 1.0, 1.0)  # a click on the ledger is not a start
    np.testing.assert_allclose(explorer.x0, [1.5, -2.0], atol=1e-9)


@needs_ipywidgets
def test_the_ledger_and_its_log_time_axis(V):
    explorer = Explorer(V, [0.0, 0.0], interactive=False)
    labels = {line.get_label() for line in explorer.ax_energy.get_lines()}
    assert {"potential V", "kinetic K", "total E = V + K", "dissipated D", "ε = E + D − E₀"} <= labels
    assert explorer.ax_energy.get_xscale() == "linear"
    explorer.controls["log_time"].value = True
    assert explorer.ax_energy.get_xscale() == "log"
    assert explorer.image.value[:8] == b"\x89PNG\r\n\x1a\n"  # the picture is redrawn for the notebook


@needs_ipywidgets
def test_bad_arguments(V):
    with pytest.raises(ValueError, match="2-D potential"):
        Explorer(no.potentials.Rosenbrock(dim=3), interactive=False)
    with pytest.raises(TypeError, match="potential"):
        Explorer(lambda x: x, interactive=False)
    with pytest.raises(ValueError, match="lr must be in"):
        Explorer(V, lr=2.0, interactive=False)
    with pytest.raises(ValueError, match="momentum must be in"):
        Explorer(V, momentum=1.0, interactive=False)
    with pytest.raises(ValueError, match="unknown method 'heavy-bal'"):
        Explorer(V, method="heavy-bal", interactive=False)
    with pytest.raises(ValueError, match="x0"):
        Explorer(V, [0.0, 0.0, 0.0], interactive=False)
    with pytest.raises(ValueError, match="n_steps"):
        Explorer(V, n_steps=0, interactive=False)
    with pytest.raises(TypeError, match="interactive"):
        Explorer(V, interactive="yes")
    explorer = Explorer(V, interactive=False)
    with pytest.raises(ValueError, match="start"):
        explorer.set_start([np.nan, 0.0])
