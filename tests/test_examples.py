"""Every example runs as a lecturer would run it (small sizes), prints its numbers and writes its figures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# A number each example must print, and where it comes from.
EXPECTED = {
    "01_one_dimension.py": "-0.216000",  # x1 = −0.9 − 0.03·(12·(−0.9) − 12), the seeds' hand computation
    "02_learning_rate.py": "stability limit 2/λ = 0.1667",  # 2/12
    "03_two_dimensions.py": "0.77777778",  # the minimizer's y = 7/9
    "04_multiple_minima.py": "basins",
    "05_momentum_vs_conjugate_gradient.py": "theory",
    "06_energy.py": "5.00e-03",  # Verlet's bound (ω·dt)²/4·E₀ = (2·0.05)²/4·2
    "07_lennard_jones.py": "-44.326801",  # LJ13 global minimum, Cambridge Cluster Database
    "08_optimizer_zoo.py": "Himmelblau",
    "09_noise_and_temperature.py": "accuracy",
    "10_sweep.py": "100.0% of points stable",  # the analytic region 0 < lr·λ < 2 + 2μ, away from its edge
    "11_modified_equation.py": "against the modified flow 2.0",  # Barrett & Dherin (2021): order 2 (2.06 small)
    "12_heavy_ball_limit.py": "β = 0.5: log–log slopes 1.00",  # Kovachki & Stuart (2021): order 1
    # 1 ± r, r = 0.8718 the correlation of Iris's sepal and petal lengths (Fisher 1936): the standardized Hessian
    "13_sgd_covariance.py": "Hessian eigenvalues [0.1282, 1.8718]",
    "14_momentum_phase_diagram.py": "2.25   0.2500         0.5000",  # upper critical branch: β = (√2.25 − 1)², ρ = √β
    "16_edge_of_stability.py": "reaches 2/lr = 4 at step 50",  # measured (tests/test_edge_of_stability.py)
    "20_performance_profile.py": "6 problems × 2 starts",  # standard_suite: three κ, Rosenbrock, Beale, logistic
    "15_su_boyd_candes.py": "t = j₁,₁/√λ = 2.7094",  # the first zero of J₁, 3.8317, over √2
    "17_torch_training.py": "d = 131 parameters",  # the 4-16-3 network's count: 4·16 + 16 + 16·3 + 3
}
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
# Examples built on an optional extra: skipped, naming it, where it is not installed (`pip install '.[test]'`
# alone must pass), run where it is (CI installs torch).
NEEDS = {"17_torch_training.py": "torch"}


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_runs_and_writes_its_figures(name, tmp_path):
    if name in NEEDS:
        pytest.importorskip(NEEDS[name], reason=f"{name} needs {NEEDS[name]} (an optional extra)")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), str(tmp_path), "--small"], capture_output=True,
                          text=True, env=env, timeout=600, cwd=EXAMPLES)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert EXPECTED[name] in proc.stdout, proc.stdout[-3000:]
    figures = list(tmp_path.glob("*.png")) + list(tmp_path.glob("*.gif"))
    assert figures, "the example wrote no figure"
    assert all(f.stat().st_size > 10_000 for f in figures)


def test_every_example_has_an_expectation():
    assert set(SCRIPTS) <= set(EXPECTED)


def test_every_example_takes_the_shared_outdir_and_small_switch():
    # examples/_common.py gives every script the same command line: [outdir] [--small].
    for name in SCRIPTS:
        assert "from _common import" in (EXAMPLES / name).read_text(encoding="utf-8"), name
    proc = subprocess.run([sys.executable, "-c", "import _common, sys; sys.argv = ['x', '--help']; _common.setup('d')"],
                          capture_output=True, text=True, cwd=EXAMPLES, timeout=60)
    assert proc.returncode == 0 and "--small" in proc.stdout
