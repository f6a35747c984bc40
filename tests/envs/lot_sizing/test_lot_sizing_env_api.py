"""Conformance of opsrl/LotSizing-v0: Gymnasium API on every preset, determinism, pickling, NEXT_STEP
autoreset, masks and the treatment of masked actions, compatibility mode, the generator and the reference
JSON format, clear errors for bad input."""

from __future__ import annotations

import os
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import opsrl
from opsrl.core.errors import ParameterError
from opsrl.envs.lot_sizing.params import INSTANCE_DIR, PDPPO_SIZES, LotSizingParams, write_reference_json
from opsrl.testing import assert_single_env_matches_vector, rendered

ENV_ID = "opsrl/LotSizing-v0"
PRESETS = opsrl.list_presets(ENV_ID)
REPRESENTATIVE = ["tiny", "tiny_2i1m_t3", "pdppo_15x5", "pdppo_25x15", "eswa_t5_i20_m5"]


def test_presets_of_the_spec_are_registered():
    assert {"tiny", "tiny_2i1m_t3", "tiny_2i1m_vi", "pdppo_15x5", "pdppo_20x10", "pdppo_25x10",
            "pdppo_25x15", "eswa_t5_i10_m2", "eswa_t5_i100_m10"} <= set(PRESETS)
    p = LotSizingParams.from_preset("pdppo_25x15")
    assert (p.n_items, p.n_machines, p.horizon) == (25, 15, 100)


@pytest.mark.parametrize("preset", PRESETS)
def test_check_env_every_preset(preset):
    env = gym.make(ENV_ID, preset=preset)
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("kw", [dict(compat="simpleplant"), dict(exclusive_items=True), dict(obs_normalize=True),
                                dict(obs_setup=False, obs_time=False)])
def test_check_env_options(kw):
    check_env(gym.make(ENV_ID, preset="pdppo_15x5", **kw).unwrapped, skip_render_check=True)


def test_observation_layout_and_post_decision_obs():
    env = gym.make(ENV_ID, preset="pdppo_15x5")
    problem = env.unwrapped.problem
    n_it, M = 15, 5
    obs, info = env.reset(seed=0)
    assert obs.shape == (n_it + M * (n_it + 1) + 1,) and obs[-1] == 0.0
    state = env.unwrapped.state
    np.testing.assert_array_equal(obs[:n_it], state.inv[0])
    np.testing.assert_array_equal(obs[n_it:-1].reshape(M, n_it + 1).argmax(1), state.setup[0])
    assert info["action_mask"].shape == (M, n_it + 1) and info["action_mask"].dtype == np.int8
    inv0 = state.inv[0].copy()
    action = np.array([1, 2, 3, 0, 5])
    expected_post, expected_setup, setup_cost = problem.post_decision(state, action[None])
    obs, r, *_, info = env.step(action)
    post = info["post_decision_obs"]
    np.testing.assert_array_equal(post[:n_it], expected_post[0])
    np.testing.assert_array_equal(post[n_it:-1].reshape(M, n_it + 1).argmax(1), expected_setup[0])
    assert post[-1] == 0.0 and obs[-1] == pytest.approx(1 / 100)
    assert info["post_decision_reward"] == pytest.approx(-setup_cost[0]) == pytest.approx(-info["costs"]["setup"])
    np.testing.assert_array_equal(post[:n_it], inv0 + info["produced"])
    assert r == pytest.approx(-sum(info["costs"].values()))


def test_masked_actions_are_idle_and_out_of_range_too():
    env = gym.make(ENV_ID, preset="pdppo_15x5")
    env.reset(seed=4)
    mask = env.unwrapped.action_masks()
    m, bad = next((m, i) for m in range(5) for i in range(1, 16) if not mask[m, i])
    runs = []
    for a_m in (bad, 0, -3, 99):
        env.reset(seed=4)
        action = np.array([1, 1, 1, 1, 1])
        action[m] = a_m
        out = env.step(action)
        runs.append((out[0], out[1], out[4]["applied_action"][m]))
    for obs, r, applied in runs[1:]:
        np.testing.assert_array_equal(obs, runs[0][0])
        assert r == runs[0][1] and applied == 0
    assert runs[0][2] == 0


