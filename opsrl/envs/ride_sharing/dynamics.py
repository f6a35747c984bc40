"""Numba kernels of the ride-sharing dispatch simulator over a batch (spec ``ride_sharing.md`` §2.3–§2.7).

State (batch-first packed tables, columns named below):

* orders ``of[b, n, :]`` (points, request time and the trip record) and ``oi[b, n, :]`` (zones, reveal
  epoch, status, vehicle); orders are sorted by request time, so index order is first-come-first-served.
* vehicles ``vf[b, i, :]`` (position now, start point and time of the current leg, leg length, share of
  the leg done, cumulative reward R_i, km driven) and ``vi[b, i, :]`` (nearest zone, seats reserved,
  stops planned).
* routes ``ri[b, i, s, :]`` (order, kind) and ``rf[b, i, s, :]`` (planned arrival time, length of the leg
  ending there) — at most one pickup, always first, then ≤ C drop-offs.

One epoch is :func:`apply_batch` (insert the matched orders, pay rewards) then :func:`advance_batch`
(move every vehicle by Δ processing stop events in time order, expire orders, list the visible ones and
the eligible vehicles of the next epoch). Travel time of a leg: τ = 3600·d / v(zone_from, zone_to,
15-min slot of the leg start) with d the L1 distance in the street frame; in centroid mode a leg between
two stops of the same zone has length d_in (spec §2.1), never 0.
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit, prange

PARALLEL_MIN_BATCH = 8

# order status
WAIT, ASSIGNED, PICKED, DONE, LOST = 0, 1, 2, 3, 4
# of columns: pickup and drop-off points, request time, then the trip record (s)
PX, PY, QX, QY, TREQ, T_ASSIGN, ETA, DIRECT, PLAN_DROP, T_PICK, T_DROP = range(11)
N_OF = 11
# oi columns
ZO, ZD, REVEAL, STATUS, VEH = range(5)
N_OI = 5
# vf columns
X, Y, FX, FY, T0, LEGD, FRAC, RCUM, KM = range(9)
N_VF = 9
# vi columns
ZONE, LOAD, NSTOP = range(3)
N_VI = 3
# route columns
R_ORDER, R_KIND = 0, 1
R_TIME, R_LEGD = 0, 1
PICK, DROP = 0, 1
# zone table columns
CX, CY, DIN, HW, HH = range(5)
# cfg entries
(C_DT, C_W, C_CAP, C_CENTROID, C_THETA, C_B0, C_B1, C_B2, C_B3, C_B4, C_B5, C_PLATFORM, C_LAMBDA, C_TOFF,
 C_SLOT, C_POOL, C_K, C_GAMMA, C_DRAIN, C_TN, C_XMIN, C_XR, C_YMIN, C_YR) = range(24)
N_CFG = 24
# stats columns (cumulative over the episode)
(S_SERVED, S_LOST, S_DONE, S_PICKUP, S_CONFIRM, S_DELIVERY, S_DETOUR, S_KM, S_RETURN, S_OSPO, S_OVERFLOW,
 S_PENDING, S_GENERATED) = range(13)
N_STATS = 13
STAT_NAMES = ("served", "lost", "completed", "pickup_min_sum", "confirm_min_sum", "delivery_min_sum",
              "detour_min_sum", "vehicle_km", "return", "ospo_return", "overflow", "pending", "generated")
# pair-evaluation columns
P_ETA, P_ADDED, P_LATE, P_DIST, P_REWARD = range(5)
N_PAIR = 5


def permutation_table(max_n: int) -> tuple[np.ndarray, np.ndarray]:
    """All permutations of 0..m-1 for m = 1..max_n in lexicographic order, packed: ``table[start[m] +
    p, :m]`` is permutation p of m items; ``start[m + 1] - start[m]`` = m!."""
    rows, start = [], [0, 0]
    for m in range(1, max_n + 1):
        perms = list(itertools.permutations(range(m)))
        rows += [list(p) + [0] * (max_n - m) for p in perms]
        start.append(start[-1] + len(perms))
    return np.array(rows, dtype=np.int64).reshape(-1, max_n), np.array(start, dtype=np.int64)


@njit(cache=True, inline="always")
def _slot(t, cfg, n_slots):
    if n_slots == 1:
        return 0
    return int((cfg[C_TOFF] + t) // cfg[C_SLOT]) % n_slots


@njit(cache=True, inline="always")
def _leg(ax, ay, za, bx, by, zb, t, stops, zones, speed, cfg):
    """(seconds, km) of a leg started at time t; ``stops``: both ends are order stops (centroid mode
    then uses d_in within a zone)."""
    d = abs(ax - bx) + abs(ay - by)
    if stops and cfg[C_CENTROID] > 0.0 and za == zb:
        d = zones[za, DIN]
    v = speed[_slot(t, cfg, speed.shape[0]), za, zb]
    return 3600.0 * d / v, d


@njit(cache=True, inline="always")
def nearest_zone(x, y, zones):
    best, arg = np.inf, 0
    for z in range(zones.shape[0]):
        d = abs(zones[z, CX] - x) + abs(zones[z, CY] - y)
        if d < best - 1e-12:
            best, arg = d, z
    return arg


@njit(cache=True)
def _insert(b, i, j, of, oi, vf, vi, ri, rf, zones, speed, cfg, perm_tab, perm_start, ids, nr_ord, nr_t, nr_d,
            res):
    """Evaluate inserting order j into vehicle i at t_k (``pickup_first``, spec §2.5) without changing the
    state: the new route goes to ``nr_*[b]`` (pickup first, then the drop-off permutation that finishes
    earliest; ties: smaller sum of drop-off times, then lexicographically smaller order ids) and
    ``res[b]`` gets ETA (s), A (min), N_late, D (km), r, τ_dir (s). Returns the number of stops."""
    tk = res[b, 6]  # current time, set by the caller
    # onboard (assigned, not delivered) orders of i are its drop-off stops
    m = 0
    for s in range(vi[b, i, NSTOP]):
        if ri[b, i, s, R_KIND] == DROP:
            ids[b, m] = ri[b, i, s, R_ORDER]
            m += 1
    ids[b, m] = j
    m += 1
    for a in range(1, m):  # insertion sort by order id: permutations then come in lexicographic id order
        key = ids[b, a]
        c = a - 1
        while c >= 0 and ids[b, c] > key:
            ids[b, c + 1] = ids[b, c]
            c -= 1
        ids[b, c + 1] = key
    px, py, zp = of[b, j, PX], of[b, j, PY], oi[b, j, ZO]
    eta, dpick = _leg(vf[b, i, X], vf[b, i, Y], vi[b, i, ZONE], px, py, zp, tk, False, zones, speed, cfg)
    tp = tk + eta
    best_last, best_sum, best_p = np.inf, np.inf, -1
    for p in range(perm_start[m], perm_start[m + 1]):
        cx, cy, cz, tt, total = px, py, zp, tp, 0.0
        for s in range(m):
            k = ids[b, perm_tab[p, s]]
            dt, _ = _leg(cx, cy, cz, of[b, k, QX], of[b, k, QY], oi[b, k, ZD], tt, True, zones, speed, cfg)
            tt += dt
            total += tt
            cx, cy, cz = of[b, k, QX], of[b, k, QY], oi[b, k, ZD]
        if tt < best_last - 1e-9 or (tt < best_last + 1e-9 and total < best_sum - 1e-9):
            best_last, best_sum, best_p = tt, total, p
    # write the route and compute the plan's totals
    nr_ord[b, 0], nr_t[b, 0], nr_d[b, 0] = j, tp, dpick
    cx, cy, cz, tt = px, py, zp, tp
    added, late = 0.0, 0
    theta = cfg[C_THETA]
    for s in range(m):
        k = ids[b, perm_tab[best_p, s]]
        dt, dd = _leg(cx, cy, cz, of[b, k, QX], of[b, k, QY], oi[b, k, ZD], tt, True, zones, speed, cfg)
        tt += dt
        nr_ord[b, s + 1], nr_t[b, s + 1], nr_d[b, s + 1] = k, tt, dd
        cx, cy, cz = of[b, k, QX], of[b, k, QY], oi[b, k, ZD]
        a_k = tk if k == j else of[b, k, T_ASSIGN]
        t_new = (tt - a_k) / 60.0
        added += t_new
        if k != j:
            added -= (of[b, k, PLAN_DROP] - a_k) / 60.0
        if t_new > theta + 1e-9:
            late += 1
    tdir, dist = _leg(px, py, zp, of[b, j, QX], of[b, j, QY], oi[b, j, ZD], tp, True, zones, speed, cfg)
    eta_min = eta / 60.0
    if cfg[C_PLATFORM] > 0.0:
        r = 1.0 - cfg[C_LAMBDA] * eta_min / 60.0
    else:
        r = (cfg[C_B0] + cfg[C_B1] * dist - cfg[C_B2] * eta_min / 60.0 - cfg[C_B3] * late
             - cfg[C_B4] * added / 60.0 - cfg[C_B5] * max(0.0, added - theta) / 60.0)
    res[b, 0], res[b, 1], res[b, 2], res[b, 3], res[b, 4], res[b, 5] = eta, added, late, dist, r, tdir
    return m + 1


@njit(cache=True)
def apply_batch(t, of, oi, vf, vi, ri, rf, stats, assign, zones, speed, cfg, perm_tab, perm_start, scratch_i,
                scratch_f, vreward):
    """Insert the matched orders (``assign[b, i]`` = order index or -1) at t_k and pay r_ij (spec §2.6
    step 5). ``vreward[b, i]`` gets each vehicle's reward of this epoch."""
    B, V = assign.shape
    S = ri.shape[2]
    for b in range(B):
        tk = t[b] * cfg[C_DT]
        disc = cfg[C_GAMMA] ** t[b]
        for i in range(V):
            vreward[b, i] = 0.0
            j = assign[b, i]
            if j < 0:
                continue
            ids = scratch_i[:, :S]
            nr_ord = scratch_i[:, S:2 * S]
            nr_t = scratch_f[:, :S]
            nr_d = scratch_f[:, S:2 * S]
            res = scratch_f[:, 2 * S:]
            res[b, 6] = tk
            n_st = _insert(b, i, j, of, oi, vf, vi, ri, rf, zones, speed, cfg, perm_tab, perm_start, ids, nr_ord,
                           nr_t, nr_d, res)
            for s in range(n_st):
                ri[b, i, s, R_ORDER] = nr_ord[b, s]
                ri[b, i, s, R_KIND] = PICK if s == 0 else DROP
                rf[b, i, s, R_TIME] = nr_t[b, s]
                rf[b, i, s, R_LEGD] = nr_d[b, s]
                if s > 0:
                    of[b, nr_ord[b, s], PLAN_DROP] = nr_t[b, s]
            vi[b, i, NSTOP] = n_st
            vi[b, i, LOAD] += 1
            # the vehicle leaves its current leg where it is now: no jump
            vf[b, i, FX], vf[b, i, FY], vf[b, i, T0] = vf[b, i, X], vf[b, i, Y], tk
            vf[b, i, FRAC], vf[b, i, LEGD] = 0.0, nr_d[b, 0]
            r = res[b, 4]
            vf[b, i, RCUM] += r
            vreward[b, i] = r
            oi[b, j, STATUS], oi[b, j, VEH] = ASSIGNED, i
            of[b, j, T_ASSIGN], of[b, j, ETA], of[b, j, DIRECT] = tk, res[b, 0], res[b, 5]
            stats[b, S_SERVED] += 1.0
            stats[b, S_PICKUP] += res[b, 0] / 60.0
            stats[b, S_CONFIRM] += (t[b] - oi[b, j, REVEAL]) * cfg[C_DT] / 60.0
            stats[b, S_RETURN] += r
            stats[b, S_OSPO] += disc * r
            stats[b, S_PENDING] -= 1.0


