"""Named policies and references: every baseline serves at most the hindsight bound on the same
scenarios, the myopic reward assignment beats greedy in OSPO return, and the CLI rows of the family."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gymnasium.utils import seeding

from opsrl.cli import main
from opsrl.envs.ride_sharing.solver import hindsight_for_state
from opsrl.eval import evaluate
from opsrl.eval.evaluate import make_vector_env
from opsrl.policies.base import make_policy

ENV_ID = "opsrl/RideSharing-v0"
POLICIES = ["random", "greedy_nearest", "lsa_eta", "lsa_reward", "insertion_greedy"]


def served_per_episode(policy, preset, seed, n, **over):
    env = make_vector_env(ENV_ID, n, preset, **over)
    pol = make_policy(policy, ENV_ID, env.problem)
    obs, info = env.reset(seed=seed)
    pol.reset(env)
    done = np.zeros(n, bool)
    while not done.all():
        obs, _, term, trunc, info = env.step(pol.act(obs, info))
        done |= term | trunc
    return info["metrics"]


def test_served_never_exceeds_the_hindsight_bound():
    n, seed = 4, 17
    problem = make_vector_env(ENV_ID, n, "grid_small").problem
    state = problem.init(n, seeding.np_random(seed)[0])
    bound = np.array([hindsight_for_state(problem, state, b)["value"] for b in range(n)])
    ilp = np.array([hindsight_for_state(problem, state, b, lp=False, time_limit=20)["value"] for b in range(n)])
    assert (ilp <= bound + 1e-6).all() and (bound <= state.n_orders).all()
    for name in POLICIES:
        m = served_per_episode(name, "grid_small", seed, n)
        np.testing.assert_array_equal(m["generated"], state.n_orders)  # same scenarios as the bound
        assert (m["served"] <= ilp + 1e-9).all(), name


def test_assignment_on_rewards_beats_greedy_in_ospo_return():
    kw = dict(episodes=6, seed=3, reference=None)
    lsa = evaluate("lsa_reward", ENV_ID, "grid_small", **kw)
    greedy = evaluate("greedy_nearest", ENV_ID, "grid_small", **kw)
    rand = evaluate("random", ENV_ID, "grid_small", **kw)
    assert lsa.mean_cost < greedy.mean_cost < rand.mean_cost  # costs = −return


def test_lsa_eta_has_the_least_total_pickup_time_per_epoch():
    """One epoch from the same state: lsa_eta's total ETA ≤ greedy's, with as many matches."""
    env = make_vector_env(ENV_ID, 1, "grid_small")
    obs, info = env.reset(seed=5)
    for _ in range(3):
        obs, *_ , info = env.step(np.zeros((1,) + env.single_action_space.shape, np.float32))
    import copy

    totals = {}
    for name in ("greedy_nearest", "lsa_eta"):
        e = copy.deepcopy(env)
        pol = make_policy(name, ENV_ID, e.problem)
        pol.reset(e)
        before = e.state.stats.copy()
        _, _, _, _, inf = e.step(pol.act(obs, info))
        totals[name] = (inf["served_now"][0], e.state.stats[0, 3] - before[0, 3])
    assert totals["lsa_eta"][0] == totals["greedy_nearest"][0]
    assert totals["lsa_eta"][1] <= totals["greedy_nearest"][1] + 1e-9


def test_identity_transform_lets_lsa_reward_decline():
    m_soft = served_per_episode("lsa_reward", "grid_town", 2, 2, beta=(-5.0, 0, 0, 0, 0, 0))
    m_id = served_per_episode("lsa_reward", "grid_town", 2, 2, beta=(-5.0, 0, 0, 0, 0, 0),
                              score_transform="identity")
    assert (m_id["served"] == 0).all() and (m_soft["served"] > 0).all()


def run_cli(args, capsys):
    assert main(args + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_rows(capsys):
    listed = run_cli(["list"], capsys)["envs"][ENV_ID]
    assert "grid_manhattan_1000" in listed["presets"] and set(POLICIES) <= set(listed["policies"])
    d = run_cli(["describe", ENV_ID, "--preset", "grid_small"], capsys)
    assert d["demand"]["expected_orders"] == pytest.approx(237.3, abs=0.1)
    e = run_cli(["eval", "--env", ENV_ID, "--preset", "grid_town", "--policy", "greedy_nearest",
                 "--episodes", "2", "--no-reference"], capsys)
    assert e["mean_cost"] < 0
    s = run_cli(["solve", "--env", ENV_ID, "--preset", "grid_town", "--episodes", "2",
                 "--set", "reward_mode=platform"], capsys)
    kinds = [r["kind"] for r in s["references"]]
    assert kinds[0] == "bound" and "policy" in kinds
    bound, best = s["references"][0]["value"], s["references"][1]["value"]
    assert bound <= best  # −bound on served ≤ −served of the best heuristic
