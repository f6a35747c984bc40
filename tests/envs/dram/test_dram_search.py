"""Exhaustive optimum (against an independent brute force), the canonical space, random search and GA,
the on-disk cache, and ``opsrl solve`` / ``opsrl eval`` with --json."""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest

from opsrl.cli import main
from opsrl.envs.dram import N_CONFIGS, NVEC, Evaluator, canonical_space, canonicalize, make_trace, simulate
from opsrl.envs.dram.devices import DDR3_1600, DDR4_2400
from opsrl.envs.dram.search import exhaustive_optimum, genetic_algorithm, objective_values, random_search, sweep
from opsrl.envs.dram.simulator import config_ids

ENV_ID = "opsrl/DramController-v0"


def test_design_space_sizes():
    assert N_CONFIGS == 442_368
    full, ro = canonical_space(False), canonical_space(True)
    assert full.shape == (166_464, 10) and ro.shape == (73_984, 10)
    assert len(np.unique(config_ids(full))) == full.shape[0]
    assert np.array_equal(canonicalize(full), full) and np.array_equal(canonicalize(ro, read_only=True), ro)
    rng = np.random.default_rng(0)
    draws = np.stack([rng.integers(0, n, 5000) for n in NVEC], 1)
    assert np.isin(config_ids(canonicalize(draws)), config_ids(full)).all()
    assert np.isin(config_ids(canonicalize(draws, read_only=True)), config_ids(ro)).all()


def reduced_space():
    """Page policy × scheduler × RBS × arbiter × MAT (96 configurations), other knobs at reference."""
    rows = []
    for pg, sc, rb, ar, mt in itertools.product(range(4), (0, 2), (0, 3, 7), (0, 2), (0, 7)):
        rows.append([pg, sc, 0, rb, 0, 0, 0, 0, ar, mt])
    return np.array(rows)


@pytest.mark.parametrize("objective", ["latency", "power", "energy_delay", "both"])
def test_exhaustive_matches_brute_force(objective):
    trace = make_trace("cloud1", n_requests=400, seed=2)
    ev = Evaluator(trace, DDR3_1600)
    space = reduced_space()
    res = exhaustive_optimum(ev, objective, space=space)
    ref = simulate(trace, None)
    brute = [objective_values({k: np.array([v]) for k, v in simulate(trace, row).items()
                               if isinstance(v, float)}, objective, ref)[0] for row in space]
    assert res["value"] == pytest.approx(min(brute), rel=1e-12)
    assert res["n_configurations"] == 96


def test_full_exhaustive_on_a_small_trace_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSRL_DRAM_CACHE", str(tmp_path))
    ev = Evaluator(make_trace("stream", n_requests=120), DDR4_2400)
    res = exhaustive_optimum(ev, "latency")
    assert not res["cached"] and res["n_configurations"] == 73_984
    # stream on one DDR4 bank: the optimum attains the single-bank bound (1 row, no switch)
    t = DDR4_2400.timing
    assert res["value"] == pytest.approx((t["tRCD"] + 119 * t["tCCD_L"] + t["RL"] + 4) * 0.833, abs=1e-9)
    again = exhaustive_optimum(ev, "power")
    assert again["cached"]
    summaries = sorted(f for f in os.listdir(tmp_path) if f.endswith(".json"))
    assert len(summaries) == 2 and summaries[1].endswith("-power.json")
    with open(tmp_path / summaries[1]) as fh:
        assert json.load(fh)["value"] == again["value"]
    rs = random_search(lambda a: objective_values(ev.metrics(a), "power", {}), 200, seed=1)
    assert rs["value"] >= again["value"] - 1e-9
    sw = sweep(ev)
    assert sw.cached and np.isfinite(sw.metrics["total_time_ns"]).all()


def test_random_search_and_ga_budgets():
    ev = Evaluator(make_trace("random", n_requests=300), DDR3_1600)
    calls = []

    def f(a):
        calls.append(len(a))
        return objective_values(ev.metrics(a), "latency", {})

    rs = random_search(f, 150, seed=3)
    assert sum(calls) == 150 and rs["evaluations"] == 150
    assert np.all(np.diff(rs["best_so_far"]) <= 0) and rs["best_so_far"][-1] == rs["value"]
    calls.clear()
    ga = genetic_algorithm(f, budget=200, population=32, seed=3)
    assert sum(calls) == 200 and ga["evaluations"] == 200 and len(ga["best_so_far"]) == 200
    assert ga["value"] == pytest.approx(f(np.array([ga["config"]]))[0])
    assert genetic_algorithm(f, budget=200, seed=3)["config"] == ga["config"]
    with pytest.raises(ValueError, match="budget"):
        random_search(f, 0)


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    return code, json.loads(out[0])


def test_cli_solve_eval_describe_list(capsys):
    code, d = run_json(capsys, "list")
    assert code == 0 and "exhaustive_optimum" in d["envs"][ENV_ID]["policies"]
    code, s = run_json(capsys, "solve", "--env", ENV_ID, "--preset", "archgym_ddr3_cloud2", "--set", "n_requests=150")
    assert code == 0
    kinds = [r["kind"] for r in s["references"]]
    assert kinds[0] == "optimum" and "bound" in kinds and "policy" in kinds
    opt = s["references"][0]["value"]
    assert opt >= s["references"][1]["value"]  # the optimum respects the data-bus bound
    code, e = run_json(capsys, "eval", "--env", ENV_ID, "--preset", "archgym_ddr3_cloud2", "--policy",
                       "expert_config", "--episodes", "3", "--set", "n_requests=150")
    assert code == 0 and e["reference"]["kind"] == "optimum" and e["reference"]["value"] == opt
    assert e["gap_pct"] >= 0 and e["mean_cost"] >= opt
    code, g = run_json(capsys, "eval", "--env", ENV_ID, "--preset", "archgym_ddr3_cloud2", "--policy",
                       "exhaustive_optimum", "--episodes", "2", "--set", "n_requests=150")
    assert g["gap_pct"] == pytest.approx(0.0, abs=1e-9)
    code, d = run_json(capsys, "describe", ENV_ID, "--preset", "ddr4_2400_random", "--set", "n_requests=150")
    assert code == 0 and d["trace"]["requests"] == 150
    code, err = run_json(capsys, "eval", "--env", ENV_ID, "--policy", "expert_config", "--set", "memory=DDR5")
    assert code == 2 and "memory" in err["error"]


@pytest.mark.slow
@pytest.mark.parametrize("memory,expected", [("DDR3-1600", 50_025.0), ("DDR4-2400", 52_474.002)])
def test_exhaustive_stream_optimum_is_the_known_bound(memory, expected):
    """Spec §5.4: the exhaustive optimum makespan of the stream presets (full 10k trace, full design space)."""
    from opsrl.envs.dram.devices import get_device

    res = exhaustive_optimum(Evaluator(make_trace("stream"), get_device(memory)), "latency")
    assert res["value"] == pytest.approx(expected, abs=1e-6)
