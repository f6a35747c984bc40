"""Allocation models of the portfolio family (spec ``portfolio.md`` §5.2), OR-tools MathOpt and SciPy.

* :func:`min_variance` — min (1/(T−1))·Σ_t y_t² s.t. y_t = (r_t − μ̂)ᵀw, Σw = 1, 0 ≤ w ≤ 1: the sample variance
  with auxiliary variables y, so the quadratic objective is **diagonal** (PDLP rejects a full Σ̂).
* :func:`mean_cvar` — Rockafellar–Uryasev: min ζ + (1/((1−α)T))·Σ_t u_t s.t. u_t ≥ −r_tᵀw − ζ, u ≥ 0,
  Σw = 1, 0 ≤ w ≤ 1, optionally μ̂ᵀw ≥ R*; GLOP. At the optimum ζ = VaR_α and the objective = CVaR_α of the
  loss −rᵀw.
* :func:`kelly` — max μᵀw − ½wᵀΣw over the simplex of cash + N assets, Σ = LLᵀ with auxiliary y = Lᵀw; PDLP.
* :func:`bcrp` — the best constant-rebalanced portfolio in hindsight, argmax_{b∈Δ} Σ_t ln(b·x_t): a concave
  log program (no exponential cone in the OR-tools wheel), solved by SciPy SLSQP with the analytic gradient.

Every model is checked against an independent SciPy solution in ``tests/envs/portfolio/test_solver.py``.
"""

from __future__ import annotations

import numpy as np
from ortools.math_opt.python import mathopt
from ortools.pdlp import solvers_pb2
from scipy.optimize import minimize

PDLP_EPS = 1e-10


def _pdlp_params(time_limit: float | None) -> mathopt.SolveParameters:
    p = solvers_pb2.PrimalDualHybridGradientParams()
    crit = p.termination_criteria.simple_optimality_criteria
    crit.eps_optimal_relative = PDLP_EPS
    crit.eps_optimal_absolute = PDLP_EPS * 1e-2
    kwargs = {"pdlp": p}
    if time_limit is not None:
        import datetime

        kwargs["time_limit"] = datetime.timedelta(seconds=time_limit)
    return mathopt.SolveParameters(**kwargs)


def _solve(model: mathopt.Model, solver: mathopt.SolverType, params: mathopt.SolveParameters | None = None):
    res = mathopt.solve(model, solver, params=params)
    if res.termination.reason not in (mathopt.TerminationReason.OPTIMAL, mathopt.TerminationReason.FEASIBLE):
        raise RuntimeError(f"{solver.name}: {res.termination}")
    return res


def _weights(res, w) -> np.ndarray:
    """Primal weights, projected onto the simplex (PDLP satisfies constraints only to its tolerance)."""
    vals = res.variable_values()
    x = np.maximum(np.array([vals[v] for v in w]), 0.0)
    return x / x.sum()


def min_variance(returns: np.ndarray, time_limit: float | None = None) -> tuple[np.ndarray, float]:
    """Long-only minimum-variance weights of the scenario ``returns[T, N]`` (PDLP, diagonal Q).
    Returns (weights, sample variance wᵀΣ̂w with ddof = 1)."""
    r = np.asarray(returns, dtype=np.float64)
    T, N = r.shape
    if T < 2:
        raise ValueError(f"min_variance needs at least 2 scenarios, got {T}")
    centred = r - r.mean(axis=0)
    model = mathopt.Model(name="min_variance")
    w = [model.add_variable(lb=0.0, ub=1.0, name=f"w{i}") for i in range(N)]
    y = [model.add_variable(name=f"y{t}") for t in range(T)]
    model.add_linear_constraint(mathopt.LinearSum(w) == 1.0)
    for t in range(T):
        model.add_linear_constraint(
            y[t] - mathopt.LinearSum([float(centred[t, i]) * w[i] for i in range(N) if centred[t, i] != 0.0]) == 0.0)
    model.minimize(mathopt.QuadraticSum([yt * yt for yt in y]) * (1.0 / (T - 1)))
    res = _solve(model, mathopt.SolverType.PDLP, _pdlp_params(time_limit))
    x = _weights(res, w)
    return x, float(x @ np.cov(r, rowvar=False, ddof=1).reshape(N, N) @ x)


