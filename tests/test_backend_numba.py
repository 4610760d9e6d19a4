"""The compiled backend (numba) against the numpy reference.

The reference is the numpy backend itself: on potentials built from + − × ÷ √ the compiled loop
does the same IEEE operations in the same order (no fused multiply-add, the halving fold for every
sum), so every recorded array, status, step and count must be equal bit for bit, for one particle,
an ensemble, and any number of worker threads. Where exp, sin or cos enter (Müller–Brown,
Rastrigin, a formula with exp) numba calls the C library and numpy its own SIMD kernels, which may
differ in the last bit; there each recorded array must agree to 1e-12 × max(1, max |V|, its own
largest magnitude), since the gradient near a minimum is a difference of terms of the size of V.
Measured on this machine (200 steps, relative to each array's largest magnitude): ≤ 3e-14 on
Müller–Brown (up to 32 ulp in x with momentum 0.9), ≤ 5e-16 with a formula's exp; Rastrigin's sin
and cos gave the same bits.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import (
    Beale,
    DoubleWell,
    Himmelblau,
    LennardJones,
    MullerBrown,
    Quadratic,
    Rastrigin,
    Rosenbrock,
)

numba = pytest.importorskip("numba")

from newtonopt import backends  # noqa: E402
from newtonopt.backends import numba_backend  # noqa: E402

from .golden import _rotated_quadratic  # noqa: E402

# Every method the compiled backend has, with settings stable on every potential below.
METHODS = {
    "GradientDescent": lambda: no.GradientDescent(1e-3),
    "HeavyBall": lambda: no.HeavyBall(1e-3, 0.9),
    "Nesterov": lambda: no.Nesterov(1e-3, 0.9),
    "VelocityVerlet": lambda: no.VelocityVerlet(dt=0.02, friction=0.5),
    "VelocityVerlet-frictionless": lambda: no.VelocityVerlet(dt=0.01),
}
# (the methods compiled since, Forward Euler, the adaptive ones and FIRE, are run on every potential by
# tests/test_backend_matrix.py)
assert {name.split("-")[0] for name in METHODS} <= {c.__name__ for c in numba_backend.METHODS}

SQRT_FORMULA = "(x0 - 1)**2 + x1**2*x2**2/4 + sqrt(1 + x0**2) + x1/(2 + x2**2)"

# name -> (potential factory, start of particle 0); every one built from + − × ÷ √.
EXACT = {
    "quadratic-diag-2": (lambda: Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0), [0.3, -0.2]),
    "quadratic-diag-17": (lambda: Quadratic(np.linspace(1.0, 8.0, 17), b=np.linspace(-1, 1, 17)), None),
    "quadratic-dense-3": (_rotated_quadratic, [1.0, -0.5, 0.25]),
    "rosenbrock-2": (lambda: Rosenbrock(2), [-1.2, 1.0]),
    "rosenbrock-5": (lambda: Rosenbrock(5), [-1.2, 1.0, -0.5, 0.8, 0.3]),
    "himmelblau": (Himmelblau, [1.0, 1.0]),
    "beale": (Beale, [1.0, 1.0]),
    "lennard-jones-5": (lambda: LennardJones(5), "lj"),
    "double-well": (DoubleWell, [0.5, 0.3]),
    "formula": (lambda: no.Potential.from_expression(SQRT_FORMULA), [0.4, 0.6, 0.8]),
}
# name -> (factory, start, lr scale): exp, sin, cos from the C library in the compiled loop.
TRANSCENDENTAL = {
    "muller-brown": (MullerBrown, [-0.5, 1.2], 0.1),
    "rastrigin-3": (lambda: Rastrigin(3), [0.1, -0.2, 0.15], 1.0),
    "formula-exp": (lambda: no.Potential.from_expression("exp(0.5*x*x) + y**2 - x*y"), [0.4, -0.3], 1.0),
}
RECORDED = ("x", "p", "t", "step", "potential_energy", "kinetic_energy", "dissipated", "grad_norm")
FINAL = ("x_final", "value_final", "grad_norm_final", "particle_status", "converged_step", "diverged_step")


def _start(V, base, n):
    if base == "lj":
        base = V.initial_positions(seed=0)
    elif base is None:
        base = np.linspace(0.3, 1.1, V.dim)
    base = np.asarray(base, dtype=np.float64)
    if n is None:
        return base
    return base + np.random.default_rng(V.dim).uniform(-0.05, 0.05, (n, V.dim))


def assert_same_run(a: no.Trajectory, b: no.Trajectory, exact: bool = True):
    """Every recorded array, the final state and the verdicts: bitwise, or to 1e-12 of the run's scale."""
    scale = max(1.0, float(np.max(np.abs(b.potential_energy))))
    for name in RECORDED + FINAL:
        x, y = getattr(a, name), getattr(b, name)
        if x is None or y is None:
            assert x is None and y is None, name
        elif exact or x.dtype.kind not in "f":
            assert x.shape == y.shape and x.dtype == y.dtype, name
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"{name} differs"
        else:
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-12 * max(scale, np.max(np.abs(y))), err_msg=name)
    assert (a.status, a.n_steps, a.counts) == (b.status, b.n_steps, b.counts)
    for key, value in a.final_state.items():
        if exact:
            nan = value.dtype.kind == "f"
            assert np.array_equal(value, b.final_state[key], equal_nan=nan), f"final_state[{key!r}] differs"


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("n", [None, 64])
@pytest.mark.parametrize("potential", sorted(EXACT))
@pytest.mark.parametrize("method", sorted(METHODS))
def test_compiled_run_equals_numpy_bitwise(method, potential, n, workers):
    make, base = EXACT[potential]
    V = make()
    x0 = _start(V, base, n)
    runs = [no.simulate(V, METHODS[method](), x0, n_steps=150, gtol=1e-2, backend=backend, workers=w)
            for backend, w in (("numpy", None), ("numba", workers))]
    assert_same_run(*runs)


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("make", [lambda d: Quadratic(np.linspace(1.0, 8.0, d), b=np.linspace(-1, 1, d), c=0.5),
                                  lambda d: Quadratic(np.linspace(1.0, 8.0, d)),
                                  lambda d: Rosenbrock(d)], ids=["quadratic-diag-b-c", "quadratic-diag", "rosenbrock"])
