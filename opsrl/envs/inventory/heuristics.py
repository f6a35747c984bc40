"""Classic inventory policies as named opsrl policies (spec §5.1).

* ``base_stock`` — every node orders up to a level on its own inventory position (IP = on-hand +
  pipeline): q = max(S − IP, 0). A store fed by several warehouses orders through its fastest one.
* ``capped_base_stock`` — q = min(max(S − IP, 0), r) (Xin, 2021), for lost sales.
* ``echelon_stock`` — node k orders up to S_k on its echelon IP (its own IP plus everything downstream);
  optimal for serial chains (Clark & Scarf, 1960). Needs a tree network.
* ``jit_oracle`` — orders exactly the demand that will meet the order on arrival (not admissible; the
  normaliser of the real-data settings).
* ``zero`` — never orders (a sanity floor).

Levels come from an exact formula where one exists (analytic base stock for backlogged normal demand,
Clark–Scarf for serial chains) and are otherwise tuned by simulation: S_n = c_n·μ_n + z·σ_n·√c_n per node
kind, with z (and the cap factor) chosen by Nelder–Mead on common-random-number costs over tuning
scenarios that are disjoint from the evaluation seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize

from opsrl.envs.inventory.env import InventoryNetwork
from opsrl.envs.inventory.network import ECHELON, STORE, WAREHOUSE, Network
from opsrl.policies.base import Policy

TUNING_SEED = 10_001  # evaluation uses small seeds; tuning never sees those scenarios
_TUNED: dict[tuple[str, Any], tuple[np.ndarray, np.ndarray | None]] = {}  # (policy, params) -> levels, caps
TUNING_STORE_EPISODES = 512  # episodes × stores per tuning batch: large networks average over stores
TUNING_HORIZON = 300  # long episodes: the tuned cost is a steady-state average, not the warm-up


def inventory_of(problem: InventoryNetwork, obs: Any) -> np.ndarray:
    """The inventory vectors [B, N, K] inside a flat or graph observation."""
    net = problem.network
    if isinstance(obs, dict):
        return np.asarray(obs["x"][:, : net.n_nodes, : net.K], dtype=np.float64)
    obs = np.asarray(obs, dtype=np.float64)
    return obs[:, : net.n_nodes * net.K].reshape(-1, net.n_nodes, net.K)


def primary_edges(net: Network) -> np.ndarray:
    """Index of the inbound edge each node orders through (its fastest supplier); -1 if none."""
    out = np.full(net.n_nodes, -1, dtype=np.int64)
    for e in np.argsort(net.edge_lead, kind="stable")[::-1]:
        out[net.edge_dst[e]] = e  # the shortest lead time is written last
    return out


def downstream_sets(net: Network) -> list[np.ndarray]:
    """Nodes at or below each node along primary edges (for echelon inventory positions)."""
    primary = primary_edges(net)
    parent = np.where(primary >= 0, net.edge_src[np.maximum(primary, 0)], -1)
    below = [{n} for n in range(net.n_nodes)]
    for n in range(net.n_nodes):
        p = parent[n]
        while p >= 0:
            below[p].add(n)
            p = parent[p]
    return [np.array(sorted(s)) for s in below]


def flow_moments(net: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node: mean and std of the demand it serves per period, and the lead time covering it
    (node's own inbound lead for base stock; summed down to the stores for echelon stock)."""
    below = downstream_sets(net)
    mean = np.array([net.demand_mean[net.store_col[b[net.store_col[b] >= 0]]].sum() for b in below])
    var = np.array([(net.demand_std[net.store_col[b[net.store_col[b] >= 0]]] ** 2).sum() for b in below])
    lead = np.zeros(net.n_nodes)
    primary = primary_edges(net)
    lead[primary >= 0] = net.edge_lead[primary[primary >= 0]]
    return mean, np.sqrt(var), lead


