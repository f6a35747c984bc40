"""References of a lot-sizing instance, best first: the exact DP optimum (tiny instances), the best
heuristic on the evaluation scenarios, the exact always-idle expectation, and a perfect-information
bound on the evaluation scenarios (a lower bound: it knows the future, so it ranks last)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from gymnasium.utils import seeding

from opsrl.envs.lot_sizing import solver
from opsrl.envs.lot_sizing.env import LotSizing
from opsrl.eval.reference import Reference

PI_MAX_SCENARIOS = 16
PI_TIME_LIMIT = 10.0  # seconds per scenario when no limit is given (method="mip")
PI_ITERATIONS = 100  # subgradient steps of the Lagrangian bound (~5 s per pdppo_15x5 scenario)
PI_SOLVE_SECONDS = 180.0  # the bound's budget in references() when none is given (checked between scenarios)
PI_EXACT_MACHINES = 5  # machines per item the Lagrangian DP tracks exactly at most (the rest are pooled)


def dp_reference(problem: LotSizing) -> Reference | None:
    from opsrl.envs.lot_sizing.heuristics import dp_solution

    try:
        sol = dp_solution(problem)
    except ValueError:
        return None
    value = solver.dp_start_value(sol, problem.instance, bool(problem.params.random_reset))
    return Reference(value, "optimum", "exact finite-horizon DP over (setups, stock), spec §5.3")


def idle_reference(problem: LotSizing) -> Reference | None:
    if problem.compat:
        return None  # identical in compat mode, but keep the references to the clean model
    value, _, _ = solver.idle_expected_cost(problem.instance, problem.horizon, bool(problem.params.random_reset))
    return Reference(value, "policy", "always idle, exact expectation (spec §5.1)")


def wait_and_see_reference(problem: LotSizing, episodes: int, seed: int, batch_size: int,
                           time_limit: float | None = None, max_scenarios: int = PI_MAX_SCENARIOS,
                           method: str = "auto", iterations: int = PI_ITERATIONS,
                           exact_machines: int = PI_EXACT_MACHINES) -> Reference | None:
    """Mean over the first evaluation scenarios (same seeds as ``evaluate``) of a valid lower bound on each
    scenario's perfect-information (wait-and-see) optimum: a lower bound on every policy's expected cost.

    ``method="lagrangian"`` (and ``"auto"``): :func:`solver.lagrangian_bound` (machine capacities dualised, one
    exact DP per item, ``iterations`` subgradient steps; up to ``exact_machines`` machines per item tracked
    exactly, the others pooled). ``method="mip"``: the CP-SAT dual bound of the MIP, ``PI_TIME_LIMIT`` s per
    scenario (tight on short horizons, near 0 at T = 100). ``time_limit`` bounds the whole computation (the
    Lagrangian bound checks it between scenarios; at least one is done). Clean mode only.
    """
    from opsrl.eval.evaluate import scenario_seeds
    from opsrl.eval.stats import mean_ci95

    if method not in ("auto", "lagrangian", "mip"):
        raise ValueError(f"method={method!r} is invalid: 'auto', 'lagrangian' or 'mip'")
    if problem.compat:
        return None
    if method == "auto":
        method = "lagrangian"
    n_max = min(episodes, max_scenarios)
    bounds, solved_bounds, values, start, skipped = [], [], [], time.perf_counter(), 0
    per_solve = PI_TIME_LIMIT if time_limit is None else max(min(PI_TIME_LIMIT, time_limit / n_max), 0.5)
    for n, chunk_seed in scenario_seeds(seed, episodes, batch_size):
        state = problem.init(n, seeding.np_random(chunk_seed)[0])
        for b in range(n):
            if len(bounds) >= n_max or (time_limit and time.perf_counter() - start > time_limit):
                break
            if method == "lagrangian":
                lb = solver.lagrangian_bound(problem.instance, state.demand[b], state.inv[b], state.setup[b],
                                             iterations=iterations, exact_machines=exact_machines)
                bounds.append(lb.bound)
                continue
            try:
                res = solver.wait_and_see(problem.instance, state.demand[b], state.inv[b], state.setup[b],
                                          exclusive=problem.exclusive, time_limit=per_solve, clean=not problem.compat)
            except RuntimeError:  # no solution within the time limit (large T = 100 models on a loaded machine):
                # costs are >= 0, so 0 is a valid (trivial) bound; skipping the scenario would bias the sample
                skipped += 1
                bounds.append(0.0)
                continue
            bounds.append(res.bound)
            solved_bounds.append(res.bound)
            values.append(res.value)
    if not bounds:
        return None
    mean, half = mean_ci95(np.array(bounds))
    if method == "lagrangian":
        return Reference(mean, "bound", f"perfect-information Lagrangian bound (machine capacities dualised, exact "
                         f"DP per item, {iterations} subgradient steps) on the first {len(bounds)} evaluation "
                         "scenarios, spec §5.4", ci95=half, extra={"scenarios": len(bounds), "skipped": 0})
    incumbent = float(np.mean(values)) if values else float("nan")
    solved_bound = float(np.mean(solved_bounds)) if solved_bounds else float("nan")
    return Reference(mean, "bound", f"perfect-information MIP (CP-SAT dual bounds) on the first {len(bounds)} "
                     f"evaluation scenarios ({skipped} without a solution in time count with the trivial bound 0), "
                     "spec §5.4", ci95=half,
                     extra={"scenarios": len(bounds), "skipped": skipped, "mean_incumbent": incumbent,
                            "mean_gap": incumbent - solved_bound})


def heuristic_reference(env_id: str, preset: str | None, overrides: dict[str, Any], episodes: int, seed: int,
                        batch_size: int) -> Reference:
    from opsrl.eval.evaluate import evaluate

    res = evaluate("days_of_supply", env_id, preset, episodes=episodes, seed=seed, overrides=overrides,
                   batch_size=batch_size, reference=None)
    return Reference(res.mean_cost, "policy", "tuned days-of-supply heuristic on the evaluation scenarios",
                     ci95=res.ci95)


def references(problem: LotSizing, env_id: str, preset: str | None, overrides: dict[str, Any],
               episodes: int = 100, seed: int = 0, batch_size: int = 1024, time_limit: float | None = None,
               best_only: bool = False) -> list[Reference]:
    refs: list[Reference] = []
    opt = None if problem.compat else dp_reference(problem)
    if opt is not None:
        refs.append(opt)
        if best_only:
            return refs
    refs.append(heuristic_reference(env_id, preset, overrides, episodes, seed, batch_size))
    if best_only:
        return refs
    idle = idle_reference(problem)
    if idle is not None:
        refs.append(idle)
    # `opsrl solve` without --time-limit: a few minutes of bound, not 16 scenarios at any cost (~20 min on 25x15)
    pi = wait_and_see_reference(problem, episodes, seed, batch_size,
                                PI_SOLVE_SECONDS if time_limit is None else time_limit)
    if pi is not None:
        refs.append(pi)
    return refs
