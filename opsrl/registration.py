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
    EnvEntry(
        id="opsrl/JobShop-v0",
        problem="opsrl.envs.job_shop.env:JobShop",
        params="opsrl.envs.job_shop.params:JobShopParams",
        policies={
            **{rule: f"opsrl.envs.job_shop.heuristics:{rule}"
               for rule in ("spt", "lpt", "mwkr", "mor", "fdd_mwkr", "fifo",
                            "spt_nd", "lpt_nd", "mwkr_nd", "mor_nd", "fdd_mwkr_nd", "fifo_nd")},
            "random": "opsrl.envs.job_shop.heuristics:RandomPolicy",
            "cpsat": "opsrl.envs.job_shop.solver:CpSatPolicy",
            "gnn-pretrained": "opsrl.policies.job_shop_gnn:pretrained",
        },
        references="opsrl.envs.job_shop.references:references",
        summary="Job-shop scheduling as dispatching: Taillard ta01-ta80, classic sets, random instances.",
    ),
    EnvEntry(
        id="opsrl/LotSizing-v0",
        problem="opsrl.envs.lot_sizing.env:LotSizing",
        params="opsrl.envs.lot_sizing.params:LotSizingParams",
        policies={
            "idle": "opsrl.envs.lot_sizing.heuristics:IdlePolicy",
            "days_of_supply": "opsrl.envs.lot_sizing.heuristics:DaysOfSupplyPolicy",
            "value_iteration": "opsrl.envs.lot_sizing.heuristics:ValueIterationPolicy",
            "rolling_ev_mip": "opsrl.envs.lot_sizing.heuristics:RollingEVPolicy",
        },
        references="opsrl.envs.lot_sizing.references:references",
        summary="Stochastic discrete lot sizing on parallel machines: setups, lost sales, PDPPO instances.",
    ),
    EnvEntry(
        id="opsrl/Portfolio-v0",
        problem="opsrl.envs.portfolio.env:Portfolio",
        params="opsrl.envs.portfolio.params:PortfolioParams",
        policies={
            "equal_weight": "opsrl.envs.portfolio.heuristics:EqualWeightPolicy",
            "buy_and_hold": "opsrl.envs.portfolio.heuristics:BuyAndHoldPolicy",
            "min_variance": "opsrl.envs.portfolio.heuristics:MinVariancePolicy",
            "mean_cvar": "opsrl.envs.portfolio.heuristics:MeanCVaRPolicy",
            "eg": "opsrl.envs.portfolio.heuristics:EGPolicy",
            "olmar": "opsrl.envs.portfolio.heuristics:OLMARPolicy",
            "bcrp": "opsrl.envs.portfolio.heuristics:BCRPPolicy",
            "kelly_oracle": "opsrl.envs.portfolio.heuristics:KellyOraclePolicy",
            "regime_oracle": "opsrl.envs.portfolio.heuristics:RegimeOraclePolicy",
        },
        references="opsrl.envs.portfolio.references:references",
        summary="Long-only portfolio rebalancing with exact transaction costs: synthetic, skfolio or CSV prices.",
    ),
    EnvEntry(
        id="opsrl/RideSharing-v0",
        problem="opsrl.envs.ride_sharing.env:RideSharing",
        params="opsrl.envs.ride_sharing.params:RideParams",
        policies={
            "lsa_reward": "opsrl.envs.ride_sharing.heuristics:LsaReward",
            "lsa_eta": "opsrl.envs.ride_sharing.heuristics:LsaEta",
            "greedy_nearest": "opsrl.envs.ride_sharing.heuristics:GreedyNearest",
            "insertion_greedy": "opsrl.envs.ride_sharing.heuristics:InsertionGreedy",
            "random": "opsrl.envs.ride_sharing.heuristics:RandomScores",
        },
        references="opsrl.envs.ride_sharing.references:references",
        summary="Ride-sharing order dispatch with pooling: a fleet, OD demand, one assignment per 60-s epoch.",
    ),
    EnvEntry(
        id="opsrl/DramController-v0",
        problem="opsrl.envs.dram.env:DramController",
        params="opsrl.envs.dram.params:DramParams",
        policies={
            "reference_config": "opsrl.envs.dram.heuristics:ReferenceConfigPolicy",
            "expert_config": "opsrl.envs.dram.heuristics:ExpertConfigPolicy",
            "random_config": "opsrl.envs.dram.heuristics:RandomConfigPolicy",
            "random_search": "opsrl.envs.dram.heuristics:RandomSearchPolicy",
            "random_search_100": "opsrl.envs.dram.heuristics:RandomSearch100Policy",
            "genetic_algorithm": "opsrl.envs.dram.heuristics:GeneticAlgorithmPolicy",
            "exhaustive_optimum": "opsrl.envs.dram.heuristics:ExhaustiveOptimumPolicy",
        },
        references="opsrl.envs.dram.references:references",
        summary="DRAM memory-controller design space (10 knobs, 442,368 configs) on a numba DDR3/DDR4 simulator.",
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
