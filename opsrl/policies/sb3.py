"""Stable-Baselines3 features extractor for the ``obs_mode="graph"`` observations of opsrl envs.

Every single-agent opsrl env trains with SB3 out of the box on its flat observation (``PPO("MlpPolicy", env)``,
or sb3-contrib's ``MaskablePPO`` where the env has ``action_masks()``). For graph observations, pass
:class:`GraphFeaturesExtractor` to ``MultiInputPolicy``::

    from stable_baselines3 import PPO
    from opsrl.policies.sb3 import GraphFeaturesExtractor

    env = gym.make("opsrl/InventoryNetwork-v0", preset="one_warehouse_lost_n3", obs_mode="graph")
    model = PPO("MultiInputPolicy", env, policy_kwargs={"features_extractor_class": GraphFeaturesExtractor})

The graph observations of the package share one layout (padded to fixed shapes so vector envs batch them):
node features ``[N, F]`` under ``x`` (inventory) or ``op_features`` (job shop), ``edge_index`` ``[2, E]``
whose padding columns hold −1, and optionally ``edge_attr`` ``[E, D]``. The extractor strips the padding,
offsets the node indices of each graph of the batch, runs torch-geometric GIN layers (GINE when the
observation carries edge attributes) and reads the graph out as ``[mean pool, max pool, node part]``,
where the node part is the embeddings of the ``candidate`` nodes when the observation names them (job
shop: each job's next operation, so the action logits see the nodes they choose between) and otherwise
the embeddings of every node (small graphs; node order is fixed within an env). SB3 casts every Box to
float before the extractor, which is why indices are rounded back to integers here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from opsrl.policies.base import Policy

NODE_KEYS = ("x", "op_features")
MAX_FLAT_NODE_FEATURES = 4096
"""Above this many node-embedding values the node part is left out (pooling only) to keep the head small."""


def _node_key(space: gym.spaces.Dict) -> str:
    for key in NODE_KEYS:
        if key in space.spaces:
            return key
    raise ValueError(f"GraphFeaturesExtractor needs a graph observation with node features under one of "
                     f"{NODE_KEYS} and 'edge_index'; got keys {sorted(space.spaces)} (pass obs_mode='graph')")


class GraphFeaturesExtractor(BaseFeaturesExtractor):
    """GIN message passing over an opsrl graph observation, read out to a fixed-size feature vector.

    Args:
        observation_space: the env's ``Dict`` graph observation space.
        hidden: width of the node embeddings.
        layers: message-passing rounds.
    """

    def __init__(self, observation_space: gym.spaces.Dict, hidden: int = 64, layers: int = 2) -> None:
        from torch_geometric.nn import GINConv, GINEConv

        if not isinstance(observation_space, gym.spaces.Dict) or "edge_index" not in observation_space.spaces:
            raise ValueError("GraphFeaturesExtractor needs a Dict observation with 'edge_index' "
                             f"(obs_mode='graph'); got {observation_space}")
        self.node_key = _node_key(observation_space)
        n_nodes, n_feat = observation_space[self.node_key].shape
        self.has_edge_attr = "edge_attr" in observation_space.spaces
        self.candidate_key = "candidate" if "candidate" in observation_space.spaces else None
        if self.candidate_key:
            node_part = observation_space[self.candidate_key].shape[0] * hidden
        else:
            node_part = n_nodes * hidden if n_nodes * hidden <= MAX_FLAT_NODE_FEATURES else 0
        super().__init__(observation_space, features_dim=2 * hidden + node_part)
        self.n_nodes, self.hidden, self.flat_nodes = n_nodes, hidden, node_part > 0
        self.embed = nn.Linear(n_feat, hidden)
        edge_dim = observation_space["edge_attr"].shape[-1] if self.has_edge_attr else None
        self.convs = nn.ModuleList()
        for _ in range(layers):
            mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
            self.convs.append(GINEConv(mlp, edge_dim=edge_dim) if self.has_edge_attr else GINConv(mlp))

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        from torch_geometric.utils import scatter

        x = observations[self.node_key]
        B, N = x.shape[0], self.n_nodes
        edge_index = observations["edge_index"].round().long()  # (B, 2, E), −1 = padding
        valid = (edge_index >= 0).all(dim=1)  # (B, E)
        offsets = (torch.arange(B, device=x.device) * N).view(B, 1, 1)
        edges = (edge_index + offsets).permute(1, 0, 2)[:, valid]  # (2, E_valid) over the batch's nodes
        h = torch.relu(self.embed(x.reshape(B * N, -1)))
        edge_attr = observations["edge_attr"][valid] if self.has_edge_attr else None
        for conv in self.convs:
            h = h + torch.relu(conv(h, edges, edge_attr) if self.has_edge_attr else conv(h, edges))
        graph = torch.arange(B, device=x.device).repeat_interleave(N)
        parts = [scatter(h, graph, dim=0, dim_size=B, reduce="mean"),
                 scatter(h, graph, dim=0, dim_size=B, reduce="max")]
        if self.candidate_key:
            cand = observations[self.candidate_key].round().long().clamp(0, N - 1)  # (B, n)
            parts.append(h.view(B, N, -1).gather(1, cand.unsqueeze(-1).expand(-1, -1, self.hidden)).flatten(1))
        elif self.flat_nodes:
            parts.append(h.view(B, -1))
        return torch.cat(parts, dim=1)



class SB3Policy(Policy):
    """A trained SB3 model as an opsrl policy, so ``opsrl.eval.evaluate`` reports it on common random numbers
    beside the OR baselines (deterministic actions; ``info["action_mask"]`` is passed to MaskablePPO).

    Args:
        problem: the env's problem (``env.unwrapped.problem``).
        model: an SB3 or sb3-contrib model.
        normalize_obs: e.g. ``VecNormalize.normalize_obs`` when the model trained on normalised observations.
    """

    def __init__(self, problem, model, normalize_obs: Callable[[Any], Any] | None = None) -> None:
        super().__init__(problem)
        self.model, self.normalize_obs = model, normalize_obs
        self.name = f"sb3_{type(model).__name__.lower()}"
        self.masked = "action_masks" in inspect.signature(model.predict).parameters

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        if self.normalize_obs is not None:
            obs = self.normalize_obs(obs)
        kwargs = {"action_masks": info["action_mask"]} if self.masked and "action_mask" in info else {}
        action, _ = self.model.predict(obs, deterministic=True, **kwargs)
        return action