@pytest.mark.parametrize("blocks", ["one", "three"])
def test_compiled_run_equals_numpy_beyond_one_fold_block(method, make, blocks):
    """Many coordinates: 2049 (one fold block, odd) and 2·BLOCK + 3 (every sum folded block by block, then
    over the block sums), as numpy's; the diagonal quadratic also takes its one-pass route (from 1024)."""
    from newtonopt.backends.numba_loops import ONE_PASS_MIN_DIM
    from newtonopt.core.reductions import BLOCK

    assert ONE_PASS_MIN_DIM <= 2049 < BLOCK
    V = make(2049 if blocks == "one" else 2 * BLOCK + 3)
    x0 = np.cos(np.arange(V.dim) * 0.37) * 0.5
    runs = [no.simulate(V, METHODS[method](), x0, n_steps=6, record="all", backend=backend)
            for backend in ("numpy", "numba")]
    assert_same_run(*runs)


@pytest.mark.parametrize("n", [None, 64])
@pytest.mark.parametrize("potential", sorted(TRANSCENDENTAL))
@pytest.mark.parametrize("method", sorted(METHODS))
def test_compiled_run_agrees_with_numpy_on_transcendentals(method, potential, n):
    make, base, scale = TRANSCENDENTAL[potential]
    V = make()
    integrator = METHODS[method]()
    if scale != 1.0:  # Müller–Brown's wells are stiff (curvature ~ 10³): a smaller step
        integrator = (no.VelocityVerlet(dt=0.002, friction=0.5) if isinstance(integrator, no.VelocityVerlet)
                      else type(integrator)(**{**integrator.params(), "lr": 1e-4}))
    x0 = _start(V, base, n)
    a = no.simulate(V, integrator, x0, n_steps=200, backend="numpy")
    b = no.simulate(V, integrator, x0, n_steps=200, backend="numba", workers=2)
    assert_same_run(a, b, exact=False)


