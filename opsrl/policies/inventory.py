"""Neural policies for inventory networks (spec ``inventory.md`` §6.2): the vanilla MLPs of each setting
and the supply-chain GNN, as torch modules mapping inventories to one order per edge.

Every module here takes the batch of inventory vectors ``inv [B, N, K]`` (slot 0 on-hand, slot k arriving
in k periods; nodes ordered echelons, warehouses, stores as in ``problem.network``) and returns the
orders ``[B, E]``, one per action edge (``problem.network.edge_names()``). The static features of the
instance (costs, lead times, demand moments, the graph) are buffers built from the problem, so the same
module acts on the flat and on the graph observation (:class:`TorchInventoryPolicy` extracts the
inventories from either) and is differentiable end to end through the torch twin
(:mod:`opsrl.envs.inventory.torch_dynamics`) for HDPO (:mod:`opsrl.algos.hdpo`).

Feasibility (shipments out of a node ≤ its on-hand, spec §7.1) lives in the output heads:

* :class:`VanillaMLP` — one MLP on all inventories. Heads per edge: an order from the external supplier
  to a store is ``softplus(x + 1)·μ_store`` (the untrained head orders ~1.3μ, which refills the low
  initial stock, U(0,1)·μ per slot, faster than ordering μ); an order from the supplier to an upstream node (warehouse,
  top echelon) is ``sigmoid(x − ln 3)·4·Σμ`` (Σμ = the demand served below it; the shift makes the
  initial order Σμ rather than 2Σμ); the edges out of a node share its
  on-hand by a softmax over their logits **plus one constant logit 1** ("keep it", stock-holding nodes),
  or **without** it for a transshipment center (all stock allocated). With one outgoing edge (serial
  chains) the softmax with the extra logit is ``sigmoid(x − 1)·on-hand``: the spec's ``sigmoid × upstream
  on-hand`` up to a bias shift.
* :class:`SupplyChainGNN` — the GNN v3 of §6.2 on the graph of §4.2 (``problem.graph``: action edges,
  store→customer demand edges, keep-on-hand self-loops), message passing built from torch-geometric's
  :class:`~torch_geometric.nn.MessagePassing`, weights shared across stores and steps, one softplus
  output per edge (initial bias 5) in units of the mean demand served through the edge's destination
  (so an untrained warehouse of n stores orders ~Σμ, not one store's μ: on ``one_warehouse_lost_n3``
  the initial dev cost falls from 25.5 to 14.6 and 256 steps reach 5.55) and proportional rescaling of
  each source's outgoing edges (self-loop included) to its on-hand
  (:func:`~opsrl.envs.inventory.torch_dynamics.proportional_rationing`).

Inputs are divided by the mean store demand ``s`` and outputs multiplied by a demand unit, so the same
initialisation suits any demand scale (the reference works in raw units with μ = 5, which this matches
exactly for μ = 5).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import MessagePassing

from opsrl.envs.inventory.heuristics import inventory_of
from opsrl.envs.inventory.network import STORE, Network
from opsrl.envs.inventory.torch_dynamics import proportional_rationing
from opsrl.policies.base import CHECKPOINT_FILE, Policy

__all__ = ["SupplyChainConv", "SupplyChainGNN", "TorchInventoryPolicy", "VanillaMLP", "build_module",
           "default_architecture", "load_policy"]

WEIGHTS_FILE = "policy.pt"
KEEP_LOGIT = 1.0  # the constant "keep it" logit of stock-holding sources (spec §6.2)
GNN_OUTPUT_BIAS = 5.0  # initial bias of the GNN's order head (spec §6.2)


def mlp(sizes: Sequence[int], final_activation: bool = False) -> nn.Sequential:
    """Linear layers with ELU between them (and after the last one if ``final_activation``)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or final_activation:
            layers.append(nn.ELU())
    return nn.Sequential(*layers)


def demand_scale(network: Network) -> float:
    """The unit of quantities inside the networks: the mean store demand (1 if it is 0)."""
    s = float(np.mean(network.demand_mean))
    return s if s > 0 else 1.0


