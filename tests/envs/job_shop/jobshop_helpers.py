"""Helpers shared by the job-shop tests."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from opsrl.envs.job_shop.solver import validate_schedule

ENV_ID = "opsrl/JobShop-v0"


def run_episode(env: gym.Env, actions_rng: np.random.Generator | None = None, seed: int = 0,
                masked_only: bool = True):
    """Play one episode with random (masked) actions; return (rewards, infos, final schedule, steps)."""
    rng = actions_rng or np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    rewards, infos, steps = [], [], 0
    n = env.action_space.n
    while True:
        if masked_only:
            a = int(rng.choice(np.flatnonzero(info["action_mask"])))
        else:
            a = int(rng.integers(-1, n + 1))
        obs, r, terminated, truncated, info = env.step(a)
        rewards.append(r)
        infos.append(info)
        steps += 1
        assert not truncated
        if terminated:
            break
    problem = env.unwrapped.problem
    sched = problem.schedule(env.unwrapped.state, 0)
    return np.array(rewards), infos, sched, steps


def check_schedule(sched) -> int:
    """The independent checker's makespan of a finished env schedule (raises if infeasible)."""
    return validate_schedule(sched["durations"], sched["machines"], sched["starts"])