class LevelPolicy(Policy):
    """Order-up-to policies over node levels; subclasses choose the inventory position and levels."""

    echelon = False
    kinds = (STORE, WAREHOUSE, ECHELON)

    def __init__(self, problem: InventoryNetwork, levels: np.ndarray | None = None,
                 caps: np.ndarray | None = None) -> None:
        super().__init__(problem)
        net = self.net = problem.network
        self.primary = primary_edges(net)
        self.below = downstream_sets(net)
        self.mean, self.std, lead = flow_moments(net)
        self.coverage = self._coverage(lead) + 1.0
        self.caps = caps
        if levels is not None:
            self.levels = np.asarray(levels, dtype=np.float64)
            return
        key = (self.name, problem.params)
        if key not in _TUNED:  # tuning is deterministic: do it once per instance and process
            _TUNED[key] = (self.default_levels(), self.caps)
        self.levels, self.caps = (None if v is None else v.copy() for v in _TUNED[key])

    def _coverage(self, lead: np.ndarray) -> np.ndarray:
        if not self.echelon:
            return lead
        # echelon lead time: own inbound lead plus the longest primary path below
        cov = lead.copy()
        for n in np.argsort(-np.arange(self.net.n_nodes)):
            kids = [m for m in self.below[n] if m != n and self._parent(m) == n]
            cov[n] = lead[n] + (max(cov[m] for m in kids) if kids else 0.0)
        return cov

    def _parent(self, n: int) -> int:
        e = self.primary[n]
        return int(self.net.edge_src[e]) if e >= 0 else -1

    # -- levels -----------------------------------------------------------------------------------------
    def levels_from(self, theta: np.ndarray) -> np.ndarray:
        """S_n = c_n μ_n + z_kind σ_n √c_n, one z per node kind present."""
        z = np.zeros(self.net.n_nodes)
        for i, kind in enumerate(self.present_kinds()):
            z[self.net.node_kind == kind] = theta[i]
        return self.coverage * self.mean + z * self.std * np.sqrt(self.coverage)

    def present_kinds(self) -> list[int]:
        return [k for k in self.kinds if (self.net.node_kind == k).any()]

    def default_levels(self) -> np.ndarray:
        theta = self.tune(np.full(len(self.present_kinds()), 1.0))
        return self.levels_from(theta)

    def tune(self, theta0: np.ndarray) -> np.ndarray:
        """Nelder–Mead on the mean cost over fixed tuning scenarios (common random numbers)."""
        from opsrl.core.env import BatchedVectorEnv
        from opsrl.eval.evaluate import run_episodes

        params = _overrides_of(self.problem)
        params["horizon"] = max(params["horizon"], TUNING_HORIZON)
        episodes = max(16, TUNING_STORE_EPISODES // self.net.n_stores)
        env = BatchedVectorEnv(type(self.problem), num_envs=episodes, preset=None, **params)
        probe = type(self)(env.problem, levels=np.zeros(self.net.n_nodes), caps=self.caps)

        def cost(theta: np.ndarray) -> float:
            probe.levels = self.levels_from(theta[: len(theta0)])
            if self.caps is not None:
                probe.caps = self.caps_from(theta)
            return float(run_episodes(env, probe, TUNING_SEED).mean())

        res = minimize(cost, theta0, method="Nelder-Mead",
                       options={"maxfev": 40 * len(theta0), "xatol": 1e-3, "fatol": 1e-5})
        self.tuned_cost = float(res.fun)
        return res.x

    def caps_from(self, theta: np.ndarray) -> np.ndarray:
        return np.full(self.net.n_nodes, np.inf)

    # -- acting -----------------------------------------------------------------------------------------
    def position(self, inv: np.ndarray) -> np.ndarray:
        ip = inv.sum(axis=2)  # [B, N]
        if not self.echelon:
            return ip
        return np.stack([ip[:, b].sum(axis=1) for b in self.below], axis=1)

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        inv = inventory_of(self.problem, obs)
        gap = np.maximum(self.levels[None, :] - self.position(inv), 0.0)
        if self.caps is not None:
            gap = np.minimum(gap, self.caps[None, :])
        orders = np.zeros((inv.shape[0], self.net.n_edges), dtype=np.float32)
        has = self.primary >= 0
        orders[:, self.primary[has]] = gap[:, has]
        return orders

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "levels": self.levels.round(4).tolist()}

    def checkpoint(self) -> dict[str, Any]:
        """Plain data that :func:`load_level_policy` turns back into this policy."""
        caps = None if self.caps is None else np.minimum(self.caps, 1e30).tolist()
        return {"loader": "opsrl.envs.inventory.heuristics:load_level_policy", "policy": self.name,
                "levels": self.levels.tolist(), "caps": caps}


def _overrides_of(problem: InventoryNetwork) -> dict[str, Any]:
    """All parameters of ``problem`` as overrides of its params class defaults (to rebuild it)."""
    import dataclasses

    return {f.name: getattr(problem.params, f.name) for f in dataclasses.fields(problem.params)}


class BaseStockPolicy(LevelPolicy):
    name = "base_stock"

    def default_levels(self) -> np.ndarray:
        net, p = self.net, self.problem.params
        analytic = (
            (net.node_kind == STORE).all() and not net.lost_demand and p.demand_distribution == "normal"
            and not p.maximize_profit
        )
        if analytic:  # spec §5.2: base stock is optimal; clipping at 0 is negligible for the presets
            from opsrl.envs.inventory.solver import base_stock_optimum

            lead = net.edge_lead[self.primary]
            return np.array([base_stock_optimum(net.demand_mean[i], net.demand_std[i], lead[i],
                                                net.underage[i], net.holding[i])[0]
                             for i in range(net.n_nodes)])
        return super().default_levels()


class CappedBaseStockPolicy(LevelPolicy):
    """Base stock with an order cap r_n = c·μ_n per node kind (one z and one c per kind)."""

    name = "capped_base_stock"

    def __init__(self, problem: InventoryNetwork, levels: np.ndarray | None = None,
                 caps: np.ndarray | None = None) -> None:
        super().__init__(problem, levels, caps if caps is not None else np.full(problem.network.n_nodes, np.inf))

    def default_levels(self) -> np.ndarray:
        k = len(self.present_kinds())
        theta = self.tune(np.concatenate([np.full(k, 1.0), np.full(k, 1.5)]))
        self.caps = self.caps_from(theta)
        return self.levels_from(theta[:k])

    def caps_from(self, theta: np.ndarray) -> np.ndarray:
        k = len(self.present_kinds())
        c = np.zeros(self.net.n_nodes)
        for i, kind in enumerate(self.present_kinds()):
            c[self.net.node_kind == kind] = max(theta[k + i], 0.0)
        return c * self.mean


