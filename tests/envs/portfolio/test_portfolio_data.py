"""Markets: synthetic generators (reproducible, with the spec's moments and regime dynamics), the CSV
loader's formats and its errors, and the metrics module's conventions."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from portfolio_helpers import write_wide_csv

from opsrl.core.errors import ParameterError
from opsrl.envs.portfolio import metrics
from opsrl.envs.portfolio.data import generate_gbm, generate_regime, load_csv


def test_synthetic_markets_are_reproducible_and_seeded():
    a, b = generate_gbm(5, 300, seed=1), generate_gbm(5, 300, seed=1)
    np.testing.assert_array_equal(a.prices, b.prices)
    assert not np.array_equal(a.prices, generate_gbm(5, 300, seed=2).prices)
    r1, r2 = generate_regime(5, 300, seed=1), generate_regime(5, 300, seed=1)
    np.testing.assert_array_equal(r1.prices, r2.prices)


@pytest.mark.parametrize("gen", [generate_gbm, generate_regime])
def test_ohlc_is_consistent(gen):
    m = gen(4, 400, seed=0)
    close, high, low, open_ = (m.prices[:, f] for f in range(4))
    assert (high >= np.maximum(open_, close) - 1e-15).all() and (low <= np.minimum(open_, close) + 1e-15).all()
    np.testing.assert_allclose(open_[1:], close[:-1], rtol=1e-15)  # open = previous close
    assert (m.prices > 0).all() and np.all(np.diff(m.dates).astype(int) > 0)


def test_gbm_moments_match_the_generator_parameters():
    m = generate_gbm(6, 20_000, seed=0)
    lr = np.log(m.close[1:] / m.close[:-1])
    sigma = m.truth["sigma"]
    np.testing.assert_allclose(lr.std(axis=0) * np.sqrt(252), sigma, rtol=0.03)
    corr = np.corrcoef(lr, rowvar=False)
    beta = m.truth["beta"]
    off = ~np.eye(6, dtype=bool)
    np.testing.assert_allclose(corr[off], np.outer(beta, beta)[off], atol=0.03)
    # mean log drift (μ − σ²/2) within 4 standard errors
    se = sigma / np.sqrt(20_000 / 252)
    assert (np.abs(lr.mean(axis=0) * 252 - (m.truth["mu"] - sigma**2 / 2)) < 4 * se).all()


def test_regime_chain_has_the_spec_persistence():
    m = generate_regime(3, 60_000, seed=0)
    s = m.truth["regime"]
    stay_bull = np.mean(s[1:][s[:-1] == 0] == 0)
    stay_bear = np.mean(s[1:][s[:-1] == 1] == 1)
    assert stay_bull == pytest.approx(0.99, abs=0.003) and stay_bear == pytest.approx(0.97, abs=0.01)


def test_wide_csv_round_trip(tmp_path, small_market):
    path = write_wide_csv(tmp_path / "p.csv", small_market)
    m = load_csv(path)
    np.testing.assert_allclose(m.close, small_market.close, rtol=1e-9)
    np.testing.assert_array_equal(m.dates, small_market.dates)
    assert m.tickers == small_market.tickers and m.n_features == 1
    gz = tmp_path / "p.csv.gz"
    with open(path, "rb") as src, gzip.open(gz, "wb") as dst:
        dst.write(src.read())
    np.testing.assert_array_equal(load_csv(str(gz)).close, m.close)


def test_long_csv_with_ohlc_inner_join(tmp_path, small_market):
    path = tmp_path / "long.csv"
    with open(path, "w") as fh:
        fh.write("Date,Ticker,Open,High,Low,Close,Volume\n")
        for i, t in enumerate(small_market.tickers):
            for d in range(50):
                if i == 1 and d == 10:  # one asset misses a date: the inner join drops it
                    continue
                c, h, lo, o = small_market.prices[d, :, i]
                fh.write(f"{small_market.dates[d]},{t},{o},{h},{lo},{c},1000\n")
    m = load_csv(str(path))
    assert m.n_features == 4 and m.n_dates == 49
    assert small_market.dates[10] not in m.dates
    np.testing.assert_allclose(m.prices[:10], small_market.prices[:10], rtol=1e-12)


def bad_csv(tmp_path, rows):
    path = tmp_path / "bad.csv"
    path.write_text("date,A,B\n" + "\n".join(rows) + "\n")
    return str(path)


@pytest.mark.parametrize("rows,match", [
    (["2020-01-02,1,2", "2020-01-01,1,2", "2020-01-03,1,2"], "unsorted"),
    (["2020-01-02,1,2", "2020-01-02,1,2", "2020-01-03,1,2"], "duplicate"),
    (["2020-01-02,1,2", "2020-01-03,0,2", "2020-01-06,1,2"], "non-positive"),
    (["2020-01-02,1,2", "2020-01-03,-1,2", "2020-01-06,1,2"], "non-positive"),
    (["2020-01-02,nan,2", "2020-01-03,1,2", "2020-01-06,1,2"], "NaN"),
    (["2020-01-02,1,2"] + [f"2020-01-{d:02d},,2" for d in range(3, 8)], "max_ffill"),
    (["2020-01-02,1,2", "2020-01-03,x,2", "2020-01-06,1,2"], "not a number"),
    (["2020-13-45,1,2", "2020-01-03,1,2", "2020-01-06,1,2"], "date"),
    (["2020-01-02,1,2"], "at least 2 rows"),
])
def test_csv_errors_are_clear(tmp_path, rows, match):
    with pytest.raises(ParameterError, match=match) as err:
        load_csv(bad_csv(tmp_path, rows))
    assert "prices_csv" in str(err.value)


def test_csv_forward_fill_within_the_limit(tmp_path):
    m = load_csv(bad_csv(tmp_path, ["2020-01-02,1,2", "2020-01-03,,2", "2020-01-06,,3", "2020-01-07,4,5"]))
    np.testing.assert_array_equal(m.close[:, 0], [1, 1, 1, 4])
    with pytest.raises(ParameterError, match="max_ffill=1"):
        load_csv(bad_csv(tmp_path, ["2020-01-02,1,2", "2020-01-03,,2", "2020-01-06,,3", "2020-01-07,4,5"]),
                 max_ffill=1)


def test_missing_file_is_a_parameter_error():
    import gymnasium as gym

    with pytest.raises(ParameterError, match="prices_csv"):
        gym.make("opsrl/Portfolio-v0", prices_csv="/no/such/file.csv")


# -- metrics -----------------------------------------------------------------------------------------------
def test_metrics_conventions():
    v = np.array([1.0, 1.1, 0.99, 1.089, 1.2])
    r = v[1:] / v[:-1] - 1
    assert metrics.max_drawdown(v) == pytest.approx(0.1)
    assert metrics.sharpe(v) == pytest.approx(np.sqrt(252) * r.mean() / r.std(ddof=1))
    assert metrics.sortino(v) == pytest.approx(np.sqrt(252) * r.mean() / np.sqrt(np.mean(np.minimum(r, 0) ** 2)))
    assert metrics.annual_return(v) == pytest.approx(1.2 ** (252 / 4) - 1)
    assert metrics.annual_volatility(v) == pytest.approx(np.sqrt(252) * r.std(ddof=1))
    assert metrics.annual_log_return(v) == pytest.approx(252 * np.log(1.2) / 4)
    var, cvar = metrics.var_cvar(v)
    assert var == pytest.approx(-np.percentile(r, 5)) and cvar == pytest.approx(-r.min())  # ⌊3·0.05⌋+1 = 1
    assert metrics.turnover(np.array([[0, 0.5, 0.5]]), np.array([[1.0, 0, 0]])) == pytest.approx(1.0)  # all cash spent
    assert metrics.turnover(np.array([[0.5, 0.5, 0]]), np.array([[0.5, 0, 0.5]])) == pytest.approx(0.5)
    h = metrics.huang_metrics(v)
    lr = np.log(v[1:] / v[:-1])
    assert h["sharpe"] == pytest.approx(np.sqrt(252) * lr.mean() / (lr.std() + 1e-7))
    assert set(metrics.summary(v)) >= {"sharpe", "sortino", "max_drawdown", "cvar_95", "annual_volatility"}
