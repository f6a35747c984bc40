"""Exact and OR-tools references of the lot-sizing family (spec ``lot_sizing.md`` §5).

* :func:`value_iteration` — exact finite-horizon backward induction (and discounted value iteration) over
  (setups, stock) for tiny instances (§5.3); refuses instances above ``VI_MAX_WORK`` with a clear error.
* :func:`idle_expected_cost` — exact expected cost of never producing (§5.1), by a forward recursion of
  each item's stock distribution.
* :func:`wait_and_see` — the perfect-information MIP of one demand scenario (§5.4) with CP-SAT (costs
  scaled to integers) or a pywraplp backend (SCIP, HiGHS, CBC); ``exact=True`` replicates §2.3 exactly,
  otherwise free disposal makes it a relaxation; the solver's dual bound is returned besides the value.
* :func:`plan_expected_value` — the same model over a look-ahead window with demand replaced by its mean
  (the rolling-horizon expected-value policy of §5.5 applies its first period).
* :func:`wagner_whitin` — single-item uncapacitated lot sizing (§5.6).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np

from opsrl.envs.lot_sizing.dynamics import post_decision_numpy
from opsrl.envs.lot_sizing.params import Instance

VI_MAX_WORK = 20_000_000  # states × actions × periods above which exact DP is refused


# -- value iteration (§5.3) -------------------------------------------------------------------------------
@dataclasses.dataclass
class DPSolution:
    """Exact DP of an instance. ``value[σ, I_1, ..., I_I]`` is the optimal expected cost from period 0
    (finite horizon) or the discounted value (infinite horizon); ``policy[t, σ, I...]`` (finite) or
    ``policy[σ, I...]`` (discounted) is the index of the optimal joint action in ``actions``."""

    value: np.ndarray
    policy: np.ndarray
    setups: np.ndarray  # [nσ, M] every setup vector, in index order
    actions: np.ndarray  # [nA, M] every joint action
    horizon: int | None
    discount: float

    def setup_index(self, setup: np.ndarray) -> np.ndarray:
        base = self.setups.max() + 1 if self.setups.size else 1
        return (setup * (base ** np.arange(setup.shape[-1] - 1, -1, -1))).sum(-1)


def _transition_tables(inst: Instance, x_max: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per item: Q[x, y] = P(end stock y | post-decision stock x) and c[x] = expected lost-sales + holding
    cost, for x in 0..x_max."""
    Q, C = [], []
    for i in range(inst.n_items):
        pmf = inst.demand_pmf[i]
        d = np.arange(pmf.size)
        x = np.arange(x_max[i] + 1)[:, None]
        y = x - d[None, :]
        end = np.minimum(np.maximum(y, 0), inst.max_inventory[i])
        q = np.zeros((x.shape[0], inst.max_inventory[i] + 1))
        for k in range(pmf.size):
            np.add.at(q, (np.arange(x.shape[0]), end[:, k]), pmf[k])
        cost = (inst.lost_sales[i] * np.maximum(-y, 0) + inst.holding[i] * end) @ pmf
        Q.append(q)
        C.append(cost)
    return Q, C


