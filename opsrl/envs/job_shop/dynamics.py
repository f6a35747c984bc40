"""Numba kernels of the job-shop dispatching MDP over a batch (spec ``job_shop.md`` §2.4–2.6).

State per env, packed so that a step is one kernel call with few arguments (batch-first int32):

* ``ops[b, j, k, :]`` — ``DUR``, ``MACH`` (−1 = padding of a ragged job), ``START`` (−1 = unscheduled),
  ``CLB`` (completion-time lower bound C_LB of O_{j,k});
* ``jobs[b, j, :]`` — ``NEXT`` (first unscheduled op), ``READY`` (end of the job's last scheduled op),
  ``NOPS`` (ops of the job), ``REMWORK`` (work of its unscheduled ops), ``EST`` (start its next op would get
  under the placement rule; kept up to date only when ``need_est``), ``NMACH`` (machine of the next op,
  −1 once the job is finished);
* ``machines[b, i, :]`` — ``LEN`` (ops on the machine), ``END`` (end of its last op), ``LOAD`` (work of the
  unscheduled ops that need it);
* ``mseq[b, i, q, :]`` — the q-th op on machine i in processing order: ``SEQ_OP`` (op id o = j·m + k),
  ``SEQ_START``, ``SEQ_END``; keeping the times next to the ids makes the insertion scan read one
  contiguous row instead of one ``ops`` entry per placed op;
* ``scal[b, :]`` — ``CMAX`` (max end so far), ``H`` (max C_LB), ``H0`` (H at reset), ``TOTAL`` (ops in the
  instance), ``LOAD0`` (initial max machine load), ``FIRST`` (makespan of the env's first finished episode
  since the batch was created, −1 before); ``mask[b, j]`` — eligible jobs (int8).

Options travel in one float64 vector ``cfg`` (columns ``C_*``); per-step results go to ``reward[b]`` and one
int64 table ``out[b, O_*]``. A step writes the next observation in the same pass (``step_flat``,
``step_graph``); the observation drivers alone serve resets. Flat ``l2d`` observations are instead kept by
the env between steps and patched where the dispatch changed them (``step_flat_l2d``: C_LB of the acted
job's remaining ops, one scheduled flag, the mask), then copied out — a full rebuild reads every op of every
env each step, which made it most of a step's cost at 4,096 envs. From ``PREFETCH_MIN_BATCH`` envs on (a batch
larger than the cache) that kernel also prefetches, while stepping env b, the cache lines the next envs'
dispatches will read (``_prefetch_stages``), so their chains of dependent misses overlap. Every driver has a
serial and a ``parallel=True`` version around the same ``inline="always"`` per-env body.

Order of events in a step (§2.5): (1) an action outside ``[0, n)`` or masked is replaced by the lowest-index
eligible job and flagged (documented, deterministic; an env with nothing left is a no-op); (2) the job's next
op is placed (``insert``: first idle gap on its machine that starts after the job is ready and is long
enough, else append; ``append``: after the machine's last op), never moving placed ops; (3) the op is inserted
into its machine's sequence (the arc mpred → msucc becomes mpred → o → msucc); (4) the job advances;
(5) C_LB is recomputed for that job only, and H = max(H, C_LB of the job's last op) — no other op moved and a
job's bound never decreases, so this equals the max over all jobs; (6) reward; (7) the mask (candidate filter
``none`` or ``non_delay``: only jobs whose next op can start earliest). Only the acted job and the jobs whose
next op needs the same machine can change their earliest start, so only those are re-evaluated.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

PARALLEL_MIN_BATCH = 256

DUR, MACH, START, CLB = 0, 1, 2, 3
NEXT, READY, NOPS, REMWORK, EST, NMACH = 0, 1, 2, 3, 4, 5
LEN, END, LOAD = 0, 1, 2
SEQ_OP, SEQ_START, SEQ_END = 0, 1, 2
CMAX, H, H0, TOTAL, LOAD0, FIRST = 0, 1, 2, 3, 4, 5
N_OPS, N_JOBS, N_MACH, N_SEQ, N_SCAL = 4, 6, 3, 3, 6

INSERT, APPEND = 0, 1
FILTER_NONE, FILTER_NON_DELAY = 0, 1
R_LB, R_SPARSE, R_INCREASE = 0, 1, 2
# options vector (float64)
C_PLACEMENT, C_FILTER, C_REWARD, C_SCALE, C_ZERO, C_NEED_EST, C_TIME_NORM, C_RICH, C_SELF_LOOPS = range(9)
N_CFG = 9
# columns of the per-step int64 output table
O_INVALID, O_TERMINATED, O_MAKESPAN, O_LB, O_JOB, O_START = 0, 1, 2, 3, 4, 5
N_OUT = 6

NO_JOB = np.int32(-1)


def make_cfg(placement: int, filt: int, reward_kind: int, scale: float, zero_value: float, need_est: bool,
             time_norm: float, rich: bool, self_loops: bool) -> np.ndarray:
    cfg = np.zeros(N_CFG)
    cfg[C_PLACEMENT], cfg[C_FILTER], cfg[C_REWARD] = placement, filt, reward_kind
    cfg[C_SCALE], cfg[C_ZERO], cfg[C_NEED_EST] = scale, zero_value, need_est
    cfg[C_TIME_NORM], cfg[C_RICH], cfg[C_SELF_LOOPS] = time_norm, rich, self_loops
    return cfg


@njit(cache=True, inline="always")
def placement_start(b, j, ops, jobs, machines, mseq, placement, m):
    """(start, position in the machine sequence) the next op of job j would get; the state is untouched."""
    k = jobs[b, j, NEXT]
    p = ops[b, j, k, DUR]
    i = ops[b, j, k, MACH]
    rho = jobs[b, j, READY]
    n_on = machines[b, i, LEN]
    end = machines[b, i, END]
    if placement == APPEND or rho >= end:  # no idle gap can start after rho: append
        return max(rho, end), n_on
    prev_end = 0
    for q in range(n_on):
        s = mseq[b, i, q, SEQ_START]
        if s > rho:
            sigma = max(rho, prev_end)
            if sigma + p <= s:  # the op fits into the idle gap before position q
                return sigma, q
        prev_end = mseq[b, i, q, SEQ_END]
    return max(rho, prev_end), n_on


@njit(cache=True, inline="always")
def _mask_from_est(b, jobs, mask, filt):
    """mask = unfinished jobs, restricted to the earliest-starting ones under ``non_delay``."""
    n = jobs.shape[1]
    best = np.int32(2**31 - 1)
    for j in range(n):
        if jobs[b, j, NEXT] < jobs[b, j, NOPS]:
            mask[b, j] = 1
            if jobs[b, j, EST] < best:
                best = jobs[b, j, EST]
        else:
            mask[b, j] = 0
    if filt == FILTER_NON_DELAY:
        for j in range(n):
            if mask[b, j] and jobs[b, j, EST] > best:
                mask[b, j] = 0


@njit(cache=True, inline="always")
def update_candidates(b, ops, jobs, machines, mseq, mask, placement, filt, need_est, m):
    """Recompute est of every job (when needed) and the mask of env b (at reset)."""
    for j in range(jobs.shape[1]):
        if need_est and jobs[b, j, NEXT] < jobs[b, j, NOPS]:
            s, _ = placement_start(b, j, ops, jobs, machines, mseq, placement, m)
            jobs[b, j, EST] = s
    _mask_from_est(b, jobs, mask, filt)


@njit(cache=True)
def refresh_candidates(ops, jobs, machines, mseq, mask, placement, filt):
    """Recompute EST (under ``placement``) and the mask (under ``filt``) of every env in place.

    For policies that act with a candidate filter of their own on a copy of an env's ``jobs`` and ``mask``
    (an env without ``need_est`` does not keep EST up to date)."""
    m = ops.shape[2]
    for b in range(ops.shape[0]):
        update_candidates(b, ops, jobs, machines, mseq, mask, placement, filt, True, m)


@njit(cache=True, inline="always")
def _reset_env(b, ops, jobs, machines, mseq, mask, scal, t, placement, filt, need_est):
    """Everything but the instance (DUR, MACH, NOPS) and ``FIRST`` back to the start state (§2.7)."""
    n, m = ops.shape[1], ops.shape[2]
    for i in range(machines.shape[1]):
        machines[b, i, LEN] = 0
        machines[b, i, END] = 0
        machines[b, i, LOAD] = 0
    h0 = 0
    total = 0
    for j in range(n):
        acc = 0
        nops = jobs[b, j, NOPS]
        for k in range(m):
            ops[b, j, k, START] = -1
            acc += ops[b, j, k, DUR]
            ops[b, j, k, CLB] = acc if k < nops else 0
            if k < nops:
                machines[b, ops[b, j, k, MACH], LOAD] += ops[b, j, k, DUR]
        jobs[b, j, NEXT] = 0
        jobs[b, j, READY] = 0
        jobs[b, j, REMWORK] = acc
        jobs[b, j, EST] = 0
        jobs[b, j, NMACH] = ops[b, j, 0, MACH] if nops > 0 else -1
        total += nops
        h0 = max(h0, acc)
    load0 = 0
    for i in range(machines.shape[1]):
        load0 = max(load0, machines[b, i, LOAD])
    scal[b, CMAX] = 0
    scal[b, H] = h0
    scal[b, H0] = h0
    scal[b, TOTAL] = total
    scal[b, LOAD0] = load0
    t[b] = 0
    update_candidates(b, ops, jobs, machines, mseq, mask, placement, filt, need_est, m)


@njit(cache=True)
def reset_batch(rows, ops, jobs, machines, mseq, mask, scal, t, cfg):
    """Reset the envs ``b`` with ``rows[b]`` true (their instance arrays already written)."""
    placement, filt, need_est = int(cfg[C_PLACEMENT]), int(cfg[C_FILTER]), cfg[C_NEED_EST] != 0
    for b in range(ops.shape[0]):
        if rows[b]:
            _reset_env(b, ops, jobs, machines, mseq, mask, scal, t, placement, filt, need_est)


@njit(cache=True, inline="always")
def _dispatch(b, a, ops, jobs, machines, mseq, mask, scal, t, reward, out, placement, filt, reward_kind,
              scale, zero_value, need_est):
    """One dispatching step of env b with action a (the body shared by the serial and parallel loops)."""
    n, m = ops.shape[1], ops.shape[2]
    reward[b] = 0.0
    out[b, O_INVALID] = 0
    out[b, O_TERMINATED] = 0
    out[b, O_JOB] = -1
    out[b, O_START] = -1
    # 1. the action: out of range or masked -> lowest-index eligible job
    j = a
    if j < 0 or j >= n or mask[b, j] == 0:
        j = -1
        for jj in range(n):
            if mask[b, jj]:
                j = jj
                break
        out[b, O_INVALID] = 1
    if j < 0:  # nothing left to dispatch: a finished env stays finished
        out[b, O_TERMINATED] = 1
        out[b, O_MAKESPAN] = scal[b, CMAX]
        out[b, O_LB] = scal[b, H]
        if scal[b, FIRST] < 0:
            scal[b, FIRST] = scal[b, CMAX]
        return
    # 2. placement
    k = jobs[b, j, NEXT]
    nops = jobs[b, j, NOPS]
    p = ops[b, j, k, DUR]
    i = ops[b, j, k, MACH]
    s, q = placement_start(b, j, ops, jobs, machines, mseq, placement, m)
    e = s + p
    o = j * m + k
    # 3. machine sequence (the graph observation reads the machine arcs from it)
    n_on = machines[b, i, LEN]
    for r in range(n_on, q, -1):
        mseq[b, i, r, SEQ_OP] = mseq[b, i, r - 1, SEQ_OP]
        mseq[b, i, r, SEQ_START] = mseq[b, i, r - 1, SEQ_START]
        mseq[b, i, r, SEQ_END] = mseq[b, i, r - 1, SEQ_END]
    mseq[b, i, q, SEQ_OP] = o
    mseq[b, i, q, SEQ_START] = s
    mseq[b, i, q, SEQ_END] = e
    machines[b, i, LEN] = n_on + 1
    if e > machines[b, i, END]:
        machines[b, i, END] = e
    machines[b, i, LOAD] -= p
    # 4. the job advances
    ops[b, j, k, START] = s
    jobs[b, j, NEXT] = k + 1
    jobs[b, j, READY] = e
    jobs[b, j, REMWORK] -= p
    jobs[b, j, NMACH] = ops[b, j, k + 1, MACH] if k + 1 < nops else -1
    # 5. C_LB of job j only; its last op's bound can only grow, so H = max(H, that bound)
    acc = e
    ops[b, j, k, CLB] = e
    for kk in range(k + 1, nops):
        acc += ops[b, j, kk, DUR]
        ops[b, j, kk, CLB] = acc
    h_old = scal[b, H]
    h_new = max(h_old, acc)
    scal[b, H] = h_new
    c_old = scal[b, CMAX]
    if e > c_old:
        scal[b, CMAX] = e
    t[b] += 1
    done = t[b] >= scal[b, TOTAL]
    # 6. reward
    if reward_kind == R_LB:
        r = (h_old - h_new) / scale
    elif reward_kind == R_INCREASE:
        r = -(scal[b, CMAX] - c_old) / scale
    else:
        r = -scal[b, CMAX] / scale if done else 0.0
    if r == 0.0:
        r = zero_value
    reward[b] = r
    out[b, O_MAKESPAN] = scal[b, CMAX]
    out[b, O_LB] = h_new
    out[b, O_JOB] = j
    out[b, O_START] = s
    if done:
        out[b, O_TERMINATED] = 1
        if scal[b, FIRST] < 0:
            scal[b, FIRST] = scal[b, CMAX]
    # 7. candidates: only job j and the jobs waiting for machine i can change their earliest start
    if need_est:
        for jj in range(n):
            if jobs[b, jj, NEXT] < jobs[b, jj, NOPS] and (jj == j or jobs[b, jj, NMACH] == i):
                s2, _ = placement_start(b, jj, ops, jobs, machines, mseq, placement, m)
                jobs[b, jj, EST] = s2
    if filt == FILTER_NONE:
        mask[b, j] = 1 if k + 1 < nops else 0
    else:
        _mask_from_est(b, jobs, mask, filt)


@njit(cache=True, inline="always")
def _idle_row(b, scal, reward, out):
    """Output of an env that is not stepped (it is being reset by the vector env)."""
    reward[b] = 0.0
    out[b, O_INVALID] = 0
    out[b, O_TERMINATED] = 0
    out[b, O_MAKESPAN] = scal[b, CMAX]
    out[b, O_LB] = scal[b, H]
    out[b, O_JOB] = 0
    out[b, O_START] = 0


# -- observations -----------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _features_row(b, ops, jobs, machines, mask, scal, time_norm, rich, F, buf):
    """buf[b, o·F + f] for every op o = j·m + k (spec §4.2; padding ops are all zero).

    ``scheduled`` is k < NEXT (ops of a job are placed in order), which avoids reading ``START``. Times are
    multiplied by 1/time_norm: a division per op was ~40 % of the observation's cost (the float32 values were
    identical on 4096 ta01 states)."""
    n, m = ops.shape[1], ops.shape[2]
    inv_norm = 1.0 / time_norm
    if not rich:  # F = 2; three branch-free runs per job: scheduled ops, unscheduled ops, padding
        row = buf[b]
        for j in range(n):
            nops = jobs[b, j, NOPS]
            nxt = jobs[b, j, NEXT]
            c = j * m * F
            for k in range(nxt):
                row[c] = ops[b, j, k, CLB] * inv_norm
                row[c + 1] = 1.0
                c += 2
            for k in range(nxt, nops):
                row[c] = ops[b, j, k, CLB] * inv_norm
                row[c + 1] = 0.0
                c += 2
            for _ in range(nops, m):
                row[c] = 0.0
                row[c + 1] = 0.0
                c += 2
        return
    pmax = 1
    for j in range(n):
        for k in range(jobs[b, j, NOPS]):
            pmax = max(pmax, ops[b, j, k, DUR])
    load0 = max(scal[b, LOAD0], 1)
    for j in range(n):
        nops = jobs[b, j, NOPS]
        nxt = jobs[b, j, NEXT]
        work_after = 0  # Σ_{l≥k} p, built from the back
        for k in range(m - 1, -1, -1):
            c = (j * m + k) * F
            if k >= nops:
                for f in range(F):
                    buf[b, c + f] = 0.0
                continue
            p = ops[b, j, k, DUR]
            work_after += p
            buf[b, c] = ops[b, j, k, CLB] * inv_norm
            buf[b, c + 1] = 1.0 if k < nxt else 0.0
            buf[b, c + 2] = p / pmax
            buf[b, c + 3] = work_after / (m * pmax)
            buf[b, c + 4] = (nops - k) / m
            buf[b, c + 5] = machines[b, ops[b, j, k, MACH], LOAD] / load0
            if k == nxt:
                buf[b, c + 6] = jobs[b, j, EST] * inv_norm
                buf[b, c + 7] = 1.0 if mask[b, j] else 0.0
            else:
                buf[b, c + 6] = (ops[b, j, k, CLB] - p) * inv_norm
                buf[b, c + 7] = 0.0


@njit(cache=True, inline="always")
def _flat_row(b, ops, jobs, machines, mask, scal, time_norm, rich, F, out):
    _features_row(b, ops, jobs, machines, mask, scal, time_norm, rich, F, out)
    nf = ops.shape[1] * ops.shape[2] * F
    for j in range(mask.shape[1]):
        out[b, nf + j] = mask[b, j]


@njit(cache=True)
def flat_observation(rows, ops, jobs, machines, mask, scal, cfg, out):
    """out[b] = (op features raveled op-major, action mask) as float32 for the envs with ``rows[b]``;
    F = (width − n) / (n·m)."""
    F = (out.shape[1] - mask.shape[1]) // (ops.shape[1] * ops.shape[2])
    time_norm, rich = cfg[C_TIME_NORM], cfg[C_RICH] != 0
    for b in range(ops.shape[0]):
        if rows[b]:
            _flat_row(b, ops, jobs, machines, mask, scal, time_norm, rich, F, out)


@njit(cache=True, parallel=True)
def flat_observation_parallel(rows, ops, jobs, machines, mask, scal, cfg, out):
    F = (out.shape[1] - mask.shape[1]) // (ops.shape[1] * ops.shape[2])
    time_norm, rich = cfg[C_TIME_NORM], cfg[C_RICH] != 0
    for b in prange(ops.shape[0]):
        if rows[b]:
            _flat_row(b, ops, jobs, machines, mask, scal, time_norm, rich, F, out)


@njit(cache=True, inline="always")
def _graph_row(b, ops, jobs, machines, mseq, mask, scal, time_norm, rich, self_loops, F, feat, candidate,
               edge_index, edge_type):
    """The ``adding_arc`` graph (L2D) of env b: conjunctive arcs O_{j,k} → O_{j,k+1} (type 0),
    machine-sequence arcs between immediate neighbours among scheduled ops (type 1), self-loops (type 3);
    then padding −1."""
    n, m = ops.shape[1], ops.shape[2]
    E = edge_type.shape[1]
    _features_row(b, ops, jobs, machines, mask, scal, time_norm, rich, F, feat)
    e = 0
    for j in range(n):
        nops = jobs[b, j, NOPS]
        candidate[b, j] = j * m + min(jobs[b, j, NEXT], nops - 1)
        for k in range(nops - 1):
            edge_index[b, 0, e] = j * m + k
            edge_index[b, 1, e] = j * m + k + 1
            edge_type[b, e] = 0
            e += 1
    for i in range(machines.shape[1]):
        for q in range(machines[b, i, LEN] - 1):
            edge_index[b, 0, e] = mseq[b, i, q, SEQ_OP]
            edge_index[b, 1, e] = mseq[b, i, q + 1, SEQ_OP]
            edge_type[b, e] = 1
            e += 1
    if self_loops:
        for j in range(n):
            for k in range(jobs[b, j, NOPS]):
                edge_index[b, 0, e] = j * m + k
                edge_index[b, 1, e] = j * m + k
                edge_type[b, e] = 3
                e += 1
    for r in range(e, E):
        edge_index[b, 0, r] = -1
        edge_index[b, 1, r] = -1
        edge_type[b, r] = -1


@njit(cache=True)
def graph_observation(rows, ops, jobs, machines, mseq, mask, scal, cfg, feat, candidate, edge_index, edge_type):
    """Graph observation of the envs with ``rows[b]``; ``feat`` is the op features viewed as [B, N·F]."""
    F = feat.shape[1] // (ops.shape[1] * ops.shape[2])
    time_norm, rich, self_loops = cfg[C_TIME_NORM], cfg[C_RICH] != 0, cfg[C_SELF_LOOPS] != 0
    for b in range(ops.shape[0]):
        if rows[b]:
            _graph_row(b, ops, jobs, machines, mseq, mask, scal, time_norm, rich, self_loops, F, feat, candidate,
                       edge_index, edge_type)


@njit(cache=True, parallel=True)
def graph_observation_parallel(rows, ops, jobs, machines, mseq, mask, scal, cfg, feat, candidate, edge_index,
                               edge_type):
    F = feat.shape[1] // (ops.shape[1] * ops.shape[2])
    time_norm, rich, self_loops = cfg[C_TIME_NORM], cfg[C_RICH] != 0, cfg[C_SELF_LOOPS] != 0
    for b in prange(ops.shape[0]):
        if rows[b]:
            _graph_row(b, ops, jobs, machines, mseq, mask, scal, time_norm, rich, self_loops, F, feat, candidate,
                       edge_index, edge_type)


# -- a step and the next observation in one pass ------------------------------------------------------------
# The per-env body dispatches and then writes the env's observation while its state is still in cache; a
# batch step is one kernel call (one parallel region), which matters on a busy machine where every
# fork/join waits for the slowest thread.
@njit(cache=True, inline="always")
def _step_row(b, actions, active, ops, jobs, machines, mseq, mask, scal, t, reward, out, placement, filt,
              reward_kind, scale, zero_value, need_est):
    if active[b]:
        _dispatch(b, actions[b], ops, jobs, machines, mseq, mask, scal, t, reward, out, placement, filt,
                  reward_kind, scale, zero_value, need_est)
    else:
        _idle_row(b, scal, reward, out)


@njit(cache=True)
def step_flat(actions, active, ops, jobs, machines, mseq, mask, scal, t, cfg, reward, out, obs):
    """Step every env (``active[b]``; the others only report) and write the flat observation ``obs``."""
    placement, filt, reward_kind = int(cfg[C_PLACEMENT]), int(cfg[C_FILTER]), int(cfg[C_REWARD])
    scale, zero_value, need_est = cfg[C_SCALE], cfg[C_ZERO], cfg[C_NEED_EST] != 0
    time_norm, rich = cfg[C_TIME_NORM], cfg[C_RICH] != 0
    F = (obs.shape[1] - mask.shape[1]) // (ops.shape[1] * ops.shape[2])
    for b in range(ops.shape[0]):
        _step_row(b, actions, active, ops, jobs, machines, mseq, mask, scal, t, reward, out, placement,
                  filt, reward_kind, scale, zero_value, need_est)
        _flat_row(b, ops, jobs, machines, mask, scal, time_norm, rich, F, obs)


@njit(cache=True, parallel=True)
def step_flat_parallel(actions, active, ops, jobs, machines, mseq, mask, scal, t, cfg, reward, out, obs):
    placement, filt, reward_kind = int(cfg[C_PLACEMENT]), int(cfg[C_FILTER]), int(cfg[C_REWARD])
    scale, zero_value, need_est = cfg[C_SCALE], cfg[C_ZERO], cfg[C_NEED_EST] != 0
    time_norm, rich = cfg[C_TIME_NORM], cfg[C_RICH] != 0
    F = (obs.shape[1] - mask.shape[1]) // (ops.shape[1] * ops.shape[2])
    for b in prange(ops.shape[0]):
        _step_row(b, actions, active, ops, jobs, machines, mseq, mask, scal, t, reward, out, placement,
                  filt, reward_kind, scale, zero_value, need_est)
        _flat_row(b, ops, jobs, machines, mask, scal, time_norm, rich, F, obs)


@njit(cache=True, inline="always")
def _step_flat_l2d_row(b, actions, active, ops, jobs, machines, mseq, mask, scal, t, reward, out, placement, filt,
                       reward_kind, scale, zero_value, need_est, inv_norm, buf):
    """Step env b and bring its kept ``l2d`` observation ``buf[b]`` up to date: a dispatch of O_{j,k} changes
    only C_LB of O_{j,k..}, the scheduled flag of O_{j,k} and the mask (same float32 values as a rebuild)."""
    _step_row(b, actions, active, ops, jobs, machines, mseq, mask, scal, t, reward, out, placement, filt,
              reward_kind, scale, zero_value, need_est)
    j = out[b, O_JOB]
    if active[b] and j >= 0:
        m = ops.shape[2]
        nops = jobs[b, j, NOPS]
        k = jobs[b, j, NEXT] - 1
        row = buf[b]
        c = (j * m + k) * 2
        row[c + 1] = 1.0
        for kk in range(k, nops):
            row[c] = ops[b, j, kk, CLB] * inv_norm
            c += 2
        nf = ops.shape[1] * m * 2
        for jj in range(mask.shape[1]):
            row[nf + jj] = mask[b, jj]


@intrinsic
def _prefetch(typingctx, arr, index):
    """Hint the CPU to load the cache line of ``arr[index]`` (``index`` a tuple, one int per dimension);
    no effect on results, never faults."""
    if not isinstance(arr, types.Array) or not isinstance(index, types.BaseTuple) or len(index) != arr.ndim:
        return None

    def codegen(context, builder, sig, args):
        aryty, idxty = sig.args
        ary = context.make_array(aryty)(context, builder, args[0])
        inds = [context.cast(builder, v, t, types.intp)
                for v, t in zip(cgutils.unpack_tuple(builder, args[1], len(idxty)), idxty, strict=True)]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, inds, wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, index), codegen


PREFETCH_MIN_BATCH = 1024  # smaller batches stay in the cache
PREFETCH_DISTANCE = 2  # envs between the stages of the prefetch pipeline


@njit(cache=True, inline="always")
def _eligible_job(b, actions, mask):
    """The job env b's step will dispatch (the action, or the lowest eligible job), −1 if none."""
    n = mask.shape[1]
    j = actions[b]
    if j < 0 or j >= n or mask[b, j] == 0:
        j = -1
        for jj in range(n):
            if mask[b, jj]:
                return jj
    return j


