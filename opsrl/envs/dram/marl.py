"""PettingZoo view of the DRAM controller problem: one agent per knob, one shared team reward.

| | |
|---|---|
| import | ``from opsrl.marl import dram_controller_v0`` |
| API | ``ParallelEnv`` (``dram_controller_v0.parallel_env()``; AEC via ``dram_controller_v0.env()``) |
| agents | 10, named after the knobs in spec order: ``page_policy`` … ``max_active_transactions`` |
| actions | agent k: ``Discrete(n_k)`` with n = [4, 3, 3, 8, 2, 2, 4, 4, 3, 8] |
| observations | ``Box(0, 1e3, (33,))``: the 23-d shared vector of the Gymnasium env + the agent's one-hot |
| state | ``Box(0, 1e3, (23,))``: the shared vector (centralised critic input) |
| rewards | the same scalar for every agent (the Gymnasium env's reward of the joint configuration) |
| episode | one joint step (the bandit form of ArchGym's ``macme``): every agent terminates after it |
| infos | ``padded_action_mask``: int8 [8], 1 for valid indices (a shared 8-logit actor masks the rest) |

Every parameter of ``opsrl/DramController-v0`` applies (``preset=``, ``objective=``, ``reward_mode=`` …) except
``form``, which must be ``bandit``. ``reset(seed)`` seeds the episode's randomness (trace resampling); the
evaluation itself is deterministic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding

from opsrl.core.errors import ParameterError
from opsrl.core.marl import ProblemParallelEnv
from opsrl.envs.dram.env import N_KNOBS, OBS_HIGH, SHARED_DIM, DramController
from opsrl.envs.dram.simulator import KNOB_NAMES, NVEC

AGENT_DIM = SHARED_DIM + N_KNOBS


class DramControllerParallelEnv(ProblemParallelEnv):
    metadata = {"name": "dram_controller_v0", "render_modes": ["ansi", "rgb_array"], "is_parallelizable": True}

    def __init__(self, preset: str | None = None, render_mode: str | None = None, **overrides: Any) -> None:
        if overrides.get("form", "bandit") != "bandit":
            raise ParameterError(f"form={overrides['form']!r} is invalid for the PettingZoo env: must be 'bandit' "
                                 "(the sequential form is Gymnasium-only)")
        overrides.pop("obs_mode", None)
        self.problem = DramController.from_preset(preset, **overrides)
        if self.problem.sequential:
            raise ParameterError("form='sequential' (from the preset) is invalid for the PettingZoo env: pass "
                                 "form='bandit'")
        self._set_render_mode(render_mode)
        self.possible_agents = list(KNOB_NAMES)
        self.agents: list[str] = []
        box = spaces.Box(0.0, OBS_HIGH, (AGENT_DIM,), np.float32)
        self._obs_spaces = {a: box for a in self.possible_agents}
        self._act_spaces = {a: spaces.Discrete(int(n)) for a, n in zip(self.possible_agents, NVEC, strict=True)}
        self.state_space = spaces.Box(0.0, OBS_HIGH, (SHARED_DIM,), np.float32)
        self._state = None
        self._np_random, _ = seeding.np_random(None)
        self._onehot = np.eye(N_KNOBS, dtype=np.float32)
        self._masks = {a: (np.arange(8) < n).astype(np.int8) for a, n in zip(self.possible_agents, NVEC, strict=True)}

    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_spaces[agent]

    def _observations(self) -> dict[str, np.ndarray]:
        shared = self.problem.shared_observation(self._state)[0]
        return {a: np.concatenate([shared, self._onehot[k]]) for k, a in enumerate(self.possible_agents)
                if a in self.agents}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self._np_random, _ = seeding.np_random(seed)
        self.agents = list(self.possible_agents)
        self._state = self.problem.init(1, self._np_random)
        return self._observations(), {a: {"padded_action_mask": self._masks[a].copy()} for a in self.agents}

    def step(self, actions: dict[str, Any]):
        if self._state is None or not self.agents:
            raise RuntimeError("call reset() before step(); the episode has ended")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"step() needs an action for every agent; missing: {missing}")
        joint = np.array([[np.asarray(actions[a]).item() for a in self.possible_agents]], dtype=np.float64)
        tr = self.problem.step(self._state, self.problem.check_actions(joint), np.ones(1, dtype=np.bool_),
                               self._np_random)
        reward = float(tr.reward[0])
        obs = self._observations()
        info = {"metrics": {k: float(v[0]) for k, v in tr.info["metrics"].items()},
                "objective": float(tr.info["objective"][0]), "config": tr.info["config"][0].tolist()}
        agents = list(self.agents)
        self.agents = []
        return (obs, {a: reward for a in agents}, {a: True for a in agents}, {a: False for a in agents},
                {a: {**info, "padded_action_mask": self._masks[a].copy()} for a in agents})

    def state(self) -> np.ndarray:
        if self._state is None:
            raise RuntimeError("call reset() before state()")
        return self.problem.shared_observation(self._state)[0]
