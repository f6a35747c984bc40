"""OSPO / GRPO on ``opsrl/RideSharing-v0`` (``opsrl.algos.ospo``) and the pair scorer
(``opsrl.policies.ride_scorer``): a short OSPO run through ``opsrl train`` serves more orders than the untrained
scorer on the same evaluation scenarios, resumes on re-run, and its checkpoint evaluates through
``opsrl eval --json``; GRPO runs; the scorer, the behaviour probabilities and GRPO's advantage are checked
against independent computations."""

from __future__ import annotations

import csv
import dataclasses
import json
import os

import numpy as np
import pytest
import torch

from opsrl.algos import ALGOS, ospo
from opsrl.cli import main
from opsrl.policies.ride_scorer import PairScorer, RideScorerPolicy, load_policy
from opsrl.registration import make_problem

ENV_ID = "opsrl/RideSharing-v0"
PRESET = "grid_small"
QUICK = ["learning_rate=3e-3", "eps0=0.05", "num_envs=4", "eval_every=3", "eval_episodes=2",
         "final_eval_episodes=0", "checkpoint_every=3"]


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    return code, json.loads(out[0])


def train_cli(capsys, algo, out, iterations, extra=()):
    opts = [f"iterations={iterations}", *QUICK, *extra]
    return run_json(capsys, "train", algo, "--env", ENV_ID, "--preset", PRESET, "--seed", "0", "--out", str(out),
                    "--budget-seconds", "120", *sum((["--option", o] for o in opts), []))


def test_registered():
    assert ALGOS["ospo"] == "opsrl.algos.ospo:train" and ALGOS["grpo"] == "opsrl.algos.ospo:train_grpo"


def test_scorer_is_the_28_input_mlp():
    problem = make_problem(ENV_ID, PRESET)
    torch.manual_seed(0)
    net = PairScorer(problem.F)
    assert problem.F == 23 and net.first.in_features == 28
    assert sum(p.numel() for p in net.parameters()) == 20_353  # the reference's count (spec §6.1)
    veh, orders = torch.randn(5, 23), torch.randn(7, 5)
    pairs = torch.cat([veh.unsqueeze(1).expand(5, 7, 23), orders.unsqueeze(0).expand(5, 7, 5)], dim=-1)
    direct = net.rest(net.act(net.first(pairs))).squeeze(-1)  # the MLP on each concatenated pair
    torch.testing.assert_close(net(veh, orders), direct, rtol=1e-5, atol=1e-5)
    mask = torch.tensor([True] * 4 + [False] * 3)
    lp = net.log_probs(veh, orders, mask)
    torch.testing.assert_close(lp[:, :4].exp().sum(-1), torch.ones(5), rtol=1e-5, atol=1e-5)
    assert (lp[:, 4:] < -1e8).all()


def test_behaviour_probability_is_the_env_matched_value(tmp_path):
    """With ε = 0 the scorer's own π of the matched order equals the env's ``matched_value``."""
    bufs = {}
    for mode in ("policy", "env"):
        cfg = ospo.OSPOConfig(num_envs=2, eps0=0.0, eps_min=0.0, behaviour_prob=mode)
        bufs[mode] = ospo.OSPO(ENV_ID, PRESET, {}, cfg, 0, str(tmp_path / mode)).collect()
    assert bufs["policy"]["n"] > 50
    np.testing.assert_array_equal(bufs["policy"]["slot"], bufs["env"]["slot"])
    np.testing.assert_allclose(bufs["policy"]["logp_b"], bufs["env"]["logp_b"], atol=1e-4)


def test_grpo_advantage_is_episode_normalised_reward_to_go(tmp_path):
    cfg = ospo.OSPOConfig(advantage="episode_rtg", gamma=0.99)
    run = ospo.GRPO(ENV_ID, PRESET, {}, dataclasses.replace(cfg, num_envs=1), 0, str(tmp_path))
    r = np.array([4.4, 5.55, 3.65, 1.0])
    buf = {"reward": r, "env": np.zeros(4, dtype=int), "vehicle": np.array([0, 1, 0, 1]),
           "epoch": np.array([0, 0, 3, 2])}
    z = (r - r.mean()) / (r.std() + 1e-8)
    expected = [z[0] + 0.99 ** 3 * z[2], z[1] + 0.99 ** 2 * z[3], z[2], z[3]]
    np.testing.assert_allclose(run.episode_reward_to_go(buf), expected, rtol=1e-9)


