"""GNN actor-critic for lot sizing on the item–machine bipartite graph (``opsrl/LotSizing-v0``, ``obs_mode="graph"``).

Architecture (torch-geometric layers; every weight is shared across items, machines and edges, so one
trained agent acts on instances of any size — ``tests/policies/test_lot_sizing_gnn.py`` runs the same
weights on 15×5 and 25×15):

* **Encoders**: MLPs lift item, machine and edge features (:mod:`opsrl.envs.lot_sizing.graph`) to width H.
* **Message passing**: ``len(hidden)`` rounds; each round updates items from the machines that can make
  them, then machines from their items, with ``GATv2Conv`` on the bipartite graph (``edge_dim`` = H, so
  attention sees production rate, setup cost and "is current setup"), residual connections and ReLU.
* **Actor**: each edge (m, i) is scored by an MLP on [h_m, h_i, e_mi]; each machine's idle option by an MLP on
  [h_m, pooled graph]. The logits fill an (M, I + 1) table (pairs that are not edges stay at −1e8, as do
  masked actions) that becomes one categorical per machine — the ``MultiDiscrete([I + 1] · M)`` action of
  the env (:class:`~opsrl.policies.mlp.ActionDistribution`, so sampling, ``log_prob`` and ``entropy`` are the
  PPO core's).
* **Inertia prior**: the logit of "do what the machine did last period" (the edge that is its current setup,
  or idle for an idle machine) gets a bonus ``inertia + log(n)``, n = the machine's other options (its
  capable items, plus idle when it is set up). ``inertia`` is one learned scalar, initially ``INERTIA_INIT``,
  and the log(n) term makes the initial probability of continuing e^c / (e^c + 1) ≈ 0.88 (c = 2) on every
  machine whatever its flexibility. Without the prior the initial policy is uniform over idle and the
  capable items, so every machine switches almost every period and pays a setup cost F ≈ 15–30 each time:
  about 30,000 per episode on 25×15, 2.5× always idle, and PPO's first updates mostly learn to stop
  switching (the GNN by collapsing to always idle, which its greedy policy then never left). With the
  prior the initial policy continues its runs and exploration is about when to switch.
* **Critics**: MLPs on the pooled graph (mean over items ‖ mean over machines). ``post_value`` is a second
  head on the same encoder for PDPPO's post-decision critic V^x(s^x) (the post-decision observation has the
  same graph layout).

Use with the shared PPO core or PDPPO::

    opsrl train pdppo --env opsrl/LotSizing-v0 --preset pdppo_15x5 --option obs_mode=graph \\
        --option policy=opsrl.policies.lot_sizing_gnn:make_agent

A checkpoint trained on one instance is evaluated on another with ``evaluate(checkpoint, env_id, preset)``:
the loader builds the agent for that preset's spaces and the weights fit because none depends on I or M.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Categorical

from opsrl.policies.mlp import MASKED_LOGIT, ActionDistribution, ActionHead, MLPActorCritic, mlp

INERTIA_INIT = 2.0
"""Initial learned part c of the logit bonus c + log(n) of continuing the current setup (module docstring)."""

GRAPH_KEYS = ("item_features", "machine_features", "edge_index", "edge_features", "counts")


def collate(obs: dict[str, Any]) -> tuple[torch.Tensor, ...]:
    """A batch of padded graph observations as one disjoint bipartite graph.

    Returns item features [B·I, Fi], machine features [B·M, Fm], edges [2, E] (row 0 global machine id,
    row 1 global item id; padding dropped), edge features [E, Fe], the flat position of each edge in the
    [B, M, I + 1] logit table, item and machine validity masks [B, I], [B, M] (nodes past ``counts``), B, I, M.
    """
    obs = {k: torch.as_tensor(obs[k]) for k in GRAPH_KEYS}
    if obs["item_features"].dim() == 2:  # one env's observation
        obs = {k: v.unsqueeze(0) for k, v in obs.items()}
    items, machines = obs["item_features"].float(), obs["machine_features"].float()
    B, n_items, _ = items.shape
    n_mach = machines.shape[1]
    ei = obs["edge_index"].long()  # [B, 2, E]
    keep = ei[:, 0, :] >= 0
    b = torch.arange(B).view(B, 1).expand_as(keep)[keep]
    m, i = ei[:, 0, :][keep], ei[:, 1, :][keep]
    edges = torch.stack([m + b * n_mach, i + b * n_items])
    slot = (b * n_mach + m) * (n_items + 1) + i + 1
    counts = obs["counts"].long()
    item_ok = torch.arange(n_items).view(1, -1) < counts[:, 0:1]
    mach_ok = torch.arange(n_mach).view(1, -1) < counts[:, 1:2]
    return (
        items.reshape(B * n_items, -1),
        machines.reshape(B * n_mach, -1),
        edges,
        obs["edge_features"].float()[keep],
        slot,
        item_ok,
        mach_ok,
        B,
        n_items,
        n_mach,
    )


def _masked_mean(h: torch.Tensor, ok: torch.Tensor) -> torch.Tensor:
    """Mean over the valid nodes of each graph: h [B, N, H], ok [B, N]."""
    w = ok.float().unsqueeze(-1)
    return (h * w).sum(1) / w.sum(1).clamp_min(1.0)


class LotSizingGNN(nn.Module):
    """Bipartite GATv2 encoder, edge-scoring actor, pooled critics (see the module docstring).

    ``forward(obs, mask) -> (ActionDistribution, value)``, ``value(obs)`` and ``post_value(post_obs)`` follow
    the agent interface of :mod:`opsrl.algos.ppo` and :mod:`opsrl.algos.pdppo`.

    Args:
        observation_space: the ``Dict`` graph space of ``opsrl/LotSizing-v0`` with ``obs_mode="graph"``.
        action_space: ``MultiDiscrete([I + 1] * M)``.
        hidden: width H = ``hidden[0]``, message-passing rounds = ``len(hidden)``.
        heads: attention heads of each GATv2 layer (concatenated, then projected back to H).
        inertia: initial value of the learned c in the logit bonus c + log(n) of repeating the last period's
            choice (idle or the current setup).
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        hidden: tuple[int, ...] = (64, 64),
        heads: int = 2,
        inertia: float = INERTIA_INIT,
    ) -> None:
        super().__init__()
        if not isinstance(observation_space, spaces.Dict) or set(GRAPH_KEYS) - set(observation_space.spaces):
            raise ValueError(
                "LotSizingGNN needs the graph observation of opsrl/LotSizing-v0 (obs_mode='graph'); "
                f"got {observation_space}"
            )
        if not isinstance(action_space, spaces.MultiDiscrete):
            raise ValueError(f"LotSizingGNN needs a MultiDiscrete action space, got {action_space}")
        if not hidden or min(hidden) < 1:
            raise ValueError(f"hidden={hidden!r} is invalid: a non-empty tuple of positive widths")
        from torch_geometric.nn import GATv2Conv

        H = int(hidden[0])
        self.rounds = len(hidden)
        f_item = observation_space["item_features"].shape[-1]
        f_mach = observation_space["machine_features"].shape[-1]
        f_edge = observation_space["edge_features"].shape[-1]
        self.item_in = mlp(f_item, (H,), H, out_std=1.0)
        self.mach_in = mlp(f_mach, (H,), H, out_std=1.0)
        self.edge_in = mlp(f_edge, (H,), H, out_std=1.0)

        def conv() -> nn.Module:
            return GATv2Conv((H, H), H, heads=heads, concat=False, edge_dim=H, add_self_loops=False)

        self.to_item = nn.ModuleList(conv() for _ in range(self.rounds))
        self.to_mach = nn.ModuleList(conv() for _ in range(self.rounds))
        self.head = ActionHead(action_space)
        self.edge_score = mlp(3 * H, (H,), 1, out_std=0.01)
        self.idle_score = mlp(3 * H, (H,), 1, out_std=0.01)
        self.critic = mlp(2 * H, (H,), 1, out_std=1.0)
        self.post_critic_head = mlp(2 * H, (H,), 1, out_std=1.0)
        self.inertia = nn.Parameter(torch.tensor(float(inertia)))
        self.register_buffer("use_prior", torch.tensor(1.0))
        self._register_load_state_dict_pre_hook(_without_prior)

    def embed(self, obs: dict[str, Any]) -> tuple[torch.Tensor, ...]:
        """Item and machine embeddings [B·I, H], [B·M, H], edge embeddings [E, H], pooled [B, 2H], and the
        collated indices."""
        x_i, x_m, edges, e_feat, slot, item_ok, mach_ok, B, n_items, n_mach = collate(obs)
        h_i, h_m, e = self.item_in(x_i), self.mach_in(x_m), self.edge_in(e_feat)
        rev = edges.flip(0)  # item -> machine
        for to_item, to_mach in zip(self.to_item, self.to_mach, strict=True):
            h_i = h_i + torch.relu(to_item((h_m, h_i), edges, edge_attr=e))
            h_m = h_m + torch.relu(to_mach((h_i, h_m), rev, edge_attr=e))
        pooled = torch.cat(
            [_masked_mean(h_i.view(B, n_items, -1), item_ok), _masked_mean(h_m.view(B, n_mach, -1), mach_ok)], dim=-1
        )
        self._raw = (x_m[:, 0], e_feat[:, 5])  # idle flag, "is current setup": the inertia prior's inputs
        return h_i, h_m, e, pooled, edges, slot, B, n_items, n_mach

    def forward(self, obs: dict[str, Any], mask: torch.Tensor | None = None) -> tuple[ActionDistribution, torch.Tensor]:
        h_i, h_m, e, pooled, edges, slot, B, n_items, n_mach = self.embed(obs)
        idle_flag, current = self._raw
        # the prior's log(n): a machine's options besides the current one = its capable items (its degree),
        # counting idle instead of the current item when it is set up
        degree = torch.zeros(B * n_mach, dtype=h_i.dtype).index_add_(0, edges[0], torch.ones_like(current))
        bonus = self.use_prior * (self.inertia + torch.log(degree.clamp_min(1.0)))
        logits = torch.full((B * n_mach * (n_items + 1),), MASKED_LOGIT, dtype=h_i.dtype)
        edge_logit = self.edge_score(torch.cat([h_m[edges[0]], h_i[edges[1]], e], dim=-1)).squeeze(-1)
        logits = logits.index_put((slot,), edge_logit + bonus[edges[0]] * current)
        idle_in = torch.cat([h_m, pooled.repeat_interleave(n_mach, dim=0)], dim=-1)
        idle_slot = torch.arange(B * n_mach) * (n_items + 1)
        idle_logit = self.idle_score(idle_in).squeeze(-1) + bonus * idle_flag
        logits = logits.index_put((idle_slot,), idle_logit)
        logits = logits.view(B, n_mach, n_items + 1)
        if mask is not None:
            logits = torch.where(mask.reshape(logits.shape).bool(), logits, torch.full_like(logits, MASKED_LOGIT))
        # one categorical per machine of *this* graph (not of the space the agent was built for), so the same
        # module acts on any I × M; ``head.to_env`` maps samples to env actions
        dist = ActionDistribution(cats=[Categorical(logits=logits[:, m]) for m in range(n_mach)])
        return dist, self.critic(pooled).squeeze(-1)

    def value(self, obs: dict[str, Any]) -> torch.Tensor:
        return self.critic(self.embed(obs)[3]).squeeze(-1)

    def post_value(self, post_obs: dict[str, Any]) -> torch.Tensor:
        """V^x(s^x) of PDPPO on the post-decision graph (same encoder, own head)."""
        return self.post_critic_head(self.embed(post_obs)[3]).squeeze(-1)