@njit(cache=True)
def pair_values(b, rows, cols, t, of, oi, vf, vi, ri, rf, zones, speed, cfg, perm_tab, perm_start, scratch_i,
                scratch_f, out):
    """``out[r, c, :]`` = (ETA min, A min, N_late, D km, r) of inserting order ``cols[c]`` into vehicle
    ``rows[r]`` of env b at t_k, without changing the state (the pair features of spec §4)."""
    S = ri.shape[2]
    ids = scratch_i[:, :S]
    nr_ord = scratch_i[:, S:2 * S]
    nr_t = scratch_f[:, :S]
    nr_d = scratch_f[:, S:2 * S]
    res = scratch_f[:, 2 * S:]
    res[b, 6] = t[b] * cfg[C_DT]
    for r in range(rows.shape[0]):
        for c in range(cols.shape[0]):
            _insert(b, rows[r], cols[c], of, oi, vf, vi, ri, rf, zones, speed, cfg, perm_tab, perm_start, ids,
                    nr_ord, nr_t, nr_d, res)
            out[r, c, P_ETA] = res[b, 0] / 60.0
            out[r, c, P_ADDED] = res[b, 1]
            out[r, c, P_LATE] = res[b, 2]
            out[r, c, P_DIST] = res[b, 3]
            out[r, c, P_REWARD] = res[b, 4]


