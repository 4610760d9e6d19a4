"""Multiple minima: where you start decides where you end.
=======================================================

The tilted double well V = (x² − 1)² + 0.25·x + ½y² has a deep minimum at x ≈ −1.03 and a shallow
(metastable) one at x ≈ 0.97, separated by a barrier at x ≈ 0.06. Gradient descent only goes downhill, so
its basins of attraction are split exactly at the barrier; the heavy ball carries momentum and can roll
over the barrier, so its basin map is striped — the same landscape, different physics, different answers.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt import plot

out, small = setup(__doc__)
V = no.potentials.DoubleWell()
deep, shallow = V.minima
print(f"deep minimum    x = {deep.x[0]: .6f}, V = {deep.value: .6f}")
print(f"shallow minimum x = {shallow.x[0]: .6f}, V = {shallow.value: .6f}")
print(f"barrier top     x = {V.x_top: .6f}, V = {V.saddle[1]: .6f}; barriers ΔV = "
      f"{V.barriers()['deep']:.4f} (deep), {V.barriers()['shallow']:.4f} (shallow)")

starts = np.array([[-1.8, 1.0], [-0.3, -1.2], [0.3, 1.2], [1.8, -1.0]])
gd = no.simulate(V, no.GradientDescent(0.05), starts, 2000, gtol=1e-8)
hb = no.simulate(V, no.HeavyBall(0.05, 0.8), starts, 2000, gtol=1e-8)
print(f"\n{'start':>16}  {'gradient descent ends at':>26}  {'heavy ball ends at':>20}")
for i, s in enumerate(starts):
    gi, _ = V.nearest_minimum(gd.x_final[i])
    hi, _ = V.nearest_minimum(hb.x_final[i])
    name = {0: "deep", 1: "shallow"}
    print(f"{str(s):>16}  {name[int(gi)]:>26}  {name[int(hi)]:>20}")

resolution = 60 if small else 160
fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), layout="constrained")
plot.basins(V, no.GradientDescent(0.05), ax=axes[0], resolution=resolution, n_steps=3000)
plot.basins(V, no.HeavyBall(0.05, 0.8), ax=axes[1], resolution=resolution, n_steps=3000)
axes[0].set_title("basins of gradient descent (lr = 0.05)")
axes[1].set_title("basins of the heavy ball (lr = 0.05, momentum = 0.8)")
save(fig, out, "04_basins.png")
fig2, ax = plt.subplots(figsize=(6.4, 5.6), layout="constrained")  # the layout keeps the colour bar off the title
ax = plot.contour(V, {"gradient descent": gd, "heavy ball": hb}, ax=ax)
ax.set_title("four starts: descent stays in its well, momentum may cross")
save(fig2, out, "04_paths.png")
