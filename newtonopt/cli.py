"""The ``newtonopt`` command: demo, list, compare, explore."""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import math
import os
import re
import sys
from pathlib import Path

import numpy as np

from .compare import compare
from .expression import potential_from_expression
from .integrators.registry import METHODS, Method, find_method
from .registry import POTENTIALS, SCIPY_METHODS, ScipyEntry, lookup

DEMO_FIGURE = "newtonopt_demo.png"
#: The step budget per method of both `demo` and `compare`, so the two tables can be read side by side.
DEFAULT_STEPS = 50_000
BACKENDS = ("numpy", "numba", "auto")

#: What `newtonopt list` says of each method, for someone meeting it for the first time. A method missing
#: here is listed with its registry description.
PLAIN: dict[str, str] = {
    "gd": "gradient descent: step downhill, x ← x − lr·∇V; a particle in syrup, lr = dt/γ",
    "heavyball": "heavy ball (SGD + momentum): a ball of mass m, friction γ; lr = dt²/m, momentum = 1 − γ·dt/m",
    "nesterov": "Nesterov momentum: the heavy ball, but it reads the slope where its momentum is taking it",
    "verlet": "velocity Verlet: Newton's motion m·ẍ = −∇V − γ·ẋ in accurate time steps dt",
    "euler": "forward Euler of the same motion: the simplest time step; it gains energy it should not",
    "langevin": "Langevin dynamics: the ball with friction, shaken by random kicks at temperature T",
    "overdamped-langevin": "noisy gradient descent (SGLD): downhill steps plus random kicks at temperature T",
    "adagrad": "Adagrad: each coordinate's step shrinks as its squared gradients add up",
    "rmsprop": "RMSprop: each coordinate's step divided by a running average of its squared gradients",
    "adam": "Adam: momentum with RMSprop's per-coordinate step sizes (the deep-learning default)",
    "fire": "FIRE: a ball that speeds up while it runs downhill and stops dead when it turns uphill",
    "cg": "conjugate gradient: line searches along directions that do not undo each other",
    "bfgs": "BFGS: learns the curvature from the gradients it has seen and takes Newton-like steps",
    "lbfgs": "L-BFGS-B: BFGS that remembers only the last few steps, for many variables",
    "newton-cg": "Newton-CG: Newton steps using second derivatives (Hessian-vector products)",
}


class UsageError(Exception):
    """A bad flag or value: reported on stderr with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse's parser, but its own complaints (unknown flag, missing value) are one line too."""

    def error(self, message: str):
        text = re.sub(r"\s*\n\s*", "; ", message.strip())
        self.exit(2, f"newtonopt: error: {text} (see `{self.prog} --help`)\n")


# ------------------------------------------------------------------------------------------- parsing helpers
def _number(flag: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{flag} expects a number, got {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"{flag} expects a finite number, got {text!r}")
    return value


def _split_commas(text: str) -> list[str]:
    """Split at the commas outside brackets, so that ``adam:betas=(0.9,0.99)`` stays one token."""
    tokens, depth, current = [], 0, []
    for char in text:
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if char == "," and depth <= 0:
            tokens.append("".join(current))
            current = []
        else:
            current.append(char)
    tokens.append("".join(current))
    return [t.strip() for t in tokens]


def parse_methods(text: str) -> list[tuple[str, str, dict]]:
    """``'gd,heavyball:lr=1e-3,momentum=0.9,cg'`` → [(label, name, params), ...].

    The label is the name as written; a name given twice gets ``(2)``, ``(3)``… after it, so that
    ``gd:lr=0.1,gd:lr=0.01`` compares two step sizes.
    """
    methods: list[tuple[str, str, dict]] = []
    for token in _split_commas(text):
        if not token:
            continue
        if "=" in token and ":" not in token:
            if not methods:
                raise UsageError(f"--methods: parameter {token!r} comes before any method name")
            key, _, value = token.partition("=")
            methods[-1][2][key.strip()] = value.strip()
            continue
        name, _, first = token.partition(":")
        params: dict = {}
        if first:
            if "=" not in first:
                raise UsageError(f"--methods: expected name:key=value, got {token!r}")
            key, _, value = first.partition("=")
            params[key.strip()] = value.strip()
        label, k = name.strip(), 2
        while label in {m[0] for m in methods}:
            label, k = f"{name.strip()} ({k})", k + 1
        methods.append((label, name.strip(), params))
    if not methods:
        raise UsageError("--methods: no method given")
    return methods


def _convert(flag: str, key: str, value: str):
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)  # seed=3, Nmin=5: an int; lr=1 is taken as 1.0 by the method itself
    if value.startswith(("(", "[")) or "/" in value:
        parts = [p for p in re.split(r"[()\[\],/ ]+", value) if p]
        return tuple(_number(f"{flag} {key}", p) for p in parts)
    word = value.strip()
    if re.fullmatch(r"[A-Za-z_][A-Za-z_-]*", word) and word.lower() not in ("inf", "infinity", "nan"):
        return word  # a choice (hamiltonian-descent:kinetic=power); the method checks it and says what it takes
    return _number(f"{flag} {key}", value)


