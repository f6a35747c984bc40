"""Graph view of the lot-sizing plant (``obs_mode="graph"``): the item–machine bipartite graph.

Nodes are the I items and the M machines; an edge (m, i) exists where machine m can make item i
(P[m, i] > 0). The observation is a ``Dict`` of fixed-size arrays, so Gymnasium's spaces and the native
vector env batch it like any other observation, and a GNN with one set of weights acts on any I × M:

* ``item_features`` float32 [I, 9]: stock / Imax, periods of cover stock / E[d] (÷ 10, capped at 5),
  E[d] / 10, sd(d) / 10, ls, 10·h, ls·E[d] / 10 (lost-sales cost per period of a stock-out), current supply
  Σ_{m set up for i} P[m, i] / (5·E[d]), t / T;
* ``machine_features`` float32 [M, 4]: idle flag, t / T, fraction of items the machine can make, 1;
* ``edge_index`` int64 [2, M·I]: (machine, item) of each feasible pair, then −1 padding;
* ``edge_features`` float32 [M·I, 6]: P / Imax, P / (5·E[d]), F / 30, F / (10·ls·E[d]) (periods of lost
  sales one setup costs, ÷ 10), Λ / P, "is the machine's current setup"; padding rows are 0;
* ``counts`` int64 [3]: I, M and the number of real edges (padding starts there).

Every feature is a ratio of the instance's own data, scaled to order one, because the shared PPO core
normalises only flat observations. ``info["post_decision_obs"]`` has the same layout with the stock after
production (not capped, so the first two item features may exceed their bounds) and the new setups.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

N_ITEM_FEATURES, N_MACHINE_FEATURES, N_EDGE_FEATURES = 9, 4, 6
FEATURE_HIGH = 1e4  # bound of the feature boxes: post-decision stock may exceed Imax


class GraphView:
    """Static edge data of one instance and the batched graph observation of a state."""

    def __init__(self, instance, horizon: int) -> None:
        P = instance.production
        n_mach, n_items = P.shape
        self.n_items, self.n_machines, self.horizon = n_items, n_mach, int(horizon)
        self.e_max = n_mach * n_items
        m_idx, i_idx = np.nonzero(P > 0)
        self.n_edges = m_idx.size
        self.edge_m, self.edge_i = m_idx.astype(np.int64), i_idx.astype(np.int64)
        self.edge_index = np.full((2, self.e_max), -1, dtype=np.int64)
        self.edge_index[0, : self.n_edges], self.edge_index[1, : self.n_edges] = self.edge_m, self.edge_i
        pmf = instance.demand_pmf
        k = np.arange(pmf.shape[1])
        mean = pmf @ k
        std = np.sqrt(np.maximum(pmf @ k**2 - mean**2, 0.0))
        self.mean = np.maximum(mean, 1e-6)
        self.imax = instance.max_inventory.astype(np.float64)
        self.production = P.astype(np.float64)
        # item features that do not change within an episode: E[d], sd(d), ls, 10 h, ls E[d]
        ls, h = instance.lost_sales, instance.holding
        self.item_static = np.stack([mean / 10, std / 10, ls, 10 * h, ls * mean / 10], axis=1)
        Pe = self.production[m_idx, i_idx]
        Fe = instance.setup_cost[m_idx, i_idx]
        Le = instance.setup_loss[m_idx, i_idx]
        stock_out = np.maximum(ls[i_idx] * self.mean[i_idx], 1e-6)
        self.edge_static = np.zeros((self.e_max, N_EDGE_FEATURES))
        self.edge_static[: self.n_edges, :5] = np.stack(
            [
                Pe / self.imax[i_idx],
                Pe / (5 * self.mean[i_idx]),
                Fe / 30,
                np.minimum(Fe / (10 * stock_out), 10.0),
                Le / np.maximum(Pe, 1),
            ],
            axis=1,
        )
        self.capable = (P > 0).mean(axis=1)
        self.counts = np.array([n_items, n_mach, self.n_edges], dtype=np.int64)

    def space(self) -> spaces.Dict:
        n_items, n_mach, e_max = self.n_items, self.n_machines, self.e_max
        return spaces.Dict(
            {
                "item_features": spaces.Box(0.0, FEATURE_HIGH, (n_items, N_ITEM_FEATURES), np.float32),
                "machine_features": spaces.Box(0.0, FEATURE_HIGH, (n_mach, N_MACHINE_FEATURES), np.float32),
                "edge_index": spaces.Box(-1, max(n_items, n_mach) - 1, (2, e_max), np.int64),
                "edge_features": spaces.Box(0.0, FEATURE_HIGH, (e_max, N_EDGE_FEATURES), np.float32),
                "counts": spaces.Box(0, max(e_max, 1), (3,), np.int64),
            }
        )

    def observe(self, inv: np.ndarray, setup: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """The graph observation of a batch: stock ``inv`` [B, I] (units, may exceed Imax for post-decision
        views), setups [B, M] (0 idle, k item k), t [B]."""
        B = inv.shape[0]
        n_items, n_mach = self.n_items, self.n_machines
        tt = (np.asarray(t, dtype=np.float64) / self.horizon)[:, None]
        inv = np.asarray(inv, dtype=np.float64)
        # current supply of each item: P of every machine set up for it
        onehot = np.zeros((B, n_mach, n_items + 1))
        np.put_along_axis(onehot, setup[:, :, None], 1.0, axis=2)
        supply = np.einsum("bmi,mi->bi", onehot[:, :, 1:], self.production)
        items = np.empty((B, n_items, N_ITEM_FEATURES), dtype=np.float32)
        items[:, :, 0] = inv / self.imax
        items[:, :, 1] = np.minimum(inv / self.mean / 10, 5.0)
        items[:, :, 2:7] = self.item_static
        items[:, :, 7] = supply / (5 * self.mean)
        items[:, :, 8] = tt
        machines = np.empty((B, n_mach, N_MACHINE_FEATURES), dtype=np.float32)
        machines[:, :, 0] = setup == 0
        machines[:, :, 1] = tt
        machines[:, :, 2] = self.capable
        machines[:, :, 3] = 1.0
        edges = np.empty((B, self.e_max, N_EDGE_FEATURES), dtype=np.float32)
        edges[:] = self.edge_static
        edges[:, : self.n_edges, 5] = setup[:, self.edge_m] == self.edge_i + 1
        return {
            "item_features": items,
            "machine_features": machines,
            "edge_index": np.broadcast_to(self.edge_index, (B, 2, self.e_max)).copy(),
            "edge_features": edges,
            "counts": np.broadcast_to(self.counts, (B, 3)).copy(),
        }


__all__ = ["GraphView", "N_EDGE_FEATURES", "N_ITEM_FEATURES", "N_MACHINE_FEATURES"]
