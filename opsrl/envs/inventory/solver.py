"""Exact references, bounds and OR-tools models for the inventory-network family.

Every function here is a pure function of numbers and arrays: it imports neither the
environment nor the rest of :mod:`opsrl`, only NumPy, SciPy and OR-tools, so a reference value
can be recomputed without building an environment.  The timing convention is the one of the
environment (``specs/inventory.md`` §2.3): an order of lead time ``ℓ`` placed in period ``t``
enters on-hand at the **start** of period ``t + ℓ`` and can serve that period's demand; store
cost in a period is ``p·max(D − x⁰, 0) + h·max(x⁰ − D, 0)`` on the on-hand ``x⁰`` before demand;
upstream nodes pay holding on their post-shipment on-hand; stock in transit is never charged.

Contents
--------

==============================  ===========================================================  ==========
function                        what it returns                                              kind
==============================  ===========================================================  ==========
:func:`base_stock_optimum`      order-up-to level and cost, one backlogged store (§5.2)       optimum
:func:`zipkin_table`            published lost-sales optima, Poisson(5), h = 1 (§5.3)          optimum
:func:`lost_sales_dp`           average-cost DP, one lost-sales store, integer demand (§5.3)   optimum
:func:`clark_scarf`             echelon base-stock levels and cost, serial chain (§5.4)        optimum
:func:`pooled_transshipment_    pooled newsvendor bound, transshipment center (§5.5)           bound
bound`
:func:`hindsight_lp`            perfect-information LP per demand trace, any network (§5.6)    bound
==============================  ===========================================================  ==========
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp
from scipy import signal, stats

__all__ = [
    "ECHELON",
    "STORE",
    "WAREHOUSE",
    "Network",
    "base_stock_optimum",
    "clark_scarf",
    "hindsight_lp",
    "lost_sales_dp",
    "pooled_transshipment_bound",
    "reference_store_moments",
    "zipkin_table",
]

# Node kinds of :class:`Network` (same codes as the environment's node table).
ECHELON = 0
WAREHOUSE = 1
STORE = 2


# ----------------------------------------------------------------------------------------------
# small validation helpers: every bad argument raises ValueError naming the argument and the range
# ----------------------------------------------------------------------------------------------
def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}={value!r} must be a finite number")
    return value


def _positive(name: str, value: float, strict: bool = True) -> float:
    value = _finite(name, value)
    if value < 0 or (strict and value == 0):
        bound = "> 0" if strict else ">= 0"
        raise ValueError(f"{name}={value!r} must be {bound}")
    return value


def _integer(name: str, value: int, low: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < low:
        raise ValueError(f"{name}={value!r} must be an integer >= {low}")
    return int(value)


# ----------------------------------------------------------------------------------------------
# §5.2 one store, backlogged: analytic base-stock optimum
# ----------------------------------------------------------------------------------------------
def base_stock_optimum(mu: float, sigma: float, lead_time: int, p: float, h: float) -> tuple[float, float]:
    """Optimal base-stock level and optimal cost per period of one backlogged store.

    With i.i.d. normal demand ``N(mu, sigma)`` and lead time ``L``, the order placed now is the
    first that can still change the post-demand stock ``L`` periods later, so it must cover
    ``L + 1`` periods of demand (orders arrive at the start of period ``t + L`` and serve its
    demand).  That stock is ``S − D[L+1]`` with ``D[L+1] ~ N((L+1)μ, (L+1)σ²)``, and the
    per-period cost is a newsvendor cost in it, minimised at the critical fractile:

    ``S* = (L+1)·μ + σ·√(L+1)·z*``,  ``z* = Φ⁻¹(p / (p + h))``,
    ``C* = (p + h)·σ·√(L+1)·φ(z*)``.

    Base stock is optimal for the backlogged store (Karlin–Scarf), so ``C*`` is the exact
    long-run average cost.  Clipping the demand at 0, as the environment does, is ignored: for
    ``N(5, 1.6)`` the mass below 0 is 9e-4 and moves neither value at the printed decimals.

    Args:
        mu: mean demand per period.
        sigma: standard deviation of demand per period (``>= 0``).
        lead_time: ``L >= 0`` periods between ordering and availability.
        p: backlog cost per unit per period (``> 0``).
        h: holding cost per unit per period (``> 0``).

    Returns:
        ``(S, C)``: optimal order-up-to level (on inventory position after ordering: on-hand
        minus backlog plus pipeline) and optimal expected cost per period.

    Example:
        >>> S, C = base_stock_optimum(5.0, 1.6, 4, 9.0, 1.0)
        >>> round(S, 2), round(C, 3)
        (29.59, 6.279)
    """
    mu = _finite("mu", mu)
    sigma = _positive("sigma", sigma, strict=False)
    lead_time = _integer("lead_time", lead_time, 0)
    p = _positive("p", p)
    h = _positive("h", h)
    z = stats.norm.ppf(p / (p + h))
    spread = sigma * math.sqrt(lead_time + 1)
    level = (lead_time + 1) * mu + spread * z
    cost = (p + h) * spread * stats.norm.pdf(z)
    return float(level), float(cost)


# ----------------------------------------------------------------------------------------------
# §5.3 one store, lost sales
# ----------------------------------------------------------------------------------------------
_ZIPKIN = {
    # (lead time L, underage cost p): optimal average cost, Poisson(5) demand, h = 1.
    (1, 4): 4.04, (2, 4): 4.40, (3, 4): 4.60, (4, 4): 4.73,
    (1, 9): 5.44, (2, 9): 6.09, (3, 9): 6.53, (4, 9): 6.84,
    (1, 19): 6.68, (2, 19): 7.66, (3, 19): 8.36, (4, 19): 8.89,
    (1, 39): 7.84, (2, 39): 9.11, (3, 39): 10.04, (4, 39): 10.79,
}  # fmt: skip


def zipkin_table() -> dict[tuple[int, int], float]:
    """Optimal average cost of the one-store lost-sales system (Zipkin 2008), as a dict.

    Keys are ``(L, p)`` with lead time ``L ∈ {1, 2, 3, 4}`` and lost-sales penalty
    ``p ∈ {4, 9, 19, 39}``; demand is Poisson(5) and ``h = 1``.  Values are printed to two
    decimals.  They are optimal costs under the timing of §2.3 (cost on the on-hand before
    demand); the columns ``L = 1, 2`` are reproduced by :func:`lost_sales_dp`.

    Returns:
        A fresh dict (mutating it does not change the table).
    """
    return dict(_ZIPKIN)


def lost_sales_dp(
    mean: float,
    lead_time: int,
    p: float,
    h: float,
    max_on_hand: int = 45,
    max_order: int = 25,
    tol: float = 1e-8,
    max_iter: int = 20_000,
) -> tuple[float, np.ndarray]:
    """Optimal average cost of one lost-sales store with Poisson demand, by value iteration.

    The state at the start of a period is ``(x⁰, x¹, …, x^{L−1})``: on-hand after arrivals and
    the orders that arrive in 1 … L−1 periods.  The order ``q`` placed now arrives at the start
    of period ``t + L``; after the period's demand the state moves to

    ``(min((x⁰ − D)⁺ + x¹, max_on_hand), x², …, x^{L−1}, q)``  (for ``L = 1``: ``(x⁰ − D)⁺ + q``),

    and the period costs ``p·E(D − x⁰)⁺ + h·E(x⁰ − D)⁺``.  Relative value iteration solves the
    average-cost Bellman equation ``g + V(x) = c(x⁰) + min_q E V(x')``; it stops when the span of
    ``TV − V`` is below ``tol``, and the Odoni bounds ``min(TV − V) ≤ g ≤ max(TV − V)`` then pin
    the optimal gain ``g`` to within ``tol``.

    Demand enters the transition only through ``(x⁰ − D)⁺``, whose distribution is exact with
    the whole Poisson tail in the bucket ``u = 0`` (``P(D ≥ x⁰)``), and the cost uses exact
    Poisson expectations, so the only approximations are the state caps (``x⁰ ≤ max_on_hand``,
    orders ``≤ max_order``).  With the defaults it reproduces the ``L = 1, 2`` columns of
    :func:`zipkin_table` (e.g. 4.041 for ``L = 1, p = 4``; 9.106 for ``L = 2, p = 39``).

    Args:
        mean: Poisson mean demand per period (``> 0``).
        lead_time: ``L >= 1``.  The state space has ``(max_on_hand+1)·(max_order+1)^(L−1)``
            states; ``L <= 3`` is practical with the default caps.
        p: lost-sales penalty per unit (``> 0``).
        h: holding cost per unit left after demand (``> 0``).
        max_on_hand: cap on the on-hand state; stock beyond it is discarded (not reached by an
            optimal policy when the cap is large enough).
        max_order: largest order considered (also the cap of every pipeline slot).
        tol: stopping tolerance on the span of ``TV − V`` (bounds the error of the cost).
        max_iter: iteration limit; ``RuntimeError`` if reached.

    Returns:
        ``(cost, policy)``: optimal average cost per period and an int array of shape
        ``(max_on_hand+1,) + (max_order+1,)*(L−1)`` giving the optimal order in state
        ``(x⁰, x¹, …, x^{L−1})`` (the smallest optimal order on ties).
    """
    mean = _positive("mean", mean)
    lead_time = _integer("lead_time", lead_time, 1)
    p = _positive("p", p)
    h = _positive("h", h)
    max_on_hand = _integer("max_on_hand", max_on_hand, 1)
    max_order = _integer("max_order", max_order, 1)
    tol = _positive("tol", tol)
    n_x, n_q = max_on_hand + 1, max_order + 1
    # The expectation below materialises an array of n_x · n_q^L numbers per iteration.
    work = n_x * n_q**lead_time
    if work > 5e7:
        raise ValueError(
            f"lead_time={lead_time} with max_on_hand={max_on_hand}, max_order={max_order} needs "
            f"{work:.2e} numbers per iteration; allowed <= 5e7 (use lead_time <= 3 or smaller caps)"
        )

    x = np.arange(n_x)
    # Pu[x⁰, u] = P((x⁰ − D)⁺ = u): u = x⁰ − d for d < x⁰, and u = 0 collects the tail D ≥ x⁰.
    pmf = stats.poisson.pmf(x, mean)
    diff = x[:, None] - x[None, :]
    pu = np.where(diff >= 0, pmf[np.clip(diff, 0, None)], 0.0)
    pu[:, 0] = stats.poisson.sf(x - 1, mean)
    # Exact expected period cost: E(x − D)⁺ is a finite sum, E(D − x)⁺ = mean − x + E(x − D)⁺.
    over = np.array([np.dot(k - np.arange(k), pmf[:k]) for k in range(n_x)])
    cost = h * over + p * (mean - x + over)
    # next on-hand for (u, s): s is the slot that lands next period (x¹, or the order itself if L = 1)
    nxt = np.minimum(x[:, None] + np.arange(n_q)[None, :], max_on_hand)

    shape = (n_x,) + (n_q,) * (lead_time - 1)
    cost_b = cost.reshape((n_x,) + (1,) * (lead_time - 1))
    value = np.zeros(shape)
    for _ in range(max_iter):
        # succ[u, s, x², …, x^{L−1}, q] = V(min(u + s, cap), x², …, q): the state after demand
        succ = value[nxt]
        # expected over u given x⁰, for every (x⁰, x¹, …, q); the order is chosen before demand
        expect = np.tensordot(pu, succ, axes=([1], [0]))
        new = cost_b + expect.min(axis=-1)
        delta = new - value
        lo, hi = float(delta.min()), float(delta.max())
        # subtract a reference state so the relative values stay bounded
        value = new - new.flat[0]
        if hi - lo < tol:
            break
    else:
        raise RuntimeError(f"lost_sales_dp did not converge in max_iter={max_iter} iterations")
    policy = expect.argmin(axis=-1).astype(np.int64)
    return 0.5 * (lo + hi), policy


# ----------------------------------------------------------------------------------------------
# §5.4 serial chain: Clark–Scarf echelon base stock
# ----------------------------------------------------------------------------------------------
def _normal_lattice(mu: float, sigma: float, step: float, clip: bool) -> tuple[np.ndarray, int]:
    """One period of N(μ, σ) (clipped at 0 if ``clip``) rounded to the lattice ``k·step``.

    Returns ``(pmf, lo)`` with ``pmf[i] = P(D = (lo + i)·step)``.  Mass is assigned by rounding
    to the nearest lattice point (midpoint rule, so the mean is kept to O(step²)); the clipped
    atom at 0 and both far tails are folded into the end points.
    """
    width = 12.0 * sigma
    lo = 0 if clip else math.floor((mu - width) / step)
    hi = max(math.ceil((mu + width) / step), lo + 1)
    edges = (np.arange(lo, hi) + 0.5) * step
    cdf = stats.norm.cdf(edges, loc=mu, scale=sigma)
    cdf = np.concatenate([[0.0], cdf, [1.0]])
    return np.diff(cdf), lo


def _sum_lattice(pmf: np.ndarray, lo: int, k: int) -> tuple[np.ndarray, int]:
    """Distribution of the sum of ``k`` i.i.d. lattice variables, tails below 1e-14 trimmed."""
    out, out_lo = np.array([1.0]), 0
    for _ in range(k):
        out = np.clip(signal.fftconvolve(out, pmf), 0.0, None)
        out_lo += lo
        # trimming keeps the arrays short; the trimmed mass (< 2e-14) cannot move a cost
        cum = np.cumsum(out)
        first = int(np.searchsorted(cum, 1e-14 * cum[-1]))
        last = int(np.searchsorted(cum, (1.0 - 1e-14) * cum[-1]))
        out = out[first : last + 1]
        out_lo += first
        out = out / out.sum()
    return out, out_lo


def _expected_excess(pmf: np.ndarray, lo: int, grid: np.ndarray, step: float) -> np.ndarray:
    """``E[(D − y)⁺]`` for ``y = grid·step`` (grid: integer lattice indices), D on the lattice."""
    idx = lo + np.arange(len(pmf))
    # tail sums from the top: t0[m] = Σ_{i≥m} pmf, t1[m] = Σ_{i≥m} idx·pmf
    t0 = np.concatenate([np.cumsum(pmf[::-1])[::-1], [0.0]])
    t1 = np.concatenate([np.cumsum((idx * pmf)[::-1])[::-1], [0.0]])
    m = np.clip(grid - lo + 1, 0, len(pmf))  # first support index strictly above y
    return step * (t1[m] - grid * t0[m])


def clark_scarf(
    holding,
    lead_times,
    p: float,
    mu: float,
    sigma: float,
    clip: bool = True,
    step: float = 0.02,
) -> tuple[np.ndarray, float]:
    """Optimal echelon base-stock levels and optimal cost of a backlogged serial chain.

    Stages are indexed ``1 = store, …, N = top`` (the top orders from an unlimited supplier);
    ``ℓ_j`` is the lead time into stage ``j``, ``h_j`` its local holding cost and
    ``e_j = h_j − h_{j+1}`` (``h_{N+1} = 0``) its echelon holding cost.  ``D[k]`` is demand over
    ``k`` periods.  Clark and Scarf (1960) show echelon base stock is optimal; under the timing of
    §2.3 the levels solve

    - ``G₁(y) = e₁·(y − (ℓ₁+1)μ) + (p + h₁)·E(D[ℓ₁+1] − y)⁺``,  ``y₁* = argmin G₁``;
    - ``G_j(y) = e_j·(y − (ℓ_j+1)μ) + E G_{j−1}(min(y*_{j−1}, y − D[ℓ_j]))``,
      ``y_j* = argmin G_j``.

    ``G_j`` charges echelon holding on echelon stock ``ℓ_j`` periods after an order of stage
    ``j``; the ``min`` is the shortage at stage ``j`` that caps what stage ``j − 1`` can raise
    its echelon position to when that order arrives.  Echelon accounting also charges the stock
    in transit between stages (``h_{i+1}`` per unit in transit into stage ``i``), which the
    environment does not, so the optimal environment cost is

    ``C* = G_N(y_N*) − μ·Σ_{i=1}^{N−1} h_{i+1}·ℓ_i``.

    Everything is evaluated exactly on the lattice ``k·step``: one period of demand is
    ``N(mu, sigma)`` (clipped at 0 when ``clip``) rounded to the lattice, ``D[k]`` is its k-fold
    convolution, and the expectations in ``G_j`` are discrete convolutions, so the only
    approximation is the lattice itself (the levels are known to ``step``; the cost to far
    better than 0.01).  ``μ`` in the formulas is the mean of that discretised demand (5.004 for
    clipped ``N(5, 2)``), so the cost is the long-run average of the simulated chain.

    Args:
        holding: local holding costs ``[h₁ (store), h₂, …, h_N (top)]``, ``>= 0`` and
            non-increasing (echelon holding costs ``e_j >= 0``, the classical assumption).
        lead_times: lead times ``[ℓ₁ (into the store), …, ℓ_N (into the top)]``, integers ``>= 1``.
        p: backlog cost per unit per period at the store (``> 0``).
        mu: mean of the (unclipped) normal demand per period.
        sigma: its standard deviation (``> 0``).
        clip: clip demand at 0 (the environment's demand model); else signed normal demand.
        step: lattice step of the computation.

    Returns:
        ``(levels, cost)``: echelon order-up-to levels ``[y₁*, …, y_N*]`` (store → top; each on
        the echelon inventory position: stock at the stage and below plus everything in transit
        to them, minus backlog) and the optimal expected cost per period.

    Example:
        >>> levels, cost = clark_scarf([1, 0.5, 0.2, 0.1], [4, 3, 4, 2], 9.0, 5.0, 2.0)
        >>> round(cost, 2), round(float(levels[0]), 2)
        (10.73, 32.36)
    """
    h = np.asarray(holding, dtype=float).ravel()
    leads = np.asarray(lead_times).ravel()
    n = len(h)
    if n == 0 or len(leads) != n:
        raise ValueError(
            f"holding (length {len(h)}) and lead_times (length {len(leads)}) must be non-empty "
            "and of equal length"
        )
    if not np.all(np.isfinite(h)) or np.any(h < 0):
        raise ValueError(f"holding={h.tolist()} must be finite and >= 0")
    if np.any(np.diff(h) > 0):
        # a negative echelon holding cost makes G_j unbounded below: the recursion needs stock
        # to get no cheaper to hold as it moves downstream
        raise ValueError(f"holding={h.tolist()} must be non-increasing from the store to the top")
    if not np.all(leads == np.round(leads)) or np.any(leads < 1):
        raise ValueError(f"lead_times={leads.tolist()} must be integers >= 1")
    leads = leads.astype(int)
    p = _positive("p", p)
    mu = _finite("mu", mu)
    sigma = _positive("sigma", sigma)
    step = _positive("step", step)

    echelon = h - np.append(h[1:], 0.0)
    one, one_lo = _normal_lattice(mu, sigma, step, clip)
    mean = step * float(np.dot(one_lo + np.arange(len(one)), one))

    sums = {}
    for k in {leads[0] + 1, *leads[1:].tolist()}:
        sums[k] = _sum_lattice(one, one_lo, k)

    # Lattice window of G₁.  Each stage j ≥ 2 loses the support width of D[ℓ_j] at the bottom
    # (y − D must stay inside the window where G_{j−1} is known) and, for signed demand, |lo| at
    # the top, so G₁'s window is widened by those amounts to leave G_N a window that brackets
    # y_N* with room: from −(|μ| + 8σ) to the total lead-time demand plus 12 of its deviations.
    periods = int(leads.sum()) + 1
    low_n = -math.ceil((abs(mu) + 8 * sigma) / step)
    top_n = math.ceil((periods * abs(mu) + 12 * sigma * math.sqrt(periods) + 10 * sigma) / step)
    bottom = low_n - sum(sums[k][1] + len(sums[k][0]) - 1 for k in leads[1:])
    top = top_n - sum(min(sums[k][1], 0) for k in leads[1:])

    def argmin_checked(g: np.ndarray, start: int, stage: int) -> int:
        i = int(np.argmin(g))
        if i == 0 or i == len(g) - 1:
            raise RuntimeError(f"clark_scarf: minimiser of G_{stage} at the edge of the lattice window")
        return start + i

    grid = np.arange(bottom, top + 1)
    d1, d1_lo = sums[leads[0] + 1]
    g = echelon[0] * (grid * step - (leads[0] + 1) * mean) + (p + h[0]) * _expected_excess(
        d1, d1_lo, grid, step
    )
    levels = [argmin_checked(g, bottom, 1)]
    for j in range(1, n):
        best = levels[-1]
        # G_{j−1}(min(y*, x)): flat above the optimal level (stage j−1 cannot use more stock)
        capped = np.where(grid > best, g[best - bottom], g)
        dj, dj_lo = sums[leads[j]]
        # E G(y − D) = Σ_k P(D = (lo+k)·step) · G(y − (lo+k)·step): a full convolution, keeping
        # only the y for which every y − D is inside the old window
        conv = signal.fftconvolve(capped, dj)
        bottom, top = bottom + dj_lo + len(dj) - 1, top + dj_lo
        grid = np.arange(bottom, top + 1)
        g = echelon[j] * (grid * step - (leads[j] + 1) * mean) + conv[len(dj) - 1 : len(capped)]
        levels.append(argmin_checked(g, bottom, j + 1))
    cost = float(g[levels[-1] - bottom]) - mean * float(np.dot(h[1:], leads[:-1]))
    return np.asarray(levels, dtype=float) * step, cost


# ----------------------------------------------------------------------------------------------
# §5.5 transshipment center: pooled lower bound
# ----------------------------------------------------------------------------------------------
def pooled_transshipment_bound(
    mus,
    sigmas,
    center_lead_time: int,
    store_lead_time: int,
    p: float,
    h: float,
    rho: float,
) -> float:
    """Pooled newsvendor lower bound of the transshipment-center network, per store per period.

    All ``n`` backlogged stores are supplied by a center (lead time ``L_w``) that keeps no stock;
    stores have lead time ``l``, holding ``h`` and backlog cost ``p``.  The bound treats the
    system as one newsvendor on the total demand over ``L_w + l + 1`` periods: the ``L_w``
    periods before the stock reaches the center can be pooled across stores (correlation
    ``rho``), the last ``l + 1`` after it has been allocated cannot, so the store standard
    deviations add linearly there:

    - ``μ_R = (L_w + l + 1)·Σ μ_i``
    - ``σ_R² = (l + 1)·(Σ σ_i)² + L_w·Var(Σ D_i)``, ``Var(Σ D_i) = Σ σ_i² + ρ·Σ_{i≠j} σ_i σ_j``
    - ``z = Φ⁻¹(p / (p + h))``, ``S = μ_R + σ_R z``
    - ``LB = [p·(μ_R − S) + (p + h)·σ_R·(zΦ(z) + φ(z))] / n``

    This is the reference's formula, with ``rho`` an argument (the reference hard-codes 0.5,
    so its ρ = 0 bound is the ρ = 0.5 one).  With the reference draws of
    :func:`reference_store_moments` it reproduces ``lower_bounds.csv`` (5.7537 for n = 3,
    ``l = 2``, ``p = 4``, ``L_w = 3``, ``h = 1``, ρ = 0.5).

    Args:
        mus: mean demand per store per period, shape ``[n]``.
        sigmas: standard deviation of demand per store, shape ``[n]`` (``>= 0``).
        center_lead_time: ``L_w >= 0``, supplier → center.
        store_lead_time: ``l >= 0``, center → store.
        p: backlog cost per unit per period (``> 0``).
        h: holding cost per unit per period (``> 0``).
        rho: common correlation of store demands, in ``[-1, 1]``.

    Returns:
        The lower bound on the average cost per store per period.
    """
    mus = np.asarray(mus, dtype=float).ravel()
    sigmas = np.asarray(sigmas, dtype=float).ravel()
    if len(mus) == 0 or len(mus) != len(sigmas):
        raise ValueError(f"mus (length {len(mus)}) and sigmas (length {len(sigmas)}) must match, n >= 1")
    if not np.all(np.isfinite(mus)):
        raise ValueError(f"mus={mus.tolist()} must be finite")
    if not np.all(np.isfinite(sigmas)) or np.any(sigmas < 0):
        raise ValueError(f"sigmas={sigmas.tolist()} must be finite and >= 0")
    lw = _integer("center_lead_time", center_lead_time, 0)
    ls = _integer("store_lead_time", store_lead_time, 0)
    p = _positive("p", p)
    h = _positive("h", h)
    rho = _finite("rho", rho)
    if not -1.0 <= rho <= 1.0:
        raise ValueError(f"rho={rho!r} must be in [-1, 1]")
    n = len(mus)
    total_sigma = float(sigmas.sum())
    var_sum = float(np.sum(sigmas**2)) + rho * (total_sigma**2 - float(np.sum(sigmas**2)))
    mu_r = (lw + ls + 1) * float(mus.sum())
    sigma_r = math.sqrt((ls + 1) * total_sigma**2 + lw * var_sum)
    z = float(stats.norm.ppf(p / (p + h)))
    level = mu_r + sigma_r * z
    loss = z * stats.norm.cdf(z) + stats.norm.pdf(z)
    return float((p * (mu_r - level) + (p + h) * sigma_r * loss) / n)


def reference_store_moments(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Store demand means and standard deviations drawn as the reference implementation does.

    The reference uses NumPy's legacy global generator: ``np.random.seed(33)``;
    ``μ = uniform(2.5, 7.5, n).round(3)``; ``np.random.seed(92)``;
    ``σ = (μ · uniform(0.25, 0.5, n)).round(3)``.  ``RandomState(seed)`` is the same generator,
    used here so that the global NumPy state is not touched.  For ``n = 3``:
    ``μ = (3.743, 4.750, 4.555)``, ``σ = (1.765, 2.124, 1.622)``.  These draws make the
    transshipment bounds of §5.5 golden values.

    Returns:
        ``(mu, sigma)``, two float arrays of shape ``[n]``.
    """
    n = _integer("n", n, 1)
    mu = np.random.RandomState(33).uniform(2.5, 7.5, n).round(3)
    sigma = (mu * np.random.RandomState(92).uniform(0.25, 0.5, n)).round(3)
    return mu, sigma


# ----------------------------------------------------------------------------------------------
# §5.6 hindsight (perfect-information) LP
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Network:
    """A static inventory network for :func:`hindsight_lp` (plain arrays, validated on creation).

    Nodes are numbered ``0 … N−1``; the external supplier is ``−1``.  Each edge carries orders
    from ``edge_src`` to ``edge_dst``; an order of lead ``ℓ`` placed in period ``t`` leaves the
    source's on-hand at once and enters the destination's on-hand at the start of ``t + ℓ``.

    Attributes:
        node_kind: ``[N]`` int, ``ECHELON`` (0), ``WAREHOUSE`` (1) or ``STORE`` (2).
        holding: ``[N]`` holding cost per unit per period (stores: on post-demand stock; others:
            on post-shipment on-hand), ``>= 0``.
        underage: ``[N]`` shortage cost per unit per period at stores (lost sale or unit of
            backlog), ``>= 0``; must be 0 for other nodes.
        edge_src: ``[E]`` int, source node or ``−1`` for the external supplier; never a store.
        edge_dst: ``[E]`` int, destination node.
        edge_lead: ``[E]`` int lead times ``>= 1``.
        edge_cost: ``[E]`` procurement cost per unit ordered on the edge (usually 0), ``>= 0``.
        lost_demand: ``True`` for lost sales, ``False`` for backlog (all stores alike).
        store_index: ``[n_stores]`` node ids of the stores in the order of the demand columns.
        holds_stock: ``[N]`` bool; ``False`` marks a transshipment center, which must ship all its
            on-hand every period.  ``None`` means every node holds stock.
    """

    node_kind: np.ndarray
    holding: np.ndarray
    underage: np.ndarray
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_lead: np.ndarray
    edge_cost: np.ndarray
    lost_demand: bool
    store_index: np.ndarray
    holds_stock: np.ndarray | None = None

    def __post_init__(self) -> None:
        def as_int(name: str) -> np.ndarray:
            raw = np.asarray(getattr(self, name))
            arr = raw.astype(np.int64).ravel()
            if raw.size and not np.array_equal(arr, raw.ravel()):
                raise ValueError(f"{name}={raw.tolist()} must hold integers")
            object.__setattr__(self, name, arr)
            return arr

        def as_float(name: str) -> np.ndarray:
            arr = np.asarray(getattr(self, name), dtype=float).ravel()
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError(f"{name}={arr.tolist()} must be finite and >= 0")
            object.__setattr__(self, name, arr)
            return arr

        kind = as_int("node_kind")
        n = len(kind)
        if n == 0 or np.any((kind < ECHELON) | (kind > STORE)):
            raise ValueError(f"node_kind={kind.tolist()} must be non-empty with values in {{0, 1, 2}}")
        for name in ("holding", "underage"):
            if len(as_float(name)) != n:
                raise ValueError(f"{name} has length {len(getattr(self, name))}; expected N={n}")
        if np.any(self.underage[kind != STORE] != 0):
            raise ValueError(f"underage={self.underage.tolist()} must be 0 at non-store nodes")
        src, dst, lead = as_int("edge_src"), as_int("edge_dst"), as_int("edge_lead")
        cost = as_float("edge_cost")
        n_edges = len(src)
        if not (len(dst) == len(lead) == len(cost) == n_edges):
            raise ValueError(
                f"edge_src, edge_dst, edge_lead, edge_cost have lengths {n_edges}, {len(dst)}, "
                f"{len(lead)}, {len(cost)}; they must be equal"
            )
        if np.any((src < -1) | (src >= n)):
            raise ValueError(f"edge_src={src.tolist()} must be in [-1, {n - 1}]")
        if np.any(kind[src[src >= 0]] == STORE):
            raise ValueError(f"edge_src={src.tolist()} must not contain a store (stores do not ship)")
        if np.any((dst < 0) | (dst >= n)):
            raise ValueError(f"edge_dst={dst.tolist()} must be in [0, {n - 1}]")
        if np.any(lead < 1):
            raise ValueError(f"edge_lead={lead.tolist()} must be integers >= 1")
        object.__setattr__(self, "lost_demand", bool(self.lost_demand))
        stores = as_int("store_index")
        if sorted(stores.tolist()) != np.flatnonzero(kind == STORE).tolist():
            raise ValueError(
                f"store_index={stores.tolist()} must list every store node exactly once "
                f"(stores: {np.flatnonzero(kind == STORE).tolist()})"
            )
        holds = np.ones(n, bool) if self.holds_stock is None else np.asarray(self.holds_stock, bool).ravel()
        if len(holds) != n or np.any(~holds & (kind == STORE)):
            raise ValueError(f"holds_stock={holds.tolist()} must have length N={n} and be True at stores")
        object.__setattr__(self, "holds_stock", holds)

    @property
    def n_nodes(self) -> int:
        return len(self.node_kind)

    @property
    def n_edges(self) -> int:
        return len(self.edge_src)

    @property
    def n_stores(self) -> int:
        return len(self.store_index)

    @classmethod
    def single_store(cls, holding: float, underage: float, lead_time: int, lost_demand: bool) -> Network:
        """One store supplied by the external supplier with lead time ``lead_time``."""
        return cls(
            node_kind=[STORE], holding=[holding], underage=[underage], edge_src=[-1], edge_dst=[0],
            edge_lead=[lead_time], edge_cost=[0.0], lost_demand=lost_demand, store_index=[0],
        )  # fmt: skip

    @classmethod
    def one_warehouse(
        cls,
        store_holding,
        store_underage,
        store_lead_times,
        warehouse_holding: float,
        warehouse_lead_time: int,
        lost_demand: bool,
        warehouse_edge_cost: float = 0.0,
        holds_stock: bool = True,
    ) -> Network:
        """Node 0 = warehouse (supplier edge first), nodes 1…n = stores (edges 1…n)."""
        sh = np.asarray(store_holding, float).ravel()
        n = len(sh)
        return cls(
            node_kind=[WAREHOUSE] + [STORE] * n,
            holding=np.concatenate([[warehouse_holding], sh]),
            underage=np.concatenate([[0.0], np.broadcast_to(np.asarray(store_underage, float), (n,))]),
            edge_src=[-1] + [0] * n,
            edge_dst=list(range(n + 1)),
            edge_lead=np.concatenate([[warehouse_lead_time], np.broadcast_to(store_lead_times, (n,))]),
            edge_cost=[warehouse_edge_cost] + [0.0] * n,
            lost_demand=lost_demand,
            store_index=np.arange(1, n + 1),
            holds_stock=[holds_stock] + [True] * n,
        )


def hindsight_lp(
    net: Network,
    demand,
    initial_inventory,
    warmup: int = 0,
    return_orders: bool = False,
):
    """Perfect-information lower bound: the best cost achievable knowing every future demand.

    For each demand trace one linear program (OR-tools ``pywraplp``, GLOP) chooses all orders
    ``q[e, t] >= 0`` with the whole trace known.  Per node and period, with ``y`` the stock left
    at the end of the period (after shipments, and after demand at stores):

    ``y[n, t] = y[n, t−1] + a[n, t] + Σ_{e into n} q[e, t − ℓ_e] − Σ_{e out of n} q[e, t] − D[n, t] + u[n, t]``

    where ``y[n, −1] = 0``, ``a[n, t]`` is slot ``t`` of the initial inventory (slot 0 = on-hand
    at the start of period 0, slot k = arriving at the start of period k), and the demand and
    shortage terms exist at stores only.  Constraints:

    - upstream nodes: ``y >= 0`` (shipments cannot exceed on-hand); ``y = 0`` for a
      transshipment center (``holds_stock`` False);
    - lost-sales stores: ``y >= 0`` and lost sales ``0 <= u <= D``;
    - backlogged stores: no ``u``, ``y = y⁺ − y⁻`` free, ``y⁺, y⁻ >= 0``.

    Cost of period ``t`` (§2.4): stores ``h·y + p·u`` (lost) or ``h·y⁺ + p·y⁻`` (backlog);
    upstream nodes ``h·y``; every edge ``edge_cost·q[e, t]``.

    **Why it is a bound, and why only counted periods are minimised.**  The trajectory of any
    non-anticipative policy, which knows less, is feasible for the LP and has the same cost
    (for lost sales its ``y = (x⁰ − D)⁺`` satisfies the relaxed ``y >= x⁰ − D``).  The reported
    metric (§2.4) counts periods ``t >= warmup`` only, so the LP minimises exactly that sum: its
    optimum is then ≤ the reported cost of every policy on the trace.  Minimising all periods and
    reporting the counted ones would *not* be a bound (it may pay less in warm-up and more later).
    Warm-up periods are therefore free for the LP: it may pre-position stock, and for lost sales
    it may even decline sales (``u > (D − x⁰)⁺``) then, which is a relaxation, so still a bound.
    Orders that cannot arrive before ``T`` are allowed; they cost their edge cost, and shipping
    stock into a pipeline that ends after ``T`` removes it from holding cost, exactly as in the
    environment, where stock in transit is never charged.

    The bound is weak in stationary settings (close to the just-in-time oracle); it is the
    reference for real-data and network settings.

    Args:
        net: the network (:class:`Network`).
        demand: ``[S, T, n_stores]`` (or ``[T, n_stores]`` for one trace), ``>= 0`` with lost sales
            (backlog accepts negative values: returns); column ``j``
            is the demand of node ``net.store_index[j]``.
        initial_inventory: ``[S, N, K]`` (or ``[N, K]``, shared by all traces), the §2.1 state:
            slot 0 on-hand at the start of period 0 (negative only at backlogged stores), slot
            ``k`` arriving at the start of period ``k`` (``>= 0``).
        warmup: number of leading periods excluded from the objective and the reported cost.
        return_orders: also return the optimal orders.

    Returns:
        ``cost`` of shape ``[S]``: optimal total cost over periods ``t >= warmup`` divided by
        ``(T − warmup)·n_stores`` (the reported metric); with ``return_orders``, the pair
        ``(cost, orders)`` with ``orders`` of shape ``[S, T, E]``.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    demand = np.asarray(demand, dtype=float)
    if demand.ndim == 2:
        demand = demand[None]
    if demand.ndim != 3 or demand.shape[2] != net.n_stores or demand.shape[1] < 1:
        raise ValueError(f"demand has shape {demand.shape}; expected [S, T, n_stores={net.n_stores}]")
    if not np.all(np.isfinite(demand)):
        raise ValueError("demand must be finite")
    if net.lost_demand and np.any(demand < 0):
        # with backlog a negative demand (unclipped normal, transshipment preset) is a return; lost
        # sales need 0 <= u <= D
        raise ValueError("demand must be >= 0 with lost sales")
    n_scen, horizon, _ = demand.shape
    init = np.asarray(initial_inventory, dtype=float)
    if init.ndim == 2:
        init = np.broadcast_to(init, (n_scen,) + init.shape)
    if init.ndim != 3 or init.shape[:2] != (n_scen, net.n_nodes) or init.shape[2] < 1:
        raise ValueError(
            f"initial_inventory has shape {init.shape}; expected [S={n_scen}, N={net.n_nodes}, K>=1]"
        )
    if not np.all(np.isfinite(init)) or np.any(init[:, :, 1:] < 0):
        raise ValueError("initial_inventory must be finite, with pipeline slots (k >= 1) >= 0")
    may_be_negative = (net.node_kind == STORE) & (not net.lost_demand)
    if np.any(init[:, ~may_be_negative, 0] < 0):
        raise ValueError("initial on-hand (slot 0) may be negative only at backlogged stores")
    warmup = _integer("warmup", warmup, 0)
    if warmup >= horizon:
        raise ValueError(f"warmup={warmup} must be < T={horizon}")

    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with every OR-tools wheel
        raise RuntimeError("OR-tools GLOP solver is not available")
    inf = solver.infinity()
    objective = solver.Objective()
    objective.SetMinimization()
    n_nodes, n_edges = net.n_nodes, net.n_edges
    is_store = net.node_kind == STORE
    counted = [t >= warmup for t in range(horizon)]

    # The model is built once; per trace only the right-hand sides (arrivals minus demand) and
    # the bounds u <= D change, so the same solver is re-solved after SetBounds.
    balance = [[solver.Constraint(0.0, 0.0) for _ in range(horizon)] for _ in range(n_nodes)]
    orders = [[solver.NumVar(0.0, inf, "") for _ in range(horizon)] for _ in range(n_edges)]
    for e in range(n_edges):
        src, dst, lead, price = net.edge_src[e], net.edge_dst[e], net.edge_lead[e], net.edge_cost[e]
        for t in range(horizon):
            var = orders[e][t]
            if src >= 0:
                balance[src][t].SetCoefficient(var, 1.0)
            if t + lead < horizon:
                balance[dst][t + lead].SetCoefficient(var, -1.0)
            if counted[t] and price:
                objective.SetCoefficient(var, float(price))

    lost = {}
    for n in range(n_nodes):
        hold, under = float(net.holding[n]), float(net.underage[n])
        for t in range(horizon):
            row = balance[n][t]
            if is_store[n] and not net.lost_demand:
                # backlog: y = y⁺ − y⁻ is free; only its positive and negative parts are priced
                plus, minus = solver.NumVar(0.0, inf, ""), solver.NumVar(0.0, inf, "")
                row.SetCoefficient(plus, 1.0)
                row.SetCoefficient(minus, -1.0)
                if t + 1 < horizon:
                    balance[n][t + 1].SetCoefficient(plus, -1.0)
                    balance[n][t + 1].SetCoefficient(minus, 1.0)
                if counted[t]:
                    objective.SetCoefficient(plus, hold)
                    objective.SetCoefficient(minus, under)
                continue
            # stock left at the end of the period; a transshipment center keeps none
            stock = solver.NumVar(0.0, inf if net.holds_stock[n] else 0.0, "")
            row.SetCoefficient(stock, 1.0)
            if t + 1 < horizon:
                balance[n][t + 1].SetCoefficient(stock, -1.0)
            if counted[t] and hold:
                objective.SetCoefficient(stock, hold)
            if is_store[n]:
                short = solver.NumVar(0.0, 0.0, "")
                row.SetCoefficient(short, -1.0)
                if counted[t]:
                    objective.SetCoefficient(short, under)
                lost[n, t] = short

    costs = np.empty(n_scen)
    order_values = np.zeros((n_scen, horizon, n_edges)) if return_orders else None
    n_slots = min(init.shape[2], horizon)
    for s in range(n_scen):
        rhs = np.zeros((n_nodes, horizon))
        rhs[:, :n_slots] = init[s, :, :n_slots]
        rhs[net.store_index, :] -= demand[s].T
        for n in range(n_nodes):
            for t in range(horizon):
                balance[n][t].SetBounds(rhs[n, t], rhs[n, t])
        if net.lost_demand:
            for j, n in enumerate(net.store_index):
                for t in range(horizon):
                    lost[n, t].SetUb(demand[s, t, j])
        status = solver.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            raise RuntimeError(f"hindsight LP of trace {s} not solved to optimality (GLOP status {status})")
        costs[s] = objective.Value() / ((horizon - warmup) * net.n_stores)
        if return_orders:
            order_values[s] = [
                [orders[e][t].solution_value() for e in range(n_edges)] for t in range(horizon)
            ]
    if return_orders:
        return costs, order_values
    return costs
