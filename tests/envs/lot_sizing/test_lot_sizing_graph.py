"""The ``obs_mode="graph"`` view of opsrl/LotSizing-v0: Gymnasium conformance, the graph carries the state
(stock, setups, t) and the instance (edges = capable pairs with P, F, Λ), the post-decision graph matches the
flat post-decision observation, the vector env batches it, and the rewards do not depend on the view."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

ENV_ID = "opsrl/LotSizing-v0"


@pytest.mark.parametrize("preset", ["tiny", "pdppo_15x5", "pdppo_25x15"])
def test_check_env_graph(preset):
    check_env(gym.make(ENV_ID, preset=preset, obs_mode="graph").unwrapped, skip_render_check=True)


def test_graph_encodes_instance_and_state():
    env = gym.make(ENV_ID, preset="pdppo_15x5", obs_mode="graph")
    obs, info = env.reset(seed=1)
    problem, state = env.unwrapped.problem, env.unwrapped.state
    inst = problem.instance
    n_edges = int(obs["counts"][2])
    assert obs["counts"].tolist() == [15, 5, int((inst.production > 0).sum())]
    m, i = obs["edge_index"][:, :n_edges]
    assert (inst.production[m, i] > 0).all() and (obs["edge_index"][:, n_edges:] == -1).all()
    np.testing.assert_allclose(obs["edge_features"][:n_edges, 0], inst.production[m, i] / 100, rtol=1e-6)
    np.testing.assert_allclose(obs["edge_features"][:n_edges, 2], inst.setup_cost[m, i] / 30, rtol=1e-6)
    # "is current setup" marks exactly one edge per busy machine
    current = obs["edge_features"][:n_edges, 5] > 0.5
    np.testing.assert_array_equal(np.sort(m[current]), np.flatnonzero(state.setup[0] > 0))
    np.testing.assert_array_equal(i[current] + 1, state.setup[0][m[current]])
    np.testing.assert_allclose(obs["item_features"][:, 0], state.inv[0] / inst.max_inventory, rtol=1e-6)
    # decode recovers the state from the graph after a few steps
    rng = np.random.default_rng(0)
    for _ in range(5):
        mask = info["action_mask"]
        obs, _, _, _, info = env.step(np.argmax(mask * rng.random(mask.shape), axis=1))
    inv, setup, t = problem.decode({k: v[None] for k, v in obs.items()})
    state = env.unwrapped.state
    np.testing.assert_array_equal(inv[0], state.inv[0])
    np.testing.assert_array_equal(setup[0], state.setup[0])
    assert t[0] == state.t[0] == 5


def test_post_decision_graph_and_rewards_match_the_flat_view():
    flat = gym.make_vec(ENV_ID, num_envs=4, preset="pdppo_15x5")
    graph = gym.make_vec(ENV_ID, num_envs=4, preset="pdppo_15x5", obs_mode="graph")
    fo, finfo = flat.reset(seed=5)
    go, ginfo = graph.reset(seed=5)
    assert go["item_features"].shape == (4, 15, 9) and go["edge_index"].shape == (4, 2, 75)
    problem = flat.unwrapped.problem if hasattr(flat, "unwrapped") else flat.problem
    rng = np.random.default_rng(3)
    for _ in range(120):  # past the horizon: covers the NEXT_STEP autoreset
        mask = finfo["action_mask"]
        np.testing.assert_array_equal(mask, ginfo["action_mask"])
        action = np.argmax(mask * rng.random(mask.shape), axis=2)
        fo, fr, ft, _, finfo = flat.step(action)
        go, gr, gt, _, ginfo = graph.step(action)
        np.testing.assert_array_equal(fr, gr)
        np.testing.assert_array_equal(ft, gt)
        post_inv, post_setup, _ = problem.decode(finfo["post_decision_obs"])
        g_inv, g_setup, _ = problem.decode(ginfo["post_decision_obs"])
        np.testing.assert_array_equal(g_inv, post_inv)
        np.testing.assert_array_equal(g_setup, post_setup)
