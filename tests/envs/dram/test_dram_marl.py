"""PettingZoo ParallelEnv: API and seed tests, one agent per knob, shared team reward, centralised state."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

from opsrl.core.errors import ParameterError
from opsrl.envs.dram import KNOB_NAMES
from opsrl.marl import dram_controller_v0

SMALL = {"n_requests": 300}


def test_parallel_api():
    parallel_api_test(dram_controller_v0.parallel_env(**SMALL), num_cycles=30)


@pytest.mark.parametrize("overrides", [{}, {"resample_trace": True}, {"objective": "power"}])
def test_parallel_seed(overrides):
    parallel_seed_test(lambda: dram_controller_v0.parallel_env(**SMALL, **overrides), num_cycles=30)


def test_aec_api():
    api_test(dram_controller_v0.env(**SMALL), num_cycles=30)


def test_agents_spaces_and_shared_reward():
    env = dram_controller_v0.parallel_env(**SMALL)
    obs, infos = env.reset(seed=0)
    assert env.possible_agents == list(KNOB_NAMES)
    assert infos["scheduler"]["padded_action_mask"].tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    assert [env.action_space(a).n for a in env.possible_agents] == [4, 3, 3, 8, 2, 2, 4, 4, 3, 8]
    assert env.state().shape == (23,) and all(o.shape == (33,) for o in obs.values())
    assert np.array_equal(obs["scheduler"][:23], env.state()) and obs["scheduler"][23 + 1] == 1
    actions = {a: env.action_space(a).sample() for a in env.agents}
    obs, rewards, terms, truncs, infos = env.step(actions)
    assert len(set(rewards.values())) == 1 and all(terms.values()) and not any(truncs.values())
    assert env.agents == []
    cfg = infos["page_policy"]["config"]
    assert cfg == [int(actions[a]) for a in env.possible_agents]


def test_reward_matches_gymnasium_env():
    import gymnasium as gym

    env = dram_controller_v0.parallel_env(**SMALL)
    env.reset(seed=0)
    joint = [1, 2, 0, 5, 1, 1, 2, 3, 2, 6]
    _, rewards, *_ = env.step(dict(zip(env.possible_agents, joint, strict=True)))
    single = gym.make("opsrl/DramController-v0", **SMALL)
    single.reset(seed=0)
    assert single.step(np.array(joint))[1] == rewards["page_policy"]


def test_bad_use():
    with pytest.raises(ParameterError, match="form"):
        dram_controller_v0.parallel_env(form="sequential")
    env = dram_controller_v0.parallel_env(**SMALL)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="missing"):
        env.step({"page_policy": 0})
