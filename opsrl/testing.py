"""Checks every family's tests (and users' own environments) share: the single env is the batch of one."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


def assert_single_env_matches_vector(env_id: str, preset: str | None, steps: int, seed: int = 3,
                                     **overrides: Any) -> None:
    """``gym.make`` and ``gym.make_vec(num_envs=1)`` from the same seed give the same observations, rewards and
    terminations for the same (randomly sampled) actions, step for step."""
    env = gym.make(env_id, preset=preset, **overrides)
    vec = gym.make_vec(env_id, num_envs=1, preset=preset, **overrides)
    env.action_space.seed(seed)
    o1, _ = env.reset(seed=seed)
    o2, _ = vec.reset(seed=seed)
    np.testing.assert_array_equal(o1, o2[0])
    for _ in range(steps):
        act = env.action_space.sample()
        o1, r1, t1, *_ = env.step(act)
        o2, r2, t2, *_ = vec.step(np.asarray(act)[None])
        np.testing.assert_array_equal(o1, o2[0])
        assert r1 == r2[0] and t1 == t2[0]
