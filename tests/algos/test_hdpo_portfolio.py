"""HDPO on portfolios (fast, on a small synthetic market): the pathwise gradient through the twin is the
gradient of the objective, the twin with the network reproduces the env's backtest, training improves the
train objective, the policy acts on the simplex through ``opsrl eval``, resumption is exact, checkpoints
load with ``weights_only=True``, the test block is never read, options are validated."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
import torch

from opsrl.algos.hdpo import train
from opsrl.algos.hdpo_portfolio import PortfolioHDPO, PortfolioHDPOConfig
from opsrl.cli import main
from opsrl.eval import evaluate
from opsrl.eval.evaluate import make_vector_env
from opsrl.policies.base import make_policy
from opsrl.policies.portfolio import TorchPortfolioPolicy, load_policy
from opsrl.registration import make_problem

ENV_ID = "opsrl/Portfolio-v0"
PRESET = "synthetic_gbm_10"
SMALL = {"n_days": 700, "window": 10, "n_assets": 4}  # 700 days: test 56, validation 70, train the rest
TINY = dict(progress=False, n_train=64, batch=16, horizon=16, n_dev=32)


def adapter(**options) -> PortfolioHDPO:
    cfg = PortfolioHDPOConfig.from_options({**TINY, **options})
    return PortfolioHDPO(ENV_ID, PRESET, dict(SMALL), cfg)


def randomise(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Non-zero weights everywhere (the untrained network is exactly equal weight, which tests little)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


def read_log(out):
    with open(os.path.join(out, "log.csv"), newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("policy", ["eiie", "mlp"])
def test_pathwise_gradient_matches_finite_differences(policy):
    a = adapter(policy=policy, dtype="float64")
    module = randomise(a.build_module())
    idx = torch.arange(8)
    loss, _ = a.train_loss(module, idx)
    loss.backward()
    params = dict(module.named_parameters())
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params.values())
    name = "cash_logit" if policy == "eiie" else "body.0.weight"
    p = params[name]
    flat_index = 3 if p.dim() else 0
    eps = 1e-6
    with torch.no_grad():
        view = p.view(-1)
        view[flat_index] += eps
        up = float(a.train_loss(module, idx)[0])
        view[flat_index] -= 2 * eps
        down = float(a.train_loss(module, idx)[0])
        view[flat_index] += eps
    numeric = (up - down) / (2 * eps)
    analytic = float(p.grad.view(-1)[flat_index])
    assert abs(analytic) > 1e-6
    assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("cost_model", ["linear", "exact"])
def test_twin_with_the_network_reproduces_the_env_backtest(cost_model):
    """The adapter's dev cost of the window starting at the validation block's first date equals the env's
    own backtest of the same network (observations from the env, dynamics by the numba kernel)."""
    cfg = PortfolioHDPOConfig.from_options({**TINY, "dtype": "float64"})
    a = PortfolioHDPO(ENV_ID, PRESET, {**SMALL, "cost_model": cost_model, "cost_rate": 0.01}, cfg)
    module = randomise(a.build_module(), seed=1)
    twin = a.evaluate(module, a.dev_set)
    assert a.dev_set.d0[0] == a.val_problem.split.lo
    env = make_vector_env(
        ENV_ID,
        1,
        PRESET,
        **SMALL,
        cost_model=cost_model,
        cost_rate=0.01,
        split="validation",
        validation_portion=0.1,
        start="first",
        horizon=a.dev_set.horizon,
    )
    policy = TorchPortfolioPolicy(env.problem, module)
    obs, info = env.reset(seed=0)
    rewards, weights = [], []
    for _ in range(a.dev_set.horizon):
        obs, r, _, _, info = env.step(policy.act(obs, info))
        rewards.append(r)
        weights.append(info["weights"][0].copy())
    env_cost = env.problem.episode_cost(np.array(rewards))[0]
    assert env_cost == pytest.approx(twin[0], abs=1e-9)
    w = np.array(weights)
    assert np.all(w >= 0) and np.allclose(w.sum(1), 1.0) and w.std(0).max() > 1e-4  # the policy does act


def test_the_test_block_is_never_read():
    a = adapter()
    test_lo = a.problem.splits["test"].lo  # the first test decision; its reward is the first test relative
    assert a.rel.shape[0] <= test_lo + 1  # relatives: rows < the first test reward row
    assert a.t_lo + a.features.shape[0] - 1 <= a.val_problem.split.hi < test_lo  # observations
    assert a.train_set.d0.max() + a.train_set.horizon - 1 <= a.problem.split.hi  # train windows stay in train
    assert a.dev_set.d0.min() >= a.val_problem.split.lo
    assert a.problem.split.hi < a.val_problem.split.lo


def test_tiny_run_improves_the_train_objective_and_acts_on_the_simplex(tmp_path):
    out = str(tmp_path / "run")
    # full batches: gradient descent on the train objective itself (mini-batches of 16 windows are noisy)
    res = train(
        ENV_ID,
        PRESET,
        dict(SMALL),
        seed=0,
        budget_seconds=60,
        out=out,
        **dict(TINY, batch=64, max_epochs=40, patience=50, lr=0.01),
    )
    assert res["stopped"] == "max_epochs" and res["steps"] == res["epochs"] == 40
    assert res["objective"] == "log_return" and res["reference"] is not None
    a = adapter()
    untrained = a.evaluate(a.build_module(), a.train_set).mean()
    state = torch.load(os.path.join(out, "train_state.pt"), weights_only=True)
    trained = a.build_module()
    trained.load_state_dict(state["model"])
    assert a.evaluate(trained, a.train_set).mean() < untrained - 0.01  # annualised log return up > 1 point
    log = read_log(out)
    assert float(log[0]["dev_cost"]) == pytest.approx(float(log[0]["best_dev"]))
    assert res["best_dev"] <= float(log[0]["dev_cost"])
    # the best-dev policy through the env: weights on the simplex, actions finite
    problem = make_problem(ENV_ID, PRESET, **SMALL, split="test", start="first", horizon=None)
    assert isinstance(make_policy(out, ENV_ID, problem), TorchPortfolioPolicy)  # the manifest's loader
    env = make_vector_env(ENV_ID, 3, PRESET, **SMALL)
    obs, info = env.reset(seed=1)
    policy = load_policy(out, env.problem)
    for _ in range(5):
        w = policy.weights(obs)
        assert np.all(w >= 0) and np.allclose(w.sum(1), 1.0, atol=1e-12)
        action = policy.act(obs, info)
        assert np.isfinite(action).all()
        obs, _, _, _, info = env.step(action)
        np.testing.assert_allclose(info["weights"], w, atol=1e-6)
    res_test = evaluate(
        out,
        ENV_ID,
        PRESET,
        episodes=1,
        overrides={**SMALL, "split": "test", "start": "first", "horizon": None},
        reference=None,
    )
    assert np.isfinite(res_test.mean_cost)


def test_resume_is_exact(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    opts = dict(TINY, n_train=32)
    train(ENV_ID, PRESET, dict(SMALL), seed=1, budget_seconds=60, out=a, max_epochs=2, patience=50, **opts)
    assert [int(r["epoch"]) for r in read_log(a)] == [0, 1, 2]
    res = train(ENV_ID, PRESET, dict(SMALL), seed=1, budget_seconds=60, out=a, max_epochs=4, patience=50, **opts)
    assert res["resumed"] and res["epochs"] == 4 and res["steps"] == 8
    full = train(ENV_ID, PRESET, dict(SMALL), seed=1, budget_seconds=60, out=b, max_epochs=4, patience=50, **opts)
    assert not full["resumed"]
    assert [r["dev_cost"] for r in read_log(a)] == [r["dev_cost"] for r in read_log(b)]
    sa = torch.load(os.path.join(a, "train_state.pt"), weights_only=True)
    sb = torch.load(os.path.join(b, "train_state.pt"), weights_only=True)
    for k in sa["model"]:
        torch.testing.assert_close(sa["model"][k], sb["model"][k], rtol=0, atol=0)
    with pytest.raises(ValueError, match="different hdpo run"):
        train(ENV_ID, PRESET, dict(SMALL), seed=1, budget_seconds=60, out=a, max_epochs=4, **dict(opts, lr=0.5))


def test_checkpoint_loads_weights_only_and_refuses_another_market(tmp_path):
    out = str(tmp_path / "run")
    train(ENV_ID, PRESET, dict(SMALL), seed=0, budget_seconds=60, out=out, max_epochs=1, **TINY)
    state = torch.load(os.path.join(out, "policy.pt"), weights_only=True)
    assert {"mean", "std", "cash_logit"} <= set(state)  # the train-block statistics travel with the weights
    with open(os.path.join(out, "opsrl_policy.json")) as fh:
        meta = json.load(fh)
    assert meta["loader"] == "opsrl.policies.portfolio:load_policy" and meta["architecture"]["n_assets"] == 4
    other = make_problem(ENV_ID, PRESET, **{**SMALL, "n_assets": 5})
    with pytest.raises(ValueError, match="assets, features, window"):
        load_policy(out, other)


def test_cli_train_then_eval(tmp_path, capsys):
    out = str(tmp_path / "cli")
    sets = [arg for k, v in SMALL.items() for arg in ("--set", f"{k}={v}")]
    argv = [
        "train",
        "hdpo",
        "--env",
        ENV_ID,
        "--preset",
        PRESET,
        *sets,
        "--seed",
        "0",
        "--budget-seconds",
        "60",
        "--out",
        out,
        "--option",
        "max_epochs=1",
        "--option",
        "n_train=32",
        "--option",
        "batch=16",
        "--option",
        "horizon=16",
        "--option",
        "progress=false",
        "--json",
    ]
    assert main(argv) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert trained["algo"] == "hdpo" and trained["steps"] == 2 and "validation_block" in trained
    assert (
        main(
            [
                "eval",
                "--env",
                ENV_ID,
                "--preset",
                PRESET,
                *sets,
                "--set",
                "split=test",
                "--set",
                "start=first",
                "--set",
                "horizon=null",
                "--policy",
                out,
                "--episodes",
                "1",
                "--no-reference",
                "--json",
            ]
        )
        == 0
    )
    d = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert d["episodes"] == 1 and np.isfinite(d["mean_cost"])


@pytest.mark.parametrize(
    "options, match",
    [
        ({"policy": "cnn"}, "policy"),
        ({"objective": "sortino"}, "objective"),
        ({"validation_portion": 0.0}, "validation_portion"),
        ({"horizon": 1}, "horizon"),
        ({"batch": 0}, "batch"),
        ({"train_horizon": 10}, "unknown hdpo option"),  # an inventory option
    ],
)
def test_bad_options_are_clear_errors(options, match):
    with pytest.raises(ValueError, match=match):
        PortfolioHDPOConfig.from_options(options)


def test_unsupported_env_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="differentiable twin"):
        train("opsrl/JobShop-v0", None, {}, out=str(tmp_path / "x"), progress=False)
