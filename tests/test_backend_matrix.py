"""Every method × every potential the compiled evaluator knows: the numba backend against numpy.

The reference is the numpy backend (the methods' own ``update``, node by node). For each method of
the package (tests/methods.py, at its default setting), each library potential of
``numba_backend.POTENTIALS`` (tests/test_backend_numba.py's EXACT and TRANSCENDENTAL tables), one
particle and an ensemble of 64, the compiled loop runs with one and with two worker threads:

* on potentials built from + − × ÷ √ every recorded array (x, p, V, K, D, |∇V|, t), the final
  state (the method's memory included) and the verdicts are equal bit for bit;
* on Müller–Brown, Rastrigin and a formula with exp, the compiled loop calls the C library's exp,
  sin and cos and numpy its own SIMD kernels, which may differ in the last bit. There the test
  measures the largest difference of each recorded array in ulps of that array's largest magnitude
  and holds it to :data:`MAX_ULPS`; the measured values are in :data:`MEASURED_ULPS`.

Every method of the registry has a compiled rule, the two Langevin thermostats included (their
counter-based noise drawn by :mod:`newtonopt.backends.numba_noise`, bit for bit).

Runtime: 30 steps a run; the compiled loop is one kernel per (method, potential) pair (and another for
two workers), compiled once (~3 s each) or loaded from numba's disk cache (~10 ms).
"""

from __future__ import annotations

import numpy as np
import pytest

import newtonopt as no

from . import methods as every

numba = pytest.importorskip("numba")

from newtonopt import backends  # noqa: E402
from newtonopt.backends import numba_backend  # noqa: E402

from . import test_backend_numba as base  # noqa: E402  (a module object: its tests are not collected again)

N_STEPS = 30
COMPILED = sorted(name for name in every.NAMES if name in {c.__name__ for c in numba_backend.METHODS})
NOT_COMPILED = sorted(name for name in every.NAMES if name not in COMPILED)
RECORDED = ("x", "p", "t", "potential_energy", "kinetic_energy", "dissipated", "grad_norm")

#: Largest difference allowed on the exp/sin/cos potentials, in ulps of each recorded array's largest
#: magnitude: twice the largest measured (MEASURED_ULPS). One exp differs by at most an ulp; the steps
#: after it carry and amplify that (most on Müller–Brown, whose curvature reaches ~10³).
MAX_ULPS = 64
#: Measured on this machine (glibc's libm against numpy's own kernels), 30 steps, over every compiled
#: method, one particle and 64, one and two workers: the largest difference of any recorded array, in
#: ulps of that array's largest magnitude (Müller–Brown: Nesterov's K; the adaptive methods and FIRE
#: ≤ 15). Rastrigin's sin and cos gave the same bits.
MEASURED_ULPS = {"muller-brown": 33, "rastrigin-3": 0, "formula-exp": 3}


def _method(name: str, scale: float = 1.0):
    """The registry's setting at the tests' learning rate (times ``scale``: Müller–Brown's wells are stiff,
    curvature ~ 10³, and at 1e-3 the momentum methods amplify the last bit a million-fold in 30 steps)."""
    if scale == 1.0:
        return every.default(name)()
    return every._BY_NAME[name].build(every.SAFE_LR * scale)


def _potentials():
    assert {type(make()) for make, _ in base.EXACT.values()} | {type(make()) for make, _, _ in
                                                                 base.TRANSCENDENTAL.values()} == \
        set(numba_backend.POTENTIALS), "a potential the compiled evaluator knows is missing from the tables"
    return sorted(base.EXACT) + sorted(base.TRANSCENDENTAL)


def _make(potential: str):
    """(potential, start, learning-rate scale)."""
    if potential in base.EXACT:
        make, start = base.EXACT[potential]
        return make(), start, 1.0
    make, start, scale = base.TRANSCENDENTAL[potential]
    return make(), start, scale