@njit(cache=True)
def pair_values_list(b, prow, pcol, t, of, oi, vf, vi, ri, rf, zones, speed, cfg, perm_tab, perm_start,
                     scratch_i, scratch_f, out):
    """:func:`pair_values` on a list of pairs: ``out[n, :]`` for vehicle ``prow[n]`` and order ``pcol[n]``
    (the pruned candidate pairs of the dispatch policies; same arithmetic, so the same bits)."""
    S = ri.shape[2]
    ids = scratch_i[:, :S]
    nr_ord = scratch_i[:, S:2 * S]
    nr_t = scratch_f[:, :S]
    nr_d = scratch_f[:, S:2 * S]
    res = scratch_f[:, 2 * S:]
    res[b, 6] = t[b] * cfg[C_DT]
    for n in range(prow.shape[0]):
        _insert(b, prow[n], pcol[n], of, oi, vf, vi, ri, rf, zones, speed, cfg, perm_tab, perm_start, ids,
                nr_ord, nr_t, nr_d, res)
        out[n, P_ETA] = res[b, 0] / 60.0
        out[n, P_ADDED] = res[b, 1]
        out[n, P_LATE] = res[b, 2]
        out[n, P_DIST] = res[b, 3]
        out[n, P_REWARD] = res[b, 4]


