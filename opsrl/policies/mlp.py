"""MLP actor-critic for flat (``Box``) observations and the action heads every on-policy algorithm shares.

Action heads map network outputs to distributions over a Gymnasium action space:

* ``Box`` — a diagonal Gaussian over a latent ``a`` with a state-independent log-std; a bounded dimension
  receives ``low + (tanh(a) + 1)/2 · (high − low)`` (unbounded ones get ``a`` itself). The squashing is a
  bijection, so PPO's likelihood ratio on ``a`` is exact, and unlike clipping it has no flat region where the
  mean can drift out of the box unnoticed (which makes the deterministic policy useless). Its weakness is
  saturation: once the mean sits deep in a tail, every sample maps to nearly the same action and the gradient
  signal vanishes. ``box_squash="clip"`` is the alternative (SB3's): ``low + (clip(a, −1, 1) + 1)/2 · (high −
  low)``, which keeps the Gaussian's spread inside the box where the optimum is interior (inventory orders).
* ``Discrete`` / ``MultiDiscrete`` — one categorical per dimension; invalid choices (``info["action_mask"]``,
  concatenated per dimension as in sb3-contrib) get a logit of −1e8, so they are never sampled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.distributions import Categorical, Normal

MASKED_LOGIT = -1e8


def layer(n_in: int, n_out: int, std: float = np.sqrt(2), bias: float = 0.0) -> nn.Linear:
    """Orthogonal initialisation (the PPO implementation details of Huang et al., 2022)."""
    lin = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(lin.weight, std)
    nn.init.constant_(lin.bias, bias)
    return lin


def mlp(n_in: int, hidden: tuple[int, ...], n_out: int, out_std: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [layer(n_in, h), nn.Tanh()]
        n_in = h
    layers.append(layer(n_in, n_out, std=out_std))
    return nn.Sequential(*layers)


class ActionHead(nn.Module):
    """Turns actor outputs into a distribution and samples into env actions."""

    def __init__(self, action_space: spaces.Space, box_squash: str = "tanh") -> None:
        super().__init__()
        if box_squash not in ("tanh", "clip"):
            raise ValueError(f"box_squash={box_squash!r} is invalid: 'tanh' or 'clip'")
        self.space, self.box_squash = action_space, box_squash
        if isinstance(action_space, spaces.Box):
            self.kind = "box"
            self.n_out = int(np.prod(action_space.shape))
            self.log_std = nn.Parameter(torch.zeros(self.n_out))
            low, high = action_space.low.ravel().astype(np.float64), action_space.high.ravel().astype(np.float64)
            self.bounded = np.isfinite(low) & np.isfinite(high)
            self.low, self.high = np.where(self.bounded, low, 0.0), np.where(self.bounded, high, 0.0)
        elif isinstance(action_space, (spaces.Discrete, spaces.MultiDiscrete)):
            self.kind = "categorical"
            self.nvec = [int(action_space.n)] if isinstance(action_space, spaces.Discrete) \
                else [int(n) for n in np.asarray(action_space.nvec).ravel()]
            self.n_out = int(sum(self.nvec))
        else:
            raise ValueError(f"action space {action_space} is not supported (Box, Discrete, MultiDiscrete)")

    @property
    def action_shape(self) -> tuple[int, ...]:
        return (self.n_out,) if self.kind == "box" else (len(self.nvec),)

    def distribution(self, out: torch.Tensor, mask: torch.Tensor | None = None) -> ActionDistribution:
        if self.kind == "box":
            return ActionDistribution(normal=Normal(out, self.log_std.exp().expand_as(out)))
        if mask is not None:
            out = torch.where(mask.bool(), out, torch.full_like(out, MASKED_LOGIT))
        if len(self.nvec) == 1:  # one categorical over whatever is scored: size-agnostic graph policies
            return ActionDistribution(cats=[Categorical(logits=out)])
        return ActionDistribution(cats=[Categorical(logits=chunk) for chunk in out.split(self.nvec, dim=-1)])

    def to_env(self, action: np.ndarray) -> np.ndarray:
        """Map a batch of sampled actions to what the env takes."""
        if self.kind != "box":
            return action.astype(np.int64).reshape((-1, *self.space.shape)) if len(self.nvec) > 1 \
                else action[:, 0].astype(np.int64)
        unit = np.tanh(action) if self.box_squash == "tanh" else np.clip(action, -1.0, 1.0)
        a = np.where(self.bounded, self.low + (unit + 1.0) * 0.5 * (self.high - self.low), action)
        return a.astype(self.space.dtype).reshape((-1, *self.space.shape))


class ActionDistribution:
    """A product distribution: a diagonal Gaussian or independent categoricals."""

    def __init__(self, normal: Normal | None = None, cats: list[Categorical] | None = None) -> None:
        self.normal, self.cats = normal, cats

    def sample(self) -> torch.Tensor:
        if self.normal is not None:
            return self.normal.sample()
        return torch.stack([c.sample() for c in self.cats], dim=-1).float()

    def mode(self) -> torch.Tensor:
        if self.normal is not None:
            return self.normal.mean
        return torch.stack([c.logits.argmax(-1) for c in self.cats], dim=-1).float()

    def log_prob(self, action: torch.Tensor) -> torch.Tensor:
        if self.normal is not None:
            return self.normal.log_prob(action).sum(-1)
        return sum(c.log_prob(action[..., i].long()) for i, c in enumerate(self.cats))

    def entropy(self) -> torch.Tensor:
        if self.normal is not None:
            return self.normal.entropy().sum(-1)
        return sum(c.entropy() for c in self.cats)


class MLPActorCritic(nn.Module):
    """Separate actor and critic MLPs (tanh) on a flat observation.

    ``forward(obs, mask) -> (distribution, value)``; every agent used with :mod:`opsrl.algos.ppo` follows
    this interface (graph agents take a dict of tensors as ``obs``).
    """

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space,
                 hidden: tuple[int, ...] = (64, 64), box_squash: str = "tanh") -> None:
        super().__init__()
        if not isinstance(observation_space, spaces.Box):
            raise ValueError("MLPActorCritic needs a flat Box observation; use obs_mode='flat' or a graph agent")
        n_obs = int(np.prod(observation_space.shape))
        self.head = ActionHead(action_space, box_squash)
        self.actor = mlp(n_obs, hidden, self.head.n_out, out_std=0.01)
        self.critic = mlp(n_obs, hidden, 1, out_std=1.0)

    def forward(self, obs: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[ActionDistribution, torch.Tensor]:
        obs = obs.flatten(1)
        return self.head.distribution(self.actor(obs), mask), self.critic(obs).squeeze(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs.flatten(1)).squeeze(-1)


def make_mlp_agent(observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any) -> MLPActorCritic:
    return MLPActorCritic(observation_space, action_space, **kwargs)
