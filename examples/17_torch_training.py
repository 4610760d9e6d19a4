"""Calorimetry of real training: a torch network on Iris, stepped by newtonopt's heavy ball, Adam and Langevin.
============================================================================================================

``newtonopt.torch.Optimizer`` is a torch optimizer that runs a newtonopt method's own rule on the
model's parameters and keeps its energy ledger as the network trains: the minibatch loss V, the kinetic
energy K of the momentum, the energy D its friction has removed, and two temperatures — the kinetic one,
2K/d, and the one the minibatch noise alone would set, η·tr C/(2·S·d), measured from per-sample
gradients (Mandt, Hoffman & Blei 2017). Data: Fisher's Iris, shipped with newtonopt (torchvision, and so
digits/MNIST, is not a dependency).

Run: python 17_torch_training.py [outdir] [--small]
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from _common import save, setup

import newtonopt as no
from newtonopt.datasets import load_iris
from newtonopt.torch import Optimizer

out, small = setup(__doc__)
torch.set_num_threads(1)  # a 131-parameter network: threads cost more than they give
start = time.perf_counter()

X, y, _, _ = load_iris()
X = torch.tensor((X - X.mean(axis=0)) / X.std(axis=0))
y = torch.tensor(y)
loss_fn = torch.nn.functional.cross_entropy
STEPS = 150 if small else 1500
BATCH = 16
EVERY = 15 if small else 50  # noise temperature measured every EVERY steps, over all 150 samples


def network():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)).double()


def train(method):
    model = network()
    opt = Optimizer(model.parameters(), method)
    rng = np.random.default_rng(1)
    for k in range(STEPS):
        batch = torch.as_tensor(rng.choice(150, BATCH, replace=False))
        if k % EVERY == 0 and not np.isnan(opt.effective_lr()):
            opt.measure_noise(model, loss_fn, X, y, batch_size=BATCH)
        if opt.defers:  # heavy ball, Adam: torch's usual loop; the next backward is the rule's evaluation
            opt.zero_grad()
            loss = loss_fn(model(X[batch]), y[batch])
            loss.backward()
            opt.step(loss=loss)
        else:  # Langevin's last half-kick needs the gradient at the moved parameters: a closure
            def closure(batch=batch):
                opt.zero_grad()
                loss = loss_fn(model(X[batch]), y[batch])
                loss.backward()
                return loss
            opt.step(closure)
    with torch.no_grad():
        accuracy = float((model(X).argmax(dim=1) == y).double().mean())
    return opt, accuracy


lr, momentum = 0.05, 0.9
hb = no.HeavyBall(lr, momentum)
physics = hb.physics()  # dt = √(lr·m), friction γ = (1 − μ)·m/dt: the same damped motion, now with a bath
runs = {
    "heavy ball (lr 0.05, μ 0.9)": hb,
    "Adam (lr 0.01)": no.Adam(0.01),
    "Langevin (T = 2·10⁻³)": no.Langevin(physics["dt"], friction=physics["friction"], temperature=2e-3, seed=0),
}
colors = dict(zip(runs, ["C0", "C1", "C3"]))
results = {name: train(method) for name, method in runs.items()}

d = results[next(iter(runs))][0].dim
print(f"Iris: 150 samples, 4 features, 3 classes; network 4-16-3: d = {d} parameters (4·16 + 16 + 16·3 + 3)")
print(f"{'method':30s} {'final V':>9s} {'accuracy':>9s} {'⟨2K/d⟩ last half':>17s} {'⟨T_noise⟩':>10s}")
summary = {}
for name, (opt, accuracy) in results.items():
    led = opt.ledger
    half = led["step"] >= STEPS // 2
    kin = np.nanmean(led["kinetic_temperature"][half]) if opt.method.order == 2 else np.nan
    noise = np.nanmean(led["noise_temperature"]) if np.any(np.isfinite(led["noise_temperature"])) else np.nan
    tail = np.mean(led["V"][-50:])
    print(f"{name:30s} {tail:9.4f} {accuracy:9.1%} {kin:17.2e} {noise:10.2e}")
    summary[name] = kin, noise
hb_kin, hb_noise = summary[next(iter(runs))]
print(f"heavy ball: ⟨2K/d⟩/⟨T_noise⟩ = {hb_kin / hb_noise:.2f} (small-lr theory for its momenta: 2/(1 + μ) = "
      f"{2 / (1 + momentum):.2f})")
lv_kin, lv_noise = summary[list(runs)[2]]
print(f"Langevin: ⟨2K/d⟩ = {lv_kin:.2e} ≈ bath T + minibatch T = {2e-3 + lv_noise:.2e}")

fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
ax = axes[0]
for name, (opt, _) in results.items():
    led = opt.ledger
    window = 10
    smooth = np.convolve(led["V"], np.ones(window) / window, mode="valid")
    ax.plot(led["step"], led["V"], color=colors[name], alpha=0.2, lw=0.8)
    ax.plot(led["step"][window - 1:], smooth, color=colors[name], lw=1.8, label=name)
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("minibatch loss V (10-step mean)")
ax.set_title("Training on Iris (minibatch 16)")
ax.legend(frameon=False, loc="lower left")

ax = axes[1]
opt = results[next(iter(runs))][0]
led = opt.ledger
ax.plot(led["step"], led["V"] + led["K"], color="C0", lw=1.4, label="E = V + K")
ax.plot(led["step"], led["D"], color="C2", lw=1.4, label="D, removed by friction")
ax.plot(led["step"], led["V"] + led["K"] + led["D"], color="k", lw=1.4, label="E + D")
ax.plot(led["step"], led["energy_error"], color="C3", lw=1.0, label="ε = E + D − E₀: work of the minibatch noise")
ax.axhline(0.0, color="0.6", lw=0.6)
ax.set_xlabel("step")
ax.set_ylabel("energy")
ax.set_title("Heavy ball's energy ledger")
low, high = ax.get_ylim()
ax.set_ylim(low, high + 0.5 * (high - low))  # headroom for the legend
ax.legend(frameon=False, loc="upper right")

ax = axes[2]
for name, (opt, _) in results.items():
    led = opt.ledger
    if opt.method.order == 2:
        window = 25
        kin = np.convolve(led["kinetic_temperature"], np.ones(window) / window, mode="valid")
        ax.plot(led["step"][window - 1:], kin, color=colors[name], lw=1.6, label=f"{name.split(' (')[0]}: 2K/d")
    measured = np.isfinite(led["noise_temperature"])
    if measured.any():
        ax.plot(led["step"][measured], led["noise_temperature"][measured], "o", ms=4, color=colors[name],
                mfc="none", label=f"{name.split(' (')[0]}: minibatch noise η·tr C/(2Sd)")
ax.axhline(2e-3, color="C3", ls="--", lw=1.0, label="Langevin's bath T")
ax.set_yscale("log")
ax.set_ylim(1e-5, 0.1)
ax.set_xlabel("step")
ax.set_ylabel("temperature (energy units)")
ax.set_title("Temperatures during training")
ax.legend(frameon=False, fontsize=8, loc="upper center", ncol=2)
save(fig, out, "17_torch_training.png")
print(f"ran in {time.perf_counter() - start:.1f} s")