@njit(cache=True, inline="always")
def _prefetch_stages(b, actions, active, ops, jobs, machines, mseq, mask, scal, buf):
    """Software pipeline of the cache misses of a batch too large for the cache: while env b is stepped,
    env b + 3D's mask and job rows, env b + 2D's next op rows and kept-observation rows, and env b + D's
    machine row and sequence are requested, each stage using only lines an earlier stage brought in. A step
    of one env is a chain of dependent misses (job → op → machine → sequence) that the CPU cannot overlap
    with the next env's on its own."""
    B, n, m = ops.shape[0], ops.shape[1], ops.shape[2]
    D = PREFETCH_DISTANCE
    b3 = b + 3 * D
    if b3 < B:
        _prefetch(mask, (b3, 0))
        for j in range(0, n, 2):  # 2 jobs (2 × 24 bytes) per cache line
            _prefetch(jobs, (b3, j, 0))
        _prefetch(scal, (b3, 0))
    b2 = b + 2 * D
    if b2 < B and active[b2]:
        j = _eligible_job(b2, actions, mask)
        if j >= 0:
            k = jobs[b2, j, NEXT]
            for kk in range(k, jobs[b2, j, NOPS], 4):  # 4 ops (4 × 16 bytes) per cache line
                _prefetch(ops, (b2, j, kk, 0))
            c = (j * m + k) * 2
            _prefetch(buf, (b2, c))
            _prefetch(buf, (b2, min(c + 16, buf.shape[1] - 1)))
            _prefetch(buf, (b2, buf.shape[1] - n))
    b1 = b + D
    if b1 < B and active[b1]:
        j = _eligible_job(b1, actions, mask)
        if j >= 0:
            i = ops[b1, j, jobs[b1, j, NEXT], MACH]
            _prefetch(machines, (b1, i, 0))
            for q in range(0, machines[b1, i, LEN] + 1, 5):  # 5 entries (5 × 12 bytes) per cache line
                _prefetch(mseq, (b1, i, min(q, n - 1), 0))