def value_iteration(inst: Instance, horizon: int | None, discount: float = 1.0, exclusive: bool = False,
                    tol: float = 1e-10, max_iter: int = 100_000) -> DPSolution:
    """Exact DP of §2.3 (clean mode) by backward induction over ``horizon`` periods, or, with
    ``horizon=None``, discounted value iteration to a fixed point (``discount`` < 1)."""
    n_items, n_mach = inst.n_items, inst.n_machines
    n_sig = n_act = (n_items + 1) ** n_mach  # Python ints: checked before anything that size is built
    inv_shape = tuple(int(v) + 1 for v in inst.max_inventory)
    n_inv = math.prod(inv_shape)
    work = n_sig * n_inv * n_act * (horizon or 1)
    if work > VI_MAX_WORK or len(inv_shape) > 6:
        raise ValueError(f"instance too large for exact DP: {n_sig:,} setups x {n_inv:,} stock states x {n_act:,} "
                         f"actions x {horizon or 1} periods = {work:.3g} > {VI_MAX_WORK:,}")
    setups = np.array(list(itertools.product(range(n_items + 1), repeat=n_mach)), dtype=np.int64)
    actions = setups.copy()
    if horizon is None and not 0.0 < discount < 1.0:
        raise ValueError(f"discount={discount!r} is invalid for the infinite horizon: must be in (0, 1)")
    # the deterministic part depends on (σ, a) only: production shift, new setup, setup cost
    sig_rep = np.repeat(setups, n_act, axis=0)
    act_rep = np.tile(actions, (n_sig, 1))
    zero = np.zeros((len(sig_rep), n_items), dtype=np.int64)
    _, new_setup, cost, _, produced = post_decision_numpy(zero, sig_rep, act_rep, inst.production, inst.setup_loss,
                                                          inst.setup_cost, False, exclusive)
    base = n_items + 1
    new_idx = (new_setup * (base ** np.arange(n_mach - 1, -1, -1))).sum(1)
    shift = produced.reshape(n_sig, n_act, n_items)
    new_idx = new_idx.reshape(n_sig, n_act)
    cost = cost.reshape(n_sig, n_act)
    x_max = np.array(inv_shape) - 1 + shift.reshape(-1, n_items).max(0)
    Q, C = _transition_tables(inst, x_max)
    # separable immediate cost on the extended grid
    c_ext = np.zeros(tuple(int(v) + 1 for v in x_max))
    for i in range(n_items):
        shape = [1] * n_items
        shape[i] = -1
        c_ext = c_ext + C[i].reshape(shape)

    def backup(v_next: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
        w = v_next  # [nσ, I...] -> expected over demand, on the extended grid of post-decision stock
        for i in range(n_items):
            w = np.moveaxis(np.tensordot(w, Q[i], axes=([1 + i], [1])), -1, 1 + i)
        total = c_ext[None] + gamma * w  # [nσ', X...]
        q = np.empty((n_act, n_sig, *inv_shape))
        for s in range(n_sig):
            for a in range(n_act):
                sl = tuple(slice(int(shift[s, a, i]), int(shift[s, a, i]) + inv_shape[i]) for i in range(n_items))
                q[a, s] = cost[s, a] + total[(new_idx[s, a], *sl)]
        best = q.argmin(0)
        return np.take_along_axis(q, best[None], 0)[0], best

    if horizon is not None:
        v = np.zeros((n_sig, *inv_shape))
        policy = np.empty((horizon, n_sig, *inv_shape), dtype=np.int64)
        for t in range(horizon - 1, -1, -1):
            v, policy[t] = backup(v, discount)
        return DPSolution(v, policy, setups, actions, horizon, discount)
    v = np.zeros((n_sig, *inv_shape))
    for _ in range(max_iter):
        v_new, pol = backup(v, discount)
        if np.max(np.abs(v_new - v)) < tol:
            return DPSolution(v_new, pol, setups, actions, None, discount)
        v = v_new
    raise RuntimeError(f"value iteration did not converge in {max_iter} iterations")


def start_distribution(inst: Instance, random_reset: bool) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """``(probability, stock, setup)`` of every start state (one state for a fixed reset)."""
    if not random_reset:
        return [(1.0, inst.initial_inventory, inst.initial_setup)]
    caps = [np.flatnonzero(inst.production[m] > 0) + 1 for m in range(inst.n_machines)]
    stocks = list(itertools.product(*[range(int(v)) for v in inst.max_inventory]))
    setups = list(itertools.product(*caps))
    p = 1.0 / (len(stocks) * len(setups))
    return [(p, np.array(s), np.array(g)) for s in stocks for g in setups]


def dp_start_value(sol: DPSolution, inst: Instance, random_reset: bool) -> float:
    """Expected optimal cost over the start distribution of the env."""
    total = 0.0
    for p, stock, setup in start_distribution(inst, random_reset):
        total += p * float(sol.value[(int(sol.setup_index(setup)), *stock.tolist())])
    return total


# -- always idle (§5.1) -------------------------------------------------------------------------------------
def idle_expected_cost(inst: Instance, horizon: int, random_reset: bool) -> tuple[float, np.ndarray, np.ndarray]:
    """Exact expected total cost of never producing; also per item E[lost units] and E[Σ_t stock_t]."""
    lost, stock = np.zeros(inst.n_items), np.zeros(inst.n_items)
    for i in range(inst.n_items):
        cap = int(inst.max_inventory[i])
        dist = np.zeros(cap + 1)
        if random_reset:
            dist[:cap] = 1.0 / cap
        else:
            dist[int(inst.initial_inventory[i])] = 1.0
        pmf = inst.demand_pmf[i]
        d = np.arange(pmf.size)
        x = np.arange(cap + 1)
        expected_lost = np.maximum(d[None, :] - x[:, None], 0) @ pmf  # E[lost | stock x]
        move = np.zeros((cap + 1, cap + 1))  # P(next stock | stock x) when nothing is made
        np.add.at(move, (np.repeat(x, d.size), np.maximum(x[:, None] - d[None, :], 0).ravel()),
                  np.tile(pmf, cap + 1))
        for _ in range(horizon):
            lost[i] += dist @ expected_lost
            dist = dist @ move
            stock[i] += dist @ x
    return float(lost @ inst.lost_sales + stock @ inst.holding), lost, stock


# -- the MIP of §5.4 ---------------------------------------------------------------------------------------
@dataclasses.dataclass
class MIPResult:
    value: float  # objective of the best solution found (original cost units)
    bound: float  # the solver's dual bound (a valid lower bound on the optimum)
    optimal: bool
    produce: np.ndarray  # int64 [T, M]: the item each machine makes (0 idle) in the best solution
    status: str


def cost_scale(values: np.ndarray, max_power: int = 6) -> int:
    """The smallest 10^k making every cost integral (CP-SAT needs integer coefficients)."""
    for k in range(max_power + 1):
        s = 10**k
        if np.allclose(values * s, np.round(values * s), atol=1e-9, rtol=0):
            return s
    raise ValueError(f"costs need more than {max_power} decimals to be integral; use backend='scip'")


def _solve_model(inst: Instance, demand: np.ndarray, inv0: np.ndarray, setup0: np.ndarray, exact: bool,
                 exclusive: bool, backend: str, time_limit: float | None, clean: bool = True,
                 workers: int = 1) -> MIPResult:
    T, n_items = demand.shape
    n_mach = inst.n_machines
    integer = np.allclose(demand, np.round(demand))
    costs = np.concatenate([inst.setup_cost.ravel(), inst.holding, inst.lost_sales])
    if backend == "cpsat":
        if not integer:
            raise ValueError("CP-SAT needs integer demand; use backend='scip' for expected demand")
        from ortools.sat.python import cp_model

        scale = cost_scale(costs)
        model = cp_model.CpModel()
        big = int(inst.max_inventory.max() + inst.production.sum() + demand.max() + 1)

        def boolean(name):
            return model.NewBoolVar(name)

        def number(hi, name):
            return model.NewIntVar(0, int(np.ceil(hi)), name)

        add = model.Add
    else:
        from ortools.linear_solver import pywraplp

        solver = pywraplp.Solver.CreateSolver(backend.upper())
        if solver is None:
            raise ValueError(f"OR-tools backend {backend!r} is not available")
        scale = 1
        big = float(inst.max_inventory.max() + inst.production.sum() + demand.max() + 1)

        def boolean(name):
            return solver.BoolVar(name)

        def number(hi, name):
            return solver.IntVar(0, float(hi), name) if integer else solver.NumVar(0, float(hi), name)

        add = solver.Add
    # net batch of a switch: clean mode never lets a setup destroy stock (loss capped at P)
    loss = np.minimum(inst.setup_loss, inst.production) if clean else inst.setup_loss
    pairs = [(m, i) for m in range(n_mach) for i in range(n_items) if inst.production[m, i] > 0]
    y = {(m, i, t): boolean(f"y{m}_{i}_{t}") for (m, i) in pairs for t in range(T)}
    s = {(m, i, t): boolean(f"s{m}_{i}_{t}") for (m, i) in pairs for t in range(T)}
    stock = {(i, t): number(inst.max_inventory[i], f"I{i}_{t}") for i in range(n_items) for t in range(T)}
    lost = {(i, t): number(big, f"z{i}_{t}") for i in range(n_items) for t in range(T)}
    disp = {(i, t): number(big, f"w{i}_{t}") for i in range(n_items) for t in range(T)}
    for m in range(n_mach):
        for t in range(T):
            mine = [y[m, i, t] for (mm, i) in pairs if mm == m]
            if mine:
                add(sum(mine) <= 1)
    for (m, i) in pairs:
        for t in range(T):
            prev = y[m, i, t - 1] if t > 0 else int(setup0[m] == i + 1)
            add(s[m, i, t] >= y[m, i, t] - prev)
            if exact:  # a switch happens exactly when m starts making i
                add(s[m, i, t] <= y[m, i, t])
                add(s[m, i, t] <= 1 - prev)
    if exclusive:
        for i in range(n_items):
            for t in range(T):
                mine = [y[m, i, t] for (m, ii) in pairs if ii == i]
                if len(mine) > 1:
                    add(sum(mine) <= 1)
    for i in range(n_items):
        cap = int(inst.max_inventory[i])
        for t in range(T):
            prev = stock[i, t - 1] if t > 0 else int(inv0[i])
            made = sum(int(inst.production[m, i]) * y[m, i, t] - int(loss[m, i]) * s[m, i, t]
                       for (m, ii) in pairs if ii == i)
            dem = int(round(demand[t, i])) if integer else float(demand[t, i])
            add(stock[i, t] == prev + made - dem + lost[i, t] - disp[i, t])
            if clean:  # valid for §2.3 in clean mode (batches never negative) and a much tighter model
                add(lost[i, t] <= dem)
            if exact:
                # disposal only at the cap, lost sales only when the shelf is empty: §2.3 exactly
                u, v = boolean(f"u{i}_{t}"), boolean(f"v{i}_{t}")
                add(disp[i, t] <= big * u)
                add(stock[i, t] >= cap * u)
                add(lost[i, t] <= big * v)
                add(stock[i, t] <= cap * (1 - v))
    sc = scale

    def coef(x: float) -> float | int:  # CP-SAT: integers of the scaled costs; pywraplp: the costs
        return int(round(sc * x)) if backend == "cpsat" else float(x)

    obj = sum(coef(inst.setup_cost[m, i]) * s[m, i, t] for (m, i) in pairs for t in range(T))
    obj += sum(coef(inst.holding[i]) * stock[i, t] + coef(inst.lost_sales[i]) * lost[i, t]
               for i in range(n_items) for t in range(T))
    produce = np.zeros((T, n_mach), dtype=np.int64)
    if backend == "cpsat":
        model.Minimize(obj)
        # hint the always-idle trajectory: a feasible start, so a time limit never ends without a solution
        for var in itertools.chain(y.values(), s.values()):
            model.AddHint(var, 0)
        for i in range(n_items):
            x = int(inv0[i])
            for t in range(T):
                rest = x - int(round(demand[t, i]))
                model.AddHint(lost[i, t], max(-rest, 0))
                x = max(rest, 0)
                model.AddHint(stock[i, t], x)
                model.AddHint(disp[i, t], 0)
        cp = cp_model.CpSolver()
        cp.parameters.num_workers = workers
        if time_limit:
            cp.parameters.max_time_in_seconds = float(time_limit)
        status = cp.Solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise RuntimeError(f"CP-SAT found no solution: {cp.StatusName(status)}")
        for (m, i, t), var in y.items():
            if cp.Value(var):
                produce[t, m] = i + 1
        return MIPResult(cp.ObjectiveValue() / sc, cp.BestObjectiveBound() / sc, status == cp_model.OPTIMAL,
                         produce, cp.StatusName(status))
    solver.Minimize(obj)
    if time_limit:
        solver.SetTimeLimit(int(1000 * time_limit))
    status = solver.Solve()
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        raise RuntimeError(f"{backend} found no solution (status {status})")
    for (m, i, t), var in y.items():
        if var.solution_value() > 0.5:
            produce[t, m] = i + 1
    bound = solver.Objective().BestBound() if status != pywraplp.Solver.OPTIMAL else solver.Objective().Value()
    return MIPResult(solver.Objective().Value(), bound, status == pywraplp.Solver.OPTIMAL, produce,
                     "OPTIMAL" if status == pywraplp.Solver.OPTIMAL else "FEASIBLE")


def wait_and_see(inst: Instance, demand: np.ndarray, inv0: np.ndarray, setup0: np.ndarray, exact: bool = False,
                 exclusive: bool = False, backend: str = "cpsat", time_limit: float | None = None,
                 clean: bool = True, workers: int = 1) -> MIPResult:
    """Perfect-information MIP of one scenario ``demand`` [T, I] from stock ``inv0`` and setups ``setup0``.

    ``exact=False`` (free disposal, loose switches) is a relaxation of §2.3, hence a lower bound;
    ``exact=True`` adds the binaries that make every MIP solution a §2.3 trajectory (its ``produce`` then
    re-simulates to ``value``). Either way ``bound`` (the solver's dual bound) is valid even when the time
    limit stops the search.
    """
    return _solve_model(inst, np.asarray(demand, dtype=np.float64), np.asarray(inv0), np.asarray(setup0), exact,
                        exclusive, backend, time_limit, clean, workers)


def plan_expected_value(inst: Instance, inv0: np.ndarray, setup0: np.ndarray, window: int,
                        exclusive: bool = False, backend: str | None = None, time_limit: float | None = 2.0,
                        exact: bool = False) -> MIPResult:
    """The §5.4 model over ``window`` periods with every demand replaced by its mean (§5.5)."""
    mean = np.tile(inst.demand_mean, (window, 1))
    if backend is None:  # SCIP's LP-based search beats single-worker CP-SAT on these short windows
        backend = "scip"
    return _solve_model(inst, mean, np.asarray(inv0), np.asarray(setup0), exact, exclusive, backend, time_limit)


# -- Wagner–Whitin (§5.6) ------------------------------------------------------------------------------------
def wagner_whitin(demand: Any, setup_cost: float, holding_cost: float) -> tuple[float, list[float]]:
    """Single-item uncapacitated lot sizing: F(t) = min_j F(j) + K + h·Σ_{k=j}^{t-1} (k − j)·d_k.

    Holding is charged on end-of-period stock, no initial stock, no unit cost. Returns the optimal cost
    and the order quantities per period (the order in period j covers periods j..t−1).
    """
    d = np.asarray(demand, dtype=np.float64)
    if d.ndim != 1 or (d < 0).any():
        raise ValueError(f"demand={demand!r} is invalid: must be a list of non-negative numbers")
    T = d.size
    F = np.full(T + 1, np.inf)
    F[0] = 0.0
    arg = np.zeros(T + 1, dtype=np.int64)
    for t in range(1, T + 1):
        for j in range(t):
            carry = holding_cost * float(np.dot(np.arange(t - j), d[j:t]))
            order_cost = setup_cost if d[j:t].sum() > 0 else 0.0  # no order needed for zero demand
            c = F[j] + order_cost + carry
            if c < F[t] - 1e-12:
                F[t], arg[t] = c, j
    orders = [0.0] * T
    t = T
    while t > 0:
        j = int(arg[t])
        orders[j] = float(d[j:t].sum())
        t = j
    return float(F[T]), orders


# -- Lagrangian perfect-information bound (§5.4, strengthened) -----------------------------------------------
# The wait-and-see MIP's LP relaxation is nearly 0 on T = 100 instances (fractional setups spread production
# without a setup cost), so its dual bound within any practical time limit says nothing. This bound instead
# dualises the machine capacity (each machine makes at most one item per period) with multipliers
# λ[m, t] >= 0. What remains splits into one problem per item: which of its machines produce in each period,
# with the exact setup rule (a setup is paid when m makes i at t but did not at t − 1), setup loss, lost
# sales, holding and the cap. Each item's problem is solved exactly by dynamic programming over (stock,
# machines that produced the item last period), so every λ gives a valid lower bound
#     L(λ) = Σ_i v_i(λ) − Σ_{m,t} λ[m, t] <= wait-and-see optimum,
# and a subgradient method raises it. The DP tracks the setups of each item's machines exactly up to
# ``max_states`` DP states; the items of large instances (up to 12 capable machines on pdppo_25x15) keep their
# costliest machines exact and pool the rest: the pool's state is only how many of its machines made the item
# last period, and using c of them in a period is credited with the c largest batches for the c smallest
# multipliers, with max(0, c − c_prev) setups at the pool's smallest setup cost and loss. Every plan of the
# real model maps to a plan of this relaxation that costs no more (a switch count can only be larger, each
# switch costs at least the minimum, the real batches are at most the largest ones, and stock may be thrown
# away freely), so the bound stays valid. Clean mode (§2.3) only.
def _njit(fn):
    from numba import njit

    return njit(cache=True)(fn)


@_njit
def _item_lagrangian_dp(demand, imax, hold, ls, s0, prev0, c0, P, L, F, lam, pool_top, pool_lam,
                        pool_F, pool_L):  # pragma: no cover
    """Exact DP of one item's Lagrangian subproblem.

    demand [T] int; P/L/F [K]: batch, setup loss and setup cost of the exactly tracked machines, lam [T, K]
    their multipliers, prev0 the bit set of them set up for the item at the start. The pool of R machines:
    pool_top [R + 1] (sum of the c largest batches), pool_lam [T, R + 1] (sum of the c smallest multipliers),
    pool_F/pool_L its smallest setup cost and loss, c0 how many of it are set up for the item at the start.
    Returns (value, used [T, K] 0/1, pool_used [T] counts) of an optimal plan.
    """
    T = demand.shape[0]
    K = P.shape[0]
    nS, C = 1 << K, pool_top.shape[0]
    X = imax + demand.max() + 1  # post-decision stock index 0..X-1; anything above ends at the cap anyway
    # transition tables of the tracked machines: production and setup cost of making S after S'
    prod = np.zeros((nS, nS), dtype=np.int64)
    setc = np.zeros((nS, nS))
    for S in range(nS):
        for Sp in range(nS):
            for k in range(K):
                if (S >> k) & 1:
                    if (Sp >> k) & 1:
                        prod[S, Sp] += P[k]
                    else:
                        prod[S, Sp] += P[k] - L[k]
                        setc[S, Sp] += F[k]
    V = np.zeros((nS, C, imax + 1))
    argS = np.zeros((T, nS, C, imax + 1), dtype=np.int64)
    argC = np.zeros((T, nS, C, imax + 1), dtype=np.int64)
    argX = np.zeros((T, nS, C, X), dtype=np.int64)
    G = np.empty((nS, C, X))
    lam_S = np.zeros(nS)
    for t in range(T - 1, -1, -1):
        d = demand[t]
        for S in range(nS):
            for c in range(C):
                # G(x): best cost from post-decision stock x with disposal down to any x' <= x
                g_best = np.inf
                g_arg = 0
                for x in range(X):
                    rest = x - d
                    end = min(imax, max(0, rest))
                    v = ls * max(0, -rest) + hold * end + V[S, c, end]
                    if v < g_best:
                        g_best, g_arg = v, x
                    G[S, c, x] = g_best
                    argX[t, S, c, x] = g_arg
        for S in range(nS):
            lam_S[S] = 0.0
            for k in range(K):
                if (S >> k) & 1:
                    lam_S[S] += lam[t, k]
        Vn = np.empty((nS, C, imax + 1))
        for Sp in range(nS):
            for cp in range(C):
                for s in range(imax + 1):
                    best = np.inf
                    bS = 0
                    bc = 0
                    for S in range(nS):
                        base = lam_S[S] + setc[S, Sp]
                        made = s + prod[S, Sp]
                        for c in range(C):
                            new = max(0, c - cp)
                            v = base + pool_lam[t, c] + new * pool_F \
                                + G[S, c, min(made + pool_top[c] - new * pool_L, X - 1)]
                            if v < best:
                                best, bS, bc = v, S, c
                    Vn[Sp, cp, s] = best
                    argS[t, Sp, cp, s] = bS
                    argC[t, Sp, cp, s] = bc
        V = Vn
    value = V[prev0, c0, s0]
    used = np.zeros((T, K), dtype=np.int64)
    pool_used = np.zeros(T, dtype=np.int64)
    Sp, cp, s = prev0, c0, s0
    for t in range(T):
        S = argS[t, Sp, cp, s]
        c = argC[t, Sp, cp, s]
        y = min(s + prod[S, Sp] + pool_top[c] - max(0, c - cp) * pool_L, X - 1)
        x = argX[t, S, c, y]
        for k in range(K):
            used[t, k] = (S >> k) & 1
        pool_used[t] = c
        s = min(imax, max(0, x - demand[t]))
        Sp, cp = S, c
    return value, used, pool_used


POLYAK_REACH = 0.25  # the subgradient's Polyak target: this share of the best bound above it (capped at upper)
LAMBDA_STARTS = (0.0, 1.0, 0.5, 2.0, 0.25)  # uniform multipliers tried first (up to half the iterations)


@dataclasses.dataclass
class LagrangianBound:
    """A valid lower bound on one scenario's perfect-information optimum: ``bound = max_k L(λ_k)``."""

    bound: float
    iterations: int
    history: list[float]
    multipliers: np.ndarray  # [T, M] the best λ


def lagrangian_bound(inst: Instance, demand: np.ndarray, inv0: np.ndarray, setup0: np.ndarray,
                     iterations: int = 60, exact_machines: int = 5, upper: float | None = None,
                     lam0: np.ndarray | None = None, max_states: int = 32) -> LagrangianBound:
    """Lower bound on the wait-and-see cost of the scenario ``demand`` [T, I] (integer) from ``inv0``, ``setup0``
    by Lagrangian relaxation of the machine capacities (see the comment above ``_item_lagrangian_dp``).

    Subgradient ascent with Polyak steps towards ``upper`` (a cost of a feasible plan, e.g. always idle;
    default: the always-idle cost of the scenario) and step halving after 5 iterations without progress.
    ``exact_machines``: at most this many machines per item have their setups tracked exactly, and no more than
    keep the DP within ``max_states`` states (2^k · (pool size + 1)); the item's other machines form its pool
    (counted, not identified; see the comment above ``_item_lagrangian_dp``). Work per item and iteration
    grows as states² · T · Imax. Any λ >= 0 gives a valid bound, so the iteration budget only affects tightness.
    """
    demand = np.rint(np.asarray(demand, dtype=np.float64)).astype(np.int64)
    T, n_items = demand.shape
    n_mach = inst.n_machines
    P = inst.production.astype(np.int64)
    L = np.minimum(inst.setup_loss, P).astype(np.int64)  # clean mode: a batch never destroys stock
    plan = []  # per item: tracked and pooled machines, the start's setups of each, the pool's λ-free data
    for i in range(n_items):
        cap = np.flatnonzero(P[:, i] > 0)
        # track the machines whose setups cost most (setup cost + lost units valued at the lost-sales cost)
        weight = inst.setup_cost[cap, i] + L[cap, i] * inst.lost_sales[i]
        order = cap[np.argsort(-weight, kind="stable")]
        k = min(exact_machines, len(cap))
        while k > 0 and (1 << k) * (len(cap) - k + 1) > max_states:
            k -= 1
        tracked, pooled = order[:k], order[k:]
        prev0 = sum(1 << j for j, m in enumerate(tracked) if setup0[m] == i + 1)
        c0 = int(sum(setup0[m] == i + 1 for m in pooled))
        # c pooled machines make the c largest batches, with the pool's smallest setup cost and loss
        pool_top = np.concatenate([[0], np.cumsum(np.sort(P[pooled, i])[::-1])]).astype(np.int64)
        pool_F = float(inst.setup_cost[pooled, i].min()) if len(pooled) else 0.0
        pool_L = int(L[pooled, i].min()) if len(pooled) else 0
        plan.append((tracked, pooled, prev0, c0, pool_top, pool_F, pool_L))
    if upper is None:  # always idle: stock runs down, then every unit is lost
        stock, upper = np.asarray(inv0, dtype=np.int64).copy(), 0.0
        for t in range(T):
            rest = stock - demand[t]
            upper += float(inst.lost_sales @ np.maximum(-rest, 0))
            stock = np.minimum(inst.max_inventory, np.maximum(rest, 0))
            upper += float(inst.holding @ stock)

    def dual(lam: np.ndarray) -> tuple[float, np.ndarray]:
        """L(λ) and each machine's load in the items' optimal plans (the subgradient is load − 1)."""
        total, load = -lam.sum(), np.zeros((T, n_mach))
        for i, (tracked, pooled, prev0, c0, pool_top, pool_F, pool_L) in enumerate(plan):
            # the pool's c machines are charged the c smallest multipliers of the period
            cheapest = pooled[np.argsort(lam[:, pooled], axis=1, kind="stable")]  # [T, R] machine ids
            pool_lam = np.concatenate([np.zeros((T, 1)), np.cumsum(np.take_along_axis(
                lam, cheapest, axis=1), axis=1)], axis=1) if len(pooled) else np.zeros((T, 1))
            v, used, pool_used = _item_lagrangian_dp(
                demand[:, i], int(inst.max_inventory[i]), float(inst.holding[i]), float(inst.lost_sales[i]),
                int(inv0[i]), int(prev0), c0, P[tracked, i], L[tracked, i],
                inst.setup_cost[tracked, i].astype(np.float64), np.ascontiguousarray(lam[:, tracked]), pool_top,
                np.ascontiguousarray(pool_lam), pool_F, pool_L)
            total += v
            load[:, tracked] += used
            for t in np.flatnonzero(pool_used):
                load[t, cheapest[t, : pool_used[t]]] += 1
        return float(total), load

    history: list[float] = []
    if lam0 is None:  # start from the best uniform price of machine time (1,500 multipliers start far from 0)
        starts = [np.full((T, n_mach), v) for v in LAMBDA_STARTS[: max(1, iterations // 2)]]
        history = [dual(lam)[0] for lam in starts]
        lam = starts[int(np.argmax(history))]
    else:
        lam = np.array(lam0, dtype=np.float64)
    best, best_lam = (max(history), lam.copy()) if history else (-np.inf, lam.copy())
    theta, stall = 1.0, 0
    while len(history) < iterations:
        total, load = dual(lam)
        history.append(total)
        if total > best + 1e-9:
            best, best_lam, stall = total, lam.copy(), 0
        else:
            stall += 1
            if stall >= 5:
                theta, stall = theta / 2, 0
        grad = load - 1.0
        grad[(lam <= 0) & (grad < 0)] = 0.0  # projected: λ stays at 0 where the machine is not overloaded
        norm = float((grad**2).sum())
        if norm == 0.0:  # the relaxed plan is feasible: the bound is the optimum of the relaxation
            break
        # Polyak step towards a target between the best bound and the upper cost (a far target overshoots)
        target = min(upper, best + POLYAK_REACH * abs(best) + 1.0) if np.isfinite(best) else upper
        step = theta * max(target - total, 0.05 * (target - best) + 1e-6) / norm
        lam = np.maximum(lam + step * grad, 0.0)
    return LagrangianBound(best, len(history), history, best_lam)
