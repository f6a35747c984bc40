"""SB3's MaskablePPO trains on the flat observation out of the box; the CLI reports the family."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from jobshop_helpers import ENV_ID, check_schedule

from opsrl.cli import main


def test_maskable_ppo_runs_on_the_flat_observation():
    sb3c = pytest.importorskip("sb3_contrib")
    env = gym.make(ENV_ID, preset="random_6x6")
    model = sb3c.MaskablePPO("MlpPolicy", env, n_steps=128, batch_size=64, n_epochs=1, seed=0, verbose=0,
                             policy_kwargs={"net_arch": [32]})
    model.learn(total_timesteps=256)
    obs, info = env.reset(seed=1)
    done = False
    while not done:
        action, _ = model.predict(obs, action_masks=env.unwrapped.action_masks(), deterministic=True)
        obs, _, done, _, info = env.step(int(action))
        assert not info["invalid_action"]
    sched = env.unwrapped.problem.schedule(env.unwrapped.state)
    assert check_schedule(sched) == info["makespan"]


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1])


def test_cli_list_describe_eval_solve(capsys):
    code, d = run_json(capsys, "list")
    assert code == 0 and {"mwkr", "mwkr_nd", "cpsat"} <= set(d["envs"][ENV_ID]["policies"])
    code, d = run_json(capsys, "describe", ENV_ID, "--preset", "ta01")
    assert code == 0 and d["instance"]["bounds"]["ub"] == 1231
    code, d = run_json(capsys, "eval", "--env", ENV_ID, "--preset", "ta01", "--policy", "mor", "--episodes", "1")
    assert code == 0 and d["mean_cost"] == 1490 and d["reference"]["value"] == 1231
    code, d = run_json(capsys, "solve", "--env", ENV_ID, "--preset", "taillard_check_4x4", "--time-limit", "10")
    assert code == 0
    assert np.isclose([r["value"] for r in d["references"]], 272).all()