@njit(cache=True)
def eta_matrix(b, rows, cols, t, of, oi, vf, vi, zones, speed, cfg, out):
    """``out[r, c]`` = pickup ETA (min) of vehicle ``rows[r]`` to order ``cols[c]`` at t_k: the first leg
    of :func:`_insert` alone (no drop-off permutations), bit-identical to ``pair_values``' ETA."""
    tk = t[b] * cfg[C_DT]
    for r in range(rows.shape[0]):
        i = rows[r]
        x, y, z = vf[b, i, X], vf[b, i, Y], vi[b, i, ZONE]
        for c in range(cols.shape[0]):
            j = cols[c]
            eta, _ = _leg(x, y, z, of[b, j, PX], of[b, j, PY], oi[b, j, ZO], tk, False, zones, speed, cfg)
            out[r, c] = eta / 60.0


@njit(cache=True)
def topk_rows(eta, k, out):
    """``out[c, :k']`` = the k' = min(k, E) rows of least ``eta[:, c]`` per column, ascending (ties → lower
    row). A bounded insertion list per column: O(E·M) reads plus O(k) per accepted row."""
    E, M = eta.shape
    kk = min(k, E)
    for c in range(M):
        n = 0
        for r in range(E):
            v = eta[r, c]
            if n == kk:
                if v >= eta[out[c, kk - 1], c]:
                    continue
                pos = kk - 1
            else:
                pos = n
                n += 1
            while pos > 0 and eta[out[c, pos - 1], c] > v:
                out[c, pos] = out[c, pos - 1]
                pos -= 1
            out[c, pos] = r


