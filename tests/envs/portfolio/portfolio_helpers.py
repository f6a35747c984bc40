"""Helpers of the portfolio tests (a uniquely named module: several test folders have a conftest.py)."""

from __future__ import annotations


def write_wide_csv(path, market, rows=None):
    """Write ``market``'s closes as a wide CSV (date + one column per asset)."""
    rows = range(market.n_dates) if rows is None else rows
    with open(path, "w") as fh:
        fh.write("date," + ",".join(market.tickers) + "\n")
        for t in rows:
            fh.write(str(market.dates[t]) + "," + ",".join(f"{v:.10g}" for v in market.close[t]) + "\n")
    return str(path)