def _ulps(a: np.ndarray, b: np.ndarray) -> float:
    """max |a − b| in ulps of max |b| (0 when both are equal, NaNs in the same places)."""
    if np.array_equal(a, b, equal_nan=True):
        return 0.0
    finite = np.isfinite(b)
    assert np.array_equal(finite, np.isfinite(a)), "non-finite values in different places"
    scale = np.spacing(np.max(np.abs(b[finite]), initial=np.finfo(np.float64).tiny))
    return float(np.max(np.abs(a[finite] - b[finite]))) / scale


@pytest.mark.parametrize("n", [None, 64], ids=["one", "64"])
@pytest.mark.parametrize("potential", _potentials())
@pytest.mark.parametrize("method", COMPILED)
def test_compiled_equals_numpy(method, potential, n):
    V, start, scale = _make(potential)
    x0 = base._start(V, start, n)
    reference = no.simulate(V, _method(method, scale), x0, n_steps=N_STEPS, backend="numpy")
    for workers in (1, 2):
        run = no.simulate(V, _method(method, scale), x0, n_steps=N_STEPS, backend="numba", workers=workers)
        if potential in base.EXACT:
            base.assert_same_run(run, reference)
            continue
        assert (run.status, run.n_steps, run.counts) == (reference.status, reference.n_steps, reference.counts)
        worst = max(_ulps(getattr(run, name), getattr(reference, name)) for name in RECORDED
                    if getattr(reference, name) is not None)
        assert worst <= MAX_ULPS, f"{worst:.3g} ulps on {potential} (measured: {MEASURED_ULPS[potential]})"


# ---------------------------------------------------------------------- the methods' other code paths
VARIANTS = {
    "adam-amsgrad-decay": lambda: no.Adam(0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True),
    "rmsprop-centered-momentum-decay": lambda: no.RMSprop(0.005, alpha=0.9, momentum=0.5, centered=True,
                                                          weight_decay=0.05),
    "rmsprop-momentum": lambda: no.RMSprop(0.005, momentum=0.9),
    "adagrad-decay-accumulator": lambda: no.Adagrad(0.05, lr_decay=0.01, weight_decay=0.1,
                                                    initial_accumulator_value=0.3),
    "forward-euler-frictionless": lambda: no.ForwardEuler(dt=0.002),
    "fire-small-nmin": lambda: no.FIRE(dt=0.02, maxstep=0.05, dtmax=0.2, Nmin=1),
    "relativistic-frictionless": lambda: no.RelativisticGD(dt=0.02, friction=0.0, light_speed=0.5),
    "hamiltonian-descent-quadratic": lambda: no.HamiltonianDescent(0.02, friction=0.5, kinetic="quadratic"),
    "hamiltonian-descent-relativistic": lambda: no.HamiltonianDescent(0.02, friction=2.0, kinetic="relativistic"),
    "hamiltonian-descent-power": lambda: no.HamiltonianDescent(0.02, kinetic="power", power=4.0),
}


