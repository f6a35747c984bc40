"""Exact and bounding references of the job shop (spec ``job_shop.md`` §5.3–5.5).

* :func:`cpsat_solve` — the CP-SAT model of the OR-Tools guide: an interval per op, ``NoOverlap`` per
  machine, job precedences, C_max = max of the jobs' last ends; time limit, worker count, seed, optional hint
  and lower bound. Every schedule it returns is checked by :func:`validate_schedule`.
* :func:`validate_schedule` — an independent feasibility check (plain Python, shares no code with the env
  kernels or the model): every op scheduled, durations respected, job order, no overlap on a machine.
* :func:`lower_bounds` — job length, machine load, machine + heads/tails, Carlier's one-machine bound (§5.3).
* :class:`CpSatPolicy` — plays a CP-SAT schedule in the env (dispatch the ops in order of their start).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from opsrl.core.errors import ParameterError
from opsrl.policies.base import Policy


class InfeasibleSchedule(ValueError):
    """A schedule violates a job-shop constraint."""


def validate_schedule(durations: Any, machines: Any, starts: Any) -> int:
    """Check a complete schedule and return its makespan; raise :class:`InfeasibleSchedule` otherwise.

    ``starts[j, k]`` is the start of O_{j,k}; padding ops (machine −1) are ignored."""
    dur = np.asarray(durations, dtype=np.int64)
    mach = np.asarray(machines, dtype=np.int64)
    st = np.asarray(starts, dtype=np.int64)
    if not (dur.shape == mach.shape == st.shape):
        raise InfeasibleSchedule(f"shapes differ: durations {dur.shape}, machines {mach.shape}, starts {st.shape}")
    per_machine: dict[int, list[tuple[int, int, int, int]]] = {}
    makespan = 0
    for j in range(dur.shape[0]):
        prev_end = 0
        for k in range(dur.shape[1]):
            if mach[j, k] < 0:
                continue
            s, p = int(st[j, k]), int(dur[j, k])
            if s < 0:
                raise InfeasibleSchedule(f"O[{j},{k}] is not scheduled (start {s})")
            if s < prev_end:
                raise InfeasibleSchedule(f"O[{j},{k}] starts at {s} before O[{j},{k - 1}] ends at {prev_end}")
            prev_end = s + p
            makespan = max(makespan, prev_end)
            per_machine.setdefault(int(mach[j, k]), []).append((s, s + p, j, k))
    for i, ops in per_machine.items():
        ops.sort()
        for (s1, e1, j1, k1), (s2, _, j2, k2) in zip(ops, ops[1:], strict=False):
            if s2 < e1:
                raise InfeasibleSchedule(f"machine {i}: O[{j1},{k1}] [{s1},{e1}) overlaps O[{j2},{k2}] from {s2}")
    return makespan


# -- lower bounds ----------------------------------------------------------------------------------------
def lower_bounds(durations: Any, machines: Any) -> dict[str, int]:
    """The four simple bounds of spec §5.3: ``job`` (longest job), ``machine`` (largest load),
    ``machine_heads_tails`` (max_i min head + load + min tail), ``carlier`` (one-machine bound over all
    subsets {r : head_r ≥ head_a, tail_r ≥ tail_b}). Heads/tails = work of the job before/after the op."""
    dur = np.asarray(durations, dtype=np.int64)
    mach = np.asarray(machines, dtype=np.int64)
    real = mach >= 0
    work = np.where(real, dur, 0)
    heads = np.cumsum(work, axis=1) - work
    tails = work.sum(axis=1, keepdims=True) - np.cumsum(work, axis=1)
    out = {"job": int(work.sum(axis=1).max()), "machine": 0, "machine_heads_tails": 0, "carlier": 0}
    for i in range(int(mach.max()) + 1):
        sel = mach == i
        if not sel.any():
            continue
        p, h, t = work[sel], heads[sel], tails[sel]
        out["machine"] = max(out["machine"], int(p.sum()))
        out["machine_heads_tails"] = max(out["machine_heads_tails"], int(h.min() + p.sum() + t.min()))
        # member[a, b, r]: op r is in the set with head threshold h[a] and tail threshold t[b]
        member = (h[None, None, :] >= h[:, None, None]) & (t[None, None, :] >= t[None, :, None])
        load = (member * p[None, None, :]).sum(axis=2)
        value = np.where(member.any(axis=2), h[:, None] + load + t[None, :], 0)
        out["carlier"] = max(out["carlier"], int(value.max()))
    return out


# -- CP-SAT ------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class CpSatResult:
    status: str
    """``OPTIMAL``, ``FEASIBLE``, ``INFEASIBLE``, ``UNKNOWN`` (no schedule within the time limit)."""
    makespan: int | None
    bound: int
    """CP-SAT's proven lower bound on C_max."""
    optimal: bool
    starts: np.ndarray | None
    """int64 (n, m) start times (−1 on padding); checked by :func:`validate_schedule`."""
    wall_time: float
    num_workers: int

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "makespan": self.makespan, "bound": self.bound, "optimal": self.optimal,
                "wall_time": round(self.wall_time, 3), "num_workers": self.num_workers}


