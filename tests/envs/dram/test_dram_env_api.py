"""Gymnasium API of opsrl/DramController-v0: check_env on every preset and form, determinism single == vector,
NEXT_STEP autoreset, pickling, rewards in their documented ranges, masks, bad parameters and bad actions."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import opsrl
from opsrl.core.errors import ParameterError
from opsrl.envs.dram.env import SEQ_DIM, SHARED_DIM

ENV_ID = "opsrl/DramController-v0"
SMALL = {"n_requests": 400}


@pytest.mark.parametrize("preset", opsrl.list_presets(ENV_ID))
def test_check_env_every_preset(preset):
    env = gym.make(ENV_ID, preset=preset, **SMALL)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs.shape == ((SEQ_DIM,) if "sequential" in preset else (SHARED_DIM,))


@pytest.mark.parametrize("overrides", [
    {"form": "sequential"}, {"form": "sequential", "simulate_every_step": True, "start": "random"},
    {"obs_mode": "archgym3"}, {"reward_mode": "archgym_both", "reward_scaling": True},
    {"objective": "power", "reward_mode": "target_bounded"}, {"resample_trace": True},
    {"form": "sequential", "horizon": 20},
])
def test_check_env_variants(overrides):
    env = gym.make(ENV_ID, **SMALL, **overrides)
    check_env(env.unwrapped, skip_render_check=True)


def test_bandit_episode():
    env = gym.make(ENV_ID, **SMALL)
    obs, info = env.reset(seed=0)
    assert np.all(obs[:5] == 0) and np.all(obs[5:15] == 0)  # no evaluation yet, reference configuration
    obs, r, term, trunc, info = env.step(np.array([0, 2, 0, 3, 0, 1, 3, 3, 0, 7]))
    assert term and not trunc
    assert -1 <= r <= 1 and info["objective"] == info["metrics"]["total_time_ns"]
    assert obs[0] == pytest.approx(info["metrics"]["total_time_ns"] / env.unwrapped.problem.reference_metrics[
        "total_time_ns"], rel=1e-6)
    assert info["config"].tolist() == [0, 2, 0, 3, 0, 1, 3, 3, 0, 7]


def test_reference_config_reward_is_zero_and_better_is_positive():
    env = gym.make(ENV_ID, **SMALL)
    env.reset(seed=0)
    assert env.step(np.zeros(10, dtype=np.int64))[1] == 0.0
    env.reset()
    assert env.step(np.array([0, 2, 0, 7, 0, 0, 0, 0, 0, 0]))[1] > 0.3  # RBS 128 is much faster on random


def test_sequential_masks_and_dense_reward_telescopes():
    env = gym.make(ENV_ID, form="sequential", simulate_every_step=True, **SMALL)
    _, info = env.reset(seed=0)
    assert info["action_mask"].tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    masks, total = [], 0.0
    actions = [2, 1, 2, 7, 1, 1, 3, 3, 2, 7]
    for a in actions:
        _, r, term, trunc, info = env.step(a)
        masks.append(int(info["action_mask"].sum()))
        total += r
    assert term and not trunc
    assert info["config"].tolist() == [2, 1, 2, 7, 1, 1, 3, 3, 2, 7]
    one_shot = gym.make(ENV_ID, **SMALL)
    one_shot.reset(seed=0)
    assert total == pytest.approx(one_shot.step(np.array(actions))[1], abs=1e-12)


def test_sequential_out_of_range_index_is_clipped():
    env = gym.make(ENV_ID, form="sequential", **SMALL)
    env.reset(seed=0)
    for _ in range(10):
        _, _, term, _, info = env.step(7)
    assert term and info["config"].tolist() == [3, 2, 2, 7, 1, 1, 3, 3, 2, 7]


def test_single_equals_vector_and_next_step_autoreset():
    rng = np.random.default_rng(0)
    acts = [np.stack([rng.integers(0, n, 4) for n in [4, 3, 3, 8, 2, 2, 4, 4, 3, 8]], 1) for _ in range(3)]
    envs = gym.make_vec(ENV_ID, num_envs=4, **SMALL)
    envs.reset(seed=1)
    _, r1, term1, _, _ = envs.step(acts[0])
    assert term1.all()
    obs2, r2, term2, trunc2, _ = envs.step(acts[1])  # autoreset step: reward 0, flags false
    assert (r2 == 0).all() and not term2.any() and not trunc2.any() and np.all(obs2[:, :5] == 0)
    _, r3, term3, _, _ = envs.step(acts[2])
    single = gym.make(ENV_ID, **SMALL)
    for i in range(4):
        single.reset(seed=1)
        assert single.step(acts[0][i])[1] == r1[i]
        single.reset()
        assert single.step(acts[2][i])[1] == r3[i]


def test_pickle_and_render():
    env = gym.make(ENV_ID, render_mode="ansi", **SMALL)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    text = env.render()
    assert "page_policy" in text and "makespan" in text
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    assert clone.problem.reference_metrics == env.unwrapped.problem.reference_metrics
    img = gym.make(ENV_ID, render_mode="rgb_array", **SMALL)
    img.reset(seed=0)
    frame = img.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8


@pytest.mark.parametrize("mode,low,high", [("normalized", -1, 1), ("efficiency", 0, 1), ("target_bounded", 0, 1),
                                           ("archgym_latency", 0, 1e3), ("archgym_power", 0, 1e3),
                                           ("archgym_both", 0, 1e3)])
def test_reward_ranges(mode, low, high):
    envs = gym.make_vec(ENV_ID, num_envs=64, reward_mode=mode, **SMALL)
    envs.reset(seed=0)
    envs.action_space.seed(0)
    _, r, _, _, info = envs.step(envs.action_space.sample())
    assert np.all(r >= low) and np.all(r <= high) and np.isfinite(r).all()
    if mode == "efficiency":
        assert np.all(r <= 1.0)


def test_archgym_reward_formula_units_fixed():
    env = gym.make(ENV_ID, reward_mode="archgym_latency", **SMALL)
    env.reset(seed=0)
    _, r, _, _, info = env.step(np.zeros(10, dtype=np.int64))
    L = info["metrics"]["total_time_ns"] * 1e-6
    assert r == pytest.approx(min(1e3, 0.1 / abs(L - 0.1)))


@pytest.mark.parametrize("overrides,field", [
    ({"memory": "DDR5"}, "memory"), ({"trace": "nope"}, "trace"), ({"n_requests": 0}, "n_requests"),
    ({"write_fraction": 1.5}, "write_fraction"), ({"form": "tree"}, "form"), ({"objective": "area"}, "objective"),
    ({"reward_mode": "x"}, "reward_mode"), ({"horizon": 5}, "horizon"), ({"target_power": -1}, "target_power"),
    ({"reward_mode": "efficiency", "objective": "power"}, "objective"), ({"bogus": 1}, "bogus"),
])
def test_bad_parameters(overrides, field):
    with pytest.raises(ParameterError, match=field):
        gym.make(ENV_ID, **overrides)


def test_bad_actions():
    env = gym.make(ENV_ID, **SMALL)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.full(10, np.nan))
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(3))
    _, _, _, _, info = env.step(np.array([9, -1, 5, 20, 3, 3, 9, 9, 7, 99]))  # clipped, documented
    assert info["config"].tolist() == [3, 0, 2, 7, 1, 1, 3, 3, 2, 7]


def test_resample_trace_changes_the_workload():
    env = gym.make(ENV_ID, resample_trace=True, **SMALL)
    a = np.array([0, 2, 0, 3, 0, 0, 0, 0, 0, 0])
    env.reset(seed=0)
    r0 = env.step(a)[4]["metrics"]["total_time_ns"]
    env.reset(seed=1)
    r1 = env.step(a)[4]["metrics"]["total_time_ns"]
    env.reset(seed=0)
    assert env.step(a)[4]["metrics"]["total_time_ns"] == r0 != r1


def test_describe():
    d = opsrl.make_problem(ENV_ID, "ddr4_2400_stream", **SMALL).describe()
    assert d["device"]["tck_ps"] == 833 and d["design_space"] == 442_368 and len(d["agents"]) == 10
