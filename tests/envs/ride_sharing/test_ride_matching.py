"""The matching backends (scipy, OR-tools LSA, OR-tools min-cost flow) against exhaustive enumeration on
small random instances, and the heuristics' OR-tools assignment against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsrl.envs.ride_sharing.matching import exhaustive_best, match, objective, ortools_lsa_int, transform

TOL = 1e-5  # OR-tools solves on round(1e6·π): each matched pair may differ by 5e-7


@settings(max_examples=80, deadline=None)
@given(E=st.integers(1, 4), M=st.integers(1, 4), seed=st.integers(0, 2**31 - 1),
       kind=st.sampled_from(["softmax", "identity"]), theta0=st.sampled_from([0.0, 0.3, -0.2]))
def test_backends_reach_the_exhaustive_optimum(E, M, seed, kind, theta0):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(E, M)) * rng.choice([0.5, 2.0])
    if rng.random() < 0.3:  # ties
        scores = np.round(scores)
    values = transform(scores, kind)
    best = exhaustive_best(values, theta0)
    for backend in ("scipy", "ortools_lsa", "ortools_mcf"):
        r, c = match(values, theta0, backend)
        assert len(set(r.tolist())) == r.size and len(set(c.tolist())) == c.size  # one order per vehicle & v.v.
        assert objective(values, r, c, theta0) == pytest.approx(best, abs=TOL * max(E, 1))


def test_softmax_gives_a_maximum_cardinality_matching():
    rng = np.random.default_rng(3)
    for E, M in [(5, 3), (3, 5), (4, 4)]:
        r, _ = match(transform(rng.normal(size=(E, M)), "softmax"), 0.0)
        assert r.size == min(E, M)


def test_identity_scores_below_theta0_are_declined():
    r, c = match(np.array([[-1.0, 0.5], [-2.0, -0.1]]), 0.0)
    assert list(zip(r, c, strict=True)) == [(0, 1)]


def test_ortools_integer_assignment_against_brute_force():
    rng = np.random.default_rng(11)
    for _ in range(60):
        E, M = rng.integers(1, 5, size=2)
        w = rng.integers(-5, 10, size=(E, M))
        r, c = ortools_lsa_int(w, 0)
        got = int(w[r, c].sum())
        best = 0
        for choice in itertools.product(range(-1, M), repeat=E):
            used = [x for x in choice if x >= 0]
            if len(used) == len(set(used)):
                best = max(best, sum(int(w[i, x]) for i, x in enumerate(choice) if x >= 0))
        assert got == best
