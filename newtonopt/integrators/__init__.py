"""Integrators: optimizers read as equations of motion. One file per method."""

from .base import Integrator, State
from .forward_euler import ForwardEuler
from .gradient_descent import GradientDescent
from .heavy_ball import HeavyBall
from .nesterov import Nesterov
from .velocity_verlet import VelocityVerlet

__all__ = ["Integrator", "State", "GradientDescent", "HeavyBall", "ForwardEuler", "Nesterov", "VelocityVerlet"]
