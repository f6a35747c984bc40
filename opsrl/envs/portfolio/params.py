"""Parameters and presets of the portfolio family (``opsrl/Portfolio-v0``, spec ``portfolio.md`` §3).

Every field can be overridden on top of a preset: ``gym.make(id, preset="synthetic_gbm_10", cost_rate=0.001,
split="test", start="first", horizon=None)`` or ``opsrl eval ... --set split=test``. Importing this module
compiles nothing and reads no data; the market is built when a problem is made (:mod:`.data`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from opsrl.core.errors import finite_array, one_of, require
from opsrl.core.params import Params

DATA_SOURCES = ("gbm", "regime", "skfolio_sp500", "skfolio_factors", "csv")
COST_MODELS = ("linear", "exact")
ACTION_MAPS = ("softmax", "projection", "weights")
REWARDS = ("log_return", "dsr", "avg_sharpe", "terminal_sharpe")
SPLITS = ("train", "validation", "test")
STARTS = ("random", "first")
INIT_WEIGHTS = ("cash", "uniform")
DATA_FIELDS = ("data", "prices_csv", "n_assets", "n_days", "data_seed", "substeps", "max_ffill")
"""Fields that define the market (the price panel); the rest define the task on it."""


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


@dataclasses.dataclass(frozen=True)
class PortfolioParams(Params):
    """Parameters of one portfolio environment (spec ``portfolio.md`` §3.1)."""

    # -- market ---------------------------------------------------------------------------------------
    data: str = "gbm"
    """``gbm`` / ``regime`` (synthetic, §3.2, the dependency-free default), ``skfolio_sp500`` /
    ``skfolio_factors`` (needs the ``opsrl[data]`` extra), ``csv`` (``prices_csv``)."""
    prices_csv: str | None = None
    """Path of the user's prices: wide (``date`` column + one close column per asset) or long
    (``date, ticker, open, high, low, close[, volume]``), optionally gzipped. Setting it selects
    ``data="csv"``."""
    n_assets: int = 10
    """Synthetic markets: number of risky assets N."""
    n_days: int = 3000
    """Synthetic markets: number of trading days T."""
    data_seed: int = 0
    """Synthetic markets: the generator's seed (the market is the same for every env and episode)."""
    substeps: int = 8
    """Synthetic markets: intraday substeps K per day that make open/high/low (§3.2)."""
    max_ffill: int = 3
    """CSV: forward-fill at most this many consecutive missing closes per asset (0 = none)."""
    features: int = 4
    """F: price features per asset in the observation, in the order close, high, low, open (1 = close
    only; 3 = Jiang's close/high/low; 4 = OHLC). Capped by what the data has (close-only sources: 1)."""
    # -- task -----------------------------------------------------------------------------------------
    window: int = 50
    """W: trading days in the observation window (Huang 50, Jiang 31)."""
    horizon: int | None = 128
    """H: steps per episode. ``None``: run to the end of the split (needs ``start="first"``)."""
    cost_rate: float = 0.0025
    """c: proportional purchase and sale cost rate (c_p = c_s = c)."""
    cost_model: str = "linear"
    """``linear``: μ = 1 − c·Σ_{i≥1}|w′_i − w_i|; ``exact``: Jiang's fixed point (§2.3)."""
    action_map: str = "softmax"
    """``softmax`` (logits, τ = ``temperature``), ``projection`` (Euclidean projection onto the simplex)
    or ``weights`` (given weights, checked: w ≥ 0 and |Σw − 1| ≤ 1e-6)."""
    temperature: float = 1.0
    """τ of the softmax map."""
    reward: str = "log_return"
    """``log_return``, ``dsr`` (differential Sharpe), ``avg_sharpe`` (Huang), ``terminal_sharpe``."""
    dsr_eta: float = 0.01
    """η: adaptation rate of the differential Sharpe ratio's moving moments."""
    dsr_clip: float = 10.0
    """|D_t| is clipped at this value (0 = no clip)."""
    huang_compat: bool = False
    """avg_sharpe: count Huang's extra all-cash zero return at reset in the running Sharpe (§7.3)."""
    turnover_penalty: float = 0.0
    """λ: reward −= λ·Σ_{i≥1}|w_i − w′_i|."""
    risk_free: float = 0.0
    """r_f per period: cash grows by 1 + r_f every step."""
    periods_per_year: int = 252
    """P: annualisation factor (Sharpe, annualised returns, the ``episode_cost``)."""
    init_weights: str = "cash"
    """Holdings at reset: ``cash`` (all cash, so the first trade pays the entry cost) or ``uniform``."""
    # -- split ----------------------------------------------------------------------------------------
    split: str = "train"
    """Which block of dates the episodes live in: ``train``, ``validation`` or ``test`` (disjoint)."""
    test_portion: float = 0.08
    """Share of the dates in the test block (the last ones); ignored when ``split_date`` is set."""
    validation_portion: float = 0.0
    """Share of the dates in the validation block, immediately before the test block."""
    split_date: str | None = None
    """First date of the test block (``YYYY-MM-DD``; the first trading date on or after it)."""
    start: str = "random"
    """``random``: start dates uniform over the split such that all H rewards fall inside it;
    ``first``: every episode starts at the split's first decision (the deterministic backtest)."""

    default_preset: ClassVar[str] = "synthetic_gbm_10"

    def __post_init__(self) -> None:
        if self.prices_csv is not None and self.data != "csv":
            object.__setattr__(self, "data", "csv")  # a CSV path selects the CSV source
        super().__post_init__()

    @classmethod
    def presets(cls) -> dict[str, dict[str, Any]]:
        return _presets()

    def data_key(self) -> tuple:
        """The fields that define the price panel (markets are cached by this key)."""
        return tuple(getattr(self, f) for f in DATA_FIELDS)

    def validate(self) -> None:
        one_of("data", self.data, DATA_SOURCES)
        require(self.data != "csv" or self.prices_csv is not None, "prices_csv", self.prices_csv,
                "data='csv' (and the *_csv presets) need prices_csv=PATH to a CSV of prices")
        if self.prices_csv is not None:
            require(isinstance(self.prices_csv, str), "prices_csv", self.prices_csv, "must be a file path")
        for name, low in (("n_assets", 1), ("n_days", 10), ("substeps", 1), ("features", 1), ("window", 2),
                          ("periods_per_year", 1)):
            v = getattr(self, name)
            require(_is_int(v) and v >= low, name, v, f"must be an integer >= {low}")
        require(_is_int(self.data_seed) and self.data_seed >= 0, "data_seed", self.data_seed,
                "must be an integer >= 0")
        require(_is_int(self.max_ffill) and self.max_ffill >= 0, "max_ffill", self.max_ffill,
                "must be an integer >= 0")
        require(self.features <= 4, "features", self.features, "must be in 1..4 (close, high, low, open)")
        require(self.horizon is None or (_is_int(self.horizon) and self.horizon >= 1), "horizon", self.horizon,
                "must be an integer >= 1 or None (to the end of the split)")
        one_of("cost_model", self.cost_model, COST_MODELS)
        one_of("action_map", self.action_map, ACTION_MAPS)
        one_of("reward", self.reward, REWARDS)
        one_of("split", self.split, SPLITS)
        one_of("start", self.start, STARTS)
        one_of("init_weights", self.init_weights, INIT_WEIGHTS)
        require(self.horizon is not None or self.start == "first", "horizon", self.horizon,
                "horizon=None (to the end of the split) needs start='first'")
        finite_array("cost_rate", self.cost_rate, low=0.0, high=0.5)
        finite_array("temperature", self.temperature, low=0.0, low_inclusive=False)
        finite_array("dsr_eta", self.dsr_eta, low=0.0, low_inclusive=False, high=1.0)
        finite_array("dsr_clip", self.dsr_clip, low=0.0)
        finite_array("turnover_penalty", self.turnover_penalty, low=0.0)
        finite_array("risk_free", self.risk_free, low=-0.5, low_inclusive=False, high=1.0)
        finite_array("test_portion", self.test_portion, low=0.0, low_inclusive=False, high=0.9)
        finite_array("validation_portion", self.validation_portion, low=0.0, high=0.9)
        require(self.test_portion + self.validation_portion < 0.95, "validation_portion", self.validation_portion,
                f"test_portion + validation_portion must be < 0.95 (test_portion={self.test_portion})")
        require(self.split != "validation" or self.validation_portion > 0, "split", self.split,
                "split='validation' needs validation_portion > 0")
        if self.split_date is not None:
            try:
                np.datetime64(str(self.split_date), "D")
            except ValueError:
                require(False, "split_date", self.split_date, "must be a date YYYY-MM-DD")


def _presets() -> dict[str, dict[str, Any]]:
    return {
        "synthetic_gbm_10": {"data": "gbm"},
        "synthetic_regime_10": {"data": "regime"},
        "skfolio_sp500_20": {"data": "skfolio_sp500", "features": 1, "split_date": "2018-01-02"},
        "skfolio_factors_5": {"data": "skfolio_factors", "features": 1},
        "huang_style_csv": {"data": "csv", "features": 4, "reward": "avg_sharpe"},
        "jiang_style_csv": {"data": "csv", "features": 3, "window": 31},
        "csv": {"data": "csv", "features": 1},
    }
