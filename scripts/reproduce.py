#!/usr/bin/env python
"""Regenerate baselines/results/*.csv and baselines/RESULTS.md. Results are never typed by hand.

    .venv/bin/python scripts/reproduce.py                  # every family, default protocol
    .venv/bin/python scripts/reproduce.py --family inventory --quick

Each family contributes rows (instance, policy, mean cost ± 95% CI, reference, gap) computed with
``opsrl.eval.evaluate`` on common random numbers; RESULTS.md is rebuilt from all CSVs present.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import opsrl
from opsrl.eval import evaluate
from opsrl.eval.reference import Reference
from opsrl.registration import make_problem

ROOT = os.path.join(os.path.dirname(__file__), "..", "baselines")
FIELDS = ["family", "group", "preset", "policy", "mean_cost", "ci95", "reference", "reference_kind",
          "reference_source", "gap_pct", "episodes", "seed", "horizon", "warmup", "seconds"]


# -- inventory -------------------------------------------------------------------------------------------
INVENTORY = "opsrl/InventoryNetwork-v0"
INVENTORY_GROUPS = [
    # (group, preset prefix, policies)
    ("one store, backlogged (analytic optimum)", "one_store_backlogged_L", ["base_stock"]),
    ("one store, lost sales (Zipkin optimum)", "one_store_lost_L", ["base_stock", "capped_base_stock"]),
    ("independent stores, lost sales (Zipkin optimum per store)", "independent_stores_lost_n",
     ["capped_base_stock"]),
    ("serial chains (Clark–Scarf optimum)", "serial_", ["echelon_stock", "base_stock"]),
    ("transshipment center (pooled lower bound)", "transshipment_n", ["echelon_stock"]),
    ("one warehouse, lost sales (no bound: best heuristic; hindsight LP bound)", "one_warehouse_lost_n",
     ["base_stock", "capped_base_stock", "echelon_stock"]),
    ("many warehouses (no bound: best heuristic; hindsight LP bound)", "many_warehouses_w",
     ["base_stock", "capped_base_stock"]),
]


def inventory_rows(quick: bool, seed: int) -> list[dict]:
    from opsrl.envs.inventory.references import exact_references, hindsight_reference

    protocol = {"horizon": 300, "warmup": 60}
    rows = []
    for group, prefix, policies in INVENTORY_GROUPS:
        presets = [p for p in opsrl.list_presets(INVENTORY) if p.startswith(prefix)]
        if quick:
            presets = presets[:2]
        for preset in presets:
            problem = make_problem(INVENTORY, preset, **protocol)
            episodes = max(64, 4096 // problem.network.n_stores) if not quick else 64
            exact = exact_references(problem)
            ref = exact[0] if exact else None
            results = []
            for name in policies:
                start = time.perf_counter()
                res = evaluate(name, INVENTORY, preset, episodes=episodes, seed=seed, overrides=protocol,
                               batch_size=4096, reference=ref)
                results.append((res, time.perf_counter() - start))
            if ref is None:  # no optimum or bound: the best heuristic is the yardstick, and the LP bound
                best = min(results, key=lambda r: r[0].mean_cost)[0]
                ref = Reference(best.mean_cost, "policy", f"best heuristic: {best.policy}", best.ci95)
                hind = hindsight_reference(problem, episodes=episodes, seed=seed, batch_size=4096,
                                           time_limit=120)
                if hind is not None:
                    rows.append(_row("inventory", group, preset, "hindsight LP bound", hind.value, hind.ci95,
                                     ref, hind.extra.get("scenarios", 0), seed, protocol, 0.0))
            for res, seconds in results:
                rows.append(_row("inventory", group, preset, res.policy, res.mean_cost, res.ci95, ref,
                                 res.episodes, seed, protocol, seconds))
            print(f"{preset}: " + ", ".join(f"{r.policy} {r.mean_cost:.3f}" for r, _ in results)
                  + (f" | ref {ref.value:.3f} ({ref.kind})" if ref else ""), flush=True)
    return rows


def _row(family, group, preset, policy, mean, ci, ref, episodes, seed, protocol, seconds) -> dict:
    gap = 100 * (mean - ref.value) / abs(ref.value) if ref and ref.value else None
    return {"family": family, "group": group, "preset": preset, "policy": policy,
            "mean_cost": f"{mean:.4f}", "ci95": f"{ci:.4f}",
            "reference": f"{ref.value:.4f}" if ref else "", "reference_kind": ref.kind if ref else "",
            "reference_source": ref.source if ref else "", "gap_pct": "" if gap is None else f"{gap:.2f}",
            "episodes": episodes, "seed": seed, "horizon": protocol.get("horizon", ""),
            "warmup": protocol.get("warmup", ""), "seconds": f"{seconds:.1f}"}


# -- job shop ----------------------------------------------------------------------------------------------
JOB_SHOP = "opsrl/JobShop-v0"
JOB_SHOP_SEMANTICS = [
    # (label, env overrides): the spec's §5.1 semantics of the dispatching rules
    ("non-delay", {"placement": "append", "candidate_filter": "non_delay"}),
    ("priority+insert", {}),
    ("priority+append", {"placement": "append"}),
]
JOB_SHOP_RULES = ["spt", "lpt", "mwkr", "mor", "fdd_mwkr", "fifo"]


def job_shop_rows(quick: bool, seed: int) -> list[dict]:
    """Taillard ta01-ta80 per size group: every dispatching rule in the three semantics and CP-SAT, gap to
    the best-known UB (spec §3.4). CP-SAT (2 workers) runs at 60 s on the first instance of each group, on all
    80 when OPSRL_JOB_SHOP_CPSAT_ALL=1; ``--quick``: two instances per group, CP-SAT 10 s on the first."""
    from opsrl.envs.job_shop import instances as inst
    from opsrl.envs.job_shop.heuristics import run_rule
    from opsrl.envs.job_shop.references import known_reference
    from opsrl.envs.job_shop.solver import cpsat_solve

    cpsat_all = os.environ.get("OPSRL_JOB_SHOP_CPSAT_ALL") == "1"
    limit = 10.0 if quick else 60.0
    rows = []
    for group in inst.TAILLARD_GROUPS:
        names = inst.taillard_names(group)[:2 if quick else 10]
        label = f"Taillard {group} ({names[0]}-{names[-1]}), gap to best-known UB"
        gaps: dict[str, list[float]] = {}
        for i, name in enumerate(names):
            ref = known_reference(name)
            ref_ub = Reference(float(ref.extra["ub"]), ref.kind, ref.source)
            for sem, overrides in JOB_SHOP_SEMANTICS:
                for rule in JOB_SHOP_RULES:
                    start = time.perf_counter()
                    res = evaluate(rule, JOB_SHOP, name, episodes=1, seed=seed, overrides=overrides,
                                   reference=ref_ub)
                    policy = f"{rule} ({sem})"
                    gaps.setdefault(policy, []).append(res.gap_pct)
                    rows.append(_row("job_shop", label, name, policy, res.mean_cost, 0.0, ref_ub, 1, seed, {},
                                     time.perf_counter() - start))
            if cpsat_all or i == 0:
                # hinted with the non-delay FDD/MWKR schedule, so large instances get a solution in time
                problem = make_problem(JOB_SHOP, name, **JOB_SHOP_SEMANTICS[0][1])
                hint = run_rule(problem, "fdd_mwkr", False)[1]["starts"]
                res = cpsat_solve(*inst.load(name), time_limit=limit, num_workers=2, seed=seed, hint=hint)
                policy = f"CP-SAT {limit:g} s"
                if res.makespan is not None:
                    gaps.setdefault(policy, []).append(100 * (res.makespan - ref_ub.value) / ref_ub.value)
                    rows.append(_row("job_shop", label, name, policy + (" (optimal)" if res.optimal else ""),
                                     res.makespan, 0.0, ref_ub, 1, seed, {}, res.wall_time))
            print(f"{name}: done", flush=True)
        for policy, values in gaps.items():
            row = _row("job_shop", label, f"mean of {len(values)}", policy, float("nan"), 0.0, None, len(values),
                       seed, {}, 0.0)
            row.update(mean_cost="", gap_pct=f"{sum(values) / len(values):.2f}")
            rows.append(row)
    return rows


# -- ride sharing ------------------------------------------------------------------------------------------
RIDE = "opsrl/RideSharing-v0"
RIDE_POLICIES = ["greedy_nearest", "lsa_eta", "lsa_reward", "insertion_greedy", "random"]


def ride_sharing_rows(quick: bool, seed: int) -> list[dict]:
    """Dispatch heuristics on common random numbers: served orders, mean pickup minutes and OSPO return per
    episode (mean ± 95% CI over episodes), with the hindsight served-order bound (spec §5.3) as the
    reference of the served group. ``--quick``: grid_small, 10 episodes."""
    import numpy as np

    from opsrl.envs.ride_sharing.references import hindsight_served
    from opsrl.eval.evaluate import make_vector_env, scenario_seeds
    from opsrl.eval.stats import mean_ci95
    from opsrl.policies.base import make_policy

    plan = [("grid_small", 10)] if quick else [("grid_small", 30), ("grid_medium", 10), ("grid_manhattan_1000", 10)]
    rows = []
    for preset, episodes in plan:
        problem = make_problem(RIDE, preset)
        bound, method = hindsight_served(problem, episodes, seed, batch_size=episodes)
        b_mean, b_ci = mean_ci95(bound)
        served_ref = Reference(b_mean, "bound", f"hindsight served-order bound ({method}), spec §5.3", b_ci)
        for name in RIDE_POLICIES:
            start = time.perf_counter()
            metrics: dict[str, list] = {"served": [], "mean_pickup_min": [], "ospo_return": [], "lost": []}
            for n, chunk_seed in scenario_seeds(seed, episodes, episodes):
                env = make_vector_env(RIDE, n, preset)
                pol = make_policy(name, RIDE, env.problem)
                obs, info = env.reset(seed=chunk_seed)
                pol.reset(env)
                done = np.zeros(n, dtype=bool)
                while not done.all():
                    obs, _, term, trunc, info = env.step(pol.act(obs, info))
                    done |= term | trunc
                for key in metrics:
                    metrics[key].append(info["metrics"][key])
            seconds = time.perf_counter() - start
            for key, label, ref in [("served", "served orders per episode (higher is better)", served_ref),
                                    ("mean_pickup_min", "mean pickup time, min (lower is better)", None),
                                    ("ospo_return", "OSPO return Σ 0.99^k Σ_i r (higher is better)", None),
                                    ("lost", "lost orders per episode (lower is better)", None)]:
                mean, ci = mean_ci95(np.concatenate(metrics[key]))
                rows.append(_row("ride_sharing", f"{preset}: {label}", preset, name, mean, ci, ref, episodes, seed,
                                 {"horizon": problem.params.epochs, "warmup": 0}, seconds))
            print(f"{preset} {name}: served {np.concatenate(metrics['served']).mean():.1f} "
                  f"(bound {b_mean:.1f}), {seconds:.1f} s", flush=True)
    return rows


# -- portfolio ---------------------------------------------------------------------------------------------
PORTFOLIO = "opsrl/Portfolio-v0"
PORTFOLIO_POLICIES = ["equal_weight", "buy_and_hold", "min_variance", "mean_cvar", "eg", "olmar", "bcrp"]
PORTFOLIO_PPO_SEEDS = 3
PORTFOLIO_PPO_BUDGET = (480, 60)  # seconds of training per seed: full / --quick
PORTFOLIO_PPO_OPTIONS = {"eval_episodes": 0}  # the shared PPO defaults otherwise (see the env card)
PORTFOLIO_RUNS = os.path.join(os.path.dirname(__file__), "..", "runs", "reproduce", "portfolio_ppo")


def portfolio_ppo(preset: str, quick: bool, seed: int) -> list[tuple[str, dict]]:
    """Train PPO (the shared core, default config, flat observation, train block, random 128-day episodes)
    for ``PORTFOLIO_PPO_SEEDS`` seeds within a fixed wall-clock budget each; returns (checkpoint, summary).
    Checkpoints go to ``runs/reproduce/portfolio_ppo/`` (an interrupted reproduction resumes them)."""
    from opsrl.algos.ppo import train as ppo_train

    budget = PORTFOLIO_PPO_BUDGET[1] if quick else PORTFOLIO_PPO_BUDGET[0]
    runs = []
    for s in range(seed, seed + PORTFOLIO_PPO_SEEDS):
        out = os.path.join(PORTFOLIO_RUNS, f"{preset}_s{s}{'_quick' if quick else ''}")
        info = ppo_train(PORTFOLIO, preset, {}, seed=s, budget_seconds=budget, out=out, **PORTFOLIO_PPO_OPTIONS)
        print(f"{preset} ppo seed {s}: {info['global_step']:,} steps in {info['seconds']:.0f} s", flush=True)
        runs.append((out, info))
    return runs


def portfolio_rows(quick: bool, seed: int) -> list[dict]:
    """Baselines and PPO on the test block (spec §2.5, §6): every policy through the same env loop, so the same
    dates, the all-cash start and c = 0.25 % linear costs. Cost = −annualised log return (lower is better);
    reference = BCRP in hindsight without costs (best constant mix, not a bound). Protocols: the deterministic
    backtest over the whole test block, and 128-day episodes at random start dates inside it (not in
    ``--quick``). PPO is trained on the train block of the first preset (skfolio_sp500_20 when the optional
    ``opsrl[data]`` extra is installed, else synthetic_gbm_10) for 3 seeds; each seed is a row, plus their mean
    with a 95% CI across seeds."""
    import importlib.util

    import numpy as np

    from opsrl.envs.portfolio.references import hindsight_references
    from opsrl.eval.stats import mean_ci95

    presets = ["synthetic_gbm_10"] if quick else ["synthetic_gbm_10", "synthetic_regime_10"]
    if not quick and importlib.util.find_spec("skfolio") is not None:
        presets.insert(0, "skfolio_sp500_20")
    protocols = [("test-block backtest", {"split": "test", "start": "first", "horizon": None}, 1)]
    if not quick:
        protocols.append(("128-day episodes, random starts in the test block", {"split": "test"}, 64))
    oracle = {"synthetic_gbm_10": "kelly_oracle", "synthetic_regime_10": "regime_oracle"}
    ppo_runs = {presets[0]: portfolio_ppo(presets[0], quick, seed)}
    rows = []
    for preset in presets:
        for label, protocol, episodes in protocols:
            problem = make_problem(PORTFOLIO, preset, **protocol)
            ref = hindsight_references(problem, episodes, seed, 4096)[0]
            group = (f"{preset}: {label} ({problem.split.first_date} → {problem.split.last_date}), "
                     "cost = −annualised log return")
            names = PORTFOLIO_POLICIES + ([oracle[preset]] if preset in oracle else [])
            for name in names:
                start = time.perf_counter()
                res = evaluate(name, PORTFOLIO, preset, episodes=episodes, seed=seed, overrides=protocol,
                               batch_size=4096, reference=ref)
                rows.append(_row("portfolio", group, preset, name if res.admissible else f"{name} (oracle)",
                                 res.mean_cost, res.ci95, ref, episodes, seed,
                                 {"horizon": problem.episode_length}, time.perf_counter() - start))
                print(f"{preset} [{label}] {name}: {res.mean_cost:.4f} ± {res.ci95:.4f}", flush=True)
            seed_means = []
            for out, info in ppo_runs.get(preset, []):
                res = evaluate(out, PORTFOLIO, preset, episodes=episodes, seed=seed, overrides=protocol,
                               batch_size=4096, reference=ref)
                seed_means.append(res.mean_cost)
                name = (f"ppo seed {_portfolio_seed(out)} ({info['global_step']:,} steps, "
                        f"{info['seconds']:.0f} s on the train block)")
                rows.append(_row("portfolio", group, preset, name, res.mean_cost, res.ci95, ref, episodes, seed,
                                 {"horizon": problem.episode_length}, info["seconds"]))
                print(f"{preset} [{label}] ppo {out}: {res.mean_cost:.4f} ± {res.ci95:.4f}", flush=True)
            if seed_means:
                mean, half = mean_ci95(np.array(seed_means))
                rows.append(_row("portfolio", group, preset, f"ppo, mean of {len(seed_means)} seeds (± = 95% CI "
                                 "across seeds)", mean, half, ref, episodes, seed,
                                 {"horizon": problem.episode_length}, 0.0))
    return rows


def _portfolio_seed(checkpoint: str) -> int:
    """The training seed recorded in a checkpoint's manifest."""
    import json

    from opsrl.policies.base import CHECKPOINT_FILE

    with open(os.path.join(checkpoint, CHECKPOINT_FILE)) as fh:
        return int(json.load(fh)["seed"])


