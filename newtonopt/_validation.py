"""Argument checks shared by the public constructors.

Every check raises a ValueError or TypeError whose message names the parameter
and the value received, as the package's conventions require. Parameters may be
scalars or arrays (one value per particle of an ensemble); arrays are checked
element-wise and the message names the first offending index.
"""

from __future__ import annotations

import numbers

import numpy as np

from .core.schedule import Schedule


def _describe(value) -> str:
    """A short, readable rendering of a received value for an error message."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        text = repr(value.item()) if value.ndim == 0 else np.array2string(value, threshold=6, precision=6)
        return text if len(text) <= 80 else text[:77] + "..."
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _real_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 array, refusing what would be converted silently or lossily.

    ``np.asarray(value, dtype=float)`` parses strings ('0.1' → 0.1), drops imaginary parts (with a
    warning at most) and turns booleans into 0/1: each hides a mistake, so each is a TypeError here.
    """
    kind = "a real number or an array of real numbers"
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be {kind}, got the string {_describe(value)}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested sequences
        raise TypeError(f"{name} must be {kind}, got {_describe(value)}") from None
    if arr.dtype.kind == "O":  # e.g. a list mixing Python and numpy numbers: each element must be real
        if not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in arr.flat):
            raise TypeError(f"{name} must be {kind}, got {_describe(value)}")
        return arr.astype(np.float64)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got the complex value {_describe(value)}: take .real explicitly "
                        "if the imaginary part is meant to be dropped")
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} must be {kind}, got the booleans {_describe(value)}")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be {kind}, got {_describe(value)} (dtype {arr.dtype})")
    return arr.astype(np.float64, copy=False)


def as_parameter(name: str, value, *, low=None, high=None, low_open=False, high_open=False,
                 scalar: bool = False):
    """Return ``value`` as a float (scalar) or a float64 array, checked against a range.

    ``low``/``high`` are inclusive bounds unless ``low_open``/``high_open``. A
    :class:`~newtonopt.schedules.Schedule` is returned as it is, after checking
    its first value; later values are checked when they are used. Strings,
    booleans and complex numbers are TypeErrors (never parsed, cast or
    truncated); ``scalar=True`` refuses arrays too.
    """
    if isinstance(value, Schedule) and not scalar:
        as_parameter(f"{name} (its value at step 0)", value(0), low=low, high=high, low_open=low_open,
                     high_open=high_open)
        return value
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    if isinstance(value, numbers.Real):
        arr = np.float64(value)
        is_scalar = True
    else:
        arr = _real_array(name, value)
        is_scalar = arr.ndim == 0
        if scalar and not is_scalar:
            raise TypeError(f"{name} must be a real number, got an array of shape {arr.shape}")
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
        need = "finite" if need == "finite" else f"finite and {need}"
        if is_scalar:
            raise ValueError(f"{name} must be {need}, got {_describe(value)}")
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must be {need} for every particle, got {_describe(arr[index])} at index {index}"
        )
    return float(arr) if is_scalar else arr


def as_int(name: str, value, *, low=None) -> int:
    """Return ``value`` as an int, rejecting bools, floats with a fraction and values below ``low``."""
    if isinstance(value, (bool, np.bool_)):  # a bool is an Integral in Python, but never a count
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    if not isinstance(value, numbers.Integral):
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


def as_seed(name: str, value):
    """Check a noise ``seed`` when the method is built: None, a numpy Generator, an int >= 0, or an
    array of such ints (one per particle, checked against the ensemble when the run starts).

    Returned unchanged (an array as an integer ndarray), so that the streams it keys are those it
    keyed before this check existed.
    """
    if value is None or isinstance(value, np.random.Generator):
        return value
    kind = "an int >= 0, an array of them (one per particle), a numpy Generator or None"
    if isinstance(value, (bool, np.bool_, str, bytes)) or (isinstance(value, numbers.Number)
                                                          and not isinstance(value, numbers.Integral)):
        raise TypeError(f"{name} must be {kind}, got {_describe(value)}")
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value}")
        return value
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be {kind}, got {_describe(value)}") from None
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be {kind}, got {_describe(value)} (dtype {arr.dtype})")
    if arr.ndim == 0:
        return as_seed(name, arr.item())
    if np.any(arr < 0):
        index = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(f"{name} must be non-negative for every particle, got {arr[index]} at index {index}")
    return arr
