"""Train-state files shared by every algorithm: written atomically, read with ``weights_only=True``.

A run directory holds ``train_state.pt`` — everything needed to continue a run exactly. It is written to a
temporary file and renamed, so an interrupted save never leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import os
from typing import Any

import torch

STATE_FILE = "train_state.pt"


def save_train_state(out: str, state: dict[str, Any]) -> None:
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, STATE_FILE + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, os.path.join(out, STATE_FILE))


def load_train_state(out: str) -> dict[str, Any] | None:
    """The saved train state of ``out``, or ``None`` if the run has not saved one yet."""
    path = os.path.join(out, STATE_FILE)
    if not os.path.exists(path):
        return None
    return torch.load(path, weights_only=True)
