"""Invariants under random play (hypothesis): weights on the simplex, wealth > 0, costs ≥ 0 and bounded,
and no look-ahead: changing prices after the current date changes neither the observation nor any
baseline's action."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsrl.core.env import BatchedVectorEnv
from opsrl.policies.base import make_policy

ENV_ID = "opsrl/Portfolio-v0"
PROBLEM = "opsrl.envs.portfolio.env:Portfolio"
SMALL = {"n_days": 500, "n_assets": 4, "window": 12, "horizon": 30}
BATCH = 32


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), data=st.sampled_from(["gbm", "regime"]),
       cost_model=st.sampled_from(["linear", "exact"]), action_map=st.sampled_from(["softmax", "projection"]),
       reward=st.sampled_from(["log_return", "dsr", "avg_sharpe", "terminal_sharpe"]),
       cost_rate=st.floats(0.0, 0.05), scale=st.floats(0.0, 50.0), init=st.sampled_from(["cash", "uniform"]))
def test_simplex_wealth_costs(seed, data, cost_model, action_map, reward, cost_rate, scale, init):
    env = BatchedVectorEnv(PROBLEM, num_envs=BATCH, data=data, cost_model=cost_model, action_map=action_map,
                           reward=reward, cost_rate=cost_rate, init_weights=init, **SMALL)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    for _ in range(SMALL["horizon"] + 3):  # through one autoreset
        prev_w = env.state.w.copy()
        acts = rng.normal(size=(BATCH, 5)) * scale
        _, reward_, _, _, info = env.step(acts)
        active = info["mu"] > 0  # rows that autoreset this step report zeros
        for w in (info["weights"][active], env.state.w):
            assert (w >= 0).all()
            np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
        assert (env.state.wealth > 0).all() and np.isfinite(reward_).all()
        mu = info["mu"][active]
        # costs are non-negative and at most what a full round trip of every risky weight would cost
        assert (mu <= 1 + 1e-15).all() and (mu >= 1 - 2 * cost_rate - 1e-12).all()
        assert (info["costs"]["transaction"] >= -1e-15).all()
        assert ((info["turnover"] >= 0) & (info["turnover"] <= 1 + 1e-12)).all()
        base = np.abs(info["weights"][active, 1:] - prev_w[active, 1:]).sum(1)
        if cost_model == "linear":
            np.testing.assert_allclose(mu, 1 - cost_rate * base, atol=1e-14)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), obs_mode=st.sampled_from(["flat", "image", "image_huang"]),
       shock=st.floats(0.2, 5.0).filter(lambda s: abs(s - 1.0) > 0.05))
def test_no_look_ahead_in_observations(seed, obs_mode, shock):
    """Prices after the current date d never reach the observation at d."""
    env = BatchedVectorEnv(PROBLEM, num_envs=8, obs_mode=obs_mode, **SMALL)
    obs, _ = env.reset(seed=seed)
    p = env.problem
    p.prices = p.prices.copy()  # the cached market is read-only; scramble a private copy
    d = env.state.d.copy()
    prices = p.prices.copy()
    try:
        p.prices[:] = prices
        for b in range(8):  # scramble everything after each env's current date, one env at a time
            p.prices[d[b] + 1:] *= shock
            again = p.observe(env.state)
            p.prices[:] = prices
            if isinstance(obs, dict):
                np.testing.assert_array_equal(again["prices"][b], obs["prices"][b])
            else:
                np.testing.assert_array_equal(again[b], obs[b])
        # and the observation does depend on the current date's prices (the window is not stale)
        p.prices[d[0]] *= shock
        changed = p.observe(env.state)
        first = changed["prices"][0] if isinstance(changed, dict) else changed[0]
        orig = obs["prices"][0] if isinstance(obs, dict) else obs[0]
        assert not np.array_equal(first, orig)
    finally:
        p.prices[:] = prices


@pytest.mark.parametrize("policy", ["equal_weight", "buy_and_hold", "min_variance", "mean_cvar", "eg", "olmar"])
def test_no_look_ahead_in_admissible_baselines(policy):
    """Every admissible baseline takes the same action at date d when all prices after d change."""
    kw = {**SMALL, "n_days": 300, "horizon": 8}

    def actions(steps: int, perturb_after: int | None = None):
        env = BatchedVectorEnv(PROBLEM, num_envs=1, **kw)
        p = env.problem
        if perturb_after is not None:  # a private copy of the market with a different future
            rng = np.random.default_rng(0)
            p.rel = p.rel.copy()
            p.rel[perturb_after + 1:, 1:] *= rng.uniform(0.5, 1.5, p.rel[perturb_after + 1:, 1:].shape)
            prices = p.market.prices.copy()
            prices[perturb_after + 1:] *= 1.7
            p.market = type(p.market)(p.market.dates, prices, p.market.tickers, p.market.source)
            p.prices = np.ascontiguousarray(prices[:, :p.n_features])
        pol = make_policy(policy, ENV_ID, p)
        obs, info = env.reset(seed=1)
        pol.reset(env)
        out, dates = [], []
        for _ in range(steps):
            dates.append(int(env.state.d[0]))
            out.append(pol.act(obs, info)[0].copy())
            obs, _, _, _, info = env.step(out[-1][None])
        return np.array(out), dates

    base, dates = actions(kw["horizon"])
    for k in (0, 3, kw["horizon"] - 1):
        moved, _ = actions(k + 1, perturb_after=dates[k])
        np.testing.assert_allclose(moved, base[: k + 1], rtol=1e-9, atol=1e-9)
