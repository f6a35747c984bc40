"""Golden values of spec §5.3 (μ cases, UCRP, UBAH, BCRP, drift), the kernel against the NumPy oracle, the
reward modes against direct computations, and the skfolio panel of §5.4 (when the extra is installed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from opsrl.envs.portfolio import dynamics as K_
from opsrl.envs.portfolio import solver
from opsrl.envs.portfolio import torch_dynamics as TD
from opsrl.envs.portfolio.env import Portfolio

C = 0.0025
SMALL = {"n_days": 600, "n_assets": 3, "window": 10, "horizon": 30}
CASH, A1, A2 = np.eye(4)[0], np.eye(4)[1], np.eye(4)[2]
MU_CASES = [  # (w′, w, exact, linear) from spec §2.3 / §5.3
    (A1, A1, 1.0, 1.0),
    (CASH, A1, 0.9975, 0.9975),
    (A1, CASH, 0.9975, 0.9975),
    (A1, A2, 0.99500625, 0.995),
]


@pytest.mark.parametrize("w_old,w_new,exact,linear", MU_CASES)
def test_mu_cases_kernel_numpy_torch(w_old, w_new, exact, linear):
    for model, want in (("exact", exact), ("linear", linear)):
        p = Portfolio.from_preset(**SMALL, cost_model=model, action_map="weights")
        s = p.init(1, np.random.default_rng(0))
        s.w[:] = w_old
        tr = p.step(s, w_new[None].copy(), np.ones(1, bool), None)
        assert tr.info["mu"][0] == pytest.approx(want, abs=1e-10)
        assert K_.mu_numpy(w_old[None], w_new[None], C, model)[0] == pytest.approx(want, abs=1e-10)
        got = TD.mu(torch.as_tensor(w_old[None]), torch.as_tensor(w_new[None]), C, model)
        assert float(got[0]) == pytest.approx(want, abs=1e-10)


def test_exact_mu_is_the_fixed_point_and_close_to_linear():
    rng = np.random.default_rng(0)
    w_old, w_new = rng.dirichlet(np.ones(6), 500), rng.dirichlet(np.ones(6), 500)
    mu = K_.mu_numpy(w_old, w_new, C, "exact")
    rhs = (1 - C * w_old[:, 0] - (2 * C - C * C) * np.maximum(w_old[:, 1:] - mu[:, None] * w_new[:, 1:], 0).sum(1)) \
        / (1 - C * w_new[:, 0])
    np.testing.assert_allclose(mu, rhs, atol=1e-12)
    lin = K_.mu_numpy(w_old, w_new, C, "linear")
    assert (np.abs(mu - lin) < 2 * C).all() and (mu <= 1).all()


@pytest.mark.parametrize("cost_model", ["linear", "exact"])
@pytest.mark.parametrize("action_map", ["softmax", "projection"])
def test_kernel_matches_the_numpy_oracle(cost_model, action_map):
    p = Portfolio.from_preset(**SMALL, cost_model=cost_model, action_map=action_map, cost_rate=0.01)
    s = p.init(64, np.random.default_rng(1))
    w, wealth, d = s.w.copy(), s.wealth.copy(), s.d.copy()
    rng = np.random.default_rng(2)
    # the exact μ stops at |Δμ| < 1e-10 per row in the kernel and for the whole batch in the oracle
    tol = 1e-12 if cost_model == "linear" else 1e-9
    for _ in range(25):
        a = rng.normal(size=(64, 4)) * 2
        tr = p.step(s, a, np.ones(64, bool), None)
        rho, target = K_.step_numpy(w, wealth, d, a, p.rel, 0.01, cost_model, action_map)
        np.testing.assert_allclose(tr.reward, rho, rtol=0, atol=tol)
        np.testing.assert_allclose(tr.info["weights"], target, atol=1e-14)
        np.testing.assert_allclose(s.w, w, atol=1e-13)
        np.testing.assert_allclose(s.wealth, wealth, rtol=tol)
        np.testing.assert_array_equal(s.d, d)


def test_drift_sums_to_one_and_is_identity_under_equal_relatives():
    p = Portfolio.from_preset(**SMALL, action_map="weights", cost_rate=0.0)
    s = p.init(1, np.random.default_rng(0))
    p.rel[s.d[0] + 1] = 1.03  # every relative equal (cash included): w′ = w
    target = np.array([[0.1, 0.2, 0.3, 0.4]])
    p.step(s, target.copy(), np.ones(1, bool), None)
    np.testing.assert_allclose(s.w, target, atol=1e-15)


def run_policy_wealth(problem, weights_fn, steps):
    s = problem.init(1, np.random.default_rng(0))
    wealth = [1.0]
    for _ in range(steps):
        problem.step(s, weights_fn(s), np.ones(1, bool), None)
        wealth.append(s.wealth[0])
    return s, np.array(wealth)


def test_ucrp_ubah_bcrp_golden():
    p = Portfolio.from_preset(**SMALL, action_map="weights", cost_rate=0.0)
    N, H = 3, 30
    uniform = np.concatenate([[0.0], np.full(N, 1 / N)])[None]
    s, ucrp = run_policy_wealth(p, lambda s: uniform.copy(), H)
    d0 = int(s.d0[0])
    x = p.rel[d0 + 1:d0 + H + 1, 1:]
    assert ucrp[-1] == pytest.approx(np.prod(x.mean(axis=1)), rel=1e-12)  # Π_t mean_i x_t,i
    s, ubah = run_policy_wealth(p, lambda s: uniform.copy() if s.t[0] == 0 else s.w.copy(), H)
    v = p.market.close
    assert ubah[-1] == pytest.approx(np.mean(v[d0 + H] / v[d0]), rel=1e-12)  # mean_i v_T,i / v_0,i
    b, logw = solver.bcrp(x)
    assert np.exp(logw) >= max(np.prod(x, axis=0).max(), ucrp[-1]) * (1 - 1e-12)


def test_episode_cost_is_minus_annualised_log_return():
    p = Portfolio.from_preset(**SMALL)
    s = p.init(4, np.random.default_rng(0))
    rewards = [p.step(s, np.random.default_rng(k).normal(size=(4, 4)), np.ones(4, bool), None).reward
               for k in range(30)]
    np.testing.assert_allclose(p.episode_cost(np.stack(rewards)), -252 / 30 * np.log(s.wealth), rtol=1e-12)


def reward_trace(**kw):
    p = Portfolio.from_preset(**{**SMALL, **kw})
    s = p.init(3, np.random.default_rng(5))
    acc0 = s.acc.copy()
    rng = np.random.default_rng(6)
    r, rho, simple = [], [], []
    for _ in range(p.episode_length):
        v = s.wealth.copy()
        tr = p.step(s, rng.normal(size=(3, 4)), np.ones(3, bool), None)
        r.append(tr.reward)
        rho.append(tr.info["log_return"])
        simple.append(s.wealth / v - 1)
    return p, acc0, np.array(r), np.array(rho), np.array(simple)


def test_dsr_reward_follows_moody_saffell():
    p, acc0, r, _, ret = reward_trace(reward="dsr", dsr_clip=0.0)
    eta = p.params.dsr_eta
    A, B = acc0[:, 0].copy(), acc0[:, 1].copy()
    for t in range(len(r)):
        dA, dB = ret[t] - A, ret[t] ** 2 - B
        want = (B * dA - 0.5 * A * dB) / (B - A**2) ** 1.5
        np.testing.assert_allclose(r[t], want, rtol=1e-10)
        A, B = A + eta * dA, B + eta * dB


def test_dsr_warm_start_is_the_equal_weight_window():
    p, acc0, *_ = reward_trace(reward="dsr")
    s = p.init(3, np.random.default_rng(5))
    W = p.params.window
    for b in range(3):
        rets = p.rel[s.d0[b] - W + 2:s.d0[b] + 1, 1:].mean(axis=1) - 1
        assert len(rets) == W - 1
        assert acc0[b, 0] == pytest.approx(rets.mean()) and acc0[b, 1] == pytest.approx((rets**2).mean())


@pytest.mark.parametrize("huang", [False, True])
def test_avg_sharpe_and_terminal_sharpe(huang):
    p, _, r, rho, _ = reward_trace(reward="avg_sharpe", huang_compat=huang)
    H = p.episode_length
    for t in range(H):
        seq = np.concatenate([[0.0] * huang, rho[: t + 1, 0]])
        want = 0.0 if len(seq) < 2 else np.sqrt(252) * seq.mean() / (seq.std() + 1e-7) / H
        assert r[t, 0] == pytest.approx(want, rel=1e-9, abs=1e-12)
    if huang:  # spec §7.3: the first reward is always ±√252/H
        assert abs(r[0, 0]) == pytest.approx(np.sqrt(252) / H, rel=1e-4)
    p, _, r, rho, _ = reward_trace(reward="terminal_sharpe")
    assert (r[:-1] == 0).all()
    np.testing.assert_allclose(r[-1], np.sqrt(252) * rho.mean(0) / (rho.std(0) + 1e-7), rtol=1e-9)


def test_turnover_penalty():
    _, _, r0, rho, _ = reward_trace()
    p, _, r1, _, _ = reward_trace(turnover_penalty=0.1)
    np.testing.assert_allclose(r0, rho)
    assert (r1 <= r0 + 1e-15).all() and (r1 < r0).any()


# -- skfolio S&P 500 panel (spec §5.4), only with the optional extra ------------------------------------
def test_skfolio_golden_values():
    pytest.importorskip("skfolio")
    from opsrl.envs.portfolio.data import load_skfolio

    m = load_skfolio("sp500")
    assert m.n_dates == 8313 and m.n_assets == 20
    r = m.close[1:] / m.close[:-1] - 1
    dates = m.dates[1:]
    R = r[(dates >= np.datetime64("2018-01-02")) & (dates <= np.datetime64("2021-12-31"))]
    assert R.shape == (1008, 20)
    w, var = solver.min_variance(R)
    assert var == pytest.approx(1.1746e-4, rel=1e-3) and (w > 1e-4).sum() == 9
    _, cvar, zeta = solver.mean_cvar(R, 0.95, float(np.median(R.mean(0))))
    assert cvar == pytest.approx(0.02552, abs=1e-5) and zeta == pytest.approx(0.01530, abs=1e-5)
    assert np.prod(1 + R.mean(1)) == pytest.approx(2.2775, abs=1e-4)
    assert np.mean(np.prod(1 + R, 0)) == pytest.approx(2.5667, abs=1e-4)
    b, logw = solver.bcrp(1 + R)
    assert np.exp(logw) == pytest.approx(13.998, abs=1e-3) and m.tickers[int(b.argmax())] == "AMD"
