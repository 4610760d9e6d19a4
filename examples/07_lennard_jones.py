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
# Why FIRE's ε is not small: its Euler steps are long against the stiffest vibration of the cluster.
omega = [float(np.sqrt(np.linalg.eigvalsh(V.hessian(x))[-1])) for x in (fire.x[0], fire.x_final)]
dts = np.diff(fire.t)
early = fire.energy_error[min(5, fire.n_records - 1)]
print(f"FIRE's ledger: ε ends at {fire.energy_error[-1]:+.2f} ({early:+.2f} after 5 steps); dt up to {dts.max():.3f}, "
      f"ω_max = {omega[0]:.0f} at the start and {omega[1]:.0f} at the minimum: ω·dt up to {dts.max() * max(omega):.1f}")
plot.energy(fire, ax=axes[1], caption=(
    f"ε ends at {fire.energy_error[-1]:+.1f}: FIRE's Euler steps (dt up to {dts.max():.2f}) are long against the "
    f"stiffest vibration (ω ≈ {omega[0]:.0f}–{omega[1]:.0f}, ω·dt ≈ {dts.max() * min(omega):.0f}), so the ledger "
    f"does not close; {early:+.1f} of it in the first 5 steps."))
axes[1].set_title("FIRE's ledger: velocity resets and mixing are friction")
save(fig, out, "07_lennard_jones.png")

# The relaxed cluster, viewed a little off one of its five-fold axes: an icosahedron shows as a pentagon
# of atoms around a vertex, a second pentagon turned by 36°, and the opposite vertex.
final = first.trajectories["scipy CG"].x_final.reshape(13, 3)
pairs = np.linalg.norm(final[:, None] - final[None], axis=-1)
near = (pairs < 1.3) & ~np.eye(13, dtype=bool)  # nearest neighbours: the LJ bond is 2^(1/6) ≈ 1.12
centre = int(np.argmax(near.sum(axis=1)))
outer = [i for i in range(13) if i != centre]
icosahedron = near[centre].sum() == 12 and all(near[i, outer].sum() == 5 for i in outer)
shape = "an icosahedron (12 around 1, each outer atom with 5 outer neighbours)" if icosahedron else "not an icosahedron"
print(f"relaxed cluster: atom {centre} has {near[centre].sum()} neighbours; {shape}")
axis = final[outer[0]] - final[centre]
axis /= np.linalg.norm(axis)
helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
e1 = np.cross(axis, helper)
e1 /= np.linalg.norm(e1)
rotated = (final - final[centre]) @ np.stack([e1, np.cross(axis, e1), axis], axis=1)  # five-fold axis → z
# Drawn as a 2-D projection tilted 20° off the axis, back to front (painter's order), so near atoms hide far
# bonds. Only the 30 edges between outer atoms are drawn: the bonds to the centre would hide the shape.
tilt = np.radians(20.0)
screen_y = rotated[:, 1] * np.cos(tilt) - rotated[:, 2] * np.sin(tilt)
depth = rotated[:, 1] * np.sin(tilt) + rotated[:, 2] * np.cos(tilt)  # larger: nearer the viewer
near_colour = (depth - depth.min()) / np.ptp(depth)
fig3, ax3 = plt.subplots(figsize=(5.6, 5.8), layout="constrained")
for i, j in zip(*np.nonzero(np.triu(near, 1))):
    if centre not in (i, j):
        d = 0.5 * (near_colour[i] + near_colour[j])
        ax3.plot(rotated[[i, j], 0], screen_y[[i, j]], color=plt.get_cmap("Greys")(0.35 + 0.6 * d), lw=1.0 + 2.0 * d,
                 zorder=10 * d, solid_capstyle="round")
for i in np.argsort(depth):
    face = "#D55E00" if i == centre else plt.get_cmap("Blues")(0.3 + 0.6 * near_colour[i])
    ax3.scatter(rotated[i, 0], screen_y[i], s=(300 if i == centre else 520) * (0.8 + 0.4 * near_colour[i]), c=[face],
                edgecolor="black", linewidth=1.0, zorder=10 * near_colour[i] + 0.5)
ax3.set_aspect("equal")
ax3.margins(0.12)
ax3.set_title(f"{'an icosahedron' if icosahedron else 'the relaxed cluster'}: 12 atoms around one (orange)\n"
              f"20° off a five-fold axis, darker = nearer; V = {float(V.value(final.ravel())):.6f}", fontsize="medium")
ax3.set_axis_off()
save(fig3, out, "07_cluster.png")
