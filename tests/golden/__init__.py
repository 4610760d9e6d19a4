"""Golden trajectories: SHA-256 of the float64 bytes of reference runs, committed beside this file.

Every integrator × {Quadratic, Rosenbrock, Lennard-Jones} × {one particle, an ensemble of 8},
200 steps, record="all". These potentials are built from + − × ÷ (and the thermostats' noise from
the package's own ln, sin and cos), so the hashes must be the same on every CPU, with any BLAS
kernel and any numpy SIMD level. A changed hash is a deliberate event: regenerate with

    python -m tests.golden --write

and say in the commit message why the bits changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

import newtonopt as no
from newtonopt.potentials import LennardJones, Quadratic, Rosenbrock

from ..methods import every_method

HASHES = Path(__file__).with_name("hashes.json")
N_STEPS = 200
ENSEMBLE = 8

# One setting per integrator: stable on all three potentials from the starts below (the thermostats take a seed).
# Frozen with the hashes: a method added to the registry runs here with the default setting of tests/methods.py
# and has no hash until `python -m tests.golden --write` records one (a deliberate event).
METHODS = every_method({
    "GradientDescent": lambda: no.GradientDescent(1e-3),
    "HeavyBall": lambda: no.HeavyBall(1e-3, 0.9),
    "Nesterov": lambda: no.Nesterov(1e-3, 0.9),
    "VelocityVerlet": lambda: no.VelocityVerlet(dt=0.02, friction=0.5),
    "ForwardEuler": lambda: no.ForwardEuler(dt=0.005, friction=1.0),
    "Langevin": lambda seed=7: no.Langevin(dt=0.01, friction=1.0, temperature=0.1, seed=seed),
    "OverdampedLangevin": lambda seed=8: no.OverdampedLangevin(dt=1e-4, temperature=0.1, seed=seed),
    "Adagrad": lambda: no.Adagrad(1e-2),
    "RMSprop": lambda: no.RMSprop(1e-3, momentum=0.5, centered=True),
    "Adam": lambda: no.Adam(1e-3),
    "FIRE": lambda: no.FIRE(dt=0.005),
    "RelativisticGD": lambda: no.RelativisticGD(dt=0.02, friction=0.5, light_speed=2.0),
    "HamiltonianDescent": lambda: no.HamiltonianDescent(dt=0.02, friction=1.0, kinetic="power", power=1.5),
    "NesterovConvex": lambda: no.NesterovConvex(1e-3),
})


def _rotated_quadratic() -> Quadratic:
    """A dense 3-D quadratic (a rotated spectrum 1, 10, 50), so its matrix product is a real sum."""
    q = np.array([[2.0, -1.0, 2.0], [2.0, 2.0, -1.0], [-1.0, 2.0, 2.0]]) / 3.0  # orthogonal, exact in thirds
    return Quadratic(q @ np.diag([1.0, 10.0, 50.0]) @ q.T, b=[1.0, -2.0, 0.5], c=0.25)


POTENTIALS = {
    "Quadratic": (_rotated_quadratic, np.array([1.0, -0.5, 0.25])),
    "Rosenbrock": (lambda: Rosenbrock(dim=4), np.array([-1.2, 1.0, -0.5, 0.8])),
    "LennardJones": (lambda: LennardJones(n_atoms=5), None),
}


def start(name: str, potential, n: int | None) -> np.ndarray:
    """The reference start: one particle, or n particles spread deterministically around it."""
    base = POTENTIALS[name][1]
    if base is None:
        base = potential.initial_positions(seed=0)
    if n is None:
        return base
    # numpy's Generator makes uniforms from integers by exact scaling: the same offsets on every CPU
    return base + np.random.default_rng(0).uniform(-0.05, 0.05, (n, base.size))


def run(method: str, potential: str, n: int | None) -> no.Trajectory:
    V = POTENTIALS[potential][0]()
    return no.simulate(V, METHODS[method](), start(potential, V, n), n_steps=N_STEPS, record="all")


def digest(traj: no.Trajectory) -> str:
    """SHA-256 of the recorded float64 arrays (x, V, K, D, |∇V|, p) in a fixed order."""
    h = hashlib.sha256()
    for name in ("x", "potential_energy", "kinetic_energy", "dissipated", "grad_norm", "p"):
        value = getattr(traj, name)
        if value is not None:
            h.update(name.encode())
            h.update(np.ascontiguousarray(value, dtype=np.float64).tobytes())
    return h.hexdigest()


def cases():
    for method in METHODS:
        for potential in POTENTIALS:
            for n in (None, ENSEMBLE):
                yield f"{method}/{potential}/{'one' if n is None else n}", (method, potential, n)


def compute() -> dict:
    return {key: digest(run(*args)) for key, args in cases()}

