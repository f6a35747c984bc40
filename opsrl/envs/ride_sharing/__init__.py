"""Ride-sharing order dispatch with pooling (spec ``ride_sharing.md``).

* ``opsrl/RideSharing-v0`` — the Gymnasium dispatcher (``gym.make``; problem class
  :class:`~opsrl.envs.ride_sharing.env.RideSharing`);
* :func:`parallel_env` — the PettingZoo ``ParallelEnv`` (agents = vehicles), also
  ``opsrl.marl.ride_sharing_v0``;
* :data:`presets` — the preset table of :class:`~opsrl.envs.ride_sharing.params.RideParams`.
"""

from __future__ import annotations

from typing import Any

from opsrl.envs.ride_sharing.params import RideParams

ENV_ID = "opsrl/RideSharing-v0"
presets = RideParams.presets()


def parallel_env(preset: str | None = None, **kwargs: Any):
    """The PettingZoo ``ParallelEnv`` of a preset (keyword arguments: any parameter, ``render_mode``)."""
    from opsrl.marl.ride_sharing_v0 import parallel_env as _parallel_env

    return _parallel_env(preset=preset, **kwargs)


def DispatchEnv(preset: str | None = None, **kwargs: Any):  # noqa: N802 - reads like the env class
    """The Gymnasium dispatcher, same as ``gym.make("opsrl/RideSharing-v0", preset=..., **kwargs)``."""
    import gymnasium as gym

    import opsrl  # noqa: F401 - registers the ids

    return gym.make(ENV_ID, preset=preset, **kwargs)


__all__ = ["ENV_ID", "DispatchEnv", "RideParams", "parallel_env", "presets"]
