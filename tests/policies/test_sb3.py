"""Stable-Baselines3 trains on every single-agent opsrl env out of the box (DESIGN.md), and the graph
features extractor reads the graph observations of the package."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import sb3_contrib
import stable_baselines3 as sb3
import torch

import opsrl  # noqa: F401  (registers the ids)
from opsrl.policies.sb3 import GraphFeaturesExtractor
from opsrl.registration import ENVS

SMALL_PRESET = {
    "opsrl/InventoryNetwork-v0": "one_store_lost_sales",
    "opsrl/JobShop-v0": "random_6x6",
    "opsrl/LotSizing-v0": "tiny",
    "opsrl/Portfolio-v0": "synthetic_gbm_10",
    "opsrl/RideSharing-v0": "tiny_line_test",
    "opsrl/DramController-v0": "archgym_ddr3_stream",
}


def test_every_registered_env_has_a_small_preset_here():
    assert {e.id for e in ENVS} == set(SMALL_PRESET), "add the new env id to SMALL_PRESET"


def _train_and_roll(env: gym.Env, policy: str, steps: int = 64, **policy_kwargs) -> None:
    env.reset(seed=0)
    try:  # the envs raise AttributeError when their problem has no mask, like a missing method
        masked = env.unwrapped.action_masks() is not None
    except AttributeError:
        masked = False
    algo = sb3_contrib.MaskablePPO if masked else sb3.PPO
    model = algo(policy, env, n_steps=steps, batch_size=32, n_epochs=1, seed=0, verbose=0, device="cpu",
                 policy_kwargs={"net_arch": [32], **policy_kwargs})
    model.learn(total_timesteps=steps)
    obs, _ = env.reset(seed=1)
    for _ in range(5):
        kwargs = {"action_masks": env.unwrapped.action_masks()} if masked else {}
        action, _ = model.predict(obs, deterministic=True, **kwargs)
        assert env.action_space.contains(np.asarray(action, dtype=env.action_space.dtype).reshape(
            env.action_space.shape)), action
        obs, reward, terminated, truncated, info = env.step(action)
        assert np.isfinite(reward)
        if terminated or truncated:
            obs, _ = env.reset()


@pytest.mark.parametrize("env_id", sorted(SMALL_PRESET))
def test_sb3_ppo_trains_on_the_flat_observation(env_id):
    env = gym.make(env_id, preset=SMALL_PRESET[env_id])
    _train_and_roll(env, "MlpPolicy")


@pytest.mark.parametrize("env_id,preset", [("opsrl/InventoryNetwork-v0", "one_warehouse_lost_n3"),
                                           ("opsrl/JobShop-v0", "random_6x6")])
def test_sb3_ppo_trains_with_the_graph_extractor(env_id, preset):
    env = gym.make(env_id, preset=preset, obs_mode="graph")
    _train_and_roll(env, "MultiInputPolicy", features_extractor_class=GraphFeaturesExtractor,
                    features_extractor_kwargs={"hidden": 16})


def _batch(env: gym.Env, n: int = 3) -> dict[str, torch.Tensor]:
    obs = [env.reset(seed=s)[0] for s in range(n)]
    return {k: torch.as_tensor(np.stack([o[k] for o in obs])).float() for k in obs[0]}


def test_graph_extractor_output_depends_on_edges_and_ignores_padding():
    env = gym.make("opsrl/JobShop-v0", preset="random_6x6", obs_mode="graph")
    torch.manual_seed(0)
    ext = GraphFeaturesExtractor(env.observation_space, hidden=8)
    obs = _batch(env)
    out = ext(obs)
    assert out.shape == (3, ext.features_dim)
    # each graph of the batch is read out independently of the others
    assert torch.allclose(ext({k: v[1:2] for k, v in obs.items()}), out[1:2], atol=1e-5)
    # dropping the edges (all padding) changes the embedding: messages do flow
    cut = dict(obs, edge_index=torch.full_like(obs["edge_index"], -1.0))
    assert not torch.allclose(ext(cut), out)
    out.sum().backward()
    assert all(p.grad is not None for p in ext.parameters())


def test_graph_extractor_rejects_flat_observations():
    env = gym.make("opsrl/InventoryNetwork-v0", preset="one_store_lost_sales")
    with pytest.raises(ValueError, match="obs_mode='graph'"):
        GraphFeaturesExtractor(env.observation_space)
