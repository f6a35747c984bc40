"""Graph actor-critic for the job-shop dispatching MDP (``opsrl/JobShop-v0`` with ``obs_mode="graph"``).

The L2D architecture (Zhang et al., NeurIPS 2020) built from torch-geometric layers:

* **Encoder**: ``len(hidden)`` GIN layers (``torch_geometric.nn.GINConv``, each with a two-layer ReLU MLP) on
  the disjunctive graph of the observation — operations as nodes, conjunctive arcs O_{j,k} → O_{j,k+1} and
  the machine-sequence arcs between consecutive scheduled ops; a node aggregates its incoming neighbours and
  (through GIN's (1 + ε)·x term) itself, so the env's explicit self-loops are dropped. ``conv="gatv2"``
  swaps in ``GATv2Conv`` (attention over the same arcs, self-loops kept).
* **Actor**: for each job, its candidate op's embedding concatenated with the mean-pooled graph embedding,
  scored by an MLP; a categorical over jobs with masked jobs at −1e8 (``ActionHead`` of
  :mod:`opsrl.policies.mlp`, so sampling, ``mode()``, ``log_prob`` and ``entropy`` are PPO's).
* **Critic**: an MLP on the pooled graph embedding.

The padded env observation (``edge_index`` (2, E_max) with −1 padding) is turned into one big disjoint graph
with tensor operations only — no ``Data`` objects per env — so a PPO minibatch of thousands of graphs is
collated in one indexing step (:func:`collate`).

Train with the shared PPO core::

    opsrl train ppo --env opsrl/JobShop-v0 --preset random_6x6 --option obs_mode=graph \\
        --option policy=opsrl.policies.job_shop_gnn:make_agent --option gamma=1 --option eval_episodes=0

The PPO core's own final evaluation and ``opsrl eval`` build *flat* envs (they do not pass ``obs_mode``),
which a graph agent cannot act in. :class:`GNNPolicy` closes that gap for evaluation code in this package:
it acts in an env of any ``obs_mode`` by computing the graph observation from the env's state, greedily or
by sampling K complete schedules per instance and replaying the best (``samples=K``);
:func:`load_gnn_policy` loads a PPO checkpoint directory into it, applying the checkpoint's feature set and
candidate filter to the policy's own view of the env (a policy trained with ``candidate_filter="non_delay"``
keeps choosing among the earliest-starting jobs in an L2D env without a filter).

A small trained checkpoint ships in ``opsrl/policies/pretrained/job_shop_gnn`` (its ``README.md`` has the
training command): the named policy ``gnn-pretrained`` (:func:`pretrained`), e.g.
``opsrl eval --env opsrl/JobShop-v0 --preset ta01 --policy gnn-pretrained --episodes 1 --samples 128``.
:func:`solve_fixed` schedules every instance of a preset (``taillard_15x15``) in one batch.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from opsrl.policies.base import CHECKPOINT_FILE, Policy
from opsrl.policies.mlp import ActionDistribution, ActionHead, layer, mlp

SELF_LOOP = 3  # edge_type of the env's self-loops


def collate(obs: dict[str, torch.Tensor], drop_self_loops: bool = True) -> tuple[torch.Tensor, ...]:
    """A batch of padded graph observations as one disjoint graph.

    Returns ``x`` [B·N, F], ``edge_index`` [2, E] (global node ids, padding and optionally self-loops
    removed), ``candidate`` [B, n] (global node id of each job's next op), and B, N."""
    feat = obs["op_features"]
    if feat.dim() == 2:  # one env's observation
        obs = {k: v.unsqueeze(0) for k, v in obs.items()}
        feat = obs["op_features"]
    B, N, F = feat.shape
    x = feat.reshape(B * N, F).float()
    etype = obs["edge_type"]
    keep = etype >= 0
    if drop_self_loops:
        keep &= etype != SELF_LOOP
    offset = torch.arange(B, device=feat.device) * N
    edges = (obs["edge_index"].long() + offset.view(B, 1, 1)).transpose(0, 1)[:, keep]
    candidate = obs["candidate"].long() + offset.view(B, 1)
    return x, edges, candidate, B, N


class JobShopGNN(nn.Module):
    """GIN (or GATv2) encoder with a job-scoring actor and a pooled critic (see the module docstring).

    ``forward(obs, mask) -> (ActionDistribution, value)`` and ``value(obs)`` follow the agent interface of
    :mod:`opsrl.algos.ppo`; ``obs`` is the dict of tensors of the graph observation, batched."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space,
                 hidden: tuple[int, ...] = (64, 64), conv: str = "gin",
                 head_hidden: tuple[int, ...] = (64, 64)) -> None:
        super().__init__()
        if not isinstance(observation_space, spaces.Dict) or "edge_index" not in observation_space.spaces:
            raise ValueError(
                "JobShopGNN needs the graph observation of opsrl/JobShop-v0 (obs_mode='graph'); got "
                f"{observation_space}. Evaluate graph checkpoints with evaluate(..., obs_mode='graph') or "
                "opsrl.policies.job_shop_gnn.load_gnn_policy, which builds the graph from the env state.")
        if not isinstance(action_space, spaces.Discrete):
            raise ValueError(f"JobShopGNN scores jobs: needs a Discrete action space, got {action_space}")
        if conv not in ("gin", "gatv2"):
            raise ValueError(f"conv={conv!r} is invalid: must be 'gin' or 'gatv2'")
        from torch_geometric.nn import GATv2Conv, GINConv

        self.conv_kind = conv
        n_feat = int(observation_space["op_features"].shape[-1])
        self.convs = nn.ModuleList()
        width = n_feat
        for h in hidden:
            if conv == "gin":
                self.convs.append(GINConv(nn.Sequential(layer(width, h), nn.ReLU(), layer(h, h)), train_eps=True))
            else:
                self.convs.append(GATv2Conv(width, h, heads=1, add_self_loops=False))
            width = h
        self.width = width
        self.head = ActionHead(action_space)
        # the candidate's raw features ride along (a skip connection): linear priority rules such as MWKR
        # are then one layer away, which speeds up early learning
        self.actor = mlp(2 * width + n_feat, head_hidden, 1, out_std=0.01)
        self.critic = mlp(width, head_hidden, 1, out_std=1.0)

    def embed(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """(node features [B·N, F], node embeddings [B·N, H], pooled graph embeddings [B, H], candidate
        ids [B, n])."""
        x, edges, candidate, B, N = collate(obs, drop_self_loops=self.conv_kind == "gin")
        h = x
        for conv in self.convs:
            h = torch.relu(conv(h, edges))
        pooled = h.view(B, N, -1).mean(1)
        return x, h, pooled, candidate

    def forward(self, obs: dict[str, torch.Tensor],
                mask: torch.Tensor | None = None) -> tuple[ActionDistribution, torch.Tensor]:
        x, h, pooled, candidate = self.embed(obs)
        n = candidate.shape[1]
        scores_in = torch.cat([h[candidate], x[candidate], pooled.unsqueeze(1).expand(-1, n, -1)], dim=-1)
        logits = self.actor(scores_in).squeeze(-1)
        if mask is None:
            mask = obs["action_mask"]
        mask = mask.reshape(logits.shape)
        return self.head.distribution(logits, mask), self.critic(pooled).squeeze(-1)

    def value(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.critic(self.embed(obs)[2]).squeeze(-1)


def make_agent(observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any) -> JobShopGNN:
    """``--option policy=opsrl.policies.job_shop_gnn:make_agent`` (GIN encoder)."""
    return JobShopGNN(observation_space, action_space, conv="gin", **kwargs)


def make_agent_gatv2(observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any) -> JobShopGNN:
    """``--option policy=opsrl.policies.job_shop_gnn:make_agent_gatv2`` (GATv2 encoder)."""
    return JobShopGNN(observation_space, action_space, conv="gatv2", **kwargs)


def to_tensors(obs: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(v) for k, v in obs.items()}


class GNNPolicy(Policy):
    """A graph agent acting in JobShop envs of any ``obs_mode``.

    The graph observation is computed from the env's state (set by ``reset(env)``), so the policy also works
    in the flat envs that ``evaluate``/``opsrl eval`` build by default. ``samples=0``: greedy (the most
    likely job). ``samples=K``: at the first step of each instance, K complete schedules are sampled from
    the policy on copies of the state and the shortest one is replayed (ties: the first sample).

    Args:
        problem: the :class:`~opsrl.envs.job_shop.env.JobShop` problem of the env.
        agent: a :class:`JobShopGNN` (or any agent taking graph observations).
        samples: 0 for greedy decoding, else the number of sampled schedules per instance.
        seed: seed of the sampling generator.
        chunk: sample the K schedules ``chunk`` at a time (each chunk one batch of ``chunk`` copies per
            instance; default all K at once). Smaller batches keep the GNN's activations in cache: on 15×15,
            chunks of 32 cost ~10 % less per schedule than one batch of 128.
        time_limit: seconds per call (one instance in :func:`solve_fixed` with one instance per batch): a
            new chunk is started only if the time spent plus the last chunk's duration stays within it, so
            large instances may get fewer than K schedules — at least one chunk. ``last_sampled_makespans``
            tells how many were drawn.
    """

    name = "gnn"

    def __init__(self, problem, agent: nn.Module, samples: int = 0, seed: int = 0,
                 env_overrides: dict[str, Any] | None = None, chunk: int | None = None,
                 time_limit: float | None = None) -> None:
        super().__init__(problem)
        from opsrl.envs.job_shop.env import FILTER_CODE, PLACEMENT_CODE, JobShop

        if samples < 0:
            raise ValueError(f"samples={samples!r} is invalid: must be >= 0")
        if chunk is not None and chunk < 1:
            raise ValueError(f"chunk={chunk!r} is invalid: must be >= 1")
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit={time_limit!r} is invalid: must be > 0 seconds")
        self.agent, self.samples, self.seed = agent.eval(), int(samples), int(seed)
        self.chunk, self.time_limit = chunk, time_limit
        self.env_overrides = policy_overrides(env_overrides or {})
        params = dataclasses.replace(problem.params, **self.env_overrides)
        if problem.params.candidate_filter == "non_delay":  # never wider than the env's own filter
            params = dataclasses.replace(params, candidate_filter="non_delay")
        self.graph = JobShop(params, obs_mode="graph")
        self._placement = PLACEMENT_CODE[params.placement]
        self._filter = FILTER_CODE[params.candidate_filter]
        # the env keeps EST only when its own filter or features need it: the policy refreshes it on a copy
        self._refresh = params.candidate_filter == "non_delay" or params.feature_set == "rich"
        self.generator = torch.Generator().manual_seed(seed)
        self.name = "gnn_greedy" if samples == 0 else f"gnn_sample{samples}"
        self._plan: np.ndarray | None = None
        self.last_sampled_makespans: dict[int, np.ndarray] = {}
        """env index -> makespans of the K schedules sampled for its current instance (``samples`` > 0)."""

    def with_samples(self, samples: int, chunk: int | None = None, time_limit: float | None = None) -> GNNPolicy:
        """The same agent with another decoding (0 = greedy, K = best of K sampled schedules; ``chunk`` and
        ``time_limit`` as in the class)."""
        return GNNPolicy(self.problem, self.agent, samples=samples, seed=self.seed,
                         env_overrides=self.env_overrides, chunk=chunk, time_limit=time_limit)

    def policy_state(self, state):
        """The env state as the policy sees it: EST and the mask recomputed under the policy's candidate
        filter (a policy trained with ``candidate_filter="non_delay"`` keeps choosing among the jobs that can
        start earliest in an L2D env without a filter). A copy where needed; the env's state is untouched."""
        from opsrl.envs.job_shop import dynamics as K_

        if not self._refresh:
            return state
        jobs, mask = state.jobs.copy(), state.mask.copy()
        K_.refresh_candidates(state.ops, jobs, state.machines, state.mseq, mask, self._placement, self._filter)
        return state._replace(jobs=jobs, mask=mask)

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        from opsrl.envs.job_shop import dynamics as K_
        from opsrl.envs.job_shop.heuristics import state_of

        state = self.policy_state(state_of(self.env))
        if self.samples == 0:
            return self._greedy(self.graph.observe(state))
        B, t = state.t.shape[0], state.t
        width = int(state.scal[:, K_.TOTAL].max()) + 1
        if self._plan is None or self._plan.shape != (B, width):
            self._plan = np.zeros((B, width), dtype=np.int64)
            rows = np.ones(B, dtype=np.bool_)
        else:
            rows = t == 0  # a new instance (first step or after an autoreset)
        if rows.any():
            self._sample_plans(state, rows)
        return self._plan[np.arange(B), np.minimum(t, width - 1)]

    def _greedy(self, graph_obs: dict[str, np.ndarray]) -> np.ndarray:
        with torch.no_grad():
            dist, _ = self.agent(to_tensors(graph_obs))
        return self.agent.head.to_env(dist.mode().numpy())

    def _sample_plans(self, state, rows: np.ndarray) -> None:
        """Write into ``self._plan`` the best of ``samples`` sampled job sequences of each selected env,
        indexed by the env's step counter from its current state on (``chunk`` schedules per env at a time,
        until ``samples`` are drawn or the next chunk would end past ``time_limit``)."""
        import time

        from opsrl.envs.job_shop import dynamics as K_

        start = time.perf_counter()
        envs = np.flatnonzero(rows)
        horizon = int((state.scal[envs, K_.TOTAL] - state.t[envs]).max())
        chunk = min(self.chunk or self.samples, self.samples)
        makespans, actions = [], []
        drawn = 0
        while drawn < self.samples:
            k = min(chunk, self.samples - drawn)
            began = time.perf_counter()
            spans, acts = self._sample_chunk(state, envs, k, horizon)
            makespans.append(spans)
            actions.append(acts)
            drawn += k
            now = time.perf_counter()
            if self.time_limit is not None and (now - start) + (now - began) > self.time_limit:
                break  # the next chunk would end past the limit
        makespans = np.concatenate(makespans, axis=1)  # [envs, drawn]
        actions = np.concatenate(actions, axis=1)  # [envs, drawn, horizon]
        best = np.argmin(makespans, axis=1)  # ties: the first sample
        width = self._plan.shape[1]
        for r, b in enumerate(envs):
            self.last_sampled_makespans[int(b)] = makespans[r].copy()
            t0 = int(state.t[b])
            n = min(horizon, width - t0)
            self._plan[b, t0:t0 + n] = actions[r, best[r], :n]

    def _sample_chunk(self, state, envs: np.ndarray, K: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """K sampled schedules of each env in ``envs``, all K·len(envs) copies stepped as one batch:
        (makespans [envs, K], job sequences [envs, K, horizon])."""
        from opsrl.envs.job_shop import dynamics as K_

        copies = np.repeat(envs, K)
        sim = type(state)(*(np.ascontiguousarray(a[copies]) for a in state))
        sim.scal[:, K_.FIRST] = -1
        actions = np.zeros((copies.shape[0], max(horizon, 1)), dtype=np.int64)
        active = np.ones(copies.shape[0], dtype=np.bool_)
        rng = np.random.default_rng(0)  # unused: the job shop has no randomness inside an episode
        for step in range(horizon):
            with torch.no_grad():
                dist, _ = self.agent(to_tensors(self.graph.observe(sim)))
                logits = dist.cats[0].logits
                u = torch.rand(logits.shape, generator=self.generator).clamp_min(1e-20)
                a = torch.argmax(logits - torch.log(-torch.log(u)), dim=-1).numpy()  # Gumbel-max sampling
            actions[:, step] = a
            self.graph.step(sim, a.astype(np.int64), active, rng)
        return (sim.scal[:, K_.CMAX].reshape(len(envs), K).copy(),
                actions.reshape(len(envs), K, -1))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "samples": self.samples, "chunk": self.chunk, "time_limit": self.time_limit}


# env parameters a checkpoint's training overrides fix for the policy: what it observes and which jobs it
# chooses among; the instance, placement and reward stay the env's
POLICY_FIELDS = ("feature_set", "time_norm", "self_loops", "candidate_filter")

PRETRAINED_DIR = os.path.join(os.path.dirname(__file__), "pretrained", "job_shop_gnn")


def policy_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """The entries of a checkpoint's env overrides that shape the policy (``POLICY_FIELDS``)."""
    return {k: v for k, v in overrides.items() if k in POLICY_FIELDS}


def load_gnn_policy(path: str, problem, samples: int = 0, seed: int = 0) -> GNNPolicy:
    """A :class:`GNNPolicy` from a PPO checkpoint directory trained with ``obs_mode="graph"``.

    The checkpoint's feature set and candidate filter (its training ``overrides``) are applied to the policy's
    own view of the env, so it acts in an env of any features, filter or ``obs_mode``."""
    from opsrl.algos.ppo import PPOConfig
    from opsrl.algos.ppo import make_agent as ppo_make_agent

    with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
        meta = json.load(fh)
    names = {f.name for f in dataclasses.fields(PPOConfig)}
    config = PPOConfig(**{k: (tuple(v) if k in ("hidden", "mix_presets") else v) for k, v in meta["config"].items()
                          if k in names})
    if config.obs_mode != "graph":
        raise ValueError(f"{path}: trained with obs_mode={config.obs_mode!r}, not a graph agent")
    from opsrl.envs.job_shop.env import JobShop

    overrides = policy_overrides(meta.get("overrides", {}))
    graph = JobShop(dataclasses.replace(problem.params, **overrides), obs_mode="graph")
    agent = ppo_make_agent(config, graph.observation_space, graph.action_space)
    state = torch.load(os.path.join(path, "agent.pt"), weights_only=True)
    agent.load_state_dict(state["agent"])
    return GNNPolicy(problem, agent, samples=samples, seed=seed, env_overrides=overrides)


def load_checkpoint(path: str, problem) -> GNNPolicy:
    """Checkpoint loader named in the manifest of the shipped checkpoint (``opsrl eval --policy DIR``)."""
    return load_gnn_policy(path, problem)


def pretrained(problem) -> GNNPolicy:
    """The named policy ``gnn-pretrained``: the checkpoint shipped in ``opsrl/policies/pretrained/job_shop_gnn``
    (how it was trained: its ``README.md``), greedy; ``opsrl eval --samples K`` samples K schedules."""
    if not os.path.isfile(os.path.join(PRETRAINED_DIR, CHECKPOINT_FILE)):
        raise FileNotFoundError(f"the pretrained job-shop GNN is missing from the installation: {PRETRAINED_DIR}")
    torch.set_num_threads(1)  # small graphs: one thread is fastest, and the env kernels use the other core
    return load_gnn_policy(PRETRAINED_DIR, problem)


def export_checkpoint(run_dir: str, out_dir: str = PRETRAINED_DIR, command: str = "", note: str = "") -> None:
    """Write a PPO graph run as a shippable checkpoint: the agent's weights only (no optimiser, normaliser
    or env state), its manifest with this module's loader, the training ``command`` and the progress log."""
    import shutil

    os.makedirs(out_dir, exist_ok=True)
    state = torch.load(os.path.join(run_dir, "agent.pt"), weights_only=True)
    torch.save({"agent": state["agent"]}, os.path.join(out_dir, "agent.pt"))
    with open(os.path.join(run_dir, CHECKPOINT_FILE)) as fh:
        meta = json.load(fh)
    meta.update(loader="opsrl.policies.job_shop_gnn:load_checkpoint", command=command, training=note)
    with open(os.path.join(out_dir, CHECKPOINT_FILE), "w") as fh:
        json.dump(meta, fh, indent=2)
    shutil.copy(os.path.join(run_dir, "progress.csv"), os.path.join(out_dir, "progress.csv"))


def solve_fixed(policy: GNNPolicy, order: Any = None) -> tuple[np.ndarray, Any]:
    """Schedule every fixed instance of ``policy.problem`` (e.g. preset ``taillard_15x15``) in one batch.

    Returns the makespans (int64, row r = instance ``order[r]``, default every instance in order) and the
    final batched state (``problem.schedule(state, r)`` gives instance r's schedule)."""
    import types

    problem = policy.problem
    state = problem.init_fixed(order)
    policy.reset(types.SimpleNamespace(state=state))
    B = state.t.shape[0]
    active, done = np.ones(B, dtype=np.bool_), np.zeros(B, dtype=np.bool_)
    rng = np.random.default_rng(0)  # unused: no randomness inside a job-shop episode
    while not done.all():
        done |= problem.step(state, policy.act(None, {}), active, rng).terminated
    return state.scal[:, 0].astype(np.int64), state


__all__ = ["JobShopGNN", "GNNPolicy", "collate", "export_checkpoint", "load_checkpoint", "load_gnn_policy",
           "make_agent", "make_agent_gatv2", "pretrained", "solve_fixed"]
