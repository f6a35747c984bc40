"""Validation helpers: every bad parameter raises a ``ValueError`` that names the field, the value and
what would have been accepted, before any numba code runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


class ParameterError(ValueError):
    """A parameter of an environment, policy or algorithm is out of its allowed range."""


def fail(field: str, value: Any, allowed: str) -> None:
    raise ParameterError(f"{field}={value!r} is invalid: {allowed}")


def require(ok: bool, field: str, value: Any, allowed: str) -> None:
    """Raise :class:`ParameterError` naming ``field`` unless ``ok``."""
    if not ok:
        fail(field, value, allowed)


def finite_array(field: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_inclusive: bool = True, integer: bool = False) -> np.ndarray:
    """Convert ``value`` to a float (or int) array and check every entry lies in the range."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(field, value, "must be a number or a list of numbers")
    if not np.all(np.isfinite(arr)):
        fail(field, value, "must be finite (no NaN or inf)")
    if low is not None:
        bad = arr < low if low_inclusive else arr <= low
        if np.any(bad):
            fail(field, value, f"must be {'>=' if low_inclusive else '>'} {low}")
    if high is not None and np.any(arr > high):
        fail(field, value, f"must be <= {high}")
    if integer:
        if np.any(arr != np.round(arr)):
            fail(field, value, "must be whole numbers")
        return arr.astype(np.int64)
    return arr


def per_item(field: str, value: Any, n: int, **checks: Any) -> np.ndarray:
    """Broadcast a scalar, or check a list has exactly ``n`` entries (one per store, edge, ...)."""
    arr = finite_array(field, value, **checks)
    if arr.ndim == 0:
        return np.full(n, arr.item(), dtype=arr.dtype)
    if arr.shape != (n,):
        fail(field, value, f"must be a scalar or a list of {n} values (got shape {arr.shape})")
    return arr


def one_of(field: str, value: Any, choices: Iterable[Any]) -> None:
    choices = list(choices)
    require(value in choices, field, value, f"must be one of {choices}")
