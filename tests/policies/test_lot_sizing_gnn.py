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


# one or two short updates of a 2-env run (a 100-period episode + its autoreset step per rollout)
TINY_RUN = dict(seed=0, budget_seconds=300, num_envs=2, num_steps=101, update_epochs=1, eval_episodes=0,
                hidden=(16,))


@pytest.mark.parametrize("train", [ppo_train, pdppo_train])
def test_ppo_and_pdppo_train_the_gnn_and_transfer(train, tmp_path):
    out = str(tmp_path / "run")
    info = train(ENV_ID, "pdppo_15x5", {}, out=out, total_timesteps=200, obs_mode="graph", policy=POLICY,
                 **TINY_RUN)
    assert info["global_step"] >= 200
    state = torch.load(f"{out}/agent.pt", weights_only=True)["agent"]
    assert any(k.startswith("post_critic_head.") for k in state)
    for preset in ("pdppo_15x5", "pdppo_25x15"):  # the 15x5 checkpoint acts on 25x15 without retraining
        res = evaluate(out, ENV_ID, preset, episodes=2, seed=0, reference=None)
        assert np.isfinite(res.mean_cost) and res.mean_cost > 0


# -- the inertia prior (both lot-sizing agents) and the sampled policy ----------------------------------------
@pytest.mark.parametrize("preset", ["pdppo_15x5", "pdppo_25x15"])
@pytest.mark.parametrize("graph", [False, True])
def test_inertia_prior_makes_the_initial_policy_continue_its_runs(preset, graph):
    """With the actor's output near 0 at initialisation, the last choice has probability e^c / (e^c + 1) on
    every machine, whatever its number of options (c = INERTIA_INIT); without the prior it is 1 / (n + 1)."""
    from opsrl.policies.lot_sizing_gnn import INERTIA_INIT, make_mlp_agent
    from opsrl.registration import make_problem

    kw = {"obs_mode": "graph"} if graph else {}
    envs = gym.make_vec(ENV_ID, num_envs=4, preset=preset, **kw)
    obs, info = envs.reset(seed=3)
    torch.manual_seed(0)
    factory = make_agent if graph else make_mlp_agent
    agent = factory(envs.single_observation_space, envs.single_action_space, hidden=(16,))
    with torch.no_grad():
        dist, _ = agent(obs if graph else torch.as_tensor(obs), torch.as_tensor(info["action_mask"].reshape(4, -1)))
    probs = torch.stack([c.probs for c in dist.cats], 1)  # [B, M, I + 1]
    setup = torch.as_tensor(make_problem(ENV_ID, preset, **kw).decode(obs)[1])
    keep = probs.gather(2, setup.unsqueeze(-1)).squeeze(-1)
    expected = np.exp(INERTIA_INIT) / (np.exp(INERTIA_INIT) + 1.0)
    torch.testing.assert_close(keep, torch.full_like(keep, expected), atol=0.03, rtol=0)
    agent.use_prior.fill_(0.0)  # the prior is what moves it: without it the policy is near uniform
    with torch.no_grad():
        dist, _ = agent(obs if graph else torch.as_tensor(obs), torch.as_tensor(info["action_mask"].reshape(4, -1)))
    keep = torch.stack([c.probs for c in dist.cats], 1).gather(2, setup.unsqueeze(-1)).squeeze(-1)
    assert keep.max() < 0.6


def test_checkpoints_from_before_the_prior_load_with_it_off():
    envs, obs, info = graph_batch("pdppo_15x5")
    torch.manual_seed(2)
    agent = make_agent(envs.single_observation_space, envs.single_action_space, hidden=(16,))
    old = {k: v for k, v in agent.state_dict().items() if k not in ("inertia", "use_prior")}
    fresh = make_agent(envs.single_observation_space, envs.single_action_space, hidden=(16,))
    fresh.load_state_dict(old)
    assert float(fresh.use_prior) == 0.0
    agent.use_prior.fill_(0.0)
    with torch.no_grad():
        torch.testing.assert_close(fresh(obs)[0].cats[2].logits, agent(obs)[0].cats[2].logits)


def test_sampled_policy_is_reproducible_and_differs_from_the_greedy_one(tmp_path):
    from opsrl.policies.base import make_policy
    from opsrl.registration import make_problem

    out = str(tmp_path / "mlp")
    ppo_train(ENV_ID, "pdppo_15x5", {"obs_normalize": True}, out=out, total_timesteps=202,
              policy="opsrl.policies.lot_sizing_gnn:make_mlp_agent", **TINY_RUN)
    problem = make_problem(ENV_ID, "pdppo_15x5", obs_normalize=True)
    policy = make_policy(out, ENV_ID, problem)
    greedy = evaluate(
        policy, ENV_ID, "pdppo_15x5", episodes=4, seed=0, overrides={"obs_normalize": True}, reference=None
    ).mean_cost
    policy.deterministic = False
    costs = []
    for _ in range(2):
        torch.manual_seed(5)
        costs.append(
            evaluate(
                policy, ENV_ID, "pdppo_15x5", episodes=4, seed=0, overrides={"obs_normalize": True}, reference=None
            ).mean_cost
        )
    assert costs[0] == costs[1] and costs[0] != greedy
