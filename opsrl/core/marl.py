"""What every opsrl PettingZoo env shares: one :class:`~opsrl.core.problem.Problem` behind a ``ParallelEnv``."""

from __future__ import annotations

from typing import Any

from pettingzoo import ParallelEnv

from opsrl.core.errors import ParameterError


class ProblemParallelEnv(ParallelEnv):
    """Base of the package's ParallelEnvs: subclasses set ``self.problem`` and keep the simulator state (a batch of
    one) in ``self._state``; this class checks ``render_mode`` and renders through the problem's renderer."""

    metadata: dict[str, Any] = {"render_modes": ["ansi", "rgb_array"], "is_parallelizable": True}
    _state: Any = None

    def _set_render_mode(self, render_mode: str | None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ParameterError(f"render_mode={render_mode!r} is invalid: must be one of "
                                 f"{self.metadata['render_modes']}")
        self.render_mode = render_mode

    def render(self):
        if self.render_mode is None or self._state is None:
            return None
        return self.problem.render([self.problem.snapshot(self._state, 0)], self.render_mode)

    def close(self) -> None:
        pass
