"""The library of potentials, a module per family."""

from .chemistry import LennardJones, MullerBrown
from .classic import Beale, Himmelblau, Rastrigin, Rosenbrock
from .data import EmpiricalRisk, LeastSquares, LogisticRegression, MinibatchView
from .mlp import MLP
from .quadratic import Quadratic
from .wells import DoubleWell

__all__ = ["Quadratic", "Rosenbrock", "Himmelblau", "Beale", "Rastrigin", "MullerBrown", "LennardJones",
           "DoubleWell", "EmpiricalRisk", "MinibatchView", "LeastSquares", "LogisticRegression", "MLP"]