@njit(cache=True)
def step_flat_l2d(actions, active, ops, jobs, machines, mseq, mask, scal, t, cfg, reward, out, buf):
    """``step_flat`` for ``feature_set="l2d"`` with the observation kept up to date in ``buf`` between steps
    (``buf`` must hold the current observation of every env: :func:`flat_observation` writes it); the caller
    copies ``buf`` out."""
    placement, filt, reward_kind = int(cfg[C_PLACEMENT]), int(cfg[C_FILTER]), int(cfg[C_REWARD])
    scale, zero_value, need_est = cfg[C_SCALE], cfg[C_ZERO], cfg[C_NEED_EST] != 0
    inv_norm = 1.0 / cfg[C_TIME_NORM]
    prefetch = ops.shape[0] >= PREFETCH_MIN_BATCH
    for b in range(ops.shape[0]):
        if prefetch:
            _prefetch_stages(b, actions, active, ops, jobs, machines, mseq, mask, scal, buf)
        _step_flat_l2d_row(b, actions, active, ops, jobs, machines, mseq, mask, scal, t, reward, out, placement,
                           filt, reward_kind, scale, zero_value, need_est, inv_norm, buf)


@njit(cache=True, parallel=True)
def step_flat_l2d_parallel(actions, active, ops, jobs, machines, mseq, mask, scal, t, cfg, reward, out, buf, obs):
    """The parallel driver also copies the rows out (``obs[b] = buf[b]``): both cores share the copy."""
    placement, filt, reward_kind = int(cfg[C_PLACEMENT]), int(cfg[C_FILTER]), int(cfg[C_REWARD])
    scale, zero_value, need_est = cfg[C_SCALE], cfg[C_ZERO], cfg[C_NEED_EST] != 0
    inv_norm = 1.0 / cfg[C_TIME_NORM]
    prefetch = ops.shape[0] >= PREFETCH_MIN_BATCH
    for b in prange(ops.shape[0]):
        if prefetch:
            _prefetch_stages(b, actions, active, ops, jobs, machines, mseq, mask, scal, buf)
        _step_flat_l2d_row(b, actions, active, ops, jobs, machines, mseq, mask, scal, t, reward, out, placement,
                           filt, reward_kind, scale, zero_value, need_est, inv_norm, buf)
        obs[b, :] = buf[b, :]


