"""newtonopt: numerical optimization as the motion of a particle in a potential."""

from . import analysis, flows, potentials, schedules, suite, tuning
from .compare import Comparison, compare
from .integrators import (
    FIRE,
    Adagrad,
    Adam,
    ForwardEuler,
    GradientDescent,
    HamiltonianDescent,
    HeavyBall,
    Integrator,
    Langevin,
    Nesterov,
    NesterovConvex,
    OverdampedLangevin,
    RelativisticGD,
    RMSprop,
    VelocityVerlet,
)
from .potential import Potential, check_gradient
from .scipy_bridge import scipy_minimize
from .simulate import simulate
from .sweep import SweepResult, sweep
from .trajectory import Trajectory
from .tuning import LogUniform, TuneResult, Uniform, tune

__version__ = "0.1.0"

__all__ = [
    "Potential", "check_gradient", "potentials",
    "Integrator", "GradientDescent", "HeavyBall", "Nesterov", "VelocityVerlet", "ForwardEuler",
    "Langevin", "OverdampedLangevin", "Adagrad", "RMSprop", "Adam", "FIRE",
    "RelativisticGD", "HamiltonianDescent", "NesterovConvex",
    "simulate", "Trajectory", "sweep", "SweepResult", "compare", "Comparison", "scipy_minimize",
    "analysis", "schedules", "flows", "tuning", "suite", "tune", "TuneResult", "LogUniform", "Uniform",
]


def __getattr__(name: str):
    # The figures are reachable as newtonopt.plot without making `import newtonopt` load matplotlib.
    # newtonopt.torch (the torch optimizer) likewise, without making it load torch, an optional extra.
    if name in ("plot", "explorer", "torch"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'newtonopt' has no attribute {name!r}")
