"""THE list of the package's methods: one line each, read by the command line, the explorer, the
analysis, the figures and the tests.

Each :class:`Method` names an integrator class and says how to set it up from a step size: the
command line calls ``settings(lr)`` with the potential's safe learning rate, the explorer
``settings(lr, momentum)`` with its sliders. Everything else about a method (its formulas on a
quadratic, whether it is stochastic or second order, its step parameter) lives on its class and
is only read through here, so that adding a method means one file, its tests and one line below.

This module imports every method, so it sits one layer above them; no method imports it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.space import LogUniform, Uniform
from .adagrad import Adagrad
from .adam import Adam
from .base import Integrator
from .fire import FIRE
from .forward_euler import ForwardEuler
from .gradient_descent import GradientDescent
from .hamiltonian_descent import HamiltonianDescent
from .heavy_ball import HeavyBall
from .langevin import Langevin
from .nesterov import Nesterov
from .nesterov_convex import NesterovConvex
from .overdamped_langevin import OverdampedLangevin
from .relativistic import RelativisticGD
from .rmsprop import RMSprop
from .velocity_verlet import VelocityVerlet

#: The temperature the command line gives a thermostat unless told (``langevin:temperature=0.3``).
CLI_TEMPERATURE = 0.01


@dataclass(frozen=True)
class Method:
    """One method: its names, its class, and how a step size sets it up.

    Parameters
    ----------
    name : str
        The canonical name, as the command line spells it (``heavyball``).
    cls : type
        The :class:`~newtonopt.Integrator` subclass.
    title : str
        The name for people: legends and the explorer's buttons (``heavy ball``).
    description : str
        One line for ``newtonopt list``.
    settings : callable
        ``settings(lr, momentum=0.9) -> dict`` of constructor arguments for a learning rate that is
        safe on the potential at hand; methods without a momentum ignore it, and methods whose
        useful step does not scale with it (Adam, FIRE) ignore ``lr`` too.
    aliases : tuple of str
        Further names. The class name and the title need not be listed: names are compared
        without case, spaces, hyphens and underscores.
    explorer : bool
        Whether the explorer offers it (its lr and momentum sliders must mean something for it).
    space : dict or None
        The default search space for fair tuning (``compare(..., tune=budget)``, :func:`newtonopt.tune`):
        parameter name → :class:`~newtonopt.core.space.LogUniform` or ``Uniform``, wide enough to hold
        the good settings of the library's problems. None for the thermostats, whose noise never
        lets a run meet a gradient tolerance.
    """

    name: str
    cls: type
    title: str
    description: str
    settings: Callable[..., dict]
    aliases: tuple[str, ...] = ()
    explorer: bool = False
    space: dict | None = None

    # Read from the class, never stored twice.
    @property
    def stochastic(self) -> bool:
        """True when the method draws random numbers (it takes a ``seed``)."""
        return self.cls.stochastic

    @property
    def second_order(self) -> bool:
        """True when the method carries a momentum (Newtonian motion, ``order == 2``)."""
        return self.cls.order == 2

    @property
    def stability_limit(self) -> Callable | None:
        """``stability_limit(L, **params)``: the largest stable ``cls.step_parameter``, or None."""
        return self.cls.stability_limit

    @property
    def rate(self) -> Callable | None:
        """``rate(mu, L, **params)``: the contraction per step on a quadratic, or None."""
        return self.cls.rate

    @property
    def tuned_params(self) -> Callable | None:
        """``tuned_params(mu, L)``: the parameters tuned to a spectrum in [μ, L], or None."""
        return self.cls.tuned_params

    def build(self, lr: float, momentum: float = 0.9, **overrides) -> Integrator:
        """The integrator for ``settings(lr, momentum)`` with ``overrides`` on top."""
        return self.cls(**{**self.settings(lr, momentum), **overrides})


def _verlet(lr: float, momentum: float = 0.9, quarter: bool = False) -> dict:
    """dt = √lr (lr = dt²/m with m = 1) and the friction whose factor per step e^(−γ·dt) is ``momentum``;
    a quarter of that dt for forward Euler, which needs the smaller step."""
    root = float(np.sqrt(lr))
    scale = 4 if quarter else 1
    return {"dt": root / scale, "friction": float(-scale * np.log(max(momentum, 1e-12)) / root)}


def _hamiltonian_descent(lr: float, momentum: float = 0.9) -> dict:
    """ε = √lr and the friction whose implicit factor per step 1/(1 + γ·ε) is ``momentum``."""
    root = float(np.sqrt(lr))
    return {"dt": root, "friction": (1.0 / max(momentum, 1e-12) - 1.0) / root, "kinetic": "relativistic"}


def _thermostat(settings: dict) -> dict:
    return {**settings, "temperature": CLI_TEMPERATURE, "seed": 0}


def _fixed(**params) -> Callable[..., dict]:
    """Settings that ignore the step size: for methods whose useful lr does not scale with it (Adam, FIRE)."""
    return lambda lr, momentum=0.9: dict(params)


_LR = LogUniform(1e-5, 1.0)
_MOMENTUM = Uniform(0.0, 0.99)
_DT = LogUniform(1e-3, 1.0)
_FRICTION = LogUniform(1e-2, 1e2)

METHODS: tuple[Method, ...] = (
    Method("gd", GradientDescent, "gradient descent", "gradient descent (explicit Euler, overdamped)",
           lambda lr, momentum=0.9: {"lr": lr}, explorer=True, space={"lr": _LR}),
    Method("heavyball", HeavyBall, "heavy ball", "Polyak's heavy ball (symplectic Euler, damped)",
           lambda lr, momentum=0.9: {"lr": lr, "momentum": momentum}, explorer=True,
           space={"lr": _LR, "momentum": _MOMENTUM}),
    Method("nesterov", Nesterov, "Nesterov", "Nesterov momentum (torch.optim.SGD form)",
           lambda lr, momentum=0.9: {"lr": lr, "momentum": momentum}, explorer=True,
           space={"lr": _LR, "momentum": _MOMENTUM}),
    Method("verlet", VelocityVerlet, "velocity Verlet", "velocity Verlet with exact friction", _verlet,
           explorer=True, space={"dt": _DT, "friction": _FRICTION}),
    Method("euler", ForwardEuler, "forward Euler", "forward Euler of Newton's equations (not symplectic)",
           lambda lr, momentum=0.9: _verlet(lr, momentum, quarter=True), space={"dt": _DT, "friction": _FRICTION}),
    Method("langevin", Langevin, "Langevin", f"underdamped Langevin dynamics, BAOAB (T = {CLI_TEMPERATURE}, "
           "seed 0 unless given)", lambda lr, momentum=0.9: _thermostat(_verlet(lr, momentum))),
    Method("overdamped-langevin", OverdampedLangevin, "overdamped Langevin", "overdamped Langevin, SGLD "
           f"(T = {CLI_TEMPERATURE}, seed 0 unless given)", lambda lr, momentum=0.9: _thermostat({"dt": lr}),
           aliases=("sgld",)),
    Method("adagrad", Adagrad, "Adagrad", "Adagrad (torch.optim defaults but lr)", _fixed(lr=0.1),
           space={"lr": LogUniform(1e-3, 10.0)}),
    Method("rmsprop", RMSprop, "RMSprop", "RMSprop (torch.optim defaults)", _fixed(lr=1e-2),
           space={"lr": LogUniform(1e-5, 1.0)}),
    Method("adam", Adam, "Adam", "Adam (torch.optim defaults but lr)", _fixed(lr=1e-2),
           space={"lr": LogUniform(1e-4, 1.0)}),
    Method("fire", FIRE, "FIRE", "FIRE structural relaxation (ASE's defaults)", _fixed(),
           space={"dt": LogUniform(1e-3, 1.0)}),
    Method("relativistic", RelativisticGD, "relativistic GD", "relativistic gradient descent (speed ≤ c = 1, "
           "conformal symplectic)", lambda lr, momentum=0.9: {**_verlet(lr, momentum), "light_speed": 1.0},
           aliases=("rgd",), space={"dt": _DT, "friction": _FRICTION, "light_speed": LogUniform(1e-2, 1e2)}),
    Method("hamiltonian-descent", HamiltonianDescent, "Hamiltonian descent", "Hamiltonian descent, first explicit "
           "method (relativistic kinetic energy unless given)", _hamiltonian_descent,
           space={"dt": _DT, "friction": _FRICTION}),
    Method("nesterov-convex", NesterovConvex, "Nesterov (convex)", "Nesterov's method for convex V, momentum "
           "(k − 1)/(k + 2) (Su-Boyd-Candès form)", lambda lr, momentum=0.9: {"lr": lr}, aliases=("sbc",),
           space={"lr": _LR}),
)


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


def _index() -> dict[str, Method]:
    by_key: dict[str, Method] = {}
    for m in METHODS:
        for alias in (m.name, m.cls.__name__, m.title, *m.aliases):
            if by_key.setdefault(_key(alias), m) is not m:  # pragma: no cover - a registry typo
                raise RuntimeError(f"the method name {alias!r} is taken twice")
    return by_key


_BY_KEY = _index()


def find_method(method: str | type | Integrator) -> Method:
    """The registry's entry for a name (any alias, any case), an integrator class or an integrator.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones and close matches.
    TypeError
        For anything else that is not an integrator.
    """
    if isinstance(method, Integrator):
        method = type(method)
    if isinstance(method, type):
        for m in METHODS:
            if m.cls is method:
                return m
        raise ValueError(f"{method.__name__} is not in the method registry (newtonopt.integrators.registry)")
    if not isinstance(method, str):
        raise TypeError(f"method must be a name, an Integrator class or an integrator, got {type(method).__name__}")
    found = _BY_KEY.get(_key(method))
    if found is not None:
        return found
    names = [m.name for m in METHODS]
    close = difflib.get_close_matches(method.strip().lower(), names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown method {method!r}{hint} (known: {', '.join(names)})")
