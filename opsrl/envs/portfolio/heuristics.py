"""Classic allocation baselines as named opsrl policies (spec ``portfolio.md`` §5.1).

Every baseline runs through the env's own loop, so dates, initial holdings and the cost model are those
of the agent's run by construction. Policies output target weights and send them through
:meth:`Portfolio.weights_to_action` (logits of the exact weights under the softmax map).

* ``equal_weight`` (UCRP) — 1/N in every risky asset, rebalanced every step.
* ``buy_and_hold`` (UBAH) — 1/N bought at the first step, then the drifted holdings are kept (no trades).
* ``min_variance`` — long-only minimum sample variance of the last ``L_est`` = 252 daily simple returns
  (PDLP, auxiliary-variable form), re-estimated every step.
* ``mean_cvar`` — Rockafellar–Uryasev CVaR_0.95 LP (GLOP) on the same returns with μ̂ᵀw ≥ median_i(μ̂_i).
* ``eg`` — exponentiated gradient, b_{t+1,i} ∝ b_{t,i}·exp(η·x_{t,i}/(b_t·x_t)), η = 0.05, b_1 uniform.
* ``olmar`` — OLMAR-1 (Li & Hoi), moving-average window w = 5, ε = 10.
* ``bcrp`` — best constant-rebalanced portfolio of the episode in hindsight (cash + assets; not
  admissible: it reads the episode's future prices).
* ``kelly_oracle`` (gbm markets) / ``regime_oracle`` (regime markets) — growth-optimal mixes from the true
  generator parameters (not admissible).

Estimation-based and online baselines read the public price history up to the current decision date
through the env's state (``env.state.d``), never a later row; the tests check this by perturbing the
future.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from opsrl.envs.portfolio import solver
from opsrl.envs.portfolio.env import Portfolio
from opsrl.policies.base import Policy

L_EST = 252
EG_ETA = 0.05
OLMAR_WINDOW, OLMAR_EPS = 5, 10.0
CVAR_ALPHA = 0.95


class WeightPolicy(Policy):
    """Base: subclasses return target weights ``[B, N+1]`` (cash first) from the env's state."""

    problem: Portfolio

    def state(self):
        if self.env is None:
            raise RuntimeError(f"{self.name}: call policy.reset(env) before act() (it reads the decision date)")
        return getattr(self.env, "unwrapped", self.env).state

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        return self.problem.weights_to_action(self.weights(self.state()))

    @abc.abstractmethod
    def weights(self, state) -> np.ndarray:
        """Target weights (cash first) for every env of ``state``."""

    def risky(self, x: np.ndarray) -> np.ndarray:
        """Weights over the risky assets -> weights over cash + assets (cash 0)."""
        out = np.zeros((x.shape[0], x.shape[1] + 1))
        out[:, 1:] = x
        return out


class EqualWeightPolicy(WeightPolicy):
    name = "equal_weight"

    def weights(self, state) -> np.ndarray:
        N = self.problem.n_assets
        return self.risky(np.full((state.d.shape[0], N), 1.0 / N))


class BuyAndHoldPolicy(WeightPolicy):
    name = "buy_and_hold"

    def weights(self, state) -> np.ndarray:
        N = self.problem.n_assets
        first = self.risky(np.full((state.d.shape[0], N), 1.0 / N))
        return np.where((state.t == 0)[:, None], first, state.w)


class _PerDatePolicy(WeightPolicy):
    """Target weights that depend only on the decision date: solved once per date and cached."""

    def __init__(self, problem: Portfolio) -> None:
        super().__init__(problem)
        self._cache: dict[int, np.ndarray] = {}

    def weights(self, state) -> np.ndarray:
        out = np.empty((state.d.shape[0], self.problem.n_assets + 1))
        for d in np.unique(state.d):
            d = int(d)
            if d not in self._cache:
                self._cache[d] = self.solve(d)
            out[state.d == d] = self._cache[d]
        return out

    def history_returns(self, d: int) -> np.ndarray:
        """Simple returns of the risky assets on the last ``L_EST`` relatives up to row d (rows ≤ d only)."""
        first = max(1, d - L_EST + 1)
        return self.problem.rel[first:d + 1, 1:] - 1.0

    @abc.abstractmethod
    def solve(self, d: int) -> np.ndarray:
        """Risky-asset weights from the data up to row ``d``."""


class MinVariancePolicy(_PerDatePolicy):
    name = "min_variance"

    def solve(self, d: int) -> np.ndarray:
        r = self.history_returns(d)
        N = self.problem.n_assets
        x = solver.min_variance(r)[0] if r.shape[0] >= 2 else np.full(N, 1.0 / N)
        return np.concatenate([[0.0], x])


class MeanCVaRPolicy(_PerDatePolicy):
    name = "mean_cvar"

    def solve(self, d: int) -> np.ndarray:
        r = self.history_returns(d)
        N = self.problem.n_assets
        if r.shape[0] < 2:
            return np.concatenate([[0.0], np.full(N, 1.0 / N)])
        x = solver.mean_cvar(r, CVAR_ALPHA, float(np.median(r.mean(axis=0))))[0]
        x = np.maximum(x, 0.0)
        return np.concatenate([[0.0], x / x.sum()])