def mean_cvar(returns: np.ndarray, alpha: float = 0.95, target: float | None = None,
              time_limit: float | None = None) -> tuple[np.ndarray, float, float]:
    """Rockafellar–Uryasev mean-CVaR LP (GLOP). Returns (weights, CVaR_α, ζ = VaR_α) of the loss −rᵀw.
    ``target``: the constraint μ̂ᵀw ≥ target (``None``: minimum CVaR)."""
    r = np.asarray(returns, dtype=np.float64)
    T, N = r.shape
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha={alpha!r} is invalid: must be in (0, 1)")
    model = mathopt.Model(name="mean_cvar")
    w = [model.add_variable(lb=0.0, ub=1.0, name=f"w{i}") for i in range(N)]
    zeta = model.add_variable(lb=-np.inf, ub=np.inf, name="zeta")
    u = [model.add_variable(lb=0.0, name=f"u{t}") for t in range(T)]
    model.add_linear_constraint(mathopt.LinearSum(w) == 1.0)
    for t in range(T):
        model.add_linear_constraint(u[t] + mathopt.LinearSum([float(r[t, i]) * w[i] for i in range(N)]) + zeta >= 0.0)
    if target is not None:
        mu = r.mean(axis=0)
        model.add_linear_constraint(mathopt.LinearSum([float(mu[i]) * w[i] for i in range(N)]) >= float(target))
    model.minimize(zeta + mathopt.LinearSum(u) * (1.0 / ((1.0 - alpha) * T)))
    params = mathopt.SolveParameters()
    if time_limit is not None:
        import datetime

        params = mathopt.SolveParameters(time_limit=datetime.timedelta(seconds=time_limit))
    res = _solve(model, mathopt.SolverType.GLOP, params)
    vals = res.variable_values()
    x = np.array([vals[v] for v in w])
    return x, float(res.objective_value()), float(vals[zeta])


def kelly(mu: np.ndarray, cov: np.ndarray, risk_free: float = 0.0,
          time_limit: float | None = None) -> tuple[np.ndarray, float]:
    """Growth-optimal constant mix of cash (index 0, drift ``risk_free``, no variance) and N assets with
    annual drift ``mu`` and covariance ``cov``: max μᵀw − ½wᵀΣw over the simplex (PDLP, y = Lᵀw).
    Returns (weights [N+1], expected log growth g* per year)."""
    mu = np.asarray(mu, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    N = mu.size
    L = np.linalg.cholesky(cov + 1e-14 * np.eye(N))
    model = mathopt.Model(name="kelly")
    w = [model.add_variable(lb=0.0, ub=1.0, name=f"w{i}") for i in range(N + 1)]
    y = [model.add_variable(name=f"y{j}") for j in range(N)]
    model.add_linear_constraint(mathopt.LinearSum(w) == 1.0)
    for j in range(N):  # y_j = (Lᵀ w_{1:N})_j = Σ_i L_ij w_i
        model.add_linear_constraint(y[j] - mathopt.LinearSum([float(L[i, j]) * w[i + 1] for i in range(j, N)]) == 0.0)
    drift = np.concatenate([[risk_free], mu])
    model.minimize(mathopt.QuadraticSum([yj * yj for yj in y]) * 0.5
                   - mathopt.LinearSum([float(drift[i]) * w[i] for i in range(N + 1)]))
    res = _solve(model, mathopt.SolverType.PDLP, _pdlp_params(time_limit))
    x = _weights(res, w)
    return x, float(drift @ x - 0.5 * x[1:] @ cov @ x[1:])


def bcrp(relatives: np.ndarray) -> tuple[np.ndarray, float]:
    """Best constant-rebalanced portfolio in hindsight over ``relatives[T, M]`` (no costs): argmax_{b∈Δ}
    Σ_t ln(b·x_t), SLSQP with the analytic gradient from the best of the uniform mix and the best single
    asset. Returns (b, Σ_t ln(b·x_t))."""
    x = np.asarray(relatives, dtype=np.float64)
    T, M = x.shape
    if M == 1:
        return np.ones(1), float(np.log(x[:, 0]).sum())

    def f(b):
        return -np.log(x @ b).mean()

    def grad(b):
        return -(x / (x @ b)[:, None]).mean(axis=0)

    best_single = np.zeros(M)
    best_single[int(np.log(x).sum(axis=0).argmax())] = 1.0
    starts = [np.full(M, 1.0 / M), 0.9 * best_single + 0.1 / M]
    best = None
    for b0 in starts:
        res = minimize(f, b0, jac=grad, method="SLSQP", bounds=[(0.0, 1.0)] * M,
                       constraints=[{"type": "eq", "fun": lambda b: b.sum() - 1.0, "jac": lambda b: np.ones(M)}],
                       options={"ftol": 1e-15, "maxiter": 1000})
        b = np.maximum(res.x, 0.0)
        b /= b.sum()
        if best is None or f(b) < f(best):
            best = b
    for cand in (best_single, np.full(M, 1.0 / M)):  # never worse than the starting points
        if f(cand) < f(best):
            best = cand
    return best, float(np.log(x @ best).sum())