def test_ensemble_with_events_per_particle_parameters_and_grid_shape():
    """Per-particle lr (some diverge, some converge, the rest run out), a (4, 8) grid of particles."""
    V = Rosenbrock(2)
    x0 = _start(V, [-1.2, 1.0], 32).reshape(4, 8, 2)
    lr = np.geomspace(1e-4, 3e-2, 32).reshape(4, 8)
    runs = [no.simulate(V, no.HeavyBall(lr, 0.5), x0, n_steps=400, gtol=0.5, backend=b, workers=w)
            for b, w in (("numpy", None), ("numba", 1), ("numba", 2))]
    statuses = set(runs[0].particle_status.ravel())
    assert {"diverged", "converged", "max_steps"} <= statuses, statuses  # the test exercises all three
    assert_same_run(runs[0], runs[1])
    assert_same_run(runs[0], runs[2])


def test_per_particle_time_steps_give_per_particle_clocks():
    V = Quadratic([1.0, 4.0])
    dt = np.linspace(0.01, 0.05, 6)
    x0 = _start(V, [1.0, 1.0], 6)
    a, b = (no.simulate(V, no.VelocityVerlet(dt=dt, friction=0.3), x0, n_steps=50, backend=bk)
            for bk in ("numpy", "numba"))
    assert a.t.shape == (51, 6)
    assert_same_run(a, b)


@pytest.mark.parametrize("record,every", [("all", 7), ("scalars", 1), ("scalars", 10), ("final", 1)])
def test_recording_policies(record, every):
    V = Himmelblau()
    for n in (None, 5):
        x0 = _start(V, [0.0, 0.0], n)
        a, b = (no.simulate(V, no.Nesterov(2e-3, 0.8), x0, n_steps=103, record=record, every=every, backend=bk)
                for bk in ("numpy", "numba"))
        assert_same_run(a, b)


def test_single_particle_converges_and_diverges_as_numpy():
    V = Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0)
    for integrator, gtol in ((no.GradientDescent(0.01), 1e-6), (no.GradientDescent(0.2), None)):
        a, b = (no.simulate(V, integrator, [0.3, -0.2], n_steps=5000, gtol=gtol, backend=bk)
                for bk in ("numpy", "numba"))
        assert a.status == ("converged" if gtol else "diverged")
        assert_same_run(a, b)
        assert a.message == b.message


def test_streaming_and_resume(tmp_path):
    """record_to streams the compiled rows; a run resumed from its Trajectory continues bitwise."""
    V = LennardJones(4)
    x0 = _start(V, "lj", 3)
    method = no.VelocityVerlet(dt=0.005, friction=0.2)
    whole = no.simulate(V, method, x0, n_steps=120, backend="numpy")
    first = no.simulate(V, method, x0, n_steps=50, backend="numba", record_to=tmp_path / "a")
    rest = no.simulate(V, method, first, n_steps=70, backend="numba")
    joined = no.Trajectory.join(first, rest)
    for name in RECORDED:
        assert np.array_equal(getattr(joined, name), getattr(whole, name)), name
    assert np.array_equal(no.Trajectory.load(tmp_path / "a").x, first.x)


@pytest.mark.parametrize("n,workers", [(None, 1), (20_000, 1), (20_000, 2)])
def test_rows_written_in_place_stream_block_by_block(tmp_path, n, workers):
    """The kernel writes its rows into the recorder's block; with record_to the block (16 rows here: about
    4 MiB of 20 000 particles' rows) is streamed and reused several times, for a lone particle too."""
    V = Quadratic([1.0, 4.0])
    x0 = _start(V, [1.0, -1.0], n)
    steps = 16 * 2**14 + 5 if n is None else 57  # a lone particle's rows are small: many of them fill a block
    method = no.HeavyBall(0.02, 0.8)
    memory = no.simulate(V, method, x0, n_steps=steps, record="scalars", backend="numpy")
    streamed = no.simulate(V, method, x0, n_steps=steps, record="scalars", backend="numba", workers=workers,
                           record_to=tmp_path / "run")
    assert_same_run(memory, streamed)
    assert_same_run(memory, no.Trajectory.load(tmp_path / "run"))


def test_callback_sees_every_step_and_can_stop():
    V = Beale()
    seen = {"numpy": [], "numba": []}

    def watcher(name):
        def callback(state):
            seen[name].append((state.step, state.x.copy(), float(state.value), float(state.grad_sq())))
            return state.step == 37
        return callback

    a, b = (no.simulate(V, no.HeavyBall(1e-3, 0.9), [1.0, 1.0], n_steps=100, callback=watcher(bk), backend=bk)
            for bk in ("numpy", "numba"))
    assert a.status == b.status == "stopped" and a.n_steps == 37
    assert_same_run(a, b)
    assert len(seen["numba"]) == 37
    for (s1, x1, v1, g1), (s2, x2, v2, g2) in zip(seen["numpy"], seen["numba"]):
        assert s1 == s2 and np.array_equal(x1, x2) and v1 == v2 and g1 == g2


