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
import dataclasses
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
# L2D (Zhang et al., NeurIPS 2020, Table 3): greedy gap % and mean makespan per Taillard group (50x15-100x20:
# their 30x20 policy), spec §6.1 — a published reference, not rerun here
JOB_SHOP_L2D = {"15x15": (26.0, 1547.4), "20x15": (30.0, 1774.7), "20x20": (31.6, 2128.1), "30x15": (33.0, 2378.8),
                "30x20": (33.6, 2603.9), "50x15": (22.4, 3393.8), "50x20": (26.5, 3593.9), "100x20": (13.6, 6097.6)}
JOB_SHOP_SAMPLES = 128
# instances per group that get the K-sample decoding (the first ones). Sampling costs K rollouts of the GNN,
# ~2 µs per graph node and step on one core, i.e. K·(n·m)²·2 µs per instance: 13 s on 15x15, 15 min on 100x20;
# these counts keep the family's run near 40 min on 2 shared cores
JOB_SHOP_SAMPLE_INSTANCES = {"15x15": 10, "20x15": 10, "20x20": 10, "30x15": 3, "30x20": 2, "50x15": 1, "50x20": 1,
                             "100x20": 1}
JOB_SHOP_SAMPLE_CHUNK = 32  # schedules per batch: the GNN's activations stay in cache
JOB_SHOP_SAMPLE_SECONDS = 300.0  # per instance: no new chunk that would end later (binds on 100x20 only)


def _job_shop_gnn(group: str, names: list[str], samples: int) -> tuple[list[int], float, list[int]]:
    """Makespans of the shipped GNN (``gnn-pretrained``) on the first instances of a Taillard group (greedy if
    ``samples`` is 0, else best of up to ``samples``, drawn JOB_SHOP_SAMPLE_CHUNK at a time within
    JOB_SHOP_SAMPLE_SECONDS per instance), the seconds spent and the schedules drawn per instance; every
    schedule is checked. Greedy: all instances in one batch; sampling: one instance per batch."""
    from opsrl.envs.job_shop.solver import validate_schedule
    from opsrl.policies.job_shop_gnn import pretrained, solve_fixed

    problem = make_problem(JOB_SHOP, f"taillard_{group}")
    policy = pretrained(problem)
    if samples:
        policy = policy.with_samples(samples, chunk=JOB_SHOP_SAMPLE_CHUNK, time_limit=JOB_SHOP_SAMPLE_SECONDS)
    start = time.perf_counter()
    batches = [list(range(len(names)))] if not samples else [[r] for r in range(len(names))]
    makespans, drawn = [], []
    for order in batches:
        values, state = solve_fixed(policy, order)
        for row, r in enumerate(order):
            s = problem.schedule(state, row)
            if validate_schedule(s["durations"], s["machines"], s["starts"]) != values[row]:
                raise RuntimeError(f"{names[r]}: GNN schedule makespan differs from the checker's")
            drawn.append(len(policy.last_sampled_makespans[row]) if samples else 1)
        makespans += [int(x) for x in values]
    return makespans, time.perf_counter() - start, drawn


def job_shop_rows(quick: bool, seed: int) -> list[dict]:
    """Taillard ta01-ta80 per size group: every dispatching rule in the three semantics, CP-SAT, the shipped GNN
    greedy and with K sampled schedules, gap to the best-known UB (spec §3.4), with L2D's published gaps beside
    them. CP-SAT (2 workers) runs at 60 s on the first instance of each group, on all 80 when
    OPSRL_JOB_SHOP_CPSAT_ALL=1; sampling (K = 128, capped at JOB_SHOP_SAMPLE_SECONDS per instance) on the
    first JOB_SHOP_SAMPLE_INSTANCES of every group.
    ``--quick``: two instances per group, CP-SAT 10 s on the first, K = 16 on 15x15 only."""
    import torch

    from opsrl.envs.job_shop import instances as inst
    from opsrl.envs.job_shop.heuristics import run_rule
    from opsrl.envs.job_shop.references import known_reference
    from opsrl.envs.job_shop.solver import cpsat_solve

    torch.set_num_threads(1)
    cpsat_all = os.environ.get("OPSRL_JOB_SHOP_CPSAT_ALL") == "1"
    limit = 10.0 if quick else 60.0
    samples = 16 if quick else JOB_SHOP_SAMPLES
    rows = []
    for group in inst.TAILLARD_GROUPS:
        names = inst.taillard_names(group)[:2 if quick else 10]
        label = f"Taillard {group} ({names[0]}-{names[-1]}), gap to best-known UB"
        gaps: dict[str, list[float]] = {}
        refs = {}
        for i, name in enumerate(names):
            ref = known_reference(name)
            ref_ub = refs[name] = Reference(float(ref.extra["ub"]), ref.kind, ref.source)
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
        n_sampled = (len(names) if group == "15x15" else 0) if quick else JOB_SHOP_SAMPLE_INSTANCES.get(group, 0)
        runs = [("GNN greedy (gnn-pretrained)", names, 0)]
        if n_sampled:
            runs.append((f"GNN best of {samples} samples", names[:n_sampled], samples))
        for policy, subset, k in runs:
            makespans, seconds, drawn = _job_shop_gnn(group, subset, k)
            if k:
                sampled = f"first {n_sampled} instances" if n_sampled < len(names) else "all instances"
                if min(drawn) < k:  # the per-instance time cap bound: say how many were drawn
                    policy = (f"GNN best of {min(drawn)}" + (f"-{max(drawn)}" if max(drawn) > min(drawn) else "")
                              + f" samples ({JOB_SHOP_SAMPLE_SECONDS:g} s cap per instance)")
                policy += f" ({sampled})"
            for name, value in zip(subset, makespans, strict=True):
                gaps.setdefault(policy, []).append(100 * (value - refs[name].value) / refs[name].value)
                rows.append(_row("job_shop", label, name, policy, value, 0.0, refs[name], 1, seed, {},
                                 seconds / len(subset)))
            print(f"{group}: {policy} mean gap {sum(gaps[policy]) / len(gaps[policy]):.2f}% "
                  f"({seconds:.0f} s)", flush=True)
        if 0 < n_sampled < len(names):  # greedy on the sampled subset, for a like-for-like comparison
            gaps[f"GNN greedy (gnn-pretrained) (first {n_sampled} instances)"] = \
                gaps["GNN greedy (gnn-pretrained)"][:n_sampled]
        for policy, values in gaps.items():
            row = _row("job_shop", label, f"mean of {len(values)}", policy, float("nan"), 0.0, None, len(values),
                       seed, {}, 0.0)
            row.update(mean_cost="", gap_pct=f"{sum(values) / len(values):.2f}")
            rows.append(row)
        l2d_gap, l2d_mean = JOB_SHOP_L2D[group]
        row = _row("job_shop", label, "mean of 10 (published)", "L2D greedy (Zhang et al. 2020, Table 3; reference)",
                   l2d_mean, 0.0, None, 10, seed, {}, 0.0)
        row.update(gap_pct=f"{l2d_gap:.2f}", reference_source="L2D paper: gap to the UBs of 2020")
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
PORTFOLIO_HDPO_SEEDS = 3
# A step budget (8 epochs × 32 steps of 64 windows of 128 days; --quick: 1 epoch), under a wall-clock cap
# that only binds on a very busy machine; the other options are the defaults (see the env card).
PORTFOLIO_HDPO_EPOCHS = (8, 1)
PORTFOLIO_HDPO_CAP = (3600, 300)
PORTFOLIO_HDPO_RUNS = os.path.join(os.path.dirname(__file__), "..", "runs", "reproduce", "portfolio_hdpo")


