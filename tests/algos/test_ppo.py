"""The PPO core: it learns the optimum of toy problems (continuous and masked discrete), respects masks,
resumes a run exactly, and its checkpoints evaluate through ``opsrl eval``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from opsrl import registration
from opsrl.algos.ppo import PPO, PPOConfig, load_policy, train
from opsrl.eval import evaluate
from opsrl.registration import EnvEntry

TOYS = (
    EnvEntry(id="test/Tracking-v0", problem="toy_problems:Tracking", params="toy_problems:ToyParams",
             policies={}, references="toy_problems:ToyParams"),
    EnvEntry(id="test/MaskedBandit-v0", problem="toy_problems:MaskedBandit", params="toy_problems:ToyParams",
             policies={}, references="toy_problems:ToyParams"),
)


@pytest.fixture(autouse=True)
def toy_envs(monkeypatch):
    monkeypatch.syspath_prepend(__file__.rsplit("/", 1)[0])
    monkeypatch.setattr(registration, "ENVS", registration.ENVS + TOYS)


FAST = dict(num_envs=16, num_steps=32, eval_episodes=0, learning_rate=3e-3, torch_threads=1)


def test_learns_continuous_tracking(tmp_path):
    summary = train("test/Tracking-v0", None, {}, seed=0, budget_seconds=60, out=str(tmp_path),
                    total_timesteps=40_000, **FAST)
    res = evaluate(str(tmp_path), "test/Tracking-v0", episodes=200, reference=None)
    # a random policy pays E|a - x|² ≈ 2·(4/3 + 1/3) per step; the optimum pays 0
    assert summary["global_step"] >= 40_000
    assert res.mean_cost < 0.1 * 8, res.mean_cost


def test_learns_masked_bandit_and_never_picks_a_masked_arm(tmp_path):
    train("test/MaskedBandit-v0", None, {}, seed=1, budget_seconds=60, out=str(tmp_path),
          total_timesteps=20_000, ent_coef=0.01, **FAST)  # arm 3 would raise inside the env
    res = evaluate(str(tmp_path), "test/MaskedBandit-v0", episodes=200, reference=None)
    assert res.mean_cost == pytest.approx(-4.0)  # every pull pays: the optimum


def test_resume_is_exact(tmp_path):
    cfg = dict(FAST, total_timesteps=16 * 32 * 4, checkpoint_every=1)
    straight = tmp_path / "straight"
    train("test/Tracking-v0", None, {}, seed=3, budget_seconds=60, out=str(straight), **cfg)
    resumed = tmp_path / "resumed"
    half = dict(cfg, total_timesteps=16 * 32 * 2)
    train("test/Tracking-v0", None, {}, seed=3, budget_seconds=60, out=str(resumed), **half)
    train("test/Tracking-v0", None, {}, seed=3, budget_seconds=60, out=str(resumed), **cfg)
    a = torch.load(straight / "agent.pt", weights_only=True)["agent"]
    b = torch.load(resumed / "agent.pt", weights_only=True)["agent"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    def updates(run):
        return [r.split(",")[:2] for r in (run / "progress.csv").read_text().strip().splitlines()[1:]]

    assert updates(resumed) == updates(straight)  # the log continues, nothing repeated or lost


def test_init_from_starts_from_the_checkpoint_and_resuming_ignores_it(tmp_path):
    source, tuned = tmp_path / "source", tmp_path / "tuned"
    train("test/Tracking-v0", None, {}, seed=0, budget_seconds=60, out=str(source), total_timesteps=40_000, **FAST)
    learned = torch.load(source / "agent.pt", weights_only=True)
    run = PPO("test/Tracking-v0", None, {}, PPOConfig(**FAST, init_from=str(source)), 5, str(tuned))
    run.start()
    for k, v in learned["agent"].items():
        torch.testing.assert_close(run.agent.state_dict()[k], v, rtol=0, atol=0)
    np.testing.assert_array_equal(run.obs_rms.mean, learned["obs_rms"]["mean"].numpy())
    assert run.global_step == 0  # a new run: fresh optimiser and counters
    # a rollout or two of fine-tuning keeps the source's quality
    summary = train("test/Tracking-v0", None, {}, seed=5, budget_seconds=60, out=str(tuned),
                    total_timesteps=16 * 32, init_from=str(source), **FAST)
    assert evaluate(str(tuned), "test/Tracking-v0", episodes=200, reference=None).mean_cost < 0.1 * 8
    # resuming its own checkpoint wins over init_from (which is never re-applied)
    resumed = PPO("test/Tracking-v0", None, {}, PPOConfig(**FAST, init_from=str(source)), 5, str(tuned))
    resumed.start()
    assert resumed.global_step == summary["global_step"] > 0
    with pytest.raises(FileNotFoundError, match="init_from"):
        PPO("test/Tracking-v0", None, {}, PPOConfig(**FAST, init_from=str(tmp_path / "nowhere")), 0,
            str(tmp_path / "x")).start()
    wider = PPOConfig(**dict(FAST, hidden=(8,)), init_from=str(source))
    with pytest.raises(ValueError, match="does not match"):
        PPO("test/Tracking-v0", None, {}, wider, 0, str(tmp_path / "y")).start()


def test_budget_stops_and_the_checkpoint_loads(tmp_path):
    run = PPO("test/Tracking-v0", None, {}, PPOConfig(**dict(FAST, total_timesteps=10**9)), 0, str(tmp_path))
    summary = run.run(budget_seconds=2.0)
    assert 0 < summary["global_step"] < 10**9
    policy = load_policy(str(tmp_path), run.envs.problem)
    obs = np.zeros((3, 2), np.float32)
    assert policy.act(obs, {}).shape == (3, 2)


def test_inventory_ppo_learns_something(tmp_path):
    """On an inventory preset PPO must at least beat never ordering within a short budget."""
    env = "opsrl/InventoryNetwork-v0"
    train(env, "one_store_lost_sales", {}, seed=0, budget_seconds=25, out=str(tmp_path),
          num_envs=64, num_steps=64, eval_episodes=0)
    kw = dict(episodes=100, seed=0, reference=None)
    assert evaluate(str(tmp_path), env, "one_store_lost_sales", **kw).mean_cost < \
        evaluate("zero", env, "one_store_lost_sales", **kw).mean_cost
