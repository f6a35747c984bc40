"""Neural policies for portfolios (spec ``portfolio.md`` §6): price windows and holdings to simplex weights.

Every module here maps the flat price window ``x [B, F·W·N]`` (the env's normalised prices
X[f, k, i] = v_{i,f}(d − W + 1 + k) / v_{i,close}(d), flattened in (f, k, i) order as in the ``flat`` and
``image`` observations) and the current drifted holdings ``w′ [B, N+1]`` (cash first) to **logits** over
cash + N assets; the weights are their softmax, so they lie on the simplex by construction. Inputs are
``ln X`` standardised per (feature, lag) with the mean and standard deviation of the *training block*
(persistent buffers, saved with the weights: evaluation on later dates reuses the training statistics).

* :class:`EIIE` (default) — Jiang et al.'s "ensemble of identical independent evaluators": one small MLP,
  shared by all assets, scores each asset from its own window (F·W values) and its current weight; cash
  has a learned logit plus a learned multiple of its current weight. About 7,500 parameters for W = 50,
  F = 4, whatever N, and the policy is equivariant to the order of the assets.
* :class:`FlatMLP` — one MLP on the whole flat observation (F·W·N + N + 1 inputs) to N + 1 logits.

Both start as **equal weight over the risky assets** (the score head is zero-initialised, cash starts at a
logit of −6): the first point of the learning curve is the 1/N portfolio, the bar to clear (spec §6).

:class:`TorchPortfolioPolicy` wraps a module as an opsrl :class:`~opsrl.policies.base.Policy` acting on the
``flat`` or ``image`` observation; :func:`save_policy` / :func:`load_policy` write and read the checkpoint
directory (``opsrl eval --policy DIR``; tensors read with ``weights_only=True``).
"""

from __future__ import annotations

import abc
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from opsrl.policies.base import CHECKPOINT_FILE, Policy

__all__ = ["EIIE", "FlatMLP", "TorchPortfolioPolicy", "build_module", "load_policy", "save_policy"]

WEIGHTS_FILE = "policy.pt"
CASH_LOGIT = -6.0  # initial cash logit: 0.2% cash against 10 risky assets at logit 0
KINDS = ("eiie", "mlp")


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers with ELU between them; the last layer is zero-initialised (a constant output)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ELU())
    nn.init.zeros_(layers[-1].weight)
    nn.init.zeros_(layers[-1].bias)
    return nn.Sequential(*layers)


