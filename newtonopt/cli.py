"""The ``newtonopt`` command: demo, list, compare, explore."""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

from .compare import compare
from .expression import potential_from_expression
from .integrators.registry import METHODS, Method, find_method
from .registry import POTENTIALS, SCIPY_METHODS, ScipyEntry, lookup

DEMO_FIGURE = "newtonopt_demo.png"


class UsageError(Exception):
    """A bad flag or value: reported on stderr with exit code 2."""


# ------------------------------------------------------------------------------------------- parsing helpers
def _number(flag: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{flag} expects a number, got {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"{flag} expects a finite number, got {text!r}")
    return value


def parse_methods(text: str) -> list[tuple[str, str, dict]]:
    """``'gd,heavyball:lr=1e-3,momentum=0.9,cg'`` → [(label, name, params), ...]."""
    methods: list[tuple[str, str, dict]] = []
    for token in (t.strip() for t in text.split(",")):
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
        methods.append((token.split(":")[0].strip(), name.strip(), params))
    if not methods:
        raise UsageError("--methods: no method given")
    return methods


def _convert(flag: str, key: str, value: str):
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)  # seed=3, Nmin=5: an int; lr=1 is taken as 1.0 by the method itself
    if value.startswith("(") or "/" in value:
        parts = [p for p in re.split(r"[(),/ ]+", value) if p]
        return tuple(_number(f"{flag} {key}", p) for p in parts)
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


def build_method(name: str, params: dict, lr: float):
    """An integrator (or a scipy method name) from a CLI method name and its overrides."""
    entry = find_cli_method(name)
    if isinstance(entry, ScipyEntry):
        if params:
            raise UsageError(f"--methods: {name} takes no parameters here, got {params}")
        return entry.target
    kwargs = entry.settings(lr)
    for key, value in params.items():
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


def cmd_list(args) -> int:
    print("potentials (--potential NAME, or a formula in x, y, z such as '6*x**2 + 9*y**2 - 12*x'):")
    for name, entry in POTENTIALS.items():
        print(f"  {name:<14} {entry.description}")
    print("\nmethods (--methods a,b,c; parameters as heavyball:lr=1e-3,momentum=0.9 or langevin:temperature=0.3):")
    for m in METHODS:
        print(f"  {m.name:<19} {m.description} [newtonopt]")
    for name, entry in SCIPY_METHODS.items():
        print(f"  {name:<19} {entry.description} [scipy.optimize]")
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
    result = compare(V, methods, x0, n_steps=args.steps, gtol=1e-6)
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
        x0 = np.array([_number("--x0", t) for t in args.x0.split(",") if t.strip()])
        if x0.shape != (V.dim,):
            raise UsageError(f"--x0 needs {V.dim} comma-separated numbers for {V.name}, got {len(x0)}")
    if args.steps < 0:
        raise UsageError(f"--steps must be >= 0, got {args.steps}")
    if args.gtol is not None and not args.gtol > 0:
        raise UsageError(f"--gtol must be > 0, got {args.gtol}")
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
    try:
        result = compare(V, methods, x0, n_steps=args.steps, gtol=args.gtol)
    except (ValueError, TypeError) as exc:  # refused before any run started (e.g. V not finite at x0)
        raise UsageError(f"compare: {exc}") from None
    print(result.table())
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
                           "n_steps": args.steps, "rows": result.to_records()}, indent=2)
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
        x0 = np.array([_number("--x0", t) for t in args.x0.split(",") if t.strip()])
        if x0.shape != (2,):
            raise UsageError(f"--x0 needs 2 comma-separated numbers, got {len(x0)}")
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
def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newtonopt", description="Optimization as the motion of a particle in a "
                                     "potential: run optimizers as integrators and compare them fairly.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the main job: GD, heavy ball, Nesterov, Verlet (and scipy CG) compared")
    demo.add_argument("--out", help=f"where to write the figure (default ./{DEMO_FIGURE})")
    demo.add_argument("--steps", type=int, default=50_000, help="step budget per method (default 50000)")
    demo.set_defaults(func=cmd_demo)
    lst = sub.add_parser("list", help="the potentials and methods this command knows")
    lst.set_defaults(func=cmd_list)
    cmp_ = sub.add_parser("compare", help="compare methods on a potential from one start with one stopping rule")
    cmp_.add_argument("--potential", default="rosenbrock", help="a name from `newtonopt list` or a formula in x, y, z")
    cmp_.add_argument("--dim", type=int, help="dimension (Rosenbrock, Rastrigin, quadratic) or atoms (lennard-jones)")
    cmp_.add_argument("--methods", default="gd,heavyball,nesterov,verlet,cg",
                      help="comma-separated method names, with parameters as heavyball:lr=1e-3,momentum=0.9")
    cmp_.add_argument("--x0", help="the start, comma-separated (default: the potential's conventional start)")
    cmp_.add_argument("--steps", type=int, default=20_000, help="step budget per method (default 20000)")
    cmp_.add_argument("--gtol", type=float, default=1e-6, help="stop when ‖∇V‖ ≤ gtol (default 1e-6)")
    cmp_.add_argument("--tuned", action="store_true", help="gd/heavyball/nesterov with parameters tuned from the "
                      "Hessian at x0 (Polyak's critical damping for the heavy ball)")
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


def _join_negative_values(argv: list[str]) -> list[str]:
    # `--x0 -1.2,1` would read "-1.2,1" as a flag; glue such values to their option.
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--x0", "--lr") and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    try:
        return args.func(args)
    except UsageError as exc:
        text = re.sub(r"\s*\n\s*", "; ", str(exc).strip())  # one line on stderr, whatever the message held
        print(f"newtonopt: error: {text}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
