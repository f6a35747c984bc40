"""What a policy's cost is compared with: an optimum, a bound, or the best OR/heuristic policy."""

from __future__ import annotations

import dataclasses
from typing import Any

KINDS = ("optimum", "bound", "best_known", "policy")


@dataclasses.dataclass(frozen=True)
class Reference:
    value: float
    kind: str
    """``optimum`` (exact), ``bound`` (no policy does better), ``best_known`` or ``policy`` (an OR or
    heuristic policy evaluated on the same scenarios)."""
    source: str
    """How it was obtained, e.g. ``"analytic base stock (spec §5.2)"``."""
    ci95: float = 0.0
    """Half-width of its 95% CI when the value is itself an estimate over scenarios."""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Reference.kind={self.kind!r} is invalid: must be one of {KINDS}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
