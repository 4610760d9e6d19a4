"""Every integrator steps in place: no per-step allocation that grows with the dimension.

Issue 5 asks that a step allocate nothing proportional to dim beyond what the potential's own
gradient needs. The diagonal Quadratic writes its gradient into the buffer it is given, so here
the whole step must stay far below one array of the problem's size. tracemalloc sees numpy's
allocations; the bound (a tenth of one array) leaves room for numpy's fixed 8192-element ufunc
buffers and per-particle scalars, and fails for any temporary of the problem's size.
"""

import tracemalloc

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Quadratic
from newtonopt.simulate import prepare_start

from .methods import every_method

DIM = 400_000

# Settings that reach the optional code paths (weight decay, AMSGrad, a centred RMSprop, friction).
INTEGRATORS = every_method({
    "GradientDescent": lambda: no.GradientDescent(1e-2),
    "HeavyBall": lambda: no.HeavyBall(1e-2, 0.9),
    "Nesterov": lambda: no.Nesterov(1e-2, 0.9),
    "VelocityVerlet": lambda: no.VelocityVerlet(dt=0.01, friction=0.5),
    "ForwardEuler": lambda: no.ForwardEuler(dt=0.005, friction=0.3),
    "Langevin": lambda: no.Langevin(dt=0.01, friction=1.0, temperature=0.5, seed=3),
    "OverdampedLangevin": lambda: no.OverdampedLangevin(dt=1e-3, temperature=0.5, seed=4),
    "Adagrad": lambda: no.Adagrad(1e-2, weight_decay=1e-3),
    "RMSprop": lambda: no.RMSprop(1e-3, momentum=0.5, centered=True, weight_decay=1e-3),
    "Adam": lambda: no.Adam(1e-3, weight_decay=1e-3, amsgrad=True),
    "FIRE": lambda: no.FIRE(dt=0.01),
})


def peak_step_allocation(make, shape) -> int:
    V = Quadratic(np.linspace(1.0, 10.0, shape[-1]))
    integrator = make()
    state = integrator.init(V, prepare_start(V, np.ones(shape)))
    for _ in range(2):  # lazily made buffers (FIRE's, the ledger's) exist after the first steps
        integrator.step(V, state)
        state.step += 1
    tracemalloc.start()
    try:
        for _ in range(3):
            integrator.step(V, state)
            state.step += 1
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shape", [(DIM,), (4, DIM // 4)], ids=["one particle", "ensemble"])
@pytest.mark.parametrize("name", sorted(INTEGRATORS))
def test_a_step_allocates_nothing_of_the_problems_size(name, shape):
    array_bytes = 8 * DIM
    peak = peak_step_allocation(INTEGRATORS[name], shape)
    assert peak < array_bytes / 10, f"{name} allocated {peak / array_bytes:.2f} arrays of the problem's size per step"
