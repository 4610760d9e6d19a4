"""The progress bar's decisions: when it opens (terminal or not, forced, projected time) and what it costs a loop.

No real terminal: a StringIO that says it is a tty stands in for stderr, and a fake clock for time.
"""

import io
import sys

import pytest

from newtonopt.core import progress as P
from newtonopt.core.progress import NEVER, THRESHOLD, Progress, progress_bar, watched


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    """Seconds that advance only when the test says so."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def outside_pytest(monkeypatch):
    """As if run from a script: pytest sets PYTEST_CURRENT_TEST anew for each phase of a test, so the check
    that reads it is replaced rather than the variable removed."""
    monkeypatch.setattr(P, "_under_pytest", lambda: False)


def test_a_pipe_and_pytest_are_not_watched(outside_pytest, monkeypatch):
    assert not watched(io.StringIO())  # a pipe or a file
    assert watched(Terminal())
    monkeypatch.undo()
    assert P._under_pytest() and not watched(Terminal())


def test_under_pytest_even_a_long_job_in_a_terminal_stays_silent():
    clock, out = Clock(), Terminal()
    bar = Progress(100, stream=out, clock=clock)
    assert bar.next_check == NEVER  # the hot loop will never call again
    clock.now = 50.0
    bar.report(1)  # projected 5000 s
    bar.close()
    assert bar.bar is None and out.getvalue() == ""


def test_in_a_pipe_a_long_job_stays_silent(outside_pytest):
    clock, out = Clock(), io.StringIO()
    bar = Progress(100, stream=out, clock=clock)
    assert bar.next_check == NEVER
    clock.now = 50.0
    bar.report(1)
    assert bar.bar is None and out.getvalue() == ""


def test_in_a_terminal_a_long_job_opens_the_bar_after_its_first_unit(outside_pytest):
    pytest.importorskip("tqdm")
    clock, out = Clock(), Terminal()
    bar = Progress(100, stream=out, clock=clock, desc="runs", unit="run")
    assert bar.bar is None and bar.next_check == 1  # measure the first unit before deciding
    clock.now = 0.05  # 0.05 s per run projects 100 runs to 5 s > THRESHOLD = 2 s
    bar.report(1)
    assert bar.bar is not None and bar.bar.n == 1
    for k in range(2, 101):
        clock.now = 0.05 * k
        bar.update()
    bar.close()
    text = out.getvalue()
    assert "runs" in text and "100/100" in text and "run/s" in text


def test_in_a_terminal_a_short_job_stays_silent(outside_pytest):
    pytest.importorskip("tqdm")
    clock, out = Clock(), Terminal()
    bar = Progress(100, stream=out, clock=clock)
    for k in range(1, 101):
        clock.now = 0.01 * k  # 1 s in all: under the 2 s threshold at every projection
        bar.update()
    bar.close()
    assert THRESHOLD == 2.0 and bar.bar is None and out.getvalue() == ""


def test_a_job_that_slows_down_opens_the_bar_when_the_projection_passes_the_threshold(outside_pytest):
    pytest.importorskip("tqdm")
    clock, out = Clock(), Terminal()
    bar = Progress(100, stream=out, clock=clock)
    clock.now = 0.001
    bar.report(10)  # projected 0.01 s: no bar
    assert bar.bar is None
    clock.now = 1.0
    bar.report(40)  # 1 s for 40 units projects 2.5 s: bar
    assert bar.bar is not None and bar.bar.n == 40
    bar.close()


def test_forced_on_in_a_pipe_and_forced_off_in_a_terminal(outside_pytest):
    pytest.importorskip("tqdm")
    out = io.StringIO()
    with Progress(3, progress=True, stream=out, desc="forced") as bar:
        assert bar.bar is not None  # at once, before any measurement
        for _ in range(3):
            bar.update()
    assert "forced" in out.getvalue() and "3/3" in out.getvalue()
    clock, term = Clock(), Terminal()
    bar = Progress(100, progress=False, stream=term, clock=clock)
    clock.now = 100.0
    bar.report(1)
    assert bar.next_check == NEVER and bar.bar is None and term.getvalue() == ""


def test_without_tqdm_forcing_raises_naming_the_extra_and_the_default_stays_silent(outside_pytest, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` now raises ImportError
    with pytest.raises(ImportError, match=r"newtonopt\[progress\]"):
        Progress(10, progress=True)
    clock, out = Clock(), Terminal()
    bar = Progress(10, stream=out, clock=clock)
    assert bar.next_check == NEVER
    clock.now = 100.0
    bar.report(1)
    bar.close()
    assert out.getvalue() == ""


def test_a_hot_loop_reports_about_every_interval_of_work(outside_pytest):
    """A million 1-µs steps (1 s, below the threshold): the loop reports about once per INTERVAL = 0.1 s of
    work (the geometric start adds a few), not once per step."""
    pytest.importorskip("tqdm")
    clock, out = Clock(), Terminal()
    calls = 0
    bar = Progress(1_000_000, stream=out, clock=clock)
    check = bar.next_check
    for k in range(1, 1_000_001):
        if k >= check:
            clock.now = k * 1e-6
            calls += 1
            check = bar.report(k)
    bar.close()
    assert bar.bar is None
    assert 1 / P.INTERVAL <= calls <= 1 / P.INTERVAL + 5


def test_bad_arguments_name_the_parameter():
    with pytest.raises(TypeError, match="progress"):
        Progress(10, progress="yes")
    with pytest.raises(ValueError, match="total"):
        Progress(-1)
    with pytest.raises(TypeError, match="total"):
        Progress(2.5)
    with pytest.raises(ValueError, match="threshold"):
        Progress(10, threshold=float("nan"))
    assert isinstance(progress_bar(5, progress=False, desc="d", unit="u"), Progress)


def test_sweep_and_compare_advance_a_forced_bar_to_their_totals(capsys):
    """sweep counts grid points (3 chunks of 4, 4, 2 points), compare counts runs (2 methods)."""
    pytest.importorskip("tqdm")
    import numpy as np

    import newtonopt as no
    from newtonopt.potentials import Quadratic

    V = Quadratic([1.0, 10.0])
    no.sweep(V, no.GradientDescent, [1.0, 1.0], n_steps=50, lr=np.linspace(0.01, 0.1, 10), chunk_size=4,
             progress=True)
    assert "10/10" in capsys.readouterr().err
    no.compare(V, [no.GradientDescent(0.1), "BFGS"], [1.0, 1.0], n_steps=50, progress=True)
    assert "2/2" in capsys.readouterr().err
    no.compare(V, [no.GradientDescent(0.1)], [1.0, 1.0], n_steps=50, progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="progress"):
        no.compare(V, [no.GradientDescent(0.1)], [1.0, 1.0], progress="on")


def test_a_terminal_that_reports_zero_columns_still_gets_a_bar(monkeypatch):
    """tqdm draws nothing in a 0×0 pseudo-terminal (as `script` makes); the bar then gets 80 columns."""
    pytest.importorskip("tqdm")
    import os

    class Unsized(Terminal):
        def fileno(self):
            return 99

    monkeypatch.setattr(P.os, "get_terminal_size", lambda fd: os.terminal_size((0, 0)))
    out = Unsized()
    assert P._zero_width(out) == 80 and P._zero_width(io.StringIO()) == 0
    with Progress(3, progress=True, stream=out) as bar:
        bar.update(3)
    assert "3/3" in out.getvalue() and bar.bar.ncols == 80


def test_simulate_reports_its_steps_to_a_forced_bar(capsys):
    import newtonopt as no
    pytest.importorskip("tqdm")
    V = no.potentials.Quadratic([1.0, 4.0])
    quiet = no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], n_steps=2_000)
    shown = no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], n_steps=2_000, progress=True)
    err = capsys.readouterr().err
    assert "2000/2000" in err and "simulate GradientDescent" in err  # the bar reached the run's last step
    assert shown.x.tobytes() == quiet.x.tobytes()  # and changed nothing
    with pytest.raises(TypeError, match="progress"):
        no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], n_steps=5, progress="yes")
