"""The package's layers import only downward, and no module imports itself round a cycle.

The import graph is read from the source with ``ast`` (module-level and function-level imports,
relative and absolute), not by importing, so a lazy import that dodges a cycle is still caught.
Imports of other packages (numpy, matplotlib, the optional dask, pandas, torch…) are not edges.
Importing ``a.b`` also runs ``a/__init__``; that implicit edge is not counted (it would put
every module below the package's own ``__init__``), only the modules an import statement names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import newtonopt

PACKAGE = "newtonopt"
ROOT = Path(newtonopt.__file__).resolve().parent

# Bottom to top: a module may import from its own layer and the layers before it, never after.
# Names are relative to the package; "" is newtonopt/__init__.py, "integrators" its __init__.
LAYERS: list[tuple[str, set[str]]] = [
    ("core: arithmetic, the Schedule base, search spaces",
     {"core", "core.reductions", "core.elementary", "core.schedule", "core.space", "core.limits",
      "core.expressions", "core.progress", "_kernels"}),
    ("core: parameter checks", {"_validation"}),
    ("core: schedules, noise, formulas", {"schedules", "noise", "formula"}),
    ("potential contract", {"potential"}),
    ("potentials", {
        "potentials", "potentials._base", "potentials._refine", "potentials.chemistry", "potentials.classic",
        "potentials.data", "potentials.mlp", "potentials.quadratic", "potentials.wells", "potentials.autodiff",
        "expression", "curvature", "datasets",
    }),
    ("methods", {
        "integrators", "integrators.base", "integrators._adaptive", "integrators.adagrad", "integrators.adam",
        "integrators.fire", "integrators.forward_euler", "integrators.gradient_descent",
        "integrators.heavy_ball", "integrators.langevin", "integrators.nesterov",
        "integrators.overdamped_langevin", "integrators.rmsprop", "integrators.velocity_verlet",
        "integrators.relativistic", "integrators.hamiltonian_descent", "integrators.nesterov_convex",
    }),
    # The registry imports every method's class, so it sits above them (a method importing it would be a
    # cycle); everything that lists or looks up methods (analysis, figures, command line) sits above it.
    ("method registry", {"integrators.registry"}),
    ("results", {"_io", "trajectory"}),
    # A torch optimizer stepping a method's rule on a model's parameters and recording a Trajectory.
    ("training-loop bridge", {"torch"}),
    # Backends execute a method's steps on a potential: above both (they read their types and the
    # State a method configured), below the engine that drives them.
    ("backends", {"backends", "backends.numba_backend", "backends.numba_loops", "backends.numba_noise"}),
    ("engine: its jobs", {"engine", "engine.start", "engine.recording", "engine.stopping", "engine.interrupt",
                          "engine.resume", "engine.diagnosis", "engine.sharpness"}),
    ("engine: the run loop", {"simulate"}),
    ("analysis and continuous-time references", {"analysis", "flows"}),
    # Drawing recorded results only (never running anything) sits below the experiments, whose
    # plot() methods use it; the figures that run something (plot, explorer) sit above them.
    ("figures of results", {"_draw", "_draw_sharpness"}),
    ("experiments", {"compare", "sweep", "scipy_bridge", "tuning", "conjugate_gradient", "suite"}),
    ("figures that run", {"explorer", "plot", "widgets"}),
    ("command line", {"registry", "cli"}),
    ("public face and tooling", {"", "_apidoc"}),
]

# Edges allowed against the rules above, each with its reason. Keep it short.
ALLOWED: set[tuple[str, str]] = {
    # Potential.from_torch / from_jax / from_torch_module are the constructors a user looks for on the base
    # class; the bridges need the data losses (a layer up) and optional packages, so they are imported
    # inside those three classmethods only, when called.
    ("potential", "potentials.autodiff"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its source (relative names)."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if name else []
    if not is_package:
        here = here[:-1]  # relative imports resolve against the containing package
    found: set[str] = set()

    def add(target: list[str]) -> None:
        dotted = ".".join(target)
        if dotted in known:
            found.add(dotted)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE:
                    add(parts[1:])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == PACKAGE:
                base = node.module.split(".")[1:]
            else:
                continue
            if node.module:
                add(base)
            for alias in node.names:  # `from . import plot` names a module, not an attribute
                add(base + [alias.name])
    found.discard(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _layer_of() -> dict[str, int]:
    index: dict[str, int] = {}
    for i, (_, names) in enumerate(LAYERS):
        for name in names:
            assert name not in index, f"{name!r} is in two layers"
            index[name] = i
    return index


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: within each strongly connected component (Tarjan), the shortest through each module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles: list[list[str]] = []
    for component in components:  # the shortest cycle through each member, each cycle once
        for start in sorted(component):
            cycle = _shortest_cycle(graph, set(component), start)
            first = cycle.index(min(cycle[:-1]))
            cycle = cycle[first:-1] + cycle[:first] + [cycle[first]]
            if cycle not in cycles:
                cycles.append(cycle)
    return cycles


def _shortest_cycle(graph: dict[str, set[str]], component: set[str], start: str) -> list[str]:
    """The shortest cycle start → … → start inside one strongly connected component."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first: the shortest way back to start
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError("unreachable: a component is strongly connected")