# -- lot sizing --------------------------------------------------------------------------------------------
LOT_SIZING = "opsrl/LotSizing-v0"


def lot_sizing_rows(quick: bool, seed: int) -> list[dict]:
    """Heuristics, the rolling-horizon expected-value MIP and the perfect-information bound on the same
    scenarios; on ``tiny`` the exact DP optimum is the reference. The rolling MIP solves one MIP per env
    and period, so it runs on few episodes (and, in the quick variant, on 15×5 only)."""
    from opsrl.envs.lot_sizing.references import dp_reference, idle_reference, wait_and_see_reference

    rows = []
    plans = [("tiny", ["idle", "days_of_supply", "value_iteration"], 4096 if not quick else 512),
             ("pdppo_15x5", ["idle", "days_of_supply", "rolling_ev_mip"], 8 if not quick else 4),
             ("pdppo_25x15", ["idle", "days_of_supply"] + ([] if quick else ["rolling_ev_mip"]), 8 if not quick else 4)]
    for preset, policies, episodes in plans:
        problem = make_problem(LOT_SIZING, preset)
        protocol = {"horizon": problem.horizon, "warmup": 0}
        group = f"{preset} ({problem.n_items} items x {problem.n_machines} machines, T = {problem.horizon})"
        ref = dp_reference(problem)
        results = []
        for name in policies:
            start = time.perf_counter()
            res = evaluate(name, LOT_SIZING, preset, episodes=episodes, seed=seed, batch_size=4096, reference=ref)
            results.append((res, time.perf_counter() - start))
        if ref is None:
            best = min((r for r, _ in results if r.policy != "idle"), key=lambda r: r.mean_cost)
            ref = Reference(best.mean_cost, "policy", f"best non-learning policy: {best.policy}", best.ci95)
        idle = idle_reference(problem)
        rows.append(_row("lot_sizing", group, preset, "always idle (exact expectation)", idle.value, 0.0, ref,
                         0, seed, protocol, 0.0))
        start = time.perf_counter()
        pi = wait_and_see_reference(problem, episodes, seed, 4096, time_limit=None,
                                    max_scenarios=4 if quick else 16)
        rows.append(_row("lot_sizing", group, preset, "perfect-information MIP bound (dual)", pi.value, pi.ci95,
                         ref, pi.extra["scenarios"], seed, protocol, time.perf_counter() - start))
        for res, seconds in results:
            rows.append(_row("lot_sizing", group, preset, res.policy, res.mean_cost, res.ci95, ref, res.episodes,
                             seed, protocol, seconds))
        print(f"{preset}: " + ", ".join(f"{r.policy} {r.mean_cost:.2f}" for r, _ in results)
              + f" | PI bound {pi.value:.2f} | ref {ref.value:.2f} ({ref.kind})", flush=True)
    return rows


