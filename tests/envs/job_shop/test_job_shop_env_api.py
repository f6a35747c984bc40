"""Conformance of opsrl/JobShop-v0: Gymnasium API on representative presets and both observation modes,
masks, the documented treatment of masked actions, determinism single == vector, pickling, NEXT_STEP
autoreset, rendering, clear errors for bad parameters."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from jobshop_helpers import ENV_ID, check_schedule, run_episode

import opsrl
from opsrl.core.errors import ParameterError

PRESETS = opsrl.list_presets(ENV_ID)
REPRESENTATIVE = ["ta01", "taillard_15x15", "ortools_toy", "taillard_check_4x4", "random_6x6", "random_10x10",
                  "l2d_train_6x6", "nondelay_15x15"]


def test_every_named_instance_and_random_size_is_a_preset():
    for name in ["ta01", "ta80", "taillard_100x20", "ft06", "ft10", "ft20", "la01", "la40", "abz5", "orb10",
                 "swv01", "yn1", "ortools_toy", "taillard_check_4x4", "random_6x6", "random_10x10",
                 "random_15x15", "random_20x20", "random_30x20", "l2d_train_30x20", "nondelay_15x15"]:
        assert name in PRESETS


@pytest.mark.parametrize("preset", REPRESENTATIVE)
def test_check_env(preset):
    check_env(gym.make(ENV_ID, preset=preset).unwrapped, skip_render_check=True)


@pytest.mark.parametrize("feature_set", ["l2d", "rich"])
def test_check_env_graph_mode(feature_set):
    env = gym.make(ENV_ID, preset="ft06", obs_mode="graph", feature_set=feature_set)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    n, m = 6, 6
    assert obs["op_features"].shape == (n * m, 2 if feature_set == "l2d" else 8)
    assert obs["edge_index"].shape == (2, n * (m - 1) + m * (n - 1) + n * m)
    # at reset: only conjunctive arcs and self-loops
    types = obs["edge_type"]
    assert (types == 0).sum() == n * (m - 1) and (types == 3).sum() == n * m and (types == 1).sum() == 0


def test_graph_machine_arcs_follow_the_machine_sequences():
    env = gym.make(ENV_ID, preset="ft06", obs_mode="graph")
    rewards, infos, sched, steps = run_episode(env, seed=3)
    obs = env.unwrapped._obs()
    ei, et = obs["edge_index"], obs["edge_type"]
    m = 6
    arcs = {(int(a), int(b)) for a, b in ei[:, et == 1].T}
    expected = set()
    for i in range(m):
        ops = sorted((sched["starts"][j, k], j * m + k) for j, k in zip(*np.nonzero(sched["machines"] == i),
                                                                             strict=True))
        expected |= {(a[1], b[1]) for a, b in zip(ops, ops[1:], strict=False)}
    assert arcs == expected
    assert (et == 1).sum() == m * (6 - 1)


def test_to_pyg_batch():
    pytest.importorskip("torch_geometric")
    from opsrl.envs.job_shop.graph import to_pyg

    envs = gym.make_vec(ENV_ID, num_envs=3, preset="random_6x6", obs_mode="graph")
    obs, _ = envs.reset(seed=0)
    obs, *_ = envs.step(np.zeros(3, dtype=np.int64))
    batch = to_pyg(obs)
    assert batch.x.shape == (3 * 36, 2) and batch.candidate.shape == (18,)
    assert int(batch.candidate[6]) == 36 + obs["candidate"][1, 0]
    assert batch.edge_index.max() < 3 * 36 and (batch.edge_type >= 0).all()


def test_flat_observation_layout_and_masks():
    env = gym.make(ENV_ID, preset="ta01")
    obs, info = env.reset(seed=0)
    assert obs.shape == (225 * 2 + 15,) and obs.dtype == np.float32
    feat = obs[:450].reshape(225, 2)
    # C_LB at reset = cumulative job work / time_norm; H(s_0) = 963 (spec §2.7 golden)
    d, _ = opsrl.envs.job_shop.instances.load("ta01")
    np.testing.assert_allclose(feat[:, 0], (np.cumsum(d, axis=1) / 1000.0).ravel(), rtol=1e-6)
    assert env.unwrapped.state.scal[0, 2] == 963
    assert info["action_mask"].dtype == np.int8 and info["action_mask"].all()
    np.testing.assert_array_equal(obs[450:], info["action_mask"])
    assert env.unwrapped.action_masks().dtype == bool


def test_masked_action_is_replaced_by_lowest_eligible_job():
    env = gym.make(ENV_ID, preset="ortools_toy")
    env.reset(seed=0)
    for _ in range(2):  # job 2 has two ops: finish it
        env.step(2)
    _, _, _, _, info = env.step(2)  # job 2 is finished: masked
    assert info["invalid_action"] and info["job"] == 0
    _, _, _, _, info = env.step(99)  # out of range
    assert info["invalid_action"] and info["job"] == 0
    _, _, _, _, info = env.step(-3)
    assert info["invalid_action"] and info["job"] == 0
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.nan)


def test_step_after_termination_is_a_no_op():
    env = gym.make(ENV_ID, preset="ortools_toy")
    _, _, sched, steps = run_episode(env, seed=1)
    assert steps == 8
    _, r, terminated, truncated, info = env.unwrapped.step(0)
    assert r == 0.0 and terminated and not truncated and info["invalid_action"]
    assert env.unwrapped.problem.schedule(env.unwrapped.state)["makespan"] == sched["makespan"]


def rollout_single(preset, seed, **kw):
    env = gym.make(ENV_ID, preset=preset, **kw)
    rewards, infos, sched, _ = run_episode(env, seed=seed)
    return rewards, sched


@pytest.mark.parametrize("preset", ["random_6x6", "taillard_15x15", "l2d_train_6x6"])
def test_determinism_single_and_vector(preset):
    r1, s1 = rollout_single(preset, 7)
    r2, s2 = rollout_single(preset, 7)
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(s1["starts"], s2["starts"])
    # the vector env's env 0 with the same seed and actions is the single env
    envs = gym.make_vec(ENV_ID, num_envs=3, preset=preset)
    envs.reset(seed=7)
    rng = np.random.default_rng(7)
    single = gym.make(ENV_ID, preset=preset)
    _, info = single.reset(seed=7)
    vec_info_mask = envs.unwrapped.action_masks()
    np.testing.assert_array_equal(vec_info_mask[0], info["action_mask"].astype(bool))
    for _ in range(len(r1)):
        a = int(rng.choice(np.flatnonzero(info["action_mask"])))
        _, r, term, _, info = single.step(a)
        actions = np.array([a, 0, 0])
        _, rv, tv, _, _ = envs.step(actions)
        assert r == rv[0] and term == tv[0]
    np.testing.assert_array_equal(envs.unwrapped.problem.schedule(envs.unwrapped.state, 0)["starts"],
                                  single.unwrapped.problem.schedule(single.unwrapped.state, 0)["starts"])


def test_random_presets_draw_a_new_instance_each_episode():
    env = gym.make(ENV_ID, preset="random_6x6")
    env.reset(seed=0)
    d0 = env.unwrapped.problem.schedule(env.unwrapped.state)["durations"]
    env.reset()
    d1 = env.unwrapped.problem.schedule(env.unwrapped.state)["durations"]
    assert not np.array_equal(d0, d1)


def test_pickling_mid_episode():
    env = gym.make(ENV_ID, preset="random_10x10", obs_mode="graph")
    env.reset(seed=3)
    for a in range(5):
        env.step(a)
    clone = pickle.loads(pickle.dumps(env))
    for a in [5, 6, 1, 2]:
        o1, r1, *_ = env.step(a)
        o2, r2, *_ = clone.step(a)
        assert r1 == r2
        for k in o1:
            np.testing.assert_array_equal(o1[k], o2[k])


def test_vector_next_step_autoreset_and_episode_cost():
    envs = gym.make_vec(ENV_ID, num_envs=4, preset="taillard_check_4x4")
    obs, info = envs.reset(seed=0)
    for _ in range(16):
        obs, r, term, trunc, info = envs.step(np.zeros(4, dtype=np.int64))
    assert term.all() and not trunc.any()
    assert (info["makespan"] > 0).all()
    obs, r, term, trunc, info = envs.step(np.zeros(4, dtype=np.int64))  # the autoreset step
    assert (r == 0).all() and not term.any()
    assert (envs.unwrapped.state.t == 0).all() and info["action_mask"].all()


def test_render_modes():
    env = gym.make(ENV_ID, preset="ft06", render_mode="rgb_array")
    run_episode(env, seed=0)
    img = env.render()
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8 and img.std() > 0
    env = gym.make(ENV_ID, preset="ortools_toy", render_mode="ansi")
    _, _, sched, _ = run_episode(env, seed=0)
    text = env.render()
    assert f"makespan {check_schedule(sched)}" in text and text.count("\nM") == 3


@pytest.mark.parametrize("kw, field", [
    (dict(placement="diagonal"), "placement"), (dict(candidate_filter="all"), "candidate_filter"),
    (dict(reward="profit"), "reward"), (dict(reward_scale=0.0), "reward_scale"),
    (dict(time_norm=-1.0), "time_norm"), (dict(feature_set="huge"), "feature_set"),
])
def test_bad_parameters_name_the_field(kw, field):
    with pytest.raises(ParameterError, match=field):
        gym.make(ENV_ID, preset="ta01", **kw)


@pytest.mark.parametrize("kw, field", [
    (dict(n_jobs=1), "n_jobs"), (dict(n_machines=0), "n_machines"), (dict(duration_low=0), "duration_low"),
    (dict(duration_low=5, duration_high=4), "duration_high"), (dict(generator="magic"), "generator"),
])
def test_bad_random_parameters(kw, field):
    with pytest.raises(ParameterError, match=field):
        gym.make(ENV_ID, preset="random_6x6", **kw)


def test_bad_instances():
    with pytest.raises(ParameterError, match="instance"):
        gym.make(ENV_ID, preset="random_6x6", instance="ta99")
    with pytest.raises(ParameterError, match="n_jobs"):
        gym.make(ENV_ID, preset="random_6x6", instance=("ta01", "ta11"))
    with pytest.raises(ParameterError, match="machines"):
        gym.make(ENV_ID, preset="random_6x6", durations=[[1, 2], [3, 4]])
    env = gym.make(ENV_ID, preset="random_6x6", durations=[[1, 2], [3, 4]], machines=[[0, 1], [1, 0]])
    sched = run_episode(env)[2]
    assert check_schedule(sched) == sched["makespan"] >= 7  # job 1 alone takes 7


def test_aliases_of_the_issue_wording():
    p = opsrl.make_problem(ENV_ID, "ta01", placement="active", reward="lower_bound").params
    assert (p.placement, p.reward) == ("insert", "lb_decrease")
    assert opsrl.make_problem(ENV_ID, "ta01", reward="makespan").params.reward == "sparse_makespan"


@pytest.mark.parametrize("kw", [dict(), dict(obs_mode="graph", feature_set="rich", candidate_filter="non_delay"),
                                dict(feature_set="rich", placement="append", candidate_filter="non_delay")])
def test_step_observation_equals_a_fresh_one(kw):
    """A step writes the next observation in the same kernel pass (autoreset rows are rewritten by the
    reset); it must equal the observation computed from the state afterwards — with the parallel drivers
    (batch ≥ PARALLEL_MIN_BATCH) and the serial ones."""
    from opsrl.envs.job_shop import dynamics as K_

    for num_envs in (3, K_.PARALLEL_MIN_BATCH + 4):
        envs = gym.make_vec(ENV_ID, num_envs=num_envs, preset="ortools_toy", **kw)
        obs, info = envs.reset(seed=0)
        rng = np.random.default_rng(0)
        problem, state = envs.unwrapped.problem, envs.unwrapped.state
        for _ in range(20):  # 8 ops per episode: several autoresets, some invalid actions
            obs, _, _, _, info = envs.step(rng.integers(-1, 4, size=num_envs))
            fresh = problem.observe(state)
            again = problem.observe(state)
            for o, f, g in ([(obs[k], fresh[k], again[k]) for k in obs] if isinstance(obs, dict)
                            else [(obs, fresh, again)]):
                np.testing.assert_array_equal(o, f)
                np.testing.assert_array_equal(f, g)
                assert f is not g and o is not f
            # H = max over jobs of the bound of their last op (kept incrementally by the kernel)
            last = state.ops[np.arange(num_envs)[:, None], np.arange(3)[None], state.jobs[:, :, K_.NOPS] - 1,
                             K_.CLB]
            np.testing.assert_array_equal(state.scal[:, K_.H], last.max(axis=1))


@pytest.mark.parametrize("num_envs", [5, 260])
def test_flat_l2d_observation_kept_between_steps_is_never_shared(num_envs):
    """Flat ``l2d`` observations are kept by the problem and updated incrementally between steps: what a
    caller gets is its own copy (scribbling on it changes nothing), and it always equals a full rebuild from the
    state, through autoresets of a random preset (new instances) and with invalid actions."""
    envs = gym.make_vec(ENV_ID, num_envs=num_envs, preset="random_6x6")
    obs, _ = envs.reset(seed=3)
    problem, rng = envs.unwrapped.problem, np.random.default_rng(1)
    for _ in range(90):  # 36 ops per episode: two autoresets
        obs[:] = -7.0
        obs, _, _, _, info = envs.step(rng.integers(-1, 7, size=num_envs))
        np.testing.assert_array_equal(obs, problem.observe(envs.unwrapped.state))
        np.testing.assert_array_equal(obs[:, -6:], info["action_mask"])


def test_forget_observation_after_editing_a_state_in_place():
    """A state edited in place outside the problem (here: a job's remaining durations doubled) gets a correct
    observation again once the kept one is forgotten."""
    envs = gym.make_vec(ENV_ID, num_envs=2, preset="ta01")
    envs.reset(seed=0)
    for _ in range(3):
        envs.step(np.zeros(2, dtype=np.int64))
    problem, state = envs.unwrapped.problem, envs.unwrapped.state
    state.ops[:, 5, 3:, 3] *= 2  # C_LB of job 5's unscheduled ops
    problem.forget_observation()
    obs, *_ = envs.step(np.ones(2, dtype=np.int64))
    np.testing.assert_array_equal(obs, problem.observe(state))


def test_large_batches_with_prefetching_step_like_small_ones():
    """From ``PREFETCH_MIN_BATCH`` envs on, the flat l2d kernel prefetches the next envs' state (a hint that
    must not change anything): the first rows of a large ta01 batch equal a small batch given the same
    actions, step for step, through an autoreset."""
    from opsrl.envs.job_shop import dynamics as K_

    big = gym.make_vec(ENV_ID, num_envs=K_.PREFETCH_MIN_BATCH + 3, preset="ta01")
    small = gym.make_vec(ENV_ID, num_envs=4, preset="ta01")
    ob, _ = big.reset(seed=0)
    os_, _ = small.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(240):  # 225 ops per episode
        a = rng.integers(-1, 16, size=big.num_envs)
        ob, rb, tb, _, ib = big.step(a)
        os_, rs, ts, _, is_ = small.step(a[:4])
        np.testing.assert_array_equal(ob[:4], os_)
        np.testing.assert_array_equal(rb[:4], rs)
        np.testing.assert_array_equal(tb[:4], ts)
        np.testing.assert_array_equal(ib["start"][:4], is_["start"])
    np.testing.assert_array_equal(ob, big.unwrapped.problem.observe(big.unwrapped.state))
