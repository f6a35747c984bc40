"""Priority dispatching rules (PDRs) as named opsrl policies (spec ``job_shop.md`` §5.1).

For the candidate op O_{j,k} of each eligible job: p = p_{j,k}, W = remaining work of the job including the
op, D = work of the job up to and including the op, R = remaining ops including the op, ρ = job-ready time.

| rule | picks | names |
|---|---|---|
| SPT | min p | ``spt``, ``spt_nd`` |
| LPT | max p | ``lpt``, ``lpt_nd`` |
| MWKR | max W | ``mwkr``, ``mwkr_nd`` |
| MOR (L2D's MOPNR) | max R | ``mor``, ``mor_nd`` |
| FDD/MWKR | min (r_j + D)/W, r_j = 0 | ``fdd_mwkr``, ``fdd_mwkr_nd`` |
| FIFO | min ρ | ``fifo``, ``fifo_nd`` |

Ties go to the lowest job index. Two semantics (§5.1):

* priority-only (``spt`` …): the rule picks among the env's eligible jobs; the env's ``placement`` decides
  where the op goes (``insert`` = L2D env, ``append`` = job-shop-lib without filter).
* non-delay (``*_nd``): first keep only the jobs whose next op can start earliest under the env's placement,
  then apply the rule. On an env with ``placement="append"`` this generates non-delay schedules, the
  semantics (B) of the literature's PDR tables (presets ``nondelay_*``, or ``candidate_filter="non_delay"``,
  which makes the env apply the same filter itself).

The rules read the instance and the partial schedule from the env they act in (the job shop is
deterministic and fully observed, so this is admissible); observations are not needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsrl.envs.job_shop import dynamics as K_
from opsrl.envs.job_shop.env import PLACEMENT_CODE, JobShop, JobShopState
from opsrl.policies.base import Policy

RULES = {"spt": K_.SPT, "lpt": K_.LPT, "mwkr": K_.MWKR, "mor": K_.MOR, "fdd_mwkr": K_.FDD_MWKR,
         "fifo": K_.FIFO}


def state_of(env: Any) -> JobShopState:
    """The batched state behind a vector env or a (wrapped) single env."""
    for obj in (env, getattr(env, "unwrapped", None)):
        state = getattr(obj, "state", None)
        if isinstance(state, JobShopState):
            return state
    raise ValueError("dispatching rules need the JobShop env they act in: call policy.reset(env) first")


def select(state: JobShopState, rule: str, non_delay: bool, placement: str) -> np.ndarray:
    """The job each env's rule picks (int64 [B])."""
    out = np.zeros(state.t.shape[0], dtype=np.int64)
    K_.select_rule(state.ops, state.jobs, state.machines, state.mseq, state.mask, RULES[rule], bool(non_delay),
                   PLACEMENT_CODE[placement], out)
    return out


class DispatchingRule(Policy):
    """A PDR acting on a batch of JobShop envs (see the module docstring)."""

    def __init__(self, problem: JobShop, rule: str = "mwkr", non_delay: bool = False) -> None:
        super().__init__(problem)
        if rule not in RULES:
            raise ValueError(f"rule={rule!r} is invalid: must be one of {list(RULES)}")
        self.rule, self.non_delay = rule, bool(non_delay)
        self.name = rule + ("_nd" if non_delay else "")

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        state = state_of(self.env)
        return select(state, self.rule, self.non_delay, self.problem.params.placement)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "rule": self.rule, "non_delay": self.non_delay}


class RandomPolicy(Policy):
    """Uniform over the eligible jobs (a sanity floor), seeded."""

    name = "random"

    def __init__(self, problem: JobShop, seed: int = 0) -> None:
        super().__init__(problem)
        self.rng = np.random.default_rng(seed)

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        mask = np.atleast_2d(np.asarray(info["action_mask"], dtype=np.float64))
        u = self.rng.random(mask.shape) * mask
        return np.argmax(u, axis=1).astype(np.int64)


def _factory(rule: str, non_delay: bool):
    def make(problem: JobShop) -> DispatchingRule:
        return DispatchingRule(problem, rule, non_delay)

    make.__name__ = rule + ("_nd" if non_delay else "")
    return make


spt, lpt, mwkr, mor, fdd_mwkr, fifo = (_factory(r, False) for r in RULES)
spt_nd, lpt_nd, mwkr_nd, mor_nd, fdd_mwkr_nd, fifo_nd = (_factory(r, True) for r in RULES)

POLICIES = {name: f"opsrl.envs.job_shop.heuristics:{name}"
            for name in [*RULES, *(r + "_nd" for r in RULES)]}
POLICIES["random"] = "opsrl.envs.job_shop.heuristics:RandomPolicy"


def run_rule(problem: JobShop, rule: str, non_delay: bool, seed: int = 0) -> tuple[int, dict[str, np.ndarray]]:
    """Dispatch one episode of ``problem`` (batch of one) with a rule; (makespan, final schedule)."""
    rng = np.random.default_rng(seed)
    state = problem.init(1, rng)
    active = np.ones(1, dtype=np.bool_)
    while True:
        a = select(state, rule, non_delay, problem.params.placement)
        _, terminated, _ = problem.step(state, a, active, rng)
        if terminated[0]:
            break
    sched = problem.schedule(state, 0)
    return sched["makespan"], sched
