#!/usr/bin/env python
"""Train Stable-Baselines3's PPO on an inventory preset and report it beside the OR references.

The model-free comparison of the HDPO paper, with a library PPO rather than ours::

    .venv/bin/python scripts/sb3_ppo_inventory.py                          # one_store_lost_sales, 200k steps
    .venv/bin/python scripts/sb3_ppo_inventory.py --preset one_store_backlogged --timesteps 500000

The env is the plain Gymnasium env (``gym.make``) in SB3's ``DummyVecEnv`` with ``VecNormalize`` (observations
and rewards); the trained policy is evaluated deterministically by ``opsrl.eval.evaluate`` on the same
scenarios (common random numbers) as the tuned heuristics, with the gap to the preset's optimum or bound.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import gymnasium as gym
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

import opsrl  # noqa: F401  (registers the ids)
from opsrl.eval import evaluate
from opsrl.policies.sb3 import SB3Policy

ENV_ID = "opsrl/InventoryNetwork-v0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="one_store_lost_sales")
    ap.add_argument("--timesteps", type=int, default=200_000)
    ap.add_argument("--envs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--episodes", type=int, default=256, help="evaluation episodes (same for every policy)")
    ap.add_argument("--heuristics", default="base_stock,capped_base_stock")
    args = ap.parse_args()
    torch.set_num_threads(1)

    venv = VecNormalize(make_vec_env(ENV_ID, n_envs=args.envs, seed=args.seed, env_kwargs={"preset": args.preset}),
                        gamma=0.99)
    model = PPO("MlpPolicy", venv, n_steps=256, batch_size=256, learning_rate=3e-4, gamma=0.99, seed=args.seed,
                verbose=0, device="cpu")
    start = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    seconds = time.perf_counter() - start
    venv.training = False

    problem = gym.make(ENV_ID, preset=args.preset).unwrapped.problem
    rows = [evaluate(SB3Policy(problem, model, venv.normalize_obs), ENV_ID, args.preset, episodes=args.episodes,
                     seed=args.seed)]
    rows += [evaluate(name, ENV_ID, args.preset, episodes=args.episodes, seed=args.seed)
             for name in args.heuristics.split(",") if name]
    ref = rows[0].reference
    print(f"SB3 PPO on {args.preset}: {args.timesteps:,} steps in {seconds:.0f} s; "
          f"{args.episodes} evaluation episodes, seed {args.seed}")
    print(f"{'policy':<24}{'mean cost':>12}{'95% CI':>10}{'gap %':>9}")
    for r in rows:
        gap = "" if r.gap_pct is None else f"{r.gap_pct:+.2f}"
        print(f"{r.policy:<24}{r.mean_cost:>12.4f}{r.ci95:>10.4f}{gap:>9}")
    if ref is not None:
        print(f"{'reference (' + ref.kind + ')':<24}{ref.value:>12.4f}{'':>10}{'':>9}  {ref.source}")


if __name__ == "__main__":
    main()
