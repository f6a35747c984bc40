"""A GNN pair scorer over the vehicle–order candidate graph of ``opsrl/RideSharing-v0`` (OSPO/GRPO's
``scorer=gnn``; the paper's MLP stays in :mod:`opsrl.policies.ride_scorer`).

The MLP scores every (vehicle, order) pair from the two nodes' own features, so it cannot see that a
nearer vehicle competes for the same order, or that the vehicle has a better order elsewhere. This
scorer runs message passing on the bipartite candidate graph of the epoch
(:meth:`opsrl.envs.ride_sharing.env.RideSharing.candidate_graph`):

* nodes: the eligible vehicles (their 8 + 5C observation features) and the visible orders (5 features
  and their age); edges: each vehicle's k lowest-ETA orders ∪ each order's k lowest-ETA vehicles
  (candidate pruning; k = 16 by default), with the insertion features [ETA, A, N_late, D, r] of the pair;
* encoders to ``hidden`` units, then ``layers`` rounds of ``HeteroConv`` with one ``GATv2Conv`` per
  direction (vehicle → order and order → vehicle; attention weights read the edge features), residual
  and LeakyReLU: after one round an order knows its candidate vehicles, after two a vehicle knows the
  other vehicles competing for its orders;
* an edge head MLP([h_vehicle ⊕ h_order ⊕ h_edge]) → one logit per candidate edge.

A vehicle's policy π(j|i) is the softmax of its edges' logits; pairs that are not edges get the lowest
score (−1e4), so the env's row softmax gives them probability 0 and its matching (max Σ π) never prefers
them. Every layer is a sum/attention over neighbours, so the scores are equivariant to permutations of
vehicles and of orders (tested).

Graphs of several envs or epochs are batched with ``torch_geometric.data.Batch``. :class:`GNNScorerPolicy`
reads the env's present state (vehicle routes, visible orders — what a dispatcher knows) through
``policy.reset(env)``, like the OR-tools baselines; :func:`load_policy` reads an OSPO/GRPO checkpoint
(``torch.load(weights_only=True)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from opsrl.policies.base import Policy
from opsrl.policies.ride_scorer import load_scorer

ORDER_NODE_FEATURES = 6
EDGE_FEATURES = 5
CAND = ("vehicle", "candidate", "order")
REV = ("order", "rev_candidate", "vehicle")


def to_data(graph: dict[str, np.ndarray]):
    """``HeteroData`` of one :meth:`~opsrl.envs.ride_sharing.env.RideSharing.candidate_graph`."""
    from torch_geometric.data import HeteroData

    g = HeteroData()
    g["vehicle"].x = torch.from_numpy(graph["vehicle_x"])
    g["order"].x = torch.from_numpy(graph["order_x"])
    ei = torch.from_numpy(np.stack([graph["src"], graph["dst"]]))
    g[CAND].edge_index, g[CAND].edge_attr = ei, torch.from_numpy(graph["edge_attr"])
    return g


def batch_graphs(graphs: list[dict[str, np.ndarray]]):
    """One ``Batch`` of several candidate graphs (node and edge indices offset per graph)."""
    from torch_geometric.data import Batch

    return Batch.from_data_list([to_data(g) for g in graphs])


def segment_log_softmax(logits: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    """log softmax of ``logits`` within each group ``index`` (a vehicle's candidate edges)."""
    from torch_geometric.utils import scatter

    top = scatter(logits.detach(), index, dim=0, dim_size=n, reduce="max")
    z = logits - top[index]
    lse = torch.log(scatter(z.exp(), index, dim=0, dim_size=n, reduce="sum").clamp(min=1e-30))
    return z - lse[index]


class RideGNN(nn.Module):
    """Edge logits of a (batched) candidate graph: ``forward(vehicle_x, order_x, edge_index, edge_attr) -> [n]``."""

    def __init__(
        self, vehicle_features: int = 23, hidden: int = 32, layers: int = 2, heads: int = 1, slope: float = 0.01
    ) -> None:
        super().__init__()
        from torch_geometric.nn import GATv2Conv, HeteroConv

        if hidden < 1 or layers < 0 or heads < 1:
            raise ValueError(f"RideGNN: hidden={hidden}, layers={layers}, heads={heads} must be positive")
        self.vehicle_features, self.hidden, self.layers, self.heads, self.slope = (
            int(vehicle_features),
            int(hidden),
            int(layers),
            int(heads),
            float(slope),
        )
        H = self.hidden
        self.act = nn.LeakyReLU(slope)
        self.venc = nn.Sequential(nn.Linear(self.vehicle_features, H), nn.LeakyReLU(slope), nn.Linear(H, H))
        self.oenc = nn.Sequential(nn.Linear(ORDER_NODE_FEATURES, H), nn.LeakyReLU(slope), nn.Linear(H, H))
        self.eenc = nn.Sequential(nn.Linear(EDGE_FEATURES, H), nn.LeakyReLU(slope), nn.Linear(H, H))

        def gat():
            return GATv2Conv((H, H), H, heads=self.heads, concat=False, edge_dim=H, add_self_loops=False)

        self.convs = nn.ModuleList(HeteroConv({CAND: gat(), REV: gat()}, aggr="sum") for _ in range(self.layers))
        self.head = nn.Sequential(nn.Linear(3 * H, H), nn.LeakyReLU(slope), nn.Linear(H, 1))

    def forward(
        self, vehicle_x: torch.Tensor, order_x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor
    ) -> torch.Tensor:
        x = {"vehicle": self.venc(vehicle_x[:, : self.vehicle_features]), "order": self.oenc(order_x)}
        e = self.eenc(edge_attr)
        ei = {CAND: edge_index, REV: edge_index.flip(0)}
        ea = {CAND: e, REV: e}
        for conv in self.convs:
            out = conv(x, ei, edge_attr_dict=ea)
            x = {t: self.act(x[t] + out[t]) if t in out else x[t] for t in x}  # residual: keeps isolated nodes
        h = torch.cat([x["vehicle"][edge_index[0]], x["order"][edge_index[1]], e], dim=-1)
        return self.head(h).squeeze(-1)

    def forward_batch(self, batch) -> torch.Tensor:
        return self(batch["vehicle"].x, batch["order"].x, batch[CAND].edge_index, batch[CAND].edge_attr)


def graph_scores(
    problem, state, obs: dict[str, np.ndarray], nets: list[RideGNN], k: int | None, envs: range | list[int]
) -> dict[int, tuple[dict[str, np.ndarray], list[np.ndarray]]]:
    """Candidate graphs of ``envs`` (those with eligible vehicles and visible orders) and the edge logits of
    each net in ``nets``, in one batched forward per net: {b: (graph, [logits per net])}."""
    graphs = {}
    for b in envs:
        g = problem.candidate_graph(state, b, obs, k)
        if g["src"].size:
            graphs[b] = g
    if not graphs:
        return {}
    batch = batch_graphs(list(graphs.values()))
    bounds = np.cumsum([0] + [g["src"].size for g in graphs.values()])
    with torch.no_grad():
        outs = [net.forward_batch(batch).numpy() for net in nets]
    return {b: (g, [o[bounds[i] : bounds[i + 1]] for o in outs]) for i, (b, g) in enumerate(graphs.items())}


def scores_matrix(problem, graph: dict[str, np.ndarray], logits: np.ndarray) -> np.ndarray:
    """[V, M] env scores: the edge logits on candidate pairs, −1e4 elsewhere (probability 0 after the env's
    row softmax)."""
    from opsrl.envs.ride_sharing.env import SCORE_BOUND

    s = np.full((problem.V, graph["order_x"].shape[0]), -SCORE_BOUND, dtype=np.float32)
    s[graph["rows"][graph["src"]], graph["dst"]] = np.clip(logits, -SCORE_BOUND / 2, SCORE_BOUND / 2)
    return s


class GNNScorerPolicy(Policy):
    """A trained :class:`RideGNN` acting on ``opsrl/RideSharing-v0`` (flat or dict observations); reads the
    candidate pairs' insertion features from the env it acts in (``reset(env)``)."""

    name = "ride_gnn"

    def __init__(self, problem, net: RideGNN, candidate_k: int | None = 16, name: str = "ride_gnn") -> None:
        super().__init__(problem)
        if net.vehicle_features > problem.F:
            raise ValueError(f"GNN reads {net.vehicle_features} vehicle features; the env has {problem.F}")
        self.net, self.candidate_k, self.name = net.eval(), candidate_k, name

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        from opsrl.envs.ride_sharing.heuristics import env_state

        problem, state = env_state(self.env)
        d = obs if isinstance(obs, dict) else problem.split_flat(np.atleast_2d(np.asarray(obs)))
        B = state.t.shape[0]
        out = np.zeros((B, problem.V, problem.O), dtype=np.float32)
        for b, (g, (lg,)) in graph_scores(problem, state, d, [self.net], self.candidate_k, range(B)).items():
            out[b, :, : g["order_x"].shape[0]] = scores_matrix(problem, g, lg)
        return out


def gnn_from_config(config: dict[str, Any]) -> RideGNN:
    return RideGNN(
        vehicle_features=int(config["vehicle_features"]),
        hidden=int(config["hidden"]),
        layers=int(config["layers"]),
        heads=int(config["heads"]),
        slope=float(config.get("slope", 0.01)),
    )


def gnn_config(net: RideGNN) -> dict[str, Any]:
    return {
        "kind": "gnn",
        "vehicle_features": net.vehicle_features,
        "hidden": net.hidden,
        "layers": net.layers,
        "heads": net.heads,
        "slope": net.slope,
    }


def load_policy(path: str, problem) -> GNNScorerPolicy:
    """The GNN of an OSPO/GRPO checkpoint directory (``scorer.pt``, weights only)."""
    meta, net = load_scorer(path, gnn_from_config)
    k = meta["scorer"].get("candidate_k", 16)
    return GNNScorerPolicy(problem, net, None if k is None else int(k), name=str(meta.get("algo", "ride_gnn")))
