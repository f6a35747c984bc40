"""Dispatch heuristics and OR-tools assignment policies as named opsrl policies (spec §5.1).

* ``random`` — i.i.d. U(0, 1) scores, then the env's matching (a true random baseline).
* ``greedy_nearest`` — orders first-come-first-served; each takes the unused eligible vehicle with the
  smallest pickup ETA (ties → lower vehicle id).
* ``lsa_eta`` — minimum total ETA over maximum-cardinality matchings, solved with OR-tools'
  ``SimpleLinearSumAssignment`` (batched: one assignment per env and epoch).
* ``lsa_reward`` — maximum Σ r_ij (the OSPO one-step reward of inserting j into i), declining pairs with
  r ≤ 0; OR-tools LSA. With ≤ 1 new order per vehicle per epoch this is the myopic RTV/NeurADP ILP.
* ``insertion_greedy`` — orders FCFS; each takes the unused eligible vehicle with the least added
  passenger minutes A + 60·N_late (ties → ETA, then id).

**Candidate pruning** (``candidate_k``: 16 for ``lsa_eta``/``lsa_reward``, None for ``insertion_greedy``;
KDD Cup 2020 style top-K edges). At 1,000 vehicles an epoch has ~10⁵ vehicle–order pairs; evaluating every
insertion and solving the dense assignment model with 2·E·M arcs took ~0.3 s per epoch. Instead every
pickup ETA is computed by a cheap numba kernel; each node of the smaller side (usually the orders; for
``lsa_reward`` both sides) keeps its k nearest partners by ETA (ties → lower index); the full insertion
and a sparse OR-tools assignment (:func:`~opsrl.envs.ride_sharing.matching.ortools_lsa_sparse`) run on
those pairs only; if vehicles and orders are both left free, the smaller free side gets all its pairs and
the model is solved again (so ``lsa_eta`` keeps its maximum cardinality). With ``candidate_k=None`` or
k ≥ min(E, M) every pair is a candidate and the policies are the complete-graph ones of the spec (tested
against a dense reference); ``greedy_nearest`` needs ETAs only and is exact for every k. Measured gaps to
the complete graph are in ``envs/ride_sharing.md``.

The policies read the present state of the env they act in (vehicle routes, visible orders: what a
dispatcher knows, no future order), evaluate the candidate pairs with the simulator's own insertion
kernel, and emit scores +1e4 on the chosen pairs and −1e4 elsewhere, so the env's matching reproduces
their assignment. Under ``score_transform="softmax"`` (OSPO semantics: a vehicle is never withheld) a
vehicle the policy leaves idle can still receive a leftover order; with ``"identity"`` declines stand.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from opsrl.envs.ride_sharing import dynamics as K_
from opsrl.envs.ride_sharing.env import SCORE_BOUND, RideSharing
from opsrl.envs.ride_sharing.matching import ortools_lsa_sparse
from opsrl.policies.base import Policy


def env_state(env: Any):
    """(problem, state) of a gym.make env, a native vector env or the PettingZoo env."""
    if env is None:
        raise ValueError("ride-sharing heuristics read the vehicles' routes from their env: call "
                         "policy.reset(env) before act() (opsrl.eval.evaluate does this)")
    base = getattr(env, "unwrapped", env)
    state = getattr(base, "sim_state", None)  # the PettingZoo env (its state() is the global vector)
    return base.problem, state if state is not None else base.state


DEFAULT_CANDIDATES = 16
"""Default ``candidate_k``: each visible order is evaluated against its k nearest eligible vehicles."""


def pruned_pairs(eta: np.ndarray, k: int | None, both: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Local (row, column) indices of the candidate pairs: every node of the smaller side — each order
    when there are fewer orders than eligible vehicles (the usual case), else each vehicle — keeps its k
    partners of least ETA, ties → lower index (numba :func:`~opsrl.envs.ride_sharing.dynamics.topk_rows`);
    with ``both`` the larger side's nodes keep their k nearest too. Every pair when ``k`` is None or
    ≥ min(E, M). Why the smaller side: in a maximum matching all of its nodes are matched, and when the
    weight is the ETA ranking itself a node never needs a partner ranked below min(E, M) (one of its
    better partners is then free: swap), so the optimum lives in these lists; larger-side lists only add
    nodes to the assignment model. When the weight is not the ETA (``lsa_reward``), ``both`` recovers
    most of the gap. Row-major order."""
    E, M = eta.shape
    if k is None or k >= min(E, M):
        return np.repeat(np.arange(E), M), np.tile(np.arange(M), E)
    keep = np.zeros((E, M), dtype=np.bool_)
    if M <= E or both:
        top = np.empty((M, k), dtype=np.int64)
        K_.topk_rows(eta, k, top)
        keep[top.ravel(), np.repeat(np.arange(M), k)] = True
    if E < M or both:
        top = np.empty((E, k), dtype=np.int64)
        K_.topk_rows(np.ascontiguousarray(eta.T), k, top)
        keep[np.repeat(np.arange(E), k), top.ravel()] = True
    pr, pc = np.nonzero(keep)
    return pr.astype(np.int64), pc.astype(np.int64)