# -- dram ----------------------------------------------------------------------------------------------------
def dram_rows(quick: bool, seed: int) -> list[dict]:
    """Exhaustive optimum vs random search and GA at equal simulator budgets, 4 traces × {latency, power}
    (DDR3-1600). Quick: 1,000-request traces, budgets 100/1,000, 3 seeds; full: 10,000 requests, budgets
    100/1,000/3,200, 5 seeds. The sweeps are cached under $OPSRL_DRAM_CACHE (~/.cache/opsrl/dram)."""
    from opsrl.envs.dram.experiments import TRACES, search_table

    n_requests, budgets = (1000, (100, 1000)) if quick else (None, (100, 1000, 3200))
    seeds = tuple(range(seed, seed + (3 if quick else 5)))
    rows = []
    for trace in TRACES:
        for r in search_table(trace, budgets=budgets, seeds=seeds, n_requests=n_requests):
            ref = Reference(r["optimum"], "optimum", "exhaustive enumeration of the canonical design space")
            fixed = r["budget"] <= 1 or "optimum" in r["policy"]
            policy = r["policy"] if fixed else f"{r['policy']} ({r['budget']} evals)"
            rows.append(_row("dram", f"DDR3-1600 {trace} ({n_requests or 10000} requests), {r['objective']}",
                             f"archgym_ddr3_{trace}", policy, r["mean"], r["ci95"], ref, len(r["values"]), seed,
                             {}, r["seconds"]))
            print(f"dram {trace} {r['objective']}: {policy} {r['mean']:.2f} (gap {r['gap_pct']:.2f}%)", flush=True)
    return rows