def _without_prior(state_dict, prefix, *args) -> None:
    """Checkpoints saved before the inertia prior existed acted without it: load them with the prior off."""
    if prefix + "inertia" not in state_dict:
        state_dict[prefix + "inertia"] = torch.tensor(0.0)
        state_dict[prefix + "use_prior"] = torch.tensor(0.0)


class LotSizingMLP(MLPActorCritic):
    """The shared MLP actor-critic on the flat view plus the inertia prior of the GNN (module docstring; n comes
    from the action mask).

    The flat observation is [stock (I), one-hot setup per machine (M × (I + 1), column 0 = idle), t/T]; the
    one-hot block has the layout of the action logits, so the prior adds c + log(n) where it is set. The
    block is read as ``> 0``, which holds for the raw one-hot and for the PPO core's running normalisation
    alike (a standardised 0/1 column is negative for 0 and positive for 1). Needs ``obs_setup=True``.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        hidden: tuple[int, ...] = (64, 64),
        inertia: float = INERTIA_INIT,
    ) -> None:
        super().__init__(observation_space, action_space, hidden=hidden)
        nvec = np.asarray(action_space.nvec).ravel()
        self.n_items, self.n_mach = int(nvec[0]) - 1, len(nvec)
        n_obs = int(np.prod(observation_space.shape))
        if n_obs < self.n_items + self.n_mach * (self.n_items + 1):
            raise ValueError(
                f"LotSizingMLP needs the setups in the flat observation (obs_setup=True); got {n_obs} "
                f"features for {self.n_items} items x {self.n_mach} machines"
            )
        self.inertia = nn.Parameter(torch.tensor(float(inertia)))
        self.register_buffer("use_prior", torch.tensor(1.0))
        self._register_load_state_dict_pre_hook(_without_prior)

    def forward(self, obs: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[ActionDistribution, torch.Tensor]:
        obs = obs.flatten(1)
        start = self.n_items
        current = (obs[:, start : start + self.n_mach * (self.n_items + 1)] > 0).float()
        shape = (obs.shape[0], self.n_mach, self.n_items + 1)
        # the prior's log(n): options of each machine besides the current one (from the mask; all without one)
        n_opt = mask.reshape(shape).float().sum(-1) if mask is not None else torch.full(shape[:2], self.n_items + 1.0)
        bonus = self.use_prior * (self.inertia + torch.log((n_opt - 1.0).clamp_min(1.0)))
        bonus = bonus.unsqueeze(-1) * current.view(shape)
        return self.head.distribution(self.actor(obs) + bonus.flatten(1), mask), self.critic(obs).squeeze(-1)


def make_agent(observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any) -> LotSizingGNN:
    """``--option policy=opsrl.policies.lot_sizing_gnn:make_agent`` (with ``--option obs_mode=graph``)."""
    return LotSizingGNN(observation_space, action_space, **kwargs)


def make_mlp_agent(observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any) -> LotSizingMLP:
    """``--option policy=opsrl.policies.lot_sizing_gnn:make_mlp_agent`` (flat view with ``obs_setup=True``)."""
    return LotSizingMLP(observation_space, action_space, **kwargs)


__all__ = ["INERTIA_INIT", "LotSizingGNN", "LotSizingMLP", "collate", "make_agent", "make_mlp_agent"]
