"""Numba kernels of one period of an inventory network, over a batch (spec ``inventory.md`` §2.3).

State per env: ``inv[b, n, k]`` — slot 0 is node n's on-hand at the start of the period (negative =
backlog at a backlogged store), slot k the quantity arriving in k periods. Order of events:

1. orders are clipped to ``[0, max_order]`` (negative orders count as 0);
2. requests on edges out of a node are rationed proportionally to its on-hand (a transshipment center,
   which holds no stock, ships all of it: proportionally to the requests, evenly if none — requests
   totalling at most ``REQUEST_FLOOR`` count as none, in this kernel and in its torch twin);
3. shipments leave the sources' on-hand;
4. demand is realised and costs charged: store p·short + h·(post-demand stock), upstream h·(post-shipment
   on-hand), edge_cost·(quantity ordered from the supplier); profit mode pays p·sales − h·leftover;
5. lost sales truncate negative stock at 0; backlog keeps it;
6. every node's vector shifts one slot (slot 1 joins on-hand) and an order of lead ℓ is added to slot ℓ−1.

The static network is packed into a few tables and every output into one buffer: a single env makes one
kernel call per step, and numba's cost of a call grows with the number of array arguments.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Batches at least this large are stepped on all cores; smaller ones (a single env) avoid the thread
# start-up cost.
PARALLEL_MIN_BATCH = 512
REQUEST_FLOOR = 1e-15
"""A transshipment center ships evenly when its requests total at most this many units: the twin's
rationing ratio on_hand / total would otherwise have NaN gradients (total² underflows in float32)."""

# columns of the per-edge and per-node tables
SRC, DST, LEAD = 0, 1, 2  # edges (int64)
COST, MAX_ORDER = 0, 1  # edge_f (float64)
HOLDING, UNDERAGE, HOLDS_STOCK, N_OUT = 0, 1, 2, 3  # nodes (float64)
# columns of the output buffer: reward, holding, shortage, procurement, then node_cost [N], shipped [E],
# sales [S], demand [S]
REWARD, C_HOLDING, C_SHORTAGE, C_PROCUREMENT, FIRST_NODE = 0, 1, 2, 3, 4

OK, PAST_HORIZON, NAN_ACTION = 0, 1, 2


def output_width(n_nodes: int, n_edges: int, n_stores: int) -> int:
    return FIRST_NODE + n_nodes + n_edges + 2 * n_stores


@njit(cache=True)
def _validate(t, demand, actions, active):
    """Check the whole batch before touching it: no env past its demand trace, no NaN order."""
    for b in range(t.shape[0]):
        if not active[b]:
            continue
        if t[b] >= demand.shape[1]:
            return PAST_HORIZON
        for e in range(actions.shape[1]):
            if np.isnan(actions[b, e]):
                return NAN_ACTION
    return OK


@njit(cache=True, inline="always")
def _period(b, inv, t, demand, actions, active, edges, edge_f, nodes, store_col, lost, profit, static,
            out, post, request):
    """One period of env ``b`` (the body shared by the serial and the parallel batch loops)."""
    N, K = inv.shape[1], inv.shape[2]
    E, S = edges.shape[0], demand.shape[2]
    ship0, sales0 = FIRST_NODE + N, FIRST_NODE + N + E
    demand0 = sales0 + S
    for i in range(out.shape[1]):
        out[b, i] = 0.0
    if not active[b]:
        for i in range(post.shape[1]):
            post[b, i] = 0.0
        return
    tb = t[b]
    for n in range(N):
        request[b, n] = 0.0
    # 1-2. clip, then ration requests by each source's on-hand
    for e in range(E):
        q = min(max(actions[b, e], 0.0), edge_f[e, MAX_ORDER])
        out[b, ship0 + e] = q
        if edges[e, SRC] >= 0:
            request[b, edges[e, SRC]] += q
    for e in range(E):
        s = edges[e, SRC]
        if s < 0:
            continue
        on_hand = max(inv[b, s, 0], 0.0)
        if nodes[s, HOLDS_STOCK] > 0.0:
            if request[b, s] > on_hand:
                out[b, ship0 + e] *= on_hand / request[b, s]
        elif request[b, s] > REQUEST_FLOOR:
            out[b, ship0 + e] *= on_hand / request[b, s]
        else:  # a transshipment center ships everything, evenly when nothing is requested
            out[b, ship0 + e] = on_hand / nodes[s, N_OUT]
    # 3. shipments leave; procurement is paid on orders from the external supplier
    for e in range(E):
        s = edges[e, SRC]
        if s >= 0:
            inv[b, s, 0] -= out[b, ship0 + e]
        else:
            cost = edge_f[e, COST] * out[b, ship0 + e]
            out[b, C_PROCUREMENT] += cost
            out[b, FIRST_NODE + edges[e, DST]] += cost
    # post-decision view (when asked for: post has columns): on-hand after shipments, slot k = arriving
    # in k periods including this period's orders, then the static features
    if post.shape[1] > 0:
        for n in range(N):
            for k in range(K):
                post[b, n * (K + 1) + k] = inv[b, n, k]
            post[b, n * (K + 1) + K] = 0.0
        for e in range(E):
            post[b, edges[e, DST] * (K + 1) + edges[e, LEAD]] += out[b, ship0 + e]
        for i in range(static.shape[0]):
            post[b, N * (K + 1) + i] = static[i]
    # 4-5. demand and costs
    margin = 0.0
    for n in range(N):
        x0 = inv[b, n, 0]
        h = nodes[n, HOLDING]
        col = store_col[n]
        if col >= 0:
            p = nodes[n, UNDERAGE]
            d = demand[b, tb, col]
            y = x0 - d
            short = max(-y, 0.0)
            over = max(y, 0.0)
            sold = min(max(x0, 0.0), d)
            out[b, sales0 + col] = sold
            out[b, demand0 + col] = d
            margin += p * sold
            out[b, C_SHORTAGE] += p * short
            out[b, C_HOLDING] += h * over
            out[b, FIRST_NODE + n] += p * short + h * over
            if lost and y < 0.0:
                y = 0.0
            inv[b, n, 0] = y
        else:
            cost = h * max(x0, 0.0)
            out[b, C_HOLDING] += cost
            out[b, FIRST_NODE + n] += cost
    # 6. shift one slot (slot 1 joins on-hand) and receive: an order of lead ℓ lands in slot ℓ-1
    if K > 1:
        for n in range(N):
            inv[b, n, 0] += inv[b, n, 1]
            for k in range(1, K - 1):
                inv[b, n, k] = inv[b, n, k + 1]
            inv[b, n, K - 1] = 0.0
    for e in range(E):
        inv[b, edges[e, DST], edges[e, LEAD] - 1] += out[b, ship0 + e]
    if profit:  # margin on sales minus holding and procurement; shortage is only reported
        out[b, REWARD] = margin - out[b, C_HOLDING] - out[b, C_PROCUREMENT]
    else:
        out[b, REWARD] = -(out[b, C_HOLDING] + out[b, C_SHORTAGE] + out[b, C_PROCUREMENT])
    t[b] = tb + 1


@njit(cache=True)
def step_serial(inv, t, demand, actions, active, edges, edge_f, nodes, store_col, lost, profit, static,
                out, post, request):
    """Step every active env once; returns ``OK`` or, touching nothing, an error code."""
    status = _validate(t, demand, actions, active)
    if status != OK:
        return status
    for b in range(inv.shape[0]):
        _period(b, inv, t, demand, actions, active, edges, edge_f, nodes, store_col, lost, profit, static,
                out, post, request)
    return OK


@njit(cache=True, parallel=True)
def step_parallel(inv, t, demand, actions, active, edges, edge_f, nodes, store_col, lost, profit, static,
                  out, post, request):
    """:func:`step_serial` with envs spread over the cores."""
    status = _validate(t, demand, actions, active)
    if status != OK:
        return status
    for b in prange(inv.shape[0]):
        _period(b, inv, t, demand, actions, active, edges, edge_f, nodes, store_col, lost, profit, static,
                out, post, request)
    return OK


@njit(cache=True, inline="always")
def _flat_row(b, inv, static, out):
    i = 0
    for n in range(inv.shape[1]):
        for k in range(inv.shape[2]):
            out[b, i] = inv[b, n, k]
            i += 1
    for j in range(static.shape[0]):
        out[b, i + j] = static[j]


@njit(cache=True)
def flat_observation(inv, static, out):
    """out[b] = (inventory vectors of all nodes, static features), as float32."""
    for b in range(inv.shape[0]):
        _flat_row(b, inv, static, out)


@njit(cache=True, parallel=True)
def flat_observation_parallel(inv, static, out):
    """:func:`flat_observation` with envs spread over the cores."""
    for b in prange(inv.shape[0]):
        _flat_row(b, inv, static, out)


@njit(cache=True, parallel=True)
def correlate_demand(z, chol, mean, clip):
    """In place: z[b, t] <- mean + chol @ z[b, t] (chol lower-triangular), clipped at 0 if ``clip``.
    A numba loop: NumPy's matmul over many tiny rows is slower than the draws themselves."""
    B, T, S = z.shape
    for b in prange(B):
        row = np.empty(S)
        for t in range(T):
            for i in range(S):
                row[i] = z[b, t, i]
            for i in range(S):
                acc = mean[i]
                for j in range(i + 1):
                    acc += chol[i, j] * row[j]
                z[b, t, i] = max(acc, 0.0) if clip else acc
