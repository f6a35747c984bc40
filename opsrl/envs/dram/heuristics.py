"""Named policies of the DRAM controller env (spec §5.1): fixed configurations and search baselines.

* ``reference_config`` — all zeros (ArchGym ``policy.json``): Open, Fifo, Bankwise, RBS 1, Fifo, NoRefresh,
  1, 1, Simple, MAT 1.
* ``expert_config`` — DRAMSys ``fr_fcfs.json``: Open, FrFcfs, Bankwise, RBS 8, Fifo, AllBank 8/8, Simple, MAT 128.
* ``random_config`` — a uniform random configuration per episode (seed 0).
* ``random_search`` / ``random_search_100`` — the best of 1,000 / 100 uniform configurations (seed 0).
* ``genetic_algorithm`` — ArchGym's GA budget: 3,200 evaluations (population 32 × 100 generations).
* ``exhaustive_optimum`` — the exact argmin over the whole design space (cached sweep; minutes the first time).

Search policies optimise the instance's objective on the preset's trace once, then play the configuration
they found: in the bandit form as the joint action, in the sequential form knob by knob.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from opsrl.envs.dram.env import N_KNOBS, SHARED_DIM, DramController
from opsrl.envs.dram.search import exhaustive_optimum, genetic_algorithm, random_search
from opsrl.envs.dram.simulator import EXPERT_CONFIG, NVEC, REFERENCE_CONFIG
from opsrl.policies.base import Policy


class ConfigPolicy(Policy):
    """Plays one configuration; subclasses choose it in :meth:`choose`."""

    name = "config"

    def __init__(self, problem: DramController) -> None:
        super().__init__(problem)
        self._config: np.ndarray | None = None
        self.info: dict[str, Any] = {}

    @abc.abstractmethod
    def choose(self) -> np.ndarray:
        """The configuration (10 knob indices) this policy proposes."""

    @property
    def config(self) -> np.ndarray:
        if self._config is None:
            self._config = np.asarray(self.choose(), dtype=np.int64)
        return self._config

    def _knob_index(self, obs: np.ndarray) -> np.ndarray:
        if self.env is not None and getattr(self.env, "state", None) is not None:
            return np.asarray(self.env.state.t) % N_KNOBS
        obs = np.asarray(obs)
        if obs.ndim == 2 and obs.shape[1] > SHARED_DIM:
            return np.argmax(obs[:, SHARED_DIM:SHARED_DIM + N_KNOBS], axis=1)
        raise ValueError("sequential form: the policy needs the env (reset(env)) or the flat observation")

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        batch = np.asarray(obs).shape[0]
        cfg = self.config
        if not self.problem.sequential:
            return np.tile(cfg, (batch, 1))
        return cfg[self._knob_index(obs)]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "config": self.config.tolist(), **self.info}


class ReferenceConfigPolicy(ConfigPolicy):
    name = "reference_config"

    def choose(self) -> np.ndarray:
        return REFERENCE_CONFIG


class ExpertConfigPolicy(ConfigPolicy):
    name = "expert_config"

    def choose(self) -> np.ndarray:
        return EXPERT_CONFIG


class RandomConfigPolicy(ConfigPolicy):
    """A fresh uniform configuration per episode and env (a sanity floor)."""

    name = "random_config"

    def __init__(self, problem: DramController, seed: int = 0) -> None:
        super().__init__(problem)
        self.rng = np.random.default_rng(seed)
        self._batch: np.ndarray | None = None

    def choose(self) -> np.ndarray:
        return REFERENCE_CONFIG

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        batch = np.asarray(obs).shape[0]
        if self._batch is None or self._batch.shape[0] != batch or not self.problem.sequential \
                or np.all(self._knob_index(obs) == 0):
            self._batch = np.stack([self.rng.integers(0, k, size=batch) for k in NVEC], axis=1)
        if not self.problem.sequential:
            return self._batch
        return self._batch[np.arange(batch), self._knob_index(obs)]


class SearchPolicy(ConfigPolicy):
    budget = 1000
    seed = 0

    def _evaluate(self, actions: np.ndarray) -> np.ndarray:
        return self.problem.objective(self.problem.evaluate(actions))


class RandomSearchPolicy(SearchPolicy):
    name = "random_search"

    def choose(self) -> np.ndarray:
        res = random_search(self._evaluate, self.budget, self.seed)
        self.info = {"budget": self.budget, "value": res["value"]}
        return np.array(res["config"])


class RandomSearch100Policy(RandomSearchPolicy):
    name = "random_search_100"
    budget = 100


class GeneticAlgorithmPolicy(SearchPolicy):
    name = "genetic_algorithm"
    budget = 3200

    def choose(self) -> np.ndarray:
        res = genetic_algorithm(self._evaluate, self.budget, seed=self.seed)
        self.info = {"budget": self.budget, "value": res["value"]}
        return np.array(res["config"])


class ExhaustiveOptimumPolicy(ConfigPolicy):
    name = "exhaustive_optimum"

    def choose(self) -> np.ndarray:
        p = self.problem
        res = exhaustive_optimum(p.evaluator, p.params.objective, p.reference_metrics)
        self.info = {"value": res["value"], "sweep_seconds": res["sweep_seconds"]}
        return np.array(res["config"])
