"""Relax a 13-atom Lennard-Jones cluster with FIRE, the heavy ball, CG and BFGS.
=============================================================================

Thirteen atoms with pair energy 4(r⁻¹² − r⁻⁶) have their putative global minimum, an icosahedron, at
V* = −44.326801 (Cambridge Cluster Database, Wales & Doye 1997; rounded to 1e-6, so V − V* of a fully
relaxed icosahedron shows as −4e-7). From a random compact start the four methods race to the same
stopping rule; whichever minimum each lands in is a stationary point — often the icosahedron, sometimes
a nearby metastable structure.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt import plot

out, small = setup(__doc__)
V = no.potentials.LennardJones(13)
print(f"LJ13 global minimum from the Cambridge Cluster Database: V* = {V.minimum_value:.6f}")
methods = {"FIRE (ASE's defaults)": no.FIRE(), "heavy ball": no.HeavyBall(2e-3, 0.9), "scipy CG": "CG",
           "scipy BFGS": "BFGS"}
seeds = [0] if small else [0, 1, 2]
for seed in seeds:
    x0 = V.initial_positions(seed=seed)
    result = no.compare(V, methods, x0, n_steps=20_000, gtol=1e-6)
    print(f"\nstart: random compact cluster, seed {seed}")
    print(result.table())
    if seed == seeds[0]:
        first = result

fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
plot.convergence(first.trajectories, x="gradient_evaluations", ax=axes[0], logx=True)
axes[0].set_title("V − V* against cost (seed 0)")
fire = first.trajectories["FIRE (ASE's defaults)"]
plot.energy(fire, ax=axes[1])
axes[1].set_title("FIRE's ledger: velocity resets and mixing are friction")
axes[1].legend(fontsize=8)
save(fig, out, "07_lennard_jones.png")

final = first.trajectories["scipy CG"].x_final.reshape(13, 3)
ax3 = plt.figure(figsize=(5, 5)).add_subplot(projection="3d")
ax3.scatter(*final.T, s=600, c="#56B4E9", edgecolor="black", depthshade=True)
pairs = np.linalg.norm(final[:, None] - final[None], axis=-1)
for i, j in zip(*np.nonzero(np.triu(pairs < 1.3, 1))):
    ax3.plot(*np.stack([final[i], final[j]]).T, color="gray", lw=1)
ax3.set_title(f"relaxed cluster, V = {float(V.value(final.ravel())):.6f}")
ax3.set_axis_off()
save(ax3.figure, out, "07_cluster.png")
