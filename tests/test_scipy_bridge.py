"""scipy.optimize as a peer: same x, same iteration and evaluation counts as calling scipy directly."""

import numpy as np
import pytest
import scipy.optimize as so

import newtonopt as no
from newtonopt.potentials import Quadratic, Rosenbrock
from newtonopt.scipy_bridge import scipy_minimize

X0 = np.array([-1.2, 1.0])


def direct(V, method, **options):
    """scipy.optimize.minimize called directly on the potential's own functions."""
    kw = {"jac": V.gradient} if method not in ("Nelder-Mead", "Powell") else {}
    if method in ("Newton-CG", "trust-ncg", "trust-krylov"):
        kw["hessp"] = V.hvp
    if method == "trust-exact":
        kw["hess"] = V.hessian
    return so.minimize(lambda x: float(V.value(x)), X0, method=method, options=options or None, **kw)


@pytest.mark.parametrize("method", ["CG", "BFGS", "L-BFGS-B", "Newton-CG", "trust-exact", "Nelder-Mead", "Powell"])
def test_x_iterations_and_counts_equal_scipy_run_directly(method):
    V = Rosenbrock()
    ref = direct(V, method)
    V.reset_counts()
    traj = scipy_minimize(V, X0, method)
    np.testing.assert_array_equal(traj.x_final, ref.x)  # bitwise: the same functions, the same arguments
    assert traj.n_steps == ref.nit
    assert traj.counts["value"] == ref.nfev
    assert traj.counts["gradient"] == ref.get("njev", 0)
    assert traj.counts["hessian"] == ref.get("nhev", 0)
    assert traj.status == ("converged" if ref.success else "failed")
    np.testing.assert_array_equal(traj.x[0], X0)
    assert traj.p is None and np.isnan(traj.kinetic_energy).all() and np.isnan(traj.dissipated).all()


def test_trust_region_hessian_counts_are_the_calls_made():
    # scipy 1.17's trust-ncg reports nhev one above the Hessian-vector products it requests; we count the calls.
    V = Rosenbrock()
    calls = {"n": 0}

    def hessp(x, p):
        calls["n"] += 1
        return V.hvp(x, p)

    so.minimize(lambda x: float(V.value(x)), X0, method="trust-ncg", jac=V.gradient, hessp=hessp)
    V.reset_counts()
    traj = scipy_minimize(V, X0, "trust-ncg")
    assert traj.counts["hessian"] == calls["n"]


@pytest.mark.parametrize("method", ["CG", "BFGS", "L-BFGS-B", "Newton-CG"])
def test_shared_gtol_stops_at_the_first_iterate_meeting_it(method):
    V = Rosenbrock()
    traj = scipy_minimize(V, X0, method, gtol=1e-5, maxiter=10_000)
    assert traj.status == "converged"
    assert traj.grad_norm[-1] <= 1e-5 and np.all(traj.grad_norm[:-1] > 1e-5)
    np.testing.assert_allclose(traj.grad_norm[-1], np.linalg.norm(V.gradient(traj.x_final)), rtol=1e-12)


def test_recording_adds_no_evaluations_and_tracks_cumulative_cost():
    V = Rosenbrock()
    ref = direct(V, "CG")
    traj = scipy_minimize(V, X0, "CG")
    assert traj.counts["gradient"] == ref.njev
    assert np.all(np.diff(traj.gradient_evaluations) > 0) and traj.gradient_evaluations[-1] <= ref.njev


def test_maxiter_and_bad_arguments():
    V = Rosenbrock()
    traj = scipy_minimize(V, X0, "BFGS", gtol=1e-12, maxiter=5)
    assert traj.status == "max_steps" and traj.n_steps == 5
    with pytest.raises(ValueError, match="unknown scipy method 'CGG'; did you mean 'CG'"):
        scipy_minimize(V, X0, "CGG")
    with pytest.raises(ValueError, match=r"x0 must be one start of shape \(2,\)"):
        scipy_minimize(V, np.zeros((3, 2)), "CG")
    with pytest.raises(TypeError, match="potential must be a newtonopt Potential"):
        scipy_minimize(so.rosen, X0, "CG")


def test_interrupt_keeps_the_iterates():
    V = Rosenbrock()
    calls = {"n": 0}

    def f(x):
        calls["n"] += 1
        if calls["n"] == 15:
            raise KeyboardInterrupt
        return V.value(x)

    W = no.Potential.from_function(f, V.gradient, dim=2)
    traj = scipy_minimize(W, X0, "BFGS")
    assert traj.status == "interrupted" and traj.n_records >= 2


def test_cg_on_a_quadratic_is_exact_in_dim_steps():
    # Linear CG with exact line search terminates in at most dim iterations (Hestenes & Stiefel 1952);
    # on a 2-D quadratic scipy's Polak–Ribière CG reaches the tolerance in 2 iterations.
    V = Quadratic([1.0, 10.0], [1.0, -2.0])
    traj = scipy_minimize(V, [3.0, 3.0], "CG", gtol=1e-8)
    assert traj.status == "converged" and traj.n_steps <= 3
