"""Conformance of opsrl/RideSharing-v0 and ride_sharing_v0: Gymnasium check_env, PettingZoo API and seed
tests, determinism single == vector, pickling, NEXT_STEP autoreset, clear errors for bad input."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test, parallel_seed_test

import opsrl
from opsrl.core.errors import ParameterError
from opsrl.marl import ride_sharing_v0

ENV_ID = "opsrl/RideSharing-v0"
SYNTHETIC = ["tiny_line_test", "grid_town", "grid_small", "grid_medium", "grid_manhattan_1000",
             "grid_manhattan_1000_nopool"]
DATA = [p for p in opsrl.list_presets(ENV_ID) if p.startswith(("pyhailing", "tlc"))]


def test_presets_of_the_spec_are_registered():
    assert set(SYNTHETIC) | {"pyhailing_evening_1000", "pyhailing_mui_evening", "tlc_ospo_train",
                             "tlc_ospo_test_h14"} <= set(opsrl.list_presets(ENV_ID))


@pytest.mark.parametrize("preset", ["tiny_line_test", "grid_town", "grid_small", "grid_manhattan_1000_nopool"])
def test_check_env(preset):
    check_env(gym.make(ENV_ID, preset=preset).unwrapped, skip_render_check=True)


def test_check_env_dict_observations_and_spaces():
    env = gym.make(ENV_ID, preset="grid_town", obs_mode="dict")
    check_env(env.unwrapped, skip_render_check=True)
    flat = gym.make(ENV_ID, preset="grid_small")
    assert flat.observation_space.shape == (60 * 23 + 60 + 256 * 5 + 256 + 1,)
    big = opsrl.make_problem(ENV_ID, "grid_manhattan_1000")
    assert big.flat_dim == 30_145  # V·23 + V + O_max·5 + O_max + 1 (spec §4)


@pytest.mark.parametrize("preset", DATA)
def test_data_presets_explain_what_they_need(preset):
    with pytest.raises(ParameterError, match="pyhailing|tlc_file"):
        gym.make(ENV_ID, preset=preset)


def rollout(env, seed, steps=12):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(99)
    out = [obs]
    for _ in range(steps):
        obs, r, term, trunc, info = env.step(rng.normal(size=env.action_space.shape).astype(np.float32))
        out.append(np.append(obs, [r, info["metrics"]["vehicle_km"]]))
        if term or trunc:
            obs, _ = env.reset()
    return np.concatenate(out)


def test_same_seed_same_trajectory_single_and_vector():
    env = gym.make(ENV_ID, preset="grid_small")
    a, b = rollout(env, 7), rollout(gym.make(ENV_ID, preset="grid_small"), 7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, rollout(env, 8))
    vec = gym.make_vec(ENV_ID, num_envs=1, preset="grid_small")
    o1, _ = env.reset(seed=3)
    o2, _ = vec.reset(seed=3)
    np.testing.assert_array_equal(o1, o2[0])
    rng = np.random.default_rng(0)
    for _ in range(10):
        act = rng.normal(size=env.action_space.shape).astype(np.float32)
        o1, r1, *_ = env.step(act)
        o2, r2, *_ = vec.step(act[None])
        np.testing.assert_array_equal(o1, o2[0])
        assert r1 == r2[0]


def test_vector_env_is_native_with_next_step_autoreset():
    vec = gym.make_vec(ENV_ID, num_envs=9, preset="grid_town", horizon_s=180)  # 9 ≥ the parallel threshold
    assert type(vec.unwrapped).__name__ == "BatchedVectorEnv"
    obs, _ = vec.reset(seed=1)
    act = np.zeros((9,) + vec.single_action_space.shape, dtype=np.float32)
    for k in range(3):
        _, _, term, trunc, _ = vec.step(act)
        assert term.all() == (k == 2) and not trunc.any()
    _, reward, term, trunc, _ = vec.step(act)
    assert (reward == 0).all() and not term.any() and (vec.unwrapped.state.t == 0).all()


def test_batched_rows_equal_single_envs_in_parallel_kernels():
    """The parallel kernels (batch ≥ 8) give each row exactly what the serial ones give."""
    from opsrl.envs.ride_sharing.env import RideSharing

    p = RideSharing.from_preset("grid_town")
    big = p.init(9, np.random.default_rng(4))
    rows = [p.init(9, np.random.default_rng(4)) for _ in range(1)][0]
    scores = np.random.default_rng(1).normal(size=(9, p.V, p.O))
    for _ in range(5):
        p.step(big, scores, np.ones(9, bool), None)
    for b in range(9):
        single = type(rows)(*[np.ascontiguousarray(f[b:b + 1]).copy() for f in rows])
        for _ in range(5):
            p.step(single, scores[b:b + 1], np.ones(1, bool), None)
        np.testing.assert_array_equal(single.vf[0], big.vf[b])
        np.testing.assert_array_equal(single.stats[0], big.stats[b])


def test_pickle_round_trip_continues_identically():
    env = gym.make(ENV_ID, preset="grid_small")
    env.reset(seed=1)
    act = np.random.default_rng(0).normal(size=env.action_space.shape).astype(np.float32)
    for _ in range(4):
        env.step(act)
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(4):
        a, b = env.step(act), clone.step(act)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1] == b[1]


def test_info_and_post_decision_observation():
    env = gym.make(ENV_ID, preset="grid_small")
    env.reset(seed=0)
    _, r, _, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert info["vehicle_rewards"].shape == (60,) and info["vehicle_rewards"].sum() == pytest.approx(r)
    got = info["group_mask"]
    assert (info["assignment"][got] >= 0).all() and (info["assignment"][~got] == -1).all()
    slots = info["assignment"][got]
    assert len(set(slots.tolist())) == slots.size  # one vehicle per order
    post = env.unwrapped.problem.split_flat(info["post_decision_obs"][None])
    # matched orders are gone from the post-decision view and matched vehicles are busy
    assert (post["order_mask"][0, slots] == 0).all()
    assert (post["vehicle_mask"][0, got] == 0).all()
    for key in ("served", "lost", "mean_pickup_min", "vehicle_km", "ospo_return"):
        assert key in info["metrics"]


def test_render_modes():
    env = gym.make(ENV_ID, preset="grid_small", render_mode="ansi")
    env.reset(seed=0)
    env.step(np.zeros(env.action_space.shape, np.float32))
    assert "served" in env.render()
    env = gym.make(ENV_ID, preset="grid_town", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(np.zeros(env.action_space.shape, np.float32))
    img = env.render()
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8


def test_graph_view_and_pair_features():
    problem = opsrl.make_problem(ENV_ID, "grid_town")
    state = problem.init(1, np.random.default_rng(0))
    for _ in range(3):
        problem.step(state, np.zeros((1, problem.V, problem.O)), np.ones(1, bool), None)
    feats = problem.pair_features(state, 0)
    assert feats.shape[0] == state.elig[0].sum() and feats.shape[2] == 5
    g = problem.to_hetero_data(state, 0, k=4)
    assert g["vehicle"].x.shape == (problem.V, problem.F + 1)
    assert g["zone"].x.shape == (16, 7)
    assert g["vehicle", "candidate", "order"].edge_attr.shape[1] == 4
    assert g["zone", "adjacent", "zone"].edge_index.shape[1] == 2 * (3 * 4 + 4 * 3)


# -- PettingZoo ------------------------------------------------------------------------------------------
def test_parallel_api_and_seed():
    parallel_api_test(ride_sharing_v0.parallel_env(preset="grid_town"), num_cycles=35)
    parallel_seed_test(lambda: ride_sharing_v0.parallel_env(preset="grid_town"), num_cycles=10)


def test_parallel_env_shares_one_read_only_order_array():
    env = ride_sharing_v0.parallel_env(preset="grid_town")
    obs, _ = env.reset(seed=0)
    a, b = obs["vehicle_0"]["orders"], obs["vehicle_1"]["orders"]
    assert a is b and not a.flags.writeable
    assert env.state().shape == env.state_space.shape


def test_parallel_env_matches_the_dispatcher():
    pz = ride_sharing_v0.parallel_env(preset="grid_town")
    gy = gym.make(ENV_ID, preset="grid_town")
    pz.reset(seed=4)
    gy.reset(seed=4)
    rng = np.random.default_rng(0)
    for _ in range(6):
        scores = rng.normal(size=gy.action_space.shape).astype(np.float32)
        _, rew, _, _, _ = pz.step({a: scores[i] for i, a in enumerate(pz.possible_agents)})
        _, r, _, _, info = gy.step(scores)
        assert sum(rew.values()) == pytest.approx(r)
        np.testing.assert_array_equal(pz.state(), gy.unwrapped._obs())


# -- bad input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field,value", [("fleet_size", 0), ("capacity", 0), ("capacity", 6), ("epoch_s", 0),
                                         ("horizon_s", 1830), ("patience_s", 90), ("max_orders", 0),
                                         ("speed_kmh", -5.0), ("arrival_rate", -1.0), ("beta", (1, 2)),
                                         ("score_transform", "argmax"), ("matching_backend", "cplex"),
                                         ("sample_frac", 1.5), ("initial_zones", (0, 1)), ("gamma", 1.2),
                                         ("point_mode", "random"), ("start_hour", 24.0)])
def test_bad_parameter_names_field_and_value(field, value):
    with pytest.raises(ParameterError, match=field) as err:
        gym.make(ENV_ID, preset="grid_small", **{field: value})
    assert repr(value) in str(err.value)


def test_bad_scripted_orders():
    with pytest.raises(ParameterError, match="scripted_orders"):
        gym.make(ENV_ID, preset="tiny_line_test", scripted_orders=((0.0, 1, 99),))
    with pytest.raises(ParameterError, match="scripted_orders"):
        gym.make(ENV_ID, preset="tiny_line_test", scripted_orders=((-5.0, 1, 2),))


def test_nan_wrong_shape_and_step_after_the_end():
    env = gym.make(ENV_ID, preset="grid_town", horizon_s=120).unwrapped
    env.reset(seed=0)
    bad = np.zeros(env.action_space.shape)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        env.step(bad)
    with pytest.raises(ValueError, match="do not fit"):
        env.step(np.zeros(7))
    for _ in range(2):
        env.step(np.zeros(env.action_space.shape, np.float32))
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(env.action_space.shape, np.float32))


def test_out_of_box_scores_are_clipped():
    def run(scale):
        env = gym.make(ENV_ID, preset="grid_town", score_transform="identity")
        env.reset(seed=0)
        act = np.random.default_rng(0).normal(size=env.action_space.shape)
        return [env.step(np.sign(act) * scale)[1] for _ in range(4)]

    assert run(1e4) == run(1e9)
