"""The lecture notebook runs headless from top to bottom and prints the numbers its text promises.

docs/lecture_particle.ipynb is stored with its outputs (so the documentation site, which renders it
without executing, shows the figures); a fresh run must print what is stored. After changing the
notebook or the numbers it prints, store it again with ``python tests/test_notebook.py``.

The notebook draws with ``%matplotlib inline``, which needs no display; its explorer is an ipympl canvas,
which runs in a kernel without a front end (the canvas is built, nobody clicks). The expected numbers
come from the formulas next to them: 2/λ_max and (2 + 2μ)/λ_max with λ_max = 18; lr = dt²/m and
μ = 1 − γ·dt/m; ⟨x²⟩ = T/k in a harmonic well; ε of order dt² (Verlet) and dt (symplectic Euler).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "lecture_particle.ipynb"


def execute(path: Path = NOTEBOOK):
    """Run the notebook in a fresh kernel started in the repository's root (so it imports this checkout)."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                                     resources={"metadata": {"path": str(ROOT)}})
    # No display: Agg for anything that asks pyplot for a backend (the notebook itself asks for inline).
    client.execute(env={**os.environ, "MPLBACKEND": "Agg"})
    return nb


def printed(nb) -> list[str]:
    """What each code cell printed (its stdout), one string per code cell."""
    return ["".join(o.get("text", "") for o in cell.get("outputs", [])
                    if o.get("output_type") == "stream" and o.get("name") == "stdout")
            for cell in nb.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def run():
    for name in ("nbclient", "nbformat", "ipykernel", "ipywidgets"):
        pytest.importorskip(name)
    return execute()


@pytest.fixture(scope="module")
def text(run) -> str:
    return "\n".join(printed(run))


def test_it_runs_and_its_numbers_are_the_formulas(text):
    assert "stability limit 2/λ_max = 0.1111" in text  # 2/18
    assert "lr = 0.10: |1 − lr·λ_max| = 0.80 → converged" in text
    assert "lr = 0.12: |1 − lr·λ_max| = 1.16 → diverged" in text
    assert "HeavyBall(lr=0.01, momentum=0.8, mass=1)" in text  # 0.1²/1 and 1 − 2·0.1/1
    assert "back again: {'dt': 0.1, 'mass': 1.0, 'friction': 2.0}" in text
    assert "converged after 183 steps at [1.         0.77777778]" in text  # the README's run; minimum (1, 7/9)
    assert "limit (2 + 2μ)/λ_max = 0.2000" in text  # 3.6/18
    assert "lr = 0.19: converged" in text and "lr = 0.21: diverged" in text


def test_the_ledger_errors_have_the_orders_the_text_states(text):
    eps = {(float(dt), name.strip()): float(e) for dt, name, e in
           re.findall(r"dt = ([\d.]+)\s+(velocity Verlet|heavy ball)\s*:.*max \|ε\| = ([\d.]+)", text)}
    assert len(eps) == 4
    assert eps[(0.05, "velocity Verlet")] / eps[(0.025, "velocity Verlet")] == pytest.approx(4.0, rel=0.02)
    assert 1.7 < eps[(0.05, "heavy ball")] / eps[(0.025, "heavy ball")] < 2.1
    assert text.count("E = -8.4444") == 4  # every run ends at rest at V* = −76/9


def test_the_thermostat_samples_boltzmann(text):
    x2 = float(re.search(r"⟨x²⟩ = ([\d.]+)", text).group(1))
    assert x2 == pytest.approx(0.5 / 4, abs=0.003)  # T/k; about 4 standard errors of the correlated samples
    assert "(BAOAB: 0.2400)" in text  # (T/2)(1 − (ω·dt/2)²) with ω = 2, dt = 0.2
    share, weight = (float(v) for v in re.search(r"deep-well share ([\d.]+) .*Boltzmann: ([\d.]+)", text).groups())
    assert share == pytest.approx(weight, abs=0.03)


def test_the_explorer_cell_shows_a_widget_and_a_picture(run):
    last = [cell for cell in run.cells if cell.cell_type == "code"][-1]
    assert "Explorer(" in last.source
    data = {key for output in last.outputs for key in output.get("data", {})}
    assert {"application/vnd.jupyter.widget-view+json", "image/png"} <= data


def test_the_stored_outputs_are_a_fresh_run(run):
    import nbformat

    stored = nbformat.read(NOTEBOOK, as_version=4)
    assert printed(stored) == printed(run), "the stored outputs are stale: run `python tests/test_notebook.py`"


if __name__ == "__main__":  # store the notebook with fresh outputs
    import nbformat

    nbformat.write(execute(), NOTEBOOK)
    print(f"stored {NOTEBOOK.relative_to(ROOT)} with fresh outputs", file=sys.stderr)
