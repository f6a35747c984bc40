"""Numba kernels of one rebalancing step of a batch of portfolios (spec ``portfolio.md`` §2.2–2.4), the
observation windows, and a plain NumPy-vectorised step (:func:`step_numpy`) that is the test oracle and
the speed yardstick of the kernel.

State per env (struct of arrays, batch first): ``w[b, :]`` the drifted holdings w′ over cash + N assets,
``wealth[b]`` V, ``t[b]`` steps since reset, ``d[b]`` the row of the current decision date, ``acc[b, :]``
reward accumulators (DSR moments A, B; running Σρ, Σρ²). Order of events of a step at the close of d:

1. the action becomes target weights w (softmax(a/τ), Euclidean projection onto the simplex, or checked
   weights);
2. cost: μ(w′, w) — linear 1 − c·Σ_{i≥1}|w′_i − w_i| or Jiang's exact fixed point; V⁺ = μV;
3. market: y = rel[d + 1] is revealed; V ← V⁺·(y·w);
4. drift: w′ ← y ⊙ w / (y·w);
5. reward from ρ = ln μ + ln(y·w) (log return, differential Sharpe, running or terminal Sharpe), minus the
   optional turnover penalty;
6. d and t advance.

Static settings are packed in two small arrays (``cfg`` floats, ``icfg`` ints) and every per-env output in
one buffer: numba's cost of a call grows with the number of array arguments. A step is three calls
(:func:`step_batch`): :func:`prepare` checks the batch and writes the shifted logits, NumPy's SIMD ``exp``
exponentiates them in place (a scalar libm ``exp`` per weight was a third of the kernel), and
:func:`step_serial` / :func:`step_parallel` do everything else in one pass per env. Scratch buffers are
allocated once per batch size by the caller; nothing is allocated per env.

Observations are copied from a table of precomputed price windows (one row per decision date of the
split, :func:`build_obs_table`, bit-identical to computing them) for large batches, else computed.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# The step is ~0.1 µs of arithmetic per env and an observation (copied from the precomputed window table) is
# memory-bound: thread start-up and the barrier only pay for very large batches, and on a shared machine a
# descheduled worker stalls the whole batch (measured: the parallel observation took 1.7× the CPU time and
# more wall time than the serial one at 4,096 envs on the busy 2-core machine).
PARALLEL_MIN_BATCH = 16_384
OBS_PARALLEL_MIN_BATCH = 16_384
PARALLEL_CHUNKS = 64  # contiguous blocks of envs handed to the threads (get_num_threads() blocks caching)

# cfg (float64) entries
C_RATE, TAU, ETA, CLIP, LAMBDA, PERIODS = 0, 1, 2, 3, 4, 5
# icfg (int64) entries
I_ACTION, I_COST, I_REWARD, I_HUANG, I_EPLEN, I_DHI = 0, 1, 2, 3, 4, 5
SOFTMAX, PROJECTION, WEIGHTS = 0, 1, 2
LINEAR, EXACT = 0, 1
LOG_RETURN, DSR, AVG_SHARPE, TERMINAL_SHARPE = 0, 1, 2, 3
# accumulators
A_DSR, B_DSR, S1, S2 = 0, 1, 2, 3
# output columns, then the target weights [N+1]
REWARD, RHO, MU, TURNOVER, COST_BASE, ENTROPY, WEALTH, GROWTH, TCOST, FIRST_W = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
# observation layouts
OBS_FLAT, OBS_IMAGE, OBS_HUANG = 0, 1, 2

OK, NAN_ACTION, BAD_WEIGHTS, PAST_END = 0, 1, 2, 3
MU_TOL, MU_MAX_ITER = 1e-10, 50
WEIGHT_TOL = 1e-6
SHARPE_EPS = 1e-7
DSR_VAR_EPS = 1e-12


def output_width(n_assets: int) -> int:
    return FIRST_W + n_assets + 1


@njit(cache=True, error_model="numpy")
def prepare(actions, active, d, cfg, icfg, work):
    """Check the whole batch before touching it and, for the softmax map, write the shifted logits
    z = (a − max a)/τ into ``work[0]`` (the caller exponentiates them into ``work[1]`` with NumPy's SIMD
    exp: a scalar libm exp per weight was a third of the step). Inactive rows get z = 0."""
    n1 = actions.shape[1]
    softmax = icfg[I_ACTION] == SOFTMAX
    weights = icfg[I_ACTION] == WEIGHTS
    inv_tau = 1.0 / cfg[TAU]
    z = work[0]
    for b in range(actions.shape[0]):
        if not active[b]:
            if softmax:
                for i in range(n1):
                    z[b, i] = 0.0
            continue
        if d[b] > icfg[I_DHI]:
            return PAST_END
        s = 0.0
        m = actions[b, 0]
        for i in range(n1):
            a = actions[b, i]
            if not np.isfinite(a):
                return NAN_ACTION
            s += a
            m = max(m, a)
            if weights and a < 0.0:
                return BAD_WEIGHTS
        if weights and abs(s - 1.0) > WEIGHT_TOL:
            return BAD_WEIGHTS
        if softmax:
            for i in range(n1):
                z[b, i] = (actions[b, i] - m) * inv_tau
    return OK


@njit(cache=True, inline="always", error_model="numpy")
def _project_row(b, a, out, c0, scratch):  # scratch: [B, N+1]
    """Euclidean projection of a[b] onto the simplex into out[b, c0:] (sort-based, spec §2.2)."""
    n1 = a.shape[1]
    for i in range(n1):  # insertion sort, descending (N is small; no allocation)
        v = a[b, i]
        j = i
        while j > 0 and scratch[b, j - 1] < v:
            scratch[b, j] = scratch[b, j - 1]
            j -= 1
        scratch[b, j] = v
    cum = 0.0
    theta = 0.0
    for j in range(n1):
        cum += scratch[b, j]
        th = (cum - 1.0) / (j + 1)
        if scratch[b, j] - th > 0.0:
            theta = th
    for i in range(n1):
        out[b, c0 + i] = max(a[b, i] - theta, 0.0)


@njit(cache=True, inline="always", error_model="numpy")
def _exact_mu(b, w_old, out, c0, c):
    """Jiang's fixed point μ = [1 − c·w′_0 − (2c − c²)·Σ_{i≥1}(w′_i − μw_i)⁺] / (1 − c·w_0), from
    μ⁽⁰⁾ = (1 − c)², until |Δμ| < 1e-10 or 50 iterations (a contraction: converges from any start)."""
    n1 = w_old.shape[1]
    mu = (1.0 - c) * (1.0 - c)
    k = 2.0 * c - c * c
    denom = 1.0 - c * out[b, c0]
    for _ in range(MU_MAX_ITER):
        s = 0.0
        for i in range(1, n1):
            s += max(w_old[b, i] - mu * out[b, c0 + i], 0.0)
        new = (1.0 - c * w_old[b, 0] - k * s) / denom
        if abs(new - mu) < MU_TOL:
            return new
        mu = new
    return mu


@njit(cache=True, error_model="numpy")
def _step_range(lo, hi, w, wealth, t, d, acc, actions, active, rel, cfg, icfg, out, work):
    """Step envs lo..hi−1. The per-env body sits in this loop rather than in an inlined per-env function:
    with ``b`` a loop index of the same function the kernel ran ~3× faster (measured)."""
    n1 = w.shape[1]
    c0 = FIRST_W
    mode = icfg[I_ACTION]
    exact = icfg[I_COST] == EXACT
    kind = icfg[I_REWARD]
    c = cfg[C_RATE]
    lam = cfg[LAMBDA]
    z = work[0]
    e = work[1]
    for b in range(lo, hi):
        if not active[b]:
            for i in range(out.shape[1]):
                out[b, i] = 0.0
            continue
        # 1. action -> target weights (and their entropy)
        ent = 0.0
        if mode == SOFTMAX:  # e = exp(z) from prepare() + NumPy
            s = 0.0
            zw = 0.0
            for i in range(n1):
                s += e[b, i]
                zw += e[b, i] * z[b, i]
            inv_s = 1.0 / s
            for i in range(n1):
                out[b, c0 + i] = e[b, i] * inv_s
            ent = np.log(s) - zw * inv_s  # −Σ w ln w with ln w_i = z_i − ln s: no log per asset
        else:
            if mode == PROJECTION:
                _project_row(b, actions, out, c0, z)
            else:  # checked weights, renormalised so the simplex holds to rounding
                s = 0.0
                for i in range(n1):
                    s += actions[b, i]
                for i in range(n1):
                    out[b, c0 + i] = actions[b, i] / s
            for i in range(n1):
                wi = out[b, c0 + i]
                if wi > 0.0:
                    ent -= wi * np.log(wi)
        # 2. cost; 3. market and value (one pass over the weights)
        row = d[b] + 1
        base = 0.0
        turn = 0.0
        g = 0.0
        for i in range(n1):
            wi = out[b, c0 + i]
            dw = abs(wi - w[b, i])
            turn += dw
            if i > 0:
                base += dw
            g += rel[row, i] * wi
        if exact:
            mu = _exact_mu(b, w, out, c0, c)
        else:
            mu = 1.0 - c * base
        # 4. drift
        inv_g = 1.0 / g
        for i in range(n1):
            w[b, i] = rel[row, i] * out[b, c0 + i] * inv_g
        v_old = wealth[b]
        wealth[b] = v_old * mu * g
        rho = np.log(mu) + np.log(g)
        # 5. reward
        k = t[b]
        if kind == LOG_RETURN:
            r = rho
        elif kind == DSR:
            ret = mu * g - 1.0
            a_prev = acc[b, A_DSR]
            b_prev = acc[b, B_DSR]
            da = ret - a_prev
            db = ret * ret - b_prev
            var = b_prev - a_prev * a_prev
            r = 0.0
            if var > DSR_VAR_EPS:
                r = (b_prev * da - 0.5 * a_prev * db) / var**1.5
                if cfg[CLIP] > 0.0:
                    r = min(max(r, -cfg[CLIP]), cfg[CLIP])
            acc[b, A_DSR] = a_prev + cfg[ETA] * da
            acc[b, B_DSR] = b_prev + cfg[ETA] * db
        else:
            acc[b, S1] += rho
            acc[b, S2] += rho * rho
            n = k + 1 + icfg[I_HUANG]
            sr = 0.0
            if n >= 2:
                mean = acc[b, S1] / n
                std = np.sqrt(max(acc[b, S2] / n - mean * mean, 0.0))
                sr = np.sqrt(cfg[PERIODS]) * mean / (std + SHARPE_EPS)
            if kind == AVG_SHARPE:
                r = sr / icfg[I_EPLEN]
            else:
                r = sr if k + 1 == icfg[I_EPLEN] else 0.0
        r -= lam * base
        out[b, REWARD] = r
        out[b, RHO] = rho
        out[b, MU] = mu
        out[b, TURNOVER] = 0.5 * turn
        out[b, COST_BASE] = base
        out[b, ENTROPY] = ent
        out[b, WEALTH] = wealth[b]
        out[b, GROWTH] = g
        out[b, TCOST] = v_old * (1.0 - mu)
        d[b] = row
        t[b] = k + 1


@njit(cache=True, error_model="numpy")
def step_serial(w, wealth, t, d, acc, actions, active, rel, cfg, icfg, out, work):
    """Step every active env once (after :func:`prepare` returned ``OK`` and, for the softmax map,
    ``work[1] = exp(work[0])``)."""
    _step_range(0, w.shape[0], w, wealth, t, d, acc, actions, active, rel, cfg, icfg, out, work)


@njit(cache=True, parallel=True, error_model="numpy")
def step_parallel(w, wealth, t, d, acc, actions, active, rel, cfg, icfg, out, work):
    """:func:`step_serial` with the envs split in ``PARALLEL_CHUNKS`` contiguous chunks over the threads."""
    B = w.shape[0]
    n = PARALLEL_CHUNKS
    for j in prange(n):
        _step_range(j * B // n, (j + 1) * B // n, w, wealth, t, d, acc, actions, active, rel, cfg, icfg, out,
                    work)


def step_batch(w, wealth, t, d, acc, actions, active, rel, cfg, icfg, out, work) -> int:
    """One step of a batch: check, exponentiate the logits (NumPy's SIMD exp), then the fused kernel.
    ``work`` is scratch [2, B, N+1]. Returns ``OK`` or, touching nothing, an error code."""
    status = prepare(actions, active, d, cfg, icfg, work)
    if status != OK:
        return status
    if icfg[I_ACTION] == SOFTMAX:
        np.exp(work[0], out=work[1])
    kernel = step_parallel if w.shape[0] >= PARALLEL_MIN_BATCH else step_serial
    kernel(w, wealth, t, d, acc, actions, active, rel, cfg, icfg, out, work)
    return OK


# -- observations ----------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _fill_window(prices, top, window, n_feat, row_len, dst, inv):
    """X[f, k, i] = v_{i,f}(top − W + 1 + k) / v_{i,close}(top) into the float32 row ``dst`` in (f, k, i)
    order with ``row_len`` rows per feature. Only rows ≤ top are read."""
    n = prices.shape[2]
    first = top - window + 1
    for i in range(n):  # one division per asset, then multiplications (division dominated the cost)
        inv[i] = 1.0 / prices[top, 0, i]
    for f in range(n_feat):
        for k in range(window):
            o = (f * row_len + k) * n
            src = prices[first + k, f]
            for i in range(n):
                dst[o + i] = src[i] * inv[i]


@njit(cache=True, error_model="numpy")
def _observe_range(lo, hi, prices, d, w, window, n_feat, layout, out, inv, table, t_lo):
    """Observations of envs lo..hi−1 (spec §4); ``flat`` appends w′, ``huang`` adds a row k = W holding
    w′_{1:N} in every channel. The price part is copied from ``table[d − t_lo]`` when the table holds row d
    (flat and image layouts), else computed."""
    n = prices.shape[2]
    row_len = window + 1 if layout == OBS_HUANG else window
    n_table = table.shape[0]
    width = table.shape[1]
    for b in range(lo, hi):
        r = d[b] - t_lo
        if layout != OBS_HUANG and 0 <= r < n_table:
            for j in range(width):
                out[b, j] = table[r, j]
        else:
            _fill_window(prices, d[b], window, n_feat, row_len, out[b], inv[b])
        if layout == OBS_HUANG:
            for f in range(n_feat):
                o = (f * row_len + window) * n
                for i in range(n):
                    out[b, o + i] = w[b, i + 1]
        elif layout == OBS_FLAT:
            o = n_feat * window * n
            for i in range(w.shape[1]):
                out[b, o + i] = w[b, i]


@njit(cache=True, error_model="numpy")
def observe_serial(prices, d, w, window, n_feat, layout, out, inv, table, t_lo):
    """Observations of every env into ``out`` (float32); ``inv`` is scratch [B, N]; ``table`` holds the
    precomputed price windows of the decision rows ``t_lo..t_lo + len(table) − 1`` (may be empty)."""
    _observe_range(0, d.shape[0], prices, d, w, window, n_feat, layout, out, inv, table, t_lo)


@njit(cache=True, parallel=True, error_model="numpy")
def observe_parallel(prices, d, w, window, n_feat, layout, out, inv, table, t_lo):
    """:func:`observe_serial` with the envs split in ``PARALLEL_CHUNKS`` contiguous chunks over the threads."""
    B = d.shape[0]
    n = PARALLEL_CHUNKS
    for j in prange(n):
        _observe_range(j * B // n, (j + 1) * B // n, prices, d, w, window, n_feat, layout, out, inv, table, t_lo)


@njit(cache=True, error_model="numpy")
def build_obs_table(prices, window, n_feat, t_lo, table):
    """``table[r]`` = the price window of decision row t_lo + r (flat/image layout), computed exactly as
    :func:`_obs_row` computes it, so an observation read from the table is bit-identical."""
    inv = np.empty(prices.shape[2])
    for r in range(table.shape[0]):
        _fill_window(prices, t_lo + r, window, n_feat, window, table[r], inv)


# -- the NumPy oracle --------------------------------------------------------------------------------------
def project_simplex(a: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean projection onto the simplex (sort-based; vectorised NumPy)."""
    a = np.asarray(a, dtype=np.float64)
    u = -np.sort(-a, axis=-1)
    css = np.cumsum(u, axis=-1) - 1.0
    j = np.arange(1, a.shape[-1] + 1)
    theta_all = css / j
    rho = (u - theta_all > 0).sum(axis=-1, keepdims=True)  # u − θ_j > 0 holds for a prefix of j
    theta = np.take_along_axis(theta_all, rho - 1, axis=-1)
    return np.maximum(a - theta, 0.0)


def map_actions_numpy(actions: np.ndarray, action_map: str = "softmax", temperature: float = 1.0) -> np.ndarray:
    a = np.asarray(actions, dtype=np.float64)
    if action_map == "softmax":
        z = np.exp((a - a.max(axis=-1, keepdims=True)) / temperature)
        return z / z.sum(axis=-1, keepdims=True)
    if action_map == "projection":
        return project_simplex(a)
    return a / a.sum(axis=-1, keepdims=True)


def mu_numpy(w_old: np.ndarray, w_new: np.ndarray, cost_rate: float, cost_model: str = "linear") -> np.ndarray:
    """Cost shrinkage factor per row (spec §2.3), vectorised."""
    c = cost_rate
    if cost_model == "linear":
        return 1.0 - c * np.abs(w_old[:, 1:] - w_new[:, 1:]).sum(axis=1)
    mu = np.full(w_old.shape[0], (1.0 - c) ** 2)
    denom = 1.0 - c * w_new[:, 0]
    for _ in range(MU_MAX_ITER):
        s = np.maximum(w_old[:, 1:] - mu[:, None] * w_new[:, 1:], 0.0).sum(axis=1)
        new = (1.0 - c * w_old[:, 0] - (2 * c - c * c) * s) / denom
        converged = bool((np.abs(new - mu) < MU_TOL).all())
        mu = new
        if converged:
            break
    return mu


def step_numpy(w: np.ndarray, wealth: np.ndarray, d: np.ndarray, actions: np.ndarray, rel: np.ndarray,
               cost_rate: float = 0.0025, cost_model: str = "linear", action_map: str = "softmax",
               temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """One step of the whole batch in plain vectorised NumPy, in place: ``w``, ``wealth``, ``d``.

    Returns (ρ, target weights). The independent oracle of :func:`step_batch` (log-return part) and
    the yardstick of ``scripts/bench_throughput.py``.
    """
    target = map_actions_numpy(actions, action_map, temperature)
    mu = mu_numpy(w, target, cost_rate, cost_model)
    y = rel[d + 1]
    g = (y * target).sum(axis=1)
    w[:] = y * target / g[:, None]
    wealth *= mu * g
    d += 1
    return np.log(mu) + np.log(g), target
