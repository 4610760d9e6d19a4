"""Schedules: hyperparameters that change with the step number.

Any integrator parameter may be a :class:`Schedule` (``GradientDescent(lr=Cosine(0.1, 0.0, 1000))``,
``Langevin(dt=0.01, temperature=Exponential(1.0, 0.999))``). Physically a learning-rate
schedule is a time-dependent time step, and a temperature schedule is a cooling
schedule: annealing.
"""

from __future__ import annotations

import math

from ._validation import as_int, as_parameter
from .core.elementary import integer_power, ln
from .core.schedule import Schedule  # the base, defined below the parameter checks that accept it


def _value(name: str, value) -> float:
    """A schedule's value parameter: one finite real number (a string, complex, bool or array is a TypeError)."""
    return as_parameter(name, value, scalar=True)


def positive(name: str, value) -> float:
    """A schedule's rate or factor: one real number > 0."""
    return as_parameter(name, value, low=0.0, low_open=True, scalar=True)


class Constant(Schedule):
    """v_k = value."""

    def __init__(self, value: float):
        self.value = _value("value", value)

    def __call__(self, step):
        return self.value

    def params(self):
        return {"value": self.value}


class StepDecay(Schedule):
    """v_k = initial · factor^⌊k / every⌋: the time step is cut by ``factor`` every ``every`` steps."""

    def __init__(self, initial: float, factor: float = 0.1, every: int = 1000):
        self.initial = _value("initial", initial)
        self.factor = positive("factor", factor)
        self.every = as_int("every", every, low=1)

    def __call__(self, step):
        return self.initial * integer_power(self.factor, step // self.every)

    def params(self):
        return {"initial": self.initial, "factor": self.factor, "every": self.every}


class Exponential(Schedule):
    """v_k = initial · rate^k: exponential cooling (Kirkpatrick, Gelatt & Vecchi 1983) or decay."""

    def __init__(self, initial: float, rate: float):
        self.initial = _value("initial", initial)
        self.rate = positive("rate", rate)

    def __call__(self, step):
        return self.initial * integer_power(self.rate, step)

    def params(self):
        return {"initial": self.initial, "rate": self.rate}


class Cosine(Schedule):
    """v_k = final + ½(initial − final)(1 + cos(π·min(k, n)/n)) (Loshchilov & Hutter 2017, without restarts)."""

    def __init__(self, initial: float, final: float = 0.0, n_steps: int = 1000):
        self.initial = _value("initial", initial)
        self.final = _value("final", final)
        self.n_steps = as_int("n_steps", n_steps, low=1)

    def __call__(self, step):
        k = min(step, self.n_steps)
        return self.final + 0.5 * (self.initial - self.final) * (1.0 + math.cos(math.pi * k / self.n_steps))

    def params(self):
        return {"initial": self.initial, "final": self.final, "n_steps": self.n_steps}


class InverseTime(Schedule):
    """v_k = initial / (1 + decay·k): the Robbins–Monro rate (Σv = ∞, Σv² < ∞ for SGD)."""

    def __init__(self, initial: float, decay: float):
        self.initial = _value("initial", initial)
        self.decay = positive("decay", decay)

    def __call__(self, step):
        return self.initial / (1.0 + self.decay * step)

    def params(self):
        return {"initial": self.initial, "decay": self.decay}


class Linear(Schedule):
    """v_k = initial + (final − initial)·min(k, n)/n: a linear ramp (a linear cooling schedule)."""

    def __init__(self, initial: float, final: float, n_steps: int):
        self.initial = _value("initial", initial)
        self.final = _value("final", final)
        self.n_steps = as_int("n_steps", n_steps, low=1)

    def __call__(self, step):
        return self.initial + (self.final - self.initial) * min(step, self.n_steps) / self.n_steps

    def params(self):
        return {"initial": self.initial, "final": self.final, "n_steps": self.n_steps}


class Logarithmic(Schedule):
    """T_k = c / ln(k + e): the logarithmic cooling that provably finds the global minimum
    for c above the deepest barrier (Geman & Geman 1984; Hajek 1988) — and takes for ever."""

    def __init__(self, c: float):
        self.c = positive("c", c)

    def __call__(self, step):
        return self.c / ln(step + math.e)

    def params(self):
        return {"c": self.c}


SCHEDULES = {cls.__name__: cls for cls in (Constant, StepDecay, Exponential, Cosine, InverseTime, Linear, Logarithmic)}
