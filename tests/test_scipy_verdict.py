"""compare() and scipy_minimize report scipy's own verdict (issue 10, §4)."""

import numpy as np
import scipy.optimize as so

import newtonopt as no
from newtonopt.potentials import Rosenbrock
from newtonopt.scipy_bridge import scipy_minimize

X0 = np.array([-1.2, 1.0])


def test_nelder_mead_terminating_successfully_is_not_labelled_failed():
    V = Rosenbrock()
    ref = so.minimize(lambda x: float(V.value(x)), X0, method="Nelder-Mead")
    assert ref.success and ref.message == "Optimization terminated successfully."
    # Its simplex stops on xatol/fatol with ‖∇V‖ ≈ 9e-4, above the shared gtol: scipy's success, stated as such.
    traj = scipy_minimize(V, X0, "Nelder-Mead", gtol=1e-6, maxiter=10_000)
    assert traj.status == "converged"
    assert traj.message.startswith("scipy: Optimization terminated successfully.")
    assert "has not reached the shared gtol = 1e-06" in traj.message
    assert traj.grad_norm[-1] > 1e-6
    np.testing.assert_array_equal(traj.x_final, ref.x)  # the callback did not change scipy's run
    assert int(traj.converged_step) == ref.nit


def test_compare_shows_scipys_verdict_in_its_table():
    result = no.compare(Rosenbrock(), ["Nelder-Mead", "CG"], X0)
    rows = {row["method"]: row for row in result.rows}
    assert rows["Nelder-Mead"]["status"] == "converged"
    assert rows["CG"]["status"] == "converged"
    assert "failed" not in result.table()


def test_a_scipy_failure_is_still_failed_with_scipys_message():
    V = Rosenbrock()
    ref = so.minimize(lambda x: float(V.value(x)), X0, method="CG", jac=V.gradient, options={"gtol": 1e-30})
    assert not ref.success  # precision loss: scipy's own 'not necessarily achieved'
    traj = scipy_minimize(V, X0, "CG", gtol=1e-300)  # a tolerance no float iterate meets
    assert traj.status == "failed" and ref.message in traj.message