def test_exclusive_items_lower_index_machine_wins():
    env = gym.make(ENV_ID, preset="pdppo_15x5", exclusive_items=True)
    env.reset(seed=0)
    P = env.unwrapped.problem.instance.production
    item = next(i for i in range(15) if (P[:, i] > 0).sum() >= 2)
    m1, m2 = np.flatnonzero(P[:, item] > 0)[:2]
    action = np.zeros(5, dtype=np.int64)
    action[[m1, m2]] = item + 1
    info = env.step(action)[4]
    assert info["applied_action"][m1] == item + 1 and info["applied_action"][m2] == 0


def test_compat_mode_reproduces_the_reference_quirks():
    env = gym.make(ENV_ID, preset="pdppo_15x5", compat="simpleplant")
    problem = env.unwrapped.problem
    obs, info = env.reset(seed=0)
    assert obs.shape == (15,) and "action_mask" not in info
    with pytest.raises(AttributeError):
        env.unwrapped.action_masks()
    P, L = problem.instance.production, problem.instance.setup_loss
    m, i = next((m, i) for m in range(5) for i in range(15) if P[m, i] == 0)
    state = env.unwrapped.state
    state.setup[0, m] = 0
    action = np.zeros(5, dtype=np.int64)
    action[m] = i + 1
    before = state.inv[0, i]
    info = env.step(action)[4]
    # an infeasible pair: the setup is paid and production is 0 − Λ (stock destroyed)
    assert info["costs"]["setup"] == problem.instance.setup_cost[m, i]
    assert info["post_decision_obs"][i] == before - L[m, i]
    assert info["applied_action"][m] == i + 1


def test_clean_mode_never_lets_a_setup_destroy_stock():
    env = gym.make(ENV_ID, preset="tiny", machine_production=((1, 1),), setup_loss=((3, 3),))
    env.reset(seed=0)
    info = env.step(np.array([1]))[4]
    assert info["produced"][0] == 0 and info["costs"]["setup"] == 1.0
    env = gym.make(ENV_ID, preset="tiny", machine_production=((1, 1),), setup_loss=((3, 3),), compat="simpleplant")
    env.reset(seed=0)
    assert env.step(np.array([1]))[4]["produced"][0] == -2


def rollout_single(preset, seed, steps=40, **kw):
    env = gym.make(ENV_ID, preset=preset, **kw)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(99)
    out = [obs]
    for _ in range(steps):
        obs, r, term, trunc, _ = env.step(rng.integers(0, env.action_space.nvec))
        out.append(np.append(obs, r))
        if term or trunc:
            obs, _ = env.reset()
    return np.concatenate(out)


@pytest.mark.parametrize("preset", REPRESENTATIVE)
def test_same_seed_same_trajectory_single_and_vector(preset):
    a, b = rollout_single(preset, 7), rollout_single(preset, 7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, rollout_single(preset, 8))
    horizon = gym.make(ENV_ID, preset=preset).unwrapped.problem.horizon
    assert_single_env_matches_vector(ENV_ID, preset, steps=horizon)


def test_vector_env_is_native_and_parallel_driver_matches_serial():
    vec = gym.make_vec(ENV_ID, num_envs=600, preset="pdppo_15x5")  # >= PARALLEL_MIN_BATCH: prange driver
    assert type(vec.unwrapped).__name__ == "BatchedVectorEnv"
    assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    small = gym.make_vec(ENV_ID, num_envs=600, preset="pdppo_15x5")
    rng = np.random.default_rng(0)
    vec.reset(seed=5)
    small.reset(seed=5)
    for _ in range(10):
        acts = rng.integers(0, 16, (600, 5))
        o1, r1, *_ = vec.step(acts)
        # the same batch stepped in two halves (serial driver) gives the same result
        st = small.unwrapped.state
        halves = []
        for rows in (slice(0, 300), slice(300, 600)):
            sub = type(st)(*(x[rows].copy() for x in st))
            tr = small.unwrapped.problem.step(sub, acts[rows], np.ones(300, bool), None)
            halves.append((sub, tr.reward))
        for name in st._fields:
            getattr(st, name)[:] = np.concatenate([getattr(h[0], name) for h in halves])
        np.testing.assert_array_equal(r1, np.concatenate([h[1] for h in halves]))
        np.testing.assert_array_equal(vec.unwrapped.state.inv, st.inv)


