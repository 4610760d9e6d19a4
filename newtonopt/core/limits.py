"""What a method's continuous-time limit is, as data: which flow, its parameters, and the time per step.

A leaf, so that each method can state its limit without importing the flows (which sit above the
methods); :mod:`newtonopt.flows` reads it.
"""

from __future__ import annotations

from typing import NamedTuple


class ContinuousLimit(NamedTuple):
    """The flow a method discretizes and the map from step k to time t = k·time_per_step.

    ``flow`` names a function of :mod:`newtonopt.flows` (``'gradient_flow'``, ``'newtonian_flow'``,
    ``'nesterov_flow'``) and ``params`` its keyword arguments.
    """

    flow: str
    params: dict
    time_per_step: float
