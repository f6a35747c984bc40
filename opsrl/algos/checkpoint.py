"""Run-directory files shared by every algorithm.

``train_state.pt`` holds everything needed to continue a run exactly; it is written to a temporary file and
renamed, so an interrupted save never leaves a half-written checkpoint, and read with ``weights_only=True``.
``progress.csv`` gets one row per update, appended, so a resumed run continues the same log.
"""

from __future__ import annotations

import csv
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


def append_progress(out: str, row: dict[str, Any], name: str = "progress.csv") -> None:
    """Append ``row`` to ``out/progress.csv`` (header written with the first row)."""
    path = os.path.join(out, name)
    new = not os.path.exists(path)
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
