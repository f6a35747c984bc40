"""The central matching of one epoch (spec §2.4, §5.2): scores → values π → an assignment giving at most
one new order per eligible vehicle and at most one vehicle per visible order.

    max Σ_ij π_ij x_ij + θ0 Σ_i y_i   s.t.  Σ_j x_ij + y_i = 1 (eligible i),  Σ_i x_ij ≤ 1 (order j).

Each vehicle has a private "no order" dummy worth θ0, so the problem is a rectangular assignment on the
weights w = π − θ0: pairs with w ≤ 0 are never worth taking (declined), and pairs with w > 0 are solved
with ``scipy.optimize.linear_sum_assignment`` on max(w, 0). The OR-tools backends solve the literal
models of spec §5.2 — a perfect-matching ``SimpleLinearSumAssignment`` with "unused" order nodes and
per-vehicle dummies, and a ``SimpleMinCostFlow`` — on integer weights round(10⁶·π); all three reach the
same objective (tested against exhaustive enumeration on small random instances).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment

SCALE = 1_000_000  # OR-tools works on integers: weights round(1e6·π)


def transform(scores: np.ndarray, kind: str) -> np.ndarray:
    """Row softmax over the given (valid) columns, or the scores themselves."""
    s = np.asarray(scores, dtype=np.float64)
    if kind == "identity" or s.size == 0:
        return s
    z = s - s.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def match_scipy(values: np.ndarray, theta0: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the optimal matching on ``values`` [E, M] with private dummies worth θ0."""
    if values.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    w = values - theta0
    r, c = linear_sum_assignment(np.maximum(w, 0.0), maximize=True)
    keep = w[r, c] > 0.0
    return r[keep].astype(np.int64), c[keep].astype(np.int64)


def _int_weights(values: np.ndarray, theta0: float) -> tuple[np.ndarray, int]:
    return np.rint(SCALE * values).astype(np.int64), int(round(SCALE * theta0))