FAMILIES: dict[str, Callable[[bool, int], list[dict]]] = {"inventory": inventory_rows, "job_shop": job_shop_rows,
                                                          "ride_sharing": ride_sharing_rows,
                                                          "portfolio": portfolio_rows,
                                                          "lot_sizing": lot_sizing_rows,
                                                          "dram": dram_rows}


# -- inventory: HDPO (issue 3) ---------------------------------------------------------------------------
# (group, presets, quick presets, policies, per-instance training budget in seconds: full / quick, options)
HDPO_GROUPS = [
    ("HDPO, one store, backlogged (analytic optimum)",
     [f"one_store_backlogged_L{L}_p{p}" for L in (1, 4, 7, 10, 15, 20) for p in (4, 9, 19, 39)],
     ["one_store_backlogged_L4_p9", "one_store_backlogged_L20_p39"], ["mlp"], (300, 40), {}),
    ("HDPO, one store, lost sales (Zipkin optimum)",
     [f"one_store_lost_L{L}_p{p}" for L in (1, 2, 3, 4) for p in (4, 9, 19, 39)],
     ["one_store_lost_L1_p9", "one_store_lost_L3_p9"], ["mlp"], (300, 40), {}),
    ("HDPO, transshipment center (pooled lower bound)",
     ["transshipment_n3_L2_p4", "transshipment_n5_L2_p4", "transshipment_n10_L2_p4"],
     ["transshipment_n3_L2_p4"], ["mlp"], (1200, 60), {}),
    ("HDPO, serial chain (Clark–Scarf optimum)", ["serial_4"], ["serial_4"], ["mlp", "gnn"], (1200, 60),
     {"gnn": {"batch": 256}}),
    ("HDPO, one warehouse, lost sales, 1,024 training scenarios (no bound: best tuned heuristic)",
     ["one_warehouse_lost_n3", "one_warehouse_lost_n10", "one_warehouse_lost_n50"], ["one_warehouse_lost_n3"],
     ["mlp", "gnn"], (1800, 60), {"all": {"n_train": 1024}, "gnn": {"batch": 256}}),
]
HDPO_RUNS = os.path.join(os.path.dirname(__file__), "..", "runs", "reproduce", "hdpo")


