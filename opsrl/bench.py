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
    ("opsrl/JobShop-v0", "ta01", {}),
    ("opsrl/JobShop-v0", "ta01", {"obs_mode": "graph"}),
    ("opsrl/JobShop-v0", "random_15x15", {"candidate_filter": "non_delay", "placement": "append"}),
    ("opsrl/Portfolio-v0", "synthetic_gbm_10", {}),
    ("opsrl/Portfolio-v0", "synthetic_gbm_10", {"cost_model": "exact"}),
    ("opsrl/LotSizing-v0", "pdppo_15x5", {}),
    ("opsrl/LotSizing-v0", "pdppo_25x15", {}),
    # every step one full simulation (no memo): unit = simulated memory requests
    ("opsrl/DramController-v0", "archgym_ddr3_random", {"cache": False, "n_requests": 500}),
)
BATCH_SIZES = (1, 256, 4096)


def _units(env) -> int:
    """Sub-units stepped per env step (stores for inventory), for 'store-periods/s'."""
    problem = env.unwrapped.problem if hasattr(env, "unwrapped") else env.problem
    if hasattr(problem, "units_per_step"):  # DRAM: memory requests simulated per step
        return int(problem.units_per_step)
    net = getattr(problem, "network", None)
    return int(net.n_stores) if net is not None else 1


def _label(preset: str, overrides: dict[str, Any]) -> str:
    """The preset name with its overrides, so two cases of one preset are told apart in tables."""
    return preset + "".join(f" {k}={v}" for k, v in overrides.items())


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
    return {"env": env_id, "preset": _label(preset, overrides), "mode": "gym.make", "num_envs": 1,
            "env_steps_per_s": steps / elapsed, "unit_steps_per_s": steps * _units(env) / elapsed}


def vector_env(env_id: str, preset: str, overrides: dict[str, Any], num_envs: int,
               seconds: float = 2.0) -> dict[str, Any]:
    """Env-steps/s of ``gym.make_vec(num_envs)`` (the native batched env), autoreset included."""
    envs = gym.make_vec(env_id, num_envs=num_envs, preset=preset, **overrides)
    envs.reset(seed=0)
    actions = np.stack([envs.single_action_space.sample() for _ in range(num_envs)])
    for _ in range(5000):  # warm up through one autoreset: its numba kernels compile (or load) on first use
        _, _, terminated, truncated, _ = envs.step(actions)
        if (terminated | truncated).any():
            envs.step(actions)
            break
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(50):
            envs.step(actions)
        steps += 50
    elapsed = time.perf_counter() - start
    return {"env": env_id, "preset": _label(preset, overrides), "mode": "make_vec", "num_envs": num_envs,
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


# -- ride sharing: fleet-steps/s of the 1,000-vehicle preset (the generic cases above would allocate
# num_envs × V × O_max scores; the dispatcher is measured here on its own terms)
RIDE_CASES: tuple[tuple[str, dict[str, Any]], ...] = (("grid_small", {}), ("grid_manhattan_1000", {}),
                                                       ("grid_manhattan_1000_nopool", {}))


def ride_sharing_fleet(seconds: float = 2.0, policy: str = "lsa_eta") -> list[dict[str, Any]]:
    """Per preset: env-only epochs/s and fleet-steps/s (epochs × V) through ``gym.make`` with fixed random
    scores (softmax + scipy matching included), and the wall time of one 30-epoch episode driven by the
    OR-tools assignment policy ``policy`` (pair evaluation + OR-tools LSA + env step)."""
    from opsrl.eval.evaluate import make_vector_env
    from opsrl.policies.base import make_policy

    env_id = "opsrl/RideSharing-v0"
    rows = []
    for preset, overrides in RIDE_CASES:
        env = gym.make(env_id, preset=preset, **overrides)
        env.reset(seed=0)
        action = np.random.default_rng(0).random(env.action_space.shape).astype(np.float32)
        env.step(action)  # compile / load the numba cache
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            _, _, terminated, truncated, _ = env.step(action)
            steps += 1
            if terminated or truncated:
                env.reset()
        elapsed = time.perf_counter() - start
        V = env.unwrapped.problem.V
        venv = make_vector_env(env_id, 1, preset, **overrides)
        pol = make_policy(policy, env_id, venv.problem)
        obs, info = venv.reset(seed=1)
        pol.reset(venv)
        start, done = time.perf_counter(), False
        while not done:
            obs, _, term, trunc, info = venv.step(pol.act(obs, info))
            done = bool(term[0] or trunc[0])
        rows.append({"env": env_id, "preset": preset, "vehicles": V, "epochs_per_s": steps / elapsed,
                     "fleet_steps_per_s": steps * V / elapsed, "policy": policy,
                     "episode_seconds": time.perf_counter() - start,
                     "served": float(info["metrics"]["served"][0])})
    return rows