@njit(cache=True)
def step_graph(actions, active, ops, jobs, machines, mseq, mask, scal, t, cfg, reward, out, feat,
               candidate, edge_index, edge_type):
    """Step every env and write the graph observation (``feat`` viewed as [B, N·F])."""
    placement, filt, reward_kind = int(cfg[C_PLACEMENT]), int(cfg[C_FILTER]), int(cfg[C_REWARD])
    scale, zero_value, need_est = cfg[C_SCALE], cfg[C_ZERO], cfg[C_NEED_EST] != 0
    time_norm, rich, self_loops = cfg[C_TIME_NORM], cfg[C_RICH] != 0, cfg[C_SELF_LOOPS] != 0
    F = feat.shape[1] // (ops.shape[1] * ops.shape[2])
    for b in range(ops.shape[0]):
        _step_row(b, actions, active, ops, jobs, machines, mseq, mask, scal, t, reward, out, placement,
                  filt, reward_kind, scale, zero_value, need_est)
        _graph_row(b, ops, jobs, machines, mseq, mask, scal, time_norm, rich, self_loops, F, feat, candidate,
                   edge_index, edge_type)


@njit(cache=True, parallel=True)
def step_graph_parallel(actions, active, ops, jobs, machines, mseq, mask, scal, t, cfg, reward, out, feat,
                        candidate, edge_index, edge_type):
    placement, filt, reward_kind = int(cfg[C_PLACEMENT]), int(cfg[C_FILTER]), int(cfg[C_REWARD])
    scale, zero_value, need_est = cfg[C_SCALE], cfg[C_ZERO], cfg[C_NEED_EST] != 0
    time_norm, rich, self_loops = cfg[C_TIME_NORM], cfg[C_RICH] != 0, cfg[C_SELF_LOOPS] != 0
    F = feat.shape[1] // (ops.shape[1] * ops.shape[2])
    for b in prange(ops.shape[0]):
        _step_row(b, actions, active, ops, jobs, machines, mseq, mask, scal, t, reward, out, placement,
                  filt, reward_kind, scale, zero_value, need_est)
        _graph_row(b, ops, jobs, machines, mseq, mask, scal, time_norm, rich, self_loops, F, feat, candidate,
                   edge_index, edge_type)


