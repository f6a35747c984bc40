"""References of a ride-sharing instance (``opsrl solve``; ``evaluate`` uses the first).

The reported metric is −(episode reward). With ``reward_mode="platform"`` (and λ_P = 0) that is −served
orders, and the hindsight matching bound (spec §5.3) on the same evaluation scenarios is a true bound on
it. With the OSPO reward no bound is known: the reference is the best of the assignment heuristics on the
same scenarios (common random numbers), and the hindsight served-order bound is reported in ``extra``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from gymnasium.utils import seeding

from opsrl.envs.ride_sharing.env import RideSharing
from opsrl.envs.ride_sharing.solver import hindsight_for_state
from opsrl.eval.reference import Reference

HINDSIGHT_MAX_SCENARIOS = 16
HEURISTICS = ("lsa_reward", "greedy_nearest")


def hindsight_served(problem: RideSharing, episodes: int, seed: int, batch_size: int,
                     time_limit: float | None = None) -> tuple[np.ndarray, str]:
    """Hindsight bound on served orders for the first evaluation scenarios (same seeds as evaluate)."""
    from opsrl.eval.evaluate import scenario_seeds

    values, start, method = [], time.perf_counter(), ""
    n_max = min(episodes, HINDSIGHT_MAX_SCENARIOS)
    for n, chunk_seed in scenario_seeds(seed, episodes, batch_size):
        state = problem.init(n, seeding.np_random(chunk_seed)[0])
        for b in range(n):
            if len(values) >= n_max or (time_limit and time.perf_counter() - start > time_limit):
                break
            res = hindsight_for_state(problem, state, b, lp=True)
            values.append(res["value"])
            method = res["method"]
    return np.array(values), method


def references(problem: RideSharing, env_id: str, preset: str | None, overrides: dict[str, Any],
               episodes: int = 100, seed: int = 0, batch_size: int = 1024,
               time_limit: float | None = None, best_only: bool = False) -> list[Reference]:
    from opsrl.eval.stats import mean_ci95

    p = problem.params
    served, method = hindsight_served(problem, episodes, seed, batch_size, time_limit)
    refs: list[Reference] = []
    if served.size:
        mean, half = mean_ci95(served)
        extra = {"scenarios": int(served.size), "hindsight_served_bound": mean}
        if p.reward_mode == "platform" and p.platform_eta_weight == 0.0:
            refs.append(Reference(-mean, "bound", f"−hindsight served-order bound ({method}) on the first "
                                  f"{served.size} evaluation scenarios, spec §5.3", ci95=half, extra=extra))
            if best_only:
                return refs
    else:
        extra = {}
    from opsrl.eval.evaluate import evaluate

    results = [evaluate(name, env_id, preset, episodes=episodes, seed=seed, overrides=overrides,
                        batch_size=batch_size, reference=None) for name in HEURISTICS]
    best = min(results, key=lambda r: r.mean_cost)
    refs.append(Reference(best.mean_cost, "policy", f"best assignment heuristic: {best.policy}", ci95=best.ci95,
                          extra=extra))
    return refs