class _OnlinePolicy(WeightPolicy):
    """Online strategies keep their own portfolio b per env (risky assets), restarted at t = 0."""

    def __init__(self, problem: Portfolio) -> None:
        super().__init__(problem)
        self.b: np.ndarray | None = None

    def weights(self, state) -> np.ndarray:
        B, N = state.d.shape[0], self.problem.n_assets
        if self.b is None or self.b.shape[0] != B:
            self.b = np.full((B, N), 1.0 / N)
        fresh = state.t == 0
        self.b[fresh] = 1.0 / N
        go = ~fresh
        if go.any():
            self.b[go] = self.update(self.b[go], state.d[go])
        return self.risky(self.b)

    @abc.abstractmethod
    def update(self, b: np.ndarray, d: np.ndarray) -> np.ndarray:
        """The next portfolios ``b`` of the envs at rows ``d``."""


class EGPolicy(_OnlinePolicy):
    name = "eg"
    eta = EG_ETA

    def update(self, b: np.ndarray, d: np.ndarray) -> np.ndarray:
        x = self.problem.rel[d, 1:]  # the relatives that closed the last step (row d)
        b = b * np.exp(self.eta * x / (b * x).sum(axis=1, keepdims=True))
        return b / b.sum(axis=1, keepdims=True)


class OLMARPolicy(_OnlinePolicy):
    name = "olmar"
    window, eps = OLMAR_WINDOW, OLMAR_EPS

    def update(self, b: np.ndarray, d: np.ndarray) -> np.ndarray:
        from opsrl.envs.portfolio.dynamics import project_simplex

        close = self.problem.market.close
        k = np.arange(self.window)
        rows = np.maximum(d[:, None] - k[None, :], 0)  # v_{t−k}, k = 0..w−1 (never past row d)
        x_pred = (close[rows] / close[d][:, None, :]).mean(axis=1)
        x_bar = x_pred.mean(axis=1, keepdims=True)
        dev = x_pred - x_bar
        norm = (dev**2).sum(axis=1, keepdims=True)
        lam = np.where(norm > 0, np.maximum(0.0, (self.eps - (b * x_pred).sum(axis=1, keepdims=True))
                                            / np.where(norm > 0, norm, 1.0)), 0.0)
        return project_simplex(b + lam * dev)


class BCRPPolicy(WeightPolicy):
    """The episode's best constant-rebalanced mix in hindsight, cash included (no costs in the fit)."""

    name = "bcrp"
    admissible = False

    def __init__(self, problem: Portfolio) -> None:
        super().__init__(problem)
        self._cache: dict[int, np.ndarray] = {}

    def weights(self, state) -> np.ndarray:
        H = self.problem.episode_length
        out = np.empty((state.d.shape[0], self.problem.n_assets + 1))
        for d0 in np.unique(state.d0):
            d0 = int(d0)
            if d0 not in self._cache:
                self._cache[d0] = solver.bcrp(self.problem.rel[d0 + 1:d0 + H + 1])[0]
            out[state.d0 == d0] = self._cache[d0]
        return out


class KellyOraclePolicy(WeightPolicy):
    """Growth-optimal constant mix from the generator's true μ, Σ (gbm markets; spec §5.1)."""

    name = "kelly_oracle"
    admissible = False

    def __init__(self, problem: Portfolio) -> None:
        super().__init__(problem)
        truth = problem.market.truth
        if truth.get("model") != "gbm":
            raise ValueError("kelly_oracle needs a synthetic gbm market (data='gbm')")
        rf = np.log1p(problem.params.risk_free) * problem.params.periods_per_year
        self.target, self.growth = solver.kelly(truth["mu"], truth["cov"], rf)

    def weights(self, state) -> np.ndarray:
        return np.broadcast_to(self.target, (state.d.shape[0], self.target.size)).copy()


class RegimeOraclePolicy(WeightPolicy):
    """Kelly mix of the true regime of the coming day (regime markets; reads the hidden regime)."""

    name = "regime_oracle"
    admissible = False

    def __init__(self, problem: Portfolio) -> None:
        super().__init__(problem)
        t = problem.market.truth
        if t.get("model") != "regime":
            raise ValueError("regime_oracle needs a synthetic regime market (data='regime')")
        rf = np.log1p(problem.params.risk_free) * problem.params.periods_per_year
        beta, se = t["beta"], t["sigma_eps"]
        self.targets = []
        for s in range(2):  # arithmetic drift and covariance of the regime, annual (spec §5.1)
            m, v = t["m"][s], t["v"][s]
            mu = beta * m + 0.5 * (beta**2 * v**2 + se**2)
            cov = np.outer(beta, beta) * v**2 + np.diag(se**2)
            self.targets.append(solver.kelly(mu, cov, rf)[0])
        self.targets = np.array(self.targets)
        self.regime = t["regime"]

    def weights(self, state) -> np.ndarray:
        return self.targets[self.regime[state.d]]


POLICIES = {cls.name: cls for cls in (EqualWeightPolicy, BuyAndHoldPolicy, MinVariancePolicy, MeanCVaRPolicy,
                                      EGPolicy, OLMARPolicy, BCRPPolicy, KellyOraclePolicy, RegimeOraclePolicy)}
