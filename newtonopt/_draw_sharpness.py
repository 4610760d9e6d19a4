"""The sharpness figure: the top Hessian eigenvalue along a run, beside the method's stability threshold."""

from __future__ import annotations

import inspect

import matplotlib.pyplot as plt
import numpy as np

from ._validation import _describe
from .integrators.registry import find_method
from .trajectory import Trajectory


def stability_threshold(method: str, params: dict) -> float | None:
    """The sharpness above which ``method`` with ``params`` is unstable on a quadratic, or None.

    The inverse of the method's ``stability_limit``: 2/lr for gradient descent, (2 + 2μ)/lr for the
    heavy ball, 4m/dt² for velocity Verlet. None when the method has no such formula or a parameter
    it needs is not a single number.
    """
    try:
        cls = find_method(method).cls
    except (TypeError, ValueError):
        return None
    limit = getattr(cls, "stability_limit", None)
    step = params.get(getattr(cls, "step_parameter", "lr"))
    if limit is None or step is None or np.ndim(step) != 0:
        return None
    known = {name: params[name] for name in list(inspect.signature(limit).parameters)[1:] if name in params}
    if any(np.ndim(v) for v in known.values()):
        return None
    try:
        at_one, at_four = float(limit(1.0, **known)), float(limit(4.0, **known))
    except TypeError:  # a formula that needs a parameter the run did not record
        return None
    power = np.log(at_one / at_four) / np.log(4.0)  # limit ∝ L^(−power): 1 for lr, ½ for a time step
    return float((at_one / float(step)) ** (1.0 / power))


def sharpness(trajectory: Trajectory, *, ax=None, particle: int | None = None, label: str | None = None):
    """The sharpness λ_max(∇²V) along a run (``simulate(..., sharpness_every=k)``) and the stability threshold.

    Draws each recorded eigenvalue against the step and, where the method has a stability formula,
    the level at which its step becomes unstable on a quadratic (2/lr for gradient descent): the
    picture of Cohen et al. (2021), where sharpness rises to 2/lr and hovers there.

    Parameters
    ----------
    trajectory : Trajectory
        A run made with ``sharpness_every``.
    ax : matplotlib Axes, optional
    particle : int, optional
        For an ensemble, the (flat) index of the particle to draw; default: every particle, thinly.
    label : str, optional
        The legend's name for the curve (default "sharpness λ_max").

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(trajectory, Trajectory):
        raise TypeError(f"trajectory must be a Trajectory, got {_describe(trajectory)}")
    if trajectory.sharpness is None:
        raise ValueError("this Trajectory has no sharpness: run simulate(..., sharpness_every=k)")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    steps = trajectory.sharpness_step
    values = trajectory.sharpness
    n_lead = values.ndim - 1 - (1 if values.ndim > 1 + trajectory.particle_status.ndim else 0)
    curves = values.reshape(len(steps), -1, *values.shape[1 + n_lead:])
    if particle is not None:
        curves = curves[:, [particle]]
    many = curves.shape[1] > 1
    color = "#0072B2"
    for i in range(curves.shape[1]):
        for j, series in enumerate(np.moveaxis(curves[:, i].reshape(len(steps), -1), 1, 0)):
            first = i == 0 and j == 0
            ax.plot(steps, series, color=color, lw=0.8 if many else 1.8, alpha=0.5 if many else 1.0 - 0.25 * j,
                    ls="-" if j == 0 else "--", label=(label or "sharpness λ_max") if first else None)
    threshold = stability_threshold(trajectory.method, trajectory.params)
    if threshold is not None:
        name = "2/lr" if trajectory.method == "GradientDescent" else "stability limit"
        ax.axhline(threshold, color="#D55E00", lw=1.5, ls=":", label=f"{name} = {threshold:.4g}")
    ax.set_xlabel("step")
    ax.set_ylabel("top Hessian eigenvalue")
    ax.legend(loc="best", frameon=False)
    return ax
