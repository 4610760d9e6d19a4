"""The library of potentials, a module per family."""

from .chemistry import LennardJones, MullerBrown
from .classic import Beale, Himmelblau, Rastrigin, Rosenbrock
from .quadratic import Quadratic
from .wells import DoubleWell

__all__ = ["Quadratic", "Rosenbrock", "Himmelblau", "Beale", "Rastrigin", "MullerBrown", "LennardJones",
           "DoubleWell"]
