"""The resolved graph of an inventory instance: nodes, edges, per-node costs, per-edge lead times.

Nodes are ordered echelons (most upstream first), warehouses, stores. Each edge carries one order
quantity per period; its source is a node or the external supplier (``-1``). The kernel, the torch twin,
the graph view and the hindsight LP all read this one structure.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from opsrl.core.errors import fail, per_item, require
from opsrl.envs.inventory.params import InventoryParams

ECHELON, WAREHOUSE, STORE = 0, 1, 2
SUPPLIER = -1


@dataclasses.dataclass(frozen=True, eq=False)
class Network:
    node_kind: np.ndarray  # int64 [N]
    holding: np.ndarray  # float64 [N]
    underage: np.ndarray  # float64 [N] (0 except stores)
    holds_stock: np.ndarray  # bool [N] (False = transshipment center)
    edge_src: np.ndarray  # int64 [E], -1 = external supplier
    edge_dst: np.ndarray  # int64 [E]
    edge_lead: np.ndarray  # int64 [E] >= 1
    edge_cost: np.ndarray  # float64 [E]
    max_order: np.ndarray  # float64 [E]
    store_index: np.ndarray  # int64 [S]: node id of store s (demand column s)
    store_col: np.ndarray  # int64 [N]: demand column of a store node, -1 otherwise
    demand_mean: np.ndarray  # float64 [S]
    demand_std: np.ndarray  # float64 [S]
    lost_demand: bool
    maximize_profit: bool
    K: int  # inventory-vector length of every node

    @property
    def n_nodes(self) -> int:
        return len(self.node_kind)

    @property
    def n_edges(self) -> int:
        return len(self.edge_src)

    @property
    def n_stores(self) -> int:
        return len(self.store_index)

    def node_names(self) -> list[str]:
        counters = {ECHELON: 0, WAREHOUSE: 0, STORE: 0}
        prefix = {ECHELON: "echelon", WAREHOUSE: "warehouse", STORE: "store"}
        names = []
        for kind in self.node_kind:
            names.append(f"{prefix[kind]}{counters[kind]}")
            counters[kind] += 1
        return names

    def edge_names(self) -> list[str]:
        names = self.node_names()
        pairs = zip(self.edge_src, self.edge_dst, strict=True)
        return [f"{'supplier' if s < 0 else names[s]}->{names[d]}" for s, d in pairs]


def build_network(params: InventoryParams) -> Network:
    """Resolve ``params`` into the node/edge arrays (validating shapes as it goes)."""
    prim = params.store_primitives()
    S, W, E_ = params.n_stores, params.n_warehouses, len(params.echelon_holding_cost)
    kinds = [ECHELON] * E_ + [WAREHOUSE] * W + [STORE] * S
    n_nodes = len(kinds)
    first_wh, first_store = E_, E_ + W
    holding = np.zeros(n_nodes)
    underage = np.zeros(n_nodes)
    holding[:E_] = np.asarray(params.echelon_holding_cost, dtype=np.float64)
    holding[first_wh:first_store] = per_item("warehouse_holding_cost", params.warehouse_holding_cost, W, low=0.0)
    holding[first_store:] = prim["holding"]
    underage[first_store:] = prim["underage"]
    holds = np.ones(n_nodes, dtype=np.bool_)
    if not params.warehouse_holds_stock:
        holds[first_wh:first_store] = False

    src, dst, lead, cost = [], [], [], []

    def edge(s: int, d: int, ell: int, c: float = 0.0) -> None:
        src.append(s), dst.append(d), lead.append(int(ell)), cost.append(float(c))

    ech_lead = per_item("echelon_lead_time", params.echelon_lead_time, E_, low=1, integer=True) if E_ else []
    wh_lead = per_item("warehouse_lead_time", params.warehouse_lead_time, W, low=1, integer=True)
    wh_cost = per_item("warehouse_edge_cost", params.warehouse_edge_cost, W, low=0.0)
    for e in range(E_):  # supplier -> E0 -> E1 -> ...
        edge(SUPPLIER if e == 0 else e - 1, e, ech_lead[e])
    require(not E_ or not wh_cost.any(), "warehouse_edge_cost", params.warehouse_edge_cost,
            "must be 0 in serial chains (procurement is charged on orders from the external supplier)")
    for w in range(W):  # into each warehouse: from the last echelon (serial) or the supplier
        edge(E_ - 1 if E_ else SUPPLIER, first_wh + w, wh_lead[w], wh_cost[w])
    if W == 0:
        for s in range(S):
            edge(SUPPLIER, first_store + s, prim["lead"][s])
    else:
        adj = np.ones((W, S), dtype=np.int64) if params.adjacency is None else np.asarray(params.adjacency)
        require(adj.shape == (W, S) and np.isin(adj, (0, 1)).all(), "adjacency", params.adjacency,
                f"must be a 0/1 matrix of shape [n_warehouses={W}, n_stores={S}]")
        require(bool(adj.sum(0).min() >= 1), "adjacency", params.adjacency, "every store needs >= 1 warehouse")
        if params.edge_lead_time is None:
            leads = np.broadcast_to(prim["lead"], (W, S))
        else:
            leads = np.asarray(params.edge_lead_time)
            if leads.shape != (W, S) or (leads[adj == 1] < 1).any():
                fail("edge_lead_time", params.edge_lead_time,
                     f"must be a matrix [n_warehouses={W}, n_stores={S}] of integers >= 1 on every edge")
        for w in range(W):
            for s in range(S):
                if adj[w, s]:
                    edge(first_wh + w, first_store + s, leads[w, s])

    edge_src, edge_dst = np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64)
    edge_lead = np.array(lead, dtype=np.int64)
    store_index = np.arange(first_store, n_nodes, dtype=np.int64)
    store_col = np.full(n_nodes, -1, dtype=np.int64)
    store_col[store_index] = np.arange(S)
    # Mean and variance of the demand served through each node (for the default order cap): stores their
    # own; upstream nodes all the demand below them, split evenly over a store's warehouses.
    served, served_var = np.zeros(n_nodes), np.zeros(n_nodes)
    served[first_store:], served_var[first_store:] = prim["mean"], prim["std"] ** 2
    for e in np.argsort(-edge_dst, kind="stable"):  # downstream edges first
        if edge_src[e] >= 0:
            n_in = max(1, int(((edge_dst == edge_dst[e]) & (edge_src >= 0)).sum()))
            served[edge_src[e]] += served[edge_dst[e]] / n_in
            served_var[edge_src[e]] += served_var[edge_dst[e]] / n_in
    if params.max_order is None:
        max_order = np.maximum(4.0 * (served[edge_dst] + np.sqrt(served_var[edge_dst])), 1.0)
    else:
        max_order = np.full(len(src), float(params.max_order))
    K = int(max(params.inventory_periods, edge_lead.max()))
    return Network(
        node_kind=np.array(kinds, dtype=np.int64), holding=holding, underage=underage, holds_stock=holds,
        edge_src=edge_src, edge_dst=edge_dst, edge_lead=edge_lead, edge_cost=np.array(cost),
        max_order=max_order, store_index=store_index, store_col=store_col,
        demand_mean=prim["mean"], demand_std=prim["std"], lost_demand=bool(params.lost_demand),
        maximize_profit=bool(params.maximize_profit), K=K)
