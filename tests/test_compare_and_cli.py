"""compare(): one start, one stopping rule, one table; the newtonopt command."""

import json
import sys

import numpy as np
import pytest

import newtonopt as no
from newtonopt.cli import main, parse_methods
from newtonopt.potentials import DoubleWell, Quadratic, Rosenbrock

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
    (["compare", "--methods", "gd:lr=fast"], "expects a number, got 'fast'"),
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