def portfolio_hdpo(preset: str, quick: bool, seed: int) -> list[tuple[str, dict]]:
    """Train HDPO (EIIE network, log-return objective through the differentiable twin, early stopping on a
    validation block cut from the end of the train block) for ``PORTFOLIO_HDPO_SEEDS`` seeds; returns
    (checkpoint, summary). Checkpoints go to ``runs/reproduce/portfolio_hdpo/`` (resumed when re-run)."""
    from opsrl.algos.hdpo import train as hdpo_train

    runs = []
    for s in range(seed, seed + PORTFOLIO_HDPO_SEEDS):
        out = os.path.join(PORTFOLIO_HDPO_RUNS, f"{preset}_s{s}{'_quick' if quick else ''}")
        info = hdpo_train(PORTFOLIO, preset, {}, seed=s, budget_seconds=PORTFOLIO_HDPO_CAP[quick], out=out,
                          max_epochs=PORTFOLIO_HDPO_EPOCHS[quick], progress=False)
        print(f"{preset} hdpo seed {s}: {info['steps']} steps ({info['stopped']}) in {info['seconds']:.0f} s, "
              f"best dev {info['best_dev']:.4f} at epoch {info['best_epoch']} (equal weight on dev "
              f"{info['reference']:.4f})", flush=True)
        runs.append((out, info))
    return runs


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
    with a 95% CI across seeds. HDPO likewise (3 seeds), trained on the train block minus its last 10 % of all
    dates, which serve as its validation block for early stopping; the test block is the same."""
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
    hdpo_runs = {presets[0]: portfolio_hdpo(presets[0], quick, seed)}
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
            learners = [("ppo", ppo_runs, lambda info: f"{info['global_step']:,} steps, {info['seconds']:.0f} s on the "
                         "train block"),
                        ("hdpo", hdpo_runs, lambda info: f"{info['steps']} steps, best-dev epoch {info['best_epoch']}, "
                         f"{info['seconds']:.0f} s; train {info['train_block']}, validation "
                         f"{info['validation_block']}")]
            for algo, runs, describe in learners:
                seed_means = []
                for out, info in runs.get(preset, []):
                    res = evaluate(out, PORTFOLIO, preset, episodes=episodes, seed=seed, overrides=protocol,
                                   batch_size=4096, reference=ref)
                    seed_means.append(res.mean_cost)
                    name = f"{algo} seed {_portfolio_seed(out)} ({describe(info)})"
                    rows.append(_row("portfolio", group, preset, name, res.mean_cost, res.ci95, ref, episodes, seed,
                                     {"horizon": problem.episode_length}, info["seconds"]))
                    print(f"{preset} [{label}] {algo} {out}: {res.mean_cost:.4f} ± {res.ci95:.4f}", flush=True)
                if seed_means:
                    mean, half = mean_ci95(np.array(seed_means))
                    rows.append(_row("portfolio", group, preset, f"{algo}, mean of {len(seed_means)} seeds (± = 95% "
                                     "CI across seeds)", mean, half, ref, episodes, seed,
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
    scenarios; on ``tiny`` the exact DP optimum is the reference. The rolling MIP solves one MIP per env and
    period, so it runs on few episodes (and, in the quick variant, on 15×5 only). The MIP evaluations and the
    bound are cached in ``runs/reproduce/lot_sizing_rl/references.json`` and shared with ``lot_sizing_rl``'s
    table (same scenarios: the same numbers in both)."""
    from opsrl.envs.lot_sizing.references import dp_reference, idle_reference

    rows = []
    plans = [("tiny", ["idle", "days_of_supply", "value_iteration"], 4096 if not quick else 512),
             ("pdppo_15x5", ["idle", "days_of_supply", "rolling_ev_mip"], 8 if not quick else 4),
             ("pdppo_25x15", ["idle", "days_of_supply"] + ([] if quick else ["rolling_ev_mip"]), 8 if not quick else 4)]
    for preset, policies, episodes in plans:
        problem = make_problem(LOT_SIZING, preset)
        protocol = {"horizon": problem.horizon, "warmup": 0}
        group = f"{preset} ({problem.n_items} items x {problem.n_machines} machines, T = {problem.horizon})"
        ref = dp_reference(problem)
        results = [(name, *_cached_evaluate(name, preset, episodes, seed, {})) for name in policies]
        if ref is None:
            best = min((r for r in results if r[0] != "idle"), key=lambda r: r[1])
            ref = Reference(best[1], "policy", f"best non-learning policy: {best[0]}", best[2])
        idle = idle_reference(problem)
        rows.append(_row("lot_sizing", group, preset, "always idle (exact expectation)", idle.value, 0.0, ref,
                         0, seed, protocol, 0.0))
        pi, pi_ci, n, seconds = _cached_pi_bound(preset, episodes, seed, {}, max_scenarios=4 if quick else 8)
        rows.append(_row("lot_sizing", group, preset, "perfect-information bound (Lagrangian)", pi, pi_ci, ref, n,
                         seed, protocol, seconds))
        for name, mean, ci, n_eps, seconds in results:
            rows.append(_row("lot_sizing", group, preset, name, mean, ci, ref, n_eps, seed, protocol, seconds))
        print(f"{preset}: " + ", ".join(f"{r[0]} {r[1]:.2f}" for r in results)
              + f" | PI bound {pi:.2f} | ref {ref.value:.2f} ({ref.kind})", flush=True)
    return rows


# -- dram ----------------------------------------------------------------------------------------------------
def dram_rows(quick: bool, seed: int) -> list[dict]:
    """Exhaustive optimum vs random search, GA, PPO (one agent, MultiDiscrete), MAPPO and IPPO (ten knob agents)
    at equal simulator budgets, 4 traces × {latency, power} (DDR3-1600); each row is the best configuration
    found within its budget (mean ± 95% CI over seeds) and its gap to the optimum. Quick: 1,000-request traces,
    search budgets 100/1,000 over 3 seeds, learners 1,000 over 3 seeds; full: 10,000 requests, search budgets
    100/1,000/3,200 over 5 seeds, learners 1,000/3,200 over 3 seeds. The sweeps are cached under
    $OPSRL_DRAM_CACHE (~/.cache/opsrl/dram) and every method reads its evaluations from them."""
    from opsrl.envs.dram.experiments import TRACES, learner_table, search_table

    n_requests, budgets = (1000, (100, 1000)) if quick else (None, (100, 1000, 3200))
    learner_budgets = (1000,) if quick else (1000, 3200)
    seeds = tuple(range(seed, seed + (3 if quick else 5)))
    names = {"ppo": "PPO (one agent, MultiDiscrete)", "mappo": "MAPPO (10 knob agents, centralised critic)",
             "ippo": "IPPO (10 knob agents, decentralised critics)"}
    rows = []
    for trace in TRACES:
        found = search_table(trace, budgets=budgets, seeds=seeds, n_requests=n_requests)
        found += learner_table(trace, budgets=learner_budgets, seeds=seeds[:3], n_requests=n_requests,
                               progress=lambda msg: print(f"dram {msg}", flush=True))
        for r in found:
            ref = Reference(r["optimum"], "optimum", "exhaustive enumeration of the canonical design space")
            fixed = r["budget"] <= 1 or "optimum" in r["policy"]
            name = names.get(r["policy"], r["policy"])
            policy = name if fixed else f"{name} ({r['budget']} evals)"
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
# (group, presets, quick presets, policies, options per policy: "all" and per kind, full / quick). Budgets are
# gradient steps (``max_steps``), not seconds, so a table does not depend on the machine's load; the learning
# rate decays along a cosine to 1% of its start over the run (with a constant rate the dev cost stalls at the
# gradient-noise floor, ~0.8% above the optimum on one_store_backlogged_L4_p9; cosine over 1,000 steps: 0.30%).
# Dev every 4 epochs (32 steps at the default 8,192 scenarios / batch 1,024): a dev pass costs ~4 train steps.
HDPO_COSINE = {"lr_schedule": "cosine", "dev_every": 4}