def test_ospo_learns_resumes_and_evaluates_through_the_cli(tmp_path, capsys):
    out = tmp_path / "ospo"
    code, d = train_cli(capsys, "ospo", out, 6)
    assert code == 0 and d["iterations"] == 6 and d["best_eval"]["served"] > 0
    for f in ("opsrl_policy.json", "scorer.pt", "train_state.pt", "progress.csv", "best/opsrl_policy.json"):
        assert os.path.exists(out / f), f
    # re-running the command continues from train_state.pt
    code, d = train_cli(capsys, "ospo", out, 7)
    assert code == 0 and d["iterations"] == 7
    with open(out / "progress.csv") as fh:
        assert [int(row["iteration"]) for row in csv.DictReader(fh)] == list(range(1, 8))

    problem = make_problem(ENV_ID, PRESET)
    torch.manual_seed(0)  # the trainer's initial weights (seed 0)
    untrained = ospo.dispatch_metrics(RideScorerPolicy(problem, PairScorer(problem.F)), ENV_ID, PRESET, {}, 4, 0)
    trained = ospo.dispatch_metrics(load_policy(str(out), problem), ENV_ID, PRESET, {}, 4, 0)
    assert trained["served"] > untrained["served"] + 10, (trained, untrained)
    assert trained["mean_pickup_min"] < untrained["mean_pickup_min"]

    code, d = run_json(capsys, "eval", "--env", ENV_ID, "--preset", PRESET, "--policy", str(out),
                       "--episodes", "4", "--no-reference")
    assert code == 0 and d["policy"] == str(out) and d["episodes"] == 4
    assert d["mean_cost"] == pytest.approx(-trained["return"], rel=1e-6)  # cost = −(OSPO return), same scenarios


def test_grpo_runs(tmp_path, capsys):
    out = tmp_path / "grpo"
    code, d = train_cli(capsys, "grpo", out, 2, extra=["num_envs=2", "minibatches=3"])
    assert code == 0 and d["iterations"] == 2
    with open(out / "opsrl_policy.json") as fh:
        meta = json.load(fh)
    assert meta["algo"] == "grpo" and meta["config"]["advantage"] == "episode_rtg"
    with open(out / "progress.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert all(np.isfinite(float(row["pg_loss"])) and int(row["transitions"]) > 0 for row in rows)


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="advantage"):
        ospo.OSPO(ENV_ID, PRESET, {}, ospo.OSPOConfig(advantage="nope"), 0, str(tmp_path))
    with pytest.raises(ValueError, match="unknown option"):
        ospo.train(ENV_ID, PRESET, {}, 0, 1.0, str(tmp_path), not_an_option=1)


def test_scorer_option_selects_the_gnn(tmp_path):
    """``--option scorer=gnn --option candidate_k=8`` (strings/ints as the CLI's YAML gives them) build the GNN
    scorer, and the checkpoint manifest names the GNN loader."""
    from opsrl.policies.ride_gnn import RideGNN

    cfg = ospo.config_from(ospo._numbers({"scorer": "gnn", "candidate_k": 8, "learning_rate": "3e-4"}),
                           ospo.OSPOConfig)
    run = ospo.OSPO(ENV_ID, PRESET, {}, dataclasses.replace(cfg, num_envs=1), 0, str(tmp_path))
    assert isinstance(run.scorer, RideGNN) and run.config.learning_rate == pytest.approx(3e-4)
    meta = run.manifest()
    assert meta["loader"] == "opsrl.policies.ride_gnn:load_policy" and meta["scorer"]["candidate_k"] == 8
    mlp = ospo.OSPO(ENV_ID, PRESET, {}, ospo.OSPOConfig(num_envs=1), 0, str(tmp_path / "mlp"))
    assert mlp.manifest()["loader"] == "opsrl.policies.ride_scorer:load_policy"
