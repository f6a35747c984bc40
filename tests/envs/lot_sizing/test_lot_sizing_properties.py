"""Invariants under random play (hypothesis) on every preset: stock balance, caps, setups, cost split —
and the NumPy transcription of §2.3 (``dynamics.step_numpy``) equals the numba kernel step for step."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import opsrl
from opsrl.core.env import BatchedVectorEnv
from opsrl.envs.lot_sizing.dynamics import step_numpy

ENV_ID = "opsrl/LotSizing-v0"
PROBLEM = "opsrl.envs.lot_sizing.env:LotSizing"
PRESETS = opsrl.list_presets(ENV_ID)
BATCH, STEPS = 24, 30


@settings(max_examples=40, deadline=None)
@given(preset=st.sampled_from(PRESETS), seed=st.integers(0, 2**31 - 1), idle_share=st.floats(0.0, 1.0),
       invalid_share=st.floats(0.0, 0.3), compat=st.booleans(), exclusive=st.booleans())
def test_invariants_and_numpy_oracle(preset, seed, idle_share, invalid_share, compat, exclusive):
    env = BatchedVectorEnv(PROBLEM, num_envs=BATCH, preset=preset, compat="simpleplant" if compat else "clean",
                           exclusive_items=exclusive)
    problem = env.problem
    inst = problem.instance
    n_it, M = problem.n_items, problem.n_machines
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    for _ in range(min(STEPS, problem.horizon)):
        st_ = env.state
        before_inv, before_setup, t = st_.inv.copy(), st_.setup.copy(), st_.t.copy()
        demand_t = st_.demand[np.arange(BATCH), np.minimum(t, problem.horizon - 1)]
        actions = rng.integers(0, n_it + 1, (BATCH, M))
        actions[rng.uniform(size=actions.shape) < idle_share] = 0
        bad = rng.uniform(size=actions.shape) < invalid_share
        actions[bad] = rng.choice([-1, n_it + 1, n_it + 7], size=bad.sum())
        obs, reward, term, trunc, info = env.step(actions)
        active = t < problem.horizon  # rows that were not autoresetting
        if not active.any():
            continue
        a = active
        # the NumPy oracle gives the same step
        inv_np, setup_np, reward_np, costs_np, post_np = step_numpy(
            before_inv[a], before_setup[a], demand_t[a], actions[a], inst, compat=problem.compat,
            exclusive=problem.exclusive)
        np.testing.assert_array_equal(env.state.inv[a], inv_np)
        np.testing.assert_array_equal(env.state.setup[a], setup_np)
        np.testing.assert_allclose(reward[a], reward_np, rtol=1e-12, atol=1e-9)
        for k, v in costs_np.items():
            np.testing.assert_allclose(info["costs"][k][a], v, rtol=1e-12, atol=1e-9)
        # stock balance: end = start + produced − demand + lost − disposed
        after = env.state.inv[a]
        np.testing.assert_array_equal(
            after, before_inv[a] + info["produced"][a] - info["demand"][a] + info["lost_units"][a]
            - info["disposed_units"][a])
        np.testing.assert_array_equal(post_np, before_inv[a] + info["produced"][a])
        # caps and signs
        assert (after >= 0).all() and (after <= inst.max_inventory).all()
        assert (info["disposed_units"][a] >= 0).all() and (info["lost_units"][a] >= 0).all()
        if not problem.compat:
            assert (info["produced"][a] >= 0).all()
            assert (info["lost_units"][a] <= info["demand"][a]).all()
        # setups: the new setup is the applied action; applied actions are feasible and within range
        applied = info["applied_action"][a]
        np.testing.assert_array_equal(env.state.setup[a], applied)
        assert ((applied >= 0) & (applied <= n_it)).all()
        if not problem.compat:
            rows, mach = np.nonzero(applied > 0)
            assert (inst.production[mach, applied[rows, mach] - 1] > 0).all()
        if problem.exclusive:
            for row in applied:
                made = row[row > 0]
                assert made.size == np.unique(made).size
        # setup cost is paid exactly for switches; the cost split adds up
        switch = (applied > 0) & (applied != before_setup[a])
        paid = np.array([sum(inst.setup_cost[m, row[m] - 1] for m in range(M) if sw[m])
                         for row, sw in zip(applied, switch, strict=True)])
        np.testing.assert_allclose(info["costs"]["setup"][a], paid, atol=1e-9)
        total = info["costs"]["setup"] + info["costs"]["lost_sales"] + info["costs"]["holding"]
        np.testing.assert_allclose(-reward[a], total[a], atol=1e-9)
        np.testing.assert_allclose(info["post_decision_reward"][a], -info["costs"]["setup"][a])
        # the kernel's post-decision observation is the observation of (I^x, σ_{t+1}, t) of the oracle
        post_inv, post_setup, post_t = problem.decode(info["post_decision_obs"][a])
        np.testing.assert_array_equal(post_inv, post_np)
        if post_setup is not None:
            np.testing.assert_array_equal(post_setup, setup_np)
        if post_t is not None:
            np.testing.assert_array_equal(post_t, t[a])
        np.testing.assert_array_equal(term[a], t[a] + 1 >= problem.horizon)
        # rows that autoreset this step report nothing and terminate nothing
        assert (reward[~a] == 0).all() and not term[~a].any() and (info["applied_action"][~a] == 0).all()
        assert (obs >= env.single_observation_space.low).all() and (obs <= env.single_observation_space.high).all()
