"""What a run's end means: the messages of its status, and why a run diverged."""

from __future__ import annotations

import warnings

import numpy as np

from ..integrators.base import Integrator
from ..potential import Potential
from ..trajectory import RecordSink


def warn_failed(message: str, steps: int) -> None:
    warnings.warn(f"simulate: {message}; returning the {steps} steps recorded so far", RuntimeWarning, stacklevel=3)


def write_failure(sink: RecordSink, step: int, status: str, message: str, final: bool = False) -> str:
    """The message of a run whose record_to folder could not be written (a full disk)."""
    err = f"{type(sink.error).__name__}: {sink.error}"
    if final:
        return (f"{message}; but writing final.npz to {str(sink.folder)!r} failed ({err}): the folder reads as an "
                "unfinished run and this Trajectory cannot be resumed from it; save it elsewhere with "
                "Trajectory.save, or resume from this Trajectory itself")
    ended = "" if status == "failed" and not message else f" (the run had ended: {status}"
    ended += f", {message})" if ended and message else (")" if ended else "")
    return (f"writing the record to {str(sink.folder)!r} failed at step {step} ({err}){ended}: the run stopped "
            f"there; every record is in this Trajectory (in memory), the folder holds the first {sink.rows} whole; "
            "free some space and resume with simulate(..., x0=this Trajectory, record_to=a new folder)")


def divergence_cause(potential: Potential, integrator: Integrator, x0_first) -> str:
    bounds = potential.curvature_bounds()
    if bounds is None and potential._overrides("_hessian") and potential.dim <= 200:
        try:
            lam = np.linalg.eigvalsh(potential._hessian(np.asarray(x0_first, dtype=np.float64)))
            bounds = (float(lam[0]), float(lam[-1]))
            where = " at x0"
        except Exception:  # pragma: no cover - a potential without a usable Hessian
            bounds = None
    else:
        where = ""
    if bounds is not None and bounds[1] > 0:
        hint = integrator.stability_message(bounds[1])
        if hint:
            return hint + (f" (curvature measured{where})" if where else "")
    return "the step is probably too large for the curvature: try a smaller lr or dt"