def served_demand(network: Network) -> np.ndarray:
    """Mean demand served through each node per period (stores: their own; upstream: the sum below,
    split evenly over a store's suppliers)."""
    served = np.zeros(network.n_nodes)
    served[network.store_index] = network.demand_mean
    for e in np.argsort(-network.edge_dst, kind="stable"):  # downstream edges first
        if network.edge_src[e] >= 0:
            n_in = max(1, int(((network.edge_dst == network.edge_dst[e]) & (network.edge_src >= 0)).sum()))
            served[network.edge_src[e]] += served[network.edge_dst[e]] / n_in
    return served


def _buffer(module: nn.Module, name: str, value: Any, dtype: torch.dtype | None = None) -> None:
    """A non-persistent buffer: derived from the instance, so it is rebuilt at load, never saved."""
    module.register_buffer(name, torch.as_tensor(value, dtype=dtype), persistent=False)


class VanillaMLP(nn.Module):
    """The per-setting vanilla network of spec §6.2: an MLP on all inventory vectors.

    Args:
        network: ``problem.network``.
        hidden: hidden layer widths (ELU).
    """

    def __init__(self, network: Network, hidden: Sequence[int] = (32, 32)) -> None:
        super().__init__()
        net = network
        self.n_nodes, self.K, self.n_edges = net.n_nodes, net.K, net.n_edges
        self.scale = demand_scale(net)
        self.body = mlp([net.n_nodes * net.K, *hidden, net.n_edges])
        src, dst = net.edge_src, net.edge_dst
        to_store = (src < 0) & (net.node_kind[dst] == STORE)
        to_upstream = (src < 0) & ~to_store
        served = served_demand(net)
        _buffer(self, "store_edges", np.flatnonzero(to_store), torch.long)
        _buffer(self, "store_unit", net.demand_mean[dst[to_store]], torch.float32)
        _buffer(self, "upstream_edges", np.flatnonzero(to_upstream), torch.long)
        _buffer(self, "upstream_bound", 4.0 * served[dst[to_upstream]], torch.float32)
        # Edges out of each source node, padded to a rectangle [n_sources, width] (-1 = padding).
        sources = sorted({int(s) for s in src if s >= 0})
        width = max([int((src == s).sum()) for s in sources], default=0)
        pad = np.full((len(sources), width), -1, dtype=np.int64)
        for i, s in enumerate(sources):
            out = np.flatnonzero(src == s)
            pad[i, : len(out)] = out
        keep = np.array([KEEP_LOGIT if net.holds_stock[s] else -math.inf for s in sources])
        _buffer(self, "sources", sources, torch.long)
        _buffer(self, "out_edges", pad, torch.long)
        _buffer(self, "keep_logit", keep, torch.float32)

    def forward(self, inv: torch.Tensor) -> torch.Tensor:
        B = inv.shape[0]
        x = self.body(inv.reshape(B, -1) / self.scale)
        q = torch.zeros_like(x)
        if len(self.store_edges):
            q = q.index_copy(1, self.store_edges,
                             nn.functional.softplus(x[:, self.store_edges] + 1.0) * self.store_unit.to(x.dtype))
        if len(self.upstream_edges):
            # sigmoid(x − ln 3)·4Σμ starts at Σμ (the demand below) rather than at twice it
            q = q.index_copy(1, self.upstream_edges,
                             torch.sigmoid(x[:, self.upstream_edges] - math.log(3.0)) * self.upstream_bound.to(x.dtype))
        if len(self.sources):
            pad = self.out_edges
            logits = x[:, pad.clamp(min=0)].masked_fill(pad < 0, -math.inf)  # [B, n_sources, width]
            keep = self.keep_logit.to(x.dtype).expand(B, -1).unsqueeze(-1)
            share = torch.softmax(torch.cat([logits, keep], dim=-1), dim=-1)[..., :-1]
            on_hand = inv[:, self.sources, 0].clamp(min=0.0).unsqueeze(-1)
            alloc = (share * on_hand)[:, pad >= 0]  # [B, n_internal_edges], in pad's row-major order
            q = q.index_copy(1, pad[pad >= 0], alloc)
        return q


