"""Every integrator accepts per-particle hyperparameters: a run with arrays equals, particle by particle,
the runs with the corresponding scalars (to round-off)."""

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Rosenbrock

from .methods import STOCHASTIC, missing_from

V = Rosenbrock()
X0 = np.array([[-1.2, 1.0], [0.0, 0.0], [1.5, 2.0]])

# integrator factory, the parameter given per particle, its three values
CASES = {
    "GradientDescent": (lambda v: no.GradientDescent(v), [1e-4, 5e-4, 1e-3]),
    "HeavyBall": (lambda v: no.HeavyBall(1e-4, v), [0.0, 0.5, 0.9]),
    "Nesterov": (lambda v: no.Nesterov(v, 0.8), [1e-4, 2e-4, 4e-4]),
    "VelocityVerlet": (lambda v: no.VelocityVerlet(0.01, mass=1.0, friction=v), [0.0, 1.0, 5.0]),
    "ForwardEuler": (lambda v: no.ForwardEuler(0.005, mass=v, friction=1.0), [1.0, 2.0, 4.0]),
    "Langevin": (lambda v: no.Langevin(0.01, friction=1.0, temperature=v, seed=7), [0.0, 0.1, 1.0]),
    "OverdampedLangevin": (lambda v: no.OverdampedLangevin(v, temperature=0.2, seed=7), [1e-4, 2e-4, 5e-4]),
    "Adagrad": (lambda v: no.Adagrad(0.1, lr_decay=v), [0.0, 0.01, 0.1]),
    "RMSprop": (lambda v: no.RMSprop(1e-3, alpha=v), [0.9, 0.95, 0.99]),
    "Adam": (lambda v: no.Adam(v), [1e-3, 3e-3, 1e-2]),
    "FIRE": (lambda v: no.FIRE(dt=0.01, maxstep=v), [0.01, 0.05, 0.2]),
    "RelativisticGD": (lambda v: no.RelativisticGD(0.01, friction=1.0, light_speed=v), [0.5, 2.0, 10.0]),
    "HamiltonianDescent": (lambda v: no.HamiltonianDescent(0.01, friction=v, kinetic="power", power=1.5),
                           [0.5, 1.0, 3.0]),
    "NesterovConvex": (lambda v: no.NesterovConvex(v), [1e-4, 2e-4, 4e-4]),
}


def test_every_registered_method_has_a_case():
    assert missing_from(CASES) == []


@pytest.mark.parametrize("name", list(CASES))
def test_array_parameters_equal_scalar_runs(name):
    make, values = CASES[name]
    if name in STOCHASTIC:
        # Noise streams: an array of seeds makes particle i's noise that of a single run with seed[i].
        seeds = np.array([11, 12, 13])
        maker = make

        def make(v, seed=seeds):
            integ = maker(v)
            integ.seed = seed
            return integ

        batch = no.simulate(V, make(np.array(values)), X0, 200)
        singles = [no.simulate(V, make(values[i], seed=int(seeds[i])), X0[i], 200) for i in range(3)]
    else:
        batch = no.simulate(V, make(np.array(values)), X0, 200)
        singles = [no.simulate(V, make(values[i]), X0[i], 200) for i in range(3)]
    for i, single in enumerate(singles):
        np.testing.assert_allclose(batch.x[:, i], single.x, rtol=0, atol=1e-12)
        np.testing.assert_allclose(batch.dissipated[:, i], single.dissipated, rtol=1e-12, atol=1e-12)


def test_element_wise_validation_names_the_first_bad_index():
    message = r"friction must be finite and >= 0.0 for every particle, got -1.0 at index \(2,\)"
    with pytest.raises(ValueError, match=message):
        no.VelocityVerlet(0.1, friction=np.array([0.0, 1.0, -1.0, -2.0]))
