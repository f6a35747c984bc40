"""The lot-sizing GNN actor-critic: one set of weights acts on 15×5 and 25×15, logits exist only for
edges and idle (masks hold), PPO and PDPPO train it, and a checkpoint trained on 15×5 evaluates on 25×15."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from opsrl.algos.pdppo import train as pdppo_train
from opsrl.algos.ppo import train as ppo_train
from opsrl.eval import evaluate
from opsrl.policies.lot_sizing_gnn import LotSizingGNN, make_agent

ENV_ID = "opsrl/LotSizing-v0"
POLICY = "opsrl.policies.lot_sizing_gnn:make_agent"


def graph_batch(preset, num_envs=3, seed=0):
    envs = gym.make_vec(ENV_ID, num_envs=num_envs, preset=preset, obs_mode="graph")
    obs, info = envs.reset(seed=seed)
    return envs, obs, info


def test_same_weights_run_on_15x5_and_25x15():
    small, obs_s, info_s = graph_batch("pdppo_15x5")
    large, obs_l, info_l = graph_batch("pdppo_25x15")
    torch.manual_seed(0)
    agent = make_agent(small.single_observation_space, small.single_action_space, hidden=(16, 16))
    other = make_agent(large.single_observation_space, large.single_action_space, hidden=(16, 16))
    other.load_state_dict(agent.state_dict())  # no weight depends on the number of items or machines
    for ag in (agent, other):  # both agents act on both sizes
        for obs, info, (n_items, n_mach) in ((obs_s, info_s, (15, 5)), (obs_l, info_l, (25, 15))):
            mask = torch.as_tensor(info["action_mask"].reshape(3, -1))
            dist, value = ag(obs, mask)
            assert value.shape == (3,) and len(dist.cats) == n_mach
            probs = torch.stack([c.probs for c in dist.cats], 1)  # [B, M, I + 1]
            assert probs.shape == (3, n_mach, n_items + 1)
            assert torch.all(probs[torch.as_tensor(info["action_mask"]) == 0] < 1e-12)
            torch.testing.assert_close(probs.sum(-1), torch.ones(3, n_mach))
    d1, v1 = agent(obs_l, None)
    d2, v2 = other(obs_l, None)
    torch.testing.assert_close(v1, v2)
    torch.testing.assert_close(d1.cats[3].logits, d2.cats[3].logits)


def test_logits_follow_the_current_setup_feature():
    """The actor reads edge features: flipping "is current setup" on one edge changes that edge's logit."""
    envs, obs, info = graph_batch("pdppo_15x5", num_envs=1)
    torch.manual_seed(1)
    agent = make_agent(envs.single_observation_space, envs.single_action_space, hidden=(16,))
    n_edges = int(obs["counts"][0, 2])
    e = int(np.flatnonzero(obs["edge_features"][0, :n_edges, 5] < 0.5)[0])
    m, i = obs["edge_index"][0, :, e]
    flipped = {k: v.copy() for k, v in obs.items()}
    flipped["edge_features"][0, e, 5] = 1.0
    with torch.no_grad():
        a, _ = agent(obs)
        b, _ = agent(flipped)
    assert not torch.isclose(a.cats[m].logits[0, i + 1], b.cats[m].logits[0, i + 1])


def test_rejects_flat_observations():
    envs = gym.make_vec(ENV_ID, num_envs=1, preset="tiny")
    with pytest.raises(ValueError, match="graph"):
        LotSizingGNN(envs.single_observation_space, envs.single_action_space)


@pytest.mark.parametrize("train", [ppo_train, pdppo_train])
def test_ppo_and_pdppo_train_the_gnn_and_transfer(train, tmp_path):
    out = str(tmp_path / "run")
    info = train(
        ENV_ID,
        "pdppo_15x5",
        {},
        seed=0,
        budget_seconds=300,
        out=out,
        total_timesteps=200,
        num_envs=2,
        num_steps=101,
        update_epochs=1,
        eval_episodes=0,
        obs_mode="graph",
        policy=POLICY,
        hidden=(16,),
    )
    assert info["global_step"] >= 200
    state = torch.load(f"{out}/agent.pt", weights_only=True)["agent"]
    assert any(k.startswith("post_critic_head.") for k in state)
    for preset in ("pdppo_15x5", "pdppo_25x15"):  # the 15x5 checkpoint acts on 25x15 without retraining
        res = evaluate(out, ENV_ID, preset, episodes=2, seed=0, reference=None)
        assert np.isfinite(res.mean_cost) and res.mean_cost > 0