def find_cli_method(name: str) -> Method | ScipyEntry:
    """The method registry's entry (any alias) or scipy's for a CLI name; a UsageError with close matches."""
    key = name.strip().lower()
    if key in SCIPY_METHODS:
        return SCIPY_METHODS[key]
    try:
        return find_method(name)
    except ValueError:
        pass
    try:  # not found: let lookup word the message over every name the command line knows
        lookup("method", name, {**{m.name: m for m in METHODS}, **SCIPY_METHODS})
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    raise AssertionError("unreachable: lookup found a name find_method did not")  # pragma: no cover


def method_settings(entry: Method) -> tuple[str, ...] | None:
    """The settings a method's constructor takes (``lr``, ``momentum``…), or None when it takes any keyword."""
    parameters = list(inspect.signature(entry.cls).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return tuple(p.name for p in parameters if p.kind is not inspect.Parameter.VAR_POSITIONAL)


def build_method(name: str, params: dict, lr: float):
    """An integrator, a scipy method name, or (a scipy name, its options), from a CLI name and its overrides."""
    entry = find_cli_method(name)
    if isinstance(entry, ScipyEntry):
        if not params:
            return entry.target
        for key in params:
            if key not in entry.settings:
                known = ", ".join(entry.settings) or "none"
                raise UsageError(f"--methods {name}: scipy's {entry.target} takes no setting {key!r} here (its "
                                 f"settings: {known}; tolerances and budgets follow --gtol and --steps)")
        return entry.target, {key: _convert(f"--methods {name}:", key, value) for key, value in params.items()}
    kwargs = entry.settings(lr)
    known = method_settings(entry)
    for key, value in params.items():
        if known is not None and key not in known:
            raise UsageError(f"--methods {name}: {entry.name} has no setting {key!r} (its settings: "
                             f"{', '.join(known)})")
        kwargs[key] = _convert(f"--methods {name}:", key, value)
    try:
        return entry.cls(**kwargs)
    except TypeError as exc:
        raise UsageError(f"--methods {name}: {exc}") from None
    except ValueError as exc:
        raise UsageError(f"--methods {name}: {exc}") from None


def build_potential(text: str, dim: int | None):
    key = text.strip().lower()
    if key in POTENTIALS or not re.search(r"[*+/^()]|\d", text):
        try:
            entry = lookup("potential", key, POTENTIALS)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        try:
            V = entry.make(dim)
            return V, entry.start(V), entry.lr
        except (ValueError, TypeError) as exc:  # e.g. lennard-jones --dim 1: n_atoms must be >= 2
            raise UsageError(f"--potential {key}" + ("" if dim is None else f" --dim {dim}") + f": {exc}") from None
        except MemoryError:
            raise UsageError(f"--dim {dim} is too large for {key}: not enough memory") from None
    try:
        V = potential_from_expression(text)
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError) as exc:
        # A bad formula is bad input, whatever layer noticed it: one line, never a traceback.
        raise UsageError(f"--potential: {exc or type(exc).__name__}") from None
    return V, np.zeros(V.dim), 1e-3


def parse_x0(text: str, dim: int, name: str) -> np.ndarray:
    """``'-1.2,1'`` (or ``'-1.2, 1'``, ``'(-1.2, 1)'``, ``'-1.2 1'``) → array([-1.2, 1.0]), checked against ``dim``."""
    parts = [t for t in re.split(r"[,\s]+", text.strip().strip("()[]")) if t]
    x0 = np.array([_number("--x0", t) for t in parts])
    if x0.shape != (dim,):
        raise UsageError(f"--x0 needs {dim} comma-separated numbers for {name}, got {len(x0)}")
    return x0


def _backend(args) -> tuple[str, int | None]:
    """``--backend`` and ``--workers``, checked in the command line's words."""
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {args.workers}")
    if args.backend == "numpy" and (args.workers or 1) > 1:
        raise UsageError(f"--workers {args.workers} needs --backend numba or auto (numpy runs on one thread)")
    return args.backend, args.workers


