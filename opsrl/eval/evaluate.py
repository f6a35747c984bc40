"""``evaluate`` — the one way opsrl makes numbers.

Episodes run in batches on the native vector env. Chunk ``c`` of a run is reset with a seed derived
from ``(seed, c)``, and exogenous randomness is drawn at reset, so every policy evaluated with the same
``seed``, ``episodes`` and ``batch_size`` faces the same scenarios (common random numbers), and so do
the scenario-based references (hindsight bounds) that use :func:`scenario_seeds`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from opsrl.core.env import BatchedVectorEnv
from opsrl.eval.reference import Reference
from opsrl.eval.stats import gap_pct, mean_ci95
from opsrl.policies.base import CHECKPOINT_FILE, Policy, make_policy
from opsrl.registration import entry


def scenario_seeds(seed: int, episodes: int, batch_size: int) -> Iterator[tuple[int, int]]:
    """``(n_envs, reset_seed)`` of each evaluation chunk."""
    if episodes < 1:
        raise ValueError(f"episodes={episodes!r} is invalid: must be >= 1")
    for c, start in enumerate(range(0, episodes, batch_size)):
        yield min(batch_size, episodes - start), int(np.random.SeedSequence([seed, c]).generate_state(1)[0])


def make_vector_env(env_id: str, num_envs: int, preset: str | None = None, obs_mode: str = "flat",
                    **overrides: Any) -> BatchedVectorEnv:
    return BatchedVectorEnv(entry(env_id).problem, num_envs=num_envs, preset=preset, obs_mode=obs_mode,
                            **overrides)


def run_episodes(env: BatchedVectorEnv, policy: Policy, seed: int) -> np.ndarray:
    """Run one episode in every env of ``env`` from ``reset(seed)``; the family's metric per episode."""
    obs, info = env.reset(seed=seed)
    policy.reset(env)
    done = np.zeros(env.num_envs, dtype=np.bool_)
    rewards = []
    while not done.all():
        actions = policy.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(actions)
        rewards.append(np.where(done, 0.0, reward))
        done |= terminated | truncated
    return env.problem.episode_cost(np.stack(rewards))


def checkpoint_obs_mode(path: str) -> str:
    """The ``obs_mode`` a checkpoint directory was trained on (``"flat"`` for named policies)."""
    manifest = os.path.join(path, CHECKPOINT_FILE)
    if not os.path.isfile(manifest):
        return "flat"
    with open(manifest) as fh:
        return str(json.load(fh).get("config", {}).get("obs_mode", "flat"))


def with_samples(policy: Policy, samples: int) -> Policy:
    """``policy`` with sampling decoding: K solutions sampled per episode, the best one played.

    The policy provides it as ``with_samples(K)`` (e.g. the job-shop GNN); others raise ``ValueError``."""
    if not isinstance(samples, (int, np.integer)) or samples < 0:
        raise ValueError(f"samples={samples!r} is invalid: must be an integer >= 0")
    if not hasattr(policy, "with_samples"):
        raise ValueError(f"samples={samples}: policy {policy.name!r} has no sampling decoding "
                         "(only policies with a with_samples(K) method, e.g. gnn-pretrained)")
    return policy.with_samples(int(samples))


@dataclasses.dataclass
class EvalResult:
    env_id: str
    preset: str | None
    policy: str
    episodes: int
    seed: int
    mean_cost: float
    ci95: float
    std: float
    reference: Reference | None
    gap_pct: float | None
    admissible: bool
    overrides: dict[str, Any]
    costs: np.ndarray = dataclasses.field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in dataclasses.asdict(self).items() if k not in ("costs", "reference")}
        out["reference"] = self.reference.to_dict() if self.reference else None
        return out


def evaluate(policy: str | Policy, env_id: str, preset: str | None = None, episodes: int = 100,
             seed: int = 0, overrides: dict[str, Any] | None = None, batch_size: int = 1024,
             reference: Reference | str | None = "auto", obs_mode: str | None = None,
             samples: int = 0) -> EvalResult:
    """Mean cost ± 95% CI of ``policy`` over ``episodes`` and its gap to the preset's reference.

    Args:
        policy: a named policy (``opsrl list``), a checkpoint directory, or a :class:`Policy`.
        env_id, preset, overrides: the instance (``overrides`` = parameter values on top of the preset).
        episodes, seed, batch_size: the scenarios (same arguments = same scenarios for every policy).
        reference: ``"auto"`` (the family's best reference for this instance), a :class:`Reference`,
            or ``None`` (no gap).
        obs_mode: the observation the policy acts on; ``None`` = what a checkpoint was trained on
            (its manifest's ``config.obs_mode``), else ``"flat"``.
        samples: 0 = the policy as it is; K > 0 = its sampling decoding (best of K sampled solutions per
            episode), for policies that have one (:func:`with_samples`).
    """
    overrides = dict(overrides or {})
    if obs_mode is None:
        obs_mode = checkpoint_obs_mode(policy) if isinstance(policy, str) else "flat"
    costs, pol = [], None
    for n, chunk_seed in scenario_seeds(seed, episodes, batch_size):
        env = make_vector_env(env_id, n, preset, obs_mode, **overrides)
        if pol is None:
            pol = make_policy(policy, env_id, env.problem)
            if samples:
                pol = with_samples(pol, samples)
        costs.append(run_episodes(env, pol, chunk_seed))
    cost = np.concatenate(costs)
    mean, half = mean_ci95(cost)
    ref = None
    if reference == "auto":
        from opsrl.eval.references import best_reference

        ref = best_reference(env_id, preset, overrides, episodes=episodes, seed=seed, batch_size=batch_size)
    elif isinstance(reference, Reference):
        ref = reference
    return EvalResult(
        env_id=env_id, preset=preset,
        policy=(policy if isinstance(policy, str) else pol.name) + (f" (best of {samples} samples)" if samples else ""),
        episodes=episodes, seed=seed, mean_cost=mean, ci95=half, std=float(cost.std(ddof=1)) if cost.size > 1 else 0.0,
        reference=ref, gap_pct=gap_pct(mean, ref.value) if ref else None, admissible=pol.admissible,
        overrides=overrides, costs=cost)