class SupplyChainConv(MessagePassing):
    """One message-passing step of the GNN v3 (spec §6.2), applied with the same weights at every step.

    Per node, the embeddings of its incoming and of its outgoing edges are summed (``aggr="add"``, the
    ``propagate`` of torch-geometric on the edge index and on its reverse) and divided by √(in-degree)
    and √(out-degree); then residual updates ``node ← node + node_update([node, incoming, outgoing])``
    and ``edge ← edge + edge_update([edge, node_src, node_dst])``. Graphs are static and batched along a
    leading dimension (``node_dim=-2``): nodes ``[B, n, d]``, edges ``[B, m, d]``, one ``edge_index``.
    """

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__(aggr="add", node_dim=-2)
        self.node_mlp = mlp([3 * dim, hidden, dim])
        self.edge_mlp = mlp([3 * dim, hidden, dim])

    def forward(self, h: torch.Tensor, e: torch.Tensor, edge_index: torch.Tensor, inv_sqrt_in: torch.Tensor,
                inv_sqrt_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = h.shape[-2]
        incoming = self.propagate(edge_index, e=e, size=(n, n)) * inv_sqrt_in
        outgoing = self.propagate(edge_index.flip(0), e=e, size=(n, n)) * inv_sqrt_out
        h = h + self.node_mlp(torch.cat([h, incoming, outgoing], dim=-1))
        src, dst = edge_index
        e = e + self.edge_mlp(torch.cat([e, h[..., src, :], h[..., dst, :]], dim=-1))
        return h, e

    def message(self, e: torch.Tensor) -> torch.Tensor:  # the edge embedding is the message
        return e


class SupplyChainGNN(nn.Module):
    """The GNN v3 of spec §6.2 over the supply-chain graph of §4.2, sharing weights across stores: one
    set of parameters serves any number of stores and warehouses.

    Args:
        network: ``problem.network``.
        graph: ``problem.graph`` of the instance opened with ``obs_mode="graph"`` (``edge_index``,
            ``edge_attr`` = [lead, supply, demand, self-loop], ``x_static`` = [h, p, μ, σ, lead, edge cost,
            kind one-hot]); its first ``network.n_edges`` edges are the action edges.
        dim: embedding width (and the width of every MLP's hidden layer): 32 in the spec.
        steps: message-passing steps (1 for warehouse–store networks, ``n_echelons + 1`` for chains).
    """

    def __init__(self, network: Network, graph: dict[str, np.ndarray], dim: int = 32, steps: int = 1) -> None:
        super().__init__()
        net = network
        self.n_nodes, self.K, self.n_edges, self.steps = net.n_nodes, net.K, net.n_edges, int(steps)
        self.scale = s = demand_scale(net)
        edge_index = np.asarray(graph["edge_index"], dtype=np.int64)
        n_graph = int(graph["x_static"].shape[0])  # real nodes + virtual supplier + virtual customer
        # Static node features in network units: h, p/10, μ/s, σ/s, lead/10, edge cost, kind one-hot.
        norm = np.array([1.0, 0.1, 1 / s, 1 / s, 0.1, 1.0, 1.0, 1.0, 1.0], dtype=np.float32)
        _buffer(self, "x_static", graph["x_static"] * norm, torch.float32)
        _buffer(self, "edge_attr", graph["edge_attr"] * np.array([0.1, 1, 1, 1], dtype=np.float32), torch.float32)
        _buffer(self, "edge_index", edge_index, torch.long)
        indeg = np.bincount(edge_index[1], minlength=n_graph).clip(min=1)
        outdeg = np.bincount(edge_index[0], minlength=n_graph).clip(min=1)
        _buffer(self, "inv_sqrt_in", (1 / np.sqrt(indeg))[:, None], torch.float32)
        _buffer(self, "inv_sqrt_out", (1 / np.sqrt(outdeg))[:, None], torch.float32)
        # Rationing group: the action edges plus the keep-on-hand self-loops, by source node.
        self_loops = np.flatnonzero(edge_index[0] == edge_index[1])
        _buffer(self, "rationed_edges", np.concatenate([np.arange(net.n_edges), self_loops]), torch.long)
        _buffer(self, "rationed_src", np.concatenate([net.edge_src, edge_index[0, self_loops]]), torch.long)
        _buffer(self, "ship_all", ~np.asarray(net.holds_stock, dtype=np.bool_), torch.bool)
        # Each request in units of the mean demand served through the node it fills (the destination; for a
        # self-loop the node itself): a warehouse of n stores starts by ordering ~Σμ, not one store's μ.
        # (A node serving no demand, and the demand edges to the virtual customer, keep the store unit s.)
        served = served_demand(net)
        unit = np.full(edge_index.shape[1], s)
        real = edge_index[1] < net.n_nodes
        unit[real] = np.where(served[edge_index[1, real]] > 0, served[edge_index[1, real]], s)
        _buffer(self, "edge_unit", unit, torch.float32)
        self.n_graph_nodes = n_graph
        n_feat = net.K + self.x_static.shape[1]
        self.initial_node = mlp([n_feat, dim, dim], final_activation=True)
        self.initial_edge = mlp([2 * dim + self.edge_attr.shape[1], dim, dim], final_activation=True)
        self.conv = SupplyChainConv(dim, dim)
        self.output = mlp([dim, dim, dim, 1])
        with torch.no_grad():
            self.output[-1].bias.fill_(GNN_OUTPUT_BIAS)

    def forward(self, inv: torch.Tensor) -> torch.Tensor:
        B, N, K = inv.shape
        dt = inv.dtype
        stock = torch.cat([inv / self.scale, inv.new_zeros(B, self.n_graph_nodes - N, K)], dim=1)
        x = torch.cat([stock, self.x_static.to(dt).expand(B, -1, -1)], dim=-1)
        h = self.initial_node(x)
        src, dst = self.edge_index
        e = self.initial_edge(torch.cat([h[:, src], h[:, dst], self.edge_attr.to(dt).expand(B, -1, -1)], dim=-1))
        inv_in, inv_out = self.inv_sqrt_in.to(dt), self.inv_sqrt_out.to(dt)
        for _ in range(self.steps):
            h, e = self.conv(h, e, self.edge_index, inv_in, inv_out)
        # softplus(5) ≈ 5 = μ in the reference's units: the initial request is about one period's demand served
        # through the edge's destination.
        q = nn.functional.softplus(self.output(e).squeeze(-1)) * (self.edge_unit.to(dt) / GNN_OUTPUT_BIAS)
        alloc = proportional_rationing(q[:, self.rationed_edges], inv[:, :, 0], self.rationed_src, self.ship_all)
        return alloc[:, : self.n_edges]


# -- construction, the Policy wrapper, checkpoints ---------------------------------------------------------
def default_architecture(network: Network, kind: str = "mlp") -> dict[str, Any]:
    """Per-setting defaults (spec §6.2), with CPU-sized widths where the paper's are GPU-sized.

    GNN: 32 units, ``n_echelons + 1`` steps on chains, 2 on many-warehouse networks, else 1. MLP: 2×32
    for one store and serial chains (the paper's runs), 2×64 for independent stores, 2×128 for warehouse
    and transshipment networks (paper: 3×512 and 3×256 on a GPU; set ``hidden`` to use them).
    """
    from opsrl.envs.inventory.network import ECHELON, WAREHOUSE

    n_ech = int((network.node_kind == ECHELON).sum())
    n_wh = int((network.node_kind == WAREHOUSE).sum())
    if kind == "gnn":
        steps = n_ech + 1 if (n_ech or network.n_stores == 1) else (2 if n_wh > 1 else 1)
        return {"kind": "gnn", "dim": 32, "steps": steps}
    if kind != "mlp":
        raise ValueError(f"policy={kind!r} is invalid: must be 'mlp' or 'gnn'")
    if n_wh == 0:
        hidden = [32, 32] if network.n_stores == 1 else [64, 64]
    elif network.n_stores == 1:
        hidden = [32, 32]
    else:
        hidden = [128, 128]
    return {"kind": "mlp", "hidden": hidden}


def build_module(problem: Any, architecture: dict[str, Any]) -> nn.Module:
    """The torch module of ``architecture`` (from :func:`default_architecture`) for ``problem``."""
    kind = architecture.get("kind")
    if kind == "mlp":
        return VanillaMLP(problem.network, tuple(int(h) for h in architecture["hidden"]))
    if kind == "gnn":
        graph = problem.graph if getattr(problem, "obs_mode", "flat") == "graph" else \
            type(problem)(problem.params, obs_mode="graph").graph
        return SupplyChainGNN(problem.network, graph, dim=int(architecture["dim"]), steps=int(architecture["steps"]))
    raise ValueError(f"architecture kind {kind!r} is invalid: must be 'mlp' or 'gnn'")


class TorchInventoryPolicy(Policy):
    """A torch inventory module as an opsrl :class:`~opsrl.policies.base.Policy`: acts on batches of flat
    or graph observations (only the inventory vectors are read), without gradients.

    Args:
        problem: the instance (``problem.network`` must match the module's).
        module: a module from :func:`build_module`.
        round_orders: round orders to integers (Poisson demand: the spec's evaluation protocol, §6.1).
        name: reported policy name.
    """

    def __init__(self, problem: Any, module: nn.Module, round_orders: bool = False, name: str = "hdpo") -> None:
        super().__init__(problem)
        self.module = module.eval()
        self.round_orders = bool(round_orders)
        self.name = name
        self.dtype = next(module.parameters()).dtype

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        inv = torch.as_tensor(inventory_of(self.problem, obs), dtype=self.dtype)
        with torch.no_grad():
            q = self.module(inv)
        if self.round_orders:
            q = torch.round(q)
        return q.numpy().astype(np.float32)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "module": type(self.module).__name__, "round_orders": self.round_orders}


