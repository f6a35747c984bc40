"""The GNN pair scorer of ``opsrl/RideSharing-v0`` (``opsrl.policies.ride_gnn``): the candidate graph (pruning,
edge features), score shapes and masking, per-vehicle softmax, permutation equivariance over vehicles, its
probabilities equal the env's softmax of the scores, and an OSPO iteration with ``scorer=gnn`` whose checkpoint
round-trips through ``make_policy`` / ``opsrl.eval.evaluate``."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from opsrl.algos import ospo
from opsrl.core.env import BatchedVectorEnv
from opsrl.envs.ride_sharing.env import SCORE_BOUND
from opsrl.eval import evaluate
from opsrl.policies.base import make_policy
from opsrl.policies.ride_gnn import GNNScorerPolicy, RideGNN, segment_log_softmax
from opsrl.registration import entry

ENV_ID = "opsrl/RideSharing-v0"
PRESET = "grid_small"


def vector_env(n=2, seed=3, epochs=3):
    """A grid_small vector env a few epochs into the episode (vehicles busy, orders pending)."""
    env = BatchedVectorEnv(entry(ENV_ID).problem, num_envs=n, preset=PRESET, obs_mode="dict")
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        obs, _, _, _, info = env.step(rng.random((n, env.problem.V, env.problem.O)).astype(np.float32))
    return env, obs, info


def test_candidate_graph_prunes_to_nearest_and_carries_insertion_features():
    env, obs, _ = vector_env()
    P, k = env.problem, 3
    g = P.candidate_graph(env.state, 0, obs, k)
    rows, eta = P.pair_eta(env.state, 0)
    E, M = eta.shape
    assert E > k and M > k  # pruning is active in this state
    np.testing.assert_array_equal(g["rows"], rows)
    assert g["vehicle_x"].shape == (E, P.F) and g["order_x"].shape == (M, 6)
    keep = np.zeros((E, M), dtype=bool)
    keep[g["src"], g["dst"]] = True
    assert keep.sum() == g["src"].size  # no duplicate edges
    for i in range(E):  # every vehicle keeps its k nearest orders
        assert keep[i, np.argsort(eta[i], kind="stable")[:k]].all()
    for j in range(M):  # every order keeps its k nearest vehicles
        assert keep[np.argsort(eta[:, j], kind="stable")[:k], j].all()
    assert keep.sum() < E * M
    np.testing.assert_allclose(g["edge_attr"][:, 0] * 60.0, eta[g["src"], g["dst"]], rtol=1e-5, atol=1e-4)
    full = P.pair_features(env.state, 0)
    np.testing.assert_allclose(g["edge_attr"][:, 4] * 10.0, full[g["src"], g["dst"], 4], rtol=1e-4, atol=1e-4)
    g_all = P.candidate_graph(env.state, 0, obs, None)
    assert g_all["src"].size == E * M


def test_scores_shapes_and_masking():
    env, obs, info = vector_env()
    P = env.problem
    torch.manual_seed(0)
    pol = GNNScorerPolicy(P, RideGNN(P.F), candidate_k=3)
    pol.reset(env)
    s = pol.act(obs, info)
    assert s.shape == (2, P.V, P.O) and s.dtype == np.float32 and np.isfinite(s).all()
    for b in range(2):
        g = P.candidate_graph(env.state, b, obs, 3)
        M = g["order_x"].shape[0]
        cand = np.zeros((P.V, M), dtype=bool)
        cand[g["rows"][g["src"]], g["dst"]] = True
        assert (s[b, :, :M][cand] > -SCORE_BOUND / 2).all()
        assert (s[b, :, :M][~cand] == -SCORE_BOUND).all()  # non-candidates and ineligible vehicles
        assert (s[b, :, M:] == 0).all()  # padding slots are ignored by the env
    with pytest.raises(ValueError, match="reset"):
        GNNScorerPolicy(P, RideGNN(P.F)).act(obs, info)


def test_segment_log_softmax_is_a_per_vehicle_softmax():
    logits = torch.tensor([1.0, 2.0, 0.5, -1.0, 3.0, 100.0])
    index = torch.tensor([0, 0, 1, 1, 1, 2])
    lp = segment_log_softmax(logits, index, 3)
    torch.testing.assert_close(lp[:2], torch.log_softmax(logits[:2], 0))
    torch.testing.assert_close(lp[2:5], torch.log_softmax(logits[2:5], 0))
    torch.testing.assert_close(lp[5], torch.tensor(0.0))


def test_permutation_equivariance_over_vehicles():
    torch.manual_seed(0)
    net = RideGNN(23).eval()
    E, M, n = 9, 7, 30
    vx, ox, ea = torch.randn(E, 23), torch.randn(M, 6), torch.randn(n, 5)
    ei = torch.stack([torch.randint(E, (n,)), torch.randint(M, (n,))])
    perm = torch.randperm(E)
    inv = torch.argsort(perm)  # vehicle i of the original graph is vehicle inv[i] of the permuted one
    with torch.no_grad():
        a = net(vx, ox, ei, ea)
        b = net(vx[perm], ox, torch.stack([inv[ei[0]], ei[1]]), ea)
        # and the edges listed in another order
        order = torch.randperm(n)
        c = net(vx, ox, ei[:, order], ea[order])
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a[order], c, rtol=1e-5, atol=1e-5)
    # the scores do depend on competing vehicles: another vehicle's features change a pair's logit
    vx2 = vx.clone()
    vx2[int(ei[0, 0]) - 1 if int(ei[0, 0]) > 0 else 1] += 5.0
    with torch.no_grad():
        d = net(vx2, ox, ei, ea)
    assert not torch.allclose(a, d)


def test_gnn_probabilities_are_the_env_softmax(tmp_path):
    """With ε = 0 the GNN's own π of the matched order (over its candidate edges) equals the env's
    ``matched_value`` (row softmax over all visible orders, non-candidates at −1e4)."""
    bufs = {}
    for mode in ("policy", "env"):
        cfg = ospo.OSPOConfig(scorer="gnn", num_envs=2, eps0=0.0, eps_min=0.0, behaviour_prob=mode, candidate_k=4)
        bufs[mode] = ospo.OSPO(ENV_ID, PRESET, {}, cfg, 0, str(tmp_path / mode)).collect()
    assert bufs["policy"]["n"] > 50
    np.testing.assert_array_equal(bufs["policy"]["edge"], bufs["env"]["edge"])
    np.testing.assert_allclose(bufs["policy"]["logp_b"], bufs["env"]["logp_b"], atol=1e-4)


def test_ospo_iteration_with_gnn_and_checkpoint_round_trip(tmp_path):
    out = str(tmp_path / "gnn")
    cfg = ospo.OSPOConfig(
        scorer="gnn",
        iterations=2,
        num_envs=2,
        minibatches=3,
        minibatch_size=64,
        eps0=0.1,
        learning_rate=1e-3,
        eval_every=1,
        eval_episodes=1,
        final_eval_episodes=0,
        candidate_k=8,
    )
    run = ospo.OSPO(ENV_ID, PRESET, {}, cfg, 0, out)
    before = {k: v.clone() for k, v in run.scorer.state_dict().items()}
    summary = run.run(600.0)
    assert summary["iterations"] == 2 and summary["best_eval"]["served"] > 0
    assert any(not torch.equal(before[k], v) for k, v in run.scorer.state_dict().items())  # it trained
    with open(os.path.join(out, "opsrl_policy.json")) as fh:
        meta = json.load(fh)
    assert meta["loader"] == "opsrl.policies.ride_gnn:load_policy" and meta["scorer"]["candidate_k"] == 8
    env, obs, info = vector_env()
    loaded = make_policy(out, ENV_ID, env.problem)
    assert isinstance(loaded, GNNScorerPolicy) and loaded.candidate_k == 8
    trained = run.policy()
    for pol in (loaded, trained):
        pol.reset(env)
    np.testing.assert_array_equal(loaded.act(obs, info), trained.act(obs, info))
    res = evaluate(out, ENV_ID, PRESET, episodes=2, seed=0)  # what `opsrl eval --policy out` runs
    direct = ospo.dispatch_metrics(run.policy(), ENV_ID, PRESET, {}, 2, 0)
    assert res.mean_cost == pytest.approx(-direct["return"], rel=1e-6)


def test_grpo_with_gnn_runs(tmp_path):
    cfg = ospo.OSPOConfig(
        advantage="episode_rtg",
        scorer="gnn",
        iterations=1,
        num_envs=1,
        minibatches=2,
        minibatch_size=32,
        eps0=0.1,
        eval_every=5,
        final_eval_episodes=0,
    )
    summary = ospo.GRPO(ENV_ID, PRESET, {}, cfg, 1, str(tmp_path)).run(600.0)
    assert summary["iterations"] == 1


def test_bad_scorer_options(tmp_path):
    with pytest.raises(ValueError, match="scorer"):
        ospo.OSPO(ENV_ID, PRESET, {}, ospo.OSPOConfig(scorer="transformer"), 0, str(tmp_path))
    with pytest.raises(ValueError, match="candidate_k"):
        ospo.OSPO(ENV_ID, PRESET, {}, ospo.OSPOConfig(scorer="gnn", candidate_k=0), 0, str(tmp_path))
