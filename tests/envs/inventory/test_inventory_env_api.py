"""Conformance of opsrl/InventoryNetwork-v0: Gymnasium API on every preset, determinism, pickling,
NEXT_STEP autoreset, clear errors for bad input."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import opsrl
from opsrl.core.errors import ParameterError
from opsrl.testing import assert_single_env_matches_vector, rendered

ENV_ID = "opsrl/InventoryNetwork-v0"
PRESETS = opsrl.list_presets(ENV_ID)
REPRESENTATIVE = ["one_store_backlogged", "one_store_lost_sales", "serial_4", "one_warehouse_lost_n10",
                  "transshipment_n5_L2_p9", "many_warehouses_w3_s20", "independent_stores_lost_n3"]


def test_every_preset_of_the_spec_is_registered():
    for name in ["one_store_backlogged_L20_p39", "one_store_lost_L4_p39", "serial_7", "one_warehouse_lost_n50",
                 "transshipment_n10_L6_p9", "many_warehouses_w6_s50", "independent_stores_lost_n50"]:
        assert name in PRESETS
    assert {"one_store_backlogged", "one_store_lost_sales", "serial", "one_warehouse", "transshipment",
            "many_warehouses"} <= set(PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
def test_check_env_every_preset(preset):
    env = gym.make(ENV_ID, preset=preset)
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("obs_mode", ["flat", "graph"])
def test_check_env_graph_and_post_decision(obs_mode):
    env = gym.make(ENV_ID, preset="one_warehouse_lost_n3", obs_mode=obs_mode, post_decision=True)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())
    assert info["post_decision_obs"].dtype == np.float32


def rollout_single(preset, seed, steps=30, **kw):
    env = gym.make(ENV_ID, preset=preset, **kw)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(99)
    out = [obs]
    for _ in range(steps):
        action = rng.uniform(0, 10, env.action_space.shape).astype(np.float32)
        obs, r, term, trunc, _ = env.step(action)
        out.append(np.append(obs, r))
        if term or trunc:
            obs, _ = env.reset()
    return np.concatenate(out)


@pytest.mark.parametrize("preset", REPRESENTATIVE)
def test_same_seed_same_trajectory_single_and_vector(preset):
    a, b = rollout_single(preset, 7), rollout_single(preset, 7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, rollout_single(preset, 8))
    # the single env is the batch of one: same seed, same trajectory as make_vec(num_envs=1)
    assert_single_env_matches_vector(ENV_ID, preset, steps=20)


def test_vector_env_is_native_and_deterministic():
    vec = gym.make_vec(ENV_ID, num_envs=16, preset="serial_4")
    assert type(vec.unwrapped).__name__ == "BatchedVectorEnv"
    assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    runs = []
    for _ in range(2):
        obs, _ = vec.reset(seed=5)
        acts = np.full((16, vec.single_action_space.shape[0]), 4.0, dtype=np.float32)
        trace = [obs]
        for _ in range(10):
            obs, r, *_ = vec.step(acts)
            trace.append(obs)
        runs.append(np.stack(trace))
    np.testing.assert_array_equal(*runs)


def test_next_step_autoreset():
    vec = gym.make_vec(ENV_ID, num_envs=3, preset="one_store_backlogged", horizon=5, warmup=0)
    vec.reset(seed=0)
    act = np.full((3, 1), 5.0, dtype=np.float32)
    for t in range(5):
        _, reward, term, trunc, _ = vec.step(act)
        assert not term.any()
        assert trunc.all() == (t == 4)
    obs, reward, term, trunc, _ = vec.step(act)  # the action is ignored, the envs restart
    assert (reward == 0).all() and not trunc.any() and not term.any()
    assert (vec.unwrapped.state.t == 0).all()
    _, reward, *_ = vec.step(act)
    assert (reward < 0).all() and (vec.unwrapped.state.t == 1).all()


def test_pickle_round_trip_continues_identically():
    env = gym.make(ENV_ID, preset="one_warehouse_lost_n3")
    env.reset(seed=1)
    for _ in range(5):
        env.step(env.action_space.sample())
    clone = pickle.loads(pickle.dumps(env))
    act = np.full(env.action_space.shape, 3.0, dtype=np.float32)
    for _ in range(5):
        a, b = env.step(act), clone.step(act)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1] == b[1]
    vec = gym.make_vec(ENV_ID, num_envs=4, preset="serial_4")
    vec.reset(seed=0)
    assert pickle.loads(pickle.dumps(vec)).unwrapped.state.inv.shape == vec.unwrapped.state.inv.shape


def test_cost_breakdown_adds_up_to_the_reward():
    env = gym.make(ENV_ID, preset="many_warehouses_w2_s10")
    env.reset(seed=0)
    for _ in range(10):
        _, r, _, _, info = env.step(env.action_space.sample())
        assert -r == pytest.approx(sum(info["costs"].values()))
        assert info["node_cost"].sum() == pytest.approx(-r)


def test_render_modes():
    text, _ = rendered(ENV_ID, preset="serial_4")
    assert "store0" in text and "warehouse0" in text


# -- bad input -----------------------------------------------------------------------------------------
def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ValueError, match="one_store_backlogged.*serial_4"):
        gym.make(ENV_ID, preset="no_such_preset")


@pytest.mark.parametrize("field,value", [("holding_cost", -1.0), ("underage_cost", -2.0), ("lead_time", 0),
                                         ("lead_time", -3), ("demand_std", -0.5), ("horizon", 0),
                                         ("demand_correlation", 1.0), ("demand_distribution", "cauchy"),
                                         ("n_stores", 0), ("lead_time", 2.5)])
def test_bad_parameter_names_field_and_value(field, value):
    with pytest.raises(ParameterError, match=field) as err:
        gym.make(ENV_ID, preset="one_store_backlogged", **{field: value})
    assert repr(value) in str(err.value)


def test_unknown_parameter_is_rejected():
    with pytest.raises(ValueError, match="lead_tme"):
        gym.make(ENV_ID, lead_tme=3)


def test_wrong_shaped_demand_series(tmp_path):
    bad = tmp_path / "demand.npy"
    np.save(bad, np.ones((4, 2, 200)))
    with pytest.raises(ParameterError, match="demand_series"):
        gym.make(ENV_ID, preset="one_store_lost_sales", demand_distribution="series", demand_series=str(bad))
    with pytest.raises(ParameterError, match="demand_series"):
        gym.make(ENV_ID, preset="one_store_lost_sales", demand_distribution="series",
                 demand_series=np.ones((4, 1, 10)))  # shorter than the horizon


def test_user_supplied_series_drive_the_demand(tmp_path):
    series = np.arange(3 * 1 * 120, dtype=float).reshape(3, 1, 120) % 7
    path = tmp_path / "demand.csv"
    np.savetxt(path, series.reshape(3, 120), delimiter=",")
    env = gym.make(ENV_ID, preset="one_store_lost_sales", demand_distribution="series", demand_series=str(path))
    env.reset(seed=0)
    seen = [env.step(np.zeros(1, np.float32))[4]["demand"][0] for _ in range(10)]
    assert any(np.array_equal(seen, s[0, :10]) for s in series)


def test_nan_action_is_a_value_error():
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.array([np.nan], dtype=np.float32))


def test_negative_orders_are_treated_as_zero():
    def run(order):
        env = gym.make(ENV_ID, preset="serial_4")
        env.reset(seed=0)
        return [env.step(np.full(4, order, np.float32))[0] for _ in range(6)]

    for a, b in zip(run(-5.0), run(0.0), strict=True):
        np.testing.assert_array_equal(a, b)


def test_step_after_the_horizon_is_a_clear_error():
    env = gym.make(ENV_ID, horizon=3, warmup=0).unwrapped
    env.reset(seed=0)
    for _ in range(3):
        env.step(np.ones(1, np.float32))
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.ones(1, np.float32))


@pytest.mark.parametrize("preset", ["one_store_backlogged", "one_warehouse_lost_n3", "one_store_lost_sales"])
def test_reset_of_all_rows_in_place_equals_a_fresh_init(preset):
    problem = opsrl.make_problem(ENV_ID, preset)
    fresh = problem.init(8, np.random.default_rng(1))
    state = problem.init(8, np.random.default_rng(0))
    problem.reset_rows(state, np.ones(8, dtype=bool), np.random.default_rng(1))
    for a, b in zip(fresh, state, strict=True):
        np.testing.assert_array_equal(a, b)