class EchelonStockPolicy(LevelPolicy):
    name = "echelon_stock"
    echelon = True

    def __init__(self, problem: InventoryNetwork, levels: np.ndarray | None = None,
                 caps: np.ndarray | None = None) -> None:
        net = problem.network
        inbound = np.bincount(net.edge_dst, minlength=net.n_nodes)
        if (inbound > 1).any():
            raise ValueError("echelon_stock needs a tree network (every node has one supplier); "
                             "use base_stock on many-warehouse networks")
        super().__init__(problem, levels, caps)

    def default_levels(self) -> np.ndarray:
        net, p = self.net, self.problem.params
        serial = net.n_stores == 1 and not net.lost_demand and p.demand_distribution == "normal"
        if serial and net.n_nodes > 1:  # Clark–Scarf: exact echelon levels, store -> top
            from opsrl.envs.inventory.solver import clark_scarf

            order = np.arange(net.n_nodes)[::-1]  # nodes are listed top -> store
            levels, _ = clark_scarf(net.holding[order].tolist(), net.edge_lead[self.primary[order]].tolist(),
                                    float(net.underage[-1]), float(net.demand_mean[0]),
                                    float(net.demand_std[0]), clip=p.demand_clip)
            return np.asarray(levels, dtype=np.float64)[::-1].copy()
        return super().default_levels()


class JITOraclePolicy(Policy):
    """Perfect-foresight ordering (reads the future demand; not admissible).

    Every node orders up to the exact demand its order covers, on its echelon inventory position (its
    own and everything below it): q_n = (Σ_s Σ_{k=t}^{t+Λ_s} D_{s,k} − EIP_n)⁺ over the stores s below n,
    Λ_s the leads from n down to s. Stock then arrives just in time and initial backlogs are cleared.
    Demand beyond the horizon counts as 0.
    """

    name = "jit_oracle"
    admissible = False

    def __init__(self, problem: InventoryNetwork) -> None:
        super().__init__(problem)
        net = self.net = problem.network
        self.primary = primary_edges(net)
        below = self.below = downstream_sets(net)
        _, _, self.lead = flow_moments(net)
        self.targets = {n: [(int(net.store_col[m]), int(self._path_lead(n, m))) for m in below[n]
                            if net.node_kind[m] == STORE] for n in range(net.n_nodes)}

    def _path_lead(self, top: int, store: int) -> float:
        """Periods from an order at ``top`` until the goods reach ``store``: the leads along the path."""
        total, node = self.lead[top], store
        while node != top:
            total += self.lead[node]
            node = int(self.net.edge_src[self.primary[node]])
        return total

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        state = self.env.state
        B, T = state.demand.shape[:2]
        # cumulative demand with a zero column in front, padded past the horizon with zeros
        cum = np.concatenate([np.zeros((B, 1, self.net.n_stores)), np.cumsum(state.demand, axis=1)], axis=1)
        rows = np.arange(B)

        def demand_between(col: int, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
            return cum[rows, np.minimum(stop, T), col] - cum[rows, np.minimum(start, T), col]

        ip = inventory_of(self.problem, obs).sum(axis=2)
        orders = np.zeros((B, self.net.n_edges), dtype=np.float32)
        for n, targets in self.targets.items():
            e = self.primary[n]
            if e < 0:
                continue
            need = sum(demand_between(col, state.t, state.t + ell + 1) for col, ell in targets)
            orders[:, e] = np.maximum(need - ip[:, self.below[n]].sum(axis=1), 0.0)
        return orders


class ZeroPolicy(Policy):
    name = "zero"

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        n = len(obs["x"]) if isinstance(obs, dict) else len(obs)
        return np.zeros((n, self.problem.network.n_edges), dtype=np.float32)


LEVEL_POLICIES = {cls.name: cls for cls in (BaseStockPolicy, CappedBaseStockPolicy, EchelonStockPolicy)}


def load_level_policy(path: str, problem: InventoryNetwork) -> LevelPolicy:
    """Load a tuned heuristic saved by ``opsrl train tune`` (a JSON manifest, no code)."""
    import json
    import os

    from opsrl.policies.base import CHECKPOINT_FILE

    with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
        meta = json.load(fh)
    if meta.get("policy") not in LEVEL_POLICIES:
        raise ValueError(f"{path}: unknown policy {meta.get('policy')!r}; expected one of {list(LEVEL_POLICIES)}")
    levels = np.asarray(meta["levels"], dtype=np.float64)
    if levels.shape != (problem.network.n_nodes,):
        raise ValueError(f"{path}: {levels.size} levels saved, the instance has {problem.network.n_nodes} nodes")
    caps = None if meta.get("caps") is None else np.asarray(meta["caps"], dtype=np.float64)
    return LEVEL_POLICIES[meta["policy"]](problem, levels=levels, caps=caps)
