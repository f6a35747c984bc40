"""``opsrl demo``: train a policy on a small preset and show it beside the OR reference and heuristics.

The default instance is ``one_store_lost_sales`` (Poisson(5) demand, lead time 3, p = 9, h = 1), whose
optimal cost is known exactly (Zipkin 2008: 6.53). The demo trains the best available learner within
the time budget, evaluates every policy on the same scenarios (common random numbers) and prints the
gap of each to the optimum; it also writes a plot of costs and of a sample trajectory.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

import numpy as np

from opsrl.algos import ALGOS
from opsrl.core.env import load_object
from opsrl.eval import evaluate

ENV_ID = "opsrl/InventoryNetwork-v0"
DEFAULT_PRESET = "one_store_lost_sales"
LEARNERS = ("hdpo", "tune")  # the first one installed is trained
# Long evaluation episodes so the mean is a steady-state cost with a tight interval.
EVAL_OVERRIDES = {"horizon": 400, "warmup": 100}


def run_demo(preset: str | None = None, episodes: int = 1000, seed: int = 0, plot: str = "opsrl_demo.png",
             budget_seconds: float = 60.0) -> tuple[dict[str, Any], str]:
    preset = preset or DEFAULT_PRESET
    algo = next(a for a in LEARNERS if a in ALGOS)
    out = tempfile.mkdtemp(prefix="opsrl_demo_")
    start = time.perf_counter()
    load_object(ALGOS[algo])(ENV_ID, preset, {}, seed=seed, budget_seconds=budget_seconds, out=out)
    train_seconds = time.perf_counter() - start

    rows = []
    learned = evaluate(out, ENV_ID, preset, episodes=episodes, seed=seed, overrides=EVAL_OVERRIDES)
    ref = learned.reference
    rows.append((f"trained ({algo})", learned))
    for name in ("capped_base_stock", "base_stock"):
        rows.append((name, evaluate(name, ENV_ID, preset, episodes=episodes, seed=seed, reference=ref,
                                    overrides=EVAL_OVERRIDES)))
    payload = {
        "env": ENV_ID, "preset": preset, "overrides": EVAL_OVERRIDES, "episodes": episodes, "seed": seed,
        "algo": algo,
        "train_seconds": train_seconds, "checkpoint": out,
        "reference": ref.to_dict() if ref else None,
        "policies": [{"name": n, "mean_cost": r.mean_cost, "ci95": r.ci95, "gap_pct": r.gap_pct} for n, r in rows],
    }
    lines = [f"opsrl demo — {ENV_ID}, preset {preset}; {episodes} evaluation episodes of "
             f"{EVAL_OVERRIDES['horizon']} periods ({EVAL_OVERRIDES['warmup']} warm-up), same scenarios for all",
             f"trained {algo} in {train_seconds:.1f} s (checkpoint: {out})", "",
             f"{'policy':<24}{'mean cost':>12}{'95% CI':>10}{'gap':>10}"]
    for name, r in rows:
        gap = "" if r.gap_pct is None else f"{r.gap_pct:+.2f}%"
        lines.append(f"{name:<24}{r.mean_cost:>12.4f}{r.ci95:>10.4f}{gap:>10}")
    if ref is not None:
        lines.append(f"{'reference (' + ref.kind + ')':<24}{ref.value:>12.4f}{'':>10}{'':>10}  {ref.source}")
    if plot:
        _plot(plot, preset, rows, ref, out)
        payload["plot"] = os.path.abspath(plot)
        lines.append(f"\nplot written to {os.path.abspath(plot)}")
    return payload, "\n".join(lines)


def _plot(path: str, preset: str, rows: list, ref, checkpoint: str) -> None:
    import gymnasium as gym
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from opsrl.policies.base import make_policy

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    names = [n for n, _ in rows]
    ax1.bar(names, [r.mean_cost for _, r in rows], yerr=[r.ci95 for _, r in rows], color="#4c72b0")
    if ref is not None:
        ax1.axhline(ref.value, color="#c44e52", ls="--", label=f"{ref.kind}: {ref.value:.3f}")
        ax1.legend()
    costs = [r.mean_cost for _, r in rows] + ([ref.value] if ref is not None else [])
    ax1.set_ylim(0.95 * min(costs), 1.03 * max(costs))  # the gaps are a few percent: zoom in on them
    ax1.set_ylabel("cost per period per store")
    ax1.set_title(preset)
    ax1.tick_params(axis="x", labelrotation=15)
    envs = gym.make_vec(ENV_ID, num_envs=1, preset=preset)
    policy = make_policy(checkpoint, ENV_ID, envs.unwrapped.problem)
    obs, info = envs.reset(seed=123)
    policy.reset(envs)
    on_hand, orders, demand = [], [], []
    for _ in range(40):
        action = policy.act(obs, info)
        on_hand.append(obs[0, 0])
        obs, _, _, _, info = envs.step(action)
        orders.append(info["orders"][0, 0])
        demand.append(info["demand"][0, 0])
    ax2.step(range(40), on_hand, where="post", label="on-hand")
    ax2.bar(np.arange(40), orders, alpha=0.4, label="order")
    ax2.plot(demand, "k.", label="demand")
    ax2.set_xlabel("period")
    ax2.set_title("trained policy, one episode")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