def _one_store_steps(preset: str) -> int:
    """Longer lead times need more steps (a 21-slot pipeline vs 2): 1,000 + 100·L."""
    return 1000 + 100 * int(preset.split("_L")[1].split("_")[0])


# The reference's training horizon (T = 50, warm-up 30) is kept for every lead time. With L = 20 only ~9 periods
# have a state past the pipeline fill and an order that arrives within the horizon, and L20 p19 / p39 end at
# +0.35% / +0.67% over the optimal policy; T = 60 with lr 1e-2 (3e-2 jumps to the order-nothing plateau within
# 32 steps at T = 60) was measured worse: +0.61% / +0.80% (3,000 steps, paired on the 4,096 evaluation episodes).
ONE_STORE = {**HDPO_COSINE, "max_steps": _one_store_steps}


# The GNN costs ~10-30x the MLP per scenario-period (small [batch, edges, 32] tensors: copies, cat, gathers and ELU
# dominate, not the matmuls): ~384 store-scenarios per warehouse step (~0.5 s on n3). lr 3e-3 (spec: 1e-3, with
# clipping at 1) because a CPU run affords hundreds of steps, not the paper's thousands of epochs; on
# one_warehouse_lost_n3, 256 steps at 3e-3 (cosine) reach a dev cost of 5.55.
HDPO_GNN_LR = 3e-3