def cpsat_solve(durations: Any, machines: Any, time_limit: float = 60.0, num_workers: int = 2, seed: int = 0,
                hint: Any = None, lower_bound: int | None = None) -> CpSatResult:
    """Minimise the makespan with CP-SAT (spec §5.4).

    Args:
        durations, machines: the instance (int (n, m); machine −1 = padding).
        time_limit: seconds (``max_time_in_seconds``).
        num_workers: CP-SAT's search workers; runs with more than one are not deterministic.
        seed: ``random_seed``.
        hint: optional start times (n, m) of a known schedule (e.g. a dispatching rule's).
        lower_bound: optional valid bound added as C_max ≥ lower_bound.
    """
    from ortools.sat.python import cp_model

    if not (time_limit and time_limit > 0):
        raise ParameterError(f"time_limit={time_limit!r} is invalid: must be > 0 seconds")
    if not (isinstance(num_workers, (int, np.integer)) and num_workers >= 1):
        raise ParameterError(f"num_workers={num_workers!r} is invalid: must be an integer >= 1")
    dur = np.asarray(durations, dtype=np.int64)
    mach = np.asarray(machines, dtype=np.int64)
    horizon = int(dur[mach >= 0].sum())
    model = cp_model.CpModel()
    start, end, intervals = {}, {}, {}
    per_machine: dict[int, list[Any]] = {}
    for j in range(dur.shape[0]):
        for k in range(dur.shape[1]):
            if mach[j, k] < 0:
                continue
            s = model.new_int_var(0, horizon, f"s{j}_{k}")
            e = model.new_int_var(0, horizon, f"e{j}_{k}")
            iv = model.new_interval_var(s, int(dur[j, k]), e, f"i{j}_{k}")
            start[j, k], end[j, k], intervals[j, k] = s, e, iv
            per_machine.setdefault(int(mach[j, k]), []).append(iv)
    for ivs in per_machine.values():
        model.add_no_overlap(ivs)
    lasts = []
    for j in range(dur.shape[0]):
        ks = [k for k in range(dur.shape[1]) if mach[j, k] >= 0]
        for a, b in zip(ks, ks[1:], strict=False):
            model.add(start[j, b] >= end[j, a])
        lasts.append(end[j, ks[-1]])
    cmax = model.new_int_var(0, horizon, "cmax")
    model.add_max_equality(cmax, lasts)
    if lower_bound is not None:
        model.add(cmax >= int(lower_bound))
    model.minimize(cmax)
    if hint is not None:
        h = np.asarray(hint, dtype=np.int64)
        for (j, k), var in start.items():
            model.add_hint(var, int(h[j, k]))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.random_seed = int(seed)
    t0 = time.perf_counter()
    status = solver.solve(model)
    wall = time.perf_counter() - t0
    name = solver.status_name(status)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        starts = np.full(dur.shape, -1, dtype=np.int64)
        for (j, k), var in start.items():
            starts[j, k] = solver.value(var)
        makespan = int(solver.objective_value)
        checked = validate_schedule(dur, mach, starts)
        if checked != makespan:
            raise InfeasibleSchedule(f"CP-SAT reports makespan {makespan}, the schedule has {checked}")
        return CpSatResult(name, makespan, int(solver.best_objective_bound), status == cp_model.OPTIMAL, starts,
                           wall, int(num_workers))
    return CpSatResult(name, None, int(solver.best_objective_bound), False, None, wall, int(num_workers))


def dispatch_order(starts: np.ndarray, machines: np.ndarray) -> np.ndarray:
    """The job of every op in order of start time (ties: lower job first): replayed as env actions under
    ``candidate_filter="none"`` it yields a schedule whose every op starts no later (so C_max ≤ the
    schedule's) — with ``insert`` placement and an active schedule, exactly the same schedule."""
    jj, kk = np.nonzero(machines >= 0)
    order = np.lexsort((kk, jj, starts[jj, kk]))
    return jj[order].astype(np.int64)


class CpSatPolicy(Policy):
    """Solves each env's instance with CP-SAT at the first step of its episode and replays the schedule.

    Needs ``candidate_filter="none"`` (a non-delay env may forbid the optimal order). ``time_limit`` per
    instance (default 10 s) and ``num_workers`` (default 2) are attributes; ``last_results`` keeps the
    :class:`CpSatResult` per env."""

    name = "cpsat"

    def __init__(self, problem: Any, time_limit: float = 10.0, num_workers: int = 2) -> None:
        super().__init__(problem)
        if problem.params.candidate_filter != "none":
            raise ParameterError("CpSatPolicy needs candidate_filter='none': the non-delay filter can forbid the "
                                 "optimal dispatching order")
        self.time_limit, self.num_workers = time_limit, num_workers
        self._plans: dict[int, tuple[bytes, np.ndarray]] = {}
        self.last_results: dict[int, CpSatResult] = {}

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        from opsrl.envs.job_shop.heuristics import state_of

        state = state_of(self.env)
        B = state.t.shape[0]
        actions = np.zeros(B, dtype=np.int64)
        for b in range(B):
            sched = self.problem.schedule(state, b)
            key = sched["durations"].tobytes() + sched["machines"].tobytes()
            plan = self._plans.get(b)
            if plan is None or plan[0] != key:
                res = cpsat_solve(sched["durations"], sched["machines"], self.time_limit, self.num_workers)
                if res.starts is None:
                    raise RuntimeError(f"CP-SAT found no schedule within {self.time_limit} s")
                self.last_results[b] = res
                plan = (key, dispatch_order(res.starts, sched["machines"]))
                self._plans[b] = plan
            t = int(state.t[b])
            actions[b] = plan[1][t] if t < len(plan[1]) else 0
        return actions
