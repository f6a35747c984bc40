"""Named policies of the lot-sizing family (spec §5).

* ``idle`` — never produce (the trivial reference of §5.1; its exact expectation is known).
* ``days_of_supply`` — lowest days-of-supply first: a machine keeps making its current item while the
  item's cover (stock / mean demand, in periods) is below ``cover_high`` and the batch fits under the cap;
  a free machine (least flexible first) switches to the untaken item it can make with the lowest cover
  below ``cover_low`` whose batch fits. (cover_low, cover_high) are tuned by grid search on
  common-random-number scenarios disjoint from the evaluation seeds.
* ``value_iteration`` — the exact optimal policy of a tiny instance (finite-horizon DP, §5.3).
* ``rolling_ev_mip`` — the rolling-horizon expected-value MIP (§5.5): every period, solve the §5.4 model
  over the next ``window`` periods with demand replaced by its mean, from the current stock and setups,
  and apply the first period's decisions (SCIP; window 5, 2 s per solve by default). One MIP per env
  and period: slow, meant for small evaluations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsrl.envs.lot_sizing import solver
from opsrl.envs.lot_sizing.env import LotSizing
from opsrl.policies.base import Policy

TUNING_SEED = 20_001  # evaluation uses small seeds; tuning never sees those scenarios
TUNING_EPISODES = 64
COVER_LOW = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0)
COVER_EXTRA = (0.0, 1.0, 2.0, 4.0, 8.0)
_TUNED: dict[Any, tuple[float, float]] = {}
_DP: dict[Any, solver.DPSolution] = {}


def _key(problem: LotSizing) -> Any:
    return repr(problem.params)


def state_of(policy: Policy, obs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stock, setups and t of the batch: from the observation when it carries them, else from the env
    the policy acts in (compatibility mode observes stock only)."""
    inv, setup, t = policy.problem.decode(obs)
    if setup is None or t is None:
        state = getattr(getattr(policy.env, "unwrapped", policy.env), "state", None)
        if state is None:
            raise ValueError(f"{policy.name} needs the setups and t: use obs_setup=True and obs_time=True")
        setup = state.setup.copy() if setup is None else setup
        t = state.t.copy() if t is None else t
    return inv, setup, t


class IdlePolicy(Policy):
    name = "idle"

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        flat = not isinstance(obs, dict)  # graph observations: one ``counts`` row per env
        batch = np.asarray(obs).reshape(-1, self.problem.obs_dim).shape[0] if flat else len(obs["counts"])
        return np.zeros((batch, self.problem.n_machines), dtype=np.int64)


def days_of_supply_actions(problem: LotSizing, inv: np.ndarray, setup: np.ndarray, cover_low: float,
                           cover_high: float) -> np.ndarray:
    """The rule of the module docstring, vectorised over the batch (machines in a fixed order)."""
    inst = problem.instance
    B = inv.shape[0]
    mean = np.maximum(inst.demand_mean, 1e-9)
    cover = inv / mean[None, :]
    rows = np.arange(B)
    actions = np.zeros((B, problem.n_machines), dtype=np.int64)
    taken = np.zeros((B, problem.n_items + 1), dtype=bool)
    prod, loss, cap = inst.production, inst.setup_loss, inst.max_inventory
    # 1. continue current runs
    for m in range(problem.n_machines):
        s = setup[:, m]
        item = np.maximum(s - 1, 0)
        ok = (s > 0) & (prod[m, item] > 0) & (cover[rows, item] < cover_high) \
            & (inv[rows, item] + prod[m, item] <= cap[item]) & ~taken[rows, s]
        actions[ok, m] = s[ok]
        taken[rows[ok], s[ok]] = True
    # 2. free machines, least flexible first, take the untaken item with the lowest cover
    order = np.argsort((prod > 0).sum(1), kind="stable")
    for m in order:
        free = actions[:, m] == 0
        if not free.any():
            continue
        fits = inv + np.maximum(prod[m] - loss[m], 0)[None, :] <= cap[None, :]
        cand = (prod[m] > 0)[None, :] & ~taken[:, 1:] & (cover < cover_low) & fits
        score = np.where(cand, cover, np.inf)
        best = score.argmin(1)
        ok = free & np.isfinite(score[rows, best])
        actions[ok, m] = best[ok] + 1
        taken[rows[ok], best[ok] + 1] = True
    return actions


