"""Golden values G1–G8 of spec ride_sharing.md §5.4 (tiny_line_test: 1 km = 3 min, Δ = 60 s, W = 5)."""

from __future__ import annotations

import numpy as np
import pytest
from ride_helpers import scripted, zero_scores

from opsrl.envs.ride_sharing import dynamics as K_
from opsrl.envs.ride_sharing.matching import match, objective, transform
from opsrl.envs.ride_sharing.signals import fairness_p, group_advantage, reward_to_go
from opsrl.envs.ride_sharing.solver import hindsight_bound
from opsrl.eval.evaluate import make_vector_env
from opsrl.policies.base import make_policy

ENV_ID = "opsrl/RideSharing-v0"
ONE = np.ones(1, dtype=np.bool_)


def run(problem, epochs):
    rng = np.random.default_rng(0)
    state = problem.init(1, rng)
    out = [problem.step(state, zero_scores(problem), ONE, rng) for _ in range(epochs)]
    return state, out


def test_g1_single_order():
    p = scripted([(0.0, 1, 3)], [0])
    state, tr = run(p, 10)
    assert tr[0].reward[0] == pytest.approx(4.40, abs=1e-4)
    assert state.of[0, 0, K_.ETA] / 60 == pytest.approx(3.0)
    assert state.of[0, 0, K_.T_DROP] == pytest.approx(540.0)
    assert state.of[0, 0, K_.PLAN_DROP] - state.of[0, 0, K_.T_ASSIGN] == pytest.approx(9 * 60)


def test_g2_pooling_second_order_on_the_way():
    p = scripted([(0.0, 0, 3), (60.0, 1, 2)], [0])
    rng = np.random.default_rng(0)
    state = p.init(1, rng)
    r1 = p.step(state, zero_scores(p), ONE, rng)
    assert r1.reward[0] == pytest.approx(5.55, abs=1e-4)
    assert state.vf[0, 0, K_.X] == pytest.approx(0.5 + 1 / 3, abs=1e-4)  # x = 0.8333 at 60 s
    assert state.elig[0, 0]  # 2 seats free, no pending pickup
    r2 = p.step(state, zero_scores(p), ONE, rng)
    assert r2.reward[0] == pytest.approx(3.65, abs=1e-4)
    for _ in range(8):
        tr = p.step(state, zero_scores(p), ONE, rng)
    np.testing.assert_allclose(state.of[0, :2, K_.T_DROP], [540.0, 360.0])
    m = tr.info["metrics"]
    assert m["mean_detour_min"][0] == pytest.approx(0.0, abs=1e-9)
    assert m["mean_pickup_min"][0] == pytest.approx(1.0)
    assert m["completed"][0] == 2


def test_g3_late_trip():
    p = scripted([(0.0, 0, 15)], [0])
    _, tr = run(p, 1)
    assert tr[0].reward[0] == pytest.approx(43 / 3, abs=1e-4)


def test_g4_softmax_matching():
    pi = transform(np.array([[2.0, 0.0], [1.0, 0.0]]), "softmax")
    np.testing.assert_allclose(pi, [[0.8808, 0.1192], [0.7311, 0.2689]], atol=1e-4)
    for backend in ("scipy", "ortools_lsa", "ortools_mcf"):
        r, c = match(pi, 0.0, backend)
        assert sorted(zip(r.tolist(), c.tolist(), strict=True)) == [(0, 0), (1, 1)]
        assert objective(pi, r, c) == pytest.approx(1.1497, abs=1e-4)


@pytest.mark.parametrize("policy,assignment,pickup", [("greedy_nearest", [0, 1], 6.0), ("lsa_eta", [1, 0], 3.0)])
def test_g5_greedy_vs_assignment(policy, assignment, pickup):
    env = make_vector_env(ENV_ID, 1, "tiny_line_test")  # v0 at zone 1, v1 at 3; o_a 2→5 at 0 s, o_b 0→5 at 10 s
    pol = make_policy(policy, ENV_ID, env.problem)
    obs, info = env.reset(seed=0)
    pol.reset(env)
    _, _, _, _, info = env.step(pol.act(obs, info))
    assert info["assignment"][0].tolist() == assignment
    assert info["metrics"]["mean_pickup_min"][0] == pytest.approx(pickup)


def test_g6_group_advantage_and_fairness():
    r = np.array([4.40, 5.55, 3.65])
    z = group_advantage(r, np.ones(3, bool))
    np.testing.assert_allclose(z, [-0.17064, 1.30112, -1.13048], atol=1e-4)
    assert r.std() == pytest.approx(0.78138, abs=1e-4)
    p = fairness_p(np.zeros(4), np.append(r, 0.0))
    assert p == pytest.approx(-2.07635, abs=1e-4)
    np.testing.assert_allclose(group_advantage(r, np.ones(3, bool), p=p), z + p)


def test_g6_env_reports_fairness_of_the_epoch():
    p = scripted([(0.0, 1, 3), (0.0, 0, 3)], [0, 5, 9, 12])
    rng = np.random.default_rng(0)
    state = p.init(1, rng)
    tr = p.step(state, zero_scores(p), ONE, rng)
    rew = tr.info["vehicle_rewards"][0]
    assert tr.info["group_mask"][0].sum() == 2
    assert tr.info["fairness_p"][0] == pytest.approx(-np.std(rew))


def test_g7_hindsight_bound():
    reveal, tau = np.zeros(3, dtype=np.int64), np.full(3, 150.0)
    for lp in (True, False):
        assert hindsight_bound(reveal, tau, fleet=1, capacity=1, W=5, K=5, lp=lp)["value"] == pytest.approx(2)
        assert hindsight_bound(reveal, tau, fleet=1, capacity=3, W=5, K=5, lp=lp)["value"] == pytest.approx(3)


def test_g8_reward_to_go():
    g = reward_to_go(np.array([0.5, -0.2]), np.array([0, 3]), gamma=0.99)
    assert g[0] == pytest.approx(0.5 + 0.99**3 * -0.2, abs=1e-5)
    assert g[0] == pytest.approx(0.30594, abs=1e-5)
