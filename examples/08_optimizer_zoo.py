"""The optimizer zoo: every method on Rosenbrock, Himmelblau and Müller–Brown.
===========================================================================

Each potential runs all methods from one start with one stopping rule (‖∇V‖ ≤ 1e-6, at most 20,000
steps), and gets one figure: the paths on the landscape and V − V* against gradient evaluations. Step
sizes are the ones `newtonopt compare` uses by default for that potential (about 1/λ_max along the way).
"""

import matplotlib.pyplot as plt
from _common import save, setup

import newtonopt as no
from newtonopt import plot
from newtonopt.cli import build_method, build_potential

out, small = setup(__doc__)
names = ["gd", "heavyball", "nesterov", "verlet", "adam", "rmsprop", "adagrad", "fire", "cg", "bfgs", "lbfgs",
         "newton-cg"]
steps = 5_000 if small else 20_000
for key, title in (("rosenbrock", "Rosenbrock"), ("himmelblau", "Himmelblau"), ("muller-brown", "Müller–Brown")):
    V, x0, lr = build_potential(key, None)
    methods = {name: build_method(name, {}, lr) for name in names}
    result = no.compare(V, methods, x0, n_steps=steps, gtol=1e-6)
    print(f"\n{title}")
    print(result.table())
    fig, axes = plt.subplots(1, 2, figsize=(14, 6.4), layout="constrained")
    # One colour per method (twelve distinct), the same in both panels.
    colors = dict(zip(result.trajectories, plot.method_colors(len(result.trajectories))))
    shown = {k: v for k, v in result.trajectories.items() if k in ("gd", "heavyball", "adam", "fire", "cg")}
    plot.contour(V, shown, ax=axes[0], colors=colors)
    # Müller–Brown has three minima: most runs end in a local one, so ‖∇V‖ is the fair progress measure there.
    y = "grad_norm" if key == "muller-brown" else "gap"
    plot.convergence(result.trajectories, x="gradient_evaluations", y=y, ax=axes[1], logx=True, colors=colors)
    axes[1].set_title(f"every method: {'‖∇V‖' if y == 'grad_norm' else 'V − V*'} against gradient evaluations")
    plot.legend_below(axes[1], ncol=4)
    save(fig, out, f"08_zoo_{key}.png")
    plt.close(fig)
