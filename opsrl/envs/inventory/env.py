"""The inventory-network problem: one periodic-review network, batched.

## Description
A network of stores (facing random demand), optional warehouses and upstream echelons orders stock
every period from its suppliers; orders arrive after integer lead times. The agent chooses every order
at once, one per supply edge, and pays holding, shortage and procurement costs. Settings range from a
single store (backlogged or lost sales) to serial chains, one warehouse with many stores, transshipment
centers and sparse many-warehouse networks (``opsrl.list_presets("opsrl/InventoryNetwork-v0")``).
Spec: ``inventory.md``; env card: ``envs/inventory.md``.

## Action space
``Box(0, max_order, (n_edges,), float32)``: the order quantity on each edge, edges ordered as
``problem.network.edge_names()`` (into echelons, into warehouses, then into stores). Negative orders count
as 0 and orders above ``max_order`` are clipped (documented, deterministic); requests that exceed a
node's on-hand are rationed proportionally. NaN raises ``ValueError``.

## Observation space
``obs_mode="flat"``: ``Box(-inf, inf, (n_nodes·K [+ 6·n_nodes],), float32)`` — each node's inventory
vector (slot 0 on-hand, slot k arriving in k periods), nodes ordered echelons, warehouses, stores; with
``observe_params=True`` six static features per node follow (h, p, μ, σ, inbound lead time, edge cost).
``obs_mode="graph"``: a ``Dict`` with ``x`` (node features, plus a virtual supplier and customer node),
``edge_index`` and ``edge_attr`` (spec §4.2); the first ``n_edges`` edges are the action edges.

## Rewards
−(holding + shortage + procurement cost) of the period (profit mode: margin on sales − costs).
``info["costs"]`` splits the cost, ``info["node_cost"]`` gives it per node.

## Starting state
Every slot of every store's inventory vector ~ U(0, 1)·μ_store; warehouses and echelons empty.
The demand of the whole episode is drawn at reset (common random numbers across policies).

## Episode end
No termination; truncation after ``horizon`` periods.

## Info
``costs`` (holding, shortage, procurement), ``node_cost``, ``orders`` (quantities actually shipped per
edge), ``demand`` and ``sales`` per store; with ``post_decision=True`` also ``post_decision_obs``: the
inventory right after the decision, before demand (on-hand after shipments, this period's orders at
slot ℓ of their destination).

## Version history
* v0: initial release.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from opsrl.core.problem import Problem, Transition
from opsrl.envs.inventory import dynamics as K_
from opsrl.envs.inventory.dynamics import PARALLEL_MIN_BATCH, correlate_demand
from opsrl.envs.inventory.network import STORE, WAREHOUSE, Network, build_network
from opsrl.envs.inventory.params import InventoryParams

N_STATIC = 6  # h, p, μ, σ, inbound lead time, inbound edge cost


class InventoryState(NamedTuple):
    inv: np.ndarray  # float64 [B, N, K]
    t: np.ndarray  # int64 [B]
    demand: np.ndarray  # float64 [B, T, S], drawn at reset


class InventoryNetwork(Problem):
    params_type = InventoryParams
    obs_modes = ("flat", "graph")

    def __init__(self, params: InventoryParams, obs_mode: str = "flat") -> None:
        super().__init__(params, obs_mode)
        self.network: Network = build_network(params)
        net = self.network
        self.max_episode_steps = params.horizon
        self.static = self._static_features()
        self.action_space = spaces.Box(0.0, net.max_order.astype(np.float32), (net.n_edges,), np.float32)
        self._flat_dim = net.n_nodes * net.K + (net.n_nodes * N_STATIC if params.observe_params else 0)
        if obs_mode == "graph":
            self.graph = self._graph_structure()
            n_nodes, n_feat = self.graph["x_static"].shape[0], net.K + N_STATIC + 3
            n_graph_edges = self.graph["edge_index"].shape[1]
            self.observation_space = spaces.Dict({
                "x": spaces.Box(-np.inf, np.inf, (n_nodes, n_feat), np.float32),
                "edge_index": spaces.Box(0, n_nodes - 1, (2, n_graph_edges), np.int64),
                "edge_attr": spaces.Box(-np.inf, np.inf, (n_graph_edges, 4), np.float32),
            })
        else:
            self.observation_space = spaces.Box(-np.inf, np.inf, (self._flat_dim,), np.float32)
        self._static_flat = self.static.ravel().astype(np.float64) if params.observe_params else np.zeros(0)
        n_out = np.maximum(np.bincount(net.edge_src[net.edge_src >= 0], minlength=net.n_nodes), 1)
        self._edges = np.ascontiguousarray(np.stack([net.edge_src, net.edge_dst, net.edge_lead], axis=1))
        self._edge_f = np.ascontiguousarray(np.stack([net.edge_cost, net.max_order], axis=1))
        self._nodes = np.ascontiguousarray(np.stack([net.holding, net.underage,
                                                     net.holds_stock.astype(np.float64), n_out], axis=1))
        self._width = K_.output_width(net.n_nodes, net.n_edges, net.n_stores)
        self._post_dim = net.n_nodes * (net.K + 1) + self._static_flat.size if params.post_decision else 0
        self._cholesky = self._demand_cholesky()
        self._series = params.series() if params.demand_distribution == "series" else None

    # -- demand ---------------------------------------------------------------------------------------
    def _demand_cholesky(self) -> np.ndarray:
        std, rho = self.network.demand_std, self.params.demand_correlation
        cov = rho * np.outer(std, std)
        np.fill_diagonal(cov, std**2)
        return np.linalg.cholesky(cov + 1e-12 * np.eye(len(std)))

    def sample_demand(self, batch: int, rng: np.random.Generator, out: np.ndarray | None = None) -> np.ndarray:
        """Demand of whole episodes, float64 [batch, horizon, n_stores] (written into ``out`` if given:
        the same draws, without a new allocation)."""
        p, net = self.params, self.network
        T, S = p.horizon, net.n_stores
        if p.demand_distribution == "poisson":
            d = rng.poisson(net.demand_mean, size=(batch, T, S)).astype(np.float64)
        elif p.demand_distribution == "series":
            pick = rng.integers(0, len(self._series), size=batch)
            d = np.ascontiguousarray(self._series[pick, :, :T].transpose(0, 2, 1))
        else:
            d = rng.standard_normal((batch, T, S), out=out)
            correlate_demand(d, self._cholesky, net.demand_mean, bool(p.demand_clip))
            return d
        if out is None:
            return d
        out[...] = d
        return out

    # -- transitions ----------------------------------------------------------------------------------
    def init(self, batch: int, rng: np.random.Generator) -> InventoryState:
        net = self.network
        inv = np.zeros((batch, net.n_nodes, net.K))
        if self.params.initial_inventory == "uniform":
            u = rng.uniform(size=(batch, net.n_stores, net.K))
            inv[:, net.store_index, :] = u * net.demand_mean[None, :, None]
        return InventoryState(inv, np.zeros(batch, dtype=np.int64), self.sample_demand(batch, rng))

    def reset_rows(self, state: InventoryState, rows: np.ndarray, rng: np.random.Generator) -> None:
        """As :meth:`init` for the selected rows. When every env restarts at once (a fixed horizon makes
        that the usual case) the arrays are refilled in place: same draws, no reallocation of the demand."""
        if not rows.all():
            super().reset_rows(state, rows, rng)
            return
        net = self.network
        state.inv[...] = 0.0
        if self.params.initial_inventory == "uniform":
            u = rng.uniform(size=(len(rows), net.n_stores, net.K))
            state.inv[:, net.store_index, :] = u * net.demand_mean[None, :, None]
        state.t[...] = 0
        self.sample_demand(len(rows), rng, out=state.demand)

    def step(self, state: InventoryState, actions: np.ndarray, active: np.ndarray,
             rng: np.random.Generator) -> Transition:
        net = self.network
        B, N, E, S = state.inv.shape[0], net.n_nodes, net.n_edges, net.n_stores
        if actions.shape != (B, E):
            actions = actions.reshape(B, E)
        out = np.empty((B, self._width))
        post = np.empty((B, self._post_dim), dtype=np.float32)
        kernel = K_.step_parallel if B >= PARALLEL_MIN_BATCH else K_.step_serial
        status = kernel(state.inv, state.t, state.demand, actions, active, self._edges, self._edge_f, self._nodes,
                        net.store_col, net.lost_demand, net.maximize_profit, self._static_flat, out, post,
                        np.empty((B, N)))
        if status == K_.NAN_ACTION:
            raise ValueError("InventoryNetwork: order quantities contain NaN")
        if status == K_.PAST_HORIZON:  # the episode's demand ends at the horizon
            raise RuntimeError(f"InventoryNetwork: step after the horizon ({self.params.horizon} periods); "
                               "call reset()")
        first, ship = K_.FIRST_NODE, K_.FIRST_NODE + N
        info = {
            "costs": {"holding": out[:, K_.C_HOLDING], "shortage": out[:, K_.C_SHORTAGE],
                      "procurement": out[:, K_.C_PROCUREMENT]},
            "node_cost": out[:, first:ship],
            "orders": out[:, ship:ship + E],
            "sales": out[:, ship + E:ship + E + S],
            "demand": out[:, ship + E + S:],
        }
        if self._post_dim:
            info["post_decision_obs"] = post
        return Transition(out[:, K_.REWARD], np.zeros(B, dtype=np.bool_), info)

    def check_actions(self, actions: Any) -> np.ndarray:
        """Orders as float64; NaN is detected by the kernel before it touches the state."""
        return np.asarray(actions, dtype=np.float64)

    # -- observations ---------------------------------------------------------------------------------
    def observe(self, state: InventoryState) -> Any:
        if self.obs_mode == "graph":
            return self._graph_obs(state.inv)
        B = state.inv.shape[0]
        out = np.empty((B, self._flat_dim), dtype=np.float32)
        (K_.flat_observation_parallel if B >= PARALLEL_MIN_BATCH else K_.flat_observation)(
            state.inv, self._static_flat, out)
        return out

    def _static_features(self) -> np.ndarray:
        """[N, 6] float32: h, p, μ, σ, inbound lead time, inbound edge cost (mean over inbound edges)."""
        net = self.network
        f = np.zeros((net.n_nodes, N_STATIC), dtype=np.float32)
        f[:, 0] = net.holding
        f[:, 1] = net.underage
        f[net.store_index, 2] = net.demand_mean
        f[net.store_index, 3] = net.demand_std
        for n in range(net.n_nodes):
            inbound = net.edge_dst == n
            f[n, 4] = net.edge_lead[inbound].mean()
            f[n, 5] = net.edge_cost[inbound].mean()
        return f

    def episode_cost(self, rewards: np.ndarray) -> np.ndarray:
        """Average cost per period per store over the periods after ``warmup`` (spec §2.4)."""
        w = min(self.params.warmup, rewards.shape[0] - 1)
        return -rewards[w:].mean(axis=0) / self.network.n_stores

    # -- graph view (spec §4.2) -----------------------------------------------------------------------
    def _graph_structure(self) -> dict[str, np.ndarray]:
        net = self.network
        N = net.n_nodes
        supplier, customer = N, N + 1
        src = [supplier if s < 0 else s for s in net.edge_src]
        dst = list(net.edge_dst)
        kind = [0] * net.n_edges  # 0 supply, 1 demand, 2 keep-on-hand self-loop
        lead = list(net.edge_lead)
        for s in net.store_index:
            src.append(s), dst.append(customer), kind.append(1), lead.append(0)
        for n in range(N):
            if net.holds_stock[n] and (net.edge_src == n).any():
                src.append(n), dst.append(n), kind.append(2), lead.append(0)
        edge_attr = np.zeros((len(src), 4), dtype=np.float32)
        edge_attr[:, 0] = lead
        edge_attr[np.arange(len(src)), 1 + np.array(kind)] = 1.0
        x_static = np.zeros((N + 2, N_STATIC + 3), dtype=np.float32)
        x_static[:N, :N_STATIC] = self.static
        x_static[np.arange(N), N_STATIC + np.minimum(net.node_kind, 2)] = 1.0
        return {"edge_index": np.array([src, dst], dtype=np.int64), "edge_attr": edge_attr,
                "x_static": x_static}

    def _graph_obs(self, inv: np.ndarray) -> dict[str, np.ndarray]:
        B, N, K = inv.shape
        g = self.graph
        x = np.zeros((B, N + 2, K + g["x_static"].shape[1]), dtype=np.float32)
        x[:, :N, :K] = inv
        x[:, :, K:] = g["x_static"]
        E = g["edge_index"].shape[1]
        return {"x": x, "edge_index": np.broadcast_to(g["edge_index"], (B, 2, E)).copy(),
                "edge_attr": np.broadcast_to(g["edge_attr"], (B, E, 4)).copy()}

    # -- rendering ------------------------------------------------------------------------------------
    def snapshot(self, state: InventoryState, index: int) -> dict[str, Any]:
        return {"inv": state.inv[index].copy(), "t": int(state.t[index])}

    def render(self, history: list[dict[str, Any]], mode: str) -> Any:
        from opsrl.envs.inventory.render import render_ansi, render_rgb

        if mode == "ansi":
            return render_ansi(self.network, history[-1])
        return render_rgb(self.network, history)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        net = self.network
        out["network"] = {"nodes": net.node_names(), "edges": net.edge_names(), "K": net.K,
                          "lead_times": net.edge_lead.tolist(), "demand_mean": net.demand_mean.tolist(),
                          "demand_std": net.demand_std.tolist()}
        return out


__all__ = ["STORE", "WAREHOUSE", "InventoryNetwork", "InventoryState"]