@njit(cache=True, inline="always")
def _move(b, i, tend, of, oi, vf, vi, ri, rf, stats, zones):
    """Move vehicle i to time ``tend``: every stop planned at or before it happens, in route order."""
    S = ri.shape[2]
    while vi[b, i, NSTOP] > 0 and rf[b, i, 0, R_TIME] <= tend:
        vf[b, i, KM] += vf[b, i, LEGD] * (1.0 - vf[b, i, FRAC])
        stats[b, S_KM] += vf[b, i, LEGD] * (1.0 - vf[b, i, FRAC])
        j = ri[b, i, 0, R_ORDER]
        when = rf[b, i, 0, R_TIME]
        if ri[b, i, 0, R_KIND] == PICK:
            x, y = of[b, j, PX], of[b, j, PY]
            oi[b, j, STATUS] = PICKED
            of[b, j, T_PICK] = when
        else:
            x, y = of[b, j, QX], of[b, j, QY]
            oi[b, j, STATUS] = DONE
            of[b, j, T_DROP] = when
            vi[b, i, LOAD] -= 1
            total = (when - of[b, j, T_ASSIGN]) / 60.0
            stats[b, S_DONE] += 1.0
            stats[b, S_DELIVERY] += total
            stats[b, S_DETOUR] += total - (of[b, j, ETA] + of[b, j, DIRECT]) / 60.0
        n = vi[b, i, NSTOP] - 1
        for s in range(n):
            ri[b, i, s, R_ORDER] = ri[b, i, s + 1, R_ORDER]
            ri[b, i, s, R_KIND] = ri[b, i, s + 1, R_KIND]
            rf[b, i, s, R_TIME] = rf[b, i, s + 1, R_TIME]
            rf[b, i, s, R_LEGD] = rf[b, i, s + 1, R_LEGD]
        for s in range(n, S):
            ri[b, i, s, R_ORDER] = -1
        vi[b, i, NSTOP] = n
        vf[b, i, X], vf[b, i, Y] = x, y
        vf[b, i, FX], vf[b, i, FY], vf[b, i, T0] = x, y, when
        vf[b, i, FRAC] = 0.0
        vf[b, i, LEGD] = rf[b, i, 0, R_LEGD] if n > 0 else 0.0
    if vi[b, i, NSTOP] > 0:
        j = ri[b, i, 0, R_ORDER]
        if ri[b, i, 0, R_KIND] == PICK:
            tx, ty = of[b, j, PX], of[b, j, PY]
        else:
            tx, ty = of[b, j, QX], of[b, j, QY]
        dur = rf[b, i, 0, R_TIME] - vf[b, i, T0]
        f = (tend - vf[b, i, T0]) / dur if dur > 0.0 else 1.0
        f = min(max(f, 0.0), 1.0)
        done = vf[b, i, LEGD] * (f - vf[b, i, FRAC])
        vf[b, i, KM] += done
        stats[b, S_KM] += done
        vf[b, i, FRAC] = f
        vf[b, i, X] = vf[b, i, FX] + (tx - vf[b, i, FX]) * f
        vf[b, i, Y] = vf[b, i, FY] + (ty - vf[b, i, FY]) * f
    vi[b, i, ZONE] = nearest_zone(vf[b, i, X], vf[b, i, Y], zones)


