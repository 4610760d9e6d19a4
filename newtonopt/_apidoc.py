"""Write docs/api.md from the docstrings: ``python -m newtonopt._apidoc > docs/api.md``.

A test regenerates the text and compares it with the file, so the API page cannot fall behind the code.
"""

from __future__ import annotations

import inspect

import newtonopt
from newtonopt import analysis, flows, plot, potentials, schedules, suite, tuning
from newtonopt.datasets import (
    add_intercept,
    load_iris,
    make_blobs,
    make_moons,
    make_regression,
    standardize,
    train_test_split,
)
from newtonopt.integrators.registry import METHODS

SECTIONS = [
    ("The run loop and its result", ["simulate", "Trajectory", "compare", "Comparison", "sweep", "SweepResult",
                                     "scipy_minimize", "tune", "TuneResult", "LogUniform", "Uniform"]),
    ("Potentials", ["Potential", "check_gradient"]),
    ("Integrators", ["Integrator", *(m.cls.__name__ for m in METHODS)]),  # in the registry's order
]


def _summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


def _signature(name: str, obj) -> str:
    try:
        return f"{name}{inspect.signature(obj)}"
    except (TypeError, ValueError):
        return name


def _entry(qualified: str, name: str, obj) -> list[str]:
    return [f"### `{qualified}`", "", f"`{_signature(name, obj)}`", "", _summary(obj), ""]


def render() -> str:
    lines = ["# API reference", "",
             "Generated from the docstrings by `python -m newtonopt._apidoc > docs/api.md`; a test keeps it in step.",
             "Every public name is listed with its signature and the first paragraph of its docstring; the full",
             "docstrings (update rules, physical reading, references) are one `help(...)` away.", ""]
    listed = set()
    for title, names in SECTIONS:
        lines += [f"## {title}", ""]
        for name in names:
            lines += _entry(f"newtonopt.{name}", name, getattr(newtonopt, name))
            listed.add(name)
    lines += ["## The potential library: `newtonopt.potentials`", ""]
    for name in potentials.__all__:
        lines += _entry(f"newtonopt.potentials.{name}", name, getattr(potentials, name))
    lines += ["## Analysis: `newtonopt.analysis`", ""]
    for name in ("curvature", "Curvature", "stability_limit", "rate", "steps_to", "cg_bound",
                 "tuned_gradient_descent", "tuned_heavy_ball", "tuned_nesterov", "sgd_temperature", "SGDNoise",
                 "momentum_rate", "measured_rate", "sgd_stationary_covariance", "boltzmann"):
        lines += _entry(f"newtonopt.analysis.{name}", name, getattr(analysis, name))
    lines += ["## Continuous-time references: `newtonopt.flows`", ""]
    for name in ("gradient_flow", "newtonian_flow", "nesterov_flow"):
        lines += _entry(f"newtonopt.flows.{name}", name, getattr(flows, name))
    lines += ["## Schedules: `newtonopt.schedules`", ""]
    for name in schedules.SCHEDULES:
        lines += _entry(f"newtonopt.schedules.{name}", name, getattr(schedules, name))
    lines += ["## Data: `newtonopt.datasets`", ""]
    for fn in (load_iris, make_regression, make_blobs, make_moons, train_test_split, standardize, add_intercept):
        lines += _entry(f"newtonopt.datasets.{fn.__name__}", fn.__name__, fn)
    lines += ["## Fair comparisons over a suite: `newtonopt.suite`, `newtonopt.tuning`", ""]
    for name in ("standard_suite", "Problem", "run_suite", "SuiteResult"):
        lines += _entry(f"newtonopt.suite.{name}", name, getattr(suite, name))
    for name in ("performance_profile", "rotated_quadratic", "sobol_points"):
        lines += _entry(f"newtonopt.tuning.{name}", name, getattr(tuning, name))
    lines += ["## Figures: `newtonopt.plot`", ""]
    for name in ("style", "method_colors", "contour", "surface", "convergence", "energy", "phase_portrait",
                 "boltzmann_histogram", "stability_diagram", "basins", "sweep_map", "legend_below",
                 "performance_profile", "sharpness", "animate", "explore"):
        lines += _entry(f"newtonopt.plot.{name}", name, getattr(plot, name))
    modules = ("potentials", "analysis", "schedules", "flows", "tuning", "suite")
    missing = [n for n in newtonopt.__all__ if n not in listed and n not in modules]
    if missing:
        raise RuntimeError(f"public names missing from the API page: {missing}")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
