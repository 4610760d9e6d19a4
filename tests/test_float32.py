"""float32 end to end: positions, momenta and buffers stay float32, the ledger is float64.

Issue 5: a user who passes float32 arrays halves the memory traffic of every step, while the
energy ledger is still accumulated in float64. The expected numbers: on a convex quadratic (not
chaotic, so a rounding difference does not grow) a float32 run follows the float64 run to a few
float32 ulps of the scale of x, and its ledger closes (ε = E + D − E₀) as well as the float64
run's does plus float32 round-off of E (eps32 ≈ 1.2e-7 relative). Measured here: at most 20 ulps
for x (FIRE's ensemble), 5 for the ledger (forward Euler); the bounds below are 64 and 32.
"""

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Quadratic
from newtonopt.simulate import prepare_start

from .methods import STOCHASTIC, every_method

EPS32 = float(np.finfo(np.float32).eps)
V = Quadratic([1.0, 3.0, 6.0], b=[0.5, -0.2, 0.3])  # κ = 6, minimum at −b/A
X0 = np.array([[0.8, -0.6, 0.4], [-0.3, 0.9, -0.7]])

# The settings the bounds above were measured with.
INTEGRATORS = every_method({
    "GradientDescent": lambda: no.GradientDescent(0.05),
    "HeavyBall": lambda: no.HeavyBall(0.05, 0.8),
    "Nesterov": lambda: no.Nesterov(0.05, 0.8),
    "VelocityVerlet": lambda: no.VelocityVerlet(dt=0.05, friction=0.5),
    "ForwardEuler": lambda: no.ForwardEuler(dt=0.01, friction=2.0),
    "Langevin": lambda: no.Langevin(dt=0.05, friction=1.0, temperature=1e-3, seed=3),
    "OverdampedLangevin": lambda: no.OverdampedLangevin(dt=0.05, temperature=1e-3, seed=4),
    "Adagrad": lambda: no.Adagrad(0.1),
    "RMSprop": lambda: no.RMSprop(1e-2),
    "Adam": lambda: no.Adam(1e-2),
    "FIRE": lambda: no.FIRE(dt=0.05),
})


@pytest.mark.parametrize("x0", [X0[0], X0], ids=["one particle", "ensemble"])
@pytest.mark.parametrize("name", sorted(INTEGRATORS))
def test_float32_runs_follow_float64_with_a_float64_ledger(name, x0):
    make = INTEGRATORS[name]
    run32 = no.simulate(V, make(), x0.astype(np.float32), n_steps=200)
    run64 = no.simulate(V, make(), x0, n_steps=200)
    assert run32.x.dtype == np.float32 and run32.x_final.dtype == np.float32
    if run32.p is not None:
        assert run32.p.dtype == np.float32
    for ledger in (run32.potential_energy, run32.kinetic_energy, run32.dissipated, run32.grad_norm):
        assert ledger.dtype == np.float64
    # The iterates: each step adds O(eps32) relative error that the contraction damps, not amplifies.
    np.testing.assert_allclose(run32.x, run64.x, rtol=0, atol=64 * EPS32)
    # The ledger closes as in float64, up to float32 round-off of the energies it sums.
    scale = np.abs(run64.total_energy).max() + np.abs(run64.dissipated).max()
    np.testing.assert_allclose(run32.energy_error, run64.energy_error, rtol=0, atol=32 * EPS32 * scale)


def test_the_dissipated_energy_of_a_long_float32_run_is_summed_in_float64():
    # 20,000 small friction terms. Summed in float32 (each addition rounding to half an ulp of the
    # running sum) the same terms end 35 eps32 away from the float64 sum, measured here; summed in
    # float64, the float32 run ends 1.6 eps32 away (its terms carry float32 round-off of x).
    slow = Quadratic([0.01, 0.02], b=[0.01, -0.01])
    x0 = np.array([3.0, -2.0])
    run32 = no.simulate(slow, no.GradientDescent(0.5), x0.astype(np.float32), n_steps=20_000, record="scalars")
    run64 = no.simulate(slow, no.GradientDescent(0.5), x0, n_steps=20_000, record="scalars")
    assert run32.dissipated.dtype == np.float64
    np.testing.assert_allclose(run32.dissipated[-1], run64.dissipated[-1], rtol=8 * EPS32)


@pytest.mark.parametrize("name", sorted(INTEGRATORS))
def test_every_buffer_of_a_float32_state_is_float32(name):
    integrator = INTEGRATORS[name]()
    state = integrator.init(V, prepare_start(V, X0.astype(np.float32)))
    integrator.step(V, state)
    # Arrays with the positions' shape are the run's arrays (the state's, the method's memory) and
    # the backend's working buffers (the evaluator's scratch, the displacement); only the thermostats'
    # normals, drawn in float64 before they are scaled into a float32 kick, are allowed to differ.
    arrays = {**vars(state), **{f"memory.{k}": v for k, v in vars(state.memory).items()}}
    for i, scratch in enumerate(a for pool in state.evaluator._pool.values() for a in pool):
        arrays[f"scratch{i}"] = scratch
    if state._dx is not None:
        arrays["dx"] = state._dx.array
    shaped = [key for key, value in arrays.items() if isinstance(value, np.ndarray) and value.shape == X0.shape]
    assert {"x", "grad"} <= set(shaped)
    wide = [key for key in shaped if arrays[key].dtype != np.float32]
    assert wide == (["memory.xi"] if name in STOCHASTIC else [])
