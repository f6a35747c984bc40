"""The numba DRAM controller + device simulator (spec ``dram.md`` §2.3–§2.8, build notes §9.1).

One call runs a whole trace through one controller configuration (the 10 knobs of §2.2) and writes a
fixed-size record of counters (``R_*`` columns); :func:`simulate_batch` runs many configurations of one
trace, in parallel across configurations (``prange``), never within one simulation.

Model (one channel, one rank, BL8; time in integer controller cycles of tCK, commands on tCK boundaries):

* **player** — request i is offered at s_i = max(arrival_i, a_{i−1} + 1) (one outstanding request, at most
  one admission per cycle); a_i is its acceptance cycle.
* **arbiter** — Simple: accepted straight into the scheduler buffer when it has room. Room follows DRAMSys's
  buffer counters (the source of every reference value of the spec): Bankwise — the bank of the *last stored*
  request holds < RBS (DRAMSys withholds END_REQ of a request until its own bank has space again, so at RBS 1
  requests enter one at a time); Shared — total < RBS; ReadWrite — reads < RBS and writes < RBS. Fifo/Reorder:
  accepted into a FIFO while in-flight < MAT, whose head is forwarded to the buffer when it has room
  (accept and forward may happen in the same cycle).
* **scheduler** — per-bank queues in acceptance order. Fifo: the head. FrFcfs: the oldest row hit, else the
  oldest. FrFcfsGrp: the oldest row hit of the last issued column type without an older same-address request,
  else the oldest hit, else the oldest.
* **page policy** — Open / Closed / OpenAdaptive / ClosedAdaptive choose RD/WR or RDA/WRA for a hit (§2.5);
  a miss on an open bank gives PRE, a closed bank ACT.
* **timing** — earliest-time registers per bank (ACT, PRE, RD, WR), per bank group (ACT, RD, WR: the _L
  values) and per rank (ACT, RD, WR, REFA: the _S values, RD↔WR turnaround), a 4-ACT tFAW window and a
  one-command-per-cycle bus (§3.1). Read bursts end RL + BL/2 after the RD, writes WL + BL/2 after the WR; the
  turnaround rules keep bursts in issue order, so completions are monotone in issue order.
* **command mux (Oldest)** — refresh first (it blocks every bank while pending), else the legal candidate
  whose request is oldest.
* **refresh** — all-bank with postpone / pull-in exactly as §2.6 (state Regular/PulledIn, flexibility f).
* **responses** — RespQueue Fifo delivers at completion; RespQueue Reorder or arbiter Reorder deliver in
  request order (delivery_i = max(completion_i, delivery_{i−1})). A delivery frees an in-flight slot.
* **event skipping** — after a cycle in which nothing happened, time jumps to the next cycle at which
  anything can: the next offer, the earliest legal candidate, the refresh trigger, or (when the arbiter is
  blocked by MAT) the next delivery. This does not change results.
* **counters** — ACT, PRE (explicit, implicit from RDA/WRA, banks closed by PREA), RD, WR, REFA, the time
  with ≥1 bank open (an auto-precharged bank counts as open until its implicit precharge), row hits /
  misses / conflicts (Ramulator 2 classes), per-request latency (delivery − player issue time).

The simulation ends when the last column command has issued; the makespan is the end of the last data
burst. Energies are computed from the counters in :mod:`opsrl.envs.dram.simulator`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from opsrl.envs.dram.devices import (
    BL2,
    N_BANKS,
    N_GROUPS,
    RD2WR,
    RL,
    TCCD_L,
    TCCD_S,
    TCK_PS,
    TFAW,
    TRAS,
    TRC,
    TRCD,
    TREFI,
    TRFC,
    TRP,
    TRRD_L,
    TRRD_S,
    TRTP,
    TWR,
    TWTR_L,
    TWTR_S,
    WL,
)

# knob positions (agent order of spec §2.2) and their index encodings
K_PAGE, K_SCHED, K_SBUF, K_RBS, K_RESP, K_REFRESH, K_POSTPONED, K_PULLEDIN, K_ARBITER, K_MAT = range(10)
OPEN, OPEN_ADAPTIVE, CLOSED, CLOSED_ADAPTIVE = 0, 1, 2, 3
S_FIFO, S_FRFCFS_GRP, S_FRFCFS = 0, 1, 2
BANKWISE, READWRITE, SHARED = 0, 1, 2
A_SIMPLE, A_FIFO, A_REORDER = 0, 1, 2

# command codes
ACT, PRE, RD, WR, RDA, WRA = 0, 1, 2, 3, 4, 5
# record columns
(R_CYCLES, R_ACT, R_PRE, R_RD, R_WR, R_REF, R_ACTIVE, R_LAT_MEAN_PS, R_LAT_P99_PS, R_SERVICE_MEAN_PS, R_HITS,
 R_MISSES, R_CONFLICTS, R_STATUS, R_EVENTS) = range(15)
RECORD_WIDTH = 15

OK, TOO_MANY_EVENTS, DEADLOCK, BAD_KNOB = 0, 1, 2, 3
NSIZES = np.array([4, 3, 3, 8, 2, 2, 4, 4, 3, 8], dtype=np.int64)
INF = 1 << 60
NEG = -(1 << 40)


@njit(cache=True)
def _run(arr_cyc, arr_ps, bank, row, col, is_wr, brid, bank_group, tim, knobs, out):
    """Simulate one configuration; write its record into ``out`` (length RECORD_WIDTH).

    ``brid[i]`` is a dense id of request i's (bank, row) pair: the number of queued requests hitting an open
    row is then one counter, kept per pair, instead of a scan of the bank queue."""
    for k in range(RECORD_WIDTH):
        out[k] = 0.0
    for k in range(10):
        if knobs[k] < 0 or knobs[k] >= NSIZES[k]:
            out[R_STATUS] = BAD_KNOB
            return
    n = arr_cyc.shape[0]
    nb = tim[N_BANKS]
    ng = tim[N_GROUPS]
    rl, wl, bl2 = tim[RL], tim[WL], tim[BL2]
    trcd, trp, tras, trc = tim[TRCD], tim[TRP], tim[TRAS], tim[TRC]
    tccd_s, tccd_l, trrd_s, trrd_l, tfaw = tim[TCCD_S], tim[TCCD_L], tim[TRRD_S], tim[TRRD_L], tim[TFAW]
    twr, trtp, twtr_s, twtr_l = tim[TWR], tim[TRTP], tim[TWTR_S], tim[TWTR_L]
    trfc, trefi, rd2wr = tim[TRFC], tim[TREFI], tim[RD2WR]
    wr_to_pre = wl + bl2 + twr
    wr_to_rd_s = wl + bl2 + twtr_s
    wr_to_rd_l = wl + bl2 + twtr_l

    page = knobs[K_PAGE]
    sched = knobs[K_SCHED]
    sbuf = knobs[K_SBUF]
    rbs = np.int64(1) << knobs[K_RBS]
    refresh_on = knobs[K_REFRESH] == 1
    max_post = np.int64(1) << knobs[K_POSTPONED]
    max_pull = np.int64(1) << knobs[K_PULLEDIN]
    arb = knobs[K_ARBITER]
    mat = np.int64(1) << knobs[K_MAT]
    in_order = knobs[K_RESP] == 1 or arb == A_REORDER

    # Bankwise and Shared hold at most RBS per bank, ReadWrite RBS reads plus RBS writes
    qcap = 2 * rbs if sbuf == READWRITE else rbs
    qmask = qcap - 1  # capacities are powers of two: per-bank ring buffers
    queue = np.empty((nb, qcap), dtype=np.int64)
    qhead = np.zeros(nb, dtype=np.int64)
    qlen = np.zeros(nb, dtype=np.int64)
    pair_cnt = np.zeros(n, dtype=np.int64)  # queued requests per (bank, row) pair
    b_pair = np.zeros(nb, dtype=np.int64)  # pair id of the open row of each bank
    q_total = 0
    q_reads = 0
    q_writes = 0

    b_open = np.zeros(nb, dtype=np.bool_)
    b_row = np.zeros(nb, dtype=np.int64)
    b_next = np.zeros((nb, 4), dtype=np.int64)  # earliest ACT, PRE, RD, WR per bank
    b_act_t = np.zeros(nb, dtype=np.int64)
    b_close = np.full(nb, INF, dtype=np.int64)  # pending implicit precharge (RDA/WRA) for the energy clock
    g_next = np.zeros((ng, 3), dtype=np.int64)  # earliest ACT, RD, WR per bank group (the _L timings)
    r_act = 0
    r_rd = 0
    r_wr = 0
    r_ref = 0
    faw = np.full(4, NEG, dtype=np.int64)
    faw_i = 0
    cmd_next = 0

    cand_req = np.full(nb, -1, dtype=np.int64)
    cand_cmd = np.zeros(nb, dtype=np.int64)
    e_local = np.zeros(nb, dtype=np.int64)  # bank-level earliest time of the candidate (changes only when dirty)
    dirty = np.ones(nb, dtype=np.bool_)
    grouped = ng > 1  # DDR3 has no bank groups: its _L timings equal the rank-level _S ones
    # after a command on a bank, that bank's next command is at least this much later (event skipping)
    lb_after = np.empty(6, dtype=np.int64)
    lb_after[ACT] = trcd
    lb_after[PRE] = trp
    lb_after[RD] = min(min(tccd_s, trtp), rd2wr)
    lb_after[WR] = min(min(tccd_s, wr_to_rd_s), wr_to_pre)
    lb_after[RDA] = trp
    lb_after[WRA] = trp

    ready = np.full(n, -1, dtype=np.int64)
    accept = np.zeros(n, dtype=np.int64)
    cls = np.zeros(n, dtype=np.int8)  # 0 hit, 1 miss (needed ACT), 2 conflict (needed PRE + ACT)
    issue_order = np.empty(n, dtype=np.int64)
    n_issued = 0
    resp_head = 0  # Fifo delivery: next in issue order
    next_del = 0  # in-order delivery: next request index
    in_flight = 0

    i_next = 0
    last_acc = -1
    last_bank = -1  # bank of the last stored request: DRAMSys's Bankwise counter checks its occupancy
    arb_head = 0
    last_wr = 0

    ref_state = 0  # 0 Regular, 1 PulledIn
    flex = 0
    ref_trigger = trefi
    ref_pending = False

    n_open = 0
    active_start = 0
    active = 0
    min_close = INF
    n_act = 0
    n_pre = 0
    n_rd = 0
    n_wr = 0
    n_ref = 0

    t = 0
    events = 0
    limit = 200 * n + 10_000_000
    status = OK
    while True:
        events += 1
        if events > limit:
            status = TOO_MANY_EVENTS
            break
        # energy clock: implicit precharges that happened by now, in time order
        if t >= min_close:
            while True:
                m = INF
                bb = -1
                for b in range(nb):
                    if b_close[b] < m:
                        m = b_close[b]
                        bb = b
                if m > t:
                    min_close = m
                    break
                b_close[bb] = INF
                n_open -= 1
                if n_open == 0:
                    active += m - active_start
        # 1. responses (they only matter while the arbiter counts in-flight transactions)
        if arb != A_SIMPLE:
            if in_order:
                while next_del < n and ready[next_del] >= 0 and ready[next_del] <= t:
                    next_del += 1
                    in_flight -= 1
            else:
                while resp_head < n_issued and ready[issue_order[resp_head]] <= t:
                    resp_head += 1
                    in_flight -= 1
        # 2. refresh evaluation (spec §2.6)
        if refresh_on and not ref_pending and t >= ref_trigger:
            if t >= ref_trigger + trefi:
                ref_trigger += trefi
                ref_state = 0
            busy = q_total > 0
            if ref_state == 0:
                if flex == max_post:
                    ref_pending = True
                elif busy:
                    flex += 1
                    ref_trigger += trefi
                else:
                    ref_pending = True
            else:
                if busy:
                    ref_state = 0
                    ref_trigger += trefi
                else:
                    ref_pending = True
        # 3. admission with back-pressure
        progressed = False  # something happened that may enable more at t + 1
        issued_lb = INF  # lower bound on the next command of the bank just served
        column_issued = False
        if arb == A_SIMPLE:
            if i_next < n:
                s = max(arr_cyc[i_next], last_acc + 1)
                r = i_next
                if s <= t:
                    b = bank[r]
                    if sbuf == BANKWISE:
                        room = last_bank < 0 or qlen[last_bank] < rbs
                    elif sbuf == SHARED:
                        room = q_total < rbs
                    else:
                        room = q_reads < rbs and q_writes < rbs
                    if room:
                        last_bank = b
                        queue[b, (qhead[b] + qlen[b]) & qmask] = r
                        qlen[b] += 1
                        pair_cnt[brid[r]] += 1
                        q_total += 1
                        if is_wr[r]:
                            q_writes += 1
                        else:
                            q_reads += 1
                        dirty[b] = True
                        accept[r] = t
                        last_acc = t
                        i_next += 1
                        progressed = True
        else:
            if i_next < n and in_flight < mat:
                s = max(arr_cyc[i_next], last_acc + 1)
                if s <= t:
                    accept[i_next] = t
                    last_acc = t
                    i_next += 1
                    in_flight += 1
                    progressed = True
            if arb_head < i_next:
                r = arb_head
                b = bank[r]
                if sbuf == BANKWISE:
                    room = last_bank < 0 or qlen[last_bank] < rbs
                elif sbuf == SHARED:
                    room = q_total < rbs
                else:
                    room = q_reads < rbs and q_writes < rbs
                if room:
                    last_bank = b
                    queue[b, (qhead[b] + qlen[b]) & qmask] = r
                    qlen[b] += 1
                    pair_cnt[brid[r]] += 1
                    q_total += 1
                    if is_wr[r]:
                        q_writes += 1
                    else:
                        q_reads += 1
                    dirty[b] = True
                    arb_head += 1
                    progressed = True
        # 4-6. candidates, command mux, apply
        min_e = INF
        if ref_pending:
            any_open = False
            e = cmd_next
            for b in range(nb):
                if b_open[b]:
                    any_open = True
                    if b_next[b, 1] > e:
                        e = b_next[b, 1]
            if not any_open:
                e = max(cmd_next, r_ref)
            if e <= t:
                cmd_next = t + 1
                progressed = True
                if any_open:  # PREA
                    for b in range(nb):
                        if b_open[b]:
                            b_open[b] = False
                            n_pre += 1
                            n_open -= 1
                            if b_next[b, 0] < t + trp:
                                b_next[b, 0] = t + trp
                        dirty[b] = True
                    if n_open == 0:
                        active += t - active_start
                    r_ref = max(r_ref, t + trp)
                else:  # REFA
                    n_ref += 1
                    r_act = max(r_act, t + trfc)
                    r_ref = t + trfc
                    ref_pending = False
                    if ref_state == 1:
                        flex -= 1
                    else:
                        ref_state = 1
                    if flex == -max_pull:
                        ref_state = 0
                        ref_trigger += trefi
            else:
                min_e = e
        else:
            best_b = -1
            best_key = INF
            n_legal = 0
            rk_act = max(max(r_act, faw[faw_i] + tfaw), cmd_next)
            rk_rd = max(r_rd, cmd_next)
            rk_wr = max(r_wr, cmd_next)
            for b in range(nb):
                if qlen[b] == 0:
                    continue
                if dirty[b]:
                    dirty[b] = False
                    L = qlen[b]
                    h = qhead[b]
                    r = queue[b, h]
                    is_open = b_open[b]
                    orow = b_row[b]
                    nh = pair_cnt[b_pair[b]] if is_open else 0
                    if is_open and nh > 0 and sched != S_FIFO:
                        if sched == S_FRFCFS:
                            if row[r] != orow:
                                for j in range(1, L):
                                    q = queue[b, (h + j) & qmask]
                                    if row[q] == orow:
                                        r = q
                                        break
                        else:  # FrFcfsGrp: a hit of the last column type without an older same-address request
                            first_hit = -1
                            for j in range(L):
                                q = queue[b, (h + j) & qmask]
                                if row[q] != orow:
                                    continue
                                if first_hit < 0:
                                    first_hit = q
                                if is_wr[q] == last_wr:
                                    hazard = False
                                    for k in range(j):
                                        p = queue[b, (h + k) & qmask]
                                        if row[p] == orow and col[p] == col[q]:
                                            hazard = True
                                            break
                                    if not hazard:
                                        first_hit = -2 - q
                                        break
                            r = -2 - first_hit if first_hit <= -2 else first_hit
                    cand_req[b] = r
                    if not is_open:
                        cand_cmd[b] = ACT
                    elif row[r] != orow:
                        cand_cmd[b] = PRE
                    else:
                        if page == OPEN:
                            auto = False
                        elif page == CLOSED:
                            auto = True
                        elif page == OPEN_ADAPTIVE:
                            auto = L > 1 and nh == 1
                        else:
                            auto = nh == 1
                        if is_wr[r]:
                            cand_cmd[b] = WRA if auto else WR
                        else:
                            cand_cmd[b] = RDA if auto else RD
                    c = cand_cmd[b]
                    if c == ACT:
                        e_local[b] = b_next[b, 0]
                    elif c == PRE:
                        e_local[b] = b_next[b, 1]
                    elif c == RD or c == RDA:
                        e_local[b] = b_next[b, 2]
                    else:
                        e_local[b] = b_next[b, 3]
                c = cand_cmd[b]
                e = e_local[b]
                if c == ACT:
                    x = rk_act
                    if grouped:
                        x = max(x, g_next[bank_group[b], 0])
                elif c == PRE:
                    x = cmd_next
                elif c == RD or c == RDA:
                    x = rk_rd
                    if grouped:
                        x = max(x, g_next[bank_group[b], 1])
                else:
                    x = rk_wr
                    if grouped:
                        x = max(x, g_next[bank_group[b], 2])
                if x > e:
                    e = x
                if e <= t:
                    n_legal += 1
                    if cand_req[b] < best_key:
                        best_key = cand_req[b]
                        best_b = b
                elif e < min_e:
                    min_e = e
            if best_b >= 0:
                b = best_b
                r = cand_req[b]
                c = cand_cmd[b]
                g = bank_group[b]
                cmd_next = t + 1
                if n_legal > 1:
                    progressed = True
                issued_lb = t + lb_after[c]
                dirty[b] = True
                if c == ACT:
                    b_open[b] = True
                    b_row[b] = row[r]
                    b_act_t[b] = t
                    b_pair[b] = brid[r]
                    b_next[b, 0] = max(b_next[b, 0], t + trc)
                    b_next[b, 1] = max(b_next[b, 1], t + tras)
                    b_next[b, 2] = max(b_next[b, 2], t + trcd)
                    b_next[b, 3] = max(b_next[b, 3], t + trcd)
                    g_next[g, 0] = max(g_next[g, 0], t + trrd_l)
                    r_act = max(r_act, t + trrd_s)
                    r_ref = max(r_ref, t + trc)
                    faw[faw_i] = t
                    faw_i = (faw_i + 1) & 3
                    n_act += 1
                    if cls[r] == 0:
                        cls[r] = 1
                    if n_open == 0:
                        active_start = t
                    n_open += 1
                elif c == PRE:
                    b_open[b] = False
                    b_next[b, 0] = max(b_next[b, 0], t + trp)
                    r_ref = max(r_ref, t + trp)
                    n_pre += 1
                    cls[r] = 2
                    n_open -= 1
                    if n_open == 0:
                        active += t - active_start
                else:
                    # remove r from the ring: shift the (few) older entries up by one, advance the head
                    h = qhead[b]
                    pos = 0
                    while queue[b, (h + pos) & qmask] != r:
                        pos += 1
                    for j in range(pos, 0, -1):
                        queue[b, (h + j) & qmask] = queue[b, (h + j - 1) & qmask]
                    qhead[b] = (h + 1) & qmask
                    qlen[b] -= 1
                    pair_cnt[brid[r]] -= 1
                    q_total -= 1
                    w = is_wr[r]
                    if w:
                        q_writes -= 1
                        b_next[b, 1] = max(b_next[b, 1], t + wr_to_pre)
                        g_next[g, 2] = max(g_next[g, 2], t + tccd_l)
                        g_next[g, 1] = max(g_next[g, 1], t + wr_to_rd_l)
                        r_wr = max(r_wr, t + tccd_s)
                        r_rd = max(r_rd, t + wr_to_rd_s)
                        ready[r] = t + wl + bl2
                        n_wr += 1
                    else:
                        q_reads -= 1
                        b_next[b, 1] = max(b_next[b, 1], t + trtp)
                        g_next[g, 1] = max(g_next[g, 1], t + tccd_l)
                        r_rd = max(r_rd, t + tccd_s)
                        r_wr = max(r_wr, t + rd2wr)
                        ready[r] = t + rl + bl2
                        n_rd += 1
                    if c == RDA or c == WRA:
                        pre_t = max(t + (wr_to_pre if w else trtp), b_act_t[b] + tras)
                        b_next[b, 0] = max(b_next[b, 0], pre_t + trp)
                        r_ref = max(r_ref, pre_t + trp)
                        b_open[b] = False
                        n_pre += 1
                        b_close[b] = pre_t
                        if pre_t < min_close:
                            min_close = pre_t
                    issue_order[n_issued] = r
                    n_issued += 1
                    column_issued = True
                    if sched == S_FRFCFS_GRP and last_wr != w:
                        last_wr = w
                        progressed = True  # every bank's choice may change
                        for bb in range(nb):
                            dirty[bb] = True
                    last_wr = w
                    if n_issued == n:
                        break
        # 7. advance: to t + 1 if more may happen now, else to a lower bound of the next event. Waiting times only
        # grow when a command issues, so the earliest times found by the scan stay valid lower bounds.
        if progressed:
            t += 1
            continue
        nt = min(min_e, issued_lb)
        if i_next < n:
            s = max(arr_cyc[i_next], last_acc + 1)
            if s > t or column_issued:  # a column command frees buffer room for the waiting request
                s = max(s, t + 1)
                if s < nt:
                    nt = s
        if column_issued and arb_head < i_next:
            nt = t + 1
        if refresh_on and not ref_pending and ref_trigger < nt:
            nt = ref_trigger
        if arb != A_SIMPLE and in_flight >= mat:
            if in_order:
                if next_del < n and ready[next_del] >= 0 and ready[next_del] < nt:
                    nt = ready[next_del]
            elif resp_head < n_issued and ready[issue_order[resp_head]] < nt:
                nt = ready[issue_order[resp_head]]
        if nt >= INF:
            status = DEADLOCK
            break
        t = max(nt, t + 1)

    if status != OK:
        out[R_STATUS] = status
        out[R_EVENTS] = events
        return
    tck = tim[TCK_PS]
    makespan = 0
    for r in range(n):
        if ready[r] > makespan:
            makespan = ready[r]
    # close the energy clock at the makespan
    while True:
        m = INF
        bb = -1
        for b in range(nb):
            if b_close[b] < m:
                m = b_close[b]
                bb = b
        if m > makespan:
            break
        b_close[bb] = INF
        n_open -= 1
        if n_open == 0:
            active += m - active_start
    if n_open > 0:
        active += makespan - active_start
    # per-request latency: delivery − player issue time (includes back-pressure wait)
    lat = np.empty(n, dtype=np.int64)
    lat_sum = 0.0
    serv_sum = 0.0
    prev = 0
    hits = 0
    misses = 0
    for r in range(n):
        d = ready[r]
        if in_order and prev > d:
            d = prev
        prev = d
        lat[r] = d * tck - arr_ps[r]
        lat_sum += lat[r]
        serv_sum += (d - accept[r]) * tck
        if cls[r] == 0:
            hits += 1
        elif cls[r] == 1:
            misses += 1
    k99 = (99 * n + 99) // 100 - 1  # nearest rank: ceil(0.99 n) − 1
    part = np.partition(lat, k99)
    out[R_CYCLES] = makespan
    out[R_ACT] = n_act
    out[R_PRE] = n_pre
    out[R_RD] = n_rd
    out[R_WR] = n_wr
    out[R_REF] = n_ref
    out[R_ACTIVE] = active
    out[R_LAT_MEAN_PS] = lat_sum / n
    out[R_LAT_P99_PS] = part[k99]
    out[R_SERVICE_MEAN_PS] = serv_sum / n
    out[R_HITS] = hits
    out[R_MISSES] = misses
    out[R_CONFLICTS] = n - hits - misses
    out[R_STATUS] = OK
    out[R_EVENTS] = events


@njit(cache=True)
def simulate_serial(arr_cyc, arr_ps, bank, row, col, is_wr, brid, bank_group, tim, knobs, out):
    """Records of configurations ``knobs[k]`` into ``out[k]``, one after another."""
    for k in range(knobs.shape[0]):
        _run(arr_cyc, arr_ps, bank, row, col, is_wr, brid, bank_group, tim, knobs[k], out[k])


@njit(cache=True, parallel=True)
def simulate_parallel(arr_cyc, arr_ps, bank, row, col, is_wr, brid, bank_group, tim, knobs, out):
    """As :func:`simulate_serial`, configurations spread over all cores."""
    for k in prange(knobs.shape[0]):
        _run(arr_cyc, arr_ps, bank, row, col, is_wr, brid, bank_group, tim, knobs[k], out[k])