# ------------------------------------------------------------------------- choosing a backend
def test_bad_backend_or_workers_is_a_clear_error():
    V = Quadratic([1.0, 2.0])
    with pytest.raises(ValueError, match="backend must be one of .*'cuda'"):
        no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], backend="cuda")
    with pytest.raises(ValueError, match="workers"):
        no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], backend="numba", workers=0)
    with pytest.raises(ValueError, match="workers=2 needs backend='numba'"):
        no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], backend="numpy", workers=2)


def test_numba_missing(monkeypatch):
    """backend='numba' without numba names the extra; 'auto' runs on numpy, quietly."""
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now raises ImportError
    V = Quadratic([1.0, 2.0])
    with pytest.raises(ImportError, match=r"pip install 'newtonopt\[fast\]'"):
        no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], backend="numba")
    assert backends.select("auto", 1, V, no.GradientDescent(0.1), np.float64, 2, 10**9) is None
    a = no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], n_steps=20, backend="auto", workers=2)
    assert_same_run(a, no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], n_steps=20))


def test_python_function_potential_runs_on_numpy_only():
    """A user's own Python function cannot be compiled: 'numba' refuses it, 'auto' runs it on numpy."""
    V = no.Potential.from_function(lambda x: (x * x).sum(-1), lambda x: 2 * x, dim=2)
    with pytest.raises(ValueError, match="a Python function cannot be compiled"):
        no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], backend="numba")
    a = no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], n_steps=10, backend="auto")
    assert a.status == "max_steps" and a.n_steps == 10


class OwnGradientDescent(no.GradientDescent):
    """A user's subclass: it may change the rule, so the compiled backend (exact classes only) has none."""


def test_unsupported_methods_and_schedules():
    V = Quadratic([1.0, 2.0])
    with pytest.raises(ValueError, match=r"no rule for OwnGradientDescent \(it has GradientDescent, "):
        no.simulate(V, OwnGradientDescent(0.1), [1.0, 1.0], backend="numba")
    with pytest.raises(ValueError, match="scheduled"):
        no.simulate(V, no.GradientDescent(no.schedules.Exponential(0.1, 0.01)), [1.0, 1.0], backend="numba")
    with pytest.raises(ValueError, match="float64"):
        no.simulate(V, no.GradientDescent(0.1), np.array([1.0, 1.0], dtype=np.float32), backend="numba")


def test_auto_compiles_only_when_the_run_repays_it(monkeypatch):
    V = Quadratic([1.0, 2.0])
    gd = no.GradientDescent(0.1)
    monkeypatch.setattr(numba_backend, "kernel_compiled", lambda *pair: False)
    monkeypatch.setattr(numba_backend, "kernel_cached", lambda *pair: False)
    assert backends.select("auto", 1, V, gd, np.float64, 2, 1000) is None  # ~ms of numpy: not worth a compile
    assert backends.select("auto", 1, V, gd, np.float64, 2, 10**8) is numba_backend  # minutes of numpy
    monkeypatch.setattr(numba_backend, "kernel_compiled", lambda *pair: True)
    assert backends.select("auto", 1, V, gd, np.float64, 2, 1000) is numba_backend  # ready: nothing to wait for


def test_auto_compiles_exact_potentials_at_any_size_and_others_only_when_small(monkeypatch):
    """Measured (benchmarks and backends.AUTO_MAX_COORDINATES): on the + − × ÷ √ library potentials the
    compiled loop is faster than numpy at every size tried (0.03–0.66x) and gives the same bits, so auto
    takes it; where exp enters, a large run is not faster throughout (a formula with exp over 10⁴
    particles is slower), so auto keeps numpy there even when the kernel is ready."""
    monkeypatch.setattr(numba_backend, "kernel_compiled", lambda *pair: True)
    gd = no.GradientDescent(0.1)
    small, large = Quadratic([1.0, 2.0]), Quadratic(np.linspace(1.0, 2.0, 100))
    assert backends.select("auto", 1, small, gd, np.float64, 2, 10**8) is numba_backend
    assert backends.select("auto", 1, small, gd, np.float64, 2 * 1000, 10**8) is numba_backend  # 1000 particles
    assert backends.select("auto", 1, large, gd, np.float64, 100, 10**8) is numba_backend
    assert backends.select("auto", 1, Rosenbrock(10), gd, np.float64, 10 * 500, 10**8) is numba_backend
    mb, formula = MullerBrown(), no.Potential.from_expression("exp(-x**2 - y**2) + x**2")
    assert backends.select("auto", 1, mb, gd, np.float64, 2, 10**8) is numba_backend
    assert backends.select("auto", 1, mb, gd, np.float64, 2 * 1000, 10**8) is None
    assert backends.select("auto", 1, formula, gd, np.float64, 2 * 1000, 10**8) is None
    assert backends.select("auto", 1, Rastrigin(100), gd, np.float64, 100, 10**8) is None


