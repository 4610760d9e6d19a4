"""The explorer: a live matplotlib window for the lecture hall.

Sliders set the learning rate and momentum (shown also as dt, mass = 1 and friction),
radio buttons pick the method, a click on the landscape sets the start; the trajectory
and its energy ledger redraw at once. All state lives in :class:`Explorer`, so a test can
drive the widgets without a display.
"""

from __future__ import annotations

import numpy as np

from ._draw import PALETTE, _box, contour
from .integrators.registry import METHODS as _REGISTRY
from .integrators.registry import find_method
from .potential import Potential
from .simulate import simulate

#: The buttons: the registry's methods whose lr and momentum sliders mean something, by title.
METHODS = tuple(m.title for m in _REGISTRY if m.explorer)


def _entry(method: str):
    """The registry's entry for one of the explorer's methods, by any alias; a ValueError otherwise."""
    try:
        entry = find_method(method)
    except (TypeError, ValueError):
        entry = None
    if entry is None or not entry.explorer:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return entry


def make_integrator(method: str, lr: float, momentum: float):
    """The integrator a slider setting stands for: the registry's ``settings(lr, momentum)`` (velocity
    Verlet gets dt = √lr and the friction with e^(−γ·dt) = momentum)."""
    return _entry(method).build(lr, momentum)


class Explorer:
    """The explorer's figure, widgets and update logic.

    Parameters
    ----------
    potential : Potential
        A 2-D potential.
    x0 : array_like, optional
        The first start (default: a corner of the plotting box).
    lr, momentum : float
        Initial slider values.
    n_steps : int
        Steps per run.
    method : str
        The first method: one of :data:`METHODS` (the registry's methods with ``explorer=True``),
        by any of its names (``'heavy ball'``, ``'heavyball'``, ``'HeavyBall'``).
    """

    def __init__(self, potential: Potential, x0=None, *, lr: float = 1e-2, momentum: float = 0.9,
                 n_steps: int = 300, method: str = "heavy ball"):
        import matplotlib.pyplot as plt
        from matplotlib.widgets import RadioButtons, Slider

        if potential.dim != 2:
            raise ValueError(f"the explorer needs a 2-D potential, got dim = {potential.dim}")
        method = _entry(method).title
        self.potential, self.n_steps, self.method = potential, int(n_steps), method
        box = _box(potential, {}, None)
        self.x0 = np.array(x0 if x0 is not None else [box[0, 0] + 0.15 * np.ptp(box[0]),
                                                       box[1, 1] - 0.15 * np.ptp(box[1])], dtype=float)
        self.fig = plt.figure(figsize=(12.5, 6.4))
        self.ax_map = self.fig.add_axes((0.05, 0.30, 0.45, 0.63))
        self.ax_energy = self.fig.add_axes((0.58, 0.30, 0.39, 0.63))
        contour(potential, ax=self.ax_map, colorbar=False)
        (self.path,) = self.ax_map.plot([], [], "-", color="white", lw=2.2, zorder=8)
        (self.path_edge,) = self.ax_map.plot([], [], "-", color=PALETTE[1], lw=1.2, zorder=9)
        (self.start,) = self.ax_map.plot([], [], "o", color=PALETTE[1], markeredgecolor="black", markersize=9,
                                         zorder=10)
        self.ax_map.set_title("click to set the start")
        self.lines = {}
        for key, color, label in (("V", PALETTE[0], "potential V"), ("K", PALETTE[1], "kinetic K"),
                                  ("E", "black", "total E"), ("D", PALETTE[2], "dissipated D")):
            (self.lines[key],) = self.ax_energy.plot([], [], color=color, lw=1.6, label=label)
        self.ax_energy.set_xlabel("step")
        self.ax_energy.set_ylabel("energy")
        self.ax_energy.legend(loc="upper right", fontsize=9)
        self.ax_energy.grid(True, alpha=0.3)
        ax_lr = self.fig.add_axes((0.30, 0.14, 0.40, 0.035))
        ax_mu = self.fig.add_axes((0.30, 0.08, 0.40, 0.035))
        ax_radio = self.fig.add_axes((0.04, 0.02, 0.16, 0.20))
        self.slider_lr = Slider(ax_lr, "log₁₀ lr", -5.0, 0.0, valinit=float(np.log10(lr)))
        self.slider_momentum = Slider(ax_mu, "momentum", 0.0, 0.995, valinit=momentum)
        self.radio = RadioButtons(ax_radio, METHODS, active=METHODS.index(method))
        self.readout = self.fig.text(0.30, 0.025, "", fontsize=10)
        self.slider_lr.on_changed(lambda _: self.update())
        self.slider_momentum.on_changed(lambda _: self.update())
        self.radio.on_clicked(self._on_method)
        self.fig.canvas.mpl_connect("button_press_event", self._on_click)
        self.trajectory = None
        self.update()

    @property
    def lr(self) -> float:
        return float(10.0 ** self.slider_lr.val)

    @property
    def momentum(self) -> float:
        return float(self.slider_momentum.val)

    def _on_method(self, label: str) -> None:
        self.method = label
        self.update()

    def _on_click(self, event) -> None:
        if event.inaxes is not self.ax_map or event.xdata is None:
            return
        self.x0 = np.array([event.xdata, event.ydata], dtype=float)
        self.update()

    def update(self) -> None:
        """Run the current setting from the current start and redraw."""
        integrator = make_integrator(self.method, self.lr, self.momentum)
        saved = dict(self.potential.counts)
        try:
            traj = simulate(self.potential, integrator, self.x0, self.n_steps)
        finally:
            self.potential.counts.update(saved)
        self.trajectory = traj
        x = traj.x
        for line in (self.path, self.path_edge):
            line.set_data(x[:, 0], x[:, 1])
        self.start.set_data([x[0, 0]], [x[0, 1]])
        steps = traj.step
        for key, values in (("V", traj.potential_energy), ("K", traj.kinetic_energy), ("E", traj.total_energy),
                            ("D", traj.dissipated)):
            self.lines[key].set_data(steps, values)
        finite = np.concatenate([v[np.isfinite(v)] for v in (traj.potential_energy, traj.total_energy,
                                                             traj.dissipated)])
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            pad = 0.05 * max(hi - lo, 1e-12)
            self.ax_energy.set_ylim(lo - pad, hi + pad)
        self.ax_energy.set_xlim(0, max(1, int(steps[-1])))
        phys = integrator.physics() if hasattr(integrator, "physics") else {}
        phys_text = ", ".join(f"{k} = {v:.3g}" for k, v in phys.items())
        self.ax_energy.set_title(f"{self.method}: {traj.status} after {traj.n_steps} steps")
        self.readout.set_text(f"lr = {self.lr:.3g}, momentum = {self.momentum:.3f}   ↔   {phys_text}")
        self.fig.canvas.draw_idle()


def explore(potential: Potential, x0=None, *, show: bool = False, **kwargs):
    """Build the explorer on ``potential`` and return its figure; ``show=True`` also opens the window
    and blocks until it is closed (``newtonopt explore`` does), so a script or a notebook is never
    held up unless it asks.

    The :class:`Explorer` behind the figure is ``fig.explorer``.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    explorer = Explorer(potential, x0, **kwargs)
    explorer.fig.explorer = explorer
    interactive = matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo", "template")
    if show and interactive:
        plt.show()
    return explorer.fig