@njit(cache=True, inline="always")
def _refresh(b, t, of, oi, n_orders, head, vi, ri, vis, elig, stats, cfg):
    """Start of epoch t[b]: expire orders older than W epochs, list the oldest O_max pending orders
    (index order = FCFS) and the eligible vehicles (spec §2.3, §2.6 steps 1–3)."""
    k = t[b]
    terminal = k >= cfg[C_K]
    W = cfg[C_W]
    h = head[b]
    while h < n_orders[b] and oi[b, h, STATUS] != WAIT:
        h += 1
    head[b] = h
    cnt, pend = 0, 0
    n_slots = vis.shape[1]
    for idx in range(h, n_orders[b]):
        if oi[b, idx, REVEAL] > k:
            break
        if oi[b, idx, STATUS] != WAIT:
            continue
        if not terminal and k - oi[b, idx, REVEAL] >= W:
            oi[b, idx, STATUS] = LOST
            stats[b, S_LOST] += 1.0
            continue
        pend += 1
        if cnt < n_slots:
            vis[b, cnt] = idx
            cnt += 1
    for c in range(cnt, n_slots):
        vis[b, c] = -1
    stats[b, S_PENDING] = pend
    stats[b, S_OVERFLOW] = pend - cnt
    C = cfg[C_CAP]
    for i in range(vi.shape[1]):
        load = vi[b, i, LOAD]
        pickup = vi[b, i, NSTOP] > 0 and ri[b, i, 0, R_KIND] == PICK
        if cfg[C_POOL] > 0.0:
            elig[b, i] = load < C and not pickup
        else:
            elig[b, i] = load == 0


@njit(cache=True, inline="always")
def _advance_env(b, active, t, of, oi, n_orders, head, vf, vi, ri, rf, vis, elig, stats, zones, cfg):
    if not active[b]:
        return
    tend = (t[b] + 1) * cfg[C_DT]
    for i in range(vi.shape[1]):
        _move(b, i, tend, of, oi, vf, vi, ri, rf, stats, zones)
    t[b] += 1
    if t[b] >= cfg[C_K] and cfg[C_DRAIN] > 0.0:
        for i in range(vi.shape[1]):
            _move(b, i, np.inf, of, oi, vf, vi, ri, rf, stats, zones)
    _refresh(b, t, of, oi, n_orders, head, vi, ri, vis, elig, stats, cfg)


@njit(cache=True)
def advance_serial(active, t, of, oi, n_orders, head, vf, vi, ri, rf, vis, elig, stats, zones, cfg):
    """Move every active env from t_k to t_k + Δ and prepare epoch k + 1 (spec §2.6 steps 6–7, 1–3)."""
    for b in range(t.shape[0]):
        _advance_env(b, active, t, of, oi, n_orders, head, vf, vi, ri, rf, vis, elig, stats, zones, cfg)


@njit(cache=True, parallel=True)
def advance_parallel(active, t, of, oi, n_orders, head, vf, vi, ri, rf, vis, elig, stats, zones, cfg):
    """:func:`advance_serial` with envs spread over the cores."""
    for b in prange(t.shape[0]):
        _advance_env(b, active, t, of, oi, n_orders, head, vf, vi, ri, rf, vis, elig, stats, zones, cfg)


@njit(cache=True)
def refresh_all(t, of, oi, n_orders, head, vi, ri, vis, elig, stats, cfg):
    for b in range(t.shape[0]):
        _refresh(b, t, of, oi, n_orders, head, vi, ri, vis, elig, stats, cfg)


