"""The DRAM results table of ``scripts/reproduce.py``: exhaustive optimum vs search baselines at equal budgets.

For each trace × objective: the exact optimum by exhaustive enumeration (cached sweep), the fixed expert and
reference configurations, and random search and the GA at each evaluation budget over several seeds, each as
the objective value of the best configuration found (mean ± 95% CI over seeds) and its % gap (regret) to the
optimum. MAPPO/IPPO/PPO rows are added by their trainers at the same budgets once those exist.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

from opsrl.envs.dram.devices import get_device
from opsrl.envs.dram.search import exhaustive_optimum, genetic_algorithm, objective_values, random_search
from opsrl.envs.dram.simulator import EXPERT_CONFIG, REFERENCE_CONFIG, Evaluator
from opsrl.envs.dram.traces import make_trace
from opsrl.eval.stats import mean_ci95

TRACES = ("stream", "random", "cloud1", "cloud2")
OBJECTIVES = ("latency", "power")


def search_table(trace: str, memory: str = "DDR3-1600", objectives: Iterable[str] = OBJECTIVES,
                 budgets: Iterable[int] = (100, 1000, 3200), seeds: Iterable[int] = (0, 1, 2),
                 n_requests: int | None = None) -> list[dict]:
    """Rows ``{objective, policy, budget, values, mean, ci95, optimum, gap_pct, seconds}`` for one trace."""
    ev = Evaluator(make_trace(trace, n_requests=n_requests), get_device(memory))
    ref = {k: float(v[0]) for k, v in ev.metrics(REFERENCE_CONFIG[None]).items()}
    rows = []
    for objective in objectives:
        start = time.perf_counter()
        opt = exhaustive_optimum(ev, objective, ref)
        rows.append({"objective": objective, "policy": "exhaustive optimum", "budget": opt["n_configurations"],
                     "values": [opt["value"]], "mean": opt["value"], "ci95": 0.0, "optimum": opt["value"],
                     "gap_pct": 0.0, "seconds": opt["sweep_seconds"], "config": opt["config"]})

        def J(actions: np.ndarray, objective: str = objective) -> np.ndarray:
            return objective_values(ev.metrics(actions), objective, ref)

        for name, cfg in (("expert_config", EXPERT_CONFIG), ("reference_config", REFERENCE_CONFIG)):
            v = float(J(cfg[None])[0])
            rows.append({"objective": objective, "policy": name, "budget": 1, "values": [v], "mean": v, "ci95": 0.0,
                         "optimum": opt["value"], "gap_pct": 100 * (v - opt["value"]) / opt["value"], "seconds": 0.0})
        for budget in budgets:
            for name, fn in (("random_search", lambda s, b=budget: random_search(J, b, seed=s)),
                             ("genetic_algorithm", lambda s, b=budget: genetic_algorithm(J, b, seed=s))):
                start = time.perf_counter()
                values = [fn(int(s))["value"] for s in seeds]
                mean, ci = mean_ci95(np.array(values))
                rows.append({"objective": objective, "policy": name, "budget": budget, "values": values,
                             "mean": mean, "ci95": ci, "optimum": opt["value"],
                             "gap_pct": 100 * (mean - opt["value"]) / opt["value"],
                             "seconds": time.perf_counter() - start})
    return rows
