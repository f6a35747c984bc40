"""Differentiable torch twin of the portfolio kernel (:mod:`opsrl.envs.portfolio.dynamics`).

Prices are exogenous, so the realised reward of *any* action sequence can be computed on a recorded price
path (spec §4, post-decision state): a policy can be trained by back-propagating the episode's log wealth
through this twin over many start dates (direct policy gradient, Jiang-style; the analogue of HDPO).
Each step replays the kernel event for event:

1. action -> target weights (softmax(a/τ), simplex projection, or weights as given);
2. μ(w′, w): linear 1 − c·Σ_{i≥1}|w′_i − w_i|, or the exact fixed point unrolled (at most 50 iterations,
   stopping when |Δμ| < 1e-10 — the stopping test is on detached values, the gradient flows through the
   iterations that ran);
3. g = y·w, V ← V·μ·g, w′ ← y ⊙ w / g, ρ = ln μ + ln g.

A test checks this twin against the numba kernel to 1e-9 on random trajectories
(``tests/envs/portfolio/test_portfolio_policies.py``).

Example::

    problem = Portfolio.from_preset("synthetic_gbm_10")
    state = problem.init(256, np.random.default_rng(0))
    y = episode_relatives(problem, state.d0)            # [B, H, N+1], float64
    logits = torch.zeros(problem.n_assets + 1, dtype=torch.float64, requires_grad=True)
    rho, _, _ = rollout(torch.as_tensor(state.w), y, lambda w, k: logits.expand_as(w), cost_rate=0.0025)
    (-rho.sum(1).mean()).backward()
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from opsrl.envs.portfolio.dynamics import MU_MAX_ITER, MU_TOL

__all__ = ["episode_relatives", "map_actions", "mu", "project_simplex", "rollout", "step"]


def project_simplex(a: torch.Tensor) -> torch.Tensor:
    """Euclidean projection of the last axis onto the simplex (sort-based)."""
    u, _ = torch.sort(a, dim=-1, descending=True)
    css = torch.cumsum(u, dim=-1) - 1.0
    j = torch.arange(1, a.shape[-1] + 1, dtype=a.dtype, device=a.device)
    theta_all = css / j
    rho = (u - theta_all > 0).sum(dim=-1, keepdim=True)
    theta = torch.gather(theta_all, -1, rho - 1)
    return torch.clamp(a - theta, min=0.0)


def map_actions(actions: torch.Tensor, action_map: str = "softmax", temperature: float = 1.0) -> torch.Tensor:
    if action_map == "softmax":
        return torch.softmax(actions / temperature, dim=-1)
    if action_map == "projection":
        return project_simplex(actions)
    return actions / actions.sum(dim=-1, keepdim=True)


def mu(w_old: torch.Tensor, w_new: torch.Tensor, cost_rate: float, cost_model: str = "linear") -> torch.Tensor:
    """Transaction-cost shrinkage factor per row (spec §2.3)."""
    c = cost_rate
    if cost_model == "linear":
        return 1.0 - c * (w_old[..., 1:] - w_new[..., 1:]).abs().sum(-1)
    m = torch.full(w_old.shape[:-1], (1.0 - c) ** 2, dtype=w_old.dtype, device=w_old.device)
    done = torch.zeros(w_old.shape[:-1], dtype=torch.bool, device=w_old.device)
    denom = 1.0 - c * w_new[..., 0]
    for _ in range(MU_MAX_ITER):
        s = torch.clamp(w_old[..., 1:] - m.unsqueeze(-1) * w_new[..., 1:], min=0.0).sum(-1)
        new = (1.0 - c * w_old[..., 0] - (2 * c - c * c) * s) / denom
        # rows that converged keep their value (as the kernel returns per row)
        m_next = torch.where(done, m, new)
        done = done | ((new - m).abs() < MU_TOL).detach()
        m = m_next
        if bool(done.all()):
            break
    return m


def step(w_old: torch.Tensor, target: torch.Tensor, y: torch.Tensor, cost_rate: float,
         cost_model: str = "linear") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One rebalance: returns (drifted holdings w′, ρ = ln μ + ln(y·w), μ)."""
    m = mu(w_old, target, cost_rate, cost_model)
    g = (y * target).sum(-1)
    return y * target / g.unsqueeze(-1), torch.log(m) + torch.log(g), m


def rollout(w0: torch.Tensor, relatives: torch.Tensor, policy: Callable[[torch.Tensor, int], torch.Tensor],
            cost_rate: float = 0.0025, cost_model: str = "linear", action_map: str = "softmax",
            temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Unroll H steps over ``relatives[B, H, N+1]`` from holdings ``w0[B, N+1]``.

    ``policy(w_drifted, k) -> actions[B, N+1]`` (it may also close over price windows). Returns
    (ρ[B, H], wealth[B, H] starting from 1, target weights[B, H, N+1]).
    """
    w = w0
    rhos, targets = [], []
    for k in range(relatives.shape[1]):
        target = map_actions(policy(w, k), action_map, temperature)
        w, rho, _ = step(w, target, relatives[:, k], cost_rate, cost_model)
        rhos.append(rho)
        targets.append(target)
    rho = torch.stack(rhos, dim=1)
    return rho, torch.exp(torch.cumsum(rho, dim=1)), torch.stack(targets, dim=1)


def episode_relatives(problem, d0: np.ndarray, horizon: int | None = None, dtype=torch.float64) -> torch.Tensor:
    """The price relatives ``[B, H, N+1]`` that the episodes starting at rows ``d0`` will see."""
    H = horizon or problem.episode_length
    rows = np.asarray(d0)[:, None] + 1 + np.arange(H)[None, :]
    return torch.as_tensor(problem.rel[rows], dtype=dtype)
