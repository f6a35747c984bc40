"""The contract every problem family implements once; :mod:`opsrl.core.env` turns it into a Gymnasium
single env (a batch of one) and a native vector env.

A :class:`Problem` is an instance of a family: validated parameters plus batched transition functions over
a *state* — a ``NamedTuple`` of batch-first numpy arrays that numba kernels take as they are. Every state
has an int64 field ``t`` (steps since reset) that ``step`` advances and the envs use for truncation.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np

from opsrl.core.errors import ParameterError
from opsrl.core.params import Params


class Transition(NamedTuple):
    """What :meth:`Problem.step` returns for a batch: rewards, terminations and per-env info arrays."""

    reward: np.ndarray  # float64 [batch]
    terminated: np.ndarray  # bool [batch]
    info: dict[str, Any]  # values: arrays [batch, ...] or dicts of such arrays


class Problem(abc.ABC):
    """Batched dynamics of one problem instance.

    Subclasses set ``params_type``, build ``observation_space`` / ``action_space`` (single-env spaces) and
    ``max_episode_steps`` in ``__init__``, and implement :meth:`init`, :meth:`step` and :meth:`observe`.
    """

    params_type: ClassVar[type[Params]]
    obs_modes: ClassVar[tuple[str, ...]] = ("flat",)

    observation_space: gym.Space
    action_space: gym.Space
    max_episode_steps: int | None = None

    def __init__(self, params: Params, obs_mode: str = "flat") -> None:
        if obs_mode not in self.obs_modes:
            raise ParameterError(f"obs_mode={obs_mode!r} is invalid: must be one of {list(self.obs_modes)}")
        self.params = params
        self.obs_mode = obs_mode

    @classmethod
    def from_preset(cls, preset: str | None = None, obs_mode: str = "flat", **overrides: Any) -> Problem:
        return cls(cls.params_type.from_preset(preset, **overrides), obs_mode=obs_mode)

    # -- transitions ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def init(self, batch: int, rng: np.random.Generator) -> NamedTuple:
        """A fresh batch of start states; all randomness comes from ``rng``."""

    @abc.abstractmethod
    def step(self, state: NamedTuple, actions: np.ndarray, active: np.ndarray,
             rng: np.random.Generator) -> Transition:
        """Advance the rows of ``state`` where ``active`` is true, in place. Inactive rows are untouched
        and get reward 0 (the vector env uses them for NEXT_STEP autoreset)."""

    @abc.abstractmethod
    def observe(self, state: NamedTuple) -> Any:
        """Observations of the whole batch (an array, or a dict of arrays for graph views)."""

    def reset_rows(self, state: NamedTuple, rows: np.ndarray, rng: np.random.Generator) -> None:
        """Re-initialise the rows of ``state`` selected by the boolean mask ``rows``, in place."""
        fresh = self.init(int(rows.sum()), rng)
        for name, value in zip(state._fields, fresh, strict=True):
            getattr(state, name)[rows] = value

    def check_actions(self, actions: Any) -> np.ndarray:
        """Convert a batch of actions to the dtype the kernel takes; reject NaN with a ``ValueError``.
        Out-of-range values are left to the family's documented treatment (clip, no-op, penalty)."""
        a = np.asarray(actions, dtype=np.float64)
        if np.isnan(a).any():
            raise ValueError(f"{type(self).__name__}: action contains NaN: {actions!r}")
        return a

    # -- optional views -------------------------------------------------------------------------------
    def action_mask(self, state: NamedTuple) -> np.ndarray | None:
        """int8 mask of valid discrete actions per env, or ``None`` when every action is valid."""
        return None

    def episode_cost(self, rewards: np.ndarray) -> np.ndarray:
        """The family's reported metric of each episode from its reward trace ``[T, batch]``.
        Default: total cost, i.e. minus the sum of rewards."""
        return -rewards.sum(axis=0)

    def snapshot(self, state: NamedTuple, index: int) -> Any:
        """A small copy of env ``index`` of the state, kept by the single env for rendering."""
        return {name: np.array(getattr(state, name)[index]) for name in state._fields}

    def render(self, history: list[Any], mode: str) -> Any:
        """Render a list of snapshots as text (``"ansi"``) or an RGB array (``"rgb_array"``)."""
        raise ParameterError(f"render_mode={mode!r} is not supported by {type(self).__name__}")

    def describe(self) -> dict[str, Any]:
        """Plain-data description for ``opsrl describe``."""
        return {
            "problem": type(self).__name__,
            "obs_mode": self.obs_mode,
            "observation_space": str(self.observation_space),
            "action_space": str(self.action_space),
            "max_episode_steps": self.max_episode_steps,
            "parameters": self.params.to_dict(),
        }
