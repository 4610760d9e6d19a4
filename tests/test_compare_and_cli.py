"""compare(): one start, one stopping rule, one table; the newtonopt command."""

import json
import sys

import numpy as np
import pytest

import newtonopt as no
from newtonopt.cli import DEFAULT_STEPS, build_method, main, make_parser, method_settings, parse_methods
from newtonopt.integrators.registry import METHODS as REGISTRY
from newtonopt.potentials import DoubleWell, Quadratic, Rosenbrock
from newtonopt.registry import POTENTIALS, SCIPY_METHODS

METHODS = {"GD": no.GradientDescent(1e-3), "heavy ball": no.HeavyBall(1e-3, 0.9), "CG": "CG"}


def test_compare_runs_every_method_from_the_same_start_with_the_same_rule():
    V = Rosenbrock()
    result = no.compare(V, METHODS, [-1.2, 1.0], n_steps=50_000, gtol=1e-6)
    rows = {r["method"]: r for r in result.to_records()}
    assert set(rows) == {"GD", "heavy ball", "CG"}
    for label, traj in result.trajectories.items():
        np.testing.assert_array_equal(traj.x[0], [-1.2, 1.0])
        assert traj.status == "converged" and traj.grad_norm[-1] <= 1e-6
        assert rows[label]["grad_evals"] == traj.counts["gradient"]
    # one evaluation per integrator step plus the one at x0
    assert rows["GD"]["grad_evals"] == rows["GD"]["steps"] + 1
    assert rows["CG"]["V_minus_Vstar"] < 1e-10 and rows["CG"]["distance"] < 1e-5
    table = result.table()
    assert "heavy ball" in table and "gtol = 1e-06" in table and "∇ evals" in table
    frame = result.to_dataframe()
    assert list(frame.index) == ["GD", "heavy ball", "CG"]


def test_compare_on_an_ensemble_aggregates_per_particle():
    V = DoubleWell()
    starts = np.column_stack([np.linspace(-1.8, 1.8, 10), np.zeros(10)])
    result = no.compare(V, {"GD": no.GradientDescent(0.05), "BFGS": "BFGS"}, starts, n_steps=5000, gtol=1e-8)
    gd, bfgs = result.rows
    assert gd["n_particles"] == 10 and gd["fraction_converged"] == 1.0
    # Gradient descent ends in the well it starts in: the starts left of the barrier top reach the global minimum.
    left = np.mean(starts[:, 0] < V.x_top)
    assert gd["fraction_global"] == pytest.approx(left)
    assert bfgs["fraction_converged"] == 1.0 and isinstance(result.trajectories["BFGS"], list)
    assert "at global" in result.table()


def test_compare_rejects_bad_methods():
    with pytest.raises(TypeError, match="method 'x' must be a newtonopt Integrator"):
        no.compare(Quadratic([1.0]), {"x": 3}, [1.0])
    with pytest.raises(ValueError, match="at least one method"):
        no.compare(Quadratic([1.0]), {}, [1.0])


def test_cli_demo_prints_the_table_and_writes_the_figure(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["demo", "--out", str(out), "--steps", "40000"]) == 0
    text = capsys.readouterr().out
    for label in ("gradient descent", "heavy ball", "Nesterov", "velocity Verlet", "scipy CG"):
        assert label in text
    assert text.count("converged") >= 5 and out.stat().st_size > 50_000


def test_cli_list(capsys):
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    assert "rosenbrock" in text and "heavyball" in text and "scipy.optimize" in text


def test_cli_compare_with_parameters_outputs_and_a_formula(tmp_path, capsys):
    csv_path, json_path, png = tmp_path / "t.csv", tmp_path / "t.json", tmp_path / "t.png"
    code = main(["compare", "--potential", "6*x**2 + 9*y**2 - 12*x - 14*y + 3", "--methods",
                 "gd:lr=0.05,heavyball:lr=0.02,momentum=0.5,cg", "--x0", "-1,2", "--steps", "2000", "--gtol", "1e-8",
                 "--csv", str(csv_path), "--json", str(json_path), "--plot", str(png)])
    assert code == 0
    text = capsys.readouterr().out
    assert "gd" in text and "heavyball" in text and "cg" in text
    data = json.loads(json_path.read_text())
    assert [r["method"] for r in data["rows"]] == ["gd", "heavyball", "cg"]
    assert all(r["status"] == "converged" for r in data["rows"])
    assert csv_path.read_text().startswith("method,status,steps") and png.stat().st_size > 20_000


def test_cli_compare_tuned_uses_polyak_parameters(capsys):
    assert main(["compare", "--potential", "quadratic", "--dim", "20", "--methods", "gd,heavyball", "--tuned",
                 "--steps", "5000"]) == 0
    assert capsys.readouterr().out.count("converged") == 2


