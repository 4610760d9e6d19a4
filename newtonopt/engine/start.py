"""The start of a run: x0 checked and copied into the layout the run keeps."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import _describe
from ..potential import Potential


def prepare_start(potential: Potential, x0) -> np.ndarray:
    """Validate x0 and return a private float copy; ensembles in Fortran order (contiguous columns)."""
    if isinstance(x0, numbers.Real) and not isinstance(x0, bool):
        x0 = np.array([x0], dtype=np.float64)
    try:
        arr = np.asarray(x0)
    except ValueError:  # numpy refuses a ragged nest of sequences
        lengths = [len(row) if hasattr(row, "__len__") else "a number" for row in list(x0)[:6]]
        raise ValueError(f"x0 must be a rectangular array of shape ({potential.dim},) or (n, {potential.dim}) for "
                         f"{potential.name}, got a ragged sequence whose rows have lengths {lengths}"
                         + (" ..." if len(x0) > 6 else "")) from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"x0 must be an array of real numbers, got {_describe(x0)}")
    dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    if arr.ndim == 0 and potential.dim == 1:
        arr = arr.reshape(1)
    if arr.ndim == 0 or arr.shape[-1] != potential.dim or 0 in arr.shape:
        raise ValueError(f"x0 must have shape ({potential.dim},) or (n, {potential.dim}) for "
                         f"{potential.name}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"x0 must be finite, got {_describe(arr[bad])} at index {bad}")
    return np.array(arr, dtype=dtype, order="F" if arr.ndim > 1 else "C", copy=True)
