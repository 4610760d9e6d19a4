"""A (lr, momentum) sweep: the measured stability map of the heavy ball against the analytic region.
=================================================================================================

On a quadratic with Hessian eigenvalues in [μ, L] the heavy ball is stable iff
0 < lr·λ < 2 + 2·momentum for every λ — the boundary lr = (2 + 2·momentum)/L drawn on the map —
and fastest at Polyak's critically damped point lr = 4/(√L + √μ)², momentum = ((√κ − 1)/(√κ + 1))².
Each grid point is one particle of a vectorized ensemble; the same sweep runs in this process and,
when dask.distributed is installed, on a local dask cluster, with identical results.
"""

import time

import numpy as np
from _common import save, setup

import newtonopt as no


def main() -> None:
    out, small = setup(__doc__)
    n_grid = 24 if small else 60
    dim = 20 if small else 100
    V = no.potentials.Quadratic(np.logspace(0, 2, dim), name=f"quadratic, κ = 100, dim = {dim}")
    mu, L = V.curvature_bounds()
    grid = {"lr": np.logspace(-3.5, np.log10(4.5 / L), n_grid), "momentum": np.linspace(0.0, 0.98, n_grid)}
    x0 = np.ones(dim)

    t0 = time.perf_counter()
    result = no.sweep(V, no.HeavyBall, x0, n_steps=1500, gtol=1e-6, **grid)
    print(f"in-process: {result} ({time.perf_counter() - t0:.2f} s)")
    best = result.best()
    kappa = L / mu
    polyak = {"lr": 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, "momentum": ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2}
    print(f"fastest grid point: lr = {best['lr']:.4g}, momentum = {best['momentum']:.3f}, {best['steps']} steps")
    print(f"Polyak's optimum:   lr = {polyak['lr']:.4g}, momentum = {polyak['momentum']:.3f}")
    lr_mesh, mu_mesh = np.meshgrid(grid["lr"], grid["momentum"], indexing="ij")
    ratio = lr_mesh * L / (2 + 2 * mu_mesh)
    agree = np.mean(result.status[(ratio < 0.95)] != "diverged") * 100
    beyond = np.mean(result.status[(ratio > 1.05)] == "diverged") * 100
    print(f"inside the analytic region (lr·L < 0.95·(2 + 2μ)): {agree:.1f}% of points stable; "
          f"outside (> 1.05·(2 + 2μ)): {beyond:.1f}% diverged")

    try:
        import distributed
    except ImportError:
        print("dask.distributed is not installed: skipping the cluster run (pip install 'dask[distributed]')")
    else:
        t0 = time.perf_counter()
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, host="127.0.0.1",
                                      silence_logs=40) as cluster, distributed.Client(cluster) as client:
            remote = no.sweep(V, no.HeavyBall, x0, n_steps=1500, gtol=1e-6, executor=client.get_executor(),
                              chunk_size=max(1, n_grid * n_grid // 4), **grid)
        same = all(np.array_equal(getattr(remote, f), getattr(result, f)) for f in ("steps", "final_value", "status"))
        print(f"dask LocalCluster (2 workers): {time.perf_counter() - t0:.2f} s, identical to in-process: {same}")

    ax = result.plot("steps")
    save(ax.figure, out, "10_sweep_stability_map.png")


if __name__ == "__main__":  # dask's worker processes import this file again
    main()
