"""The ``opsrl`` command: every subcommand prints one JSON object with --json; bad input is a clear
error (exit code 2), not a traceback."""

from __future__ import annotations

import json

import pytest

import opsrl
from opsrl.cli import main

ENV_ID = "opsrl/InventoryNetwork-v0"
REPRESENTATIVE = ["one_store_backlogged", "one_store_lost_sales", "serial_4", "one_warehouse_lost_n3",
                  "transshipment_n3_L2_p4", "many_warehouses_w2_s10", "independent_stores_lost_n3"]


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    return code, json.loads(out[0])


def test_list(capsys):
    code, d = run_json(capsys, "list")
    assert code == 0
    assert d["envs"][ENV_ID]["presets"] == opsrl.list_presets(ENV_ID)
    assert {"base_stock", "capped_base_stock", "echelon_stock", "jit_oracle"} <= set(d["envs"][ENV_ID]["policies"])
    assert "tune" in d["algorithms"]


def test_describe(capsys):
    code, d = run_json(capsys, "describe", ENV_ID, "--preset", "serial_4", "--set", "underage_cost=19")
    assert code == 0 and d["parameters"]["underage_cost"] == 19
    assert d["network"]["nodes"] == ["echelon0", "echelon1", "warehouse0", "store0"]


def check_eval_and_solve(capsys, preset):
    code, d = run_json(capsys, "eval", "--env", ENV_ID, "--preset", preset, "--policy", "base_stock",
                       "--episodes", "4", "--seed", "0")
    assert code == 0
    assert {"mean_cost", "ci95", "reference", "gap_pct"} <= set(d)
    assert d["reference"]["kind"] in ("optimum", "bound", "policy") and d["reference"]["source"]
    code, s = run_json(capsys, "solve", "--env", ENV_ID, "--preset", preset, "--episodes", "4")
    assert code == 0 and s["references"]
    assert s["references"][0]["value"] == pytest.approx(d["reference"]["value"], rel=1e-9)


@pytest.mark.parametrize("preset", REPRESENTATIVE)
def test_eval_and_solve_json(capsys, preset):
    check_eval_and_solve(capsys, preset)


@pytest.mark.slow
@pytest.mark.parametrize("preset", opsrl.list_presets(ENV_ID))
def test_eval_and_solve_json_every_preset(capsys, preset):
    check_eval_and_solve(capsys, preset)


def test_eval_with_overrides_changes_the_instance(capsys):
    _, base = run_json(capsys, "eval", "--env", ENV_ID, "--preset", "one_store_backlogged", "--policy",
                       "base_stock", "--episodes", "8")
    _, other = run_json(capsys, "eval", "--env", ENV_ID, "--preset", "one_store_backlogged", "--policy",
                        "base_stock", "--episodes", "8", "--set", "lead_time=3", "--set", "underage_cost=14")
    assert other["overrides"] == {"lead_time": 3, "underage_cost": 14}
    assert other["reference"]["value"] != base["reference"]["value"]


def test_train_tune_then_eval_the_checkpoint(capsys, tmp_path):
    out = tmp_path / "ckpt"
    code, d = run_json(capsys, "train", "tune", "--env", ENV_ID, "--preset", "one_store_lost_sales",
                       "--seed", "0", "--budget-seconds", "30", "--out", str(out))
    assert code == 0 and (out / "opsrl_policy.json").exists()
    code, e = run_json(capsys, "eval", "--env", ENV_ID, "--preset", "one_store_lost_sales", "--policy",
                       str(out), "--episodes", "256", "--set", "horizon=300")
    assert code == 0 and e["gap_pct"] < 5.0


def test_bench_json(capsys):
    code, d = run_json(capsys, "bench", "--env", ENV_ID, "--seconds", "0.05")
    assert code == 0 and all(r["env_steps_per_s"] > 0 for r in d["rows"])


@pytest.mark.parametrize("argv", [
    ["eval", "--env", ENV_ID, "--preset", "nope", "--policy", "base_stock"],
    ["eval", "--env", ENV_ID, "--policy", "no_such_policy"],
    ["eval", "--env", ENV_ID, "--policy", "base_stock", "--set", "holding_cost=-1"],
    ["solve", "--env", "opsrl/Nope-v0"],
    ["describe", ENV_ID, "--set", "lead_time"],
])
def test_bad_input_is_a_clear_error(capsys, argv):
    code, d = run_json(capsys, *argv)
    assert code == 2 and d["error"]


def test_demo_runs_and_writes_a_plot(capsys, tmp_path):
    plot = tmp_path / "demo.png"
    code, d = run_json(capsys, "demo", "--episodes", "32", "--budget-seconds", "20", "--plot", str(plot))
    assert code == 0 and plot.exists()
    assert d["reference"]["kind"] == "optimum"
    assert [p["name"] for p in d["policies"]][1:] == ["capped_base_stock", "base_stock"]


@pytest.mark.parametrize("argv", [[], ["list"], ["describe"], ["eval"], ["solve"], ["train"], ["bench"], ["demo"]])
def test_help_of_every_subcommand(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0 and "usage: opsrl" in capsys.readouterr().out
