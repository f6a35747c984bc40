"""Ride-sharing dispatch as a PettingZoo ``ParallelEnv``: one agent per vehicle, a shared policy.

| | |
|---|---|
| Import | ``from opsrl.marl import ride_sharing_v0``; ``ride_sharing_v0.parallel_env(preset="grid_small")`` |
| Agents | ``vehicle_0 … vehicle_{V-1}``, all present for the whole episode |
| Action | ``Box(-1e4, 1e4, (O_max,), float32)``: the vehicle's score for each visible-order slot |
| Observation | ``Dict(self: Box(8+5C), orders: Box(O_max, 5), order_mask, eligible_orders)`` (masks MultiBinary) |
| Reward | the vehicle's own reward r_{i,k} (OSPO one-step reward of the order it received, else 0) |
| State | the flat dispatcher observation (``state_space``) |

Each epoch the agents' score rows form the dispatcher's score matrix and the central linear assignment of
``opsrl/RideSharing-v0`` gives each eligible vehicle at most one order (spec ``ride_sharing.md`` §2.4).
``orders`` is one read-only array shared by every agent's observation; ``eligible_orders`` = visible
orders if the vehicle is eligible, else zeros (spec §4 calls it ``action_mask``; PettingZoo reserves that
key for masks of Discrete actions and its API test would sample the Box with it). An agent with no
action in the dict scores every order 0. Infos per agent: ``matched_slot`` (-1 if none), ``eta_min``,
``eligible``, ``matched_value`` (π of the match) and the fleet's ``fairness_p``. After the last epoch
every agent terminates and ``agents`` is empty.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding

from opsrl.core.marl import ProblemParallelEnv
from opsrl.envs.ride_sharing import dynamics as K_
from opsrl.envs.ride_sharing.env import ORDER_FEATURES, SCORE_BOUND, RideSharing


class RideSharingParallelEnv(ProblemParallelEnv):
    metadata = {"name": "ride_sharing_v0", "render_modes": ["ansi", "rgb_array"], "is_parallelizable": True}

    def __init__(self, preset: str | None = None, render_mode: str | None = None, **overrides: Any) -> None:
        self.problem = RideSharing.from_preset(preset, obs_mode="dict", **overrides)
        self._set_render_mode(render_mode)
        V, n_o, F = self.problem.V, self.problem.O, self.problem.F
        self.possible_agents = [f"vehicle_{i}" for i in range(V)]
        self.agent_index = {a: i for i, a in enumerate(self.possible_agents)}
        self.agents: list[str] = []
        self._obs_space = spaces.Dict({
            "self": spaces.Box(-np.inf, np.inf, (F,), np.float32),
            "orders": spaces.Box(-np.inf, np.inf, (n_o, ORDER_FEATURES), np.float32),
            "order_mask": spaces.MultiBinary(n_o),
            "eligible_orders": spaces.MultiBinary(n_o),
        })
        self._act_space = spaces.Box(-SCORE_BOUND, SCORE_BOUND, (n_o,), np.float32)
        self.state_space = self.problem.flat_space
        self.observation_spaces = {a: self._obs_space for a in self.possible_agents}
        self.action_spaces = {a: self._act_space for a in self.possible_agents}
        self._np_random, self._state = None, None

    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_space

    @property
    def sim_state(self):
        """The simulator state (batch of one); the heuristics of ``opsrl.envs.ride_sharing`` read it."""
        return self._state

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None or self._np_random is None:
            self._np_random, _ = seeding.np_random(seed)
        self._state = self.problem.init(1, self._np_random)
        self.agents = list(self.possible_agents)
        obs = self._observations()
        elig = self._state.elig[0]
        infos = {a: {"eligible": bool(elig[i])} for i, a in enumerate(self.agents)}
        return obs, infos

    def _observations(self) -> dict[str, dict[str, np.ndarray]]:
        d = self.problem.observe_dict(self._state)
        orders = d["orders"][0]
        orders.flags.writeable = False  # one shared array, not per-agent copies
        omask = d["order_mask"][0].astype(np.int8)
        omask.flags.writeable = False
        none = np.zeros_like(omask)
        none.flags.writeable = False
        veh, vmask = d["vehicles"][0], d["vehicle_mask"][0]
        return {a: {"self": veh[i], "orders": orders, "order_mask": omask,
                    "eligible_orders": omask if vmask[i] > 0 else none}
                for i, a in enumerate(self.possible_agents) if a in self.agent_index}

    def step(self, actions: dict[str, Any]):
        if not self.agents:
            raise RuntimeError("ride_sharing_v0: step() after the episode ended; call reset()")
        p = self.problem
        scores = np.zeros((1, p.V, p.O))
        for agent, act in actions.items():
            if agent not in self.agent_index:
                raise ValueError(f"ride_sharing_v0: unknown agent {agent!r}")
            scores[0, self.agent_index[agent]] = np.asarray(act, dtype=np.float64).reshape(p.O)
        scores = p.check_actions(scores)
        elig = self._state.elig[0].copy()
        vis = self._state.vis[0].copy()
        tr = p.step(self._state, scores, np.ones(1, dtype=np.bool_), self._np_random)
        info = tr.info
        done = bool(tr.terminated[0])
        slot, value = info["assignment"][0], info["matched_value"][0]
        eta = np.zeros(p.V)
        got = slot >= 0
        eta[got] = self._state.of[0, vis[slot[got]], K_.ETA] / 60.0  # the matched order's trip record
        obs = self._observations()
        rewards = {a: float(info["vehicle_rewards"][0, i]) for i, a in enumerate(self.possible_agents)}
        terms = {a: done for a in self.possible_agents}
        truncs = {a: False for a in self.possible_agents}
        fair = float(info["fairness_p"][0])
        infos = {a: {"matched_slot": int(slot[i]), "eta_min": float(eta[i]), "eligible": bool(elig[i]),
                     "matched_value": float(value[i]), "fairness_p": fair}
                 for i, a in enumerate(self.possible_agents)}
        if done:
            self.agents = []
        return obs, rewards, terms, truncs, infos

    def state(self) -> np.ndarray:
        return self.problem._flat(self._state)[0]



def parallel_env(preset: str | None = None, render_mode: str | None = None, **overrides: Any
                 ) -> RideSharingParallelEnv:
    return RideSharingParallelEnv(preset=preset, render_mode=render_mode, **overrides)


def raw_env(preset: str | None = None, render_mode: str | None = None, **overrides: Any) -> RideSharingParallelEnv:
    return parallel_env(preset=preset, render_mode=render_mode, **overrides)


env = parallel_env
