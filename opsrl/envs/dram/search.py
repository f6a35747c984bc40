"""Exact optimum and search baselines over the controller design space (spec §5.1).

* :func:`sweep` — every canonical configuration (166,464; 73,984 on read-only traces) simulated in parallel
  batches; the makespan, energy and power of each are cached on disk, keyed by trace content, device and
  simulator version, under ``$OPSRL_DRAM_CACHE`` (default ``~/.cache/opsrl/dram/``). Every objective's exact
  argmin then costs nothing (:func:`exhaustive_optimum`). Canonicalisation only removes structural no-ops, so the
  argmin over canonical configurations is the argmin over all 442,368.
* :func:`random_search` — best of B uniform draws over MultiDiscrete [4,3,3,8,2,2,4,4,3,8].
* :func:`genetic_algorithm` — ArchGym's GA budget (population 32 × 100 generations = 3,200 evaluations,
  per-gene mutation probability 0.1): tournament selection (size 3), two-point crossover, elitism of one.

An *evaluation* is one configuration asked of the simulator (repeats included, as ArchGym counts them); the
memo of :class:`~opsrl.envs.dram.simulator.Evaluator` only avoids re-running identical ones.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable

import numpy as np

from opsrl.core.errors import ParameterError
from opsrl.envs.dram import dynamics as D
from opsrl.envs.dram.simulator import (
    NVEC,
    REFERENCE_CONFIG,
    SIM_VERSION,
    Evaluator,
    canonical_space,
    metrics_from_records,
    run_records,
)

CACHE_ENV = "OPSRL_DRAM_CACHE"
SWEEP_CHUNK = 2048
SWEEP_METRICS = ("total_time_ns", "energy_uj", "avg_power_mw", "mean_latency_ns", "p99_latency_ns")


def cache_dir() -> str:
    return os.path.expanduser(os.environ.get(CACHE_ENV) or os.path.join("~", ".cache", "opsrl", "dram"))


def objective_values(metrics: dict[str, np.ndarray], objective: str, ref: dict[str, float]) -> np.ndarray:
    """J of each configuration (lower is better): latency = makespan ns; power = average power mW;
    energy_delay = energy µJ × makespan µs; both = ½·makespan/ref + ½·power/ref (ref = reference configuration)."""
    T = np.asarray(metrics["total_time_ns"], dtype=np.float64)
    P = np.asarray(metrics["avg_power_mw"], dtype=np.float64)
    if objective == "latency":
        return T
    if objective == "power":
        return P
    if objective == "energy_delay":
        return np.asarray(metrics["energy_uj"], dtype=np.float64) * T / 1000.0
    if objective == "both":
        return 0.5 * T / ref["total_time_ns"] + 0.5 * P / ref["avg_power_mw"]
    raise ParameterError(f"objective={objective!r} is invalid: must be one of latency, power, energy_delay, both")


OBJECTIVE_UNITS = {"latency": "ns", "power": "mW", "energy_delay": "µJ·µs", "both": "× reference"}


@dataclasses.dataclass
class Sweep:
    """Metrics of every configuration of ``space`` on one (trace, device)."""

    space: np.ndarray  # int64 [M, 10]
    metrics: dict[str, np.ndarray]
    seconds: float
    cpu_seconds: float  # process CPU time of the sweep (all threads): wall × cores on an idle machine
    cached: bool
    path: str | None

    def optimum(self, objective: str, ref: dict[str, float]) -> tuple[np.ndarray, float]:
        J = objective_values(self.metrics, objective, ref)
        i = int(np.argmin(J))
        return self.space[i].copy(), float(J[i])


def sweep(evaluator: Evaluator, space: np.ndarray | None = None, use_cache: bool = True,
          progress: Callable[[int, int], None] | None = None) -> Sweep:
    """Simulate every configuration of ``space`` (default: the canonical space of the trace) in parallel batches.
    The full canonical sweep is cached on disk; reduced spaces are not."""
    full = space is None
    if full:
        space = canonical_space(evaluator.read_only)
    space = np.ascontiguousarray(space, dtype=np.int64)
    path = os.path.join(cache_dir(), f"sweep-{evaluator.key}-v{SIM_VERSION}.npz") if full else None
    if full and use_cache and os.path.isfile(path):
        with np.load(path) as z:
            if np.array_equal(z["space"], space):
                return Sweep(space, {k: z[k] for k in SWEEP_METRICS}, float(z["seconds"]),
                             float(z["cpu_seconds"]) if "cpu_seconds" in z else float("nan"), True, path)
    start, cpu_start = time.perf_counter(), time.process_time()
    out = np.zeros((space.shape[0], D.RECORD_WIDTH))
    for lo in range(0, space.shape[0], SWEEP_CHUNK):
        out[lo:lo + SWEEP_CHUNK] = run_records(evaluator.dec, evaluator.device, space[lo:lo + SWEEP_CHUNK],
                                               parallel=True)
        if progress is not None:
            progress(min(lo + SWEEP_CHUNK, space.shape[0]), space.shape[0])
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    m = metrics_from_records(out, evaluator.device, len(evaluator.trace))
    metrics = {k: m[k] for k in SWEEP_METRICS}
    if full and use_cache:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp.npz"
        np.savez_compressed(tmp, space=space, seconds=seconds, cpu_seconds=cpu_seconds, **metrics)
        os.replace(tmp, path)  # atomic: parallel runs never read a half-written file
    return Sweep(space, metrics, seconds, cpu_seconds, False, path)


def exhaustive_optimum(evaluator: Evaluator, objective: str, ref: dict[str, float] | None = None,
                       use_cache: bool = True, space: np.ndarray | None = None) -> dict:
    """The exact optimum of ``objective`` (argmin over every configuration) with its metrics, the sweep time
    and where the sweep is cached. A JSON summary per (trace, objective) is written next to the sweep."""
    if ref is None:
        ref = {k: float(v[0]) for k, v in evaluator.metrics(REFERENCE_CONFIG[None]).items()}
    sw = sweep(evaluator, space=space, use_cache=use_cache)
    config, value = sw.optimum(objective, ref)
    J = objective_values(sw.metrics, objective, ref)
    result = {"objective": objective, "value": value, "config": config.tolist(),
              "n_configurations": int(sw.space.shape[0]), "n_optimal": int(np.sum(J <= value * (1 + 1e-12))),
              "sweep_seconds": sw.seconds, "sweep_cpu_seconds": sw.cpu_seconds, "cached": sw.cached,
              "trace_key": evaluator.key,
              "sim_version": SIM_VERSION, "metrics": {k: float(v[np.argmin(J)]) for k, v in sw.metrics.items()}}
    if sw.path is not None:
        with open(sw.path.replace(".npz", f"-{objective}.json"), "w") as fh:
            json.dump(result, fh, indent=1)
    return result


def _draw(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.stack([rng.integers(0, k, size=n) for k in NVEC], axis=1).astype(np.int64)


def random_search(evaluate: Callable[[np.ndarray], np.ndarray], budget: int, seed: int = 0) -> dict:
    """Best of ``budget`` uniform configurations; ``evaluate(actions[B, 10]) -> J[B]``."""
    if budget < 1:
        raise ParameterError(f"budget={budget!r} is invalid: must be >= 1")
    rng = np.random.default_rng(seed)
    cand = _draw(rng, budget)
    J = evaluate(cand)
    i = int(np.argmin(J))
    return {"config": cand[i].tolist(), "value": float(J[i]), "evaluations": budget,
            "best_so_far": np.minimum.accumulate(J)}


def genetic_algorithm(evaluate: Callable[[np.ndarray], np.ndarray], budget: int = 3200, population: int = 32,
                      mutation: float = 0.1, seed: int = 0, tournament: int = 3) -> dict:
    """Integer GA over the knob indices with ``budget`` evaluations (``population`` per generation)."""
    if budget < 1 or population < 2:
        raise ParameterError(f"budget={budget!r}, population={population!r} are invalid: need budget >= 1, "
                             "population >= 2")
    if not 0.0 <= mutation <= 1.0:
        raise ParameterError(f"mutation={mutation!r} is invalid: must be in [0, 1]")
    rng = np.random.default_rng(seed)
    pop = _draw(rng, min(population, budget))
    used, trace = 0, []
    best_x, best_j = None, np.inf
    while True:
        J = evaluate(pop)
        used += pop.shape[0]
        trace.append(J)
        i = int(np.argmin(J))
        if J[i] < best_j:
            best_x, best_j = pop[i].copy(), float(J[i])
        if used >= budget:
            break
        n = min(population, budget - used)
        # tournament selection of 2n parents
        contenders = rng.integers(0, pop.shape[0], size=(2 * n, tournament))
        parents = pop[contenders[np.arange(2 * n), np.argmin(J[contenders], axis=1)]]
        a, b = parents[:n], parents[n:]
        cut = np.sort(rng.integers(0, 11, size=(n, 2)), axis=1)
        genes = np.arange(10)
        inside = (genes >= cut[:, :1]) & (genes < cut[:, 1:])
        child = np.where(inside, b, a)
        mutate = rng.random((n, 10)) < mutation
        child = np.where(mutate, _draw(rng, n), child)
        child[0] = best_x  # elitism: the best configuration so far survives
        pop = child
    J_all = np.concatenate(trace)[:budget]
    return {"config": best_x.tolist(), "value": best_j, "evaluations": int(min(used, budget)),
            "best_so_far": np.minimum.accumulate(J_all)}
