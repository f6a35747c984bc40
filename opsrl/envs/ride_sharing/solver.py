"""The hindsight offline bound on served orders (spec §5.3), solved with OR-tools (GLOP for the LP
relaxation, CP-SAT for the ILP).

Knowing the whole order stream, choose an assignment epoch x_{o,a} ∈ {0, 1} for each order inside its
window A_o = {b_o, …, min(b_o + W − 1, K − 1)}:

    max Σ_o Σ_{a∈A_o} x_{o,a}
    s.t. Σ_{a∈A_o} x_{o,a} ≤ 1                          (each order at most once)
         Σ_o Σ_{a∈A_o, a ≤ k < a + L_o} x_{o,a} ≤ S   ∀k  (seats: busy at least from assignment to a
                                                         direct-time drop-off, L_o = ⌈τ_o^lb/Δ⌉)
         Σ_o x_{o,k} ≤ V                               ∀k  (≤ 1 new order per vehicle per epoch)

with S = C·V under pooling, V without. It relaxes pickup travel, the no-pending-pickup eligibility rule
and the co-location of seats, so no policy serves more (τ^lb = D_o / v_max satisfies the triangle
inequality of the L1 metric). The trivial bounds N and V·K are reported alongside.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def window_model(reveal: np.ndarray, W: int, K: int):
    """Variables (order, epoch) of the time-indexed model."""
    var_o, var_a = [], []
    for o, b in enumerate(reveal):
        for a in range(int(b), min(int(b) + W, K)):
            var_o.append(o)
            var_a.append(a)
    return np.array(var_o, dtype=np.int64), np.array(var_a, dtype=np.int64)


def hindsight_bound(reveal: np.ndarray, tau_lb_s: np.ndarray, fleet: int, capacity: int, W: int, K: int,
                    epoch_s: float = 60.0, pooling: bool = True, lp: bool = True,
                    time_limit: float | None = None) -> dict[str, Any]:
    """Upper bound on the orders any policy can serve in one episode.

    Args:
        reveal: b_o, the epoch each order becomes visible (orders with b_o ≥ K are ignored).
        tau_lb_s: a lower bound on each order's ride time (s).
        fleet, capacity, W, K, epoch_s, pooling: V, C, patience epochs, epochs, Δ, pooling rule.
        lp: solve the LP relaxation with GLOP (fast, still a bound); else the ILP with CP-SAT (its best
            bound is reported if the time limit stops it first).
    Returns ``{"value", "method", "trivial", "optimal"}``: ``value`` is the bound (≤ ``trivial`` =
    min(N, V·K)).
    """
    reveal = np.asarray(reveal, dtype=np.int64)
    keep = reveal < K
    reveal = reveal[keep]
    L = np.maximum(np.ceil(np.asarray(tau_lb_s, dtype=np.float64)[keep] / epoch_s - 1e-9), 1).astype(np.int64)
    N = reveal.size
    seats = capacity * fleet if pooling and capacity > 1 else fleet
    trivial = float(min(N, fleet * K))
    if N == 0:
        return {"value": 0.0, "method": "empty", "trivial": 0.0, "optimal": True}
    vo, va = window_model(reveal, W, K)
    nv = vo.size
    if lp:
        from ortools.linear_solver import pywraplp

        s = pywraplp.Solver.CreateSolver("GLOP")
        x = [s.NumVar(0.0, 1.0, "") for _ in range(nv)]
        add = s.Add
    else:
        from ortools.sat.python import cp_model

        m = cp_model.CpModel()
        x = [m.NewBoolVar("") for _ in range(nv)]
        add = m.Add
    by_order: list[list[int]] = [[] for _ in range(N)]
    by_epoch: list[list[int]] = [[] for _ in range(K)]
    busy: list[list[int]] = [[] for _ in range(K)]
    for v in range(nv):
        o, a = int(vo[v]), int(va[v])
        by_order[o].append(v)
        by_epoch[a].append(v)
        for k in range(a, min(a + int(L[o]), K)):
            busy[k].append(v)
    for vs in by_order:
        if len(vs) > 1:
            add(sum(x[v] for v in vs) <= 1)
    for k in range(K):
        if len(by_epoch[k]) > fleet:
            add(sum(x[v] for v in by_epoch[k]) <= fleet)
        if len(busy[k]) > seats:
            add(sum(x[v] for v in busy[k]) <= seats)
    if lp:
        s.Maximize(sum(x))
        if time_limit:
            s.SetTimeLimit(int(1000 * time_limit))
        status = s.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            raise RuntimeError(f"hindsight LP: GLOP status {status}")
        value = s.Objective().Value()
        return {"value": float(min(value, trivial)), "method": "LP relaxation (GLOP)", "trivial": trivial,
                "optimal": True}
    m.Maximize(sum(x))
    solver = cp_model.CpSolver()
    if time_limit:
        solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = 2
    status = solver.Solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"hindsight ILP: CP-SAT status {solver.StatusName(status)}")
    bound = solver.BestObjectiveBound() if status != cp_model.OPTIMAL else solver.ObjectiveValue()
    return {"value": float(min(math.floor(bound + 1e-6), trivial)), "method": "ILP (CP-SAT)",
            "trivial": trivial, "optimal": status == cp_model.OPTIMAL}


def episode_orders(problem, state, b: int) -> tuple[np.ndarray, np.ndarray]:
    """(reveal epochs, τ^lb seconds) of env ``b``'s order stream: direct km (d_in within a zone in centroid
    mode) at the fastest speed of the city."""
    from opsrl.envs.ride_sharing import dynamics as K_

    n = int(state.n_orders[b])
    of, oi = state.of[b, :n], state.oi[b, :n]
    d = np.abs(of[:, K_.PX] - of[:, K_.QX]) + np.abs(of[:, K_.PY] - of[:, K_.QY])
    if problem.params.point_mode == "centroid":
        same = oi[:, K_.ZO] == oi[:, K_.ZD]
        d = np.where(same, problem.city.d_in[oi[:, K_.ZO]], d)
    v_max = float(problem.city.speed.max())
    return oi[:, K_.REVEAL].copy(), 3600.0 * d / v_max


def hindsight_for_state(problem, state, b: int, lp: bool = True, time_limit: float | None = None) -> dict:
    p = problem.params
    reveal, tau = episode_orders(problem, state, b)
    return hindsight_bound(reveal, tau, p.fleet_size, p.capacity, p.patience_epochs, p.epochs, p.epoch_s,
                           pooling=p.pooling, lp=lp, time_limit=time_limit)
