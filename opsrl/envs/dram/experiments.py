"""The DRAM results table of ``scripts/reproduce.py``: exhaustive optimum vs search baselines at equal budgets.

For each trace × objective: the exact optimum by exhaustive enumeration (cached sweep), the fixed expert and
reference configurations, and random search and the GA at each evaluation budget over several seeds, each as
the objective value of the best configuration found (mean ± 95% CI over seeds) and its % gap (regret) to the
optimum. :func:`learner_table` adds PPO (single agent, MultiDiscrete), MAPPO and IPPO (ten knob agents) rows at
the same budgets: each learner trains on the bandit env until it has asked for ``budget`` configurations, and its
row is the best configuration among those ``budget`` simulator calls — the quantity random search and the GA
report.

The exhaustive sweep (cached on disk) is every configuration's simulator output, so every search and learner
here reads its metrics from the sweep (:class:`SweepEvaluator`) instead of re-simulating: the numbers are
identical (the simulator is deterministic and canonicalisation only removes structural no-ops), and the
full protocol takes minutes instead of hours. Simulator calls are still counted one per configuration asked.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from opsrl.envs.dram.devices import get_device
from opsrl.envs.dram.search import (
    SWEEP_METRICS,
    exhaustive_optimum,
    genetic_algorithm,
    objective_values,
    random_search,
    sweep,
)
from opsrl.envs.dram.simulator import EXPERT_CONFIG, REFERENCE_CONFIG, Evaluator, canonicalize, config_ids
from opsrl.envs.dram.traces import make_trace
from opsrl.eval.stats import mean_ci95

TRACES = ("stream", "random", "cloud1", "cloud2")
OBJECTIVES = ("latency", "power")


def search_table(trace: str, memory: str = "DDR3-1600", objectives: Iterable[str] = OBJECTIVES,
                 budgets: Iterable[int] = (100, 1000, 3200), seeds: Iterable[int] = (0, 1, 2),
                 n_requests: int | None = None) -> list[dict]:
    """Rows ``{objective, policy, budget, values, mean, ci95, optimum, gap_pct, seconds}`` for one trace."""
    ev = SweepEvaluator(Evaluator(make_trace(trace, n_requests=n_requests), get_device(memory)))
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


class SweepEvaluator(Evaluator):
    """An :class:`Evaluator` whose metrics come from the cached exhaustive sweep of its trace (computed once if
    absent). Every configuration asked for is logged in order (``log``), so a learner's best configuration
    within its first B simulator calls can be read back."""

    def __init__(self, base: Evaluator) -> None:
        self.__dict__.update(base.__dict__)
        sw = sweep(base)
        ids = config_ids(sw.space)
        self._order = np.argsort(ids)
        self._ids = ids[self._order]
        self._table = {k: sw.metrics[k][self._order] for k in SWEEP_METRICS}
        self.log: list[np.ndarray] = []

    def metrics(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        a = canonicalize(np.atleast_2d(np.asarray(actions, dtype=np.int64)), self.read_only)
        self.calls += a.shape[0]
        ids = config_ids(a)
        pos = np.minimum(np.searchsorted(self._ids, ids), len(self._ids) - 1)
        if not np.array_equal(self._ids[pos], ids):
            raise RuntimeError("SweepEvaluator: a configuration is missing from the sweep")
        self.log.append(a)
        return {k: v[pos] for k, v in self._table.items()}

    def logged(self) -> np.ndarray:
        return np.concatenate(self.log) if self.log else np.zeros((0, 10), dtype=np.int64)


LEARNERS = ("ppo", "mappo", "ippo")
# One bandit episode is one simulator call; 20 per update divides both budgets (1,000 and 3,200). A rollout of
# num_steps=2 is one evaluation and one autoreset per env. Learning rate 3e-3 and entropy 0.01 (not tuned: they
# reach the optimum of the 1,000-request random trace within 1,000 calls). MAPPO's critic is V(state()) without
# the agent id: the team reward is shared, and with the id its input would equal IPPO's (an agent's observation
# is state() + its one-hot), making the two runs identical.
LEARNER_OPTIONS: dict[str, dict[str, Any]] = {
    "ppo": dict(num_envs=20, num_steps=2, learning_rate=3e-3, ent_coef=0.01, num_minibatches=1,
                update_epochs=4, eval_episodes=0, checkpoint_every=10**9),
    "mappo": dict(num_envs=20, num_steps=2, learning_rate=3e-3, ent_coef=0.01, num_minibatches=1,
                  update_epochs=4, eval_episodes=0, checkpoint_every=10**9, critic="centralized",
                  critic_agent_id=False),
    "ippo": dict(num_envs=20, num_steps=2, learning_rate=3e-3, ent_coef=0.01, num_minibatches=1,
                 update_epochs=4, eval_episodes=0, checkpoint_every=10**9, critic="decentralized"),
}


def learner_run(algo: str, trace: str, objective: str, budget: int, seed: int, evaluator: SweepEvaluator,
                n_requests: int | None = None, **options: Any) -> dict[str, Any]:
    """Train ``algo`` on ``archgym_ddr3_<trace>`` until it has made ``budget`` simulator calls; the best
    configuration among them and its objective J (lower is better)."""
    from opsrl.algos.mappo import MAPPO, MAPPOConfig
    from opsrl.algos.ppo import PPO, PPOConfig

    preset = f"archgym_ddr3_{trace}"
    overrides: dict[str, Any] = {"objective": objective}
    if n_requests is not None:
        overrides["n_requests"] = n_requests
    opts = {**LEARNER_OPTIONS[algo], **options, "total_timesteps": budget}
    evaluator.log.clear()
    with tempfile.TemporaryDirectory(prefix=f"opsrl-dram-{algo}-") as out:
        if algo == "ppo":
            run = PPO("opsrl/DramController-v0", preset, overrides, PPOConfig(**opts), seed, out)
            problems = [run.envs.problem]
        else:
            run = MAPPO("opsrl.marl.dram_controller_v0", preset, overrides, MAPPOConfig(**opts), seed, out)
            problems = [e.problem for e in run.envs.envs]
        for problem in problems:  # every env copy asks the shared, logging sweep evaluator
            if problem.evaluator.key != evaluator.key:
                raise RuntimeError(f"{preset}: the env's trace differs from the table's ({problem.evaluator.key})")
            problem._evaluators[problem.params.trace_seed] = evaluator
        start = time.perf_counter()
        run.run(budget_seconds=math.inf)
        seconds = time.perf_counter() - start
    asked = evaluator.logged()[:budget]
    ref = {k: float(v[0]) for k, v in evaluator.metrics(REFERENCE_CONFIG[None]).items()}
    J = objective_values(evaluator.metrics(asked), objective, ref)
    i = int(np.argmin(J))
    return {"config": asked[i].tolist(), "value": float(J[i]), "evaluations": int(asked.shape[0]),
            "seconds": seconds}


def learner_table(trace: str, objectives: Iterable[str] = OBJECTIVES, budgets: Iterable[int] = (1000, 3200),
                  seeds: Iterable[int] = (0, 1, 2), n_requests: int | None = None,
                  algos: Iterable[str] = LEARNERS, memory: str = "DDR3-1600",
                  progress: Callable[[str], None] | None = None) -> list[dict]:
    """Rows like :func:`search_table`'s for the learners (``policy`` = ppo, mappo, ippo)."""
    ev = SweepEvaluator(Evaluator(make_trace(trace, n_requests=n_requests), get_device(memory)))
    ref = {k: float(v[0]) for k, v in ev.metrics(REFERENCE_CONFIG[None]).items()}
    rows = []
    for objective in objectives:
        opt = exhaustive_optimum(ev, objective, ref)["value"]
        for algo in algos:
            for budget in budgets:
                runs = [learner_run(algo, trace, objective, budget, int(s), ev, n_requests) for s in seeds]
                if any(r["evaluations"] < budget for r in runs):
                    raise RuntimeError(f"{algo} stopped before {budget} simulator calls")
                values = [r["value"] for r in runs]
                mean, ci = mean_ci95(np.array(values))
                rows.append({"objective": objective, "policy": algo, "budget": budget, "values": values,
                             "mean": mean, "ci95": ci, "optimum": opt, "gap_pct": 100 * (mean - opt) / opt,
                             "seconds": float(sum(r["seconds"] for r in runs))})
                if progress is not None:
                    progress(f"{trace} {objective} {algo} ({budget} evals): {mean:.2f} ± {ci:.2f}, "
                             f"gap {rows[-1]['gap_pct']:.2f}%")
    return rows
