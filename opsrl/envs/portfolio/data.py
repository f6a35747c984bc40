"""Price panels for the portfolio family: synthetic markets, skfolio's bundled prices, the user's CSV.

A :class:`Market` is a dated panel ``prices[T, F, N]`` (features close, high, low, open; close-only sources
have F = 1) plus the price relatives the kernel consumes, ``rel[t] = v_t ⊘ v_{t−1}`` with cash in column 0
(``rel[0]`` is all ones: no relative exists before the first date). Markets are immutable and cached per
data key, so every env of one instance shares one panel.

Sources (spec §2.6, §3.2):

* ``gbm`` — ln(v_{t+1,i}/v_{t,i}) = (μ_i − σ_i²/2)Δt + σ_i√Δt·(L z_t)_i, Δt = 1/252, one-factor correlation
  C_ij = β_iβ_j (i ≠ j); μ_i ~ U[0.02, 0.15], σ_i ~ U[0.15, 0.40], β_i ~ U[0.3, 0.8].
* ``regime`` — a two-state Markov chain (bull, bear) with P(bull→bull) = 0.99, P(bear→bear) = 0.97; factor
  f_t ~ N(m_s Δt, v_s² Δt), (m, v) = (0.15, 0.12) bull and (−0.25, 0.30) bear; ln y_{t+1,i} = β_i f_t +
  σ_ε,i √Δt ε_{t,i}, β_i ~ U[0.5, 1.5], σ_ε,i ~ U[0.10, 0.30].
* Both make OHLC from K equal substeps of the same process: open = previous close, high/low = max/min over
  the day's substeps (and the open), close = the last substep. Prices start at 1.
* ``skfolio_sp500`` / ``skfolio_factors`` — ``skfolio.datasets.load_sp500_dataset()`` /
  ``load_factors_dataset()`` (adjusted closes shipped inside the skfolio wheel; ``pip install opsrl[data]``).
* ``csv`` — :func:`load_csv`.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
from typing import Any

import numpy as np

from opsrl.core.errors import ParameterError

FEATURES = ("close", "high", "low", "open")
DT = 1.0 / 252.0
FIRST_DATE = np.datetime64("2000-01-03", "D")


@dataclasses.dataclass(frozen=True, eq=False)
class Market:
    """A dated price panel.

    Attributes:
        dates: datetime64[D] ``[T]``, strictly increasing trading dates.
        prices: float64 ``[T, F, N]``, features in the order close, high, low, open.
        tickers: asset names ``[N]``.
        source: where the panel came from.
        truth: generator parameters of a synthetic market (true drifts, covariances, regimes), else ``{}``.
    """

    dates: np.ndarray
    prices: np.ndarray
    tickers: tuple[str, ...]
    source: str
    truth: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def n_dates(self) -> int:
        return self.prices.shape[0]

    @property
    def n_assets(self) -> int:
        return self.prices.shape[2]

    @property
    def n_features(self) -> int:
        return self.prices.shape[1]

    @property
    def close(self) -> np.ndarray:
        return self.prices[:, 0, :]

    def relatives(self, risk_free: float = 0.0) -> np.ndarray:
        """``[T, N+1]``: row t = v_t ⊘ v_{t−1} with cash 1 + r_f in column 0; row 0 = ones."""
        rel = np.ones((self.n_dates, self.n_assets + 1))
        rel[1:, 0] = 1.0 + risk_free
        rel[1:, 1:] = self.close[1:] / self.close[:-1]
        return rel


# -- synthetic markets ---------------------------------------------------------------------------------
def _business_days(n: int) -> np.ndarray:
    return np.busday_offset(FIRST_DATE, np.arange(n), roll="forward").astype("datetime64[D]")


def _ohlc_from_log_paths(log_steps: np.ndarray) -> np.ndarray:
    """``log_steps[T−1, K, N]`` log increments of K substeps per day -> prices ``[T, 4, N]`` from v_0 = 1."""
    n_days, K, N = log_steps.shape[0] + 1, log_steps.shape[1], log_steps.shape[2]
    path = np.cumsum(log_steps.reshape(-1, N), axis=0).reshape(n_days - 1, K, N)
    prev_close = np.concatenate([np.zeros((1, N)), path[:-1, -1, :]], axis=0)
    out = np.empty((n_days, 4, N))
    out[0] = 1.0
    out[1:, 0] = np.exp(path[:, -1, :])
    out[1:, 1] = np.exp(np.maximum(path.max(axis=1), prev_close))
    out[1:, 2] = np.exp(np.minimum(path.min(axis=1), prev_close))
    out[1:, 3] = np.exp(prev_close)
    return out


def generate_gbm(n_assets: int = 10, n_days: int = 3000, seed: int = 0, substeps: int = 8) -> Market:
    """The ``gbm`` market of spec §3.2 (annual μ, σ; one-factor correlation)."""
    rng = np.random.default_rng([seed, 1])
    mu = rng.uniform(0.02, 0.15, n_assets)
    sigma = rng.uniform(0.15, 0.40, n_assets)
    beta = rng.uniform(0.3, 0.8, n_assets)
    corr = np.outer(beta, beta)
    np.fill_diagonal(corr, 1.0)
    chol = np.linalg.cholesky(corr)
    dt = DT / substeps
    z = rng.standard_normal((n_days - 1, substeps, n_assets)) @ chol.T
    steps = (mu - 0.5 * sigma**2) * dt + sigma * np.sqrt(dt) * z
    cov = corr * np.outer(sigma, sigma)
    return Market(_business_days(n_days), _ohlc_from_log_paths(steps), tuple(f"A{i}" for i in range(n_assets)),
                  "synthetic gbm", {"mu": mu, "cov": cov, "sigma": sigma, "beta": beta, "model": "gbm"})


REGIMES = {"p_stay": (0.99, 0.97), "m": (0.15, -0.25), "v": (0.12, 0.30)}


def generate_regime(n_assets: int = 10, n_days: int = 3000, seed: int = 0, substeps: int = 8) -> Market:
    """The two-regime factor market of spec §3.2; ``truth["regime"][t]`` is the regime of day t → t+1
    (0 bull, 1 bear)."""
    rng = np.random.default_rng([seed, 2])
    beta = rng.uniform(0.5, 1.5, n_assets)
    sig_e = rng.uniform(0.10, 0.30, n_assets)
    p_stay, m, v = (np.array(REGIMES[k]) for k in ("p_stay", "m", "v"))
    u = rng.uniform(size=n_days - 1)
    regime = np.zeros(n_days - 1, dtype=np.int64)
    for t in range(1, n_days - 1):
        prev = regime[t - 1]
        regime[t] = prev if u[t] < p_stay[prev] else 1 - prev
    dt = DT / substeps
    f = m[regime][:, None] * dt + v[regime][:, None] * np.sqrt(dt) * rng.standard_normal((n_days - 1, substeps))
    eps = rng.standard_normal((n_days - 1, substeps, n_assets))
    steps = beta * f[:, :, None] + sig_e * np.sqrt(dt) * eps
    return Market(_business_days(n_days), _ohlc_from_log_paths(steps), tuple(f"A{i}" for i in range(n_assets)),
                  "synthetic regime", {"beta": beta, "sigma_eps": sig_e, "regime": regime, "model": "regime",
                                       **{k: np.array(val) for k, val in REGIMES.items()}})


# -- user CSV -------------------------------------------------------------------------------------------
def _read_text(path: str) -> str:
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt", newline="") as fh:
            return fh.read()
    except OSError as err:
        raise ParameterError(f"prices_csv={path!r} is invalid: cannot read it ({err})") from err


def _parse_date(path: str, text: str, row: int) -> np.datetime64:
    try:
        return np.datetime64(text.strip()[:10], "D")
    except ValueError as err:
        raise ParameterError(f"prices_csv={path!r}: row {row}: cannot parse the date {text!r} "
                             "(expected YYYY-MM-DD)") from err


def _parse_price(path: str, text: str, row: int, col: str) -> float:
    text = text.strip()
    if text == "" or text.lower() in ("nan", "na", "null", "none"):
        return np.nan
    try:
        return float(text)
    except ValueError as err:
        raise ParameterError(f"prices_csv={path!r}: row {row}, column {col!r}: {text!r} is not a number") from err


def load_csv(path: str, max_ffill: int = 3) -> Market:
    """Read the user's prices.

    Formats (detected from the header, case-insensitive):

    * **wide** — a ``date`` column (or the first column) and one close price column per asset;
    * **long** — columns ``date, ticker, open, high, low, close`` (``volume`` and others ignored;
      ``adj_close``/``adj close`` is preferred to ``close`` when present).

    Rules (spec §2.6): dates must be strictly increasing in the file (unsorted or duplicate dates are an
    error naming the row, not silently reordered); long files are inner-joined on the dates every asset
    has; a missing price (empty or NaN) is forward-filled for at most ``max_ffill`` consecutive days, and
    an error otherwise (also for a missing first price); prices must be > 0.
    """
    text = _read_text(path)
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if len(rows) < 3:
        raise ParameterError(f"prices_csv={path!r} is invalid: needs a header and at least 2 rows of prices")
    header = [h.strip() for h in rows[0]]
    lower = [h.lower().replace(" ", "_") for h in header]
    if "ticker" in lower or "symbol" in lower:
        return _load_long(path, header, lower, rows[1:], max_ffill)
    date_col = lower.index("date") if "date" in lower else 0
    cols = [i for i in range(len(header)) if i != date_col]
    if not cols:
        raise ParameterError(f"prices_csv={path!r} is invalid: no price columns besides the date column")
    dates = np.array([_parse_date(path, r[date_col], k + 2) for k, r in enumerate(rows[1:])])
    _check_dates(path, dates)
    prices = np.empty((len(rows) - 1, 1, len(cols)))
    for k, r in enumerate(rows[1:]):
        if len(r) != len(header):
            raise ParameterError(f"prices_csv={path!r}: row {k + 2} has {len(r)} fields, the header {len(header)}")
        for j, c in enumerate(cols):
            prices[k, 0, j] = _parse_price(path, r[c], k + 2, header[c])
    prices = _fill(path, prices, dates, [header[c] for c in cols], max_ffill)
    return Market(dates, prices, tuple(header[c] for c in cols), f"csv {path}")


def _load_long(path: str, header: list[str], lower: list[str], rows: list[list[str]], max_ffill: int) -> Market:
    need = ["date", "open", "high", "low"]
    missing = [c for c in need if c not in lower] + ([] if ("close" in lower or "adj_close" in lower) else ["close"])
    if missing:
        raise ParameterError(f"prices_csv={path!r} is invalid: a long CSV needs the columns date, ticker, open, "
                             f"high, low, close; missing {missing}")
    tick = lower.index("ticker") if "ticker" in lower else lower.index("symbol")
    idx = {c: lower.index(c) for c in need}
    idx["close"] = lower.index("adj_close") if "adj_close" in lower else lower.index("close")
    per: dict[str, dict[np.datetime64, list[float]]] = {}
    last: dict[str, np.datetime64] = {}
    for k, r in enumerate(rows):
        t = r[tick].strip()
        d = _parse_date(path, r[idx["date"]], k + 2)
        if t in last and d <= last[t]:
            what = "duplicate" if d == last[t] else "unsorted"
            raise ParameterError(f"prices_csv={path!r}: row {k + 2}: {what} date {d} for {t!r} "
                                 "(dates must be strictly increasing per asset)")
        last[t] = d
        per.setdefault(t, {})[d] = [_parse_price(path, r[idx[f]], k + 2, f) for f in FEATURES]
    tickers = sorted(per)
    common = sorted(set.intersection(*(set(v) for v in per.values())))
    if len(common) < 2:
        raise ParameterError(f"prices_csv={path!r} is invalid: fewer than 2 dates common to all assets")
    dates = np.array(common, dtype="datetime64[D]")
    prices = np.array([[per[t][d] for t in tickers] for d in common]).transpose(0, 2, 1)
    prices = _fill(path, prices, dates, tickers, max_ffill)
    return Market(dates, prices, tuple(tickers), f"csv {path}")


def _check_dates(path: str, dates: np.ndarray) -> None:
    diff = np.diff(dates).astype(np.int64)
    bad = np.flatnonzero(diff <= 0)
    if bad.size:
        k = int(bad[0]) + 1
        what = "duplicate" if diff[bad[0]] == 0 else "unsorted"
        raise ParameterError(f"prices_csv={path!r}: {what} date {dates[k]} at data row {k + 1} (after "
                             f"{dates[k - 1]}); dates must be strictly increasing")


def _fill(path: str, prices: np.ndarray, dates: np.ndarray, tickers: list[str], max_ffill: int) -> np.ndarray:
    """Forward-fill runs of at most ``max_ffill`` missing prices; reject longer gaps and prices <= 0."""
    prices = prices.copy()
    T, F, N = prices.shape
    for i in range(N):
        for f in range(F):
            run = 0
            for t in range(T):
                if np.isnan(prices[t, f, i]):
                    run += 1
                    if t == 0 or run > max_ffill:
                        where = "the first date" if t == 0 else f"more than max_ffill={max_ffill} days in a row"
                        raise ParameterError(f"prices_csv={path!r}: missing (NaN) {FEATURES[f]} price of "
                                             f"{tickers[i]!r} on {dates[t]}: {where}")
                    prices[t, f, i] = prices[t - 1, f, i]
                else:
                    run = 0
    if not np.isfinite(prices).all():
        raise ParameterError(f"prices_csv={path!r}: prices must be finite")
    bad = np.argwhere(prices <= 0)
    if bad.size:
        t, f, i = bad[0]
        raise ParameterError(f"prices_csv={path!r}: non-positive {FEATURES[f]} price {prices[t, f, i]!r} of "
                             f"{tickers[i]!r} on {dates[t]}: prices must be > 0")
    return prices


# -- skfolio (optional extra) ---------------------------------------------------------------------------
def load_skfolio(name: str) -> Market:
    """``sp500`` (20 stocks, 1990-01-02 → 2022-12-28) or ``factors`` (5 ETFs) from the skfolio package."""
    try:
        from skfolio import datasets
    except ImportError as err:
        raise ParameterError(f"data='skfolio_{name}' needs the optional skfolio package: "
                             "pip install 'opsrl[data]'") from err
    df = datasets.load_sp500_dataset() if name == "sp500" else datasets.load_factors_dataset()
    dates = np.asarray(df.index.values, dtype="datetime64[D]")
    _check_dates(f"skfolio {name}", dates)
    prices = _fill(f"skfolio {name}", np.asarray(df.values, dtype=np.float64)[:, None, :], dates,
                   [str(c) for c in df.columns], 3)
    return Market(dates, prices, tuple(str(c) for c in df.columns), f"skfolio load_{name}_dataset")


_CACHE: dict[tuple, Market] = {}


def build_market(params: Any) -> Market:
    """The market of ``params`` (cached per data key; CSVs are re-read when the file changes)."""
    key = params.data_key()
    if params.data == "csv":
        import os

        try:
            key = key + (os.path.getmtime(params.prices_csv),)
        except OSError as err:
            raise ParameterError(f"prices_csv={params.prices_csv!r} is invalid: cannot read it ({err})") from err
    if key not in _CACHE:
        if params.data == "gbm":
            m = generate_gbm(params.n_assets, params.n_days, params.data_seed, params.substeps)
        elif params.data == "regime":
            m = generate_regime(params.n_assets, params.n_days, params.data_seed, params.substeps)
        elif params.data.startswith("skfolio_"):
            m = load_skfolio(params.data.split("_", 1)[1])
        else:
            m = load_csv(params.prices_csv, params.max_ffill)
        for arr in (m.dates, m.prices):
            arr.setflags(write=False)
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = m
    return _CACHE[key]


@dataclasses.dataclass(frozen=True)
class Split:
    """Decision rows of one split: an episode decides at rows ``lo..hi`` (inclusive); the reward of a
    decision at row d uses the relative of row d + 1, which lies in the split's block of dates."""

    name: str
    lo: int
    hi: int
    first_date: np.datetime64
    last_date: np.datetime64

    @property
    def n_decisions(self) -> int:
        return self.hi - self.lo + 1


def split_rows(market: Market, params: Any) -> dict[str, Split]:
    """The train / validation / test blocks of ``market`` (spec §2.5). Blocks of *reward dates* are
    contiguous and disjoint: train rows [W, T_val), validation [T_val, T_split), test [T_split, T)."""
    T, W = market.n_dates, params.window
    if params.split_date is not None:
        t_split = int(np.searchsorted(market.dates, np.datetime64(params.split_date, "D")))
    else:
        t_split = int(np.floor((1.0 - params.test_portion) * T))
    t_val = t_split - int(np.floor(params.validation_portion * T))
    blocks = {"train": (W, t_val), "validation": (t_val, t_split), "test": (t_split, T)}
    out = {}
    for name, (a, b) in blocks.items():
        if b <= a:
            continue
        out[name] = Split(name, a - 1, b - 2, market.dates[a], market.dates[b - 1])
    if "test" not in out or "train" not in out:
        raise ParameterError(f"split_date={params.split_date!r} / test_portion={params.test_portion!r} leave an "
                             f"empty train or test block: {T} dates from {market.dates[0]} to {market.dates[-1]}, "
                             f"window={W}")
    return out