def test_next_step_autoreset_and_termination():
    vec = gym.make_vec(ENV_ID, num_envs=3, preset="tiny_2i1m_t3")
    vec.reset(seed=0)
    act = np.ones((3, 1), dtype=np.int64)
    for t in range(3):
        _, reward, term, trunc, _ = vec.step(act)
        assert not trunc.any()
        assert term.all() == (t == 2)
    _, reward, term, trunc, _ = vec.step(act)  # ignored; the envs restart
    assert (reward == 0).all() and not term.any() and (vec.unwrapped.state.t == 0).all()


def test_pickle_round_trip_continues_identically():
    env = gym.make(ENV_ID, preset="pdppo_15x5")
    env.reset(seed=1)
    for _ in range(5):
        env.step(env.action_space.sample())
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(10):
        act = env.action_space.sample()
        a, b = env.step(act), clone.step(act)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1] == b[1]


def test_random_reset_distribution_and_fixed_reset():
    problem = opsrl.make_problem(ENV_ID, "pdppo_15x5")
    state = problem.init(4000, np.random.default_rng(0))
    assert state.inv.min() == 0 and state.inv.max() == 99
    P = problem.instance.production
    for m in range(5):
        assert (P[m, state.setup[:, m] - 1] > 0).all()
        assert set(np.unique(state.setup[:, m])) == set(np.flatnonzero(P[m] > 0) + 1)
    fixed = opsrl.make_problem(ENV_ID, "pdppo_15x5", random_reset=False).init(3, np.random.default_rng(0))
    inst = problem.instance
    assert (fixed.inv == inst.initial_inventory).all() and (fixed.setup == inst.initial_setup).all()
    assert abs(state.demand.mean() - 8.0) < 0.05 and abs(state.demand.var() - 4.8) < 0.1


def test_render_modes():
    text, _ = rendered(ENV_ID, preset="pdppo_15x5")
    assert "item15" in text and "m5:" in text
    rendered(ENV_ID, steps=5, preset="tiny")


# -- generator and files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", list(PDPPO_SIZES))
def test_shipped_instances_match_the_seeded_generator(preset, tmp_path):
    shipped = LotSizingParams.from_preset(preset, instance_path=os.path.join(INSTANCE_DIR, f"{preset}.json"))
    generated = LotSizingParams.from_preset(preset)
    for a, b in zip(shipped.instance(), generated.instance(), strict=True):
        np.testing.assert_allclose(a, b)
    inst = generated.instance()
    assert (inst.production.sum(0) > 0).all()  # every item has a capable machine (spec §3.1 fix)
    assert set(np.unique(inst.lost_sales)) <= {0.1, 1.1}
    assert inst.production.max() <= 40 and inst.setup_cost.min() >= 15 and inst.setup_cost.max() <= 30
    assert set(np.unique(inst.setup_loss)) <= {1, 2, 3}
    path = tmp_path / "x.json"  # write and read back
    write_reference_json(generated, str(path))
    again = LotSizingParams.from_preset(preset, instance_path=str(path))
    for a, b in zip(again.instance(), inst, strict=True):
        np.testing.assert_allclose(a, b)


