"""Performance metrics of a wealth path, with the conventions of spec ``portfolio.md`` §5.6.

``wealth`` is V_0..V_T (V_0 the starting wealth); r_t = V_t/V_{t−1} − 1 are net simple returns;
P = 252 periods per year. Defaults follow empyrical/quantstats (sample std, ddof = 1) except that max
drawdown, VaR and CVaR are reported as positive losses. :func:`huang_metrics` reproduces the conventions
of Huang et al.'s tables (population std of log returns, downside std over negatives only) and is only for
reproducing that paper.
"""

from __future__ import annotations

import numpy as np

P = 252
CONVENTIONS = {
    "annual_return": "CAGR = V_T^(P/T) − 1",
    "annual_volatility": "√P·std(r, ddof=1) of simple returns",
    "sharpe": "√P·mean(r − r_f)/std(r − r_f, ddof=1), simple returns",
    "sortino": "√P·mean(r)/sqrt(mean(min(r, 0)²)) over all T returns, MAR = 0",
    "max_drawdown": "max_t (1 − V_t / max_{s≤t} V_s), positive",
    "calmar": "CAGR / max drawdown",
    "turnover": "one-way: mean_t ½·Σ_{i≥0}|w_t,i − w′_t,i| (cash included) per step",
    "var_95": "historical: −5th percentile of r (daily, positive loss)",
    "cvar_95": "historical: −mean of the lowest ⌊(T−1)·0.05⌋ + 1 returns (daily, positive loss)",
}


def returns(wealth: np.ndarray) -> np.ndarray:
    v = np.asarray(wealth, dtype=np.float64)
    return v[1:] / v[:-1] - 1.0


def annual_return(wealth: np.ndarray, periods: int = P) -> float:
    v = np.asarray(wealth, dtype=np.float64)
    return float((v[-1] / v[0]) ** (periods / (v.size - 1)) - 1.0)


def annual_log_return(wealth: np.ndarray, periods: int = P) -> float:
    v = np.asarray(wealth, dtype=np.float64)
    return float(periods * np.log(v[-1] / v[0]) / (v.size - 1))


def annual_volatility(wealth: np.ndarray, periods: int = P) -> float:
    return float(np.sqrt(periods) * returns(wealth).std(ddof=1))


def sharpe(wealth: np.ndarray, risk_free: float = 0.0, periods: int = P) -> float:
    r = returns(wealth) - risk_free
    sd = r.std(ddof=1)
    return float(np.sqrt(periods) * r.mean() / sd) if sd > 0 else float("nan")


def sortino(wealth: np.ndarray, mar: float = 0.0, periods: int = P) -> float:
    r = returns(wealth) - mar
    down = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))
    return float(np.sqrt(periods) * r.mean() / down) if down > 0 else float("inf")


def max_drawdown(wealth: np.ndarray) -> float:
    v = np.asarray(wealth, dtype=np.float64)
    return float(np.max(1.0 - v / np.maximum.accumulate(v)))


def calmar(wealth: np.ndarray, periods: int = P) -> float:
    mdd = max_drawdown(wealth)
    return annual_return(wealth, periods) / mdd if mdd > 0 else float("inf")


def turnover(target: np.ndarray, drifted: np.ndarray) -> float:
    """Mean one-way turnover per step from target weights w_t and pre-trade holdings w′_t, ``[T, N+1]``."""
    return float(0.5 * np.abs(np.asarray(target) - np.asarray(drifted)).sum(axis=-1).mean())


def var_cvar(wealth: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    r = np.sort(returns(wealth))
    var = -np.percentile(r, 100 * (1 - level))
    k = int(np.floor((r.size - 1) * (1 - level))) + 1
    return float(var), float(-r[:k].mean())


def summary(wealth: np.ndarray, periods: int = P, risk_free: float = 0.0) -> dict[str, float]:
    """Every default metric of a wealth path (see ``CONVENTIONS``)."""
    var, cvar = var_cvar(wealth)
    return {"final_wealth": float(wealth[-1] / wealth[0]), "annual_return": annual_return(wealth, periods),
            "annual_log_return": annual_log_return(wealth, periods),
            "annual_volatility": annual_volatility(wealth, periods), "sharpe": sharpe(wealth, risk_free, periods),
            "sortino": sortino(wealth, 0.0, periods), "max_drawdown": max_drawdown(wealth),
            "calmar": calmar(wealth, periods), "var_95": var, "cvar_95": cvar}


def huang_metrics(wealth: np.ndarray, periods: int = P) -> dict[str, float]:
    """Huang et al.'s conventions (spec §5.6): log returns, population std + 1e-7, downside std over the
    negative returns only, annual return 252·mean(ln r), Calmar on that."""
    v = np.asarray(wealth, dtype=np.float64)
    lr = np.log(v[1:] / v[:-1])
    neg = lr[lr < 0]
    ann = periods * lr.mean()
    mdd = max_drawdown(v)
    return {"sharpe": float(np.sqrt(periods) * lr.mean() / (lr.std() + 1e-7)),
            "sortino": float(np.sqrt(periods) * lr.mean() / (neg.std() + 1e-7)) if neg.size else float("inf"),
            "annual_return": float(ann), "max_drawdown": mdd, "calmar": float(ann / mdd) if mdd > 0 else float("inf")}
