"""The notebook explorer: every method of the registry on a 2-D landscape, with ipywidgets controls.

A method picker lists every entry of :mod:`newtonopt.integrators.registry`; sliders set either the
machine-learning parameters (lr, momentum) or the physical ones (dt, mass, friction, temperature),
and the readout shows both notations of the method that runs (``lr = 0.01, momentum = 0.9 ↔ dt = 0.1,
m = 1, γ = 1``). A click on the contour (or the two start boxes) places the start; gtol and the step
budget are controls too. The path is drawn on the contour and the energy ledger (V, K, E, dissipated D,
error ε) beside it, on a linear or a log time axis.

The figure is an ipympl canvas (clickable, whatever ``%matplotlib`` says) inside a Jupyter kernel
when ipympl is installed; elsewhere (a plain Python process, a test, a kernel without ipympl) it is
an image widget redrawn after each run, and the start is set with the boxes or :meth:`Explorer.set_start`.
All the logic is in :class:`Explorer`, so a test drives it by setting widget values.

Needs the ``notebook`` extra: ``pip install 'newtonopt[notebook]'``. The terminal's explorer
(matplotlib widgets, ``newtonopt explore``) is :mod:`newtonopt.explorer`.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import io
import warnings

try:
    import ipywidgets as _w
except ImportError as exc:  # pragma: no cover - exercised by a test that hides ipywidgets
    raise ImportError("newtonopt.widgets needs ipywidgets (and ipympl for clicks on the map): "
                      "pip install 'newtonopt[notebook]'") from exc

import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._draw import PALETTE, _box, contour, energy
from ._validation import _describe, as_int
from .integrators.base import Integrator
from .integrators.heavy_ball import HeavyBall
from .integrators.registry import CLI_TEMPERATURE, METHODS, Method, find_method
from .potential import Potential
from .simulate import simulate
from .trajectory import Trajectory

#: The two notations a method's parameters can be set in.
NOTATIONS = ("machine learning", "physics")
_ML = ("lr", "momentum")
_PHYSICS = ("dt", "mass", "friction", "temperature")
#: How the readout names the physical parameters.
_SYMBOL = {"dt": "dt", "mass": "m", "friction": "γ", "temperature": "T"}


def _slider(name: str):
    """The slider for one kind of parameter (kinds, not methods, are listed here: every method shares them)."""
    style, layout = {"description_width": "90px"}, _w.Layout(width="360px")
    if name == "lr":
        return _w.FloatLogSlider(value=1e-2, base=10, min=-5, max=0, step=0.05, description="lr",
                                 readout_format=".3g", style=style, layout=layout, continuous_update=False)
    if name == "momentum":
        return _w.FloatSlider(value=0.9, min=0.0, max=0.995, step=0.005, description="momentum μ",
                              readout_format=".3f", style=style, layout=layout, continuous_update=False)
    if name == "dt":
        return _w.FloatLogSlider(value=0.1, base=10, min=-4, max=0, step=0.05, description="dt",
                                 readout_format=".3g", style=style, layout=layout, continuous_update=False)
    if name == "mass":
        return _w.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05, description="mass m",
                                 readout_format=".3g", style=style, layout=layout, continuous_update=False)
    if name == "friction":  # linear from 0: velocity Verlet without friction conserves energy
        return _w.FloatSlider(value=1.0, min=0.0, max=20.0, step=0.01, description="friction γ",
                              readout_format=".3g", style=style, layout=layout, continuous_update=False)
    if name == "temperature":
        return _w.FloatSlider(value=CLI_TEMPERATURE, min=0.0, max=1.0, step=0.001, description="temperature T",
                              readout_format=".3f", style=style, layout=layout, continuous_update=False)
    raise AssertionError(name)  # pragma: no cover


def _signature(function) -> set[str]:
    return set(inspect.signature(function).parameters)


def ml_parameters(entry: Method) -> tuple[str, ...]:
    """The machine-learning sliders (of lr, momentum) that set ``entry`` up: those its constructor takes
    and those its registry ``settings(lr, momentum)`` reads (velocity Verlet's dt = √lr, say)."""
    taken = _signature(entry.cls.__init__)
    base = entry.settings(1e-2, 0.9)
    reads = {"lr": entry.settings(4e-2, 0.9) != base, "momentum": entry.settings(1e-2, 0.5) != base}
    return tuple(n for n in _ML if n in taken or reads[n])


def physics_parameters(entry: Method) -> tuple[str, ...]:
    """The physical sliders (of dt, mass, friction, temperature) that set ``entry`` up: those of its
    ``from_physics`` when it has one (gradient descent, heavy ball), else of its constructor; none
    when the method has no time step dt (Adam)."""
    source = entry.cls.from_physics if hasattr(entry.cls, "from_physics") else entry.cls.__init__
    names = tuple(n for n in _PHYSICS if n in _signature(source))
    return names if "dt" in names else ()


def _fmt(value) -> str:
    return f"{float(value):.4g}" if np.ndim(value) == 0 else "array"


def notations(integrator: Integrator) -> tuple[str, str]:
    """Both readings of ``integrator``: ``('lr = 0.01, momentum = 0.9', 'dt = 0.1, m = 1, γ = 1')``.

    The machine-learning side is the method's own lr (and momentum) when it has them, else, for a method
    of physics, the heavy ball or gradient descent with the same dt, m and γ (lr = dt²/m, μ = 1 − γ·dt/m;
    lr = dt/γ). The physics side is ``physics()`` where the class defines it, else the dt, mass, friction
    and temperature among its parameters; '—' for a method that has none (Adam).
    """
    params = integrator.params()
    phys = integrator.physics() if hasattr(integrator, "physics") else {
        k: params[k] for k in _PHYSICS if k in params}
    if "lr" in params:
        ml = ", ".join(f"{k} = {_fmt(params[k])}" for k in _ML if k in params)
    elif integrator.order == 2 and {"dt", "mass", "friction"} <= set(phys) and np.ndim(phys["dt"]) == 0:
        dt, m, g = (float(phys[k]) for k in ("dt", "mass", "friction"))
        ml = f"as a heavy ball: lr = dt²/m = {dt * dt / m:.4g}, momentum = 1 − γ·dt/m = {1 - g * dt / m:.4g}"
    elif {"dt", "friction"} <= set(phys) and np.ndim(phys["dt"]) == 0:
        ml = f"lr = dt/γ = {float(phys['dt']) / float(phys['friction']):.4g}"
    else:
        ml = "—"
    physics = ", ".join(f"{_SYMBOL[k]} = {_fmt(v)}" for k, v in phys.items() if k in _SYMBOL) or "—"
    return ml, physics


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where an ipympl canvas has a front end to talk to)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipywidgets depends on IPython
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class Explorer:
    """Every method of the registry on a 2-D potential, with notebook controls and the energy ledger.

    Parameters
    ----------
    potential : Potential
        A 2-D potential.
    x0 : array_like of shape (2,), optional
        The first start (default: near the top-left corner of the plotting box).
    method : str
        The first method, by any name the registry knows (``'heavyball'``, ``'heavy ball'``, ``'Langevin'``).
    lr, momentum : float
        The first machine-learning slider values (lr in [1e-5, 1], momentum in [0, 0.995]); the physical
        sliders start at the same motion (dt = √(lr·m) with m = 1, γ = (1 − μ)·m/dt).
    n_steps : int
        The step budget of a run.
    gtol : float
        Stop when ‖∇V‖ ≤ gtol (the thermostats, whose noise never lets it, run the whole budget).
    interactive : bool, optional
        True: an ipympl canvas that takes clicks (ImportError naming the extra without ipympl). False: an
        image redrawn after each run. None (default): the canvas inside a Jupyter kernel with ipympl
        installed, the image elsewhere.

    Attributes
    ----------
    controls : dict
        The widgets by name: ``method``, ``notation``, ``lr``, ``momentum``, ``dt``, ``mass``, ``friction``,
        ``temperature``, ``seed``, ``gtol``, ``n_steps``, ``x1``, ``x2``, ``log_time``. Setting a value runs
        again.
    integrator : Integrator or None
        What the last run used (None when the controls do not make a valid method; see ``message``).
    trajectory : Trajectory or None
        The last run.
    message : str
        The last run's status, or why the controls make no valid method.
    figure : matplotlib.figure.Figure
        The contour (left) and the energy ledger (right).
    interactive : bool
        Whether the figure is an ipympl canvas (else ``image`` shows it).
    image : ipywidgets.Image or None
        The picture of the figure, redrawn after each run (None with an ipympl canvas).
    readout : ipywidgets.HTML
        Both notations of the method that ran, and its status.
    widget : ipywidgets.VBox
        The whole explorer; a notebook displays the Explorer as this (with a PNG of the figure for
        renderers without widgets).
    """

    def __init__(self, potential: Potential, x0=None, *, method: str = "heavyball", lr: float = 1e-2,
                 momentum: float = 0.9, n_steps: int = 500, gtol: float = 1e-6, interactive: bool | None = None):
        if not isinstance(potential, Potential):
            raise TypeError(f"potential must be a newtonopt Potential, got {type(potential).__name__}")
        if potential.dim != 2:
            raise ValueError(f"the explorer needs a 2-D potential, got dim = {potential.dim}")
        entry = find_method(method)
        lr = _in_range("lr", lr, 1e-5, 1.0)
        momentum = _in_range("momentum", momentum, 0.0, 0.995)
        gtol = _in_range("gtol", gtol, 1e-12, 1.0)
        n_steps = as_int("n_steps", n_steps, low=1)
        if interactive not in (None, True, False):
            raise TypeError(f"interactive must be None, True or False, got {interactive!r}")
        self.potential = potential
        box = _box(potential, {}, None)
        if x0 is None:
            x0 = [box[0, 0] + 0.15 * np.ptp(box[0]), box[1, 1] - 0.15 * np.ptp(box[1])]
        x0 = np.asarray(x0, dtype=float)
        if x0.shape != (2,) or not np.all(np.isfinite(x0)):
            raise ValueError(f"x0 must be two finite numbers, got {x0!r}")

        self.integrator: Integrator | None = None
        self.trajectory: Trajectory | None = None
        self.message = ""
        self._hold = True  # no run while the controls are being built
        c: dict = {}
        c["method"] = _w.Dropdown(options=[(m.title, m.name) for m in METHODS], value=entry.name,
                                  description="method", style={"description_width": "90px"})
        c["notation"] = _w.ToggleButtons(options=NOTATIONS, value=NOTATIONS[0], description="sliders",
                                         style={"description_width": "90px", "button_width": "130px"})
        for name in _ML + _PHYSICS:
            c[name] = _slider(name)
        c["lr"].value, c["momentum"].value = lr, momentum
        start = HeavyBall(lr, momentum).physics()  # the same motion in the physical sliders
        for name in ("dt", "mass", "friction"):
            c[name].value = start[name]
        c["seed"] = _w.BoundedIntText(value=0, min=0, max=2**31 - 1, description="seed",
                                      style={"description_width": "90px"}, layout=_w.Layout(width="200px"))
        c["gtol"] = _w.FloatLogSlider(value=gtol, base=10, min=-12, max=0, step=0.5, description="gtol",
                                      readout_format=".0e", style={"description_width": "70px"},
                                      layout=_w.Layout(width="330px"), continuous_update=False)
        c["n_steps"] = _w.BoundedIntText(value=n_steps, min=1, max=1_000_000, description="step budget",
                                         style={"description_width": "70px"}, layout=_w.Layout(width="200px"))
        c["x1"] = _w.FloatText(value=float(x0[0]), description="start x₁", style={"description_width": "70px"},
                               layout=_w.Layout(width="200px"))
        c["x2"] = _w.FloatText(value=float(x0[1]), description="start x₂", style={"description_width": "70px"},
                               layout=_w.Layout(width="200px"))
        c["log_time"] = _w.Checkbox(value=False, description="log time axis", indent=False)
        self.controls = c
        self.readout = _w.HTML()

        # Fixed axes, no layout engine: a constrained layout would triple the time of every redraw.
        self.figure = Figure(figsize=(11.0, 4.6), dpi=80)
        self.ax_map = self.figure.add_axes((0.06, 0.11, 0.33, 0.8))
        self.ax_energy = self.figure.add_axes((0.46, 0.11, 0.37, 0.8))
        self.interactive = self._make_canvas(interactive)
        contour(potential, ax=self.ax_map, colorbar=False, legend_loc="lower right")
        self.ax_map.set_title(potential.name + (": click to set the start" if self.interactive else ""))
        (self._path_halo,) = self.ax_map.plot([], [], "-", color="white", lw=3.0, zorder=8)
        (self._path,) = self.ax_map.plot([], [], "-", color=PALETTE[1], lw=1.5, zorder=9)
        (self._start,) = self.ax_map.plot([], [], "o", color=PALETTE[1], markeredgecolor="black", markersize=9,
                                          zorder=10)
        (self._end,) = self.ax_map.plot([], [], "s", color=PALETTE[1], markeredgecolor="black", markersize=7,
                                        zorder=10)
        self.figure.canvas.mpl_connect("button_press_event", self.on_click)

        c["method"].observe(self._on_method, names="value")
        c["notation"].observe(self._on_notation, names="value")
        for name in (*_ML, *_PHYSICS, "seed", "gtol", "n_steps", "x1", "x2", "log_time"):
            c[name].observe(lambda _change: self.run(), names="value")
        self._on_method(None)
        self.widget = self._layout()
        self._hold = False
        self.run()

    # -- building ------------------------------------------------------------------------------------------

    def _make_canvas(self, interactive: bool | None) -> bool:
        """Give the figure an ipympl canvas (True) or leave it for an image widget (False)."""
        if interactive is None:
            interactive = _in_kernel()
            try:
                import ipympl  # noqa: F401
            except ImportError:
                interactive = False
        if interactive:
            try:
                from ipympl.backend_nbagg import Canvas, FigureManager
            except ImportError as exc:
                raise ImportError("a clickable explorer needs ipympl: pip install 'newtonopt[notebook]'") from exc
            # A canvas of our own, outside pyplot: the explorer is clickable under %matplotlib inline too.
            canvas = Canvas(self.figure)
            with warnings.catch_warnings():  # ipympl's Toolbar passes its canvas on to traitlets, which warns
                warnings.filterwarnings("ignore", "Passing unrecognized arguments", DeprecationWarning)
                FigureManager(canvas, 0)
            canvas.header_visible = False
            canvas.toolbar_position = "left"
            self.image, self._agg = None, None
        else:
            self.image = _w.Image(format="png", layout=_w.Layout(width="100%", max_width="880px"))
            self._agg = FigureCanvasAgg(self.figure)
        return bool(interactive)

    def _layout(self):
        c = self.controls
        view = self.figure.canvas if self.interactive else self.image
        left = _w.VBox([c["method"], c["notation"], *(c[n] for n in _ML + _PHYSICS), c["seed"]])
        right = _w.VBox([c["gtol"], c["n_steps"], c["x1"], c["x2"], c["log_time"]])
        return _w.VBox([view, _w.HBox([left, right]), self.readout])

    def _repr_mimebundle_(self, **kwargs):
        """The widget for Jupyter, and a picture of the figure for the renderers that show no widgets (a
        notebook stored with outputs, as GitHub or a static site shows it)."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["image/png"] = base64.b64encode(self.png()).decode("ascii")
        return bundle

    def png(self) -> bytes:
        """The figure as it stands, as PNG bytes."""
        buffer = io.BytesIO()
        if self._agg is None:  # an ipympl canvas: savefig lends the figure to Agg and gives it back
            self.figure.savefig(buffer, format="png")
            return buffer.getvalue()
        self._agg.draw()  # one draw, encoded at once (savefig would draw twice)
        PIL.Image.fromarray(np.asarray(self._agg.buffer_rgba())[..., :3]).save(buffer, format="png")
        return buffer.getvalue()

    @property
    def method(self) -> Method:
        """The registry's entry of the picked method."""
        return find_method(self.controls["method"].value)

    @property
    def notation(self) -> str:
        """'machine learning' or 'physics': which sliders set the method up."""
        return self.controls["notation"].value

    @property
    def x0(self) -> np.ndarray:
        """The start."""
        return np.array([self.controls["x1"].value, self.controls["x2"].value], dtype=float)

    def _offered(self, entry: Method) -> dict[str, tuple[str, ...]]:
        offered = {NOTATIONS[0]: ml_parameters(entry), NOTATIONS[1]: physics_parameters(entry)}
        return {k: v for k, v in offered.items() if v}

    def sliders(self) -> tuple[str, ...]:
        """The names of the sliders that set the picked method up in the current notation."""
        return self._offered(self.method).get(self.notation, ())

    def build(self) -> Integrator:
        """The integrator the controls stand for.

        Machine-learning notation: the registry's ``settings(lr, momentum)``, with the sliders' lr and
        momentum for the methods whose constructor takes them (Adam's lr, say) and the slider temperature
        for the thermostats. Physics notation: ``cls.from_physics(dt, mass, friction)`` for the methods that
        have it (gradient descent, heavy ball, Nesterov), else the constructor with the physical sliders on
        top of the registry's settings. A stochastic method takes the seed box's seed.

        Raises
        ------
        ValueError
            When the sliders make no valid method (a heavy ball with γ·dt/m > 1, say).
        """
        c, entry = self.controls, self.method
        names = self.sliders()
        kwargs = entry.settings(float(c["lr"].value), float(c["momentum"].value))
        values = {n: float(c[n].value) for n in names}
        if self.notation == NOTATIONS[1] and hasattr(entry.cls, "from_physics"):
            return entry.cls.from_physics(**values)
        taken = _signature(entry.cls.__init__)
        kwargs.update({n: v for n, v in values.items() if n in taken})
        if "temperature" in taken:
            kwargs["temperature"] = float(c["temperature"].value)
        if entry.stochastic:
            kwargs["seed"] = int(c["seed"].value)
        return entry.cls(**kwargs)

    # -- callbacks -----------------------------------------------------------------------------------------

    def _on_method(self, _change) -> None:
        """Show the picked method's notations and sliders (keeping the notation when it has it)."""
        c = self.controls
        offered = self._offered(self.method)
        hold, self._hold = self._hold, True
        try:
            c["notation"].options = tuple(offered)
            if c["notation"].value not in offered:
                c["notation"].value = next(iter(offered))
            self._show_sliders()
        finally:
            self._hold = hold
        self.run()

    def _on_notation(self, change) -> None:
        """Carry the running method over into the other sliders (the same motion), then show them."""
        hold, self._hold = self._hold, True
        try:
            if change is not None and self.integrator is not None:
                integrator = self.integrator
                known = {**integrator.params(), **(integrator.physics() if hasattr(integrator, "physics") else {})}
                for name in self.sliders():
                    value = known.get(name)
                    if value is not None and np.ndim(value) == 0 and not callable(value):
                        slider = self.controls[name]
                        slider.value = float(np.clip(float(value), _range(slider)[0], _range(slider)[1]))
            self._show_sliders()
        finally:
            self._hold = hold
        self.run()

    def _show_sliders(self) -> None:
        shown = set(self.sliders())
        entry = self.method
        if "temperature" in _signature(entry.cls.__init__):
            shown.add("temperature")  # a thermostat's T, in both notations
        for name in _ML + _PHYSICS:
            self.controls[name].layout.display = "" if name in shown else "none"
        self.controls["seed"].layout.display = "" if entry.stochastic else "none"

    @contextlib.contextmanager
    def batch(self):
        """Change several controls and run once, at the end: ``with explorer.batch(): ...``."""
        hold, self._hold = self._hold, True
        try:
            yield self
        finally:
            self._hold = hold
        self.run()

    def set_start(self, x) -> None:
        """Move the start to ``x`` (two numbers) and run again."""
        x = np.asarray(x, dtype=float)
        if x.shape != (2,) or not np.all(np.isfinite(x)):
            raise ValueError(f"the start must be two finite numbers, got {x!r}")
        hold, self._hold = self._hold, True
        try:
            self.controls["x1"].value, self.controls["x2"].value = float(x[0]), float(x[1])
        finally:
            self._hold = hold
        self.run()

    def on_click(self, event) -> None:
        """The canvas's ``button_press_event``: a click on the contour (outside zoom and pan) moves the start."""
        if event.inaxes is not self.ax_map or event.xdata is None or event.ydata is None:
            return
        toolbar = getattr(self.figure.canvas, "toolbar", None)
        if getattr(toolbar, "mode", "") not in ("", None):  # zooming or panning, not placing
            return
        self.set_start([event.xdata, event.ydata])

    # -- running -------------------------------------------------------------------------------------------

    def run(self) -> Trajectory | None:
        """Build the method from the controls, run it from the start and redraw; returns the trajectory
        (None when the controls make no valid method: ``message`` says why)."""
        if self._hold:
            return self.trajectory
        c = self.controls
        try:
            self.integrator = self.build()
        except (TypeError, ValueError) as exc:
            self.integrator, self.trajectory = None, None
            self.message = f"{self.method.title}: {exc}"
            self._redraw()
            return None
        saved = dict(self.potential.counts)  # the explorer's runs are nobody's budget
        try:
            self.trajectory = simulate(self.potential, self.integrator, self.x0, int(c["n_steps"].value),
                                       gtol=float(c["gtol"].value))
        finally:
            self.potential.counts.update(saved)
        t = self.trajectory
        self.message = (f"{self.method.title}: {t.status} after {t.n_steps} steps, V = {float(t.value_final):.6g}, "
                        f"‖∇V‖ = {float(t.grad_norm[-1]):.2e}")
        self._redraw()
        return t

    def _redraw(self) -> None:
        t, ax = self.trajectory, self.ax_energy
        if t is None:
            for line in (self._path_halo, self._path, self._start, self._end):
                line.set_data([], [])
            ax.clear()
            ax.text(0.5, 0.5, "no run: see the message below", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        else:
            x = t.x
            for line in (self._path_halo, self._path):
                line.set_data(x[:, 0], x[:, 1])
            self._start.set_data([x[0, 0]], [x[0, 1]])
            self._end.set_data([x[-1, 0]], [x[-1, 1]])
            ax.clear()
            ax.set_axis_on()
            energy(t, ax=ax)
            ax.set_title(f"energy ledger: {self.method.title}", fontsize=11)
            if t.status == "diverged":  # keep the axis on the motion before the blow-up, not on its last value
                ledger = np.stack([t.potential_energy, t.kinetic_energy, t.dissipated])
                scale = 1e3 * (1.0 + abs(float(t.total_energy[0])))
                shown = ledger[np.isfinite(ledger) & (np.abs(ledger) <= scale)]
                if shown.size:
                    pad = 0.05 * max(float(np.ptp(shown)), 1e-12)
                    ax.set_ylim(float(shown.min()) - pad, float(shown.max()) + pad)
            ax.set_xlabel("physical time t")
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
            if self.controls["log_time"].value and len(t.t) > 1:
                ax.set_xscale("log")
                ax.set_xlim(float(t.t[1]), float(t.t[-1]) if t.t[-1] > t.t[1] else float(t.t[1]) * 10)
        ml, phys = notations(self.integrator) if self.integrator is not None else ("—", "—")
        if self.integrator is not None and self.notation == NOTATIONS[0] and "lr" not in self.integrator.params():
            # the sliders' lr and momentum set up a method of physics through the registry's settings
            ml = ", ".join(f"{n} = {self.controls[n].value:.4g}" for n in self.sliders()) + " (the registry's settings)"
        self.readout.value = (f"<b>{ml}</b> &nbsp;↔&nbsp; <b>{phys}</b><br>{_escape(self.message)}")
        if self.interactive:
            self.figure.canvas.draw_idle()
        else:
            self.image.value = self.png()


def _range(slider) -> tuple[float, float]:
    """A slider's range in values (a log slider keeps exponents)."""
    if isinstance(slider, _w.FloatLogSlider):
        return slider.base ** slider.min, slider.base ** slider.max
    return slider.min, slider.max


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _in_range(name: str, value, low: float, high: float) -> float:
    """``value`` as a float in [low, high] (a slider's range); TypeError or ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    if not low <= float(value) <= high:
        raise ValueError(f"{name} must be in [{low:g}, {high:g}] (the slider's range), got {value!r}")
    return float(value)