def _run_compare(V, methods, x0, args, gtol):
    """compare(), its refusals before any run (a bad start, a method numba cannot run) as usage errors."""
    backend, workers = _backend(args)
    try:
        return compare(V, methods, x0, n_steps=args.steps, gtol=gtol, backend=backend, workers=workers)
    except ImportError as exc:  # --backend numba without numba: the message names the extra to install
        raise UsageError(f"--backend {backend}: {exc}") from None
    except (ValueError, TypeError) as exc:  # refused before any run started (e.g. V not finite at x0)
        raise UsageError(f"compare: {exc}") from None


# ------------------------------------------------------------------------------------------------ commands
def _check_output(flag: str, path: str | None) -> None:
    """Refuse an output path whose folder does not exist before any work is done (a long run would be lost)."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{flag}: {path!r} is a folder; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"{flag}: the folder {str(folder)!r} does not exist")


def _write(flag: str, path: str, write) -> None:
    """Run ``write()``, reporting an OSError (permissions, a full disk) as one line."""
    try:
        write()
    except OSError as exc:
        raise UsageError(f"{flag}: could not write {path!r}: {exc.strerror or exc}") from None


def _start_text(entry) -> str:
    """The default start as --x0 spells it, for the potentials small enough to show one."""
    try:
        V = entry.make(None)
        x0 = np.asarray(entry.start(V), dtype=float)
    except Exception:  # noqa: BLE001 - a listing never fails over one entry's start
        return ""
    return "" if x0.size > 3 else "; starts at " + ",".join(f"{v:g}" for v in x0)


def cmd_list(args) -> int:
    print("Landscapes to minimize (--potential NAME; --x0 to start elsewhere), or your own formula in x, y, z,")
    print("e.g. --potential '(1 - x)**2 + 100*(y - x**2)**2':")
    for name, entry in POTENTIALS.items():
        print(f"  {name:<14} {entry.description}{_start_text(entry)}")
    print("\nMethods (--methods gd,heavyball,cg). Change a setting with NAME:SETTING=VALUE, e.g.")
    print("--methods heavyball:lr=1e-3,momentum=0.9 or langevin:temperature=0.3. By default the step size")
    print("comes from the landscape; `newtonopt compare` prints the settings each method used.")
    for m in METHODS:
        also = f" (also: {', '.join(m.aliases)})" if m.aliases else ""
        print(f"  {m.name:<19} {PLAIN.get(m.name, m.description)}{also}")
        known = method_settings(m)
        if known:
            print(f"  {'':<19}   settings: {', '.join(known)}")
    print("\nFrom scipy.optimize, with the same start and the same stopping rule (--gtol, --steps):")
    for name, entry in SCIPY_METHODS.items():
        print(f"  {name:<19} {PLAIN.get(name, entry.description)}")
        if entry.settings:
            print(f"  {'':<19}   settings: {', '.join(entry.settings)}")
    return 0


def _figure(comparison, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from . import plot

    trajs = {k: v for k, v in comparison.trajectories.items() if not isinstance(v, list)}
    colors = dict(zip(trajs, plot.method_colors(len(trajs))))  # one colour per method in both panels
    two_d = comparison.potential.dim == 2 and comparison.x0.ndim == 1
    fig, axes = plt.subplots(1, 2 if two_d else 1, figsize=(13, 6.0) if two_d else (7, 5), layout="constrained")
    axes = np.atleast_1d(axes)
    if two_d:
        plot.contour(comparison.potential, trajs, ax=axes[0], colors=colors)
    # A run that ends in a local minimum plateaus in V − V*: ‖∇V‖, what the stopping rule tests, is then the
    # fair progress measure (Müller–Brown, Himmelblau from other starts).
    vstar = comparison.potential.minimum_value
    local = vstar is not None and any(
        np.any(np.asarray(t.value_final) > vstar + 1e-6 * (1 + abs(vstar))) for t in trajs.values())
    plot.convergence(trajs, x="gradient_evaluations", y="grad_norm" if local else "auto", ax=axes[-1], logx=True,
                     colors=colors)
    axes[-1].set_title("cost: gradient evaluations to reach the tolerance"
                       + ("\n(‖∇V‖: some runs end in a local minimum)" if local else ""))
    fig.suptitle(title, fontsize=13)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def cmd_demo(args) -> int:
    if args.steps < 0:
        raise UsageError(f"--steps must be >= 0, got {args.steps}")
    _backend(args)
    _check_output("--out", args.out)
    V, x0, lr = build_potential("rosenbrock", None)
    methods = {
        "gradient descent": build_method("gd", {}, lr),
        "heavy ball": build_method("heavyball", {}, lr),
        "Nesterov": build_method("nesterov", {}, lr),
        "velocity Verlet": build_method("verlet", {}, lr),
        "scipy CG": "CG",
    }
    print("newtonopt demo: four integrators of one equation of motion, and scipy's conjugate gradient,")
    print("from the same start with the same stopping rule ‖∇V‖ ≤ 1e-6 on Rosenbrock's valley.\n")
    for label, m in methods.items():
        print(f"  {label:<17} {m!r}" if not isinstance(m, str) else f"  {label:<17} scipy.optimize.minimize('{m}')")
    print()
    result = _run_compare(V, methods, x0, args, 1e-6)
    print(result.table())
    out = Path(args.out) if args.out else Path.cwd() / DEMO_FIGURE
    _write("--out", str(out), lambda: _figure(result, out, "Rosenbrock from (−1.2, 1): same start, same stopping "
                                                            "rule"))
    print(f"\nwrote {out}")
    return 0


def cmd_compare(args) -> int:
    dim = None
    if args.dim is not None:
        if args.dim < 1:
            raise UsageError(f"--dim must be a positive integer, got {args.dim}")
        dim = args.dim
    V, x0, lr = build_potential(args.potential, dim)
    if args.x0 is not None:
        x0 = parse_x0(args.x0, V.dim, V.name)
    if args.steps < 0:
        raise UsageError(f"--steps must be >= 0, got {args.steps}")
    if args.gtol is not None and not args.gtol > 0:
        raise UsageError(f"--gtol must be > 0, got {args.gtol}")
    _backend(args)
    for flag, path in (("--csv", args.csv), ("--json", args.json), ("--plot", args.plot)):
        _check_output(flag, path)
    methods = {}
    for label, name, params in parse_methods(args.methods):
        entry = find_cli_method(name)
        tuned = getattr(entry.cls, "tuned", None) if isinstance(entry, Method) else None  # gd, heavyball, nesterov
        if args.tuned and tuned is not None and not params:
            try:
                methods[label] = tuned(V, x0)
            except (ValueError, TypeError) as exc:  # e.g. the Hessian at x0 is not positive definite
                raise UsageError(f"--tuned {name} at x0 = {np.asarray(x0).tolist()}: {exc}") from None
        else:
            methods[label] = build_method(name, params, lr)
    result = _run_compare(V, methods, x0, args, args.gtol)
    print(result.table(params=True))
    if args.csv:
        records = result.to_records()

        def write_csv():
            with open(args.csv, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(records[0]))
                writer.writeheader()
                writer.writerows(records)

        _write("--csv", args.csv, write_csv)
        print(f"wrote {args.csv}")
    if args.json:
        text = json.dumps({"potential": V.name, "x0": np.asarray(x0).tolist(), "gtol": args.gtol,
                           "n_steps": args.steps, "backend": args.backend, "rows": result.to_records()}, indent=2)
        _write("--json", args.json, lambda: Path(args.json).write_text(text))
        print(f"wrote {args.json}")
    if args.plot:
        _write("--plot", args.plot, lambda: _figure(result, Path(args.plot), f"{V.name}: same start, same stopping "
                                                                              "rule"))
        print(f"wrote {args.plot}")
    return 0


def cmd_explore(args) -> int:
    import matplotlib

    from .explorer import explore

    V, x0, lr = build_potential(args.potential, None)
    if V.dim != 2:
        raise UsageError(f"--potential: the explorer draws 2-D landscapes, {V.name} has dim = {V.dim}")
    if args.x0 is not None:
        x0 = parse_x0(args.x0, 2, V.name)
    try:
        method = find_method(args.method)
    except ValueError:
        method = None
    if method is None or not method.explorer:
        raise UsageError(f"--method must be one of {_explorer_names()}, got {args.method!r}")
    lr = args.lr if args.lr is not None else lr
    if not lr > 0:
        raise UsageError(f"--lr must be > 0, got {lr}")
    if not 0 <= args.momentum < 1:
        raise UsageError(f"--momentum must be in [0, 1), got {args.momentum}")
    _check_output("--out", args.out)
    interactive = matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo", "template")
    fig = explore(V, x0, lr=lr, momentum=args.momentum, method=method.title, show=interactive)
    if not interactive:
        out = Path(args.out or "newtonopt_explorer.png")
        _write("--out", str(out), lambda: fig.savefig(out, dpi=110))
        print(f"no display here (matplotlib backend {matplotlib.get_backend()!r}): wrote a snapshot to {out}")
    return 0


def _explorer_names() -> str:
    """The explorer's methods, as the command line names them: 'gd, heavyball, nesterov or verlet'."""
    names = [m.name for m in METHODS if m.explorer]
    return ", ".join(names[:-1]) + " or " + names[-1]


