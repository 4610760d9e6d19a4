"""The library of potentials, a module per family."""

from .quadratic import Quadratic

__all__ = ["Quadratic"]
