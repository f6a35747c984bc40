"""The job-shop GNN actor-critic: the tensor collate equals torch-geometric's, masks hold, the PPO core
trains it from the CLI, checkpoints load, a short training beats the untrained agent, sampling replays the
best sampled schedule."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from opsrl.algos.ppo import PPOConfig, PPOPolicy, make_agent
from opsrl.cli import main
from opsrl.envs.job_shop.env import JobShop
from opsrl.envs.job_shop.graph import to_pyg
from opsrl.envs.job_shop.solver import validate_schedule
from opsrl.eval import evaluate
from opsrl.policies.job_shop_gnn import GNNPolicy, collate, load_gnn_policy, make_agent_gatv2
from opsrl.policies.job_shop_gnn import make_agent as gnn_agent

ENV_ID = "opsrl/JobShop-v0"
POLICY = "opsrl.policies.job_shop_gnn:make_agent"


def graph_obs_midway(preset="random_6x6", num_envs=3, steps=7, seed=0, **kw):
    envs = gym.make_vec(ENV_ID, num_envs=num_envs, preset=preset, obs_mode="graph", **kw)
    obs, info = envs.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        m = info["action_mask"]
        obs, _, _, _, info = envs.step(np.argmax(m * rng.random(m.shape), axis=1))
    return envs, obs, info


def test_collate_equals_torch_geometric_batch():
    _, obs, _ = graph_obs_midway()
    ref = to_pyg(obs)
    x, edges, cand, B, N = collate({k: torch.as_tensor(v) for k, v in obs.items()}, drop_self_loops=False)
    assert (B, N) == (3, 36)
    torch.testing.assert_close(x, ref.x)
    assert sorted(map(tuple, edges.T.tolist())) == sorted(map(tuple, ref.edge_index.T.tolist()))
    assert cand.flatten().tolist() == ref.candidate.tolist()
    _, no_loops, _, _, _ = collate({k: torch.as_tensor(v) for k, v in obs.items()})
    assert no_loops.shape[1] == edges.shape[1] - 3 * 36 and (no_loops[0] != no_loops[1]).all()


@pytest.mark.parametrize("factory", [gnn_agent, make_agent_gatv2])
def test_forward_masks_and_values(factory):
    envs, obs, info = graph_obs_midway(preset="ortools_toy", num_envs=4, steps=5)
    torch.manual_seed(0)
    agent = factory(envs.single_observation_space, envs.single_action_space, hidden=(16, 16))
    t = {k: torch.as_tensor(v) for k, v in obs.items()}
    mask = torch.as_tensor(info["action_mask"])
    dist, value = agent(t, mask)
    assert value.shape == (4,)
    probs = dist.cats[0].probs
    assert torch.all(probs[mask == 0] < 1e-12)
    torch.testing.assert_close(probs.sum(-1), torch.ones(4))
    a = dist.sample()
    assert mask[torch.arange(4), a[:, 0].long()].all()
    torch.testing.assert_close(agent.value(t), value)
    # the mask of the observation is used when none is passed
    torch.testing.assert_close(agent(t)[0].cats[0].probs, probs)


def test_flat_observation_space_is_a_clear_error():
    env = gym.make(ENV_ID, preset="random_6x6")
    with pytest.raises(ValueError, match="obs_mode='graph'"):
        gnn_agent(env.observation_space, env.action_space)


def sampled_episode(num_envs, samples, **with_samples):
    """A 6x6 episode of an untrained GNN decoding by best of ``samples`` (``with_samples`` options, if any);
    returns the finished envs and the policy."""
    problem = JobShop.from_preset("random_6x6", obs_mode="graph")
    torch.manual_seed(0)
    agent = gnn_agent(problem.observation_space, problem.action_space, hidden=(16, 16))
    envs = gym.make_vec(ENV_ID, num_envs=num_envs, preset="random_6x6")  # a flat env: the policy builds the graph
    policy = GNNPolicy(envs.problem, agent, samples=samples, seed=1)
    if with_samples:
        policy = policy.with_samples(samples, **with_samples)
    obs, info = envs.reset(seed=4)
    policy.reset(envs)
    for _ in range(36):
        obs, _, terminated, _, info = envs.step(policy.act(obs, info))
    assert terminated.all()
    return envs, policy


def test_sampling_replays_the_best_sampled_schedule():
    envs, policy = sampled_episode(3, 5)
    for b in range(3):
        sched = envs.problem.schedule(envs.state, b)
        assert validate_schedule(sched["durations"], sched["machines"], sched["starts"]) == sched["makespan"]
        assert sched["makespan"] == policy.last_sampled_makespans[b].min()
        assert len(policy.last_sampled_makespans[b]) == 5


@pytest.mark.parametrize("chunk,time_limit,drawn", [(4, None, 6), (4, 1e-9, 4), (None, 1e-9, 6)])
def test_sampling_in_chunks_and_under_a_time_limit(chunk, time_limit, drawn):
    """``chunk`` draws the K schedules a few at a time; ``time_limit`` stops starting new chunks (at least one
    is drawn); the replayed schedule is still the best of those drawn."""
    envs, policy = sampled_episode(2, 6, chunk=chunk, time_limit=time_limit)
    for b in range(2):
        assert len(policy.last_sampled_makespans[b]) == drawn
        assert envs.problem.schedule(envs.state, b)["makespan"] == policy.last_sampled_makespans[b].min()
    with pytest.raises(ValueError, match="chunk"):
        policy.with_samples(6, chunk=0)


def run_cli(capsys, *argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1])


TRAIN = ["--option", "obs_mode=graph", "--option", f"policy={POLICY}", "--set", "feature_set=rich",
         "--option", "num_envs=16", "--option", "num_steps=36", "--option", "gamma=1.0",
         "--option", "learning_rate=0.002", "--option", "update_epochs=8", "--option", "eval_episodes=0",
         "--option", "torch_threads=1"]


def untrained_and_trained(out, **kw):
    """Greedy mean makespans on 48 fixed random 6×6 instances: the agent PPO starts from (same seed) and
    the checkpoint in ``out``, loaded three ways (PPO's loader in a graph env, GNNPolicy in a flat env)."""
    ov = {"feature_set": "rich"}
    graph = JobShop.from_preset("random_6x6", obs_mode="graph", **ov)
    torch.manual_seed(0)  # PPO seeds torch with the run's seed before building its agent
    config = PPOConfig(obs_mode="graph", policy=POLICY)
    untrained = make_agent(config, graph.observation_space, graph.action_space)
    common = dict(episodes=48, seed=123, reference=None, overrides=ov)
    before = evaluate(PPOPolicy(graph, untrained, None), ENV_ID, "random_6x6", obs_mode="graph", **common)
    after = evaluate(out, ENV_ID, "random_6x6", obs_mode="graph", **common)
    flat = JobShop.from_preset("random_6x6", **ov)
    after_flat = evaluate(load_gnn_policy(out, flat), ENV_ID, "random_6x6", **common)
    return before.mean_cost, after.mean_cost, after_flat.mean_cost


def test_cli_training_improves_on_the_untrained_agent(tmp_path, capsys):
    out = str(tmp_path / "gnn")
    code, d = run_cli(capsys, "train", "ppo", "--env", ENV_ID, "--preset", "random_6x6", "--out", out,
                      "--budget-seconds", "40", "--option", "total_timesteps=10000", *TRAIN)
    assert code == 0, d
    assert d["global_step"] >= 5000, d  # the budget stops very slow machines early
    before, after, after_flat = untrained_and_trained(out)
    assert after == after_flat  # the same greedy decisions from the env state as from the observation
    assert after < 0.95 * before, (before, after)
    # the checkpoint also evaluates through the CLI when the env is built in graph mode (see below)
    code, d = run_cli(capsys, "eval", "--env", ENV_ID, "--preset", "random_6x6", "--policy", out,
                      "--set", "feature_set=rich", "--episodes", "4", "--no-reference")
    # `opsrl eval` builds the envs in the obs_mode the checkpoint was trained on (graph here)
    assert code == 0, d
    assert d["mean_cost"] > 0


@pytest.mark.slow
def test_longer_training_matches_mwkr_on_random_6x6(tmp_path, capsys):
    out = str(tmp_path / "gnn")
    code, d = run_cli(capsys, "train", "ppo", "--env", ENV_ID, "--preset", "random_6x6", "--out", out,
                      "--budget-seconds", "600", "--option", "total_timesteps=40000", *TRAIN)
    assert code == 0, d
    _, after, _ = untrained_and_trained(out)
    mwkr = evaluate("mwkr", ENV_ID, "random_6x6", episodes=48, seed=123, reference=None,
                    overrides={"feature_set": "rich"}).mean_cost
    assert after <= 1.02 * mwkr, (after, mwkr)


def test_mixed_size_training_alternates_presets_and_resumes_exactly(tmp_path):
    """``mix_presets``: rollouts take turns between the sizes (one GNN for all), and a run resumed from its
    checkpoint (every size's env stream saved) ends with the same weights as one run straight through."""
    from opsrl.algos.ppo import PPO, train

    opts = dict(obs_mode="graph", policy=POLICY, num_envs=4, num_steps=12, gamma=1.0, update_epochs=1,
                eval_episodes=0, torch_threads=1, checkpoint_every=1, mix_presets=("random_10x10",))
    overrides = {"feature_set": "rich"}
    run = PPO(ENV_ID, "random_6x6", overrides, PPOConfig(**opts, total_timesteps=10**6), 0, str(tmp_path / "a"))
    sizes = []
    for k in range(4):
        run.use_env_set(k % 2)
        sizes.append(run.envs.problem.params.n_jobs)
        run.collect()
    assert sizes == [6, 10, 6, 10]
    straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
    full, half = 4 * 12 * 4, 4 * 12 * 2  # 4 and 2 updates (each stream's 24 steps end no episode)
    train(ENV_ID, "random_6x6", overrides, 0, 600, straight, total_timesteps=full, **opts)
    train(ENV_ID, "random_6x6", overrides, 0, 600, resumed, total_timesteps=half, **opts)
    train(ENV_ID, "random_6x6", overrides, 0, 600, resumed, total_timesteps=full, **opts)
    a = torch.load(f"{straight}/agent.pt", weights_only=True)["agent"]
    b = torch.load(f"{resumed}/agent.pt", weights_only=True)["agent"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    other = PPOConfig(**{**opts, "mix_presets": ("random_10x10", "random_15x15")})
    with pytest.raises(ValueError, match="mix_presets"):
        PPO(ENV_ID, "random_6x6", overrides, other, 0, resumed).try_resume()