def _gnn_batch(preset: str) -> int:
    """Scenarios per GNN step on a network of n stores (``..._n{n}...``): ~384 store-scenarios, at least 16."""
    return max(16, min(256, 384 // int(preset.split("_n")[1].split("_")[0])))


def _gnn_dev_every(preset: str) -> int:
    """Epochs between dev passes: about every 32 steps on 1,024 training scenarios."""
    return max(1, round(32 * _gnn_batch(preset) / 1024))


WAREHOUSE_GNN = {"lr": HDPO_GNN_LR, "batch": _gnn_batch, "dev_every": _gnn_dev_every}
# Transshipment: 4,096 training scenarios (dev every epoch = 32-108 steps), the warehouse GNN's steps and rate.
TRANSSHIPMENT_GNN = {"lr": HDPO_GNN_LR, "batch": _gnn_batch, "n_train": 4096, "dev_every": 1, "max_steps": 600}

# The serial GNN trains on 100-period scenarios whose first 50 periods are left out of the loss. A chain starts
# with empty upstream stock, so the store builds a backlog for ~13 periods; under an echelon base-stock policy the
# recovery lasts until period ~40. With the spec's 50 periods, all in the loss, the start-up dominates the
# gradient: from scratch the GNN settled at a dev cost of 30-37 (optimum 10.73; lr 3e-4 to 3e-3, bang-bang
# orders of 0 and ~90), and a GNN first fitted to the echelon optimum (dev 10.86) was pushed to 19.5 within 16
# steps at lr 1e-4. Scored on periods 50-100 instead, 1,000 steps of 64 scenarios (~1 s each) reach a dev cost
# of 10.87 at lr 3e-3 (11.05 at 1e-3 after 896 steps); the echelon optimum itself costs 10.85 on the dev set.
SERIAL_GNN = {"lr": HDPO_GNN_LR, "batch": 64, "train_horizon": 100, "train_warmup": 60, "loss_warmup": 50,
              "max_steps": 1000, "dev_every": 1}


# The warehouse MLP: 1,500 steps at the setting's lr 1e-2 on n3 and n10. On n50, 1e-2 never left the lost-sales
# plateau (dev 40-44 over 300 steps), 3e-3 reached 6.23 in 144 steps; 600 steps (1.2 s each), the GNN's budget.
def _warehouse_mlp_steps(preset: str) -> int:
    return 600 if preset.endswith("_n50") else 1500


def _warehouse_mlp_lr(preset: str) -> float | None:
    return 3e-3 if preset.endswith("_n50") else None


WAREHOUSE_MLP = {"max_steps": _warehouse_mlp_steps, "lr": _warehouse_mlp_lr}


HDPO_GROUPS = [
    ("HDPO, one store, backlogged (analytic optimum)",
     [f"one_store_backlogged_L{L}_p{p}" for L in (1, 4, 7, 10, 15, 20) for p in (4, 9, 19, 39)],
     ["one_store_backlogged_L4_p9", "one_store_backlogged_L20_p39"], ["mlp", "ppo"],
     ({"all": ONE_STORE}, {"all": {**ONE_STORE, "max_steps": 150}})),
    ("HDPO, one store, lost sales (Zipkin optimum)",
     [f"one_store_lost_L{L}_p{p}" for L in (1, 2, 3, 4) for p in (4, 9, 19, 39)],
     ["one_store_lost_L1_p9", "one_store_lost_L3_p9"], ["mlp", "ppo"],
     ({"all": ONE_STORE}, {"all": {**ONE_STORE, "max_steps": 150}})),
    ("HDPO, transshipment center (pooled lower bound)",
     ["transshipment_n3_L2_p4", "transshipment_n5_L2_p4", "transshipment_n10_L2_p4"],
     ["transshipment_n3_L2_p4"], ["mlp", "gnn"],
     ({"all": {**HDPO_COSINE, "max_steps": 2500}, "gnn": TRANSSHIPMENT_GNN},
      {"all": {**HDPO_COSINE, "max_steps": 60}, "gnn": {**TRANSSHIPMENT_GNN, "max_steps": 60}})),
    ("HDPO, serial chain (Clark–Scarf optimum)", ["serial_4"], ["serial_4"], ["mlp", "gnn"],
     ({"all": {**HDPO_COSINE, "max_steps": 1500}, "gnn": SERIAL_GNN},
      {"all": {**HDPO_COSINE, "max_steps": 40}, "gnn": {**SERIAL_GNN, "max_steps": 40}})),
    ("HDPO, one warehouse, lost sales, 1,024 training scenarios (no bound: best tuned heuristic)",
     ["one_warehouse_lost_n3", "one_warehouse_lost_n10", "one_warehouse_lost_n50"], ["one_warehouse_lost_n3"],
     ["mlp", "gnn"],
     ({"all": {**HDPO_COSINE, "n_train": 1024, "dev_every": 16}, "mlp": WAREHOUSE_MLP,
       "gnn": {**WAREHOUSE_GNN, "max_steps": 600}},
      {"all": {**HDPO_COSINE, "n_train": 1024, "max_steps": 40, "dev_every": 16}, "gnn": WAREHOUSE_GNN})),
]
HDPO_RUNS = os.path.join(os.path.dirname(__file__), "..", "runs", "reproduce", "hdpo")
# PPO beside HDPO ("ppo" in a group's policies): the shared core's defaults for a fixed number of env steps (a
# constant learning rate: anneal_lr is off by default); clipped Gaussian actions: with tanh squashing the mean
# saturates at "order nothing" (+676% vs +19% at 60 s)
INVENTORY_PPO_OPTIONS = {"eval_episodes": 0, "box_squash": "clip"}
INVENTORY_PPO_STEPS = (1_000_000, 200_000)  # full / --quick


TRAINED_ONLY = False  # --trained-only: report finished runs only (set by main)


def _finished(out: str, key: str, target: int) -> bool:
    """Whether the checkpoint in ``out`` has done its ``target`` steps (``key``: the progress counter)."""
    from opsrl.algos.checkpoint import load_train_state

    state = load_train_state(out)
    step = None if state is None else (state["progress"] if key == "step" else state).get(key)
    return step is not None and int(step) >= target


def _hdpo_options(options: dict, kind: str, preset: str) -> dict:
    """A group's options for one policy kind on one preset (callable values are functions of the preset)."""
    opts = {**options.get("all", {}), **options.get(kind, {})}
    return {k: (v(preset) if callable(v) else v) for k, v in opts.items()}


def inventory_hdpo_rows(quick: bool, seed: int) -> list[dict]:
    """HDPO (vanilla MLP and GNN) per instance of issue 3, trained for a per-instance number of gradient steps
    and evaluated with ``opsrl.eval.evaluate`` on the same scenarios and protocol as ``inventory_rows``; the gap
    is to the exact optimum or bound, else to the best tuned heuristic (rows included, with 95% CIs). Where the
    optimal policy can be simulated (backlogged one store: the analytic base stock), HDPO's excess cost over it
    on the same scenarios is reported too, with a paired 95% CI: the gap to the analytic value carries the
    evaluation's sampling error (~±0.3% here), the paired difference does not. Per group: the largest gap and
    the median training time to a 1% dev gap (wall clock, on whatever load the machine had). Checkpoints go
    to ``runs/reproduce/hdpo/`` (an interrupted reproduction resumes them; a finished one is only
    re-evaluated). ``--quick``: 1–2 instances per group and tiny step budgets."""
    import statistics

    from opsrl.algos.hdpo import train as hdpo_train
    from opsrl.algos.ppo import train as ppo_train
    from opsrl.envs.inventory.references import exact_references
    from opsrl.eval.stats import mean_ci95

    protocol = {"horizon": 300, "warmup": 60}
    rows = []
    for group, presets, quick_presets, policies, options in HDPO_GROUPS:
        options = options[1] if quick else options[0]
        gaps, excess, to_1pct, n_runs, missing = [], [], [], 0, []
        for preset in quick_presets if quick else presets:
            problem = make_problem(INVENTORY, preset, **protocol)
            episodes = 256 if quick else max(64, 4096 // problem.network.n_stores)
            exact = exact_references(problem)
            ref = exact[0] if exact else None
            results, optimal = [], None
            if ref is None:  # no optimum or bound: the tuned heuristics are the yardstick
                for name in ("base_stock", "capped_base_stock", "echelon_stock"):
                    start = time.perf_counter()
                    res = evaluate(name, INVENTORY, preset, episodes=episodes, seed=seed, overrides=protocol,
                                   batch_size=4096, reference=None)
                    results.append((res.policy, res, time.perf_counter() - start))
                best = min(results, key=lambda r: r[1].mean_cost)[1]
                ref = Reference(best.mean_cost, "policy", f"best tuned heuristic: {best.policy}", best.ci95)
            elif "analytic base stock" in ref.source:  # the optimal policy itself, on the same scenarios
                start = time.perf_counter()
                optimal = evaluate("base_stock", INVENTORY, preset, episodes=episodes, seed=seed,
                                   overrides=protocol, batch_size=4096, reference=ref)
                results.append(("base_stock (the optimal policy, simulated)", optimal, time.perf_counter() - start))
            for kind in policies:
                suffix = "_quick" if quick else ""
                if kind == "ppo":  # the model-free comparison of the paper: the shared PPO core
                    steps = INVENTORY_PPO_STEPS[quick]
                    out = os.path.join(HDPO_RUNS, f"{preset}_ppo_s{seed}_{steps}{suffix}")
                    if TRAINED_ONLY and not _finished(out, "global_step", steps):
                        missing.append(f"{preset} ppo")
                        continue
                    info = ppo_train(INVENTORY, preset, {}, seed, 24 * 3600.0, out, total_timesteps=steps,
                                     **INVENTORY_PPO_OPTIONS)
                    res = evaluate(out, INVENTORY, preset, episodes=episodes, seed=seed, overrides=protocol,
                                   batch_size=4096, reference=ref)
                    results.append((f"ppo ({info['global_step']:,} env steps)", res, info["seconds"]))
                    continue
                # n_test=0: the test number is the evaluate() below, on the same scenarios as the heuristics
                opts = {"policy": kind, "progress": False, "n_test": 0, **_hdpo_options(options, kind, preset)}
                out = os.path.join(HDPO_RUNS, f"{preset}_{kind}_s{seed}_{opts['max_steps']}steps{suffix}")
                if TRAINED_ONLY and not _finished(out, "step", opts["max_steps"]):
                    missing.append(f"{preset} hdpo-{kind}")
                    continue
                info = hdpo_train(INVENTORY, preset, {}, seed=seed, budget_seconds=24 * 3600.0, out=out, **opts)
                res = evaluate(out, INVENTORY, preset, episodes=episodes, seed=seed, overrides=protocol,
                               batch_size=4096, reference=ref)
                t1 = info["seconds_to_1pct_dev_gap"]
                label = (f"hdpo-{kind} ({info['steps']} steps, lr {info['lr']:g} cosine; 1% dev gap: "
                         f"{'not reached' if t1 is None else f'{t1:.0f} s'})")
                results.append((label, res, info["seconds"]))
                n_runs += 1
                if t1 is not None:
                    to_1pct.append(t1)
                if res.gap_pct is not None and ref.kind != "policy":
                    gaps.append(res.gap_pct)
                if optimal is not None:
                    diff = (res.costs - optimal.costs) / optimal.mean_cost * 100.0
                    mean, half = mean_ci95(diff)
                    excess.append(mean)
                    results.append((f"hdpo-{kind}: excess over the optimal policy on the same scenarios, %",
                                    dataclasses.replace(res, mean_cost=float(mean), ci95=half), 0.0))
            for label, res, seconds in results:
                row = _row("inventory_hdpo", group, preset, label, res.mean_cost, res.ci95, ref, res.episodes,
                           seed, protocol, seconds)
                if label.startswith("hdpo") and "excess" in label:  # a percentage, not a cost
                    row.update(reference="", reference_kind="", reference_source="", gap_pct=f"{res.mean_cost:.2f}",
                               mean_cost="", ci95=f"{res.ci95:.2f}")
                rows.append(row)
            print(f"{preset}: " + ", ".join(f"{label.split(' (')[0]} {r.mean_cost:.3f}" for label, r, _ in results)
                  + f" | ref {ref.value:.3f} ({ref.kind})", flush=True)
        for values, what in ((gaps, "gap to the optimum or bound"),
                             (excess, "excess over the optimal policy (same scenarios)")):
            if values:
                row = _row("inventory_hdpo", group, f"max {what} over {len(values)} runs", "hdpo",
                           float("nan"), 0.0, None, 0, seed, protocol, 0.0)
                row.update(mean_cost="", ci95="", gap_pct=f"{max(values):.2f}")
                rows.append(row)
        if missing:
            row = _row("inventory_hdpo", group, f"{len(missing)} runs not trained yet (--trained-only)",
                       "; ".join(missing), float("nan"), 0.0, None, 0, seed, protocol, 0.0)
            row.update(mean_cost="", ci95="")
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
# Shared settings of every run (PPO and PDPPO, MLP and GNN). 202 steps per env and rollout = two 100-period
# episodes + their autoreset steps, so no episode is cut (PDPPO bootstraps the post-decision stream with 0 at a
# cut). gamma 0.9 (the paper's) and lr 1e-3 with 8 envs x 10 epochs: measured on pdppo_15x5 (PPO, seed 0, 200k
# steps), the shared defaults (gamma 0.99, lr 3e-4, 16 envs) left the policy near uniform (training return
# -9,400, greedy cost 5,300); lr 1e-3 gave 4,440, + 8 envs 3,446, + gamma 0.95 3,208 (16 envs), gamma 0.9 learns
# fastest (training return -5,600 after 54k steps vs -10,800 with gamma 0.99).
LOT_SIZING_RL_OPTIONS = {"num_envs": 8, "num_steps": 202, "update_epochs": 10, "learning_rate": 1e-3, "gamma": 0.9,
                         "eval_episodes": 0}
# Both agents carry the inertia prior of opsrl.policies.lot_sizing_gnn (logit bonus c + log(n) for repeating the
# last choice, c learned from 2): without it the near-uniform initial policy switches every machine every period
# (~30,000 per episode on 25x15), the MLPs ended worse than always idle on 25x15 and the PPO-GNN collapsed to
# idle (the table below has the runs with the prior).
# The GNN costs 2-4x the MLP per env step here (one message-passing round of width 16, 4 epochs).
LOT_SIZING_RL_POLICIES = {
    "mlp": {"policy": "opsrl.policies.lot_sizing_gnn:make_mlp_agent"},
    "gnn": {"obs_mode": "graph", "policy": "opsrl.policies.lot_sizing_gnn:make_agent", "hidden": (16,),
            "update_epochs": 4},
}
# preset -> (evaluation scenarios, {policy: env steps per run}); seeds per (algorithm, policy) below. The GNNs
# trained on pdppo_15x5 are also evaluated on the presets in LOT_SIZING_RL_TRANSFER (no retraining).
LOT_SIZING_RL_SEEDS = 5
# 25x15: at 50k MLP / 3.2k GNN steps every greedy policy was still "keep the initial setups" (8,799 on every
# seed); 150k MLP steps (~5 min per run) and the 15x5 GNN budget (~2 min per run) give them room to move.
LOT_SIZING_RL_PLAN = {  # full (~90 min on one core of a loaded 2-core machine) / --quick
    "pdppo_15x5": ((8, {"mlp": 100_000, "gnn": 25_600}), (8, {"mlp": 30_400, "gnn": 1_600})),
    "pdppo_25x15": ((8, {"mlp": 150_000, "gnn": 25_600}), (8, {"mlp": 20_800, "gnn": 1_600})),
}
LOT_SIZING_RL_TRANSFER = {"pdppo_15x5": ["pdppo_25x15"]}
# published (spec lot_sizing.md §6.2, the PDPPO paper's logs, 15x5, run 1): max over training of the 40-episode
# mean training return; their instance is unseeded, so only its always-idle cost (5,655) can be compared
LOT_SIZING_PAPER_15X5 = {"pdppo": -2687.77, "ppo": -2991.11, "idle": -5655.0}
LOT_SIZING_RL_RUNS = os.path.join(os.path.dirname(__file__), "..", "runs", "reproduce", "lot_sizing_rl")


def _cached(key: list, compute: Callable[[], tuple[float, float, int]]) -> tuple[float, float, int, float]:
    """(value, 95% CI half-width, count, seconds) of a reference, cached in ``runs/reproduce/lot_sizing_rl/
    references.json`` under everything that determines it (the rolling-horizon MIP solves one MIP per scenario and
    period, the wait-and-see bound one T-period MIP per scenario: minutes per instance, worth computing once)."""
    path = os.path.join(LOT_SIZING_RL_RUNS, "references.json")
    k = json.dumps(key)
    cache = json.load(open(path)) if os.path.exists(path) else {}
    if k not in cache:
        start = time.perf_counter()
        value, ci, n = compute()
        cache = json.load(open(path)) if os.path.exists(path) else {}  # another process may have added entries
        cache[k] = [value, ci, n, time.perf_counter() - start]
        os.makedirs(LOT_SIZING_RL_RUNS, exist_ok=True)
        with open(path, "w") as fh:
            json.dump(cache, fh, indent=1)
    entry = cache[k]
    return tuple(entry) if len(entry) == 4 else (entry[0], entry[1], 0, entry[2])  # entries without a count


def _cost_overrides(overrides: dict) -> list:
    """The overrides that change costs, as a cache key: ``obs_normalize`` only changes what policies see."""
    return sorted((k, v) for k, v in overrides.items() if k != "obs_normalize")


def _cached_evaluate(name: str, preset: str, episodes: int, seed: int, overrides: dict) -> tuple:
    def compute():
        res = evaluate(name, LOT_SIZING, preset, episodes=episodes, seed=seed, overrides=overrides, batch_size=4096,
                       reference=None)
        return res.mean_cost, res.ci95, episodes

    return _cached([name, preset, episodes, seed, _cost_overrides(overrides)], compute)


def _cached_pi_bound(preset: str, episodes: int, seed: int, overrides: dict, max_scenarios: int) -> tuple:
    """The Lagrangian perfect-information bound (``references.wait_and_see_reference(method="lagrangian")``)."""
    from opsrl.envs.lot_sizing.references import PI_EXACT_MACHINES, PI_ITERATIONS, wait_and_see_reference
    from opsrl.envs.lot_sizing.solver import LAMBDA_STARTS, POLYAK_REACH

    def compute():
        pi = wait_and_see_reference(make_problem(LOT_SIZING, preset, **overrides), episodes, seed, 4096,
                                    time_limit=None, max_scenarios=max_scenarios, method="lagrangian")
        return (float("nan"), 0.0, 0) if pi is None else (pi.value, pi.ci95, pi.extra["scenarios"])

    # "pooled": the DP version (machines beyond the tracked ones pooled, not freed)
    return _cached(["pi_lagrangian_pooled", preset, episodes, seed, max_scenarios, PI_ITERATIONS, PI_EXACT_MACHINES,
                    LAMBDA_STARTS, POLYAK_REACH, _cost_overrides(overrides)], compute)


def _sampled_evaluate(checkpoint: str, preset: str, episodes: int, seed: int, overrides: dict):
    """The trained stochastic policy itself (actions sampled, torch seeded: reproducible) on the evaluation
    scenarios; the greedy policy (the mode of each machine's categorical) is evaluated beside it."""
    import torch

    from opsrl.eval.evaluate import checkpoint_obs_mode
    from opsrl.policies.base import make_policy

    obs_mode = checkpoint_obs_mode(checkpoint)
    policy = make_policy(checkpoint, LOT_SIZING, make_problem(LOT_SIZING, preset, obs_mode=obs_mode, **overrides))
    policy.deterministic = False
    torch.manual_seed(seed)
    return evaluate(policy, LOT_SIZING, preset, episodes=episodes, seed=seed, overrides=overrides, batch_size=4096,
                    reference=None, obs_mode=obs_mode)


def _best_training_return(checkpoint: str) -> float:
    """Max over training of the logged mean return of the last 20 training episodes (sampled actions): the
    statistic of the PDPPO paper's logs (theirs averages 40 episodes)."""
    with open(os.path.join(checkpoint, "progress.csv")) as fh:
        values = [float(r["episode_return"]) for r in csv.DictReader(fh) if r["episode_return"]]
    return max(values) if values else float("nan")


def _seed_stats(prefix: str, costs: list[float], seed: int, episodes: int) -> list[tuple]:
    """Mean and IQM over seeds with percentile-bootstrap 95% intervals, as result tuples."""
    import numpy as np

    from opsrl.eval.stats import bootstrap_ci, iqm

    x, out = np.array(costs), []
    for label, stat in (("mean", np.mean), ("IQM", iqm)):
        lo, hi = bootstrap_ci(x, statistic=stat, seed=seed)
        out.append((f"{prefix}: {label} over {len(x)} seeds (bootstrap 95% CI [{lo:.1f}, {hi:.1f}])",
                    float(stat(x)), (hi - lo) / 2, episodes, 0.0))
    return out


def lot_sizing_rl_rows(quick: bool, seed: int) -> list[dict]:
    """PPO and PDPPO (paper's max rule) with the MLP and the bipartite GNN on pdppo_15x5 and pdppo_25x15, the same
    env-step budget and seeds for both algorithms; every learned policy (greedy) evaluated on the same scenarios as
    the heuristics and the rolling-horizon expected-value MIP; per (algorithm, policy) the mean and the
    interquartile mean over seeds with percentile-bootstrap 95% intervals (the ± column is half the interval's
    width; the interval itself is in the label); the GNNs trained on 15x5 evaluated on 25x15 without retraining;
    the paper's training-curve statistic (best 20-episode mean training return) beside the paper's published
    one; always idle (exact) and the perfect-information MIP bound. Reference: the best non-learning policy.
    Checkpoints go to ``runs/reproduce/lot_sizing_rl/`` (an interrupted reproduction resumes them; the MIP
    references are cached there). ``--quick``: tiny budgets, a smoke test of the pipeline."""
    from opsrl.algos.pdppo import train as pdppo_train
    from opsrl.algos.ppo import train as ppo_train
    from opsrl.envs.lot_sizing.references import PI_EXACT_MACHINES, idle_reference

    ov = LOT_SIZING_RL_OVERRIDES
    rows, transfer = [], {}  # transfer: target preset -> result tuples of the GNNs trained elsewhere
    for preset, plans in LOT_SIZING_RL_PLAN.items():
        episodes, budgets = plans[1] if quick else plans[0]
        problem = make_problem(LOT_SIZING, preset, **ov)
        protocol = {"horizon": problem.horizon, "warmup": 0}
        group = (f"{preset} ({problem.n_items} items x {problem.n_machines} machines, T = {problem.horizon}): "
                 f"PPO vs PDPPO, {LOT_SIZING_RL_SEEDS} seeds each, env steps per run "
                 + ", ".join(f"{k.upper()} {v:,}" for k, v in budgets.items()) + f", {episodes} evaluation scenarios")
        results = []
        idle = idle_reference(problem)
        for kind, steps in budgets.items():
            for algo, train in (("ppo", ppo_train), ("pdppo", pdppo_train)):
                opts = {**LOT_SIZING_RL_OPTIONS, **LOT_SIZING_RL_POLICIES[kind]}
                costs, sampled, curve, moved = [], [], [], {}
                for s in range(seed, seed + LOT_SIZING_RL_SEEDS):
                    tag = "_".join(f"{k}{v}" for k, v in sorted(opts.items())
                                   if k not in ("eval_episodes", "policy")).replace(" ", "").replace(",", "-")
                    if "policy" in opts:  # the agent factory (e.g. with the inertia prior) is part of the settings
                        tag += "_" + opts["policy"].rsplit(":", 1)[-1]
                    out = os.path.join(LOT_SIZING_RL_RUNS, f"{preset}_{algo}_{kind}_s{s}_{steps}_{tag}")
                    info = train(LOT_SIZING, preset, ov, seed=s, budget_seconds=24 * 3600.0, out=out,
                                 total_timesteps=steps, **opts)
                    res = evaluate(out, LOT_SIZING, preset, episodes=episodes, seed=seed, overrides=ov,
                                   batch_size=4096, reference=None)
                    smp = _sampled_evaluate(out, preset, episodes, seed, ov)
                    costs.append(res.mean_cost)
                    sampled.append(smp.mean_cost)
                    curve.append(-_best_training_return(out))
                    run = f"seed {s} ({info['global_step']:,} steps, {info['seconds']:.0f} s)"
                    results.append((f"{algo}-{kind} greedy {run}", res.mean_cost, res.ci95, episodes, info["seconds"]))
                    results.append((f"{algo}-{kind} sampled {run}", smp.mean_cost, smp.ci95, episodes, 0.0))
                    print(f"{preset} {algo}-{kind} seed {s}: greedy {res.mean_cost:.1f} ± {res.ci95:.1f}, sampled "
                          f"{smp.mean_cost:.1f} ± {smp.ci95:.1f} (best training-curve cost {curve[-1]:.1f}; "
                          f"{info['global_step']:,} steps, {info['seconds']:.0f} s)", flush=True)
                    if kind == "gnn":
                        for target in LOT_SIZING_RL_TRANSFER.get(preset, []):
                            t_eps = (LOT_SIZING_RL_PLAN[target][1] if quick else LOT_SIZING_RL_PLAN[target][0])[0]
                            start = time.perf_counter()
                            tr = evaluate(out, LOT_SIZING, target, episodes=t_eps, seed=seed, overrides=ov,
                                          batch_size=4096, reference=None)
                            trs = _sampled_evaluate(out, target, t_eps, seed, ov)
                            moved.setdefault(target, {}).setdefault("greedy", []).append(tr.mean_cost)
                            moved[target].setdefault("sampled", []).append(trs.mean_cost)
                            label = f"{algo}-gnn trained on {preset} ({steps:,} steps), no retraining"
                            took = time.perf_counter() - start
                            transfer.setdefault(target, []).extend([
                                (f"{label}, greedy: seed {s}", tr.mean_cost, tr.ci95, t_eps, took),
                                (f"{label}, sampled: seed {s}", trs.mean_cost, trs.ci95, t_eps, 0.0)])
                            print(f"{target} {label} seed {s}: greedy {tr.mean_cost:.1f} ± {tr.ci95:.1f}, sampled "
                                  f"{trs.mean_cost:.1f} ± {trs.ci95:.1f}", flush=True)
                results += _seed_stats(f"{algo}-{kind} greedy", costs, seed, episodes)
                results += _seed_stats(f"{algo}-{kind} sampled", sampled, seed, episodes)
                for target, c in moved.items():
                    t_eps = transfer[target][-1][3]
                    for how in ("greedy", "sampled"):
                        transfer[target] += _seed_stats(f"{algo}-gnn trained on {preset}, no retraining, {how}",
                                                        c[how], seed, t_eps)
                best_curve = min(curve)
                paper = ""
                if preset == "pdppo_15x5":
                    p = LOT_SIZING_PAPER_15X5
                    paper = (f"; paper's best run {p[algo]:.0f} on its own 15x5 instance = "
                             f"{p[algo] / p['idle']:.3f} x its always-idle, ours {best_curve / idle.value:.3f} x ours")
                results.append((f"{algo}-{kind}: paper's statistic, best 20-episode mean training cost (sampled "
                                f"actions), mean over seeds [best seed {best_curve:.1f}{paper}]", float(sum(curve) /
                                len(curve)), 0.0, 0, 0.0))
        results += transfer.pop(preset, [])
        # the non-learning policies after the training (their MIP evaluations may be cached meanwhile)
        for name in ("idle", "days_of_supply", "rolling_ev_mip"):
            mean, ci, _, seconds = _cached_evaluate(name, preset, episodes, seed, ov)
            results.insert(0, (name, mean, ci, episodes, seconds))
            print(f"{preset} {name}: {mean:.1f} ± {ci:.1f} ({seconds:.0f} s)", flush=True)
        best = min((r for r in results[:3] if r[0] != "idle"), key=lambda r: r[1])
        ref = Reference(best[1], "policy", f"best non-learning policy on the same scenarios: {best[0]}", best[2])
        rows.append(_row("lot_sizing_rl", group, preset, "always idle (exact expectation)", idle.value, 0.0, ref, 0,
                         seed, protocol, 0.0))
        value, ci, n, seconds = _cached_pi_bound(preset, episodes, seed, ov, max_scenarios=4 if quick else 8)
        pooled = int((problem.instance.production > 0).sum(0).max()) > PI_EXACT_MACHINES
        label = ("perfect-information bound (Lagrangian, exact DP per item"
                 + (", items' extra machines pooled)" if pooled else ")"))
        rows.append(_row("lot_sizing_rl", group, preset, label, value, ci, ref, n, seed, protocol, seconds))
        for name, mean, ci, n, seconds in results:
            rows.append(_row("lot_sizing_rl", group, preset, name, mean, ci, ref, n, seed, protocol, seconds))
    return rows


FAMILIES["lot_sizing_rl"] = lot_sizing_rl_rows


# -- ride sharing: OSPO and GRPO with the MLP and the GNN pair scorer (issue 7) ----------------------------------
# grid_small (60 vehicles, ~237 orders per 30-min episode): the largest preset on which 12 training runs (2 algorithms
# x 2 scorers x 3 seeds) fit the ~35-minute family budget on 2 shared cores; grid_medium (300 vehicles) costs ~8x
# per episode. Equal budgets: every run = RIDE_RL_ITERATIONS iterations x 4 episodes, whatever its wall time.
RIDE_RL_PRESET = "grid_small"
RIDE_RL_ITERATIONS = (30, 4)  # full / --quick
RIDE_RL_SEEDS = 3
RIDE_RL_EPISODES = (30, 6)  # evaluation scenarios (seed --seed), the same for every policy
RIDE_RL_BASELINES = ["greedy_nearest", "lsa_eta", "lsa_reward", "random"]
# fairness_coef=0: with 60 vehicles the fleet-dispersion term p_k (≈ −2 per epoch) swamps the z-scored one-step
# advantage (|z| ≈ 1) and pushed OSPO far below greedy (see envs/ride_sharing.md); eps0=0.05 and the learning
# rates replace the reference's 1000-episode schedule (eps0=1, lr 1e-5) by a 100-episode one.
RIDE_RL_OPTIONS = {"num_envs": 4, "eps0": 0.05, "fairness_coef": 0.0, "eval_every": 5, "eval_episodes": 4,
                   "eval_seed": 1000, "final_eval_episodes": 0, "checkpoint_every": 5}
RIDE_RL_SCORERS = {"mlp": {"scorer": "mlp", "learning_rate": 3e-3},
                   "gnn": {"scorer": "gnn", "learning_rate": 3e-4, "candidate_k": 16}}
RIDE_RL_RUNS = os.path.join(os.path.dirname(__file__), "..", "runs", "reproduce", "ride_sharing_rl")
RIDE_MARL = "opsrl.marl.ride_sharing_v0"
# MAPPO gets OSPO's training episodes (iterations × num_envs) as joint env steps (~5 min per run on this CPU)
RIDE_RL_MARL_SEEDS = 3
RIDE_RL_MAPPO_OPTIONS = {"num_envs": 4, "num_steps": 31, "eval_episodes": 0}
RIDE_RL_METRICS = [("served", "served orders per episode (higher is better)"),
                   ("mean_pickup_min", "mean pickup time, min (lower is better)"),
                   ("lost", "lost orders per episode (lower is better)")]


RIDE_RL_REWARD_SCORES = "one-step reward r_ij as the scores, softmax matching (what OSPO's advantage ranks by)"
# The default reward pays +1 per trip km and only -3 per hour of pickup, and its one-step optimum serves fewer
# orders than greedy (the diagnostic row above). A second reward variant prices pickup time 10x higher (beta[2] =
# 30 per hour); OSPO only (both scorers, same seeds and budget), with its own diagnostic row.
RIDE_RL_PICKUP30 = ("pickup weight 30/h", {"beta": (3.0, 1.0, 30.0, 1.0, 3.0, 5.0)})


def _reward_scores_policy(problem):
    """Diagnostic: scores = the OSPO one-step reward r_ij of every eligible × visible pair (the simulator's
    insertion kernel on the present state), through the env's row softmax and Σπ matching — a scorer that had
    learned OSPO's one-step objective perfectly, with OSPO's assignment."""
    import numpy as np

    from opsrl.envs.ride_sharing.env import SCORE_BOUND
    from opsrl.envs.ride_sharing.heuristics import env_state
    from opsrl.policies.base import Policy

    class RewardScores(Policy):
        name = "reward_scores"

        def act(self, obs, info):
            P, state = env_state(self.env)
            s = np.zeros((state.t.shape[0], P.V, P.O), np.float32)
            for b in range(s.shape[0]):
                rows, m = np.flatnonzero(state.elig[b]), int((state.vis[b] >= 0).sum())
                if rows.size and m:
                    s[b, rows, :m] = np.clip(P.pair_features(state, b, rows)[:, :, 4], -SCORE_BOUND, SCORE_BOUND)
            return s

    return RewardScores(problem)


def _ride_metrics(policy, preset: str, episodes: int, seed: int, overrides: dict | None = None) -> dict:
    """Per-episode served / pickup / lost of a named policy, a checkpoint or a ``factory(problem)`` on the
    scenarios of ``opsrl eval --seed seed`` (one vector env of ``episodes`` envs: common random numbers)."""
    from opsrl.algos.ospo import dispatch_episodes
    from opsrl.policies.base import make_policy

    factory = policy if callable(policy) else (lambda problem: make_policy(policy, RIDE, problem))
    return dispatch_episodes(factory, RIDE, preset, overrides or {}, episodes, seed, batch_size=episodes,
                             keys=tuple(k for k, _ in RIDE_RL_METRICS))


def ride_sharing_rl_rows(quick: bool, seed: int) -> list[dict]:
    """OSPO and GRPO, each with the paper's MLP scorer and the GNN scorer, ``RIDE_RL_SEEDS`` training seeds
    each and the same number of iterations (episodes), against greedy_nearest / lsa_eta / lsa_reward / random on
    the same evaluation scenarios, and a diagnostic row: the one-step reward itself as the scores through OSPO's
    softmax matching (where OSPO's objective leads a perfect scorer); then OSPO with both scorers again under
    a reward that prices pickup time 10x higher (``RIDE_RL_PICKUP30``), with its diagnostic row. Reported
    checkpoint: ``best/`` (selected on the training loop's own evaluation scenarios, seed 1000, never the
    reporting ones). Per run: mean ± 95% CI over evaluation episodes; per algorithm and scorer: mean over seeds
    ± 95% t-interval over the seed means. Reference: lsa_eta (batched OR-tools assignment). Checkpoints in
    ``runs/reproduce/ride_sharing_rl/`` (reused when present: delete them to retrain)."""
    import numpy as np
    from scipy import stats as sps

    from opsrl.algos.mappo import train as mappo_train
    from opsrl.algos.ospo import train, train_grpo
    from opsrl.eval.stats import mean_ci95

    preset = RIDE_RL_PRESET
    iterations = RIDE_RL_ITERATIONS[1] if quick else RIDE_RL_ITERATIONS[0]
    episodes = RIDE_RL_EPISODES[1] if quick else RIDE_RL_EPISODES[0]
    n_seeds = RIDE_RL_SEEDS
    protocol = {"horizon": make_problem(RIDE, preset).params.epochs, "warmup": 0}
    results: list[tuple[str, dict, float]] = []  # (label, per-episode metrics or seed stats, seconds)
    tag30, ov30 = RIDE_RL_PICKUP30
    for name in [*RIDE_RL_BASELINES, RIDE_RL_REWARD_SCORES, f"{RIDE_RL_REWARD_SCORES}, {tag30}"]:
        start = time.perf_counter()
        if name.startswith(RIDE_RL_REWARD_SCORES):
            m = _ride_metrics(_reward_scores_policy, preset, episodes, seed, ov30 if name.endswith(tag30) else None)
        else:
            m = _ride_metrics(name, preset, episodes, seed)
        results.append((name, m, time.perf_counter() - start))
        print(f"{preset} {name}: served {m['served'].mean():.1f}, pickup {m['mean_pickup_min'].mean():.2f}, "
              f"lost {m['lost'].mean():.1f}", flush=True)
    seed_stats: list[tuple[str, dict]] = []
    plan = [(algo, fn, scorer, sopts, "", {}) for algo, fn in (("ospo", train), ("grpo", train_grpo))
            for scorer, sopts in RIDE_RL_SCORERS.items()]
    plan += [("ospo", train, scorer, sopts, tag30, ov30) for scorer, sopts in RIDE_RL_SCORERS.items()]
    for algo, fn, scorer, sopts, tag, ov in plan:
        name = f"{algo} + {scorer} scorer" + (f", {tag}" if tag else "")
        means: dict[str, list[float]] = {k: [] for k, _ in RIDE_RL_METRICS}
        for s in range(n_seeds):
            suffix = "_beta2_30" if ov else ""
            out = os.path.join(RIDE_RL_RUNS, f"{preset}_{algo}_{scorer}_s{s}_it{iterations}{suffix}")
            start = time.perf_counter()
            info = fn(RIDE, preset, ov, seed=s, budget_seconds=24 * 3600.0, out=out, iterations=iterations,
                      **RIDE_RL_OPTIONS, **sopts)
            best = os.path.join(out, "best")
            m = _ride_metrics(best if os.path.isdir(best) else out, preset, episodes, seed, ov)
            label = f"{name}, seed {s} ({info['episodes']} training episodes)"
            results.append((label, m, info["seconds"]))
            for k in means:
                means[k].append(float(m[k].mean()))
            print(f"{label}: served {m['served'].mean():.1f}, pickup {m['mean_pickup_min'].mean():.2f}, "
                  f"lost {m['lost'].mean():.1f} ({info['seconds']:.0f} s training, "
                  f"{time.perf_counter() - start:.0f} s total)", flush=True)
        seed_stats.append((f"{name}: mean over {n_seeds} seeds (95% CI over seeds)", means))
    name = "mappo (shared MLP actor, centralised critic)"
    means = {k: [] for k, _ in RIDE_RL_METRICS}
    for s in range(RIDE_RL_MARL_SEEDS):  # MAPPO, the MARL baseline: vehicles' own rewards, same training episodes
        steps = iterations * RIDE_RL_OPTIONS["num_envs"] * make_problem(RIDE, preset).params.epochs
        out = os.path.join(RIDE_RL_RUNS, f"{preset}_mappo_s{s}_steps{steps}")
        info = mappo_train(RIDE_MARL, preset, {}, seed=s, budget_seconds=24 * 3600.0, out=out,
                           total_timesteps=steps, **RIDE_RL_MAPPO_OPTIONS)
        m = _ride_metrics(out, preset, episodes, seed)
        label = f"{name}, seed {s} ({info['env_steps']:,} joint steps)"
        results.append((label, m, info["seconds"]))
        for k in means:
            means[k].append(float(m[k].mean()))
        print(f"{label}: served {m['served'].mean():.1f}, pickup {m['mean_pickup_min'].mean():.2f}", flush=True)
    seed_stats.append((f"{name}: mean over {RIDE_RL_MARL_SEEDS} seeds (95% CI over seeds)", means))
    rows = []
    base = {label: m for label, m, _ in results}
    for key, text in RIDE_RL_METRICS:
        group = f"{preset}: OSPO/GRPO vs assignment baselines, {text}"
        ref_m, ref_ci = mean_ci95(base["lsa_eta"][key])
        ref = Reference(ref_m, "policy", "lsa_eta (batched OR-tools assignment) on the same scenarios", ref_ci)
        for label, m, seconds in results:
            mean, ci = mean_ci95(m[key])
            rows.append(_row("ride_sharing_rl", group, preset, label, mean, ci, ref, episodes, seed, protocol,
                             seconds))
        for label, means in seed_stats:
            x = np.asarray(means[key])
            ci = float(sps.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0
            rows.append(_row("ride_sharing_rl", group, preset, label, float(x.mean()), ci, ref, episodes, seed,
                             protocol, 0.0))
    return rows


FAMILIES["ride_sharing_rl"] = ride_sharing_rl_rows


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


SUMMARY_PRESETS = ("mean of", "max over")
"""Rows whose preset starts so summarise a group (means over instances, worst gaps)."""
MAX_OPEN_ROWS = 40


def _table(rows: list[dict]) -> list[str]:
    return ["| preset | policy | mean cost | ± 95% CI | reference | kind | gap % |",
            "|---|---|---:|---:|---:|---|---:|"] + [
        f"| {r['preset']} | {r['policy']} | {r['mean_cost']} | {r['ci95']} | {r['reference']} | "
        f"{r['reference_kind']} | {r['gap_pct']} |" for r in rows]


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
            group_rows = [r for r in rows if r["group"] == group]
            summary = [r for r in group_rows if r["preset"].startswith(SUMMARY_PRESETS)]
            detail = [r for r in group_rows if not r["preset"].startswith(SUMMARY_PRESETS)]
            lines += ["", f"### {group}", ""]
            if summary and len(detail) > MAX_OPEN_ROWS:  # long per-instance tables: the summary first, details folded
                lines += _table(summary) + ["", f"<details><summary>per instance ({len(detail)} rows)</summary>", ""]
                lines += _table(detail) + ["", "</details>"]
            else:
                lines += _table(group_rows)
            first = group_rows[0]
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
    ap.add_argument("--trained-only", action="store_true",
                    help="inventory_hdpo: report the finished training runs and list the others as not trained "
                         "yet, without training them (a progress report of a reproduction that takes hours)")
    args = ap.parse_args()
    global TRAINED_ONLY
    TRAINED_ONLY = args.trained_only
    for family in [] if args.rebuild_only else args.family or list(FAMILIES):
        command = f"python scripts/reproduce.py --family {family}" + (" --quick" if args.quick else "") \
            + (f" --seed {args.seed}" if args.seed else "") + (" --trained-only" if args.trained_only else "")
        print(f"wrote {write_csv(family, FAMILIES[family](args.quick, args.seed), command)}")
    write_results_md("python scripts/reproduce.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
