"""The command line never prints a traceback for bad input (issue 10, §4): one line on stderr, exit 2."""

import os

import numpy as np
import pytest

from newtonopt.cli import main


def run(argv, capsys):
    """Exit status, stdout and stderr of ``newtonopt ARGV`` (a SystemExit counts as its code)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("newtonopt: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


FAST = ["--steps", "5", "--methods", "gd"]


def test_lennard_jones_with_one_atom(capsys):
    code, _, err = run(["compare", "--potential", "lennard-jones", "--dim", "1", *FAST], capsys)
    assert_one_line_error(code, err, "--potential lennard-jones --dim 1", "n_atoms must be >= 2, got 1")


@pytest.mark.parametrize("flag", ["--plot", "--csv", "--json"])
def test_an_output_into_a_missing_folder_is_refused_before_the_run(flag, tmp_path, capsys):
    target = tmp_path / "missing" / "out.file"
    code, out, err = run(["compare", *FAST, flag, str(target)], capsys)
    assert_one_line_error(code, err, flag, f"the folder {str(target.parent)!r} does not exist")
    assert out == ""  # refused before the comparison ran: no table printed, nothing lost
    assert not target.parent.exists()


def test_an_output_that_is_a_folder_is_refused(tmp_path, capsys):
    code, _, err = run(["compare", *FAST, "--csv", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "--csv", "is a folder")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a device that is always full)")
def test_a_write_that_fails_is_one_line(capsys):
    code, out, err = run(["compare", *FAST, "--json", "/dev/full"], capsys)
    assert_one_line_error(code, err, "--json: could not write '/dev/full'", "No space left on device")
    assert "gradient" not in err and "method" in out  # the table was printed before the write failed


def test_demo_figure_into_a_missing_folder(tmp_path, capsys):
    code, _, err = run(["demo", "--steps", "5", "--out", str(tmp_path / "no" / "demo.png")], capsys)
    assert_one_line_error(code, err, "--out", "does not exist")


@pytest.mark.parametrize("method, fragment", [
    ("gd", "no positive eigenvalue (the highest is -26)"),  # Himmelblau's Hessian at (0, 0) is diag(-26, -22)
    ("heavyball", "positive-definite Hessian"),
    ("nesterov", "positive-definite Hessian"),
])
def test_tuned_where_the_hessian_is_not_positive_definite(method, fragment, capsys):
    code, _, err = run(["compare", "--potential", "himmelblau", "--tuned", "--methods", method, "--steps", "5"], capsys)
    assert_one_line_error(code, err, f"--tuned {method} at x0 = [0.0, 0.0]", fragment)


def test_an_unclosed_bracket_in_a_formula(capsys):
    code, _, err = run(["compare", "--potential", "(x**2", *FAST], capsys)
    assert_one_line_error(code, err, "--potential")


def test_an_unclosed_bracket_does_not_leak_the_tokenizers_tuple(capsys):
    code, _, err = run(["compare", "--potential", "(x**2", *FAST], capsys)
    assert_one_line_error(code, err, "--potential")
    assert "EOF in multi-line statement" not in err and "(2, 0)" not in err
    assert "parenthesis opened at column 1 is not closed" in err


def test_a_formula_not_finite_at_the_start(capsys):
    code, _, err = run(["compare", "--potential", "log(x)", *FAST], capsys)
    assert_one_line_error(code, err, "not finite at x0")


def test_a_dimension_too_large_for_memory(capsys):
    code, _, err = run(["compare", "--potential", "rastrigin", "--dim", str(10**15), *FAST], capsys)
    assert_one_line_error(code, err, f"--dim {10**15} is too large for rastrigin")


def test_a_multi_line_message_is_printed_on_one_line(monkeypatch, capsys):
    import newtonopt.cli as cli
    from newtonopt.registry import PotentialEntry

    def make(dim):
        raise ValueError("first line\nsecond line")

    monkeypatch.setitem(cli.POTENTIALS, "rosenbrock", PotentialEntry(make, lambda V: None, "", 0.1))
    code, _, err = run(["compare", *FAST], capsys)
    assert_one_line_error(code, err, "first line; second line")


def test_a_good_run_still_writes_its_files(tmp_path, capsys):
    csv, js = tmp_path / "t.csv", tmp_path / "t.json"
    code, out, err = run(["compare", *FAST, "--csv", str(csv), "--json", str(js)], capsys)
    assert code == 0 and err == "" and csv.exists() and js.exists()
    assert np.isfinite(float(csv.read_text().splitlines()[1].split(",")[5]))  # final_V of gd


# argparse's own complaints are one line too (they used to be a usage block and an error line).
@pytest.mark.parametrize("argv, fragments", [
    (["compare", "--steps", "many"], ["argument --steps: invalid int value: 'many'", "newtonopt compare --help"]),
    (["compare", "--stepz", "5"], ["unrecognized arguments: --stepz 5"]),
    (["compare", "--x0"], ["argument --x0: expected one argument"]),
    (["compare", "--x0", "--steps", "5"], ["argument --x0: expected one argument"]),  # a flag is not a value
    (["compare", "--backend", "gpu"], ["argument --backend: invalid choice: 'gpu'"]),
    (["dance"], ["argument command: invalid choice: 'dance'"]),
    ([], ["the following arguments are required: command"]),
])
def test_argparse_errors_are_one_line(argv, fragments, capsys):
    code, out, err = run(argv, capsys)
    assert_one_line_error(code, err, *fragments)
    assert out == ""


@pytest.mark.parametrize("argv, fragments", [
    (["compare", "--methods", "gd:momentum=0.9"], ["--methods gd: gd has no setting 'momentum'",
                                                   "its settings: lr, friction"]),
    (["compare", "--methods", "HeavyBall:beta=0.9"], ["--methods HeavyBall: heavyball has no setting 'beta'"]),
    (["compare", "--methods", "cg:gtol=0.1"], ["--methods cg: scipy's CG takes no setting 'gtol' here",
                                               "its settings: c1, c2", "follow --gtol and --steps"]),
    (["compare", "--methods", "adam:betas=(0.9,x)"], ["--methods adam: betas expects a number, got 'x'"]),
    (["compare", "--methods", "lr=0.1,gd"], ["parameter 'lr=0.1' comes before any method name"]),
    (["compare", "--methods", ","], ["--methods: no method given"]),
    (["compare", "--x0", "-1.2,one"], ["--x0 expects a number, got 'one'"]),
    (["compare", "--x0", "-1.2"], ["--x0 needs 2 comma-separated numbers for Rosenbrock, got 1"]),
    (["explore", "--x0", "-1,2,3", "--out", "x.png"], ["--x0 needs 2 comma-separated numbers for Himmelblau, got 3"]),
    (["explore", "--lr", "-0.1", "--out", "x.png"], ["--lr must be > 0, got -0.1"]),  # glued, then refused by us
    (["explore", "--momentum", "-0.5", "--out", "x.png"], ["--momentum must be in [0, 1), got -0.5"]),
    (["compare", "--workers", "2", *FAST], ["--workers 2 needs --backend numba or auto"]),
    (["compare", "--workers", "0", "--backend", "auto", *FAST], ["--workers must be a positive integer, got 0"]),
    (["demo", "--steps", "-1"], ["--steps must be >= 0, got -1"]),
])
def test_bad_settings_starts_and_backends(argv, fragments, capsys):
    code, out, err = run(argv, capsys)
    assert_one_line_error(code, err, *fragments)
    assert out == ""  # refused before anything ran


def test_numba_runs_every_method_the_command_line_offers(capsys):
    """Every method has a compiled rule now (the thermostats too): nothing the command line offers is refused,
    and the table's numbers are numpy's (the same bits on Rosenbrock; the time column aside)."""
    pytest.importorskip("numba")
    tables = {}
    for backend in ("numba", "numpy"):
        code, out, err = run(["compare", "--backend", backend, "--methods", "gd,langevin", "--steps", "5"], capsys)
        assert code in (0, None) and err == "", err
        tables[backend] = [line.split()[:9] for line in out.splitlines() if line.startswith(("gd ", "langevin "))]
    assert len(tables["numba"]) == 2 and tables["numba"] == tables["numpy"]


def test_numba_missing_names_the_extra(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now fails, as where it is not installed
    code, out, err = run(["compare", "--backend", "numba", *FAST], capsys)
    assert_one_line_error(code, err, "--backend numba", "pip install 'newtonopt[fast]'")