@pytest.mark.parametrize("potential", ["rosenbrock-5", "lennard-jones-5", "quadratic-dense-3"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variants_equal_numpy(variant, potential):
    """AMSGrad, weight decay, a centred RMSprop with momentum, Adagrad's decay, FIRE's adaptation, relativistic GD
    without friction and Hamiltonian descent's three kinetic energies (the power one by the package's own exp and
    ln, ported), 60 steps."""
    V, start, _ = _make(potential)
    for n in (None, 8):
        x0 = base._start(V, start, n)
        runs = [no.simulate(V, VARIANTS[variant](), x0, n_steps=60, backend=b, workers=w)
                for b, w in (("numpy", None), ("numba", 1), ("numba", 2))]
        base.assert_same_run(runs[1], runs[0])
        base.assert_same_run(runs[2], runs[0])


def test_fire_grid_per_particle_parameters_and_memory():
    """A (3, 4) grid with per-particle dt and maxstep: each particle's own adaptive dt, a and N, kept in
    the memory in the ensemble's layout, and its own clock."""
    V = no.potentials.Himmelblau()
    x0 = base._start(V, [0.5, 0.5], 12).reshape(3, 4, 2)
    dt = np.linspace(0.005, 0.05, 12).reshape(3, 4)
    method = no.FIRE(dt=dt, maxstep=np.linspace(0.05, 0.3, 12).reshape(3, 4), dtmax=0.2, Nmin=2)
    a, b = (no.simulate(V, method, x0, n_steps=80, backend=bk) for bk in ("numpy", "numba"))
    assert a.t.shape == (81, 3, 4) and len(np.unique(a.t[-1])) > 1  # the clocks differ
    assert len(np.unique(a.final_state["fire_n"])) > 1  # the particles reset at different steps
    base.assert_same_run(b, a)


@pytest.mark.parametrize("method", ["Adam", "Adagrad", "FIRE", "ForwardEuler", "NesterovConvex", "RelativisticGD",
                                    "HamiltonianDescent", "Langevin", "OverdampedLangevin"])
def test_resumed_compiled_run_continues_bitwise(method):
    """The step count (bias corrections, lr decay, the convex Nesterov's momentum (k − 1)/(k + 2)) and FIRE's
    state are handed back to the memory, and the thermostats' noise is drawn by step number, so a run resumed
    from a compiled one continues as one numpy run would."""
    V = no.potentials.Rosenbrock(2)
    x0 = base._start(V, [-1.2, 1.0], 5)
    whole = no.simulate(V, _method(method), x0, n_steps=40, backend="numpy")
    first = no.simulate(V, _method(method), x0, n_steps=17, backend="numba")
    rest = no.simulate(V, _method(method), first, n_steps=23, backend="numba")
    joined = no.Trajectory.join(first, rest)
    for name in RECORDED:
        a, b = getattr(joined, name), getattr(whole, name)
        assert (a is None and b is None) or np.array_equal(a, b), name
    for key, value in whole.final_state.items():
        assert np.array_equal(value, rest.final_state[key]), key


# ---------------------------------------------------------------------- every method compiled
def test_every_method_has_a_compiled_rule():
    """The issue's "every method × every library potential × {numpy, numba}": no method of the registry is
    left to numpy (the two Langevin thermostats draw their noise with backends.numba_noise, bit for bit
    CounterNormal's)."""
    assert NOT_COMPILED == [] and numba_backend.NOT_COMPILED == {}
    assert {"Langevin", "OverdampedLangevin"} <= set(COMPILED)
    V = no.potentials.Quadratic([1.0, 4.0])
    assert backends.select("auto", 1, V, _method("Langevin"), np.float64, 2, 10**9) is numba_backend


def test_per_particle_hyperparameters():
    """Every hyperparameter given per particle (lr, β₁, λ, α, μ, lr_decay, the accumulator's start, dt,
    friction, mass, the speed of light): each particle's own coefficients, and per-particle clocks."""
    V = no.potentials.Rosenbrock(2)
    x0 = base._start(V, [-1.2, 1.0], 6)
    lr = np.linspace(1e-3, 2e-2, 6)
    for method in (no.Adam(lr, betas=(np.linspace(0.5, 0.9, 6), 0.99), weight_decay=np.linspace(0.0, 0.1, 6)),
                   no.RMSprop(lr, alpha=np.linspace(0.8, 0.99, 6), momentum=np.linspace(0.0, 0.5, 6), centered=True),
                   no.Adagrad(10 * lr, lr_decay=np.linspace(0.0, 0.1, 6),
                              initial_accumulator_value=np.linspace(0.0, 1.0, 6)),
                   no.ForwardEuler(dt=lr / 10, friction=np.linspace(0.0, 2.0, 6), mass=np.linspace(1.0, 2.0, 6)),
                   no.NesterovConvex(lr / 10),
                   no.RelativisticGD(dt=lr, friction=np.linspace(0.0, 2.0, 6), mass=np.linspace(1.0, 2.0, 6),
                                     light_speed=np.linspace(0.5, 3.0, 6)),
                   no.HamiltonianDescent(lr, friction=np.linspace(0.0, 2.0, 6), kinetic="power", power=3.0)):
        a, b = (no.simulate(V, method, x0, n_steps=50, backend=bk) for bk in ("numpy", "numba"))
        assert a.t.shape == (51, 6)
        base.assert_same_run(b, a)
