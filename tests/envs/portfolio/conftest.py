"""Fixtures of the portfolio tests: small CSV price files written from a synthetic market."""

from __future__ import annotations

import pytest
from portfolio_helpers import write_wide_csv

from opsrl.envs.portfolio.data import generate_gbm


@pytest.fixture(scope="session")
def small_market():
    return generate_gbm(n_assets=4, n_days=400, seed=3)


@pytest.fixture()
def wide_csv(tmp_path, small_market):
    return write_wide_csv(tmp_path / "prices.csv", small_market)