class DaysOfSupplyPolicy(Policy):
    name = "days_of_supply"

    def __init__(self, problem: LotSizing, cover_low: float | None = None, cover_high: float | None = None) -> None:
        super().__init__(problem)
        if cover_low is None or cover_high is None:
            cover_low, cover_high = tune_days_of_supply(problem)
        self.cover_low, self.cover_high = float(cover_low), float(cover_high)

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        inv, setup, _ = state_of(self, obs)
        return days_of_supply_actions(self.problem, inv, setup, self.cover_low, self.cover_high)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "cover_low": self.cover_low, "cover_high": self.cover_high}


def simulate(problem: LotSizing, act, episodes: int, seed: int) -> np.ndarray:
    """Total cost per episode of ``act(state) -> actions`` on ``episodes`` scenarios (a batch)."""
    from gymnasium.utils import seeding

    rng = seeding.np_random(seed)[0]
    state = problem.init(episodes, rng)
    active = np.ones(episodes, dtype=np.bool_)
    total = np.zeros(episodes)
    for _ in range(problem.horizon):
        reward, *_ = problem.step(state, act(state), active, rng)
        total -= reward
    return total


def tune_days_of_supply(problem: LotSizing) -> tuple[float, float]:
    key = _key(problem)
    if key not in _TUNED:
        best, arg = np.inf, (COVER_LOW[0], COVER_LOW[0])
        for lo in COVER_LOW:
            for extra in COVER_EXTRA:
                hi = lo + extra
                act = lambda s, lo=lo, hi=hi: days_of_supply_actions(problem, s.inv, s.setup, lo, hi)  # noqa: E731
                cost = simulate(problem, act,
                                TUNING_EPISODES, TUNING_SEED).mean()
                if cost < best - 1e-12:
                    best, arg = cost, (lo, hi)
        _TUNED[key] = arg
    return _TUNED[key]


def dp_solution(problem: LotSizing) -> solver.DPSolution:
    """The finite-horizon DP of the instance (cached); raises ``ValueError`` if too large or in compat mode."""
    if problem.compat:
        raise ValueError("exact DP models the clean mode only (compat='simpleplant' applies infeasible pairs)")
    key = _key(problem)
    if key not in _DP:
        _DP[key] = solver.value_iteration(problem.instance, problem.horizon, exclusive=problem.exclusive)
    return _DP[key]


class ValueIterationPolicy(Policy):
    """The optimal policy of a tiny instance: a lookup in the finite-horizon DP table."""

    name = "value_iteration"

    def __init__(self, problem: LotSizing) -> None:
        super().__init__(problem)
        self.solution = dp_solution(problem)

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        inv, setup, t = state_of(self, obs)
        sol = self.solution
        t = np.clip(t, 0, sol.horizon - 1)  # a terminal observation (autoreset step) acts on nothing
        idx = sol.policy[(t, sol.setup_index(setup), *inv.T)]
        return sol.actions[idx]


class RollingEVPolicy(Policy):
    """Rolling-horizon expected-value MIP (§5.5); ``window`` periods of look-ahead, capped at the horizon."""

    name = "rolling_ev_mip"

    def __init__(self, problem: LotSizing, window: int = 5, time_limit: float = 2.0) -> None:
        super().__init__(problem)
        self.window, self.time_limit = int(window), float(time_limit)

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        inv, setup, t = state_of(self, obs)
        out = np.zeros((inv.shape[0], self.problem.n_machines), dtype=np.int64)
        for b in range(inv.shape[0]):
            window = int(min(self.window, max(self.problem.horizon - t[b], 1)))
            res = solver.plan_expected_value(self.problem.instance, inv[b], setup[b], window,
                                             exclusive=self.problem.exclusive, time_limit=self.time_limit)
            out[b] = res.produce[0]
        return out

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "window": self.window, "time_limit": self.time_limit}
