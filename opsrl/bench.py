"""Throughput measurements (``opsrl bench``; ``scripts/bench_throughput.py`` writes them to
``baselines/BENCH.md``). Never used as a unit test: timings depend on the machine."""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np

# (env id, preset, overrides) measured by default; families add theirs.
DEFAULT_CASES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("opsrl/InventoryNetwork-v0", "one_store_backlogged", {}),
    ("opsrl/InventoryNetwork-v0", "one_store_lost_sales", {}),
    ("opsrl/InventoryNetwork-v0", "serial_4", {}),
    ("opsrl/InventoryNetwork-v0", "one_warehouse_lost_n10", {}),
    ("opsrl/InventoryNetwork-v0", "transshipment_n10_L2_p4", {}),
    ("opsrl/InventoryNetwork-v0", "many_warehouses_w6_s50", {}),
)
BATCH_SIZES = (1, 256, 4096)


def _units(env) -> int:
    """Sub-units stepped per env step (stores for inventory), for 'store-periods/s'."""
    net = getattr(env.unwrapped.problem if hasattr(env, "unwrapped") else env.problem, "network", None)
    return int(net.n_stores) if net is not None else 1


def single_env(env_id: str, preset: str, overrides: dict[str, Any], seconds: float = 2.0) -> dict[str, Any]:
    """Steps/s of one env through ``gym.make`` (all default wrappers), one fixed random action."""
    env = gym.make(env_id, preset=preset, **overrides)
    env.reset(seed=0)
    action = env.action_space.sample()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(1000):
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        steps += 1000
    elapsed = time.perf_counter() - start
    return {"env": env_id, "preset": preset, "mode": "gym.make", "num_envs": 1,
            "env_steps_per_s": steps / elapsed, "unit_steps_per_s": steps * _units(env) / elapsed}


def vector_env(env_id: str, preset: str, overrides: dict[str, Any], num_envs: int,
               seconds: float = 2.0) -> dict[str, Any]:
    """Env-steps/s of ``gym.make_vec(num_envs)`` (the native batched env), autoreset included."""
    envs = gym.make_vec(env_id, num_envs=num_envs, preset=preset, **overrides)
    envs.reset(seed=0)
    actions = np.stack([envs.single_action_space.sample() for _ in range(num_envs)])
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(50):
            envs.step(actions)
        steps += 50
    elapsed = time.perf_counter() - start
    return {"env": env_id, "preset": preset, "mode": "make_vec", "num_envs": num_envs,
            "env_steps_per_s": steps * num_envs / elapsed,
            "unit_steps_per_s": steps * num_envs * _units(envs) / elapsed}


def run(env_id: str | None = None, seconds: float = 2.0,
        batch_sizes: tuple[int, ...] = BATCH_SIZES) -> list[dict[str, Any]]:
    rows = []
    for eid, preset, overrides in DEFAULT_CASES:
        if env_id is not None and eid != env_id:
            continue
        single_env(eid, preset, overrides, seconds=0.2)  # compile / load the numba cache first
        rows.append(single_env(eid, preset, overrides, seconds))
        for n in batch_sizes:
            rows.append(vector_env(eid, preset, overrides, n, seconds))
    return rows
