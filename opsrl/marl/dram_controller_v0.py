"""DRAM memory-controller design space, one agent per knob (see :mod:`opsrl.envs.dram.marl`).

    from opsrl.marl import dram_controller_v0
    env = dram_controller_v0.parallel_env(preset="archgym_ddr3_random", objective="power")
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils import wrappers
from pettingzoo.utils.conversions import parallel_to_aec

from opsrl.envs.dram.marl import DramControllerParallelEnv


def parallel_env(**kwargs: Any) -> DramControllerParallelEnv:
    return DramControllerParallelEnv(**kwargs)


def raw_env(**kwargs: Any):
    return parallel_to_aec(parallel_env(**kwargs))


def env(**kwargs: Any):
    return wrappers.OrderEnforcingWrapper(raw_env(**kwargs))


__all__ = ["DramControllerParallelEnv", "env", "parallel_env", "raw_env"]
