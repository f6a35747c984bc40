"""Hypothesis invariants: on random (also ragged) instances under random action sequences (masked and
invalid actions included) and every option, each finished episode is a feasible schedule whose makespan is
the env's reported makespan and ``episode_cost``; exactly one op per step; the reward identities of §2.6;
``insert`` schedules are active; ``non_delay`` masks hold exactly the earliest-starting jobs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from jobshop_helpers import ENV_ID, check_schedule

from opsrl.envs.job_shop import dynamics as K_
from opsrl.eval.evaluate import make_vector_env, run_episodes
from opsrl.policies.base import Policy


@st.composite
def instances(draw):
    n = draw(st.integers(2, 6))
    m = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dur = rng.integers(1, draw(st.sampled_from([3, 10, 99])) + 1, size=(n, m))
    mach = np.argsort(rng.random((n, m)), axis=1)
    if draw(st.booleans()):  # ragged: cut some jobs short
        for j in range(n):
            k = int(rng.integers(1, m + 1))
            dur[j, k:], mach[j, k:] = 0, -1
    return dur, mach


OPTIONS = st.fixed_dictionaries({
    "placement": st.sampled_from(["insert", "append"]),
    "candidate_filter": st.sampled_from(["none", "non_delay"]),
    "reward": st.sampled_from(["lb_decrease", "sparse_makespan", "makespan_increase"]),
    "feature_set": st.sampled_from(["l2d", "rich"]),
})


def earliest_start_is_taken(sched):
    """Active schedule: no op could start earlier in an idle gap of its machine (others fixed)."""
    dur, mach, start = sched["durations"], sched["machines"], sched["starts"]
    for j, k in zip(*np.nonzero(mach >= 0), strict=True):
        ready = start[j, k - 1] + dur[j, k - 1] if k > 0 else 0
        others = sorted((start[a, b], start[a, b] + dur[a, b]) for a, b in zip(*np.nonzero(mach == mach[j, k]),
                                                                                strict=True) if (a, b) != (j, k))
        t = ready
        for s, e in others:  # the first slot >= ready of length p among the other ops
            if t + dur[j, k] <= s:
                break
            t = max(t, e)
        if t < start[j, k]:
            return False
    return True


@settings(max_examples=60, deadline=None)
@given(inst=instances(), opts=OPTIONS, actions_seed=st.integers(0, 2**32 - 1), invalid=st.booleans())
def test_every_finished_episode_is_a_feasible_schedule(inst, opts, actions_seed, invalid):
    dur, mach = inst
    env = gym.make(ENV_ID, preset="ortools_toy", durations=dur, machines=mach, **opts)
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(actions_seed)
    n_ops = int((mach >= 0).sum())
    rewards, steps, h0 = [], 0, int(env.unwrapped.state.scal[0, K_.H0])
    while True:
        mask = info["action_mask"]
        state = env.unwrapped.state
        if opts["candidate_filter"] == "non_delay":  # the mask holds exactly the earliest-starting jobs
            est = [K_.placement_start.py_func(0, j, state.ops, state.jobs, state.machines, state.mseq,
                                              K_.INSERT if opts["placement"] == "insert" else K_.APPEND,
                                              mach.shape[1])[0]
                   if state.jobs[0, j, K_.NEXT] < state.jobs[0, j, K_.NOPS] else None for j in range(len(mask))]
            best = min(e for e in est if e is not None)
            assert [int(e == best) if e is not None else 0 for e in est] == mask.tolist()
        a = int(rng.integers(-1, len(mask) + 1)) if invalid else int(rng.choice(np.flatnonzero(mask)))
        obs, r, terminated, truncated, info = env.step(a)
        assert env.observation_space.contains(obs)
        rewards.append(r)
        steps += 1
        assert not truncated
        if terminated:
            break
        assert steps < n_ops
    assert steps == n_ops
    sched = env.unwrapped.problem.schedule(env.unwrapped.state)
    makespan = check_schedule(sched)
    assert makespan == sched["makespan"] == info["makespan"] == info["lower_bound"]
    total = sum(rewards)
    if opts["reward"] == "lb_decrease":
        assert total == h0 - makespan
    else:
        assert total == -makespan
    if opts["placement"] == "insert":
        assert earliest_start_is_taken(sched)


class RandomMasked(Policy):
    def __init__(self, problem, seed):
        super().__init__(problem)
        self.rng = np.random.default_rng(seed)

    def act(self, obs, info):
        u = self.rng.random(info["action_mask"].shape) * info["action_mask"]
        return np.argmax(u, axis=1)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), opts=OPTIONS, n_envs=st.integers(1, 5))
def test_vector_episode_cost_is_the_checked_makespan(seed, opts, n_envs):
    env = make_vector_env(ENV_ID, n_envs, "random_6x6", **opts)
    costs = run_episodes(env, RandomMasked(env.problem, seed), seed)
    # replay: the recorded costs are the makespans of valid schedules of the same instances
    assert costs.shape == (n_envs,) and (costs > 0).all()
    env2 = make_vector_env(ENV_ID, n_envs, "random_6x6", **opts)
    pol = RandomMasked(env2.problem, seed)
    obs, info = env2.reset(seed=seed)
    for _ in range(36):
        obs, r, term, trunc, info = env2.step(pol.act(obs, info))
    assert term.all()
    for b in range(n_envs):
        assert check_schedule(env2.problem.schedule(env2.state, b)) == costs[b]
