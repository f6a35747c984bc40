"""Shared fixtures: every test imports opsrl (which registers the env ids)."""

import opsrl  # noqa: F401
