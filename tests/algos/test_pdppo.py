"""PDPPO on the shared PPO core: the reward split and the two critics, the advantage rules, every actor
layer trained, checkpoints that load for evaluation and resume; and (slow) PPO and PDPPO within 2% of
the exact DP optimum on the lot-sizing ``tiny`` preset."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from opsrl.algos import ALGOS
from opsrl.algos.pdppo import PDPPO, PDPPOConfig
from opsrl.eval import evaluate

ENV_ID = "opsrl/LotSizing-v0"
# 42 steps per env and rollout = two 20-period episodes + their two autoreset steps (40 valid steps)
SMALL = dict(num_envs=8, num_steps=42, total_timesteps=8 * 40 * 2, update_epochs=2, num_minibatches=2,
             eval_episodes=0, hidden=(16, 16))


def make(tmp_path, **kw):
    return PDPPO(ENV_ID, "tiny", {"obs_normalize": True}, PDPPOConfig(**{**SMALL, **kw}), seed=0,
                 out=str(tmp_path))


def test_registered_and_bad_options(tmp_path):
    assert ALGOS["pdppo"] == "opsrl.algos.pdppo:train"
    with pytest.raises(ValueError, match="advantage_combine"):
        make(tmp_path, advantage_combine="min")
    with pytest.raises(ValueError, match="post_decision_obs"):
        PDPPO("opsrl/InventoryNetwork-v0", "one_store_lost_sales", {}, PDPPOConfig(**SMALL), 0, str(tmp_path))


@pytest.mark.parametrize("combine", ["max", "sum", "pre_only"])
def test_reward_split_and_advantage_rule(tmp_path, combine):
    run = make(tmp_path, advantage_combine=combine, normalize_reward=False)
    buf = run.collect()
    valid = buf["valid"] > 0
    # r^x is minus the setup cost: never positive, and the stochastic part carries the rest
    assert (buf["rewards_x"] <= 0).all() and (buf["rewards_x"][~valid] == 0).all()
    r_s = buf["rewards"] - buf["rewards_x"]
    assert (r_s[valid] <= 1e-12).all()
    assert (buf["rewards_x"][valid] < 0).any()  # the random initial policy switches setups
    adv, ret = run.advantages(buf)
    adv_pre = (ret - run.denormalize_value(torch.stack(buf["values"]))).numpy()
    with torch.no_grad():
        v_x = run.denormalize_post(run.post_value(torch.as_tensor(buf["post_obs"]).flatten(0, 1)))
    adv_post = run._post_returns.numpy() - v_x.numpy().reshape(adv_pre.shape)
    expected = {"max": np.maximum(adv_pre, adv_post), "sum": adv_pre + adv_post, "pre_only": adv_pre}[combine]
    np.testing.assert_allclose(adv.numpy(), expected, rtol=1e-5, atol=1e-4)
    # with λ = 1 the post stream's return is the discounted sum of r^x to the end of the episode
    g = run.config.gamma
    t_end = int(np.flatnonzero(buf["done"][:, 0])[0])
    mc = sum(g**k * buf["rewards_x"][k, 0] for k in range(t_end + 1))
    assert run._post_returns[0, 0].item() == pytest.approx(mc, rel=1e-4, abs=1e-4)


def test_every_actor_layer_and_both_critics_learn(tmp_path):
    run = make(tmp_path)
    before = {k: v.clone() for k, v in run.agent.state_dict().items()}
    buf = run.collect()
    adv, ret = run.advantages(buf)
    run.update(run.flatten(buf, adv, ret))
    after = run.agent.state_dict()
    for name in before:
        if name.endswith("weight"):
            assert not torch.equal(before[name], after[name]), f"{name} was not optimised"
    assert any(k.startswith("post_critic.") for k in after)


def test_checkpoint_evaluates_and_resumes(tmp_path):
    from opsrl.algos.pdppo import train

    out = tmp_path / "run"
    first = train(ENV_ID, "tiny", {"obs_normalize": True}, seed=0, budget_seconds=60, out=str(out), **SMALL)
    assert first["updates"] == 2
    res = evaluate(str(out), ENV_ID, "tiny", episodes=16, overrides={"obs_normalize": True}, reference=None)
    assert res.policy == str(out) and np.isfinite(res.mean_cost)
    again = train(ENV_ID, "tiny", {"obs_normalize": True}, seed=0, budget_seconds=60, out=str(out),
                  **{**SMALL, "total_timesteps": 8 * 40 * 3})
    assert again["updates"] == 3  # resumed: one more update, not three


@pytest.mark.slow
@pytest.mark.parametrize("algo,options", [("ppo", {}), ("pdppo", {"advantage_combine": "sum"})])
def test_within_two_percent_of_the_dp_optimum_on_tiny(tmp_path, algo, options):
    """About 2 minutes each on a busy 2-core machine (400k env steps). PDPPO with the paper's max rule
    ends +6.9% to +8.1% above the optimum in the same budget (seeds 0, 1): A^post of the setup stream is
    ≈ 0, so max(A^pre, A^post) ≈ max(A^pre, 0) drops the penalty of stock-outs and the policy under-stocks
    (analysis in ``opsrl/algos/pdppo.py``; spec §7.9), so the 2% claim is tested with ``sum``."""
    from opsrl.core.env import load_object
    from opsrl.eval.references import best_reference

    opt = best_reference(ENV_ID, "tiny", {"obs_normalize": True})
    assert opt.kind == "optimum"
    load_object(ALGOS[algo])(ENV_ID, "tiny", {"obs_normalize": True}, seed=0, budget_seconds=300,
                             out=str(tmp_path), num_envs=64, num_steps=84, total_timesteps=400_000,
                             eval_episodes=0, **options)
    res = evaluate(str(tmp_path), ENV_ID, "tiny", episodes=4000, seed=0, overrides={"obs_normalize": True},
                   batch_size=4000, reference=opt)
    assert res.mean_cost <= 1.02 * opt.value, (res.mean_cost, opt.value)
