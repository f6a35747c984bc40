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


FAMILIES: dict[str, Callable[[bool, int], list[dict]]] = {"inventory": inventory_rows}


def write_csv(family: str, rows: list[dict]) -> str:
    path = os.path.join(ROOT, "results", f"{family}.csv")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    return path


def write_results_md(command: str) -> None:
    lines = ["# Results", "",
             "Generated by `scripts/reproduce.py` from `baselines/results/*.csv`; do not edit by hand.",
             f"Last run: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} "
             f"(`{command}`).", "",
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
        lines.append(f"## {rows[0]['family']}")
        for group in dict.fromkeys(r["group"] for r in rows):
            lines += ["", f"### {group}", "",
                      "| preset | policy | mean cost | ± 95% CI | reference | kind | gap % |",
                      "|---|---|---:|---:|---:|---|---:|"]
            for r in (r for r in rows if r["group"] == group):
                lines.append(f"| {r['preset']} | {r['policy']} | {r['mean_cost']} | {r['ci95']} | "
                             f"{r['reference']} | {r['reference_kind']} | {r['gap_pct']} |")
            first = next(r for r in rows if r["group"] == group)
            lines.append(f"\nProtocol: {first['episodes']} episodes (first preset), horizon {first['horizon']}, "
                         f"warm-up {first['warmup']}, seed {first['seed']}. Reference: {first['reference_source']}.")
        lines.append("")
    with open(os.path.join(ROOT, "RESULTS.md"), "w") as fh:
        fh.write("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", action="append", choices=list(FAMILIES))
    ap.add_argument("--quick", action="store_true", help="two presets per group, few episodes")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for family in args.family or list(FAMILIES):
        print(f"wrote {write_csv(family, FAMILIES[family](args.quick, args.seed))}")
    write_results_md("python scripts/reproduce.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
