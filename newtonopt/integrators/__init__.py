"""Integrators: optimizers read as equations of motion. One file per method."""

from .adagrad import Adagrad
from .adam import Adam
from .base import Integrator, State
from .fire import FIRE
from .forward_euler import ForwardEuler
from .gradient_descent import GradientDescent
from .hamiltonian_descent import HamiltonianDescent
from .heavy_ball import HeavyBall
from .langevin import Langevin
from .nesterov import Nesterov
from .nesterov_convex import NesterovConvex
from .overdamped_langevin import OverdampedLangevin
from .relativistic import RelativisticGD
from .rmsprop import RMSprop
from .velocity_verlet import VelocityVerlet

__all__ = [
    "Integrator", "State",
    "GradientDescent", "HeavyBall", "Nesterov", "VelocityVerlet", "ForwardEuler",
    "Langevin", "OverdampedLangevin", "Adagrad", "RMSprop", "Adam", "FIRE",
    "RelativisticGD", "HamiltonianDescent", "NesterovConvex",
]
