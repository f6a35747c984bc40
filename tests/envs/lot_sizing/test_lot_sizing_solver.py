"""The OR-tools models against independent checks: brute force over every action sequence on tiny
scenarios, re-simulation of MIP plans in the env, the bound property against the DP policy, the two
backends against each other; heuristics and the rolling-horizon policy; ``opsrl eval/solve --json``."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import opsrl
from opsrl.cli import main
from opsrl.envs.lot_sizing import solver
from opsrl.envs.lot_sizing.dynamics import step_numpy
from opsrl.envs.lot_sizing.heuristics import RollingEVPolicy, simulate
from opsrl.eval import evaluate

ENV_ID = "opsrl/LotSizing-v0"


def problem(preset, **kw):
    return opsrl.make_problem(ENV_ID, preset, **kw)


def replay(p, inv, setup, demand, plan):
    """Cost of applying ``plan`` [T, M] on one scenario, through the NumPy transcription of §2.3."""
    inv, setup, total = inv[None].copy(), setup[None].copy(), 0.0
    for t in range(demand.shape[0]):
        inv, setup, r, _, _ = step_numpy(inv, setup, demand[t][None], plan[t][None], p.instance, compat=p.compat,
                                         exclusive=p.exclusive)
        total -= r[0]
    return total


def brute_force(p, inv, setup, demand):
    M, n_it = p.n_machines, p.n_items
    T = demand.shape[0]
    joint = list(itertools.product(range(n_it + 1), repeat=M))
    return min(replay(p, inv, setup, demand, np.array(seq).reshape(T, M))
               for seq in itertools.product(joint, repeat=T))


@pytest.mark.parametrize("preset,kw", [("tiny_2i1m_t3", dict(horizon=5)),
                                       ("tiny", dict(horizon=4, random_reset=True)),
                                       ("eswa_t5_i10_m2", dict(n_items=2, horizon=3, random_reset=True))])
def test_exact_mip_equals_brute_force_and_relaxations_bound_it(preset, kw):
    p = problem(preset, **kw)
    rng = np.random.default_rng(0)
    for _ in range(4):
        st = p.init(1, rng)
        inv, setup, d = st.inv[0], st.setup[0], st.demand[0]
        best = brute_force(p, inv, setup, d)
        exact = solver.wait_and_see(p.instance, d, inv, setup, exact=True)
        assert exact.optimal and exact.value == pytest.approx(best, abs=1e-9)
        assert replay(p, inv, setup, d, exact.produce) == pytest.approx(exact.value, abs=1e-9)  # re-simulated
        scip = solver.wait_and_see(p.instance, d, inv, setup, exact=True, backend="scip")
        assert scip.value == pytest.approx(best, abs=1e-6)
        relaxed = solver.wait_and_see(p.instance, d, inv, setup)
        assert relaxed.bound <= best + 1e-9
        lagrangian = solver.lagrangian_bound(p.instance, d, inv, setup, iterations=30)
        assert -1e-9 <= lagrangian.bound <= best + 1e-9
        pooled = solver.lagrangian_bound(p.instance, d, inv, setup, iterations=30, exact_machines=0)
        assert -1e-9 <= pooled.bound <= best + 1e-9  # every machine pooled: still a bound


def test_exact_mip_plans_resimulate_on_a_larger_instance():
    p = problem("eswa_t5_i10_m2")
    st = p.init(2, np.random.default_rng(1))
    for b in range(2):  # the assertions hold whether or not the time limit stops the search
        res = solver.wait_and_see(p.instance, st.demand[b], st.inv[b], st.setup[b], exact=True, time_limit=4)
        assert res.bound <= res.value + 1e-9
        assert replay(p, st.inv[b], st.setup[b], st.demand[b], res.produce) == pytest.approx(res.value, abs=1e-6)
        # perfect information beats any non-anticipative policy on its own scenario
        from opsrl.envs.lot_sizing.heuristics import days_of_supply_actions

        inv, setup, total = st.inv[b:b + 1].copy(), st.setup[b:b + 1].copy(), 0.0
        for t in range(p.horizon):
            a = days_of_supply_actions(p, inv, setup, 1.0, 2.0)
            inv, setup, r, _, _ = step_numpy(inv, setup, st.demand[b, t][None], a, p.instance)
            total -= r[0]
        assert res.bound <= total + 1e-9


def test_perfect_information_bound_is_below_the_dp_policy_on_every_scenario():
    p = problem("tiny_2i1m_t3", horizon=6)
    from opsrl.envs.lot_sizing.heuristics import dp_solution

    sol = dp_solution(p)
    st = p.init(12, np.random.default_rng(5))
    inv, setup, state_costs = st.inv.copy(), st.setup.copy(), np.zeros(12)
    for t in range(p.horizon):
        idx = sol.policy[(np.full(12, t), sol.setup_index(setup), *inv.T)]
        inv, setup, r, _, _ = step_numpy(inv, setup, st.demand[:, t], sol.actions[idx], p.instance)
        state_costs -= r
    for b in range(12):  # a fixed reset: every scenario starts from I0, σ0
        res = solver.wait_and_see(p.instance, st.demand[b], p.instance.initial_inventory, p.instance.initial_setup,
                                  exact=True)
        assert res.value <= state_costs[b] + 1e-9


def test_cost_scale_and_backend_errors():
    assert solver.cost_scale(np.array([0.01, 1.1, 15.0])) == 100
    assert solver.cost_scale(np.array([1.0, 2.0])) == 1
    with pytest.raises(ValueError, match="decimals"):
        solver.cost_scale(np.array([np.pi]))
    p = problem("tiny_2i1m_t3")
    with pytest.raises(ValueError, match="integer demand"):
        solver.wait_and_see(p.instance, np.full((3, 2), 0.5), np.zeros(2), np.zeros(1, np.int64))


def test_expected_value_plan_and_rolling_policy():
    p = problem("eswa_t5_i10_m2", n_items=4)
    res = solver.plan_expected_value(p.instance, np.zeros(4, np.int64), np.zeros(2, np.int64), window=3)
    assert res.produce.shape == (3, 2)
    assert all(a == 0 or p.instance.production[m, a - 1] > 0 for row in res.produce for m, a in enumerate(row))
    pol = RollingEVPolicy(p, window=2, time_limit=2)
    ev = simulate(p, lambda s: pol.act(p.observe(s), {}), 4, 0).mean()
    idle = simulate(p, lambda s: np.zeros((4, 2), np.int64), 4, 0).mean()
    assert ev < idle


def test_heuristics_beat_idle_on_pdppo_and_days_of_supply_is_tuned():
    idle = evaluate("idle", ENV_ID, "pdppo_15x5", episodes=64, seed=0, reference=None)
    dos = evaluate("days_of_supply", ENV_ID, "pdppo_15x5", episodes=64, seed=0, reference=None)
    assert dos.mean_cost < 0.8 * idle.mean_cost


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    return code, json.loads(out[0])


def test_cli_list_describe_eval_solve(capsys):
    code, d = run_json(capsys, "list")
    assert code == 0 and {"idle", "days_of_supply", "value_iteration", "rolling_ev_mip"} <= set(
        d["envs"][ENV_ID]["policies"])
    code, d = run_json(capsys, "describe", ENV_ID, "--preset", "pdppo_15x5", "--set", "generator_seed=3")
    assert code == 0 and d["parameters"]["generator_seed"] == 3 and len(d["instance"]["production"]) == 5
    code, d = run_json(capsys, "eval", "--env", ENV_ID, "--preset", "tiny", "--policy", "days_of_supply",
                       "--episodes", "64")
    assert code == 0 and d["reference"]["kind"] == "optimum" and d["gap_pct"] > 0
    code, s = run_json(capsys, "solve", "--env", ENV_ID, "--preset", "tiny", "--episodes", "4", "--time-limit", "8")
    kinds = [r["kind"] for r in s["references"]]
    assert code == 0 and kinds[0] == "optimum" and "bound" in kinds
    opt, pi = s["references"][0]["value"], s["references"][-1]["value"]
    assert pi < opt  # the perfect-information bound lies below the optimum of the non-anticipative problem
    code, s = run_json(capsys, "solve", "--env", ENV_ID, "--preset", "eswa_t5_i10_m2", "--episodes", "4",
                       "--time-limit", "6")
    assert code == 0 and [r["kind"] for r in s["references"]] == ["policy", "policy", "bound"]
    code, d = run_json(capsys, "eval", "--env", ENV_ID, "--preset", "pdppo_15x5", "--policy", "idle",
                       "--episodes", "2", "--set", "horizon=0")
    assert code == 2 and "horizon" in d["error"]


# -- the Lagrangian perfect-information bound ---------------------------------------------------------------
def test_lagrangian_bound_equals_the_relaxed_mip_without_capacity_coupling():
    """One item: the dualised machine capacities cannot bind, so L(0) is the exact optimum of the relaxed
    wait-and-see model (free disposal) — an independent check of the item DP against CP-SAT."""
    p = problem("eswa_t5_i10_m2", n_items=1, random_reset=True)
    st = p.init(6, np.random.default_rng(3))
    for b in range(6):
        relaxed = solver.wait_and_see(p.instance, st.demand[b], st.inv[b], st.setup[b])
        lb = solver.lagrangian_bound(p.instance, st.demand[b], st.inv[b], st.setup[b], iterations=1)
        assert relaxed.optimal and lb.bound == pytest.approx(relaxed.value, abs=1e-6)
        assert lb.bound == pytest.approx(max(lb.history))


def test_lagrangian_bound_is_below_the_policies_on_every_scenario():
    from gymnasium.utils import seeding

    from opsrl.envs.lot_sizing.heuristics import days_of_supply_actions

    p = problem("eswa_t5_i10_m2", n_items=4, random_reset=True)
    pol = RollingEVPolicy(p, window=2, time_limit=2)
    rolling = simulate(p, lambda s: pol.act(p.observe(s), {}), 4, 0)
    dos = simulate(p, lambda s: days_of_supply_actions(p, s.inv, s.setup, 1.0, 2.0), 4, 0)
    st = p.init(4, seeding.np_random(0)[0])  # the scenarios ``simulate`` drew
    for b in range(4):
        exact = solver.wait_and_see(p.instance, st.demand[b], st.inv[b], st.setup[b], exact=True, time_limit=4)
        lb = solver.lagrangian_bound(p.instance, st.demand[b], st.inv[b], st.setup[b], iterations=40)
        assert lb.bound <= exact.value + 1e-9 and lb.bound <= rolling[b] + 1e-9 and lb.bound <= dos[b] + 1e-9


def test_lagrangian_bound_is_informative_at_t100():
    """pdppo_15x5 (T = 100): the MIP's dual bound stays near 0 there; the Lagrangian one is a sizeable share
    of a good policy's cost on the same scenario and still below it."""
    from gymnasium.utils import seeding

    from opsrl.envs.lot_sizing.heuristics import days_of_supply_actions

    p = problem("pdppo_15x5")
    dos = simulate(p, lambda s: days_of_supply_actions(p, s.inv, s.setup, 2.0, 4.0), 1, 0)[0]
    st = p.init(1, seeding.np_random(0)[0])
    lb = solver.lagrangian_bound(p.instance, st.demand[0], st.inv[0], st.setup[0], iterations=30)
    assert 0.15 * dos < lb.bound < dos


