"""Tiny problems with known optimal policies, to test the learning algorithms themselves."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
from gymnasium import spaces

from opsrl.core.params import Params
from opsrl.core.problem import Problem, Transition


@dataclasses.dataclass(frozen=True)
class ToyParams(Params):
    default_preset = "default"
    dim: int = 2
    horizon: int = 8

    @classmethod
    def presets(cls):
        return {"default": {}}


class ToyState(NamedTuple):
    x: np.ndarray
    t: np.ndarray


class Tracking(Problem):
    """Observe x ~ U(-1, 1)^d, act a in [-2, 2]^d, reward −|a − x|²: the optimal policy is a = x."""

    params_type = ToyParams

    def __init__(self, params: ToyParams, obs_mode: str = "flat") -> None:
        super().__init__(params, obs_mode)
        self.observation_space = spaces.Box(-1, 1, (params.dim,), np.float32)
        self.action_space = spaces.Box(-2, 2, (params.dim,), np.float32)
        self.max_episode_steps = params.horizon

    def init(self, batch, rng):
        return ToyState(rng.uniform(-1, 1, (batch, self.params.dim)), np.zeros(batch, dtype=np.int64))

    def step(self, state, actions, active, rng):
        reward = np.where(active, -((actions - state.x) ** 2).sum(1), 0.0)
        state.x[active] = rng.uniform(-1, 1, (int(active.sum()), self.params.dim))
        state.t[active] += 1
        return Transition(reward, np.zeros(len(reward), dtype=bool), {})

    def observe(self, state):
        return state.x.astype(np.float32)


class MaskedBandit(Problem):
    """Observe which of 4 arms pays (one-hot); arm 3 is always masked and raises if chosen. Episodes end
    (terminated) after 4 pulls, so termination handling is exercised as well."""

    params_type = ToyParams

    def __init__(self, params: ToyParams, obs_mode: str = "flat") -> None:
        super().__init__(params, obs_mode)
        self.observation_space = spaces.Box(0, 1, (4,), np.float32)
        self.action_space = spaces.Discrete(4)
        self.max_episode_steps = 50

    def init(self, batch, rng):
        return ToyState(rng.integers(0, 3, batch).astype(np.float64), np.zeros(batch, dtype=np.int64))

    def check_actions(self, actions):
        a = np.asarray(actions, dtype=np.int64)
        if (a == 3).any():
            raise ValueError("masked arm 3 chosen")
        return a

    def step(self, state, actions, active, rng):
        reward = np.where(active & (actions == state.x.astype(np.int64)), 1.0, 0.0)
        state.x[active] = rng.integers(0, 3, int(active.sum()))
        state.t[active] += 1
        return Transition(reward, active & (state.t >= 4), {})

    def observe(self, state):
        return np.eye(4, dtype=np.float32)[state.x.astype(np.int64)]

    def action_mask(self, state):
        mask = np.ones((len(state.t), 4), dtype=np.int8)
        mask[:, 3] = 0
        return mask