def match_ortools_lsa(values: np.ndarray, theta0: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Spec §5.2 LSA on integer weights round(1e6·π) (see :func:`ortools_lsa_int`)."""
    w, w0 = _int_weights(values, theta0)
    return ortools_lsa_int(w, w0)


def ortools_lsa_int(w: np.ndarray, w0: int | np.ndarray = 0) -> tuple[np.ndarray, np.ndarray]:
    """Max Σ w_ij x_ij + Σ w0_i y_i as OR-tools' perfect-matching ``SimpleLinearSumAssignment``: left =
    E vehicles + M "unused" order nodes, right = M orders + E vehicle dummies. Arcs: vehicle→order −w_ij,
    vehicle→own dummy −w0_i, unused_j→order j 0, unused_j→every dummy 0, so a perfect matching always
    exists. Returns the (vehicle, order) pairs."""
    from ortools.graph.python import linear_sum_assignment as ortools_lsa

    E, M = w.shape
    if E == 0 or M == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    w0 = np.broadcast_to(np.asarray(w0, dtype=np.int64), (E,))
    a = ortools_lsa.SimpleLinearSumAssignment()
    tails = [np.repeat(np.arange(E), M), np.arange(E), E + np.arange(M), np.repeat(E + np.arange(M), E)]
    heads = [np.tile(np.arange(M), E), M + np.arange(E), np.arange(M), np.tile(M + np.arange(E), M)]
    costs = [-np.asarray(w, dtype=np.int64).ravel(), -w0, np.zeros(M, np.int64), np.zeros(E * M, np.int64)]
    a.add_arcs_with_cost(np.concatenate(tails), np.concatenate(heads), np.concatenate(costs))
    status = a.solve()
    if status != a.OPTIMAL:
        raise RuntimeError(f"OR-tools linear sum assignment failed with status {status}")
    rows, cols = [], []
    for i in range(E):
        j = a.right_mate(i)
        if j < M:
            rows.append(i)
            cols.append(j)
    return np.array(rows, np.int64), np.array(cols, np.int64)


def ortools_lsa_sparse(pr: np.ndarray, pc: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Max Σ w_n over matchings that use only the listed arcs (vehicle ``pr[n]``, order ``pc[n]``, integer
    weight ``w[n]``), every vehicle's "no order" dummy worth 0; OR-tools ``SimpleLinearSumAssignment``.

    The §5.2 perfect-matching model made sparse: left = the vehicles of the arcs + one copy j* per order,
    right = the orders + one dummy i' per vehicle; arcs i→j (−w), i→i' (0), j*→j (0) and a mirror
    j*→i' (0) for every listed arc (i, j). A perfect matching exists (all i→i', all j*→j), and every
    matching P of the sparse graph extends to one of equal cost (for (i, j) ∈ P, j* takes the mirror
    j*→i'), so the optimum is the best sparse matching with 2·arcs + #vehicles + #orders arcs instead of
    the dense model's 2·E·M. Returns the matched (vehicle, order) pairs with w > 0, as given ids."""
    from ortools.graph.python import linear_sum_assignment as ortools_lsa

    pr, pc = np.asarray(pr, np.int64), np.asarray(pc, np.int64)
    w = np.asarray(w, np.int64)
    keep = w > 0  # an arc worth ≤ 0 never beats the vehicle's dummy
    pr, pc, w = pr[keep], pc[keep], w[keep]
    if pr.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    veh, li = np.unique(pr, return_inverse=True)
    ords, lj = np.unique(pc, return_inverse=True)
    E, M = veh.size, ords.size
    a = ortools_lsa.SimpleLinearSumAssignment()
    # left: vehicles 0..E-1, order copies E..E+M-1; right: orders 0..M-1, vehicle dummies M..M+E-1
    tails = np.concatenate([li, np.arange(E), E + np.arange(M), E + lj])
    heads = np.concatenate([lj, M + np.arange(E), np.arange(M), M + li])
    costs = np.concatenate([-w, np.zeros(E + M + w.size, np.int64)])
    a.add_arcs_with_cost(tails, heads, costs)
    status = a.solve()
    if status != a.OPTIMAL:
        raise RuntimeError(f"OR-tools linear sum assignment failed with status {status}")
    mate = np.array([a.right_mate(i) for i in range(E)], dtype=np.int64)
    got = mate < M
    return veh[got], ords[mate[got]]


def match_ortools_mcf(values: np.ndarray, theta0: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Spec §5.2 min-cost flow: s→i (cap 1), i→j (cap 1, −w_ij), i→t (cap 1, −w0), j→t (cap 1)."""
    from ortools.graph.python import min_cost_flow

    E, M = values.shape
    if E == 0 or M == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    w, w0 = _int_weights(values, theta0)
    src, sink = E + M, E + M + 1
    f = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.full(E, src), np.repeat(np.arange(E), M), np.arange(E), E + np.arange(M)])
    heads = np.concatenate([np.arange(E), E + np.tile(np.arange(M), E), np.full(E, sink), np.full(M, sink)])
    costs = np.concatenate([np.zeros(E, np.int64), -w.ravel(), np.full(E, -w0), np.zeros(M, np.int64)])
    first_pair = E
    f.add_arcs_with_capacity_and_unit_cost(tails, heads, np.ones(tails.size, np.int64), costs)
    supplies = np.zeros(E + M + 2, np.int64)
    supplies[src], supplies[sink] = E, -E
    f.set_nodes_supplies(np.arange(E + M + 2), supplies)
    status = f.solve()
    if status != f.OPTIMAL:
        raise RuntimeError(f"OR-tools min-cost flow failed with status {status}")
    flow = f.flows(np.arange(first_pair, first_pair + E * M)).reshape(E, M)
    rows, cols = np.nonzero(flow > 0)
    return rows.astype(np.int64), cols.astype(np.int64)


BACKENDS = {"scipy": match_scipy, "ortools_lsa": match_ortools_lsa, "ortools_mcf": match_ortools_mcf}


def match(values: np.ndarray, theta0: float = 0.0, backend: str = "scipy") -> tuple[np.ndarray, np.ndarray]:
    return BACKENDS[backend](values, theta0)


def objective(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, theta0: float = 0.0) -> float:
    """Σ π over matched pairs + θ0 × unmatched vehicles."""
    return float(values[rows, cols].sum() + theta0 * (values.shape[0] - rows.size))


def exhaustive_best(values: np.ndarray, theta0: float = 0.0) -> float:
    """Optimal objective by enumerating every feasible assignment (vehicle → order or none, orders used at
    most once). Independent of every solver above; for tiny instances only (tests)."""
    E, M = values.shape
    best = -np.inf
    for choice in itertools.product(range(-1, M), repeat=E):
        used = [c for c in choice if c >= 0]
        if len(used) != len(set(used)):
            continue
        total = sum(values[i, c] if c >= 0 else theta0 for i, c in enumerate(choice))
        best = max(best, total)
    return float(best)
