"""``opsrl train tune``: fit the parameters of a named heuristic (base-stock levels, caps) by
Nelder–Mead on common-random-number simulation, and save them as a checkpoint.

The cheapest way to "train" a policy: a handful of interpretable parameters, a strong baseline on
every inventory setting, and the yardstick learned policies must beat.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from opsrl.policies.base import CHECKPOINT_FILE, make_policy
from opsrl.registration import make_problem


def train(env_id: str, preset: str | None, overrides: dict[str, Any], seed: int, budget_seconds: float,
          out: str, policy: str = "capped_base_stock", **_: Any) -> dict[str, Any]:
    start = time.perf_counter()
    problem = make_problem(env_id, preset, **overrides)
    pol = make_policy(policy, env_id, problem)
    if not hasattr(pol, "checkpoint"):
        raise ValueError(f"policy {policy!r} has no tunable parameters to save")
    os.makedirs(out, exist_ok=True)
    meta = {"algo": "tune", "env_id": env_id, "preset": preset, "overrides": overrides, "seed": seed,
            "seconds": time.perf_counter() - start, **pol.checkpoint()}
    with open(os.path.join(out, CHECKPOINT_FILE), "w") as fh:
        json.dump(meta, fh, indent=2, default=float)
    return meta