# -------------------------------------------------------------------------------------------------- main
def _add_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default="numpy",
                        help="who takes the steps of newtonopt's methods: numpy (default, the readable reference), "
                        "numba (compiled; pip install 'newtonopt[fast]') or auto (numba where it pays)")
    parser.add_argument("--workers", type=int, help="threads for the compiled backend (default 1); it splits "
                        "the particles of an ensemble")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="newtonopt", description="Optimization as the motion of a particle in a "
                     "potential: run optimizers as integrators and compare them fairly.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the main job: GD, heavy ball, Nesterov, Verlet (and scipy CG) compared")
    demo.add_argument("--out", help=f"where to write the figure (default ./{DEMO_FIGURE})")
    demo.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                      help=f"step budget per method (default {DEFAULT_STEPS})")
    _add_backend(demo)
    demo.set_defaults(func=cmd_demo)
    lst = sub.add_parser("list", help="the landscapes and methods this command knows, in plain words")
    lst.set_defaults(func=cmd_list)
    cmp_ = sub.add_parser("compare", help="compare methods on a potential from one start with one stopping rule")
    cmp_.add_argument("--potential", default="rosenbrock", help="a name from `newtonopt list` or a formula in x, y, z")
    cmp_.add_argument("--dim", type=int, help="dimension (Rosenbrock, Rastrigin, quadratic) or atoms (lennard-jones)")
    cmp_.add_argument("--methods", default="gd,heavyball,nesterov,verlet,cg",
                      help="comma-separated method names, with settings as heavyball:lr=1e-3,momentum=0.9")
    cmp_.add_argument("--x0", help="the start, comma-separated, e.g. --x0 -1.2,1 (default: the potential's usual "
                      "start)")
    cmp_.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                      help=f"step budget per method (default {DEFAULT_STEPS}, as the demo)")
    cmp_.add_argument("--gtol", type=float, default=1e-6, help="stop when ‖∇V‖ ≤ gtol (default 1e-6)")
    cmp_.add_argument("--tuned", action="store_true", help="gd/heavyball/nesterov with parameters tuned from the "
                      "Hessian at x0 (Polyak's critical damping for the heavy ball)")
    _add_backend(cmp_)
    cmp_.add_argument("--plot", help="write a figure (PNG)")
    cmp_.add_argument("--csv", help="write the table as CSV")
    cmp_.add_argument("--json", help="write the table as JSON")
    cmp_.set_defaults(func=cmd_compare)
    exp = sub.add_parser("explore", help="a live window: sliders for lr and momentum, click to set the start")
    exp.add_argument("--potential", default="himmelblau", help="a 2-D potential name or formula in x, y")
    exp.add_argument("--x0", help="the first start, comma-separated")
    exp.add_argument("--lr", type=float, help="initial learning rate (default: the potential's)")
    exp.add_argument("--momentum", type=float, default=0.9, help="initial momentum (default 0.9)")
    exp.add_argument("--method", default="heavyball", help=_explorer_names())
    exp.add_argument("--out", help="where to write the snapshot when there is no display")
    exp.set_defaults(func=cmd_explore)
    return parser


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """Every flag, in any subcommand, that takes a value (``--x0``, ``--potential``, ``--lr``…)."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _value_options(sub)
        elif action.option_strings and action.nargs is None:
            found.update(action.option_strings)
    return found


def _join_negative_values(argv: list[str], value_options: set[str] | None = None) -> list[str]:
    """Glue a value that starts with ``-`` to its flag: ``--x0 -1.2,1`` → ``--x0=-1.2,1``.

    argparse reads "-1.2,1" (or a formula "-x**2") as a flag of its own and stops with "expected one
    argument". A value is glued when it starts with a single ``-`` and is not ``-h``; a ``--flag``
    after a value flag is still a flag, so ``--x0 --steps 5`` keeps its own complaint.
    """
    if value_options is None:
        value_options = _value_options(make_parser())
    out: list[str] = []
    i = 0
    while i < len(argv):
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if (argv[i] in value_options and nxt is not None and nxt.startswith("-") and not nxt.startswith("--")
                and nxt not in ("-", "-h")):
            out.append(f"{argv[i]}={nxt}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_join_negative_values(argv, _value_options(parser)))
    try:
        return args.func(args)
    except BrokenPipeError:  # `newtonopt list | head`: the reader left; no traceback for that
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail again
        return 0
    except UsageError as exc:
        text = re.sub(r"\s*\n\s*", "; ", str(exc).strip())  # one line on stderr, whatever the message held
        print(f"newtonopt: error: {text}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
