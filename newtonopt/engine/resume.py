"""Continuing a recorded run: what a Trajectory must hold to be resumed bitwise."""

from __future__ import annotations

import numpy as np

from .._io import check_state
from .._validation import _describe
from ..integrators.base import Integrator, saved_entries
from ..potential import Potential
from ..trajectory import Trajectory


def check_resume(potential: Potential, integrator: Integrator, traj: Trajectory) -> None:
    """Refuse, with a message saying why, a Trajectory that cannot be continued on ``potential`` by ``integrator``."""
    if traj.final_state is None:
        why = traj.message if traj.status == "interrupted" else "it was not made by simulate"
        raise ValueError(f"x0: this Trajectory has no final state to resume from ({why})")
    if not traj.resumable:
        raise ValueError(f"x0: this Trajectory cannot be resumed bitwise: {traj.message}")
    if traj.method != type(integrator).__name__:
        raise ValueError(f"x0 was recorded by {traj.method}, but the integrator is {type(integrator).__name__}")
    snap = traj.final_state
    x = np.asarray(snap.get("x"))
    if x.ndim == 0 or x.dtype.kind != "f":
        raise ValueError(f"x0: the saved state's positions must be a float array of shape (..., dim), got "
                         f"{_describe(snap.get('x'))}")
    if x.shape[-1] != potential.dim:
        raise ValueError(f"x0: the Trajectory's positions have shape {x.shape} (dim {x.shape[-1]}), but "
                         f"{potential.name} has dim {potential.dim}: resume on the potential the run was recorded on")
    check_state(snap, x.shape, "x0")
    for name, shape in _state_shapes(integrator, x).items():
        saved = np.shape(snap[name])
        if saved != shape:
            raise ValueError(f"x0: the saved state's {name!r} has shape {saved}, but {type(integrator).__name__} "
                             f"on positions of shape {x.shape} keeps it with shape {shape}")


def _state_shapes(integrator: Integrator, x: np.ndarray) -> dict:
    """The shape of each saved entry of the integrator's memory for positions like ``x``.

    Found from the memory of a probe with one coordinate per particle (so it costs one value per
    particle): an entry shaped like the probe's positions is per coordinate, one shaped like its
    particles is per particle, anything else has a fixed shape.
    """
    probe_x = np.zeros(x.shape[:-1] + (1,), dtype=x.dtype)
    memory = integrator.init_memory(probe_x)
    shapes = {}
    for name in saved_entries(memory):
        shape = np.shape(getattr(memory, name))
        shapes[name] = x.shape if shape == probe_x.shape else shape
    return shapes