def test_generator_overrides_and_lost_sales_modes():
    base = LotSizingParams.from_preset("pdppo_15x5").instance()
    other = LotSizingParams.from_preset("pdppo_15x5", generator_seed=7).instance()
    assert not np.array_equal(base.production, other.production)
    intended = LotSizingParams.from_preset("pdppo_25x15", lost_sales_mode="intended").instance()
    assert set(np.unique(intended.lost_sales)) <= {0.1, 0.2, 0.3}
    # overriding one field leaves the other generated fields unchanged
    fixed_ls = LotSizingParams.from_preset("pdppo_15x5", lost_sales_costs=0.5).instance()
    np.testing.assert_array_equal(fixed_ls.production, base.production)
    assert (fixed_ls.lost_sales == 0.5).all()
    small = LotSizingParams.from_preset("pdppo_15x5", gen_production=(0, 5, 0.1)).instance()
    assert small.production.max() <= 5


def test_reference_json_demand_distributions(tmp_path):
    import json

    d = {"n_items": 2, "n_machines": 1, "machine_production": [[3, 3]], "setup_costs": [[1, 1]],
         "setup_loss": [[1, 1]], "max_inventory_level": [10, 10], "holding_costs": [1, 1],
         "lost_sales_costs": [10, 20], "initial_inventory": [0, 0], "initial_setup": [0],
         "demand_distribution": {"name": "probability_mass_function", "vals": [0, 1, 2],
                                 "probs": [0.341, 0.58, 0.079]}}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(d))
    a = LotSizingParams.from_preset("pdppo_15x5", instance_path=str(path), random_reset=False, horizon=20)
    b = LotSizingParams.from_preset("tiny_2i1m_vi")
    for x, y in zip(a.instance(), b.instance(), strict=True):
        np.testing.assert_allclose(x, y)


# -- bad input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field,value", [("n_items", 0), ("n_machines", -1), ("horizon", 2.5),
                                         ("holding_costs", -1.0), ("lost_sales_costs", float("nan")),
                                         ("max_inventory", 0), ("setup_loss", -1), ("machine_production", 1.5),
                                         ("demand_p", 1.5), ("demand_distribution", "cauchy"), ("compat", "old"),
                                         ("initial_setup", 99), ("gen_production", (5, 1, 0.4)),
                                         ("lost_sales_mode", "x"), ("demand_n", -2)])
def test_bad_parameter_names_field_and_value(field, value):
    with pytest.raises(ParameterError, match=field) as err:
        gym.make(ENV_ID, preset="pdppo_15x5", **{field: value})
    assert repr(value) in str(err.value) or field in ("holding_costs", "setup_loss")


def test_structural_errors_are_clear():
    with pytest.raises(ParameterError, match="no capable machine"):
        gym.make(ENV_ID, preset="tiny", machine_production=((3, 0),))
    P = LotSizingParams.from_preset("pdppo_15x5").instance().production
    k = int(np.flatnonzero(P[0] == 0)[0]) + 1
    with pytest.raises(ParameterError, match="cannot make"):
        LotSizingParams.from_preset("pdppo_15x5", initial_setup=(k, 0, 0, 0, 0))
    with pytest.raises(ParameterError, match="shape"):
        gym.make(ENV_ID, preset="tiny", machine_production=((3, 3, 3),))
    with pytest.raises(ParameterError, match="demand_pmf"):
        gym.make(ENV_ID, preset="tiny", demand_pmf=(0.5, 0.6))
    with pytest.raises(ValueError, match="unknown preset"):
        gym.make(ENV_ID, preset="no_such")


def test_bad_actions():
    env = gym.make(ENV_ID, preset="pdppo_15x5").unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.array([np.nan, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="integers"):
        env.step(np.array([0.5, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="shape"):
        env.step(np.array([1, 2]))
    env.step(np.array([1.0, 0, 0, 0, 0]))  # integral floats are fine


def test_step_after_the_horizon_is_a_clear_error():
    env = gym.make(ENV_ID, preset="tiny_2i1m_t3").unwrapped
    env.reset(seed=0)
    for _ in range(3):
        env.step(np.zeros(1, np.int64))
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(1, np.int64))