@njit(cache=True, inline="always")
def _observe_env(b, t, of, oi, vf, vi, ri, rf, vis, cfg, mean_r, veh, vmask, orders, omask, tnow, onboard):
    """Per-vehicle features u_i (8 + 5C, OSPO layout of spec §4), visible order features (5), masks and
    the episode clock. Orders no longer waiting (just assigned: the post-decision view) are masked."""
    Tn = cfg[C_TN]
    C = int(cfg[C_CAP])
    tk = t[b] * cfg[C_DT]
    xm, xr, ym, yr = cfg[C_XMIN], cfg[C_XR], cfg[C_YMIN], cfg[C_YR]
    for i in range(vi.shape[1]):
        load = vi[b, i, LOAD]
        pickup = vi[b, i, NSTOP] > 0 and ri[b, i, 0, R_KIND] == PICK
        ok = (load < C and not pickup) if cfg[C_POOL] > 0.0 else load == 0
        for f in range(veh.shape[2]):
            veh[b, i, f] = 0.0
        veh[b, i, 0] = (vf[b, i, X] - xm) / xr
        veh[b, i, 1] = (vf[b, i, Y] - ym) / yr
        veh[b, i, 2] = (C - load) / C
        if pickup:
            veh[b, i, 3] = (rf[b, i, 0, R_TIME] - tk) / 60.0 / Tn
        veh[b, i, 4] = 0.0 if ok else 1.0
        veh[b, i, 5] = tk / 60.0 / Tn
        veh[b, i, 6] = vf[b, i, RCUM] / 10.0
        veh[b, i, 7] = mean_r[b] / 10.0
        vmask[b, i] = 1.0 if ok else 0.0
        # on-board block, ordered by assignment time then id
        m = 0
        for s in range(vi[b, i, NSTOP]):
            if ri[b, i, s, R_KIND] == DROP:
                onboard[b, m] = ri[b, i, s, R_ORDER]
                m += 1
        for a in range(1, m):
            key = onboard[b, a]
            c = a - 1
            while c >= 0 and (of[b, onboard[b, c], T_ASSIGN] > of[b, key, T_ASSIGN] or (
                    of[b, onboard[b, c], T_ASSIGN] == of[b, key, T_ASSIGN] and onboard[b, c] > key)):
                onboard[b, c + 1] = onboard[b, c]
                c -= 1
            onboard[b, c + 1] = key
        for s in range(min(m, C)):
            k = onboard[b, s]
            base = 8 + 5 * s
            total = (of[b, k, PLAN_DROP] - of[b, k, T_ASSIGN]) / 60.0
            veh[b, i, base] = (of[b, k, QX] - xm) / xr
            veh[b, i, base + 1] = (of[b, k, QY] - ym) / yr
            veh[b, i, base + 2] = (of[b, k, PLAN_DROP] - tk) / 60.0 / Tn
            veh[b, i, base + 3] = total / Tn
            veh[b, i, base + 4] = (total - (of[b, k, ETA] + of[b, k, DIRECT]) / 60.0) / Tn
    for c in range(vis.shape[1]):
        j = vis[b, c]
        for f in range(orders.shape[2]):
            orders[b, c, f] = 0.0
        if j < 0 or oi[b, j, STATUS] != WAIT:
            omask[b, c] = 0.0
            continue
        omask[b, c] = 1.0
        orders[b, c, 0] = (of[b, j, PX] - xm) / xr
        orders[b, c, 1] = (of[b, j, PY] - ym) / yr
        orders[b, c, 2] = (of[b, j, QX] - xm) / xr
        orders[b, c, 3] = (of[b, j, QY] - ym) / yr
        orders[b, c, 4] = oi[b, j, REVEAL] * cfg[C_DT] / 60.0 / Tn
    tnow[b, 0] = t[b] / cfg[C_K]


@njit(cache=True)
def observe_serial(t, of, oi, vf, vi, ri, rf, vis, cfg, mean_r, veh, vmask, orders, omask, tnow, onboard):
    for b in range(t.shape[0]):
        _observe_env(b, t, of, oi, vf, vi, ri, rf, vis, cfg, mean_r, veh, vmask, orders, omask, tnow, onboard)


@njit(cache=True, parallel=True)
def observe_parallel(t, of, oi, vf, vi, ri, rf, vis, cfg, mean_r, veh, vmask, orders, omask, tnow, onboard):
    for b in prange(t.shape[0]):
        _observe_env(b, t, of, oi, vf, vi, ri, rf, vis, cfg, mean_r, veh, vmask, orders, omask, tnow, onboard)