# -- dispatching rules (spec §5.1) -----------------------------------------------------------------------
SPT, LPT, MWKR, MOR, FDD_MWKR, FIFO = 0, 1, 2, 3, 4, 5


@njit(cache=True)
def select_rule(ops, jobs, machines, mseq, mask, rule, non_delay, placement, out):
    """out[b] = the job a dispatching rule picks among the eligible jobs of env b (ties: lowest index).

    ``non_delay``: first keep only jobs whose next op can start earliest under ``placement`` (with
    ``placement = APPEND`` this is the non-delay schedule generation of the spec's §5.1 semantics (B))."""
    n, m = ops.shape[1], ops.shape[2]
    for b in range(ops.shape[0]):
        best_est = np.int64(2**62)
        if non_delay:
            for j in range(n):
                if mask[b, j]:
                    s, _ = placement_start(b, j, ops, jobs, machines, mseq, placement, m)
                    best_est = min(best_est, s)
        pick = -1
        best_num = np.int64(0)
        best_den = np.int64(1)
        for j in range(n):
            if not mask[b, j]:
                continue
            if non_delay:
                s, _ = placement_start(b, j, ops, jobs, machines, mseq, placement, m)
                if s > best_est:
                    continue
            k = jobs[b, j, NEXT]
            p = np.int64(ops[b, j, k, DUR])
            w = np.int64(jobs[b, j, REMWORK])  # remaining work including the op
            # priority as a fraction num/den to minimise (exact integer comparisons)
            den = np.int64(1)
            if rule == SPT:
                num = p
            elif rule == LPT:
                num = -p
            elif rule == MWKR:
                num = -w
            elif rule == MOR:
                num = -np.int64(jobs[b, j, NOPS] - k)
            elif rule == FDD_MWKR:
                num = np.int64(0)  # (r_j + D)/W with release times r_j = 0
                for kk in range(k + 1):
                    num += ops[b, j, kk, DUR]
                den = w
            else:  # FIFO: earliest job-ready time
                num = np.int64(jobs[b, j, READY])
            if pick < 0 or num * best_den < best_num * den:
                pick = j
                best_num = num
                best_den = den
        out[b] = max(pick, 0)


# -- batched instance generation ---------------------------------------------------------------------------
@njit(cache=True)
def taillard_fill(ops, jobs, rows, time_seeds, machine_seeds, low, high):
    """Taillard's generator (same arithmetic as ``instances.taillard_lcg``) into the selected rows."""
    n, m = ops.shape[1], ops.shape[2]
    M = 2147483647
    r = 0
    for b in range(ops.shape[0]):
        if not rows[b]:
            continue
        seed = np.int64(time_seeds[r])
        for j in range(n):
            for k in range(m):
                seed = (16807 * seed) % M
                ops[b, j, k, DUR] = low + np.int64((seed / M) * (high - low + 1))
        seed = np.int64(machine_seeds[r])
        for j in range(n):
            for k in range(m):
                ops[b, j, k, MACH] = k
            for k in range(m):
                seed = (16807 * seed) % M
                q = k + np.int64((seed / M) * (m - k))
                tmp = ops[b, j, k, MACH]
                ops[b, j, k, MACH] = ops[b, j, q, MACH]
                ops[b, j, q, MACH] = tmp
            jobs[b, j, NOPS] = m
        r += 1
