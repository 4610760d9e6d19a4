"""Integrators: optimizers read as equations of motion. One file per method."""

from .adagrad import Adagrad
from .adam import Adam
from .base import Integrator, State
from .fire import FIRE
from .forward_euler import ForwardEuler
from .gradient_descent import GradientDescent
from .heavy_ball import HeavyBall
from .langevin import Langevin
from .nesterov import Nesterov
from .overdamped_langevin import OverdampedLangevin
from .rmsprop import RMSprop
from .velocity_verlet import VelocityVerlet

__all__ = [
    "Integrator", "State",
    "GradientDescent", "HeavyBall", "Nesterov", "VelocityVerlet", "ForwardEuler",
    "Langevin", "OverdampedLangevin", "Adagrad", "RMSprop", "Adam", "FIRE",
]