def _show(name: str) -> str:
    return f"{PACKAGE}.{name}" if name else PACKAGE


def test_the_walker_reads_every_kind_of_import(tmp_path):
    """Module- and function-level, relative (one and two dots) and absolute; other packages ignored."""
    path = tmp_path / "mod.py"
    path.write_text(
        "import numpy\n"
        "from . import sibling, an_attribute\n"
        "from .. import top\n"
        "from ..pkg.deep import thing\n"
        "import newtonopt.absolute\n"
        "from newtonopt import other\n"
        "def f():\n"
        "    from .lazy import x\n"
        "    import pandas\n", encoding="utf-8")
    known = {"sub", "sub.sibling", "sub.lazy", "top", "pkg", "pkg.deep", "absolute", "other"}
    assert _imports("sub.mod", path, known) == {"sub.sibling", "sub.lazy", "top", "pkg.deep", "absolute", "other"}


def test_every_module_has_a_layer():
    unplaced = sorted(set(_graph()) - set(_layer_of()))
    assert not unplaced, "modules with no layer (add each to LAYERS deliberately): " + ", ".join(
        _show(n) for n in unplaced)
    stale = sorted(set(_layer_of()) - set(_graph()))
    assert not stale, "LAYERS names modules that do not exist: " + ", ".join(_show(n) for n in stale)


def test_no_import_cycle():
    graph = {v: {w for w in ws if (v, w) not in ALLOWED} for v, ws in _graph().items()}
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(_show(n) for n in c) for c in cycles)


def _upward(graph: dict[str, set[str]], layer: dict[str, int]) -> list[tuple[str, str]]:
    """The imports (importer, imported) that reach a higher layer."""
    return [(v, w) for v, ws in sorted(graph.items()) for w in sorted(ws)
            if v in layer and w in layer and layer[w] > layer[v]]


def test_the_checks_find_cycles_and_upward_imports():
    """On a toy graph: a → b → c → a and d ↔ e are cycles; c (layer 0) importing a (layer 1) is upward."""
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d", "a"}, "f": {"a"}}
    assert _cycles(toy) == [["a", "b", "c", "a"], ["d", "e", "d"]]
    assert _upward(toy, {"c": 0, "a": 1, "b": 1}) == [("c", "a")]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_layers_import_only_downward():
    layer = _layer_of()
    upward = [
        f"{_show(v)} ({LAYERS[layer[v]][0]}) imports {_show(w)} ({LAYERS[layer[w]][0]})"
        for v, w in _upward(_graph(), layer) if (v, w) not in ALLOWED
    ]
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_allowances_are_still_needed():
    graph = _graph()
    stale = [f"{_show(v)} -> {_show(w)}" for v, w in sorted(ALLOWED) if w not in graph.get(v, set())]
    assert not stale, "allowed imports that no longer exist (remove them from ALLOWED): " + ", ".join(stale)
