"""Conformance of opsrl/Portfolio-v0: Gymnasium API on the presets, determinism (single == vector), pickling,
NEXT_STEP autoreset, splits, info, clear errors for bad input."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import opsrl
from opsrl.core.errors import ParameterError
from opsrl.envs.portfolio.env import Portfolio
from opsrl.testing import rendered

ENV_ID = "opsrl/Portfolio-v0"
PRESETS = opsrl.list_presets(ENV_ID)
SMALL = {"n_days": 600, "n_assets": 5, "window": 20, "horizon": 40}


def test_presets_of_the_spec_are_registered():
    assert {"synthetic_gbm_10", "synthetic_regime_10", "skfolio_sp500_20", "skfolio_factors_5",
            "huang_style_csv", "jiang_style_csv"} <= set(PRESETS)
    assert "equal_weight" in opsrl.registration.entry(ENV_ID).policies


@pytest.mark.parametrize("preset", ["synthetic_gbm_10", "synthetic_regime_10"])
@pytest.mark.parametrize("obs_mode", ["flat", "image", "image_huang"])
def test_check_env_synthetic_presets(preset, obs_mode):
    env = gym.make(ENV_ID, preset=preset, obs_mode=obs_mode)
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("overrides", [{"action_map": "projection"}, {"action_map": "weights"},
                                       {"reward": "dsr"}, {"reward": "avg_sharpe", "huang_compat": True},
                                       {"reward": "terminal_sharpe", "cost_model": "exact"}])
def test_check_env_options(overrides):
    env = gym.make(ENV_ID, **SMALL, **overrides)
    if overrides.get("action_map") == "weights":  # random Box samples are not weights: check spaces only
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        return
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("preset", ["csv", "huang_style_csv", "jiang_style_csv"])
def test_csv_presets(preset, wide_csv):
    env = gym.make(ENV_ID, preset=preset, prices_csv=wide_csv, window=20, horizon=20)
    check_env(env.unwrapped, skip_render_check=True)
    # a wide CSV has closes only: the feature count is capped at 1
    assert env.unwrapped.problem.n_features == 1


def test_spec_shapes():
    env = gym.make(ENV_ID)  # synthetic_gbm_10: F = 4, W = 50, N = 10
    assert env.observation_space.shape == (2011,)
    assert gym.make(ENV_ID, obs_mode="image_huang").observation_space.shape == (4, 51, 10)
    assert gym.make(ENV_ID, obs_mode="image").observation_space["prices"].shape == (4, 50, 10)


def rollout_single(seed, steps=60, **kw):
    env = gym.make(ENV_ID, **{**SMALL, **kw})
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(99)
    out = [obs]
    for _ in range(steps):
        obs, r, term, trunc, info = env.step(rng.normal(size=env.action_space.shape).astype(np.float32))
        out.append(np.append(obs, r))
        if term or trunc:
            obs, _ = env.reset()
    return np.concatenate(out)


@pytest.mark.parametrize("kw", [{}, {"reward": "dsr", "cost_model": "exact"}])
def test_same_seed_same_trajectory_single_and_vector(kw):
    np.testing.assert_array_equal(rollout_single(7, **kw), rollout_single(7, **kw))
    assert not np.array_equal(rollout_single(7, **kw), rollout_single(8, **kw))
    env = gym.make(ENV_ID, **SMALL, **kw)
    vec = gym.make_vec(ENV_ID, num_envs=1, **SMALL, **kw)
    o1, _ = env.reset(seed=3)
    o2, _ = vec.reset(seed=3)
    np.testing.assert_array_equal(o1, o2[0])
    for _ in range(30):
        act = env.action_space.sample()
        o1, r1, *_ = env.step(act)
        o2, r2, *_ = vec.step(act[None])
        np.testing.assert_array_equal(o1, o2[0])
        assert r1 == r2[0]


def test_parallel_kernel_equals_serial():
    """A batch above PARALLEL_MIN_BATCH runs the prange driver; it must match row-by-row serial steps."""
    from opsrl.envs.portfolio.dynamics import PARALLEL_MIN_BATCH

    p = Portfolio.from_preset(**SMALL, cost_model="exact", reward="dsr")
    B = PARALLEL_MIN_BATCH + 3
    big = p.init(B, np.random.default_rng(0))
    small = [p.init(B, np.random.default_rng(0)) for _ in range(1)][0]
    acts = np.random.default_rng(1).normal(size=(5, B, 6))
    for k in range(5):
        r_big = p.step(big, acts[k], np.ones(B, bool), None).reward
        r_small = np.concatenate([p.step(type(small)(*(f[i:i + 100] for f in small)), acts[k, i:i + 100],
                                         np.ones(min(100, B - i), bool), None).reward for i in range(0, B, 100)])
        np.testing.assert_array_equal(r_big, r_small)
    np.testing.assert_array_equal(p.observe(big), np.concatenate(
        [p.observe(type(small)(*(f[i:i + 100] for f in small))) for i in range(0, B, 100)]))


@pytest.mark.parametrize("obs_mode", ["flat", "image", "image_huang"])
def test_observation_table_is_bit_identical_and_never_looks_ahead(obs_mode):
    """Large batches copy price windows from a per-split table; it must equal the direct computation bit for
    bit (rows inside and outside the table), be left out of pickles, and read no price after its row."""
    from opsrl.envs.portfolio import dynamics as K_
    from opsrl.envs.portfolio.env import OBS_TABLE_MIN_BATCH

    p = Portfolio.from_preset(**SMALL, obs_mode=obs_mode)
    B = OBS_TABLE_MIN_BATCH + 7
    s = p.init(B, np.random.default_rng(0))
    s.d[:3] = p.split.hi + 1  # the final observation of an episode
    s.d[3] = p.split.lo
    s.d[4] = p.params.window - 1  # earliest full window: outside the train table -> computed directly
    big = p.observe(s)
    small = [p.observe(type(s)(*(f[i:i + 1] for f in s))) for i in range(B)]  # B = 1: never the table
    if obs_mode == "image":
        np.testing.assert_array_equal(big["prices"], np.concatenate([o["prices"] for o in small]))
    else:
        np.testing.assert_array_equal(big, np.concatenate(small))
    assert (p._obs_table is not None) == (obs_mode != "image_huang")
    q = pickle.loads(pickle.dumps(p))
    assert q._obs_table is None
    again = q.observe(s)
    np.testing.assert_array_equal(again["prices"] if obs_mode == "image" else again,
                                  big["prices"] if obs_mode == "image" else big)
    if obs_mode == "image_huang":
        return
    F, W, N = p.n_features, p.params.window, p.n_assets
    rows = p.split.n_decisions + 1
    table = np.empty((rows, F * W * N), dtype=np.float32)
    K_.build_obs_table(p.prices, W, F, p.split.lo, table)
    for r in np.random.default_rng(1).integers(0, rows, 5):
        scrambled = p.prices.copy()
        scrambled[p.split.lo + r + 1:] *= 3.0
        other = np.empty_like(table)
        K_.build_obs_table(scrambled, W, F, p.split.lo, other)
        np.testing.assert_array_equal(other[r], table[r])
        assert not np.array_equal(other[r + 1:], table[r + 1:]) or r + 1 == rows


def test_step_batch_helper_equals_problem_step():
    from opsrl.envs.portfolio import dynamics as K_

    p = Portfolio.from_preset(**SMALL, reward="dsr")
    a, b = p.init(9, np.random.default_rng(0)), p.init(9, np.random.default_rng(0))
    active = np.ones(9, bool)
    active[4] = False
    for k in range(3):
        act = np.random.default_rng(k).normal(size=(9, p.n_assets + 1))
        tr = p.step(a, act, active, None)
        out, work = np.empty((9, K_.output_width(p.n_assets))), np.empty((2, 9, p.n_assets + 1))
        assert K_.step_batch(b.w, b.wealth, b.t, b.d, b.acc, act, active, p.rel, p.cfg, p.icfg, out, work) == K_.OK
        np.testing.assert_array_equal(out[:, K_.REWARD], tr.reward)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    act[0, 0] = np.nan
    assert K_.step_batch(b.w, b.wealth, b.t, b.d, b.acc, act, active, p.rel, p.cfg, p.icfg, out, work) == K_.NAN_ACTION


def test_next_step_autoreset_and_truncation():
    vec = gym.make_vec(ENV_ID, num_envs=3, **{**SMALL, "horizon": 5})
    vec.reset(seed=0)
    act = np.zeros((3, 6), dtype=np.float32)
    for t in range(5):
        _, reward, term, trunc, _ = vec.step(act)
        assert not term.any()
        assert trunc.all() == (t == 4)
    _, reward, term, trunc, _ = vec.step(act)
    assert (reward == 0).all() and not trunc.any() and (vec.unwrapped.state.t == 0).all()
    assert (vec.unwrapped.state.wealth == 1).all()


def test_pickle_round_trip_continues_identically():
    env = gym.make(ENV_ID, **SMALL)
    env.reset(seed=1)
    for _ in range(5):
        env.step(env.action_space.sample())
    clone = pickle.loads(pickle.dumps(env))
    act = np.linspace(-1, 1, 6).astype(np.float32)
    for _ in range(5):
        a, b = env.step(act), clone.step(act)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1] == b[1]


def test_info_labels_each_reward_with_the_date_that_closed_the_step():
    env = gym.make(ENV_ID, **SMALL)
    env.reset(seed=0)
    p = env.unwrapped.problem
    d = int(env.unwrapped.state.d[0])
    _, r, _, _, info = env.step(np.zeros(6, np.float32))
    assert info["date"] == p.market.dates[d + 1]
    # the reward is the log growth over close(d) -> close(d + 1), labelled d + 1
    w = info["weights"]
    y = p.market.close[d + 1] / p.market.close[d]
    assert r == pytest.approx(np.log(info["mu"]) + np.log(w[0] + (w[1:] * y).sum()), abs=1e-12)
    assert info["turnover"] == pytest.approx(0.5 * (1 - w[0] + w[1:].sum()))
    assert info["costs"]["transaction"] == pytest.approx(1 - info["mu"])


def test_splits_are_disjoint_and_episodes_stay_inside():
    kw = {**SMALL, "validation_portion": 0.1, "test_portion": 0.1}
    p = {s: Portfolio.from_preset(split=s, **kw) for s in ("train", "validation", "test")}
    sp = p["train"].splits
    assert sp["train"].last_date < sp["validation"].first_date
    assert sp["validation"].last_date < sp["test"].first_date
    assert sp["test"].last_date == p["train"].market.dates[-1]
    for name, prob in p.items():
        s = prob.init(2000, np.random.default_rng(0))
        first_reward_row, last_reward_row = s.d0 + 1, s.d0 + prob.episode_length
        dates = prob.market.dates
        assert (dates[first_reward_row] >= sp[name].first_date).all()
        assert (dates[last_reward_row] <= sp[name].last_date).all()
        assert (s.d0 - prob.params.window + 1 >= 0).all()  # full window


def test_test_block_backtest_runs_to_the_end_of_data():
    env = gym.make(ENV_ID, **{**SMALL, "split": "test", "start": "first", "horizon": None})
    p = env.unwrapped.problem
    obs, _ = env.reset(seed=0)
    steps, trunc = 0, False
    while not trunc:
        *_, trunc, info = env.step(np.zeros(6, np.float32))
        steps += 1
    assert info["date"] == p.market.dates[-1]
    assert steps == p.market.n_dates - int(np.floor(0.92 * p.market.n_dates))
    with pytest.raises(RuntimeError, match="reset"):
        env.unwrapped.step(np.zeros(6, np.float32))


def test_split_date():
    p = Portfolio.from_preset(**SMALL, split="test", split_date="2001-06-01")
    assert p.split.first_date >= np.datetime64("2001-06-01")
    assert p.market.dates[p.split.lo] < np.datetime64("2001-06-01")


def test_render_modes():
    text, _ = rendered(ENV_ID, **SMALL)
    assert "wealth" in text and "cash" in text


def test_describe_names_the_market_and_splits():
    d = Portfolio.from_preset(**SMALL).describe()
    assert d["market"]["source"] == "synthetic gbm" and "test" in d["market"]["splits"]


# -- bad input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("field,value", [("window", 1), ("horizon", 0), ("cost_rate", -0.1), ("cost_model", "quad"),
                                         ("action_map", "tanh"), ("reward", "sortino"), ("split", "dev"),
                                         ("n_assets", 0), ("features", 5), ("test_portion", 0.0),
                                         ("temperature", 0.0), ("split_date", "not-a-date"), ("start", "middle")])
def test_bad_parameter_names_field_and_value(field, value):
    with pytest.raises(ParameterError, match=field) as err:
        gym.make(ENV_ID, **{field: value})
    assert repr(value) in str(err.value)


def test_infeasible_horizon_and_split_are_clear_errors():
    with pytest.raises(ParameterError, match="horizon"):
        gym.make(ENV_ID, **{**SMALL, "split": "test", "horizon": 500})
    with pytest.raises(ParameterError, match="horizon"):
        gym.make(ENV_ID, horizon=None)  # needs start="first"
    with pytest.raises(ParameterError, match="split"):
        gym.make(ENV_ID, split="validation")  # validation_portion = 0
    with pytest.raises(ParameterError, match="prices_csv"):
        gym.make(ENV_ID, preset="huang_style_csv")


def test_skfolio_without_the_extra_is_a_clear_error():
    pytest.importorskip("numpy")
    try:
        import skfolio  # noqa: F401
    except ImportError:
        with pytest.raises(ParameterError, match="opsrl\\[data\\]"):
            gym.make(ENV_ID, preset="skfolio_sp500_20")
    else:
        env = gym.make(ENV_ID, preset="skfolio_sp500_20")
        check_env(env.unwrapped, skip_render_check=True)
        assert env.observation_space.shape == (1021,)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_action_is_a_value_error(bad):
    env = gym.make(ENV_ID, **SMALL)
    env.reset(seed=0)
    act = np.zeros(6, np.float32)
    act[2] = bad
    with pytest.raises(ValueError, match="NaN"):
        env.step(act)
    assert env.unwrapped.state.t[0] == 0  # nothing moved


def test_weights_mode_checks_the_simplex():
    env = gym.make(ENV_ID, **SMALL, action_map="weights")
    env.reset(seed=0)
    for bad in ([0.5, 0.5, 0.5, 0, 0, 0], [1.2, -0.2, 0, 0, 0, 0]):
        with pytest.raises(ValueError, match="weights"):
            env.step(np.array(bad))
    _, _, _, _, info = env.step(np.array([0.2, 0.2, 0.2, 0.2, 0.2, 0.0]))
    np.testing.assert_allclose(info["weights"], [0.2, 0.2, 0.2, 0.2, 0.2, 0.0])


def test_projection_of_out_of_box_actions_is_deterministic():
    env = gym.make(ENV_ID, **SMALL, action_map="projection")
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([5.0, -3.0, 0.2, 0.1, 0.0, 4.5]))
    np.testing.assert_allclose(info["weights"], [0.75, 0, 0, 0, 0, 0.25])


def test_wrong_action_shape():
    env = gym.make(ENV_ID, **SMALL)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(4, np.float32))
