"""The OR-tools models agree with independent SciPy solutions on random data (1e-6 relative), and BCRP
satisfies the optimality conditions of a log-optimal portfolio."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from opsrl.envs.portfolio import solver


def random_returns(seed, T=120, N=6):
    rng = np.random.default_rng(seed)
    factor = rng.normal(0.0003, 0.01, (T, 1))
    return factor * rng.uniform(0.5, 1.5, N) + rng.normal(0.0002, 0.008, (T, N)) * rng.uniform(0.5, 2.0, N)


def simplex_qp(S, lin=None):
    """min wᵀSw − linᵀw over the simplex by SLSQP (the independent solution)."""
    N = S.shape[0]
    lin = np.zeros(N) if lin is None else lin
    res = minimize(lambda x: x @ S @ x - lin @ x, np.full(N, 1 / N), jac=lambda x: 2 * S @ x - lin,
                   bounds=[(0, 1)] * N, method="SLSQP", options={"ftol": 1e-16, "maxiter": 2000},
                   constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1, "jac": lambda x: np.ones(N)}])
    return res.x, res.fun


@pytest.mark.parametrize("seed", range(4))
def test_min_variance_pdlp_matches_scipy(seed):
    R = random_returns(seed)
    w, var = solver.min_variance(R)
    S = np.cov(R, rowvar=False, ddof=1)
    _, ref = simplex_qp(S)
    assert var == pytest.approx(ref, rel=1e-6)
    assert abs(w.sum() - 1) < 1e-12 and (w >= 0).all()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("with_target", [False, True])
def test_mean_cvar_glop_matches_scipy_highs(seed, with_target):
    R = random_returns(seed, T=200, N=5)
    alpha = 0.95
    target = float(np.median(R.mean(0))) if with_target else None
    w, cvar, zeta = solver.mean_cvar(R, alpha, target)
    T, N = R.shape
    # variables [w (N), zeta, u (T)]; u_t >= -r_t·w - zeta
    c = np.concatenate([np.zeros(N), [1.0], np.full(T, 1 / ((1 - alpha) * T))])
    A_ub = np.hstack([-R, -np.ones((T, 1)), -np.eye(T)])
    b_ub = np.zeros(T)
    if target is not None:
        A_ub = np.vstack([A_ub, np.concatenate([-R.mean(0), [0.0], np.zeros(T)])])
        b_ub = np.append(b_ub, -target)
    A_eq = np.concatenate([np.ones(N), [0.0], np.zeros(T)])[None]
    ref = linprog(c, A_ub, b_ub, A_eq, [1.0], bounds=[(0, 1)] * N + [(None, None)] + [(0, None)] * T,
                  method="highs")
    assert ref.status == 0
    assert cvar == pytest.approx(ref.fun, rel=1e-6)
    # the objective is the CVaR of the loss at the LP's own weights (RU identity, discrete form)
    loss = -R @ w
    assert cvar == pytest.approx(zeta + np.maximum(loss - zeta, 0).mean() / (1 - alpha), rel=1e-9)
    if target is not None:
        assert R.mean(0) @ w >= target - 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_kelly_pdlp_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    N = 5
    mu = rng.uniform(0.02, 0.3, N)
    A = rng.normal(size=(N, N)) * 0.15
    cov = A @ A.T + np.diag(rng.uniform(0.01, 0.05, N))
    w, g = solver.kelly(mu, cov, 0.01)
    S = np.zeros((N + 1, N + 1))
    S[1:, 1:] = 0.5 * cov
    _, ref = simplex_qp(S, np.concatenate([[0.01], mu]))
    assert g == pytest.approx(-ref, rel=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_bcrp_satisfies_the_log_optimal_kkt_conditions(seed):
    """b* maximises Σ ln(b·x) over the simplex iff mean_t x_t,i/(b*·x_t) <= 1 for all i, = 1 where b*_i > 0."""
    rng = np.random.default_rng(seed)
    x = np.exp(rng.normal(0.0005, 0.02, (250, 6)) + rng.normal(0, 0.01, 6))
    b, logw = solver.bcrp(x)
    grad = (x / (x @ b)[:, None]).mean(axis=0)
    assert (grad <= 1 + 1e-6).all()
    np.testing.assert_allclose(grad[b > 1e-6], 1.0, atol=1e-6)
    assert logw >= np.log(x).sum(axis=0).max() - 1e-9 and logw >= np.log(x.mean(axis=1)).sum() - 1e-9


def test_bad_inputs():
    with pytest.raises(ValueError, match="alpha"):
        solver.mean_cvar(random_returns(0), alpha=1.0)
    with pytest.raises(ValueError, match="2 scenarios"):
        solver.min_variance(random_returns(0)[:1])
