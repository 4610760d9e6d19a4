"""The one method registry: it lists exactly the package's integrators, finds them by any name, and
what it says about each (stochastic, second order, CLI settings, explorer) is what the method does."""

import inspect

import numpy as np
import pytest

import newtonopt as no
from newtonopt.cli import main
from newtonopt.integrators.registry import METHODS, find_method
from newtonopt.potentials import Quadratic, Rosenbrock

from .methods import NAMES, every_method


def test_every_exported_integrator_is_registered_and_nothing_else():
    exported = {obj for name in no.__all__ if isinstance(obj := getattr(no, name), type)
                and issubclass(obj, no.Integrator) and obj is not no.Integrator}
    registered = [m.cls for m in METHODS]
    assert len(registered) == len(set(registered)) == 14
    assert set(registered) == exported


def test_the_tests_every_method_list_is_the_registry():
    assert list(every_method()) == list(NAMES) == [m.cls.__name__ for m in METHODS]
    with pytest.raises(AssertionError, match="the registry does not know: \\['Momentum'\\]"):
        every_method({"Momentum": lambda: None})


@pytest.mark.parametrize("name, cls", [
    ("gd", no.GradientDescent), ("GradientDescent", no.GradientDescent), ("gradient descent", no.GradientDescent),
    ("heavy_ball", no.HeavyBall), ("Heavy Ball", no.HeavyBall), ("verlet", no.VelocityVerlet),
    ("velocity-verlet", no.VelocityVerlet), ("euler", no.ForwardEuler), ("overdamped-langevin", no.OverdampedLangevin),
    ("sgld", no.OverdampedLangevin), ("OverdampedLangevin", no.OverdampedLangevin), ("FIRE", no.FIRE),
])
def test_any_name_finds_its_method(name, cls):
    assert find_method(name).cls is cls
    assert find_method(cls) is find_method(name) is find_method(find_method(name).build(1e-3))


def test_an_unknown_name_is_refused_with_close_matches():
    with pytest.raises(ValueError, match=r"unknown method 'nesterv'; did you mean 'nesterov'"):
        find_method("nesterv")
    with pytest.raises(TypeError, match="method must be a name"):
        find_method(3)


@pytest.mark.parametrize("entry", METHODS, ids=lambda m: m.name)
def test_what_the_registry_says_is_what_the_method_does(entry):
    # stochastic ⇔ the constructor takes a seed; second order ⇔ a run records momenta p.
    assert entry.stochastic == ("seed" in inspect.signature(entry.cls).parameters)
    traj = no.simulate(Quadratic([1.0, 2.0]), entry.build(1e-2), [1.0, 1.0], 3)
    assert (traj.p is not None) == entry.second_order


@pytest.mark.parametrize("entry", METHODS, ids=lambda m: m.name)
def test_the_cli_settings_go_downhill_at_the_cli_step_size(entry):
    # Rosenbrock from (−1.2, 1), V = 24.2, at the command line's lr = 1e-3 for it: 2000 steps lower V.
    traj = no.simulate(Rosenbrock(), entry.build(1e-3), [-1.2, 1.0], 2000)
    assert traj.status != "diverged" and traj.potential_energy[-1] < 0.5 * 24.2


def test_the_explorer_offers_the_methods_its_sliders_set():
    from newtonopt.explorer import METHODS as BUTTONS
    from newtonopt.explorer import make_integrator

    assert BUTTONS == ("gradient descent", "heavy ball", "Nesterov", "velocity Verlet")
    assert make_integrator("heavy ball", 0.01, 0.5) == no.HeavyBall(0.01, 0.5)
    verlet = make_integrator("verlet", 0.01, 0.5)  # dt = √lr, e^(−γ·dt) = momentum
    assert verlet.dt == 0.1 and np.exp(-verlet.friction * verlet.dt) == pytest.approx(0.5, rel=1e-15)
    with pytest.raises(ValueError, match="method must be one of"):
        make_integrator("adam", 0.01, 0.5)


def test_the_cli_lists_and_runs_the_thermostats(tmp_path, capsys):
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert all(f"  {m.name} " in listed for m in METHODS)
    out = tmp_path / "t.json"
    assert main(["compare", "--potential", "seed-2d", "--methods", "langevin:temperature=0.3,sgld:seed=3",
                 "--steps", "50", "--json", str(out)]) == 0
    import json

    rows = {r["method"]: r for r in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"langevin", "sgld"}
    assert rows["langevin"]["status"] == rows["sgld"]["status"] == "max_steps"  # the bath keeps ‖∇V‖ above gtol
