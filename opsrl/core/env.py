"""Generic Gymnasium envs over a :class:`~opsrl.core.problem.Problem`.

``SingleEnv`` is a batch of one of the family's kernel; ``BatchedVectorEnv`` is the native vector env
that ``gym.make_vec`` returns (``vector_entry_point``), with NEXT_STEP autoreset and truncation at the
problem's ``max_episode_steps``. Families write neither: ``opsrl/registration.py`` registers both.
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from opsrl.core.errors import ParameterError
from opsrl.core.problem import Problem


def load_object(path: str) -> Any:
    """Import ``"package.module:attribute"``."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def make_problem(problem: str | type[Problem], preset: str | None = None, obs_mode: str = "flat",
                 **overrides: Any) -> Problem:
    cls = load_object(problem) if isinstance(problem, str) else problem
    return cls.from_preset(preset, obs_mode=obs_mode, **overrides)


def first(info: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """Pick env ``index`` out of a batch of infos (recursively through nested dicts)."""
    return {key: first(value, index) if type(value) is dict else value[index] for key, value in info.items()}


class SingleEnv(gym.Env):
    """A Gymnasium env running a batch of one of a problem's kernels.

    Args:
        problem: the family's :class:`Problem` class or its ``"module:Class"`` path (set by registration).
        preset: a preset name of the family (``opsrl.list_presets(env_id)``); ``None`` = the family default.
        render_mode: ``"ansi"`` or ``"rgb_array"``.
        obs_mode: ``"flat"`` (default, a ``Box``) or a family's other views such as ``"graph"``.
        **overrides: any parameter of the preset, e.g. ``lead_time=3``.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, problem: str | type[Problem], preset: str | None = None,
                 render_mode: str | None = None, obs_mode: str = "flat", **overrides: Any) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ParameterError(
                f"render_mode={render_mode!r} is invalid: must be one of {self.metadata['render_modes']}")
        self.problem = make_problem(problem, preset, obs_mode, **overrides)
        self.observation_space = self.problem.observation_space
        self.action_space = self.problem.action_space
        self.render_mode = render_mode
        self.state = None
        self._active = np.ones(1, dtype=np.bool_)
        self._history: list[Any] = []

    @property
    def params(self):
        return self.problem.params

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.state = self.problem.init(1, self.np_random)
        if self.render_mode is not None:
            self._history = [self.problem.snapshot(self.state, 0)]
        return self._obs(), self._info({})

    def step(self, action: Any):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        actions = self.problem.check_actions(np.asarray(action)[None])
        reward, terminated, info = self.problem.step(self.state, actions, self._active, self.np_random)
        steps = self.problem.max_episode_steps
        truncated = bool(steps is not None and self.state.t[0] >= steps and not terminated[0])
        if self.render_mode is not None:
            self._history.append(self.problem.snapshot(self.state, 0))
        return self._obs(), float(reward[0]), bool(terminated[0]), truncated, self._info(info)

    def _obs(self):
        obs = self.problem.observe(self.state)
        if isinstance(obs, dict):
            return {k: v[0] for k, v in obs.items()}
        return obs[0]

    def _info(self, info: dict[str, Any]) -> dict[str, Any]:
        out = first(info) if info else {}
        mask = self.problem.action_mask(self.state)
        if mask is not None:
            out["action_mask"] = mask[0]
        return out

    def action_masks(self) -> np.ndarray:
        """Valid actions of the current state (sb3-contrib's MaskablePPO calls this)."""
        mask = self.problem.action_mask(self.state)
        if mask is None:
            raise AttributeError(f"{type(self.problem).__name__} has no action mask")
        return mask[0].astype(bool)

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to gym.make")
            return None
        return self.problem.render(self._history, self.render_mode)


class BatchedVectorEnv(VectorEnv):
    """The native vector env of a problem: one numba kernel call steps all ``num_envs`` envs.

    NEXT_STEP autoreset: after an env terminates or is truncated, its next ``step`` ignores the action,
    resets it, and returns its first observation with reward 0 and both flags false. Every info entry is an
    array over envs. Truncation happens at the problem's ``max_episode_steps`` (or ``max_episode_steps``
    passed here).
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["ansi", "rgb_array"]}

    def __init__(self, problem: str | type[Problem], num_envs: int = 1, preset: str | None = None,
                 render_mode: str | None = None, obs_mode: str = "flat",
                 max_episode_steps: int | None = None, **overrides: Any) -> None:
        if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ParameterError(f"num_envs={num_envs!r} is invalid: must be an integer >= 1")
        self.problem = make_problem(problem, preset, obs_mode, **overrides)
        self.num_envs = int(num_envs)
        self.max_episode_steps = max_episode_steps or self.problem.max_episode_steps
        self.render_mode = render_mode
        self.single_observation_space = self.problem.observation_space
        self.single_action_space = self.problem.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.state = None
        self._all = np.ones(self.num_envs, dtype=np.bool_)
        self._autoreset = np.zeros(self.num_envs, dtype=np.bool_)

    @property
    def params(self):
        return self.problem.params

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        if isinstance(seed, (list, tuple)):
            raise ParameterError("seed must be one int for BatchedVectorEnv: all envs share one Generator")
        super().reset(seed=seed)
        self.state = self.problem.init(self.num_envs, self.np_random)
        self._autoreset[:] = False
        return self.problem.observe(self.state), self._info({})

    def step(self, actions: Any):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        actions = self.problem.check_actions(actions)
        resetting = self._autoreset.any()
        active = ~self._autoreset if resetting else self._all
        reward, terminated, info = self.problem.step(self.state, actions, active, self.np_random)
        if resetting:
            self.problem.reset_rows(self.state, self._autoreset, self.np_random)
            terminated = terminated & active
        truncated = ~terminated & active
        if self.max_episode_steps is not None:
            truncated &= self.state.t >= self.max_episode_steps
        else:
            truncated[:] = False
        self._autoreset = terminated | truncated
        return self.problem.observe(self.state), reward, terminated, truncated, self._info(info)

    def _info(self, info: dict[str, Any]) -> dict[str, Any]:
        mask = self.problem.action_mask(self.state)
        if mask is not None:
            info["action_mask"] = mask
        return info

    def action_masks(self) -> np.ndarray:
        mask = self.problem.action_mask(self.state)
        if mask is None:
            raise AttributeError(f"{type(self.problem).__name__} has no action mask")
        return mask.astype(bool)

    def render(self):
        if self.render_mode is None or self.state is None:
            return None
        return self.problem.render([self.problem.snapshot(self.state, 0)], self.render_mode)
