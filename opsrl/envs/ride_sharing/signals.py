"""Learning signals of the OSPO/GRPO family computed from the env's per-vehicle rewards (spec §2.7, §6.1,
§6.2). They live with the env so the algorithms and the tests share one definition.

* :func:`fairness_p` — p_k = −(std_i R_i^after − std_i R_i^before), a population std over all V vehicles
  (the reference hard-codes V = 1000; here V is the fleet).
* :func:`group_advantage` — OSPO's critic-free advantage: z-score of r over the vehicles matched at the
  epoch (population std + 1e-8), plus λ_f·p_k (this family's sign convention, +λ_f·p_k, for OSPO and GRPO).
* :func:`reward_to_go` — GRPO's per-vehicle discounted reward-to-go over its assignment epochs,
  G_{i,k} = z_{i,k} + γ^{Δt} G_{i,k'}.
"""

from __future__ import annotations

import numpy as np


def fairness_p(r_before: np.ndarray, r_after: np.ndarray) -> np.ndarray:
    """p_k per env from cumulative rewards [B, V] (or [V]) before and after the epoch."""
    return -(np.std(r_after, axis=-1) - np.std(r_before, axis=-1))


def group_advantage(rewards: np.ndarray, group: np.ndarray, p: float = 0.0, lam: float = 1.0) -> np.ndarray:
    """Â_i = (r_i − mean_G r) / (std_G r + 1e-8) + λ_f·p for i in the group G (0 outside)."""
    r = np.asarray(rewards, dtype=np.float64)
    g = np.asarray(group, dtype=bool)
    out = np.zeros_like(r)
    if g.any():
        sel = r[g]
        out[g] = (sel - sel.mean()) / (sel.std() + 1e-8) + lam * p
    return out


def reward_to_go(z: np.ndarray, epochs: np.ndarray, gamma: float = 0.99, horizon: int | None = None) -> np.ndarray:
    """Discounted reward-to-go of one vehicle's transitions (z at epochs, ascending); Δt in epochs.
    ``horizon`` truncates at an epoch (the reference truncates at 30)."""
    z = np.asarray(z, dtype=np.float64)
    k = np.asarray(epochs, dtype=np.float64)
    out = np.zeros_like(z)
    nxt, k_next = 0.0, None
    for idx in range(z.size - 1, -1, -1):
        if horizon is not None and k[idx] >= horizon:
            continue
        out[idx] = z[idx] + (gamma ** (k_next - k[idx]) * nxt if k_next is not None else 0.0)
        nxt, k_next = out[idx], k[idx]
    return out
