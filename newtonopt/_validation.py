"""Argument checks shared by the public constructors.

Every check raises a ValueError or TypeError whose message names the parameter
and the value received, as the package's conventions require. Parameters may be
scalars or arrays (one value per particle of an ensemble); arrays are checked
element-wise and the message names the first offending index.
"""

from __future__ import annotations

import numbers

import numpy as np


def _describe(value) -> str:
    """A short, readable rendering of a received value for an error message."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        text = repr(value.item()) if value.ndim == 0 else np.array2string(value, threshold=6, precision=6)
        return text if len(text) <= 80 else text[:77] + "..."
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def as_parameter(name: str, value, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a float (scalar) or a float64 array, checked against a range.

    ``low``/``high`` are inclusive bounds unless ``low_open``/``high_open``. A
    :class:`~newtonopt.schedules.Schedule` is returned as it is, after checking
    its first value; later values are checked when they are used.
    """
    from .schedules import Schedule

    if isinstance(value, Schedule):
        as_parameter(f"{name} (its value at step 0)", value(0), low=low, high=high, low_open=low_open,
                     high_open=high_open)
        return value
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    if isinstance(value, numbers.Real):
        arr = np.float64(value)
        scalar = True
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a real number or an array of them, got {_describe(value)}") from None
        scalar = arr.ndim == 0
    bad = ~np.isfinite(arr)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= (arr >= high) if high_open else (arr > high)
    if np.any(bad):
        if low is not None and high is not None:
            rng = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
            need = f"in {rng}"
        elif low is not None:
            need = f"{'>' if low_open else '>='} {low}"
        elif high is not None:
            need = f"{'<' if high_open else '<='} {high}"
        else:
            need = "finite"
        if scalar:
            raise ValueError(f"{name} must be finite and {need}, got {_describe(value)}")
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must be finite and {need} for every particle, got {_describe(arr[index])} at index {index}"
        )
    return float(arr) if scalar else arr


def as_int(name: str, value, *, low=None) -> int:
    """Return ``value`` as an int, rejecting bools, floats with a fraction and values below ``low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer() and np.isfinite(value):
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return value


def positive(name, value):
    return as_parameter(name, value, low=0.0, low_open=True)


def nonnegative(name, value):
    return as_parameter(name, value, low=0.0)


def fraction(name, value):
    """A value in [0, 1): momentum-like coefficients."""
    return as_parameter(name, value, low=0.0, high=1.0, high_open=True)
