"""References of a job-shop preset, best first (``opsrl solve`` prints them; ``evaluate`` uses the first).

* one named instance: the best-known upper bound (kind ``optimum`` when the best-known lower bound equals
  it, else ``best_known``; spec §3.4–3.5, version scheduleopt-2026), then — unless ``best_only`` — CP-SAT
  within ``time_limit`` (default 60 s): ``optimum`` when proven, else ``policy`` with its bound in ``extra``,
  and the best-known lower bound as ``bound``;
* an instance list (``taillard_15x15``): the mean best-known UB over the list (episodes draw instances
  uniformly, so this is the expected reference);
* random instances: CP-SAT on the first evaluation scenarios (the instances ``evaluate`` draws with the
  same ``seed``/``batch_size``), at most :data:`MAX_SCENARIOS` of them, ``time_limit`` (default 10 s) each.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.utils import seeding

from opsrl.envs.job_shop import instances as inst
from opsrl.envs.job_shop.env import JobShop
from opsrl.envs.job_shop.solver import cpsat_solve
from opsrl.eval.reference import Reference

MAX_SCENARIOS = 16


def known_reference(name: str) -> Reference | None:
    b = inst.bounds(name)
    if b is None:
        return None
    kind = "optimum" if b["optimal"] else "best_known"
    return Reference(float(b["ub"]), kind, f"{name}: {b['source']}", extra={"lb": b["lb"], "ub": b["ub"]})


def cpsat_reference(durations: np.ndarray, machines: np.ndarray, time_limit: float, label: str) -> Reference:
    res = cpsat_solve(durations, machines, time_limit=time_limit)
    if res.makespan is None:
        return Reference(float(res.bound), "bound", f"CP-SAT bound ({label}, no schedule in {time_limit:g} s)",
                         extra=res.to_dict())
    kind = "optimum" if res.optimal else "policy"
    return Reference(float(res.makespan), kind, f"CP-SAT {res.status.lower()} ({label}, {time_limit:g} s, "
                     f"{res.num_workers} workers)", extra=res.to_dict())


def references(problem: JobShop, env_id: str, preset: str | None, overrides: dict[str, Any],
               episodes: int = 100, seed: int = 0, batch_size: int = 1024, time_limit: float | None = None,
               best_only: bool = False) -> list[Reference]:
    p = problem.params
    names = p.instance_names()
    refs: list[Reference] = []
    if len(names) == 1:
        known = known_reference(names[0])
        if known is not None:
            refs.append(known)
            if best_only:
                return refs
            if known.kind != "optimum":
                refs.append(Reference(float(known.extra["lb"]), "bound", known.source))
        x = problem.fixed[0]
        refs.append(cpsat_reference(x.durations, x.machines, time_limit or 60.0, names[0]))
    elif len(names) > 1:
        found = [inst.bounds(name) for name in names]
        if all(b is not None for b in found):
            ubs = [b["ub"] for b in found]
            kind = "optimum" if all(b["optimal"] for b in found) else "best_known"
            refs.append(Reference(float(np.mean(ubs)), kind, f"mean best-known UB of {len(names)} instances "
                                  "(episodes draw them uniformly)", extra={"ub": dict(zip(names, ubs, strict=True))}))
    elif p.durations is not None:
        refs.append(cpsat_reference(problem.fixed[0].durations, problem.fixed[0].machines, time_limit or 60.0,
                                    "user instance"))
    else:
        refs.append(_random_reference(problem, episodes, seed, batch_size, time_limit or 10.0))
    order = {"optimum": 0, "best_known": 1, "policy": 2, "bound": 3}
    refs.sort(key=lambda r: order[r.kind])
    return refs[:1] if best_only else refs


def _random_reference(problem: JobShop, episodes: int, seed: int, batch_size: int,
                      time_limit: float) -> Reference:
    """CP-SAT mean makespan on the first evaluation scenarios (common random numbers with ``evaluate``)."""
    from opsrl.eval.evaluate import scenario_seeds

    values, proven, bounds = [], 0, []
    for n, chunk_seed in scenario_seeds(seed, episodes, batch_size):
        state = problem.init(n, seeding.np_random(chunk_seed)[0])
        for b in range(n):
            if len(values) >= MAX_SCENARIOS:
                break
            sched = problem.schedule(state, b)
            res = cpsat_solve(sched["durations"], sched["machines"], time_limit=time_limit)
            values.append(res.makespan if res.makespan is not None else np.nan)
            bounds.append(res.bound)
            proven += int(res.optimal)
    covered = len(values) == episodes
    kind = "optimum" if covered and proven == len(values) else "policy"
    return Reference(float(np.mean(values)), kind,
                     f"CP-SAT mean on the first {len(values)} evaluation scenarios ({proven} proven optimal, "
                     f"{time_limit:g} s each)", extra={"scenarios": len(values), "proven": proven,
                                                        "mean_bound": float(np.mean(bounds))})