def test_pooling_machines_keeps_a_valid_bound_close_to_tracking_them():
    """pdppo_15x5 (at most 4 machines per item, all tracked exactly by default): tracking only 2 per item and
    pooling the rest gives a bound below the exact-tracking one's relaxation but close to it, and pooling all of
    them a weaker one; on pdppo_25x15 (6-12 machines per item) the pooled bound is informative."""
    from gymnasium.utils import seeding

    from opsrl.envs.lot_sizing.heuristics import days_of_supply_actions

    p = problem("pdppo_15x5")
    st = p.init(1, seeding.np_random(0)[0])
    args = (p.instance, st.demand[0], st.inv[0], st.setup[0])
    lam = solver.lagrangian_bound(*args, iterations=12).multipliers
    exact = solver.lagrangian_bound(*args, iterations=1, lam0=lam).bound
    two = solver.lagrangian_bound(*args, iterations=1, lam0=lam, exact_machines=2).bound
    none = solver.lagrangian_bound(*args, iterations=1, lam0=lam, exact_machines=0).bound
    assert none <= two + 1e-9 and two <= exact + 1e-9  # at the same λ, pooling only relaxes
    assert two >= 0.9 * exact
    big = problem("pdppo_25x15")
    dos = simulate(big, lambda s: days_of_supply_actions(big, s.inv, s.setup, 2.0, 4.0), 1, 0)[0]
    st = big.init(1, seeding.np_random(0)[0])
    lb = solver.lagrangian_bound(big.instance, st.demand[0], st.inv[0], st.setup[0], iterations=6)
    assert lb.history[0] < 0.05 * dos  # λ = 0: every item alone has capacity to spare
    assert 0.1 * dos < lb.bound < dos
