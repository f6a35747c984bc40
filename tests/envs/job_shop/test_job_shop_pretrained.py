"""The shipped GNN checkpoint (``gnn-pretrained``), sampling decoding (``--samples``) and batched solving."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from jobshop_helpers import ENV_ID

from opsrl.cli import main
from opsrl.envs.job_shop import dynamics as K_
from opsrl.envs.job_shop.heuristics import run_rule, select
from opsrl.envs.job_shop.solver import validate_schedule
from opsrl.eval import evaluate
from opsrl.policies.job_shop_gnn import PRETRAINED_DIR, pretrained, solve_fixed
from opsrl.registration import make_problem


def test_checkpoint_is_small_and_loads_weights_only():
    files = os.listdir(PRETRAINED_DIR)
    assert {"opsrl_policy.json", "agent.pt", "README.md"} <= set(files)
    assert "train_state.pt" not in files  # optimiser and env state are not shipped
    assert sum(os.path.getsize(os.path.join(PRETRAINED_DIR, f)) for f in files) < 1_000_000
    state = torch.load(os.path.join(PRETRAINED_DIR, "agent.pt"), weights_only=True)
    assert any(k.startswith("convs.") for k in state["agent"])
    with open(os.path.join(PRETRAINED_DIR, "opsrl_policy.json")) as fh:
        meta = json.load(fh)
    assert meta["config"]["obs_mode"] == "graph" and "command" in meta


def test_greedy_rollout_on_ta01_is_a_feasible_schedule():
    problem = make_problem(ENV_ID, "ta01")
    makespans, state = solve_fixed(pretrained(problem))
    sched = problem.schedule(state, 0)
    assert (sched["starts"] >= 0).all()
    assert validate_schedule(sched["durations"], sched["machines"], sched["starts"]) == makespans[0]
    assert makespans[0] >= 1231  # the optimum of ta01


def test_policy_keeps_to_its_non_delay_candidates_in_an_env_without_filter():
    """Trained with candidate_filter='non_delay', the policy picks, in the L2D env (no filter), only jobs whose
    next op can start earliest — the same set the non-delay rules choose from."""
    problem = make_problem(ENV_ID, "ta02")
    policy = pretrained(problem)
    if policy.graph.params.candidate_filter != "non_delay":
        pytest.fail("the shipped checkpoint is expected to use the non-delay candidate filter")
    state = problem.init_fixed()

    class Holder:
        pass

    holder = Holder()
    holder.state = state
    policy.reset(holder)
    active, rng = np.ones(1, dtype=np.bool_), np.random.default_rng(0)
    for _ in range(int(state.scal[0, K_.TOTAL])):
        a = policy.act(None, {})
        j = int(a[0])
        est = [K_.placement_start(0, jj, state.ops, state.jobs, state.machines, state.mseq, K_.INSERT, 15)[0]
               for jj in np.flatnonzero(state.mask[0])]
        mine = K_.placement_start(0, j, state.ops, state.jobs, state.machines, state.mseq, K_.INSERT, 15)[0]
        assert state.mask[0, j] == 1 and mine == min(est)
        tr = problem.step(state, a, active, rng)
        assert not tr.info["invalid_action"][0]
    assert tr.terminated[0]


def test_sampling_replays_the_best_of_k_samples():
    problem = make_problem(ENV_ID, "ta01")
    policy = pretrained(problem).with_samples(8)
    makespans, state = solve_fixed(policy)
    sampled = policy.last_sampled_makespans[0]
    assert sampled.shape == (8,) and makespans[0] == sampled.min()
    sched = problem.schedule(state, 0)
    assert validate_schedule(sched["durations"], sched["machines"], sched["starts"]) == makespans[0]


def test_init_fixed_rows_hold_their_instances():
    problem = make_problem(ENV_ID, "taillard_15x15")
    state = problem.init_fixed([3, 0])
    rng, active = np.random.default_rng(0), np.ones(2, dtype=np.bool_)
    while True:  # MWKR, priority-only + insert, on ta04 and ta01 side by side
        if problem.step(state, select(state, "mwkr", False, "insert"), active, rng).terminated.all():
            break
    for row, name in enumerate(["ta04", "ta01"]):
        assert state.scal[row, K_.CMAX] == run_rule(make_problem(ENV_ID, name), "mwkr", False)[0]
    with pytest.raises(ValueError, match="order"):
        problem.init_fixed([10])


def test_evaluate_samples_and_cli(capsys):
    greedy = evaluate("gnn-pretrained", ENV_ID, "ta01", episodes=1)
    sampled = evaluate("gnn-pretrained", ENV_ID, "ta01", episodes=1, samples=4)
    assert sampled.policy == "gnn-pretrained (best of 4 samples)"
    assert 1231 <= greedy.mean_cost and 1231 <= sampled.mean_cost
    with pytest.raises(ValueError, match="no sampling decoding"):
        evaluate("mwkr", ENV_ID, "ta01", episodes=1, samples=4)
    with pytest.raises(ValueError, match="samples"):
        evaluate("gnn-pretrained", ENV_ID, "ta01", episodes=1, samples=-1)
    assert main(["eval", "--env", ENV_ID, "--preset", "ta01", "--policy", "gnn-pretrained", "--episodes", "1",
                 "--samples", "2", "--json"]) in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["policy"] == "gnn-pretrained (best of 2 samples)" and out["reference"]["value"] == 1231
