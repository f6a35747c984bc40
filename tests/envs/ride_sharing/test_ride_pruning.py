"""Candidate pruning of the dispatch policies: the ETA kernel, the top-k lists and the sparse OR-tools
assignment against independent checks, and the pruned policies against a dense complete-graph reference
(every pair's insertion evaluated, the dense §5.2 model) — equal results whenever k covers every pair."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsrl.envs.ride_sharing import dynamics as K_
from opsrl.envs.ride_sharing import heuristics as H
from opsrl.envs.ride_sharing.matching import ortools_lsa_int, ortools_lsa_sparse
from opsrl.eval.evaluate import make_vector_env

ENV_ID = "opsrl/RideSharing-v0"


# -- dense references: every pair through pair_features, the dense OR-tools model, lexsort FCFS ---------
def _fcfs(keys, rows):
    E, M = keys[0].shape
    used = np.zeros(E, bool)
    out_r, out_c = [], []
    for c in range(M):
        free = np.flatnonzero(~used)
        if free.size == 0:
            break
        best = free[np.lexsort([rows[free]] + [k[free, c] for k in reversed(keys)])[0]]
        used[best] = True
        out_r.append(best)
        out_c.append(c)
    return rows[np.array(out_r, dtype=np.int64)], np.array(out_c, dtype=np.int64)


class DenseGreedy(H.DispatchPolicy):
    def choose(self, problem, state, b):
        rows, pf = self.candidates(problem, state, b)
        return (rows[:0], rows[:0]) if pf.size == 0 else _fcfs([pf[:, :, K_.P_ETA]], rows)


class DenseInsertion(H.DispatchPolicy):
    def choose(self, problem, state, b):
        rows, pf = self.candidates(problem, state, b)
        if pf.size == 0:
            return rows[:0], rows[:0]
        cost = pf[:, :, K_.P_ADDED] + 60.0 * pf[:, :, K_.P_LATE]
        return _fcfs([np.round(cost, 9), np.round(pf[:, :, K_.P_ETA], 9)], rows)


class DenseLsaEta(H.DispatchPolicy):
    def choose(self, problem, state, b):
        rows, pf = self.candidates(problem, state, b)
        if pf.size == 0:
            return rows[:0], rows[:0]
        eta = np.rint(pf[:, :, K_.P_ETA] * 60_000.0).astype(np.int64)
        r, c = ortools_lsa_int((min(eta.shape) + 1) * (int(eta.max()) + 1) - eta, 0)
        return rows[r], c


class DenseLsaReward(H.DispatchPolicy):
    def choose(self, problem, state, b):
        rows, pf = self.candidates(problem, state, b)
        if pf.size == 0:
            return rows[:0], rows[:0]
        w = np.rint(1e6 * pf[:, :, K_.P_REWARD]).astype(np.int64)
        r, c = ortools_lsa_int(w, 0)
        keep = w[r, c] > 0
        return rows[r[keep]], c[keep]


PAIRS = [(DenseGreedy, H.GreedyNearest), (DenseInsertion, H.InsertionGreedy), (DenseLsaEta, H.LsaEta),
         (DenseLsaReward, H.LsaReward)]


def episode(policy_factory, preset, seed, n=2, **over):
    env = make_vector_env(ENV_ID, n, preset, **over)
    pol = policy_factory(env.problem)
    obs, info = env.reset(seed=seed)
    pol.reset(env)
    done = np.zeros(n, bool)
    while not done.all():
        obs, _, term, trunc, info = env.step(pol.act(obs, info))
        done |= term | trunc
    m = info["metrics"]
    return np.concatenate([m["served"], m["mean_pickup_min"], m["return"], m["vehicle_km"]])


@pytest.mark.parametrize("dense,pruned", PAIRS, ids=[p[1].name for p in PAIRS])
def test_k_covering_every_pair_reproduces_the_complete_graph_policy(dense, pruned):
    """Continuous ETAs (uniform points: no ties, a unique optimum): the episodes are identical, bit for bit,
    with k = None and with k = the fleet size."""
    over = dict(point_mode="uniform_in_zone")
    ref = episode(dense, "grid_small", 3, **over)
    for k in (None, 60):
        np.testing.assert_array_equal(episode(lambda p, k=k: pruned(p, candidate_k=k), "grid_small", 3, **over), ref)


def states_along(preset, seed, epochs, **over):
    """(problem, state) at successive epochs of an lsa_eta episode (deep copies)."""
    import copy

    env = make_vector_env(ENV_ID, 1, preset, **over)
    pol = H.LsaEta(env.problem, candidate_k=None)
    obs, info = env.reset(seed=seed)
    pol.reset(env)
    for _ in range(epochs):
        yield env.problem, copy.deepcopy(env.state)
        obs, *_, info = env.step(pol.act(obs, info))


def test_pruned_lsa_eta_keeps_maximum_cardinality_and_bounds_the_optimum():
    """Centroid points (many ties), scarce and abundant fleets, k = 2: as many matches as the complete graph
    (min(E, M)) and a total ETA no smaller; equal objectives with k = None despite ties."""
    for fleet in (8, 60):
        for problem, state in states_along("grid_small", 7, 12, fleet_size=fleet):
            rows, eta = problem.pair_eta(state, 0)
            if eta.size == 0:
                continue
            total = {}
            for k in (None, 2):
                r, c = H.LsaEta(problem, candidate_k=k).choose(problem, state, 0)
                assert r.size == min(eta.shape) and len(set(c.tolist())) == c.size
                total[k] = eta[np.searchsorted(rows, r), c].sum()
            r, c = DenseLsaEta(problem).choose(problem, state, 0)
            assert total[None] == pytest.approx(eta[np.searchsorted(rows, r), c].sum(), abs=1e-6)
            assert total[2] >= total[None] - 1e-6


def test_eta_kernel_and_pair_list_equal_the_full_pair_features():
    for problem, state in states_along("grid_small", 2, 8):
        rows, eta = problem.pair_eta(state, 0)
        if eta.size == 0:
            continue
        full = problem.pair_features(state, 0, rows)
        np.testing.assert_array_equal(eta, full[:, :, K_.P_ETA])
        pr, pc = H.pruned_pairs(eta, 3, both=True)
        np.testing.assert_array_equal(problem.pair_features_list(state, 0, rows[pr], pc), full[pr, pc])


@settings(max_examples=60, deadline=None)
@given(E=st.integers(1, 12), M=st.integers(1, 12), k=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
def test_topk_rows_against_a_stable_sort(E, M, k, seed):
    eta = np.random.default_rng(seed).integers(0, 4, size=(E, M)).astype(np.float64)  # many ties
    kk = min(k, E)
    out = np.empty((M, kk), dtype=np.int64)
    K_.topk_rows(eta, k, out)
    np.testing.assert_array_equal(out, np.argsort(eta, axis=0, kind="stable")[:kk].T)


@settings(max_examples=80, deadline=None)
@given(E=st.integers(1, 4), M=st.integers(1, 4), seed=st.integers(0, 2**31 - 1), density=st.floats(0.2, 1.0))
def test_sparse_lsa_against_exhaustive_enumeration(E, M, seed, density):
    rng = np.random.default_rng(seed)
    w = rng.integers(-5, 10, size=(E, M))
    arcs = rng.random((E, M)) < density
    pr, pc = np.nonzero(arcs)
    r, c = ortools_lsa_sparse(pr, pc, w[pr, pc])
    assert len(set(r.tolist())) == r.size and len(set(c.tolist())) == c.size
    assert arcs[r, c].all()
    best = 0
    for choice in itertools.product(range(-1, M), repeat=E):
        used = [x for x in choice if x >= 0]
        if len(used) == len(set(used)) and all(arcs[i, x] for i, x in enumerate(choice) if x >= 0):
            best = max(best, sum(int(w[i, x]) for i, x in enumerate(choice) if x >= 0))
    assert int(w[r, c].sum()) == best


def test_bad_candidate_k_is_rejected():
    problem = make_vector_env(ENV_ID, 1, "grid_town").problem
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="candidate_k"):
            H.LsaEta(problem, candidate_k=bad)
    assert H.InsertionGreedy(problem).candidate_k is None and H.LsaReward(problem).candidate_k == 16
