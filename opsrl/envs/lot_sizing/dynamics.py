"""Numba kernels of one period of the lot-sizing plant over a batch (spec ``lot_sizing.md`` §2.3), and a
plain NumPy transcription of the same step (test oracle and throughput yardstick).

State per env: ``inv[b, i]`` stock of item i at the start of the period (0..Imax_i), ``setup[b, m]`` the
item machine m is set up for (0 = idle), ``t[b]``, and the episode's demand ``demand[b, t, i]`` drawn at
reset. Order of events in a period:

1. **Action treatment** (deterministic, documented): a_m outside {0..I} means idle; in clean mode an item
   the machine cannot make (P[m, i] = 0, masked) means idle; with ``exclusive`` an item already taken by
   a lower-index machine this period means idle. Compatibility mode applies infeasible pairs as the
   reference does (setup paid, production 0 − Λ).
2. **Post-decision part**, machines in index order: a_m = 0 idles and loses the setup; a_m = k ≠ σ_m pays
   F[m, k] and loses Λ[m, k] units; the machine then makes P[m, k] units of k. Clean mode never lets a
   setup destroy stock (net batch max(P − Λ, 0)); compatibility mode keeps P − Λ < 0. The stock after
   production, I^x, is not capped.
3. **Demand**: I = I^x − d; a negative I is lost demand (cost ls per unit) and becomes 0; I above Imax
   is discarded for free; holding h per unit of the end stock.

Everything a step reports goes to one output buffer (one kernel call per step; numba's call cost grows
with the number of array arguments).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Batches at least this large are stepped on all cores. The per-env work is tiny (tens of ns), so thread
# barriers cost more than they save below very large batches on a shared 2-core machine (measured:
# 4,096 envs of pdppo_15x5 ran 3x faster serial than parallel under load).
PARALLEL_MIN_BATCH = 16_384

# columns of the output buffer: reward, the three costs, the post-decision reward −setup, then blocks of I columns
REWARD, C_SETUP, C_LOST, C_HOLD, R_POST, FIRST = 0, 1, 2, 3, 4, 5
OK, PAST_HORIZON = 0, 1
# entries of the int64 ``flags`` vector every kernel takes
F_COMPAT, F_EXCLUSIVE, F_SETUP, F_TIME, F_HORIZON = 0, 1, 2, 3, 4


def output_width(n_items: int) -> int:
    """reward, 3 costs, −setup, produced [I], lost units [I], disposed units [I], demand [I]."""
    return FIRST + 4 * n_items


def pack_tables(production, setup_loss, setup_cost, max_inventory, holding, lost_sales, obs_scale, compat,
                exclusive, with_setup, with_time, horizon):
    """The static data of an instance packed into the three arrays the kernels take (numba's call cost
    grows with the number of arguments, and the single env pays it every step).

    * ``itab`` int64 [M + 1, I + 1, 2]: ``itab[m, k] = (P[m, k-1], Λ[m, k-1])`` for m < M (column 0 is
      "idle": zeros); ``itab[M, k, 0] = Imax_{k-1}``.
    * ``ftab`` float64 [M + 3, I + 1]: ``ftab[m, k] = F[m, k-1]`` for m < M; row M holding h, row M + 1
      lost-sales cost ls, row M + 2 the observation's stock scale (all in columns 1..I).
    * ``flags`` int64 [5]: compat, exclusive, observe setup, observe time, horizon T.
    """
    n_mach, n_items = production.shape
    itab = np.zeros((n_mach + 1, n_items + 1, 2), dtype=np.int64)
    itab[:n_mach, 1:, 0], itab[:n_mach, 1:, 1] = production, setup_loss
    itab[n_mach, 1:, 0] = max_inventory
    ftab = np.zeros((n_mach + 3, n_items + 1))
    ftab[:n_mach, 1:] = setup_cost
    ftab[n_mach, 1:], ftab[n_mach + 1, 1:], ftab[n_mach + 2, 1:] = holding, lost_sales, obs_scale
    flags = np.array([compat, exclusive, with_setup, with_time, horizon], dtype=np.int64)
    return itab, ftab, flags


@njit(cache=True)
def _validate(t, demand, active):
    for b in range(t.shape[0]):
        if active[b] and t[b] >= demand.shape[1]:
            return PAST_HORIZON
    return OK


@njit(cache=True, inline="always")
def _setup_time_obs(b, setup, tb, ftab, flags, obs):
    """The setup one-hots and t/T of observation row ``b`` (the stock entries are written by the caller)."""
    n_items, n_mach = ftab.shape[1] - 1, setup.shape[1]
    k = n_items
    if flags[F_SETUP]:
        width = n_items + 1
        for j in range(n_mach * width):
            obs[b, k + j] = 0.0
        for m in range(n_mach):
            obs[b, k + m * width + setup[b, m]] = 1.0
        k += n_mach * width
    if flags[F_TIME]:
        obs[b, k] = tb / flags[F_HORIZON]


@njit(cache=True, inline="always")
def _period(b, inv, setup, t, demand, actions, active, itab, ftab, flags, out, post, applied, done):
    """One period of env ``b`` (the body shared by the serial and the parallel drivers). ``inv[b]`` holds
    the post-decision stock between the two parts, so no scratch memory is needed."""
    n_items, n_mach = inv.shape[1], setup.shape[1]
    prod0, lost0, disp0 = FIRST, FIRST + n_items, FIRST + 2 * n_items
    dem0 = FIRST + 3 * n_items
    scale = ftab[n_mach + 2]
    if not active[b]:
        for k in range(out.shape[1]):
            out[b, k] = 0.0
        for m in range(n_mach):
            applied[b, m] = 0
        done[b] = False
        for i in range(n_items):
            post[b, i] = inv[b, i] * scale[i + 1]
        _setup_time_obs(b, setup, t[b] - 1, ftab, flags, post)
        return
    compat, exclusive = flags[F_COMPAT], flags[F_EXCLUSIVE]
    for i in range(n_items):
        out[b, prod0 + i] = 0.0
    # 1-2. action treatment and the deterministic post-decision part, machines in index order
    setup_cost = 0.0
    for m in range(n_mach):
        a = actions[b, m]
        if a < 0 or a > n_items:
            a = 0
        if a > 0 and not compat and itab[m, a, 0] == 0:
            a = 0
        if a > 0 and exclusive:
            for j in range(m):
                if applied[b, j] == a:
                    a = 0
                    break
        applied[b, m] = a
        if a == 0:
            setup[b, m] = 0  # going idle loses the setup
            continue
        loss = 0
        if a != setup[b, m]:
            setup_cost += ftab[m, a]
            loss = itab[m, a, 1]
        net = itab[m, a, 0] - loss
        if net < 0 and not compat:
            net = 0
        setup[b, m] = a
        inv[b, a - 1] += net
        out[b, prod0 + a - 1] += net
    # 3. demand, lost sales, free disposal above the cap, holding
    tb = t[b]
    lost_cost = 0.0
    hold_cost = 0.0
    for i in range(n_items):
        x = inv[b, i]
        post[b, i] = x * scale[i + 1]
        d = demand[b, tb, i]
        y = x - d
        out[b, dem0 + i] = d
        out[b, lost0 + i] = 0.0
        out[b, disp0 + i] = 0.0
        if y < 0:
            out[b, lost0 + i] = -y
            lost_cost += ftab[n_mach + 1, i + 1] * (-y)
            y = 0
        else:
            cap = itab[n_mach, i + 1, 0]
            if y > cap:
                out[b, disp0 + i] = y - cap
                y = cap
        hold_cost += ftab[n_mach, i + 1] * y
        inv[b, i] = y
    _setup_time_obs(b, setup, tb, ftab, flags, post)
    out[b, C_SETUP] = setup_cost
    out[b, C_LOST] = lost_cost
    out[b, C_HOLD] = hold_cost
    out[b, R_POST] = -setup_cost
    out[b, REWARD] = -(setup_cost + lost_cost + hold_cost)
    t[b] = tb + 1
    done[b] = tb + 1 >= flags[F_HORIZON]


@njit(cache=True)
def step_serial(inv, setup, t, demand, actions, active, itab, ftab, flags, out, post, applied, done):
    """Step every active env once; returns ``OK`` or, touching nothing, an error code. Outputs: ``out``
    [B, width] float64 reward, costs and per-item records; ``post`` [B, obs_dim] float32 the post-decision
    observation (stock after production, not capped; the new setups; the decision's t); ``applied`` [B, M]
    int64 the actions after the documented treatment; ``done`` [B] bool terminated (t reached T)."""
    status = _validate(t, demand, active)
    if status != OK:
        return status
    for b in range(inv.shape[0]):
        _period(b, inv, setup, t, demand, actions, active, itab, ftab, flags, out, post, applied, done)
    return OK


@njit(cache=True, parallel=True)
def step_parallel(inv, setup, t, demand, actions, active, itab, ftab, flags, out, post, applied, done):
    """:func:`step_serial` with envs spread over the cores."""
    status = _validate(t, demand, active)
    if status != OK:
        return status
    for b in prange(inv.shape[0]):
        _period(b, inv, setup, t, demand, actions, active, itab, ftab, flags, out, post, applied, done)
    return OK


@njit(cache=True, inline="always")
def _obs_row(b, inv, setup, t, ftab, flags, out):
    scale = ftab[setup.shape[1] + 2]
    for i in range(inv.shape[1]):
        out[b, i] = inv[b, i] * scale[i + 1]
    _setup_time_obs(b, setup, t[b], ftab, flags, out)


@njit(cache=True)
def flat_observation(inv, setup, t, ftab, flags, out):
    """out[b] = [inventory·scale (I), one-hot setup per machine (M·(I+1)), t/T], float32."""
    for b in range(inv.shape[0]):
        _obs_row(b, inv, setup, t, ftab, flags, out)


@njit(cache=True, parallel=True)
def flat_observation_parallel(inv, setup, t, ftab, flags, out):
    for b in prange(inv.shape[0]):
        _obs_row(b, inv, setup, t, ftab, flags, out)


GUIDE_BINS = 256


def guide_table(cdf: np.ndarray, bins: int = GUIDE_BINS) -> np.ndarray:
    """guide[i, j] = min{k : cdf[i, k] >= j / bins}: where the search for a uniform in bin j starts."""
    grid = np.arange(bins) / bins
    return np.stack([np.searchsorted(row, grid, side="left") for row in cdf]).astype(np.int64)


@njit(cache=True, inline="always")
def _inverse_cdf_row(b, u, cdf, guide, out):
    top = cdf.shape[1] - 1
    bins = guide.shape[1]
    for t in range(u.shape[1]):
        for i in range(u.shape[2]):
            x = u[b, t, i]
            k = guide[i, int(x * bins)]  # a guide table: about one comparison per draw
            while k < top and cdf[i, k] < x:
                k += 1
            out[b, t, i] = k


@njit(cache=True)
def inverse_cdf(u, cdf, guide, out):
    """out[b, t, i] = min{k : cdf[i, k] >= u[b, t, i]} — discrete demand from uniforms in [0, 1)."""
    for b in range(u.shape[0]):
        _inverse_cdf_row(b, u, cdf, guide, out)


@njit(cache=True, parallel=True)
def inverse_cdf_parallel(u, cdf, guide, out):
    for b in prange(u.shape[0]):
        _inverse_cdf_row(b, u, cdf, guide, out)


# -- plain NumPy transcription (oracle and yardstick) -----------------------------------------------------
def post_decision_numpy(inv, setup, actions, production, setup_loss, setup_cost, compat=False, exclusive=False):
    """The deterministic part of §2.3 over a batch, vectorised with NumPy (machines looped in order).

    Returns ``(post_inv, new_setup, setup_cost [B], applied_actions [B, M], produced [B, I])``; the inputs
    are not modified.
    """
    B, n_items = inv.shape
    n_mach = setup.shape[1]
    rows = np.arange(B)
    a = np.where((actions < 0) | (actions > n_items), 0, actions).astype(np.int64)
    prod = np.concatenate([np.zeros((n_mach, 1), np.int64), production], axis=1)  # column 0 = idle
    loss = np.concatenate([np.zeros((n_mach, 1), np.int64), setup_loss], axis=1)
    cost = np.concatenate([np.zeros((n_mach, 1)), setup_cost], axis=1)
    if not compat:
        a = np.where(prod[np.arange(n_mach)[None, :], a] > 0, a, 0)
    if exclusive:
        for m in range(1, n_mach):
            dup = (a[:, :m] == a[:, m : m + 1]).any(axis=1) & (a[:, m] > 0)
            a[dup, m] = 0
    post = inv.astype(np.int64).copy()
    produced = np.zeros_like(post)
    new_setup = setup.copy()
    paid = np.zeros(B)
    for m in range(n_mach):
        am = a[:, m]
        switch = (am > 0) & (am != setup[:, m])
        paid += np.where(switch, cost[m, am], 0.0)
        net = prod[m, am] - np.where(switch, loss[m, am], 0)
        if not compat:
            net = np.maximum(net, 0)
        net = np.where(am > 0, net, 0)
        target = np.maximum(am - 1, 0)
        np.add.at(produced, (rows, target), net)
        new_setup[:, m] = am
    post += produced
    return post, new_setup, paid, a, produced


def step_numpy(inv, setup, demand_t, actions, inst, compat=False, exclusive=False):
    """One full period of §2.3 with NumPy for a batch; ``demand_t`` [B, I] is this period's demand.

    Returns ``(new_inv, new_setup, reward, costs dict, post_inv)``; the inputs are not modified.
    """
    post, new_setup, setup_cost, _, _ = post_decision_numpy(inv, setup, actions, inst.production, inst.setup_loss,
                                                            inst.setup_cost, compat, exclusive)
    y = post - demand_t
    lost = np.maximum(-y, 0)
    new_inv = np.minimum(np.maximum(y, 0), inst.max_inventory)
    lost_cost = lost @ inst.lost_sales
    hold_cost = new_inv @ inst.holding
    costs = {"setup": setup_cost, "lost_sales": lost_cost, "holding": hold_cost}
    return new_inv, new_setup, -(setup_cost + lost_cost + hold_cost), costs, post