_PAIR_PROBE = """
import json, sys
import newtonopt as no
from newtonopt.backends import numba_backend as nb
from newtonopt.potentials import Himmelblau, Rosenbrock
pairs = {"gd-rosenbrock": (no.GradientDescent(1e-3), Rosenbrock(2)),
         "hb-rosenbrock": (no.HeavyBall(1e-3, 0.5), Rosenbrock(2)),
         "gd-himmelblau": (no.GradientDescent(1e-3), Himmelblau())}
seen = {"before": {k: [nb.kernel_compiled(*p), nb.kernel_cached(*p)] for k, p in pairs.items()}}
if sys.argv[1] == "run":
    no.simulate(Rosenbrock(2), no.GradientDescent(1e-3), [-1.2, 1.0], 5, backend="numba")
seen["after"] = {k: [nb.kernel_compiled(*p), nb.kernel_cached(*p)] for k, p in pairs.items()}
print(json.dumps(seen))
"""


def test_kernels_are_compiled_and_cached_per_pair(tmp_path):
    """kernel_compiled / kernel_cached answer for one (method, potential) pair: a run compiles and caches
    its own pair only (fresh processes, an empty numba cache)."""
    import json
    import os
    import subprocess
    from pathlib import Path

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(Path(no.__file__).parent.parent))

    def probe(what):
        out = subprocess.run([sys.executable, "-c", _PAIR_PROBE, what], env=env, capture_output=True, text=True,
                             check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    first = probe("run")
    assert first["before"] == {k: [False, False] for k in first["before"]}
    assert first["after"] == {"gd-rosenbrock": [True, True], "hb-rosenbrock": [False, False],
                              "gd-himmelblau": [False, False]}
    second = probe("look")  # a new process: nothing compiled, the one pair on disk
    assert second["before"] == {"gd-rosenbrock": [False, True], "hb-rosenbrock": [False, False],
                                "gd-himmelblau": [False, False]}


@pytest.mark.parametrize("every", [1, 7])
def test_a_chunk_whose_particles_end_first_keeps_pace_with_the_others(every):
    # workers=n runs the one-thread kernel on n chunks of particles, one per thread. Here the first chunk's
    # five particles (lr = 0.18, near Polyak's optimum) converge at step 46 and the second's (lr = 0.01) at
    # step 671: the first chunk must be carried on, still stepped and recorded, to the block's end, as one
    # thread does, so that every record, verdict and the resumable final state are numpy's bits.
    V = Quadratic(np.linspace(1.0, 10.0, 4))
    lrs = np.concatenate([np.full(5, 0.18), np.full(5, 0.01)])
    X0 = np.ones((10, 4))
    reference = no.simulate(V, no.HeavyBall(lrs, 0.5), X0, 5000, gtol=1e-6, every=every, backend="numpy")
    assert list(reference.converged_step) == [46] * 5 + [671] * 5
    for workers in (2, 3):
        run = no.simulate(V, no.HeavyBall(lrs, 0.5), X0, 5000, gtol=1e-6, every=every, backend="numba",
                          workers=workers)
        for name in ("x", "p", "t", "step", "potential_energy", "kinetic_energy", "dissipated", "grad_norm",
                     "converged_step", "x_final", "value_final", "grad_norm_final"):
            np.testing.assert_array_equal(getattr(run, name), getattr(reference, name), err_msg=name)
        for name, value in reference.final_state.items():
            np.testing.assert_array_equal(run.final_state[name], value, err_msg=name)
