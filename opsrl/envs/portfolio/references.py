"""References of a portfolio instance (``opsrl solve`` / the gap in ``opsrl eval``).

On the evaluation scenarios of :func:`opsrl.eval.evaluate` (same seeds, so the same start dates), with the
family's metric (``episode_cost``: minus the annualised log return under the default reward):

1. ``bcrp`` — the best constant-rebalanced portfolio of each episode in hindsight (cash + assets, no
   costs): the best fixed mix any allocation rule could have held; adaptive policies can exceed it, so
   it is reported as ``best_known``, not as a bound.
2. ``best-asset switching`` — Σ_t ln max_i y_{t,i}: holding, each day, the asset that will do best, at no
   cost. A true upper bound for every policy (ρ_t = ln μ + ln(y·w) ≤ ln max_i y_i since μ ≤ 1), and loose.
3. ``equal_weight`` evaluated with costs (the bar to clear, spec §6).

Other reward modes score episodes by Sharpe-type metrics, for which only the equal-weight policy's score is
a comparable reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.utils import seeding

from opsrl.envs.portfolio import solver
from opsrl.envs.portfolio.env import Portfolio
from opsrl.eval.reference import Reference
from opsrl.eval.stats import mean_ci95


def scenario_starts(problem: Portfolio, episodes: int, seed: int, batch_size: int) -> np.ndarray:
    """Start rows of the evaluation episodes of ``evaluate(..., episodes, seed, batch_size)``."""
    from opsrl.eval.evaluate import scenario_seeds

    starts = [problem.init(n, seeding.np_random(s)[0]).d0 for n, s in scenario_seeds(seed, episodes, batch_size)]
    return np.concatenate(starts)


def hindsight_references(problem: Portfolio, episodes: int, seed: int, batch_size: int) -> list[Reference]:
    H, P = problem.episode_length, problem.params.periods_per_year
    starts = scenario_starts(problem, episodes, seed, batch_size)
    cache: dict[int, tuple[float, float]] = {}
    bcrp_cost, switch_cost = [], []
    for d0 in starts.tolist():
        if d0 not in cache:
            x = problem.rel[d0 + 1:d0 + H + 1]
            cache[d0] = (-P / H * solver.bcrp(x)[1], -P / H * np.log(x.max(axis=1)).sum())
        bcrp_cost.append(cache[d0][0])
        switch_cost.append(cache[d0][1])
    b_mean, b_ci = mean_ci95(np.array(bcrp_cost))
    s_mean, s_ci = mean_ci95(np.array(switch_cost))
    unique = len(cache)
    return [
        Reference(b_mean, "best_known", "BCRP in hindsight per evaluation episode (cash + assets, no costs; "
                  "best constant mix, not a bound on adaptive policies), −annualised log return",
                  ci95=b_ci, extra={"episodes": len(starts), "distinct_starts": unique}),
        Reference(s_mean, "bound", "best-asset switching in hindsight, no costs (upper bound on any policy), "
                  "−annualised log return", ci95=s_ci, extra={"episodes": len(starts)}),
    ]


def references(problem: Portfolio, env_id: str, preset: str | None, overrides: dict[str, Any],
               episodes: int = 100, seed: int = 0, batch_size: int = 1024,
               time_limit: float | None = None, best_only: bool = False) -> list[Reference]:
    refs: list[Reference] = []
    p = problem.params
    if p.reward == "log_return" and p.turnover_penalty == 0.0:
        refs = hindsight_references(problem, episodes, seed, batch_size)
        if best_only:
            return refs[:1]
    from opsrl.eval.evaluate import evaluate

    res = evaluate("equal_weight", env_id, preset, episodes=episodes, seed=seed, overrides=overrides,
                   batch_size=batch_size, reference=None)
    refs.append(Reference(res.mean_cost, "policy", "equal_weight (1/N rebalanced daily, with costs) on the "
                          "same episodes", ci95=res.ci95))
    return refs
