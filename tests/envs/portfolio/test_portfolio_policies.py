"""Named baselines: each runs through opsrl.eval on the same dates and costs; the online rules match
straightforward loops of their update equations; hindsight BCRP beats every constant mix; the torch twin
matches the kernel to 1e-9 and carries gradients; the references are consistent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from opsrl.core.env import BatchedVectorEnv
from opsrl.envs.portfolio import torch_dynamics as TD
from opsrl.envs.portfolio.dynamics import project_simplex
from opsrl.envs.portfolio.env import Portfolio
from opsrl.eval import evaluate
from opsrl.eval.references import references
from opsrl.policies.base import make_policy

ENV_ID = "opsrl/Portfolio-v0"
PROBLEM = "opsrl.envs.portfolio.env:Portfolio"
SMALL = {"n_days": 500, "n_assets": 4, "window": 12, "horizon": 20}


@pytest.mark.parametrize("policy", ["equal_weight", "buy_and_hold", "min_variance", "mean_cvar", "eg", "olmar",
                                    "bcrp", "kelly_oracle"])
def test_every_baseline_evaluates(policy):
    res = evaluate(policy, ENV_ID, episodes=4, seed=0, overrides=SMALL, reference=None)
    assert np.isfinite(res.costs).all() and res.costs.shape == (4,)


def test_regime_oracle_and_wrong_market():
    res = evaluate("regime_oracle", ENV_ID, "synthetic_regime_10", episodes=2, seed=0, overrides=SMALL,
                   reference=None)
    assert np.isfinite(res.mean_cost)
    with pytest.raises(ValueError, match="gbm"):
        evaluate("kelly_oracle", ENV_ID, "synthetic_regime_10", episodes=2, overrides=SMALL, reference=None)


def wealth_path(policy, **kw):
    env = BatchedVectorEnv(PROBLEM, num_envs=1, **{**SMALL, **kw})
    pol = make_policy(policy, ENV_ID, env.problem)
    obs, info = env.reset(seed=3)
    pol.reset(env)
    out = [1.0]
    for _ in range(env.problem.episode_length):
        obs, _, _, _, info = env.step(pol.act(obs, info))
        out.append(float(env.state.wealth[0]))
    return env, np.array(out)


def test_equal_weight_and_buy_and_hold_without_costs_match_their_closed_forms():
    env, ucrp = wealth_path("equal_weight", cost_rate=0.0)
    d0, H = int(env.state.d0[0]), env.problem.episode_length
    x = env.problem.rel[d0 + 1:d0 + H + 1, 1:]
    assert ucrp[-1] == pytest.approx(np.prod(x.mean(1)), rel=1e-12)
    env, ubah = wealth_path("buy_and_hold", cost_rate=0.0)
    v = env.problem.market.close
    assert ubah[-1] == pytest.approx(np.mean(v[d0 + H] / v[d0]), rel=1e-12)


def test_equal_weight_pays_the_entry_cost_from_cash():
    _, free = wealth_path("equal_weight", cost_rate=0.0)
    _, paid = wealth_path("equal_weight", cost_rate=0.0025, cost_model="exact")
    assert paid[1] == pytest.approx(free[1] * (1 - 0.0025), rel=1e-12)  # all cash -> assets costs c exactly


def test_eg_and_olmar_match_their_update_loops():
    env, eg = wealth_path("eg", cost_rate=0.0)
    p = env.problem
    d0, H = int(env.state.d0[0]), p.episode_length
    x = p.rel[d0 + 1:d0 + H + 1, 1:]
    b, V = np.full(4, 0.25), 1.0
    for t in range(H):
        V *= b @ x[t]
        b = b * np.exp(0.05 * x[t] / (b @ x[t]))
        b /= b.sum()
    assert eg[-1] == pytest.approx(V, rel=1e-12)
    env, ol = wealth_path("olmar", cost_rate=0.0)
    close = p.market.close
    b, V = np.full(4, 0.25), 1.0
    for t in range(H):
        d = d0 + t
        if t > 0:
            xp = np.mean([close[d - k] / close[d] for k in range(5)], axis=0)
            dev = xp - xp.mean()
            lam = max(0.0, (10 - b @ xp) / (dev @ dev))
            b = project_simplex((b + lam * dev)[None])[0]
        V *= b @ x[t]
    assert ol[-1] == pytest.approx(V, rel=1e-10)


def test_bcrp_beats_constant_mixes_in_hindsight():
    _, bcrp = wealth_path("bcrp", cost_rate=0.0)
    _, ucrp = wealth_path("equal_weight", cost_rate=0.0)
    assert bcrp[-1] >= ucrp[-1] * (1 - 1e-9)


def test_references_bound_the_baselines_on_the_same_scenarios():
    refs = references(ENV_ID, None, SMALL, episodes=6, seed=0)
    kinds = [r.kind for r in refs]
    assert kinds == ["best_known", "bound", "policy"]
    bcrp, switch, ew = refs
    assert switch.value <= bcrp.value <= ew.value + 1e-9  # costs: lower is better
    # the BCRP policy (its costs included) cannot beat its own cost-free hindsight value
    res = evaluate("bcrp", ENV_ID, episodes=6, seed=0, overrides=SMALL, reference=None)
    assert res.mean_cost >= bcrp.value - 1e-9
    auto = evaluate("equal_weight", ENV_ID, episodes=6, seed=0, overrides=SMALL)
    assert auto.reference.kind == "best_known" and auto.gap_pct is not None


def test_references_for_sharpe_rewards_use_the_equal_weight_score():
    refs = references(ENV_ID, None, {**SMALL, "reward": "avg_sharpe"}, episodes=4, seed=0)
    assert [r.kind for r in refs] == ["policy"]


# -- torch twin -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cost_model", ["linear", "exact"])
@pytest.mark.parametrize("action_map", ["softmax", "projection"])
def test_torch_twin_matches_the_kernel(cost_model, action_map):
    p = Portfolio.from_preset(**SMALL, cost_model=cost_model, action_map=action_map, cost_rate=0.01)
    B, H = 32, p.episode_length
    s = p.init(B, np.random.default_rng(0))
    w0 = torch.as_tensor(s.w.copy())
    y = TD.episode_relatives(p, s.d0)
    acts = np.random.default_rng(1).normal(size=(H, B, 5)) * 2
    rewards, weights = [], []
    for k in range(H):
        tr = p.step(s, acts[k], np.ones(B, bool), None)
        rewards.append(tr.reward)
        weights.append(s.w.copy())
    rho, wealth, _ = TD.rollout(w0, y, lambda w, k: torch.as_tensor(acts[k]), cost_rate=0.01,
                                cost_model=cost_model, action_map=action_map)
    np.testing.assert_allclose(rho.numpy(), np.stack(rewards, 1), rtol=0, atol=1e-9)
    np.testing.assert_allclose(wealth[:, -1].numpy(), s.wealth, rtol=1e-9)


def test_torch_twin_differentiates_log_wealth():
    p = Portfolio.from_preset(**SMALL, cost_model="exact")
    s = p.init(16, np.random.default_rng(0))
    y = TD.episode_relatives(p, s.d0)
    logits = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    rho, _, _ = TD.rollout(torch.as_tensor(s.w), y, lambda w, k: logits.expand_as(w), cost_rate=0.0025,
                           cost_model="exact")
    loss = -rho.sum(1).mean()
    loss.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    # the gradient is the derivative: check one coordinate by central differences
    eps = 1e-6

    def f(z):
        with torch.no_grad():
            r, _, _ = TD.rollout(torch.as_tensor(s.w), y, lambda w, k: z.expand_as(w), cost_rate=0.0025,
                                 cost_model="exact")
            return float(-r.sum(1).mean())

    e = torch.zeros(5, dtype=torch.float64)
    e[2] = eps
    assert float(logits.grad[2]) == pytest.approx((f(logits.detach() + e) - f(logits.detach() - e)) / (2 * eps),
                                                  rel=1e-4, abs=1e-8)