def save_policy(path: str, module: nn.Module, architecture: dict[str, Any], round_orders: bool,
                extra: dict[str, Any]) -> None:
    """Write a checkpoint directory: the weights (``torch.save`` of a state dict of tensors) and the
    ``opsrl_policy.json`` manifest whose loader is :func:`load_policy`. Files are replaced atomically."""
    os.makedirs(path, exist_ok=True)
    tmp = os.path.join(path, WEIGHTS_FILE + ".tmp")
    torch.save(module.state_dict(), tmp)
    os.replace(tmp, os.path.join(path, WEIGHTS_FILE))
    meta = {"loader": "opsrl.policies.inventory:load_policy", "architecture": architecture,
            "round_orders": bool(round_orders), "weights": WEIGHTS_FILE,
            "network": {"n_nodes": int(module.n_nodes), "n_edges": int(module.n_edges), "K": int(module.K)},
            **extra}
    tmp = os.path.join(path, CHECKPOINT_FILE + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(meta, fh, indent=2, default=float)
    os.replace(tmp, os.path.join(path, CHECKPOINT_FILE))


def load_policy(path: str, problem: Any) -> TorchInventoryPolicy:
    """Load a checkpoint written by :func:`save_policy` (``opsrl eval --policy DIR``). Tensors are read
    with ``weights_only=True``. A GNN serves any instance of the family (its weights do not depend on the
    number of stores); an MLP only an instance with the same nodes, edges and inventory length."""
    with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
        meta = json.load(fh)
    arch = meta["architecture"]
    net = problem.network
    saved = meta.get("network", {})
    if arch.get("kind") == "mlp" and saved and (saved["n_nodes"], saved["n_edges"], saved["K"]) != \
            (net.n_nodes, net.n_edges, net.K):
        raise ValueError(f"{path}: the MLP was trained on {saved['n_nodes']} nodes / {saved['n_edges']} edges / "
                         f"K={saved['K']}; this instance has {net.n_nodes} / {net.n_edges} / K={net.K}")
    if arch.get("kind") == "gnn" and saved and saved["K"] != net.K:
        raise ValueError(f"{path}: the GNN was trained with inventory vectors of length K={saved['K']}; "
                         f"this instance has K={net.K}")
    module = build_module(problem, arch)
    state = torch.load(os.path.join(path, meta.get("weights", WEIGHTS_FILE)), weights_only=True)
    module.load_state_dict(state)
    dtype = next(iter(state.values())).dtype
    return TorchInventoryPolicy(problem, module.to(dtype), round_orders=meta.get("round_orders", False),
                                name=meta.get("name", "hdpo"))