class _WindowPolicy(nn.Module, abc.ABC):
    """Shared input handling: shapes and the standardisation of ln X (buffers ``mean``/``std`` [F, W])."""

    def __init__(
        self, n_assets: int, n_features: int, window: int, mean: np.ndarray | None = None, std: np.ndarray | None = None
    ) -> None:
        super().__init__()
        self.n_assets, self.n_features, self.window = int(n_assets), int(n_features), int(window)
        shape = (self.n_features, self.window)
        self.register_buffer("mean", torch.zeros(shape) if mean is None else torch.as_tensor(mean).float())
        self.register_buffer("std", torch.ones(shape) if std is None else torch.as_tensor(std).float())

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, F·W·N]`` -> standardised ln X ``[B, N, F·W]`` (one row of window features per asset)."""
        B = x.shape[0]
        z = torch.log(x.reshape(B, self.n_features, self.window, self.n_assets))
        z = (z - self.mean.to(z.dtype)[..., None]) / self.std.to(z.dtype)[..., None]
        return z.permute(0, 3, 1, 2).reshape(B, self.n_assets, self.n_features * self.window)

    @abc.abstractmethod
    def logits(self, z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Logits over cash + N assets from the features ``z`` (:meth:`features`) and the holdings ``w``."""

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Logits over cash + N assets from the flat price windows ``x`` and the holdings ``w``."""
        return self.logits(self.features(x), w)


class EIIE(_WindowPolicy):
    """One MLP shared by the assets scores each from its window and its current weight (module docstring)."""

    def __init__(
        self,
        n_assets: int,
        n_features: int,
        window: int,
        hidden: Sequence[int] = (32, 32),
        mean: np.ndarray | None = None,
        std: np.ndarray | None = None,
    ) -> None:
        super().__init__(n_assets, n_features, window, mean, std)
        self.score = _mlp([n_features * window + 1, *hidden, 1])
        self.cash_logit = nn.Parameter(torch.tensor(CASH_LOGIT))
        self.cash_weight = nn.Parameter(torch.tensor(0.0))

    def logits(self, z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        scores = self.score(torch.cat([z, w[:, 1:, None].to(z.dtype)], dim=-1)).squeeze(-1)  # [B, N]
        cash = self.cash_logit.to(z.dtype) + self.cash_weight.to(z.dtype) * w[:, :1].to(z.dtype)
        return torch.cat([cash, scores], dim=-1)


class FlatMLP(_WindowPolicy):
    """One MLP on the whole flat observation (all windows and the holdings) to N + 1 logits."""

    def __init__(
        self,
        n_assets: int,
        n_features: int,
        window: int,
        hidden: Sequence[int] = (64, 64),
        mean: np.ndarray | None = None,
        std: np.ndarray | None = None,
    ) -> None:
        super().__init__(n_assets, n_features, window, mean, std)
        self.body = _mlp([n_features * window * n_assets + n_assets + 1, *hidden, n_assets + 1])
        with torch.no_grad():
            self.body[-1].bias[0] = CASH_LOGIT

    def logits(self, z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([z.reshape(z.shape[0], -1), w.to(z.dtype)], dim=-1))


def build_module(
    architecture: dict[str, Any], mean: np.ndarray | None = None, std: np.ndarray | None = None
) -> nn.Module:
    """The module of ``architecture`` (``kind``, ``hidden``, ``n_assets``, ``n_features``, ``window``)."""
    kind = architecture.get("kind")
    if kind not in KINDS:
        raise ValueError(f"architecture kind {kind!r} is invalid: must be one of {KINDS}")
    cls = EIIE if kind == "eiie" else FlatMLP
    return cls(
        int(architecture["n_assets"]),
        int(architecture["n_features"]),
        int(architecture["window"]),
        tuple(int(h) for h in architecture["hidden"]),
        mean,
        std,
    )


def split_observation(problem: Any, obs: Any) -> tuple[np.ndarray, np.ndarray]:
    """(flat price windows ``[B, F·W·N]``, holdings ``[B, N+1]``) of a ``flat`` or ``image`` observation."""
    if isinstance(obs, dict):
        prices = np.asarray(obs["prices"])
        return prices.reshape(prices.shape[0], -1), np.asarray(obs["weights"])
    obs = np.asarray(obs)
    n_w = problem.n_assets + 1
    return obs[:, :-n_w], obs[:, -n_w:]


class TorchPortfolioPolicy(Policy):
    """A portfolio module as an opsrl :class:`~opsrl.policies.base.Policy` (no gradients). Under the
    softmax action map it sends τ·(logits − max logits), which the env maps back to exactly the module's
    softmax weights; under ``projection`` / ``weights`` it sends the weights themselves."""

    def __init__(self, problem: Any, module: nn.Module, name: str = "hdpo") -> None:
        super().__init__(problem)
        if getattr(problem, "obs_mode", "flat") not in ("flat", "image"):
            raise ValueError(
                f"obs_mode={problem.obs_mode!r} is invalid for a portfolio network policy: "
                "it reads the 'flat' or 'image' observation"
            )
        self.module = module.eval()
        self.name = name
        self.dtype = next(module.parameters()).dtype

    def weights(self, obs: Any) -> np.ndarray:
        x, w = split_observation(self.problem, obs)
        with torch.no_grad():
            logits = self.module(torch.as_tensor(x, dtype=self.dtype), torch.as_tensor(w, dtype=self.dtype))
        return torch.softmax(logits.double(), dim=-1).numpy()

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        x, w = split_observation(self.problem, obs)
        with torch.no_grad():
            logits = self.module(torch.as_tensor(x, dtype=self.dtype), torch.as_tensor(w, dtype=self.dtype))
        logits = logits.double()
        p = self.problem.params
        if p.action_map == "softmax":
            return (p.temperature * (logits - logits.max(dim=-1, keepdim=True).values)).numpy()
        return torch.softmax(logits, dim=-1).numpy()

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "module": type(self.module).__name__}


def save_policy(path: str, module: nn.Module, architecture: dict[str, Any], extra: dict[str, Any]) -> None:
    """Write a checkpoint directory: the weights (a state dict of tensors, normalisation buffers included)
    and the ``opsrl_policy.json`` manifest whose loader is :func:`load_policy`. Files are replaced atomically."""
    os.makedirs(path, exist_ok=True)
    tmp = os.path.join(path, WEIGHTS_FILE + ".tmp")
    torch.save(module.state_dict(), tmp)
    os.replace(tmp, os.path.join(path, WEIGHTS_FILE))
    meta = {
        "loader": "opsrl.policies.portfolio:load_policy",
        "architecture": architecture,
        "weights": WEIGHTS_FILE,
        **extra,
    }
    tmp = os.path.join(path, CHECKPOINT_FILE + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(meta, fh, indent=2, default=float)
    os.replace(tmp, os.path.join(path, CHECKPOINT_FILE))


def load_policy(path: str, problem: Any) -> TorchPortfolioPolicy:
    """Load a checkpoint written by :func:`save_policy` (``opsrl eval --policy DIR``) for ``problem``, which
    must have the same number of assets, price features and window length. Tensors are read with
    ``weights_only=True``."""
    with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
        meta = json.load(fh)
    arch = meta["architecture"]
    have = (problem.n_assets, problem.n_features, problem.params.window)
    want = (int(arch["n_assets"]), int(arch["n_features"]), int(arch["window"]))
    if have != want:
        raise ValueError(
            f"{path}: the policy was trained on (assets, features, window) = {want}; this instance has {have}"
        )
    module = build_module(arch)
    state = torch.load(os.path.join(path, meta.get("weights", WEIGHTS_FILE)), weights_only=True)
    module.load_state_dict(state)
    dtype = state[next(k for k in state if k not in ("mean", "std"))].dtype
    return TorchPortfolioPolicy(problem, module.to(dtype), name=meta.get("name", "hdpo"))
