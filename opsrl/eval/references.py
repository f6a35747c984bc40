"""The references of an instance, dispatched to the family's ``references`` function."""

from __future__ import annotations

from typing import Any

from opsrl.core.env import load_object
from opsrl.eval.reference import Reference
from opsrl.registration import entry, make_problem


def references(env_id: str, preset: str | None = None, overrides: dict[str, Any] | None = None,
               episodes: int = 100, seed: int = 0, batch_size: int = 1024,
               time_limit: float | None = None, best_only: bool = False) -> list[Reference]:
    """Every reference the family knows for this instance, best first (optimum, bound, policy).
    ``best_only`` lets the family skip references that rank below one it already has."""
    problem = make_problem(env_id, preset, **(overrides or {}))
    fn = load_object(entry(env_id).references)
    return fn(problem, env_id=env_id, preset=preset, overrides=dict(overrides or {}), episodes=episodes,
              seed=seed, batch_size=batch_size, time_limit=time_limit, best_only=best_only)


def best_reference(env_id: str, preset: str | None = None, overrides: dict[str, Any] | None = None,
                   **kwargs: Any) -> Reference | None:
    refs = references(env_id, preset, overrides, best_only=True, **kwargs)
    return refs[0] if refs else None