@pytest.mark.parametrize("argv, message", [
    (["compare", "--potential", "rosenbrok"], "unknown potential 'rosenbrok'; did you mean 'rosenbrock'"),
    (["compare", "--methods", "gd,heavybal"], "unknown method 'heavybal'; did you mean 'heavyball'"),
    (["compare", "--methods", "gd:lr=fast"], "lr must be a real number or an array of real numbers, got the string"),
    (["compare", "--x0", "1,2,3"], "--x0 needs 2 comma-separated numbers"),
    (["compare", "--steps", "-5"], "--steps must be >= 0, got -5"),
    (["compare", "--methods", "heavyball:momentum=1.5"], "momentum must be finite and in"),
])
def test_cli_usage_errors_exit_2_and_name_the_problem(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_cli_unknown_command_exits_2():
    with pytest.raises(SystemExit) as info:
        main(["dance"])
    assert info.value.code == 2


def test_parse_methods():
    assert parse_methods("gd,heavyball:lr=1e-3,momentum=0.9,cg") == [
        ("gd", "gd", {}), ("heavyball", "heavyball", {"lr": "1e-3", "momentum": "0.9"}), ("cg", "cg", {})]


def test_the_console_script_is_installed():
    import shutil
    import subprocess

    exe = shutil.which("newtonopt")
    if exe is None:
        pytest.skip("the console script is not on PATH (not installed)")
    proc = subprocess.run([exe, "list"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "rosenbrock" in proc.stdout


def test_formulas_work_without_sympy(monkeypatch):
    # formulas are parsed and differentiated by newtonopt.formula; sympy is no longer needed
    monkeypatch.setitem(sys.modules, "sympy", None)
    assert no.Potential.from_expression("x**2").gradient([3.0]).tolist() == [6.0]


def test_expression_equals_the_seed_quadratic():
    V = no.Potential.from_expression("6*x**2 + 9*y**2 - 12*x - 14*y + 3")
    Q = Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0)
    x = np.random.default_rng(0).standard_normal((5, 2))
    np.testing.assert_allclose(V.value(x), Q.value(x), rtol=1e-13)
    np.testing.assert_allclose(V.gradient(x), Q.gradient(x), rtol=1e-13)
    np.testing.assert_allclose(V.hessian(x), Q.hessian(x))
    W = no.Potential.from_expression("sin(x0)*x2 + x1**2")
    assert W.dim == 3 and no.check_gradient(W, x[0].tolist() + [0.3]) < 1e-8


@pytest.mark.parametrize("formula, match", [
    ("import os", "does not need"), ("x + foo(y)", r"unknown names \['foo'\]"), ("x +* y", "could not be parsed"),
    ("3 + 4", "has no variable"), ("x + x1", "mixes x, y, z with x0"),
])
def test_bad_formulas(formula, match):
    with pytest.raises(ValueError, match=match):
        no.Potential.from_expression(formula)


def test_cli_explore_without_a_display_writes_a_snapshot(tmp_path, capsys):
    out = tmp_path / "explorer.png"
    assert main(["explore", "--potential", "himmelblau", "--x0", "-4,-4", "--method", "verlet", "--out",
                 str(out)]) == 0
    assert "snapshot" in capsys.readouterr().out and out.stat().st_size > 20_000
    assert main(["explore", "--potential", "rastrigin", "--method", "adam"]) == 2


# ------------------------------------------------------------------------ every registry method, every setting


def _spell(value) -> str:
    """A value as the command line writes it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "(" + ",".join(_spell(v) for v in value) + ")"
    if isinstance(value, str):
        return value
    return repr(value)


def _another_value(entry, key, default):
    """A value other than the default that the method's class itself accepts for ``key``."""
    base = entry.settings(1e-3)
    if isinstance(default, bool):
        candidates = [not default]
    elif isinstance(default, int):
        candidates = [default + 1, default + 2]
    elif isinstance(default, tuple):
        candidates = [tuple(0.99 * v for v in default), tuple(1.01 * v for v in default)]
    elif isinstance(default, str):  # a choice: the method's module lists them under the setting's name
        candidates = [c for c in getattr(sys.modules[entry.cls.__module__], key.upper(), ()) if c != default]
    else:
        candidates = [0.5 * default, 2.0 * default, default + 0.5, 0.5] if default else [0.5, 0.01]
    for value in candidates:
        try:
            entry.cls(**{**base, key: value})
        except (ValueError, TypeError):
            continue
        return value
    raise AssertionError(f"{entry.name}: no other valid value found for {key} = {default!r}")


SETTINGS = [(m, key) for m in REGISTRY for key in method_settings(m)]


def test_the_settings_loop_covers_every_method_in_the_registry():
    assert {m.name for m, _ in SETTINGS} == {m.name for m in REGISTRY}
    assert len(SETTINGS) >= 2 * len(REGISTRY)


@pytest.mark.parametrize("entry, key", SETTINGS, ids=[f"{m.name}:{k}" for m, k in SETTINGS])
def test_every_setting_of_every_registry_method_is_reachable(entry, key, tmp_path, capsys):
    default = entry.build(1e-3).params()[key]
    value = _another_value(entry, key, default)
    spec = f"{entry.name}:{key}={_spell(value)}"
    # what the command line builds is what Python builds with the same keyword
    built = build_method(entry.name, parse_methods(spec)[0][2], 1e-3)
    assert built.params() == entry.cls(**{**entry.settings(1e-3), key: value}).params()
    # and the run uses it: the JSON row and the table's parameters column carry the value
    out = tmp_path / "t.json"
    argv = ["compare", "--potential", "seed-2d", "--methods", spec, "--steps", "3", "--json", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    row = json.loads(out.read_text())["rows"][0]
    expected = list(value) if isinstance(value, tuple) else value
    assert row["params"][key] == expected
    assert f"{key}=" in capsys.readouterr().out


# Values inside scipy's ranges (0 < c1 < c2 < 1; whole numbers for L-BFGS-B's memory and line search), each
# unlike scipy's default (c1 = 1e-4, c2 = 0.4 or 0.9, maxcor = 10, maxls = 20).
SCIPY_VALUES = {"c1": 1e-3, "c2": 0.5, "maxcor": 5, "maxls": 10}
SCIPY_SETTINGS = [(name, key) for name, entry in SCIPY_METHODS.items() for key in entry.settings]


@pytest.mark.filterwarnings("error::scipy.optimize.OptimizeWarning")  # "Unknown solver options" fails the test
@pytest.mark.parametrize("name, key", SCIPY_SETTINGS, ids=[f"{n}:{k}" for n, k in SCIPY_SETTINGS])
def test_every_scipy_setting_reaches_scipy(name, key, tmp_path):
    spec = f"{name}:{key}={SCIPY_VALUES[key]}"
    (label, _, params), = parse_methods(spec)
    method = build_method(name, params, 1e-3)
    assert method == (SCIPY_METHODS[name].target, {key: SCIPY_VALUES[key]})
    result = no.compare(Rosenbrock(), {label: method}, [-1.2, 1.0], n_steps=5)
    assert result.trajectories[label].params[key] == SCIPY_VALUES[key]  # the options scipy was given
    out = tmp_path / "t.json"
    assert main(["compare", "--methods", spec, "--steps", "5", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["rows"][0]["params"] == {key: SCIPY_VALUES[key]}


@pytest.mark.parametrize("entry", REGISTRY, ids=[m.name for m in REGISTRY])
def test_every_name_of_every_registry_method_is_reachable(entry, capsys):
    for alias in (entry.name, entry.cls.__name__, entry.title, *entry.aliases):
        assert type(build_method(alias, {}, 1e-3)) is entry.cls
    assert main(["compare", "--potential", "seed-2d", "--methods", entry.cls.__name__, "--steps", "3"]) == 0
    assert capsys.readouterr().out.splitlines()[2].startswith(entry.cls.__name__)


def test_the_same_method_twice_gets_two_rows(tmp_path):
    out = tmp_path / "t.json"
    assert main(["compare", "--methods", "gd:lr=1e-3,gd:lr=2e-3,gd", "--steps", "10", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["method"], r["params"]["lr"]) for r in rows] == [("gd", 1e-3), ("gd (2)", 2e-3), ("gd (3)", 1e-3)]


# ------------------------------------------------------------------------------------------------- spellings
@pytest.mark.parametrize("spelling", [
    ["--x0", "-1.2,1"], ["--x0=-1.2,1"], ["--x0", "-1.2, 1"], ["--x0", "(-1.2, 1)"], ["--x0", "[-1.2,1]"],
    ["--x0", "-1.2 1"], ["--x0", "-12e-1,1."],
])
def test_every_spelling_of_a_negative_start(spelling, tmp_path):
    out = tmp_path / "t.json"
    assert main(["compare", *spelling, "--methods", "cg", "--steps", "1", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["x0"] == [-1.2, 1.0]


def test_a_formula_may_start_with_a_minus(tmp_path):
    out = tmp_path / "t.json"
    assert main(["compare", "--potential", "-exp(-x**2 - y**2)", "--x0", "0.5,-0.5", "--methods", "bfgs",
                 "--json", str(out)]) == 0
    row = json.loads(out.read_text())["rows"][0]
    assert row["status"] == "converged" and row["final_V"] == pytest.approx(-1.0, abs=1e-12)  # V(0, 0) = −1


def test_tuples_with_commas_slashes_and_brackets():
    for spec in ("adam:betas=(0.8,0.99)", "adam:betas=(0.8/0.99)", "adam:betas=0.8/0.99", "adam:betas=[0.8, 0.99]"):
        (label, name, params), = parse_methods(spec)
        assert build_method(name, params, 1e-3).params()["betas"] == (0.8, 0.99), spec


# --------------------------------------------------------------------------------------- list and the table
def test_list_names_every_potential_method_alias_and_setting_in_plain_words(capsys):
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    for name in POTENTIALS:
        assert f"  {name} " in text
    for m in REGISTRY:
        assert f"  {m.name} " in text and all(alias in text for alias in m.aliases)
        assert "settings: " + ", ".join(method_settings(m)) in text
    for name, entry in SCIPY_METHODS.items():
        assert f"  {name} " in text and "settings: " + ", ".join(entry.settings) in text
    assert "seeds'" not in text and "starts at -1.2,1" in text  # Rosenbrock's usual start, as --x0 writes it
    assert "momentum = 1 − γ·dt/m" in text  # the heavy ball in both notations
    assert max(len(line) for line in text.splitlines()) <= 120


def test_compare_prints_the_parameters_each_method_used(capsys):
    # Müller–Brown's default lr is 1e-4 (newtonopt.registry); verlet takes dt = √lr = 0.01 and the friction
    # with e^(−γ·dt) = 0.9, γ = −ln 0.9 / 0.01 = 10.536 (the registry's rule, docs/cli.md).
    assert main(["compare", "--potential", "muller-brown", "--methods", "gd,verlet,cg", "--steps", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-1] == "parameters"
    rows = {line.split()[0]: line for line in lines[2:5]}
    assert rows["gd"].endswith("lr=0.0001, friction=1")
    assert rows["verlet"].endswith("dt=0.01, mass=1, friction=10.5")
    assert rows["cg"].endswith("—")


def test_compare_and_demo_share_the_step_budget():
    parser = make_parser()
    assert parser.parse_args(["compare"]).steps == parser.parse_args(["demo"]).steps == DEFAULT_STEPS == 50_000


# ----------------------------------------------------------------------------------------- backend, workers
def test_compare_backend_numba_gives_numpys_bits():
    pytest.importorskip("numba")
    # Rosenbrock is built from + − ×, where both backends promise the same bits (newtonopt.backends).
    methods = {"gd": no.GradientDescent(1e-3), "hb": no.HeavyBall(1e-3, 0.9), "CG": "CG"}
    a = no.compare(Rosenbrock(), methods, [-1.2, 1.0], n_steps=300)
    b = no.compare(Rosenbrock(), methods, [-1.2, 1.0], n_steps=300, backend="numba")
    for label in methods:
        np.testing.assert_array_equal(a.trajectories[label].x, b.trajectories[label].x)


def test_compare_checks_backend_and_workers():
    with pytest.raises(ValueError, match="backend must be one of"):
        no.compare(Rosenbrock(), {"gd": no.GradientDescent(1e-3)}, [-1.2, 1.0], backend="gpu")
    with pytest.raises(ValueError, match="workers=2 needs backend='numba'"):
        no.compare(Rosenbrock(), {"gd": no.GradientDescent(1e-3)}, [-1.2, 1.0], workers=2)


class OwnLangevin(no.Langevin):
    """A user's subclass (it may change the rule): the compiled backend, which knows exact classes, has none."""


def test_compare_refuses_a_method_numba_cannot_run_before_any_run():
    pytest.importorskip("numba")
    V = Rosenbrock()
    with pytest.raises(ValueError, match="no rule for OwnLangevin"):
        no.compare(V, {"gd": no.GradientDescent(1e-3), "own": OwnLangevin(1e-3, temperature=0.1, seed=0)},
                   [-1.2, 1.0], backend="numba")
    assert V.counts["gradient"] == 0  # not one evaluation: gd did not run first


def test_cli_backend_and_workers_reach_compare(monkeypatch, tmp_path):
    import newtonopt.cli as cli

    seen = {}
    real = cli.compare

    def spy(*args, **kwargs):
        seen.update(backend=kwargs["backend"], workers=kwargs["workers"])
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "compare", spy)
    assert main(["compare", "--methods", "cg", "--backend", "auto", "--workers", "2", "--steps", "1"]) == 0
    assert seen == {"backend": "auto", "workers": 2}
    assert main(["demo", "--steps", "1", "--out", str(tmp_path / "d.png"), "--backend", "auto"]) == 0
    assert seen == {"backend": "auto", "workers": None}
