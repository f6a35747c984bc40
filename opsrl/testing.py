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


def rendered(env_id: str, steps: int = 3, seed: int = 0, **kwargs: Any) -> tuple[str, np.ndarray]:
    """The ``ansi`` text after one random step and the ``rgb_array`` image after ``steps`` random steps of
    ``gym.make(env_id, **kwargs)``; the image is checked to be an RGB ``uint8`` array."""
    env = gym.make(env_id, render_mode="ansi", **kwargs)
    env.reset(seed=seed)
    env.step(env.action_space.sample())
    text = env.render()
    env = gym.make(env_id, render_mode="rgb_array", **kwargs)
    env.reset(seed=seed)
    for _ in range(steps):
        env.step(env.action_space.sample())
    img = env.render()
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8, (img.shape, img.dtype)
    return text, img