def inventory_hdpo_rows(quick: bool, seed: int) -> list[dict]:
    """HDPO (vanilla MLP and GNN) per instance of issue 3, trained within a per-instance budget and
    evaluated with ``opsrl.eval.evaluate`` on the same scenarios and protocol as ``inventory_rows``; the gap
    is to the exact optimum or bound, else to the best tuned heuristic (rows included, with 95% CIs). Per
    group: the largest gap and the median training time to a 1% dev gap. Checkpoints go to
    ``runs/reproduce/hdpo/`` (an interrupted reproduction resumes them). ``--quick``: 1–2 instances per group
    and 40–60 s budgets."""
    import statistics

    from opsrl.algos.hdpo import train as hdpo_train
    from opsrl.envs.inventory.references import exact_references

    protocol = {"horizon": 300, "warmup": 60}
    rows = []
    for group, presets, quick_presets, policies, budgets, options in HDPO_GROUPS:
        budget = budgets[1] if quick else budgets[0]
        gaps, to_1pct, n_runs = [], [], 0
        for preset in quick_presets if quick else presets:
            problem = make_problem(INVENTORY, preset, **protocol)
            episodes = 256 if quick else max(64, 4096 // problem.network.n_stores)
            exact = exact_references(problem)
            ref = exact[0] if exact else None
            results = []
            if ref is None:  # no optimum or bound: the tuned heuristics are the yardstick
                for name in ("base_stock", "capped_base_stock", "echelon_stock"):
                    start = time.perf_counter()
                    res = evaluate(name, INVENTORY, preset, episodes=episodes, seed=seed, overrides=protocol,
                                   batch_size=4096, reference=None)
                    results.append((res.policy, res, time.perf_counter() - start))
                best = min(results, key=lambda r: r[1].mean_cost)[1]
                ref = Reference(best.mean_cost, "policy", f"best tuned heuristic: {best.policy}", best.ci95)
            for kind in policies:
                # n_test=0: the test number is the evaluate() below, on the same scenarios as the heuristics
                opts = {"policy": kind, "progress": False, "n_test": 0, **options.get("all", {}),
                        **options.get(kind, {})}
                out = os.path.join(HDPO_RUNS, f"{preset}_{kind}_s{seed}{'_quick' if quick else ''}")
                info = hdpo_train(INVENTORY, preset, {}, seed=seed, budget_seconds=budget, out=out, **opts)
                res = evaluate(out, INVENTORY, preset, episodes=episodes, seed=seed, overrides=protocol,
                               batch_size=4096, reference=ref)
                t1 = info["seconds_to_1pct_dev_gap"]
                label = (f"hdpo-{kind} ({info['steps']} steps, {info['stopped']}; 1% dev gap: "
                         f"{'not reached' if t1 is None else f'{t1:.0f} s'})")
                results.append((label, res, info["seconds"]))
                n_runs += 1
                if info["seconds_to_1pct_dev_gap"] is not None:
                    to_1pct.append(info["seconds_to_1pct_dev_gap"])
                if res.gap_pct is not None and ref.kind != "policy":
                    gaps.append(res.gap_pct)
            for label, res, seconds in results:
                rows.append(_row("inventory_hdpo", group, preset, label, res.mean_cost, res.ci95, ref,
                                 res.episodes, seed, protocol, seconds))
            print(f"{preset}: " + ", ".join(f"{label.split(' (')[0]} {r.mean_cost:.3f}" for label, r, _ in results)
                  + f" | ref {ref.value:.3f} ({ref.kind})", flush=True)
        if gaps:
            row = _row("inventory_hdpo", group, f"max over {len(gaps)} runs", "hdpo", float("nan"), 0.0, None,
                       0, seed, protocol, 0.0)
            row.update(mean_cost="", ci95="", gap_pct=f"{max(gaps):.2f}")
            rows.append(row)
        row = _row("inventory_hdpo", group, f"{len(to_1pct)} of {n_runs} runs reached a 1% dev gap", "hdpo",
                   float("nan"), 0.0, None, 0, seed, protocol,
                   statistics.median(to_1pct) if to_1pct else float("nan"))
        row.update(mean_cost="", ci95="", policy="hdpo (seconds = median time to a 1% dev gap)")
        rows.append(row)
    return rows


FAMILIES["inventory_hdpo"] = inventory_hdpo_rows


# -- lot sizing: PPO vs PDPPO (issue 5) --------------------------------------------------------------------
LOT_SIZING_RL_OVERRIDES = {"obs_normalize": True}
# shared PPO defaults otherwise; 202 steps per env and rollout = two 100-period episodes + their autoreset steps,
# so no episode is cut (PDPPO bootstraps the post-decision stream with 0 at a cut). 16 envs and 10 epochs: more
# gradient steps per env step than the defaults (64 envs, 4 epochs barely moved the policy in 100k steps)
LOT_SIZING_RL_OPTIONS = {"num_envs": 16, "num_steps": 202, "update_epochs": 10, "eval_episodes": 0}
# preset: (env steps per run, seeds, evaluation episodes) full / --quick
LOT_SIZING_RL_PLAN = {"pdppo_15x5": ((1_000_000, 5, 32), (200_000, 5, 8)),
                      "pdppo_25x15": ((1_000_000, 5, 16), None)}
LOT_SIZING_RL_RUNS = os.path.join(os.path.dirname(__file__), "..", "runs", "reproduce", "lot_sizing_rl")


def _best_training_return(checkpoint: str) -> float:
    """Max over training of the logged mean return of the last 20 training episodes (sampled actions): the
    statistic of the PDPPO paper's logs (theirs averages 40 episodes)."""
    with open(os.path.join(checkpoint, "progress.csv")) as fh:
        values = [float(r["episode_return"]) for r in csv.DictReader(fh) if r["episode_return"]]
    return max(values) if values else float("nan")


def lot_sizing_rl_rows(quick: bool, seed: int) -> list[dict]:
    """PPO and PDPPO (paper's max rule) on the PDPPO instances, the same env-step budget and seeds for both,
    every learned policy (greedy), the heuristics and the rolling-horizon expected-value MIP evaluated on the
    same scenarios; per algorithm the mean and the interquartile mean over seeds with percentile-bootstrap 95%
    intervals (the ± column is half the interval's width; the interval itself is in the policy label); the
    paper's training-curve statistic (best 20-episode mean training return) beside them; always idle
    (exact) and the perfect-information MIP bound. Reference: the best non-learning policy. Checkpoints go to
    ``runs/reproduce/lot_sizing_rl/`` (an interrupted reproduction resumes them). ``--quick``: 15×5 only,
    200k steps per run, 8 scenarios."""
    import numpy as np

    from opsrl.algos.pdppo import train as pdppo_train
    from opsrl.algos.ppo import train as ppo_train
    from opsrl.envs.lot_sizing.references import idle_reference, wait_and_see_reference
    from opsrl.eval.stats import bootstrap_ci, iqm

    ov = LOT_SIZING_RL_OVERRIDES
    rows = []
    for preset, plans in LOT_SIZING_RL_PLAN.items():
        plan = plans[1] if quick else plans[0]
        if plan is None:
            continue
        steps, n_seeds, episodes = plan
        problem = make_problem(LOT_SIZING, preset, **ov)
        protocol = {"horizon": problem.horizon, "warmup": 0}
        group = (f"{preset} ({problem.n_items} items x {problem.n_machines} machines, T = {problem.horizon}): "
                 f"PPO vs PDPPO, {n_seeds} seeds x {steps:,} env steps each, {episodes} evaluation scenarios")
        results = []
        for name in ("idle", "days_of_supply", "rolling_ev_mip"):
            start = time.perf_counter()
            res = evaluate(name, LOT_SIZING, preset, episodes=episodes, seed=seed, overrides=ov, batch_size=4096,
                           reference=None)
            results.append((res.policy, res.mean_cost, res.ci95, episodes, time.perf_counter() - start))
            print(f"{preset} {name}: {res.mean_cost:.1f} ± {res.ci95:.1f}", flush=True)
        best = min((r for r in results if r[0] != "idle"), key=lambda r: r[1])
        ref = Reference(best[1], "policy", f"best non-learning policy on the same scenarios: {best[0]}", best[2])
        for algo, train in (("ppo", ppo_train), ("pdppo", pdppo_train)):
            costs, curve = [], []
            for s in range(seed, seed + n_seeds):
                tag = "_".join(f"{k}{v}" for k, v in LOT_SIZING_RL_OPTIONS.items() if k != "eval_episodes")
                out = os.path.join(LOT_SIZING_RL_RUNS, f"{preset}_{algo}_s{s}_{steps}_{tag}")
                info = train(LOT_SIZING, preset, ov, seed=s, budget_seconds=24 * 3600.0, out=out,
                             total_timesteps=steps, **LOT_SIZING_RL_OPTIONS)
                res = evaluate(out, LOT_SIZING, preset, episodes=episodes, seed=seed, overrides=ov, batch_size=4096,
                               reference=None)
                costs.append(res.mean_cost)
                curve.append(-_best_training_return(out))
                results.append((f"{algo} seed {s} ({info['global_step']:,} steps, {info['seconds']:.0f} s)",
                                res.mean_cost, res.ci95, episodes, info["seconds"]))
                print(f"{preset} {algo} seed {s}: {res.mean_cost:.1f} ± {res.ci95:.1f} "
                      f"(best training-curve cost {curve[-1]:.1f}; {info['global_step']:,} steps, "
                      f"{info['seconds']:.0f} s)", flush=True)
            x = np.array(costs)
            for label, stat in (("mean", np.mean), ("IQM", iqm)):
                lo, hi = bootstrap_ci(x, statistic=stat, seed=seed)
                results.append((f"{algo}: {label} over {len(x)} seeds (bootstrap 95% CI [{lo:.1f}, {hi:.1f}])",
                                float(stat(x)), (hi - lo) / 2, episodes, 0.0))
            c = np.array(curve)
            results.append((f"{algo}: paper's statistic, best 20-episode mean training cost (sampled actions), "
                            f"mean over seeds [best seed {c.min():.1f}]", float(c.mean()), 0.0, 0, 0.0))
        idle = idle_reference(problem)
        rows.append(_row("lot_sizing_rl", group, preset, "always idle (exact expectation)", idle.value, 0.0, ref, 0,
                         seed, protocol, 0.0))
        start = time.perf_counter()
        pi = wait_and_see_reference(problem, episodes, seed, 4096, time_limit=None, max_scenarios=4 if quick else 8)
        rows.append(_row("lot_sizing_rl", group, preset, "perfect-information MIP bound (dual; weak at T = 100)",
                         pi.value, pi.ci95, ref, pi.extra["scenarios"], seed, protocol, time.perf_counter() - start))
        for name, mean, ci, n, seconds in results:
            rows.append(_row("lot_sizing_rl", group, preset, name, mean, ci, ref, n, seed, protocol, seconds))
    return rows


FAMILIES["lot_sizing_rl"] = lot_sizing_rl_rows


def write_csv(family: str, rows: list[dict], command: str) -> str:
    """Write the family's rows and, beside them, how they were produced (``<family>.json``)."""
    path = os.path.join(ROOT, "results", f"{family}.csv")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(ROOT, "results", f"{family}.json"), "w") as fh:
        json.dump({"command": command, "date": _now()}, fh, indent=2)
    return path


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _provenance(family_file: str) -> str:
    meta = os.path.join(ROOT, "results", family_file.replace(".csv", ".json"))
    if not os.path.exists(meta):
        return "Produced by `scripts/reproduce.py` (command not recorded)."
    with open(meta) as fh:
        d = json.load(fh)
    return f"Produced by `{d['command']}` on {d['date']}."


