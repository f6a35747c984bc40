"""References of a DRAM controller instance, best first: the exact optimum by exhaustive enumeration (spec §5.1),
the data-bus lower bound on the makespan (§5.2), and the fixed expert / reference configurations."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from opsrl.envs.dram.env import DramController
from opsrl.envs.dram.search import OBJECTIVE_UNITS, cache_dir, exhaustive_optimum
from opsrl.envs.dram.simulator import EXPERT_CONFIG, REFERENCE_CONFIG, SIM_VERSION, canonical_space
from opsrl.eval.reference import Reference

# conservative simulator speed for deciding whether a sweep fits a time limit (requests/s on all cores)
SWEEP_REQUESTS_PER_S = 3e6


def sweep_cached(problem: DramController) -> bool:
    return os.path.isfile(os.path.join(cache_dir(), f"sweep-{problem.evaluator.key}-v{SIM_VERSION}.npz"))


def exhaustive_reference(problem: DramController, time_limit: float | None = None) -> Reference | None:
    """The exact optimum of the instance's objective; ``None`` if the sweep is not cached and would not fit
    ``time_limit`` seconds (estimated), or the trace is resampled per episode."""
    if problem.params.resample_trace:
        return None
    n = canonical_space(problem.trace.read_only).shape[0]
    if time_limit is not None and not sweep_cached(problem):
        estimate = n * len(problem.trace) / (SWEEP_REQUESTS_PER_S * max(1, (os.cpu_count() or 1) // 2))
        if estimate > time_limit:
            return None
    res = exhaustive_optimum(problem.evaluator, problem.params.objective, problem.reference_metrics)
    return Reference(res["value"], "optimum",
                     f"exhaustive enumeration of {n:,} canonical configurations (all 442,368 up to structural "
                     f"no-ops), {problem.params.objective} in {OBJECTIVE_UNITS[problem.params.objective]}, spec §5.1",
                     extra={"config": res["config"], "sweep_seconds": res["sweep_seconds"], "cached": res["cached"],
                            "n_optimal": res["n_optimal"]})


def config_reference(problem: DramController, config: np.ndarray, label: str) -> Reference:
    J = float(problem.objective(problem.evaluate(config[None]))[0])
    return Reference(J, "policy", label, extra={"config": config.tolist()})


def references(problem: DramController, env_id: str, preset: str | None, overrides: dict[str, Any],
               episodes: int = 100, seed: int = 0, batch_size: int = 1024, time_limit: float | None = None,
               best_only: bool = False) -> list[Reference]:
    refs: list[Reference] = []
    ex = exhaustive_reference(problem, time_limit)
    if ex is not None:
        refs.append(ex)
        if best_only:
            return refs
    if problem.params.objective == "latency":
        refs.append(Reference(problem.bus_bound_ns, "bound",
                              "data-bus bound (tRCD + RL + N·BL/2)·tCK, spec §5.2"))
    if problem.params.resample_trace:  # the fixed configurations on the evaluation scenarios
        from opsrl.eval.evaluate import evaluate

        for name in ("expert_config", "reference_config"):
            r = evaluate(name, env_id, preset, episodes=episodes, seed=seed, overrides=overrides,
                         batch_size=batch_size, reference=None)
            refs.append(Reference(r.mean_cost, "policy", f"{name} on the evaluation scenarios", ci95=r.ci95))
    else:
        refs.append(config_reference(problem, EXPERT_CONFIG, "expert configuration (DRAMSys fr_fcfs.json)"))
        refs.append(config_reference(problem, REFERENCE_CONFIG, "reference configuration (ArchGym policy.json)"))
    order = {"optimum": 0, "bound": 1, "policy": 2}
    return sorted(refs, key=lambda r: (order[r.kind], r.value if r.kind == "policy" else 0.0))
