"""The OSPO pair scorer (Zhao & Li, arXiv 2507.15351): one MLP shared by every vehicle, applied to each
(vehicle, order) pair of an epoch, for ``opsrl/RideSharing-v0``.

Input of a pair = the vehicle's features ``vehicles[i, :F]`` (F = 23 at capacity 3: the OSPO layout of spec
§4) ⊕ the order's 5 features ``orders[j]`` = 28 floats. Network [28 → 128 → 128 → 1] with LeakyReLU(0.01)
(20,353 parameters at F = 23, as in the reference). Its output is a logit; the env applies the row softmax
over the epoch's visible orders (``score_transform="softmax"``) and the matching maximises Σ π.

The first layer is linear in the concatenation, so W·[u_i ⊕ o_j] = W_u·u_i + W_o·o_j: it is computed once
per vehicle and once per order and broadcast over the V × M pairs (the same numbers as running the MLP on
every concatenated pair, without materialising the [V, M, 28] input).

:class:`RideScorerPolicy` turns a scorer into an opsrl :class:`~opsrl.policies.base.Policy` (flat or dict
observations); :func:`load_policy` reads an OSPO/GRPO checkpoint directory (``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from opsrl.policies.base import CHECKPOINT_FILE, Policy

ORDER_FEATURES = 5
MASKED = -1e9


class PairScorer(nn.Module):
    """MLP logit s(u_i, o_j) for every pair; ``forward(vehicles [..., V, ≥F], orders [..., M, 5]) -> [..., V, M]``."""

    def __init__(self, vehicle_features: int = 23, hidden: tuple[int, ...] = (128, 128), slope: float = 0.01) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("PairScorer needs at least one hidden layer")
        self.vehicle_features, self.hidden, self.slope = int(vehicle_features), tuple(int(h) for h in hidden), slope
        self.first = nn.Linear(self.vehicle_features + ORDER_FEATURES, self.hidden[0])
        rest: list[nn.Module] = []
        n_in = self.hidden[0]
        for h in self.hidden[1:]:
            rest += [nn.Linear(n_in, h), nn.LeakyReLU(slope)]
            n_in = h
        rest.append(nn.Linear(n_in, 1))
        self.rest = nn.Sequential(*rest)
        self.act = nn.LeakyReLU(slope)

    def forward(self, vehicles: torch.Tensor, orders: torch.Tensor) -> torch.Tensor:
        F = self.vehicle_features
        w = self.first.weight
        hv = vehicles[..., :F] @ w[:, :F].T  # [..., V, H]
        ho = orders @ w[:, F:].T + self.first.bias  # [..., M, H]
        h = self.act(hv.unsqueeze(-2) + ho.unsqueeze(-3))  # [..., V, M, H]
        return self.rest(h).squeeze(-1)

    def log_probs(self, vehicles: torch.Tensor, orders: torch.Tensor, order_mask: torch.Tensor) -> torch.Tensor:
        """Row log-softmax over the valid orders (``order_mask`` [..., M]); invalid columns get ≈ −1e9."""
        logits = self(vehicles, orders)
        logits = torch.where(order_mask.bool().unsqueeze(-2), logits, torch.full_like(logits, MASKED))
        return torch.log_softmax(logits, dim=-1)


class RideScorerPolicy(Policy):
    """A trained pair scorer acting on batches of ``opsrl/RideSharing-v0`` observations.

    The scores are the scorer's logits on the visible orders (clipped to the action box); the env's row
    softmax and matching do the rest, so the policy is deterministic.
    """

    name = "ride_scorer"

    def __init__(self, problem, scorer: PairScorer, name: str = "ride_scorer") -> None:
        super().__init__(problem)
        if scorer.vehicle_features > problem.F:
            raise ValueError(f"scorer reads {scorer.vehicle_features} vehicle features; the env has {problem.F}")
        self.scorer, self.name = scorer.eval(), name

    def scores(self, obs: Any) -> np.ndarray:
        d = obs if isinstance(obs, dict) else self.problem.split_flat(np.atleast_2d(np.asarray(obs)))
        veh = torch.as_tensor(np.asarray(d["vehicles"], dtype=np.float32))
        orders = torch.as_tensor(np.asarray(d["orders"], dtype=np.float32))
        mask = np.asarray(d["order_mask"]) > 0
        out = np.zeros((mask.shape[0], self.problem.V, mask.shape[1]), dtype=np.float32)
        with torch.no_grad():
            for b in range(mask.shape[0]):  # only the visible prefix of each env (the rest is padding)
                m = int(mask[b].sum())
                if m:
                    out[b, :, :m] = self.scorer(veh[b], orders[b, :m]).numpy()
        from opsrl.envs.ride_sharing.env import SCORE_BOUND

        return np.clip(out, -SCORE_BOUND, SCORE_BOUND)

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        return self.scores(obs)


def scorer_from_config(config: dict[str, Any]) -> PairScorer:
    return PairScorer(vehicle_features=int(config["vehicle_features"]), hidden=tuple(config["hidden"]),
                      slope=float(config.get("slope", 0.01)))


def load_scorer(path: str, from_config: Callable[[dict[str, Any]], nn.Module]) -> tuple[dict[str, Any], nn.Module]:
    """The manifest and the network of an OSPO/GRPO checkpoint directory (``scorer.pt``, weights only)."""
    with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
        meta = json.load(fh)
    net = from_config(meta["scorer"])
    net.load_state_dict(torch.load(os.path.join(path, "scorer.pt"), weights_only=True)["scorer"])
    return meta, net


def load_policy(path: str, problem) -> RideScorerPolicy:
    """The MLP pair scorer of an OSPO/GRPO checkpoint directory."""
    meta, scorer = load_scorer(path, scorer_from_config)
    return RideScorerPolicy(problem, scorer, name=str(meta.get("algo", "ride_scorer")))
