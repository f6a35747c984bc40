"""The policy contract: heuristics, OR-tools policies and trained checkpoints all act on batches.

A policy is made for one problem instance (``factory(problem) -> Policy``), is told the vector env it
acts in at the start of every evaluation (``reset(env)``; only non-admissible oracles read its state),
and maps a batch of observations and infos to a batch of actions.
"""

from __future__ import annotations

import abc
import json
import os
from typing import Any

import numpy as np

from opsrl.core.env import load_object
from opsrl.core.problem import Problem

CHECKPOINT_FILE = "opsrl_policy.json"


class Policy(abc.ABC):
    """Base class: subclasses implement :meth:`act`."""

    name = "policy"
    admissible = True
    """False for oracles that look at future exogenous data (reported as such)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.env = None

    def reset(self, env: Any) -> None:
        self.env = env

    @abc.abstractmethod
    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        """A batch of actions for a batch of observations."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "admissible": self.admissible}


def policy_names(env_id: str) -> list[str]:
    from opsrl.registration import entry

    return list(entry(env_id).policies)


def make_policy(name_or_path: str | Policy, env_id: str, problem: Problem) -> Policy:
    """A named policy of ``env_id`` or a checkpoint directory (holding ``opsrl_policy.json``).

    The checkpoint's loader must live inside the ``opsrl`` package: a checkpoint names code to run, and
    only the package's own loaders (which read tensors with ``weights_only=True``) are trusted.
    """
    if isinstance(name_or_path, Policy):
        return name_or_path
    from opsrl.registration import entry

    table = entry(env_id).policies
    if name_or_path in table:
        return load_object(table[name_or_path])(problem)
    manifest = os.path.join(str(name_or_path), CHECKPOINT_FILE)
    if os.path.isfile(manifest):
        with open(manifest) as fh:
            meta = json.load(fh)
        loader = str(meta.get("loader", ""))
        if not loader.startswith("opsrl."):
            raise ValueError(f"{manifest}: loader {loader!r} is not an opsrl loader")
        return load_object(loader)(str(name_or_path), problem)
    raise ValueError(f"unknown policy {name_or_path!r} for {env_id}: not one of {list(table)} "
                     f"and not a directory with {CHECKPOINT_FILE}")