def pruned_assignment(pr: np.ndarray, pc: np.ndarray, E: int, M: int, weight
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Max Σ w over matchings, on the candidate pairs (pr, pc) first (``weight(rows, cols)`` → integer
    weights of listed pairs; only w > 0 is ever taken), with OR-tools' sparse LSA. If that leaves both
    vehicles and orders free, the smaller free side gets all its pairs added — every free order can then
    reach every vehicle (or every free vehicle every order), matched ones included — and the model is
    solved again: a free-to-free pair is always among them, so ``lsa_eta`` keeps its maximum cardinality.
    When the candidates are every pair the first solve is optimal and nothing is added."""
    w = weight(pr, pc)
    r, c = ortools_lsa_sparse(pr, pc, w)
    free_r = np.setdiff1d(np.arange(E), r)
    free_c = np.setdiff1d(np.arange(M), c)
    if free_r.size == 0 or free_c.size == 0:
        return r, c
    known = np.zeros((E, M), dtype=np.bool_)
    known[pr, pc] = True
    more = np.zeros((E, M), dtype=np.bool_)
    if free_c.size <= free_r.size:
        more[:, free_c] = True
    else:
        more[free_r, :] = True
    more &= ~known
    if not more.any():
        return r, c
    ar, ac = np.nonzero(more)
    pr2, pc2 = np.concatenate([pr, ar]), np.concatenate([pc, ac])
    return ortools_lsa_sparse(pr2, pc2, np.concatenate([w, weight(ar, ac)]))


class DispatchPolicy(Policy):
    """Base class: :meth:`choose` returns the (vehicle, slot) pairs of one env; :meth:`act` turns them
    into scores for every env of the batch.

    ``candidate_k`` (int ≥ 1 or None; default ``default_candidate_k``: 16 for the assignment policies,
    None for ``insertion_greedy``): candidate pruning. Every pickup ETA is computed (a cheap numba kernel
    over all eligible × visible pairs); the full insertion evaluation (drop-off permutations, A, N_late,
    r) and the assignment model only see the pairs of :func:`pruned_pairs`. ``None`` (or k ≥ min(E, M))
    evaluates every pair: the complete-graph policy of spec §5.1."""

    default_candidate_k: int | None = DEFAULT_CANDIDATES

    def __init__(self, problem: RideSharing, candidate_k: int | None | str = "default") -> None:
        super().__init__(problem)
        if isinstance(candidate_k, str) and candidate_k == "default":
            candidate_k = self.default_candidate_k
        if candidate_k is not None and (isinstance(candidate_k, bool) or not isinstance(candidate_k, (int, np.integer))
                                        or candidate_k < 1):
            raise ValueError(f"candidate_k must be an integer >= 1 or None, got {candidate_k!r}")
        self.candidate_k = None if candidate_k is None else int(candidate_k)

    @abc.abstractmethod
    def choose(self, problem: RideSharing, state, b: int) -> tuple[np.ndarray, np.ndarray]:
        """The (vehicle, order-slot) pairs this heuristic matches in env ``b``."""

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        problem, state = env_state(self.env)
        B = state.t.shape[0]
        scores = np.full((B, problem.V, problem.O), -SCORE_BOUND, dtype=np.float32)
        for b in range(B):
            if state.t[b] >= problem.params.epochs:
                continue  # finished env (autoreset ignores the action)
            rows, slots = self.choose(problem, state, b)
            scores[b, rows, slots] = SCORE_BOUND
        return scores

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "candidate_k": self.candidate_k}

    @staticmethod
    def candidates(problem: RideSharing, state, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Eligible vehicles and the pair features [E, M, 5] of every pair of env b (empty when nothing to
        match)."""
        rows = np.flatnonzero(state.elig[b])
        m = int((state.vis[b] >= 0).sum())
        if rows.size == 0 or m == 0:
            return rows, np.zeros((rows.size, m, K_.N_PAIR))
        return rows, problem.pair_features(state, b, rows)


class RandomScores(Policy):
    name = "random"

    def __init__(self, problem: RideSharing, seed: int = 0) -> None:
        super().__init__(problem)
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reset(self, env: Any) -> None:
        super().reset(env)
        self.rng = np.random.default_rng(self.seed)

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        clock = np.asarray(obs["time"]) if isinstance(obs, dict) else np.asarray(obs)
        batch = clock.shape[0] if clock.ndim == 2 else 1  # flat [B, D] or dict time [B, 1]; else one env
        return self.rng.random((batch, self.problem.V, self.problem.O)).astype(np.float32)


class GreedyNearest(DispatchPolicy):
    """FCFS orders, each to the unused eligible vehicle of least ETA (ties → lower id). Needs the ETAs only,
    which are computed for every pair, so it is exact whatever ``candidate_k``."""

    name = "greedy_nearest"

    def choose(self, problem, state, b):
        rows, eta = problem.pair_eta(state, b)
        if eta.size == 0:
            return rows[:0], rows[:0]
        e = eta.copy()
        out_r, out_c = [], []
        for c in range(e.shape[1]):
            r = int(np.argmin(e[:, c]))  # first minimum = lowest vehicle id (rows ascend)
            if not np.isfinite(e[r, c]):
                break  # every vehicle is used
            out_r.append(r)
            out_c.append(c)
            e[r, :] = np.inf
        return rows[np.array(out_r, dtype=np.int64)], np.array(out_c, dtype=np.int64)


class InsertionGreedy(DispatchPolicy):
    """FCFS orders, each to the unused eligible vehicle adding the fewest passenger minutes A + 60·N_late
    (ties → ETA, then id), searched among the order's ``candidate_k`` nearest vehicles — or among every
    unused vehicle when all of those are taken."""

    name = "insertion_greedy"
    default_candidate_k = None  # FCFS on A + 60·N_late: the ETA-nearest need not add the fewest minutes

    def choose(self, problem, state, b):
        rows, eta = problem.pair_eta(state, b)
        if eta.size == 0:
            return rows[:0], rows[:0]
        E, M = eta.shape
        pr, pc = pruned_pairs(eta, self.candidate_k)
        feats = problem.pair_features_list(state, b, rows[pr], pc)
        cost = np.full((E, M), np.nan)
        cost[pr, pc] = np.round(feats[:, K_.P_ADDED] + 60.0 * feats[:, K_.P_LATE], 9)
        eta_r = np.round(eta, 9)
        used = np.zeros(E, dtype=bool)
        out_r, out_c = [], []
        for c in range(M):
            cand = pr[pc == c]
            cand = cand[~used[cand]]
            if cand.size == 0:
                cand = np.flatnonzero(~used)
                if cand.size == 0:
                    break
                fresh = np.isnan(cost[cand, c])
                if fresh.any():
                    f = problem.pair_features_list(state, b, rows[cand[fresh]], np.full(fresh.sum(), c))
                    cost[cand[fresh], c] = np.round(f[:, K_.P_ADDED] + 60.0 * f[:, K_.P_LATE], 9)
            best = cand[np.lexsort((rows[cand], eta_r[cand, c], cost[cand, c]))[0]]
            used[best] = True
            out_r.append(best)
            out_c.append(c)
        return rows[np.array(out_r, dtype=np.int64)], np.array(out_c, dtype=np.int64)


class LsaEta(DispatchPolicy):
    """Max-cardinality matching of least total ETA: OR-tools LSA on w = BIG − ETA (ms), BIG large enough
    that one more matched pair always outweighs any ETA saving. Solved on the candidate pairs
    (:func:`pruned_pairs`) with :func:`pruned_assignment`, so the matching always has min(E, M) pairs
    like the complete-graph one; its total ETA is the complete-graph optimum when k ≥ min(E, M) and can
    exceed it otherwise."""

    name = "lsa_eta"

    def choose(self, problem, state, b):
        rows, eta = problem.pair_eta(state, b)
        if eta.size == 0:
            return rows[:0], rows[:0]
        ms = np.rint(eta * 60_000.0).astype(np.int64)
        big = (min(ms.shape) + 1) * (int(ms.max()) + 1)
        pr, pc = pruned_pairs(eta, self.candidate_k)
        r, c = pruned_assignment(pr, pc, *ms.shape, lambda a, b_: big - ms[a, b_])
        return rows[r], c


class LsaReward(DispatchPolicy):
    """Max Σ r_ij with declines (a vehicle's dummy is worth 0): OR-tools LSA on round(1e6·r) over the
    candidate pairs (:func:`pruned_pairs`, :func:`pruned_assignment`; the full insertion is evaluated on
    those pairs only); the complete-graph optimum when k ≥ min(E, M)."""

    name = "lsa_reward"

    def choose(self, problem, state, b):
        rows, eta = problem.pair_eta(state, b)
        if eta.size == 0:
            return rows[:0], rows[:0]
        pr, pc = pruned_pairs(eta, self.candidate_k, both=True)

        def weight(a, b_):
            r_ab = problem.pair_features_list(state, b, rows[a], b_)[:, K_.P_REWARD]
            return np.rint(1e6 * r_ab).astype(np.int64)

        r, c = pruned_assignment(pr, pc, *eta.shape, weight)
        return rows[r], c
