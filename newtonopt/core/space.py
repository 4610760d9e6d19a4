"""Search spaces of hyperparameters: how a tuning trial's point in the unit cube becomes a value.

A leaf module, so that the method registry can state each method's default space and the tuner can
read it without either importing the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LogUniform:
    """A hyperparameter drawn log-uniformly in [low, high] (a learning rate, a time step)."""

    low: float
    high: float

    def __post_init__(self):
        if not (np.isfinite(self.low) and np.isfinite(self.high) and 0 < self.low < self.high):
            raise ValueError(f"LogUniform needs 0 < low < high, got low={self.low!r}, high={self.high!r}")

    def map(self, u: np.ndarray) -> np.ndarray:
        return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))


@dataclass(frozen=True)
class Uniform:
    """A hyperparameter drawn uniformly in [low, high] (a momentum, a friction)."""

    low: float
    high: float

    def __post_init__(self):
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"Uniform needs low < high, got low={self.low!r}, high={self.high!r}")

    def map(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)
