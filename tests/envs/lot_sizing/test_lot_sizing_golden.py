"""Golden values of the spec: exact DP values (§5.3), exact always-idle expectations with the reference
lost-sales vectors (§5.1), Wagner–Whitin (§5.6); and simulations of the env that must agree with them."""

from __future__ import annotations

import numpy as np
import pytest

import opsrl
from opsrl.envs.lot_sizing import solver
from opsrl.eval import evaluate

ENV_ID = "opsrl/LotSizing-v0"
LS_15x5 = [0.1, 0.1, 0.1, 0.1, 1.1, 0.1, 1.1, 0.1, 0.1, 1.1, 1.1, 1.1, 0.1, 1.1, 0.1]


def problem(preset, **kw):
    return opsrl.make_problem(ENV_ID, preset, **kw)


@pytest.mark.parametrize("preset,horizon,discount,value", [
    ("tiny_2i1m_t3", 3, 1.0, 3.8125),
    ("tiny_2i1m_t3", 20, 1.0, 14.7828),
    ("tiny_2i1m_vi", 20, 1.0, 81.4476),
    ("tiny_2i1m_vi", 100, 1.0, 381.5830),
    ("tiny_2i1m_vi", None, 0.9, 44.0607),
])
def test_dp_golden_values(preset, horizon, discount, value):
    p = problem(preset)
    sol = solver.value_iteration(p.instance, horizon, discount=discount)
    assert solver.dp_start_value(sol, p.instance, False) == pytest.approx(value, abs=1e-4)


def test_always_idle_golden_values():
    assert solver.idle_expected_cost(problem("tiny_2i1m_vi").instance, 20, False)[0] == pytest.approx(442.8)
    p = problem("pdppo_15x5", lost_sales_costs=LS_15x5)
    value, lost, stock = solver.idle_expected_cost(p.instance, 100, True)
    np.testing.assert_allclose(lost, 750.5, atol=1e-9)
    np.testing.assert_allclose(stock, 182.985, atol=1e-3)
    assert value == pytest.approx(5656.2, abs=0.05)
    # the other reference configurations: only the number of items with ls = 1.1 matters
    for (n_items, n_mach, n_high), expected in [((20, 10, 8), 7541.6), ((25, 10, 14), 12429.0),
                                                ((25, 15, 12), 10928.0)]:
        ls = [1.1] * n_high + [0.1] * (n_items - n_high)
        p = problem("pdppo_15x5", n_items=n_items, n_machines=n_mach, lost_sales_costs=ls)
        assert solver.idle_expected_cost(p.instance, 100, True)[0] == pytest.approx(expected, abs=0.1)


def test_env_simulation_agrees_with_the_exact_idle_value():
    res = evaluate("idle", ENV_ID, "pdppo_15x5", episodes=2000, seed=0, overrides={"lost_sales_costs": LS_15x5},
                   batch_size=2000, reference=None)
    assert abs(res.mean_cost - 5656.2) < 2.5 * res.ci95 + 1e-9
    assert 80 < res.std < 110  # the reference's 20,000-episode sd is 95


def test_dp_policy_simulated_agrees_with_the_dp_value():
    """The optimal policy run in the env (Monte Carlo) reproduces the DP optimum, and no heuristic beats it."""
    opt = solver.value_iteration(problem("tiny").instance, 20)
    value = solver.dp_start_value(opt, problem("tiny").instance, False)
    res = evaluate("value_iteration", ENV_ID, "tiny", episodes=20000, seed=1, batch_size=20000, reference=None)
    assert abs(res.mean_cost - value) < 3 * res.ci95
    assert res.ci95 / value < 0.003
    for name in ("idle", "days_of_supply"):
        other = evaluate(name, ENV_ID, "tiny", episodes=20000, seed=1, batch_size=20000, reference=None)
        assert other.mean_cost > res.mean_cost
    # with a random reset the reference averages the DP over the start distribution
    p = problem("tiny", random_reset=True)
    value_rr = solver.dp_start_value(opt, p.instance, True)
    res_rr = evaluate("value_iteration", ENV_ID, "tiny", episodes=20000, seed=2, batch_size=20000,
                      overrides={"random_reset": True}, reference=None)
    assert abs(res_rr.mean_cost - value_rr) < 3 * res_rr.ci95


def test_discounted_and_finite_horizon_dp_are_consistent():
    p = problem("tiny_2i1m_t3")
    disc = solver.value_iteration(p.instance, None, discount=0.5)
    long = solver.value_iteration(p.instance, 60, discount=0.5)  # 0.5^60: the tail is negligible
    np.testing.assert_allclose(disc.value, long.value, atol=1e-9)
    with pytest.raises(ValueError, match="too large"):
        solver.value_iteration(problem("pdppo_15x5").instance, 100)
    # 26^15 setup vectors: refused before any of them is enumerated (this used to exhaust memory)
    with pytest.raises(ValueError, match="too large"):
        solver.value_iteration(problem("pdppo_25x15").instance, 100)


@pytest.mark.parametrize("demand,K,h,cost,orders", [
    ((90, 120, 80, 70), 500, 2, 1380, (210, 0, 150, 0)),
    ((10, 10, 10, 10), 100, 1, 160, (40, 0, 0, 0)),  # a faulty DP forcing a last-period order gives 230
    ((10, 20, 30, 40), 30, 1, 110, (30, 0, 30, 40)),
])
def test_wagner_whitin_golden(demand, K, h, cost, orders):
    value, plan = solver.wagner_whitin(demand, K, h)
    assert value == pytest.approx(cost)
    assert tuple(plan) == orders


def test_wagner_whitin_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(30):
        d = rng.integers(0, 30, rng.integers(1, 8))
        K, h = float(rng.uniform(1, 100)), float(rng.uniform(0.1, 5))
        best = np.inf
        for mask in range(2 ** d.size):  # which periods order (period 0 must if it has demand)
            orders = [(mask >> k) & 1 for k in range(d.size)]
            if d[0] > 0 and not orders[0]:
                continue
            cost, last = 0.0, None
            for k in range(d.size):
                if orders[k]:
                    last = k
                    cost += K
                if last is None and d[k] > 0:
                    cost = np.inf
                    break
                cost += h * (k - last) * d[k] if last is not None else 0.0
            best = min(best, cost)
        assert solver.wagner_whitin(d, K, h)[0] == pytest.approx(best)
