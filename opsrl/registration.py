"""One table: env id -> problem class, parameters, named policies and references.

``import opsrl`` registers every id with Gymnasium (single ``entry_point`` and native
``vector_entry_point``). Nothing here imports a family's kernels until an env is made.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym

from opsrl.core.env import load_object


@dataclasses.dataclass(frozen=True)
class EnvEntry:
    id: str
    problem: str
    """``module:Class`` of the family's :class:`opsrl.core.problem.Problem`."""
    params: str
    """``module:Class`` of its parameters (importing it must not compile kernels)."""
    policies: dict[str, str]
    """Named policies: name -> ``module:factory``; ``factory(problem) -> Policy``."""
    references: str
    """``module:function``; ``function(problem, episodes, seed, time_limit) -> list[Reference]``."""
    summary: str = ""


ENVS: tuple[EnvEntry, ...] = (
    EnvEntry(
        id="opsrl/InventoryNetwork-v0",
        problem="opsrl.envs.inventory.env:InventoryNetwork",
        params="opsrl.envs.inventory.params:InventoryParams",
        policies={
            "base_stock": "opsrl.envs.inventory.heuristics:BaseStockPolicy",
            "capped_base_stock": "opsrl.envs.inventory.heuristics:CappedBaseStockPolicy",
            "echelon_stock": "opsrl.envs.inventory.heuristics:EchelonStockPolicy",
            "jit_oracle": "opsrl.envs.inventory.heuristics:JITOraclePolicy",
            "zero": "opsrl.envs.inventory.heuristics:ZeroPolicy",
        },
        references="opsrl.envs.inventory.references:references",
        summary="Periodic-review inventory networks: one store, serial chains, warehouses, transshipment.",
    ),
)


def entry(env_id: str) -> EnvEntry:
    for e in ENVS:
        if e.id == env_id:
            return e
    raise ValueError(f"unknown env id {env_id!r}; registered: {', '.join(e.id for e in ENVS)}")


def list_envs() -> list[str]:
    return [e.id for e in ENVS]


def list_presets(env_id: str) -> list[str]:
    """Preset names of ``env_id`` (e.g. ``opsrl.list_presets("opsrl/InventoryNetwork-v0")``)."""
    return load_object(entry(env_id).params).preset_names()


def register_envs() -> None:
    for e in ENVS:
        if e.id in gym.registry:
            continue
        gym.register(
            id=e.id,
            entry_point="opsrl.core.env:SingleEnv",
            vector_entry_point="opsrl.core.env:BatchedVectorEnv",
            kwargs={"problem": e.problem},
        )


def make_problem(env_id: str, preset: str | None = None, obs_mode: str = "flat", **overrides: Any):
    """The :class:`Problem` behind ``env_id`` without an env around it (for solvers and scripts)."""
    return load_object(entry(env_id).problem).from_preset(preset, obs_mode=obs_mode, **overrides)