def write_results_md(command: str) -> None:
    lines = ["# Results", "",
             "Generated by `scripts/reproduce.py` from `baselines/results/*.csv`; do not edit by hand.",
             f"Last rebuilt: {_now()} (`{command}`). Each section names the command that produced it; "
             "`--quick` sections are smoke-size runs, not the full protocol.", "",
             "Every policy of an instance is evaluated on the same scenarios (common random numbers); costs "
             "are per period per store after the warm-up; ± is the 95% CI over episodes; the gap is to the "
             "reference of the instance (optimum, bound, or the best heuristic when neither is known).", ""]
    for fname in sorted(os.listdir(os.path.join(ROOT, "results"))):
        if not fname.endswith(".csv"):
            continue
        with open(os.path.join(ROOT, "results", fname)) as fh:
            rows = list(csv.DictReader(fh))
        if not rows:
            continue
        lines += [f"## {rows[0]['family']}", "", _provenance(fname)]
        for group in dict.fromkeys(r["group"] for r in rows):
            lines += ["", f"### {group}", "",
                      "| preset | policy | mean cost | ± 95% CI | reference | kind | gap % |",
                      "|---|---|---:|---:|---:|---|---:|"]
            for r in (r for r in rows if r["group"] == group):
                lines.append(f"| {r['preset']} | {r['policy']} | {r['mean_cost']} | {r['ci95']} | "
                             f"{r['reference']} | {r['reference_kind']} | {r['gap_pct']} |")
            first = next(r for r in rows if r["group"] == group)
            horizon = f", horizon {first['horizon']}, warm-up {first['warmup']}" if first.get("horizon") else ""
            lines.append(f"\nProtocol: {first['episodes']} episodes (first preset){horizon}, seed {first['seed']}. "
                         f"Reference: {first['reference_source']}.")
        lines.append("")
    with open(os.path.join(ROOT, "RESULTS.md"), "w") as fh:
        fh.write("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", action="append", choices=list(FAMILIES))
    ap.add_argument("--quick", action="store_true", help="two presets per group, few episodes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rebuild-only", action="store_true", help="only rebuild RESULTS.md from the CSVs")
    args = ap.parse_args()
    for family in [] if args.rebuild_only else args.family or list(FAMILIES):
        command = f"python scripts/reproduce.py --family {family}" + (" --quick" if args.quick else "") \
            + (f" --seed {args.seed}" if args.seed else "")
        print(f"wrote {write_csv(family, FAMILIES[family](args.quick, args.seed), command)}")
    write_results_md("python scripts/reproduce.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
