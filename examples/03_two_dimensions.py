"""Gradient descent in two dimensions: V = 6x² + 9y² − 12x − 14y + 3 from three starting points.
=============================================================================================

∇V = (12x − 12, 18y − 14) vanishes at (1, 7/9), where V = 3 − 6 − 49/9 = −8.444…. The two springs have stiffness
12 and 18, so with η = 0.05 the x-error shrinks by |1 − 0.6| = 0.4 and the y-error by |1 − 0.9| = 0.1
per step: every path bends towards the x-axis of the valley first.
"""

import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt import plot

out, small = setup(__doc__)
V = no.potentials.Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0, name="V = 6x² + 9y² − 12x − 14y + 3",
                            bounds=[[-1.5, 3.0], [-1.2, 2.6]])
starts = {"start (−1, 2)": [-1.0, 2.0], "start (2.5, −1)": [2.5, -1.0], "start (−1, −1)": [-1.0, -1.0]}
trajs = {}
for label, x0 in starts.items():
    trajs[label] = no.simulate(V, no.GradientDescent(0.05), x0, n_steps=500, gtol=1e-8)
    t = trajs[label]
    print(f"{label:<16} {t.status} after {t.n_steps:>3} steps at ({t.x_final[0]:.8f}, {t.x_final[1]:.8f}), "
          f"V = {t.potential_energy[-1]:.6f}")
print(f"the minimum: (1, 7/9) = (1, {7 / 9:.8f}), V = {3 - 6 - 49 / 9:.6f}")
ax = plot.contour(V, trajs)
ax.set_title("three starts, one minimum (η = 0.05)")
save(ax.figure, out, "03_two_dimensions.png")
assert all(np.allclose(t.x_final, [1, 7 / 9], atol=1e-8) for t in trajs.values())
